/*
 * vk_bus: what the micro-processes of one worker find each other by.
 *
 * One per worker, made by its kernel and reached through struct vk_sched,
 * in memory outside every micro-heap:
 *  - the service directory: each service's name and kind, and the process
 *    serving it in this worker now (NULL while it is down, or when it is
 *    served by another worker);
 *  - the addresses of the processes that gave theirs out (vk_self()): an
 *    address is the worker's index and the process's id;
 *  - the topics that have subscribers here (vk_pubsub.c keeps the lists);
 *  - the generation's geometry: this worker's index, the worker count, and
 *    the hash that says which worker owns a key;
 *  - the way to the other workers: hooks that the inter-worker endpoint
 *    (vk_mesh.h) sets. They are the one call from here up the layers, so
 *    that a coroutine can open a channel to another worker's service with
 *    the same call as to its own worker's;
 *  - a cache of ring buffers for channels, which come and go with traffic.
 */
#ifndef VK_BUS_H
#define VK_BUS_H

#include <stddef.h>
#include <stdint.h>

#include "vk_chain.h"
#include "vk_internal.h"
#include "vk_list.h"
#include "vk_proc.h"

struct vk_chan_end;
struct vk_sub_link;
struct vk_sub;
struct vk_handoff;

/* Service kinds, as vk_app.h's VK_SERVICE_* flags say them. */
enum vk_bus_kind {
	VK_BUS_LOCAL = 0,   /* one in every worker, reached from its own */
	VK_BUS_SHARDED = 1, /* one in every worker, owning the keys that hash to it */
	VK_BUS_SINGLE = 2,  /* one in the generation, in worker 1 */
};

struct vk_bus_service {
	struct vk_bus_service *next;
	struct vk_proc *proc; /* this worker's instance, NULL while down or elsewhere */
	unsigned kind;	      /* enum vk_bus_kind */
	char name[];
};

struct vk_topic {
	struct vk_chain_link chain;    /* in the bus's topics */
	LIST_HEAD(, vk_sub_link) subs; /* its subscribers here (vk_pubsub.c) */
	size_t len;
	char name[];
};

/* How this worker reaches the others (vk_mesh.c). */
struct vk_bus_remote {
	/*
	 * Make `end`, one end of a new local channel, stand for a channel to
	 * the service `name` (or, when name is NULL, to process `id`) in
	 * worker `worker`. Returns 0 or -errno (-ECONNREFUSED: no link).
	 */
	int (*open)(void *ctx, struct vk_chan_end *end, unsigned worker, const char *name,
		    uint64_t id);
	/* Send a message published here to every other worker. */
	void (*publish)(void *ctx, const char *topic, size_t topic_len, const void *msg,
			size_t len);
};

/* Ring buffers kept for reuse, per size. */
#define VK_BUS_BUF_SIZES 4
#define VK_BUS_BUF_KEEP 64

struct vk_bus {
	struct vk_sched *sched;
	struct vk_bus_service *services;
	struct vk_chain addrs;	/* id -> process (struct vk_bus_addr) */
	struct vk_chain topics; /* struct vk_topic */
	unsigned worker;	/* this worker's index, 1-based */
	unsigned workers;	/* in the generation */
	const struct vk_bus_remote *remote;
	void *remote_ctx;
	struct {
		size_t size;
		size_t count;
		void *free[VK_BUS_BUF_KEEP];
	} bufs[VK_BUS_BUF_SIZES];
	/* Relayed subscriptions with messages to send (vk_pubsub_relay_flush()). */
	LIST_HEAD(, vk_sub) relays;
	/* Handed-off descriptors with bytes to send (vk_handoff_flush()). */
	LIST_HEAD(, vk_handoff) handoffs;
};

/* Addresses: the worker's index above this many bits, the process id below. */
#define VK_BUS_ADDR_BITS 48

/* An empty bus for worker 1 of 1. NULL with errno. */
struct vk_bus *vk_bus_create(struct vk_sched *sched);
void vk_bus_destroy(struct vk_bus *bus);

/* This worker is `worker` (1-based) of `workers`. */
void vk_bus_set_geometry(struct vk_bus *bus, unsigned worker, unsigned workers);

/* Route channels and publications to other workers through `remote`. */
void vk_bus_set_remote(struct vk_bus *bus, const struct vk_bus_remote *remote, void *ctx);

/* The worker (1-based) that owns `key`: FNV-1a 64 of the bytes, modulo the workers. */
unsigned vk_bus_shard(const struct vk_bus *bus, const void *key, size_t len);

/* Declare a service; NULL with errno (EEXIST, ENOMEM, EINVAL for a bad kind). */
struct vk_bus_service *vk_bus_service_add(struct vk_bus *bus, const char *name, unsigned kind);
struct vk_bus_service *vk_bus_service_find(const struct vk_bus *bus, const char *name);

/*
 * The worker a channel to `service` goes to: the owner of `key` for a
 * sharded service given one, worker 1 for a single one, else this one.
 */
unsigned vk_bus_route(const struct vk_bus *bus, const struct vk_bus_service *service,
		      const void *key, size_t len);

/* The address of `proc`, registering it (so that it can be found) once. 0 on ENOMEM. */
uint64_t vk_bus_addr_of(struct vk_bus *bus, struct vk_proc *proc);
struct vk_proc *vk_bus_addr_find(const struct vk_bus *bus, uint64_t id);
void vk_bus_addr_remove(struct vk_bus *bus, uint64_t id);

/* The topic named so, made when `create` (NULL with errno: ENOMEM). */
struct vk_topic *vk_bus_topic(struct vk_bus *bus, const char *name, size_t len, int create);
/* Forget a topic nobody here subscribes to any more. */
void vk_bus_topic_drop(struct vk_bus *bus, struct vk_topic *topic);

/* A ring buffer of `size` bytes (not zeroed), or NULL; give it back with vk_bus_buf_put(). */
void *vk_bus_buf_get(struct vk_bus *bus, size_t size);
void vk_bus_buf_put(struct vk_bus *bus, void *buf, size_t size);

#endif
