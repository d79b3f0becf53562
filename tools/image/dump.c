/*
 * pinion-image --dump: the boot information of an image as tables, read
 * back from the image itself (not from the description), so that it shows
 * what the kernel will see. Local names come from the PDs' configuration
 * pages in the image, where they are found, and for VMs from their device
 * trees (dump_vm.c).
 */
#include "image_internal.h"

#include <inttypes.h>
#include <string.h>

/* Rights in a fixed-width column: "rw-", "r-x". */
static void rights_column(uint32_t rights, char out[4])
{
    out[0] = rights & PN_RIGHT_READ ? 'r' : '-';
    out[1] = rights & PN_RIGHT_WRITE ? 'w' : '-';
    out[2] = rights & PN_RIGHT_EXECUTE ? 'x' : '-';
    out[3] = '\0';
}

const uint8_t *img_image_bytes_at(const struct img_elf *image, uint64_t pa, uint64_t size)
{
    for (uint32_t i = 0; i < image->n_segments; i++) {
        const struct img_segment *segment = &image->segments[i];
        if (pa >= segment->paddr && pa - segment->paddr <= segment->filesz &&
            size <= segment->filesz - (pa - segment->paddr)) {
            return image->bytes + segment->offset + (pa - segment->paddr);
        }
    }
    return NULL;
}

static bool check_bootinfo(const char *path, const struct pn_bootinfo *boot, struct sd_error *err)
{
    if (boot->magic != PN_BOOTINFO_MAGIC) {
        return img_fail(err, "%s: no pinion boot information at 0x%llx (magic 0x%" PRIx64 ")", path,
                        PN_BOOTINFO_PA, boot->magic);
    }
    if (boot->version != PN_BOOTINFO_VERSION || boot->size != sizeof *boot) {
        return img_fail(err,
                        "%s: boot information version %u of %u bytes; this tool reads version "
                        "%u of %zu bytes",
                        path, boot->version, boot->size, PN_BOOTINFO_VERSION, sizeof *boot);
    }
    if (boot->n_pds > PN_BOOT_MAX_PDS || boot->n_mappings > PN_BOOT_MAX_MAPPINGS ||
        boot->n_irqs > PN_BOOT_MAX_IRQS || boot->n_cores > PN_BOOT_MAX_CORES) {
        return img_fail(err, "%s: boot information is corrupt (%u PDs, %u mappings, %u IRQs)", path,
                        boot->n_pds, boot->n_mappings, boot->n_irqs);
    }
    for (uint32_t p = 0; p < boot->n_pds; p++) {
        const struct pn_boot_pd *pd = &boot->pds[p];
        if (pd->first_mapping > boot->n_mappings ||
            pd->n_mappings > boot->n_mappings - pd->first_mapping ||
            memchr(pd->name, '\0', sizeof pd->name) == NULL) {
            return img_fail(err, "%s: boot information is corrupt (PD %u)", path, p);
        }
    }
    if (memchr(boot->system, '\0', sizeof boot->system) == NULL) {
        return img_fail(err, "%s: boot information is corrupt (system name)", path);
    }
    return img_check_boot_vms(path, boot, err);
}

bool img_read_bootinfo(const char *path, struct img_elf *image, struct pn_bootinfo *out,
                       struct sd_error *err)
{
    if (!img_elf_read(path, image, err)) {
        return false;
    }
    const uint8_t *bytes = img_image_bytes_at(image, PN_BOOTINFO_PA, sizeof *out);
    if (bytes == NULL) {
        return img_fail(err, "%s: no pinion boot information: no segment holds 0x%llx..+%zu", path,
                        PN_BOOTINFO_PA, sizeof *out);
    }
    memcpy(out, bytes, sizeof *out);
    return check_bootinfo(path, out, err);
}

/* A PD's configuration from its config page in the image, if it is there and valid. */
static bool read_config(const struct img_elf *image, const struct pn_bootinfo *boot, uint32_t pd,
                        struct pn_config *config)
{
    const struct pn_boot_pd *boot_pd = &boot->pds[pd];
    if (boot_pd->flags & PN_PD_VM) {
        return false; /* a VM has none: its names are in its device tree */
    }
    for (uint32_t i = 0; i < boot_pd->n_mappings; i++) {
        const struct pn_boot_mapping *mapping = &boot->mappings[boot_pd->first_mapping + i];
        if (mapping->ipa != PN_PD_CONFIG_IPA) {
            continue;
        }
        const uint8_t *bytes = img_image_bytes_at(image, mapping->pa, sizeof *config);
        if (bytes == NULL) {
            return false;
        }
        memcpy(config, bytes, sizeof *config);
        return config->magic == PN_CONFIG_MAGIC && config->n_regions <= PN_CONFIG_MAX_REGIONS &&
               config->n_channels <= PN_CONFIG_MAX_CHANNELS;
    }
    return false;
}

