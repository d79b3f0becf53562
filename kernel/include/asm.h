/* Constants shared by the kernel's assembly and C. */
#ifndef PINION_KERNEL_ASM_H
#define PINION_KERNEL_ASM_H

#define KERNEL_STACK_SIZE 16384

/* struct core and struct pd_context offsets (checked in kernel.h) */
#define CORE_STACK_TOP 8
#define CONTEXT_SP_EL1 248
#define CONTEXT_ELR    256
#define CONTEXT_SPSR   264

#endif
