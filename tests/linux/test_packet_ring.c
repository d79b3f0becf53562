/*
 * Unit tests of net-bridge's receive ring (driver-vms/programs/
 * packet_ring.c) on the host: the layouts it asks Linux for, and reading
 * rings laid out in ordinary memory as Linux fills them
 * (fake_packet_ring.h): every frame comes out whole and in order, each
 * slot (V2) or block (V3) goes back to the kernel exactly when its frames
 * are copied out, the socket's own transmissions are skipped, and a frame
 * too long for the buffer is reported so.
 */
#define _POSIX_C_SOURCE 200809L

#include "check.h"
#include "fake_packet_ring.h"

static char err[256];
static _Alignas(4096) unsigned char memory[1 << 20];

/* A frame of `len` bytes, each (seed + i). */
static const unsigned char *frame_of(uint32_t len, unsigned char seed)
{
    static unsigned char frame[8192];
    for (uint32_t i = 0; i < len; i++) {
        frame[i] = (unsigned char)(seed + i);
    }
    return frame;
}

static bool is_frame(const unsigned char *buf, uint32_t len, unsigned char seed)
{
    for (uint32_t i = 0; i < len; i++) {
        if (buf[i] != (unsigned char)(seed + i)) {
            return false;
        }
    }
    return true;
}

static void test_plan(void)
{
    struct packet_ring_layout l;
    /* v2: slots of a buffer plus the kernel's headers, in 64 KiB blocks, at least `frames`. */
    CHECK(packet_ring_plan(PACKET_RING_V2, 2048, 512, 0, 0, &l, err, sizeof err));
    CHECK_EQ(l.version, PACKET_RING_V2);
    CHECK_EQ(l.frame_bytes, 2144);
    CHECK_EQ(l.block_bytes, 65536);
    CHECK_EQ(l.frame_count, 540); /* 30 slots in each of 18 blocks */
    CHECK_EQ(l.block_count, 18);
    CHECK_EQ(packet_ring_bytes(&l), 18 * 65536);
    /* Slots large enough that Linux never cuts a buffer's frame (snaplen = slot - tp_mac). */
    CHECK(l.frame_bytes - fake_ring_mac_offset(sizeof(struct tpacket2_hdr)) >= 2048);
    CHECK(packet_ring_plan(PACKET_RING_V2, 65536, 4, 0, 0, &l, err, sizeof err));
    CHECK_EQ(l.block_bytes, 131072);
    CHECK_EQ(l.frame_count, 4);

    /* v3: blocks as asked, as many as `frames` buffers' worth of memory, at least 2. */
    CHECK(packet_ring_plan(PACKET_RING_V3, 2048, 512, 4096, 1, &l, err, sizeof err));
    CHECK_EQ(l.block_bytes, 4096);
    CHECK_EQ(l.retire_ms, 1);
    CHECK(l.block_count * 4096ull >= 512ull * 2048);
    CHECK_EQ(l.frame_count, l.block_count); /* Linux wants a frame count that adds up */
    CHECK(packet_ring_plan(PACKET_RING_V3, 64, 1, 4096, 1, &l, err, sizeof err));
    CHECK_EQ(l.block_count, 2);

    CHECK(!packet_ring_plan(PACKET_RING_V3, 4096, 512, 4096, 1, &l, err, sizeof err));
    CHECK_STR_CONTAINS(err, "a block of 4096 bytes cannot hold a 4096-byte frame whole");
    CHECK(!packet_ring_plan(PACKET_RING_V3, 2048, 512, 12288, 1, &l, err, sizeof err));
    CHECK_STR_CONTAINS(err, "a block of 12288 bytes: it must be a power of two from 4096");
    CHECK(!packet_ring_plan(PACKET_RING_V3, 2048, 512, 4096, 0, &l, err, sizeof err));
    CHECK_STR_CONTAINS(err, "a block retire timeout of 0 ms: it must be 1 to 1000");
    CHECK(!packet_ring_plan(PACKET_RING_V2, 2048, 0, 0, 0, &l, err, sizeof err));
    CHECK_STR_CONTAINS(err, "a ring of 0 frames of 2048 bytes is no ring");
}

