#include "vk_socket_s.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "vk_chan.h"
#include "vk_poll.h"
#include "vk_task.h"

static struct vk_heap *heap_of(struct vk_thread *that)
{
	return &vk_task_proc(that)->heap;
}

/* The socket's descriptor, checked: the socket lives in app-writable memory. */
static struct vk_fd *entry_of(struct vk_thread *that, const struct vk_socket *s)
{
	return s->entry ? vk_poll_owned(vk_task_proc(that), s->entry) : NULL;
}

/* A file's entry, checked as entry_of(). */
static struct vk_fd *file_of(struct vk_thread *that, struct vk_file *file)
{
	struct vk_fd *entry = vk_poll_owned(vk_task_proc(that), (struct vk_fd *)file);

	return entry && entry->file ? entry : NULL;
}

struct vk_socket *vk_socket_create(struct vk_thread *that, size_t ring_size)
{
	/* vk_thread_*alloc(): a ring larger than the heap left is an app error, logged. */
	struct vk_socket *s = vk_thread_calloc(that, 1, sizeof(*s));
	char *tx_buf;

	if (!s)
		return NULL;
	/* Ring memory stays untouched (not zeroed): idle pages stay unresident. */
	tx_buf = vk_thread_alloc(that, ring_size, 1);
	if (!tx_buf) {
		vk_heap_free(heap_of(that), s);
		return NULL;
	}
	vk_vectoring_init(&s->tx_own, tx_buf, ring_size);
	/* Its first bytes at its end: see vk_socket.h. */
	if (ring_size > VK_SOCKET_HOT_TAIL)
		vk_vectoring_set_origin(&s->tx_own, ring_size - VK_SOCKET_HOT_TAIL);
	vk_vectoring_init(&s->rx_own, NULL, ring_size);
	s->rx = &s->rx_own;
	s->tx = &s->tx_own;
	/* Lazy if slots are left (the main socket's come first); else zeroed whole. */
	vk_heap_set_lazy(heap_of(that), tx_buf, ring_size, &s->tx_own.written);
	return s;
}

struct vk_socket *vk_socket_create_main(struct vk_proc *proc, size_t ring_size, int fd)
{
	struct vk_heap *heap = &proc->heap;
	size_t page = vk_page_size();
	/* The hot page: the first page boundary that leaves ring_size below the tail. */
	size_t hot = (ring_size - VK_SOCKET_HOT_TAIL + page - 1) / page * page;
	size_t tx_size = hot + VK_SOCKET_HOT_TAIL;
	/* Reserved, not allocated: no block header touches the first page. */
	char *tx_buf = vk_heap_reserve(heap, tx_size);
	struct vk_socket *s;

	if (!tx_buf)
		return NULL;
	s = vk_heap_calloc(heap, 1, sizeof(*s));
	if (!s)
		return NULL;
	vk_vectoring_init(&s->tx_own, tx_buf, tx_size);
	vk_vectoring_set_origin(&s->tx_own, hot);
	vk_heap_set_lazy(heap, tx_buf, tx_size, &s->tx_own.written);
	vk_vectoring_init(&s->rx_own, NULL, ring_size);
	s->rx = &s->rx_own;
	s->tx = &s->tx_own;
	s->entry = vk_poll_attach(proc, s->rx, s->tx, fd);
	return s->entry ? s : NULL;
}

struct vk_socket *vk_socket_create_chan(struct vk_thread *that, struct vk_chan_end *end)
{
	struct vk_socket *s = vk_heap_calloc(heap_of(that), 1, sizeof(*s));

	if (!s)
		return NULL;
	s->rx = end->rx;
	s->tx = end->tx;
	s->chan = end;
	return s;
}

