/*
 * place's inputs and model: every board's device tree as the topology it
 * describes; profiles (the shipped ones load, a cost without its source
 * does not, loads parse); the system-to-problem step (entities, vCPUs,
 * inert PDs, flows, missing work); measured work from a summary.json; and
 * the model's equations on cases small enough to check by hand.
 */
#define _POSIX_C_SOURCE 200809L

#include "check.h"
#include "constraints.h"
#include "solve.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#ifndef PINION_SOURCE_DIR
#error "the build defines PINION_SOURCE_DIR, the repository root"
#endif

#define NEAR(a, b, tolerance) CHECK(fabs((a) - (b)) <= (tolerance))

static struct pl_topology topo;
static struct pl_profile profile;
static struct pl_problem problem;
static struct pl_result result;

static const char *boards = PINION_SOURCE_DIR "/boards";

static void test_boards(void)
{
    struct sd_error err;
    CHECK(pl_board_load(boards, "imx8mm-evk", &topo, &err));
    CHECK_EQ(topo.n_cores, 4);
    CHECK_EQ(topo.n_clusters, 1);
    CHECK_EQ(topo.cores[3].mhz, 1800);
    CHECK(strcmp(topo.cores[0].type, "arm,cortex-a53") == 0);
    CHECK_EQ(topo.cores[0].l2_bytes, 512 * 1024);
    CHECK_EQ(topo.cores[0].l1d_bytes, 32 * 1024);

    CHECK(pl_board_load(boards, "rk3399", &topo, &err));
    CHECK_EQ(topo.n_cores, 6);
    CHECK_EQ(topo.n_clusters, 2);
    CHECK_EQ(topo.cores[0].cluster, 0);
    CHECK_EQ(topo.cores[4].cluster, 1);
    CHECK_EQ(topo.cores[0].capacity, 485);
    CHECK_EQ(topo.cores[5].capacity, 1024);
    CHECK_EQ(topo.cores[5].mhz, 1800);
    CHECK(strcmp(topo.cores[4].type, "arm,cortex-a72") == 0);
    CHECK_EQ(topo.cores[4].l2_bytes, 1024 * 1024);

    CHECK(pl_board_load(boards, "qemu-virt-aarch64", &topo, &err));
    CHECK_EQ(topo.n_cores, 8);
    CHECK_EQ(topo.n_clusters, 1);
    CHECK_EQ(topo.cores[0].mhz, 0); /* QEMU describes no clock: the profile gives one */
    CHECK(pl_topology_restrict(&topo, 2, &err));
    CHECK_EQ(topo.n_cores, 2);
    CHECK(!pl_topology_restrict(&topo, 3, &err));
    CHECK_STR_CONTAINS(err.message, "--cores 3: qemu-virt-aarch64 has 2 cores");

    CHECK(pl_board_load(boards, "rpi4b", &topo, &err) && topo.n_cores == 4);
    CHECK(pl_board_load(boards, "odroidc4", &topo, &err) && topo.cores[0].mhz == 1908);

    CHECK(!pl_board_load(boards, "nosuch", &topo, &err));
    CHECK_STR_CONTAINS(err.message, "--board nosuch: no such board");
    CHECK_STR_CONTAINS(err.message,
                       "boards: imx8mm-evk, odroidc4, qemu-virt-aarch64, rk3399, rpi4b");
    CHECK(!pl_board_load(boards, "../boards", &topo, &err));
    CHECK_STR_CONTAINS(err.message, "no such board");
}

