#include "vk_connpool.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define BUCKETS 256

struct peer;

/* One idle connection. */
struct idle {
	struct ev_io *io; /* the descriptor's own watcher (vk_poll_release()) */
	struct ev_timer expire;
	struct peer *peer;
	struct idle *newer; /* towards the head, the most recently idle */
	struct idle *older;
	struct vk_connpool *pool;
};

/* The idle connections to one address; it goes when the last one does. */
struct peer {
	struct peer *hash_next;
	struct idle *newest;
	struct idle *oldest;
	unsigned count;
	unsigned max_idle; /* its last giver's */
	char key[];
};

struct vk_connpool {
	struct ev_loop *loop;
	struct vk_stats *stats;
	struct peer *buckets[BUCKETS];
	size_t idle;
	struct ev_prepare trim; /* trim_callback() */
	int over;		/* some address holds more than its max_idle ... */
	unsigned over_at;	/* ... since this loop iteration */
	unsigned iteration;	/* loop iterations, counted by trim_callback() */
};

static size_t hash_key(const char *key)
{
	uint32_t h = 2166136261u; /* FNV-1a */

	for (; *key; key++)
		h = (h ^ (unsigned char)*key) * 16777619u;
	return h % BUCKETS;
}

static struct peer **find(struct vk_connpool *pool, const char *key)
{
	struct peer **link = &pool->buckets[hash_key(key)];

	while (*link && strcmp((*link)->key, key) != 0)
		link = &(*link)->hash_next;
	return link;
}

static void peer_drop_if_empty(struct vk_connpool *pool, struct peer *peer)
{
	struct peer **link;

	if (peer->count)
		return;
	link = find(pool, peer->key);
	*link = peer->hash_next;
	free(peer);
}

static void close_watched(struct ev_loop *loop, struct ev_io *io, int fd)
{
	ev_io_stop(loop, io);
	close(fd);
}

/* Take `idle` out of its peer and the loop (its watcher still started); returns its descriptor. */
static int idle_unlink(struct idle *idle)
{
	struct vk_connpool *pool = idle->pool;
	struct peer *peer = idle->peer;
	int fd = idle->io->fd;

	/* Started unreferenced: the reference goes back with the watcher, still started. */
	ev_ref(pool->loop);
	if (ev_is_active(&idle->expire)) {
		ev_ref(pool->loop);
		ev_timer_stop(pool->loop, &idle->expire);
	}
	if (idle->newer)
		idle->newer->older = idle->older;
	else
		peer->newest = idle->older;
	if (idle->older)
		idle->older->newer = idle->newer;
	else
		peer->oldest = idle->newer;
	peer->count--;
	pool->idle--;
	pool->stats->pooled_now--;
	free(idle);
	peer_drop_if_empty(pool, peer);
	return fd;
}

static void idle_close(struct idle *idle)
{
	struct ev_io *io = idle->io;
	struct ev_loop *loop = idle->pool->loop;

	close_watched(loop, io, idle_unlink(idle));
}

/* Readable while idle: the upstream closed it, or spoke out of turn. */
static void io_callback(struct ev_loop *loop, struct ev_io *io, int revents)
{
	(void)loop;
	(void)revents;
	idle_close(io->data);
}

static void expire_callback(struct ev_loop *loop, struct ev_timer *timer, int revents)
{
	struct idle *idle = timer->data;

	(void)revents;
	/* libev stopped the timer that fired, taking the reference it did not hold. */
	ev_ref(loop);
	idle_close(idle);
}

int vk_connpool_take(struct vk_connpool *pool, const char *key)
{
	struct peer *peer = *find(pool, key);

	if (!peer)
		return -1;
	return idle_unlink(peer->newest);
}

/*
 * Every loop iteration, after the kernel's dispatch (the lowest priority):
 * once an iteration has gone by since an address first held more than
 * its max_idle, every address back to at most its max_idle, the least
 * recently idle closed first. max_idle is at least 1, so a peer is never
 * freed here.
 */
