/*
 * libvk unit tests: channels between micro-processes (vk_channel.h), the
 * services they reach (vk_service.h), publish/subscribe (vk_pubsub.h) and
 * the inter-worker path (vk_mesh.h), between two kernels in two processes.
 *
 * Every process here runs with isolation on unless a test says otherwise:
 * a channel that reached into the other heap would fault.
 */
#include "vk_check.h"

#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "vk_bus.h"
#include "vk_chan.h"
#include "vk_mesh.h"
#include "vk_service.h"

#define HEAP (256 * 1024)

static int *volatile g_null;

__attribute__((noinline, no_sanitize("address", "undefined"))) static void fault_segv(void)
{
	*g_null = 1;
}

static struct vk_service *start_service(struct vkt_kern *k, const char *name, vk_func fn,
					unsigned kind)
{
	struct vk_service_spec spec;
	struct vk_service *service;

	memset(&spec, 0, sizeof(spec));
	spec.name = name;
	spec.kind = kind;
	spec.main = fn;
	spec.config = vkt_config(HEAP, 1);
	service = vk_service_start(k->kern, &spec);
	ck_assert_ptr_nonnull(service);
	return service;
}

/* ================================================================== */
/* An echo service: lines come back as they went                      */
/* ================================================================== */

static int g_serve_error;
static int g_client_error;
static char g_got[64];
static int g_lines_ok;
static int g_served;

static void echo_one(struct vk_thread *that)
{
	struct {
		struct vk_socket *peer;
		char line[256];
		ssize_t n;
	} * self;

	vk_begin();
	self->peer = that->socket;
	g_served++;
	for (;;) {
		vk_readline(self->n, self->line, sizeof(self->line));
		if (self->n == 0)
			break;
		vk_write(self->line, (size_t)self->n);
		vk_flush();
	}
	vk_finally();
	g_serve_error = vk_error();
	vk_clear_error();
	vk_channel_close(self->peer);
	vk_end();
}

static void echo_service(struct vk_thread *that)
{
	struct {
		struct vk_socket *peer;
	} * self;

	vk_begin();
	for (;;) {
		vk_channel_accept(self->peer);
		vk_use_socket(self->peer);
		vk_spawn_detached(echo_one, NULL);
	}
	vk_end();
}

static void echo_client(struct vk_thread *that)
{
	struct {
		struct vk_socket *ch;
		char out[64], in[64];
		size_t len;
		ssize_t n;
		int i;
	} * self;

	vk_begin();
	vk_channel_open(self->ch, "echo");
	for (self->i = 0; self->i < 100; self->i++) {
		self->len = (size_t)snprintf(self->out, sizeof(self->out), "line %d\n", self->i);
		vk_socket_write(self->ch, self->out, self->len);
		vk_socket_readline(self->ch, self->n, self->in, sizeof(self->in));
		if ((size_t)self->n == self->len && memcmp(self->in, self->out, self->len) == 0)
			g_lines_ok++;
	}
	vk_channel_close(self->ch);
	vk_finally();
	g_client_error = vk_error();
	vk_end();
}

START_TEST(test_channel_echo)
{
	struct vkt_kern k = vkt_kern_new();
	struct vk_service *echo = start_service(&k, "echo", echo_service, VK_BUS_LOCAL);
	const struct vk_stats *stats = vk_kern_stats(k.kern);

	g_serve_error = g_client_error = -1;
	g_lines_ok = g_served = 0;
	vkt_spawn(&k, HEAP, 1, echo_client, NULL);
	vkt_spawn(&k, HEAP, 1, echo_client, NULL);
	vk_kern_run(k.kern);
	ck_assert_int_eq(g_client_error, 0);
	ck_assert_int_eq(g_serve_error, 0);
	ck_assert_int_eq(g_served, 2);
	ck_assert_int_eq(g_lines_ok, 200);
	ck_assert_uint_eq(stats->faults, 0);
	ck_assert_uint_eq(stats->channels, 4); /* two opened, two accepted */
	ck_assert_uint_eq(stats->services_now, 1);
	/* The service and its two coroutines are still there; the clients are gone. */
	ck_assert_uint_eq(stats->procs_now, 1);
	vk_service_stop(echo);
	vkt_kern_free(&k);
}
END_TEST

/* ================================================================== */
/* A stream much larger than the ring, in pieces of every size          */
/* ================================================================== */

#define STREAM (1 << 20)

static size_t g_stream_got;
static int g_stream_ok;
static int g_stream_eof;

static void stream_reader(struct vk_thread *that)
{
	struct {
		struct vk_socket *peer;
		uint64_t rng;
		char buf[7000];
		size_t want;
		ssize_t n;
		int i;
	} * self;

	vk_begin();
	vk_channel_accept(self->peer);
	self->rng = 42;
	g_stream_ok = 1;
	for (;;) {
		char expect[7000];

		self->want = 1 + (size_t)(self->i++ * 977) % sizeof(self->buf);
		vk_socket_read(self->peer, self->n, self->buf, self->want);
		if (self->n == 0)
			break;
		vkt_fill(&self->rng, expect, (size_t)self->n);
		if (memcmp(expect, self->buf, (size_t)self->n) != 0)
			g_stream_ok = 0;
		g_stream_got += (size_t)self->n;
		if ((size_t)self->n < self->want)
			break;
	}
	g_stream_eof = vk_socket_eof(self->peer);
	vk_finally();
	g_serve_error = vk_error();
	vk_end();
}