static void test_device_tree_forms(void)
{
    struct sd_error err;
    /* No cpu-map: cores that share a cache node are a cluster. */
    CHECK(pl_board_load(PINION_SOURCE_DIR "/tests/data/place", "two-caches", &topo, &err));
    CHECK_EQ(topo.n_cores, 3);
    CHECK_EQ(topo.n_clusters, 2);
    CHECK_EQ(topo.cores[0].cluster, topo.cores[1].cluster);
    CHECK(topo.cores[2].cluster != topo.cores[0].cluster);
    /* A tree without cpus, and a file that is no tree. */
    CHECK(!pl_board_load(PINION_SOURCE_DIR "/tests/data/place", "no-cpus", &topo, &err));
    CHECK_STR_CONTAINS(err.message, "no /cpus node");
    CHECK(!pl_dtb_load(PINION_SOURCE_DIR "/tests/data/place/vm-profile.json", &topo, &err));
    CHECK_STR_CONTAINS(err.message, "not a device tree blob");
    CHECK(!pl_board_load(PINION_SOURCE_DIR "/tests/data/place", "broken", &topo, &err));
    CHECK_STR_CONTAINS(err.message, "dtc cannot compile it");
}

static void test_profiles(void)
{
    static const char *const names[] = {"imx8mm-evk",        "rpi4b", "odroidc4", "rk3399",
                                        "qemu-virt-aarch64", "host"};
    struct sd_error err;
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        char path[512];
        snprintf(path, sizeof path, "%s/%s/profile.json", boards, names[i]);
        bool ok = pl_profile_load(path, "sddf-echo-imx8mm", &profile, &err);
        if (!ok) {
            fprintf(stderr, "%s\n", err.message);
        }
        CHECK(ok);
    }
    /* qemu counts instructions at one cycle each; i.MX8MM's echo section is there. */
    CHECK(pl_profile_load(PINION_SOURCE_DIR "/boards/imx8mm-evk/profile.json", "sddf-echo-imx8mm",
                          &profile, &err));
    CHECK(profile.has_system);
    CHECK_EQ(profile.n_work, 12);
    CHECK_EQ(profile.n_flows, 1);
    NEAR(profile.events.notify_same_core, 893, 1e-9);
    NEAR(profile.default_rate, 500e6 / 11776, 1e-6);
    CHECK(profile.smp.present);

    CHECK(!pl_profile_load(PINION_SOURCE_DIR "/tests/data/place/no-source-profile.json", "x",
                           &profile, &err));
    CHECK_STR_CONTAINS(err.message, "events.vm_exit: missing required field \"source\"");
    CHECK(!pl_profile_load("/nonexistent/profile.json", "x", &profile, &err));
    CHECK_STR_CONTAINS(err.message, "/nonexistent/profile.json: cannot read");

    double rate;
    CHECK(pl_profile_load(PINION_SOURCE_DIR "/tests/data/place/vm-profile.json", "vm-echo",
                          &profile, &err));
    CHECK(pl_parse_load("120Mb/s", &profile, &rate, &err));
    NEAR(rate, 10000, 1e-9);
    CHECK(pl_parse_load("1.2Gb/s", &profile, &rate, &err));
    NEAR(rate, 100000, 1e-6);
    CHECK(pl_parse_load("5000/s", &profile, &rate, &err) && rate == 5000);
    CHECK(pl_parse_load("5k/s", &profile, &rate, &err) && rate == 5000);
    CHECK(!pl_parse_load("fast", &profile, &rate, &err));
    CHECK_STR_CONTAINS(err.message, "not a positive number");
    CHECK(!pl_parse_load("5MB/s", &profile, &rate, &err));
    CHECK_STR_CONTAINS(err.message, "unknown unit \"MB/s\"");
}

static bool build(const char *system_file, const char *profile_file, struct sd_system *sys,
                  struct sd_error *err)
{
    if (!sd_load_file(system_file, sys, err) ||
        !pl_profile_load(profile_file, sys->name, &profile, err) ||
        !pl_board_load(boards, "imx8mm-evk", &topo, err)) {
        return false;
    }
    pl_problem_init(&problem);
    if (!pl_problem_from_system(&problem, sys, &profile, err) ||
        !pl_machine_from_topology(&problem.machine, &topo, &profile, err)) {
        return false;
    }
    pl_costs_from_profile(&problem.costs, &profile);
    problem.load = profile.default_rate;
    pl_problem_finish(&problem);
    return true;
}

