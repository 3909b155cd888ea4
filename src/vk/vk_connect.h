/*
 * vk_connect: outbound connections, as libvk sockets.
 *
 *	vk_connect(self->db, "127.0.0.1:6379");
 *	vk_socket_write(self->db, "PING\r\n", 6);
 *	vk_socket_readline(self->db, self->n, self->line, sizeof(self->line));
 *
 * vk_connect(s, text) connects to an address written as vkd.ini writes
 * addresses (vk_addr.h): "127.0.0.1:6379", "[::1]:80", "unix:/run/db.sock",
 * or a host name, "db.local:5432". `s`, a struct vk_socket * lvalue in
 * `self`, then holds a socket on the new connection, on which every
 * operation of vk_socket.h works. When `s` is NULL a socket is allocated
 * for it first (rings of the micro-process's ring size); a socket that is
 * not connected (closed with vk_socket_close(), or after a failed
 * connect) is used again, its rings emptied. A micro-process may hold
 * several; every one is closed when it ends, also when it faults. TCP
 * connections get TCP_NODELAY.
 *
 * The connect is a non-blocking connect(2) and a wait for writability:
 * the worker goes on serving meanwhile. The whole connect is bounded by
 * vk_set_connect_timeout(), or by the coroutine's vk_timeout() when that
 * is 0. A connect that fails is an error of the vk_connect() statement,
 * raised, or stored in `rc` by vk_try_connect() (vk_state.h, "Errors an
 * app handles"): ECONNREFUSED, ETIMEDOUT, ENETUNREACH, EHOSTUNREACH (also:
 * the name servers failed), ENXIO (the name does not resolve), ENOENT (no
 * socket at a unix path), EAGAIN (a unix socket's backlog is full),
 * EINVAL (a malformed address), EISCONN (`s` is connected), ENOMEM,
 * EMFILE. A name with several addresses has them tried in turn.
 *
 * A connection given back with vk_socket_keep() to the pool of idle
 * connections of the worker is taken first, with no handshake (counted
 * in connects_pooled).
 *
 * A host name is looked up without blocking the worker (c-ares on the
 * worker's loop, the hosts file first: resolv_conf and hosts_file in
 * vkd.ini(5)), through a cache
 * per worker that keeps answers for their TTL; a numeric address never
 * is.
 *
 * vk_connect_addr() takes an address parsed with vk_addr_parse(): parse
 * once (in the app's init hook, say), connect many times.
 */
#ifndef VK_CONNECT_H
#define VK_CONNECT_H

#include <stdint.h>

#include "vk_addr.h"
#include "vk_api.h"
#include "vk_socket.h"

VK_API_BEGIN

#define vk_connect(s, text)                                                                 \
	do {                                                                                \
		ssize_t vk_c_;                                                              \
		vk_socket_own_op_(vk_c_, vk_socket_connect_step(that, &(s), (text), NULL)); \
		if (vk_c_ < 0)                                                              \
			vk_raise((int)-vk_c_);                                              \
	} while (0)
#define vk_connect_addr(s, addr)                                                            \
	do {                                                                                \
		ssize_t vk_c_;                                                              \
		vk_socket_own_op_(vk_c_, vk_socket_connect_step(that, &(s), NULL, (addr))); \
		if (vk_c_ < 0)                                                              \
			vk_raise((int)-vk_c_);                                              \
	} while (0)
/* `rc` gets 0 or -errno. */
#define vk_try_connect(rc, s, text) \
	vk_socket_own_op_(rc, vk_socket_connect_step(that, &(s), (text), NULL))
#define vk_try_connect_addr(rc, s, addr) \
	vk_socket_own_op_(rc, vk_socket_connect_step(that, &(s), NULL, (addr)))

/*
 * Bound every later vk_connect() of this coroutine (and of those it
 * spawns afterwards) to `ms` milliseconds in all; 0: its vk_timeout().
 */
#define vk_set_connect_timeout(ms) vk_thread_set_connect_timeout(that, (uint32_t)(ms))
void vk_thread_set_connect_timeout(struct vk_thread *that, uint32_t ms);

/*
 * Give the connection of `s` (made by vk_connect()) back to the worker's
 * pool of idle connections: the next vk_connect() to the same address,
 * from any micro-process of this worker, takes it without a handshake.
 * Only the descriptor goes; the rings stay in this heap, emptied, and `s`
 * is free to connect again. A connection is kept only when every byte
 * was read and sent and neither side shut it down (a protocol's message
 * ended cleanly); the pool closes it when the upstream closes it or sends
 * anything while idle, after `idle_ms` milliseconds, or when more than
 * `max_idle` connections to the address are idle (the least recently idle
 * first, at the end of the loop iteration after the one that gave the
 * connection back: the next iteration's connects may take it). A
 * connection to a host
 * name is kept under that name: it may outlive the name's TTL.
 *
 * Returns 0 when kept; otherwise the connection is closed all the same
 * and the result says why: -ENOTCONN (not a connection vk_connect()
 * made), -EBUSY (bytes unread or unsent, an end of stream, an error),
 * -ENOSPC (max_idle or idle_ms 0), -ENOMEM.
 */
int vk_socket_keep(struct vk_thread *that, struct vk_socket *s, unsigned max_idle,
		   unsigned idle_ms);

/*
 * Close (as vk_socket_close()) and free a socket made by
 * vk_socket_create() or by vk_connect(): its rings and its connect state
 * go back to the micro-heap, which is a stack: free in the reverse order
 * of allocation to get the room back at once (a handler run once per
 * request that connects, say). Returns 0, or -EINVAL for a socket whose
 * rings are not its own (vk_socket_pipe()). NULL is ignored.
 */
int vk_socket_destroy(struct vk_thread *that, struct vk_socket *s);

/* Internal step of vk_connect(): `text` or `addr`, the other NULL. */
ssize_t vk_socket_connect_step(struct vk_thread *that, struct vk_socket **s, const char *text,
			       const struct vk_addr *addr);

VK_API_END

#endif
