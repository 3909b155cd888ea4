#include "vk_http_conn.h"

#include <arpa/inet.h>
#include <errno.h>
#include <string.h>
#include <time.h>

#include "vk_http_app_s.h"
#include "vk_http_exchange_s.h"
#include "vk_http_log.h"
#include "vk_inplace.h"
#include "vk_log.h"

/* The built-in answers' bodies. */
static const char not_found[] = "Not Found\n";
static const char not_allowed[] = "Method Not Allowed\n";
static const char internal_error[] = "Internal Server Error\n";

/*
 * Feed the parser what the receive ring holds, taking out of the ring
 * what it took: the head lives in the parser's buffer, not in the ring.
 * Returns the parser's result.
 */
static int parse_ring(struct vk_thread *that, struct vk_http_request *req)
{
	struct iovec iov[2];
	int count = vk_socket_peek_iov(that->socket, iov);
	int result = 0;

	for (int i = 0; i < count && result == 0; i++) {
		size_t used = 0;

		result = vk_http_request_parse(req, iov[i].iov_base, iov[i].iov_len, &used);
		vk_socket_consume(that, that->socket, used);
	}
	return result;
}

/*
 * Set up an answer the library gives on its own in ex->head: a short text
 * body when `body` is not NULL (left out for HEAD), none for the error
 * statuses; written with vk_http_head_put_step().
 */
static void library_answer(struct vk_thread *that, struct vk_http_exchange *ex,
			   const struct vk_http_request *req, int status, int keep_alive,
			   const char *body, unsigned allow)
{
	size_t len = body ? strlen(body) : 0;

	ex->head = (struct vk_http_head){
	    .type = body ? "text/plain" : NULL,
	    .length = (int64_t)len,
	    .now = (time_t)vk_now(that),
	    .allow = allow,
	    .status = (uint16_t)status,
	    .type_len = body ? 10 : 0,
	    .keep_alive = (uint8_t)keep_alive,
	    .version = (uint8_t)(req ? req->version : 11),
	    .end = 1,
	};
	/* A few fixed fields and a short text: always fits. */
	if (body && req && req->method != VK_HTTP_HEAD) {
		ex->head.body = body;
		ex->head.body_len = (uint16_t)len;
	}
}

/* A monotonic clock in microseconds, for the access log's request time. */
static uint64_t now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

/*
 * The access log line of one answer: req NULL when the head did not
 * parse. `peer` (INET6_ADDRSTRLEN bytes, the connection's) is filled on
 * the first line, so a connection asks the kernel for it once. The line
 * is formatted on the worker's stack, not the micro-heap, and the hook
 * copies it into the log's buffer, which the worker owns.
 */
static void access_line(struct vk_thread *that, const struct vk_http_server *server,
			const struct vk_http_request *req, int status, uint64_t bytes, char *peer,
			uint64_t start_us)
{
	struct vk_http_log_entry e = {
	    .peer = peer,
	    .start = (time_t)vk_now(that),
	    .status = status,
	    .bytes = bytes,
	    .usec = start_us ? now_us() - start_us : 0,
	};
	char line[VK_HTTP_LOG_LINE_MAX];

	if (!peer[0] && vk_socket_peer_address(that, that->socket, peer, INET6_ADDRSTRLEN) < 0)
		memcpy(peer, "-", 2);
	/* The head is on the app's heap: trust its lengths only within the buffer. */
	if (req && req->target_off < req->cap && req->target_len <= req->cap - req->target_off) {
		e.method = vk_http_request_method_str(req);
		e.target = vk_http_request_target(req);
		e.target_len = req->target_len;
		e.version = req->version;
		e.referer = vk_http_header(req, "Referer");
		e.agent = vk_http_header(req, "User-Agent");
	}
	vk_access_write(server->access_log, line, vk_http_log_format(line, &e));
}

/* Whether an error raised in an operation on the connection says the client went. */
static int client_gone(int error)
{
	return error == EPIPE || error == ECONNRESET || error == ETIMEDOUT;
}

/*
 * After the handler: what the error it ended with calls for. Returns the
 * status to answer before closing (0: close without one), or -1 when the
 * connection may go on.
 */
static int handler_outcome(const struct vk_http_server *server, struct vk_http_exchange *ex,
			   int error)
{
	int status;

	if (!error)
		return -1;
	ex->keep_alive = 0;
	if (ex->op == VK_HTTP_OP_READ && ex->error_status)
		status = ex->error_status;
	else if (ex->op == VK_HTTP_OP_READ && error == ETIMEDOUT)
		status = 408;
	else if (ex->op != VK_HTTP_OP_NONE && client_gone(error))
		status = 0;
	else {
		vk_log(3, "app %s: %s %s: the handler raised %s", server->name,
		       vk_http_request_method_str(ex->req), ex->path ? ex->path : "",
		       strerror(error));
		status = 500;
	}
	return ex->out == VK_HTTP_OUT_NONE ? status : 0;
}

