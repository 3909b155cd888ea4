#include "vk_handoff.h"

#include <errno.h>
#include <stdlib.h>

#include "vk_bus.h"
#include "vk_chan.h"
#include "vk_poll.h"
#include "vk_post.h"
#include "vk_proc.h"
#include "vk_task.h"

typedef void (*vk_io_cb)(struct ev_loop *loop, struct ev_io *io, int revents);

/* A handoff in progress: kernel memory, found from the end (its agent context). */
struct vk_handoff {
	struct vk_fd *entry;
	struct vk_chan_end *end; /* the handing process's end, an agent meanwhile */
	struct vk_bus *bus;
	struct vk_post *post; /* wakes the handing task */
	struct vk_vectoring *own_rx;
	struct vk_vectoring *own_tx;
	vk_io_cb own_cb;
	void *own_data;
	LIST_ENTRY(vk_handoff) link; /* in the bus's list to flush */
	int error;		     /* the descriptor's */
	uint8_t peer_eof;	     /* the descriptor's peer sent its end */
	uint8_t done;		     /* the task was told */
};

static void list(struct vk_handoff *h)
{
	if (vk_list_linked(h, link) || h->done)
		return;
	LIST_INSERT_HEAD(&h->bus->handoffs, h, link);
}

/* Over when the descriptor failed, or the other end closed and all it wrote went. */
static void check_done(struct vk_handoff *h)
{
	if (h->done)
		return;
	if (!h->error && !(vk_chan_other(h->end)->closed && !vk_vectoring_used(h->end->rx)))
		return;
	h->done = 1;
	vk_list_unlink(h, link);
	vk_poll_stop_read(h->entry);
	vk_post_fire(h->post);
}

/* Read what the peer sent straight into the channel, heaps closed. */
static void fill(struct vk_handoff *h)
{
	ssize_t n;

	if (vk_chan_reserve(h->end) < 0) {
		h->error = ENOMEM;
		check_done(h);
		return;
	}
	n = vk_poll_fill(h->entry);
	if (n == -EAGAIN) {
		/* Nothing came, or the ring is full: an empty ring costs no buffer. */
		vk_chan_trim(h->end);
		return;
	}
	if (n == 0)
		h->peer_eof = 1;
	if (n < 0)
		h->error = (int)-n;
	/* Bytes, the end of the stream or an error: the reader hears of each. */
	vk_chan_wrote(h->end);
	check_done(h);
}

/* Send what the other end wrote, heaps closed; it hears of the room made. */
static void send_out(struct vk_handoff *h)
{
	ssize_t n;

	if (vk_vectoring_used(h->end->rx) && !h->error) {
		n = vk_poll_send(h->entry);
		if (n < 0)
			h->error = (int)-n;
		else if (n > 0)
			vk_chan_read(h->end, (size_t)n);
	}
	check_done(h);
}

static void io_cb(struct ev_loop *loop, struct ev_io *io, int revents)
{
	struct vk_handoff *h = io->data;

	(void)loop;
	if (revents & EV_WRITE) {
		vk_poll_stop_write(h->entry);
		send_out(h);
	}
	if ((revents & EV_READ) && !h->done)
		fill(h);
}

/* The other end wrote, read, or closed. */
static void agent(struct vk_chan_end *end, void *ctx)
{
	struct vk_handoff *h = ctx;
	struct vk_vectoring *tx = end->tx;

	if (h->done)
		return;
	if (vk_vectoring_used(end->rx))
		list(h);
	/* It made room in a ring that had filled: the peer's bytes may come again. */
	if (!h->entry->reading && !tx->eof && !tx->error && vk_vectoring_free(tx))
		vk_poll_want_read(h->entry);
	check_done(h);
}

/* The descriptor and the end go back to the process; `h` is freed. */
static void restore(struct vk_handoff *h, struct vk_proc *proc)
{
	struct vk_fd *entry = h->entry;
	struct vk_chan_end *end = h->end;

	vk_list_unlink(h, link);
	if (entry->proc == proc && entry->rx == end->tx) {
		entry->handed = 0;
		ev_set_cb(&entry->io, h->own_cb);
		entry->io.data = h->own_data;
		entry->rx = h->own_rx;
		entry->tx = h->own_tx;
		if (h->peer_eof)
			h->own_rx->eof = 1;
	}
	if (!end->closed) {
		/* Back on the process's list: closed with it at the latest. */
		if (vk_chan_from_agent(end, proc) < 0)
			vk_chan_close(end, 0);
	} else {
		end->agent = NULL;
		end->agent_ctx = NULL;
	}
	if (h->post) {
		h->post->owner = NULL;
		h->post->cancel = NULL;
	}
	free(h);
}

/* The process ends while handed off (vk_post_destroy_all()). */
static void cancel(struct vk_post *post)
{
	struct vk_handoff *h = post->owner;

	if (!h)
		return;
	h->post = NULL;
	restore(h, post->proc);
}

