/*
 * vk_report: the log lines that say why a micro-process ended early.
 *
 * Each early end (a fault, the watchdog, an operator's kill, an app error)
 * logs one line naming the app, the micro-process id, its peer address and
 * what happened. A worker whose app faults on every request would
 * otherwise log as fast as it serves (12,324 fault lines in 2 s were
 * seen), so lines are rate-limited per worker: at most VK_REPORT_BURST in
 * a window of VK_REPORT_WINDOW_S; the rest are counted, and one summary
 * line at the end of the window (level 4, warn) says how many were not
 * shown. The counters (vk_stats.h) count every end, shown or not.
 */
#ifndef VK_REPORT_H
#define VK_REPORT_H

#include <ev.h>

#include "vk_internal.h"

struct vk_proc;

#define VK_REPORT_BURST 10
#define VK_REPORT_WINDOW_S 1.0

struct vk_report {
	struct ev_loop *loop;
	struct ev_timer timer; /* ends a window in which lines were held back */
	double window_start;   /* ev_now() time */
	unsigned shown;	       /* lines logged in this window */
	unsigned long held;    /* lines not logged in this window */
};

void vk_report_init(struct vk_report *report, struct ev_loop *loop);

/* Log the summary of lines held back, if any, and stop the timer. */
void vk_report_stop(struct vk_report *report);

/*
 * Log "app NAME: micro-process ID (PEER) " followed by the formatted
 * text, at syslog `level`, if the rate allows; else count it for the
 * summary.
 */
void vk_report_proc(struct vk_report *report, int level, const struct vk_proc *proc,
		    const char *format, ...) __attribute__((format(printf, 4, 5)));

#endif
