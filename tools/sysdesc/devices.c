/*
 * "devices": the emulated devices a system expects the machine to have,
 * and the check that every device a VM passes through is one of them.
 */
#include "sd_internal.h"

#include <inttypes.h>
#include <string.h>

static const char *const device_fields[] = {
    "name", "kind", "slot", "mac", "size", "block_size", "virtualiser", "partitions", NULL,
};

#define MIN_BLOCK_SIZE     512u
#define MAX_BLOCK_SIZE     65536u
#define DEFAULT_BLOCK_SIZE 512u /* QEMU's virtio-blk logical block */

static const struct {
    const char *name;
    enum sd_device_kind kind;
} kinds[] = {
    {"virtio-net", SD_DEVICE_VIRTIO_NET},
    {"virtio-blk", SD_DEVICE_VIRTIO_BLK},
    {"virtio-gpu", SD_DEVICE_VIRTIO_GPU},
};

const char *sd_device_kind_name(enum sd_device_kind kind)
{
    for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++) {
        if (kinds[i].kind == kind) {
            return kinds[i].name;
        }
    }
    return "?";
}

int sd_find_device(const struct sd_system *sys, const char *name)
{
    for (uint32_t i = 0; i < sys->n_devices; i++) {
        if (strcmp(sys->devices[i].name, name) == 0) {
            return (int)i;
        }
    }
    return -1;
}

uint64_t sd_device_mmio(const struct sd_device *device)
{
    return 0x0a000000u + 0x200u * (uint64_t)device->slot;
}

uint32_t sd_device_intid(const struct sd_device *device)
{
    return 48 + device->slot;
}

static int hex_digit(char c)
{
    return c >= '0' && c <= '9'   ? c - '0'
           : c >= 'a' && c <= 'f' ? c - 'a' + 10
           : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                  : -1;
}

static bool parse_mac(const char *text, uint8_t mac[6])
{
    for (int i = 0; i < 6; i++) {
        int hi = hex_digit(text[0]), lo = hi < 0 ? -1 : hex_digit(text[1]);
        if (lo < 0 || text[2] != (i == 5 ? '\0' : ':')) {
            return false;
        }
        mac[i] = (uint8_t)(hi << 4 | lo);
        text += 3;
    }
    return true;
}

static bool parse_kind(struct sd_ctx *ctx, const char *where, const json_t *element,
                       enum sd_device_kind *kind)
{
    char text[32];
    if (!sd_get_string(ctx, where, element, "kind", true, false, text, sizeof text, NULL)) {
        return false;
    }
    for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++) {
        if (strcmp(text, kinds[i].name) == 0) {
            *kind = kinds[i].kind;
            return true;
        }
    }
    char shown[48];
    sd_quote(shown, sizeof shown, text, strlen(text));
    return sd_fail(ctx, "%s: kind %s is not one of virtio-net, virtio-blk, virtio-gpu", where,
                   shown);
}

/* Whether `key` is present; a field only a virtio-blk device may have is refused elsewhere. */
static bool refuse_unless_block(struct sd_ctx *ctx, const char *where, const json_t *element,
                                const struct sd_device *device, const char *key)
{
    if (device->kind != SD_DEVICE_VIRTIO_BLK && json_object_get(element, key) != NULL) {
        return sd_fail(ctx, "%s: only a virtio-blk device has a \"%s\"", where, key);
    }
    return true;
}

/*
 * A virtio-blk device's disk: its size (required: the runner creates an
 * image of it), logical block size, and the partitions a virtualiser gives
 * its clients (checked here as geometry; their PDs once every PD is known).
 */
