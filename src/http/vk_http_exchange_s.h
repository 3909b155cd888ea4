/*
 * The layout of an exchange, shared by the files of the HTTP server.
 * Internal: apps see struct vk_http_exchange as opaque (vk_http_exchange.h).
 */
#ifndef VK_HTTP_EXCHANGE_S_H
#define VK_HTTP_EXCHANGE_S_H

#include "vk_internal.h"

#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>
#include <time.h>

#include "vk_http.h"
#include "vk_http_exchange.h"
#include "vk_http_route.h"
#include "vk_socket.h"

struct vk_http_server;

#define VK_HTTP_EXCHANGE_MAGIC 0x766b6878u /* "vkhx" */

/* Room for a head the library formats: status, Server, Date, type, framing, Connection. */
#define VK_HTTP_OUT_MAX 320
/* A body up to this size goes out in the same copy as its head. */
#define VK_HTTP_SMALL_BODY 320
/* Longest Content-Type a handler may give; with it every head fits VK_HTTP_OUT_MAX. */
#define VK_HTTP_TYPE_MAX 128
/*
 * The added fields' first buffer: static.so adds about 200 bytes; the
 * buffer grows to the app's max_head only for more (a proxy passing an
 * upstream's fields on), so that a large request head (its own max_head
 * buffer) and the fields do not take 2 x 16 KiB of a 64 KiB heap at once.
 */
#define VK_HTTP_FIELDS_FIRST 1024

/* The request body. */
enum vk_http_body_state {
	VK_HTTP_IN_NONE = 0, /* no body, or all of it read */
	VK_HTTP_IN_LENGTH,   /* in_left bytes to come */
	VK_HTTP_IN_CHUNKED,  /* decoded with `chunked` */
	VK_HTTP_IN_FAILED,   /* malformed, too large or cut: read no further */
};

/* The answer. */
enum vk_http_out_state {
	VK_HTTP_OUT_NONE = 0, /* nothing sent yet */
	VK_HTTP_OUT_BODY,     /* the head is out, the body goes on */
	VK_HTTP_OUT_DONE,     /* complete */
};

/*
 * What a head the library formats says: kept instead of its bytes, which
 * are formatted on the worker's stack at each try to write them (the same
 * bytes each time: the Date is fixed here). A 320-byte buffer kept in the
 * exchange pushed the receive ring past the connection's hot page: a
 * batch of 16 pipelined heads then touched one more page (3 present
 * pages of the heap instead of 2), flushed by every protection change.
 */
struct vk_http_head {
	const char *type; /* Content-Type, or NULL */
	const char *body; /* a short body sent with the head, or NULL */
	int64_t length;	  /* Content-Length, or -1 for none */
	time_t now;	  /* for the Date */
	unsigned allow;	  /* methods for an Allow field (405), or 0 */
	uint16_t body_len;
	/* The small fields, also as one word: compared at once (vk_http_reply.c). */
	union {
		struct {
			uint16_t status;
			uint8_t type_len; /* at most VK_HTTP_TYPE_MAX */
			uint8_t chunked;  /* Transfer-Encoding: chunked, when length is -1 */
			uint8_t keep_alive;
			uint8_t version; /* of the request: 10 or 11 */
			uint8_t end;	 /* the head ends here: no fields added */
			uint8_t unused;	 /* 0: a head is always built whole */
		};
		uint64_t small;
	};
};

/* The operation in flight, so that an error raised in it can be told apart. */
enum vk_http_op {
	VK_HTTP_OP_NONE = 0,
	VK_HTTP_OP_READ,
	VK_HTTP_OP_WRITE,
};

struct vk_http_exchange {
	/* The connection's: set once. */
	uint32_t magic;
	const struct vk_http_server *server;
	struct vk_http_request *req;
	struct vk_socket *socket;
	struct vk_thread *conn; /* the connection's coroutine: the heap is its */

