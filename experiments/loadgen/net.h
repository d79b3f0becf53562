/*
 * The load generator's one UDP socket towards QEMU's socket netdev. Not
 * connected: a connected UDP socket fails with ECONNREFUSED while QEMU is
 * not listening yet, and stays useless for the datagrams that follow.
 */
#ifndef PINION_LOADGEN_NET_H
#define PINION_LOADGEN_NET_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct lg_net {
    int fd;
    struct sockaddr_in qemu; /* where frames go: 127.0.0.1:qemu_port */
};

enum lg_send_result {
    LG_SEND_OK,
    LG_SEND_BUSY,   /* the kernel had no room this time (EAGAIN, ENOBUFS): try again shortly */
    LG_SEND_FAILED, /* errno says why; trying again will not help */
};

/* Binds 127.0.0.1:listen_port, non-blocking. On failure fills `error` and returns false. */
bool lg_net_open(struct lg_net *net, uint16_t listen_port, uint16_t qemu_port, char *error,
                 size_t error_len);
void lg_net_close(struct lg_net *net);

enum lg_send_result lg_net_send(struct lg_net *net, const uint8_t *frame, size_t len);

/*
 * Takes one pending datagram without blocking: 1 with its length in *len,
 * 0 when none is pending, -1 on an error (errno). *from_qemu says whether it
 * came from QEMU's address.
 */
int lg_net_receive(struct lg_net *net, uint8_t *buffer, size_t capacity, size_t *len,
                   bool *from_qemu);

/* Sleeps until a datagram is pending or timeout_ms has passed; false on a poll error. */
bool lg_net_wait(struct lg_net *net, int timeout_ms);

/*
 * The host kernel's count of UDP datagrams dropped because a socket's
 * receive buffer was full (RcvbufErrors in /proc/net/snmp), over all
 * sockets. False where it cannot be read.
 */
bool lg_host_udp_rcvbuf_errors(uint64_t *count);

/* Milliseconds of CLOCK_MONOTONIC. */
uint64_t lg_now_ms(void);

#endif
