#include "vk_chan.h"

#include <errno.h>
#include <stdlib.h>

#include "vk_task.h"

struct vk_chan *vk_chan_create(struct vk_bus *bus, size_t ring_size)
{
	struct vk_chan *chan = calloc(1, sizeof(*chan));

	if (!chan)
		return NULL;
	chan->bus = bus;
	for (int i = 0; i < 2; i++) {
		/* No buffer until the first byte: an idle channel costs no ring memory. */
		vk_vectoring_init(&chan->ring[i], NULL, ring_size);
		chan->end[i].chan = chan;
		chan->end[i].tx = &chan->ring[i];
		chan->end[i].rx = &chan->ring[1 - i];
	}
	return chan;
}

static void unlink_end(struct vk_chan_end *end);

static void release_ring(struct vk_chan *chan, struct vk_vectoring *ring)
{
	if (!ring->buf)
		return;
	vk_bus_buf_put(chan->bus, ring->buf, ring->size);
	ring->buf = NULL;
	ring->len = 0;
	ring->start = 0;
}

static int ensure_ring(struct vk_chan *chan, struct vk_vectoring *ring)
{
	if (ring->buf)
		return 0;
	ring->buf = vk_bus_buf_get(chan->bus, ring->size);
	return ring->buf ? 0 : -ENOMEM;
}

/* The process's channel state, or NULL while it has none. */
static struct vk_chan_proc *chan_proc_of(const struct vk_proc *proc)
{
	return proc->extra ? proc->extra->chans : NULL;
}

struct vk_chan_proc *vk_chan_proc(struct vk_proc *proc)
{
	struct vk_proc_extra *extra = vk_proc_extra(proc);
	struct vk_chan_proc *cp;

	if (!extra)
		return NULL;
	if (extra->chans)
		return extra->chans;
	cp = calloc(1, sizeof(*cp));
	if (!cp)
		return NULL;
	cp->incoming_tail = &cp->incoming;
	extra->chans = cp;
	return cp;
}

int vk_chan_bind(struct vk_chan_end *end, struct vk_proc *proc)
{
	struct vk_chan_proc *cp = vk_chan_proc(proc);

	if (!cp)
		return -ENOMEM;
	end->proc = proc;
	LIST_INSERT_HEAD(&cp->ends, end, link);
	return 0;
}

void vk_chan_bind_agent(struct vk_chan_end *end, vk_chan_agent_fn fn, void *ctx)
{
	end->agent = fn;
	end->agent_ctx = ctx;
}

void vk_chan_to_agent(struct vk_chan_end *end, vk_chan_agent_fn fn, void *ctx)
{
	unlink_end(end);
	end->proc = NULL;
	vk_chan_bind_agent(end, fn, ctx);
}

int vk_chan_from_agent(struct vk_chan_end *end, struct vk_proc *proc)
{
	end->agent = NULL;
	end->agent_ctx = NULL;
	return vk_chan_bind(end, proc);
}

int vk_chan_reserve(struct vk_chan_end *end)
{
	return ensure_ring(end->chan, end->tx);
}

void vk_chan_trim(struct vk_chan_end *end)
{
	if (vk_vectoring_used(end->tx) == 0)
		release_ring(end->chan, end->tx);
}

/* Mark a process's end for its next dispatch, and queue the process. */
static void mark(struct vk_chan_end *end)
{
	struct vk_chan_proc *cp = end->proc->extra->chans;

	if (!end->pending) {
		end->pending = 1;
		end->pending_next = cp->pending;
		cp->pending = end;
	}
	vk_proc_schedule(end->proc);
}

/*
 * The other end changed a ring `end` uses: an agent hears at once; a
 * process only when `waiting` (a coroutine of it blocked on that ring).
 */
static void tell(struct vk_chan_end *end, const struct vk_task *waiting)
{
	if (end->closed)
		return;
	if (end->agent) {
		end->agent(end, end->agent_ctx);
		return;
	}
	if (end->proc && waiting)
		mark(end);
}

int vk_chan_offer(struct vk_chan_end *end, struct vk_proc *proc)
{
	struct vk_chan_proc *cp;
	int rc = vk_chan_bind(end, proc);

	if (rc < 0)
		return rc;
	cp = proc->extra->chans;
	end->incoming = 1;
	end->incoming_next = NULL;
	*cp->incoming_tail = end;
	cp->incoming_tail = &end->incoming_next;
	if (cp->acceptor) {
		cp->news = 1;
		vk_proc_schedule(proc);
	}
	return 0;
}

struct vk_chan_end *vk_chan_accept(struct vk_proc *proc)
{
	struct vk_chan_proc *cp = chan_proc_of(proc);
	struct vk_chan_end *end = cp ? cp->incoming : NULL;

	if (!end)
		return NULL;
	cp->incoming = end->incoming_next;
	if (!cp->incoming)
		cp->incoming_tail = &cp->incoming;
	end->incoming_next = NULL;
	end->incoming = 0;
	return end;
}

