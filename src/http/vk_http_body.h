/*
 * vk_http_body: reading a request's body, at the handler's own pace.
 *
 * Both framings (Content-Length and chunked) read the same: the handler
 * gets the body's bytes, decoded, and an end. Nothing is read until the
 * handler asks: a client that sent Expect: 100-continue gets its
 * "100 Continue" on the first read that has to wait for the body (never
 * once the answer has started: it would be read as its body), and an
 * answer started after that 100 waits for the first body byte (a proxy in
 * front may otherwise take the answer for the end of the exchange).
 *
 * A body that is malformed raises EBADMSG, one over the limit EFBIG, one
 * cut short by the client ECONNRESET, one that stalls (idle_timeout, or
 * the handler's own vk_set_timeout()) ETIMEDOUT. If the handler lets such an error end it
 * before its answer started, the library answers 400, 413, nothing or 408,
 * and closes the connection. A body left unread when the handler returns
 * cannot be skipped reliably: the connection closes after the answer,
 * whose head says so when the handler had not touched the body yet.
 */
#ifndef VK_HTTP_BODY_H
#define VK_HTTP_BODY_H

#include <stddef.h>
#include <sys/types.h>

#include "vk_http_exchange.h"
#include "vk_socket.h"
#include "vk_api.h"

VK_API_BEGIN

/* Internal steps behind the macros (vk_socket_op_()). */
ssize_t vk_http_read_step(struct vk_thread *that, struct vk_http_exchange *ex, void *buf,
			  size_t len);
ssize_t vk_http_read_all_step(struct vk_thread *that, struct vk_http_exchange *ex, void *buf,
			      size_t cap);

/*
 * Read at least one byte of the body, at most len, into buf; `rc` (an
 * lvalue kept in self) gets the count, 0 at the end of the body (at once
 * when there is none). The opt.max_body limit applies.
 */
#define vk_http_read(rc, buf, len)                                                               \
	do {                                                                                     \
		vk_http_exchange_begin_op(vk_http_exchange_of(that));                            \
		vk_socket_op_(rc,                                                                \
			      vk_http_read_step(that, vk_http_exchange_of(that), (buf), (len))); \
	} while (0)

/*
 * Read the whole body into buf (cap bytes); `rc` gets its length. A body
 * longer than cap (or than opt.max_body) raises EFBIG, before any of it is
 * read when its length is announced, so the answer is 413 whatever the
 * framing.
 */
#define vk_http_read_all(rc, buf, cap)                                                         \
	do {                                                                                   \
		vk_http_exchange_begin_op(vk_http_exchange_of(that));                          \
		vk_socket_op_(                                                                 \
		    rc, vk_http_read_all_step(that, vk_http_exchange_of(that), (buf), (cap))); \
	} while (0)

VK_API_END

#endif
