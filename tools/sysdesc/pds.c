/*
 * Protection domains: the "components" and "vms" arrays, with each
 * component's IRQs and each PD's params.
 */
#include "sd_internal.h"

#include <stdio.h>
#include <string.h>

static const char *const component_fields[] = {
    "name", "kind", "program", "priority", "core", "irqs", "params", NULL,
};

static const char *const vm_fields[] = {
    "name",     "vcpus",   "priority", "memory", "kernel",         "initrd",
    "bootargs", "devices", "core",     "params", "channel_driver", "regions_in_guest_ram",
    NULL,
};

static const char *const irq_fields[] = {"name", "irq", "id", "trigger", NULL};

/* Component kinds a description may name; VMs get SD_KIND_VM by being in "vms". */
static const enum sd_pd_kind component_kinds[] = {
    SD_KIND_DRIVER, SD_KIND_MULTIPLEXER, SD_KIND_COPIER, SD_KIND_CLIENT,
    SD_KIND_LOAD,   SD_KIND_ACCOUNTING,  SD_KIND_TEST,
};

#define N_COMPONENT_KINDS (sizeof component_kinds / sizeof component_kinds[0])

/* Takes the next PD slot and checks what every PD has in common: name, priority, core. */
static struct sd_pd *start_pd(struct sd_ctx *ctx, const char *array, size_t index,
                              const json_t *element, const char *const *fields)
{
    struct sd_system *sys = ctx->sys;
    char label[SD_LABEL_MAX];
    sd_label_element(label, sizeof label, array, index, element);
    if (!json_is_object(element)) {
        sd_fail(ctx, "%s must be an object, not %s", label, sd_json_type_name(element));
        return NULL;
    }
    if (sys->n_pds == SD_MAX_PDS) {
        sd_fail(ctx, "%s: more than %d protection domains (components and VMs together)", label,
                SD_MAX_PDS);
        return NULL;
    }
    if (!sd_check_fields(ctx, label, element, fields)) {
        return NULL;
    }
    struct sd_pd *pd = &sys->pds[sys->n_pds];
    if (!sd_get_name(ctx, label, element, "name", true, pd->name, NULL)) {
        return NULL;
    }
    int other = sd_find_pd(sys, pd->name);
    if (other >= 0) {
        sd_fail(ctx, "%s: duplicate PD name \"%s\" (also %s)", label, pd->name,
                ctx->pd[other].label);
        return NULL;
    }
    long long priority = 0, core = -1;
    if (!sd_get_int(ctx, label, element, "priority", true, 0, SD_MAX_PRIORITY, &priority, NULL) ||
        !sd_get_int(ctx, label, element, "core", false, 0, SD_MAX_CORES - 1, &core, NULL)) {
        return NULL;
    }
    pd->priority = (uint32_t)priority;
    pd->core = (int)core;
    snprintf(ctx->pd[sys->n_pds].label, sizeof ctx->pd[0].label, "%s", label);
    return pd;
}

static bool parse_params_field(struct sd_ctx *ctx, const json_t *element, struct sd_pd *pd)
{
    const char *label = ctx->pd[ctx->sys->n_pds].label;
    json_t *params;
    if (!sd_get_value(ctx, label, element, "params", false, JSON_OBJECT, &params)) {
        return false;
    }
    return params == NULL || sd_parse_params(ctx, label, params, pd->params, &pd->n_params);
}

/*
 * Where IRQ number `irq` is already taken in the system, for the duplicate
 * message. The PD being parsed is not counted in n_pds yet, so it is
 * searched too: its IRQs so far are already in place.
 */
static bool find_irq(const struct sd_system *sys, uint32_t irq, int *pd_out, int *index_out)
{
    for (uint32_t p = 0; p <= sys->n_pds && p < SD_MAX_PDS; p++) {
        const struct sd_pd *pd = &sys->pds[p];
        for (uint32_t i = 0; i < pd->n_irqs; i++) {
            if (pd->irqs[i].irq == irq) {
                *pd_out = (int)p;
                *index_out = (int)i;
                return true;
            }
        }
    }
    return false;
}