void vk_chan_await_offer(struct vk_task *task)
{
	struct vk_chan_proc *cp = vk_chan_proc(task->proc);

	/* Without the state there is nobody to offer to: a timeout ends the wait. */
	vk_task_block(task, cp ? &cp->acceptor : NULL, VK_WAIT_MESSAGE);
}

ssize_t vk_chan_put(struct vk_chan_end *end, const void *data, size_t len)
{
	struct vk_chan *chan = end->chan;
	size_t n;

	if (len == 0 || vk_vectoring_free(end->tx) == 0)
		return 0;
	if (ensure_ring(chan, end->tx) < 0)
		return -ENOMEM;
	n = vk_vectoring_put(end->tx, data, len);
	/* Counted where a process wrote them, not again where an agent passes them on. */
	if (end->proc)
		chan->bus->sched->stats->channel_bytes += n;
	vk_chan_wrote(end);
	return (ssize_t)n;
}

void vk_chan_wrote(struct vk_chan_end *end)
{
	tell(vk_chan_other(end), end->tx->reader);
}

void vk_chan_read(struct vk_chan_end *end, size_t n)
{
	if (n == 0)
		return;
	vk_chan_settle(end);
}

void vk_chan_settle(struct vk_chan_end *end)
{
	/* Empty: the buffer goes back; the next byte takes one again. */
	if (vk_vectoring_used(end->rx) == 0)
		release_ring(end->chan, end->rx);
	tell(vk_chan_other(end), end->rx->writer);
}

void vk_chan_readhup(struct vk_chan_end *end)
{
	struct vk_chan_end *other = vk_chan_other(end);

	if (other->closed)
		return;
	end->rx->eof = 0;
	tell(other, end->rx->writer);
}

/* Take a closing end off its owner's lists. */
static void unlink_end(struct vk_chan_end *end)
{
	struct vk_chan_proc *cp = end->proc ? chan_proc_of(end->proc) : NULL;
	struct vk_chan_end **link;

	if (!cp)
		return;
	LIST_REMOVE(end, link);
	if (end->pending) {
		for (link = &cp->pending; *link && *link != end; link = &(*link)->pending_next)
			;
		if (*link)
			*link = end->pending_next;
		end->pending = 0;
	}
	if (end->incoming) {
		for (link = &cp->incoming; *link && *link != end; link = &(*link)->incoming_next)
			;
		if (*link)
			*link = end->incoming_next;
		if (cp->incoming_tail == &end->incoming_next)
			cp->incoming_tail = link;
		end->incoming = 0;
	}
}

static void chan_free(struct vk_chan *chan)
{
	release_ring(chan, &chan->ring[0]);
	release_ring(chan, &chan->ring[1]);
	free(chan);
}

void vk_chan_close(struct vk_chan_end *end, int error)
{
	struct vk_chan *chan = end->chan;
	struct vk_chan_end *other = vk_chan_other(end);
	const struct vk_task *waiting;

	if (end->closed)
		return;
	end->closed = 1;
	unlink_end(end);
	/* What it wrote stays readable; then the end, or the error. */
	if (error)
		end->tx->error = error;
	else
		end->tx->eof = 1;
	end->tx->writer = NULL;
	/* What was written to it can never be read: its writer hears so. */
	release_ring(chan, end->rx);
	end->rx->error = error ? error : EPIPE;
	end->rx->reader = NULL;
	if (other->closed) {
		chan_free(chan);
		return;
	}
	waiting = other->rx->reader ? other->rx->reader : other->tx->writer;
	tell(other, waiting);
}

void vk_chan_take_events(struct vk_proc *proc)
{
	struct vk_chan_proc *cp = chan_proc_of(proc);
	struct vk_chan_end *end;

	if (!cp)
		return;
	end = cp->pending;
	cp->pending = NULL;
	while (end) {
		struct vk_chan_end *next = end->pending_next;

		end->pending = 0;
		end->pending_next = NULL;
		if (end->rx->reader)
			vk_task_wake(end->rx->reader, 0);
		if (end->tx->writer)
			vk_task_wake(end->tx->writer, 0);
		end = next;
	}
	if (cp->news) {
		cp->news = 0;
		if (cp->acceptor)
			vk_task_wake(cp->acceptor, 0);
	}
}

void vk_chan_proc_end(struct vk_proc *proc)
{
	struct vk_chan_proc *cp = chan_proc_of(proc);
	int error = proc->faulted ? EPIPE : 0;

	if (!cp)
		return;
	/* Its coroutines are gone: nobody waits on its rings any more. */
	cp->acceptor = NULL;
	while (!LIST_EMPTY(&cp->ends))
		vk_chan_close(LIST_FIRST(&cp->ends), error);
	if (cp->addressed)
		vk_bus_addr_remove(proc->sched->bus, proc->id);
	free(cp);
	proc->extra->chans = NULL;
}
