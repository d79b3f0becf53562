/* The PL011 console: the kernel's messages and the PDs' debug output. */
#ifndef PINION_KERNEL_CONSOLE_H
#define PINION_KERNEL_CONSOLE_H

#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>

void console_init(void);
/* printf-like: %s %c %d %u %x %p, with l/ll and a zero-padded width (%08x). */
void kprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Writes a PD's text, each line prefixed with its name. */
void console_write_pd(const char *name, const char *text, uint64_t len, bool *at_line_start);
/* A byte typed at the console, or -1. */
int console_getc(void);
void console_enable_rx_interrupt(void);

#endif
