/*
 * The component API for native PDs on the pinion kernel: the event loop
 * that calls init() and notified(), and the calls, each a system call
 * (kernel/include/pinion/syscalls.h).
 */
#include <pinion/component.h>
#include <pinion/pd_layout.h>
#include <pinion/syscalls.h>

#define SYSCALL(number, a0, a1)                                                                    \
    ({                                                                                             \
        register uint64_t x0_ __asm__("x0") = (uint64_t)(a0);                                      \
        register uint64_t x1_ __asm__("x1") = (uint64_t)(a1);                                      \
        __asm__ volatile("hvc #%2" : "+r"(x0_), "+r"(x1_) : "i"(number) : "memory");               \
        x0_;                                                                                       \
    })

static uint32_t deferred_notify; /* channel + 1, or 0 */
static uint64_t peers_stopped;   /* channels whose peer has stopped, as the last wait said */
static uint64_t message_registers[PN_MESSAGE_REGISTERS];

const struct pn_config *pn_config(void)
{
    return (const struct pn_config *)(uintptr_t)PN_PD_CONFIG_IPA;
}

void pn_notify(pn_channel ch)
{
    SYSCALL(PN_SYS_NOTIFY, ch, 0);
}

void pn_deferred_notify(pn_channel ch)
{
    deferred_notify = ch + 1;
}

bool pn_channel_peer_alive(pn_channel ch)
{
    return ch >= 64 || (peers_stopped >> ch & 1) == 0;
}

void pn_irq_ack(pn_channel ch)
{
    SYSCALL(PN_SYS_IRQ_ACK, ch, 0);
}

static uint64_t length(const char *s)
{
    uint64_t n = 0;
    while (s[n]) {
        n++;
    }
    return n;
}

void pn_dbg_puts(const char *s)
{
    SYSCALL(PN_SYS_PUTS, s, length(s));
}

_Noreturn void pn_fatal(const char *why)
{
    SYSCALL(PN_SYS_FATAL, why, length(why));
    for (;;) {
    }
}

void pn_phase(uint32_t phase)
{
    SYSCALL(PN_SYS_PHASE, phase, 0);
}

uint64_t pn_time_ns(void)
{
    return SYSCALL(PN_SYS_TIME, 0, 0);
}

pn_msginfo pn_ppcall(pn_channel ch, pn_msginfo msginfo)
{
    (void)ch;
    (void)msginfo;
    pn_fatal("protected procedure calls are not available on the pinion kernel yet");
}

void pn_mr_set(unsigned index, uint64_t value)
{
    if (index < PN_MESSAGE_REGISTERS) {
        message_registers[index] = value;
    }
}

uint64_t pn_mr_get(unsigned index)
{
    return index < PN_MESSAGE_REGISTERS ? message_registers[index] : 0;
}

_Noreturn void pn_pd_main(void)
{
    if (!pn_config_valid(pn_config())) {
        pn_fatal("no valid configuration at its address (was the image made by pinion-image?)");
    }
    init();
    for (;;) {
        uint32_t notify_first = deferred_notify;
        deferred_notify = 0;
        register uint64_t x0 __asm__("x0") = notify_first;
        register uint64_t x1 __asm__("x1") = 0;
        /* The wait returns the channels that fired, and those whose peer is gone. */
        __asm__ volatile("hvc #%2" : "+r"(x0), "+r"(x1) : "i"(PN_SYS_WAIT) : "memory");
        uint64_t bits = x0;
        peers_stopped = x1;
        while (bits) {
            pn_channel ch = (pn_channel)__builtin_ctzll(bits);
            bits &= bits - 1;
            notified(ch);
        }
    }
}
