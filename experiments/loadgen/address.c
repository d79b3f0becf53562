/* MAC and IPv4 addresses as text: parsing what a user types, formatting for reports. */
#include "frames.h"

#include <stdio.h>

static int hex_digit(char c)
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

bool lg_parse_mac(const char *text, uint8_t mac[LG_MAC_LEN])
{
    /* Exactly six pairs of hex digits, one separator (':' or '-') used throughout. */
    char separator = text[0] != '\0' && text[1] != '\0' ? text[2] : '\0';
    if (separator != ':' && separator != '-') {
        return false;
    }
    for (int i = 0; i < LG_MAC_LEN; i++) {
        const char *pair = text + 3 * i;
        int high = hex_digit(pair[0]);
        int low = high < 0 ? -1 : hex_digit(pair[1]);
        if (low < 0) {
            return false;
        }
        char after = pair[2];
        if (after != (i == LG_MAC_LEN - 1 ? '\0' : separator)) {
            return false;
        }
        mac[i] = (uint8_t)(high << 4 | low);
    }
    return true;
}

bool lg_parse_ipv4(const char *text, uint32_t *ip)
{
    uint32_t value = 0;
    const char *at = text;
    for (int part = 0; part < 4; part++) {
        if (part > 0 && *at++ != '.') {
            return false;
        }
        /* One to three decimal digits, no sign, no leading zero (which some read as octal). */
        if (*at < '0' || *at > '9' || (at[0] == '0' && at[1] >= '0' && at[1] <= '9')) {
            return false;
        }
        unsigned octet = 0;
        int digits = 0;
        for (; *at >= '0' && *at <= '9'; at++) {
            if (++digits > 3) {
                return false;
            }
            octet = octet * 10 + (unsigned)(*at - '0');
        }
        if (octet > 255) {
            return false;
        }
        value = value << 8 | octet;
    }
    if (*at != '\0') {
        return false;
    }
    *ip = value;
    return true;
}

void lg_format_mac(const uint8_t mac[LG_MAC_LEN], char text[LG_MAC_TEXT_LEN])
{
    snprintf(text, LG_MAC_TEXT_LEN, "%02x:%02x:%02x:%02x:%02x:%02x", mac[0], mac[1], mac[2], mac[3],
             mac[4], mac[5]);
}

void lg_format_ipv4(uint32_t ip, char text[LG_IPV4_TEXT_LEN])
{
    snprintf(text, LG_IPV4_TEXT_LEN, "%u.%u.%u.%u", (unsigned)(ip >> 24),
             (unsigned)(ip >> 16 & 0xff), (unsigned)(ip >> 8 & 0xff), (unsigned)(ip & 0xff));
}