/* What a mapping is, from where it sits in the PD's address space. */
static const char *mapping_name(const struct pn_boot_mapping *mapping,
                                const struct pn_config *config, bool have_config)
{
    if (mapping->ipa == PN_PD_CONFIG_IPA) {
        return "config";
    }
    if (mapping->ipa >= PN_PD_PROGRAM_IPA && mapping->ipa < PN_PD_PROGRAM_END) {
        return "program";
    }
    if (mapping->ipa == PN_PD_STACK_TOP - PN_PD_STACK_SIZE) {
        return "stack";
    }
    for (uint32_t r = 0; have_config && r < config->n_regions; r++) {
        if (config->regions[r].vaddr == mapping->ipa &&
            memchr(config->regions[r].name, '\0', PN_NAME_MAX) != NULL) {
            return config->regions[r].name;
        }
    }
    return "?";
}

static const char *channel_name(const struct pn_config *config, bool have_config, uint32_t id)
{
    for (uint32_t c = 0; have_config && c < config->n_channels; c++) {
        if (config->channels[c].id == id &&
            memchr(config->channels[c].name, '\0', PN_NAME_MAX) != NULL) {
            return config->channels[c].name;
        }
    }
    return "?";
}

static int widest_name(const struct pn_bootinfo *boot)
{
    int width = 4;
    for (uint32_t p = 0; p < boot->n_pds; p++) {
        int len = (int)strlen(boot->pds[p].name);
        width = len > width ? len : width;
    }
    return width;
}

static void print_pds(FILE *out, const struct pn_bootinfo *boot, int width)
{
    fprintf(out, "\nPDs\n  %2s  %-*s  %5s  %4s  %8s  %-7s  %-10s  %-10s  %s\n", "#", width, "name",
            "owner", "core", "priority", "polling", "entry", "stack top", "counters");
    for (uint32_t p = 0; p < boot->n_pds; p++) {
        const struct pn_boot_pd *pd = &boot->pds[p];
        char counters[24] = "-";
        if (pd->counters_pa != 0) {
            snprintf(counters, sizeof counters, "0x%" PRIx64, pd->counters_pa);
        }
        char entry[24] = "(a VM)", stack_top[24] = "-";
        if ((pd->flags & PN_PD_VM) == 0) {
            snprintf(entry, sizeof entry, "0x%" PRIx64, pd->entry);
            snprintf(stack_top, sizeof stack_top, "0x%" PRIx64, pd->stack_top);
        }
        fprintf(out, "  %2u  %-*s  %5u  %4u  %8u  %-7s  %-10s  %-10s  %s\n", p, width, pd->name,
                pd->owner, pd->core, pd->priority, (pd->flags & PN_PD_POLLING) ? "yes" : "no",
                entry, stack_top, counters);
    }
}

static void print_mappings(FILE *out, const struct img_elf *image, const struct pn_bootinfo *boot,
                           int width)
{
    fprintf(out, "\nMappings\n  %-*s  %-16s  %-28s  %-28s  %-10s  %-6s  %s\n", width, "pd", "name",
            "ipa", "pa", "size", "rights", "attr");
    for (uint32_t p = 0; p < boot->n_pds; p++) {
        struct pn_config config;
        bool have_config = read_config(image, boot, p, &config);
        const struct pn_boot_pd *pd = &boot->pds[p];
        for (uint32_t i = 0; i < pd->n_mappings; i++) {
            const struct pn_boot_mapping *mapping = &boot->mappings[pd->first_mapping + i];
            char ipa[40], pa[40], size[32], rights[4];
            snprintf(ipa, sizeof ipa, "[0x%" PRIx64 ", 0x%" PRIx64 ")", mapping->ipa,
                     mapping->ipa + mapping->size);
            snprintf(pa, sizeof pa, "[0x%" PRIx64 ", 0x%" PRIx64 ")", mapping->pa,
                     mapping->pa + mapping->size);
            sd_format_size(size, sizeof size, mapping->size);
            rights_column(mapping->rights, rights);
            char vm_name[PN_NAME_MAX];
            const char *name =
                img_dump_vm_mapping_name(image, boot, p, mapping, vm_name, sizeof vm_name);
            fprintf(out, "  %-*s  %-16s  %-28s  %-28s  %-10s  %-6s  %s\n", width, pd->name,
                    name != NULL ? name : mapping_name(mapping, &config, have_config), ipa, pa,
                    size, rights, mapping->attr == PN_MAP_DEVICE ? "device" : "normal");
        }
    }
}

