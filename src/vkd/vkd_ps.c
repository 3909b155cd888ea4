/*
 * vkd_ps: a worker answers the master's ps and kill; see vkd_ps.h.
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "vkd_chan.h"
#include "vkd_log.h"
#include "vkd_ps.h"

/* Bytes of requests read per wake-up: a request is at most a few dozen. */
#define PS_READ_MAX 4096

struct vkd_ps {
	struct ev_loop *loop;
	struct vk_kern *kern;
	struct ev_io io;
	int fd;
	int active; /* the watcher runs (without a reference on the loop) */
	struct vkd_chan_in in;
	struct vkd_chan_out out;
	/* The ps being answered. */
	int walking;
	uint32_t id;
	struct vkd_chan_ps_end end;
	struct vk_proc_info slice[VKD_PS_SLICE];
};

static uint64_t clock_ns(clockid_t clock)
{
	struct timespec ts;

	clock_gettime(clock, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/*
 * Watch for requests always; for room to write while there is more to
 * say, or a request read and not answered yet (its bytes will not make
 * the socket readable again).
 */
static void watch(struct vkd_ps *ps)
{
	int bad;
	int more = ps->walking || vkd_chan_pending(&ps->out) || vkd_chan_frame(&ps->in, &bad);
	int events = EV_READ | (more ? EV_WRITE : 0);

	if (!ps->active || (ps->io.events & (EV_READ | EV_WRITE)) == events)
		return;
	/* Stopping and starting again leaves the loop's reference count as it was. */
	ev_io_stop(ps->loop, &ps->io);
	ev_io_set(&ps->io, ps->fd, events);
	ev_io_start(ps->loop, &ps->io);
}

static void stop(struct vkd_ps *ps)
{
	if (!ps->active)
		return;
	ps->active = 0;
	ev_ref(ps->loop);
	ev_io_stop(ps->loop, &ps->io);
}

/* The master is gone or spoke nonsense: stop answering (a SIGTERM follows). */
static void give_up(struct vkd_ps *ps, const char *why)
{
	vkd_debug("channel to the master: %s", why);
	stop(ps);
	ps->walking = 0;
}

/*
 * One slice of the ps: the next VKD_PS_SLICE processes, or the end. What
 * it took is the worker's pause for it (the copy out of the control
 * blocks and into the buffer), counted before the end is told.
 */
static int ps_slice(struct vkd_ps *ps)
{
	uint64_t t0 = clock_ns(CLOCK_MONOTONIC), cpu0 = clock_ns(CLOCK_THREAD_CPUTIME_ID), took,
		 cpu;
	size_t n = vk_kern_walk(ps->kern, ps->slice, VKD_PS_SLICE);
	int rc = 0;

	if (n)
		rc = vkd_chan_put(&ps->out, VKD_CHAN_PS_PART, ps->id, 0, ps->slice,
				  n * sizeof(ps->slice[0]));
	cpu = clock_ns(CLOCK_THREAD_CPUTIME_ID) - cpu0;
	took = clock_ns(CLOCK_MONOTONIC) - t0;
	ps->end.procs += n;
	ps->end.slices++;
	if (took > ps->end.max_slice_ns)
		ps->end.max_slice_ns = took;
	if (cpu > ps->end.max_slice_cpu_ns)
		ps->end.max_slice_cpu_ns = cpu;
	if (n)
		return rc;
	ps->walking = 0;
	return vkd_chan_put(&ps->out, VKD_CHAN_PS_END, ps->id, 0, &ps->end, sizeof(ps->end));
}

/* Take the next request; 0 when there is none, -1 on a bad one. */
static int next_request(struct vkd_ps *ps)
{
	int bad, rc = 0;
	const struct vkd_chan_head *head = vkd_chan_frame(&ps->in, &bad);
	uint64_t id;

	if (!head)
		return bad;
	if (head->type == VKD_CHAN_PS) {
		ps->walking = 1;
		ps->id = head->id;
		memset(&ps->end, 0, sizeof(ps->end));
		vk_kern_walk_begin(ps->kern);
		rc = ps_slice(ps);
	} else if (head->type == VKD_CHAN_KILL && head->len == sizeof(id)) {
		memcpy(&id, head + 1, sizeof(id));
		rc = vk_kern_kill(ps->kern, id);
		rc = vkd_chan_put(&ps->out, VKD_CHAN_KILL_DONE, head->id,
				  rc < 0 ? (uint32_t)-rc : 0, NULL, 0);
	} else {
		return -1;
	}
	vkd_chan_consume(&ps->in);
	return rc < 0 ? -1 : 1;
}

static void io_callback(struct ev_loop *loop, struct ev_io *io, int revents)
{
	struct vkd_ps *ps = io->data;
	int rc;

	(void)loop;
	if ((revents & EV_READ) && vkd_chan_read(ps->fd, &ps->in, PS_READ_MAX) < 0) {
		give_up(ps, strerror(errno));
		return;
	}
	rc = vkd_chan_flush(ps->fd, &ps->out);
	/* One slice or one request a turn, and only once the last went out. */
	if (rc == 1 && ps->walking)
		rc = ps_slice(ps) < 0 ? -1 : vkd_chan_flush(ps->fd, &ps->out);
	else if (rc == 1 && (rc = next_request(ps)) > 0)
		rc = vkd_chan_flush(ps->fd, &ps->out);
	if (rc < 0) {
		give_up(ps, "a bad request, or the master went");
		return;
	}
	watch(ps);
}

struct vkd_ps *vkd_ps_open(struct ev_loop *loop, struct vk_kern *kern, int fd)
{
	struct vkd_ps *ps = calloc(1, sizeof(*ps));

	if (!ps)
		return NULL;
	ps->loop = loop;
	ps->kern = kern;
	ps->fd = fd;
	ev_io_init(&ps->io, io_callback, fd, EV_READ);
	ps->io.data = ps;
	ev_io_start(loop, &ps->io);
	/* It must not keep the loop running: a drained worker exits with it open. */
	ev_unref(loop);
	ps->active = 1;
	return ps;
}

void vkd_ps_close(struct vkd_ps *ps)
{
	if (!ps)
		return;
	stop(ps);
	close(ps->fd);
	vkd_chan_in_free(&ps->in);
	vkd_chan_out_free(&ps->out);
	free(ps);
}
