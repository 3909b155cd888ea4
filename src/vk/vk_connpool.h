/*
 * vk_connpool: the worker's idle outbound connections, by address.
 *
 * A micro-process that is done with a connection it opened may give it
 * back (vk_socket_keep()); the next vk_connect() to the same address, from
 * any micro-process of the worker, takes it without a handshake. The pool
 * holds descriptors only, outside every heap: a connection's rings stay
 * in the heap of the process that used it, so no byte of one process
 * reaches another.
 *
 * An idle connection is watched for reading, by the watcher its
 * descriptor had in the process that gave it back (vk_poll_release()),
 * which goes back with it: the upstream closing it, or
 * sending anything while nobody asked, closes it. Each has its own idle
 * time, after which the pool closes it; each address holds at most the
 * number of idle connections its last giver allowed, once a loop iteration
 * has gone by (a burst of connections given back in one iteration is
 * there for the next one's takers), the least recently idle closed first.
 * The most recently
 * idle connection is taken first (its upstream's state is the warmest,
 * and the oldest are the ones left to expire). Watchers never keep the
 * loop running by themselves.
 */
#ifndef VK_CONNPOOL_H
#define VK_CONNPOOL_H

#include <ev.h>
#include <stddef.h>

#include "vk_internal.h"
#include "vk_stats.h"

struct vk_connpool;

/* A pool on `loop`, counting idle connections in stats->pooled_now. */
struct vk_connpool *vk_connpool_create(struct ev_loop *loop, struct vk_stats *stats);

/* Close every idle connection, free the pool. NULL is ignored. */
void vk_connpool_destroy(struct vk_connpool *pool);

/*
 * An idle connection to `key` (a normalized address text, vk_addr.h),
 * now the caller's: its descriptor, or -1 when there is none. Its watcher
 * is still started, referenced, its callback the pool's: the caller makes
 * it its own (vk_poll_attach_parked()).
 */
int vk_connpool_take(struct vk_connpool *pool, const char *key);

/*
 * Keep io->fd (connected to `key`, non-blocking; `io` its started watcher,
 * for reading only, in memory that outlives the pool: vk_poll_release())
 * idle for at most `idle_ms` milliseconds, the pool holding at most
 * `max_idle` for `key` from the end of the next loop iteration on (the
 * least recently idle closed first). Returns 0, or -ENOSPC (max_idle or
 * idle_ms 0) or -ENOMEM: then the watcher is stopped and the descriptor
 * closed.
 */
int vk_connpool_put(struct vk_connpool *pool, const char *key, struct ev_io *io, unsigned max_idle,
		    unsigned idle_ms);

/* Idle connections to `key` now (NULL: to every address). */
size_t vk_connpool_idle(const struct vk_connpool *pool, const char *key);

#endif
