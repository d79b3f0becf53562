/*
 * net-bridge's command line: the options of the user-space bridge program
 * (net-bridge.c), parsed apart from any system call so that the host tests
 * (tests/linux/test_net_bridge.c) check every option and error.
 */
#ifndef PINION_NET_BRIDGE_ARGS_H
#define PINION_NET_BRIDGE_ARGS_H

#include "net_bridge_core.h"
#include "packet_ring.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define NET_BRIDGE_NAME_MAX 64
/* The status --die-after exits with: a driver VM that dies mid-run. */
#define NET_BRIDGE_DIE_STATUS 3

struct net_bridge_options {
    uint32_t capacity;
    uint32_t buffer_size;
    const char *interface;
    const char *rx_name;   /* the UIO device of the receive queue */
    const char *tx_name;   /* the UIO device of the transmit queue */
    uint64_t die_after;    /* frames received before exiting with NET_BRIDGE_DIE_STATUS; 0 never */
    int poll_ms;           /* service at least this often without an event; -1 only on events */
    uint64_t report_every; /* print the counts each time this many more frames moved; 0 never */
    const char *sysfs_root;
    /* The cheaper paths, each off by default (the LionsOS-style bridge); --fast sets all. */
    bool qdisc_bypass; /* frames sent straight to the device's queue */
    bool rx_ring;      /* frames received through a memory-mapped ring, not recvfrom */
    struct packet_ring_layout rx_ring_layout; /* the ring's, worked out from the options */
    bool tx_batch; /* frames sent with one sendmmsg per batch, not one send each */
};

enum net_bridge_parse_result {
    NET_BRIDGE_PARSE_OK,
    NET_BRIDGE_PARSE_HELP,
    NET_BRIDGE_PARSE_ERROR, /* the message is in err */
};

enum net_bridge_parse_result net_bridge_parse_args(int argc, char **argv,
                                                   struct net_bridge_options *opts, char *err,
                                                   size_t err_size);

extern const char net_bridge_usage[];

#endif
