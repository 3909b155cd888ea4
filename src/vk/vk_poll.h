/*
 * vk_poll: the poller. It binds the rings of a micro-process to file
 * descriptors and moves bytes between them, over libev.
 *
 * Reads are optimistic: a coroutine that wants bytes tries readv() first,
 * and waits for readiness only on EAGAIN. A short read means the descriptor
 * is drained, so the next wait goes straight to the event loop instead of
 * paying for a read that would say EAGAIN; so is an outbound connection
 * just connected or taken from the pool, with isolation off (a client
 * speaks first). Readiness for reading stays registered for the life of
 * the descriptor (so a request/response loop makes no epoll_ctl call) and
 * is dropped only while the ring is full.
 *
 * Writes gather in the ring and go out with one writev() when the
 * micro-process has nothing left to run, or sooner when the ring fills.
 *
 * Descriptor state lives in a table indexed by descriptor number, outside
 * every micro-heap, since libev reads it while heaps are protected. An
 * event marks the descriptor and queues its process (vk_proc_schedule());
 * the events are taken in during the process's next dispatch, heap open.
 */
#ifndef VK_POLL_H
#define VK_POLL_H

#include <ev.h>
#include <stdint.h>
#include <sys/types.h>

#include "vk_internal.h"
#include "vk_vectoring.h"

struct vk_proc;

/*
 * What only a joined descriptor needs (vk_forward(), vk_relay()):
 * allocated at its first join (vk_poll_join()), freed with its entry, so
 * that an idle connection's entry does without these 32 bytes.
 */
struct vk_fd_join {
	/* Woken (with no error) after every event taken and every write. */
	struct vk_task *watcher;
	struct vk_vectoring *parked_tx; /* tx while another ring is written from */
	int pipe[2];			/* read end, write end; open while splice_rx */
	uint32_t piped;			/* bytes in the pipe */
	uint32_t pipe_size;		/* its capacity (F_GETPIPE_SZ: an int) */
};

/*
 * One per descriptor, in a table indexed by descriptor number: the
 * pointers first, then the links as descriptor numbers, one byte of
 * events and the flags in bits. 96 bytes (a static assertion in
 * vk_poll.c keeps it so): a connection's share of the worker's memory.
 */
struct vk_fd {
	struct ev_io io;
	struct vk_proc *proc;	 /* owner; NULL when the slot is free */
	struct vk_vectoring *rx; /* in the owner's heap; buf NULL until first read */
	struct vk_vectoring *tx;
	struct vk_fd_join *join; /* NULL until first joined */
	int fd;
	int proc_next;		/* the owner's next descriptor; -1: the last */
	int pending_next;	/* the next on the owner's pending list; -1: the last */
	uint8_t revents;	/* EV_READ and EV_WRITE seen since the last dispatch */
	uint8_t pending : 1;	/* on the owner's pending list */
	uint8_t drained : 1;	/* the last read came back short, or none is due */
	uint8_t reading : 1;	/* EV_READ is wanted */
	uint8_t writing : 1;	/* EV_WRITE is wanted */
	uint8_t listener : 1;	/* a listening socket: readiness means accept */
	uint8_t shut_write : 1; /* shutdown(SHUT_WR) done */
	uint8_t outbound : 1;	/* opened by vk_connect(): counted in outbound_now */
	uint8_t file : 1; /* a file to send from (vk_poll_attach_file()): no rings, no watch */
	uint8_t connecting : 2; /* VK_POLL_CONNECTING or VK_POLL_CONNECT_SEEN, else 0 */
	/*
	 * vk_forward()'s direct path (vk_poll_pipe()): this descriptor's bytes
	 * go through a pipe of its own (join->pipe) to another descriptor,
	 * never into a ring.
	 */
	uint8_t splice_rx : 1;	/* reads go into the pipe (readiness only wakes the watcher) */
	uint8_t splice_tx : 1;	/* writes come from another entry's pipe (ditto) */
	uint8_t splice_eof : 1; /* the last splice in read the end of stream */
	uint8_t no_splice : 1;	/* splice(2) refused this descriptor: the rings it is */
	/*
	 * Handed to a channel (vk_handoff.c): its rings are the channel's, their
	 * waiters another process's tasks; the owner's dispatches leave it alone.
	 */
	uint8_t handed : 1;
};

/* The task steering the descriptor (vk_forward(), vk_relay()), or NULL. */
static inline struct vk_task *vk_poll_watcher(const struct vk_fd *entry)
{
	return entry->join ? entry->join->watcher : NULL;
}

/* The tx the descriptor sends from again after its join, or NULL: not joined. */
static inline struct vk_vectoring *vk_poll_parked_tx(const struct vk_fd *entry)
{
	return entry->join ? entry->join->parked_tx : NULL;
}

