/*
 * vk_channel: byte streams between micro-processes, and the services they
 * reach.
 *
 * A channel joins a coroutine of one micro-process to another micro-process,
 * which may run in another worker. Each side holds a socket on which the
 * ordinary operations work: vk_socket_read(), vk_socket_readline(),
 * vk_socket_write(), vk_socket_flush(), vk_socket_hup() (an end of message:
 * the reader sees the end of the stream, consumes it with
 * vk_socket_readhup(), and the channel carries the next message),
 * vk_socket_eof(). The bytes cross from one heap to the other through
 * rings the worker's kernel owns: neither process ever sees the other's
 * memory, and a dispatch of the reader takes in whatever arrived since its
 * last one. Each direction holds VK_CHANNEL_RING bytes; a writer facing a
 * full channel blocks until the reader makes room.
 *
 * A channel is a link: when the process at the other end ends, what it
 * wrote can still be read, then the reader sees the end of the stream, and
 * writes raise EPIPE; when it ends by a fault, reads raise EPIPE too once
 * its bytes are read. Nothing waits for ever on a process that is gone.
 *
 * Services are micro-processes an app declares (VK_SERVICES, vk_app.h):
 * vkd starts them with each worker, restarts one that ends or faults (with
 * backoff), and they accept the channels opened to them:
 *
 *	static void counter(struct vk_thread *that)	// a service
 *	{
 *		struct {
 *			struct vk_socket *peer;
 *			struct vk_thread *child;
 *		} *self;
 *
 *		vk_begin();
 *		for (;;) {
 *			vk_channel_accept(self->peer);
 *			vk_use_socket(self->peer);	// the child inherits it
 *			vk_spawn_detached(serve_one, NULL);
 *		}
 *		vk_end();
 *	}
 *
 * and a coroutine of a connection opens one with
 * vk_channel_open(self->svc, "counter"). Channels to other workers (a
 * sharded service's shard, a single service, a process of another worker)
 * pass through the inter-worker path; the operations are the same.
 *
 * Errors are raised as everywhere in libvk (vk_state.h): ENOENT (no such
 * service), ECONNREFUSED (the service is down, restarting, or its worker
 * is), ENOMEM. A channel to another worker learns of a refusal after it
 * opened: the first read or write raises it.
 */
#ifndef VK_CHANNEL_H
#define VK_CHANNEL_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "vk_api.h"
#include "vk_socket.h"
#include "vk_state.h"

VK_API_BEGIN

/* Bytes each direction of a channel holds. */
#define VK_CHANNEL_RING 16384

/* Functions behind the macros (NULL with errno, or >= 0 / -errno). */
uint64_t vk_channel_self(struct vk_thread *that);
struct vk_socket *vk_channel_open_fn(struct vk_thread *that, const char *name, const void *key,
				     size_t len, uint64_t address);
ssize_t vk_channel_accept_step(struct vk_thread *that, struct vk_socket **socket);
void vk_channel_release(struct vk_thread *that, struct vk_socket *socket);
unsigned vk_channel_shard(const struct vk_thread *that, const void *key, size_t len);
unsigned vk_channel_worker(const struct vk_thread *that);
unsigned vk_channel_workers(const struct vk_thread *that);
ssize_t vk_channel_handoff_step(struct vk_thread *that, struct vk_socket *s, struct vk_socket *ch);

/*
 * This micro-process's address: hand it to another, which may then open a
 * channel to it with vk_channel_open_addr() (from any worker of the
 * generation), and accept those with vk_channel_accept(). 0 when out of
 * memory. It stays valid until the process ends.
 */
#define vk_self() vk_channel_self(that)

/*
 * Open a channel to the service `name`; `s` (a struct vk_socket * lvalue)
 * gets this side's socket. A service declared VK_SERVICE_LOCAL or
 * VK_SERVICE_SHARDED is reached in this worker, a VK_SERVICE_SINGLE one in
 * worker 1.
 */
#define vk_channel_open(s, name) vk_channel_open_(s, vk_channel_open_fn(that, (name), NULL, 0, 0))

/*
 * Open a channel to the shard of service `name` that owns `key` (`len`
 * bytes): worker vk_channel_shard(key, len) of the generation, local or not.
 */
#define vk_channel_open_key(s, name, key, len) \
	vk_channel_open_(s, vk_channel_open_fn(that, (name), (key), (len), 0))

/* Open a channel to the micro-process whose vk_self() is `address`. */
#define vk_channel_open_addr(s, address) \
	vk_channel_open_(s, vk_channel_open_fn(that, NULL, NULL, 0, (address)))

#define vk_channel_open_(s, call)        \
	do {                             \
		(s) = (call);            \
		if (!(s))                \
			vk_raise(errno); \
	} while (0)

/*
 * Wait for the next channel opened to this micro-process (by name, if it
 * is a service, or by address); `s` gets this side's socket. Channels are
 * accepted in the order they were opened.
 */
#define vk_channel_accept(s)                                              \
	do {                                                              \
		ssize_t vk_c_;                                            \
		vk_socket_op_(vk_c_, vk_channel_accept_step(that, &(s))); \
		(void)vk_c_;                                              \
	} while (0)

/*
 * Close this side of a channel and free its socket; `s` becomes NULL. The
 * other side reads the end of the stream after what was written, and its
 * writes raise EPIPE. A channel still open when its process ends is closed
 * then; a long-lived service closes each channel it is done with.
 */
#define vk_channel_close(s)                    \
	do {                                   \
		vk_channel_release(that, (s)); \
		(s) = NULL;                    \
	} while (0)

/*
 * Hand socket `s` (on a descriptor: a connection) to channel `ch`: from
 * now on what the connection's peer sends goes straight into the channel,
 * to its other end, and what the other end writes goes straight to the
 * peer, both moved by the worker's kernel outside every heap, without
 * running this micro-process (so with no protection change: a service
 * serving its clients this way costs one dispatch for all the clients
 * that sent something in a loop iteration). Bytes `s` holds go first:
 * what this process wrote to it goes out, what it received and did not
 * read goes into the channel. The peer's end of stream reaches the other
 * end as the end of the channel's stream.
 *
 * Returns (`rc` gets 0) once the other end has closed the channel and all
 * it wrote went out; then close both and end. Raises the descriptor's
 * error (the peer went away), EPIPE when the other end's process faulted,
 * ETIMEDOUT at the process's idle timeout, EINVAL (`ch` is no channel),
 * ENOTSOCK (`s` is not on a descriptor), EBUSY (`s` is relayed,
 * forwarded or listening, or `ch` handed off already), ENOMEM. If this
 * process ends meanwhile, the channel closes with it, as always.
 *
 *	vk_channel_open(self->svc, "resp");
 *	vk_channel_handoff(that->socket, self->svc, self->rc);
 */
#define vk_channel_handoff(s, ch, rc)                                                \
	do {                                                                         \
		ssize_t vk_ho_;                                                      \
		vk_socket_own_op_(vk_ho_, vk_channel_handoff_step(that, (s), (ch))); \
		if (vk_ho_ < 0)                                                      \
			vk_raise((int)-vk_ho_);                                      \
		(rc) = (int)vk_ho_;                                                  \
	} while (0)

/* The worker (1 to vk_workers()) that owns `key` for a sharded service. */
#define vk_shard_of(key, len) vk_channel_shard(that, (key), (len))
/* This worker's index (1-based) and the workers of its generation. */
#define vk_worker() vk_channel_worker(that)
#define vk_workers() vk_channel_workers(that)

VK_API_END

#endif
