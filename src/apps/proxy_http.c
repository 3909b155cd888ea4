/*
 * proxy.so, HTTP mode: a reverse proxy on the HTTP handler API.
 *
 * Every request, whatever its method and path, goes to an upstream: the
 * next one round-robin, the one after when a connect fails. The upstream
 * connection comes from the worker's pool when one to that address is
 * idle, and goes back to it when the answer ended cleanly (HTTP/1.1,
 * framed, nothing left over). The request's head goes out with the
 * hop-by-hop fields dropped (Connection and those it names, Keep-Alive,
 * TE, Trailer, Upgrade, Proxy-*, Expect) and X-Forwarded-For and
 * Forwarded extended with the client's address; its body goes out as it
 * is read, in the framing it came in. The answer's head is read whole
 * (at most opt.max_head bytes, the bound on the client's head too, as
 * nginx's proxy_buffer_size) and checked as strictly as the library checks
 * requests (proxy_answer.h): a malformed one is 502. Its body is passed on
 * as it comes, chunked decoded and framed again by the library.
 *
 * Until the answer's head is out, a failure is answered: 502 when no
 * upstream could be reached or one answered badly or closed, 504 when
 * one did not answer within opt.read_timeout (or the connect timed out),
 * with a log line. A request without a body that met a closed pooled
 * connection (the upstream closed it as it was taken) is sent again on
 * the next; a body is never sent twice. An upstream that answers before
 * it has read the whole body (a 413) and closes has its answer passed on,
 * not a 502; the client's connection then ends after it (the rest of the
 * body is not read). One that answers early but neither reads nor closes
 * holds the body's writes until opt.read_timeout (504). Once the head is
 * out, a failure cuts the client's connection.
 */
#include "proxy.h"
#include "proxy_answer.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define PROXY_BODY_BUF 16384
/* The request head to the upstream is formatted here when it fits. */
#define PROXY_OUT_SMALL 2048
#define PROXY_INFORMATIONAL_MAX 8

/* ---- the request to the upstream ---- */

/* Whether a request field goes to the upstream: hop-by-hop ones, and those the proxy writes, do
 * not. */
static int request_field_dropped(const struct vk_http_request *req, const char *name,
				 enum proxy_field_id id, int connection)
{
	switch (id) {
	case PROXY_F_OTHER:
	case PROXY_F_HOST:
	case PROXY_F_SERVER:
	case PROXY_F_DATE:
	case PROXY_F_CONTENT_TYPE:
		break;
	default:
		return 1;
	}
	if (!connection)
		return 0;
	for (size_t i = 0; i < req->nfields; i++) {
		const char *field = vk_http_field_name(req, i);

		if (proxy_field_id(field, strlen(field)) == PROXY_F_CONNECTION &&
		    proxy_list_has(vk_http_field_value(req, i), name))
			return 1;
	}
	return 0;
}

struct out {
	char *buf;
	size_t cap;
	size_t len; /* may pass cap: then the bytes needed */
};

static void put(struct out *o, const char *s, size_t n)
{
	if (o->len < o->cap)
		memcpy(o->buf + o->len, s, o->len + n <= o->cap ? n : o->cap - o->len);
	o->len += n;
}

static void puts_(struct out *o, const char *s)
{
	put(o, s, strlen(s));
}

/* Every value of the request's fields of id `id`, joined with ", ". */
static int put_joined(struct out *o, const struct vk_http_request *req, const unsigned char *ids,
		      enum proxy_field_id id)
{
	int any = 0;

	for (size_t i = 0; i < req->nfields; i++) {
		if (ids[i] != id)
			continue;
		if (any)
			puts_(o, ", ");
		puts_(o, vk_http_field_value(req, i));
		any = 1;
	}
	return any;
}

/*
 * The upstream request's head into o; o->len is what it needs. `client`
 * is the client's address, `body` the request's framing.
 */
static void format_request(struct out *o, const struct vk_http_request *req, const char *client,
			   enum vk_http_body body, int64_t length, const char *upstream)
{
	/* Each field's id, found once (the library bounds a head's fields, to 100 by default). */
	unsigned char ids[VK_HTTP_MAX_FIELDS];
	const char *host = NULL;
	int v6 = strchr(client, ':') != NULL, connection = 0, xff = 0, fwd = 0;

