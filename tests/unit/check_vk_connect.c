/*
 * vk_connect: outbound connections from micro-processes, to a server that
 * is itself a micro-process of the same kernel (an acceptor coroutine on a
 * loopback listening socket, echoing lines). Also the try forms of the
 * blocking operations, which hand errors back instead of raising them.
 */
#include "vk_check.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "vk_resolve.h"

#define HEAP (64 * 1024)

/* ---- the server: an acceptor and an echo coroutine per connection ---- */

struct served {
	int accepted;
	int ended; /* connections whose peer closed */
};

static struct served g_served;

static void echo_conn(struct vk_thread *that)
{
	struct {
		struct vk_socket *s;
		char line[256];
		ssize_t n;
	} * self;

	vk_begin();
	self->s = vk_arg();
	for (;;) {
		vk_socket_readline(self->s, self->n, self->line, sizeof(self->line));
		if (self->n == 0)
			break;
		vk_socket_write(self->s, self->line, (size_t)self->n);
	}
	vk_finally();
	g_served.ended++;
	vk_socket_close(that, self->s);
	vk_clear_error();
	vk_end();
}

static void acceptor(struct vk_thread *that)
{
	struct {
		ssize_t fd;
		struct vk_socket *s;
	} * self;

	vk_begin();
	vk_set_timeout(0);
	for (;;) {
		vk_accept(self->fd);
		self->s = vk_socket_create(that, 1024);
		if (!self->s || vk_socket_bind_fd(that, self->s, (int)self->fd) < 0)
			vk_raise(ENOMEM);
		g_served.accepted++;
		vk_spawn_detached(echo_conn, self->s);
	}
	vk_end();
}

static int listen_tcp(int family, int backlog, char *text, size_t size)
{
	struct sockaddr_storage ss;
	socklen_t len =
	    family == AF_INET ? sizeof(struct sockaddr_in) : sizeof(struct sockaddr_in6);
	int fd = socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return -1;
	memset(&ss, 0, sizeof(ss));
	ss.ss_family = (sa_family_t)family;
	if (family == AF_INET)
		((struct sockaddr_in *)&ss)->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	else
		((struct sockaddr_in6 *)&ss)->sin6_addr = in6addr_loopback;
	if (bind(fd, (struct sockaddr *)&ss, len) < 0 || listen(fd, backlog) < 0 ||
	    getsockname(fd, (struct sockaddr *)&ss, &len) < 0) {
		close(fd);
		return -1;
	}
	if (family == AF_INET)
		snprintf(text, size, "127.0.0.1:%u", ntohs(((struct sockaddr_in *)&ss)->sin_port));
	else
		snprintf(text, size, "[::1]:%u", ntohs(((struct sockaddr_in6 *)&ss)->sin6_port));
	return fd;
}

/* A port nobody listens on (bound, then closed). */
static void closed_port(char *text, size_t size)
{
	int fd = listen_tcp(AF_INET, 1, text, size);

	ck_assert_int_ge(fd, 0);
	close(fd);
}

/* ---- running ---- */

static int g_done;

static void tick(struct ev_loop *loop, struct ev_timer *timer, int revents)
{
	(void)loop;
	(void)timer;
	(void)revents;
}

/*
 * Run the loop until g_done or `ms` passed; fails on the deadline. A tick
 * every 10 ms: the flag is set in a dispatch, after which the loop would
 * otherwise wait for the next event of a server that never stops.
 */
static void run_until_done(struct vkt_kern *k, double ms)
{
	double end = vkt_now_ms() + ms;
	struct ev_timer timer;

	ev_timer_init(&timer, tick, 0.01, 0.01);
	ev_timer_start(k->loop, &timer);
	while (!g_done) {
		ck_assert_msg(vkt_now_ms() < end, "not done within %.0f ms", ms);
		ev_run(k->loop, EVRUN_ONCE);
	}
	ev_timer_stop(k->loop, &timer);
}

static struct vk_stats stats_of(struct vkt_kern *k)
{
	return *vk_kern_stats(k->kern);
}

/* ---- a round trip ---- */

struct job {
	char addr[300];
	char other[300]; /* a second address, where a test needs one */
	int rc;		 /* what the client saw */
	int rc2;
	int error; /* vk_error() in the client's finally */
	double ms; /* how long the connect took */
	int count;
};

static struct job g_job;

