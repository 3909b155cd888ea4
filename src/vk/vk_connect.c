#include "vk_connect.h"

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "vk_connpool.h"
#include "vk_poll.h"
#include "vk_post.h"
#include "vk_resolve.h"
#include "vk_socket_s.h"
#include "vk_task.h"

enum { IDLE, RESOLVING, HANDSHAKE };

/*
 * A socket's connect state, on the micro-heap: allocated at the socket's
 * first vk_connect() and kept for the next. Between the steps of one
 * connect it says where it stands; the addresses themselves are read
 * again each step (from the statement's argument, or the resolver's
 * cache), so nothing bigger than this is kept.
 */
struct vk_connecting {
	double deadline;      /* ev_now() time; 0: none */
	struct vk_post *post; /* the resolver's wake-up, made at the first name */
	int last_error;	      /* of the last address tried */
	/* The address connected to, its pool key (vk_socket_keep()); "" if none. */
	char key[VK_ADDR_TEXT_SIZE];
	uint16_t next; /* the resolved address to try next */
	uint8_t phase;
};

void vk_thread_set_connect_timeout(struct vk_thread *that, uint32_t ms)
{
	vk_task_of(that)->connect_timeout_ms = ms;
}

/*
 * The socket's descriptor entry, or NULL. The pointers a socket holds are
 * read back from the micro-heap, which the app's code can write: those
 * into the kernel's own memory are checked before use (as vk_socket.c
 * does), so that a stray write in a heap stays that process's trouble.
 */
static struct vk_fd *entry_of(struct vk_thread *that, struct vk_socket *s)
{
	return s->entry ? vk_poll_owned(vk_task_proc(that), s->entry) : NULL;
}

/* The connect's post, if it is one of this process's. */
static struct vk_post *post_of(struct vk_thread *that, struct vk_connecting *c)
{
	return c->post ? vk_post_owned(vk_task_proc(that), c->post) : NULL;
}

/* Close the socket's descriptor, if it has one of this process's. */
static void drop_entry(struct vk_thread *that, struct vk_socket *s)
{
	struct vk_fd *entry = entry_of(that, s);

	if (entry)
		vk_poll_detach(entry);
	s->entry = NULL;
}

static struct vk_stats *stats_of(struct vk_thread *that)
{
	return vk_task_proc(that)->sched->stats;
}

static void ring_reset(struct vk_vectoring *ring)
{
	ring->start = ring->restart;
	ring->len = 0;
	ring->eof = 0;
	ring->error = 0;
}

static ssize_t connected(struct vk_thread *that, struct vk_connecting *c)
{
	c->phase = IDLE;
	stats_of(that)->connects++;
	return 0;
}

static ssize_t failed(struct vk_thread *that, struct vk_socket *s, ssize_t error)
{
	struct vk_connecting *c = s->connecting;
	struct vk_post *post = post_of(that, c);

	c->phase = IDLE;
	/* Leave the resolver's list of waiters: a late answer wakes nobody. */
	if (post && post->cancel)
		post->cancel(post);
	drop_entry(that, s);
	stats_of(that)->connect_failures++;
	return error;
}

static int past(struct vk_thread *that, const struct vk_connecting *c)
{
	return c->deadline && vk_proc_now(vk_task_proc(that)) >= c->deadline;
}

/*
 * Whether the handshake of a connect() that said EINPROGRESS is over
 * already: on loopback it is, 200 times in 200 (the SYN and its answer
 * went through the stack inside the call). Then the connection is used
 * at once, without a wait for writability: one dispatch less per fresh
 * connection (a protection pair with isolation on), and one epoll_ctl
 * and one getsockopt fewer for this getpeername (epoll_ctl from 0.83 to
 * 0.43 a request through the proxy at wrk -c100, with 0.4 fresh
 * connections a request). A handshake under way (ENOTCONN) is waited for.
 */
static int handshake_done(int fd)
{
	struct sockaddr_storage peer;
	socklen_t len = sizeof(peer);

	return getpeername(fd, (struct sockaddr *)&peer, &len) == 0;
}

/*
 * One address: a non-blocking connect(). Returns 0 when connected at
 * once (unix sockets, mostly), -EAGAIN when the handshake is under way
 * (the task is then blocked until writability or the deadline), or the
 * -errno of this address.
 */