static void stream_writer(struct vk_thread *that)
{
	struct {
		struct vk_socket *ch;
		uint64_t rng;
		char buf[5000];
		size_t done, len;
		int i;
	} * self;

	vk_begin();
	vk_channel_open(self->ch, "sink");
	self->rng = 42;
	while (self->done < STREAM) {
		self->len = 1 + (size_t)(self->i++ * 131) % sizeof(self->buf);
		if (self->len > STREAM - self->done)
			self->len = STREAM - self->done;
		vkt_fill(&self->rng, self->buf, self->len);
		vk_socket_write(self->ch, self->buf, self->len);
		self->done += self->len;
	}
	/* Ending closes the channel: the reader gets the rest, then the end. */
	vk_finally();
	g_client_error = vk_error();
	vk_end();
}

START_TEST(test_channel_stream)
{
	struct vkt_kern k = vkt_kern_new();
	struct vk_service *sink = start_service(&k, "sink", stream_reader, VK_BUS_LOCAL);

	g_serve_error = g_client_error = -1;
	g_stream_got = 0;
	g_stream_ok = g_stream_eof = 0;
	vkt_spawn(&k, HEAP, 1, stream_writer, NULL);
	vk_kern_run(k.kern);
	ck_assert_int_eq(g_client_error, 0);
	ck_assert_int_eq(g_serve_error, 0);
	ck_assert_uint_eq(g_stream_got, STREAM);
	ck_assert_int_eq(g_stream_ok, 1);
	ck_assert_int_eq(g_stream_eof, 1);
	ck_assert_uint_eq(vk_kern_stats(k.kern)->channel_bytes, STREAM);
	vk_service_stop(sink);
	vkt_kern_free(&k);
}
END_TEST

/* ================================================================== */
/* The peer ends, or faults: EOF and EPIPE, never a hang                */
/* ================================================================== */

static size_t g_total;
static int g_saw_eof;
static int g_write_error;
static int g_fault_client;

/* Reads until the end, then writes to the peer that is gone. */
static void sink_then_write(struct vk_thread *that)
{
	struct {
		struct vk_socket *peer;
		char buf[300];
		ssize_t n;
	} * self;

	vk_begin();
	vk_channel_accept(self->peer);
	vk_use_socket(self->peer);
	for (;;) {
		vk_read_some(self->n, self->buf, sizeof(self->buf));
		if (self->n == 0)
			break;
		g_total += (size_t)self->n;
	}
	g_saw_eof = 1;
	vk_write_literal("too late");
	vk_finally();
	g_write_error = vk_error();
	vk_clear_error();
	vk_end();
}

/* Writes 1000 bytes, then ends (or faults when g_fault_client). */
static void write_and_go(struct vk_thread *that)
{
	struct {
		struct vk_socket *ch;
		char buf[1000];
	} * self;

	vk_begin();
	vk_channel_open(self->ch, "sink");
	memset(self->buf, 'x', sizeof(self->buf));
	vk_socket_write(self->ch, self->buf, sizeof(self->buf));
	if (g_fault_client)
		fault_segv();
	vk_end();
}

START_TEST(test_channel_peer_ends)
{
	struct vkt_kern k = vkt_kern_new();
	struct vk_service *sink = start_service(&k, "sink", sink_then_write, VK_BUS_LOCAL);

	g_total = 0;
	g_saw_eof = 0;
	g_write_error = -1;
	g_fault_client = 0;
	vkt_spawn(&k, HEAP, 1, write_and_go, NULL);
	vk_kern_run(k.kern);
	ck_assert_uint_eq(g_total, 1000);
	ck_assert_int_eq(g_saw_eof, 1);
	ck_assert_int_eq(g_write_error, EPIPE);
	ck_assert_uint_eq(vk_kern_stats(k.kern)->faults, 0);
	vk_service_stop(sink);
	vkt_kern_free(&k);
}
END_TEST

static int g_read_error;

/* Reads until an error, counting the bytes that came before it. */
static void sink_until_error(struct vk_thread *that)
{
	struct {
		struct vk_socket *peer;
		char buf[300];
		ssize_t n;
	} * self;

	vk_begin();
	vk_channel_accept(self->peer);
	for (;;) {
		vk_socket_read_some(self->peer, self->n, self->buf, sizeof(self->buf));
		if (self->n == 0) {
			g_saw_eof = 1;
			break;
		}
		g_total += (size_t)self->n;
	}
	vk_finally();
	g_read_error = vk_error();
	vk_clear_error();
	vk_end();
}

START_TEST(test_channel_peer_faults)
{
	struct vkt_kern k = vkt_kern_new();
	struct vk_service *sink = start_service(&k, "sink", sink_until_error, VK_BUS_LOCAL);

	g_total = 0;
	g_saw_eof = 0;
	g_read_error = -1;
	g_fault_client = 1;
	vkt_spawn(&k, HEAP, 1, write_and_go, NULL);
	vk_kern_run(k.kern);
	/* What the faulted process wrote before arrives; then EPIPE, not the end. */
	ck_assert_uint_eq(g_total, 1000);
	ck_assert_int_eq(g_saw_eof, 0);
	ck_assert_int_eq(g_read_error, EPIPE);
	ck_assert_uint_eq(vk_kern_stats(k.kern)->faults, 1);
	vk_service_stop(sink);
	vkt_kern_free(&k);
}
END_TEST

