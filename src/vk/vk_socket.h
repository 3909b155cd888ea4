/*
 * vk_socket: the byte streams of coroutines.
 *
 * Every coroutine has a default socket, its stdio, inherited from the
 * coroutine that spawned it. A socket is bound either to a file descriptor
 * (the poller moves bytes between the descriptor and its rings) or
 * entangled with another socket (a pipe between two coroutines of one
 * micro-process: one side's send ring is the other side's receive ring).
 * The same operations work on both.
 *
 * Each operation is a statement that may block only the calling coroutine.
 * Results go to an lvalue that must survive blocking (a field of `self`).
 * Errors are raised (vk_raise): ETIMEDOUT after vk_set_timeout(), the
 * descriptor's errno (ECONNRESET, EPIPE, ...), EPIPE when writing after the
 * peer hung up.
 */
#ifndef VK_SOCKET_H
#define VK_SOCKET_H

#include <sys/types.h>
#include <sys/uio.h>

#include "vk_state.h"
#include "vk_api.h"

VK_API_BEGIN

/* A socket is opaque: its rings live on the micro-heap, its layout in libvk. */
struct vk_socket;

/* Ring size used when a micro-process does not say. */
#define VK_SOCKET_RING_DEFAULT 16384

/*
 * Allocate a socket with its own rings of `ring_size` bytes each on the
 * current micro-heap, unbound. NULL with errno ENOMEM when the heap is
 * full. The send ring comes at once, its first bytes at its end; the
 * receive ring at the first read, at the heap's top then: what is
 * allocated in between (a connect's state) shares a page with the first
 * bytes of both, and the send ring wraps into the page of the socket
 * itself. A proxied request's heap kept 8 pages present over 23 with the
 * two rings side by side at once (tests/integration/proxy-http-hotpage.sh).
 */
struct vk_socket *vk_socket_create(struct vk_thread *that, size_t ring_size);

/*
 * Allocate two entangled sockets: what is written to *a is read from *b and
 * the other way round. Returns 0 or -ENOMEM (and takes nothing).
 */
int vk_socket_pipe(struct vk_thread *that, struct vk_socket **a, struct vk_socket **b,
		   size_t ring_size);

/*
 * Bind a non-blocking descriptor to a socket; the micro-process owns and
 * closes it from now on. Returns 0 or -errno (-EMFILE past the worker's
 * descriptor limit, -EBUSY if the socket or the descriptor is bound
 * already); on failure the descriptor stays the caller's.
 */
int vk_socket_bind_fd(struct vk_thread *that, struct vk_socket *socket, int fd);

/*
 * Close the descriptor bound to a socket now, rather than when the
 * micro-process ends (say, each connection a coroutine accepted). Unsent
 * bytes are dropped: vk_flush() first. Returns 0 or -EBADF.
 */
int vk_socket_close(struct vk_thread *that, struct vk_socket *socket);

/*
 * Make `s` this coroutine's default socket, the one vk_read() and friends
 * use; coroutines it spawns afterwards inherit it.
 */
#define vk_use_socket(s) (that->socket = (s))

/* Internal operation steps: >= 0 done, -EAGAIN blocked (registered), -errno. */
ssize_t vk_socket_read_step(struct vk_thread *that, struct vk_socket *s, char *buf, size_t len,
			    int mode);
ssize_t vk_socket_write_step(struct vk_thread *that, struct vk_socket *s, const char *buf,
			     size_t len);
ssize_t vk_socket_flush_step(struct vk_thread *that, struct vk_socket *s);
ssize_t vk_socket_hup_step(struct vk_thread *that, struct vk_socket *s);
ssize_t vk_socket_readhup_step(struct vk_thread *that, struct vk_socket *s);
ssize_t vk_socket_accept_step(struct vk_thread *that, struct vk_socket *s);
ssize_t vk_socket_await_step(struct vk_thread *that, struct vk_socket *s);
ssize_t vk_socket_await_idle_step(struct vk_thread *that, struct vk_socket *s);
int vk_socket_eof(const struct vk_socket *s);