static ssize_t attempt(struct vk_thread *that, struct vk_socket *s, const struct sockaddr *sa,
		       socklen_t len)
{
	struct vk_proc *proc = vk_task_proc(that);
	struct vk_connecting *c = s->connecting;
	int on = 1;
	int fd, rc, error;

	fd = socket(sa->sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	/* Requests and answers go at once: a proxy must not wait for Nagle. */
	if (sa->sa_family != AF_UNIX &&
	    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof(on)) < 0)
		goto fail;
	rc = connect(fd, sa, len);
	if (rc < 0 && errno != EINPROGRESS && errno != EINTR)
		goto fail;
	if (rc < 0 && handshake_done(fd))
		rc = 0;
	s->entry = vk_poll_attach_outbound(proc, &s->rx_own, &s->tx_own, fd, rc < 0);
	if (!s->entry)
		goto fail;
	if (rc == 0)
		return connected(that, c);
	c->phase = HANDSHAKE;
	vk_task_block_until(vk_task_of(that), &s->tx->writer, VK_WAIT_CONNECT, c->deadline);
	return -EAGAIN;

fail:
	error = errno;
	close(fd);
	return -error;
}

/* The next address of `addr` to try, or -EAGAIN (blocked) or -errno. */
static ssize_t advance(struct vk_thread *that, struct vk_socket *s, const struct vk_addr *addr)
{
	struct vk_sched *sched = vk_task_proc(that)->sched;
	struct vk_connecting *c = s->connecting;

	for (;;) {
		const struct vk_resolved *list;
		struct vk_resolved target;
		ssize_t rc;
		int n;

		if (past(that, c))
			return failed(that, s, -ETIMEDOUT);
		if (addr->family != AF_UNSPEC) {
			if (c->next > 0)
				return failed(that, s, -c->last_error);
			c->next++;
			rc = attempt(that, s, (const struct sockaddr *)&addr->addr, addr->addrlen);
			if (rc == 0 || rc == -EAGAIN)
				return rc;
			c->last_error = (int)-rc;
			continue;
		}
		if (!sched->resolver) {
			sched->resolver =
			    vk_resolver_create(sched->loop, sched->resolve_config, sched->stats);
			if (!sched->resolver)
				return failed(that, s, -errno);
		}
		if (!post_of(that, c)) {
			c->post = vk_post_create(vk_task_proc(that));
			if (!c->post)
				return failed(that, s, -ENOMEM);
		}
		n = vk_resolver_lookup(sched->resolver, addr->name, c->post, &list);
		if (n == -EAGAIN) {
			c->phase = RESOLVING;
			vk_task_block_until(vk_task_of(that), &c->post->waiter, VK_WAIT_CONNECT,
					    c->deadline);
			return -EAGAIN;
		}
		if (n < 0)
			return failed(that, s, n);
		if (c->next >= n)
			return failed(that, s, -c->last_error);
		target = list[c->next++];
		if (target.addr.sa.sa_family == AF_INET)
			target.addr.sin.sin_port = htons(addr->port);
		else
			target.addr.sin6.sin6_port = htons(addr->port);
		rc = attempt(that, s, &target.addr.sa, target.len);
		if (rc == 0 || rc == -EAGAIN)
			return rc;
		c->last_error = (int)-rc;
	}
}

/* A handshake under way: done, still going, or on to the next address. */
static ssize_t handshake(struct vk_thread *that, struct vk_socket *s, const struct vk_addr *addr)
{
	struct vk_connecting *c = s->connecting;
	struct vk_fd *entry = entry_of(that, s);
	int rc = entry ? vk_poll_connected(entry) : -EBADF;

	if (rc == 0)
		return connected(that, c);
	if (rc == -EAGAIN) {
		if (past(that, c))
			return failed(that, s, -ETIMEDOUT);
		vk_task_block_until(vk_task_of(that), &s->tx->writer, VK_WAIT_CONNECT, c->deadline);
		return -EAGAIN;
	}
	drop_entry(that, s);
	c->last_error = -rc;
	return advance(that, s, addr);
}

/* An idle connection to the same address, if the pool has one. */
static int from_pool(struct vk_thread *that, struct vk_socket *s)
{
	struct vk_proc *proc = vk_task_proc(that);
	struct vk_connpool *pool = proc->sched->connpool;
	int fd = pool ? vk_connpool_take(pool, s->connecting->key) : -1;

	if (fd < 0)
		return 0;
	s->entry = vk_poll_attach_parked(proc, &s->rx_own, &s->tx_own, fd);
	if (!s->entry) {
		close(fd);
		return 0;
	}
	proc->sched->stats->connects_pooled++;
	return 1;
}