static void test_v2_frames_in_order_and_slots_back(void)
{
    struct packet_ring_layout l;
    CHECK(packet_ring_plan(PACKET_RING_V2, 256, 40, 0, 0, &l, err, sizeof err));
    CHECK(packet_ring_bytes(&l) <= sizeof memory);
    struct fake_kernel_ring k;
    fake_ring_init(&k, memory, &l);
    struct packet_rx_ring ring;
    packet_rx_ring_attach(&ring, memory, &l);
    unsigned char buf[256];
    CHECK_EQ(packet_rx_ring_receive(&ring, buf, sizeof buf), 0); /* nothing yet */

    CHECK(fake_ring_put(&k, frame_of(60, 1), 60, 60, PACKET_HOST));
    CHECK(fake_ring_put(&k, frame_of(256, 2), 256, 256, PACKET_OTHERHOST));
    CHECK(!fake_ring_frame_given_back(&k, 0));
    CHECK_EQ(packet_rx_ring_receive(&ring, buf, sizeof buf), 60);
    CHECK(is_frame(buf, 60, 1));
    CHECK(fake_ring_frame_given_back(&k, 0));  /* copied out: the slot is the kernel's */
    CHECK(!fake_ring_frame_given_back(&k, 1)); /* not yet read */
    CHECK_EQ(packet_rx_ring_receive(&ring, buf, sizeof buf), 256);
    CHECK(is_frame(buf, 256, 2));
    CHECK(fake_ring_frame_given_back(&k, 1));
    CHECK_EQ(packet_rx_ring_receive(&ring, buf, sizeof buf), 0);

    /* Round the ring several times: every frame once, in order, none dropped. */
    for (unsigned n = 0; n < 3 * l.frame_count; n++) {
        uint32_t len = 60 + n % 150;
        CHECK(fake_ring_put(&k, frame_of(len, (unsigned char)n), len, len, PACKET_HOST));
        if (n % 3 == 2) {
            for (unsigned m = n - 2; m <= n; m++) {
                uint32_t want = 60 + m % 150;
                CHECK_EQ(packet_rx_ring_receive(&ring, buf, sizeof buf), want);
                CHECK(is_frame(buf, want, (unsigned char)m));
            }
        }
    }
    CHECK_EQ(k.dropped, 0);

    /* A reader that falls a whole ring behind: the kernel drops, nothing is overwritten. */
    for (unsigned n = 0; n < l.frame_count; n++) {
        CHECK(fake_ring_put(&k, frame_of(64, (unsigned char)n), 64, 64, PACKET_HOST));
    }
    CHECK(!fake_ring_put(&k, frame_of(64, 99), 64, 64, PACKET_HOST));
    CHECK_EQ(k.dropped, 1);
    CHECK_EQ(packet_rx_ring_receive(&ring, buf, sizeof buf), 64);
    CHECK(is_frame(buf, 64, 0));
}

static void test_v2_own_and_long_frames(void)
{
    struct packet_ring_layout l;
    CHECK(packet_ring_plan(PACKET_RING_V2, 256, 8, 0, 0, &l, err, sizeof err));
    struct fake_kernel_ring k;
    fake_ring_init(&k, memory, &l);
    struct packet_rx_ring ring;
    packet_rx_ring_attach(&ring, memory, &l);
    unsigned char buf[256];

    /* Our own transmission is skipped, its slot handed back, and the next frame read. */
    CHECK(fake_ring_put(&k, frame_of(80, 1), 80, 80, PACKET_OUTGOING));
    CHECK(fake_ring_put(&k, frame_of(90, 2), 90, 90, PACKET_HOST));
    CHECK_EQ(packet_rx_ring_receive(&ring, buf, sizeof buf), 90);
    CHECK(is_frame(buf, 90, 2));
    CHECK(fake_ring_frame_given_back(&k, 0) && fake_ring_frame_given_back(&k, 1));

    /* Longer than the buffer: its whole length, the buffer's worth copied. */
    CHECK(fake_ring_put(&k, frame_of(300, 3), 300, 300, PACKET_HOST));
    CHECK_EQ(packet_rx_ring_receive(&ring, buf, sizeof buf), 300);
    CHECK(is_frame(buf, sizeof buf, 3));
    /* Dropping into a small scratch buffer works the same way. */
    CHECK(fake_ring_put(&k, frame_of(100, 4), 100, 100, PACKET_HOST));
    unsigned char scratch[64];
    CHECK_EQ(packet_rx_ring_receive(&ring, scratch, sizeof scratch), 100);
    /* Cut short by the ring although the buffer would hold it: reported as too long. */
    CHECK(fake_ring_put(&k, frame_of(200, 5), 200, 150, PACKET_HOST));
    CHECK(packet_rx_ring_receive(&ring, buf, sizeof buf) > (long)sizeof buf);
    CHECK(fake_ring_frame_given_back(&k, 4));
    CHECK_EQ(packet_rx_ring_receive(&ring, buf, sizeof buf), 0);
}

