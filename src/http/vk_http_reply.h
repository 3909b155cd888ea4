/*
 * vk_http_reply: a handler's answer.
 *
 * Either whole, in one call:
 *
 *	vk_http_reply(200, "application/json", self->json, self->len);
 *
 * or streamed: a head, any number of writes, an end:
 *
 *	vk_http_start(200, "text/plain", -1);     (length not known: chunked)
 *	vk_http_write(self->buf, self->n);        (as often as needed)
 *	vk_http_finish();                         (or just return)
 *
 * The library writes the status line, Server, Date, Content-Type (when
 * type is not NULL), the framing (Content-Length, or Transfer-Encoding:
 * chunked for a 1.1 client when the length is not known; an HTTP/1.0
 * client then reads to the close) and Connection, then the fields added
 * with vk_http_add_header(). A HEAD request gets the same head and no body
 * (the writes are counted, not sent). 204 and 304 answers carry no
 * body and no framing field.
 *
 * What goes out is gathered in the connection's send ring and leaves in
 * one writev with the answers to the other requests of the batch, when
 * the connection has nothing left to run or the ring fills. The macros
 * block only while the ring is full.
 *
 * Errors are raised (vk(3)): EINVAL for an answer that breaks its own
 * framing (a second head, writing before the head or past the length,
 * finishing short, a status outside 200..599 (the library alone sends
 * 100 Continue), a type longer than 128 bytes, or a name or value holding
 * CR, LF or another control byte), EALREADY for a field added after the
 * head, ENOSPC for fields past the app's opt.max_head bytes (vk_http_app.h;
 * 16k by default: as long as a request's head may be), EPIPE or
 * ECONNRESET when the client has gone. After an error raised once the
 * head is out, the library closes the connection: the client sees a cut.
 */
#ifndef VK_HTTP_REPLY_H
#define VK_HTTP_REPLY_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "vk_http_exchange.h"
#include "vk_socket.h"
#include "vk_api.h"

VK_API_BEGIN

/* Internal steps behind the macros (vk_socket_op_()). */
ssize_t vk_http_reply_step(struct vk_thread *that, struct vk_http_exchange *ex, int status,
			   const char *type, const void *body, size_t len);
ssize_t vk_http_start_step(struct vk_thread *that, struct vk_http_exchange *ex, int status,
			   const char *type, int64_t length);
ssize_t vk_http_write_step(struct vk_thread *that, struct vk_http_exchange *ex, const void *buf,
			   size_t len);
ssize_t vk_http_finish_step(struct vk_thread *that, struct vk_http_exchange *ex);
ssize_t vk_http_sendfile_step(struct vk_thread *that, struct vk_http_exchange *ex,
			      struct vk_file *file, off_t offset, size_t len);
int vk_http_exchange_add_header(struct vk_http_exchange *ex, const char *name, const char *value);

/*
 * Answer with `status` and the whole body (len bytes, which may be 0;
 * type may be NULL). Content-Length is len.
 */
#define vk_http_reply(status, type, body, len)                                              \
	do {                                                                                \
		ssize_t vk_hr_;                                                             \
		vk_http_exchange_begin_op(vk_http_exchange_of(that));                       \
		vk_socket_op_(vk_hr_, vk_http_reply_step(that, vk_http_exchange_of(that),   \
							 (status), (type), (body), (len))); \
		(void)vk_hr_;                                                               \
	} while (0)

/*
 * Start a streamed answer: the head goes out now. `length` is the body's
 * exact length in bytes (Content-Length), or -1 when it is not known.
 */
#define vk_http_start(status, type, length)                                               \
	do {                                                                              \
		ssize_t vk_hs_;                                                           \
		vk_http_exchange_begin_op(vk_http_exchange_of(that));                     \
		vk_socket_op_(vk_hs_, vk_http_start_step(that, vk_http_exchange_of(that), \
							 (status), (type), (length)));    \
		(void)vk_hs_;                                                             \
	} while (0)

/* Send `len` bytes of a streamed answer's body (a chunk when chunked). */
#define vk_http_write(buf, len)                                                                   \
	do {                                                                                      \
		ssize_t vk_hw_;                                                                   \
		vk_http_exchange_begin_op(vk_http_exchange_of(that));                             \
		vk_socket_op_(vk_hw_,                                                             \
			      vk_http_write_step(that, vk_http_exchange_of(that), (buf), (len))); \
		(void)vk_hw_;                                                                     \
	} while (0)

/*
 * Send `len` bytes of `file` (vk_file_adopt(), vk_socket.h) from `offset`
 * as part of a streamed answer's body, with sendfile(2): the bytes never
 * pass through the heap, and a slow reader holds no more than the send
 * ring and the file's descriptor. The answer must have been started with
 * its length (not chunked); a HEAD answer counts the bytes and sends
 * none. A file that ends before `len` bytes raises EIO (the connection
 * is then cut: its Content-Length cannot be kept).
 */
#define vk_http_sendfile(file, offset, len)                                                   \
	do {                                                                                  \
		ssize_t vk_hsf_;                                                              \
		vk_http_exchange_begin_op(vk_http_exchange_of(that));                         \
		vk_socket_op_(vk_hsf_, vk_http_sendfile_step(that, vk_http_exchange_of(that), \
							     (file), (offset), (len)));       \
		(void)vk_hsf_;                                                                \
	} while (0)

/*
 * End a streamed answer (the last chunk when chunked). Returning from the
 * handler does it too; a body shorter than its Content-Length cannot be
 * ended (EINVAL), and if the handler returns with it, the connection is
 * closed.
 */
#define vk_http_finish()                                                                     \
	do {                                                                                 \
		ssize_t vk_hf_;                                                              \
		vk_http_exchange_begin_op(vk_http_exchange_of(that));                        \
		vk_socket_op_(vk_hf_, vk_http_finish_step(that, vk_http_exchange_of(that))); \
		(void)vk_hf_;                                                                \
	} while (0)

/*
 * Add a field to the answer's head, before it goes out (name a token,
 * value without control bytes). Fields the library writes itself (Server,
 * Date, Content-Type, Content-Length, Transfer-Encoding, Connection) are
 * not to be added. Does not block.
 */
#define vk_http_add_header(name, value)                                                      \
	do {                                                                                 \
		int vk_ha_ =                                                                 \
		    vk_http_exchange_add_header(vk_http_exchange_of(that), (name), (value)); \
		if (vk_ha_ < 0)                                                              \
			vk_raise(-vk_ha_);                                                   \
	} while (0)

VK_API_END

#endif
