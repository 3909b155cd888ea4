#include "vk_proc.h"

#include <arpa/inet.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void vk_sched_init(struct vk_sched *sched, struct ev_loop *loop, struct vk_stats *stats)
{
	sched->loop = loop;
	sched->ready_head = NULL;
	sched->ready_tail = &sched->ready_head;
	sched->ran = NULL;
	sched->ran_count = 0;
	sched->ran_max = 0;
	sched->again_count = 0;
	sched->ran_polls = ev_iteration(loop);
	sched->stats = stats;
	sched->draining = 0;
	sched->bus = NULL;
	sched->epoch = ev_now(loop);
}

void vk_sched_fini(struct vk_sched *sched)
{
	free(sched->ran);
	sched->ran = NULL;
	sched->ran_count = 0;
	sched->ran_max = 0;
}

struct vk_proc *vk_sched_pop(struct vk_sched *sched)
{
	struct vk_proc *proc = sched->ready_head;

	if (!proc)
		return NULL;
	sched->ready_head = proc->ready_next;
	if (!sched->ready_head) {
		sched->ready_tail = &sched->ready_head;
		/* The queue's loop reference goes when nothing is queued or marked. */
		if (!sched->again_count)
			ev_unref(sched->loop);
	}
	proc->queued = 0;
	return proc;
}

static void queue_back(struct vk_sched *sched, struct vk_proc *proc)
{
	proc->ready_next = NULL;
	*sched->ready_tail = proc;
	sched->ready_tail = &proc->ready_next;
}

/*
 * The list is read after the first poll that followed its round, the one
 * whose reports mark processes (vk_proc_schedule_event()); in the loop
 * each dispatch follows one poll, but a dispatch called with no poll
 * since the last (tests, a nested run) only adds to the list. A listed
 * process may have ended and its control block been taken by another
 * since (vk_kern.c recycles them, zeroed, from slabs it keeps): such a
 * block has `again` clear unless it ran in the last round itself, so it
 * is queued at most once, and `ran` is cleared for every listed block.
 */
void vk_sched_begin_round(struct vk_sched *sched)
{
	const unsigned polls = ev_iteration(sched->loop);
	size_t i;

	if (polls == sched->ran_polls)
		return;
	for (i = 0; i < sched->ran_count; i++) {
		struct vk_proc *proc = sched->ran[i];

		if (proc->again) {
			proc->again = 0;
			sched->again_count--;
			queue_back(sched, proc);
		}
		proc->ran = 0;
	}
	sched->ran_count = 0;
	sched->ran_polls = polls;
}

void vk_sched_note_run(struct vk_sched *sched, struct vk_proc *proc)
{
	if (proc->ran)
		return;
	if (sched->ran_count == sched->ran_max) {
		size_t max = sched->ran_max ? 2 * sched->ran_max : 64;
		struct vk_proc **ran = realloc(sched->ran, max * sizeof(*ran));

		if (!ran)
			return;
		sched->ran = ran;
		sched->ran_max = max;
	}
	sched->ran[sched->ran_count++] = proc;
	proc->ran = 1;
}

/*
 * An idle connection's control block: 272 bytes with Debian's libev (a
 * 48-byte ev_timer), taken from a slab (vk_kern.c), not a malloc block of
 * its own. Keep it so: what only some processes need goes to struct
 * vk_proc_extra.
 */
_Static_assert(sizeof(struct vk_proc) <= sizeof(struct ev_timer) + 224, "struct vk_proc grew");
_Static_assert(sizeof(double) <= sizeof(void *), "a deadline fits in ev_timer's data");

static void set_timer_at(struct vk_proc *proc, double at)
{
	memcpy(&proc->timer.data, &at, sizeof(at));
}

static void timer_callback(struct ev_loop *loop, struct ev_timer *timer, int revents)
{
	struct vk_proc *proc = (struct vk_proc *)((char *)timer - offsetof(struct vk_proc, timer));

	(void)loop;
	(void)revents;
	set_timer_at(proc, 0);
	proc->timer_fired = 1;
	vk_proc_schedule(proc);
}

void vk_proc_init(struct vk_proc *proc, struct vk_sched *sched)
{
	proc->sched = sched;
	proc->main_fd = -1;
	proc->fds = -1;
	proc->pending = -1;
	ev_init(&proc->timer, timer_callback);
	set_timer_at(proc, 0);
}

/* 0 when `proc` is to be queued now (marked so), -1 when it is queued or ended. */
static int mark_queued(struct vk_proc *proc)
{
	struct vk_sched *sched = proc->sched;

	if (proc->queued || proc->ended)
		return -1;
	/* Queued work must keep ev_run() going until the prepare watcher runs. */
	if (!sched->ready_head && !sched->again_count)
		ev_ref(sched->loop);
	proc->queued = 1;
	return 0;
}

