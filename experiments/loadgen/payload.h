/*
 * What the load generator puts inside its UDP datagrams and ICMP echo
 * requests, so that every echo can be traced to the datagram it answers and
 * checked byte for byte:
 *
 *   offset 0  magic     u32  which workload (UDP echo or ping)
 *   offset 4  run id    u32  tells this run's echoes from a previous run's
 *   offset 8  target    u16  index of the target it was sent to
 *   offset 10 length    u16  the whole payload's length, header included
 *   offset 12 sequence  u32  per target, from 0
 *   offset 16 pattern        bytes derived from (target, sequence) only
 *
 * All fields big-endian. The pattern changes with every datagram, so an echo
 * of the wrong datagram, a shifted or a stale buffer shows as a difference.
 */
#ifndef PINION_LOADGEN_PAYLOAD_H
#define PINION_LOADGEN_PAYLOAD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum {
    LG_PAYLOAD_HEADER_LEN = 16,
    LG_PAYLOAD_MAGIC_UDP = 0x504e4c55,  /* "PNLU" */
    LG_PAYLOAD_MAGIC_PING = 0x504e4c50, /* "PNLP" */
};

struct lg_payload_header {
    uint32_t magic;
    uint32_t run_id;
    uint16_t target;
    uint16_t length;
    uint32_t seq;
};

/* Writes header and pattern into payload[0..len); len must be at least LG_PAYLOAD_HEADER_LEN. */
void lg_payload_fill(uint8_t *payload, size_t len, uint32_t magic, uint32_t run_id, uint16_t target,
                     uint32_t seq);

/* Reads the header; false when len is too short for one. Checks nothing else. */
bool lg_payload_read_header(const uint8_t *payload, size_t len, struct lg_payload_header *out);

#endif
