#include "json_text.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int reserve(struct sbuf *b, size_t more)
{
    if (b->failed)
        return 0;
    if (b->len + more + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 4096;
        while (b->len + more + 1 > cap)
            cap *= 2;
        char *p = realloc(b->p, cap);
        if (!p) {
            b->failed = 1;
            return 0;
        }
        b->p = p;
        b->cap = cap;
    }
    return 1;
}

void sb_printf(struct sbuf *b, const char *fmt, ...)
{
    va_list ap;
    int need;

    if (b->failed)
        return;
    va_start(ap, fmt);
    need = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (need < 0) {
        b->failed = 1;
        return;
    }
    if (!reserve(b, (size_t)need))
        return;
    va_start(ap, fmt);
    vsnprintf(b->p + b->len, (size_t)need + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)need;
}

void sb_json_string(struct sbuf *b, const char *s)
{
    sb_printf(b, "\"");
    for (const unsigned char *c = (const unsigned char *)s; *c; c++) {
        if (*c == '"' || *c == '\\')
            sb_printf(b, "\\%c", *c);
        else if (*c < 0x20)
            sb_printf(b, "\\u%04x", *c);
        else
            sb_printf(b, "%c", *c);
    }
    sb_printf(b, "\"");
}

int write_file_atomically(const char *path, const char *text, size_t len)
{
    size_t n = strlen(path);
    char *tmp = malloc(n + 5);
    FILE *f;
    int ok;

    if (!tmp)
        return -1;
    memcpy(tmp, path, n);
    memcpy(tmp + n, ".tmp", 5);
    f = fopen(tmp, "w");
    if (!f) {
        free(tmp);
        return -1;
    }
    ok = fwrite(text, 1, len, f) == len;
    ok = (fclose(f) == 0) && ok;
    ok = ok && rename(tmp, path) == 0;
    if (!ok)
        remove(tmp);
    free(tmp);
    return ok ? 0 : -1;
}
