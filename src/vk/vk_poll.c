#include "vk_poll.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <unistd.h>

#include "vk_proc.h"
#include "vk_task.h"

/*
 * An idle connection's share of the table: 96 bytes with Debian's libev
 * (a 48-byte ev_io). What only joined descriptors need is in struct
 * vk_fd_join; keep it there.
 */
_Static_assert(sizeof(struct vk_fd) <= sizeof(struct ev_io) + 48, "struct vk_fd grew");

struct vk_poll {
	struct vk_fd *fds;
	size_t count;
	size_t pipes_now; /* pipe descriptors open (vk_poll_pipe()) */
	size_t pipes_max;
};

struct vk_poll *vk_poll_create(void)
{
	struct vk_poll *poll = calloc(1, sizeof(*poll));
	struct rlimit limit;

	if (!poll)
		return NULL;
	if (getrlimit(RLIMIT_NOFILE, &limit) == -1 || limit.rlim_cur == RLIM_INFINITY)
		limit.rlim_cur = 65536;
	poll->count = (size_t)limit.rlim_cur;
	poll->pipes_max = poll->count / 2;
	/* calloc of this size maps lazily: untouched entries cost no memory. */
	poll->fds = calloc(poll->count, sizeof(*poll->fds));
	if (!poll->fds) {
		free(poll);
		return NULL;
	}
	return poll;
}

void vk_poll_set_pipe_budget(struct vk_poll *poll, size_t fds)
{
	poll->pipes_max = fds;
}

void vk_poll_destroy(struct vk_poll *poll)
{
	if (!poll)
		return;
	free(poll->fds);
	free(poll);
}

struct vk_fd *vk_poll_entry(const struct vk_proc *proc, int fd)
{
	struct vk_poll *poll = proc->sched->poll;

	if (fd < 0 || (size_t)fd >= poll->count)
		return NULL;
	return &poll->fds[fd];
}

/* The entry of descriptor `fd` (a link: -1 for none), or NULL. */
static struct vk_fd *linked(const struct vk_proc *proc, int fd)
{
	return fd < 0 ? NULL : &proc->sched->poll->fds[fd];
}

struct vk_fd *vk_poll_first(const struct vk_proc *proc)
{
	return linked(proc, proc->fds);
}

struct vk_fd *vk_poll_next(const struct vk_fd *entry)
{
	return linked(entry->proc, entry->proc_next);
}

struct vk_fd_join *vk_poll_join(struct vk_fd *entry)
{
	if (!entry->join)
		entry->join = calloc(1, sizeof(*entry->join));
	return entry->join;
}

/* The join state goes with the entry (its pipe is closed by then). */
static void drop_join(struct vk_fd *entry)
{
	free(entry->join);
	entry->join = NULL;
}

struct vk_fd *vk_poll_owned(const struct vk_proc *proc, struct vk_fd *entry)
{
	struct vk_poll *poll = proc->sched->poll;
	uintptr_t at = (uintptr_t)entry, first = (uintptr_t)poll->fds;

	if (at < first || (at - first) % sizeof(*entry) != 0 ||
	    (at - first) / sizeof(*entry) >= poll->count)
		return NULL;
	return entry->proc == proc ? entry : NULL;
}

static void io_callback(struct ev_loop *loop, struct ev_io *io, int revents)
{
	struct vk_fd *entry = io->data;
	struct vk_proc *proc = entry->proc;

	(void)loop;
	/* EV_ERROR is not kept: the next read or write meets the error itself. */
	entry->revents |= (uint8_t)(revents & (EV_READ | EV_WRITE));
	if (!entry->pending) {
		entry->pending = 1;
		entry->pending_next = proc->pending;
		proc->pending = entry->fd;
	}
	vk_proc_schedule_event(proc);
}

/* Watch exactly the events wanted; libev folds the changes into one call. */
static void update_watch(struct vk_fd *entry)
{
	struct ev_loop *loop = entry->proc->sched->loop;
	int events = (entry->reading ? EV_READ : 0) | (entry->writing ? EV_WRITE : 0);

	if (ev_is_active(&entry->io)) {
		if ((entry->io.events & (EV_READ | EV_WRITE)) == events)
			return;
		ev_io_stop(loop, &entry->io);
	}
	if (!events)
		return;
	ev_io_set(&entry->io, entry->fd, events);
	ev_io_start(loop, &entry->io);
}

