/*
 * vk_resolve: c-ares on the worker's loop, its cache and its glue to
 * vk_connect. The name server is a tiny DNS responder on a loopback UDP
 * port, on the same loop (no outside DNS is ever asked): it answers A
 * queries from a table with the table's TTL, NXDOMAIN for names it does
 * not know, nothing at all for "silent." names, and an empty answer to
 * every other type; it counts the A queries it got per name.
 */
#include "vk_check.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "vk_resolve.h"

#define HEAP (64 * 1024)
#define NAMES_MAX 2048

/* ---- the responder ---- */

struct dns_name {
	char name[64];
	uint32_t ttl;
	unsigned queries; /* A queries seen */
};

static struct dns_name g_names[NAMES_MAX];
static size_t g_name_count;
static unsigned g_unknown_queries;
static int g_answer_all; /* every "nN.bulk.test" resolves, with TTL 600 */

static struct dns_name *dns_find(const char *name)
{
	for (size_t i = 0; i < g_name_count; i++)
		if (strcmp(g_names[i].name, name) == 0)
			return &g_names[i];
	if (g_answer_all && strstr(name, ".bulk.test") && g_name_count < NAMES_MAX) {
		struct dns_name *n = &g_names[g_name_count++];

		snprintf(n->name, sizeof(n->name), "%s", name);
		n->ttl = 600;
		return n;
	}
	return NULL;
}

static void dns_add(const char *name, uint32_t ttl)
{
	struct dns_name *n = &g_names[g_name_count++];

	snprintf(n->name, sizeof(n->name), "%s", name);
	n->ttl = ttl;
	n->queries = 0;
}

/* The question's name, dotted, and where the question ends; -1 if malformed. */
static int dns_question(const unsigned char *q, size_t len, char *name, size_t size, size_t *end)
{
	size_t at = 12, out = 0;

	while (at < len && q[at]) {
		size_t l = q[at++];

		if (l > 63 || at + l > len || out + l + 2 > size)
			return -1;
		if (out)
			name[out++] = '.';
		for (size_t i = 0; i < l; i++)
			name[out++] = (char)tolower(q[at + i]);
		at += l;
	}
	name[out] = '\0';
	if (at + 5 > len)
		return -1;
	*end = at + 5; /* the root label, type, class */
	return 0;
}

static void dns_callback(struct ev_loop *loop, struct ev_io *io, int revents)
{
	unsigned char q[512], r[600];
	struct sockaddr_storage from;
	socklen_t from_len = sizeof(from);
	char name[256];
	size_t end, n = 0;
	ssize_t len;
	struct dns_name *known;
	int type;

	(void)loop;
	(void)revents;
	len = recvfrom(io->fd, q, sizeof(q), 0, (struct sockaddr *)&from, &from_len);
	if (len < 12 || dns_question(q, (size_t)len, name, sizeof(name), &end) < 0)
		return;
	type = q[end - 4] << 8 | q[end - 3];
	if (strncmp(name, "silent.", 7) == 0)
		return;
	known = dns_find(name);
	if (type == 1) {
		if (known)
			known->queries++;
		else
			g_unknown_queries++;
	}
	memcpy(r, q, end);
	r[2] = 0x81;		    /* a response, recursion desired */
	r[3] = known ? 0x80 : 0x83; /* recursion available; NXDOMAIN when unknown */
	r[4] = 0, r[5] = 1;	    /* one question */
	r[6] = 0, r[7] = known && type == 1;
	memset(r + 8, 0, 4);
	n = end;
	if (known && type == 1) {
		static const unsigned char a[] = {0xc0, 12, 0, 1, 0, 1};

		memcpy(r + n, a, sizeof(a));
		n += sizeof(a);
		r[n++] = (unsigned char)(known->ttl >> 24);
		r[n++] = (unsigned char)(known->ttl >> 16);
		r[n++] = (unsigned char)(known->ttl >> 8);
		r[n++] = (unsigned char)known->ttl;
		r[n++] = 0, r[n++] = 4;
		r[n++] = 127, r[n++] = 0, r[n++] = 0, r[n++] = 1;
	}
	sendto(io->fd, r, n, 0, (struct sockaddr *)&from, from_len);
}