/* ================================================================== */
/* Each direction is bounded: a writer facing a full channel blocks     */
/* ================================================================== */

#define BOUNDED_TOTAL (200 * 1024)

static size_t g_written;
static size_t g_written_at_wake;

static void slow_reader(struct vk_thread *that)
{
	struct {
		struct vk_socket *peer;
		char buf[4096];
		ssize_t n;
	} * self;

	vk_begin();
	vk_channel_accept(self->peer);
	vk_sleep(50);
	g_written_at_wake = g_written;
	for (;;) {
		vk_socket_read_some(self->peer, self->n, self->buf, sizeof(self->buf));
		if (self->n == 0)
			break;
		g_total += (size_t)self->n;
	}
	vk_end();
}

static void fast_writer(struct vk_thread *that)
{
	struct {
		struct vk_socket *ch;
		char buf[1024];
	} * self;

	vk_begin();
	vk_channel_open(self->ch, "slow");
	while (g_written < BOUNDED_TOTAL) {
		vk_socket_write(self->ch, self->buf, sizeof(self->buf));
		g_written += sizeof(self->buf);
	}
	vk_channel_close(self->ch);
	vk_end();
}

START_TEST(test_channel_bounded)
{
	struct vkt_kern k = vkt_kern_new();
	struct vk_service *slow = start_service(&k, "slow", slow_reader, VK_BUS_LOCAL);

	g_written = g_written_at_wake = g_total = 0;
	vkt_spawn(&k, HEAP, 1, fast_writer, NULL);
	vk_kern_run(k.kern);
	/* The ring filled, and the writer waited there: no more than it holds. */
	ck_assert_uint_ge(g_written_at_wake, VK_CHANNEL_RING - 1024);
	ck_assert_uint_le(g_written_at_wake, VK_CHANNEL_RING);
	ck_assert_uint_eq(g_total, BOUNDED_TOTAL);
	vk_service_stop(slow);
	vkt_kern_free(&k);
}
END_TEST

/* ================================================================== */
/* Batching: one dispatch of each side per round, however many messages */
/* ================================================================== */

static void batch_service(struct vk_thread *that)
{
	struct {
		struct vk_socket *peer;
		char line[32];
		ssize_t n;
		int i;
	} * self;

	vk_begin();
	for (;;) {
		vk_channel_accept(self->peer);
		for (self->i = 0; self->i < 100; self->i++)
			vk_socket_readline(self->peer, self->n, self->line, sizeof(self->line));
		vk_socket_write(self->peer, "done\n", 5);
		vk_channel_close(self->peer);
	}
	vk_end();
}

static void batch_client(struct vk_thread *that)
{
	struct {
		struct vk_socket *ch;
		char line[32];
		ssize_t n;
		int i;
	} * self;

	vk_begin();
	vk_channel_open(self->ch, "batch");
	for (self->i = 0; self->i < 100; self->i++)
		vk_socket_write(self->ch, "message\n", 8);
	vk_socket_readline(self->ch, self->n, g_got, sizeof(g_got) - 1);
	g_got[self->n] = '\0';
	vk_end();
}

START_TEST(test_channel_batches)
{
	struct vkt_kern k = vkt_kern_new();
	struct vk_service *batch = start_service(&k, "batch", batch_service, VK_BUS_LOCAL);
	const struct vk_stats *stats = vk_kern_stats(k.kern);
	uint64_t dispatches, protections;

	vk_kern_run(k.kern); /* the service starts and waits */
	dispatches = stats->dispatches;
	protections = stats->protections;
	g_got[0] = '\0';
	vkt_spawn(&k, HEAP, 1, batch_client, NULL);
	vk_kern_run(k.kern);
	ck_assert_str_eq(g_got, "done\n");
	/* Client: open and write all; service: take all and answer; client: read. */
	ck_assert_uint_eq(stats->dispatches - dispatches, 3);
	/*
	 * Each dispatch opens one heap and closes the one open before; the
	 * client's heap is closed once more as it goes back to the pool.
	 */
	ck_assert_uint_le(stats->protections - protections, 2 * 3 + 1);
	vk_service_stop(batch);
	vkt_kern_free(&k);
}
END_TEST

/* ================================================================== */
/* A connection handed to a channel: the kernel moves its bytes        */
/* ================================================================== */

static int g_handoff_rc;
static int g_handoff_error;
static int g_upper_crash;
static char g_handoff_head[8];

/* Each chunk comes back in capitals; "!" faults the service when told to. */
static void upper_one(struct vk_thread *that)
{
	struct {
		struct vk_socket *peer;
		char buf[256];
		ssize_t n;
	} * self;

	vk_begin();
	self->peer = that->socket;
	for (;;) {
		vk_read_some(self->n, self->buf, sizeof(self->buf));
		if (self->n == 0)
			break;
		if (g_upper_crash && memchr(self->buf, '!', (size_t)self->n))
			fault_segv();
		for (ssize_t i = 0; i < self->n; i++)
			if (self->buf[i] >= 'a' && self->buf[i] <= 'z')
				self->buf[i] = (char)(self->buf[i] - 'a' + 'A');
		vk_write(self->buf, (size_t)self->n);
		vk_flush();
	}
	vk_finally();
	vk_clear_error();
	vk_channel_close(self->peer);
	vk_end();
}