static void round_trip(struct vk_thread *that)
{
	struct {
		struct vk_socket *up;
		char line[64];
		ssize_t n;
	} * self;

	vk_begin();
	vk_connect(self->up, g_job.addr);
	vk_socket_write(self->up, "hello\n", 6);
	vk_socket_readline(self->up, self->n, self->line, sizeof(self->line));
	g_job.rc = self->n == 6 && memcmp(self->line, "hello\n", 6) == 0;
	ck_assert_int_eq(vk_socket_close(that, self->up), 0);
	vk_finally();
	g_job.error = vk_error();
	vk_clear_error();
	g_done = 1;
	vk_end();
}

static void serve_and_run(int family, int isolation, vk_func client)
{
	struct vkt_kern k = vkt_kern_new();
	int fd = listen_tcp(family, 64, g_job.addr, sizeof(g_job.addr));
	struct vk_stats stats;

	ck_assert_int_ge(fd, 0);
	vkt_spawn(&k, HEAP, isolation, client, NULL);
	ck_assert_ptr_nonnull(
	    vk_kern_spawn(k.kern, &(struct vk_proc_config){.heap_size = HEAP}, acceptor, NULL, fd));
	run_until_done(&k, 5000);
	stats = stats_of(&k);
	ck_assert_uint_eq(stats.connects, 1);
	ck_assert_uint_eq(stats.connect_failures, 0);
	vkt_kern_free(&k);
}

START_TEST(test_connect_ipv4)
{
	memset(&g_job, 0, sizeof(g_job));
	g_done = 0;
	serve_and_run(AF_INET, _i, round_trip);
	ck_assert_int_eq(g_job.error, 0);
	ck_assert_int_eq(g_job.rc, 1);
}
END_TEST

START_TEST(test_connect_ipv6)
{
	int probe = socket(AF_INET6, SOCK_STREAM, 0);
	struct sockaddr_in6 sin6 = {.sin6_family = AF_INET6, .sin6_addr = IN6ADDR_LOOPBACK_INIT};

	if (probe < 0 || bind(probe, (struct sockaddr *)&sin6, sizeof(sin6)) < 0) {
		if (probe >= 0)
			close(probe);
		return; /* no IPv6 loopback here */
	}
	close(probe);
	memset(&g_job, 0, sizeof(g_job));
	g_done = 0;
	serve_and_run(AF_INET6, 1, round_trip);
	ck_assert_int_eq(g_job.error, 0);
	ck_assert_int_eq(g_job.rc, 1);
}
END_TEST

START_TEST(test_connect_unix)
{
	struct vkt_kern k = vkt_kern_new();
	struct sockaddr_un sun = {.sun_family = AF_UNIX};
	char dir[] = "/tmp/vkt-connect.XXXXXX";
	int fd;

	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s/s.sock", dir);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(bind(fd, (struct sockaddr *)&sun, sizeof(sun)), 0);
	ck_assert_int_eq(listen(fd, 16), 0);
	memset(&g_job, 0, sizeof(g_job));
	g_done = 0;
	snprintf(g_job.addr, sizeof(g_job.addr), "unix:%s", sun.sun_path);
	vkt_spawn(&k, HEAP, 1, round_trip, NULL);
	ck_assert_ptr_nonnull(
	    vk_kern_spawn(k.kern, &(struct vk_proc_config){.heap_size = HEAP}, acceptor, NULL, fd));
	run_until_done(&k, 5000);
	ck_assert_int_eq(g_job.error, 0);
	ck_assert_int_eq(g_job.rc, 1);
	ck_assert_uint_eq(stats_of(&k).connects, 1);
	vkt_kern_free(&k);
	unlink(sun.sun_path);
	rmdir(dir);
}
END_TEST

/* ---- failures: raised, or handed back by the try form ---- */

static void refused_both_ways(struct vk_thread *that)
{
	struct {
		struct vk_socket *up;
		ssize_t rc;
	} * self;

	vk_begin();
	vk_try_connect(self->rc, self->up, g_job.addr);
	g_job.rc = (int)self->rc;
	/* The coroutine goes on after a try; the same socket connects again. */
	vk_try_connect(self->rc, self->up, g_job.other);
	g_job.rc2 = (int)self->rc;
	if (self->rc == 0)
		vk_socket_close(that, self->up);
	vk_connect(self->up, g_job.addr);
	g_job.count = 1; /* not reached: the connect raises */
	vk_finally();
	g_job.error = vk_error();
	vk_clear_error();
	g_done = 1;
	vk_end();
}

