#include "vk_listener.h"

#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

/*
 * Connections accepted per readiness event: one, and one more for every
 * VK_ACCEPT_PER dispatches of the worker since its last accept, up to
 * VK_ACCEPT_MAX. One alone starves new connections under load: each loop
 * iteration serves every ready connection, so with 500 busy keep-alive
 * connections an iteration took milliseconds and the other 500 of a
 * 1,000-connection client waited in the accept queue for seconds (seen:
 * 2 accepts per 250 ms for 3 s with the listen queue at 409-506 of 511;
 * p99 2.4-3.3 s, single waits over 5 s). Accepting in proportion to the
 * work done bounds that wait by about one iteration. An idle worker
 * still takes one per event: workers share one accept queue, and a
 * worker that took a burst in one go would serve it all while another
 * sat idle (seen: 100 wrk connections split 100/0 and 64/36 between two
 * workers at a fixed 64). Two busy workers each accept about one
 * connection per VK_ACCEPT_PER dispatches, which balances them too.
 */
#define VK_ACCEPT_PER 2
#define VK_ACCEPT_MAX 512
/* How long accepting pauses after EMFILE and the like. */
#define VK_ACCEPT_PAUSE_S 0.1
/* While accept keeps failing (every pause), one warning per this many seconds. */
#define VK_ACCEPT_WARN_S 10.0

/*
 * The limit that listeners share (an app with several addresses has one):
 * live processes against max_procs. It lives while a listener or a live
 * process counts in it, so listeners may close in any order.
 */
struct vk_listen_group {
	unsigned active;
	unsigned max_procs;
	unsigned refs;
};

struct vk_listener {
	struct vk_kern *kern;
	struct vk_listen_group *group;
	struct ev_io io;
	struct ev_timer retry; /* resumes accepting after EMFILE */
	ev_tstamp warned_at;   /* of the last accept warning */
	uint64_t dispatches;   /* the worker's dispatch count at the last accept */
	unsigned failures;     /* accept failures since that warning */
	struct vk_proc_config config;
	vk_func main;
	void *arg;
};

static void group_release(struct vk_listen_group *group)
{
	if (--group->refs == 0)
		free(group);
}

static void listener_proc_exit(struct vk_proc *proc, void *ctx)
{
	struct vk_listen_group *group = ctx;

	(void)proc;
	group->active--;
	group_release(group);
}

/*
 * Out of descriptors lasts as long as the connections holding them: a
 * warning per pause would be ten lines a second for all that time.
 */
static void accept_warn(struct vk_listener *listener, int error)
{
	ev_tstamp now = ev_now(vk_kern_loop(listener->kern));

	listener->failures++;
	if (listener->warned_at && now - listener->warned_at < VK_ACCEPT_WARN_S)
		return;
	if (listener->failures > 1)
		vk_log(4, "accept: %s; %u failures in %.0f s, pausing 100 ms each", strerror(error),
		       listener->failures, now - listener->warned_at);
	else
		vk_log(4, "accept: %s; pausing 100 ms", strerror(error));
	listener->warned_at = now;
	listener->failures = 0;
}

/* Out of descriptors: pause instead of spinning on readiness. */
static void accept_pause(struct vk_listener *listener, int error)
{
	struct ev_loop *loop = vk_kern_loop(listener->kern);

	accept_warn(listener, error);
	ev_io_stop(loop, &listener->io);
	/* Set again each time: a one-shot timer that fired keeps what was left of it (nothing). */
	ev_timer_set(&listener->retry, VK_ACCEPT_PAUSE_S, 0.);
	ev_timer_start(loop, &listener->retry);
}

static void refuse(struct vk_listener *listener, struct vk_stats *stats)
{
	stats->refused++;
	if (listener->config.app_stats)
		listener->config.app_stats->refused++;
}

/* Make an accepted connection a micro-process, within the group's limit. */
static void admit(struct vk_listener *listener, int fd, const struct sockaddr *peer,
		  socklen_t peer_len)
{
	struct vk_stats *stats = vk_kern_counters(listener->kern);
	struct vk_listen_group *group = listener->group;
	struct vk_proc *proc;

	stats->accepted++;
	if (group->active >= group->max_procs) {
		refuse(listener, stats);
		close(fd);
		return;
	}
	proc = vk_kern_spawn(listener->kern, &listener->config, listener->main, listener->arg, fd);
	if (!proc) {
		refuse(listener, stats);
		return;
	}
	vk_proc_set_peer(proc, peer, peer_len);
	group->active++;
	group->refs++;
}