static void upper_service(struct vk_thread *that)
{
	struct {
		struct vk_socket *peer;
	} * self;

	vk_begin();
	for (;;) {
		vk_channel_accept(self->peer);
		vk_use_socket(self->peer);
		vk_spawn_detached(upper_one, NULL);
	}
	vk_end();
}

/* A connection: reads its first 4 bytes itself, then hands the rest to "upper". */
static void handing_conn(struct vk_thread *that)
{
	struct {
		struct vk_socket *ch;
		ssize_t n;
		int rc;
	} * self;

	vk_begin();
	vk_read(self->n, g_handoff_head, 4);
	vk_channel_open(self->ch, "upper");
	vk_channel_handoff(that->socket, self->ch, self->rc);
	g_handoff_rc = self->rc;
	vk_finally();
	g_handoff_error = vk_error();
	vk_clear_error();
	vk_end();
}

/* Read from `fd` until `want` bytes came or the loop turned `turns` times. */
static size_t drive_until(struct vkt_kern *k, int fd, char *buf, size_t want, int turns)
{
	size_t got = 0;

	while (got < want && turns-- > 0) {
		ssize_t n;

		ev_run(k->loop, EVRUN_NOWAIT);
		n = recv(fd, buf + got, want - got, MSG_DONTWAIT);
		if (n > 0)
			got += (size_t)n;
		else if (n == 0)
			break;
		else
			usleep(1000);
	}
	return got;
}

START_TEST(test_channel_handoff)
{
	struct vkt_kern k = vkt_kern_new();
	struct vk_service *upper = start_service(&k, "upper", upper_service, VK_BUS_LOCAL);
	struct vk_proc_config config = vkt_config(HEAP, 1);
	const struct vk_stats *stats = vk_kern_stats(k.kern);
	uint64_t dispatches;
	char buf[64], msg[32];
	size_t len;
	int p[2];

	g_handoff_rc = g_handoff_error = -1;
	g_upper_crash = 0;
	memset(g_handoff_head, 0, sizeof(g_handoff_head));
	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, p), 0);
	/* What the connection reads itself, and what its ring took with it: first. */
	ck_assert_int_eq(write(p[1], "headfirst one\n", 14), 14);
	ck_assert_ptr_nonnull(vk_kern_spawn(k.kern, &config, handing_conn, NULL, p[0]));
	ck_assert_uint_eq(drive_until(&k, p[1], buf, 10, 1000), 10);
	ck_assert_int_eq(memcmp(buf, "FIRST ONE\n", 10), 0);
	ck_assert_str_eq(g_handoff_head, "head");
	/*
	 * Ten round trips: the service runs for each, the connection's
	 * process never (before the handoff it ran for each, twice).
	 */
	dispatches = stats->dispatches;
	for (int i = 0; i < 10; i++) {
		len = (size_t)snprintf(msg, sizeof(msg), "message %d\n", i);
		ck_assert_int_eq(write(p[1], msg, len), (ssize_t)len);
		ck_assert_uint_eq(drive_until(&k, p[1], buf, len, 1000), len);
		for (size_t j = 0; j < len; j++)
			msg[j] =
			    msg[j] >= 'a' && msg[j] <= 'z' ? (char)(msg[j] - 'a' + 'A') : msg[j];
		ck_assert_int_eq(memcmp(buf, msg, len), 0);
	}
	ck_assert_uint_le(stats->dispatches - dispatches, 10);
	ck_assert_int_eq(g_handoff_rc, -1); /* still handed off */
	/* The client's end of stream ends the service's stream; it closes; all ends. */
	ck_assert_int_eq(shutdown(p[1], SHUT_WR), 0);
	ck_assert_uint_eq(drive_until(&k, p[1], buf, 1, 1000), 0);
	ck_assert_int_eq(g_handoff_error, 0);
	ck_assert_int_eq(g_handoff_rc, 0);
	ck_assert_uint_eq(stats->faults, 0);
	ck_assert_uint_eq(stats->procs_now, 1); /* the service */
	close(p[1]);
	vk_service_stop(upper);
	vkt_kern_free(&k);
}
END_TEST

START_TEST(test_channel_handoff_peer_faults)
{
	struct vkt_kern k = vkt_kern_new();
	struct vk_service *upper = start_service(&k, "upper", upper_service, VK_BUS_LOCAL);
	struct vk_proc_config config = vkt_config(HEAP, 1);
	const struct vk_stats *stats = vk_kern_stats(k.kern);
	char buf[64];
	int p[2];

	g_handoff_rc = g_handoff_error = -1;
	g_upper_crash = 1;
	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, p), 0);
	ck_assert_int_eq(write(p[1], "headok\n", 7), 7);
	ck_assert_ptr_nonnull(vk_kern_spawn(k.kern, &config, handing_conn, NULL, p[0]));
	ck_assert_uint_eq(drive_until(&k, p[1], buf, 3, 1000), 3);
	ck_assert_int_eq(memcmp(buf, "OK\n", 3), 0);
	/* The service faults: the connection hears EPIPE, ends, and its client sees the end. */
	ck_assert_int_eq(write(p[1], "boom!\n", 6), 6);
	ck_assert_uint_eq(drive_until(&k, p[1], buf, 1, 1000), 0);
	ck_assert_int_eq(g_handoff_error, EPIPE);
	ck_assert_uint_eq(stats->faults, 1);
	close(p[1]);
	g_upper_crash = 0;
	vk_service_stop(upper);
	vkt_kern_free(&k);
}
END_TEST