/*
 * The entry's join state, allocated (zeroed) at its first call; NULL with
 * errno ENOMEM.
 */
struct vk_fd_join *vk_poll_join(struct vk_fd *entry);

/* What a connecting descriptor waits for: its handshake, then its check. */
enum { VK_POLL_CONNECTING = 1, VK_POLL_CONNECT_SEEN = 2 };

/* The descriptor table of one worker. */
struct vk_poll;

/*
 * A table for descriptors below RLIMIT_NOFILE's soft limit (65536 when
 * unlimited). NULL with errno on failure.
 */
struct vk_poll *vk_poll_create(void);
void vk_poll_destroy(struct vk_poll *poll);

/* The table entry of descriptor `fd` of a process's worker, or NULL. */
struct vk_fd *vk_poll_entry(const struct vk_proc *proc, int fd);

/* The descriptors a process owns: the first, then the one after `entry`; NULL at the end. */
struct vk_fd *vk_poll_first(const struct vk_proc *proc);
struct vk_fd *vk_poll_next(const struct vk_fd *entry);

/*
 * `entry` if it is an entry of the table that `proc` owns, else NULL: for
 * a pointer read back from a micro-heap, which the app's code can write.
 */
struct vk_fd *vk_poll_owned(const struct vk_proc *proc, struct vk_fd *entry);

/*
 * Bind `fd` (non-blocking, owned by the process from now on) to the rings
 * `rx` and `tx` of process `proc`, and watch it. Returns the entry, or
 * NULL with errno (EMFILE past the table, EBUSY if already bound).
 */
struct vk_fd *vk_poll_attach(struct vk_proc *proc, struct vk_vectoring *rx, struct vk_vectoring *tx,
			     int fd);

/*
 * vk_poll_attach() for a connection the process opened (counted in
 * outbound_now until closed). With `connecting`, its non-blocking
 * connect() is in progress: only writability is watched, and when it
 * comes the descriptor's tx->writer is woken, to call vk_poll_connected().
 */
struct vk_fd *vk_poll_attach_outbound(struct vk_proc *proc, struct vk_vectoring *rx,
				      struct vk_vectoring *tx, int fd, int connecting);

/*
 * The handshake of a connecting descriptor: 0 when it connected (it is
 * then watched for reading, as any other), -EAGAIN while it is still in
 * progress, or the connect's -errno.
 */
int vk_poll_connected(struct vk_fd *entry);

/*
 * Own `fd`, a file the process sends from (vk_poll_sendfile()): it is
 * closed with the process, but neither watched nor given rings. Returns
 * the entry, or NULL with errno as vk_poll_attach().
 */
struct vk_fd *vk_poll_attach_file(struct vk_proc *proc, int fd);

/* Stop watching and close a descriptor of a process. */
void vk_poll_close(struct vk_fd *entry);

/* vk_poll_close(), and take the descriptor off its process's lists. */
void vk_poll_detach(struct vk_fd *entry);

/*
 * vk_poll_detach() without the close: the descriptor leaves the process,
 * open (to go to the pool of idle connections), and stays watched for
 * reading by the entry's watcher, returned: its new holder sets the
 * watcher's callback and data, and stops it before closing the
 * descriptor, or gives it back with vk_poll_attach_parked(). One watcher
 * all along leaves libev's epoll registration as it is: a fresh watcher
 * for the pool and another on the way back cost a failing EPOLL_CTL_ADD
 * (EEXIST) 0.87 times a proxied request (wrk -c100, strace -c).
 */
struct ev_io *vk_poll_release(struct vk_fd *entry);

/*
 * vk_poll_attach_outbound() of an idle connection taken from the pool,
 * whose watcher vk_poll_release() left started: it is the entry's again,
 * as it is. Another descriptor is attached as vk_poll_attach_outbound().
 * NULL with errno as vk_poll_attach().
 */
struct vk_fd *vk_poll_attach_parked(struct vk_proc *proc, struct vk_vectoring *rx,
				    struct vk_vectoring *tx, int fd);

/*
 * readv() into the receive ring (allocating it on the heap at first use).
 * Returns bytes read, 0 at end of file, -EAGAIN when nothing is there, or
 * -errno.
 */
ssize_t vk_poll_fill(struct vk_fd *entry);

/*
 * writev() the send ring. Returns bytes written (possibly fewer than held,
 * then EV_WRITE is wanted), or -errno. Wakes a blocked writer.
 */
ssize_t vk_poll_flush(struct vk_fd *entry);

/*
 * Send what the send ring holds before the descriptor changes hands (a
 * handoff, a relay): 0 when it is empty, -EAGAIN when `task` now waits
 * for it to drain (blocked on the ring's writer), or -errno.
 */
