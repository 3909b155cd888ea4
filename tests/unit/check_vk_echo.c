/*
 * libvk end to end: a loopback line echo server built on libvk alone (its
 * kernel's own listener, one micro-process per connection) serves 1,000
 * concurrent clients, each sending lines of random lengths from 1 byte to
 * 64 KiB, and must return every byte in order.
 *
 * The server runs in a forked child (one kernel per process); the clients
 * are plain non-blocking sockets driven by epoll in the test process. Each
 * client's bytes come from its own PRNG stream, which the client replays to
 * check what comes back. The server's counters live in a shared page.
 */
#include "vk_check.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#define CLIENTS 1000
#define LINES_PER_CLIENT 3
#define MAX_LINE 65536
#define DEADLINE_MS 60000
#define SERVER_HEAP (128 * 1024)
#define OUT_CHUNK 16384

/* ---- the server ---- */

struct shared {
	struct vk_stats stats;
	uint64_t errors; /* connections that ended with an error */
	uint64_t lines;  /* complete lines echoed */
	uint64_t accepted_by_coroutine;
};

static struct shared *g_shared;

static void echo_main(struct vk_thread *that)
{
	struct {
		char line[16384];
		ssize_t n;
	} *self;

	vk_begin();
	for (;;) {
		vk_readline(self->n, self->line, sizeof(self->line));
		if (self->n == 0)
			break;
		if (self->line[self->n - 1] == '\n')
			g_shared->lines++;
		vk_write(self->line, (size_t)self->n);
	}
	vk_hup();
	vk_finally();
	if (vk_error()) {
		g_shared->errors++;
		vk_clear_error();
	}
	vk_end();
}

/* One connection accepted by acceptor(), in the acceptor's process. */
static void conn_echo(struct vk_thread *that)
{
	struct {
		struct vk_socket *s;
		char line[256];
		ssize_t n;
	} *self;

	vk_begin();
	self->s = vk_arg();
	for (;;) {
		vk_socket_readline(self->s, self->n, self->line, sizeof(self->line));
		if (self->n == 0)
			break;
		vk_socket_write(self->s, self->line, (size_t)self->n);
	}
	vk_socket_hup(self->s);
	vk_finally();
	if (vk_error()) {
		g_shared->errors++;
		vk_clear_error();
	}
	vk_end();
}

/* Main coroutine on the listening descriptor: vk_accept in a loop. */
static void acceptor(struct vk_thread *that)
{
	struct {
		ssize_t fd;
		int rc;
		struct vk_socket *s;
	} *self;

	vk_begin();
	for (;;) {
		vk_accept(self->fd);
		self->s = vk_socket_create(that, 1024);
		if (!self->s)
			vk_raise(ENOMEM);
		self->rc = vk_socket_bind_fd(that, self->s, (int)self->fd);
		if (self->rc < 0)
			vk_raise(-self->rc);
		vk_spawn_detached(conn_echo, self->s);
		g_shared->accepted_by_coroutine++;
	}
	vk_finally();
	g_shared->errors++;
	vk_end();
}

/* The kernel's listener (use_accept 0) or a coroutine's vk_accept (1). */
static void server(int listen_fd, int use_accept)
{
	struct ev_loop *loop;
	struct vk_kern *kern;
	struct vk_proc_config config;

	/* Die with the test, whatever happens to it. */
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	loop = ev_loop_new(EVFLAG_AUTO);
	kern = loop ? vk_kern_create(loop) : NULL;
	if (!kern)
		_exit(3);
	vk_kern_set_stats(kern, &g_shared->stats);
	memset(&config, 0, sizeof(config));
	config.heap_size = SERVER_HEAP;
	config.isolation = 1;
	if (use_accept) {
		config.heap_size = 1024 * 1024;
		if (!vk_kern_spawn(kern, &config, acceptor, NULL, listen_fd))
			_exit(4);
	} else if (!vk_listener_open(kern, listen_fd, &config, echo_main, NULL, 0)) {
		_exit(4);
	}
	vk_kern_run(kern);
	_exit(5);
}

/* ---- the clients' byte streams ---- */

/*
 * LINES_PER_CLIENT lines; each of 1 .. MAX_LINE bytes, the last one '\n',
 * the others random but never '\n'. Lengths and bytes come from separate
 * generators, so the stream does not depend on how it is cut in chunks.
 */
struct stream {
	uint64_t len_rng;
	uint64_t byte_rng;
	uint64_t word;
	int word_left;
	int lines_left;
	size_t line_left; /* bytes left in the current line, '\n' included */
	int first;
	int client;
};