/*
 * 1 when closing `s` now cannot reset away what was sent: no unread byte
 * is held in its receive ring, and its last read emptied the descriptor
 * or met the end of the stream (a pipe: nothing held). Bytes the peer
 * sends later still make a close reset the connection: when the peer may
 * still be sending (a refused body, requests after the last one), send
 * the end (vk_hup()) and read until the peer's end instead (a lingering
 * close). No system call.
 */
int vk_socket_drained(struct vk_thread *that, const struct vk_socket *s);

/*
 * Zero-copy reading, for parsers: describe the bytes held in the receive
 * ring as up to two iovecs (iov must have room for 2), without consuming
 * them; returns the count, 0 to 2. The bytes stay in place until
 * consumed, even across blocking.
 */
int vk_socket_peek_iov(const struct vk_socket *s, struct iovec *iov);

/* Consume `n` of the bytes held (after vk_socket_peek_iov()). */
void vk_socket_consume(struct vk_thread *that, struct vk_socket *s, size_t n);

/*
 * A file a micro-process sends from with vk_socket_sendfile(): its
 * descriptor is held by libvk, outside the heap, and closed when the
 * process ends (a fault too) if not before.
 */
struct vk_file;

/*
 * Hand `fd` (a regular file, open for reading) to the micro-process.
 * Returns its handle, or NULL with errno (EMFILE past the worker's
 * descriptor limit); on failure the descriptor stays the caller's.
 */
struct vk_file *vk_file_adopt(struct vk_thread *that, int fd);

/* Close a file now. Returns 0 or -EBADF. */
int vk_file_close(struct vk_thread *that, struct vk_file *file);

/* Internal step of vk_socket_sendfile(). */
ssize_t vk_socket_sendfile_step(struct vk_thread *that, struct vk_socket *s, struct vk_file *file,
				off_t offset, size_t len);

enum { VK_READ_ALL, VK_READ_SOME, VK_READ_LINE };

/* Internal: run `step` until it stops saying -EAGAIN; raise a -errno. */
#define vk_socket_op_(rc, step)                        \
	do {                                           \
		that->op_done = 0;                     \
		for (;;) {                             \
			ssize_t vk_r_ = (step);        \
			if (vk_r_ >= 0) {              \
				(rc) = vk_r_;          \
				break;                 \
			}                              \
			if (vk_r_ != -EAGAIN)          \
				vk_raise((int)-vk_r_); \
			vk_wait_();                    \
		}                                      \
	} while (0)

/*
 * Internal: for a step that must clean up whatever ends its wait (a
 * connect's half-open descriptor, a forward's joined rings): the step is
 * called again after every wake-up, the waker's error in that->wake_error
 * for it to take (and clear); `rc` gets its result.
 */
#define vk_socket_own_op_(rc, step) vk_socket_step_until_(rc, step, vk_suspend_(VK_THREAD_BLOCKED))

/* Internal: vk_socket_op_() that stores a -errno in `rc` instead of raising. */
#define vk_socket_try_op_(rc, step) vk_socket_step_until_(rc, step, vk_wait_try_(rc))

/* Internal: call `step` until it says something other than -EAGAIN, into `rc`; `wait` between. */
#define vk_socket_step_until_(rc, step, wait)   \
	do {                                    \
		that->op_done = 0;              \
		for (;;) {                      \
			ssize_t vk_r_ = (step); \
			if (vk_r_ != -EAGAIN) { \
				(rc) = vk_r_;   \
				break;          \
			}                       \
			wait;                   \
		}                               \
	} while (0)

/*
 * Read exactly `len` bytes into `buf` unless the stream ends first; `rc`
 * gets the count (less than `len` only at end of stream).
 */
#define vk_socket_read(s, rc, buf, len) \
	vk_socket_op_(rc, vk_socket_read_step(that, (s), (buf), (len), VK_READ_ALL))
/* Read what is there, at least one byte; `rc` is 0 only at end of stream. */
#define vk_socket_read_some(s, rc, buf, len) \
	vk_socket_op_(rc, vk_socket_read_step(that, (s), (buf), (len), VK_READ_SOME))