static void test_v3_blocks(void)
{
    struct packet_ring_layout l;
    CHECK(packet_ring_plan(PACKET_RING_V3, 256, 16, 4096, 1, &l, err, sizeof err));
    CHECK(packet_ring_bytes(&l) <= sizeof memory);
    struct fake_kernel_ring k;
    fake_ring_init(&k, memory, &l);
    struct packet_rx_ring ring;
    packet_rx_ring_attach(&ring, memory, &l);
    unsigned char buf[256];

    /* Frames in the open block are the kernel's until it retires the block. */
    CHECK(fake_ring_put(&k, frame_of(60, 1), 60, 60, PACKET_HOST));
    CHECK(fake_ring_put(&k, frame_of(70, 2), 70, 70, PACKET_OUTGOING));
    CHECK(fake_ring_put(&k, frame_of(80, 3), 80, 80, PACKET_HOST));
    CHECK_EQ(packet_rx_ring_receive(&ring, buf, sizeof buf), 0);
    fake_ring_retire(&k); /* its timeout */
    CHECK_EQ(packet_rx_ring_receive(&ring, buf, sizeof buf), 60);
    CHECK(is_frame(buf, 60, 1));
    CHECK(!fake_ring_block_given_back(&k, 0)); /* a frame of it is still to be read */
    CHECK_EQ(packet_rx_ring_receive(&ring, buf, sizeof buf), 80); /* our own skipped */
    CHECK(is_frame(buf, 80, 3));
    CHECK(fake_ring_block_given_back(&k, 0)); /* its last frame copied out: back at once */
    CHECK_EQ(packet_rx_ring_receive(&ring, buf, sizeof buf), 0);

    /* Full blocks retire by themselves; round the ring several times, in order. */
    unsigned put = 0, got = 0;
    while (put < 6 * 16 * l.block_count) {
        uint32_t len = 60 + put % 190;
        CHECK(fake_ring_put(&k, frame_of(len, (unsigned char)put), len, len, PACKET_HOST));
        put++;
        long n;
        while ((n = packet_rx_ring_receive(&ring, buf, sizeof buf)) > 0) {
            CHECK_EQ(n, 60 + got % 190);
            CHECK(is_frame(buf, (uint32_t)n, (unsigned char)got));
            got++;
        }
    }
    fake_ring_retire(&k);
    while (packet_rx_ring_receive(&ring, buf, sizeof buf) > 0) {
        got++;
    }
    CHECK_EQ(got, put);
    CHECK_EQ(k.dropped, 0);

    /* A block retired with nothing in it is handed back and passed over. */
    fake_ring_retire(&k);
    CHECK(fake_ring_put(&k, frame_of(64, 7), 64, 64, PACKET_HOST));
    fake_ring_retire(&k);
    CHECK_EQ(packet_rx_ring_receive(&ring, buf, sizeof buf), 64);
    CHECK(is_frame(buf, 64, 7));
}

int main(void)
{
    RUN_TEST(test_plan);
    RUN_TEST(test_v2_frames_in_order_and_slots_back);
    RUN_TEST(test_v2_own_and_long_frames);
    RUN_TEST(test_v3_blocks);
    return check_exit();
}
