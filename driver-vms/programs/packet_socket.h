/*
 * A packet socket on one network interface, as the driver VM's user-space
 * bridge (net-bridge) and the layer-2 baseline (l2-echo) use it: every
 * frame of the interface in and out as it is on the wire, the interface
 * promiscuous (the queues' clients have MACs of their own), generic receive
 * offload off, and our own transmissions not seen again.
 */
#ifndef PINION_PACKET_SOCKET_H
#define PINION_PACKET_SOCKET_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct packet_socket_options {
    const char *interface;
    uint64_t receive_buffer_bytes; /* socket receive buffer wanted; 0 leaves Linux's default */
    /*
     * Frames sent go straight to the device's transmit queue, past the
     * queueing discipline (PACKET_QDISC_BYPASS): no qdisc enqueue and
     * dequeue per frame, and no back-pressure either.
     */
    bool qdisc_bypass;
};

/*
 * Opens the socket, binds it to the interface (bringing it up if it is
 * down) and sets it up as above. Returns the socket, or -1 after printing
 * why on stderr, each message starting with `program`.
 */
int packet_socket_open(const char *program, const struct packet_socket_options *options);

/*
 * Receives the next frame waiting into buf (at most capacity bytes), never
 * blocking. Returns its whole length, which exceeds capacity when it was
 * cut short; 0 when no frame is waiting; -errno on failure.
 */
long packet_socket_receive(int sock, unsigned char *buf, size_t capacity);

/* Sends one frame, retrying while interrupted unless *stop is set: 0, or -errno. */
int packet_socket_send(int sock, const unsigned char *frame, size_t len,
                       const volatile sig_atomic_t *stop);

#endif
