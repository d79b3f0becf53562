/* The load generator's payload: a header naming the datagram, then a pattern. */
#include "payload.h"

#include "byteorder.h"

/*
 * splitmix64's step: even states that differ in one bit give unrelated
 * words, so neighbouring datagrams get unrelated patterns.
 */
static uint64_t next_pattern_word(uint64_t *state)
{
    uint64_t z = (*state += 0x9e3779b97f4a7c15u);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
    return z ^ (z >> 31);
}

void lg_payload_fill(uint8_t *payload, size_t len, uint32_t magic, uint32_t run_id, uint16_t target,
                     uint32_t seq)
{
    lg_put32(payload, magic);
    lg_put32(payload + 4, run_id);
    lg_put16(payload + 8, target);
    lg_put16(payload + 10, (uint16_t)len);
    lg_put32(payload + 12, seq);
    uint64_t state = (uint64_t)target << 32 | seq;
    uint64_t word = 0;
    for (size_t i = LG_PAYLOAD_HEADER_LEN; i < len; i++) {
        size_t byte_in_word = (i - LG_PAYLOAD_HEADER_LEN) % sizeof word;
        if (byte_in_word == 0) {
            word = next_pattern_word(&state);
        }
        payload[i] = (uint8_t)(word >> (8 * byte_in_word));
    }
}

bool lg_payload_read_header(const uint8_t *payload, size_t len, struct lg_payload_header *out)
{
    if (len < LG_PAYLOAD_HEADER_LEN) {
        return false;
    }
    out->magic = lg_get32(payload);
    out->run_id = lg_get32(payload + 4);
    out->target = lg_get16(payload + 8);
    out->length = lg_get16(payload + 10);
    out->seq = lg_get32(payload + 12);
    return true;
}
