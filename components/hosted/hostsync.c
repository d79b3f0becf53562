#define _GNU_SOURCE
#include "hostsync.h"

#include <errno.h>
#include <linux/futex.h>
#include <pthread.h>
#include <sched.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static long futex(_Atomic uint32_t *word, int op, uint32_t value, const struct timespec *timeout)
{
    return syscall(SYS_futex, (uint32_t *)word, op, value, timeout, NULL, 0);
}

void pn_futex_wait(_Atomic uint32_t *word, uint32_t expected)
{
    futex(word, FUTEX_WAIT_PRIVATE, expected, NULL);
}

bool pn_futex_wait_ms(_Atomic uint32_t *word, uint32_t expected, unsigned timeout_ms)
{
    struct timespec timeout = {.tv_sec = timeout_ms / 1000,
                               .tv_nsec = (long)(timeout_ms % 1000) * 1000000L};
    return !(futex(word, FUTEX_WAIT_PRIVATE, expected, &timeout) == -1 && errno == ETIMEDOUT);
}

void pn_futex_wake_all(_Atomic uint32_t *word)
{
    futex(word, FUTEX_WAKE_PRIVATE, INT32_MAX, NULL);
}

void pn_host_signal_raise(struct pn_host_signal *s)
{
    if (atomic_exchange(&s->raised, 1) == 0) {
        pn_futex_wake_all(&s->raised);
    }
}

void pn_host_signal_wait(struct pn_host_signal *s)
{
    while (atomic_exchange(&s->raised, 0) == 0) {
        pn_futex_wait(&s->raised, 0);
    }
}

bool pn_host_signal_wait_ms(struct pn_host_signal *s, unsigned timeout_ms)
{
    struct timespec start, now;
    clock_gettime(CLOCK_MONOTONIC, &start);
    while (atomic_exchange(&s->raised, 0) == 0) {
        clock_gettime(CLOCK_MONOTONIC, &now);
        long elapsed_ms =
            (now.tv_sec - start.tv_sec) * 1000L + (now.tv_nsec - start.tv_nsec) / 1000000L;
        if (elapsed_ms >= (long)timeout_ms) {
            return false;
        }
        pn_futex_wait_ms(&s->raised, 0, (unsigned)(timeout_ms - (unsigned)elapsed_ms));
    }
    return true;
}

bool pn_pin_to_cpu(int cpu)
{
    if (cpu < 0 || cpu >= CPU_SETSIZE) {
        return false;
    }
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(cpu, &set);
    return pthread_setaffinity_np(pthread_self(), sizeof set, &set) == 0;
}

int pn_online_cpus(void)
{
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n > 0 ? (int)n : 1;
}