void vk_proc_schedule(struct vk_proc *proc)
{
	if (mark_queued(proc) < 0)
		return;
	queue_back(proc->sched, proc);
}

void vk_proc_schedule_event(struct vk_proc *proc)
{
	struct vk_sched *sched = proc->sched;

	if (mark_queued(proc) < 0)
		return;
	/* Reported by the first poll after its round: epoll kept its place. */
	if (proc->ran && ev_iteration(sched->loop) == sched->ran_polls + 1) {
		proc->again = 1;
		sched->again_count++;
		return;
	}
	if (!sched->ready_head)
		sched->ready_tail = &proc->ready_next;
	proc->ready_next = sched->ready_head;
	sched->ready_head = proc;
}

void vk_proc_forget_exit(struct vk_proc *proc)
{
	proc->exit_forgot = 1;
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
	set_timer_at(proc, deadline);
}

void vk_proc_arm_timer(struct vk_proc *proc, double deadline)
{
	/* Nothing timed: a pending timer just finds nothing due. */
	if (deadline == 0)
		return;
	double at = vk_proc_timer_at(proc);

	if (at != 0 && at <= deadline && ev_is_active(&proc->timer))
		return;
	vk_proc_set_timer(proc, deadline);
}

void vk_proc_stop_timer(struct vk_proc *proc)
{
	ev_timer_stop(proc->sched->loop, &proc->timer);
	set_timer_at(proc, 0);
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

void vk_proc_alloc_failed(struct vk_proc *proc, void *code, size_t size, size_t left)
{
	struct vk_proc_extra *extra = vk_proc_extra(proc);

	if (!extra || extra->app_error.what != VK_APP_ERROR_NONE)
		return;
	extra->app_error.what = VK_APP_ERROR_ALLOC;
	extra->app_error.code = code;
	extra->app_error.size = size;
	extra->app_error.left = left;
}

/* The peer families a control block tells apart, in its two bits. */
enum { PEER_NONE, PEER_INET, PEER_INET6, PEER_UNIX };

void vk_peer_from(struct vk_peer *peer, const struct sockaddr *addr, socklen_t len)
{
	memset(peer, 0, sizeof(*peer));
	peer->family = AF_UNSPEC;
	if (len < sizeof(sa_family_t))
		return;
	if (addr->sa_family == AF_INET && len >= sizeof(struct sockaddr_in)) {
		const struct sockaddr_in *in = (const struct sockaddr_in *)addr;

		memcpy(peer->addr, &in->sin_addr, sizeof(in->sin_addr));
		peer->port = in->sin_port;
		peer->family = AF_INET;
	} else if (addr->sa_family == AF_INET6 && len >= sizeof(struct sockaddr_in6)) {
		const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)addr;

		memcpy(peer->addr, &in6->sin6_addr, sizeof(in6->sin6_addr));
		peer->port = in6->sin6_port;
		peer->family = AF_INET6;
	} else if (addr->sa_family == AF_UNIX) {
		peer->family = AF_UNIX; /* the path says nothing: an accepted peer has none */
	}
}

void vk_proc_set_peer(struct vk_proc *proc, const struct sockaddr *addr, socklen_t len)
{
	struct vk_peer peer;

	vk_peer_from(&peer, addr, len);
	memcpy(proc->peer_addr, peer.addr, sizeof(proc->peer_addr));
	proc->peer_port = peer.port;
	proc->peer_family = peer.family == AF_INET    ? PEER_INET
			    : peer.family == AF_INET6 ? PEER_INET6
			    : peer.family == AF_UNIX  ? PEER_UNIX
						      : PEER_NONE;
}

void vk_proc_peer(const struct vk_proc *proc, struct vk_peer *peer)
{
	static const uint8_t family[] = {[PEER_NONE] = AF_UNSPEC,
					 [PEER_INET] = AF_INET,
					 [PEER_INET6] = AF_INET6,
					 [PEER_UNIX] = AF_UNIX};

	memset(peer, 0, sizeof(*peer));
	memcpy(peer->addr, proc->peer_addr, sizeof(peer->addr));
	peer->port = proc->peer_port;
	peer->family = family[proc->peer_family];
}

const char *vk_proc_peer_text(const struct vk_proc *proc, char *buf, size_t size)
{
	struct vk_peer peer;

	vk_proc_peer(proc, &peer);
	return vk_peer_text(&peer, buf, size);
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

	if (peer->family == AF_INET) {
		inet_ntop(AF_INET, peer->addr, host, sizeof(host));
		snprintf(buf, size, "%s:%u", host, ntohs(peer->port));
	} else if (peer->family == AF_INET6) {
		inet_ntop(AF_INET6, peer->addr, host, sizeof(host));
		snprintf(buf, size, "[%s]:%u", host, ntohs(peer->port));
	} else if (peer->family == AF_UNIX) {
		snprintf(buf, size, "unix");
	} else {
		snprintf(buf, size, "no peer");
	}
	return buf;
}