static bool parse_block_fields(struct sd_ctx *ctx, const char *where, const json_t *element,
                               struct sd_device *device)
{
    static const char *const block_only[] = {"size", "block_size", "virtualiser", "partitions"};
    device->virtualiser_pd = -1;
    for (size_t i = 0; i < sizeof block_only / sizeof block_only[0]; i++) {
        if (!refuse_unless_block(ctx, where, element, device, block_only[i])) {
            return false;
        }
    }
    if (device->kind != SD_DEVICE_VIRTIO_BLK) {
        return true;
    }
    long long block_size = DEFAULT_BLOCK_SIZE;
    bool has_virtualiser;
    json_t *partitions;
    if (!sd_get_size(ctx, where, element, "size", true, &device->size, NULL) ||
        !sd_get_int(ctx, where, element, "block_size", false, MIN_BLOCK_SIZE, MAX_BLOCK_SIZE,
                    &block_size, NULL) ||
        !sd_get_name(ctx, where, element, "virtualiser", false, device->virtualiser,
                     &has_virtualiser) ||
        !sd_get_value(ctx, where, element, "partitions", false, JSON_ARRAY, &partitions)) {
        return false;
    }
    if ((block_size & (block_size - 1)) != 0) {
        return sd_fail(ctx, "%s: block_size %lld is not a power of two", where, block_size);
    }
    device->block_size = (uint32_t)block_size;
    if (device->size % device->block_size != 0) {
        return sd_fail(ctx, "%s: size %" PRIu64 " is not a multiple of block_size %u", where,
                       device->size, device->block_size);
    }
    if (has_virtualiser != (partitions != NULL)) {
        return sd_fail(ctx,
                       "%s: \"virtualiser\" and \"partitions\" go together: the "
                       "virtualiser gives each partition to its client",
                       where);
    }
    return partitions == NULL || sd_parse_partitions(ctx, where, partitions, device);
}

bool sd_parse_devices(struct sd_ctx *ctx, const json_t *devices)
{
    struct sd_system *sys = ctx->sys;
    size_t index;
    json_t *element;
    json_array_foreach(devices, index, element)
    {
        char where[SD_WHERE_MAX];
        sd_label_element(where, sizeof where, "devices", index, element);
        if (!json_is_object(element)) {
            return sd_fail(ctx, "%s must be an object, not %s", where, sd_json_type_name(element));
        }
        if (sys->n_devices == SD_MAX_DEVICES) {
            return sd_fail(ctx, "%s: more than %d devices", where, SD_MAX_DEVICES);
        }
        struct sd_device *device = &sys->devices[sys->n_devices];
        long long slot;
        if (!sd_check_fields(ctx, where, element, device_fields) ||
            !sd_get_name(ctx, where, element, "name", true, device->name, NULL) ||
            !parse_kind(ctx, where, element, &device->kind) ||
            !sd_get_int(ctx, where, element, "slot", true, 0, SD_VIRTIO_SLOTS - 1, &slot, NULL)) {
            return false;
        }
        device->slot = (uint32_t)slot;
        for (uint32_t i = 0; i < sys->n_devices; i++) {
            if (strcmp(sys->devices[i].name, device->name) == 0) {
                return sd_fail(ctx, "%s: duplicate device name \"%s\" (also devices[%u])", where,
                               device->name, i);
            }
            if (sys->devices[i].slot == device->slot) {
                return sd_fail(ctx, "%s: slot %u is taken by devices[%u] \"%s\"", where,
                               device->slot, i, sys->devices[i].name);
            }
        }
        char mac[24];
        if (!sd_get_string(ctx, where, element, "mac", false, false, mac, sizeof mac,
                           &device->has_mac)) {
            return false;
        }
        if (device->has_mac && device->kind != SD_DEVICE_VIRTIO_NET) {
            return sd_fail(ctx, "%s: only a virtio-net device has a \"mac\"", where);
        }
        if (device->has_mac && !parse_mac(mac, device->mac)) {
            return sd_fail(ctx, "%s: mac \"%s\" is not six hex pairs like 52:54:00:12:34:56", where,
                           mac);
        }
        if (!parse_block_fields(ctx, where, element, device)) {
            return false;
        }
        sys->n_devices++;
    }
    return true;
}

bool sd_check_vm_devices(struct sd_ctx *ctx)
{
    const struct sd_system *sys = ctx->sys;
    for (uint32_t p = 0; p < sys->n_pds; p++) {
        const struct sd_pd *pd = &sys->pds[p];
        for (uint32_t d = 0; pd->kind == SD_KIND_VM && d < pd->vm.n_devices; d++) {
            if (sd_find_device(sys, pd->vm.devices[d]) < 0) {
                return sd_fail(ctx, "%s: devices[%u] \"%s\" is not in the system's \"devices\"",
                               ctx->pd[p].label, d, pd->vm.devices[d]);
            }
        }
    }
    return true;
}