START_TEST(test_connect_refused)
{
	struct vkt_kern k = vkt_kern_new();
	struct vk_stats stats;
	int fd;

	memset(&g_job, 0, sizeof(g_job));
	fd = listen_tcp(AF_INET, 64, g_job.other, sizeof(g_job.other));
	closed_port(g_job.addr, sizeof(g_job.addr));
	g_done = 0;
	vkt_spawn(&k, HEAP, 1, refused_both_ways, NULL);
	ck_assert_ptr_nonnull(
	    vk_kern_spawn(k.kern, &(struct vk_proc_config){.heap_size = HEAP}, acceptor, NULL, fd));
	run_until_done(&k, 5000);
	ck_assert_int_eq(g_job.rc, -ECONNREFUSED);
	ck_assert_int_eq(g_job.rc2, 0);
	ck_assert_int_eq(g_job.error, ECONNREFUSED);
	ck_assert_int_eq(g_job.count, 0);
	stats = stats_of(&k);
	ck_assert_uint_eq(stats.connects, 1);
	ck_assert_uint_eq(stats.connect_failures, 2);
	ck_assert_uint_eq(stats.outbound_now, 0);
	vkt_kern_free(&k);
}
END_TEST

static void connect_one_try(struct vk_thread *that)
{
	struct {
		struct vk_socket *up;
		ssize_t rc;
		double start;
	} * self;

	vk_begin();
	vk_set_timeout(0);
	vk_set_connect_timeout(g_job.count);
	self->start = vk_now(that);
	vk_try_connect(self->rc, self->up, g_job.addr);
	g_job.ms = (vk_now(that) - self->start) * 1000.0;
	g_job.rc = (int)self->rc;
	g_done = 1;
	vk_end();
}

static void run_one_try(const char *addr, int timeout_ms)
{
	struct vkt_kern k = vkt_kern_new();

	memset(&g_job, 0, sizeof(g_job));
	snprintf(g_job.addr, sizeof(g_job.addr), "%s", addr);
	g_job.count = timeout_ms;
	g_done = 0;
	vkt_spawn(&k, HEAP, 1, connect_one_try, NULL);
	run_until_done(&k, 5000);
	ck_assert_uint_eq(stats_of(&k).outbound_now, 0);
	vkt_kern_free(&k);
}

START_TEST(test_connect_errors)
{
	run_one_try("unix:/nonexistent/vkt.sock", 0);
	ck_assert_int_eq(g_job.rc, -ENOENT);
	run_one_try("no address at all", 0);
	ck_assert_int_eq(g_job.rc, -EINVAL);
	run_one_try("*:80", 0);
	ck_assert_int_eq(g_job.rc, -EINVAL);
	/* Linux refuses a TCP connect to a broadcast address at once: no packet leaves. */
	run_one_try("255.255.255.255:80", 0);
	ck_assert_int_eq(g_job.rc, -ENETUNREACH);
}
END_TEST

/*
 * A listener whose backlog is full and that never accepts: the handshake
 * never completes, and the connect timeout (not the coroutine's, which is
 * off) ends the wait, closing the half-open descriptor.
 */
START_TEST(test_connect_timeout)
{
	char addr[128];
	int fd = listen_tcp(AF_INET, 0, addr, sizeof(addr));
	int filler[4];

	ck_assert_int_ge(fd, 0);
	for (int i = 0; i < 4; i++) {
		struct sockaddr_in sin = {.sin_family = AF_INET};

		sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		sin.sin_port = htons((uint16_t)atoi(strrchr(addr, ':') + 1));
		filler[i] = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
		connect(filler[i], (struct sockaddr *)&sin, sizeof(sin));
	}
	run_one_try(addr, 300);
	ck_assert_int_eq(g_job.rc, -ETIMEDOUT);
	ck_assert_msg(g_job.ms >= 290 && g_job.ms < 2000, "timed out after %.0f ms", g_job.ms);
	/*
	 * No connect timeout, but the process's idle timeout ends the wait:
	 * the connect still closes its half-open descriptor and says so.
	 */
	{
		struct vkt_kern k = vkt_kern_new();
		struct vk_proc_config config = vkt_config(HEAP, 1);

		memset(&g_job, 0, sizeof(g_job));
		snprintf(g_job.addr, sizeof(g_job.addr), "%s", addr);
		config.idle_timeout_ms = 200;
		g_done = 0;
		ck_assert_ptr_nonnull(vk_kern_spawn(k.kern, &config, connect_one_try, NULL, -1));
		run_until_done(&k, 5000);
		ck_assert_int_eq(g_job.rc, -ETIMEDOUT);
		ck_assert_uint_eq(stats_of(&k).outbound_now, 0);
		ck_assert_uint_eq(stats_of(&k).connect_failures, 1);
		vkt_kern_free(&k);
	}
	for (int i = 0; i < 4; i++)
		close(filler[i]);
	close(fd);
}
END_TEST