static void stream_init(struct stream *s, int client)
{
	memset(s, 0, sizeof(*s));
	s->len_rng = 0x1000 + (uint64_t)client;
	s->byte_rng = 0x5eed0000 + (uint64_t)client;
	s->lines_left = LINES_PER_CLIENT;
	s->first = 1;
	s->client = client;
}

static size_t line_length(struct stream *s)
{
	int first = s->first;

	s->first = 0;
	/* Make sure both extremes are in the test. */
	if (first && s->client == 0)
		return 1;
	if (first && s->client == 1)
		return MAX_LINE;
	return 1 + (size_t)(vkt_rand(&s->len_rng) % MAX_LINE);
}

/* Up to `len` next bytes of the stream; 0 at its end. */
static size_t stream_next(struct stream *s, char *buf, size_t len)
{
	size_t done = 0;

	while (done < len) {
		if (s->line_left == 0) {
			if (s->lines_left == 0)
				break;
			s->lines_left--;
			s->line_left = line_length(s);
		}
		if (s->line_left == 1) {
			buf[done++] = '\n';
			s->line_left = 0;
			continue;
		}
		if (s->word_left == 0) {
			s->word = vkt_rand(&s->byte_rng);
			s->word_left = 8;
		}
		buf[done] = (char)(s->word & 0xff);
		if (buf[done] == '\n')
			buf[done] = 'n';
		s->word >>= 8;
		s->word_left--;
		s->line_left--;
		done++;
	}
	return done;
}

static size_t stream_total(int client)
{
	struct stream s;
	size_t total = 0;

	stream_init(&s, client);
	for (int i = 0; i < LINES_PER_CLIENT; i++)
		total += line_length(&s);
	return total;
}

/* ---- the clients ---- */

struct client {
	int fd;
	int done_sending;
	int done;
	struct stream out;
	struct stream expect;
	char pending[OUT_CHUNK];
	size_t pending_off, pending_len;
	size_t sent, received, total;
};

static void client_send(int epfd, struct client *c)
{
	while (!c->done_sending) {
		ssize_t n;

		if (c->pending_off == c->pending_len) {
			c->pending_off = 0;
			c->pending_len = stream_next(&c->out, c->pending, sizeof(c->pending));
			if (c->pending_len == 0) {
				struct epoll_event ev = {.events = EPOLLIN, .data.ptr = c};

				ck_assert_int_eq(shutdown(c->fd, SHUT_WR), 0);
				ck_assert_int_eq(epoll_ctl(epfd, EPOLL_CTL_MOD, c->fd, &ev), 0);
				c->done_sending = 1;
				return;
			}
		}
		n = write(c->fd, c->pending + c->pending_off, c->pending_len - c->pending_off);
		if (n < 0) {
			if (errno == EAGAIN || errno == EINTR)
				return;
			ck_abort_msg("client %d: write: %s", c->out.client, strerror(errno));
		}
		c->pending_off += (size_t)n;
		c->sent += (size_t)n;
	}
}

/* Returns 1 when the client saw the end of its echo. */
static int client_receive(struct client *c)
{
	static char buf[65536], expect[65536];

	for (;;) {
		ssize_t n = read(c->fd, buf, sizeof(buf));
		size_t want;

		if (n < 0) {
			if (errno == EAGAIN || errno == EINTR)
				return 0;
			ck_abort_msg("client %d: read after %zu bytes: %s", c->out.client,
				     c->received, strerror(errno));
		}
		if (n == 0) {
			ck_assert_msg(c->received == c->total,
				      "client %d: end of stream after %zu of %zu bytes",
				      c->out.client, c->received, c->total);
			ck_assert_uint_eq(stream_next(&c->expect, expect, 1), 0);
			return 1;
		}
		want = stream_next(&c->expect, expect, (size_t)n);
		ck_assert_msg(want == (size_t)n, "client %d: %zu bytes more than sent",
			      c->out.client, (size_t)n - want);
		if (memcmp(buf, expect, (size_t)n) != 0) {
			size_t at = 0;

			while (buf[at] == expect[at])
				at++;
			ck_abort_msg("client %d: byte %zu differs", c->out.client, c->received + at);
		}
		c->received += (size_t)n;
	}
}

static int connect_client(const struct sockaddr_in *addr)
{
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

	ck_assert_int_ge(fd, 0);
	if (connect(fd, (const struct sockaddr *)addr, sizeof(*addr)) == -1)
		ck_assert_msg(errno == EINPROGRESS, "connect: %s", strerror(errno));
	return fd;
}

