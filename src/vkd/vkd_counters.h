/*
 * vkd_counters: per-worker counters in memory shared by the master and its
 * workers.
 *
 * The master maps one anonymous shared region before it forks anything, so
 * every worker inherits the same pages. Each worker owns one slot: its
 * kernel adds to `stats` (vk_kern_set_stats()) and it sets `state`; the
 * master fills the identity fields before forking and reads everything
 * else at any time, without locks: every field is one aligned word, read
 * and written with relaxed atomics, and a reader only wants a recent
 * value, not a consistent snapshot across fields.
 */
#ifndef VKD_COUNTERS_H
#define VKD_COUNTERS_H

#include <stdint.h>
#include <sys/types.h>

#include "vk_stats.h"

/* Slots: workers of two generations live at once during a reload. */
#define VKD_SLOTS_MAX 2048

enum vkd_slot_state {
	VKD_SLOT_FREE = 0, /* no worker */
	VKD_SLOT_STARTING, /* forked, loading modules */
	VKD_SLOT_READY,	   /* accepting */
	VKD_SLOT_DRAINING, /* not accepting, finishing its connections */
};

struct vkd_slot {
	struct vk_stats stats; /* written by the worker's kernel */
	/* master: what earlier processes of this worker number (in this
	 * generation) counted, so that a respawn does not zero its row */
	struct vk_stats carried;
	uint64_t restarts;   /* master: respawns of this worker number */
	uint64_t started_ms; /* master: CLOCK_MONOTONIC ms at fork */
	int32_t pid;	     /* master: the worker, 0 when free */
	uint32_t index;	     /* master: N of "worker N" */
	uint32_t generation; /* master */
	uint32_t state;	     /* worker (and master): enum vkd_slot_state */
} __attribute__((aligned(64)));

struct vkd_counters {
	struct vkd_slot *slots;
	size_t count;
	/* The master's own, not shared: the counters of every worker process
	 * gone (procs_now aside), so that totals never go backwards when a
	 * worker dies or a generation ends; and every respawn. */
	struct vk_stats retired;
	uint64_t restarts;
};

/* Map `count` zeroed slots shared with future children. -1 with errno. */
int vkd_counters_map(struct vkd_counters *counters, size_t count);
void vkd_counters_unmap(struct vkd_counters *counters);

/* A free slot, marked taken (STARTING); NULL when all are in use. */
struct vkd_slot *vkd_counters_take(struct vkd_counters *counters);

/* Zero the slot and give it back. */
void vkd_counters_release(struct vkd_slot *slot);

/*
 * The slot's worker is gone (reaped): add its counters to the retired
 * ones and to *carried (what its worker number's next process carries,
 * may be NULL), then release the slot.
 */
void vkd_counters_retire(struct vkd_counters *counters, struct vkd_slot *slot,
			 struct vk_stats *carried);

/*
 * Add every counter of `from` to `into` but the levels (procs_now,
 * outbound_now, services_now, ...: how things are now, not counts), which only a live
 * worker has.
 */
void vkd_stats_add(struct vk_stats *into, const struct vk_stats *from);

/* A slot's row: its process's counters plus those carried. */
void vkd_slot_stats(const struct vkd_slot *slot, struct vk_stats *out);

/* Lock-free accessors; see above. */
static inline uint32_t vkd_slot_state(const struct vkd_slot *slot)
{
	return __atomic_load_n(&slot->state, __ATOMIC_ACQUIRE);
}

static inline void vkd_slot_set_state(struct vkd_slot *slot, uint32_t state)
{
	__atomic_store_n(&slot->state, state, __ATOMIC_RELEASE);
}

static inline uint64_t vkd_slot_read(const uint64_t *counter)
{
	return __atomic_load_n(counter, __ATOMIC_RELAXED);
}

/*
 * Connections: the worker's micro-processes that are not services. Read
 * one after the other, the two may disagree for a moment: never below 0.
 */
static inline uint64_t vkd_slot_connections(const struct vkd_slot *slot)
{
	uint64_t procs = vkd_slot_read(&slot->stats.procs_now);
	uint64_t services = vkd_slot_read(&slot->stats.services_now);

	return procs > services ? procs - services : 0;
}

/*
 * Totals for the life of the master: the counters of every worker process
 * alive and gone (monotonic), the live connections (services aside), and
 * the slots.
 */
struct vkd_totals {
	unsigned workers;      /* slots in use */
	unsigned ready;	       /* of which accepting */
	unsigned draining;     /* of which draining */
	uint64_t connections;  /* micro-processes alive */
	struct vk_stats stats; /* alive and gone; the levels of the alive only */
	uint64_t restarts;     /* every respawn */
};

void vkd_counters_sum(const struct vkd_counters *counters, struct vkd_totals *totals);

#endif
