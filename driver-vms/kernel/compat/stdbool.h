/* SPDX-License-Identifier: GPL-2.0 */
/* <stdbool.h> for pinion's shared code built into the guest kernel: the kernel's types. */
#ifndef PINION_COMPAT_STDBOOL_H
#define PINION_COMPAT_STDBOOL_H

#include <linux/types.h>
#include <linux/stddef.h>

#endif
