/*
 * Console output on the PL011, shared by all cores under one lock so lines
 * do not interleave. The emulated UART needs no setup to transmit.
 */
#include "console.h"

#include "arch.h"
#include "sysreg.h"

#include <stdatomic.h>
#include <stdbool.h>

#define UART_DR   0x00
#define UART_FR   0x18
#define UART_IMSC 0x38
#define UART_ICR  0x44
#define FR_TXFF   (1u << 5)
#define FR_RXFE   (1u << 4)
#define IMSC_RX   ((1u << 4) | (1u << 6)) /* receive and receive timeout */

static atomic_flag console_lock = ATOMIC_FLAG_INIT;

static void lock(void)
{
    while (atomic_flag_test_and_set_explicit(&console_lock, memory_order_acquire)) {
        cpu_relax();
    }
}

static void unlock(void)
{
    atomic_flag_clear_explicit(&console_lock, memory_order_release);
}

static void put(char c)
{
    while (mmio_read32(UART_BASE + UART_FR) & FR_TXFF) {
    }
    mmio_write32(UART_BASE + UART_DR, (uint32_t)(unsigned char)c);
}

void console_init(void)
{
    mmio_write32(UART_BASE + UART_IMSC, 0);
}

void console_enable_rx_interrupt(void)
{
    mmio_write32(UART_BASE + UART_ICR, 0x7ff);
    mmio_write32(UART_BASE + UART_IMSC, IMSC_RX);
}

int console_getc(void)
{
    if (mmio_read32(UART_BASE + UART_FR) & FR_RXFE) {
        return -1;
    }
    return (int)(mmio_read32(UART_BASE + UART_DR) & 0xff);
}

static void put_string(const char *s)
{
    while (*s) {
        put(*s++);
    }
}

static void put_unsigned(uint64_t value, unsigned base, int width, char pad)
{
    char digits[24];
    int n = 0;
    do {
        unsigned digit = (unsigned)(value % base);
        digits[n++] = (char)(digit < 10 ? '0' + digit : 'a' + digit - 10);
        value /= base;
    } while (value);
    while (width-- > n) {
        put(pad);
    }
    while (n) {
        put(digits[--n]);
    }
}

static void format(const char *fmt, va_list args)
{
    for (; *fmt; fmt++) {
        if (*fmt != '%') {
            put(*fmt);
            continue;
        }
        fmt++;
        char pad = ' ';
        int width = 0, longs = 0;
        if (*fmt == '0') {
            pad = '0';
            fmt++;
        }
        while (*fmt >= '0' && *fmt <= '9') {
            width = width * 10 + (*fmt++ - '0');
        }
        while (*fmt == 'l') {
            longs++;
            fmt++;
        }
        switch (*fmt) {
        case 's': {
            const char *s = va_arg(args, const char *);
            put_string(s ? s : "(null)");
            break;
        }
        case 'c':
            put((char)va_arg(args, int));
            break;
        case 'd': {
            int64_t v = longs ? va_arg(args, int64_t) : va_arg(args, int);
            if (v < 0) {
                put('-');
                v = -v;
            }
            put_unsigned((uint64_t)v, 10, width, pad);
            break;
        }
        case 'u':
            put_unsigned(longs ? va_arg(args, uint64_t) : va_arg(args, unsigned), 10, width, pad);
            break;
        case 'x':
            put_unsigned(longs ? va_arg(args, uint64_t) : va_arg(args, unsigned), 16, width, pad);
            break;
        case 'p':
            put_string("0x");
            put_unsigned((uint64_t)(uintptr_t)va_arg(args, void *), 16, width, pad);
            break;
        case '%':
            put('%');
            break;
        default:
            put('?');
            break;
        }
    }
}

void kprintf(const char *fmt, ...)
{
    va_list args;
    va_start(args, fmt);
    lock();
    format(fmt, args);
    unlock();
    va_end(args);
}

void console_write_pd(const char *name, const char *text, uint64_t len, bool *at_line_start)
{
    lock();
    for (uint64_t i = 0; i < len; i++) {
        if (*at_line_start) {
            put_string(name);
            put_string(": ");
            *at_line_start = false;
        }
        put(text[i]);
        if (text[i] == '\n') {
            *at_line_start = true;
        }
    }
    unlock();
}
