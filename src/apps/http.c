/*
 * http: an HTTP/1.1 server app.
 *
 *	GET /        200 "Hello, World!\n"
 *	POST /echo   200 with the request body (Content-Length or chunked)
 *	anything     404
 *
 * Keep-alive, pipelining (answers go out in order, gathered into one
 * writev per batch), Expect: 100-continue, HEAD, Date and Server headers.
 * Malformed or smuggling-prone requests get their error status and the
 * connection is closed (see vk_http.h for what is refused).
 *
 * Options ([app NAME] keys, all optional):
 *	opt.max_line = 8k          longest request or header line (414/431)
 *	opt.max_headers = 100      header fields per request (431)
 *	opt.max_head = 16k         whole request head (431); at most 16k, the
 *	                           connection's receive ring, which holds a
 *	                           head until it is complete; a head over 512
 *	                           bytes needs max_head bytes free in the heap
 *	                           (heap = 64k leaves room for 16k), else 431
 *	opt.max_body = 1M          request body (413)
 *	opt.header_timeout = 30s   a started request head must arrive by then (408)
 * idle_timeout (a vkd key) closes a connection on which no byte moved
 * either way for that long: it bounds the wait for the next request.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>

#include "vk_app.h"
#include "vk_http.h"
#include "vk_parse.h"
#include "vk_socket.h"

#define HTTP_HEAD_DEFAULT 16384
/*
 * The first buffer a head is parsed into, inside the coroutine's state:
 * that state shares one page with the connection's socket and the hot ends
 * of its rings (vk_socket_create_main()), so a typical request touches one
 * page, which keeps idle connections small and protection changes cheap.
 */
#define HTTP_SMALL_HEAD 512
#define HTTP_HEADER_TIMEOUT_DEFAULT 30000
/* Response heads are small: status, Server, Date, type, length, connection. */
#define HTTP_OUT_MAX 320
/* After an error reply, how long in all and how much to read before
 * closing, so that closing with unread bytes does not reset the reply away. */
#define HTTP_LINGER_MS 2000
#define HTTP_LINGER_BYTES (256 * 1024)

static const char hello[] = "Hello, World!\n";

struct http_config {
	struct vk_http_limits limits;
	size_t max_head;
	uint32_t header_timeout_ms;
};

/*
 * opt.KEY, when set, as a size ("16k") or a duration in milliseconds
 * ("30s"), in min..max: the grammar of every other value in vkd.ini.
 */
static int option_number(const struct vk_app_context *context, const char *key, int duration,
			 uint64_t min, uint64_t max, uint64_t *value)
{
	const char *text = context->option(context, key);
	uint64_t parsed;
	size_t size;
	unsigned ms;
	int rc;

	if (!text)
		return 0;
	if (duration) {
		rc = vk_parse_duration_ms(text, &ms);
		parsed = ms;
	} else {
		rc = vk_parse_size(text, &size);
		parsed = size;
	}
	if (rc < 0 || parsed < min || parsed > max) {
		fprintf(stderr, "http: app %s: opt.%s: expected %s from %llu to %llu, got '%s'\n",
			context->name, key, duration ? "a time (ms)" : "a number",
			(unsigned long long)min, (unsigned long long)max, text);
		return -1;
	}
	*value = parsed;
	return 0;
}