	for (size_t i = 0; i < req->nfields && i < VK_HTTP_MAX_FIELDS; i++) {
		const char *name = vk_http_field_name(req, i);

		ids[i] = (unsigned char)proxy_field_id(name, strlen(name));
		if (ids[i] == PROXY_F_HOST && !host)
			host = vk_http_field_value(req, i);
		connection |= ids[i] == PROXY_F_CONNECTION;
		xff |= ids[i] == PROXY_F_X_FORWARDED_FOR;
		fwd |= ids[i] == PROXY_F_FORWARDED;
	}
	puts_(o, vk_http_request_method_str(req));
	puts_(o, " ");
	puts_(o, vk_http_request_target(req));
	puts_(o, " HTTP/1.1\r\n");
	for (size_t i = 0; i < req->nfields && i < VK_HTTP_MAX_FIELDS; i++) {
		const char *name = vk_http_field_name(req, i);

		if (request_field_dropped(req, name, (enum proxy_field_id)ids[i], connection))
			continue;
		puts_(o, name);
		puts_(o, ": ");
		puts_(o, vk_http_field_value(req, i));
		puts_(o, "\r\n");
	}
	if (!host) {
		/* An HTTP/1.0 request without Host: name the upstream. */
		puts_(o, "Host: ");
		puts_(o, upstream);
		puts_(o, "\r\n");
	}
	puts_(o, "X-Forwarded-For: ");
	if (xff && put_joined(o, req, ids, PROXY_F_X_FORWARDED_FOR))
		puts_(o, ", ");
	puts_(o, client);
	puts_(o, "\r\nForwarded: ");
	if (fwd && put_joined(o, req, ids, PROXY_F_FORWARDED))
		puts_(o, ", ");
	puts_(o, v6 ? "for=\"[" : "for=");
	puts_(o, client);
	puts_(o, v6 ? "]\"" : "");
	puts_(o, ";proto=http");
	if (host) {
		puts_(o, ";host=\"");
		puts_(o, host);
		puts_(o, "\"");
	}
	puts_(o, "\r\n");
	if (body == VK_HTTP_BODY_CHUNKED) {
		puts_(o, "Transfer-Encoding: chunked\r\n");
	} else if (body == VK_HTTP_BODY_LENGTH) {
		char number[32];

		snprintf(number, sizeof(number), "Content-Length: %" PRId64 "\r\n", length);
		puts_(o, number);
	}
	puts_(o, "\r\n");
}

/* ---- the handler ---- */

/*
 * When the receive ring of `up` holds a whole head (up to its empty line)
 * of at most cap bytes: copy it to head and return its length; else 0
 * (nothing consumed either way). A head that is only an empty line is
 * taken too, for the parser to refuse.
 */
static size_t head_in_ring(const struct vk_socket *up, char *head, size_t cap)
{
	struct iovec iov[2];
	size_t n = 0;
	int count = vk_socket_peek_iov(up, iov);

	for (int i = 0; i < count && n < cap; i++) {
		size_t take = iov[i].iov_len < cap - n ? iov[i].iov_len : cap - n;

		memcpy(head + n, iov[i].iov_base, take);
		n += take;
	}
	if (n >= 2 && head[0] == '\r' && head[1] == '\n')
		return 2;
	for (char *p = head + 3; p < head + n; p++) {
		p = memchr(p, '\n', (size_t)(head + n - p));
		if (!p)
			break;
		if (p[-1] == '\r' && p[-2] == '\n' && p[-3] == '\r')
			return (size_t)(p - head) + 1;
	}
	return 0;
}

static const char *failure_text(int status)
{
	return status == 504 ? "Gateway Timeout\n" : "Bad Gateway\n";
}

