/*
 * The queue kinds over the ring: net free/active pairs (buffers circulate,
 * descriptors are validated), block request/response pairs (ids and
 * status, request validation), serial byte streams.
 */
#include "check.h"

#include <pinion/blk_queue.h>
#include <pinion/net_queue.h>
#include <pinion/serial_queue.h>
#include <stdlib.h>

static void *region(size_t bytes)
{
    void *memory = aligned_alloc(PN_CACHE_LINE, (bytes + PN_CACHE_LINE - 1) & ~(size_t)63);
    memset(memory, 0, bytes);
    return memory;
}

static void test_net_buffers_circulate(void)
{
    enum { CAP = 16, BUF = 2048 };
    void *queues = region(pn_net_pair_bytes(CAP));
    struct pn_net_filler driver;
    struct pn_net_drainer client;
    CHECK(pn_net_filler_attach(&driver, queues, CAP));
    CHECK(pn_net_drainer_attach(&client, queues, CAP));

    /* The client owns every buffer at start and hands them all out as free. */
    for (uint64_t i = 0; i < CAP; i++) {
        CHECK_EQ(pn_net_give_free(&client, (struct pn_net_desc){.offset = i * BUF}), PN_RING_OK);
    }
    CHECK_EQ(pn_net_give_free(&client, (struct pn_net_desc){0}), PN_RING_FULL);
    for (int round = 0; round < 5; round++) {
        struct pn_net_desc d = {0};
        for (int i = 0; i < CAP; i++) {
            CHECK_EQ(pn_net_take_free(&driver, &d), PN_RING_OK);
            d.len = (uint32_t)(60 + i + round);
            CHECK_EQ(pn_net_give_active(&driver, d), PN_RING_OK);
        }
        CHECK_EQ(pn_net_take_free(&driver, &d), PN_RING_EMPTY);
        for (int i = 0; i < CAP; i++) {
            CHECK_EQ(pn_net_take_active(&client, &d), PN_RING_OK);
            CHECK_EQ(d.offset, (uint64_t)i * BUF);
            CHECK_EQ(d.len, 60 + i + round);
            CHECK(pn_net_desc_valid(d, (uint64_t)CAP * BUF, BUF));
            CHECK_EQ(pn_net_give_free(&client, d), PN_RING_OK);
        }
    }
    free(queues);
}

static void test_net_descriptor_validation(void)
{
    const uint64_t size = 64 * 2048;
    CHECK(pn_net_desc_valid((struct pn_net_desc){.offset = 0, .len = 2048}, size, 2048));
    CHECK(pn_net_desc_valid((struct pn_net_desc){.offset = 63 * 2048, .len = 0}, size, 2048));
    CHECK(!pn_net_desc_valid((struct pn_net_desc){.offset = 64 * 2048, .len = 60}, size, 2048));
    CHECK(!pn_net_desc_valid((struct pn_net_desc){.offset = 100, .len = 60}, size, 2048));
    CHECK(!pn_net_desc_valid((struct pn_net_desc){.offset = 0, .len = 2049}, size, 2048));
    CHECK(!pn_net_desc_valid((struct pn_net_desc){.offset = UINT64_MAX - 2047, .len = 1}, size,
                             2048));
    CHECK(!pn_net_desc_valid((struct pn_net_desc){.offset = 0, .len = 1}, size, 0));
    /* A region that is not a whole number of buffers: the last partial one is refused. */
    CHECK(!pn_net_desc_valid((struct pn_net_desc){.offset = 2048, .len = 1}, 3000, 2048));
}

