/*
 * Boot: the primary core checks the boot information, builds every PD's
 * stage-2 translation and initial context, sets up the interrupt
 * controller and starts the other cores; then every core sets up its own
 * interrupt interface and timer and starts scheduling its PDs.
 */
#include "arch.h"
#include "console.h"
#include "el2_config.h"
#include "kernel.h"
#include "sysreg.h"
#include "vm.h"

#include <pinion/bootinfo.h>

struct pd pds[PN_BOOT_MAX_PDS];
struct core cores[PN_BOOT_MAX_CORES];
const struct pn_bootinfo *bootinfo;
uint32_t n_pds;
uint32_t n_cores;
_Atomic uint32_t phase;

char kernel_stacks[PN_BOOT_MAX_CORES][KERNEL_STACK_SIZE]
    __attribute__((aligned(16), section(".stacks")));

extern char secondary_entry[];

static const char *check_bootinfo(const struct pn_bootinfo *b)
{
    if (b->magic != PN_BOOTINFO_MAGIC) {
        return "no boot information at its address (was the image made by pinion-image?)";
    }
    if (b->version != PN_BOOTINFO_VERSION || b->size != sizeof(struct pn_bootinfo)) {
        return "boot information of another version: rebuild the image with this kernel";
    }
    if (b->n_pds == 0 || b->n_pds > PN_BOOT_MAX_PDS) {
        return "PD count out of range";
    }
    if (b->n_cores == 0 || b->n_cores > PN_BOOT_MAX_CORES) {
        return "core count out of range";
    }
    if (b->n_mappings > PN_BOOT_MAX_MAPPINGS || b->n_irqs > PN_BOOT_MAX_IRQS) {
        return "mapping or interrupt count out of range";
    }
    if (b->free_start >= b->free_end || b->free_start < PN_PD_MEMORY_PA) {
        return "no free memory for the kernel's tables";
    }
    for (uint32_t i = 0; i < b->n_pds; i++) {
        const struct pn_boot_pd *p = &b->pds[i];
        if (p->core >= b->n_cores || p->first_mapping + p->n_mappings > b->n_mappings ||
            p->first_mapping + p->n_mappings < p->first_mapping) {
            return "a PD's core or mappings are out of range";
        }
        for (uint32_t ch = 0; ch < PN_CONFIG_MAX_CHANNELS; ch++) {
            uint32_t target = p->channels[ch].target_pd;
            if (target != PN_BOOT_NO_PD &&
                (target >= b->n_pds || p->channels[ch].target_id >= PN_CONFIG_MAX_CHANNELS)) {
                return "a channel leads to no PD";
            }
        }
    }
    const char *vm_problem = vm_check_bootinfo(b);
    if (vm_problem) {
        return vm_problem;
    }
    for (uint32_t i = 0; i < b->n_irqs; i++) {
        if (b->irqs[i].pd >= b->n_pds || b->irqs[i].channel >= PN_CONFIG_MAX_CHANNELS ||
            b->irqs[i].intid < 32 || b->irqs[i].intid > 1019) {
            return "an interrupt is out of range";
        }
    }
    return 0;
}

static void build_pd(uint32_t index)
{
    const struct pn_boot_pd *boot = &bootinfo->pds[index];
    struct pd *pd = &pds[index];
    pd->boot = boot;
    pd->name = boot->name;
    pd->index = index;
    pd->owner = boot->owner;
    pd->core = boot->core;
    pd->priority = boot->priority;
    pd->state = PD_RUNNABLE;
    pd->deferred_notify = -1;
    pd->at_line_start = true;
    uint64_t *root = stage2_new_root();
    if (root == 0) {
        kprintf("pinion: out of memory for PD \"%s\"'s stage-2 tables\n", pd->name);
        psci_system_off();
    }
    for (uint32_t m = 0; m < boot->n_mappings; m++) {
        const struct pn_boot_mapping *map = &bootinfo->mappings[boot->first_mapping + m];
        const char *why;
        if (!stage2_map(root, map->ipa, map->pa, map->size, map->rights, map->attr, &why)) {
            kprintf("pinion: PD \"%s\": cannot map IPA 0x%lx -> PA 0x%lx (%lu bytes): %s\n",
                    pd->name, map->ipa, map->pa, map->size, why);
            psci_system_off();
        }
    }
    pd->stage2_root = root;
    pd->vttbr = ((uint64_t)(index + 1) << 48) | (uint64_t)(uintptr_t)root; /* VMID: index + 1 */
    pd->ctx.elr = boot->entry;
    pd->ctx.spsr = SPSR_EL1H_MASKED;
    pd->ctx.sp_el1 = boot->stack_top;
    pd->hcr = HCR_NATIVE_PD;
    pd->sctlr_el1 = SCTLR_EL1_RES1;
}