/* The rings of a file's entry: always empty, never read or written. */
static struct vk_vectoring no_ring;

/* The entry of `fd` for `proc`, its fields as a fresh descriptor's; its watcher untouched. */
static struct vk_fd *claim(struct vk_proc *proc, struct vk_vectoring *rx, struct vk_vectoring *tx,
			   int fd, int file)
{
	struct vk_fd *entry = vk_poll_entry(proc, fd);

	if (!entry) {
		errno = EMFILE;
		return NULL;
	}
	if (entry->proc) {
		errno = EBUSY;
		return NULL;
	}
	entry->proc = proc;
	entry->rx = rx;
	entry->tx = tx;
	entry->fd = fd;
	entry->revents = 0;
	entry->pending = 0;
	entry->drained = 0;
	entry->writing = 0;
	entry->shut_write = 0;
	entry->listener = 0;
	entry->outbound = 0;
	entry->connecting = 0;
	entry->join = NULL;
	entry->file = !!file;
	entry->splice_rx = 0;
	entry->splice_tx = 0;
	entry->splice_eof = 0;
	entry->no_splice = 0;
	entry->handed = 0;
	entry->reading = !file;
	entry->pending_next = -1;
	entry->proc_next = proc->fds;
	proc->fds = fd;
	return entry;
}

static struct vk_fd *attach(struct vk_proc *proc, struct vk_vectoring *rx, struct vk_vectoring *tx,
			    int fd, int file)
{
	struct vk_fd *entry = claim(proc, rx, tx, fd, file);

	if (!entry)
		return NULL;
	ev_io_init(&entry->io, io_callback, fd, EV_READ);
	entry->io.data = entry;
	update_watch(entry);
	return entry;
}

struct vk_fd *vk_poll_attach(struct vk_proc *proc, struct vk_vectoring *rx, struct vk_vectoring *tx,
			     int fd)
{
	return attach(proc, rx, tx, fd, 0);
}

struct vk_fd *vk_poll_attach_file(struct vk_proc *proc, int fd)
{
	return attach(proc, &no_ring, &no_ring, fd, 1);
}

/*
 * Whether the first read of a connection the process opened (or took from
 * the pool) waits for readiness rather than trying a readv first. Its
 * peer has said nothing yet, and with the request just written the
 * answer is rarely there: for the HTTP proxy at wrk -c100 the try met
 * EAGAIN once a request (readv from 3.0 to 2.0 a request; perf stat on
 * the syscall tracepoints). With isolation on the try is kept: when it
 * finds the answer (the upstream ran while the worker was preempted) it
 * saves a dispatch and its protection pair, ~17 us against ~1 us for a
 * readv that fails: 1.53-1.92 dispatches a request with it, 2.26-2.32
 * without (same runs, vkd status counters, load average 13-14).
 */
static int first_read_waits(const struct vk_proc *proc)
{
	return !proc->config->isolation;
}

struct vk_fd *vk_poll_attach_outbound(struct vk_proc *proc, struct vk_vectoring *rx,
				      struct vk_vectoring *tx, int fd, int connecting)
{
	struct vk_fd *entry = vk_poll_attach(proc, rx, tx, fd);

	if (!entry)
		return NULL;
	entry->outbound = 1;
	proc->sched->stats->outbound_now++;
	entry->drained = first_read_waits(proc);
	if (connecting) {
		entry->connecting = VK_POLL_CONNECTING;
		entry->reading = 0;
		entry->writing = 1;
		update_watch(entry);
	}
	return entry;
}

struct vk_fd *vk_poll_attach_parked(struct vk_proc *proc, struct vk_vectoring *rx,
				    struct vk_vectoring *tx, int fd)
{
	struct vk_fd *entry = vk_poll_entry(proc, fd);

	if (!entry || entry->proc) {
		errno = entry ? EBUSY : EMFILE;
		return NULL;
	}
	if (!ev_is_active(&entry->io) || entry->io.fd != fd ||
	    (entry->io.events & (EV_READ | EV_WRITE)) != EV_READ) {
		ev_io_stop(proc->sched->loop, &entry->io);
		return vk_poll_attach_outbound(proc, rx, tx, fd, 0);
	}
	entry = claim(proc, rx, tx, fd, 0);
	/* Started all along: libev's epoll registration is left as it is. */
	ev_set_cb(&entry->io, io_callback);
	entry->io.data = entry;
	entry->drained = first_read_waits(proc);
	entry->outbound = 1;
	proc->sched->stats->outbound_now++;
	return entry;
}

