/*
 * vk_forward: a TCP proxy made of vk_connect() and vk_forward(), between
 * clients in the test process and upstreams that are micro-processes of
 * the same kernel, which runs in a forked child. The first byte a client
 * sends picks what its upstream does:
 *	'E'  echo every byte until end of stream, then end its own side
 *	'H'  send "hello", end its side at once, then count what it reads
 *	     until the client ends (into shared memory)
 *	'T'  trickle: one byte every 100 ms, 10 of them, then end
 *	'Q'  quiet: read until the end, send nothing
 *	'R'  reset: close at once with SO_LINGER 0
 *	'S'  stream: SLOW_TOTAL bytes of a known pattern, as fast as they go
 *
 * Each test runs on both paths of vk_forward(): through pipes with
 * splice(2), and through the rings (the kernel's pipe budget at 0).
 */
#include "vk_check.h"
#include "vk_poll.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#define PROXY_HEAP (128 * 1024)
#define UPSTREAM_HEAP (64 * 1024)
/* The idle timeout of the tests of it. */
#define IDLE_MS 300
/*
 * The others': a starved test process must not time a pair out. With
 * 300 ms, a 500 ms stall in the middle of test_forward_echo, of the proxy
 * (SIGSTOP) or of the client (a sleep), ended the pair every time: the
 * client's send or recv got -1 (a reset) or the echo came back short. A
 * loaded machine once failed it so ("recv -1").
 */
#define BUSY_IDLE_MS 10000

struct shared {
	uint64_t counted;  /* bytes an 'H' upstream read after its hello */
	uint64_t forwards; /* proxy sessions that ended without an error */
	uint64_t timeouts; /* ... that ended by the idle timeout */
	uint64_t errors;   /* ... that ended by another error */
	uint64_t streamed; /* bytes an 'S' upstream has sent */
	uint64_t up_rings; /* forwards after which the upstream's receive ring was allocated */
	char upstream[64];
};

/* 0: the kernel's default pipe budget (splice); 1: none (the rings). */
static int g_rings;

#define SLOW_TOTAL (32 * 1024 * 1024)
#define SLOW_BUFFER (64 * 1024)

static char pattern_at(uint64_t at)
{
	return (char)(at % 251);
}

static struct shared *g_shared;

/* Bytes the proxy sends its client before the forward (held when it starts). */
static size_t g_banner;
#define BANNER_RING (256 * 1024)

/* ---- the upstream ---- */

static void upstream_main(struct vk_thread *that)
{
	struct {
		char mode;
		char buf[4096];
		ssize_t n;
		int i;
	} * self;

	vk_begin();
	vk_set_timeout(10000);
	vk_read(self->n, &self->mode, 1);
	if (self->n == 0)
		vk_return();
	/* No switch of our own: the coroutine is one (vk_state.h). */
	if (self->mode == 'E') {
		for (;;) {
			vk_read_some(self->n, self->buf, sizeof(self->buf));
			if (self->n == 0)
				break;
			vk_write(self->buf, (size_t)self->n);
		}
		vk_hup();
	} else if (self->mode == 'H') {
		vk_write_literal("hello");
		vk_hup();
		for (;;) {
			vk_read_some(self->n, self->buf, sizeof(self->buf));
			if (self->n == 0)
				break;
			g_shared->counted += (uint64_t)self->n;
		}
	} else if (self->mode == 'T') {
		for (self->i = 0; self->i < 10; self->i++) {
			vk_sleep(100);
			vk_write_literal("t");
			vk_flush();
		}
		vk_hup();
	} else if (self->mode == 'Q') {
		do
			vk_read_some(self->n, self->buf, sizeof(self->buf));
		while (self->n);
	} else if (self->mode == 'S') {
		int small = SLOW_BUFFER;

		setsockopt(that->socket->entry->fd, SOL_SOCKET, SO_SNDBUF, &small, sizeof(small));
		while (g_shared->streamed < SLOW_TOTAL) {
			for (self->i = 0; self->i < (int)sizeof(self->buf); self->i++)
				self->buf[self->i] =
				    pattern_at(g_shared->streamed + (uint64_t)self->i);
			vk_write(self->buf, sizeof(self->buf));
			g_shared->streamed += sizeof(self->buf);
		}
		vk_hup();
	} else if (self->mode == 'R') {
		struct linger lin = {.l_onoff = 1, .l_linger = 0};

		setsockopt(that->socket->entry->fd, SOL_SOCKET, SO_LINGER, &lin, sizeof(lin));
	}
	vk_finally();
	vk_clear_error();
	vk_end();
}