int vk_socket_pipe(struct vk_thread *that, struct vk_socket **a, struct vk_socket **b,
		   size_t ring_size)
{
	struct vk_heap *heap = heap_of(that);
	struct vk_socket *first = vk_heap_calloc(heap, 1, sizeof(*first));
	struct vk_socket *second = first ? vk_heap_calloc(heap, 1, sizeof(*second)) : NULL;
	char *one = second ? vk_heap_alloc(heap, ring_size) : NULL;
	char *other = one ? vk_heap_alloc(heap, ring_size) : NULL;

	if (!other) {
		/* Give back what was taken, in reverse order: the heap is a stack. */
		vk_heap_free(heap, one);
		vk_heap_free(heap, second);
		vk_heap_free(heap, first);
		return -ENOMEM;
	}
	/* One ring a direction: each side reads what the other writes. */
	vk_vectoring_init(&first->tx_own, one, ring_size);
	vk_vectoring_init(&second->tx_own, other, ring_size);
	vk_heap_set_lazy(heap, one, ring_size, &first->tx_own.written);
	vk_heap_set_lazy(heap, other, ring_size, &second->tx_own.written);
	first->tx = &first->tx_own;
	first->rx = &second->tx_own;
	second->tx = &second->tx_own;
	second->rx = &first->tx_own;
	*a = first;
	*b = second;
	return 0;
}

int vk_socket_bind_fd(struct vk_thread *that, struct vk_socket *socket, int fd)
{
	if (socket->entry)
		return -EBUSY;
	socket->entry = vk_poll_attach(vk_task_proc(that), socket->rx, socket->tx, fd);
	return socket->entry ? 0 : -errno;
}

/* Wake every coroutine of ours waiting in `*list`, raising `error` there. */
static void wake_all(struct vk_task **list, int error)
{
	while (*list && (*list)->thread.status == VK_THREAD_BLOCKED)
		vk_task_wake(*list, error);
}

/*
 * Close a channel end: the peer reads the end of the stream after what was
 * written, its writes raise EPIPE. The socket reads as ended from now on,
 * and raises EBADF on writes.
 */
static void close_chan(struct vk_socket *socket)
{
	wake_all(&socket->rx->reader, EBADF);
	wake_all(&socket->tx->writer, EBADF);
	vk_chan_close(socket->chan, 0);
	socket->chan = NULL;
	vk_vectoring_init(&socket->rx_own, NULL, 0);
	vk_vectoring_init(&socket->tx_own, NULL, 0);
	socket->rx_own.eof = 1;
	socket->tx_own.error = EBADF;
	socket->rx = &socket->rx_own;
	socket->tx = &socket->tx_own;
}

int vk_socket_close(struct vk_thread *that, struct vk_socket *socket)
{
	struct vk_fd *entry;

	if (socket->chan) {
		close_chan(socket);
		return 0;
	}
	entry = entry_of(that, socket);
	if (!entry)
		return -EBADF;
	/* A task steering the descriptor (vk_forward(), vk_relay()) hears it went. */
	if (vk_poll_watcher(entry))
		vk_task_wake(entry->join->watcher, EBADF);
	vk_poll_detach(entry);
	socket->entry = NULL;
	return 0;
}

struct vk_file *vk_file_adopt(struct vk_thread *that, int fd)
{
	return (struct vk_file *)vk_poll_attach_file(vk_task_proc(that), fd);
}

int vk_file_close(struct vk_thread *that, struct vk_file *file)
{
	struct vk_fd *entry = file_of(that, file);

	if (!entry)
		return -EBADF;
	vk_poll_detach(entry);
	return 0;
}

/*
 * How many bytes the read may take now, per mode; *complete says whether
 * the operation is then over.
 */
static size_t readable_now(const struct vk_vectoring *rx, size_t want, int mode, int *complete)
{
	size_t held = vk_vectoring_used(rx);
	size_t limit = held < want ? held : want;
	size_t line;

	switch (mode) {
	case VK_READ_SOME:
		*complete = limit > 0;
		return limit;
	case VK_READ_ALL:
		*complete = limit == want;
		return limit;
	}
	line = vk_vectoring_find(rx, '\n', limit);
	if (line) {
		*complete = 1;
		return line;
	}
	/* No newline: a full buffer, a full ring or the last bytes are a piece. */
	*complete = limit == want || held == rx->size || (rx->eof && held);
	return *complete ? limit : 0;
}

/* Bring bytes in, or register as the ring's reader. */
static ssize_t wait_for_bytes(struct vk_thread *that, struct vk_socket *s)
{
	struct vk_fd *entry = entry_of(that, s);
	ssize_t n;

	if (entry) {
		if (!entry->drained) {
			n = vk_poll_fill(entry);
			if (n != -EAGAIN)
				return n < 0 ? n : 1;
		}
		vk_poll_want_read(entry);
	} else if (s->rx->error) {
		return -s->rx->error;
	}
	vk_task_block(vk_task_of(that), &s->rx->reader, VK_WAIT_READ);
	return -EAGAIN;
}