	/* Per request, cleared by vk_http_exchange_start(), from here... */
	const struct vk_http_route *route;
	const char *path; /* NUL-terminated, in req->buf */
	const char *query;
	size_t path_len;
	/*
	 * Added by the handler, CRLF each: past the head and its parameters
	 * in req->buf while they fit (the connection's hot page), else on the
	 * heap (vk_http_exchange_add_header()).
	 */
	char *fields;
	uint32_t fields_len; /* at most the server's max_head */
	uint32_t fields_cap; /* the head buffer's spare, VK_HTTP_FIELDS_FIRST, then max_head */
	/* The request body. */
	uint8_t in;		/* enum vk_http_body_state */
	uint8_t in_touched;	/* the handler asked for the body */
	uint8_t in_seen;	/* a body byte (or its end) has arrived */
	uint8_t continue_owed;	/* Expect: 100-continue, and nothing sent yet */
	uint8_t continue_sent;	/* "100 Continue" is out */
	uint16_t continue_done; /* bytes of it written so far */
	int in_error;		/* what a failed body raised (positive) */
	/* The answer. */
	uint8_t out;	     /* enum vk_http_out_state */
	uint8_t out_chunked; /* framed as chunks */
	uint8_t out_no_body; /* HEAD, 204, 304: the body is not sent */
	uint8_t keep_alive;  /* the connection may carry another request */
	uint8_t op;	     /* enum vk_http_op */
	uint8_t phase;	     /* of the answer operation in flight */
	uint8_t nseg;	     /* segments to write */
	uint8_t seg_i;	     /* the one being written */
	int status;	     /* sent, 0 before the head */
	int error_status;    /* the status a body error calls for */
	uint64_t out_bytes;  /* of the body, sent or queued (the access log's) */
	/* ...to here; the rest is set before use. */
	int64_t out_left;  /* body bytes the head announced, -1 when not known */
	uint64_t in_left;  /* body bytes to come (VK_HTTP_IN_LENGTH) */
	size_t await_mark; /* vk_socket_await_step()'s own progress */
	uint16_t param_off[VK_HTTP_MAX_PARAMS]; /* in req->buf, past the head */
	struct vk_http_chunked chunked;
	struct iovec seg[4];
	char chunk_head[24];
	struct vk_http_head head; /* seg[] holds it as a NULL segment */
};

/* Whether p points into the request's head buffer. */
int vk_http_exchange_in_head(const struct vk_http_exchange *ex, const char *p);

/*
 * Where the request's head buffer is free: past the head, the path copied
 * out of the target and the parameters (vk_http_exchange_bind()).
 */
size_t vk_http_exchange_head_spare(const struct vk_http_exchange *ex);

/* Tie the exchange to its connection, once. */
void vk_http_exchange_init(struct vk_http_exchange *ex, struct vk_thread *conn,
			   const struct vk_http_server *server, struct vk_http_request *req);

/*
 * Start the exchange of a parsed request: no answer yet, the body framed
 * as the head says, keep_alive as the request allows, the path found.
 */
void vk_http_exchange_start(struct vk_http_exchange *ex);

/*
 * Set up the path (ending it where the query starts) and the route's
 * parameters for the handler, past the head in req->buf. Returns 0,
 * -ENOSPC when the buffer has no room left for them (the caller moves the
 * head to a larger one, or answers 414), or -EINVAL when a parameter does
 * not decode (400).
 */
int vk_http_exchange_bind(struct vk_http_exchange *ex, const struct vk_http_match *match);

/*
 * Format a head into out (VK_HTTP_OUT_MAX + VK_HTTP_SMALL_BODY bytes):
 * status line, Server, Date, Content-Type when type is not NULL (type_len
 * checked by the caller), Content-Length when length >= 0, else
 * Transfer-Encoding: chunked when `chunked`, Allow when allow is not 0,
 * Connection (close, or keep-alive for HTTP/1.0), the empty line when
 * `end`, and then the short body when there is one. The library's own
 * fields are constants: written, not checked. Returns the byte count.
 */
size_t vk_http_head_format(char *out, const struct vk_http_head *head);

/*
 * Write ex->head (formatted as vk_http_head_format() does) to the
 * connection, resuming in that->op_done: a step for vk_socket_op_().
 */
ssize_t vk_http_head_put_step(struct vk_thread *that, struct vk_http_exchange *ex);

/*
 * Wait for bytes on the connection from inside an operation that keeps
 * its own progress in that->op_done: vk_socket_await_step() with its mark
 * kept in the exchange. Returns as vk_socket_await_step().
 */
ssize_t vk_http_exchange_await(struct vk_thread *that, struct vk_http_exchange *ex);

/*
 * The state vkd.ini gave the exchange's route (a mounted static
 * directory: vk_http_mount.h), or NULL for a route of the app's table.
 */
void *vk_http_exchange_route_state(const struct vk_http_exchange *ex);

/* Give back what the exchange took from the heap. */
void vk_http_exchange_end(struct vk_thread *that, struct vk_http_exchange *ex);

#endif
