/*
 * The manifest: what experiment scripts need to know about an image without
 * parsing it (which PD runs where, where its memory and counters are, how
 * channels are batched, where each VM's guest is and how its channels
 * appear to it), as JSON. Addresses and sizes are JSON integers;
 * they stay below 2^48, so they fit.
 */
#include "image_internal.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>

static json_t *mappings_json(const struct img_plan *plan, uint32_t pd)
{
    const struct pn_boot_pd *boot_pd = &plan->bootinfo.pds[pd];
    json_t *mappings = json_array();
    for (uint32_t i = 0; i < boot_pd->n_mappings; i++) {
        uint32_t index = boot_pd->first_mapping + i;
        const struct pn_boot_mapping *mapping = &plan->bootinfo.mappings[index];
        char rights[4];
        sd_format_rights(rights, mapping->rights);
        json_array_append_new(
            mappings, json_pack("{s:s, s:I, s:I, s:I, s:s, s:s}", "name", plan->mapping_name[index],
                                "ipa", (json_int_t)mapping->ipa, "pa", (json_int_t)mapping->pa,
                                "size", (json_int_t)mapping->size, "rights", rights, "attr",
                                mapping->attr == PN_MAP_DEVICE ? "device" : "normal"));
    }
    return mappings;
}

static json_t *pds_json(const struct img_plan *plan)
{
    const struct sd_system *sys = plan->sys;
    json_t *pds = json_array();
    for (uint32_t p = 0; p < sys->n_pds; p++) {
        const struct pn_boot_pd *boot_pd = &plan->bootinfo.pds[p];
        /* A VM runs no program: its guest is in "vms". */
        json_t *program =
            sys->pds[p].kind == SD_KIND_VM ? json_null() : json_string(sys->pds[p].program);
        json_array_append_new(
            pds, json_pack("{s:s, s:I, s:I, s:I, s:o, s:b, s:I, s:I, s:I, s:o}", "name",
                           sys->pds[p].name, "owner", (json_int_t)boot_pd->owner, "core",
                           (json_int_t)boot_pd->core, "priority", (json_int_t)boot_pd->priority,
                           "program", program, "polling", (boot_pd->flags & PN_PD_POLLING) != 0,
                           "entry", (json_int_t)boot_pd->entry, "stack_top",
                           (json_int_t)boot_pd->stack_top, "counters_pa",
                           (json_int_t)boot_pd->counters_pa, "mappings", mappings_json(plan, p)));
    }
    return pds;
}

static json_t *channels_json(const struct img_plan *plan)
{
    const struct sd_system *sys = plan->sys;
    json_t *channels = json_array();
    for (uint32_t c = 0; c < sys->n_channels; c++) {
        const struct sd_channel *channel = &sys->channels[c];
        const struct sd_batching *batching = &plan->placement->channel[c];
        json_t *ends = json_array();
        for (int e = 0; e < 2; e++) {
            json_array_append_new(ends,
                                  json_pack("{s:s, s:I}", "pd", sys->pds[channel->ends[e].pd].name,
                                            "id", (json_int_t)channel->ends[e].id));
        }
        json_array_append_new(channels,
                              json_pack("{s:s, s:o, s:s, s:I, s:I}", "name", channel->name, "ends",
                                        ends, "policy", sd_batch_policy_name(batching->policy),
                                        "count", (json_int_t)batching->count, "window_us",
                                        (json_int_t)batching->window_us));
    }
    return channels;
}

static json_t *irqs_json(const struct img_plan *plan)
{
    const struct sd_system *sys = plan->sys;
    json_t *irqs = json_array();
    for (uint32_t p = 0; p < sys->n_pds; p++) {
        for (uint32_t i = 0; i < sys->pds[p].n_irqs; i++) {
            const struct sd_irq *irq = &sys->pds[p].irqs[i];
            json_array_append_new(irqs, json_pack("{s:s, s:s, s:I, s:I, s:s}", "pd",
                                                  sys->pds[p].name, "name", irq->name, "irq",
                                                  (json_int_t)irq->irq, "id", (json_int_t)irq->id,
                                                  "trigger", irq->edge ? "edge" : "level"));
        }
    }
    return irqs;
}