static void consumed(struct vk_thread *that, struct vk_socket *s, size_t n)
{
	struct vk_fd *entry;

	if (!n)
		return;
	/* A channel's writer is another process's coroutine: the channel tells it. */
	if (s->chan) {
		vk_chan_read(s->chan, n);
		return;
	}
	if (s->rx->writer)
		vk_task_wake(s->rx->writer, 0);
	entry = entry_of(that, s);
	if (entry && !entry->reading && !s->rx->eof && !s->rx->error)
		vk_poll_want_read(entry);
}

ssize_t vk_socket_read_step(struct vk_thread *that, struct vk_socket *s, char *buf, size_t len,
			    int mode)
{
	struct vk_vectoring *rx = s->rx;

	for (;;) {
		int complete;
		size_t take = readable_now(rx, len - that->op_done, mode, &complete);
		ssize_t got;

		/* A whole read gathers as it goes; the others take one piece. */
		if (take && (complete || mode == VK_READ_ALL)) {
			vk_vectoring_get(rx, buf + that->op_done, take);
			that->op_done += take;
			consumed(that, s, take);
		}
		if (complete || (rx->eof && vk_vectoring_used(rx) == 0))
			return (ssize_t)that->op_done;
		got = wait_for_bytes(that, s);
		if (got < 0)
			return got;
	}
}

/*
 * Make room in the send ring: a pipe waits for its reader, an fd writes,
 * a channel waits for its reader unless the bytes are gone already.
 */
static ssize_t make_room(struct vk_thread *that, struct vk_socket *s)
{
	struct vk_fd *entry = entry_of(that, s);
	ssize_t n;

	if (entry) {
		n = vk_poll_flush(entry);
		if (n < 0)
			return n;
		if (vk_vectoring_free(s->tx))
			return 1;
	} else if (s->chan) {
		/* An agent at the other end may have taken the bytes at once (vk_chan.h). */
		if (vk_vectoring_free(s->tx))
			return 1;
	} else if (s->tx->reader) {
		vk_task_wake(s->tx->reader, 0);
	}
	vk_task_block(vk_task_of(that), &s->tx->writer, VK_WAIT_WRITE);
	return -EAGAIN;
}

ssize_t vk_socket_write_step(struct vk_thread *that, struct vk_socket *s, const char *buf,
			     size_t len)
{
	struct vk_vectoring *tx = s->tx;

	for (;;) {
		size_t n;
		ssize_t room;

		if (tx->error)
			return -tx->error;
		if (tx->eof && !entry_of(that, s)) {
			/* The end of our last message is not read yet: wait for readhup. */
			vk_task_block(vk_task_of(that), &tx->writer, VK_WAIT_WRITE);
			return -EAGAIN;
		}
		if (s->chan) {
			ssize_t put =
			    vk_chan_put(s->chan, buf + that->op_done, len - that->op_done);

			if (put < 0)
				return put;
			n = (size_t)put;
		} else {
			n = vk_vectoring_put(tx, buf + that->op_done, len - that->op_done);
			if (n && tx->reader)
				vk_task_wake(tx->reader, 0);
		}
		that->op_done += n;
		if (that->op_done == len)
			return (ssize_t)len;
		room = make_room(that, s);
		if (room < 0)
			return room;
	}
}

char *vk_socket_room(struct vk_socket *s, size_t want)
{
	struct vk_vectoring *tx = s->tx;
	struct iovec iov[2];

	if (s->chan || tx->error || tx->eof)
		return NULL;
	if (vk_vectoring_free_iov(tx, iov) < 1 || iov[0].iov_len < want)
		return NULL;
	return iov[0].iov_base;
}

void vk_socket_produced(struct vk_socket *s, size_t n)
{
	struct vk_vectoring *tx = s->tx;

	vk_vectoring_produced(tx, n);
	if (n && tx->reader)
		vk_task_wake(tx->reader, 0);
}