int vk_poll_connected(struct vk_fd *entry)
{
	int error = 0;
	socklen_t len = sizeof(error);

	if (entry->connecting == VK_POLL_CONNECTING)
		return -EAGAIN;
	if (getsockopt(entry->fd, SOL_SOCKET, SO_ERROR, &error, &len) == -1)
		return -errno;
	if (error)
		return -error;
	entry->connecting = 0;
	entry->writing = 0;
	entry->reading = 1;
	update_watch(entry);
	return 0;
}

/* Close the entry's pipe, if it has one (its bytes are lost). */
static void close_pipe(struct vk_fd *entry)
{
	if (!entry->splice_rx)
		return;
	close(entry->join->pipe[0]);
	close(entry->join->pipe[1]);
	entry->proc->sched->poll->pipes_now -= 2;
	entry->splice_rx = 0;
	entry->join->piped = 0;
}

void vk_poll_close(struct vk_fd *entry)
{
	close_pipe(entry);
	entry->splice_tx = 0;
	ev_io_stop(entry->proc->sched->loop, &entry->io);
	if (entry->outbound) {
		entry->outbound = 0;
		entry->proc->sched->stats->outbound_now--;
	}
	close(entry->fd);
	drop_join(entry);
	entry->proc = NULL;
	entry->rx = NULL;
	entry->tx = NULL;
}

/* Take a descriptor off its process's lists. */
static void unlink_entry(struct vk_fd *entry)
{
	struct vk_proc *proc = entry->proc;
	int *link = &proc->fds;

	while (*link >= 0 && *link != entry->fd)
		link = &linked(proc, *link)->proc_next;
	if (*link >= 0)
		*link = entry->proc_next;
	/* A pending event would be taken for whoever gets this number next. */
	for (link = &proc->pending; *link >= 0; link = &linked(proc, *link)->pending_next) {
		if (*link == entry->fd) {
			*link = entry->pending_next;
			break;
		}
	}
	entry->pending = 0;
}

void vk_poll_detach(struct vk_fd *entry)
{
	unlink_entry(entry);
	vk_poll_close(entry);
}

struct ev_io *vk_poll_release(struct vk_fd *entry)
{
	struct ev_loop *loop = entry->proc->sched->loop;

	unlink_entry(entry);
	close_pipe(entry);
	entry->splice_tx = 0;
	if (entry->outbound) {
		entry->outbound = 0;
		entry->proc->sched->stats->outbound_now--;
	}
	drop_join(entry);
	if (!ev_is_active(&entry->io) || (entry->io.events & (EV_READ | EV_WRITE)) != EV_READ) {
		ev_io_stop(loop, &entry->io);
		ev_io_set(&entry->io, entry->fd, EV_READ);
		ev_io_start(loop, &entry->io);
	}
	entry->proc = NULL;
	entry->rx = NULL;
	entry->tx = NULL;
	entry->reading = 0;
	entry->writing = 0;
	return &entry->io;
}

void vk_poll_close_all(struct vk_proc *proc)
{
	struct vk_fd *entry = vk_poll_first(proc);

	while (entry) {
		struct vk_fd *next = vk_poll_next(entry);

		vk_poll_close(entry);
		entry = next;
	}
	proc->fds = -1;
	proc->pending = -1;
}

void vk_poll_want_read(struct vk_fd *entry)
{
	if (entry->reading)
		return;
	entry->reading = 1;
	update_watch(entry);
}

static void stop_reading(struct vk_fd *entry)
{
	if (!entry->reading)
		return;
	entry->reading = 0;
	update_watch(entry);
}

void vk_poll_stop_read(struct vk_fd *entry)
{
	stop_reading(entry);
}

/*
 * The receive ring is allocated at first use: an idle connection has none.
 * A ring the heap cannot hold is noted with its size, as vk_alloc()'s are:
 * an outbound socket's first read on a heap too small for its rings
 * otherwise failed with ENOMEM and nothing said where. The coroutine named
 * is the ring's waiting reader, or the process's main one (a first read
 * tries the fill before it waits).
 */
