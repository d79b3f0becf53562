/* The layer-2 echo baselines' logic (see l2_echo_core.h). */
#include "l2_echo_core.h"

#include "net_parse.h"

#include <stdio.h>

bool l2_echo_add_identity(struct l2_echo *echo, const char *text, uint16_t port)
{
    if (echo->n_identities == L2_ECHO_MAX_IDENTITIES) {
        return false;
    }
    /* "MAC@IP": the MAC is exactly 17 characters. */
    char mac[18];
    unsigned i;
    for (i = 0; i < sizeof mac - 1 && text[i] != '\0'; i++) {
        mac[i] = text[i];
    }
    mac[i] = '\0';
    struct echo_identity *id = &echo->identities[echo->n_identities];
    if (i != sizeof mac - 1 || text[i] != '@' || !net_parse_mac(mac, id->mac) ||
        !net_parse_ipv4(text + i + 1, id->ip) || port == 0) {
        return false;
    }
    id->udp_port = port;
    echo->n_identities++;
    return true;
}

const struct echo_identity *l2_echo_decide(struct l2_echo *echo, const uint8_t *frame, uint32_t len,
                                           struct echo_decision *decision)
{
    echo->counts.received++;
    for (unsigned i = 0; i < echo->n_identities; i++) {
        *decision = echo_decide(&echo->identities[i], frame, len);
        if (echo_verdict_replies(decision->verdict)) {
            return &echo->identities[i];
        }
    }
    echo->counts.dropped++;
    return NULL;
}

void l2_echo_count_reply(struct l2_echo *echo, struct echo_decision decision, bool sent)
{
    if (!sent) {
        echo->counts.send_errors++;
    } else if (decision.verdict == ECHO_REPLY_UDP) {
        echo->counts.udp_echoed++;
    } else {
        echo->counts.other_replies++;
    }
}

int l2_echo_counts_json(const struct l2_echo_counts *c, char *buf, unsigned long size)
{
    return snprintf(buf, size,
                    "{\"received\": %llu, \"echoed\": %llu, \"other_replies\": %llu, "
                    "\"dropped\": %llu, \"send_errors\": %llu, \"bytes_copied\": %llu}",
                    (unsigned long long)c->received, (unsigned long long)c->udp_echoed,
                    (unsigned long long)c->other_replies, (unsigned long long)c->dropped,
                    (unsigned long long)c->send_errors, (unsigned long long)c->bytes_copied);
}
