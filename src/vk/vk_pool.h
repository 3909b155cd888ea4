/*
 * vk_pool: the micro-heaps of one worker.
 *
 * Mapping a heap costs two system calls (mmap, and mprotect for its guard
 * page) and a heap is needed per connection, so a heap whose process ended
 * goes back to a pool, with every byte its process may have written
 * zeroed (vk_heap_clean(): in place, its few pages kept resident; or given
 * back), and the next process of the same heap size takes it, the most
 * recently pooled first. The pool also bounds how many
 * heaps are mapped at once (vm.max_map_count: each heap is two mappings)
 * and counts every protection change.
 */
#ifndef VK_POOL_H
#define VK_POOL_H

#include <stddef.h>

#include "vk_internal.h"
#include "vk_heap.h"
#include "vk_stats.h"

/* Heaps kept mapped for reuse. */
#define VK_POOL_MAX 256

/* A heap waiting in the pool for its next process. */
struct vk_pooled {
	struct vk_heap heap;
	struct vk_pooled *next;
};

struct vk_pool {
	struct vk_pooled *free; /* pooled heaps, each malloc'ed */
	size_t free_count;
	size_t mapped; /* heaps mapped, pooled or in use */
	size_t limit;  /* of `mapped` */
	struct vk_stats *stats;
};

/*
 * An empty pool whose limit is derived from vm.max_map_count, leaving
 * room for the rest of the process, counting into `stats`.
 */
void vk_pool_init(struct vk_pool *pool, struct vk_stats *stats);

/* Unmap every pooled heap (heaps in use are their owners'). */
void vk_pool_destroy(struct vk_pool *pool);

/*
 * Fill `heap` with a heap of `size` bytes (rounded up to pages): a pooled
 * one, else a new mapping. A heap for an isolated process is closed
 * (PROT_NONE); any other may come open or closed (the first dispatch
 * opens it). Returns 0 or -errno (-ENOMEM past the limit), with a log line
 * and the heap_failures counter on every failure.
 */
int vk_pool_acquire(struct vk_pool *pool, struct vk_heap *heap, size_t size, int isolation);

/* How a heap comes back to the pool. */
enum vk_pool_return {
	VK_POOL_UNMAP, /* unmapped */
	VK_POOL_CLEAN, /* pooled, its user's bytes zeroed (vk_heap_clean(); open, or trimmed) */
	VK_POOL_TRIM,  /* pooled, every touched page given back: it may hold anything */
};

/*
 * Give `heap` back, `how` says (pooled only while there is room, else
 * unmapped). No byte of its user survives into the next. A pooled heap is
 * left closed when `close` (it waits for an isolated process).
 */
void vk_pool_release(struct vk_pool *pool, struct vk_heap *heap, enum vk_pool_return how,
		     int close);

/* vk_heap_set_access(), counted in the protections counter when it acts. */
int vk_pool_set_access(struct vk_pool *pool, struct vk_heap *heap, int accessible);

#endif
