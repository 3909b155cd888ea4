#include "vk_http_exchange_s.h"
#include "vk_http_app_s.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "vk_http_reply.h"
#include "vk_socket_s.h"

enum { PHASE_NEW = 0, PHASE_HOLD, PHASE_PUT };

static const char crlf[] = "\r\n";

/*
 * Write the segments queued in ex->seg, resuming where the last call
 * stopped (that->op_done is the progress in the current one).
 */
static ssize_t put(struct vk_thread *that, struct vk_http_exchange *ex)
{
	while (ex->seg_i < ex->nseg) {
		const struct iovec *v = &ex->seg[ex->seg_i];
		ssize_t rc = v->iov_base
				 ? vk_socket_write_step(that, ex->socket, v->iov_base, v->iov_len)
				 : vk_http_head_put_step(that, ex);

		if (rc < 0)
			return rc;
		ex->seg_i++;
		that->op_done = 0;
	}
	return 0;
}

static void queue(struct vk_http_exchange *ex, const void *p, size_t len)
{
	if (!len)
		return;
	ex->seg[ex->nseg].iov_base = (void *)p;
	ex->seg[ex->nseg].iov_len = len;
	ex->nseg++;
}

/* The head, formatted from ex->head when it is written. */
static void queue_head(struct vk_http_exchange *ex)
{
	ex->seg[ex->nseg].iov_base = NULL;
	ex->seg[ex->nseg].iov_len = 0;
	ex->nseg++;
}

static void queue_reset(struct vk_http_exchange *ex)
{
	ex->nseg = 0;
	ex->seg_i = 0;
}

/*
 * A proxy in front (HAProxy 2.6, measured) may take an answer that comes
 * right behind "100 Continue" for the end of the exchange and drop the
 * body: after a 100, the head waits for the first body byte.
 */
static ssize_t hold(struct vk_thread *that, struct vk_http_exchange *ex)
{
	struct iovec iov[2];

	while (ex->continue_sent && !ex->in_seen &&
	       (ex->in == VK_HTTP_IN_LENGTH || ex->in == VK_HTTP_IN_CHUNKED)) {
		ssize_t rc;

		if (vk_socket_peek_iov(ex->socket, iov) || vk_socket_eof(ex->socket)) {
			ex->in_seen = 1;
			break;
		}
		rc = vk_http_exchange_await(that, ex);
		if (rc < 0)
			return rc;
	}
	return 0;
}

/* Whether the keep-alive the head will announce still holds. */
static int keep_alive_now(struct vk_thread *that, struct vk_http_exchange *ex, int64_t length)
{
	if (!ex->keep_alive || vk_draining(that))
		return 0;
	/* A body the handler never asked for will not be read: close after. */
	if (!ex->in_touched && ex->in != VK_HTTP_IN_NONE)
		return 0;
	/* HTTP/1.0 has no chunks: the close ends the body. */
	return length >= 0 || ex->req->version >= 11 || ex->out_no_body;
}

static char *put_bytes(char *p, const char *s, size_t n)
{
	memcpy(p, s, n);
	return p + n;
}

#define PUT(p, lit) put_bytes((p), (lit), sizeof(lit) - 1)