struct responder {
	struct ev_io io;
	char servers[64];
};

static void responder_start(struct ev_loop *loop, struct responder *d)
{
	struct sockaddr_in sin = {.sin_family = AF_INET};
	socklen_t len = sizeof(sin);
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

	ck_assert_int_ge(fd, 0);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ck_assert_int_eq(bind(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	ck_assert_int_eq(getsockname(fd, (struct sockaddr *)&sin, &len), 0);
	snprintf(d->servers, sizeof(d->servers), "127.0.0.1:%u", ntohs(sin.sin_port));
	ev_io_init(&d->io, dns_callback, fd, EV_READ);
	ev_io_start(loop, &d->io);
	/* It must not keep the loop running by itself. */
	ev_unref(loop);
}

static void responder_stop(struct ev_loop *loop, struct responder *d)
{
	ev_ref(loop);
	ev_io_stop(loop, &d->io);
	close(d->io.fd);
}

/* ---- a kernel that resolves through the responder, and a listener ---- */

struct fixture {
	struct vkt_kern k;
	struct responder dns;
	struct vk_resolve_config config;
	char resolv[64];
	int listen_fd;
	unsigned port;
};

static struct fixture g_fx;

static void fixture_up(unsigned timeout_ms)
{
	struct sockaddr_in sin = {.sin_family = AF_INET};
	socklen_t len = sizeof(sin);
	FILE *f;

	memset(&g_fx, 0, sizeof(g_fx));
	g_name_count = 0;
	g_unknown_queries = 0;
	g_answer_all = 0;
	g_fx.k = vkt_kern_new();
	responder_start(g_fx.k.loop, &g_fx.dns);
	/* No hosts file entries, no search domains: only the responder answers. */
	snprintf(g_fx.resolv, sizeof(g_fx.resolv), "/tmp/vkt-resolv.XXXXXX");
	ck_assert_int_ge(mkstemp(g_fx.resolv), 0);
	f = fopen(g_fx.resolv, "w");
	fprintf(f, "nameserver 127.0.0.1\noptions ndots:1\n");
	fclose(f);
	g_fx.config.resolv_conf = g_fx.resolv;
	g_fx.config.hosts_file = "/dev/null";
	g_fx.config.servers = g_fx.dns.servers;
	g_fx.config.timeout_ms = timeout_ms;
	vk_kern_set_resolve_config(g_fx.k.kern, &g_fx.config);

	g_fx.listen_fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ck_assert_int_eq(bind(g_fx.listen_fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	ck_assert_int_eq(listen(g_fx.listen_fd, 4096), 0);
	ck_assert_int_eq(getsockname(g_fx.listen_fd, (struct sockaddr *)&sin, &len), 0);
	g_fx.port = ntohs(sin.sin_port);
}

static void fixture_down(void)
{
	responder_stop(g_fx.k.loop, &g_fx.dns);
	vkt_kern_free(&g_fx.k);
	close(g_fx.listen_fd);
	unlink(g_fx.resolv);
}

static const struct vk_stats *stats(void)
{
	return vk_kern_stats(g_fx.k.kern);
}

/* Run the loop until `*counter` reaches `want` (or 5 s), with a 10 ms tick. */
static void tick(struct ev_loop *loop, struct ev_timer *timer, int revents)
{
	(void)loop;
	(void)timer;
	(void)revents;
}

static void run_until(const int *counter, int want)
{
	double end = vkt_now_ms() + 5000;
	struct ev_timer timer;

	ev_timer_init(&timer, tick, 0.01, 0.01);
	ev_timer_start(g_fx.k.loop, &timer);
	while (*counter < want) {
		ck_assert_msg(vkt_now_ms() < end, "%d of %d within 5 s", *counter, want);
		ev_run(g_fx.k.loop, EVRUN_ONCE);
	}
	ev_timer_stop(g_fx.k.loop, &timer);
}

/* ---- the clients ---- */

struct lookup {
	char addr[300];
	int rc;
};

#define CLIENTS 10
static struct lookup g_lookups[CLIENTS];
static int g_finished;

/* Connect to vk_arg()'s address (no server needed: the listen queue takes it). */
static void connect_once(struct vk_thread *that)
{
	struct {
		struct lookup *l;
		struct vk_socket *s;
		ssize_t rc;
	} * self;

	vk_begin();
	self->l = vk_arg();
	vk_try_connect(self->rc, self->s, self->l->addr);
	self->l->rc = (int)self->rc;
	g_finished++;
	vk_end();
}

static void connect_all(int count, const char *name)
{
	g_finished = 0;
	for (int i = 0; i < count; i++) {
		snprintf(g_lookups[i].addr, sizeof(g_lookups[i].addr), "%s:%u", name, g_fx.port);
		g_lookups[i].rc = 1;
		vkt_spawn(&g_fx.k, HEAP, 1, connect_once, &g_lookups[i]);
	}
	run_until(&g_finished, count);
}

/* ---- tests ---- */

/* Concurrent lookups of one name share one query; the answer is cached. */
START_TEST(test_resolve_shared_and_cached)
{
	fixture_up(2000);
	dns_add("a.vkt.test", 300);
	connect_all(CLIENTS, "a.vkt.test");
	for (int i = 0; i < CLIENTS; i++)
		ck_assert_int_eq(g_lookups[i].rc, 0);
	ck_assert_uint_eq(g_names[0].queries, 1);
	ck_assert_uint_eq(stats()->resolves, 1);
	connect_all(3, "A.VKT.test");
	ck_assert_uint_eq(g_names[0].queries, 1);
	ck_assert_uint_eq(stats()->resolves, 1);
	ck_assert_uint_eq(stats()->connects, CLIENTS + 3);
	fixture_down();
}
END_TEST

/* An answer is kept for its TTL (1 s here), then asked for again. */
START_TEST(test_resolve_ttl)
{
	fixture_up(2000);
	dns_add("short.vkt.test", 1);
	connect_all(1, "short.vkt.test");
	ck_assert_int_eq(g_lookups[0].rc, 0);
	connect_all(1, "short.vkt.test");
	ck_assert_uint_eq(g_names[0].queries, 1);
	usleep(1100 * 1000);
	ev_now_update(g_fx.k.loop);
	connect_all(1, "short.vkt.test");
	ck_assert_int_eq(g_lookups[0].rc, 0);
	ck_assert_uint_eq(g_names[0].queries, 2);
	fixture_down();
}
END_TEST

/* No such name: ENXIO, remembered for a second (one query for a burst). */
START_TEST(test_resolve_nxdomain)
{
	fixture_up(2000);
	connect_all(CLIENTS, "missing.vkt.test");
	for (int i = 0; i < CLIENTS; i++)
		ck_assert_int_eq(g_lookups[i].rc, -ENXIO);
	connect_all(2, "missing.vkt.test");
	ck_assert_int_eq(g_lookups[0].rc, -ENXIO);
	ck_assert_uint_eq(g_unknown_queries, 1);
	ck_assert_uint_eq(stats()->resolve_failures, 1);
	ck_assert_uint_eq(stats()->connect_failures, CLIENTS + 2);
	fixture_down();
}
END_TEST

/* A server that never answers: the resolve timeout ends the lookup. */
START_TEST(test_resolve_timeout)
{
	double start;

	fixture_up(300);
	start = vkt_now_ms();
	connect_all(1, "silent.vkt.test");
	ck_assert_int_eq(g_lookups[0].rc, -ETIMEDOUT);
	ck_assert_msg(vkt_now_ms() - start < 3000, "took %.0f ms", vkt_now_ms() - start);
	fixture_down();
}
END_TEST

/*
 * The connect timeout bounds a lookup too; a late answer then wakes
 * nobody, and the process may end before it comes.
 */
static void connect_with_deadline(struct vk_thread *that)
{
	struct {
		struct vk_socket *s;
		ssize_t rc;
	} * self;

	vk_begin();
	vk_set_connect_timeout(100);
	vk_try_connect(self->rc, self->s, g_lookups[0].addr);
	g_lookups[0].rc = (int)self->rc;
	g_finished++;
	vk_end();
}

START_TEST(test_resolve_connect_deadline)
{
	fixture_up(3000);
	snprintf(g_lookups[0].addr, sizeof(g_lookups[0].addr), "silent.vkt.test:%u", g_fx.port);
	g_finished = 0;
	vkt_spawn(&g_fx.k, HEAP, 1, connect_with_deadline, NULL);
	run_until(&g_finished, 1);
	ck_assert_int_eq(g_lookups[0].rc, -ETIMEDOUT);
	ck_assert_uint_eq(stats()->procs_now, 0);
	fixture_down();
}
END_TEST

/* Numeric addresses never reach the resolver. */
START_TEST(test_resolve_numeric_skips)
{
	fixture_up(2000);
	connect_all(2, "127.0.0.1");
	ck_assert_int_eq(g_lookups[0].rc, 0);
	ck_assert_uint_eq(stats()->resolves, 0);
	fixture_down();
}
END_TEST

/* The cache holds VK_RESOLVE_CACHE names at most, the oldest going first. */
static void many_names(struct vk_thread *that)
{
	struct {
		struct vk_socket *s;
		char addr[300];
		int i;
		ssize_t rc;
	} * self;

	vk_begin();
	for (self->i = 0; self->i < VK_RESOLVE_CACHE + 100; self->i++) {
		snprintf(self->addr, sizeof(self->addr), "n%d.bulk.test:%u", self->i, g_fx.port);
		vk_try_connect(self->rc, self->s, self->addr);
		if (self->rc < 0)
			vk_raise((int)-self->rc);
		vk_socket_close(that, self->s);
	}
	/* The first names were pushed out: asked again. */
	snprintf(self->addr, sizeof(self->addr), "n0.bulk.test:%u", g_fx.port);
	vk_connect(self->s, self->addr);
	vk_socket_close(that, self->s);
	vk_finally();
	g_lookups[0].rc = vk_error();
	g_finished++;
	vk_end();
}

START_TEST(test_resolve_cache_bound)
{
	struct vk_proc *proc;

	fixture_up(2000);
	g_answer_all = 1;
	g_finished = 0;
	/* The listen queue fills: a drain of it keeps connects from waiting. */
	proc = vkt_spawn(&g_fx.k, 256 * 1024, 0, many_names, NULL);
	{
		double end = vkt_now_ms() + 30000;
		struct ev_timer timer;

		ev_timer_init(&timer, tick, 0.01, 0.01);
		ev_timer_start(g_fx.k.loop, &timer);
		while (g_finished < 1 && vkt_now_ms() < end) {
			int fd;

			ev_run(g_fx.k.loop, EVRUN_ONCE);
			while ((fd = accept(g_fx.listen_fd, NULL, NULL)) >= 0)
				close(fd);
		}
		ev_timer_stop(g_fx.k.loop, &timer);
	}
	ck_assert_int_eq(g_finished, 1);
	ck_assert_int_eq(g_lookups[0].rc, 0);
	ck_assert_uint_le(vk_resolver_cached(proc->sched->resolver), VK_RESOLVE_CACHE);
	ck_assert_uint_ge(vk_resolver_cached(proc->sched->resolver), VK_RESOLVE_CACHE - 1);
	ck_assert_uint_eq(dns_find("n0.bulk.test")->queries, 2);
	ck_assert_uint_eq(dns_find("n1000.bulk.test")->queries, 1);
	fixture_down();
}
END_TEST

static Suite *resolve_suite(void)
{
	Suite *s = suite_create("vk_resolve");
	TCase *tc = tcase_create("resolve");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_resolve_shared_and_cached);
	tcase_add_test(tc, test_resolve_ttl);
	tcase_add_test(tc, test_resolve_nxdomain);
	tcase_add_test(tc, test_resolve_timeout);
	tcase_add_test(tc, test_resolve_connect_deadline);
	tcase_add_test(tc, test_resolve_numeric_skips);
	tcase_add_test(tc, test_resolve_cache_bound);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return check_run(resolve_suite());
}
