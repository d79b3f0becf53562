/*
 * The boot information and the PDs' configurations, from a finished layout:
 * what the kernel reads at boot and what each component reads at init().
 */
#define _POSIX_C_SOURCE 200809L
#include "image_internal.h"

#include <string.h>

/* Names are at most PN_NAME_MAX - 1 characters once loaded; the rest stays zero. */
static void copy_name(char dst[PN_NAME_MAX], const char *src)
{
    memset(dst, 0, PN_NAME_MAX);
    memcpy(dst, src, strnlen(src, PN_NAME_MAX - 1));
}

static void fill_config(struct img_plan *plan, int p)
{
    struct pn_config *config = &plan->config[p];
    sd_build_config(plan->sys, p, config);
    /* Regions follow the maps one to one, in description order. */
    for (uint32_t m = 0; m < config->n_regions; m++) {
        config->regions[m].vaddr = plan->pd[p].map_ipa[m];
        config->regions[m].paddr = plan->pd[p].map_pa[m];
    }
}

/* Physical address of the counter table: inside the program segment that holds it. */
static uint64_t counters_pa(const struct img_pd *pd)
{
    const struct img_elf *program = &pd->program;
    if (!program->has_counters) {
        return 0;
    }
    for (uint32_t s = 0; s < program->n_segments; s++) {
        const struct img_segment *segment = &program->segments[s];
        if (program->counters_vaddr >= segment->vaddr &&
            program->counters_vaddr - segment->vaddr < segment->memsz) {
            return pd->segment_pa[s] + (program->counters_vaddr - segment->vaddr);
        }
    }
    return 0; /* img_check_program made sure this does not happen */
}

/* Each channel end points at the other end; ids that are no channel point nowhere. */
static void fill_channels(struct img_plan *plan)
{
    const struct sd_system *sys = plan->sys;
    for (uint32_t p = 0; p < sys->n_pds; p++) {
        for (int id = 0; id < PN_CONFIG_MAX_CHANNELS; id++) {
            plan->bootinfo.pds[p].channels[id] =
                (struct pn_boot_channel){.target_pd = PN_BOOT_NO_PD};
        }
    }
    for (uint32_t c = 0; c < sys->n_channels; c++) {
        const struct sd_channel *channel = &sys->channels[c];
        const struct sd_batching *batching = &plan->placement->channel[c];
        for (int e = 0; e < 2; e++) {
            const struct sd_channel_end *end = &channel->ends[e], *other = &channel->ends[1 - e];
            plan->bootinfo.pds[end->pd].channels[end->id] = (struct pn_boot_channel){
                .target_pd = (uint16_t)other->pd,
                .target_id = (uint8_t)other->id,
                .policy = batching->policy,
                .coalesce_count = batching->count,
                .coalesce_window_us = batching->window_us,
            };
        }
    }
}

static bool fill_irqs(struct img_plan *plan, struct sd_error *err)
{
    const struct sd_system *sys = plan->sys;
    struct pn_bootinfo *boot = &plan->bootinfo;
    for (uint32_t p = 0; p < sys->n_pds; p++) {
        for (uint32_t i = 0; i < sys->pds[p].n_irqs; i++) {
            const struct sd_irq *irq = &sys->pds[p].irqs[i];
            if (boot->n_irqs == PN_BOOT_MAX_IRQS) {
                return img_fail(err,
                                "%s: PD \"%s\": IRQ \"%s\": more than %d IRQs in the system "
                                "(boot information holds %d)",
                                sys->source, sys->pds[p].name, irq->name, PN_BOOT_MAX_IRQS,
                                PN_BOOT_MAX_IRQS);
            }
            boot->irqs[boot->n_irqs++] = (struct pn_boot_irq){
                .intid = irq->irq, .pd = p, .channel = irq->id, .edge = irq->edge ? 1 : 0};
        }
    }
    return true;
}

bool img_fill_boot(struct img_plan *plan, struct sd_error *err)
{
    const struct sd_system *sys = plan->sys;
    const struct sd_placement *placement = plan->placement;
    struct pn_bootinfo *boot = &plan->bootinfo;
    boot->magic = PN_BOOTINFO_MAGIC;
    boot->version = PN_BOOTINFO_VERSION;
    boot->size = sizeof *boot;
    copy_name(boot->system, sys->name);
    boot->n_cores = placement->cores;
    boot->flags = sys->end_when_idle ? PN_BOOT_END_WHEN_IDLE : 0;
    boot->n_pds = sys->n_pds;
    for (uint32_t p = 0; p < sys->n_pds; p++) {
        struct pn_boot_pd *pd = &boot->pds[p];
        copy_name(pd->name, sys->pds[p].name);
        pd->owner = p + 1; /* 0 is the kernel's own in the accounting markers */
        pd->core = (uint32_t)placement->core[p];
        pd->priority = sys->pds[p].priority;
        pd->flags = placement->polling[p] ? PN_PD_POLLING : 0;
        if (sys->pds[p].kind == SD_KIND_VM) {
            /* No program, stack, counters or configuration: vm_boot.c fills the rest. */
            pd->flags |= PN_PD_VM;
            continue;
        }
        pd->entry = plan->pd[p].program.entry;
        pd->stack_top = PN_PD_STACK_TOP;
        pd->counters_pa = counters_pa(&plan->pd[p]);
        fill_config(plan, (int)p);
    }
    fill_channels(plan);
    return fill_irqs(plan, err);
}