static bool parse_irq(struct sd_ctx *ctx, struct sd_pd *pd, size_t index, const json_t *element)
{
    int pd_index = (int)ctx->sys->n_pds;
    struct sd_pd_state *state = &ctx->pd[pd_index];
    char where[SD_WHERE_MAX], label[SD_LABEL_MAX];
    sd_label_element(label, sizeof label, "irqs", index, element);
    snprintf(where, sizeof where, "%s: %s", state->label, label);
    if (!json_is_object(element)) {
        return sd_fail(ctx, "%s must be an object, not %s", where, sd_json_type_name(element));
    }
    if (!sd_check_fields(ctx, where, element, irq_fields)) {
        return false;
    }
    struct sd_irq *irq = &pd->irqs[pd->n_irqs];
    if (!sd_get_name(ctx, where, element, "name", true, irq->name, NULL)) {
        return false;
    }
    for (uint32_t i = 0; i < pd->n_irqs; i++) {
        if (strcmp(pd->irqs[i].name, irq->name) == 0) {
            return sd_fail(ctx,
                           "%s: duplicate local channel name \"%s\" at PD \"%s\" (also irqs[%u])",
                           where, irq->name, pd->name, i);
        }
    }
    long long number = 0, id = 0;
    bool has_id;
    if (!sd_get_int(ctx, where, element, "irq", true, 32, 1019, &number, NULL) ||
        !sd_get_int(ctx, where, element, "id", false, 0, PN_CONFIG_MAX_CHANNELS - 1, &id,
                    &has_id)) {
        return false;
    }
    irq->irq = (uint32_t)number;
    int other_pd, other_irq;
    if (find_irq(ctx->sys, irq->irq, &other_pd, &other_irq)) {
        return sd_fail(ctx, "%s: irq %u is already used by %s: irqs[%d] \"%s\"", where, irq->irq,
                       ctx->pd[other_pd].label, other_irq,
                       ctx->sys->pds[other_pd].irqs[other_irq].name);
    }
    if (has_id) {
        struct sd_owner *owner = &state->id_owner[id];
        if (owner->kind != SD_OWNER_NONE) {
            char other[SD_WHERE_MAX];
            sd_describe_owner(ctx, pd_index, *owner, other, sizeof other);
            return sd_fail(ctx, "%s: id %lld at PD \"%s\" is already used by %s", where, id,
                           pd->name, other);
        }
        *owner = (struct sd_owner){.kind = SD_OWNER_IRQ, .index = (int)pd->n_irqs};
        irq->id = (uint32_t)id;
        state->irq_id_given[pd->n_irqs] = true;
    }
    json_t *trigger;
    if (!sd_get_value(ctx, where, element, "trigger", false, JSON_STRING, &trigger)) {
        return false;
    }
    if (trigger != NULL) {
        if (sd_json_string_is(trigger, "edge")) {
            irq->edge = true;
        } else if (!sd_json_string_is(trigger, "level")) {
            char shown[48];
            sd_quote(shown, sizeof shown, json_string_value(trigger), json_string_length(trigger));
            return sd_fail(ctx, "%s: trigger %s must be \"level\" or \"edge\"", where, shown);
        }
    }
    pd->n_irqs++;
    return true;
}

static bool parse_irqs(struct sd_ctx *ctx, const json_t *element, struct sd_pd *pd)
{
    const char *label = ctx->pd[ctx->sys->n_pds].label;
    json_t *irqs;
    if (!sd_get_value(ctx, label, element, "irqs", false, JSON_ARRAY, &irqs)) {
        return false;
    }
    if (irqs == NULL) {
        return true;
    }
    if (json_array_size(irqs) > PN_CONFIG_MAX_CHANNELS) {
        return sd_fail(ctx, "%s: more than %d irqs (channel ids 0..%d)", label,
                       PN_CONFIG_MAX_CHANNELS, PN_CONFIG_MAX_CHANNELS - 1);
    }
    size_t index;
    json_t *irq;
    json_array_foreach(irqs, index, irq)
    {
        if (!parse_irq(ctx, pd, index, irq)) {
            return false;
        }
    }
    return true;
}

static bool parse_kind(struct sd_ctx *ctx, const json_t *element, struct sd_pd *pd)
{
    const char *label = ctx->pd[ctx->sys->n_pds].label;
    json_t *kind;
    if (!sd_get_value(ctx, label, element, "kind", true, JSON_STRING, &kind)) {
        return false;
    }
    for (size_t i = 0; i < N_COMPONENT_KINDS; i++) {
        if (strcmp(json_string_value(kind), sd_kind_name(component_kinds[i])) == 0) {
            pd->kind = component_kinds[i];
            return true;
        }
    }
    char shown[48];
    sd_quote(shown, sizeof shown, json_string_value(kind), json_string_length(kind));
    if (strcmp(json_string_value(kind), sd_kind_name(SD_KIND_VM)) == 0) {
        return sd_fail(ctx, "%s: kind \"vm\" is not one of the component kinds: VMs go in \"vms\"",
                       label);
    }
    return sd_fail(ctx,
                   "%s: kind %s is not one of driver, multiplexer, copier, client, load, "
                   "accounting, test",
                   label, shown);
}

bool sd_parse_components(struct sd_ctx *ctx, const json_t *components)
{
    size_t index;
    json_t *element;
    json_array_foreach(components, index, element)
    {
        struct sd_pd *pd = start_pd(ctx, "components", index, element, component_fields);
        if (pd == NULL) {
            return false;
        }
        const char *label = ctx->pd[ctx->sys->n_pds].label;
        if (!parse_kind(ctx, element, pd) ||
            !sd_get_string(ctx, label, element, "program", true, false, pd->program,
                           sizeof pd->program, NULL) ||
            !parse_irqs(ctx, element, pd) || !parse_params_field(ctx, element, pd)) {
            return false;
        }
        ctx->sys->n_pds++;
    }
    return true;
}