/* ---- several per process, all closed when it ends, also by a fault ---- */

#define MANY 5

static int *volatile g_null;

/* A real fault, out of the sanitizers' sight (as check_vk_fault.c does). */
__attribute__((noinline, no_sanitize("address", "undefined"))) static void fault_segv(void)
{
	*g_null = 1;
}

static void many_then_end(struct vk_thread *that)
{
	struct {
		struct vk_socket *up[MANY];
		int i;
		ssize_t n;
		char line[8];
	} * self;

	vk_begin();
	for (self->i = 0; self->i < MANY; self->i++) {
		vk_connect(self->up[self->i], g_job.addr);
		vk_socket_write(self->up[self->i], "x\n", 2);
		vk_socket_readline(self->up[self->i], self->n, self->line, sizeof(self->line));
	}
	g_job.count = (int)vk_task_proc(that)->sched->stats->outbound_now;
	if (g_job.rc)
		fault_segv(); /* the kernel ends the process */
	vk_finally();
	g_job.error = vk_error();
	vk_end();
}

START_TEST(test_connect_closed_at_end)
{
	struct vkt_kern k = vkt_kern_new();
	int fd;
	struct vk_stats stats;

	memset(&g_job, 0, sizeof(g_job));
	memset(&g_served, 0, sizeof(g_served));
	g_job.rc = _i; /* 1: end by a fault */
	fd = listen_tcp(AF_INET, 64, g_job.addr, sizeof(g_job.addr));
	/* Each outbound socket has two 16 KiB rings. */
	vkt_spawn(&k, 4 * HEAP, 1, many_then_end, NULL);
	ck_assert_ptr_nonnull(
	    vk_kern_spawn(k.kern, &(struct vk_proc_config){.heap_size = HEAP}, acceptor, NULL, fd));
	g_done = 0;
	{
		struct ev_timer timer;

		ev_timer_init(&timer, tick, 0.01, 0.01);
		ev_timer_start(k.loop, &timer);
		for (double end = vkt_now_ms() + 5000; g_served.ended < MANY && vkt_now_ms() < end;)
			ev_run(k.loop, EVRUN_ONCE);
		ev_timer_stop(k.loop, &timer);
	}
	ck_assert_int_eq(g_job.error, 0);
	ck_assert_int_eq(g_job.count, MANY);
	ck_assert_int_eq(g_served.accepted, MANY);
	ck_assert_int_eq(g_served.ended, MANY);
	stats = stats_of(&k);
	ck_assert_uint_eq(stats.outbound_now, 0);
	ck_assert_uint_eq(stats.connects, MANY);
	ck_assert_uint_eq(stats.faults, (uint64_t)_i);
	vkt_kern_free(&k);
}
END_TEST

/* ---- a socket per request, freed: the heap does not run out ---- */

#define ROUNDS 50

static void connect_and_destroy(struct vk_thread *that)
{
	struct {
		struct vk_socket *up;
		int i;
		ssize_t n;
		char line[8];
	} * self;

	vk_begin();
	for (self->i = 0; self->i < ROUNDS; self->i++) {
		self->up = NULL;
		vk_connect(self->up, g_job.addr);
		vk_socket_write(self->up, "x\n", 2);
		vk_socket_readline(self->up, self->n, self->line, sizeof(self->line));
		g_job.rc = vk_socket_destroy(that, self->up);
		if (g_job.rc < 0)
			break;
		g_job.count++;
	}
	vk_finally();
	g_job.error = vk_error();
	vk_clear_error();
	g_done = 1;
	vk_end();
}

/* Each socket's two 16 KiB rings: 50 of them would need 1.6 MiB of a 128 KiB heap. */
START_TEST(test_connect_destroy)
{
	struct vkt_kern k = vkt_kern_new();
	int fd;

	memset(&g_job, 0, sizeof(g_job));
	memset(&g_served, 0, sizeof(g_served));
	fd = listen_tcp(AF_INET, 64, g_job.addr, sizeof(g_job.addr));
	g_done = 0;
	vkt_spawn(&k, 2 * HEAP, 1, connect_and_destroy, NULL);
	ck_assert_ptr_nonnull(
	    vk_kern_spawn(k.kern, &(struct vk_proc_config){.heap_size = 16 * HEAP}, acceptor, NULL,
			  fd)); /* the server keeps every connection's socket */
	run_until_done(&k, 10000);
	ck_assert_int_eq(g_job.error, 0);
	ck_assert_int_eq(g_job.rc, 0);
	ck_assert_int_eq(g_job.count, ROUNDS);
	ck_assert_uint_eq(stats_of(&k).outbound_now, 0);
	vkt_kern_free(&k);
}
END_TEST

