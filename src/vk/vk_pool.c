#include "vk_pool.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vk_log.h"

/* Mappings left for the rest of the process under vm.max_map_count. */
#define VK_MAP_RESERVE 1024

/* Each heap is two mappings (heap and guard page): see vk_heap.h. */
static size_t default_limit(void)
{
	FILE *file = fopen("/proc/sys/vm/max_map_count", "re");
	unsigned long maps = 65530;

	if (file) {
		if (fscanf(file, "%lu", &maps) != 1)
			maps = 65530;
		fclose(file);
	}
	return maps > 2 * VK_MAP_RESERVE ? (maps - VK_MAP_RESERVE) / 2 : maps / 4;
}

void vk_pool_init(struct vk_pool *pool, struct vk_stats *stats)
{
	memset(pool, 0, sizeof(*pool));
	pool->limit = default_limit();
	pool->stats = stats;
}

void vk_pool_destroy(struct vk_pool *pool)
{
	for (size_t i = 0; i < VK_POOL_BINS; i++) {
		struct vk_pool_bin *bin = &pool->bins[i];

		while (bin->free) {
			struct vk_pooled *pooled = bin->free;

			bin->free = pooled->next;
			vk_heap_unmap(&pooled->heap);
			free(pooled);
			pool->mapped--;
		}
		bin->count = 0;
	}
	pool->open = NULL;
	pool->free_count = 0;
	pool->low = 0;
}

int vk_pool_set_access(struct vk_pool *pool, struct vk_heap *heap, int accessible)
{
	if (heap->accessible == accessible)
		return 0;
	pool->stats->protections++;
	return vk_heap_set_access(heap, accessible);
}

/* The bin of heaps of `rounded` bytes, or NULL; an empty bin made that size's when `make`. */
static struct vk_pool_bin *bin_of(struct vk_pool *pool, size_t rounded, int make)
{
	struct vk_pool_bin *unused = NULL;

	for (size_t i = 0; i < VK_POOL_BINS; i++) {
		if (pool->bins[i].size == rounded)
			return &pool->bins[i];
		if (!unused && pool->bins[i].count == 0)
			unused = &pool->bins[i];
	}
	if (!make || !unused)
		return NULL;
	unused->size = rounded;
	return unused;
}

/* The bin holding the most heaps, or NULL when none holds any. */
static struct vk_pool_bin *fullest_bin(struct vk_pool *pool)
{
	struct vk_pool_bin *best = NULL;

	for (size_t i = 0; i < VK_POOL_BINS; i++) {
		if (pool->bins[i].count && (!best || pool->bins[i].count > best->count))
			best = &pool->bins[i];
	}
	return best;
}

/* Unmap one pooled heap, of the size most pooled. */
static void unmap_pooled(struct vk_pool *pool)
{
	struct vk_pool_bin *bin = fullest_bin(pool);
	struct vk_pooled *pooled = bin->free;

	bin->free = pooled->next;
	bin->count--;
	if (pooled == pool->open)
		pool->open = NULL;
	vk_heap_unmap(&pooled->heap);
	free(pooled);
	pool->mapped--;
	pool->free_count--;
	if (pool->free_count < pool->low)
		pool->low = pool->free_count;
}

/*
 * Take a pooled heap of `rounded` bytes into `heap`: 1 when it is the one
 * left open (VK_POOL_OPEN), 0 for another, -1 if none.
 */
static int take_pooled(struct vk_pool *pool, struct vk_heap *heap, size_t rounded)
{
	struct vk_pool_bin *bin = bin_of(pool, rounded, 0);
	struct vk_pooled *found = bin ? bin->free : NULL;
	int was_open = found && found == pool->open;

	if (!found)
		return -1;
	if (was_open)
		pool->open = NULL;
	bin->free = found->next;
	bin->count--;
	*heap = found->heap;
	free(found);
	pool->free_count--;
	if (pool->free_count < pool->low)
		pool->low = pool->free_count;
	vk_heap_reset(heap);
	return was_open;
}

/* One more heap in use: the most at once since the last vk_pool_shrink() tells a burst. */
static void note_in_use(struct vk_pool *pool)
{
	size_t in_use = pool->mapped - pool->free_count;

	if (in_use > pool->peak)
		pool->peak = in_use;
}

