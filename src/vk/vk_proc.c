#include "vk_proc.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void vk_sched_init(struct vk_sched *sched, struct ev_loop *loop, struct vk_stats *stats)
{
	sched->loop = loop;
	sched->ready_head = NULL;
	sched->ready_tail = &sched->ready_head;
	sched->stats = stats;
	sched->draining = 0;
	sched->bus = NULL;
}

struct vk_proc *vk_sched_pop(struct vk_sched *sched)
{
	struct vk_proc *proc = sched->ready_head;

	if (!proc)
		return NULL;
	sched->ready_head = proc->ready_next;
	if (!sched->ready_head) {
		sched->ready_tail = &sched->ready_head;
		ev_unref(sched->loop);
	}
	proc->queued = 0;
	return proc;
}

static void timer_callback(struct ev_loop *loop, struct ev_timer *timer, int revents)
{
	struct vk_proc *proc = timer->data;

	(void)loop;
	(void)revents;
	proc->timer_at = 0;
	proc->timer_fired = 1;
	vk_proc_schedule(proc);
}

void vk_proc_init(struct vk_proc *proc, struct vk_sched *sched)
{
	proc->sched = sched;
	proc->run_tail = &proc->run_head;
	proc->main_fd = -1;
	ev_init(&proc->timer, timer_callback);
	proc->timer.data = proc;
}

void vk_proc_schedule(struct vk_proc *proc)
{
	struct vk_sched *sched = proc->sched;

	if (proc->queued || proc->ended)
		return;
	/* Queued work must keep ev_run() going until the prepare watcher runs. */
	if (!sched->ready_head)
		ev_ref(sched->loop);
	proc->queued = 1;
	proc->ready_next = NULL;
	*sched->ready_tail = proc;
	sched->ready_tail = &proc->ready_next;
}

void vk_proc_on_exit(struct vk_proc *proc, vk_proc_exit_fn fn, void *ctx)
{
	proc->on_exit = fn;
	proc->on_exit_ctx = ctx;
}

double vk_proc_now(const struct vk_proc *proc)
{
	return ev_now(proc->sched->loop);
}

void vk_proc_set_timer(struct vk_proc *proc, double deadline)
{
	struct ev_loop *loop = proc->sched->loop;

	ev_timer_stop(loop, &proc->timer);
	/* Half a millisecond late: libev may fire a hair early, before the deadline. */
	ev_timer_set(&proc->timer, deadline - ev_now(loop) + 0.0005, 0.);
	ev_timer_start(loop, &proc->timer);
	proc->timer_at = deadline;
}

void vk_proc_arm_timer(struct vk_proc *proc, double deadline)
{
	/* Nothing timed: a pending timer just finds nothing due. */
	if (deadline == 0)
		return;
	if (proc->timer_at != 0 && proc->timer_at <= deadline && ev_is_active(&proc->timer))
		return;
	vk_proc_set_timer(proc, deadline);
}

void vk_proc_stop_timer(struct vk_proc *proc)
{
	ev_timer_stop(proc->sched->loop, &proc->timer);
	proc->timer_at = 0;
}

struct vk_proc_extra *vk_proc_extra(struct vk_proc *proc)
{
	if (!proc->extra)
		proc->extra = calloc(1, sizeof(*proc->extra));
	return proc->extra;
}

void vk_proc_drop_extra(struct vk_proc *proc)
{
	free(proc->extra);
	proc->extra = NULL;
}

void vk_proc_app_error(struct vk_proc *proc, enum vk_app_error what, void *code, size_t size,
		       size_t left)
{
	struct vk_proc_extra *extra = vk_proc_extra(proc);

	proc->sched->stats->app_errors++;
	if (proc->config && proc->config->app_stats)
		proc->config->app_stats->app_errors++;
	/* Counted, but without memory for the note it goes unlogged. */
	if (!extra)
		return;
	extra->app_error.what = (uint8_t)what;
	extra->app_error.code = code;
	extra->app_error.size = size;
	extra->app_error.left = left;
}

void vk_proc_set_peer(struct vk_proc *proc, const struct sockaddr *addr, socklen_t len)
{
	memset(&proc->peer, 0, sizeof(proc->peer));
	if (len < sizeof(sa_family_t))
		return;
	if (len > sizeof(proc->peer.addr))
		len = sizeof(proc->peer.addr);
	memcpy(&proc->peer.addr, addr, len);
}

const char *vk_proc_peer_text(const struct vk_proc *proc, char *buf, size_t size)
{
	return vk_peer_text(&proc->peer, buf, size);
}

const char *vk_wait_name(int what)
{
	switch (what) {
	case VK_WAIT_READ:
		return "read";
	case VK_WAIT_WRITE:
		return "write";
	case VK_WAIT_MESSAGE:
		return "message";
	case VK_WAIT_SLEEP:
		return "sleep";
	case VK_WAIT_CHILD:
		return "child";
	case VK_WAIT_CONNECT:
		return "connect";
	case VK_WAIT_FORWARD:
		return "forward";
	}
	return "none";
}

const char *vk_peer_text(const struct vk_peer *peer, char *buf, size_t size)
{
	char host[INET6_ADDRSTRLEN];

	if (peer->addr.sa.sa_family == AF_UNSPEC) {
		snprintf(buf, size, "no peer");
	} else if (peer->addr.sa.sa_family == AF_INET) {
		inet_ntop(AF_INET, &peer->addr.in.sin_addr, host, sizeof(host));
		snprintf(buf, size, "%s:%u", host, ntohs(peer->addr.in.sin_port));
	} else if (peer->addr.sa.sa_family == AF_INET6) {
		inet_ntop(AF_INET6, &peer->addr.in6.sin6_addr, host, sizeof(host));
		snprintf(buf, size, "[%s]:%u", host, ntohs(peer->addr.in6.sin6_port));
	} else if (peer->addr.sa.sa_family == AF_UNIX) {
		snprintf(buf, size, "unix");
	} else {
		snprintf(buf, size, "family %d", peer->addr.sa.sa_family);
	}
	return buf;
}