/* ---- names from a hosts file (no DNS: resolv.conf names no server) ---- */

START_TEST(test_connect_hosts_file)
{
	char dir[] = "/tmp/vkt-hosts.XXXXXX";
	char hosts[256], resolv[256], name_addr[160];
	struct vk_resolve_config config = {0};
	struct vkt_kern k;
	FILE *f;
	int fd;

	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(hosts, sizeof(hosts), "%s/hosts", dir);
	snprintf(resolv, sizeof(resolv), "%s/resolv.conf", dir);
	f = fopen(hosts, "w");
	fprintf(f, "127.0.0.1 upstream.vkt.test\n");
	fclose(f);
	/* A server that is not there: a lookup past the file fails here, quickly. */
	f = fopen(resolv, "w");
	fprintf(f, "nameserver 127.0.0.1\n");
	fclose(f);
	config.hosts_file = hosts;
	config.resolv_conf = resolv;
	config.timeout_ms = 1000;

	k = vkt_kern_new();
	vk_kern_set_resolve_config(k.kern, &config);
	memset(&g_job, 0, sizeof(g_job));
	fd = listen_tcp(AF_INET, 64, g_job.addr, sizeof(g_job.addr));
	snprintf(name_addr, sizeof(name_addr), "Upstream.vkt.test%s", strrchr(g_job.addr, ':'));
	snprintf(g_job.addr, sizeof(g_job.addr), "%s", name_addr);
	g_done = 0;
	vkt_spawn(&k, HEAP, 1, round_trip, NULL);
	ck_assert_ptr_nonnull(
	    vk_kern_spawn(k.kern, &(struct vk_proc_config){.heap_size = HEAP}, acceptor, NULL, fd));
	run_until_done(&k, 5000);
	ck_assert_int_eq(g_job.error, 0);
	ck_assert_int_eq(g_job.rc, 1);
	ck_assert_uint_eq(stats_of(&k).resolves, 1);
	vkt_kern_free(&k);

	/* Not in the file, and no server: an error, soon. */
	k = vkt_kern_new();
	vk_kern_set_resolve_config(k.kern, &config);
	memset(&g_job, 0, sizeof(g_job));
	snprintf(g_job.addr, sizeof(g_job.addr), "nowhere.vkt.test:80");
	g_job.count = 3000;
	g_done = 0;
	vkt_spawn(&k, HEAP, 1, connect_one_try, NULL);
	run_until_done(&k, 5000);
	ck_assert_msg(g_job.rc == -EHOSTUNREACH || g_job.rc == -ENXIO || g_job.rc == -ETIMEDOUT,
		      "rc %d", g_job.rc);
	ck_assert_uint_eq(stats_of(&k).resolve_failures, 1);
	vkt_kern_free(&k);
	unlink(hosts);
	unlink(resolv);
	rmdir(dir);
}
END_TEST

/* ---- the try forms of other operations ---- */

static void failing_child(struct vk_thread *that)
{
	struct {
		int unused;
	} * self;

	vk_begin();
	vk_raise(EPIPE);
	vk_end();
}

static void tries(struct vk_thread *that)
{
	struct {
		struct vk_socket *a, *b;
		struct vk_thread *child;
		char buf[8];
		ssize_t rc;
		int rci;
	} * self;

	vk_begin();
	vk_try_call(self->rci, failing_child, NULL);
	g_job.rc = self->rci;
	vk_spawn(self->child, failing_child, NULL);
	vk_try_join(self->rci, self->child);
	g_job.rc2 = self->rci;
	/* A read that times out hands ETIMEDOUT back; the coroutine goes on. */
	if (vk_socket_pipe(that, &self->a, &self->b, 64) < 0)
		vk_raise(ENOMEM);
	vk_set_timeout(50);
	vk_socket_try_read(self->a, self->rc, self->buf, 1);
	g_job.count = (int)self->rc;
	vk_socket_try_write(self->b, self->rc, "z", 1);
	vk_socket_try_read(self->a, self->rc, self->buf, 1);
	g_job.ms = self->rc == 1 && self->buf[0] == 'z';
	vk_try_receive(self->rci, self->rc);
	g_job.error = self->rci;
	g_done = 1;
	vk_end();
}

