/*
 * vkd_chan: the master's channel to one worker; see vkd_chan.h.
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "vkd_chan.h"

/* Make room for `more` bytes after `len` in a buffer of `size`. */
static int grow(char **buf, size_t *size, size_t len, size_t more)
{
	size_t want = *size ? *size : 4096;
	char *grown;

	if (len + more <= *size)
		return 0;
	while (want < len + more)
		want *= 2;
	grown = realloc(*buf, want);
	if (!grown) {
		errno = ENOMEM;
		return -1;
	}
	*buf = grown;
	*size = want;
	return 0;
}

long vkd_chan_read(int fd, struct vkd_chan_in *in, size_t max)
{
	size_t room = 65536 < max ? 65536 : max;
	long total = 0;

	while ((size_t)total < max) {
		ssize_t n;

		if (grow(&in->buf, &in->size, in->len, room) < 0)
			return -1;
		do
			n = recv(fd, in->buf + in->len, room, MSG_DONTWAIT);
		while (n < 0 && errno == EINTR);
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return total;
		if (n <= 0) {
			if (n == 0)
				errno = EPIPE;
			return -1;
		}
		in->len += (size_t)n;
		total += n;
	}
	return total;
}

const struct vkd_chan_head *vkd_chan_frame(const struct vkd_chan_in *in, int *bad)
{
	const struct vkd_chan_head *head = (const struct vkd_chan_head *)(const void *)in->buf;

	*bad = 0;
	if (in->len < sizeof(*head))
		return NULL;
	if (head->len > VKD_CHAN_PAYLOAD_MAX) {
		*bad = -1;
		return NULL;
	}
	return in->len - sizeof(*head) >= head->len ? head : NULL;
}

void vkd_chan_consume(struct vkd_chan_in *in)
{
	const struct vkd_chan_head *head = (const struct vkd_chan_head *)(const void *)in->buf;
	size_t used = sizeof(*head) + head->len;

	memmove(in->buf, in->buf + used, in->len - used);
	in->len -= used;
}

void vkd_chan_in_free(struct vkd_chan_in *in)
{
	free(in->buf);
	memset(in, 0, sizeof(*in));
}

int vkd_chan_put(struct vkd_chan_out *out, uint32_t type, uint32_t id, uint32_t arg,
		 const void *payload, size_t len)
{
	struct vkd_chan_head head = {.type = type, .id = id, .arg = arg, .len = (uint32_t)len};

	if (len > VKD_CHAN_PAYLOAD_MAX) {
		errno = EMSGSIZE;
		return -1;
	}
	/* What went is dropped first: the buffer holds only what is left. */
	if (out->off) {
		memmove(out->buf, out->buf + out->off, out->len - out->off);
		out->len -= out->off;
		out->off = 0;
	}
	if (grow(&out->buf, &out->size, out->len, sizeof(head) + len) < 0)
		return -1;
	memcpy(out->buf + out->len, &head, sizeof(head));
	if (len)
		memcpy(out->buf + out->len + sizeof(head), payload, len);
	out->len += sizeof(head) + len;
	return 0;
}

int vkd_chan_flush(int fd, struct vkd_chan_out *out)
{
	while (out->off < out->len) {
		ssize_t n =
		    send(fd, out->buf + out->off, out->len - out->off, MSG_DONTWAIT | MSG_NOSIGNAL);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return 0;
		if (n < 0)
			return -1;
		out->off += (size_t)n;
	}
	out->off = out->len = 0;
	return 1;
}

void vkd_chan_out_free(struct vkd_chan_out *out)
{
	free(out->buf);
	memset(out, 0, sizeof(*out));
}

int vkd_chan_pair(int fds[2])
{
	return socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, fds);
}
