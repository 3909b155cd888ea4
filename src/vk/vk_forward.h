/*
 * vk_forward: two connections joined, as a proxy joins a client and its
 * upstream.
 *
 *	vk_connect(self->up, "127.0.0.1:6379");
 *	vk_forward(that->socket, self->up);
 *
 * vk_forward(a, b) copies bytes both ways between sockets `a` and `b`
 * (both on descriptors) until both directions have ended: what a's peer
 * sends, b's peer receives, and the other way round. An end of stream
 * read on one side is passed on as a shutdown(SHUT_WR) of the other once
 * its bytes are out, so a half-closed connection works through it. Bytes
 * already held when it starts (received but not consumed, or written but
 * not sent) go first, through the rings; then each direction goes through
 * a pipe with splice(2), the bytes never in the heap. Without a pipe (the
 * worker has no descriptors to spare, or the descriptor cannot be
 * spliced) a direction stays on its ring: from one descriptor's receive
 * ring straight to the other descriptor (readv, then writev from the same
 * ring), no copy in between.
 *
 * The coroutine's timeout (vk_set_timeout()) is one idle timeout for the
 * pair: ETIMEDOUT when neither direction moved for that long, however
 * long either has been quiet alone, and while the bytes held when it
 * starts go out. So is the process's idle_timeout (vkd.ini(5)), which
 * counts the bytes of every descriptor it has. A reset or another failure
 * of either side ends the forward with its errno; close both sockets then
 * (their rings may hold the other's bytes). Raised, or stored in `rc` by
 * vk_try_forward() (0 when both directions ended cleanly).
 */
#ifndef VK_FORWARD_H
#define VK_FORWARD_H

#include "vk_api.h"
#include "vk_socket.h"

VK_API_BEGIN

#define vk_forward(a, b)                                                           \
	do {                                                                       \
		ssize_t vk_fw_;                                                    \
		vk_socket_own_op_(vk_fw_, vk_socket_forward_step(that, (a), (b))); \
		if (vk_fw_ < 0)                                                    \
			vk_raise((int)-vk_fw_);                                    \
	} while (0)
#define vk_try_forward(rc, a, b) vk_socket_own_op_(rc, vk_socket_forward_step(that, (a), (b)))

/* Internal step of vk_forward(). */
ssize_t vk_socket_forward_step(struct vk_thread *that, struct vk_socket *a, struct vk_socket *b);

VK_API_END

#endif
