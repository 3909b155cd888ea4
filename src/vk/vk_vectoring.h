/*
 * vk_vectoring: a byte ring exposed as one or two struct iovec, so that
 * readv() fills it and writev() drains it with no intermediate copy.
 *
 * The ring lives in a micro-heap. When it empties, its start snaps back to
 * its origin (offset 0 unless set): small traffic then stays in one page of
 * the buffer, so an idle connection keeps few pages resident and changing
 * the heap's protection has few page-table entries to rewrite. Once the
 * bytes held wrap past the buffer's end, the ring restarts at the buffer's
 * start instead: traffic larger than the stretch from the origin to the
 * end (a batch of pipelined answers) then lands in one piece, in pages the
 * wrap already made resident, and leaves in one iovec. For the
 * same reason the ring keeps a span of the bytes ever written into its
 * buffer (always one piece from the origin on, wrapping), so that a heap
 * can zero just those when its process ends (vk_heap_set_lazy()).
 */
#ifndef VK_VECTORING_H
#define VK_VECTORING_H

#include <stddef.h>
#include <sys/uio.h>

#include "vk_internal.h"
#include "vk_heap.h"

struct vk_task;

struct vk_vectoring {
	char *buf;
	size_t size;
	size_t start; /* offset of the first byte held */
	size_t len;   /* bytes held */
	/* origin: where start goes back to when the ring empties; reach: written from there. */
	struct vk_heap_span written;
	size_t restart; /* where start goes when it empties: the origin, 0 once it wrapped */
	int eof;	/* the writer hung up after the bytes held */
	int error;	/* sticky errno from the fd behind this ring, 0 if none */
	/* Coroutines blocked on this ring, each list woken in order (vk_task.h). */
	struct vk_task *reader;
	struct vk_task *writer;
};

/* Use `size` bytes at `buf` as an empty ring. */
void vk_vectoring_init(struct vk_vectoring *ring, char *buf, size_t size);

/*
 * Make an empty ring start at `origin` (< size) whenever it empties, so
 * that its hot bytes can share a page with other hot data, until the
 * bytes held first wrap past the buffer's end: from then on it restarts at
 * offset 0 (the written span still counts from `origin`).
 */
void vk_vectoring_set_origin(struct vk_vectoring *ring, size_t origin);

static inline size_t vk_vectoring_used(const struct vk_vectoring *ring)
{
	return ring->len;
}

static inline size_t vk_vectoring_free(const struct vk_vectoring *ring)
{
	return ring->size - ring->len;
}

/*
 * 1 once bytes have been put in the ring, even if all were consumed since:
 * its written span grows from empty with the first bytes and never
 * shrinks while the ring lives.
 */
static inline int vk_vectoring_ever_used(const struct vk_vectoring *ring)
{
	return ring->written.reach != 0;
}

/*
 * Describe the free space as iovecs (for readv). Returns the count, 0 to 2;
 * iov must have room for 2.
 */
int vk_vectoring_free_iov(const struct vk_vectoring *ring, struct iovec *iov);

/* Describe the bytes held as iovecs (for writev). Returns 0 to 2. */
int vk_vectoring_used_iov(const struct vk_vectoring *ring, struct iovec *iov);

/* Account for `n` bytes written into the free space (after readv). */
void vk_vectoring_produced(struct vk_vectoring *ring, size_t n);

/* Drop `n` bytes from the front (after writev, or after a copy out). */
void vk_vectoring_consumed(struct vk_vectoring *ring, size_t n);

/* Copy up to `len` bytes in. Returns the count copied. */
size_t vk_vectoring_put(struct vk_vectoring *ring, const void *data, size_t len);

/* Copy up to `len` bytes out and consume them. Returns the count. */
size_t vk_vectoring_get(struct vk_vectoring *ring, void *data, size_t len);

/* Copy up to `len` bytes out without consuming them. Returns the count. */
size_t vk_vectoring_peek(const struct vk_vectoring *ring, void *data, size_t len);

/*
 * Offset (from the front) just past the first `c` held, or 0 if there is
 * none among the first `limit` bytes.
 */
size_t vk_vectoring_find(const struct vk_vectoring *ring, int c, size_t limit);

/*
 * Move up to `len` bytes from one ring to another without a bounce buffer.
 * Returns the count moved.
 */
size_t vk_vectoring_splice(struct vk_vectoring *to, struct vk_vectoring *from, size_t len);

#endif
