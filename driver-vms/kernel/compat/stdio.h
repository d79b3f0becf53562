/* SPDX-License-Identifier: GPL-2.0 */
/* <stdio.h> for pinion's shared code built into the guest kernel: snprintf and vsnprintf. */
#ifndef PINION_COMPAT_STDIO_H
#define PINION_COMPAT_STDIO_H

#include <linux/kernel.h>

#endif
