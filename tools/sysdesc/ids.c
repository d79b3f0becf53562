/*
 * Channel ids. IRQs and channel ends share one id space per PD (0..62), as
 * in Microkit. Ids written in the description are taken while parsing;
 * this pass gives the rest the lowest id still free at their PD: first the
 * IRQs, PD by PD, then the channel ends in file order. The order is fixed
 * so that the same description always yields the same ids.
 */
#include "sd_internal.h"

#include <stdio.h>

static int take_lowest_free(struct sd_pd_state *state, struct sd_owner owner)
{
    for (int id = 0; id < PN_CONFIG_MAX_CHANNELS; id++) {
        if (state->id_owner[id].kind == SD_OWNER_NONE) {
            state->id_owner[id] = owner;
            return id;
        }
    }
    return -1;
}

bool sd_assign_ids(struct sd_ctx *ctx)
{
    struct sd_system *sys = ctx->sys;
    for (uint32_t p = 0; p < sys->n_pds; p++) {
        struct sd_pd *pd = &sys->pds[p];
        for (uint32_t i = 0; i < pd->n_irqs; i++) {
            if (ctx->pd[p].irq_id_given[i]) {
                continue;
            }
            int id = take_lowest_free(&ctx->pd[p],
                                      (struct sd_owner){.kind = SD_OWNER_IRQ, .index = (int)i});
            /* Parsing capped IRQs plus channel ends at PN_CONFIG_MAX_CHANNELS. */
            if (id < 0) {
                return sd_fail(ctx, "%s: ran out of channel ids", ctx->pd[p].label);
            }
            pd->irqs[i].id = (uint32_t)id;
        }
    }
    for (uint32_t c = 0; c < sys->n_channels; c++) {
        for (int end = 0; end < 2; end++) {
            struct sd_channel_end *this_end = &sys->channels[c].ends[end];
            if (ctx->end_id_given[c][end]) {
                continue;
            }
            int id = take_lowest_free(
                &ctx->pd[this_end->pd],
                (struct sd_owner){.kind = SD_OWNER_END, .index = (int)c, .end = end});
            if (id < 0) {
                return sd_fail(ctx, "channels[%u] \"%s\": end %d: ran out of channel ids", c,
                               sys->channels[c].name, end);
            }
            this_end->id = (uint32_t)id;
        }
    }
    return true;
}

void sd_describe_owner(const struct sd_ctx *ctx, int pd, struct sd_owner owner, char *out,
                       size_t size)
{
    const struct sd_system *sys = ctx->sys;
    switch (owner.kind) {
    case SD_OWNER_IRQ:
        snprintf(out, size, "irqs[%d] \"%s\"", owner.index, sys->pds[pd].irqs[owner.index].name);
        break;
    case SD_OWNER_END:
        snprintf(out, size, "channels[%d] \"%s\" end %d", owner.index,
                 sys->channels[owner.index].name, owner.end);
        break;
    case SD_OWNER_NONE:
        snprintf(out, size, "nothing");
        break;
    }
}