static void proxy_http(struct vk_thread *that)
{
	struct {
		struct proxy_config *config;
		const struct vk_http_request *req;
		struct vk_socket *up;
		struct upstream *target;
		char *out;
		size_t out_len;
		unsigned first;
		unsigned tried;
		int retries;
		int status;    /* 502, 504 to answer; 0 */
		int sent_body; /* body bytes went to an upstream: never again */
		int reusable;
		int informational;
		int early; /* writing to the upstream failed: read what it answered */
		enum proxy_framing framing;
		enum vk_http_body body;
		int64_t length;
		int64_t left;
		ssize_t rc;
		size_t head_len;
		size_t pos;
		size_t len;
		const char *data;
		size_t data_len;
		struct vk_http_chunked chunked;
		struct proxy_answer answer;
		char client[64];
		/*
		 * The answer's head is read into `small` (free once the request's
		 * head is out) and a small body through it too; `large` and `buf`
		 * are taken only when they do not fit. With isolation on, each
		 * protection change costs ~4.5 us a page between the heap's first
		 * and last present page: the two 16 KiB blocks taken for every
		 * request were two present pages 4 and 8 pages past the rest
		 * (tests/integration/proxy-http-hotpage.sh).
		 */
		char *head;	 /* small, or large */
		size_t head_cap; /* of head */
		char *large;	 /* config->max_head bytes, once a head needs them */
		char *buf;	 /* PROXY_BODY_BUF bytes, once a body needs them */
		char *pass;	 /* what the answer's body is read through: small, or buf */
		size_t pass_cap;
		/*
		 * PROXY_OUT_SMALL bytes taken right after self, not zeroed: as
		 * a member, vk_begin() zeroed them every request (2 KiB of a
		 * self of 4 KiB, with the answer's 1.6 KiB of field pointers
		 * since gone).
		 */
		char *small;
	} * self;

	vk_begin();
	vk_alloc(self->small, PROXY_OUT_SMALL);
	self->config = vk_http_app_state();
	self->req = vk_http_head();
	self->body = vk_http_request_body(self->req);
	self->length = vk_http_body_length();
	if (vk_socket_peer_address(that, that->socket, self->client, sizeof(self->client)) < 0)
		strcpy(self->client, "unknown");
	vk_set_connect_timeout(self->config->connect_timeout_ms);
	self->up = vk_socket_create(that, self->config->buffer);
	if (!self->up)
		vk_raise(ENOMEM);
	self->first = self->config->next++;
	self->tried = 0;
	self->retries = 0;

again:
	/* ---- an upstream that takes the connect ---- */
	self->status = 502;
	self->early = 0;
	for (; self->tried < self->config->count; self->tried++) {
		self->target = proxy_pick(self->config, self->first, self->tried);
		vk_try_connect_addr(self->rc, self->up, &self->target->addr);
		if (self->rc == 0)
			break;
		if (self->rc == -ETIMEDOUT)
			self->status = 504;
		proxy_log_failure(self->config, self->target, (int)-self->rc, vk_now(that));
	}
	if (self->tried == self->config->count) {
		fprintf(stderr, "proxy: app %s: no upstream answered %s %s: %d\n",
			self->config->name, vk_http_request_method_str(self->req), vk_http_path(),
			self->status);
		vk_http_reply(self->status, "text/plain", failure_text(self->status),
			      strlen(failure_text(self->status)));
		vk_return();
	}

	/* ---- the request's head, then its body ---- */
	vk_set_timeout(self->config->read_timeout_ms);
	{
		struct out o = {self->small, PROXY_OUT_SMALL, 0};

		format_request(&o, self->req, self->client, self->body, self->length,
			       self->target->addr.text);
		self->out_len = o.len;
	}
	if (self->out_len > PROXY_OUT_SMALL) {
		vk_calloc(self->out, self->out_len);
		{
			struct out o = {self->out, self->out_len, 0};

			format_request(&o, self->req, self->client, self->body, self->length,
				       self->target->addr.text);
		}
		vk_socket_try_write(self->up, self->rc, self->out, self->out_len);
		vk_free(self->out);
		self->out = NULL;
	} else {
		vk_socket_try_write(self->up, self->rc, self->small, self->out_len);
	}
	if (self->rc < 0)
		goto write_failed;
	if (self->body != VK_HTTP_BODY_NONE && !self->buf)
		vk_alloc(self->buf, PROXY_BODY_BUF);
	while (self->body != VK_HTTP_BODY_NONE) {
		/* The client's body errors are the library's to answer (400, 413, 408). */
		vk_http_read(self->rc, self->buf, PROXY_BODY_BUF);
		self->len = (size_t)self->rc;
		if (self->body == VK_HTTP_BODY_CHUNKED) {
			self->out_len =
			    (size_t)snprintf(self->small, PROXY_OUT_SMALL,
					     self->len ? "%zx\r\n" : "0\r\n\r\n", self->len);
			vk_socket_try_write(self->up, self->rc, self->small, self->out_len);
			if (self->rc < 0)
				goto write_failed;
		}
		if (self->len == 0)
			break;
		self->sent_body = 1;
		vk_socket_try_write(self->up, self->rc, self->buf, self->len);
		if (self->rc >= 0 && self->body == VK_HTTP_BODY_CHUNKED)
			vk_socket_try_write(self->up, self->rc, "\r\n", 2);
		if (self->rc < 0)
			goto write_failed;
	}
	vk_socket_try_flush(self->up, self->rc);
	if (self->rc < 0)
		goto write_failed;

	/* ---- the answer's head, read whole, checked ---- */
answer:
	if (!self->large) {
		self->head = self->small;
		self->head_cap = self->config->max_head < PROXY_OUT_SMALL ? self->config->max_head
									  : PROXY_OUT_SMALL;
	}
	for (self->informational = 0;; self->informational++) {
		self->head_len = 0;
		/*
		 * The whole head is usually in the ring at the first wake-up:
		 * copied at once, not a readline a line (~1,000 instructions
		 * a proxied request, callgrind); else read line by line.
		 */
		if (!vk_socket_peek_iov(self->up, (struct iovec[2]){{0}})) {
			vk_socket_try_await(self->up, self->rc);
			if (self->rc < 0)
				goto upstream_failed;
		}
		self->head_len = head_in_ring(self->up, self->head, self->head_cap);
		if (self->head_len) {
			vk_socket_consume(that, self->up, self->head_len);
			goto parse;
		}
		for (;;) {
			vk_socket_try_readline(self->up, self->rc, self->head + self->head_len,
					       self->head_cap - self->head_len);
			if (self->rc <= 0) {
				if (self->rc == 0 && self->head_len == 0 &&
				    self->informational == 0)
					self->rc = -ECONNRESET; /* closed before answering */
				else if (self->rc == 0)
					self->rc = -EBADMSG;
				goto upstream_failed;
			}
			self->head_len += (size_t)self->rc;
			if (self->head[self->head_len - 1] != '\n' &&
			    self->head_len == self->head_cap &&
			    self->head_cap < self->config->max_head) {
				/* Outgrew `small`: on in a buffer of max_head. */
				vk_alloc(self->large, self->config->max_head);
				memcpy(self->large, self->head, self->head_len);
				self->head = self->large;
				self->head_cap = self->config->max_head;
				continue;
			}
			if (self->head[self->head_len - 1] != '\n') {
				self->rc = -EMSGSIZE;
				goto upstream_failed;
			}
			if (self->head_len == 2 ||
			    (self->head_len >= 4 &&
			     memcmp(self->head + self->head_len - 4, "\r\n\r\n", 4) == 0))
				break;
		}
	parse:
		if (proxy_answer_parse(self->head, self->head_len, &self->answer) < 0 ||
		    self->answer.status == 101) {
			self->rc = -EBADMSG;
			goto upstream_failed;
		}
		if (self->answer.status >= 200)
			break;
		if (self->informational == PROXY_INFORMATIONAL_MAX) {
			self->rc = -EBADMSG;
			goto upstream_failed;
		}
	}

	/* ---- the answer: its fields, then its body as it comes ---- */
	for (self->data = NULL;;) {
		const char *name, *value;

		if (!proxy_answer_next(&self->answer, &self->data, &name, &value))
			break;
		if (!proxy_answer_dropped(&self->answer, name))
			vk_http_add_header(name, value);
	}
	/* The request's body did not all go out: the stream is not where a request starts. */
	self->reusable = !self->answer.close && !self->early;
	self->framing = proxy_answer_framing(&self->answer, vk_http_method() == VK_HTTP_HEAD);
	/*
	 * The head in `small` is not needed past vk_http_start(): a small body
	 * goes through it (a HEAD answer's writes are counted, not read).
	 */
	if (self->framing == PROXY_BODY_NONE || (self->framing == PROXY_BODY_LENGTH &&
						 self->answer.length <= (int64_t)PROXY_OUT_SMALL)) {
		self->pass = self->small;
		self->pass_cap = PROXY_OUT_SMALL;
	} else {
		if (!self->buf)
			vk_alloc(self->buf, PROXY_BODY_BUF);
		self->pass = self->buf;
		self->pass_cap = PROXY_BODY_BUF;
	}
	if (self->framing == PROXY_BODY_NONE) {
		vk_http_start(self->answer.status, self->answer.type, self->answer.length);
		/* The writes of a HEAD answer are counted, not sent. */
		if (self->answer.status != 204 && self->answer.status != 304 &&
		    self->answer.length > 0)
			vk_http_write(self->pass, (size_t)self->answer.length);
		vk_http_finish();
	} else if (self->framing == PROXY_BODY_CHUNKED) {
		vk_http_start(self->answer.status, self->answer.type, -1);
		vk_http_chunked_init(&self->chunked,
				     &(struct vk_http_limits){8192, 100, UINT64_MAX, 0});
		self->pos = self->len = 0;
		for (;;) {
			int r;
			size_t consumed;

			if (self->pos == self->len) {
				vk_socket_try_read_some(self->up, self->rc, self->pass,
							self->pass_cap);
				if (self->rc <= 0)
					vk_raise(self->rc < 0 ? (int)-self->rc : EPIPE);
				self->pos = 0;
				self->len = (size_t)self->rc;
			}
			r = vk_http_chunked_decode(&self->chunked, self->pass + self->pos,
						   self->len - self->pos, &consumed, &self->data,
						   &self->data_len);
			self->pos += consumed;
			if (r < 0)
				vk_raise(EBADMSG);
			if (r == 2)
				break;
			if (r == 1)
				vk_http_write(self->data, self->data_len);
		}
		if (self->pos != self->len)
			self->reusable = 0;
		vk_http_finish();
	} else if (self->framing == PROXY_BODY_LENGTH) {
		vk_http_start(self->answer.status, self->answer.type, self->answer.length);
		for (self->left = self->answer.length; self->left > 0;) {
			vk_socket_try_read_some(self->up, self->rc, self->pass,
						self->left < (int64_t)self->pass_cap
						    ? (size_t)self->left
						    : self->pass_cap);
			if (self->rc <= 0)
				vk_raise(self->rc < 0 ? (int)-self->rc : EPIPE);
			self->left -= self->rc;
			vk_http_write(self->pass, (size_t)self->rc);
		}
		vk_http_finish();
	} else {
		/* Neither length nor chunks: the body ends with the connection. */
		self->reusable = 0;
		vk_http_start(self->answer.status, self->answer.type, -1);
		for (;;) {
			vk_socket_try_read_some(self->up, self->rc, self->pass, self->pass_cap);
			if (self->rc < 0)
				vk_raise((int)-self->rc);
			if (self->rc == 0)
				break;
			vk_http_write(self->pass, (size_t)self->rc);
		}
		vk_http_finish();
	}
	if (self->reusable && self->config->keepalive)
		vk_socket_keep(that, self->up, self->config->keepalive,
			       self->config->keepalive_timeout_ms);
	vk_return();

write_failed:
	/*
	 * The upstream closed or reset while taking the request: it may have
	 * answered first (413 to a body too large for it); its bytes are
	 * still there to read.
	 */
	if (self->rc == -EPIPE || self->rc == -ECONNRESET) {
		self->early = 1;
		goto answer;
	}

upstream_failed:
	/* Nothing of the answer went out yet: another try, or 502/504. */
	vk_socket_close(that, self->up);
	if (!self->sent_body && self->retries < 1 &&
	    (self->rc == -ECONNRESET || self->rc == -EPIPE)) {
		/* A pooled connection the upstream had closed: once more, fresh or not. */
		self->retries++;
		goto again;
	}
	self->status = self->rc == -ETIMEDOUT ? 504 : 502;
	proxy_log_failure(self->config, self->target, (int)-self->rc, vk_now(that));
	vk_http_reply(self->status, "text/plain", failure_text(self->status),
		      strlen(failure_text(self->status)));

	vk_finally();
	vk_socket_destroy(that, self->up);
	self->up = NULL;
	vk_free(self->buf);
	self->buf = NULL;
	vk_free(self->large);
	self->large = NULL;
	vk_free(self->small);
	self->small = NULL;
	vk_end();
}