int vk_pool_acquire(struct vk_pool *pool, struct vk_heap *heap, size_t size, int isolation,
		    int take_open)
{
	size_t page = vk_page_size();
	int rc = take_pooled(pool, heap, (size + page - 1) / page * page);

	if (rc >= 0) {
		note_in_use(pool);
		/* The heap left open for the next isolated process: it stays open. */
		if (rc == 1 && isolation && take_open)
			return 1;
		/* A pooled heap of a process without isolation comes open: close it. */
		rc = isolation ? vk_pool_set_access(pool, heap, 0) : 0;
		if (rc < 0) {
			pool->stats->heap_failures++;
			vk_log(3, "cannot close a pooled micro-heap: %s", strerror(-rc));
			vk_pool_release(pool, heap, VK_POOL_UNMAP, 0);
		}
		return rc;
	}
	/* At the limit, heaps pooled for another size make room. */
	if (pool->mapped >= pool->limit && pool->free_count)
		unmap_pooled(pool);
	if (pool->mapped >= pool->limit) {
		pool->stats->heap_failures++;
		vk_log(4, "micro-heap limit reached (%zu heaps; raise vm.max_map_count)",
		       pool->limit);
		return -ENOMEM;
	}
	/* An isolated heap is born closed: it opens when its process first runs. */
	rc = vk_heap_map(heap, size, !isolation);
	if (rc < 0) {
		pool->stats->heap_failures++;
		vk_log(3, "cannot map a micro-heap of %zu bytes: %s", size, strerror(-rc));
		return rc;
	}
	pool->mapped++;
	note_in_use(pool);
	return 0;
}

/* Take `pooled` out of its bin. */
static void unlink_pooled(struct vk_pool *pool, struct vk_pooled *pooled)
{
	struct vk_pool_bin *bin = bin_of(pool, pooled->heap.size, 0);
	struct vk_pooled **link = bin ? &bin->free : NULL;

	while (link && *link && *link != pooled)
		link = &(*link)->next;
	if (!link || !*link)
		return;
	*link = pooled->next;
	bin->count--;
	pool->free_count--;
	if (pool->free_count < pool->low)
		pool->low = pool->free_count;
}

void vk_pool_close_open(struct vk_pool *pool)
{
	struct vk_pooled *pooled = pool->open;
	int rc;

	if (!pooled)
		return;
	pool->open = NULL;
	rc = vk_pool_set_access(pool, &pooled->heap, 0);
	if (rc == 0)
		return;
	/* Open it must not stay: gone, then. */
	pool->stats->heap_failures++;
	vk_log(3, "cannot close a pooled micro-heap: %s", strerror(-rc));
	unlink_pooled(pool, pooled);
	vk_heap_unmap(&pooled->heap);
	free(pooled);
	pool->mapped--;
}

int vk_pool_swap_open(struct vk_pool *pool, struct vk_heap *heap)
{
	struct vk_pooled *pooled = pool->open;
	struct vk_heap open;

	if (!pooled || pooled->heap.size != heap->size || heap->accessible)
		return -1;
	open = pooled->heap;
	pooled->heap = *heap;
	pool->open = NULL;
	*heap = open;
	vk_heap_reset(heap);
	return 0;
}

void vk_pool_release(struct vk_pool *pool, struct vk_heap *heap, enum vk_pool_return how,
		     int access)
{
	struct vk_pool_bin *bin = how != VK_POOL_UNMAP ? bin_of(pool, heap->size, 1) : NULL;
	struct vk_pooled *pooled = bin ? malloc(sizeof(*pooled)) : NULL;

	if (!pooled) {
		vk_heap_unmap(heap);
		pool->mapped--;
		return;
	}
	if (how == VK_POOL_CLEAN)
		vk_heap_clean(heap);
	else
		vk_heap_trim(heap);
	/* Only a heap cleaned in place is left open: it holds zeros up to its top. */
	if (access == VK_POOL_OPEN && (how != VK_POOL_CLEAN || !heap->accessible))
		access = VK_POOL_CLOSED;
	if (access == VK_POOL_OPEN)
		vk_pool_close_open(pool); /* one at most */
	if (access == VK_POOL_CLOSED && vk_pool_set_access(pool, heap, 0) < 0) {
		free(pooled);
		vk_heap_unmap(heap);
		pool->mapped--;
		return;
	}
	pooled->heap = *heap;
	pooled->next = bin->free;
	bin->free = pooled;
	bin->count++;
	pool->free_count++;
	if (access == VK_POOL_OPEN)
		pool->open = pooled;
	heap->base = NULL;
}

size_t vk_pool_shrink(struct vk_pool *pool)
{
	/* Heaps that stayed pooled since the last call: nobody needed them. */
	size_t unused = pool->low < pool->free_count ? pool->low : pool->free_count;
	size_t excess = unused > VK_POOL_KEEP ? unused - VK_POOL_KEEP : 0;

	/* A burst since the last call: the next one may come as soon; hold its heaps. */
	if (pool->peak > pool->in_use + VK_POOL_KEEP)
		pool->hold = VK_POOL_HOLD;
	if (pool->hold) {
		pool->hold--;
		excess = 0;
	}
	for (size_t n = 0; n < excess && n < VK_POOL_SHRINK_STEP; n++)
		unmap_pooled(pool);
	pool->low = pool->free_count;
	pool->in_use = pool->peak = pool->mapped - pool->free_count;
	if (pool->free_count > VK_POOL_KEEP)
		return pool->free_count - VK_POOL_KEEP;
	/* Its caller stops calling: a hold left over must not outlive the heaps it held. */
	pool->hold = 0;
	return 0;
}
