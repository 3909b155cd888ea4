/*
 * vk_pool: the micro-heaps of one worker.
 *
 * Mapping a heap costs two system calls (mmap, and mprotect for its guard
 * page) and a heap is needed per connection, so a heap whose process ended
 * goes back to a pool, with every byte its process may have written
 * zeroed (vk_heap_clean(): in place, its few pages kept resident; or given
 * back), and the next process of the same heap size takes it, the most
 * recently pooled first. An isolated process that ends in its dispatch
 * leaves its heap open, cleaned (VK_POOL_OPEN), for the next isolated
 * process to take open: no protection change a connection served in one
 * dispatch. The pool also bounds how many
 * heaps are mapped at once (vm.max_map_count: each heap is two mappings)
 * and counts every protection change.
 *
 * The pool keeps every heap given back, up to that bound, and shrinks back
 * to VK_POOL_KEEP heaps slowly (vk_pool_shrink(), which the kernel calls
 * from a timer while there is more): a burst of new connections comes
 * back in bursts. A fresh heap costs an mmap, an mprotect, its first page
 * fault and later a munmap, about 35 us here against 0.5 us for a pooled
 * one, and a pool of 256 mapped 9,744 of the 10,000 heaps of every wrk
 * -c10000 run again: the worker fell behind the accept queue (listen
 * queue overflows, SYNs retried a second later: requests over 1 s).
 * Shrinking starts VK_POOL_HOLD calls after the last burst: unmapping 64
 * a second from the first, a burst 40 s after the last one mapped 2,560
 * of its heaps again.
 */
#ifndef VK_POOL_H
#define VK_POOL_H

#include <stddef.h>

#include "vk_internal.h"
#include "vk_heap.h"
#include "vk_stats.h"

/* Heaps a pool keeps however long it is not used. */
#define VK_POOL_KEEP 256
/* Heaps unmapped by one vk_pool_shrink() at most (a munmap costs about 13 us here). */
#define VK_POOL_SHRINK_STEP 64
/*
 * vk_pool_shrink() calls (the kernel makes one a second) that unmap
 * nothing after a burst drew on the pool: more than VK_POOL_KEEP heaps
 * taken in use between two calls. See vk_pool_shrink().
 */
#define VK_POOL_HOLD 60
/* Heap sizes pooled (one per app, service and test; heaps of another size are unmapped). */
#define VK_POOL_BINS 8

/* A heap waiting in the pool for its next process. */
struct vk_pooled {
	struct vk_heap heap;
	struct vk_pooled *next;
};

/* The pooled heaps of one size, most recently pooled first. */
struct vk_pool_bin {
	size_t size; /* 0: unused */
	struct vk_pooled *free;
	size_t count;
};

struct vk_pool {
	struct vk_pool_bin bins[VK_POOL_BINS];
	size_t free_count;	/* pooled heaps, all sizes */
	size_t low;		/* the fewest pooled since the last vk_pool_shrink() */
	size_t peak;		/* the most in use since then */
	size_t in_use;		/* in use at that call */
	unsigned hold;		/* calls left before it unmaps again (VK_POOL_HOLD) */
	size_t mapped;		/* heaps mapped, pooled or in use */
	size_t limit;		/* of `mapped` */
	struct vk_pooled *open; /* left open by vk_pool_release(VK_POOL_OPEN), or NULL */
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
 * (PROT_NONE), but the one left open (VK_POOL_OPEN) when `take_open`:
 * that one comes open and the call returns 1, and the caller must close
 * it before any other process's code runs. Any other heap may come open
 * or closed (the first dispatch opens it). Returns 0, 1 or -errno
 * (-ENOMEM past the limit), with a log line and the heap_failures counter
 * on every failure.
 */
int vk_pool_acquire(struct vk_pool *pool, struct vk_heap *heap, size_t size, int isolation,
		    int take_open);

/* How a heap comes back to the pool. */
enum vk_pool_return {
	VK_POOL_UNMAP, /* unmapped */
	VK_POOL_CLEAN, /* pooled, its user's bytes zeroed (vk_heap_clean(); open, or trimmed) */
	VK_POOL_TRIM,  /* pooled, every touched page given back: it may hold anything */
};

/* What a heap's protection becomes in the pool. */
enum vk_pool_access {
	VK_POOL_AS_IS,	/* as it is: a heap without isolation */
	VK_POOL_CLOSED, /* closed: it waits for an isolated process */
	/*
	 * Left open, cleaned in place, for the next isolated process to take
	 * open (vk_pool_acquire()), when no process ran since its heap was
	 * opened: a Connection: close request then costs no protection change
	 * at all. One heap at most; vk_pool_close_open() closes it, and must
	 * before any process's code runs. Not for a heap cleaned by a trim
	 * (VK_POOL_TRIM, or an unwritten one), which is closed.
	 */
	VK_POOL_OPEN,
};

/*
 * Give `heap` back, `how` says (unmapped when its size finds no bin). No
 * byte of its user survives into the next. `access` (enum
 * vk_pool_access) says how it waits.
 */
void vk_pool_release(struct vk_pool *pool, struct vk_heap *heap, enum vk_pool_return how,
		     int access);

/*
 * Close the pooled heap left open (VK_POOL_OPEN), if any: before any
 * process's code runs. A heap that cannot be closed is unmapped.
 */
void vk_pool_close_open(struct vk_pool *pool);

/*
 * Give `heap` (closed, clean: its process never ran) to the pool for the
 * heap left open, of the same size: 0, `heap` is then that open heap; or
 * -1 when there is none to take, `heap` untouched.
 */
int vk_pool_swap_open(struct vk_pool *pool, struct vk_heap *heap);

/*
 * Unmap up to VK_POOL_SHRINK_STEP of the heaps that stayed pooled since
 * the last call (none was needed meanwhile), leaving at least
 * VK_POOL_KEEP; none while a burst is held: VK_POOL_HOLD calls from the
 * last call that found more than VK_POOL_KEEP heaps more in use at once
 * than at the call before it. Returns how many are pooled beyond
 * VK_POOL_KEEP after it: call again (later) while that is not 0. A call
 * that returns 0 drops the hold, so that calls started again later
 * begin with none.
 */
size_t vk_pool_shrink(struct vk_pool *pool);

/* vk_heap_set_access(), counted in the protections counter when it acts. */
int vk_pool_set_access(struct vk_pool *pool, struct vk_heap *heap, int accessible);

#endif