static int ensure_rx(struct vk_fd *entry)
{
	struct vk_vectoring *rx = entry->rx;
	struct vk_task *who;

	if (rx->buf)
		return 0;
	rx->buf = vk_heap_alloc(&entry->proc->heap, rx->size);
	if (!rx->buf) {
		who = rx->reader ? rx->reader : entry->proc->main;
		vk_proc_alloc_failed(entry->proc, who ? (void *)who->func : NULL, rx->size,
				     vk_heap_available(&entry->proc->heap));
		return -ENOMEM;
	}
	/* Only what traffic reaches is zeroed when the process ends. */
	vk_heap_set_lazy(&entry->proc->heap, rx->buf, rx->size, &rx->written);
	return 0;
}

ssize_t vk_poll_fill(struct vk_fd *entry)
{
	struct vk_vectoring *rx = entry->rx;
	struct iovec iov[2];
	int count;
	size_t room;
	ssize_t n;

	if (rx->eof)
		return 0;
	if (rx->error)
		return -rx->error;
	if (ensure_rx(entry) < 0) {
		/* No ring to read into: stop watching, or readiness spins the process. */
		stop_reading(entry);
		return -ENOMEM;
	}
	count = vk_vectoring_free_iov(rx, iov);
	room = vk_vectoring_free(rx);
	if (count == 0) {
		/* Full: stop reading until the coroutine makes room. */
		stop_reading(entry);
		return -EAGAIN;
	}
	do
		n = readv(entry->fd, iov, count);
	while (n == -1 && errno == EINTR);
	if (n == -1) {
		if (errno == EAGAIN || errno == EWOULDBLOCK) {
			entry->drained = 1;
			return -EAGAIN;
		}
		rx->error = errno;
		stop_reading(entry);
		return -rx->error;
	}
	if (n == 0) {
		rx->eof = 1;
		stop_reading(entry);
		return 0;
	}
	vk_vectoring_produced(rx, (size_t)n);
	entry->proc->sched->stats->bytes_in += (uint64_t)n;
	vk_proc_moved(entry->proc, &entry->proc->bytes_in, (size_t)n);
	entry->drained = (size_t)n < room;
	return n;
}

static void stop_writing(struct vk_fd *entry)
{
	if (!entry->writing)
		return;
	entry->writing = 0;
	update_watch(entry);
}

static void want_write(struct vk_fd *entry)
{
	if (entry->writing)
		return;
	entry->writing = 1;
	update_watch(entry);
}

/* writev(), or sendmsg() with `flags` (MSG_MORE) on a socket. */
static ssize_t put(int fd, struct iovec *iov, int count, int flags)
{
	struct msghdr msg = {.msg_iov = iov, .msg_iovlen = (size_t)count};
	ssize_t n;

	do
		n = flags ? sendmsg(fd, &msg, flags) : writev(fd, iov, count);
	while (n == -1 && errno == EINTR);
	if (n == -1 && flags && errno == ENOTSOCK)
		return put(fd, iov, count, 0);
	return n;
}

static ssize_t flush(struct vk_fd *entry, int flags)
{
	struct vk_vectoring *tx = entry->tx;
	struct iovec iov[2];
	int count = vk_vectoring_used_iov(tx, iov);
	ssize_t n;

	if (count == 0) {
		stop_writing(entry);
		/* A writer waiting with an empty ring waits to sendfile(). */
		if (tx->writer)
			vk_task_wake(tx->writer, 0);
		return 0;
	}
	if (tx->error)
		return -tx->error;
	n = put(entry->fd, iov, count, flags);
	if (n == -1) {
		if (errno == EAGAIN || errno == EWOULDBLOCK) {
			want_write(entry);
			return 0;
		}
		/* The peer is gone: what is queued can never be delivered. */
		tx->error = errno;
		vk_vectoring_consumed(tx, tx->len);
		stop_writing(entry); /* an error stays writable: no wake-ups for nothing */
		if (tx->writer)
			vk_task_wake(tx->writer, tx->error);
		if (vk_poll_watcher(entry))
			vk_task_wake(entry->join->watcher, 0);
		return -tx->error;
	}
	vk_vectoring_consumed(tx, (size_t)n);
	entry->proc->sched->stats->bytes_out += (uint64_t)n;
	vk_proc_moved(entry->proc, &entry->proc->bytes_out, (size_t)n);
	if (tx->len != 0)
		want_write(entry);
	else
		stop_writing(entry);
	if (tx->writer)
		vk_task_wake(tx->writer, 0);
	if (vk_poll_watcher(entry))
		vk_task_wake(entry->join->watcher, 0);
	return n;
}

