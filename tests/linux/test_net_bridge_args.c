/*
 * Unit tests of net-bridge's command line (driver-vms/programs/
 * net_bridge_args.c) on the host: every option, its default and its
 * errors, among them the cheaper paths (--qdisc-bypass, --rx-ring and its
 * v3 block options, --tx-batch, --fast).
 */
#define _POSIX_C_SOURCE 200809L

#include "check.h"
#include "net_bridge_args.h"

#include <stdarg.h>

static char err[NET_BRIDGE_ERROR_MAX];

static enum net_bridge_parse_result parse(struct net_bridge_options *o, int argc, ...)
{
    char *argv[16] = {"net-bridge"};
    va_list ap;
    va_start(ap, argc);
    for (int i = 1; i < argc; i++) {
        argv[i] = va_arg(ap, char *);
    }
    va_end(ap);
    err[0] = '\0';
    return net_bridge_parse_args(argc, argv, o, err, sizeof err);
}

static void test_parse(void)
{
    struct net_bridge_options o;
    CHECK_EQ(parse(&o, 1), NET_BRIDGE_PARSE_OK);
    CHECK_EQ(o.capacity, 512);
    CHECK_EQ(o.buffer_size, 2048);
    CHECK(strcmp(o.interface, "eth0") == 0);
    CHECK(strcmp(o.rx_name, "rx") == 0 && strcmp(o.tx_name, "tx") == 0);
    CHECK_EQ(o.die_after, 0);
    CHECK_EQ(o.poll_ms, -1);
    CHECK_EQ(o.report_every, 0);
    CHECK(strcmp(o.sysfs_root, "/sys") == 0);
    CHECK_EQ(parse(&o, 2, "--report-every=20000"), NET_BRIDGE_PARSE_OK);
    CHECK_EQ(o.report_every, 20000);
    CHECK_EQ(parse(&o, 2, "--report-every=0"), NET_BRIDGE_PARSE_ERROR);
    CHECK_STR_CONTAINS(err, "--report-every must be a positive number");

    CHECK_EQ(parse(&o, 11, "--capacity", "1024", "--buffer-size=4096", "--interface", "eth1",
                   "--rx=net_rx", "--tx", "net_tx", "--die-after=500", "--poll-ms=5"),
             NET_BRIDGE_PARSE_OK);
    CHECK_EQ(o.capacity, 1024);
    CHECK_EQ(o.buffer_size, 4096);
    CHECK(strcmp(o.interface, "eth1") == 0);
    CHECK(strcmp(o.rx_name, "net_rx") == 0 && strcmp(o.tx_name, "net_tx") == 0);
    CHECK_EQ(o.die_after, 500);
    CHECK_EQ(o.poll_ms, 5);
    CHECK_EQ(parse(&o, 4, "--capacity", "4", "--help"), NET_BRIDGE_PARSE_HELP);

    CHECK_EQ(parse(&o, 2, "--capacity=100"), NET_BRIDGE_PARSE_ERROR);
    CHECK_STR_CONTAINS(err, "--capacity must be a power of two from 1 to 32768, not \"100\"");
    CHECK_EQ(parse(&o, 2, "--capacity=0"), NET_BRIDGE_PARSE_ERROR);
    CHECK_EQ(parse(&o, 2, "--buffer-size=63"), NET_BRIDGE_PARSE_ERROR);
    CHECK_STR_CONTAINS(err, "--buffer-size must be a number from 64 to 65536");
    CHECK_EQ(parse(&o, 2, "--buffer-size=2048k"), NET_BRIDGE_PARSE_ERROR);
    CHECK_EQ(parse(&o, 2, "--die-after=0"), NET_BRIDGE_PARSE_ERROR);
    CHECK_STR_CONTAINS(err, "--die-after must be a positive number");
    CHECK_EQ(parse(&o, 2, "--interface=averyveryverylongname"), NET_BRIDGE_PARSE_ERROR);
    CHECK_EQ(parse(&o, 2, "--rx=a/b"), NET_BRIDGE_PARSE_ERROR);
    CHECK_EQ(parse(&o, 3, "--rx=q", "--tx=q"), NET_BRIDGE_PARSE_ERROR);
    CHECK_STR_CONTAINS(err, "--rx and --tx name the same device \"q\"");
    CHECK_EQ(parse(&o, 2, "--tx"), NET_BRIDGE_PARSE_ERROR);
    CHECK_STR_CONTAINS(err, "--tx needs a value");
    CHECK_EQ(parse(&o, 2, "--capacities=4"), NET_BRIDGE_PARSE_ERROR);
    CHECK_STR_CONTAINS(err, "unknown option \"--capacities=4\"");
    CHECK_EQ(parse(&o, 2, "eth0"), NET_BRIDGE_PARSE_ERROR);
    CHECK_STR_CONTAINS(err, "unexpected argument \"eth0\"");
}

