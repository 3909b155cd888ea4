/*
 * vk_poll: the poller. It binds sockets to file descriptors and moves bytes
 * between descriptors and socket rings, over libev.
 *
 * Reads are optimistic: a coroutine that wants bytes tries readv() first,
 * and waits for readiness only on EAGAIN. A short read means the descriptor
 * is drained, so the next wait goes straight to the event loop instead of
 * paying for a read that would say EAGAIN. Readiness for reading stays
 * registered for the life of the descriptor (so a request/response loop
 * makes no epoll_ctl call) and is dropped only while the ring is full.
 *
 * Writes gather in the ring and go out with one writev() when the
 * micro-process has nothing left to run, or sooner when the ring fills.
 *
 * Descriptor state lives in a table indexed by descriptor number, outside
 * every micro-heap, since libev reads it while heaps are protected.
 */
#ifndef VK_POLL_H
#define VK_POLL_H

#include <ev.h>
#include <stdint.h>
#include <sys/types.h>

struct vk_proc;
struct vk_socket;
struct vk_kern;

struct vk_fd {
	struct ev_io io;
	struct vk_proc *proc;	  /* owner; NULL when the slot is free */
	struct vk_socket *socket; /* in the owner's heap */
	struct vk_fd *proc_next;
	struct vk_fd *pending_next;
	int fd;
	int revents;	    /* events seen since the last dispatch */
	uint8_t pending;    /* on the owner's pending list */
	uint8_t drained;    /* the last read came back short */
	uint8_t reading;    /* EV_READ is wanted */
	uint8_t writing;    /* EV_WRITE is wanted */
	uint8_t listener;   /* a listening socket: readiness means accept */
	uint8_t shut_write; /* shutdown(SHUT_WR) done */
};

/*
 * Bind `fd` (non-blocking, owned by the process from now on) to socket
 * `socket` of process `proc`, and watch it. Returns 0, or -1 with errno.
 */
int vk_poll_attach(struct vk_proc *proc, struct vk_socket *socket, int fd, int listener);

/* Stop watching and close a descriptor of a process. */
void vk_poll_close(struct vk_fd *entry);

/* vk_poll_close(), and take the descriptor off its process's list. */
void vk_poll_detach(struct vk_fd *entry);

/* The table entry of a descriptor. */
struct vk_fd *vk_poll_entry(struct vk_kern *kern, int fd);

/*
 * readv() into the socket's receive ring. Returns bytes read, 0 at end of
 * file, -EAGAIN when nothing is there, or -errno.
 */
ssize_t vk_poll_fill(struct vk_fd *entry);

/*
 * writev() the socket's send ring. Returns bytes written (possibly fewer
 * than held, then EV_WRITE is wanted), or -errno. Wakes a blocked writer.
 */
ssize_t vk_poll_flush(struct vk_fd *entry);

/* Make sure EV_READ is watched again after the ring had filled up. */
void vk_poll_want_read(struct vk_fd *entry);

/* Internal, in a dispatch: take in the events seen for the process. */
void vk_poll_take_events(struct vk_proc *proc);

/* Internal, at the end of a dispatch: flush every socket of the process. */
void vk_poll_flush_all(struct vk_proc *proc);

/*
 * Internal, once the main coroutine has ended: stop reading every
 * descriptor of the process and send what its rings still hold. Returns
 * 1 while bytes are left that the peer may yet take (the descriptors are
 * then watched for writing only), 0 when everything went or never can.
 */
int vk_poll_last_words(struct vk_proc *proc);

#endif
