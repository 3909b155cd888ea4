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
 *
 * A heap passes from one micro-process to the next (vk_pool.h) with no
 * byte of the first readable by the second. Zeroing what the first may
 * have written keeps those pages resident, for the next user to find
 * mapped: a madvise(MADV_DONTNEED) instead costs a system call and a TLB
 * flush, and every page it gives back faults again when next touched (on
 * this VM about 100 us for the madvise and 30 us a fault, against 0.1 us
 * to zero a page). What may have been written is everything ever
 * allocated (the high-water mark), but for lazy blocks: socket rings,
 * whose pages stay untouched until traffic reaches them, and whose owner
 * keeps a span of what it wrote. A heap that would keep more than
 * VK_HEAP_KEEP_PAGES resident is trimmed instead, so a pooled heap pins
 * little memory and a recycled idle connection stays small.
 */
#ifndef VK_HEAP_H
#define VK_HEAP_H

#include <stddef.h>
#include <stdint.h>

#include "vk_internal.h"

/*
 * The part of a lazy block its owner has written: `reach` bytes from
 * offset `origin` on, wrapping at the end of the block to its start. The
 * owner keeps it up to date; it lives in the heap, with the owner.
 */
struct vk_heap_span {
	size_t origin;
	size_t reach;
};

/* Lazy blocks a heap tracks (the main socket's two rings); more are plain. */
#define VK_HEAP_LAZY 2
/* Pages a heap may keep resident, zeroed, for its next user. */
#define VK_HEAP_KEEP_PAGES 2

struct vk_heap_lazy {
	uint32_t offset; /* of the block, from base; size 0: a free slot */
	uint32_t size;
	uint32_t span; /* of its struct vk_heap_span, from base: 4 bytes, not a pointer's 8 */
};

/*
 * Offsets are 32 bits (a heap is below 4 GiB; vkd allows 1 GiB), the
 * lazy blocks' spans too: the heap is part of every connection's control
 * block (struct vk_proc).
 */
struct vk_heap {
	char *base;	     /* start of the mapping (page aligned) */
	uint32_t size;	     /* usable bytes, excluding the guard page */
	uint32_t top;	     /* offset of the first free byte */
	uint32_t last;	     /* offset of the last block's header, or UINT32_MAX */
	uint32_t high_water; /* largest top reached since the heap was reset */
	uint64_t kept;	     /* pages zeroed in place since the last trim: bit i = page i */
	struct vk_heap_lazy lazy[VK_HEAP_LAZY];
	int accessible; /* current protection: 1 = read/write, 0 = none */
};

/* Alignment of every allocation. */
#define VK_HEAP_ALIGN 16

/*
 * Map a heap of at least `size` bytes (rounded up to pages), accessible or
 * not. Returns 0 or -errno (-EINVAL past 4 GiB less a page; -ENOMEM also
 * when vm.max_map_count is reached), as every int-returning libvk call
 * does (vk_state.h, "Errors").
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
 * Give back to the kernel every page touched since the last trim: they
 * read as zeros when next touched, so nothing of one micro-process reaches
 * the next user of the heap, and a pooled heap pins no memory.
 */
void vk_heap_trim(struct vk_heap *heap);

/*
 * Zero every byte the heap's user may have written since the last reset
 * (see the top of this file), leaving the pages resident; or, when that
 * would leave more than VK_HEAP_KEEP_PAGES resident, vk_heap_trim(). The
 * heap must be accessible. Either way nothing of its user survives.
 */
void vk_heap_clean(struct vk_heap *heap);

/*
 * Make the block of `size` bytes at `block` (allocated or reserved) lazy:
 * vk_heap_clean() zeroes only the part `span` says was written. `span`
 * is in the heap (kept as an offset) and must stay valid while the block
 * is; freeing the block makes it plain again. Returns 0, -EINVAL for a
 * block or span outside the heap, or -ENOSPC when VK_HEAP_LAZY blocks are
 * lazy already (the block stays plain: zeroed whole).
 */
int vk_heap_set_lazy(struct vk_heap *heap, const void *block, size_t size,
		     const struct vk_heap_span *span);

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