static void trim_callback(struct ev_loop *loop, struct ev_prepare *watcher, int revents)
{
	struct vk_connpool *pool = watcher->data;

	(void)loop;
	(void)revents;
	if (pool->over && pool->iteration != pool->over_at) {
		pool->over = 0;
		for (size_t i = 0; i < BUCKETS; i++) {
			for (struct peer *peer = pool->buckets[i]; peer; peer = peer->hash_next) {
				while (peer->count > peer->max_idle)
					idle_close(peer->oldest);
			}
		}
	}
	pool->iteration++;
}

/*
 * Past max_idle, a connection is still kept until the end of the next
 * loop iteration: the answers of one iteration give back connections
 * that the requests of the next take instead of a fresh handshake (100
 * keep-alive clients of the HTTP proxy, max_idle 32: 0.51 connects a
 * request when the connection was closed at once, 0.25 kept over an
 * iteration; nginx, keepalive 32: 0.27).
 */
int vk_connpool_put(struct vk_connpool *pool, const char *key, struct ev_io *io, unsigned max_idle,
		    unsigned idle_ms)
{
	struct peer **link = find(pool, key);
	struct peer *peer = *link;
	struct idle *idle;

	if (!max_idle || !idle_ms) {
		close_watched(pool->loop, io, io->fd);
		return -ENOSPC;
	}
	idle = calloc(1, sizeof(*idle));
	if (!idle)
		goto nomem;
	if (!peer) {
		size_t len = strlen(key);

		peer = calloc(1, sizeof(*peer) + len + 1);
		if (!peer) {
			free(idle);
			goto nomem;
		}
		memcpy(peer->key, key, len + 1);
		*link = peer;
	}
	idle->pool = pool;
	idle->peer = peer;
	idle->older = peer->newest;
	if (peer->newest)
		peer->newest->newer = idle;
	else
		peer->oldest = idle;
	peer->newest = idle;
	peer->count++;
	peer->max_idle = max_idle;
	if (peer->count > max_idle && !pool->over) {
		pool->over = 1;
		pool->over_at = pool->iteration;
	}
	pool->idle++;
	pool->stats->pooled_now++;
	idle->io = io;
	io->data = idle;
	ev_set_cb(io, io_callback);
	ev_unref(pool->loop);
	ev_timer_init(&idle->expire, expire_callback, idle_ms / 1000.0, 0.);
	idle->expire.data = idle;
	ev_timer_start(pool->loop, &idle->expire);
	ev_unref(pool->loop);
	return 0;

nomem:
	close_watched(pool->loop, io, io->fd);
	return -ENOMEM;
}

size_t vk_connpool_idle(const struct vk_connpool *pool, const char *key)
{
	struct peer *peer;

	if (!key)
		return pool->idle;
	peer = *find((struct vk_connpool *)pool, key);
	return peer ? peer->count : 0;
}

struct vk_connpool *vk_connpool_create(struct ev_loop *loop, struct vk_stats *stats)
{
	struct vk_connpool *pool = calloc(1, sizeof(*pool));

	if (!pool)
		return NULL;
	pool->loop = loop;
	pool->stats = stats;
	ev_prepare_init(&pool->trim, trim_callback);
	ev_set_priority(&pool->trim, EV_MINPRI);
	pool->trim.data = pool;
	ev_prepare_start(loop, &pool->trim);
	ev_unref(loop); /* it never keeps the loop running */
	return pool;
}

void vk_connpool_destroy(struct vk_connpool *pool)
{
	if (!pool)
		return;
	ev_ref(pool->loop);
	ev_prepare_stop(pool->loop, &pool->trim);
	for (size_t i = 0; i < BUCKETS; i++)
		while (pool->buckets[i])
			idle_close(pool->buckets[i]->newest);
	free(pool);
}