static void primary_boot(void)
{
    console_init();
    bootinfo = (const struct pn_bootinfo *)(uintptr_t)PN_BOOTINFO_PA;
    const char *problem = check_bootinfo(bootinfo);
    if (problem) {
        kprintf("pinion: boot information invalid: %s\n", problem);
        psci_system_off();
    }
    n_pds = bootinfo->n_pds;
    n_cores = bootinfo->n_cores;
    kprintf("pinion: kernel up; system \"%s\": %u PDs on %u core%s\n", bootinfo->system, n_pds,
            n_cores, n_cores == 1 ? "" : "s");
    mmu_build_el2();
    mmu_enable_el2();
    stage2_init(bootinfo->free_start, bootinfo->free_end);
    for (uint32_t i = 0; i < n_pds; i++) {
        build_pd(i);
    }
    for (uint32_t i = 0; i < n_pds; i++) {
        notify_resolve_channels(&pds[i]);
    }
    counters_set_phase(0);
    gic_init_distributor();
    vm_build_all();
    for (uint32_t i = 0; i < n_cores; i++) {
        cores[i].index = i;
        sched_init_core(&cores[i]);
    }
    irq_setup_devices();
    gic_route_spi(UART_INTID, 0, false);
    console_enable_rx_interrupt();
    for (uint32_t i = 1; i < n_cores; i++) {
        int64_t err = psci_cpu_on(core_mpidr(i), (uint64_t)(uintptr_t)secondary_entry, i);
        if (err != 0) {
            kprintf("pinion: the placement uses %u cores but core %u did not start (PSCI "
                    "error %d): run QEMU with -smp %u or more\n",
                    n_cores, i, (int)err, n_cores);
            psci_system_off();
        }
    }
}

static void setup_core(struct core *c)
{
    write_sysreg(cptr_el2, CPTR_EL2_RES1 | CPTR_EL2_TFP);
    write_sysreg(hcr_el2, HCR_NATIVE_PD);
    write_sysreg(sctlr_el1, SCTLR_EL1_RES1);
    stage2_enable_cpu();
    if (!gic_init_cpu(c->index)) {
        kprintf("pinion: core %u has no GIC redistributor\n", c->index);
        psci_system_off();
    }
    timer_init_cpu();
    vm_setup_core(c);
    isb();
}

_Noreturn void kernel_main(uint32_t index)
{
    struct core *c = &cores[index];
    c->index = index;
    c->stack_top = (uint64_t)(uintptr_t)kernel_stacks[index] + KERNEL_STACK_SIZE;
    write_sysreg(tpidr_el2, c);
    if (index == 0) {
        primary_boot();
    } else {
        mmu_enable_el2();
    }
    setup_core(c);
    c->online = true;
    schedule(c);
    kernel_exit();
}

/*
 * Other cores pick the new phase up at their next event; events that race
 * with the switch land in either phase, as instructions do.
 */
void counters_set_phase(uint32_t p)
{
    atomic_store_explicit(&phase, p, memory_order_relaxed);
    for (uint32_t i = 0; i < PN_BOOT_MAX_CORES; i++) {
        cores[i].events = cores[i].counters[p].events;
    }
}

_Noreturn void panic(const char *why)
{
    kprintf("pinion: kernel panic on core %u: %s\n", this_core()->index, why);
    psci_system_off();
}

void kernel_trap(uint64_t kind, uint64_t esr, uint64_t elr, uint64_t far)
{
    kprintf("pinion: kernel trap %lu on core %u: ESR 0x%lx ELR 0x%lx FAR 0x%lx\n", kind,
            this_core()->index, esr, elr, far);
    psci_system_off();
}
