/*
 * The guest's console: a PL011 at PN_GUEST_UART_BASE, emulated far enough
 * for Linux's amba-pl011 driver and earlycon. Transmission completes at
 * once, so the transmit FIFO is always empty and its interrupt always
 * raised while unmasked; nothing is ever received. Output is gathered
 * into lines and printed prefixed with the VM's name, so guest lines do
 * not interleave with the rest of the console mid-line.
 */
#include "vm.h"

#include "console.h"

#define UART_DR    0x000
#define UART_RSR   0x004
#define UART_FR    0x018
#define UART_ILPR  0x020
#define UART_IBRD  0x024
#define UART_FBRD  0x028
#define UART_LCR_H 0x02c
#define UART_CR    0x030
#define UART_IFLS  0x034
#define UART_IMSC  0x038
#define UART_RIS   0x03c
#define UART_MIS   0x040
#define UART_ICR   0x044
#define UART_DMACR 0x048
#define UART_ID    0xfe0 /* PeriphID0..3, then PrimeCell ID0..3, a byte per word */

#define FR_TXFE    (1u << 7)
#define FR_RXFE    (1u << 4)
#define INT_TX     (1u << 5)
#define CR_RESET   0x300 /* TXE | RXE */
#define IFLS_RESET 0x12

/* What QEMU's pl011 reports: an ARM PL011 r1p5, so Linux binds the ARM variant. */
static const uint8_t uart_id[8] = {0x11, 0x10, 0x14, 0x00, 0x0d, 0xf0, 0x05, 0xb1};

static void flush_line(struct vm *vm)
{
    bool at_line_start = true;
    vm->line[vm->line_len++] = '\n';
    console_write_pd(vm->pd->name, vm->line, vm->line_len, &at_line_start);
    vm->line_len = 0;
}

static void transmit(struct vm *vm, char ch)
{
    if (ch == '\r') {
        return;
    }
    if (ch == '\n') {
        flush_line(vm);
        return;
    }
    vm->line[vm->line_len++] = ch;
    if (vm->line_len == VM_LINE_MAX - 1) {
        flush_line(vm); /* a very long line comes out in pieces */
    }
}

void vuart_flush(struct vm *vm)
{
    if (vm->line_len) {
        flush_line(vm);
    }
}

bool vuart_irq_level(const struct vm *vm)
{
    return (vm->uart_imsc & INT_TX) != 0;
}

bool vuart_mmio(struct vm *vm, uint64_t offset, bool write, uint64_t *value)
{
    uint32_t in = write ? (uint32_t)*value : 0, out = 0;
    switch (offset) {
    case UART_DR:
        if (write) {
            transmit(vm, (char)(in & 0xff));
        }
        break;
    case UART_FR:
        out = FR_TXFE | FR_RXFE;
        break;
    case UART_IBRD:
        vm->uart_ibrd = write ? in & 0xffff : vm->uart_ibrd;
        out = vm->uart_ibrd;
        break;
    case UART_FBRD:
        vm->uart_fbrd = write ? in & 0x3f : vm->uart_fbrd;
        out = vm->uart_fbrd;
        break;
    case UART_LCR_H:
        vm->uart_lcr = write ? in & 0xff : vm->uart_lcr;
        out = vm->uart_lcr;
        break;
    case UART_CR:
        vm->uart_cr = write ? in & 0xffff : vm->uart_cr;
        out = vm->uart_cr;
        break;
    case UART_IFLS:
        vm->uart_ifls = write ? in & 0x3f : vm->uart_ifls;
        out = vm->uart_ifls;
        break;
    case UART_IMSC:
        vm->uart_imsc = write ? in & 0x7ff : vm->uart_imsc;
        out = vm->uart_imsc;
        break;
    case UART_RIS:
        out = INT_TX;
        break;
    case UART_MIS:
        out = INT_TX & vm->uart_imsc;
        break;
    case UART_RSR:
    case UART_ILPR:
    case UART_ICR: /* the transmit interrupt cannot be cleared: the FIFO stays empty */
    case UART_DMACR:
        break;
    default:
        if (offset >= UART_ID && offset < UART_ID + 32 && (offset & 3) == 0) {
            out = uart_id[(offset - UART_ID) / 4];
        } else if (offset >= PN_GUEST_UART_SIZE) {
            return false;
        }
        break; /* other registers read as zero and ignore writes */
    }
    if (!write) {
        *value = out;
    }
    return true;
}

void vuart_reset(struct vm *vm)
{
    vm->uart_cr = CR_RESET;
    vm->uart_ifls = IFLS_RESET;
    vm->uart_imsc = 0;
    vm->line_len = 0;
}
