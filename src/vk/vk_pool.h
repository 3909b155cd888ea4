/*
 * vk_pool: the micro-heaps of one worker.
 *
 * Mapping a heap costs two system calls (mmap, and mprotect for its guard
 * page) and a heap is needed per connection, so a heap whose process ended
 * goes back to a pool, trimmed to zero resident pages, and the next
 * process of the same heap size takes it. The pool also bounds how many
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

struct vk_pool {
	struct vk_heap *free; /* pooled heaps, each malloc'ed */
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

/*
 * Give `heap` back: to the pool when `reuse` and there is room (trimmed:
 * no byte of its last user survives), else unmapped.
 */
void vk_pool_release(struct vk_pool *pool, struct vk_heap *heap, int reuse);

/* vk_heap_set_access(), counted in the protections counter when it acts. */
int vk_pool_set_access(struct vk_pool *pool, struct vk_heap *heap, int accessible);

#endif
