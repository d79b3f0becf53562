/* SPDX-License-Identifier: GPL-2.0 */
/* <stdarg.h> for pinion's shared code built into the guest kernel. */
#ifndef PINION_COMPAT_STDARG_H
#define PINION_COMPAT_STDARG_H

#include <linux/stdarg.h>

#endif
