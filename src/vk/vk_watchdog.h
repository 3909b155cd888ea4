/*
 * vk_watchdog: a budget of CPU time per dispatch.
 *
 * A micro-process that computes without blocking holds its whole worker:
 * every other connection of the worker waits (a handler computing for 3 s
 * gave a 2.34 s worst latency to the keep-alive connections beside it).
 * The watchdog ends such a process the way a fault would (vk_fault.h):
 * once its dispatch has used its budget of CPU time, the next tick jumps
 * out of it, if it is running the app's own code (vk_code.h) at that
 * moment. Code of libvk, libev or the C library may be halfway through a
 * list or hold a lock (malloc), so a tick that finds the process there
 * comes back after a millisecond of CPU instead, until it finds app code.
 *
 * The cost is one POSIX timer per worker on the thread's CPU clock: it
 * ticks only while the worker computes (an idle worker gets no signal),
 * and a dispatch only bumps a counter and stores its budget. A tick
 * notes the dispatch it finds and the CPU time then; the dispatch is ended
 * at a later tick that finds the same dispatch running with its budget
 * used since, so it is ended after between its budget and its budget plus
 * two ticks of CPU time.
 *
 * CPU time, not wall time: a worker that waits for a CPU on a busy host
 * is not the app's fault; and a dispatch blocked in a system call (a
 * blocking read, sleep(3)) uses no CPU and is not ended: apps must not
 * block (vk(3)). The signal is SIGXCPU; one sent from outside, or by
 * RLIMIT_CPU, keeps its own meaning (the default action: the worker
 * dies with a core).
 */
#ifndef VK_WATCHDOG_H
#define VK_WATCHDOG_H

#include <stdint.h>

#include "vk_internal.h"

/* The tick for a budget: a quarter of it, within these bounds (ms of CPU). */
#define VK_WATCHDOG_TICK_MIN_MS 1
#define VK_WATCHDOG_TICK_MAX_MS 100

/* Install the SIGXCPU handler. Returns 0 or -errno (-EBUSY if installed). */
int vk_watchdog_install(void);

/* Delete the timer and restore the handler found at install time. */
void vk_watchdog_remove(void);

/*
 * Make sure budgets of `budget_ms` are watched: the timer is created at the
 * first budget and ticks faster for a smaller one. Returns 0 or -errno.
 */
int vk_watchdog_watch(uint32_t budget_ms);

/*
 * A dispatch starts with `budget_ms` of CPU time (0: unbounded), or ends.
 * The kernel arms vk_fault around the same span: the watchdog ends a
 * process through it (vk_fault_escape()).
 */
void vk_watchdog_begin(uint32_t budget_ms);
void vk_watchdog_end(void);

#endif