void vk_poll_want_write(struct vk_fd *entry)
{
	want_write(entry);
}

void vk_poll_stop_write(struct vk_fd *entry)
{
	stop_writing(entry);
}

ssize_t vk_poll_send(struct vk_fd *entry)
{
	struct vk_vectoring *tx = entry->tx;
	struct iovec iov[2];
	int count = vk_vectoring_used_iov(tx, iov);
	ssize_t n;

	if (count == 0 || entry->writing)
		return 0;
	n = put(entry->fd, iov, count, 0);
	if (n == -1) {
		if (errno != EAGAIN && errno != EWOULDBLOCK)
			return -errno;
		want_write(entry);
		return 0;
	}
	vk_vectoring_consumed(tx, (size_t)n);
	entry->proc->sched->stats->bytes_out += (uint64_t)n;
	vk_proc_moved(entry->proc, &entry->proc->bytes_out, (size_t)n);
	if (tx->len != 0)
		want_write(entry);
	return n;
}

ssize_t vk_poll_flush(struct vk_fd *entry)
{
	return flush(entry, 0);
}

ssize_t vk_poll_drain(struct vk_fd *entry, struct vk_task *task)
{
	ssize_t n;

	if (!vk_vectoring_used(entry->tx))
		return 0;
	n = vk_poll_flush(entry);
	if (n < 0)
		return n;
	if (!vk_vectoring_used(entry->tx))
		return 0;
	vk_task_block(task, &entry->tx->writer, VK_WAIT_WRITE);
	return -EAGAIN;
}

ssize_t vk_poll_flush_more(struct vk_fd *entry)
{
	return flush(entry, MSG_MORE);
}

ssize_t vk_poll_sendfile(struct vk_fd *entry, const struct vk_fd *file, off_t *offset, size_t len)
{
	struct vk_vectoring *tx = entry->tx;
	ssize_t n;

	if (tx->error)
		return -tx->error;
	do
		n = sendfile(entry->fd, file->fd, offset, len);
	while (n == -1 && errno == EINTR);
	if (n == -1) {
		if (errno == EAGAIN || errno == EWOULDBLOCK) {
			want_write(entry);
			return -EAGAIN;
		}
		/* Cut in the middle of a body: the connection cannot go on. */
		tx->error = errno;
		stop_writing(entry);
		return -tx->error;
	}
	entry->proc->sched->stats->bytes_out += (uint64_t)n;
	vk_proc_moved(entry->proc, &entry->proc->bytes_out, (size_t)n);
	return n;
}

/* A pipe this small means the user is past fs.pipe-user-pages-soft. */
#define VK_POLL_PIPE_MIN (64 * 1024)

int vk_poll_pipe(struct vk_fd *from, struct vk_fd *to)
{
	struct vk_poll *poll = from->proc->sched->poll;
	struct vk_fd_join *join = vk_poll_join(from);
	int size;

	if (!join)
		return -ENOMEM;
	if (poll->pipes_now + 2 > poll->pipes_max)
		return -EMFILE;
	if (pipe2(join->pipe, O_NONBLOCK | O_CLOEXEC) == -1)
		return -errno;
	size = fcntl(join->pipe[0], F_GETPIPE_SZ);
	if (size < VK_POLL_PIPE_MIN) {
		int error = size < 0 ? errno : ENOBUFS;

		close(join->pipe[0]);
		close(join->pipe[1]);
		return -error;
	}
	poll->pipes_now += 2;
	join->pipe_size = (uint32_t)size;
	join->piped = 0;
	from->splice_eof = 0;
	from->splice_rx = 1;
	to->splice_tx = 1;
	return 0;
}

void vk_poll_unpipe(struct vk_fd *from, struct vk_fd *to)
{
	if (from)
		close_pipe(from);
	if (to)
		to->splice_tx = 0;
}

