/* Bringing up a virtio-mmio (version 2) device and its queues (see virtio_transport.h). */
#include "virtio_transport.h"

#include <pinion/component.h>
#include <pinion/wiring.h>

/* The transport's registers span 0x100 bytes, then the device's configuration. */
#define TRANSPORT_BYTES 0x200

void virtio_transport_open(struct virtio_transport *t, uint32_t device_id, const char *wrong_device)
{
    uint64_t mmio_size;
    char *mmio = pn_require_region("mmio", 4096, &mmio_size);
    uint64_t offset = pn_param_u64_or("mmio_offset", 0);
    if (offset > mmio_size - TRANSPORT_BYTES) {
        pn_fatal("parameter \"mmio_offset\" lies outside the mmio region");
    }
    t->regs = (volatile uint32_t *)(mmio + offset);
    if (virtio_read(t, VIRTIO_MMIO_MAGIC_VALUE) != VIRTIO_MMIO_MAGIC) {
        pn_fatal("no virtio-mmio device at the mmio region");
    }
    if (virtio_read(t, VIRTIO_MMIO_VERSION) != 2) {
        pn_fatal("legacy virtio-mmio device: start QEMU with -global "
                 "virtio-mmio.force-legacy=false");
    }
    if (virtio_read(t, VIRTIO_MMIO_DEVICE_ID) != device_id) {
        pn_fatal(wrong_device);
    }
    virtio_write(t, VIRTIO_MMIO_STATUS, 0);
    virtio_write(t, VIRTIO_MMIO_STATUS, VIRTIO_STATUS_ACKNOWLEDGE);
    virtio_write(t, VIRTIO_MMIO_STATUS, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER);
}

_Noreturn void virtio_transport_fail(const struct virtio_transport *t, const char *why)
{
    virtio_write(t, VIRTIO_MMIO_STATUS, virtio_read(t, VIRTIO_MMIO_STATUS) | VIRTIO_STATUS_FAILED);
    pn_fatal(why);
}

uint32_t virtio_negotiate_features(const struct virtio_transport *t, uint32_t wanted)
{
    virtio_write(t, VIRTIO_MMIO_DEVICE_FEATURES_SEL, 1);
    uint32_t high = virtio_read(t, VIRTIO_MMIO_DEVICE_FEATURES);
    virtio_write(t, VIRTIO_MMIO_DEVICE_FEATURES_SEL, 0);
    uint32_t low = virtio_read(t, VIRTIO_MMIO_DEVICE_FEATURES);
    if (!(high & (1u << (VIRTIO_F_VERSION_1 - 32)))) {
        virtio_transport_fail(t, "the device does not offer VIRTIO_F_VERSION_1");
    }
    uint32_t accepted = low & wanted;
    virtio_write(t, VIRTIO_MMIO_DRIVER_FEATURES_SEL, 1);
    virtio_write(t, VIRTIO_MMIO_DRIVER_FEATURES, 1u << (VIRTIO_F_VERSION_1 - 32));
    virtio_write(t, VIRTIO_MMIO_DRIVER_FEATURES_SEL, 0);
    virtio_write(t, VIRTIO_MMIO_DRIVER_FEATURES, accepted);
    virtio_write(t, VIRTIO_MMIO_STATUS,
                 virtio_read(t, VIRTIO_MMIO_STATUS) | VIRTIO_STATUS_FEATURES_OK);
    /* The device clears FEATURES_OK again if it cannot work with what was accepted. */
    if (!(virtio_read(t, VIRTIO_MMIO_STATUS) & VIRTIO_STATUS_FEATURES_OK)) {
        virtio_transport_fail(t, "the device refused the features");
    }
    return accepted;
}

uint16_t virtio_queue_size(const struct virtio_transport *t, uint32_t queue, uint16_t limit,
                           uint16_t shortest, const char *too_short)
{
    virtio_write(t, VIRTIO_MMIO_QUEUE_SEL, queue);
    uint32_t max = virtio_read(t, VIRTIO_MMIO_QUEUE_NUM_MAX);
    uint16_t size = limit;
    while (size > max) {
        size /= 2;
    }
    if (size < shortest) {
        virtio_transport_fail(t, too_short);
    }
    return size;
}

void virtio_enable_queue(const struct virtio_transport *t, uint32_t queue,
                         const struct virtqueue *q)
{
    virtio_write(t, VIRTIO_MMIO_QUEUE_SEL, queue);
    virtio_write(t, VIRTIO_MMIO_QUEUE_NUM, q->size);
    virtio_write(t, VIRTIO_MMIO_QUEUE_DESC_LOW, (uint32_t)q->desc_pa);
    virtio_write(t, VIRTIO_MMIO_QUEUE_DESC_HIGH, (uint32_t)(q->desc_pa >> 32));
    virtio_write(t, VIRTIO_MMIO_QUEUE_DRIVER_LOW, (uint32_t)q->avail_pa);
    virtio_write(t, VIRTIO_MMIO_QUEUE_DRIVER_HIGH, (uint32_t)(q->avail_pa >> 32));
    virtio_write(t, VIRTIO_MMIO_QUEUE_DEVICE_LOW, (uint32_t)q->used_pa);
    virtio_write(t, VIRTIO_MMIO_QUEUE_DEVICE_HIGH, (uint32_t)(q->used_pa >> 32));
    virtio_write(t, VIRTIO_MMIO_QUEUE_READY, 1);
}

void virtio_driver_ok(const struct virtio_transport *t)
{
    virtio_write(t, VIRTIO_MMIO_STATUS,
                 virtio_read(t, VIRTIO_MMIO_STATUS) | VIRTIO_STATUS_DRIVER_OK);
}