static void print_channels(FILE *out, const struct img_elf *image, const struct pn_bootinfo *boot)
{
    fprintf(out, "\nChannels (each end: PD:id local name)\n");
    bool any = false;
    for (uint32_t p = 0; p < boot->n_pds; p++) {
        struct pn_config config;
        bool have_config = read_config(image, boot, p, &config);
        for (uint32_t id = 0; id < PN_CONFIG_MAX_CHANNELS; id++) {
            const struct pn_boot_channel *channel = &boot->pds[p].channels[id];
            if (channel->target_pd == PN_BOOT_NO_PD) {
                continue;
            }
            any = true;
            const char *target = channel->target_pd < boot->n_pds
                                     ? boot->pds[channel->target_pd].name
                                     : "(no such PD)";
            char vm_name[PN_NAME_MAX];
            const char *name =
                img_dump_vm_channel_name(image, boot, p, id, vm_name, sizeof vm_name);
            fprintf(out, "  %s:%u %s -> %s:%u  %s", boot->pds[p].name, id,
                    name != NULL ? name : channel_name(&config, have_config, id), target,
                    channel->target_id, sd_batch_policy_name(channel->policy));
            if (channel->policy == PN_BATCH_COALESCE) {
                fprintf(out, " (count %u, window %u us)", channel->coalesce_count,
                        channel->coalesce_window_us);
            }
            fputc('\n', out);
        }
    }
    if (!any) {
        fprintf(out, "  (none)\n");
    }
}

static void print_irqs(FILE *out, const struct pn_bootinfo *boot, int width)
{
    if (boot->n_irqs == 0) {
        return;
    }
    fprintf(out, "\nIRQs\n  %5s  %-*s  %2s  %s\n", "intid", width, "pd", "id", "trigger");
    for (uint32_t i = 0; i < boot->n_irqs; i++) {
        const struct pn_boot_irq *irq = &boot->irqs[i];
        const char *pd = irq->pd < boot->n_pds ? boot->pds[irq->pd].name : "(no such PD)";
        fprintf(out, "  %5u  %-*s  %2u  %s\n", irq->intid, width, pd, irq->channel,
                irq->edge ? "edge" : "level");
    }
}

static const char *plural(uint32_t count)
{
    return count == 1 ? "" : "s";
}

void img_print_image(FILE *out, const struct img_elf *image, const struct pn_bootinfo *boot)
{
    char free_size[32];
    sd_format_size(free_size, sizeof free_size, boot->free_end - boot->free_start);
    fprintf(out, "image %s: system \"%s\" on %u core%s; a run ends %s\n", image->path, boot->system,
            boot->n_cores, plural(boot->n_cores),
            (boot->flags & PN_BOOT_END_WHEN_IDLE) ? "when every core is idle"
                                                  : "when the runner stops it");
    char vms[64] = "";
    if (boot->n_vms > 0) {
        snprintf(vms, sizeof vms, ", %u VM%s, %u vCPU%s", boot->n_vms, plural(boot->n_vms),
                 boot->n_vcpus, plural(boot->n_vcpus));
    }
    fprintf(out,
            "boot information at 0x%llx: %u PD%s, %u mapping%s, %u IRQ%s%s; kernel entry 0x%" PRIx64
            "; free for the kernel [0x%" PRIx64 ", 0x%" PRIx64 ") (%s)\n",
            PN_BOOTINFO_PA, boot->n_pds, plural(boot->n_pds), boot->n_mappings,
            plural(boot->n_mappings), boot->n_irqs, plural(boot->n_irqs), vms, image->entry,
            boot->free_start, boot->free_end, free_size);
    int width = widest_name(boot);
    print_pds(out, boot, width);
    print_mappings(out, image, boot, width);
    print_channels(out, image, boot);
    print_irqs(out, boot, width);
    img_print_vms(out, image, boot, width);
}