/* ---- the proxy ---- */

static void proxy_main(struct vk_thread *that)
{
	struct {
		struct vk_socket *up;
		ssize_t rc;
		char block[4096];
		size_t sent;
	} * self;

	vk_begin();
	vk_connect(self->up, g_shared->upstream);
	{
		int small = SLOW_BUFFER;

		/* Small receive buffers: what a stalled reader holds up is the proxy's. */
		setsockopt(that->socket->entry->fd, SOL_SOCKET, SO_RCVBUF, &small, sizeof(small));
		setsockopt(self->up->entry->fd, SOL_SOCKET, SO_RCVBUF, &small, sizeof(small));
	}
	if (g_banner) {
		int small = 4096;

		/* A small send buffer: most of the banner stays in the ring. */
		setsockopt(that->socket->entry->fd, SOL_SOCKET, SO_SNDBUF, &small, sizeof(small));
		memset(self->block, 'b', sizeof(self->block));
		for (self->sent = 0; self->sent < g_banner; self->sent += sizeof(self->block))
			vk_write(self->block, sizeof(self->block));
	}
	vk_try_forward(self->rc, that->socket, self->up);
	/* The upstream spoke only once joined: through a pipe, no byte of it came to its ring. */
	if (self->up->rx->written.reach)
		g_shared->up_rings++;
	if (self->rc == 0)
		g_shared->forwards++;
	else if (self->rc == -ETIMEDOUT)
		g_shared->timeouts++;
	else
		g_shared->errors++;
	vk_finally();
	vk_clear_error();
	vk_end();
}

