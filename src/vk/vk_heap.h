/*
 * vk_heap: micro-heaps.
 *
 * A micro-heap is one private anonymous mapping that holds everything a
 * micro-process owns: its coroutines, their state, its socket rings. It is
 * made inaccessible (PROT_NONE) whenever its micro-process is not running, so
 * that a stray pointer in one micro-process faults instead of corrupting
 * another.
 *
 * Each heap is followed by one read-only guard page. The guard keeps the heap
 * its own VMA: without it the kernel merges neighbouring heaps that share a
 * protection, and every later mprotect would have to split and re-merge
 * mappings, which costs about 2.5x a plain protection change. The guard also
 * catches writes that run off the end. So every heap uses two entries of
 * vm.max_map_count (65530 by default).
 *
 * Inside the heap the allocator is a stack: allocation bumps a top offset,
 * and a free that is not at the top leaves a tombstone that is reclaimed when
 * everything above it has been freed. Coroutine lifetimes nest, so this is
 * almost always a pop.
 *
 * The struct vk_heap descriptor lives outside the mapping, so that the
 * kernel can manage a heap whose pages it may not touch.
 */
#ifndef VK_HEAP_H
#define VK_HEAP_H

#include <stddef.h>
#include <stdint.h>

#include "vk_internal.h"

struct vk_heap {
	char *base;	   /* start of the mapping (page aligned) */
	size_t size;	   /* usable bytes, excluding the guard page */
	size_t top;	   /* offset of the first free byte */
	size_t last;	   /* offset of the last block's header, or SIZE_MAX */
	size_t high_water; /* largest top reached since the heap was reset */
	int accessible;	   /* current protection: 1 = read/write, 0 = none */
	struct vk_heap *pool_next;
};

/* Alignment of every allocation. */
#define VK_HEAP_ALIGN 16

/*
 * Map a heap of at least `size` bytes (rounded up to pages), accessible or
 * not. Returns 0 or -errno (-ENOMEM also when vm.max_map_count is
 * reached), as every int-returning libvk call does (vk_state.h, "Errors").
 */
int vk_heap_map(struct vk_heap *heap, size_t size, int accessible);

/* Unmap a heap. */
void vk_heap_unmap(struct vk_heap *heap);

/*
 * Make the heap accessible (1) or not (0). Does nothing if it already is.
 * Returns 0 or -errno.
 */
int vk_heap_set_access(struct vk_heap *heap, int accessible);

/* Forget every allocation. The heap must be accessible to be used after. */
void vk_heap_reset(struct vk_heap *heap);

/*
 * Give back to the kernel every page touched since the last reset: they
 * read as zeros when next touched, so nothing of one micro-process reaches
 * the next user of the heap, and a pooled heap pins no memory.
 */
void vk_heap_trim(struct vk_heap *heap);

/*
 * Allocate `size` bytes aligned to VK_HEAP_ALIGN. The memory is not zeroed.
 * Returns NULL with errno = ENOMEM when the heap is full.
 */
void *vk_heap_alloc(struct vk_heap *heap, size_t size);

/*
 * Set aside the first `size` bytes (rounded to VK_HEAP_ALIGN) of a heap
 * that has no allocation yet, writing nothing into them: unlike an
 * allocation, no block header lands in their first page, which stays
 * untouched until used. Only vk_heap_reset() gives them back. Returns the
 * start, or NULL with errno (EBUSY if the heap is in use, ENOMEM).
 */
void *vk_heap_reserve(struct vk_heap *heap, size_t size);

/* Allocate and zero `count * size` bytes; NULL with ENOMEM on overflow too. */
void *vk_heap_calloc(struct vk_heap *heap, size_t count, size_t size);

/* Free a block from vk_heap_alloc. NULL is ignored. */
void vk_heap_free(struct vk_heap *heap, void *ptr);

/* Where the payload of the next allocation would start. */
char *vk_heap_next(const struct vk_heap *heap);

/* Bytes still free at the top. */
size_t vk_heap_available(const struct vk_heap *heap);

/* Page size, cached. */
size_t vk_page_size(void);

#endif
