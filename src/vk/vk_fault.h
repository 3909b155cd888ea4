/*
 * vk_fault: containing faults of micro-processes.
 *
 * SIGSEGV, SIGBUS, SIGFPE, SIGILL and SIGABRT (abort(), a failed assert())
 * are caught on an alternate stack (a coroutine that overflows the C stack
 * must still be caught). While the
 * kernel runs a micro-process it arms the handler with a jump buffer; a
 * fault raised by the process's code then siglongjmp()s there, and the
 * kernel ends that process only. Anything else keeps the signal's meaning:
 * a fault outside any micro-process (the kernel's own bug) recurs with the
 * default action and dumps core, and a signal sent by another process
 * (kill -SEGV) acts as that signal does by default, whatever runs.
 *
 * One handler per process (signal dispositions are per process).
 */
#ifndef VK_FAULT_H
#define VK_FAULT_H

#include <setjmp.h>
#include <stdint.h>

#include "vk_internal.h"

/* What the last contained fault was. */
struct vk_fault_info {
	int signal;
	void *address;	 /* si_addr: the faulting address (or instruction) */
	int has_address; /* a trap: `address` means something (not for abort()) */
	void *code;	 /* the instruction that faulted (from the signal's context) */
	void *app_code;	 /* when that is not app code (vk_code.h): the innermost
			  * app frame on the stack (abort() from app code), or NULL */
	int watchdog;	 /* not a fault: the watchdog ended the dispatch (vk_watchdog.h) */
	uint32_t cpu_ms; /* for the watchdog: CPU time the dispatch had used */
};

/*
 * Install the handler and the alternate signal stack. Returns 0 or -errno
 * (-EBUSY if installed already).
 */
int vk_fault_install(void);

/* Restore the signal dispositions and stack found at install time. */
void vk_fault_remove(void);

/*
 * Arm: from now on a fault of the running code jumps to `jump` (set with
 * sigsetjmp(jump, 0) by the caller, whose frame must stay live while
 * armed). vk_fault_disarm() when the micro-process's code stopped running.
 */
void vk_fault_arm(sigjmp_buf *jump);
void vk_fault_disarm(void);

/* The signal and address of the fault that last jumped. */
struct vk_fault_info vk_fault_last(void);

/*
 * For a signal handler of the layer above (vk_watchdog): leave the running
 * micro-process now, as a fault described by `info` would. Returns only
 * when no micro-process is armed.
 */
void vk_fault_escape(const struct vk_fault_info *info);

/* The instruction a signal interrupted, from the handler's context; 0 if unknown. */
uintptr_t vk_fault_context_pc(const void *context);

/* "SIGSEGV", "SIGBUS", ...: the name of a fault signal. */
const char *vk_fault_signal_name(int signal_number);

#endif