int vk_socket_keep(struct vk_thread *that, struct vk_socket *s, unsigned max_idle, unsigned idle_ms)
{
	struct vk_sched *sched = vk_task_proc(that)->sched;
	struct vk_fd *entry = entry_of(that, s);
	struct ev_io *io;

	if (!entry || !entry->outbound || !s->connecting || s->connecting->phase != IDLE) {
		drop_entry(that, s);
		return -ENOTCONN;
	}
	/* The entry's own rings, not the socket's pointers to them. */
	if (vk_vectoring_used(entry->rx) || vk_vectoring_used(entry->tx) || entry->rx->eof ||
	    entry->rx->error || entry->tx->error || entry->shut_write) {
		drop_entry(that, s);
		return -EBUSY;
	}
	if (!sched->connpool) {
		sched->connpool = vk_connpool_create(sched->loop, sched->stats);
		if (!sched->connpool) {
			drop_entry(that, s);
			return -ENOMEM;
		}
	}
	io = vk_poll_release(entry);
	s->entry = NULL;
	return vk_connpool_put(sched->connpool, s->connecting->key, io, max_idle, idle_ms);
}

/* Free a block whose pointer was read back from the heap only if it is in the heap. */
static void heap_free_checked(struct vk_heap *heap, void *p)
{
	if ((char *)p > heap->base && (char *)p < heap->base + heap->size)
		vk_heap_free(heap, p);
}

int vk_socket_destroy(struct vk_thread *that, struct vk_socket *s)
{
	struct vk_heap *heap = &vk_task_proc(that)->heap;

	if (!s)
		return 0;
	if ((char *)s <= heap->base || (char *)s >= heap->base + heap->size ||
	    s->rx != &s->rx_own || s->tx != &s->tx_own)
		return -EINVAL;
	drop_entry(that, s);
	if (s->connecting) {
		struct vk_post *post = post_of(that, s->connecting);

		if (post)
			vk_post_destroy(post);
		heap_free_checked(heap, s->connecting);
		s->connecting = NULL;
	}
	/* The reverse order of the allocations: connect state, rings, the socket. */
	heap_free_checked(heap, s->tx_own.buf);
	heap_free_checked(heap, s->rx_own.buf);
	vk_heap_free(heap, s);
	return 0;
}

/* The first step: a socket to connect, its state, the deadline. */
static ssize_t begin(struct vk_thread *that, struct vk_socket **sp, const struct vk_addr *addr)
{
	struct vk_proc *proc = vk_task_proc(that);
	uint32_t ms = vk_task_of(that)->connect_timeout_ms;
	struct vk_socket *s = *sp;
	struct vk_connecting *c;

	if (!s) {
		s = vk_socket_create(that, proc->config->ring_size);
		if (!s)
			return -ENOMEM;
		*sp = s;
	}
	/* A pipe's rings are another socket's: it cannot be connected. */
	if (s->rx != &s->rx_own || s->tx != &s->tx_own)
		return -ENOTSOCK;
	if (!s->connecting) {
		s->connecting = vk_heap_calloc(&proc->heap, 1, sizeof(*s->connecting));
		if (!s->connecting)
			return -ENOMEM;
	}
	c = s->connecting;
	if (entry_of(that, s)) {
		if (c->phase == IDLE)
			return -EISCONN;
		/* A connect left behind (its wait was cut short): start over. */
	}
	drop_entry(that, s);
	ring_reset(s->rx);
	ring_reset(s->tx);
	memcpy(c->key, addr->text, strlen(addr->text) + 1);
	if (from_pool(that, s))
		return 0;
	if (!ms)
		ms = that->timeout_ms;
	c->deadline = ms ? vk_proc_now(proc) + ms / 1000.0 : 0;
	c->next = 0;
	c->last_error = ECONNREFUSED;
	that->op_done = 1;
	return advance(that, s, addr);
}

ssize_t vk_socket_connect_step(struct vk_thread *that, struct vk_socket **sp, const char *text,
			       const struct vk_addr *addr)
{
	struct vk_addr parsed;

	if (text) {
		int rc = vk_addr_parse(text, VK_ADDR_NAME, &parsed, NULL);

		if (rc < 0)
			return rc;
		addr = &parsed;
	}
	if (that->op_done == 0)
		return begin(that, sp, addr);
	/* Woken with an error (the process's idle timeout, say): this connect ends. */
	if (that->wake_error) {
		int error = that->wake_error;

		that->wake_error = 0;
		return failed(that, *sp, -error);
	}
	switch ((*sp)->connecting->phase) {
	case RESOLVING:
		return advance(that, *sp, addr);
	case HANDSHAKE:
		return handshake(that, *sp, addr);
	}
	return 0;
}