/*
 * Read one line, newline included, into `buf` (not NUL-terminated). Stops
 * early when `len` bytes are read, or the ring is full, or the stream ends.
 * `rc` is 0 only at end of stream.
 */
#define vk_socket_readline(s, rc, buf, len) \
	vk_socket_op_(rc, vk_socket_read_step(that, (s), (buf), (len), VK_READ_LINE))
/* Queue all `len` bytes for sending; blocks only while the ring is full. */
#define vk_socket_write(s, buf, len)                                                 \
	do {                                                                         \
		ssize_t vk_w_;                                                       \
		vk_socket_op_(vk_w_, vk_socket_write_step(that, (s), (buf), (len))); \
		(void)vk_w_;                                                         \
	} while (0)
/*
 * Send `len` bytes of `file` from `offset`, after what the send ring
 * holds, with sendfile(2): the bytes go from the page cache to the socket
 * without passing through the heap. Blocks while the descriptor is full;
 * `rc` gets the count sent, less than `len` only when the file ended
 * first. A socket without a descriptor (a pipe) raises EBADF.
 */
#define vk_socket_sendfile(s, rc, file, offset, len) \
	vk_socket_op_(rc, vk_socket_sendfile_step(that, (s), (file), (offset), (len)))
/* Wait until everything queued has been handed to the peer. */
#define vk_socket_flush(s)                                             \
	do {                                                           \
		ssize_t vk_f_;                                         \
		vk_socket_op_(vk_f_, vk_socket_flush_step(that, (s))); \
		(void)vk_f_;                                           \
	} while (0)
/* End of message: flush, then the peer reads end of stream. */
#define vk_socket_hup(s)                                             \
	do {                                                         \
		ssize_t vk_h_;                                       \
		vk_socket_op_(vk_h_, vk_socket_hup_step(that, (s))); \
		(void)vk_h_;                                         \
	} while (0)
/*
 * Wait for the end of the message being received (bytes before it are
 * discarded), and consume it, so a pipe can carry the next message.
 */
#define vk_socket_readhup(s)                                             \
	do {                                                             \
		ssize_t vk_h_;                                           \
		vk_socket_op_(vk_h_, vk_socket_readhup_step(that, (s))); \
		(void)vk_h_;                                             \
	} while (0)
/* Accept a connection on a listening socket; `rc` gets the new descriptor. */
#define vk_socket_accept(s, rc) vk_socket_op_(rc, vk_socket_accept_step(that, (s)))

/*
 * Wait until more bytes arrive than are held now. `rc` is 1, or 0 at end of
 * stream. Raises ENOBUFS when the ring is full (consume first).
 */
#define vk_socket_await(s, rc) vk_socket_op_(rc, vk_socket_await_step(that, (s)))

/*
 * vk_socket_await() for a coroutine that waits between messages (an HTTP
 * keep-alive connection waiting for its next request). When the worker
 * starts draining, the wait of a served socket (bytes went both ways: its
 * peer sent something and was answered) is cut to VK_DRAIN_IDLE_MS: a
 * client that is about to send still gets served (and told to close), an
 * idle one is let go, raising ETIMEDOUT, without holding the drain up; it
 * retries elsewhere, as clients do when a reused connection closes. A
 * socket not served yet (accepted, its first message still to come) keeps
 * its own timeout: a client sends its first request on a fresh connection
 * once and does not retry it, so a cut there would fail it. The worker's
 * drain_timeout still ends it.
 */
#define vk_socket_await_idle(s, rc) vk_socket_op_(rc, vk_socket_await_idle_step(that, (s)))

/*
 * The try forms (vk_state.h, "Errors an app handles"): the same
 * operations, with an error stored in `rc` as -errno instead of raised.
 * `rc` gets what the operation gives: a count for the reads and writes,
 * a descriptor for accept, 1 or 0 for the awaits, 0 for the others.
 */