static void test_problem_from_system(void)
{
    struct sd_system *sys = sd_system_new();
    struct sd_error err;
    bool ok = build(PINION_SOURCE_DIR "/systems/sddf-echo-imx8mm.json",
                    PINION_SOURCE_DIR "/boards/imx8mm-evk/profile.json", sys, &err);
    if (!ok) {
        fprintf(stderr, "%s\n", err.message);
    }
    CHECK(ok);
    CHECK_EQ(problem.n_entities, 12);
    int inert = 0;
    for (uint32_t i = 0; i < problem.n_entities; i++) {
        inert += problem.entities[i].inert;
    }
    CHECK_EQ(inert, 7);
    int driver = pl_entity_find(&problem, "ethernet_driver");
    CHECK(driver >= 0 && problem.entities[driver].visits == 2);
    CHECK_EQ(problem.n_flows, 1);
    CHECK_EQ(problem.n_edges, 5); /* the active path only; idle channels carry nothing */
    int copier = pl_entity_find(&problem, "client0_net_copier");
    NEAR(problem.entities[copier].work, 1472 * 1.653, 1e-6);
    /* Every PD's speed: 1800 MHz, the reference type. */
    NEAR(problem.machine.speed[0], 1.8e9, 1);

    /* A VM is one entity per vCPU, its work shared between them. */
    ok = build(PINION_SOURCE_DIR "/tests/data/place/vm-system.json",
               PINION_SOURCE_DIR "/tests/data/place/vm-profile.json", sys, &err);
    CHECK(ok);
    CHECK_EQ(problem.n_entities, 4);
    int vcpu1 = pl_entity_find(&problem, "netvm/vcpu1");
    CHECK(vcpu1 >= 0 && problem.entities[vcpu1].is_vm);
    NEAR(problem.entities[vcpu1].work, (30000 + 2 * 1500) / 2.0, 1e-9);
    CHECK_EQ(problem.flows[0].hop[0], pl_entity_find(&problem, "netvm/vcpu0"));

    /* A PD the profile has no work for: one message naming it and where to add it. */
    ok = build(PINION_SOURCE_DIR "/systems/pipeline.json",
               PINION_SOURCE_DIR "/boards/imx8mm-evk/profile.json", sys, &err);
    CHECK(!ok);
    CHECK_STR_CONTAINS(err.message, "has no work for PD \"producer\" of system \"pipeline\"");
    CHECK_STR_CONTAINS(err.message, "programs.\"pipeline_producer\"");
    sd_system_free(sys);
}

static void test_measured(void)
{
    struct sd_system *sys = sd_system_new();
    struct sd_error err;
    CHECK(sd_load_file(PINION_SOURCE_DIR "/systems/pipeline.json", sys, &err));
    CHECK(
        pl_profile_load(PINION_SOURCE_DIR "/boards/host/profile.json", sys->name, &profile, &err));
    const char *summary = PINION_SOURCE_DIR "/tests/data/place/pipeline-summary.json";
    CHECK(pl_measured_load(summary, "total", "200000", false, sys, &profile, &err));
    CHECK_EQ(profile.n_work, 4);
    for (uint32_t i = 0; i < profile.n_work; i++) {
        if (strcmp(profile.work[i].name, "mux") == 0) {
            NEAR(profile.work[i].work, 47458237 / 200000.0, 1e-9);
            CHECK_STR_CONTAINS(profile.work[i].source, "user instructions / 200000 I/Os");
        }
    }
    CHECK(pl_measured_load(summary, "total", "mux.forwarded", true, sys, &profile, &err));
    CHECK(!pl_measured_load(summary, "7", "200000", false, sys, &profile, &err));
    CHECK_STR_CONTAINS(err.message, "no per-PD counts for phase \"7\"");
    CHECK(!pl_measured_load(summary, "total", "mux.nothing", false, sys, &profile, &err));
    CHECK_STR_CONTAINS(err.message, "pd_counters has no positive counter \"nothing\"");
    CHECK(!pl_measured_load(summary, "total", "-3", false, sys, &profile, &err));
    CHECK_STR_CONTAINS(err.message, "must be a positive count");
    sd_system_free(sys);
}