static void *http_init(const struct vk_app_context *context, int *error)
{
	struct http_config *config = calloc(1, sizeof(*config));
	uint64_t max_line, max_headers, max_head, max_body, header_timeout;

	if (!config) {
		*error = ENOMEM;
		return NULL;
	}
	config->limits = vk_http_limits_default;
	max_line = config->limits.max_line;
	max_headers = config->limits.max_headers;
	max_body = config->limits.max_body;
	max_head = HTTP_HEAD_DEFAULT;
	header_timeout = HTTP_HEADER_TIMEOUT_DEFAULT;
	if (option_number(context, "max_line", 0, 64, VK_HTTP_MAX_HEAD, &max_line) ||
	    option_number(context, "max_headers", 0, 1, VK_HTTP_MAX_FIELDS, &max_headers) ||
	    option_number(context, "max_head", 0, 256, VK_SOCKET_RING_DEFAULT, &max_head) ||
	    option_number(context, "max_body", 0, 0, UINT64_MAX, &max_body) ||
	    option_number(context, "header_timeout", 1, 1, UINT32_MAX, &header_timeout)) {
		free(config);
		*error = EINVAL;
		return NULL;
	}
	config->limits.max_line = max_line;
	config->limits.max_headers = max_headers;
	config->limits.max_body = max_body;
	config->max_head = max_head;
	config->header_timeout_ms = (uint32_t)header_timeout;
	return config;
}

static void http_fini(void *state)
{
	free(state);
}

/*
 * Feed the parser the ring's bytes past the *fed already parsed, without
 * consuming them: the head stays in the ring until it is complete, so it
 * can be parsed again into a larger buffer. Returns the parser's result.
 */
static int parse_held(struct vk_socket *socket, struct vk_http_request *req, size_t *fed)
{
	struct iovec iov[2];
	int count = vk_socket_peek_iov(socket, iov);
	size_t skip = *fed;
	int result = 0;

	for (int i = 0; i < count && result == 0; i++) {
		size_t used = 0;

		if (skip >= iov[i].iov_len) {
			skip -= iov[i].iov_len;
			continue;
		}
		result = vk_http_request_parse(req, (char *)iov[i].iov_base + skip,
					       iov[i].iov_len - skip, &used);
		*fed += used;
		skip = 0;
	}
	return result;
}

/* What to answer, decided from the parsed head. */
enum http_route { ROUTE_HELLO, ROUTE_ECHO, ROUTE_NOT_FOUND };

static int path_is(const char *path, size_t len, const char *want)
{
	return len == strlen(want) && memcmp(path, want, len) == 0;
}

static enum http_route route(const struct vk_http_request *req)
{
	size_t len;
	const char *path = vk_http_request_path(req, &len);

	if ((req->method == VK_HTTP_GET || req->method == VK_HTTP_HEAD) && path_is(path, len, "/"))
		return ROUTE_HELLO;
	if (req->method == VK_HTTP_POST && path_is(path, len, "/echo"))
		return ROUTE_ECHO;
	return ROUTE_NOT_FOUND;
}

/*
 * Format a response head into out. `length` < 0 means chunked (1.1) or
 * close-delimited (1.0). Returns the byte count.
 */
static size_t format_head(char *out, int status, int version, int keep_alive, int64_t length,
			  time_t now, int with_type)
{
	struct vk_http_out o;

	vk_http_out_init(&o, out, HTTP_OUT_MAX);
	vk_http_out_status(&o, status);
	vk_http_out_header(&o, VK_HTTP_S("Server"), VK_HTTP_S("vkd"));
	vk_http_out_date(&o, now);
	if (with_type)
		vk_http_out_header(&o, VK_HTTP_S("Content-Type"), VK_HTTP_S("text/plain"));
	if (length >= 0)
		vk_http_out_header_u64(&o, VK_HTTP_S("Content-Length"), (uint64_t)length);
	else if (version >= 11)
		vk_http_out_header(&o, VK_HTTP_S("Transfer-Encoding"), VK_HTTP_S("chunked"));
	if (!keep_alive)
		vk_http_out_header(&o, VK_HTTP_S("Connection"), VK_HTTP_S("close"));
	else if (version < 11)
		vk_http_out_header(&o, VK_HTTP_S("Connection"), VK_HTTP_S("keep-alive"));
	vk_http_out_end(&o);
	/* The head is a few fixed fields: it always fits HTTP_OUT_MAX. */
	return o.error ? 0 : o.len;
}

