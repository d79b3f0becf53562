/* Required wiring lookups; freestanding like the rest of the runtime. */
#include <pinion/wiring.h>

struct message {
    char text[160];
    unsigned len;
};

static void append(struct message *m, const char *s)
{
    while (*s && m->len + 1 < sizeof m->text) {
        m->text[m->len++] = *s++;
    }
    m->text[m->len] = '\0';
}

static void append_u64(struct message *m, uint64_t v)
{
    char digits[21];
    int n = 0;
    do {
        digits[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    char out[22];
    for (int i = 0; i < n; i++) {
        out[i] = digits[n - 1 - i];
    }
    out[n] = '\0';
    append(m, out);
}

static _Noreturn void missing(const char *what, const char *name, const char *problem)
{
    struct message m = {.len = 0};
    append(&m, what);
    append(&m, " \"");
    append(&m, name);
    append(&m, "\" ");
    append(&m, problem);
    pn_fatal(m.text);
}

bool pn_parse_u64(const char *text, uint64_t *value)
{
    uint64_t v = 0;
    unsigned base = 10;
    const char *p = text;
    if (p[0] == '0' && (p[1] == 'x' || p[1] == 'X')) {
        base = 16;
        p += 2;
    }
    if (*p == '\0') {
        return false;
    }
    for (; *p; p++) {
        unsigned digit;
        if (*p >= '0' && *p <= '9') {
            digit = (unsigned)(*p - '0');
        } else if (base == 16 && *p >= 'a' && *p <= 'f') {
            digit = (unsigned)(*p - 'a' + 10);
        } else if (base == 16 && *p >= 'A' && *p <= 'F') {
            digit = (unsigned)(*p - 'A' + 10);
        } else {
            return false;
        }
        if (v > (UINT64_MAX - digit) / base) {
            return false;
        }
        v = v * base + digit;
    }
    *value = v;
    return true;
}

void *pn_require_region(const char *name, uint64_t min_size, uint64_t *size)
{
    uint64_t actual;
    void *base = pn_region(name, &actual);
    if (base == 0) {
        missing("region", name, "is not mapped into this PD");
    }
    if (actual < min_size) {
        struct message m = {.len = 0};
        append(&m, "region \"");
        append(&m, name);
        append(&m, "\" is ");
        append_u64(&m, actual);
        append(&m, " bytes, needs ");
        append_u64(&m, min_size);
        pn_fatal(m.text);
    }
    if (size) {
        *size = actual;
    }
    return base;
}

pn_channel pn_require_channel(const char *name)
{
    pn_channel ch;
    if (!pn_channel_named(name, &ch)) {
        missing("channel", name, "is not connected to this PD");
    }
    return ch;
}

uint64_t pn_require_param_u64(const char *key)
{
    const char *text = pn_param(key);
    uint64_t value;
    if (text == 0) {
        missing("parameter", key, "is not set for this PD");
    }
    if (!pn_parse_u64(text, &value)) {
        missing("parameter", key, "is not a number");
    }
    return value;
}

uint64_t pn_param_u64_or(const char *key, uint64_t fallback)
{
    return pn_param(key) ? pn_require_param_u64(key) : fallback;
}
