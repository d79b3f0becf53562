/*
 * Micro-benchmark: one PD notifies every leaf ("leaf0", "leaf1", ... as
 * connected) each round and starts the next round once all have answered,
 * for `rounds` rounds inside measurement phase 1. With the leaves on other
 * cores, the batching policy decides how many SGIs a round costs.
 */
#include <pinion/component.h>
#include <pinion/wiring.h>

#define MAX_LEAVES 16

static pn_channel leaf[MAX_LEAVES];
static uint32_t n_leaves, answered;
static uint64_t rounds, round_done;

static void start_round(void)
{
    answered = 0;
    for (uint32_t i = 0; i < n_leaves; i++) {
        pn_notify(leaf[i]);
    }
}

void init(void)
{
    rounds = pn_require_param_u64("rounds");
    char name[8] = "leaf";
    for (n_leaves = 0; n_leaves < MAX_LEAVES; n_leaves++) {
        name[4] = (char)(n_leaves < 10 ? '0' + n_leaves : 'a' + n_leaves - 10);
        name[5] = '\0';
        if (!pn_channel_named(name, &leaf[n_leaves])) {
            break;
        }
    }
    if (n_leaves == 0) {
        pn_fatal("no channel \"leaf0\": a fan-out needs leaves");
    }
    pn_phase(1);
    start_round();
}

void notified(pn_channel ch)
{
    (void)ch; /* every channel is a leaf answering */
    if (++answered < n_leaves) {
        return;
    }
    *pn_counter("rounds") = ++round_done;
    if (round_done == rounds) {
        pn_phase(2);
        pn_dbg_puts("fan-out done\n");
        return;
    }
    start_round();
}