static char *put_u64(char *p, uint64_t v)
{
	char digits[20];
	size_t i = sizeof(digits);

	do {
		digits[--i] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	return put_bytes(p, digits + i, sizeof(digits) - i);
}

static char *put_status(char *p, int status)
{
	const char *reason;

	/* The usual answer, in one copy. */
	if (status == 200)
		return PUT(p, "HTTP/1.1 200 OK\r\n");
	reason = vk_http_reason(status);
	p = PUT(p, "HTTP/1.1 ");
	*p++ = (char)('0' + status / 100);
	*p++ = (char)('0' + status / 10 % 10);
	*p++ = (char)('0' + status % 10);
	*p++ = ' ';
	p = put_bytes(p, reason, strlen(reason));
	return PUT(p, "\r\n");
}

/*
 * Largest head: status line 46 (the longest reason is 31 bytes), Server
 * 13, Date 37, Content-Type 16 + VK_HTTP_TYPE_MAX, Content-Length 38,
 * Connection 24, the end 2: 304; Allow (at most 70) only comes without a
 * type.
 */
static size_t format_fields(char *out, const struct vk_http_head *head)
{
	char *p = put_status(out, head->status);

	p = PUT(p, "Server: vkd\r\nDate: ");
	p = put_bytes(p, vk_http_date(head->now), VK_HTTP_DATE_LEN);
	p = PUT(p, "\r\n");
	if (head->type) {
		p = PUT(p, "Content-Type: ");
		p = put_bytes(p, head->type, head->type_len);
		p = PUT(p, "\r\n");
	}
	if (head->length >= 0) {
		p = PUT(p, "Content-Length: ");
		p = put_u64(p, (uint64_t)head->length);
		p = PUT(p, "\r\n");
	} else if (head->chunked) {
		p = PUT(p, "Transfer-Encoding: chunked\r\n");
	}
	if (head->allow) {
		char allow[96];
		int n = vk_http_route_allow(head->allow, allow, sizeof(allow));

		if (n > 0) {
			p = PUT(p, "Allow: ");
			p = put_bytes(p, allow, (size_t)n);
			p = PUT(p, "\r\n");
		}
	}
	if (!head->keep_alive)
		p = PUT(p, "Connection: close\r\n");
	else if (head->version < 11)
		p = PUT(p, "Connection: keep-alive\r\n");
	if (head->end)
		p = PUT(p, "\r\n");
	return (size_t)(p - out);
}

/*
 * The worker's last head, formatted: the next answer most often has the
 * same fields in the same second (a keep-alive or pipelined GET), and a
 * copy of its bytes costs a fraction of formatting them again (callgrind,
 * tests/bench/http-instructions: the formatting was 171 of 3,009
 * instructions a keep-alive request). Its type is kept as bytes: a
 * handler may hand the same buffer with other text in it.
 */
static _Thread_local struct {
	struct vk_http_head head; /* type points to `type` when set; no body */
	char type[VK_HTTP_TYPE_MAX];
	size_t len;
	char bytes[VK_HTTP_OUT_MAX];
} last;

/*
 * Whether a's n bytes are b's: for 8 to 16 bytes (most types:
 * "text/plain", "application/json"), two overlapping words each, read
 * within the n bytes, 15 instructions fewer than the call to memcmp()
 * (callgrind, "text/plain"); memcmp() otherwise.
 */
static int same_bytes(const char *a, const char *b, size_t n)
{
	uint64_t a0, a1, b0, b1;

	if (n < 8 || n > 16)
		return memcmp(a, b, n) == 0;
	memcpy(&a0, a, 8);
	memcpy(&b0, b, 8);
	memcpy(&a1, a + n - 8, 8);
	memcpy(&b1, b + n - 8, 8);
	return a0 == b0 && a1 == b1;
}

/* Whether `head` formats as the last head did (its body aside). */
static int same_as_last(const struct vk_http_head *head)
{
	const struct vk_http_head *l = &last.head;

	/* The last head's status is 0 until there is one: no real head's is. */
	return head->small == l->small && head->now == l->now && head->length == l->length &&
	       head->allow == l->allow && !head->type == !l->type &&
	       (!head->type || same_bytes(head->type, last.type, head->type_len));
}

size_t vk_http_head_format(char *out, const struct vk_http_head *head)
{
	size_t n;

	if (same_as_last(head)) {
		n = last.len;
		memcpy(out, last.bytes, n);
	} else {
		n = format_fields(out, head);
		last.head = *head;
		last.head.body = NULL;
		last.head.body_len = 0;
		if (head->type) {
			memcpy(last.type, head->type, head->type_len);
			last.head.type = last.type;
		}
		memcpy(last.bytes, out, n);
		last.len = n;
	}
	if (head->body) {
		memcpy(out + n, head->body, head->body_len);
		n += head->body_len;
	}
	return n;
}

ssize_t vk_http_head_put_step(struct vk_thread *that, struct vk_http_exchange *ex)
{
	char out[VK_HTTP_OUT_MAX + VK_HTTP_SMALL_BODY];
	char *room;
	size_t n;

	/* Most often straight into the send ring; else copied in from here. */
	if (!that->op_done) {
		room = vk_socket_room(ex->socket, VK_HTTP_OUT_MAX + (size_t)ex->head.body_len);
		if (room) {
			n = vk_http_head_format(room, &ex->head);
			vk_socket_produced(ex->socket, n);
			return (ssize_t)n;
		}
	}
	return vk_socket_write_step(that, ex->socket, out, vk_http_head_format(out, &ex->head));
}

/*
 * The length of a Content-Type a handler gave, found in the same pass as
 * the check that it is short and holds no byte that could end a line; -1
 * when it does not pass. One pass, not strlen() and a loop: 60 of 2,277
 * instructions a pipelined request (callgrind) went to the two.
 */
static ssize_t type_scan(const char *type)
{
	const unsigned char *p = (const unsigned char *)type;
	ssize_t len;

	for (;; p++) {
		if (*p >= 0x20 && *p != 0x7f)
			continue;
		if (*p == '\0')
			break;
		if (*p != '\t')
			return -1;
	}
	len = p - (const unsigned char *)type;
	return len <= VK_HTTP_TYPE_MAX ? len : -1;
}

/*
 * The worker's last Content-Type that passed, NUL-terminated: most
 * answers give the type the last one gave, and strcmp() tells that in
 * 20 instructions where the scan of "text/plain" took 53 (callgrind). Its
 * bytes are compared, not its address: a handler may give the same
 * buffer with other text in it.
 */
static _Thread_local struct {
	char text[VK_HTTP_TYPE_MAX + 1];
	ssize_t len;
} last_type;

static ssize_t type_length(const char *type)
{
	ssize_t len;

	if (strcmp(type, last_type.text) == 0)
		return last_type.len;
	len = type_scan(type);
	if (len >= 0) {
		memcpy(last_type.text, type, (size_t)len + 1);
		last_type.len = len;
	}
	return len;
}

/*
 * Set the head up in ex->head and queue it with the handler's
 * fields: the answer is committed from here on.
 */
static int head(struct vk_thread *that, struct vk_http_exchange *ex, int status, const char *type,
		int64_t length)
{
	ssize_t type_len = type ? type_length(type) : 0;
	int no_framing = status == 204 || status == 304;

	if (ex->out != VK_HTTP_OUT_NONE || status < 200 || status > 599 || type_len < 0)
		return -EINVAL;
	ex->out_no_body = ex->req->method == VK_HTTP_HEAD || no_framing;
	if (no_framing)
		length = 0;
	ex->keep_alive = (uint8_t)keep_alive_now(that, ex, length);
	ex->out_chunked = length < 0 && ex->req->version >= 11;
	ex->head = (struct vk_http_head){
	    .type = type,
	    .length = no_framing ? -1 : length,
	    .now = (time_t)vk_now(that),
	    .status = (uint16_t)status,
	    .type_len = (uint8_t)type_len,
	    .chunked = ex->out_chunked,
	    .keep_alive = ex->keep_alive,
	    .version = (uint8_t)ex->req->version,
	    .end = !ex->fields_len,
	};
	ex->status = status;
	ex->out = VK_HTTP_OUT_BODY;
	ex->out_left = length;
	/*
	 * A final answer settles an expectation not yet met: a 100 after it
	 * would be read as its body. A client that sends the body anyway
	 * still has it read.
	 */
	ex->continue_owed = 0;
	queue_reset(ex);
	queue_head(ex);
	if (ex->fields_len) {
		queue(ex, ex->fields, ex->fields_len);
		queue(ex, crlf, 2);
	}
	return 0;
}

/* The phases every answer operation goes through once set up. */
static ssize_t hold_and_put(struct vk_thread *that, struct vk_http_exchange *ex)
{
	ssize_t rc;

	if (ex->phase == PHASE_HOLD) {
		rc = hold(that, ex);
		if (rc < 0)
			return rc;
		ex->phase = PHASE_PUT;
		that->op_done = 0;
	}
	rc = put(that, ex);
	if (rc < 0)
		return rc;
	ex->phase = PHASE_NEW;
	ex->op = VK_HTTP_OP_NONE;
	return 0;
}

ssize_t vk_http_reply_step(struct vk_thread *that, struct vk_http_exchange *ex, int status,
			   const char *type, const void *body, size_t len)
{
	if (!ex)
		return -EINVAL;
	if (ex->phase == PHASE_NEW) {
		int rc = head(that, ex, status, type, (int64_t)len);

		if (rc < 0)
			return rc;
		ex->op = VK_HTTP_OP_WRITE;
		ex->out = VK_HTTP_OUT_DONE;
		ex->out_left = 0;
		if (ex->out_no_body)
			len = 0;
		ex->out_bytes = len;
		/* A small body goes in the same copy as the head (none: body may be NULL). */
		if (len && ex->nseg == 1 && len <= VK_HTTP_SMALL_BODY) {
			ex->head.body = body;
			ex->head.body_len = (uint16_t)len;
		} else {
			queue(ex, body, len);
		}
		ex->phase = PHASE_HOLD;
	}
	return hold_and_put(that, ex);
}

ssize_t vk_http_start_step(struct vk_thread *that, struct vk_http_exchange *ex, int status,
			   const char *type, int64_t length)
{
	if (!ex)
		return -EINVAL;
	if (ex->phase == PHASE_NEW) {
		int rc = head(that, ex, status, type, length < 0 ? -1 : length);

		if (rc < 0)
			return rc;
		ex->op = VK_HTTP_OP_WRITE;
		ex->phase = PHASE_HOLD;
	}
	return hold_and_put(that, ex);
}

ssize_t vk_http_write_step(struct vk_thread *that, struct vk_http_exchange *ex, const void *buf,
			   size_t len)
{
	if (!ex)
		return -EINVAL;
	if (ex->phase == PHASE_NEW) {
		if (ex->out != VK_HTTP_OUT_BODY)
			return -EINVAL;
		if (ex->out_left >= 0 && len > (uint64_t)ex->out_left)
			return -EINVAL;
		if (ex->out_left >= 0)
			ex->out_left -= (int64_t)len;
		/* An empty chunk would end the body. */
		if (len == 0 || ex->out_no_body)
			return 0;
		ex->out_bytes += len;
		ex->op = VK_HTTP_OP_WRITE;
		queue_reset(ex);
		if (ex->out_chunked) {
			int n = snprintf(ex->chunk_head, sizeof(ex->chunk_head), "%zx\r\n", len);

			queue(ex, ex->chunk_head, (size_t)n);
			queue(ex, buf, len);
			queue(ex, crlf, 2);
		} else {
			queue(ex, buf, len);
		}
		ex->phase = PHASE_PUT;
	}
	return hold_and_put(that, ex);
}

ssize_t vk_http_sendfile_step(struct vk_thread *that, struct vk_http_exchange *ex,
			      struct vk_file *file, off_t offset, size_t len)
{
	ssize_t rc;

	if (!ex)
		return -EINVAL;
	if (ex->phase == PHASE_NEW) {
		if (ex->out != VK_HTTP_OUT_BODY || ex->out_chunked || ex->out_left < 0 ||
		    len > (uint64_t)ex->out_left || offset < 0)
			return -EINVAL;
		ex->out_left -= (int64_t)len;
		if (len == 0 || ex->out_no_body)
			return 0;
		ex->op = VK_HTTP_OP_WRITE;
		ex->phase = PHASE_PUT;
	}
	rc = vk_socket_sendfile_step(that, ex->socket, file, offset, len);
	if (rc < 0)
		return rc;
	ex->out_bytes += (uint64_t)rc;
	ex->phase = PHASE_NEW;
	/* The file shrank under us: the announced length cannot be kept. */
	if ((size_t)rc < len)
		return -EIO;
	ex->op = VK_HTTP_OP_NONE;
	return rc;
}

ssize_t vk_http_finish_step(struct vk_thread *that, struct vk_http_exchange *ex)
{
	static const char last_chunk[] = "0\r\n\r\n";

	if (!ex)
		return -EINVAL;
	if (ex->phase == PHASE_NEW) {
		if (ex->out == VK_HTTP_OUT_DONE)
			return 0;
		if (ex->out != VK_HTTP_OUT_BODY || ex->out_left > 0)
			return -EINVAL;
		ex->out = VK_HTTP_OUT_DONE;
		if (!ex->out_chunked || ex->out_no_body)
			return 0;
		ex->op = VK_HTTP_OP_WRITE;
		queue_reset(ex);
		queue(ex, last_chunk, sizeof(last_chunk) - 1);
		ex->phase = PHASE_PUT;
	}
	return hold_and_put(that, ex);
}

/*
 * Make the added fields' buffer `cap` bytes, keeping what it holds. The
 * old buffer is freed after the new one is taken, so the heap (a stack)
 * gets its room back when the exchange ends.
 */
static int fields_resize(struct vk_http_exchange *ex, uint32_t cap)
{
	char *fields = vk_thread_alloc(ex->conn, cap, 1);

	if (!fields)
		return -ENOMEM;
	if (ex->fields) {
		memcpy(fields, ex->fields, ex->fields_len);
		if (!vk_http_exchange_in_head(ex, ex->fields))
			vk_thread_free(ex->conn, ex->fields);
	}
	ex->fields = fields;
	ex->fields_cap = cap;
	return 0;
}

/*
 * The fields start past the head and its parameters in the head buffer,
 * when room is left there: 0, or -ENOSPC. That buffer is in the
 * connection's hot page; a block on the heap would be one more present
 * page, which every protection change of the heap flushes (about 4.5 us
 * a page on this VM: tests/integration/http-static-hotpage.sh).
 */
static int fields_in_head(struct vk_http_exchange *ex)
{
	size_t spare = vk_http_exchange_head_spare(ex);

	if (spare >= ex->req->cap)
		return -ENOSPC;
	ex->fields = ex->req->buf + spare;
	ex->fields_cap = (uint32_t)(ex->req->cap - spare);
	return 0;
}

int vk_http_exchange_add_header(struct vk_http_exchange *ex, const char *name, const char *value)
{
	struct vk_http_out o;
	uint32_t max, first;
	int rc;

	if (!ex)
		return -EINVAL;
	if (ex->out != VK_HTTP_OUT_NONE)
		return -EALREADY;
	max = (uint32_t)ex->server->max_head;
	first = max < VK_HTTP_FIELDS_FIRST ? max : VK_HTTP_FIELDS_FIRST;
	if (!ex->fields && fields_in_head(ex) < 0) {
		rc = fields_resize(ex, first);
		if (rc < 0)
			return rc;
	}
	for (;;) {
		vk_http_out_init(&o, ex->fields + ex->fields_len, ex->fields_cap - ex->fields_len);
		vk_http_out_header(&o, name, strlen(name), value, strlen(value));
		if (o.error != -ENOSPC || ex->fields_cap >= max)
			break;
		/* Room as for a request's head: a proxy passes on what it read. */
		rc = fields_resize(ex, ex->fields_cap < first ? first : max);
		if (rc < 0)
			return rc;
	}
	if (o.error)
		return o.error;
	ex->fields_len += (uint32_t)o.len;
	return 0;
}