/* Format "<hex size>\r\n" for a chunk of the echoed body. */
static size_t chunk_header(char *out, size_t size)
{
	return (size_t)snprintf(out, 24, "%zx\r\n", size);
}

/* What the echo child needs from the request it answers. */
struct echo_job {
	const struct vk_http_request *req;
	const struct http_config *config;
	int keep_alive; /* in: as decided; out: 0 if the connection must close */
	int status;	/* out: an error status to answer instead, or 0 */
};

/* Answer POST /echo: copy the body back, framed like the request's. */
static void http_echo(struct vk_thread *that)
{
	struct {
		struct echo_job *job;
		struct vk_http_chunked chunked;
		struct iovec iov[2];
		char out[HTTP_OUT_MAX];
		size_t out_len;
		ssize_t rc;
		int result;
		int chunked_out;
		uint64_t left;
		const char *span;
		size_t span_len;
		size_t used;
		int head_sent;
	} * self;

	vk_begin();
	self->job = vk_arg();
	if (self->job->req->expect_continue) {
		vk_write_literal("HTTP/1.1 100 Continue\r\n\r\n");
		vk_flush();
	}
	if (vk_http_request_body(self->job->req) != VK_HTTP_BODY_CHUNKED) {
		/* Content-Length (or empty) body: copy it through the rings. */
		self->left =
		    self->job->req->has_content_length ? self->job->req->content_length : 0;
		self->out_len =
		    format_head(self->out, 200, self->job->req->version, self->job->keep_alive,
				(int64_t)self->left, (time_t)vk_now(that), 0);
		vk_write(self->out, self->out_len);
		while (self->left) {
			if (vk_socket_peek_iov(that->socket, self->iov)) {
				self->used = self->iov[0].iov_len < self->left
						 ? self->iov[0].iov_len
						 : self->left;
				/* The bytes stay in the ring until consumed, even if we block. */
				vk_write(self->iov[0].iov_base, self->used);
				vk_socket_consume(that, that->socket, self->used);
				self->left -= self->used;
				continue;
			}
			vk_await(self->rc);
			if (self->rc == 0)
				vk_raise(ECONNRESET); /* body cut short */
		}
		vk_return();
	}
	/*
	 * Chunked body: decode it, and echo it chunked (1.1) or close-delimited.
	 * The head waits for the first good span, so that a bad first chunk
	 * still gets its 400 or 413; a later bad chunk can only cut the reply.
	 */
	self->chunked_out = self->job->req->version >= 11;
	if (!self->chunked_out)
		self->job->keep_alive = 0;
	vk_http_chunked_init(&self->chunked, &self->job->config->limits);
	for (;;) {
		if (vk_socket_peek_iov(that->socket, self->iov)) {
			self->used = 0;
			self->result = vk_http_chunked_decode(&self->chunked, self->iov[0].iov_base,
							      self->iov[0].iov_len, &self->used,
							      &self->span, &self->span_len);
			if (self->result < 0) {
				self->job->keep_alive = 0;
				if (!self->head_sent)
					self->job->status = -self->result;
				vk_return();
			}
			if (self->result > 0 && !self->head_sent) {
				self->head_sent = 1;
				self->out_len =
				    format_head(self->out, 200, self->job->req->version,
						self->job->keep_alive, -1, (time_t)vk_now(that), 0);
				vk_write(self->out, self->out_len);
			}
			if (self->result == 1) {
				if (self->chunked_out) {
					self->out_len = chunk_header(self->out, self->span_len);
					vk_write(self->out, self->out_len);
				}
				/* The span stays in the ring until consumed, even if we block. */
				vk_write(self->span, self->span_len);
				if (self->chunked_out)
					vk_write_literal("\r\n");
			}
			vk_socket_consume(that, that->socket, self->used);
			if (self->result == 2)
				break;
			if (self->used)
				continue;
		}
		vk_await(self->rc);
		if (self->rc == 0)
			vk_raise(ECONNRESET);
	}
	if (self->chunked_out)
		vk_write_literal("0\r\n\r\n");
	vk_end();
}

