/*
 * A line of debug output built without printf, which PDs do not have:
 * text and decimal numbers appended in turn, cut short rather than
 * overrun, then printed with pn_dbg_puts(line.text). Freestanding.
 */
#ifndef PINION_DBG_LINE_H
#define PINION_DBG_LINE_H

#include <stdint.h>

#define PN_DBG_LINE_MAX 128

struct pn_dbg_line {
    char text[PN_DBG_LINE_MAX];
    unsigned len;
};

static inline void pn_dbg_line_add(struct pn_dbg_line *line, const char *s)
{
    while (*s != '\0' && line->len + 1 < PN_DBG_LINE_MAX) {
        line->text[line->len++] = *s++;
    }
    line->text[line->len] = '\0';
}

static inline void pn_dbg_line_add_u64(struct pn_dbg_line *line, uint64_t value)
{
    char digits[20];
    unsigned n = 0;
    do {
        digits[n++] = (char)('0' + value % 10);
        value /= 10;
    } while (value != 0);
    while (n > 0 && line->len + 1 < PN_DBG_LINE_MAX) {
        line->text[line->len++] = digits[--n];
    }
    line->text[line->len] = '\0';
}

#endif