/* Two entities, one channel each way: small enough to follow by hand. */
static void two_entities(double load)
{
    pl_problem_init(&problem);
    problem.machine.n_cores = 2;
    problem.machine.n_clusters = 1;
    for (int c = 0; c < 2; c++) {
        problem.machine.speed[c] = 1e9;
        snprintf(problem.machine.label[c], PL_NAME_MAX, "core");
    }
    problem.machine.line_ns[0][1] = problem.machine.line_ns[1][0] = 50;
    struct pl_events *ev = &problem.costs.events;
    ev->notify_same_core = 1000;
    ev->cross_core_notify = 500;
    ev->cross_core_sgi = 300;
    ev->cross_core_receive = 700;
    ev->sgi_flight = 400;
    problem.costs.shape = 2;
    problem.costs.window = 10;
    problem.n_entities = 2;
    for (int i = 0; i < 2; i++) {
        snprintf(problem.entities[i].name, PL_NAME_MAX, "e%d", i);
        problem.entities[i].work = 10000;
        problem.entities[i].activation = 2000;
    }
    problem.edges[0] = (struct pl_edge){.from = 0, .to = 1, .channel = 0, .rate = 1, .lines = 2};
    problem.edges[1] = (struct pl_edge){.from = 1, .to = 0, .channel = 1, .rate = 1, .lines = 2};
    problem.n_edges = 2;
    problem.n_flows = 1;
    problem.flows[0] = (struct pl_flow){.share = 1, .n = 3, .hop = {0, 1, 0}};
    problem.load = load;
    pl_problem_finish(&problem);
}

static void test_model_by_hand(void)
{
    CHECK(fabs(pl_batching_factor(&(struct pl_costs){.shape = 2, .window = 10}, 0.5) - 0.25) <
          1e-12);
    CHECK(fabs(pl_batching_factor(&(struct pl_costs){.shape = 2, .window = 10}, 0.9) - 0.1) <
          1e-12);
    CHECK(pl_batching_factor(&(struct pl_costs){.shape = 2, .window = 10}, 1.5) == 0.1);

    /* One core: U = load (20000 + 2 n(U) (1000 + 2000)) / 1e9, n = (1 - U)^2. */
    two_entities(20000);
    struct pl_layout layout = {.core = {0, 0}};
    pl_evaluate(&problem, &layout, NULL, true, &result);
    double u = result.core[0].util, n = (1 - u) * (1 - u);
    NEAR(u, 20000 * (20000 + 2 * n * 3000) / 1e9, 1e-9);
    CHECK(result.stable && result.cores_used == 1);
    NEAR(result.notifications[0], n, 1e-9);
    CHECK(result.sgis[0] == 0);
    /* Latency: work per visit (entity 0 visited twice), two switches, one queueing stretch. */
    double service = (10000 + n * 2000) / 2 * 2 + (10000 + n * 2000);
    NEAR(result.flow[0].service_ns, service, 1e-6);
    NEAR(result.flow[0].switch_ns, 2 * 1000, 1e-9);
    NEAR(result.flow[0].queue_ns, u * u / (20000 * (1 - u)) * 1e9, 1e-6);
    /* Throughput: the load at which the core is exactly busy. */
    problem.load = result.throughput;
    pl_evaluate(&problem, &layout, NULL, false, &result);
    NEAR(result.max_util, 1, 1e-7);

    /* Two cores, end of handler: an SGI per notification (each wakes its sender once). */
    two_entities(20000);
    struct pl_layout apart = {.core = {0, 1}};
    pl_evaluate(&problem, &apart, NULL, true, &result);
    CHECK_EQ(result.batching.policy[0], PN_BATCH_END_OF_HANDLER);
    double u0 = result.core[0].util, u1 = result.core[1].util;
    double n0 = (1 - u0) * (1 - u0), n1 = (1 - u1) * (1 - u1);
    NEAR(result.notifications[0], n1, 1e-9);
    NEAR(result.sgis[0], fmin(n1, n0), 1e-9); /* at most one SGI per wake-up of the sender */
    /* Core 0: its work, wake-ups, sending to 1, receiving from 1, lines pulled from 1. */
    double cycles0 = 10000 + n0 * 2000 + result.notifications[0] * 500 + result.sgis[0] * 300 +
                     result.sgis[1] * 700 + 2 * 50;
    NEAR(u0, 20000 * cycles0 / 1e9, 1e-9);
    /* The path crosses twice: sender, SGI, flight, receiver, lines each time. */
    NEAR(result.flow[0].cross_ns, 2 * (500 + 300 + 400 + 700 + 2 * 50), 1e-6);
    CHECK_EQ(result.flow[0].cross_hops, 2);

    /* Immediate batching as given, and a polling receiver that takes no SGI. */
    static struct pl_batching given; /* all zero: immediate */
    pl_evaluate(&problem, &apart, &given, false, &result);
    NEAR(result.sgis[0], result.notifications[0], 1e-12);
    apart.polling[1] = true;
    pl_evaluate(&problem, &apart, &given, false, &result);
    CHECK(result.sgis[0] == 0);
    CHECK(result.core[1].polling);
    CHECK(result.total_cpu >= 1);
}

