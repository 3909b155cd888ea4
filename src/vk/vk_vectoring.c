#include "vk_vectoring.h"

#include <string.h>

void vk_vectoring_init(struct vk_vectoring *ring, char *buf, size_t size)
{
	memset(ring, 0, sizeof(*ring));
	ring->buf = buf;
	ring->size = size;
}

void vk_vectoring_set_origin(struct vk_vectoring *ring, size_t origin)
{
	origin = origin < ring->size ? origin : 0;
	/* What was written from the old origin is not one piece from the new one. */
	if (ring->written.reach && origin != ring->written.origin)
		ring->written.reach = ring->size;
	ring->written.origin = origin;
	ring->restart = origin;
	if (ring->len == 0)
		ring->start = origin;
}

/* Bytes were added at the end of those held: extend the written span. */
static void note_written(struct vk_vectoring *ring)
{
	size_t origin = ring->written.origin;
	size_t from =
	    ring->start >= origin ? ring->start - origin : ring->start + ring->size - origin;
	size_t reach = from + ring->len;

	if (reach > ring->size)
		reach = ring->size;
	if (reach > ring->written.reach)
		ring->written.reach = reach;
}

int vk_vectoring_free_iov(const struct vk_vectoring *ring, struct iovec *iov)
{
	size_t end = ring->start + ring->len;
	size_t free_bytes = ring->size - ring->len;

	if (free_bytes == 0)
		return 0;
	if (end >= ring->size) {
		/* The held bytes wrap: the free space is one piece in the middle. */
		iov[0].iov_base = ring->buf + (end - ring->size);
		iov[0].iov_len = free_bytes;
		return 1;
	}
	iov[0].iov_base = ring->buf + end;
	iov[0].iov_len = ring->size - end;
	if (ring->start == 0)
		return 1;
	iov[1].iov_base = ring->buf;
	iov[1].iov_len = ring->start;
	return 2;
}

int vk_vectoring_used_iov(const struct vk_vectoring *ring, struct iovec *iov)
{
	size_t first;

	if (ring->len == 0)
		return 0;
	first = ring->size - ring->start;
	iov[0].iov_base = ring->buf + ring->start;
	if (ring->len <= first) {
		iov[0].iov_len = ring->len;
		return 1;
	}
	iov[0].iov_len = first;
	iov[1].iov_base = ring->buf;
	iov[1].iov_len = ring->len - first;
	return 2;
}

void vk_vectoring_produced(struct vk_vectoring *ring, size_t n)
{
	ring->len += n;
	note_written(ring);
}

void vk_vectoring_consumed(struct vk_vectoring *ring, size_t n)
{
	/*
	 * Held bytes that reach past the end: from the origin, this traffic
	 * does not fit in one piece. Restart at the buffer's start, where the
	 * wrap put it, so that the next such batch is one piece (one iovec)
	 * in pages already resident: a pipelined batch of 16 answers (2 KiB)
	 * went out of the main socket's 512-byte hot tail and 1.5 KiB of its
	 * first page, in two iovecs.
	 */
	if (ring->start + ring->len > ring->size)
		ring->restart = 0;
	ring->len -= n;
	if (ring->len == 0) {
		ring->start = ring->restart;
		return;
	}
	ring->start += n;
	if (ring->start >= ring->size)
		ring->start -= ring->size;
}

size_t vk_vectoring_put(struct vk_vectoring *ring, const void *data, size_t len)
{
	struct iovec iov[2];
	int count = vk_vectoring_free_iov(ring, iov);
	size_t done = 0;

	for (int i = 0; i < count && done < len; i++) {
		size_t n = len - done < iov[i].iov_len ? len - done : iov[i].iov_len;

		memcpy(iov[i].iov_base, (const char *)data + done, n);
		done += n;
	}
	ring->len += done;
	note_written(ring);
	return done;
}

size_t vk_vectoring_peek(const struct vk_vectoring *ring, void *data, size_t len)
{
	struct iovec iov[2];
	int count = vk_vectoring_used_iov(ring, iov);
	size_t done = 0;

	for (int i = 0; i < count && done < len; i++) {
		size_t n = len - done < iov[i].iov_len ? len - done : iov[i].iov_len;

		memcpy((char *)data + done, iov[i].iov_base, n);
		done += n;
	}
	return done;
}

size_t vk_vectoring_get(struct vk_vectoring *ring, void *data, size_t len)
{
	size_t done = vk_vectoring_peek(ring, data, len);

	vk_vectoring_consumed(ring, done);
	return done;
}

size_t vk_vectoring_find(const struct vk_vectoring *ring, int c, size_t limit)
{
	struct iovec iov[2];
	int count = vk_vectoring_used_iov(ring, iov);
	size_t seen = 0;

	for (int i = 0; i < count && seen < limit; i++) {
		size_t n = limit - seen < iov[i].iov_len ? limit - seen : iov[i].iov_len;
		const char *hit = memchr(iov[i].iov_base, c, n);

		if (hit)
			return seen + (size_t)(hit - (const char *)iov[i].iov_base) + 1;
		seen += n;
	}
	return 0;
}

size_t vk_vectoring_splice(struct vk_vectoring *to, struct vk_vectoring *from, size_t len)
{
	struct iovec iov[2];
	int count = vk_vectoring_used_iov(from, iov);
	size_t done = 0;

	for (int i = 0; i < count && done < len; i++) {
		size_t want = len - done < iov[i].iov_len ? len - done : iov[i].iov_len;
		size_t n = vk_vectoring_put(to, iov[i].iov_base, want);

		done += n;
		if (n < want)
			break;
	}
	vk_vectoring_consumed(from, done);
	return done;
}