/* ================================================================== */
/* Opening: unknown, down, by address                                   */
/* ================================================================== */

static int g_open_error;

static void open_named(struct vk_thread *that)
{
	struct {
		struct vk_socket *ch;
	} * self;

	vk_begin();
	vk_channel_open(self->ch, (const char *)vk_arg());
	vk_finally();
	g_open_error = vk_error();
	vk_clear_error();
	vk_end();
}

START_TEST(test_channel_open_errors)
{
	struct vkt_kern k = vkt_kern_new();

	ck_assert_ptr_nonnull(vk_bus_service_add(vk_kern_bus(k.kern), "down", VK_BUS_LOCAL));
	g_open_error = -1;
	vkt_spawn(&k, HEAP, 1, open_named, "nowhere");
	vk_kern_run(k.kern);
	ck_assert_int_eq(g_open_error, ENOENT);
	g_open_error = -1;
	vkt_spawn(&k, HEAP, 1, open_named, "down");
	vk_kern_run(k.kern);
	ck_assert_int_eq(g_open_error, ECONNREFUSED);
	vkt_kern_free(&k);
}
END_TEST

static uint64_t g_addr;

static void addressee(struct vk_thread *that)
{
	struct {
		struct vk_socket *peer;
		ssize_t n;
	} * self;

	vk_begin();
	g_addr = vk_self();
	vk_channel_accept(self->peer);
	vk_socket_readline(self->peer, self->n, g_got, sizeof(g_got) - 1);
	g_got[self->n] = '\0';
	vk_end();
}

static void addresser(struct vk_thread *that)
{
	struct {
		struct vk_socket *ch;
	} * self;

	vk_begin();
	vk_channel_open_addr(self->ch, g_addr);
	vk_socket_write(self->ch, "by address\n", 11);
	vk_finally();
	g_client_error = vk_error();
	vk_end();
}

START_TEST(test_channel_by_address)
{
	struct vkt_kern k = vkt_kern_new();

	g_addr = 0;
	g_got[0] = '\0';
	g_client_error = -1;
	vkt_spawn(&k, HEAP, 1, addressee, NULL);
	vkt_spawn(&k, HEAP, 1, addresser, NULL);
	vk_kern_run(k.kern);
	ck_assert_uint_eq(g_addr >> VK_BUS_ADDR_BITS, 1);
	ck_assert_int_eq(g_client_error, 0);
	ck_assert_str_eq(g_got, "by address\n");
	/* Gone: its address leads nowhere. */
	g_open_error = -1;
	vkt_spawn(&k, HEAP, 1, addresser, NULL);
	vk_kern_run(k.kern);
	ck_assert_int_eq(g_client_error, ECONNREFUSED);
	vkt_kern_free(&k);
}
END_TEST

/* ================================================================== */
/* Messages with an end: hup / readhup, twice over one channel          */
/* ================================================================== */

static char g_replies[128];

static void request_server(struct vk_thread *that)
{
	struct {
		struct vk_socket *peer;
		char req[64];
		ssize_t n;
		int i;
	} * self;

	vk_begin();
	vk_channel_accept(self->peer);
	vk_use_socket(self->peer);
	for (self->i = 0; self->i < 2; self->i++) {
		vk_read(self->n, self->req, sizeof(self->req));
		vk_readhup();
		vk_write_literal("re:");
		vk_write(self->req, (size_t)self->n);
		vk_hup();
	}
	vk_end();
}

static void request_client(struct vk_thread *that)
{
	struct {
		struct vk_socket *ch;
		char buf[64];
		ssize_t n;
	} * self;

	vk_begin();
	vk_channel_open(self->ch, "req");
	vk_use_socket(self->ch);
	vk_write_literal("one");
	vk_hup();
	vk_read(self->n, self->buf, sizeof(self->buf));
	vk_readhup();
	strncat(g_replies, self->buf, (size_t)self->n);
	vk_write_literal("two");
	vk_hup();
	vk_read(self->n, self->buf, sizeof(self->buf));
	vk_readhup();
	strncat(g_replies, self->buf, (size_t)self->n);
	vk_finally();
	g_client_error = vk_error();
	vk_end();
}

START_TEST(test_channel_messages)
{
	struct vkt_kern k = vkt_kern_new();
	struct vk_service *req = start_service(&k, "req", request_server, VK_BUS_LOCAL);

	g_replies[0] = '\0';
	g_client_error = -1;
	vkt_spawn(&k, HEAP, 1, request_client, NULL);
	vk_kern_run(k.kern);
	ck_assert_int_eq(g_client_error, 0);
	ck_assert_str_eq(g_replies, "re:onere:two");
	vk_service_stop(req);
	vkt_kern_free(&k);
}
END_TEST

/* ================================================================== */
/* A service that faults: its peer sees EPIPE, it comes back            */
/* ================================================================== */

static int g_starts;
static int g_c1_error;
static char g_c2_reply[32];