static void raise_fd_limit(rlim_t need)
{
	struct rlimit limit;

	ck_assert_int_eq(getrlimit(RLIMIT_NOFILE, &limit), 0);
	if (limit.rlim_cur < limit.rlim_max) {
		limit.rlim_cur = limit.rlim_max;
		ck_assert_int_eq(setrlimit(RLIMIT_NOFILE, &limit), 0);
	}
	ck_assert_msg(limit.rlim_cur >= need, "needs %lu descriptors, the limit is %lu",
		      (unsigned long)need, (unsigned long)limit.rlim_cur);
}

static void map_shared(void)
{
	g_shared = mmap(NULL, sizeof(*g_shared), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS,
			-1, 0);
	ck_assert_ptr_ne(g_shared, MAP_FAILED);
	memset(g_shared, 0, sizeof(*g_shared));
}

/* Listen on 127.0.0.1, port 0; fork the server; return its pid. */
static pid_t start_server(struct sockaddr_in *addr, int use_accept)
{
	socklen_t addr_len = sizeof(*addr);
	int listen_fd, one = 1;
	pid_t pid;

	listen_fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	ck_assert_int_ge(listen_fd, 0);
	setsockopt(listen_fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	memset(addr, 0, sizeof(*addr));
	addr->sin_family = AF_INET;
	addr->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	addr->sin_port = 0;
	ck_assert_int_eq(bind(listen_fd, (struct sockaddr *)addr, sizeof(*addr)), 0);
	ck_assert_int_eq(listen(listen_fd, 4096), 0);
	ck_assert_int_eq(getsockname(listen_fd, (struct sockaddr *)addr, &addr_len), 0);
	ck_assert_uint_ne(ntohs(addr->sin_port), 0);

	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0)
		server(listen_fd, use_accept);
	close(listen_fd);
	return pid;
}

/* The server must still be serving; then kill and reap it. */
static void stop_server(pid_t pid)
{
	int status;

	ck_assert_int_eq(waitpid(pid, &status, WNOHANG), 0);
	kill(pid, SIGKILL);
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
}

START_TEST(test_echo_1000_clients)
{
	struct sockaddr_in addr;
	int epfd;
	pid_t pid;
	struct client *clients;
	size_t grand_total = 0;
	int done = 0;
	double start = vkt_now_ms();

	raise_fd_limit(CLIENTS + 100);
	map_shared();
	pid = start_server(&addr, 0);

	clients = calloc(CLIENTS, sizeof(*clients));
	ck_assert_ptr_nonnull(clients);
	epfd = epoll_create1(EPOLL_CLOEXEC);
	ck_assert_int_ge(epfd, 0);
	for (int i = 0; i < CLIENTS; i++) {
		struct client *c = &clients[i];
		struct epoll_event ev = {.events = EPOLLIN | EPOLLOUT, .data.ptr = c};

		stream_init(&c->out, i);
		stream_init(&c->expect, i);
		c->total = stream_total(i);
		grand_total += c->total;
		c->fd = connect_client(&addr);
		ck_assert_int_eq(epoll_ctl(epfd, EPOLL_CTL_ADD, c->fd, &ev), 0);
	}

	while (done < CLIENTS) {
		struct epoll_event events[256];
		int n = epoll_wait(epfd, events, 256, 1000);

		ck_assert_msg(n >= 0 || errno == EINTR, "epoll_wait: %s", strerror(errno));
		ck_assert_msg(vkt_now_ms() - start < DEADLINE_MS,
			      "%d of %d clients done after %d ms", done, CLIENTS, DEADLINE_MS);
		for (int e = 0; e < n; e++) {
			struct client *c = events[e].data.ptr;

			if (c->done)
				continue;
			if (events[e].events & EPOLLOUT)
				client_send(epfd, c);
			if (events[e].events & (EPOLLIN | EPOLLHUP | EPOLLERR)) {
				if (client_receive(c)) {
					ck_assert_uint_eq(c->sent, c->total);
					ck_assert_int_eq(epoll_ctl(epfd, EPOLL_CTL_DEL, c->fd, NULL), 0);
					close(c->fd);
					c->done = 1;
					done++;
				}
			}
		}
	}
	close(epfd);

	/* Every connection's micro-process ends; then check the server's books. */
	while (__atomic_load_n(&g_shared->stats.procs_now, __ATOMIC_ACQUIRE) != 0 &&
	       vkt_now_ms() - start < DEADLINE_MS)
		usleep(1000);
	stop_server(pid);

	ck_assert_uint_eq(g_shared->stats.procs_now, 0);
	ck_assert_uint_eq(g_shared->stats.accepted, CLIENTS);
	ck_assert_uint_eq(g_shared->stats.procs_total, CLIENTS);
	ck_assert_uint_eq(g_shared->stats.refused, 0);
	ck_assert_uint_eq(g_shared->stats.faults, 0);
	ck_assert_uint_eq(g_shared->errors, 0);
	ck_assert_uint_eq(g_shared->lines, (uint64_t)CLIENTS * LINES_PER_CLIENT);
	ck_assert_uint_eq(g_shared->stats.bytes_in, grand_total);
	ck_assert_uint_eq(g_shared->stats.bytes_out, grand_total);
	free(clients);
	munmap(g_shared, sizeof(*g_shared));
}
END_TEST