ssize_t vk_socket_sendfile_step(struct vk_thread *that, struct vk_socket *s, struct vk_file *file,
				off_t offset, size_t len)
{
	struct vk_fd *entry = entry_of(that, s);
	struct vk_fd *from = file_of(that, file);
	ssize_t n;

	if (!entry || !from)
		return -EBADF;
	while (that->op_done < len) {
		off_t at = offset + (off_t)that->op_done;

		if (vk_vectoring_used(s->tx)) {
			/* What was queued before goes first. */
			n = vk_poll_flush_more(entry);
			if (n < 0)
				return n;
			if (vk_vectoring_used(s->tx))
				break;
		}
		n = vk_poll_sendfile(entry, from, &at, len - that->op_done);
		if (n == -EAGAIN)
			break;
		if (n < 0)
			return n;
		if (n == 0)
			return (ssize_t)that->op_done;
		that->op_done += (size_t)n;
	}
	if (that->op_done == len)
		return (ssize_t)len;
	vk_task_block(vk_task_of(that), &s->tx->writer, VK_WAIT_WRITE);
	return -EAGAIN;
}

ssize_t vk_socket_flush_step(struct vk_thread *that, struct vk_socket *s)
{
	struct vk_vectoring *tx = s->tx;
	struct vk_fd *entry;
	ssize_t n;

	if (tx->error)
		return -tx->error;
	if (vk_vectoring_used(tx) == 0)
		return 0;
	entry = entry_of(that, s);
	if (entry) {
		n = vk_poll_flush(entry);
		if (n < 0)
			return n;
		if (vk_vectoring_used(tx) == 0)
			return 0;
		vk_task_block(vk_task_of(that), &tx->writer, VK_WAIT_WRITE);
		return -EAGAIN;
	}
	/*
	 * A pipe: the bytes are in the reader's ring already, handed on (as
	 * vk_hup() takes them to be). Waiting for the reader to consume them
	 * would deadlock a reader that waits for more, such as a readline.
	 * A channel told its reader when the bytes went in.
	 */
	if (!s->chan && tx->reader)
		vk_task_wake(tx->reader, 0);
	return 0;
}

ssize_t vk_socket_hup_step(struct vk_thread *that, struct vk_socket *s)
{
	ssize_t n;

	if (!entry_of(that, s)) {
		/*
		 * A pipe: the bytes are the reader's already; mark the end after
		 * them. An end not read yet would swallow this one (an empty
		 * message between them would be lost): wait for its readhup.
		 */
		if (s->tx->error)
			return -s->tx->error;
		if (s->tx->eof) {
			vk_task_block(vk_task_of(that), &s->tx->writer, VK_WAIT_WRITE);
			return -EAGAIN;
		}
		s->tx->eof = 1;
		if (s->chan)
			vk_chan_wrote(s->chan);
		else if (s->tx->reader)
			vk_task_wake(s->tx->reader, 0);
		return 0;
	}
	n = vk_socket_flush_step(that, s);
	if (n != 0)
		return n;
	return vk_poll_shutdown(entry_of(that, s));
}

ssize_t vk_socket_readhup_step(struct vk_thread *that, struct vk_socket *s)
{
	struct vk_vectoring *rx = s->rx;

	for (;;) {
		size_t held = vk_vectoring_used(rx);
		ssize_t got;

		if (held) {
			vk_vectoring_consumed(rx, held);
			consumed(that, s, held);
		}
		if (rx->eof) {
			/* A pipe carries the next message after this end. */
			if (s->chan) {
				vk_chan_readhup(s->chan);
			} else if (!entry_of(that, s)) {
				rx->eof = 0;
				if (rx->writer)
					vk_task_wake(rx->writer, 0);
			}
			return 0;
		}
		got = wait_for_bytes(that, s);
		if (got < 0)
			return got;
	}
}

