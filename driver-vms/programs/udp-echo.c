/*
 * udp-echo: the user-space half of the native-Linux baseline. Linux runs on
 * the machine directly, its own virtio-net driver, IP stack, ARP and ICMP
 * answer the load generator, and this program echoes every UDP datagram
 * on one port back to its sender: the same workload pinion's echo clients
 * serve, so that the two are counted for the same packets.
 *
 * One datagram per system call (recvmsg, then sendmsg), not the batched
 * recvmmsg/sendmmsg: the baseline is what a plain echo server costs. The
 * reply leaves from the address the datagram was sent to (IP_PKTINFO), so
 * an interface with several addresses answers each from the right one.
 */
#define _GNU_SOURCE /* struct in_pktinfo */

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "guest_args.h"
#include "guest_phase.h"

#define DEFAULT_PORT 1235

static const char usage[] =
    "usage: udp-echo [--port PORT] [--count N | --phases N]\n"
    "\n"
    "Echoes every UDP datagram that arrives on PORT (any local address) back to\n"
    "its sender, from the address it was sent to. On SIGTERM, SIGINT or after N\n"
    "echoes it prints its counts as one line, \"udp-echo: {...}\", and exits.\n"
    "\n"
    "  --port PORT   the UDP port, 1 to 65535 (default 1235)\n"
    "  --count N     exit after N datagrams echoed (default: never)\n"
    "  --phases N    as --count N, and mark the measurement window for pinion's\n"
    "                instruction counter: phase 1 from the first datagram, phase 2\n"
    "                after the Nth echo (docs/accounting.md)\n"
    "  --help        this text\n"
    "\n"
    "Exit status: 0 on a signal or after N echoes, 1 on a failure, 2 on a usage error.\n";

struct echo_counts {
    uint64_t received, echoed, send_errors, truncated;
    uint64_t
        bytes_copied; /* payload bytes across the user boundary: in by recvmsg, out by sendmsg */
};

static volatile sig_atomic_t stop_signal;

static void on_signal(int signo)
{
    stop_signal = signo;
}

/* 0 to run, 1 after --help, 2 on a usage error (already reported). */
static int parse_args(int argc, char **argv, uint16_t *port, uint64_t *count, bool *phases)
{
    static const char *const with_value[] = {"--port", "--count", "--phases"};
    for (int i = 1; i < argc; i++) {
        const char *option = NULL, *value = NULL;
        char err[128];
        switch (guest_args_next(argc, argv, &i, with_value,
                                sizeof with_value / sizeof with_value[0], &option, &value, err,
                                sizeof err)) {
        case GUEST_ARG_HELP:
            return 1;
        case GUEST_ARG_ERROR:
            fprintf(stderr, "udp-echo: %s\n", err);
            return 2;
        default:
            break;
        }
        unsigned long long n;
        if (strcmp(option, "--port") == 0) {
            if (!guest_args_number(value, 1, 65535, &n)) {
                fprintf(stderr, "udp-echo: --port must be a number from 1 to 65535, not \"%s\"\n",
                        value);
                return 2;
            }
            *port = (uint16_t)n;
        } else {
            if (!guest_args_number(value, 1, UINT64_MAX / 2, &n)) {
                fprintf(stderr, "udp-echo: %s must be a positive number, not \"%s\"\n", option,
                        value);
                return 2;
            }
            *count = n;
            *phases = strcmp(option, "--phases") == 0;
        }
    }
    return 0;
}

static void print_counts(const struct echo_counts *c)
{
    printf("udp-echo: {\"received\": %llu, \"echoed\": %llu, \"send_errors\": %llu, "
           "\"truncated\": %llu, \"bytes_copied\": %llu}\n",
           (unsigned long long)c->received, (unsigned long long)c->echoed,
           (unsigned long long)c->send_errors, (unsigned long long)c->truncated,
           (unsigned long long)c->bytes_copied);
    fflush(stdout);
}