/* A block device's disk: what the runner creates, and which client owns which bytes. */
static void add_disk(json_t *entry, const struct sd_device *device)
{
    json_object_set_new(entry, "size", json_integer((json_int_t)device->size));
    json_object_set_new(entry, "block_size", json_integer((json_int_t)device->block_size));
    if (device->n_partitions == 0) {
        return;
    }
    json_object_set_new(entry, "virtualiser", json_string(device->virtualiser));
    json_t *partitions = json_array();
    for (uint32_t p = 0; p < device->n_partitions; p++) {
        const struct sd_partition *partition = &device->partitions[p];
        json_array_append_new(partitions, json_pack("{s:s, s:I, s:I}", "client", partition->client,
                                                    "start", (json_int_t)partition->start, "size",
                                                    (json_int_t)partition->size));
    }
    json_object_set_new(entry, "partitions", partitions);
}

/* The emulated devices the machine must have, for whoever starts QEMU. */
static json_t *devices_json(const struct img_plan *plan)
{
    json_t *devices = json_array();
    for (uint32_t i = 0; i < plan->sys->n_devices; i++) {
        const struct sd_device *device = &plan->sys->devices[i];
        json_t *entry = json_pack(
            "{s:s, s:s, s:I, s:I, s:I}", "name", device->name, "kind",
            sd_device_kind_name(device->kind), "slot", (json_int_t)device->slot, "mmio",
            (json_int_t)sd_device_mmio(device), "intid", (json_int_t)sd_device_intid(device));
        if (device->has_mac) {
            char mac[18];
            snprintf(mac, sizeof mac, "%02x:%02x:%02x:%02x:%02x:%02x", device->mac[0],
                     device->mac[1], device->mac[2], device->mac[3], device->mac[4],
                     device->mac[5]);
            json_object_set_new(entry, "mac", json_string(mac));
        }
        if (device->kind == SD_DEVICE_VIRTIO_BLK) {
            add_disk(entry, device);
        }
        json_array_append_new(devices, entry);
    }
    return devices;
}

static json_t *vcpus_json(const struct img_plan *plan, const struct pn_boot_vm *boot_vm)
{
    json_t *vcpus = json_array();
    for (uint32_t k = 0; k < boot_vm->n_vcpus; k++) {
        const struct pn_boot_vcpu *vcpu = &plan->bootinfo.vcpus[boot_vm->first_vcpu + k];
        json_array_append_new(vcpus,
                              json_pack("{s:I, s:I, s:I}", "index", (json_int_t)vcpu->index, "core",
                                        (json_int_t)vcpu->core, "owner", (json_int_t)vcpu->owner));
    }
    return vcpus;
}

static json_t *vm_devices_json(const struct img_plan *plan, const struct sd_pd *pd)
{
    const struct sd_system *sys = plan->sys;
    json_t *devices = json_array();
    for (uint32_t d = 0; d < pd->vm.n_devices; d++) {
        const struct sd_device *device = &sys->devices[sd_find_device(sys, pd->vm.devices[d])];
        json_array_append_new(devices, json_pack("{s:s, s:I, s:I}", "name", device->name, "mmio",
                                                 (json_int_t)sd_device_mmio(device), "intid",
                                                 (json_int_t)sd_device_intid(device)));
    }
    return devices;
}

