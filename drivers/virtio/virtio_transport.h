/*
 * The driver's side of a virtio-mmio transport (version 2), shared by the
 * virtio drivers: bringing the device up, negotiating features and setting
 * up queues (virtio_transport.c, all run once at init), and register access.
 * What each device wants (its features, its configuration, how its queues
 * are laid out) stays in its driver.
 *
 * The accessors are static inline on purpose: the drivers notify queues and
 * acknowledge interrupts while serving I/O, where a call into another file
 * would add instructions to every request.
 */
#ifndef PINION_VIRTIO_TRANSPORT_H
#define PINION_VIRTIO_TRANSPORT_H

#include "virtio_mmio.h"
#include "virtqueue.h"

#include <stdint.h>

struct virtio_transport {
    volatile uint32_t *regs; /* the transport's registers, in the mapped mmio region */
};

static inline uint32_t virtio_read(const struct virtio_transport *t, uint32_t offset)
{
    return t->regs[offset / 4];
}

static inline void virtio_write(const struct virtio_transport *t, uint32_t offset, uint32_t value)
{
    t->regs[offset / 4] = value;
}

/* Tells the device that queue `queue` has new buffers. */
static inline void virtio_notify(const struct virtio_transport *t, uint32_t queue)
{
    virtio_write(t, VIRTIO_MMIO_QUEUE_NOTIFY, queue);
}

/* Acknowledges every interrupt cause the device has raised. */
static inline void virtio_ack_interrupt(const struct virtio_transport *t)
{
    virtio_write(t, VIRTIO_MMIO_INTERRUPT_ACK, virtio_read(t, VIRTIO_MMIO_INTERRUPT_STATUS));
}

/*
 * Finds the transport at parameter `mmio_offset` (default 0) in region
 * "mmio", checks it is a version 2 device of `device_id` (else stops with
 * `wrong_device`, which should name the device expected), resets it and
 * sets ACKNOWLEDGE and DRIVER.
 */
void virtio_transport_open(struct virtio_transport *t, uint32_t device_id,
                           const char *wrong_device);
/* Sets the device's FAILED status, then stops the driver with `why`. */
_Noreturn void virtio_transport_fail(const struct virtio_transport *t, const char *why);
/*
 * Accepts VIRTIO_F_VERSION_1 (required) and those of `wanted` (features
 * 0..31) the device offers, then sets FEATURES_OK; returns what was accepted
 * of `wanted`. Fails the device if it lacks VERSION_1 or refuses.
 */
uint32_t virtio_negotiate_features(const struct virtio_transport *t, uint32_t wanted);
/*
 * The size to use for queue `queue`: the largest power of two within both
 * the device's maximum and `limit` (itself a power of two). Fails the device
 * with `too_short` if that is under `shortest`.
 */
uint16_t virtio_queue_size(const struct virtio_transport *t, uint32_t queue, uint16_t limit,
                           uint16_t shortest, const char *too_short);
/* Gives the device queue `queue`, laid out in `q`, and marks it ready. */
void virtio_enable_queue(const struct virtio_transport *t, uint32_t queue,
                         const struct virtqueue *q);
/* Sets DRIVER_OK: the device may start using its queues. */
void virtio_driver_ok(const struct virtio_transport *t);

#endif