/*
 * A coroutine that accepts with vk_accept() on its listening descriptor
 * and runs one echo coroutine per connection (vk_socket_bind_fd). The
 * clients come one after another, so the acceptor waits between them.
 */
START_TEST(test_accept_in_coroutine)
{
	struct sockaddr_in addr;
	pid_t pid;

	map_shared();
	pid = start_server(&addr, 1);
	for (int i = 0; i < 20; i++) {
		char line[64], back[64];
		int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
		int len = snprintf(line, sizeof(line), "hello %d\n", i);
		size_t got = 0;

		ck_assert_int_ge(fd, 0);
		ck_assert_msg(connect(fd, (struct sockaddr *)&addr, sizeof(addr)) == 0,
			      "client %d: connect: %s (%llu accepted)", i, strerror(errno),
			      (unsigned long long)g_shared->accepted_by_coroutine);
		ck_assert_int_eq(write(fd, line, (size_t)len), len);
		ck_assert_int_eq(shutdown(fd, SHUT_WR), 0);
		for (;;) {
			struct pollfd pfd = {.fd = fd, .events = POLLIN};
			ssize_t n;

			ck_assert_msg(poll(&pfd, 1, 3000) == 1,
				      "client %d: no echo in 3 s (%llu accepted)", i,
				      (unsigned long long)g_shared->accepted_by_coroutine);
			n = read(fd, back + got, sizeof(back) - got);
			ck_assert_msg(n >= 0, "client %d: read: %s (%llu accepted)", i, strerror(errno),
				      (unsigned long long)g_shared->accepted_by_coroutine);
			if (n == 0)
				break;
			got += (size_t)n;
		}
		ck_assert_uint_eq(got, (size_t)len);
		ck_assert(memcmp(back, line, got) == 0);
		close(fd);
	}
	ck_assert_uint_eq(g_shared->accepted_by_coroutine, 20);
	ck_assert_uint_eq(g_shared->errors, 0);
	ck_assert_uint_eq(g_shared->stats.faults, 0);
	stop_server(pid);
	munmap(g_shared, sizeof(*g_shared));
}
END_TEST

/* The stream generator itself: the same bytes however it is cut. */
START_TEST(test_stream_chunking)
{
	static char whole[LINES_PER_CLIENT * MAX_LINE], pieces[LINES_PER_CLIENT * MAX_LINE];
	struct stream a, b;
	size_t total = stream_total(1), n = 0, lines = 0;
	uint64_t cut = 3;

	stream_init(&a, 1);
	stream_init(&b, 1);
	ck_assert_uint_eq(stream_next(&a, whole, sizeof(whole)), total);
	while (n < total) {
		size_t got = stream_next(&b, pieces + n, 1 + (size_t)(vkt_rand(&cut) % 17));

		ck_assert_uint_gt(got, 0);
		n += got;
	}
	ck_assert_uint_eq(stream_next(&b, pieces, 1), 0);
	ck_assert(memcmp(whole, pieces, total) == 0);
	for (size_t i = 0; i < total; i++)
		lines += whole[i] == '\n';
	ck_assert_uint_eq(lines, LINES_PER_CLIENT);
	ck_assert_int_eq(whole[MAX_LINE - 1], '\n'); /* client 1's first line is 64 KiB */
	ck_assert_uint_eq(stream_total(0) > 0, 1);
}
END_TEST

/* ---- last words: what a process wrote before it ended reaches its peer ---- */

static size_t g_last_words_total;