static void test_block_request_response(void)
{
    enum { CAP = 8 };
    void *queues = region(pn_blk_pair_bytes(CAP));
    struct pn_blk_client client;
    struct pn_blk_server server;
    CHECK(pn_blk_client_attach(&client, queues, CAP));
    CHECK(pn_blk_server_attach(&server, queues, CAP));
    for (uint32_t i = 0; i < CAP; i++) {
        struct pn_blk_request r = {
            .offset = i * 4096, .block = i * 8, .count = 8, .id = 100 + i, .op = PN_BLK_READ};
        CHECK_EQ(pn_blk_submit(&client, r), PN_RING_OK);
    }
    CHECK_EQ(pn_blk_submit(&client, (struct pn_blk_request){0}), PN_RING_FULL);
    /* The server answers out of order; ids tie responses to requests. */
    struct pn_blk_request reqs[CAP] = {{0}};
    for (uint32_t i = 0; i < CAP; i++) {
        CHECK_EQ(pn_blk_take_request(&server, &reqs[i]), PN_RING_OK);
        CHECK(pn_blk_request_valid(reqs[i], CAP * 4096, 512, 1 << 20));
    }
    for (int i = CAP - 1; i >= 0; i--) {
        uint32_t status = i == 3 ? PN_BLK_EIO : PN_BLK_OK;
        CHECK_EQ(pn_blk_respond(&server, (struct pn_blk_response){.id = reqs[i].id,
                                                                  .status = status,
                                                                  .count = reqs[i].count}),
                 PN_RING_OK);
    }
    for (int i = CAP - 1; i >= 0; i--) {
        struct pn_blk_response r = {0};
        CHECK_EQ(pn_blk_take_response(&client, &r), PN_RING_OK);
        CHECK_EQ(r.id, 100 + (uint32_t)i);
        CHECK_EQ(r.status, i == 3 ? PN_BLK_EIO : PN_BLK_OK);
        CHECK_EQ(r.count, 8);
    }
    struct pn_blk_response none;
    CHECK_EQ(pn_blk_take_response(&client, &none), PN_RING_EMPTY);
    free(queues);
}

static void test_block_request_validation(void)
{
    const uint64_t data = 16 * 4096, blocks = 1000;
    struct pn_blk_request ok = {.offset = 0, .block = 0, .count = 8, .op = PN_BLK_WRITE};
    CHECK(pn_blk_request_valid(ok, data, 512, blocks));
    struct pn_blk_request r = ok;
    r.op = 9;
    CHECK(!pn_blk_request_valid(r, data, 512, blocks));
    r = ok;
    r.count = 0;
    CHECK(!pn_blk_request_valid(r, data, 512, blocks));
    r = ok;
    r.block = 995; /* 995..1002 runs off the device */
    CHECK(!pn_blk_request_valid(r, data, 512, blocks));
    r = ok;
    r.block = UINT64_MAX;
    CHECK(!pn_blk_request_valid(r, data, 512, blocks));
    r = ok;
    r.offset = data - 1024; /* 4 KiB of data does not fit in the last 1 KiB */
    CHECK(!pn_blk_request_valid(r, data, 512, blocks));
    r = ok;
    r.offset = UINT64_MAX;
    CHECK(!pn_blk_request_valid(r, data, 512, blocks));
    r = (struct pn_blk_request){.op = PN_BLK_FLUSH};
    CHECK(pn_blk_request_valid(r, data, 512, blocks));
}

static void test_serial_stream(void)
{
    enum { CAP = 16 };
    void *ring = region(pn_serial_ring_bytes(CAP));
    struct pn_ring_producer writer = {0};
    struct pn_ring_consumer reader = {0};
    CHECK(pn_serial_writer_attach(&writer, ring, CAP));
    CHECK(pn_serial_reader_attach(&reader, ring, CAP));
    const char *text = "pinion serial check: more than sixteen bytes";
    size_t len = strlen(text), written = 0, read = 0;
    char got[128] = {0};
    enum pn_ring_status status;
    while (read < len) {
        written += pn_serial_write(&writer, text + written, (uint32_t)(len - written), &status);
        CHECK(status == PN_RING_OK || status == PN_RING_FULL);
        read += pn_serial_read(&reader, got + read, 5, &status);
    }
    CHECK_EQ(written, len);
    CHECK(memcmp(got, text, len) == 0);
    CHECK_EQ(pn_serial_read(&reader, got, 5, &status), 0);
    CHECK_EQ(status, PN_RING_EMPTY);
    free(ring);
}

int main(void)
{
    RUN_TEST(test_net_buffers_circulate);
    RUN_TEST(test_net_descriptor_validation);
    RUN_TEST(test_block_request_response);
    RUN_TEST(test_block_request_validation);
    RUN_TEST(test_serial_stream);
    return check_exit();
}