START_TEST(test_try_forms)
{
	struct vkt_kern k = vkt_kern_new();

	memset(&g_job, 0, sizeof(g_job));
	g_done = 0;
	vkt_spawn(&k, HEAP, 1, tries, NULL);
	run_until_done(&k, 5000);
	ck_assert_int_eq(g_job.rc, -EPIPE);
	ck_assert_int_eq(g_job.rc2, -EPIPE);
	ck_assert_int_eq(g_job.count, -ETIMEDOUT);
	ck_assert(g_job.ms == 1);
	ck_assert_int_eq(g_job.error, -ETIMEDOUT);
	vkt_kern_free(&k);
}
END_TEST

/* ---- the pool of idle connections ---- */

/*
 * Echo one line back, then: close (`g_close_after` set) or keep echoing.
 * A second server kind, for an upstream that ends idle connections.
 */
static int g_close_after;

struct pool_job {
	int keep;     /* vk_socket_keep()'s result */
	int ok;	      /* the round trip's answer was right */
	int error;    /* vk_error() at the end */
	unsigned max; /* for keep */
	unsigned idle_ms;
	int unread; /* leave the answer unread before keeping */
};

static void pooled_round_trip(struct vk_thread *that)
{
	struct {
		struct pool_job *job;
		struct vk_socket *up;
		char line[64];
		ssize_t n;
	} * self;

	vk_begin();
	self->job = vk_arg();
	vk_connect(self->up, g_job.addr);
	vk_socket_write(self->up, "ping\n", 5);
	if (self->job->unread) {
		vk_socket_await(self->up, self->n);
	} else {
		vk_socket_readline(self->up, self->n, self->line, sizeof(self->line));
		self->job->ok = self->n == 5 && memcmp(self->line, "ping\n", 5) == 0;
	}
	self->job->keep = vk_socket_keep(that, self->up, self->job->max, self->job->idle_ms);
	vk_finally();
	self->job->error = vk_error();
	vk_clear_error();
	g_done++;
	vk_end();
}

static void echo_then_close(struct vk_thread *that)
{
	struct {
		struct vk_socket *s;
		char line[256];
		ssize_t n;
	} * self;

	vk_begin();
	self->s = vk_arg();
	for (;;) {
		vk_socket_readline(self->s, self->n, self->line, sizeof(self->line));
		if (self->n == 0)
			break;
		vk_socket_write(self->s, self->line, (size_t)self->n);
		if (g_close_after) {
			vk_socket_flush(self->s);
			break;
		}
	}
	vk_finally();
	g_served.ended++;
	vk_socket_close(that, self->s);
	vk_clear_error();
	vk_end();
}

static void pool_acceptor(struct vk_thread *that)
{
	struct {
		ssize_t fd;
		struct vk_socket *s;
	} * self;

	vk_begin();
	vk_set_timeout(0);
	for (;;) {
		vk_accept(self->fd);
		self->s = vk_socket_create(that, 1024);
		if (!self->s || vk_socket_bind_fd(that, self->s, (int)self->fd) < 0)
			vk_raise(ENOMEM);
		g_served.accepted++;
		vk_spawn_detached(echo_then_close, self->s);
	}
	vk_end();
}

static struct vkt_kern pool_kern(void)
{
	struct vkt_kern k = vkt_kern_new();
	int fd;

	memset(&g_job, 0, sizeof(g_job));
	memset(&g_served, 0, sizeof(g_served));
	g_close_after = 0;
	g_done = 0;
	fd = listen_tcp(AF_INET, 64, g_job.addr, sizeof(g_job.addr));
	ck_assert_int_ge(fd, 0);
	ck_assert_ptr_nonnull(vk_kern_spawn(k.kern, &(struct vk_proc_config){.heap_size = HEAP},
					    pool_acceptor, NULL, fd));
	return k;
}

/* Run the processes of `jobs`, one after the other, each to its end. */
static void run_jobs(struct vkt_kern *k, struct pool_job *jobs, int count)
{
	int base = g_done;

	for (int i = 0; i < count; i++) {
		vkt_spawn(k, HEAP, 1, pooled_round_trip, &jobs[i]);
		while (g_done <= base + i) {
			struct ev_timer timer;

			ev_timer_init(&timer, tick, 0.01, 0.);
			ev_timer_start(k->loop, &timer);
			ev_run(k->loop, EVRUN_ONCE);
			ev_timer_stop(k->loop, &timer);
		}
	}
}

/* Spin the loop for `ms`. */
static void run_for(struct vkt_kern *k, double ms)
{
	struct ev_timer timer;
	double end = vkt_now_ms() + ms;

	ev_timer_init(&timer, tick, 0.01, 0.01);
	ev_timer_start(k->loop, &timer);
	while (vkt_now_ms() < end)
		ev_run(k->loop, EVRUN_ONCE);
	ev_timer_stop(k->loop, &timer);
}