static unsigned char last_words_byte(size_t i)
{
	return (unsigned char)(i * 7 + i / 4099);
}

/* Writes g_last_words_total bytes and ends at once: no flush, no hup. */
static void write_then_end(struct vk_thread *that)
{
	struct {
		size_t sent;
		unsigned char chunk[4096];
	} *self;

	vk_begin();
	for (self->sent = 0; self->sent < g_last_words_total; self->sent += sizeof(self->chunk)) {
		for (size_t i = 0; i < sizeof(self->chunk); i++)
			self->chunk[i] = last_words_byte(self->sent + i);
		vk_write((const char *)self->chunk, sizeof(self->chunk));
	}
	vk_end();
}

/* A socketpair whose writing end (p[0]) backs up after a few KiB. */
static void small_socketpair(int p[2])
{
	int small = 4096;

	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, p), 0);
	ck_assert_int_eq(setsockopt(p[0], SOL_SOCKET, SO_SNDBUF, &small, sizeof(small)), 0);
	ck_assert_int_eq(setsockopt(p[1], SOL_SOCKET, SO_RCVBUF, &small, sizeof(small)), 0);
}

/* Read what is there, checking each byte; 1 at the end of the stream. */
static int read_checked(int fd, size_t *got)
{
	unsigned char buf[8192];
	ssize_t n = read(fd, buf, sizeof(buf));

	if (n == 0)
		return 1;
	if (n < 0) {
		ck_assert_msg(errno == EAGAIN, "read: %s", strerror(errno));
		return 0;
	}
	for (ssize_t i = 0; i < n; i++)
		vkt_eq(buf[i], last_words_byte(*got + (size_t)i));
	*got += (size_t)n;
	return 0;
}

/* The main coroutine returns with 16 KiB still queued: all of it arrives. */
START_TEST(test_last_words_reach_a_slow_reader)
{
	struct vkt_kern k = vkt_kern_new();
	struct vk_proc_config config = vkt_config(64 * 1024, 1);
	size_t got = 0;
	int p[2], eof = 0;

	g_last_words_total = 512 * 1024;
	small_socketpair(p);
	ck_assert_ptr_nonnull(vk_kern_spawn(k.kern, &config, write_then_end, NULL, p[0]));
	/* Bounded: each round runs the loop once and reads at most 8 KiB. */
	for (long round = 0; round < 10000000 && !eof; round++) {
		ev_run(k.loop, EVRUN_NOWAIT);
		eof = read_checked(p[1], &got);
	}
	ck_assert_msg(eof, "no end of stream after %zu bytes", got);
	ck_assert_uint_eq(got, g_last_words_total);
	ck_assert_uint_eq(vk_kern_stats(k.kern)->procs_now, 0);
	close(p[1]);
	vkt_kern_free(&k);
}
END_TEST

/* A peer that never reads holds an ended process for 5 s, not for ever. */
START_TEST(test_last_words_give_up)
{
	struct vkt_kern k = vkt_kern_new();
	struct vk_proc_config config = vkt_config(64 * 1024, 1);
	size_t got = 0;
	double start;
	int p[2], eof = 0;

	g_last_words_total = 16 * 1024; /* fits the ring, not the socket */
	small_socketpair(p);
	ck_assert_ptr_nonnull(vk_kern_spawn(k.kern, &config, write_then_end, NULL, p[0]));
	start = vkt_now_ms();
	vk_kern_run(k.kern);
	ck_assert_uint_eq(vk_kern_stats(k.kern)->procs_now, 0);
	ck_assert_msg(vkt_now_ms() - start >= 4900, "ended after %.0f ms", vkt_now_ms() - start);
	ck_assert_msg(vkt_now_ms() - start < 8000, "ended after %.0f ms", vkt_now_ms() - start);
	while (!eof)
		eof = read_checked(p[1], &got);
	/* What the socket took came through; the rest was given up. */
	ck_assert_uint_lt(got, g_last_words_total);
	close(p[1]);
	vkt_kern_free(&k);
}
END_TEST

static Suite *echo_suite(void)
{
	Suite *s = suite_create("vk_echo");
	TCase *tc = tcase_create("echo");

	tcase_set_timeout(tc, 90);
	tcase_add_test(tc, test_stream_chunking);
	tcase_add_test(tc, test_echo_1000_clients);
	tcase_add_test(tc, test_accept_in_coroutine);
	tcase_add_test(tc, test_last_words_reach_a_slow_reader);
	tcase_add_test(tc, test_last_words_give_up);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return check_run(echo_suite());
}