static const struct vk_http_route proxy_routes[] = {
    VK_HTTP_ANY("/*", proxy_http),
};

static struct proxy_config *g_starting;

/* The HTTP library's init hook: the configuration proxy.c parsed. */
static void *proxy_http_state(const struct vk_app_context *context, int *error)
{
	(void)context;
	*error = 0;
	return g_starting;
}

static const struct vk_http_app proxy_http_app = {
    .magic = VK_HTTP_APP_MAGIC,
    .route_size = sizeof(struct vk_http_route),
    .app_size = sizeof(struct vk_http_app),
    .routes = proxy_routes,
    .nroutes = VK_HTTP_COUNT(proxy_routes),
    .init = proxy_http_state,
    .fini = NULL,
};

/* The app's options as the library reads them, with no body limit unless one is set. */
struct context_wrap {
	struct vk_app_context context;
	const struct vk_app_context *inner;
};

static const char *wrapped_option(const struct vk_app_context *context, const char *key)
{
	const struct context_wrap *w = (const struct context_wrap *)context;
	const char *value = w->inner->option(w->inner, key);

	if (!value && strcmp(key, "max_body") == 0)
		return "18446744073709551615";
	return value;
}

int proxy_http_start(struct proxy_config *config, const struct vk_app_context *context)
{
	struct context_wrap w = {*context, context};
	int error = 0;

	/* The rest (the heap, ABI 2.13) as the app was told. */
	w.context.option = wrapped_option;
	w.context.opaque = NULL;

	g_starting = config;
	config->http = vk_http_app_start(&proxy_http_app, &w.context, &error);
	g_starting = NULL;
	return config->http ? 0 : -1;
}