int main(int argc, char **argv)
{
    uint16_t port = DEFAULT_PORT;
    uint64_t count = 0;
    bool phases = false;
    switch (parse_args(argc, argv, &port, &count, &phases)) {
    case 1:
        fputs(usage, stdout);
        return 0;
    case 2:
        fputs("Try 'udp-echo --help'.\n", stderr);
        return 2;
    default:
        break;
    }
    struct sigaction sa = {.sa_handler = on_signal}; /* no SA_RESTART: recvmsg returns */
    sigemptyset(&sa.sa_mask);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);

    int sock = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (sock < 0) {
        fprintf(stderr, "udp-echo: error: cannot open a UDP socket: %s\n", strerror(errno));
        return 1;
    }
    int one = 1;
    if (setsockopt(sock, IPPROTO_IP, IP_PKTINFO, &one, sizeof one) < 0) {
        fprintf(stderr, "udp-echo: error: IP_PKTINFO: %s\n", strerror(errno));
        return 1;
    }
    struct sockaddr_in addr = {
        .sin_family = AF_INET, .sin_port = htons(port), .sin_addr.s_addr = htonl(INADDR_ANY)};
    if (bind(sock, (struct sockaddr *)&addr, sizeof addr) < 0) {
        fprintf(stderr, "udp-echo: error: cannot bind UDP port %u: %s\n", port, strerror(errno));
        return 1;
    }
    printf("udp-echo: echoing UDP port %u\n", port);
    fflush(stdout);

    static unsigned char datagram[65536];
    struct echo_counts counts = {0};
    int status = 0;
    while (!stop_signal && (count == 0 || counts.echoed < count)) {
        struct sockaddr_in from;
        union {
            struct cmsghdr align;
            unsigned char bytes[CMSG_SPACE(sizeof(struct in_pktinfo))];
        } control;
        struct iovec iov = {.iov_base = datagram, .iov_len = sizeof datagram};
        struct msghdr msg = {.msg_name = &from,
                             .msg_namelen = sizeof from,
                             .msg_iov = &iov,
                             .msg_iovlen = 1,
                             .msg_control = control.bytes,
                             .msg_controllen = sizeof control.bytes};
        ssize_t n = recvmsg(sock, &msg, 0);
        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            fprintf(stderr, "udp-echo: error: recvmsg: %s\n", strerror(errno));
            status = 1;
            break;
        }
        if (phases && counts.received == 0) {
            GUEST_MARK_PHASE(1);
        }
        counts.received++;
        counts.bytes_copied += (uint64_t)n;
        if (msg.msg_flags & MSG_TRUNC) {
            counts.truncated++; /* cannot happen with a 64 KiB buffer; counted, not echoed */
            continue;
        }
        /* Reply from the address it came to: only ipi_spec_dst matters when sending. */
        struct in_pktinfo reply_info = {0};
        bool have_info = false;
        for (struct cmsghdr *c = CMSG_FIRSTHDR(&msg); c != NULL; c = CMSG_NXTHDR(&msg, c)) {
            if (c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_PKTINFO) {
                struct in_pktinfo info;
                memcpy(&info, CMSG_DATA(c), sizeof info);
                reply_info.ipi_spec_dst = info.ipi_addr;
                have_info = true;
            }
        }
        iov.iov_len = (size_t)n;
        msg.msg_namelen = sizeof from;
        msg.msg_flags = 0;
        if (have_info) {
            msg.msg_controllen = sizeof control.bytes;
            struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
            c->cmsg_level = IPPROTO_IP;
            c->cmsg_type = IP_PKTINFO;
            c->cmsg_len = CMSG_LEN(sizeof reply_info);
            memcpy(CMSG_DATA(c), &reply_info, sizeof reply_info);
        } else {
            msg.msg_control = NULL;
            msg.msg_controllen = 0;
        }
        if (sendmsg(sock, &msg, 0) == n) {
            counts.echoed++;
            counts.bytes_copied += (uint64_t)n;
        } else {
            counts.send_errors++;
        }
    }
    if (phases) {
        GUEST_MARK_PHASE(2); /* before the counts go out: printing is not the echo's work */
    }
    print_counts(&counts);
    close(sock);
    return status;
}
