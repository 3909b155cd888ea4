#include "vk_http_exchange_s.h"

#include <string.h>

#include "vk_http_body.h"

static const char continue_line[] = "HTTP/1.1 100 Continue\r\n\r\n";

static ssize_t fail(struct vk_http_exchange *ex, int status, int error)
{
	ex->in = VK_HTTP_IN_FAILED;
	ex->in_error = error;
	ex->error_status = status;
	return -error;
}

/*
 * Take up to len decoded body bytes out of what the receive ring holds.
 * Returns the count, 0 at the end of the body, -EAGAIN when the ring holds
 * nothing of it now, or -errno (the body failed).
 */
static ssize_t take(struct vk_thread *that, struct vk_http_exchange *ex, char *buf, size_t len)
{
	struct iovec iov[2];

	for (;;) {
		const char *span;
		size_t n, used, span_len;
		int rc;

		if (ex->in == VK_HTTP_IN_NONE)
			return 0;
		if (ex->in == VK_HTTP_IN_FAILED)
			return -ex->in_error;
		if (!vk_socket_peek_iov(ex->socket, iov))
			return vk_socket_eof(ex->socket) ? fail(ex, 0, ECONNRESET) : -EAGAIN;
		ex->in_seen = 1;
		n = iov[0].iov_len < len ? iov[0].iov_len : len;
		if (ex->in == VK_HTTP_IN_LENGTH) {
			if (n > ex->in_left)
				n = (size_t)ex->in_left;
			memcpy(buf, iov[0].iov_base, n);
			vk_socket_consume(that, ex->socket, n);
			ex->in_left -= n;
			if (!ex->in_left)
				ex->in = VK_HTTP_IN_NONE;
			return (ssize_t)n;
		}
		/* At most len bytes in: a span never holds more than fits buf. */
		rc = vk_http_chunked_decode(&ex->chunked, iov[0].iov_base, n, &used, &span,
					    &span_len);
		if (rc == 1)
			memcpy(buf, span, span_len); /* before the ring may reuse it */
		vk_socket_consume(that, ex->socket, used);
		if (rc == 1)
			return (ssize_t)span_len;
		if (rc == 2)
			ex->in = VK_HTTP_IN_NONE;
		else if (rc < 0)
			return fail(ex, -rc, rc == -413 ? EFBIG : EBADMSG);
	}
}

/* Write "100 Continue", resuming a partial write. */
static ssize_t send_continue(struct vk_thread *that, struct vk_http_exchange *ex)
{
	size_t progress = that->op_done;
	ssize_t rc;

	that->op_done = ex->continue_done;
	rc = vk_socket_write_step(that, ex->socket, continue_line, sizeof(continue_line) - 1);
	ex->continue_done = (uint16_t)that->op_done;
	that->op_done = progress;
	if (rc < 0)
		return rc;
	ex->continue_owed = 0;
	ex->continue_sent = 1;
	return 0;
}

/* Up to len bytes, waiting for the first one. Returns as take(). */
static ssize_t next(struct vk_thread *that, struct vk_http_exchange *ex, char *buf, size_t len)
{
	for (;;) {
		ssize_t rc = take(that, ex, buf, len);

		if (rc != -EAGAIN)
			return rc;
		/*
		 * The client waits for a go before it sends the body: the 100
		 * leaves with the next flush, when this coroutine blocks.
		 */
		if (ex->continue_owed) {
			rc = send_continue(that, ex);
			if (rc < 0)
				return rc;
		}
		rc = vk_http_exchange_await(that, ex);
		if (rc < 0)
			return rc;
		if (rc == 0)
			return fail(ex, 0, ECONNRESET);
	}
}

static ssize_t begin(struct vk_http_exchange *ex, size_t len)
{
	if (!ex || !len)
		return -EINVAL;
	ex->op = VK_HTTP_OP_READ;
	ex->in_touched = 1;
	return 0;
}

ssize_t vk_http_read_step(struct vk_thread *that, struct vk_http_exchange *ex, void *buf,
			  size_t len)
{
	ssize_t rc = begin(ex, len);

	if (rc < 0)
		return rc;
	rc = next(that, ex, buf, len);
	if (rc >= 0)
		ex->op = VK_HTTP_OP_NONE;
	return rc;
}

ssize_t vk_http_read_all_step(struct vk_thread *that, struct vk_http_exchange *ex, void *buf,
			      size_t cap)
{
	ssize_t rc = begin(ex, cap);
	char extra;

	if (rc < 0)
		return rc;
	/* An announced length over the room: 413 before reading any of it. */
	if (ex->in == VK_HTTP_IN_LENGTH && ex->in_left > cap - that->op_done)
		return fail(ex, 413, EFBIG);
	for (;;) {
		if (that->op_done == cap) {
			/* Full: only the end of the body may follow. */
			rc = next(that, ex, &extra, 1);
			if (rc > 0)
				return fail(ex, 413, EFBIG);
		} else {
			rc = next(that, ex, (char *)buf + that->op_done, cap - that->op_done);
		}
		if (rc < 0)
			return rc;
		if (rc == 0)
			break;
		that->op_done += (size_t)rc;
	}
	ex->op = VK_HTTP_OP_NONE;
	return (ssize_t)that->op_done;
}