/* Each channel as the guest sees it: a UIO device with its doorbell, interrupt and regions. */
static json_t *vm_channels_json(const struct img_plan *plan, const struct img_vm *vm,
                                const struct img_dtb_spec *spec)
{
    const struct sd_system *sys = plan->sys;
    json_t *channels = json_array();
    for (uint32_t u = 0; u < spec->n_uio; u++) {
        const struct img_dtb_uio *uio = &spec->uio[u];
        int end;
        int c = sd_channel_of(sys, vm->pd, uio->id, &end);
        const struct sd_channel_end *peer = &sys->channels[c].ends[1 - end];
        json_t *regions = json_array();
        for (uint32_t r = 0; r < uio->n_regions; r++) {
            json_array_append_new(regions,
                                  json_pack("{s:s, s:I, s:I}", "name", uio->regions[r].name, "base",
                                            (json_int_t)uio->regions[r].base, "size",
                                            (json_int_t)uio->regions[r].size));
        }
        json_array_append_new(
            channels,
            json_pack("{s:s, s:I, s:s, s:I, s:I, s:I, s:o}", "name", uio->name, "id",
                      (json_int_t)uio->id, "peer", sys->pds[peer->pd].name, "peer_id",
                      (json_int_t)peer->id, "doorbell",
                      (json_int_t)(PN_GUEST_DOORBELL_BASE + uio->id * PN_GUEST_DOORBELL_SIZE),
                      "intid", (json_int_t)(PN_GUEST_CHANNEL_INTID + uio->id), "regions", regions));
    }
    return channels;
}

static json_t *vm_json(const struct img_plan *plan, uint32_t v, struct img_dtb_spec *spec)
{
    const struct img_vm *vm = &plan->vm[v];
    const struct sd_pd *pd = &plan->sys->pds[vm->pd];
    const struct pn_boot_vm *boot_vm = &plan->bootinfo.vms[v];
    char bootargs[IMG_GUEST_BOOTARGS_MAX];
    img_guest_bootargs(bootargs, sizeof bootargs, pd->vm.bootargs, pd->vm.channel_driver);
    img_vm_dtb_spec(plan, (int)v, spec);
    json_t *initrd = vm->initrd_path != NULL ? json_string(vm->initrd_path) : json_null();
    return json_pack(
        "{s:s, s:I, s:s, s:o, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:s, s:s, s:o, s:o, "
        "s:o}",
        "name", pd->name, "pd", (json_int_t)vm->pd, "kernel", vm->kernel_path, "initrd", initrd,
        "ram_base", (json_int_t)vm->ram_base, "ram_size", (json_int_t)vm->ram_size, "entry",
        (json_int_t)boot_vm->entry, "dtb", (json_int_t)boot_vm->dtb, "dtb_size",
        (json_int_t)vm->dtb_size, "initrd_start", (json_int_t)vm->initrd_pa, "initrd_end",
        (json_int_t)(vm->initrd_pa + vm->initrd_size), "bootargs", bootargs, "channel_driver",
        pd->vm.channel_driver == SD_CHANNEL_DRIVER_KERNEL ? "kernel" : "uio", "vcpus",
        vcpus_json(plan, boot_vm), "devices", vm_devices_json(plan, pd), "channels",
        vm_channels_json(plan, vm, spec));
}

static json_t *vms_json(const struct img_plan *plan)
{
    json_t *vms = json_array();
    struct img_dtb_spec *spec = malloc(sizeof *spec);
    if (spec == NULL) {
        json_decref(vms);
        return NULL;
    }
    for (uint32_t v = 0; v < plan->n_vms; v++) {
        json_array_append_new(vms, vm_json(plan, v, spec));
    }
    free(spec);
    return vms;
}

char *img_manifest_text(const struct img_plan *plan, const struct img_options *options)
{
    const struct pn_bootinfo *boot = &plan->bootinfo;
    json_t *placement =
        options->placement_path != NULL ? json_string(options->placement_path) : json_null();
    json_t *root = json_pack(
        "{s:s, s:s, s:s, s:o, s:I, s:I, s:b, s:I, s:I, s:o, s:o, s:o, s:o, s:o}", "system",
        plan->sys->name, "image", options->output_path, "kernel", options->kernel_path, "placement",
        placement, "cores", (json_int_t)boot->n_cores, "memory", (json_int_t)plan->memory,
        "end_when_idle", (boot->flags & PN_BOOT_END_WHEN_IDLE) != 0, "free_start",
        (json_int_t)boot->free_start, "free_end", (json_int_t)boot->free_end, "pds", pds_json(plan),
        "channels", channels_json(plan), "irqs", irqs_json(plan), "devices", devices_json(plan),
        "vms", vms_json(plan));
    if (root == NULL) {
        return NULL;
    }
    char *text = json_dumps(root, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    json_decref(root);
    return text;
}
