/*
 * Parsing of network addresses given as component parameters ("mac":
 * "52:54:00:00:00:02", "ip": "10.0.0.2"). Header-only and freestanding so
 * every network component (and a test peer) can share it without linking
 * anything.
 *
 * Both parsers accept exactly the canonical text form and nothing around it,
 * so a typo in a system description stops the PD at init instead of
 * silently configuring a different address.
 */
#ifndef PINION_NET_PARSE_H
#define PINION_NET_PARSE_H

#include <stdbool.h>
#include <stdint.h>

#define NET_MAC_BYTES  6
#define NET_IPV4_BYTES 4

static inline int net_parse_hex_digit(char c)
{
    if (c >= '0' && c <= '9') {
        return c - '0';
    }
    if (c >= 'a' && c <= 'f') {
        return c - 'a' + 10;
    }
    if (c >= 'A' && c <= 'F') {
        return c - 'A' + 10;
    }
    return -1;
}

/* Six pairs of hexadecimal digits separated by ':'; false on anything else. */
static inline bool net_parse_mac(const char *text, uint8_t mac[NET_MAC_BYTES])
{
    uint8_t parsed[NET_MAC_BYTES];
    for (int i = 0; i < NET_MAC_BYTES; i++) {
        int high = net_parse_hex_digit(text[0]);
        int low = high < 0 ? -1 : net_parse_hex_digit(text[1]);
        if (low < 0) {
            return false;
        }
        parsed[i] = (uint8_t)(high << 4 | low);
        char separator = i == NET_MAC_BYTES - 1 ? '\0' : ':';
        if (text[2] != separator) {
            return false;
        }
        text += 3;
    }
    for (int i = 0; i < NET_MAC_BYTES; i++) {
        mac[i] = parsed[i];
    }
    return true;
}

/*
 * Dotted decimal, four parts of 1 to 3 digits, each at most 255. Leading
 * zeros are refused: some tools read them as octal, so "010.0.0.2" would
 * mean different addresses to different readers.
 */
static inline bool net_parse_ipv4(const char *text, uint8_t ip[NET_IPV4_BYTES])
{
    uint8_t parsed[NET_IPV4_BYTES];
    for (int i = 0; i < NET_IPV4_BYTES; i++) {
        unsigned value = 0;
        int digits = 0;
        while (*text >= '0' && *text <= '9') {
            if (digits == 3 || (digits == 1 && value == 0)) {
                return false;
            }
            value = value * 10 + (unsigned)(*text - '0');
            digits++;
            text++;
        }
        if (digits == 0 || value > 255) {
            return false;
        }
        parsed[i] = (uint8_t)value;
        char separator = i == NET_IPV4_BYTES - 1 ? '\0' : '.';
        if (*text != separator) {
            return false;
        }
        text++;
    }
    for (int i = 0; i < NET_IPV4_BYTES; i++) {
        ip[i] = parsed[i];
    }
    return true;
}

#endif