/* The first instance faults on its first byte; the next ones echo. */
static void fragile_service(struct vk_thread *that)
{
	struct {
		struct vk_socket *peer;
		char buf[32];
		ssize_t n;
	} * self;

	vk_begin();
	g_starts++;
	for (;;) {
		vk_channel_accept(self->peer);
		vk_socket_readline(self->peer, self->n, self->buf, sizeof(self->buf));
		if (g_starts == 1)
			fault_segv();
		vk_socket_write(self->peer, self->buf, (size_t)self->n);
		vk_channel_close(self->peer);
	}
	vk_end();
}

static void fragile_client(struct vk_thread *that)
{
	struct {
		struct vk_socket *ch;
		char buf[32];
		ssize_t n;
	} * self;

	vk_begin();
	if (vk_arg())
		vk_sleep(50); /* after the restart */
	vk_channel_open(self->ch, "fragile");
	vk_socket_write(self->ch, "ping\n", 5);
	vk_socket_readline(self->ch, self->n, self->buf, sizeof(self->buf) - 1);
	self->buf[self->n] = '\0';
	if (vk_arg())
		strcpy(g_c2_reply, self->buf);
	vk_finally();
	if (!vk_arg())
		g_c1_error = vk_error();
	vk_clear_error();
	vk_end();
}

START_TEST(test_service_fault_restart)
{
	struct vkt_kern k = vkt_kern_new();
	struct vk_service *fragile = start_service(&k, "fragile", fragile_service, VK_BUS_LOCAL);
	const struct vk_stats *stats = vk_kern_stats(k.kern);

	g_starts = 0;
	g_c1_error = -1;
	g_c2_reply[0] = '\0';
	vkt_spawn(&k, HEAP, 1, fragile_client, NULL);
	vkt_spawn(&k, HEAP, 1, fragile_client, (void *)1);
	vk_kern_run(k.kern);
	ck_assert_int_eq(g_c1_error, EPIPE);
	ck_assert_str_eq(g_c2_reply, "ping\n");
	ck_assert_int_eq(g_starts, 2);
	ck_assert_uint_eq(stats->faults, 1);
	ck_assert_uint_eq(stats->service_restarts, 1);
	ck_assert_uint_eq(stats->services_now, 1);
	ck_assert_ptr_nonnull(strstr(vkt_log_buf, "service fragile"));
	vk_service_stop(fragile);
	vkt_kern_free(&k);
}
END_TEST

/* ================================================================== */
/* Publish/subscribe: the queue is bounded; what does not fit is dropped */
/* ================================================================== */

#define MSG 1000
#define MSGS 100

static int g_sub_ready;
static int g_received;
static int g_in_order;
static uint64_t g_dropped;
static size_t g_own_bytes;
static int g_pub_dispatches;

static void lazy_subscriber(struct vk_thread *that)
{
	struct {
		struct vk_socket *sub;
		char msg[MSG];
		ssize_t n;
	} * self;

	vk_begin();
	vk_subscribe(self->sub, "news");
	g_sub_ready = 1;
	vk_sleep(50);
	g_in_order = 1;
	while (!vk_socket_eof(self->sub)) {
		struct iovec iov[2];

		if (vk_socket_peek_iov(self->sub, iov) == 0)
			break;
		vk_socket_read(self->sub, self->n, self->msg, MSG);
		if (self->n != MSG || (unsigned char)self->msg[0] != g_received)
			g_in_order = 0;
		g_received++;
	}
	g_dropped = vk_dropped(self->sub);
	vk_end();
}

static void publisher(struct vk_thread *that)
{
	struct {
		struct vk_socket *own;
		char msg[MSG];
		int i;
		struct iovec iov[2];
	} * self;

	vk_begin();
	vk_subscribe(self->own, "news");
	for (self->i = 0; self->i < MSGS; self->i++) {
		memset(self->msg, self->i, MSG);
		vk_publish("news", self->msg, MSG);
	}
	g_pub_dispatches = (int)vk_task_proc(that)->sched->stats->dispatches;
	vk_sleep(10);
	/* It hears nothing it published itself. */
	vk_socket_peek_iov(self->own, self->iov);
	g_own_bytes = vk_socket_eof(self->own) ? 1 : self->iov[0].iov_len;
	vk_end();
}

START_TEST(test_pubsub_drops_when_full)
{
	struct vkt_kern k = vkt_kern_new();
	const struct vk_stats *stats = vk_kern_stats(k.kern);

	g_sub_ready = g_received = g_in_order = g_pub_dispatches = 0;
	g_dropped = 0;
	g_own_bytes = 99;
	vkt_spawn(&k, HEAP, 1, lazy_subscriber, NULL);
	vkt_spawn(&k, HEAP, 1, publisher, NULL);
	vk_kern_run(k.kern);
	/* The first messages, in order, as many as the queue holds; the rest dropped. */
	ck_assert_int_eq(g_received, VK_SUBSCRIPTION_RING / MSG);
	ck_assert_int_eq(g_in_order, 1);
	ck_assert_uint_eq(g_dropped, MSGS - VK_SUBSCRIPTION_RING / MSG);
	ck_assert_uint_eq(stats->drops, g_dropped);
	ck_assert_uint_eq(stats->messages, MSGS);
	ck_assert_uint_eq(g_own_bytes, 0);
	/* The publisher never waited: all 100 went out in its first dispatch. */
	ck_assert_int_le(g_pub_dispatches, 2);
	vkt_kern_free(&k);
}
END_TEST

