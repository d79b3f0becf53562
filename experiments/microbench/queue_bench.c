/*
 * queue-bench: host nanoseconds per enqueue/dequeue pair and per
 * notification, on one core and across two. A benchmark, not a test: the
 * figures depend on this host and its load, and nothing asserts them.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <hostsync.h>
#include <pinion/net_queue.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

enum { CAPACITY = 512 };

static uint64_t iterations = 10000000;
static uint64_t notify_rounds = 200000;

static double now_ns(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec * 1e9 + (double)t.tv_nsec;
}

static void *new_ring(void)
{
    void *memory = aligned_alloc(PN_CACHE_LINE, pn_net_ring_bytes(CAPACITY));
    memset(memory, 0, pn_net_ring_bytes(CAPACITY));
    return memory;
}

/* One thread pushes and pops: the cost of the operations themselves. */
static double same_core_pair_ns(void)
{
    void *ring = new_ring();
    struct pn_ring_producer p;
    struct pn_ring_consumer c;
    pn_ring_producer_attach(&p, ring, CAPACITY, sizeof(struct pn_net_desc));
    pn_ring_consumer_attach(&c, ring, CAPACITY, sizeof(struct pn_net_desc));
    pn_pin_to_cpu(0);
    struct pn_net_desc d = {.offset = 0, .len = 60}, out;
    uint64_t sum = 0;
    double t0 = now_ns();
    for (uint64_t i = 0; i < iterations; i++) {
        d.offset = i;
        pn_ring_push(&p, &d);
        pn_ring_pop(&c, &out);
        sum += out.offset;
    }
    double t1 = now_ns();
    free(ring);
    if (sum != iterations * (iterations - 1) / 2) {
        fprintf(stderr, "queue-bench: ring returned wrong items\n");
        exit(1);
    }
    return (t1 - t0) / (double)iterations;
}

struct stream {
    struct pn_ring_producer p;
    struct pn_ring_consumer c;
    int consumer_cpu;
};

static void *stream_consumer(void *arg)
{
    struct stream *s = arg;
    pn_pin_to_cpu(s->consumer_cpu);
    struct pn_net_desc d;
    for (uint64_t got = 0; got < iterations;) {
        if (pn_ring_pop(&s->c, &d) == PN_RING_OK) {
            got++;
        }
    }
    return NULL;
}

/* Producer and consumer spin on two cores: per item, with the cache lines moving. */
static double cross_core_pair_ns(void)
{
    void *ring = new_ring();
    struct stream s = {.consumer_cpu = 1};
    pn_ring_producer_attach(&s.p, ring, CAPACITY, sizeof(struct pn_net_desc));
    pn_ring_consumer_attach(&s.c, ring, CAPACITY, sizeof(struct pn_net_desc));
    pthread_t t;
    pthread_create(&t, NULL, stream_consumer, &s);
    pn_pin_to_cpu(0);
    struct pn_net_desc d = {.len = 60};
    double t0 = now_ns();
    for (uint64_t sent = 0; sent < iterations;) {
        d.offset = sent;
        if (pn_ring_push(&s.p, &d) == PN_RING_OK) {
            sent++;
        }
    }
    pthread_join(t, NULL);
    double t1 = now_ns();
    free(ring);
    return (t1 - t0) / (double)iterations;
}

struct pingpong {
    struct pn_host_signal to_a, to_b;
    int cpu_b;
};

static void *pong(void *arg)
{
    struct pingpong *pp = arg;
    pn_pin_to_cpu(pp->cpu_b);
    for (uint64_t i = 0; i < notify_rounds; i++) {
        pn_host_signal_wait(&pp->to_b);
        pn_host_signal_raise(&pp->to_a);
    }
    return NULL;
}

/* A notification and the wake-up it causes: half a ping-pong round trip. */
static double notification_ns(int cpu_b)
{
    struct pingpong pp = {.cpu_b = cpu_b};
    pthread_t t;
    pthread_create(&t, NULL, pong, &pp);
    pn_pin_to_cpu(0);
    double t0 = now_ns();
    for (uint64_t i = 0; i < notify_rounds; i++) {
        pn_host_signal_raise(&pp.to_b);
        pn_host_signal_wait(&pp.to_a);
    }
    double t1 = now_ns();
    pthread_join(t, NULL);
    return (t1 - t0) / (double)notify_rounds / 2.0;
}

static void usage(FILE *to)
{
    fprintf(to, "usage: queue-bench [--iterations N] [--rounds N] [--csv]\n"
                "\n"
                "Host nanoseconds per enqueue/dequeue pair (one thread; and producer and\n"
                "consumer on CPUs 0 and 1) and per notification with its wake-up (a futex\n"
                "ping-pong, both threads on CPU 0; and on CPUs 0 and 1).\n"
                "\n"
                "  --iterations N  queue operations per measurement (default 10000000)\n"
                "  --rounds N      ping-pong rounds per notification measurement (default 200000)\n"
                "  --csv           print CSV (measurement,ns) instead of a table\n");
}

static bool parse_count(const char *text, uint64_t *out)
{
    char *end;
    errno = 0;
    unsigned long long v = strtoull(text, &end, 10);
    if (errno || *end || v == 0 || text[0] == '-') {
        return false;
    }
    *out = v;
    return true;
}

int main(int argc, char **argv)
{
    bool csv = false;
    static const struct option longopts[] = {{"iterations", required_argument, NULL, 'i'},
                                             {"rounds", required_argument, NULL, 'r'},
                                             {"csv", no_argument, NULL, 'c'},
                                             {"help", no_argument, NULL, 'h'},
                                             {NULL, 0, NULL, 0}};
    int opt;
    while ((opt = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
        if (opt == 'i' && parse_count(optarg, &iterations)) {
            continue;
        }
        if (opt == 'r' && parse_count(optarg, &notify_rounds)) {
            continue;
        }
        if (opt == 'c') {
            csv = true;
            continue;
        }
        if (opt == 'h') {
            usage(stdout);
            return 0;
        }
        if (opt == 'i' || opt == 'r') {
            fprintf(stderr, "queue-bench: expected a positive count, not '%s'\n", optarg);
        }
        usage(stderr);
        return 2;
    }
    if (optind != argc) {
        usage(stderr);
        return 2;
    }
    bool two_cpus = pn_online_cpus() >= 2;
    struct {
        const char *name;
        double ns;
    } results[4] = {
        {"pair_same_core", same_core_pair_ns()},
        {"pair_cross_core", two_cpus ? cross_core_pair_ns() : -1},
        {"notify_same_core", notification_ns(0)},
        {"notify_cross_core", two_cpus ? notification_ns(1) : -1},
    };
    if (csv) {
        printf("measurement,ns\n");
        for (int i = 0; i < 4; i++) {
            printf("%s,%.1f\n", results[i].name, results[i].ns);
        }
        return 0;
    }
    printf("%-20s %10s\n", "measurement", "ns");
    for (int i = 0; i < 4; i++) {
        if (results[i].ns < 0) {
            printf("%-20s %10s\n", results[i].name, "n/a (1 CPU)");
        } else {
            printf("%-20s %10.1f\n", results[i].name, results[i].ns);
        }
    }
    return 0;
}