/*
 * The pool has no idle connection and the echo server has seen the one it
 * had end: 1 once both hold.
 */
static int pool_emptied(struct vkt_kern *k)
{
	return stats_of(k).pooled_now == 0 && g_served.ended == 1;
}

/*
 * Spin the loop until `done`, for at most `ms`: 1 if it came. A deadline
 * rather than a fixed spin, so that a loaded machine that runs the loop
 * late does not fail the test (a fixed 300 ms did once).
 */
static int run_until(struct vkt_kern *k, int (*done)(struct vkt_kern *), double ms)
{
	double end = vkt_now_ms() + ms;

	while (!done(k)) {
		if (vkt_now_ms() >= end)
			return 0;
		run_for(k, 10);
	}
	return 1;
}

/* Given back by one process, taken by the next: one handshake for three. */
START_TEST(test_pool_reuse)
{
	struct vkt_kern k = pool_kern();
	struct pool_job jobs[3] = {
	    {.max = 4, .idle_ms = 5000}, {.max = 4, .idle_ms = 5000}, {.max = 4, .idle_ms = 5000}};
	struct vk_stats stats;

	run_jobs(&k, jobs, 3);
	for (int i = 0; i < 3; i++) {
		ck_assert_int_eq(jobs[i].error, 0);
		ck_assert_int_eq(jobs[i].ok, 1);
		ck_assert_int_eq(jobs[i].keep, 0);
	}
	stats = stats_of(&k);
	ck_assert_uint_eq(stats.connects, 1);
	ck_assert_uint_eq(stats.connects_pooled, 2);
	ck_assert_uint_eq(stats.pooled_now, 1);
	ck_assert_uint_eq(stats.outbound_now, 0);
	ck_assert_int_eq(g_served.accepted, 1);
	vkt_kern_free(&k);
}
END_TEST

/* Bytes left unread: the connection cannot be reused, it is closed. */
START_TEST(test_pool_refuses_unread)
{
	struct vkt_kern k = pool_kern();
	struct pool_job jobs[2] = {{.max = 4, .idle_ms = 5000, .unread = 1},
				   {.max = 4, .idle_ms = 5000}};

	run_jobs(&k, jobs, 2);
	ck_assert_int_eq(jobs[0].keep, -EBUSY);
	ck_assert_int_eq(jobs[1].keep, 0);
	ck_assert_int_eq(jobs[1].ok, 1);
	ck_assert_uint_eq(stats_of(&k).connects, 2);
	ck_assert_uint_eq(stats_of(&k).connects_pooled, 0);
	ck_assert_int_eq(g_served.accepted, 2);
	vkt_kern_free(&k);
}
END_TEST

/* Idle too long: the pool closes it (the upstream sees the end). */
START_TEST(test_pool_expires)
{
	struct vkt_kern k = pool_kern();
	struct pool_job jobs[1] = {{.max = 4, .idle_ms = 100}};
	double start = vkt_now_ms();

	/*
	 * The timer starts at the loop's time of the give-back, which is no
	 * earlier than `start`: the pool cannot be seen empty before
	 * start + idle_ms, however late the loop runs, and must be within 5 s.
	 */
	run_jobs(&k, jobs, 1);
	ck_assert_int_eq(jobs[0].keep, 0);
	/* Also when run_jobs() took long enough to hide an early expiry below. */
	if (vkt_now_ms() - start < 100 - 1)
		ck_assert_uint_eq(stats_of(&k).pooled_now, 1);
	ck_assert_msg(run_until(&k, pool_emptied, 5000), "not expired within 5 s: %llu pooled",
		      (unsigned long long)stats_of(&k).pooled_now);
	ck_assert_msg(vkt_now_ms() - start >= 100 - 1, "expired after %.1f ms, before 100",
		      vkt_now_ms() - start);
	ck_assert_uint_eq(stats_of(&k).connects, 1);
	vkt_kern_free(&k);
}
END_TEST

