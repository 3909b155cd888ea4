#include "vk_forward.h"

#include <errno.h>

#include "vk_poll.h"
#include "vk_socket_s.h"
#include "vk_task.h"

/*
 * While two sockets are joined, each descriptor's send ring is the other
 * descriptor's receive ring (its own parked in the entry): the poller
 * reads into one and writes out of it, as it does for any socket, and the
 * joining task steers (reads again while there is more, a shutdown when a
 * side ended) and keeps time. It is each descriptor's watcher, woken after
 * every event and every write of either. `op_done` holds the step's state
 * across waits: 0 before the join, else 1 + the deadline in milliseconds
 * (ev_now() time).
 *
 * Once a direction's ring is empty it goes through a pipe of its own
 * instead (vk_poll_pipe()): splice(2) in from the source and out to the
 * sink, the bytes never in a heap, two system calls per pipeful (64 KiB)
 * instead of two per ringful. Without a pipe (the worker's budget of pipe
 * descriptors spent, a descriptor splice(2) refuses) the direction stays
 * on its ring.
 *
 * Everything goes through the two descriptor entries, which live in the
 * kernel's table: the sockets' own pointers are read back from the heap,
 * which the app's code can write, so each step checks the entries
 * (vk_poll_owned()) and takes the rings from them.
 */

/*
 * Bytes one direction may move in one wake-up, beyond what the poller's
 * events moved: a pump that reads again while the source has more and
 * writes while the sink takes it saves an event-loop round (and, with
 * isolation, a protection change) per ring. Bounded, so that one busy
 * pair does not keep the worker from its other connections.
 */
#define VK_FORWARD_PUMP (256 * 1024)

static struct vk_fd *entry_of(struct vk_thread *that, const struct vk_socket *s)
{
	return s->entry ? vk_poll_owned(vk_task_proc(that), s->entry) : NULL;
}

static int joinable(const struct vk_fd *entry)
{
	return entry && !entry->connecting && !entry->listener && !vk_poll_watcher(entry);
}

/* Returns 0, or -ENOMEM before anything changed. */
static int join(struct vk_thread *that, struct vk_fd *a, struct vk_fd *b)
{
	if (!vk_poll_join(a) || !vk_poll_join(b))
		return -ENOMEM;
	a->join->parked_tx = a->tx;
	b->join->parked_tx = b->tx;
	a->tx = b->rx;
	b->tx = a->rx;
	a->join->watcher = vk_task_of(that);
	b->join->watcher = vk_task_of(that);
	return 0;
}

static void unjoin(struct vk_fd *entry)
{
	if (!entry || !vk_poll_parked_tx(entry))
		return;
	vk_poll_unpipe(entry, NULL);
	entry->splice_tx = 0;
	entry->no_splice = 0;
	entry->tx = entry->join->parked_tx;
	entry->join->parked_tx = NULL;
	entry->join->watcher = NULL;
}

static ssize_t part(struct vk_fd *a, struct vk_fd *b, ssize_t result)
{
	unjoin(a);
	unjoin(b);
	return result;
}

/* Move what the source has and the sink takes, up to VK_FORWARD_PUMP. */
static ssize_t pump(struct vk_fd *from, struct vk_fd *to)
{
	struct vk_vectoring *ring = from->rx;
	size_t moved = 0;

	while (moved < VK_FORWARD_PUMP) {
		ssize_t n;

		if (vk_vectoring_used(ring)) {
			if (to->writing)
				return 0; /* the sink is full: its writability comes back here */
			n = vk_poll_flush(to);
			if (n <= 0)
				return n;
			moved += (size_t)n;
			continue;
		}
		if (ring->eof || ring->error || from->drained)
			return 0;
		n = vk_poll_fill(from);
		if (n == -EAGAIN || n == 0)
			return 0;
		if (n < 0)
			return n;
	}
	return 0;
}

/*
 * Splice what the source has and the sink takes, up to VK_FORWARD_PUMP,
 * reading on while the pipe has room and writing on while the sink takes.
 */
static ssize_t pump_pipe(struct vk_fd *from, struct vk_fd *to)
{
	size_t moved = 0;

	while (moved < VK_FORWARD_PUMP) {
		int progress = 0;
		ssize_t n;

		if (!from->splice_eof && !from->drained &&
		    from->join->piped < from->join->pipe_size) {
			n = vk_poll_splice_in(from);
			if (n < 0 && n != -EAGAIN)
				return n;
			progress = n > 0;
		}
		if (from->join->piped && !to->writing) {
			n = vk_poll_splice_out(from, to);
			if (n < 0 && n != -EAGAIN)
				return n;
			if (n > 0) {
				moved += (size_t)n;
				progress = 1;
			}
		}
		if (!progress)
			break;
	}
	return 0;
}

/*
 * One direction through `from`'s pipe. Reading is watched only while the
 * pipe is empty: with bytes in it the source waits for the sink, whose
 * writability comes back here (a full pipe would make a readable source
 * wake the task for nothing, over and over).
 */