#define vk_socket_try_read(s, rc, buf, len) \
	vk_socket_try_op_(rc, vk_socket_read_step(that, (s), (buf), (len), VK_READ_ALL))
#define vk_socket_try_read_some(s, rc, buf, len) \
	vk_socket_try_op_(rc, vk_socket_read_step(that, (s), (buf), (len), VK_READ_SOME))
#define vk_socket_try_readline(s, rc, buf, len) \
	vk_socket_try_op_(rc, vk_socket_read_step(that, (s), (buf), (len), VK_READ_LINE))
#define vk_socket_try_write(s, rc, buf, len) \
	vk_socket_try_op_(rc, vk_socket_write_step(that, (s), (buf), (len)))
#define vk_socket_try_flush(s, rc) vk_socket_try_op_(rc, vk_socket_flush_step(that, (s)))
#define vk_socket_try_hup(s, rc) vk_socket_try_op_(rc, vk_socket_hup_step(that, (s)))
#define vk_socket_try_readhup(s, rc) vk_socket_try_op_(rc, vk_socket_readhup_step(that, (s)))
#define vk_socket_try_accept(s, rc) vk_socket_try_op_(rc, vk_socket_accept_step(that, (s)))
#define vk_socket_try_await(s, rc) vk_socket_try_op_(rc, vk_socket_await_step(that, (s)))
#define vk_socket_try_await_idle(s, rc) vk_socket_try_op_(rc, vk_socket_await_idle_step(that, (s)))

/*
 * The address of the peer of `s` (a socket on a descriptor), as text
 * without a port ("192.0.2.7", "2001:db8::1"; "unix" for a unix socket),
 * into buf (cap bytes; 46 hold any). Returns its length, or -ENOTSOCK
 * (no descriptor), -ENOTCONN, -ENOSPC.
 */
int vk_socket_peer_address(struct vk_thread *that, const struct vk_socket *s, char *buf,
			   size_t cap);

/* The same on the coroutine's default socket. */
#define vk_read(rc, buf, len) vk_socket_read(that->socket, rc, buf, len)
#define vk_read_some(rc, buf, len) vk_socket_read_some(that->socket, rc, buf, len)
#define vk_readline(rc, buf, len) vk_socket_readline(that->socket, rc, buf, len)
#define vk_write(buf, len) vk_socket_write(that->socket, buf, len)
#define vk_write_literal(s) vk_socket_write(that->socket, s, sizeof(s) - 1)
#define vk_sendfile(rc, file, offset, len) vk_socket_sendfile(that->socket, rc, file, offset, len)
#define vk_flush() vk_socket_flush(that->socket)
#define vk_hup() vk_socket_hup(that->socket)
#define vk_readhup() vk_socket_readhup(that->socket)
#define vk_accept(rc) vk_socket_accept(that->socket, rc)
#define vk_await(rc) vk_socket_await(that->socket, rc)
#define vk_await_idle(rc) vk_socket_await_idle(that->socket, rc)
/* True when everything was read and the peer hung up. */
#define vk_eof() vk_socket_eof(that->socket)
#define vk_drained() vk_socket_drained(that, that->socket)

#define vk_try_read(rc, buf, len) vk_socket_try_read(that->socket, rc, buf, len)
#define vk_try_read_some(rc, buf, len) vk_socket_try_read_some(that->socket, rc, buf, len)
#define vk_try_readline(rc, buf, len) vk_socket_try_readline(that->socket, rc, buf, len)
#define vk_try_write(rc, buf, len) vk_socket_try_write(that->socket, rc, buf, len)
#define vk_try_flush(rc) vk_socket_try_flush(that->socket, rc)
#define vk_try_hup(rc) vk_socket_try_hup(that->socket, rc)
#define vk_try_readhup(rc) vk_socket_try_readhup(that->socket, rc)
#define vk_try_accept(rc) vk_socket_try_accept(that->socket, rc)
#define vk_try_await(rc) vk_socket_try_await(that->socket, rc)
#define vk_try_await_idle(rc) vk_socket_try_await_idle(that->socket, rc)

VK_API_END

#endif
