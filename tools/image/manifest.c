/*
 * The manifest: what experiment scripts need to know about an image without
 * parsing it (which PD runs where, where its memory and counters are, how
 * channels are batched), as JSON. Addresses and sizes are JSON integers;
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
        json_array_append_new(
            pds,
            json_pack("{s:s, s:I, s:I, s:I, s:s, s:b, s:I, s:I, s:I, s:o}", "name",
                      sys->pds[p].name, "owner", (json_int_t)boot_pd->owner, "core",
                      (json_int_t)boot_pd->core, "priority", (json_int_t)boot_pd->priority,
                      "program", sys->pds[p].program, "polling",
                      (boot_pd->flags & PN_PD_POLLING) != 0, "entry", (json_int_t)boot_pd->entry,
                      "stack_top", (json_int_t)boot_pd->stack_top, "counters_pa",
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
        json_array_append_new(devices, entry);
    }
    return devices;
}

char *img_manifest_text(const struct img_plan *plan, const struct img_options *options)
{
    const struct pn_bootinfo *boot = &plan->bootinfo;
    json_t *placement =
        options->placement_path != NULL ? json_string(options->placement_path) : json_null();
    json_t *root = json_pack(
        "{s:s, s:s, s:s, s:o, s:I, s:I, s:b, s:I, s:I, s:o, s:o, s:o, s:o}", "system",
        plan->sys->name, "image", options->output_path, "kernel", options->kernel_path, "placement",
        placement, "cores", (json_int_t)boot->n_cores, "memory", (json_int_t)plan->memory,
        "end_when_idle", (boot->flags & PN_BOOT_END_WHEN_IDLE) != 0, "free_start",
        (json_int_t)boot->free_start, "free_end", (json_int_t)boot->free_end, "pds", pds_json(plan),
        "channels", channels_json(plan), "irqs", irqs_json(plan), "devices", devices_json(plan));
    if (root == NULL) {
        return NULL;
    }
    char *text = json_dumps(root, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    json_decref(root);
    return text;
}
