#include "vk_report.h"

#include <stdarg.h>
#include <stdio.h>

#include "vk_log.h"
#include "vk_proc.h"

static void summarize(struct vk_report *report)
{
	double now = ev_now(report->loop);

	if (report->held)
		vk_log(4, "%lu more early ends of micro-processes not logged in the last %.1f s",
		       report->held, now - report->window_start);
	report->held = 0;
	report->shown = 0;
	report->window_start = now;
}

/* The timer must not keep the loop running: it holds no reference. */
static void timer_stop(struct vk_report *report)
{
	if (!ev_is_active(&report->timer))
		return;
	ev_ref(report->loop);
	ev_timer_stop(report->loop, &report->timer);
}

static void timer_callback(struct ev_loop *loop, struct ev_timer *timer, int revents)
{
	struct vk_report *report = timer->data;

	(void)loop;
	(void)revents;
	timer_stop(report);
	summarize(report);
}

void vk_report_init(struct vk_report *report, struct ev_loop *loop)
{
	report->loop = loop;
	report->window_start = 0;
	report->shown = 0;
	report->held = 0;
	ev_init(&report->timer, timer_callback);
	report->timer.data = report;
}

void vk_report_stop(struct vk_report *report)
{
	timer_stop(report);
	summarize(report);
}

/* Whether a line may be logged now; counts it when not. */
static int allowed(struct vk_report *report)
{
	double now = ev_now(report->loop);

	if (now - report->window_start >= VK_REPORT_WINDOW_S) {
		/* The window is over (its timer may not have run yet). */
		timer_stop(report);
		summarize(report);
	}
	if (report->shown < VK_REPORT_BURST) {
		report->shown++;
		return 1;
	}
	if (report->held++ == 0) {
		ev_timer_set(&report->timer, report->window_start + VK_REPORT_WINDOW_S - now, 0.);
		ev_timer_start(report->loop, &report->timer);
		ev_unref(report->loop);
	}
	return 0;
}

void vk_report_proc(struct vk_report *report, int level, const struct vk_proc *proc,
		    const char *format, ...)
{
	char what[384], peer[64];
	va_list args;

	if (!allowed(report))
		return;
	va_start(args, format);
	vsnprintf(what, sizeof(what), format, args);
	va_end(args);
	vk_log(level, "app %s: micro-process %llu (%s) %s",
	       proc->config->name ? proc->config->name : "?", (unsigned long long)proc->id,
	       vk_proc_peer_text(proc, peer, sizeof(peer)), what);
}
