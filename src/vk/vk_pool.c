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
	while (pool->free) {
		struct vk_pooled *pooled = pool->free;

		pool->free = pooled->next;
		vk_heap_unmap(&pooled->heap);
		free(pooled);
		pool->mapped--;
	}
	pool->free_count = 0;
}

int vk_pool_set_access(struct vk_pool *pool, struct vk_heap *heap, int accessible)
{
	if (heap->accessible == accessible)
		return 0;
	pool->stats->protections++;
	return vk_heap_set_access(heap, accessible);
}

/* Take a pooled heap of `rounded` bytes into `heap`; 0, or -1 if none. */
static int take_pooled(struct vk_pool *pool, struct vk_heap *heap, size_t rounded)
{
	for (struct vk_pooled **link = &pool->free; *link; link = &(*link)->next) {
		struct vk_pooled *found = *link;

		if (found->heap.size != rounded)
			continue;
		*link = found->next;
		*heap = found->heap;
		free(found);
		pool->free_count--;
		vk_heap_reset(heap);
		return 0;
	}
	return -1;
}

int vk_pool_acquire(struct vk_pool *pool, struct vk_heap *heap, size_t size, int isolation)
{
	size_t page = vk_page_size();
	int rc;

	if (take_pooled(pool, heap, (size + page - 1) / page * page) == 0) {
		/* A pooled heap of a process without isolation comes open: close it. */
		rc = isolation ? vk_pool_set_access(pool, heap, 0) : 0;
		if (rc < 0) {
			pool->stats->heap_failures++;
			vk_log(3, "cannot close a pooled micro-heap: %s", strerror(-rc));
			vk_pool_release(pool, heap, VK_POOL_UNMAP, 0);
		}
		return rc;
	}
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
	return 0;
}

void vk_pool_release(struct vk_pool *pool, struct vk_heap *heap, enum vk_pool_return how, int close)
{
	struct vk_pooled *pooled = NULL;

	if (how != VK_POOL_UNMAP && pool->free_count < VK_POOL_MAX)
		pooled = malloc(sizeof(*pooled));
	if (!pooled) {
		vk_heap_unmap(heap);
		pool->mapped--;
		return;
	}
	if (how == VK_POOL_CLEAN)
		vk_heap_clean(heap);
	else
		vk_heap_trim(heap);
	if (close && vk_pool_set_access(pool, heap, 0) < 0) {
		free(pooled);
		vk_heap_unmap(heap);
		pool->mapped--;
		return;
	}
	pooled->heap = *heap;
	pooled->next = pool->free;
	pool->free = pooled;
	pool->free_count++;
	heap->base = NULL;
}