ssize_t vk_poll_drain(struct vk_fd *entry, struct vk_task *task);

/*
 * writev() the send ring from outside a dispatch, the owner's heap closed:
 * as vk_poll_flush() but it wakes no task and marks no error on the ring,
 * so the ring must be outside the heap (a subscription's, vk_pubsub.c).
 * Returns bytes written (0 when the descriptor is full: EV_WRITE is then
 * wanted, and its readiness dispatches the owner) or -errno.
 */
ssize_t vk_poll_send(struct vk_fd *entry);

/*
 * The same, with MSG_MORE: the bytes wait in the kernel for what comes
 * next (a vk_poll_sendfile()) rather than leaving as a short segment of
 * their own, which Nagle's algorithm would hold until the peer's ACK.
 */
ssize_t vk_poll_flush_more(struct vk_fd *entry);

/*
 * sendfile() up to len bytes of `file` (an entry of vk_poll_attach_file())
 * from *offset to the descriptor, whose send ring must be empty; *offset
 * moves on. Returns bytes sent (0 at the file's end), -EAGAIN when the
 * descriptor is full (EV_WRITE is then wanted, and its readiness wakes
 * the ring's blocked writer), or -errno (the connection is then failed).
 */
ssize_t vk_poll_sendfile(struct vk_fd *entry, const struct vk_fd *file, off_t *offset, size_t len);

/* Make sure EV_READ is watched again after the ring had filled up. */
void vk_poll_want_read(struct vk_fd *entry);

/* Stop watching EV_READ (until vk_poll_want_read()). */
void vk_poll_stop_read(struct vk_fd *entry);

/* Watch EV_WRITE until the next write event is taken. */
void vk_poll_want_write(struct vk_fd *entry);

/* Stop watching EV_WRITE (a handed-off descriptor's callback sends itself: vk_handoff.c). */
void vk_poll_stop_write(struct vk_fd *entry);

/*
 * vk_forward()'s direct path: bytes from `from`'s descriptor go into a
 * pipe with splice(2) and out of it to `to`'s, never through a ring (so
 * never into a heap). vk_poll_pipe() gives `from` its pipe (non-blocking,
 * kept in the entry, closed with it) and marks both entries: then an
 * event of `from` for reading, or of `to` for writing, only wakes their
 * watcher, which splices. Returns 0, or -errno: -EMFILE past the worker's
 * budget of pipe descriptors (vk_poll_set_pipe_budget()), -ENOBUFS for a
 * pipe smaller than 64 KiB (the user is past fs.pipe-user-pages-soft: the
 * rings do better), or pipe2()'s error. vk_poll_unpipe() closes the pipe
 * (the bytes in it are lost) and unmarks the entry and its sink.
 */
int vk_poll_pipe(struct vk_fd *from, struct vk_fd *to);
void vk_poll_unpipe(struct vk_fd *from, struct vk_fd *to);

/*
 * splice() from `from`'s descriptor into its pipe, as much as the pipe
 * has room for. Returns bytes moved, 0 at end of stream (splice_eof set,
 * reading stops), -EAGAIN when nothing came (with an empty pipe the
 * descriptor is then drained), or -errno (-EINVAL: this descriptor cannot
 * be spliced; nothing was read).
 */
ssize_t vk_poll_splice_in(struct vk_fd *from);

/*
 * splice() from `from`'s pipe to `to`'s descriptor. Returns bytes moved,
 * -EAGAIN when `to` is full (EV_WRITE is then watched), or -errno.
 */
ssize_t vk_poll_splice_out(struct vk_fd *from, struct vk_fd *to);

/*
 * How many pipe descriptors the worker may hold at once (two a direction
 * of a forward): by default half of the descriptor table, so that pipes
 * never take all the descriptors connections need. vkd sets what is left
 * beyond max_connections.
 */
void vk_poll_set_pipe_budget(struct vk_poll *poll, size_t fds);

/* shutdown(SHUT_WR) once. Returns 0 or -errno. */
int vk_poll_shutdown(struct vk_fd *entry);

/* In a dispatch: take in the events seen for the process. */
void vk_poll_take_events(struct vk_proc *proc);

/* In a dispatch: flush every descriptor of the process that holds bytes. */
void vk_poll_flush_all(struct vk_proc *proc);

/*
 * Once the main coroutine has ended: stop reading every descriptor of the
 * process and send what its rings still hold, with MSG_MORE (the close
 * that follows sends the tail with the FIN). Returns 1 while bytes are
 * left that the peer may yet take (the descriptors are then watched for
 * writing only), 0 when everything went or never can.
 */
int vk_poll_last_words(struct vk_proc *proc);

/* Close every descriptor of the process (it ends). */
void vk_poll_close_all(struct vk_proc *proc);

#endif
