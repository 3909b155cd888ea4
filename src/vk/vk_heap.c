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

#define VK_NO_BLOCK SIZE_MAX

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

	if (size == 0 || size > SIZE_MAX - 2 * page)
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
	heap->size = usable;
	heap->accessible = accessible;
	heap->pool_next = NULL;
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
}

void vk_heap_trim(struct vk_heap *heap)
{
	size_t to = round_up(heap->high_water, vk_page_size());

	if (to > heap->size)
		to = heap->size;
	if (to)
		madvise(heap->base, to, MADV_DONTNEED);
	heap->high_water = 0;
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
	heap->top += need;
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
	heap->top = size;
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
	/* Pop every tombstone that is now on top. */
	while (heap->last != VK_NO_BLOCK) {
		block = block_at(heap, heap->last);
		if (!block->freed)
			break;
		heap->top = heap->last;
		heap->last = block->prev == UINT64_MAX ? VK_NO_BLOCK : (size_t)block->prev;
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