/*
 * Lingering close, after an error or when the client sent more than we
 * read: send our end, then read (and drop) what the client still sends
 * until it closes too, for a bounded time. Closing with
 * unread bytes would make the kernel answer with a reset that can destroy
 * the answer before the client has read it: a client still sending a head
 * too large for us would never see its 431. A timeout or a reset just
 * ends the wait.
 */
static void linger(struct vk_thread *that)
{
	struct {
		ssize_t rc;
		size_t dropped;
		double until; /* in all: a trickle must not hold the connection */
		char sink[512];
	} * self;

	vk_begin();
	self->until = vk_now(that) + VK_HTTP_LINGER_MS / 1000.0;
	vk_set_timeout(VK_HTTP_LINGER_MS);
	vk_hup();
	while (self->dropped < VK_HTTP_LINGER_BYTES && vk_now(that) < self->until) {
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

void vk_http_serve(struct vk_thread *that)
{
	struct {
		const struct vk_http_server *server;
		char *large; /* the head buffer past the small one, once needed */
		struct vk_http_request req;
		struct vk_http_exchange ex;
		struct vk_inplace handler;
		ssize_t rc;
		int result;		  /* of the last parse step */
		int status;		  /* an error status to answer, then close */
		int error;		  /* the handler's */
		int reading_head;	  /* a raise here is about the head */
		uint32_t base_timeout_ms; /* vk_set_timeout() outside a head: none */
		double head_deadline;	  /* when a started head must be complete */
		double left_ms;
		uint64_t start_us; /* the request's first byte, when access logged */
		int parsed;	   /* the head parsed: the access log shows its request line */
		char peer[INET6_ADDRSTRLEN];
		/* Most heads fit here, in the connection's hot page. */
		char small_head[VK_HTTP_SMALL_HEAD];
	} * self;

	vk_begin();
	self->server = vk_arg();
	self->base_timeout_ms = vk_timeout();
	vk_http_exchange_init(&self->ex, that, self->server, &self->req);
	/* The handler's task and frame, in the hot page, before the receive ring. */
	if (vk_inplace_init(that, &self->handler, VK_HTTP_FRAME) < 0)
		vk_raise(ENOMEM);

	for (;;) {
		/* ---- one request head, parsed out of the ring as it comes ---- */
		vk_http_request_init(&self->req, self->small_head,
				     self->server->max_head < sizeof(self->small_head)
					 ? self->server->max_head
					 : sizeof(self->small_head),
				     &self->server->limits);
		self->head_deadline = 0;
		self->reading_head = 1;
		self->parsed = 0;
		self->start_us = 0;
		vk_set_timeout(self->base_timeout_ms);
		for (;;) {
			self->result = parse_ring(that, &self->req);
			if (self->result < 0 && vk_http_request_full(&self->req) &&
			    self->req.cap < self->server->max_head) {
				/* Outgrew the small buffer: move on to the large one. */
				if (!self->large)
					vk_alloc(self->large, self->server->max_head);
				vk_http_request_grow(&self->req, self->large,
						     self->server->max_head);
				continue;
			}
			if (self->result != 0)
				break;
			/*
			 * A started head must be complete within the header timeout
			 * of its first byte, however slowly it trickles in.
			 */
			if (!self->head_deadline && vk_http_request_started(&self->req)) {
				self->head_deadline =
				    vk_now(that) + self->server->header_timeout_ms / 1000.0;
				if (self->server->access_log)
					self->start_us = now_us();
			}
			if (self->head_deadline) {
				self->left_ms = (self->head_deadline - vk_now(that)) * 1000.0;
				if (self->left_ms < 1)
					vk_raise(ETIMEDOUT);
				vk_set_timeout((uint32_t)self->left_ms);
				vk_await(self->rc);
			} else {
				/* Between requests a drain may let us go. */
				vk_await_idle(self->rc);
			}
			if (self->rc == 0)
				break;
		}
		self->reading_head = 0;
		if (self->result == 0) {
			/* End of stream: clean between requests, 400 inside one. */
			if (vk_http_request_started(&self->req))
				self->status = 400;
			break;
		}
		if (self->result < 0) {
			self->status = -self->result;
			break;
		}

		self->parsed = 1;
		if (self->server->access_log && !self->start_us)
			self->start_us = now_us();

		/* ---- route it ---- */
		vk_http_exchange_start(&self->ex);
		vk_set_timeout(self->base_timeout_ms);
		{
			/*
			 * Used before the next wait only: on the worker's stack,
			 * not in self (the hot page, which the receive ring follows).
			 */
			struct vk_http_match match;

			self->result = vk_http_route_match(
			    self->server->routes, self->server->nroutes, self->req.method,
			    self->ex.path, self->ex.path_len, &match);
			if (self->result == 0) {
				self->result = vk_http_exchange_bind(&self->ex, &match);
				if (self->result == -ENOSPC &&
				    self->req.cap < self->server->max_head) {
					/* No room past the head for the strings: move it. */
					if (!self->large)
						vk_alloc(self->large, self->server->max_head);
					vk_http_request_grow(&self->req, self->large,
							     self->server->max_head);
					vk_http_exchange_start(&self->ex);
					vk_http_route_match(self->server->routes,
							    self->server->nroutes, self->req.method,
							    self->ex.path, self->ex.path_len,
							    &match);
					self->result = vk_http_exchange_bind(&self->ex, &match);
				}
				if (self->result < 0) {
					self->status = self->result == -ENOSPC ? 414 : 400;
					break;
				}
			} else {
				/* 404 or 405: any body is left unread, so the connection cannot go
				 * on. */
				if (self->ex.in != VK_HTTP_IN_NONE || vk_draining(that))
					self->ex.keep_alive = 0;
				library_answer(that, &self->ex, &self->req, self->result,
					       self->ex.keep_alive,
					       self->result == 405 ? not_allowed : not_found,
					       self->result == 405 ? match.allow : 0);
			}
		}
		if (self->result) {
			vk_socket_op_(self->rc, vk_http_head_put_step(that, &self->ex));
			if (self->server->access_log)
				access_line(
				    that, self->server, &self->req, self->result,
				    self->req.method == VK_HTTP_HEAD
					? 0
					: strlen(self->result == 405 ? not_allowed : not_found),
				    self->peer, self->start_us);
			vk_http_exchange_end(that, &self->ex);
			if (!self->ex.keep_alive)
				break;
			continue;
		}

		/* ---- run its handler, in place ---- */
		self->error = 0;
		vk_inplace_call(&self->handler, self->ex.route->handler, &self->ex, self->error);
		self->status = handler_outcome(self->server, &self->ex, self->error);
		if (self->status >= 0) {
			/*
			 * An answer cut short, or none because the client went,
			 * is logged here; an error answer below.
			 */
			if (!self->status && self->server->access_log)
				access_line(that, self->server, &self->req,
					    self->ex.out == VK_HTTP_OUT_NONE
						? VK_HTTP_LOG_CLIENT_GONE
						: self->ex.status,
					    self->ex.out_bytes, self->peer, self->start_us);
			vk_http_exchange_end(that, &self->ex);
			break;
		}
		self->status = 0;
		if (self->ex.out == VK_HTTP_OUT_NONE) {
			/* Returned without an answer. */
			if (self->ex.in != VK_HTTP_IN_NONE || vk_draining(that))
				self->ex.keep_alive = 0;
			library_answer(that, &self->ex, &self->req, 500, self->ex.keep_alive,
				       internal_error, 0);
			vk_socket_op_(self->rc, vk_http_head_put_step(that, &self->ex));
			self->ex.status = 500;
			self->ex.out_bytes =
			    self->req.method == VK_HTTP_HEAD ? 0 : strlen(internal_error);
		} else if (self->ex.out == VK_HTTP_OUT_BODY) {
			/* Returned in the middle of a streamed answer: end it, or cut it. */
			if (self->ex.out_left > 0) {
				self->ex.keep_alive = 0;
			} else {
				vk_http_exchange_begin_op(&self->ex);
				vk_socket_op_(self->rc, vk_http_finish_step(that, &self->ex));
			}
		}
		/* A body not read to its end leaves the stream where no request starts. */
		if (self->ex.in != VK_HTTP_IN_NONE)
			self->ex.keep_alive = 0;
		if (self->server->access_log)
			access_line(that, self->server, &self->req, self->ex.status,
				    self->ex.out_bytes, self->peer, self->start_us);
		vk_http_exchange_end(that, &self->ex);
		if (!self->ex.keep_alive)
			break;
	}

	if (self->status) {
		/* ---- error answer, then a lingering close ---- */
		library_answer(that, &self->ex, NULL, self->status, 0, NULL, 0);
		vk_socket_op_(self->rc, vk_http_head_put_step(that, &self->ex));
		if (self->server->access_log)
			access_line(that, self->server, self->parsed ? &self->req : NULL,
				    self->status, 0, self->peer, self->start_us);
		vk_call(linger, NULL);
	} else if (!vk_drained()) {
		/* Bytes past the last request: closing now would reset the answer away. */
		vk_call(linger, NULL);
	}
	/*
	 * A clean end closes at once, as nginx does: a lingering close costs a
	 * shutdown, a wait for the client's end and a read, nearly doubling a
	 * Connection: close request's system calls.
	 */

	vk_finally();
	if (self->reading_head && vk_http_request_started(&self->req) &&
	    (vk_error() == ETIMEDOUT || vk_error() == ENOMEM)) {
		/*
		 * A head started but did not finish in time, or found no room
		 * for the large head buffer in a small heap.
		 */
		self->status = vk_error() == ETIMEDOUT ? 408 : 431;
		library_answer(that, &self->ex, NULL, self->status, 0, NULL, 0);
		vk_socket_op_(self->rc, vk_http_head_put_step(that, &self->ex));
		if (self->server->access_log)
			access_line(that, self->server, NULL, self->status, 0, self->peer,
				    self->start_us);
		vk_flush(); /* out even if the heap has no room for the linger */
		vk_call(linger, NULL);
	}
	/* Resets, timeouts and cut bodies end the connection; nothing to report. */
	vk_clear_error();
	vk_end();
}