/* A subscriber that keeps up loses nothing: 10,000 messages, one dispatch per batch. */
static void keen_subscriber(struct vk_thread *that)
{
	struct {
		struct vk_socket *sub;
		char line[32];
		ssize_t n;
		int expect;
	} * self;

	vk_begin();
	vk_subscribe(self->sub, "tick");
	g_in_order = 1;
	for (self->expect = 0; self->expect < 10000; self->expect++) {
		vk_socket_readline(self->sub, self->n, self->line, sizeof(self->line) - 1);
		self->line[self->n] = '\0';
		if (atoi(self->line) != self->expect)
			g_in_order = 0;
		g_received++;
	}
	g_dropped = vk_dropped(self->sub);
	vk_channel_close(self->sub);
	vk_end();
}

static void ticker(struct vk_thread *that)
{
	struct {
		char line[32];
		int i;
	} * self;

	vk_begin();
	for (self->i = 0; self->i < 10000; self->i++) {
		int len = snprintf(self->line, sizeof(self->line), "%d\n", self->i);

		vk_publish("tick", self->line, (size_t)len);
		/* A yield would run it again in the same dispatch: let the others run. */
		if (self->i % 100 == 99)
			vk_sleep(1);
	}
	vk_end();
}

START_TEST(test_pubsub_keeps_up)
{
	struct vkt_kern k = vkt_kern_new();

	g_received = g_in_order = 0;
	g_dropped = 1;
	vkt_spawn(&k, HEAP, 1, keen_subscriber, NULL);
	vkt_spawn(&k, HEAP, 1, keen_subscriber, NULL);
	vkt_spawn(&k, HEAP, 1, ticker, NULL);
	vk_kern_run(k.kern);
	ck_assert_int_eq(g_received, 20000);
	ck_assert_int_eq(g_in_order, 1);
	ck_assert_uint_eq(g_dropped, 0);
	ck_assert_uint_eq(vk_kern_stats(k.kern)->drops, 0);
	vkt_kern_free(&k);
}
END_TEST

/* A last will: published when its process faults. */
static void will_subscriber(struct vk_thread *that)
{
	struct {
		struct vk_socket *sub;
		ssize_t n;
	} * self;

	vk_begin();
	vk_subscribe(self->sub, "room");
	vk_socket_readline(self->sub, self->n, g_got, sizeof(g_got) - 1);
	g_got[self->n] = '\0';
	vk_end();
}

static void will_maker(struct vk_thread *that)
{
	struct {
		int unused;
	} * self;

	vk_begin();
	vk_will("room", "* bob left\n", 11);
	vk_yield();
	fault_segv();
	vk_end();
}

START_TEST(test_pubsub_will_on_fault)
{
	struct vkt_kern k = vkt_kern_new();

	g_got[0] = '\0';
	vkt_spawn(&k, HEAP, 1, will_subscriber, NULL);
	vkt_spawn(&k, HEAP, 1, will_maker, NULL);
	vk_kern_run(k.kern);
	ck_assert_str_eq(g_got, "* bob left\n");
	ck_assert_uint_eq(vk_kern_stats(k.kern)->faults, 1);
	vkt_kern_free(&k);
}
END_TEST

/* ================================================================== */
/* Two workers: a shard in the other worker, and publications across    */
/* ================================================================== */

/* Replies to each line with "W:line", W being its worker. */
static void shard_service(struct vk_thread *that)
{
	struct {
		struct vk_socket *peer;
		char buf[64];
		ssize_t n;
	} * self;

	vk_begin();
	for (;;) {
		vk_channel_accept(self->peer);
		vk_socket_readline(self->peer, self->n, self->buf + 2, sizeof(self->buf) - 2);
		self->buf[0] = (char)('0' + vk_worker());
		self->buf[1] = ':';
		vk_socket_write(self->peer, self->buf, (size_t)self->n + 2);
		vk_socket_hup(self->peer);
		vk_channel_close(self->peer);
	}
	vk_end();
}

#define BULK (100 * 1000)

/* Sends BULK bytes of a pattern on each channel, then closes it. */
static void bulk_service(struct vk_thread *that)
{
	struct {
		struct vk_socket *peer;
		char buf[BULK];
		int i;
	} * self;

	vk_begin();
	for (self->i = 0; self->i < BULK; self->i++)
		self->buf[self->i] = (char)('a' + self->i % 1000 % 26);
	for (;;) {
		vk_channel_accept(self->peer);
		/* One write much larger than the ring: the bridge takes a part at once. */
		vk_socket_write(self->peer, self->buf, BULK);
		vk_channel_close(self->peer);
	}
	vk_end();
}

static int g_done;
static size_t g_bulk_got;
static int g_bulk_ok;
static char g_remote_reply[64];
static char g_remote_pub[64];