static ssize_t steer_pipe(struct vk_fd *from, struct vk_fd *to)
{
	ssize_t n = pump_pipe(from, to);

	if (n < 0)
		return n;
	if (from->splice_eof && !from->join->piped) {
		int rc = vk_poll_shutdown(to);

		return rc < 0 ? rc : 1;
	}
	if (from->join->piped) {
		vk_poll_stop_read(from);
		/* Stopped by the budget, not by a full sink: come back at once. */
		if (!to->writing)
			vk_poll_want_write(to);
	} else if (!from->splice_eof) {
		vk_poll_want_read(from);
	}
	return 0;
}

/*
 * The direct path, once the source's ring is empty: a pipe within the
 * worker's budget (else, or when a pipe is refused, the ring for good).
 */
static int try_pipe(struct vk_fd *from, struct vk_fd *to)
{
	struct vk_vectoring *ring = from->rx;

	if (from->no_splice || vk_vectoring_used(ring) || ring->eof || ring->error)
		return 0;
	if (vk_poll_pipe(from, to) < 0) {
		from->no_splice = 1;
		return 0;
	}
	return 1;
}

/*
 * One direction, from `from` (its receive ring, or its pipe) to `to`
 * (its descriptor). Returns 1 when it has ended (end of stream passed
 * on), 0 while it goes on, or -errno.
 */
static ssize_t steer(struct vk_fd *from, struct vk_fd *to)
{
	struct vk_vectoring *ring = from->rx;
	ssize_t n;

	if (from->splice_rx || try_pipe(from, to)) {
		n = steer_pipe(from, to);
		/* A descriptor splice(2) cannot read from, before any byte: its ring, then. */
		if (n != -EINVAL || from->join->piped || !from->splice_rx)
			return n;
		vk_poll_unpipe(from, to);
		from->no_splice = 1;
	}
	n = pump(from, to);

	/* A failed write of `to` is recorded on the ring it wrote from. */
	if (ring->error)
		return -ring->error;
	if (n < 0)
		return n;
	if (ring->eof) {
		int rc;

		if (vk_vectoring_used(ring))
			return 0;
		rc = vk_poll_shutdown(to);
		return rc < 0 ? rc : 1;
	}
	if (vk_vectoring_free(ring))
		vk_poll_want_read(from);
	return 0;
}

/* The entry when this task has it joined, else NULL. */
static struct vk_fd *joined(struct vk_thread *that, struct vk_fd *entry)
{
	return entry && vk_poll_watcher(entry) == vk_task_of(that) ? entry : NULL;
}

/*
 * Before the join, what woke the task: an error (the coroutine's timeout
 * while the sockets' own bytes go out, the process's idle timeout, an end
 * handed over) ends the forward; there is nothing to undo yet.
 */
static ssize_t start(struct vk_thread *that, struct vk_fd *ea, struct vk_fd *eb)
{
	ssize_t n;

	if (that->wake_error) {
		n = -that->wake_error;
		that->wake_error = 0;
		return n;
	}
	if (!joinable(ea) || !joinable(eb) || ea == eb)
		return -ENOTSOCK;
	n = vk_poll_drain(ea, vk_task_of(that));
	if (n == 0)
		n = vk_poll_drain(eb, vk_task_of(that));
	if (n < 0)
		return n;
	return join(that, ea, eb);
}

ssize_t vk_socket_forward_step(struct vk_thread *that, struct vk_socket *a, struct vk_socket *b)
{
	struct vk_proc *proc = vk_task_proc(that);
	struct vk_fd *ea = entry_of(that, a), *eb = entry_of(that, b);
	uint32_t ms = that->timeout_ms;
	double now = vk_proc_now(proc);
	ssize_t ab, ba;

	if (that->op_done == 0) {
		ssize_t n = start(that, ea, eb);

		if (n < 0)
			return n;
	} else if (!joined(that, ea) || !joined(that, eb)) {
		/* A socket was closed, or its entry lost, while joined. */
		that->wake_error = 0;
		return part(joined(that, ea), joined(that, eb), -EBADF);
	} else if (that->wake_error) {
		/* The process's idle timeout, or another end handed over. */
		ssize_t error = -that->wake_error;

		that->wake_error = 0;
		return part(ea, eb, error);
	} else if (that->op_done > 1 && now * 1000.0 >= (double)(that->op_done - 1)) {
		return part(ea, eb, -ETIMEDOUT);
	}
	ab = steer(ea, eb);
	ba = steer(eb, ea);
	if (ab < 0 || ba < 0)
		return part(ea, eb, ab < 0 ? ab : ba);
	if (ab == 1 && ba == 1)
		return part(ea, eb, 0);
	/* Any wake-up is progress of one side or the other: the idle time starts over. */
	that->op_done = ms ? 1 + (size_t)((now + ms / 1000.0) * 1000.0) : 1;
	vk_task_block_until(vk_task_of(that), NULL, VK_WAIT_FORWARD, ms ? now + ms / 1000.0 : 0);
	return -EAGAIN;
}