static void test_constraints_file(void)
{
    struct sd_system *sys = sd_system_new();
    struct sd_error err;
    CHECK(build(PINION_SOURCE_DIR "/systems/sddf-echo-imx8mm.json",
                PINION_SOURCE_DIR "/boards/imx8mm-evk/profile.json", sys, &err));
    static struct pl_constraint_spec spec;
    memset(&spec, 0, sizeof spec);
    CHECK(pl_constraints_load(&spec, PINION_SOURCE_DIR "/tests/data/place/constraints.json", &err));
    CHECK(pl_constraints_apply(&spec, &problem, "imx8mm-evk", &err));
    int driver = pl_entity_find(&problem, "ethernet_driver");
    int copier = pl_entity_find(&problem, "client0_net_copier");
    int client = pl_entity_find(&problem, "client0");
    CHECK_EQ(problem.constraints.pin[driver], 0);
    CHECK_EQ(problem.constraints.group[copier], problem.constraints.group[client]);
    CHECK(problem.constraints.exclusive[pl_entity_find(&problem, "net_virt_tx")]);
    CHECK_EQ(problem.constraints.max_cores, 3);
    CHECK_EQ(problem.constraints.n_apart, 1);

    memset(&spec, 0, sizeof spec);
    CHECK(!pl_constraints_load(&spec, PINION_SOURCE_DIR "/tests/data/place/vm-profile.json", &err));
    CHECK_STR_CONTAINS(err.message, "unknown field \"profile\"");
    CHECK(!pl_constraints_add(&spec, "pin", "client0", &err));
    CHECK_STR_CONTAINS(err.message, "write PD=CORE");
    CHECK(!pl_constraints_add(&spec, "max-cores", "0", &err));
    CHECK(!pl_constraints_add(&spec, "apart", "a,", &err));
    CHECK_STR_CONTAINS(err.message, "a name is missing after the last comma");
    sd_system_free(sys);
}

int main(void)
{
    RUN_TEST(test_boards);
    RUN_TEST(test_device_tree_forms);
    RUN_TEST(test_profiles);
    RUN_TEST(test_problem_from_system);
    RUN_TEST(test_measured);
    RUN_TEST(test_model_by_hand);
    RUN_TEST(test_constraints_file);
    return check_exit();
}
