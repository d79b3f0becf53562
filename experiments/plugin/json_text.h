/*
 * The report's text: a growing buffer that remembers whether any append
 * failed (so the report is built without checking every call), JSON string
 * quoting, and writing a file so that a reader never sees half of it.
 */
#ifndef PN_PLUGIN_JSON_TEXT_H
#define PN_PLUGIN_JSON_TEXT_H

#include <stddef.h>

struct sbuf {
    char *p;
    size_t len, cap;
    int failed; /* an allocation failed: the text is incomplete */
};

void sb_printf(struct sbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* s as a JSON string, quotes included. */
void sb_json_string(struct sbuf *b, const char *s);

/* Writes len bytes of text to path through path.tmp and rename(); 0 or -1. */
int write_file_atomically(const char *path, const char *text, size_t len);

#endif
