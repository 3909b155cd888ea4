/*
 * The layout of a socket, and the calls libvk makes on sockets that apps
 * do not (vk_socket.h is the API). Internal: not installed.
 */
#ifndef VK_SOCKET_S_H
#define VK_SOCKET_S_H

#include "vk_internal.h"
#include "vk_socket.h"
#include "vk_vectoring.h"

struct vk_chan_end;
struct vk_fd;
struct vk_proc;

struct vk_socket {
	struct vk_vectoring *rx;
	struct vk_vectoring *tx;
	struct vk_vectoring rx_own; /* rings of a descriptor-bound socket */
	struct vk_vectoring tx_own;
	struct vk_fd *entry;		  /* the bound descriptor; NULL when entangled or unbound */
	struct vk_connecting *connecting; /* a vk_connect() in progress (vk_socket.c) */
	struct vk_chan_end *chan;	  /* or the channel end whose rings rx and tx are */
};

/*
 * The socket of a micro-process's main coroutine, bound to `fd`, allocated
 * first on its fresh heap and laid out so that the connection's hot bytes
 * share one page: the send ring ends VK_SOCKET_HOT_TAIL bytes into a page
 * and restarts at that page's start when it empties; what is allocated
 * next (the coroutine, its state) follows in the same page; the receive
 * ring is allocated on first use, after them. Fewer resident pages make an
 * idle connection smaller and every protection change cheaper. NULL with
 * errno on failure (`fd` is then still the caller's).
 */
struct vk_socket *vk_socket_create_main(struct vk_proc *proc, size_t ring_size, int fd);
/*
 * The hot page's budget: the send ring's tail, then the socket, the HTTP
 * connection's coroutine and state (~2.5 KiB with its 512-byte head
 * buffer), then the receive ring's first bytes, where every request head
 * lands. With a 1 KiB tail only ~30 bytes were left for a head: a 40-byte
 * one (wrk's) reached a second page, which doubled an idle connection
 * (8.66 KiB, not 4.6) and made each protection pair dearer. 512 bytes
 * keep an answer of that size and a head of ~500 in the one page
 * (tests/integration/http-hotpage.sh).
 */
#define VK_SOCKET_HOT_TAIL 512

/*
 * Write in place: room for `want` bytes in one piece right after what the
 * send ring holds, or NULL when the ring has less there, or the socket
 * does not take bytes now (an error, a hang-up, a channel): then
 * vk_socket_write_step() does. vk_socket_produced() adds the `n` bytes
 * written at it. The HTTP server formats its heads there: copying each
 * from a buffer cost about 100 instructions a request (callgrind).
 */
char *vk_socket_room(struct vk_socket *s, size_t want);
void vk_socket_produced(struct vk_socket *s, size_t n);

/*
 * A socket on the current micro-heap for channel end `end` (vk_chan.h),
 * which the process owns: its rx and tx are the channel's rings, outside
 * the heap. NULL with errno ENOMEM.
 */
struct vk_socket *vk_socket_create_chan(struct vk_thread *that, struct vk_chan_end *end);

#endif