static bool parse_devices(struct sd_ctx *ctx, const json_t *element, struct sd_vm *vm)
{
    const char *label = ctx->pd[ctx->sys->n_pds].label;
    json_t *devices;
    if (!sd_get_value(ctx, label, element, "devices", false, JSON_ARRAY, &devices)) {
        return false;
    }
    if (devices == NULL) {
        return true;
    }
    if (json_array_size(devices) > SD_MAX_VM_DEVICES) {
        return sd_fail(ctx, "%s: more than %d devices", label, SD_MAX_VM_DEVICES);
    }
    size_t index;
    json_t *device;
    json_array_foreach(devices, index, device)
    {
        char what[32];
        snprintf(what, sizeof what, "devices[%zu]", index);
        if (!json_is_string(device)) {
            return sd_fail(ctx, "%s: %s must be a string, not %s", label, what,
                           sd_json_type_name(device));
        }
        if (!sd_check_name(ctx, label, what, json_string_value(device),
                           json_string_length(device))) {
            return false;
        }
        for (uint32_t i = 0; i < vm->n_devices; i++) {
            if (strcmp(vm->devices[i], json_string_value(device)) == 0) {
                return sd_fail(ctx, "%s: %s \"%s\" is listed twice", label, what, vm->devices[i]);
            }
        }
        sd_copy_name(vm->devices[vm->n_devices], json_string_value(device));
        vm->n_devices++;
    }
    return true;
}

/*
 * Which guest driver takes the VM's channels: "uio" (the default; a bridge
 * program in user space) or "kernel" (pinion's in-kernel drivers).
 */
static bool parse_channel_driver(struct sd_ctx *ctx, const char *where, const json_t *element,
                                 struct sd_vm *vm)
{
    json_t *value;
    if (!sd_get_value(ctx, where, element, "channel_driver", false, JSON_STRING, &value)) {
        return false;
    }
    if (value == NULL || sd_json_string_is(value, "uio")) {
        vm->channel_driver = SD_CHANNEL_DRIVER_UIO;
        return true;
    }
    if (sd_json_string_is(value, "kernel")) {
        vm->channel_driver = SD_CHANNEL_DRIVER_KERNEL;
        return true;
    }
    char shown[48];
    sd_quote(shown, sizeof shown, json_string_value(value), json_string_length(value));
    return sd_fail(ctx, "%s: channel_driver %s must be \"uio\" or \"kernel\"", where, shown);
}

/*
 * Whether the regions the VM maps are also in its guest's memory map: then
 * Linux has pages for them (a device can be handed a frame in them) and
 * maps them cacheable, which only pinion's in-kernel drivers expect (UIO
 * would map the same memory uncached: mismatched attributes).
 */
static bool parse_regions_in_guest_ram(struct sd_ctx *ctx, const char *where, const json_t *element,
                                       struct sd_vm *vm)
{
    json_t *value;
    if (!sd_get_value(ctx, where, element, "regions_in_guest_ram", false, SD_ANY_TYPE, &value)) {
        return false;
    }
    if (value == NULL) {
        vm->regions_in_guest_ram = false;
        return true;
    }
    if (!json_is_boolean(value)) {
        return sd_fail(ctx, "%s: field \"regions_in_guest_ram\" must be a boolean, not %s", where,
                       sd_json_type_name(value));
    }
    vm->regions_in_guest_ram = json_is_true(value);
    if (vm->regions_in_guest_ram && vm->channel_driver != SD_CHANNEL_DRIVER_KERNEL) {
        return sd_fail(
            ctx,
            "%s: regions_in_guest_ram needs \"channel_driver\": \"kernel\" (UIO maps the "
            "regions uncached, Linux's memory map cached)",
            where);
    }
    return true;
}

bool sd_parse_vms(struct sd_ctx *ctx, const json_t *vms)
{
    size_t index;
    json_t *element;
    json_array_foreach(vms, index, element)
    {
        struct sd_pd *pd = start_pd(ctx, "vms", index, element, vm_fields);
        if (pd == NULL) {
            return false;
        }
        const char *label = ctx->pd[ctx->sys->n_pds].label;
        struct sd_vm *vm = &pd->vm;
        long long vcpus = 0;
        pd->kind = SD_KIND_VM;
        if (!sd_get_int(ctx, label, element, "vcpus", true, 1, SD_MAX_VCPUS, &vcpus, NULL) ||
            !sd_get_size(ctx, label, element, "memory", true, &vm->memory, NULL) ||
            !sd_get_string(ctx, label, element, "kernel", true, false, vm->kernel,
                           sizeof vm->kernel, NULL) ||
            !sd_get_string(ctx, label, element, "initrd", false, true, vm->initrd,
                           sizeof vm->initrd, NULL) ||
            !sd_get_string(ctx, label, element, "bootargs", false, true, vm->bootargs,
                           sizeof vm->bootargs, NULL) ||
            !parse_devices(ctx, element, vm) || !parse_channel_driver(ctx, label, element, vm) ||
            !parse_regions_in_guest_ram(ctx, label, element, vm) ||
            !parse_params_field(ctx, element, pd)) {
            return false;
        }
        vm->vcpus = (uint32_t)vcpus;
        ctx->sys->n_pds++;
    }
    return true;
}
