/*
 * l2-echo: the layer-2 baseline of the network driver VM's decomposition.
 * Linux runs on the machine directly and its own virtio-net driver owns
 * the device, but the echo is answered at layer 2 through a packet socket,
 * as the driver VM's bridge moves frames (the same socket code,
 * packet_socket.c): frames to the echo clients' MAC and IPv4 addresses
 * (the interface promiscuous) are answered as pinion's echo clients answer
 * them (l2_echo_core.h). No IP stack on the way, no UIO, no VM: the driver
 * VM minus this is what virtualisation and the UIO doorbells cost, and
 * this minus the in-kernel echo (pinion_l2_echo) what the socket path
 * costs (docs/net-optimise.md).
 */
#define _DEFAULT_SOURCE

#include "guest_args.h"
#include "guest_phase.h"
#include "l2_echo_core.h"
#include "packet_socket.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define FRAME_MAX 2048

static const char usage[] =
    "usage: l2-echo --client MAC@IP [--client MAC@IP]... [--interface IF] [--port PORT]\n"
    "               [--count N | --phases N]\n"
    "\n"
    "Answers, through a packet socket on IF (promiscuous), the frames addressed to\n"
    "each client MAC@IP as pinion's echo clients do: ARP requests for IP, ICMP echo\n"
    "requests and UDP datagrams to PORT, replied from MAC and IP. On SIGTERM, SIGINT\n"
    "or after N UDP echoes it prints its counts as one line, \"l2-echo: {...}\", and\n"
    "exits.\n"
    "\n"
    "  --client MAC@IP  a client's addresses, e.g. 52:54:00:00:00:02@10.0.0.2 (at\n"
    "                   least one, at most 4)\n"
    "  --interface IF   the network interface (default eth0)\n"
    "  --port PORT      the UDP port, 1 to 65535 (default 1235)\n"
    "  --count N        exit after N UDP datagrams echoed (default: never)\n"
    "  --phases N       as --count N, and mark the measurement window for pinion's\n"
    "                   instruction counter: phase 1 from the first UDP datagram,\n"
    "                   phase 2 after the Nth echo (docs/accounting.md)\n"
    "  --help           this text\n"
    "\n"
    "Exit status: 0 on a signal or after N echoes, 1 on a failure, 2 on a usage error.\n";

struct l2_echo_options {
    const char *interface;
    const char *clients[L2_ECHO_MAX_IDENTITIES];
    unsigned n_clients;
    uint16_t port;
    uint64_t count;
    bool phases;
};

static volatile sig_atomic_t stop_signal;

static void on_signal(int signo)
{
    stop_signal = signo;
}

/* 0 to run, 1 after --help, 2 on a usage error (already reported). */
static int parse_args(int argc, char **argv, struct l2_echo_options *o)
{
    static const char *const with_value[] = {"--client", "--interface", "--port", "--count",
                                             "--phases"};
    *o = (struct l2_echo_options){.interface = "eth0", .port = L2_ECHO_DEFAULT_PORT};
    for (int i = 1; i < argc; i++) {
        const char *option = NULL, *value = NULL;
        char err[128];
        switch (guest_args_next(argc, argv, &i, with_value,
                                sizeof with_value / sizeof with_value[0], &option, &value, err,
                                sizeof err)) {
        case GUEST_ARG_HELP:
            return 1;
        case GUEST_ARG_ERROR:
            fprintf(stderr, "l2-echo: %s\n", err);
            return 2;
        default:
            break;
        }
        unsigned long long n;
        if (strcmp(option, "--client") == 0) {
            if (o->n_clients == L2_ECHO_MAX_IDENTITIES) {
                fprintf(stderr, "l2-echo: at most %d --client\n", L2_ECHO_MAX_IDENTITIES);
                return 2;
            }
            o->clients[o->n_clients++] = value;
        } else if (strcmp(option, "--interface") == 0) {
            if (value[0] == '\0' || strlen(value) > 15 || strchr(value, '/') != NULL) {
                fprintf(stderr, "l2-echo: --interface must be 1 to 15 characters, not \"%s\"\n",
                        value);
                return 2;
            }
            o->interface = value;
        } else if (strcmp(option, "--port") == 0) {
            if (!guest_args_number(value, 1, 65535, &n)) {
                fprintf(stderr, "l2-echo: --port must be a number from 1 to 65535, not \"%s\"\n",
                        value);
                return 2;
            }
            o->port = (uint16_t)n;
        } else {
            if (!guest_args_number(value, 1, UINT64_MAX / 2, &n)) {
                fprintf(stderr, "l2-echo: %s must be a positive number, not \"%s\"\n", option,
                        value);
                return 2;
            }
            o->count = n;
            o->phases = strcmp(option, "--phases") == 0;
        }
    }
    if (o->n_clients == 0) {
        fprintf(stderr, "l2-echo: no --client: whose frames should it answer?\n");
        return 2;
    }
    return 0;
}