ssize_t vk_poll_splice_in(struct vk_fd *from)
{
	struct vk_fd_join *join = from->join;
	size_t held = join->piped;
	ssize_t n;

	do
		n = splice(from->fd, NULL, join->pipe[1], NULL, join->pipe_size - held,
			   SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
	while (n == -1 && errno == EINTR);
	if (n == -1) {
		/* With bytes in the pipe, EAGAIN may mean the pipe is full. */
		if ((errno == EAGAIN || errno == EWOULDBLOCK) && !held)
			from->drained = 1;
		return -errno;
	}
	if (n == 0) {
		from->splice_eof = 1;
		from->rx->eof = 1;
		stop_reading(from);
		return 0;
	}
	join->piped += (uint32_t)n;
	from->proc->sched->stats->bytes_in += (uint64_t)n;
	vk_proc_moved(from->proc, &from->proc->bytes_in, (size_t)n);
	return n;
}

ssize_t vk_poll_splice_out(struct vk_fd *from, struct vk_fd *to)
{
	struct vk_fd_join *join = from->join;
	ssize_t n;

	do
		n = splice(join->pipe[0], NULL, to->fd, NULL, join->piped,
			   SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
	while (n == -1 && errno == EINTR);
	if (n == -1) {
		if (errno == EAGAIN || errno == EWOULDBLOCK)
			want_write(to);
		return -errno;
	}
	join->piped -= (uint32_t)n;
	to->proc->sched->stats->bytes_out += (uint64_t)n;
	vk_proc_moved(to->proc, &to->proc->bytes_out, (size_t)n);
	return n;
}

int vk_poll_shutdown(struct vk_fd *entry)
{
	if (entry->shut_write)
		return 0;
	if (shutdown(entry->fd, SHUT_WR) == -1 && errno != ENOTCONN)
		return -errno;
	entry->shut_write = 1;
	return 0;
}

static void take_event(struct vk_fd *entry)
{
	int revents = entry->revents;
	struct vk_vectoring *rx = entry->rx;

	entry->revents = 0;
	if (entry->connecting) {
		/* The handshake ended, one way or the other: vk_poll_connected() tells. */
		if (revents & EV_WRITE) {
			entry->connecting = VK_POLL_CONNECT_SEEN;
			stop_writing(entry);
			if (entry->tx->writer)
				vk_task_wake(entry->tx->writer, 0);
		}
		return;
	}
	if ((revents & EV_WRITE) && entry->splice_tx) {
		/* The watcher splices: it wants writability again if it still waits. */
		stop_writing(entry);
		if (vk_poll_watcher(entry))
			vk_task_wake(entry->join->watcher, 0);
	} else if (revents & EV_WRITE) {
		vk_poll_flush(entry);
	}
	if (!(revents & EV_READ))
		return;
	entry->drained = 0;
	if (entry->splice_rx) {
		if (vk_poll_watcher(entry))
			vk_task_wake(entry->join->watcher, 0);
		return;
	}
	/* A listener's readiness means a connection: vk_accept() does the accept(). */
	if (!entry->listener && vk_poll_fill(entry) == -EAGAIN)
		return;
	if (rx->reader)
		vk_task_wake(rx->reader, 0);
	if (vk_poll_watcher(entry))
		vk_task_wake(entry->join->watcher, 0);
}

void vk_poll_take_events(struct vk_proc *proc)
{
	struct vk_fd *entry = linked(proc, proc->pending);

	proc->pending = -1;
	while (entry) {
		struct vk_fd *next = linked(proc, entry->pending_next);

		entry->pending = 0;
		entry->pending_next = -1;
		if (entry->proc == proc)
			take_event(entry);
		entry = next;
	}
}

void vk_poll_flush_all(struct vk_proc *proc)
{
	for (struct vk_fd *entry = vk_poll_first(proc); entry; entry = vk_poll_next(entry)) {
		if (entry->tx->len && !entry->writing && !entry->handed)
			vk_poll_flush(entry);
	}
}

int vk_poll_last_words(struct vk_proc *proc)
{
	int unsent = 0;

	for (struct vk_fd *entry = vk_poll_first(proc); entry; entry = vk_poll_next(entry)) {
		struct vk_vectoring *tx = entry->tx;

		if (entry->handed)
			continue;
		stop_reading(entry);
		/*
		 * MSG_MORE: the descriptor is closed once its ring is out, and the
		 * close then sends the held tail with the FIN in one segment, one
		 * packet fewer for both ends to carry through the stack.
		 */
		if (tx->len && !entry->writing)
			vk_poll_flush_more(entry);
		if (tx->len && !tx->error)
			unsent = 1;
	}
	return unsent;
}
