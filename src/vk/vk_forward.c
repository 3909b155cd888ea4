#include "vk_forward.h"

#include <errno.h>

#include "vk_poll.h"
#include "vk_socket_s.h"
#include "vk_task.h"

/*
 * While two sockets are joined, each descriptor's send ring is the other
 * descriptor's receive ring: the poller reads into one and writes out of
 * it, as it does for any socket, and the joining task only steers (reads
 * on again when a ring has room, a shutdown when a side ended) and keeps
 * time. It is each descriptor's watcher, woken after every event and every
 * write of either. `op_done` holds the step's state across waits: 0 before
 * the join, else 1 + the deadline in milliseconds (ev_now() time).
 */

static int joinable(const struct vk_socket *s)
{
	return s->entry && s->rx == &s->rx_own && s->tx == &s->tx_own && !s->entry->connecting &&
	       !s->entry->listener;
}

/* Send what the socket itself holds to send, before the join. */
static ssize_t flush_own(struct vk_thread *that, struct vk_socket *s)
{
	ssize_t n;

	if (!vk_vectoring_used(s->tx))
		return 0;
	n = vk_poll_flush(s->entry);
	if (n < 0)
		return n;
	if (!vk_vectoring_used(s->tx))
		return 0;
	vk_task_block(vk_task_of(that), &s->tx->writer);
	return -EAGAIN;
}

static void join(struct vk_thread *that, struct vk_socket *a, struct vk_socket *b)
{
	a->entry->tx = b->rx;
	b->entry->tx = a->rx;
	a->entry->watcher = vk_task_of(that);
	b->entry->watcher = vk_task_of(that);
}

static ssize_t part(struct vk_socket *a, struct vk_socket *b, ssize_t result)
{
	a->entry->tx = a->tx;
	b->entry->tx = b->tx;
	a->entry->watcher = NULL;
	b->entry->watcher = NULL;
	return result;
}

/*
 * Bytes one direction may move in one wake-up, beyond what the poller's
 * events moved: a pump that reads again while the source has more and
 * writes while the sink takes it saves an event-loop round (and, with
 * isolation, a protection change) per ring. Bounded, so that one busy
 * pair does not keep the worker from its other connections.
 */
#define VK_FORWARD_PUMP (256 * 1024)

/* Move what the source has and the sink takes, up to VK_FORWARD_PUMP. */
static ssize_t pump(struct vk_socket *from, struct vk_socket *to)
{
	struct vk_vectoring *ring = from->rx;
	size_t moved = 0;

	while (moved < VK_FORWARD_PUMP) {
		ssize_t n;

		if (vk_vectoring_used(ring)) {
			if (to->entry->writing)
				return 0; /* the sink is full: its writability comes back here */
			n = vk_poll_flush(to->entry);
			if (n <= 0)
				return n;
			moved += (size_t)n;
			continue;
		}
		if (ring->eof || ring->error || from->entry->drained)
			return 0;
		n = vk_poll_fill(from->entry);
		if (n == -EAGAIN || n == 0)
			return 0;
		if (n < 0)
			return n;
	}
	return 0;
}

/*
 * One direction, from `from` (its receive ring) to `to` (its
 * descriptor). Returns 1 when it has ended (end of stream passed on),
 * 0 while it goes on, or -errno.
 */
static ssize_t steer(struct vk_socket *from, struct vk_socket *to)
{
	struct vk_vectoring *ring = from->rx;
	ssize_t n = pump(from, to);

	/* A failed write of `to` is recorded on the ring it wrote from. */
	if (ring->error)
		return -ring->error;
	if (n < 0)
		return n;
	if (ring->eof) {
		int rc;

		if (vk_vectoring_used(ring))
			return 0;
		rc = vk_poll_shutdown(to->entry);
		return rc < 0 ? rc : 1;
	}
	if (vk_vectoring_free(ring))
		vk_poll_want_read(from->entry);
	return 0;
}

ssize_t vk_socket_forward_step(struct vk_thread *that, struct vk_socket *a, struct vk_socket *b)
{
	struct vk_proc *proc = vk_task_proc(that);
	uint32_t ms = that->timeout_ms;
	double now = vk_proc_now(proc);
	ssize_t ab, ba;

	if (that->op_done == 0) {
		ssize_t n;

		if (!joinable(a) || !joinable(b) || a == b)
			return -ENOTSOCK;
		n = flush_own(that, a);
		if (n == 0)
			n = flush_own(that, b);
		if (n < 0)
			return n;
		join(that, a, b);
	} else if (that->wake_error) {
		/* The process's idle timeout, or another end handed over. */
		ssize_t error = -that->wake_error;

		that->wake_error = 0;
		return part(a, b, error);
	} else if (that->op_done > 1 && now * 1000.0 >= (double)(that->op_done - 1)) {
		return part(a, b, -ETIMEDOUT);
	}
	ab = steer(a, b);
	ba = steer(b, a);
	if (ab < 0 || ba < 0)
		return part(a, b, ab < 0 ? ab : ba);
	if (ab == 1 && ba == 1)
		return part(a, b, 0);
	/* Any wake-up is progress of one side or the other: the idle time starts over. */
	that->op_done = ms ? 1 + (size_t)((now + ms / 1000.0) * 1000.0) : 1;
	vk_task_block_until(vk_task_of(that), NULL, ms ? now + ms / 1000.0 : 0);
	return -EAGAIN;
}