/* Worker 2: asks the shard of a key that worker 1 owns, then publishes. */
static void remote_client(struct vk_thread *that)
{
	struct {
		struct vk_socket *ch;
		char key[16];
		char buf[4096];
		ssize_t n;
		int i;
	} * self;

	vk_begin();
	/* Give the other worker's subscriber its time to subscribe. */
	vk_sleep(100);
	do
		snprintf(self->key, sizeof(self->key), "k%d", self->i++);
	while (vk_shard_of(self->key, strlen(self->key)) != 1);
	vk_channel_open_key(self->ch, "shard", self->key, strlen(self->key));
	vk_socket_write(self->ch, "hello\n", 6);
	vk_socket_read(self->ch, self->n, g_remote_reply, sizeof(g_remote_reply) - 1);
	g_remote_reply[self->n] = '\0';
	vk_channel_close(self->ch);
	/* Far more than a ring's worth, from the other worker. */
	vk_channel_open_key(self->ch, "bulk", self->key, strlen(self->key));
	g_bulk_ok = 1;
	for (;;) {
		vk_socket_read_some(self->ch, self->n, self->buf, sizeof(self->buf));
		if (self->n == 0)
			break;
		for (ssize_t j = 0; j < self->n; j++)
			if (self->buf[j] != (char)('a' + (g_bulk_got + (size_t)j) % 1000 % 26))
				g_bulk_ok = 0;
		g_bulk_got += (size_t)self->n;
	}
	vk_publish("across", "from 2\n", 7);
	vk_finally();
	g_client_error = vk_error();
	vk_clear_error();
	g_done = 1;
	vk_end();
}

/* Worker 1: waits for what worker 2 publishes. */
static void remote_subscriber(struct vk_thread *that)
{
	struct {
		struct vk_socket *sub;
		ssize_t n;
	} * self;

	vk_begin();
	vk_subscribe(self->sub, "across");
	vk_socket_readline(self->sub, self->n, g_remote_pub, sizeof(g_remote_pub) - 1);
	g_remote_pub[self->n] = '\0';
	g_done = 1;
	vk_end();
}

static void stop_when_done(struct ev_loop *loop, struct ev_timer *timer, int revents)
{
	(void)revents;
	(void)timer;
	if (g_done)
		ev_break(loop, EVBREAK_ALL);
}

/* Run worker `index` of 2 on link `fd` until g_done or 5 s. */
static void run_worker(unsigned index, int fd, vk_func client)
{
	struct vkt_kern k = vkt_kern_new();
	struct vk_service *shard, *bulk;
	struct vk_mesh *mesh;
	struct ev_timer poll, limit;

	vk_bus_set_geometry(vk_kern_bus(k.kern), index, 2);
	mesh = vk_mesh_create(k.kern);
	ck_assert_ptr_nonnull(mesh);
	ck_assert_int_eq(vk_mesh_add_peer(mesh, 3 - index, fd), 0);
	shard = start_service(&k, "shard", shard_service, VK_BUS_SHARDED);
	bulk = start_service(&k, "bulk", bulk_service, VK_BUS_SHARDED);
	vkt_spawn(&k, HEAP, 1, client, NULL);
	ev_timer_init(&poll, stop_when_done, 0.01, 0.01);
	ev_timer_start(k.loop, &poll);
	ev_timer_init(&limit, stop_when_done, 5., 0.);
	ev_timer_start(k.loop, &limit);
	g_done = 0;
	ev_run(k.loop, 0);
	/* A little longer: the other worker may still need this one's shard. */
	ev_timer_stop(k.loop, &poll);
	ev_timer_set(&limit, 0.2, 0.);
	ev_timer_start(k.loop, &limit);
	ev_run(k.loop, 0);
	ev_timer_stop(k.loop, &limit);
	vk_service_stop(shard);
	vk_service_stop(bulk);
	vk_mesh_destroy(mesh);
	vkt_kern_free(&k);
}

START_TEST(test_mesh_two_workers)
{
	int sv[2];
	pid_t pid;
	int status;

	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		close(sv[0]);
		g_client_error = -1;
		run_worker(2, sv[1], remote_client);
		/* The shard answered from worker 1, through the link; the bulk came whole. */
		if (g_client_error != 0 || strcmp(g_remote_reply, "1:hello\n") != 0)
			_exit(1);
		_exit(g_bulk_got == BULK && g_bulk_ok ? 0 : 2);
	}
	close(sv[1]);
	g_remote_pub[0] = '\0';
	run_worker(1, sv[0], remote_subscriber);
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert_str_eq(g_remote_pub, "from 2\n");
	ck_assert(WIFEXITED(status));
	ck_assert_int_eq(WEXITSTATUS(status), 0);
}
END_TEST

static Suite *channel_suite(void)
{
	Suite *s = suite_create("vk_channel");
	TCase *tc = tcase_create("channels");

	tcase_add_test(tc, test_channel_echo);
	tcase_add_test(tc, test_channel_stream);
	tcase_add_test(tc, test_channel_peer_ends);
	tcase_add_test(tc, test_channel_peer_faults);
	tcase_add_test(tc, test_channel_bounded);
	tcase_add_test(tc, test_channel_batches);
	tcase_add_test(tc, test_channel_handoff);
	tcase_add_test(tc, test_channel_handoff_peer_faults);
	tcase_add_test(tc, test_channel_open_errors);
	tcase_add_test(tc, test_channel_by_address);
	tcase_add_test(tc, test_channel_messages);
	tcase_add_test(tc, test_service_fault_restart);
	suite_add_tcase(s, tc);
	tc = tcase_create("pubsub");
	tcase_add_test(tc, test_pubsub_drops_when_full);
	tcase_add_test(tc, test_pubsub_keeps_up);
	tcase_add_test(tc, test_pubsub_will_on_fault);
	suite_add_tcase(s, tc);
	tc = tcase_create("mesh");
	tcase_set_timeout(tc, 20);
	tcase_add_test(tc, test_mesh_two_workers);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return check_run(channel_suite());
}