static void test_default_paths(void)
{
    /* Without an option, the LionsOS-style bridge: recvfrom and send per frame, the qdisc. */
    struct net_bridge_options o;
    CHECK_EQ(parse(&o, 1), NET_BRIDGE_PARSE_OK);
    CHECK(!o.qdisc_bypass && !o.rx_ring && !o.tx_batch);
}

static void test_cheaper_paths(void)
{
    struct net_bridge_options o;
    CHECK_EQ(parse(&o, 2, "--qdisc-bypass"), NET_BRIDGE_PARSE_OK);
    CHECK(o.qdisc_bypass && !o.rx_ring && !o.tx_batch);
    CHECK_EQ(parse(&o, 2, "--tx-batch"), NET_BRIDGE_PARSE_OK);
    CHECK(!o.qdisc_bypass && !o.rx_ring && o.tx_batch);

    /* --rx-ring alone is v2, laid out for --capacity frames of --buffer-size bytes. */
    CHECK_EQ(parse(&o, 2, "--rx-ring"), NET_BRIDGE_PARSE_OK);
    CHECK(!o.qdisc_bypass && o.rx_ring && !o.tx_batch);
    CHECK_EQ(o.rx_ring_layout.version, PACKET_RING_V2);
    CHECK(o.rx_ring_layout.frame_count >= 512);
    CHECK(o.rx_ring_layout.frame_bytes >= 2048);
    /* The version as the next argument (init's "--rx-ring,v3") or after '='. */
    CHECK_EQ(parse(&o, 5, "--rx-ring", "v3", "--capacity", "64"), NET_BRIDGE_PARSE_OK);
    CHECK_EQ(o.rx_ring_layout.version, PACKET_RING_V3);
    CHECK_EQ(o.capacity, 64);
    CHECK_EQ(o.rx_ring_layout.block_bytes, 4096);
    CHECK_EQ(o.rx_ring_layout.retire_ms, 1);
    CHECK_EQ(parse(&o, 2, "--rx-ring=v2"), NET_BRIDGE_PARSE_OK);
    CHECK_EQ(o.rx_ring_layout.version, PACKET_RING_V2);
    CHECK_EQ(parse(&o, 4, "--rx-ring=v3", "--rx-ring-block=16384", "--rx-ring-timeout=8"),
             NET_BRIDGE_PARSE_OK);
    CHECK_EQ(o.rx_ring_layout.block_bytes, 16384);
    CHECK_EQ(o.rx_ring_layout.retire_ms, 8);

    /* --fast is all three, in any order with a version. */
    CHECK_EQ(parse(&o, 2, "--fast"), NET_BRIDGE_PARSE_OK);
    CHECK(o.qdisc_bypass && o.rx_ring && o.tx_batch);
    CHECK_EQ(o.rx_ring_layout.version, PACKET_RING_V2);
    CHECK_EQ(parse(&o, 6, "--rx-ring", "v3", "--fast", "--report-every", "20000"),
             NET_BRIDGE_PARSE_OK);
    CHECK(o.qdisc_bypass && o.rx_ring && o.tx_batch);
    CHECK_EQ(o.rx_ring_layout.version, PACKET_RING_V3);
    CHECK_EQ(o.report_every, 20000);
}