static int joinable(const struct vk_fd *entry)
{
	return !entry->connecting && !entry->listener && !vk_poll_watcher(entry) &&
	       !vk_poll_parked_tx(entry) && !entry->file && !entry->splice_rx && !entry->splice_tx;
}

/* The socket's own bytes first: unsent ones out, unread ones into the channel. */
static ssize_t settle_own(struct vk_task *task, struct vk_fd *entry, struct vk_vectoring *own_rx,
			  struct vk_chan_end *end)
{
	struct iovec iov[2];
	ssize_t n;

	n = vk_poll_drain(entry, task);
	if (n < 0)
		return n;
	if (own_rx->error)
		return -own_rx->error;
	while (vk_vectoring_used_iov(own_rx, iov) > 0) {
		n = vk_chan_put(end, iov[0].iov_base, iov[0].iov_len);
		if (n < 0)
			return n;
		if (n == 0) {
			vk_task_block(task, &end->tx->writer, VK_WAIT_WRITE);
			return -EAGAIN;
		}
		vk_vectoring_consumed(own_rx, (size_t)n);
	}
	return 0;
}

static ssize_t start(struct vk_thread *that, struct vk_fd *entry, struct vk_vectoring *own_rx,
		     struct vk_chan_end *end)
{
	struct vk_task *task = vk_task_of(that);
	struct vk_proc *proc = vk_task_proc(that);
	struct vk_handoff *h;
	ssize_t n = settle_own(task, entry, own_rx, end);

	if (n < 0)
		return n;
	h = calloc(1, sizeof(*h));
	if (!h)
		return -ENOMEM;
	h->post = vk_post_create(proc);
	if (!h->post) {
		free(h);
		return -ENOMEM;
	}
	h->post->owner = h;
	h->post->cancel = cancel;
	h->entry = entry;
	h->end = end;
	h->bus = proc->sched->bus;
	h->own_rx = entry->rx;
	h->own_tx = entry->tx;
	h->own_cb = (vk_io_cb)entry->io.cb;
	h->own_data = entry->io.data;
	vk_chan_to_agent(end, agent, h);
	entry->rx = end->tx;
	entry->tx = end->rx;
	entry->handed = 1;
	ev_set_cb(&entry->io, io_cb);
	entry->io.data = h;
	that->op_done = 1;
	if (own_rx->eof) {
		h->peer_eof = 1;
		end->tx->eof = 1;
		vk_chan_wrote(end);
		vk_poll_stop_read(entry);
	} else {
		vk_poll_want_read(entry);
		fill(h);
	}
	if (vk_vectoring_used(end->rx))
		list(h);
	check_done(h);
	return h->done ? 1 : 0;
}

/* The task woke: the handoff is over (or timed out); the rings go back. */
static ssize_t finish(struct vk_thread *that, struct vk_handoff *h)
{
	struct vk_post *post = h->post;
	int error = h->error;

	if (!error && that->wake_error)
		error = that->wake_error;
	that->wake_error = 0;
	/* The other end faulted: what it owed never comes. */
	if (!error && h->end->rx->error)
		error = h->end->rx->error;
	restore(h, vk_task_proc(that));
	vk_post_destroy(post);
	return error ? -error : 0;
}

ssize_t vk_handoff_step(struct vk_thread *that, struct vk_fd *entry, struct vk_vectoring *own_rx,
			struct vk_chan_end *end)
{
	struct vk_proc *proc = vk_task_proc(that);
	struct vk_handoff *h;
	ssize_t n;

	if (that->op_done) {
		h = end->agent == agent ? end->agent_ctx : NULL;
		if (!h || h->entry != entry) {
			that->wake_error = 0;
			return -EBADF;
		}
		if (!h->done && !that->wake_error) {
			vk_task_block_until(vk_task_of(that), &h->post->waiter, VK_WAIT_MESSAGE, 0);
			return -EAGAIN;
		}
		return finish(that, h);
	}
	if (that->wake_error) {
		n = -that->wake_error;
		that->wake_error = 0;
		return n;
	}
	if (!joinable(entry) || end->proc != proc || end->agent || end->closed)
		return -EBUSY;
	n = start(that, entry, own_rx, end);
	if (n < 0)
		return n;
	h = end->agent_ctx;
	if (n == 1)
		return finish(that, h);
	vk_task_block_until(vk_task_of(that), &h->post->waiter, VK_WAIT_MESSAGE, 0);
	return -EAGAIN;
}

void vk_handoff_flush(struct vk_bus *bus)
{
	while (!LIST_EMPTY(&bus->handoffs)) {
		struct vk_handoff *h = LIST_FIRST(&bus->handoffs);

		vk_list_unlink(h, link);
		send_out(h);
	}
}
