/*
 * Test component: a minimal PL031 real-time-clock driver. It sets the
 * alarm one second ahead, `alarms` times; each alarm arrives as the
 * device's interrupt on channel "alarm", which it clears at the device and
 * acknowledges. Proves device interrupts reach their PD and are
 * re-enabled by its acknowledgement.
 */
#include <pinion/component.h>
#include <pinion/wiring.h>

#define RTC_DR   0x00 /* seconds now */
#define RTC_MR   0x04 /* match: the alarm */
#define RTC_IMSC 0x10 /* interrupt mask set */
#define RTC_MIS  0x18 /* masked interrupt status */
#define RTC_ICR  0x1c /* interrupt clear */

static volatile uint32_t *rtc;
static pn_channel alarm;
static uint64_t alarms, *fired, *spurious;

static uint32_t rtc_read(unsigned reg)
{
    return rtc[reg / 4];
}

static void rtc_write(unsigned reg, uint32_t value)
{
    rtc[reg / 4] = value;
}

static void arm(void)
{
    rtc_write(RTC_MR, rtc_read(RTC_DR) + 1);
    rtc_write(RTC_IMSC, 1);
}

void init(void)
{
    rtc = pn_require_region("rtc", 4096, 0);
    alarm = pn_require_channel("alarm");
    alarms = pn_require_param_u64("alarms");
    fired = pn_counter("alarms");
    spurious = pn_counter("spurious");
    arm();
}

void notified(pn_channel ch)
{
    if (ch != alarm) {
        return;
    }
    if (rtc_read(RTC_MIS) & 1) {
        rtc_write(RTC_ICR, 1);
        ++*fired;
    } else {
        ++*spurious;
    }
    pn_irq_ack(alarm);
    if (*fired < alarms) {
        arm();
    } else {
        rtc_write(RTC_IMSC, 0);
        pn_dbg_puts("alarms done\n");
    }
}