static void test_cheaper_path_errors(void)
{
    struct net_bridge_options o;
    CHECK_EQ(parse(&o, 2, "--qdisc-bypass=1"), NET_BRIDGE_PARSE_ERROR);
    CHECK_STR_CONTAINS(err, "--qdisc-bypass takes no value, not \"1\"");
    CHECK_EQ(parse(&o, 2, "--fast=yes"), NET_BRIDGE_PARSE_ERROR);
    CHECK_STR_CONTAINS(err, "--fast takes no value");
    CHECK_EQ(parse(&o, 3, "--rx-ring", "v4"), NET_BRIDGE_PARSE_ERROR);
    CHECK_STR_CONTAINS(err, "--rx-ring takes v2 or v3, not \"v4\"");
    CHECK_EQ(parse(&o, 2, "--rx-ring="), NET_BRIDGE_PARSE_ERROR);
    CHECK_STR_CONTAINS(err, "--rx-ring takes v2 or v3, not \"\"");
    /* The block options belong to v3, which must be asked for. */
    CHECK_EQ(parse(&o, 3, "--rx-ring-block", "8192"), NET_BRIDGE_PARSE_ERROR);
    CHECK_STR_CONTAINS(err, "--rx-ring-block and --rx-ring-timeout apply to --rx-ring v3 only");
    CHECK_EQ(parse(&o, 3, "--fast", "--rx-ring-timeout=2"), NET_BRIDGE_PARSE_ERROR);
    CHECK_STR_CONTAINS(err, "apply to --rx-ring v3 only");
    CHECK_EQ(parse(&o, 3, "--rx-ring=v3", "--rx-ring-block=6000"), NET_BRIDGE_PARSE_ERROR);
    CHECK_STR_CONTAINS(err, "--rx-ring-block must be a power of two from 4096 to 4194304, not "
                            "\"6000\"");
    CHECK_EQ(parse(&o, 3, "--rx-ring=v3", "--rx-ring-block=2048"), NET_BRIDGE_PARSE_ERROR);
    CHECK_EQ(parse(&o, 3, "--rx-ring=v3", "--rx-ring-timeout=0"), NET_BRIDGE_PARSE_ERROR);
    CHECK_STR_CONTAINS(err, "--rx-ring-timeout must be a number from 1 to 1000, not \"0\"");
    CHECK_EQ(parse(&o, 3, "--rx-ring=v3", "--rx-ring-timeout"), NET_BRIDGE_PARSE_ERROR);
    CHECK_STR_CONTAINS(err, "--rx-ring-timeout needs a value");
    /* A block must hold a whole buffer's frame. */
    CHECK_EQ(parse(&o, 4, "--rx-ring=v3", "--buffer-size=4096", "--rx-ring-block=4096"),
             NET_BRIDGE_PARSE_ERROR);
    CHECK_STR_CONTAINS(err, "--rx-ring: a block of 4096 bytes cannot hold a 4096-byte frame whole");
    CHECK_EQ(parse(&o, 4, "--rx-ring=v3", "--buffer-size=4096", "--rx-ring-block=8192"),
             NET_BRIDGE_PARSE_OK);
    /* Prefixes of the flags are neither flags nor options. */
    CHECK_EQ(parse(&o, 2, "--rx-rings"), NET_BRIDGE_PARSE_ERROR);
    CHECK_STR_CONTAINS(err, "unknown option \"--rx-rings\"");
}

int main(void)
{
    RUN_TEST(test_parse);
    RUN_TEST(test_default_paths);
    RUN_TEST(test_cheaper_paths);
    RUN_TEST(test_cheaper_path_errors);
    return check_exit();
}
