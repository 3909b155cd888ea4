#include "vk_heap.h"

#include <errno.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

/*
 * Every block starts with this header. `prev` links to the block below, so
 * that popping tombstones needs no search.
 */
struct vk_block {
	uint32_t size; /* payload bytes, a multiple of VK_HEAP_ALIGN */
	uint32_t freed;
	uint64_t prev; /* offset of the previous block header, or UINT64_MAX */
};

_Static_assert(sizeof(struct vk_block) % VK_HEAP_ALIGN == 0, "block header keeps alignment");

#define VK_NO_BLOCK UINT32_MAX

size_t vk_page_size(void)
{
	static size_t page;

	if (!page)
		page = (size_t)sysconf(_SC_PAGESIZE);
	return page;
}

static size_t round_up(size_t n, size_t to)
{
	return (n + to - 1) / to * to;
}

int vk_heap_map(struct vk_heap *heap, size_t size, int accessible)
{
	size_t page = vk_page_size();
	size_t usable;
	char *base;

	if (size == 0 || size > UINT32_MAX - page + 1)
		return -EINVAL;
	usable = round_up(size, page);
	base = mmap(NULL, usable + page, accessible ? PROT_READ | PROT_WRITE : PROT_NONE,
		    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (base == MAP_FAILED)
		return -errno;
	if (mprotect(base + usable, page, PROT_READ) == -1) {
		int error = errno;

		munmap(base, usable + page);
		return -error;
	}
	heap->base = base;
	heap->size = (uint32_t)usable;
	heap->accessible = accessible;
	heap->kept = 0;
	vk_heap_reset(heap);
	return 0;
}

void vk_heap_unmap(struct vk_heap *heap)
{
	if (!heap->base)
		return;
	munmap(heap->base, heap->size + vk_page_size());
	heap->base = NULL;
}

int vk_heap_set_access(struct vk_heap *heap, int accessible)
{
	if (heap->accessible == accessible)
		return 0;
	if (mprotect(heap->base, heap->size, accessible ? PROT_READ | PROT_WRITE : PROT_NONE) == -1)
		return -errno;
	heap->accessible = accessible;
	return 0;
}

void vk_heap_reset(struct vk_heap *heap)
{
	heap->top = 0;
	heap->last = VK_NO_BLOCK;
	heap->high_water = 0;
	memset(heap->lazy, 0, sizeof(heap->lazy));
}

void vk_heap_trim(struct vk_heap *heap)
{
	size_t page = vk_page_size();
	size_t to = round_up(heap->high_water, page);
	size_t kept_to = heap->kept ? (size_t)(64 - __builtin_clzll(heap->kept)) * page : 0;

	if (kept_to > to)
		to = kept_to;
	if (to > heap->size)
		to = heap->size;
	if (to)
		madvise(heap->base, to, MADV_DONTNEED);
	heap->high_water = 0;
	heap->kept = 0;
	memset(heap->lazy, 0, sizeof(heap->lazy));
}

/* Byte ranges of the heap that may have been written. */
struct dirty {
	size_t from[2 * VK_HEAP_LAZY + VK_HEAP_LAZY + 1];
	size_t to[2 * VK_HEAP_LAZY + VK_HEAP_LAZY + 1];
	int count;
};

static void dirty_add(struct dirty *d, size_t from, size_t to, size_t limit)
{
	if (to > limit)
		to = limit;
	if (from >= to)
		return;
	d->from[d->count] = from;
	d->to[d->count] = to;
	d->count++;
}

/* The written part of a lazy block: one or two ranges; all of it if its span is off. */
static void dirty_lazy(struct dirty *d, const struct vk_heap *heap, const struct vk_heap_lazy *lazy,
		       size_t limit)
{
	size_t start = lazy->offset, size = lazy->size;
	const struct vk_heap_span *span = (const void *)(heap->base + lazy->span);
	size_t origin = span->origin, reach = span->reach;

	if (origin >= size || reach > size) {
		dirty_add(d, start, start + size, limit);
		return;
	}
	dirty_add(d, start + origin, start + (origin + reach < size ? origin + reach : size),
		  limit);
	if (origin + reach > size)
		dirty_add(d, start, start + origin + reach - size, limit);
}

/* Everything below the high-water mark but the unwritten parts of lazy blocks. */
static void dirty_ranges(const struct vk_heap *heap, struct dirty *d)
{
	const struct vk_heap_lazy *order[VK_HEAP_LAZY];
	size_t limit = heap->high_water < heap->size ? heap->high_water : heap->size;
	size_t pos = 0;
	int n = 0;

	d->count = 0;
	for (int i = 0; i < VK_HEAP_LAZY; i++) {
		const struct vk_heap_lazy *lazy = &heap->lazy[i];
		int j = n++;

		if (!lazy->size) {
			n--;
			continue;
		}
		/* By offset: at most VK_HEAP_LAZY entries. */
		while (j > 0 && order[j - 1]->offset > lazy->offset) {
			order[j] = order[j - 1];
			j--;
		}
		order[j] = lazy;
	}
	for (int i = 0; i < n; i++) {
		if (order[i]->offset < pos)
			continue; /* overlapping: cannot happen; the plain range covers it */
		dirty_add(d, pos, order[i]->offset, limit);
		dirty_lazy(d, heap, order[i], limit);
		pos = (size_t)order[i]->offset + order[i]->size;
	}
	dirty_add(d, pos, limit, limit);
}

/* The pages of the ranges as a mask; 0 with *over set when a page is past 64. */
static uint64_t dirty_pages(const struct dirty *d, int *over)
{
	size_t page = vk_page_size();
	uint64_t mask = 0;

	*over = 0;
	for (int i = 0; i < d->count; i++) {
		size_t last = (d->to[i] - 1) / page;

		if (last >= 64) {
			*over = 1;
			return 0;
		}
		for (size_t p = d->from[i] / page; p <= last; p++)
			mask |= 1ull << p;
	}
	return mask;
}

void vk_heap_clean(struct vk_heap *heap)
{
	struct dirty d;
	uint64_t pages;
	int over;

	if (!heap->accessible) {
		vk_heap_trim(heap);
		return;
	}
	dirty_ranges(heap, &d);
	pages = dirty_pages(&d, &over) | heap->kept;
	if (over || __builtin_popcountll(pages) > VK_HEAP_KEEP_PAGES) {
		vk_heap_trim(heap);
		return;
	}
	for (int i = 0; i < d.count; i++)
		memset(heap->base + d.from[i], 0, d.to[i] - d.from[i]);
	heap->kept = pages;
	heap->high_water = 0;
	memset(heap->lazy, 0, sizeof(heap->lazy));
}

int vk_heap_set_lazy(struct vk_heap *heap, const void *block, size_t size,
		     const struct vk_heap_span *span)
{
	size_t offset = (size_t)((const char *)block - heap->base);
	size_t at = (size_t)((const char *)span - heap->base);

	if ((const char *)block < heap->base || offset > heap->size || size > heap->size - offset ||
	    !size)
		return -EINVAL;
	if ((const char *)span < heap->base || at > heap->size - sizeof(*span))
		return -EINVAL;
	for (int i = 0; i < VK_HEAP_LAZY; i++) {
		if (heap->lazy[i].size)
			continue;
		heap->lazy[i].offset = (uint32_t)offset;
		heap->lazy[i].size = (uint32_t)size;
		heap->lazy[i].span = (uint32_t)at;
		return 0;
	}
	return -ENOSPC;
}

static struct vk_block *block_at(const struct vk_heap *heap, size_t offset)
{
	return (struct vk_block *)(heap->base + offset);
}

void *vk_heap_alloc(struct vk_heap *heap, size_t size)
{
	size_t need;
	struct vk_block *block;

	if (size > UINT32_MAX - VK_HEAP_ALIGN) {
		errno = ENOMEM;
		return NULL;
	}
	size = round_up(size ? size : 1, VK_HEAP_ALIGN);
	need = sizeof(struct vk_block) + size;
	if (need > heap->size - heap->top) {
		errno = ENOMEM;
		return NULL;
	}
	block = block_at(heap, heap->top);
	block->size = (uint32_t)size;
	block->freed = 0;
	block->prev = heap->last == VK_NO_BLOCK ? UINT64_MAX : heap->last;
	heap->last = heap->top;
	heap->top += (uint32_t)need;
	if (heap->top > heap->high_water)
		heap->high_water = heap->top;
	return block + 1;
}

void *vk_heap_reserve(struct vk_heap *heap, size_t size)
{
	if (heap->top != 0 || heap->last != VK_NO_BLOCK) {
		errno = EBUSY;
		return NULL;
	}
	size = round_up(size, VK_HEAP_ALIGN);
	if (size > heap->size) {
		errno = ENOMEM;
		return NULL;
	}
	heap->top = (uint32_t)size;
	if (heap->top > heap->high_water)
		heap->high_water = heap->top;
	return heap->base;
}

void *vk_heap_calloc(struct vk_heap *heap, size_t count, size_t size)
{
	void *ptr;

	if (size && count > SIZE_MAX / size) {
		errno = ENOMEM;
		return NULL;
	}
	ptr = vk_heap_alloc(heap, count * size);
	if (ptr)
		memset(ptr, 0, count * size);
	return ptr;
}

void vk_heap_free(struct vk_heap *heap, void *ptr)
{
	struct vk_block *block;

	if (!ptr)
		return;
	block = (struct vk_block *)ptr - 1;
	block->freed = 1;
	/* A freed lazy block is plain again: its bytes may serve any allocation. */
	for (int i = 0; i < VK_HEAP_LAZY; i++) {
		if (heap->lazy[i].size && heap->base + heap->lazy[i].offset == (char *)ptr)
			heap->lazy[i].size = 0;
	}
	/* Pop every tombstone that is now on top. */
	while (heap->last != VK_NO_BLOCK) {
		block = block_at(heap, heap->last);
		if (!block->freed)
			break;
		heap->top = heap->last;
		heap->last = block->prev == UINT64_MAX ? VK_NO_BLOCK : (uint32_t)block->prev;
	}
}

char *vk_heap_next(const struct vk_heap *heap)
{
	return heap->base + heap->top + sizeof(struct vk_block);
}

size_t vk_heap_available(const struct vk_heap *heap)
{
	size_t left = heap->size - heap->top;

	return left > sizeof(struct vk_block) ? left - sizeof(struct vk_block) : 0;
}