static void print_counts(const struct l2_echo_counts *counts)
{
    char json[512];
    l2_echo_counts_json(counts, json, sizeof json);
    printf("l2-echo: %s\n", json);
    fflush(stdout);
}

/* Answers every frame waiting on the socket; false on a socket failure. */
static bool answer_waiting(int sock, struct l2_echo *echo, const struct l2_echo_options *o)
{
    static _Alignas(8) unsigned char frame[FRAME_MAX], reply[FRAME_MAX];
    for (;;) {
        if (o->count != 0 && echo->counts.udp_echoed >= o->count) {
            return true;
        }
        long n = packet_socket_receive(sock, frame, sizeof frame);
        if (n == 0) {
            return true;
        }
        if (n < 0) {
            fprintf(stderr, "l2-echo: error: receiving: %s\n", strerror((int)-n));
            return false;
        }
        uint32_t len = n > FRAME_MAX ? FRAME_MAX : (uint32_t)n;
        echo->counts.bytes_copied += len;
        struct echo_decision decision;
        const struct echo_identity *id = l2_echo_decide(echo, frame, len, &decision);
        if (id == NULL || n > FRAME_MAX) {
            continue;
        }
        if (o->phases && decision.verdict == ECHO_REPLY_UDP && echo->counts.udp_echoed == 0) {
            GUEST_MARK_PHASE(1);
        }
        echo_build_reply(id, decision, frame, reply);
        bool sent = packet_socket_send(sock, reply, decision.reply_len, &stop_signal) == 0;
        l2_echo_count_reply(echo, decision, sent);
        if (sent) {
            echo->counts.bytes_copied += decision.reply_len;
        }
    }
}

int main(int argc, char **argv)
{
    struct l2_echo_options o;
    switch (parse_args(argc, argv, &o)) {
    case 1:
        fputs(usage, stdout);
        return 0;
    case 2:
        fputs("Try 'l2-echo --help'.\n", stderr);
        return 2;
    default:
        break;
    }
    static struct l2_echo echo;
    for (unsigned i = 0; i < o.n_clients; i++) {
        if (!l2_echo_add_identity(&echo, o.clients[i], o.port)) {
            fprintf(stderr,
                    "l2-echo: --client must be MAC@IP, e.g. 52:54:00:00:00:02@10.0.0.2, not "
                    "\"%s\"\nTry 'l2-echo --help'.\n",
                    o.clients[i]);
            return 2;
        }
    }
    struct sigaction sa = {.sa_handler = on_signal}; /* no SA_RESTART: poll returns */
    sigemptyset(&sa.sa_mask);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);

    struct packet_socket_options socket_options = {.interface = o.interface,
                                                   .receive_buffer_bytes = 1u << 20};
    int sock = packet_socket_open("l2-echo", &socket_options);
    if (sock < 0) {
        return 1;
    }
    printf("l2-echo: answering %u client(s) on %s, UDP port %u\n", o.n_clients, o.interface,
           o.port);
    fflush(stdout);
    int status = 0;
    while (!stop_signal && (o.count == 0 || echo.counts.udp_echoed < o.count)) {
        if (!answer_waiting(sock, &echo, &o)) {
            status = 1;
            break;
        }
        if (o.count != 0 && echo.counts.udp_echoed >= o.count) {
            break;
        }
        struct pollfd fds[1] = {{.fd = sock, .events = POLLIN}};
        if (poll(fds, 1, -1) < 0 && errno != EINTR) {
            fprintf(stderr, "l2-echo: error: poll: %s\n", strerror(errno));
            status = 1;
            break;
        }
    }
    if (o.phases) {
        GUEST_MARK_PHASE(2); /* before the counts go out: printing is not the echo's work */
    }
    print_counts(&echo.counts);
    close(sock);
    return status;
}