ssize_t vk_socket_accept_step(struct vk_thread *that, struct vk_socket *s)
{
	struct vk_fd *entry = entry_of(that, s);
	int fd;

	if (!entry)
		return -ENOTSOCK;
	/* Readiness on this descriptor means a connection to accept, not bytes. */
	entry->listener = 1;
	fd = accept4(entry->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (fd >= 0)
		return fd;
	if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
		return -errno;
	vk_poll_want_read(entry);
	vk_task_block(vk_task_of(that), &s->rx->reader, VK_WAIT_READ);
	return -EAGAIN;
}

ssize_t vk_socket_await_step(struct vk_thread *that, struct vk_socket *s)
{
	struct vk_vectoring *rx = s->rx;
	ssize_t got;

	/* op_done remembers how much was held when the wait began, plus one. */
	if (that->op_done == 0)
		that->op_done = vk_vectoring_used(rx) + 1;
	for (;;) {
		if (vk_vectoring_used(rx) + 1 > that->op_done)
			return 1;
		if (rx->eof)
			return 0;
		if (vk_vectoring_free(rx) == 0)
			return -ENOBUFS;
		got = wait_for_bytes(that, s);
		if (got < 0)
			return got;
	}
}

/*
 * Served: bytes went both ways, the peer sent something and was answered.
 * Only then may a drain cut the wait for its next message short: clients
 * (curl, browsers) retry a request lost to a close on a connection that
 * had answers already, not on a fresh one, whose first request a late
 * send would lose.
 */
static int served(const struct vk_socket *s)
{
	return vk_vectoring_ever_used(s->rx) && vk_vectoring_ever_used(s->tx);
}

ssize_t vk_socket_await_idle_step(struct vk_thread *that, struct vk_socket *s)
{
	ssize_t result;

	vk_task_of(that)->idle_wait = served(s);
	result = vk_socket_await_step(that, s);
	if (result != -EAGAIN)
		vk_task_of(that)->idle_wait = 0;
	return result;
}

int vk_socket_peek_iov(const struct vk_socket *s, struct iovec *iov)
{
	return vk_vectoring_used_iov(s->rx, iov);
}

void vk_socket_consume(struct vk_thread *that, struct vk_socket *s, size_t n)
{
	vk_vectoring_consumed(s->rx, n);
	consumed(that, s, n);
}

int vk_socket_eof(const struct vk_socket *s)
{
	return vk_vectoring_used(s->rx) == 0 && s->rx->eof;
}

int vk_socket_drained(struct vk_thread *that, const struct vk_socket *s)
{
	const struct vk_vectoring *rx = s->rx;
	const struct vk_fd *entry;

	if (vk_vectoring_used(rx))
		return 0;
	entry = entry_of(that, s);
	if (rx->eof || rx->error || !entry)
		return 1;
	return entry->drained;
}

/*
 * The peer accept() gave for the process's connection, when `entry` is
 * still its socket's: 1 with `peer` filled, else 0.
 */
static int accepted_peer(struct vk_thread *that, const struct vk_fd *entry, struct vk_peer *peer)
{
	struct vk_proc *proc = vk_task_proc(that);
	const struct vk_socket *main_socket = proc->main ? proc->main->thread.socket : NULL;

	if (!main_socket || main_socket->entry != entry)
		return 0;
	vk_proc_peer(proc, peer);
	return peer->family != AF_UNSPEC;
}

/*
 * Dotted quad by hand: glibc's inet_ntop() goes through sprintf(), 1,670
 * instructions for an address the HTTP proxy formats every request
 * (callgrind), against ~60 here.
 */
static int format_ipv4(const unsigned char *addr, char *buf, size_t cap)
{
	char text[16];
	size_t n = 0;

	for (int i = 0; i < 4; i++) {
		unsigned b = addr[i];

		if (i)
			text[n++] = '.';
		if (b >= 100)
			text[n++] = (char)('0' + b / 100);
		if (b >= 10)
			text[n++] = (char)('0' + b / 10 % 10);
		text[n++] = (char)('0' + b % 10);
	}
	if (n + 1 > cap)
		return -ENOSPC;
	memcpy(buf, text, n);
	buf[n] = '\0';
	return (int)n;
}

int vk_socket_peer_address(struct vk_thread *that, const struct vk_socket *s, char *buf, size_t cap)
{
	struct vk_fd *entry = entry_of(that, s);
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);
	struct vk_peer peer;

	if (!entry)
		return -ENOTSOCK;
	/* An HTTP proxy asks once a request: the accepted connection's peer is known. */
	if (!accepted_peer(that, entry, &peer)) {
		if (getpeername(entry->fd, (struct sockaddr *)&ss, &len) < 0)
			return -errno;
		vk_peer_from(&peer, (const struct sockaddr *)&ss, len);
	}
	if (peer.family != AF_INET && peer.family != AF_INET6) {
		if (cap < sizeof("unix"))
			return -ENOSPC;
		memcpy(buf, "unix", sizeof("unix"));
		return 4;
	}
	if (peer.family == AF_INET)
		return format_ipv4(peer.addr, buf, cap);
	if (!inet_ntop(peer.family, peer.addr, buf, (socklen_t)cap))
		return -ENOSPC;
	return (int)strlen(buf);
}