/* How many connections to accept now: see VK_ACCEPT_PER. */
static unsigned accept_budget(struct vk_listener *listener)
{
	uint64_t now = vk_kern_counters(listener->kern)->dispatches;
	uint64_t work = (now - listener->dispatches) / VK_ACCEPT_PER;

	listener->dispatches = now;
	return work < VK_ACCEPT_MAX ? 1 + (unsigned)work : VK_ACCEPT_MAX;
}

static void accept_callback(struct ev_loop *loop, struct ev_io *io, int revents)
{
	struct vk_listener *listener = io->data;
	unsigned budget = accept_budget(listener);

	(void)loop;
	(void)revents;
	for (unsigned i = 0; i < budget; i++) {
		struct sockaddr_storage peer;
		socklen_t peer_len = sizeof(peer);
		/* The peer comes with the accept: no getpeername() per connection. */
		int fd = accept4(io->fd, (struct sockaddr *)&peer, &peer_len,
				 SOCK_NONBLOCK | SOCK_CLOEXEC);

		if (fd == -1) {
			if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS ||
			    errno == ENOMEM)
				accept_pause(listener, errno);
			return;
		}
		admit(listener, fd, (struct sockaddr *)&peer, peer_len);
	}
}

static void retry_callback(struct ev_loop *loop, struct ev_timer *timer, int revents)
{
	struct vk_listener *listener = timer->data;

	(void)revents;
	ev_io_start(loop, &listener->io);
}

struct vk_listener *vk_listener_open(struct vk_kern *kern, int fd,
				     const struct vk_proc_config *config, vk_func main, void *arg,
				     unsigned max_procs)
{
	struct vk_listener *listener = calloc(1, sizeof(*listener));
	struct vk_listen_group *group = calloc(1, sizeof(*group));

	if (!listener || !group) {
		free(listener);
		free(group);
		errno = ENOMEM;
		return NULL;
	}
	group->max_procs = max_procs ? max_procs : UINT32_MAX;
	group->refs = 1;
	listener->group = group;
	listener->kern = kern;
	listener->config = *config;
	/* Each process holds the group it was admitted by until it ends. */
	listener->config.on_exit = listener_proc_exit;
	listener->config.on_exit_ctx = group;
	listener->main = main;
	listener->arg = arg;
	ev_io_init(&listener->io, accept_callback, fd, EV_READ);
	listener->io.data = listener;
	ev_timer_init(&listener->retry, retry_callback, VK_ACCEPT_PAUSE_S, 0.);
	listener->retry.data = listener;
	ev_io_start(vk_kern_loop(kern), &listener->io);
	return listener;
}

int vk_listener_set_nodelay(struct vk_listener *listener, int on)
{
	int value = on ? 1 : 0;

	if (setsockopt(listener->io.fd, IPPROTO_TCP, TCP_NODELAY, &value, sizeof(value)) == 0)
		return 0;
	/* A Unix socket has no Nagle to turn off. */
	if (errno == EOPNOTSUPP || errno == ENOPROTOOPT)
		return 0;
	return -errno;
}

int vk_listener_set_defer_accept(struct vk_listener *listener, unsigned seconds)
{
	int value = seconds > INT_MAX ? INT_MAX : (int)seconds;

	if (setsockopt(listener->io.fd, IPPROTO_TCP, TCP_DEFER_ACCEPT, &value, sizeof(value)) == 0)
		return 0;
	if (errno == EOPNOTSUPP || errno == ENOPROTOOPT)
		return 0;
	return -errno;
}

void vk_listener_close(struct vk_listener *listener)
{
	struct ev_loop *loop = vk_kern_loop(listener->kern);

	ev_io_stop(loop, &listener->io);
	ev_timer_stop(loop, &listener->retry);
	/* Its live processes hold the group until they end. */
	group_release(listener->group);
	free(listener);
}

unsigned vk_listener_active(const struct vk_listener *listener)
{
	return listener->group->active;
}

void vk_listener_share(struct vk_listener *listener, struct vk_listener *with)
{
	if (listener->group == with->group)
		return;
	group_release(listener->group);
	listener->group = with->group;
	listener->group->refs++;
	listener->config.on_exit_ctx = listener->group;
}