static int listen_any(unsigned *port)
{
	struct sockaddr_in sin = {.sin_family = AF_INET};
	socklen_t len = sizeof(sin);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

	ck_assert_int_ge(fd, 0);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ck_assert_int_eq(bind(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	ck_assert_int_eq(listen(fd, 128), 0);
	ck_assert_int_eq(getsockname(fd, (struct sockaddr *)&sin, &len), 0);
	*port = ntohs(sin.sin_port);
	return fd;
}

static pid_t g_server;
static unsigned g_proxy_port;
static uint32_t g_idle_ms = BUSY_IDLE_MS;

/* How the pair is timed: the coroutine's timeout, or the process's idle timeout. */
static int g_idle_by_process;

static void server_up(int isolation)
{
	unsigned up_port;
	int up_fd, proxy_fd;

	g_shared = mmap(NULL, sizeof(*g_shared), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS,
			-1, 0);
	ck_assert_ptr_ne(g_shared, MAP_FAILED);
	up_fd = listen_any(&up_port);
	proxy_fd = listen_any(&g_proxy_port);
	snprintf(g_shared->upstream, sizeof(g_shared->upstream), "127.0.0.1:%u", up_port);
	g_server = fork();
	ck_assert_int_ge(g_server, 0);
	if (g_server == 0) {
		struct ev_loop *loop;
		struct vk_kern *kern;
		struct vk_proc_config up = {.heap_size = UPSTREAM_HEAP, .isolation = isolation};
		struct vk_proc_config proxy = {.heap_size = PROXY_HEAP + 4 * BANNER_RING,
					       .isolation = isolation};

		if (g_banner)
			proxy.ring_size = BANNER_RING;
		if (g_idle_by_process)
			proxy.idle_timeout_ms = g_idle_ms;
		else
			proxy.timeout_ms = g_idle_ms;
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		/* As in a vkd worker: a write to a closed peer is an EPIPE, not a death. */
		signal(SIGPIPE, SIG_IGN);
		loop = ev_loop_new(EVFLAG_AUTO);
		kern = loop ? vk_kern_create(loop) : NULL;
		if (kern && g_rings)
			vk_kern_set_pipe_budget(kern, 0);
		if (!kern || !vk_listener_open(kern, up_fd, &up, upstream_main, NULL, 0) ||
		    !vk_listener_open(kern, proxy_fd, &proxy, proxy_main, NULL, 0))
			_exit(3);
		vk_kern_run(kern);
		_exit(4);
	}
	close(up_fd);
	close(proxy_fd);
}

static void server_down(void)
{
	int status;

	kill(g_server, SIGKILL);
	waitpid(g_server, &status, 0);
	munmap(g_shared, sizeof(*g_shared));
}

/* ---- the clients ---- */

static int client_connect(char mode)
{
	signal(SIGPIPE, SIG_IGN);
	struct sockaddr_in sin = {.sin_family = AF_INET};
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	ck_assert_int_ge(fd, 0);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	sin.sin_port = htons((uint16_t)g_proxy_port);
	ck_assert_int_eq(connect(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	ck_assert_int_eq(send(fd, &mode, 1, 0), 1);
	return fd;
}

/* Read until end of stream (or an error, or `ms`); the byte count, -1 on an error. */
static ssize_t read_all(int fd, char *buf, size_t size, int ms)
{
	size_t got = 0;
	double end = vkt_now_ms() + ms;

	for (;;) {
		struct pollfd p = {.fd = fd, .events = POLLIN};
		ssize_t n;
		int left = (int)(end - vkt_now_ms());

		if (left <= 0 || poll(&p, 1, left) <= 0)
			return -2;
		n = recv(fd, buf + (got < size ? got : size), got < size ? size - got : 0, 0);
		if (n < 0)
			return -1;
		if (n == 0)
			return (ssize_t)got;
		got += (size_t)n;
	}
}

/* One recv within 5 s: bytes, 0 at the end, -1 on an error or silence. */
static ssize_t read_all_some(int fd, char *buf, size_t size)
{
	struct pollfd p = {.fd = fd, .events = POLLIN};

	if (poll(&p, 1, 5000) != 1)
		return -1;
	return recv(fd, buf, size, 0);
}

/* Send `len` random bytes both ways through the proxy, with half-closes. */
START_TEST(test_forward_echo)
{
	size_t len = 3 * 1024 * 1024 + 17;
	char *out = malloc(len), *in = malloc(len + 1);
	uint64_t seed = 42;
	size_t sent = 0, got = 0;
	int fd, out_done = 0;

	g_rings = _i >> 1;
	server_up(_i & 1);
	vkt_fill(&seed, out, len);
	fd = client_connect('E');
	/* Both ways at once: the echo comes back while we still send. */
	while (!out_done || got < len + 1) {
		struct pollfd p = {.fd = fd, .events = POLLIN | (out_done ? 0 : POLLOUT)};
		ssize_t n;

		ck_assert_int_eq(poll(&p, 1, 5000), 1);
		if (p.revents & POLLOUT) {
			n = send(fd, out + sent, len - sent > 65536 ? 65536 : len - sent,
				 MSG_DONTWAIT);
			ck_assert_int_gt(n, 0);
			sent += (size_t)n;
			if (sent == len) {
				ck_assert_int_eq(shutdown(fd, SHUT_WR), 0);
				out_done = 1;
			}
		}
		if (p.revents & (POLLIN | POLLHUP)) {
			n = recv(fd, in + got, len + 1 - got, MSG_DONTWAIT);
			ck_assert_int_ge(n, 0);
			if (n == 0)
				break;
			got += (size_t)n;
		}
	}
	ck_assert_uint_eq(got, len);
	ck_assert_int_eq(memcmp(in, out, len), 0);
	close(fd);
	for (double end = vkt_now_ms() + 2000; !g_shared->forwards && vkt_now_ms() < end;)
		usleep(1000);
	ck_assert_uint_eq(g_shared->forwards, 1);
	ck_assert_uint_eq(g_shared->errors, 0);
	ck_assert_uint_eq(g_shared->up_rings, (uint64_t)g_rings);
	server_down();
	free(out);
	free(in);
	g_rings = 0;
}
END_TEST

/* The upstream ends its side first; the client's side still goes through. */
START_TEST(test_forward_upstream_half_close)
{
	char buf[64];
	ssize_t n;
	int fd;

	g_rings = _i;
	server_up(1);
	fd = client_connect('H');
	n = read_all(fd, buf, sizeof(buf), 3000);
	ck_assert_int_eq(n, 5);
	ck_assert_int_eq(memcmp(buf, "hello", 5), 0);
	/* Our side is still open through the proxy: 100 KiB more, then the end. */
	for (int i = 0; i < 100; i++) {
		char block[1024];

		memset(block, 'x', sizeof(block));
		ck_assert_int_eq(send(fd, block, sizeof(block), 0), (ssize_t)sizeof(block));
	}
	ck_assert_int_eq(shutdown(fd, SHUT_WR), 0);
	/* The forward may end before the upstream, in the same kernel, has read it all. */
	for (double end = vkt_now_ms() + 3000;
	     (!g_shared->forwards || g_shared->counted < 100 * 1024) && vkt_now_ms() < end;)
		usleep(1000);
	ck_assert_msg(g_shared->counted == 100 * 1024 && g_shared->forwards == 1,
		      "counted %llu, forwards %llu, timeouts %llu, errors %llu",
		      (unsigned long long)g_shared->counted, (unsigned long long)g_shared->forwards,
		      (unsigned long long)g_shared->timeouts, (unsigned long long)g_shared->errors);
	close(fd);
	server_down();
	g_rings = 0;
}
END_TEST

/*
 * One idle timeout for the pair: a trickle one way (a byte every 100 ms
 * for a second, the other way silent) outlives a 300 ms idle timeout;
 * two silent sides do not.
 */
START_TEST(test_forward_idle_pair)
{
	char buf[64];
	double start;
	ssize_t n;
	int fd;

	g_idle_by_process = _i & 1;
	g_rings = _i >> 1;
	g_idle_ms = IDLE_MS;
	server_up(1);
	fd = client_connect('T');
	n = read_all(fd, buf, sizeof(buf), 5000);
	ck_assert_int_eq(n, 10);
	ck_assert_uint_eq(g_shared->timeouts, 0);
	close(fd);

	fd = client_connect('Q');
	start = vkt_now_ms();
	n = read_all(fd, buf, sizeof(buf), 5000);
	ck_assert_int_eq(n, 0);
	ck_assert_msg(vkt_now_ms() - start >= IDLE_MS - 20 && vkt_now_ms() - start < 2000,
		      "closed after %.0f ms", vkt_now_ms() - start);
	for (double end = vkt_now_ms() + 2000; !g_shared->timeouts && vkt_now_ms() < end;)
		usleep(1000);
	ck_assert_uint_eq(g_shared->timeouts, 1);
	close(fd);
	server_down();
	g_idle_by_process = 0;
	g_rings = 0;
	g_idle_ms = BUSY_IDLE_MS;
}
END_TEST

/*
 * Bytes the proxy wrote before the forward wait to go out first; a client
 * that never reads them times the pair out as any idle pair does (the
 * wait for them once went on for ever: its timeout was not taken).
 */
START_TEST(test_forward_idle_held)
{
	int fd, small = 2048;

	g_idle_by_process = _i;
	g_banner = BANNER_RING / 2;
	g_idle_ms = IDLE_MS;
	server_up(1);
	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &small, sizeof(small)), 0);
	{
		struct sockaddr_in sin = {.sin_family = AF_INET};

		sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		sin.sin_port = htons((uint16_t)g_proxy_port);
		ck_assert_int_eq(connect(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
		ck_assert_int_eq(send(fd, "Q", 1, 0), 1);
	}
	for (double end = vkt_now_ms() + 5000;
	     !g_shared->timeouts && !g_shared->errors && vkt_now_ms() < end;)
		usleep(1000);
	ck_assert_uint_eq(g_shared->timeouts, 1);
	ck_assert_uint_eq(g_shared->errors, 0);
	close(fd);
	server_down();
	g_banner = 0;
	g_idle_by_process = 0;
	g_idle_ms = BUSY_IDLE_MS;
}
END_TEST

/* A reset upstream ends the forward with an error, and the client's connection. */
START_TEST(test_forward_reset)
{
	char buf[64];
	ssize_t n;
	int fd;

	g_rings = _i;
	server_up(1);
	fd = client_connect('R');
	n = read_all(fd, buf, sizeof(buf), 3000);
	ck_assert_int_le(n, 0);
	ck_assert_int_ne(n, -2);
	for (double end = vkt_now_ms() + 2000; !g_shared->errors && vkt_now_ms() < end;)
		usleep(1000);
	ck_assert_uint_eq(g_shared->errors, 1);
	close(fd);
	server_down();
	g_rings = 0;
}
END_TEST

/* utime + stime of a process, in milliseconds. */
static double cpu_ms(pid_t pid)
{
	char path[64], text[1024], *at;
	unsigned long user = 0, sys = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	f = fopen(path, "r");
	ck_assert_ptr_nonnull(f);
	ck_assert_ptr_nonnull(fgets(text, sizeof(text), f));
	fclose(f);
	at = strrchr(text, ')');
	ck_assert_ptr_nonnull(at);
	ck_assert_int_eq(
	    sscanf(at + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &user, &sys), 2);
	return (double)(user + sys) * 1000.0 / (double)sysconf(_SC_CLK_TCK);
}

/*
 * A reader that stalls: the upstream is held back (what is in flight is
 * bounded by the buffers, not by the proxy), the proxy waits without
 * spinning (a readable source with a full pipe once woke it for nothing),
 * and every byte arrives in order once the reader reads.
 */
START_TEST(test_forward_slow_reader)
{
	size_t got = 0, bad = SIZE_MAX;
	char *buf = malloc(SLOW_BUFFER);
	struct sockaddr_in sin = {.sin_family = AF_INET};
	int fd, small = SLOW_BUFFER;
	double cpu;

	g_rings = _i;
	server_up(1);
	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &small, sizeof(small)), 0);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	sin.sin_port = htons((uint16_t)g_proxy_port);
	ck_assert_int_eq(connect(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	ck_assert_int_eq(send(fd, "S", 1, 0), 1);
	ck_assert_int_eq(shutdown(fd, SHUT_WR), 0);
	usleep(300 * 1000);
	cpu = cpu_ms(g_server);
	usleep(1000 * 1000);
	cpu = cpu_ms(g_server) - cpu;
	ck_assert_msg(g_shared->streamed > 0 && g_shared->streamed < SLOW_TOTAL / 2,
		      "%llu bytes sent to a stalled reader",
		      (unsigned long long)g_shared->streamed);
	ck_assert_msg(cpu < 100, "the proxy used %.0f ms of CPU in 1 s of waiting", cpu);
	for (;;) {
		ssize_t n = read_all_some(fd, buf, SLOW_BUFFER);

		ck_assert_int_ge(n, 0);
		if (n == 0)
			break;
		for (ssize_t i = 0; i < n && bad == SIZE_MAX; i++)
			if (buf[i] != pattern_at(got + (size_t)i))
				bad = got + (size_t)i;
		got += (size_t)n;
	}
	ck_assert_uint_eq(bad, SIZE_MAX);
	ck_assert_uint_eq(got, SLOW_TOTAL);
	for (double end = vkt_now_ms() + 2000; !g_shared->forwards && vkt_now_ms() < end;)
		usleep(1000);
	ck_assert_uint_eq(g_shared->forwards, 1);
	ck_assert_uint_eq(g_shared->up_rings, (uint64_t)g_rings);
	close(fd);
	server_down();
	free(buf);
	g_rings = 0;
}
END_TEST

static Suite *forward_suite(void)
{
	Suite *s = suite_create("vk_forward");
	TCase *tc = tcase_create("forward");

	tcase_set_timeout(tc, 30);
	tcase_add_loop_test(tc, test_forward_echo, 0, 4);
	tcase_add_loop_test(tc, test_forward_upstream_half_close, 0, 2);
	tcase_add_loop_test(tc, test_forward_idle_pair, 0, 4);
	tcase_add_loop_test(tc, test_forward_idle_held, 0, 2);
	tcase_add_loop_test(tc, test_forward_reset, 0, 2);
	tcase_add_loop_test(tc, test_forward_slow_reader, 0, 2);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return check_run(forward_suite());
}
