/*
 * vk_chan: byte channels between micro-processes of one worker.
 *
 * A channel has two ends and one ring each way. The rings are the
 * kernel's: their buffers are malloc'ed outside every micro-heap, on first
 * use, and given back when they empty. A process copies bytes into a ring
 * during its own dispatch and the process at the other end copies them out
 * during its own: neither heap is ever opened for the other process, and
 * neither process can reach the other's memory through the channel. (The
 * rings are no more protected than the rest of the kernel's memory:
 * isolation guards heaps against each other's stray pointers.)
 *
 * An end belongs to a process, whose socket then reads and writes the
 * channel's rings (vk_socket_s.h), or to an agent: kernel code standing
 * for something that is no process here, such as a process of another
 * worker (vk_mesh.h) or the publishers of a topic (vk_pubsub.c).
 *
 * When an end changes a ring (bytes in, bytes out, an end of message, the
 * end closing) the other end hears of it: an agent at once, through its
 * callback; a process only if one of its coroutines waits on that ring,
 * by having the end marked and itself queued (vk_proc_schedule()). Its
 * next dispatch takes in everything marked since the last one and wakes
 * the waiters: however many messages arrived, one dispatch (one heap
 * opening) takes them all.
 *
 * Ends closing: what an end wrote stays readable, then its reader sees the
 * end of the stream, or an error (EPIPE when the writer's process faulted);
 * what was written to it is dropped and its writer gets EPIPE. A channel
 * is freed when both ends are closed.
 */
#ifndef VK_CHAN_H
#define VK_CHAN_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "vk_internal.h"
#include "vk_list.h"
#include "vk_bus.h"
#include "vk_proc.h"
#include "vk_vectoring.h"

struct vk_chan;
struct vk_chan_end;
struct vk_task;

/* An agent's callback: the other end did something; look at the rings. */
typedef void (*vk_chan_agent_fn)(struct vk_chan_end *end, void *ctx);

struct vk_chan_end {
	struct vk_chan *chan;
	struct vk_vectoring *rx; /* the ring the other end writes */
	struct vk_vectoring *tx; /* the ring this end writes */
	struct vk_proc *proc;	 /* the owning process, or NULL */
	vk_chan_agent_fn agent;	 /* or the agent's callback */
	void *agent_ctx;
	LIST_ENTRY(vk_chan_end) link;	  /* in the owner's list */
	struct vk_chan_end *pending_next; /* marked for the owner's next dispatch */
	struct vk_chan_end *incoming_next;
	uint8_t pending;
	uint8_t incoming; /* offered to the owner, not yet accepted */
	uint8_t closed;
};

struct vk_chan {
	struct vk_vectoring ring[2]; /* ring[i] is written by end[i] */
	struct vk_chan_end end[2];
	struct vk_bus *bus;
};

/* What a process holds of channels: kernel memory, made on first use. */
struct vk_chan_proc {
	LIST_HEAD(, vk_chan_end) ends; /* every end it owns, accepted or not */
	struct vk_chan_end *pending;   /* ends with news for its next dispatch */
	struct vk_chan_end *incoming;  /* offered, in order, not yet accepted */
	struct vk_chan_end **incoming_tail;
	struct vk_task *acceptor; /* coroutines waiting to accept */
	uint8_t news;		  /* something was offered while one waited */
	uint8_t addressed;	  /* the process is in the bus's address map */
};

/*
 * A channel with rings of `ring_size` bytes each way and both ends free.
 * NULL with errno.
 */
struct vk_chan *vk_chan_create(struct vk_bus *bus, size_t ring_size);

static inline struct vk_chan_end *vk_chan_other(const struct vk_chan_end *end)
{
	struct vk_chan *chan = end->chan;

	return end == &chan->end[0] ? &chan->end[1] : &chan->end[0];
}

/* The channel state of `proc`, made on first use. NULL with errno. */
struct vk_chan_proc *vk_chan_proc(struct vk_proc *proc);

/* Give a free end to process `proc`. Returns 0 or -ENOMEM. */
int vk_chan_bind(struct vk_chan_end *end, struct vk_proc *proc);

/* Give a free end to an agent. */
void vk_chan_bind_agent(struct vk_chan_end *end, vk_chan_agent_fn fn, void *ctx);

/*
 * A process's accepted end goes to an agent for a while (vk_handoff.c),
 * off the process's lists: its news reach the agent's callback, and the
 * process's end does not close it. vk_chan_from_agent() gives it back to
 * process `proc` (0, or -ENOMEM).
 */
void vk_chan_to_agent(struct vk_chan_end *end, vk_chan_agent_fn fn, void *ctx);
int vk_chan_from_agent(struct vk_chan_end *end, struct vk_proc *proc);

/*
 * The end's send ring gets its buffer now (for a reader outside the
 * channel code: the poller reading into it): 0 or -ENOMEM.
 * vk_chan_trim() gives the buffer back while the ring is empty.
 */
int vk_chan_reserve(struct vk_chan_end *end);
void vk_chan_trim(struct vk_chan_end *end);

/*
 * Give a free end to process `proc` to accept (vk_chan_accept()), waking
 * a coroutine of it that waits to. Returns 0 or -ENOMEM.
 */
int vk_chan_offer(struct vk_chan_end *end, struct vk_proc *proc);

/* The next end offered to `proc`, now accepted, or NULL. */
struct vk_chan_end *vk_chan_accept(struct vk_proc *proc);

/* Make `task` wait until an end is offered to its process. */
void vk_chan_await_offer(struct vk_task *task);

/*
 * Copy up to `len` bytes into the end's ring and tell the other end.
 * Returns the count (0 when the ring is full), or -ENOMEM.
 */
ssize_t vk_chan_put(struct vk_chan_end *end, const void *data, size_t len);

/* Tell the other end that this one changed its send ring (an end of message). */
void vk_chan_wrote(struct vk_chan_end *end);

/* `n` bytes were consumed from the end's receive ring: tell the writer. */
void vk_chan_read(struct vk_chan_end *end, size_t n);

/*
 * Some bytes of the end's receive ring were consumed, by whom and how
 * many not known (the poller wrote from a relayed subscription's ring):
 * as vk_chan_read().
 */
void vk_chan_settle(struct vk_chan_end *end);

/*
 * The end of message in the end's receive ring was consumed: the ring
 * carries the next message, unless the other end is closed (the end of
 * the stream stays).
 */
void vk_chan_readhup(struct vk_chan_end *end);

/*
 * Close an end. `error` 0: its reader sees the end of the stream after the
 * bytes; else that error (EPIPE for a fault). Its writer gets `error`, or
 * EPIPE when 0. Frees the channel when the other end is closed too.
 */
void vk_chan_close(struct vk_chan_end *end, int error);

/* In a dispatch of `proc`: wake the coroutines waiting on what changed. */
void vk_chan_take_events(struct vk_proc *proc);

/*
 * `proc` ends: close every end it holds (EPIPE for readers if it
 * faulted, the end of the stream otherwise) and forget its address.
 */
void vk_chan_proc_end(struct vk_proc *proc);

#endif
