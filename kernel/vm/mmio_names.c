/*
 * Names of the emulated registers, so exits are counted and reported per
 * register (a register family such as IPRIORITYR counts as one).
 */
#include "vm.h"

struct register_range {
    uint32_t start, end; /* byte offsets, end excluded */
    const char *name;
};

static const struct register_range distributor[] = {
    {0x0000, 0x0004, "GICD_CTLR"},       {0x0004, 0x0008, "GICD_TYPER"},
    {0x0008, 0x000c, "GICD_IIDR"},       {0x0080, 0x0100, "GICD_IGROUPR"},
    {0x0100, 0x0180, "GICD_ISENABLER"},  {0x0180, 0x0200, "GICD_ICENABLER"},
    {0x0200, 0x0280, "GICD_ISPENDR"},    {0x0280, 0x0300, "GICD_ICPENDR"},
    {0x0300, 0x0380, "GICD_ISACTIVER"},  {0x0380, 0x0400, "GICD_ICACTIVER"},
    {0x0400, 0x0800, "GICD_IPRIORITYR"}, {0x0c00, 0x0d00, "GICD_ICFGR"},
    {0x0d00, 0x0d80, "GICD_IGRPMODR"},   {0x6000, 0x8000, "GICD_IROUTER"},
    {0xffd0, 0x10000, "GICD_ID"},
};

static const struct register_range redistributor[] = {
    {0x0000, 0x0004, "GICR_CTLR"},         {0x0004, 0x0008, "GICR_IIDR"},
    {0x0008, 0x0010, "GICR_TYPER"},        {0x0014, 0x0018, "GICR_WAKER"},
    {0xffd0, 0x10000, "GICR_ID"},          {0x10080, 0x10084, "GICR_IGROUPR0"},
    {0x10100, 0x10104, "GICR_ISENABLER0"}, {0x10180, 0x10184, "GICR_ICENABLER0"},
    {0x10200, 0x10204, "GICR_ISPENDR0"},   {0x10280, 0x10284, "GICR_ICPENDR0"},
    {0x10300, 0x10304, "GICR_ISACTIVER0"}, {0x10380, 0x10384, "GICR_ICACTIVER0"},
    {0x10400, 0x10420, "GICR_IPRIORITYR"}, {0x10c00, 0x10c08, "GICR_ICFGR"},
    {0x10d00, 0x10d04, "GICR_IGRPMODR0"},
};

static const struct register_range uart[] = {
    {0x000, 0x004, "UART_DR"},    {0x004, 0x008, "UART_RSR"},  {0x018, 0x01c, "UART_FR"},
    {0x024, 0x028, "UART_IBRD"},  {0x028, 0x02c, "UART_FBRD"}, {0x02c, 0x030, "UART_LCR_H"},
    {0x030, 0x034, "UART_CR"},    {0x034, 0x038, "UART_IFLS"}, {0x038, 0x03c, "UART_IMSC"},
    {0x03c, 0x040, "UART_RIS"},   {0x040, 0x044, "UART_MIS"},  {0x044, 0x048, "UART_ICR"},
    {0x048, 0x04c, "UART_DMACR"}, {0xfe0, 0x1000, "UART_ID"},
};

static const char *find(const struct register_range *table, uint32_t n, uint32_t offset,
                        const char *other)
{
    for (uint32_t i = 0; i < n; i++) {
        if (offset >= table[i].start && offset < table[i].end) {
            return table[i].name;
        }
    }
    return other;
}

const char *vm_register_name(enum vm_device device, uint32_t offset)
{
    switch (device) {
    case VM_DEVICE_GICD:
        return find(distributor, sizeof distributor / sizeof distributor[0], offset, "GICD_other");
    case VM_DEVICE_GICR:
        return find(redistributor, sizeof redistributor / sizeof redistributor[0], offset,
                    "GICR_other");
    default:
        return find(uart, sizeof uart / sizeof uart[0], offset, "UART_other");
    }
}
