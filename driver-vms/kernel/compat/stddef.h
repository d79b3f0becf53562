/* SPDX-License-Identifier: GPL-2.0 */
/* <stddef.h> for pinion's shared code built into the guest kernel: the kernel's types. */
#ifndef PINION_COMPAT_STDDEF_H
#define PINION_COMPAT_STDDEF_H

#include <linux/types.h>
#include <linux/stddef.h>

#endif