/*
 * Lingering close, after an error or when the client sent more than we
 * read: send our end, then read (and drop) what the client
 * still sends until it closes too, for a bounded time. Closing with
 * unread bytes would make the kernel answer with a reset that can destroy
 * the reply before the client has read it: a client still sending a head
 * too large for us would never see its 431. A timeout or a reset just
 * ends the wait.
 */
static void http_linger(struct vk_thread *that)
{
	struct {
		ssize_t rc;
		size_t dropped;
		double until; /* in all: a trickle must not hold the connection */
		char sink[512];
	} * self;

	vk_begin();
	self->until = vk_now(that) + HTTP_LINGER_MS / 1000.0;
	vk_set_timeout(HTTP_LINGER_MS);
	vk_hup();
	while (self->dropped < HTTP_LINGER_BYTES && vk_now(that) < self->until) {
		vk_set_timeout((self->until - vk_now(that)) * 1000.0 + 1);
		vk_read_some(self->rc, self->sink, sizeof(self->sink));
		if (self->rc == 0)
			break;
		self->dropped += (size_t)self->rc;
	}
	vk_finally();
	vk_clear_error();
	vk_end();
}

static void http_main(struct vk_thread *that)
{
	struct {
		const struct http_config *config;
		char *head; /* large head buffer, allocated when first needed */
		struct vk_http_request req;
		struct iovec iov[2];
		char out[HTTP_OUT_MAX];
		size_t out_len;
		ssize_t rc;
		size_t fed; /* bytes of the ring fed to the parser */
		int result; /* of the last parse step */
		int status; /* error status to answer, 0 if none */
		int keep_alive;
		uint32_t base_timeout_ms; /* vk_set_timeout() outside a head: none */
		int reading_head;
		double head_deadline; /* when a started head must be complete */
		double left_ms;
		enum http_route route;
		struct echo_job echo;
		/* Most heads fit here, in the connection's hot page (see http.c top). */
		char small_head[HTTP_SMALL_HEAD];
	} * self;

	vk_begin();
	self->config = vk_arg();
	self->base_timeout_ms = vk_timeout();

	for (;;) {
		/* ---- read one request head, parsed straight from the ring ---- */
		vk_http_request_init(&self->req, self->small_head, sizeof(self->small_head),
				     &self->config->limits);
		self->fed = 0;
		self->result = 0;
		self->head_deadline = 0;
		self->reading_head = 1;
		vk_set_timeout(self->base_timeout_ms);
		for (;;) {
			self->result = parse_held(that->socket, &self->req, &self->fed);
			if ((self->result == -431 || self->result == -414) &&
			    self->req.buf == self->small_head &&
			    self->config->max_head > sizeof(self->small_head)) {
				/* Outgrew the small buffer: parse again into the large one. */
				if (!self->head)
					vk_alloc(self->head, self->config->max_head);
				vk_http_request_init(&self->req, self->head, self->config->max_head,
						     &self->config->limits);
				self->fed = 0;
				continue;
			}
			if (self->result != 0)
				break;
			if (self->fed && !vk_http_request_started(&self->req)) {
				/* Empty lines before a request (RFC 9112 2.2): not a start. */
				vk_socket_consume(that, that->socket, self->fed);
				self->fed = 0;
			}
			/*
			 * A started head must be complete within the header timeout
			 * of its first byte, however slowly it trickles in.
			 */
			if (self->fed && !self->head_deadline)
				self->head_deadline =
				    vk_now(that) + self->config->header_timeout_ms / 1000.0;
			if (self->head_deadline) {
				self->left_ms = (self->head_deadline - vk_now(that)) * 1000.0;
				if (self->left_ms < 1)
					vk_raise(ETIMEDOUT);
				vk_set_timeout((uint32_t)self->left_ms);
			}
			/* Between requests a drain may let us go; ENOBUFS: head > ring. */
			if (self->fed == 0 && vk_socket_peek_iov(that->socket, self->iov) == 0)
				vk_await_idle(self->rc);
			else
				vk_await(self->rc);
			if (self->rc == 0)
				break;
		}
		self->reading_head = 0;
		if (self->result == 0) {
			/* End of stream: clean between requests, 400 inside one. */
			if (self->fed == 0)
				break;
			self->status = 400;
			break;
		}
		if (self->result < 0) {
			self->status = -self->result;
			break;
		}
		vk_socket_consume(that, that->socket, self->fed);

		/* ---- answer it ---- */
		self->keep_alive = self->req.keep_alive && !vk_draining(that);
		vk_set_timeout(self->base_timeout_ms);
		self->route = route(&self->req);
		if (self->route == ROUTE_HELLO) {
			/* A body on GET / is not expected: do not guess, close after. */
			if (vk_http_request_body(&self->req) != VK_HTTP_BODY_NONE)
				self->keep_alive = 0;
			self->out_len =
			    format_head(self->out, 200, self->req.version, self->keep_alive,
					sizeof(hello) - 1, (time_t)vk_now(that), 1);
			if (self->req.method != VK_HTTP_HEAD) {
				memcpy(self->out + self->out_len, hello, sizeof(hello) - 1);
				self->out_len += sizeof(hello) - 1;
			}
			vk_write(self->out, self->out_len);
		} else if (self->route == ROUTE_NOT_FOUND) {
			/* Any body is left unread, so the connection cannot go on. */
			if (vk_http_request_body(&self->req) != VK_HTTP_BODY_NONE)
				self->keep_alive = 0;
			self->out_len = format_head(self->out, 404, self->req.version,
						    self->keep_alive, 10, (time_t)vk_now(that), 1);
			memcpy(self->out + self->out_len, "Not Found\n", 10);
			self->out_len += self->req.method == VK_HTTP_HEAD ? 0 : 10;
			vk_write(self->out, self->out_len);
		} else {
			self->echo.req = &self->req;
			self->echo.config = self->config;
			self->echo.keep_alive = self->keep_alive;
			self->echo.status = 0;
			vk_call(http_echo, &self->echo);
			self->keep_alive = self->echo.keep_alive;
			if (self->echo.status) {
				self->status = self->echo.status;
				break;
			}
		}
		if (!self->keep_alive)
			break;
	}

	if (self->status) {
		/* ---- error reply, then a lingering close ---- */
		self->out_len =
		    format_head(self->out, self->status, 11, 0, 0, (time_t)vk_now(that), 0);
		vk_write(self->out, self->out_len);
		vk_call(http_linger, NULL);
	} else if (!vk_drained()) {
		/* Bytes past the last request: closing now would reset the answer away. */
		vk_call(http_linger, NULL);
	}
	/*
	 * A clean end closes at once, as nginx does: a lingering close costs a
	 * shutdown, a wait for the client's end and a read, nearly doubling a
	 * Connection: close request's system calls.
	 */

	vk_finally();
	if (self->reading_head && self->fed &&
	    (vk_error() == ETIMEDOUT || vk_error() == ENOBUFS || vk_error() == ENOMEM)) {
		/*
		 * A head started but did not finish in time, outgrew the ring, or
		 * found no room for the large head buffer in a small heap.
		 */
		self->status = vk_error() == ETIMEDOUT ? 408 : 431;
		self->out_len =
		    format_head(self->out, self->status, 11, 0, 0, (time_t)vk_now(that), 0);
		vk_write(self->out, self->out_len);
		vk_flush(); /* out even if the heap has no room for the linger */
		vk_call(http_linger, NULL);
	}
	/* Resets, timeouts and cut bodies end the connection; nothing to report. */
	vk_clear_error();
	vk_end();
}

VK_APP_FULL("http", http_main, 64 * 1024, http_init, http_fini);