/* The upstream closes an idle connection: the pool drops it, not hands it out. */
START_TEST(test_pool_upstream_closes)
{
	struct vkt_kern k = pool_kern();
	struct pool_job jobs[2] = {{.max = 4, .idle_ms = 5000}, {.max = 4, .idle_ms = 5000}};

	g_close_after = 1;
	run_jobs(&k, jobs, 1);
	ck_assert_int_eq(jobs[0].ok, 1);
	ck_assert_msg(run_until(&k, pool_emptied, 5000), "not dropped within 5 s: %llu pooled",
		      (unsigned long long)stats_of(&k).pooled_now);
	g_close_after = 0;
	run_jobs(&k, jobs + 1, 1);
	ck_assert_int_eq(jobs[1].error, 0);
	ck_assert_int_eq(jobs[1].ok, 1);
	ck_assert_uint_eq(stats_of(&k).connects, 2);
	ck_assert_uint_eq(stats_of(&k).connects_pooled, 0);
	vkt_kern_free(&k);
}
END_TEST

/*
 * At most max_idle per address once a loop iteration has gone by: three
 * given back at once are all kept (a request of the next iteration may
 * take the third), then the least recently idle is closed.
 */
START_TEST(test_pool_cap)
{
	struct vkt_kern k = pool_kern();
	struct pool_job jobs[3] = {
	    {.max = 2, .idle_ms = 5000}, {.max = 2, .idle_ms = 5000}, {.max = 2, .idle_ms = 5000}};

	g_done = 0;
	for (int i = 0; i < 3; i++)
		vkt_spawn(&k, HEAP, 1, pooled_round_trip, &jobs[i]);
	while (g_done < 3)
		run_for(&k, 10);
	for (int i = 0; i < 100 && stats_of(&k).pooled_now > 2; i++)
		run_for(&k, 10);
	ck_assert_int_eq(jobs[0].keep, 0);
	ck_assert_int_eq(jobs[1].keep, 0);
	ck_assert_int_eq(jobs[2].keep, 0);
	ck_assert_uint_eq(stats_of(&k).pooled_now, 2);
	ck_assert_uint_eq(stats_of(&k).connects, 3);
	vkt_kern_free(&k);
}
END_TEST

/* Idle connections do not keep a kernel running that has nothing else to do. */
static void keep_and_end(struct vk_thread *that)
{
	struct {
		struct vk_socket *up;
		char line[8];
		ssize_t n;
	} * self;

	vk_begin();
	vk_connect(self->up, g_job.addr);
	vk_socket_write(self->up, "x\n", 2);
	vk_socket_readline(self->up, self->n, self->line, sizeof(self->line));
	g_job.rc = vk_socket_keep(that, self->up, 1, 60000);
	vk_end();
}

START_TEST(test_pool_no_loop_reference)
{
	struct vkt_kern k;
	pid_t pid;
	int fd, status;

	memset(&g_job, 0, sizeof(g_job));
	/* The server runs in a child: the kernel here must run out of work. */
	fd = listen_tcp(AF_INET, 64, g_job.addr, sizeof(g_job.addr));
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		struct vkt_kern server = vkt_kern_new();

		vk_kern_spawn(server.kern, &(struct vk_proc_config){.heap_size = HEAP}, acceptor,
			      NULL, fd);
		run_for(&server, 3000);
		_exit(0);
	}
	close(fd);
	k = vkt_kern_new();
	vkt_spawn(&k, HEAP, 1, keep_and_end, NULL);
	vk_kern_run(k.kern);
	ck_assert_int_eq(g_job.rc, 0);
	ck_assert_uint_eq(stats_of(&k).pooled_now, 1);
	vkt_kern_free(&k);
	kill(pid, SIGKILL);
	waitpid(pid, &status, 0);
}
END_TEST

static Suite *connect_suite(void)
{
	Suite *s = suite_create("vk_connect");
	TCase *tc = tcase_create("connect");

	tcase_set_timeout(tc, 30);
	tcase_add_loop_test(tc, test_connect_ipv4, 0, 2);
	tcase_add_test(tc, test_connect_ipv6);
	tcase_add_test(tc, test_connect_unix);
	tcase_add_test(tc, test_connect_refused);
	tcase_add_test(tc, test_connect_errors);
	tcase_add_test(tc, test_connect_timeout);
	tcase_add_loop_test(tc, test_connect_closed_at_end, 0, 2);
	tcase_add_test(tc, test_connect_hosts_file);
	tcase_add_test(tc, test_connect_destroy);
	tcase_add_test(tc, test_try_forms);
	suite_add_tcase(s, tc);
	tc = tcase_create("pool");
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_pool_reuse);
	tcase_add_test(tc, test_pool_refuses_unread);
	tcase_add_test(tc, test_pool_expires);
	tcase_add_test(tc, test_pool_upstream_closes);
	tcase_add_test(tc, test_pool_cap);
	tcase_add_test(tc, test_pool_no_loop_reference);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return check_run(connect_suite());
}
