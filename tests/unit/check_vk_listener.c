/*
 * vk_listener: how connections are taken off the accept queue, counted in
 * loop iterations rather than time, so that a loaded machine cannot make
 * the tests pass or fail.
 *
 * The server is this process's kernel with a listener on a loopback port;
 * the clients are plain sockets of the same process. A blocking connect()
 * to loopback returns once the handshake is done, the connection waiting
 * in the accept queue; each test then turns the loop one iteration at a
 * time (ev_run(EVRUN_ONCE)) and looks at what was accepted and answered.
 */
#include "vk_check.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include "vk_poll.h"

#define HEAP (64 * 1024)
/* Busy keep-alive connections, and new ones queued behind them. */
#define BUSY 64
#define FRESH 64

/* Answer every line with "ok\n" until the peer closes. */
static void answer_main(struct vk_thread *that)
{
	struct {
		char line[64];
		ssize_t n;
	} * self;

	vk_begin();
	for (;;) {
		vk_readline(self->n, self->line, sizeof(self->line));
		if (self->n == 0)
			break;
		vk_write_literal("ok\n");
	}
	vk_finally();
	vk_clear_error();
	vk_end();
}

/* Answer the first line with the connection's TCP_NODELAY, "0\n" or "1\n". */
static void nodelay_main(struct vk_thread *that)
{
	struct {
		char line[64];
		char answer[2];
		ssize_t n;
	} * self;
	int value = -1;
	socklen_t len = sizeof(value);

	vk_begin();
	vk_readline(self->n, self->line, sizeof(self->line));
	if (getsockopt(that->socket->entry->fd, IPPROTO_TCP, TCP_NODELAY, &value, &len) < 0)
		value = -1;
	self->answer[0] = value == 1 ? '1' : value == 0 ? '0' : '?';
	self->answer[1] = '\n';
	vk_write(self->answer, 2);
	vk_finally();
	vk_clear_error();
	vk_end();
}

struct server {
	struct vkt_kern k;
	struct vk_listener *listener;
	int fd;
	int port;
};

static void server_start_app(struct server *s, vk_func main)
{
	struct sockaddr_in addr;
	socklen_t len = sizeof(addr);
	struct vk_proc_config config = vkt_config(HEAP, 0);

	s->k = vkt_kern_new();
	s->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	ck_assert_int_ge(s->fd, 0);
	memset(&addr, 0, sizeof(addr));
	addr.sin_family = AF_INET;
	addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ck_assert_int_eq(bind(s->fd, (struct sockaddr *)&addr, sizeof(addr)), 0);
	/* Room for every client of a test in the accept queue. */
	ck_assert_int_eq(listen(s->fd, 2 * (BUSY + FRESH)), 0);
	ck_assert_int_eq(getsockname(s->fd, (struct sockaddr *)&addr, &len), 0);
	s->port = ntohs(addr.sin_port);
	s->listener = vk_listener_open(s->k.kern, s->fd, &config, main, NULL, 0);
	ck_assert_ptr_nonnull(s->listener);
}

static void server_start(struct server *s)
{
	server_start_app(s, answer_main);
}

static void server_stop(struct server *s)
{
	vk_listener_close(s->listener);
	vkt_kern_free(&s->k);
	close(s->fd);
}

static uint64_t accepted(const struct server *s)
{
	return vk_kern_stats(s->k.kern)->accepted;
}

/* One loop iteration: dispatch what is queued, poll, take the events in. */
static void turn(struct server *s)
{
	ev_run(s->k.loop, EVRUN_ONCE);
}

/* A client connected to the server: the connection waits to be accepted. */
static int client(const struct server *s)
{
	struct sockaddr_in addr;
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	ck_assert_int_ge(fd, 0);
	memset(&addr, 0, sizeof(addr));
	addr.sin_family = AF_INET;
	addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	addr.sin_port = htons((uint16_t)s->port);
	ck_assert_int_eq(connect(fd, (struct sockaddr *)&addr, sizeof(addr)), 0);
	return fd;
}

static void ask(int fd)
{
	ck_assert_int_eq(send(fd, "q\n", 2, MSG_NOSIGNAL), 2);
}

/* 1 when the answer to one question has come, 0 when not yet. */
static int answered(int fd)
{
	char buf[3];
	ssize_t n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT | MSG_PEEK);

	if (n < 3)
		return 0;
	ck_assert_int_eq(recv(fd, buf, sizeof(buf), 0), 3);
	ck_assert(memcmp(buf, "ok\n", 3) == 0);
	return 1;
}

/*
 * An idle worker takes one connection per readiness event: workers share
 * one accept queue, and one that took a burst would serve it alone while
 * another sat idle.
 */
START_TEST(test_idle_worker_accepts_one_per_event)
{
	struct server s;
	int fds[8];

	server_start(&s);
	for (int i = 0; i < 8; i++)
		fds[i] = client(&s);
	for (int i = 1; i <= 8; i++) {
		turn(&s);
		ck_assert_uint_eq(accepted(&s), (uint64_t)i);
	}
	for (int i = 0; i < 8; i++)
		close(fds[i]);
	server_stop(&s);
}
END_TEST

/*
 * A busy worker does not leave new connections in the accept queue: with
 * BUSY keep-alive connections asking on every iteration, FRESH new ones
 * that asked at once are all answered within a few iterations. Accepting
 * one per iteration took FRESH iterations, each as long as serving every
 * busy connection: at 1,000 connections, seconds.
 */
START_TEST(test_busy_worker_keeps_up_with_new_connections)
{
	struct server s;
	int busy[BUSY], fresh[FRESH];
	int done[FRESH] = {0};
	int left = FRESH, turns = 0;

	server_start(&s);
	for (int i = 0; i < BUSY; i++)
		busy[i] = client(&s);
	for (int i = 0; i < 10 * BUSY && accepted(&s) < BUSY; i++)
		turn(&s);
	ck_assert_uint_eq(accepted(&s), BUSY);
	for (int i = 0; i < BUSY; i++)
		ask(busy[i]);
	for (int i = 0; i < FRESH; i++) {
		fresh[i] = client(&s);
		ask(fresh[i]);
	}
	while (left && turns < FRESH) {
		turn(&s);
		turns++;
		for (int i = 0; i < BUSY; i++) {
			if (answered(busy[i]))
				ask(busy[i]);
		}
		for (int i = 0; i < FRESH; i++) {
			if (!done[i] && answered(fresh[i])) {
				done[i] = 1;
				left--;
			}
		}
	}
	ck_assert_msg(left == 0 && turns <= 8, "%d of %d new connections answered in %d turns",
		      FRESH - left, FRESH, turns);
	for (int i = 0; i < BUSY; i++)
		close(busy[i]);
	for (int i = 0; i < FRESH; i++)
		close(fresh[i]);
	server_stop(&s);
}
END_TEST

/* TCP_NODELAY as the listener was told, on every accepted connection. */
START_TEST(test_nodelay)
{
	struct server s;
	char answer[2];

	server_start_app(&s, nodelay_main);
	for (int round = 0; round < 4; round++) {
		int on = round % 2 == 0;
		int fd;

		ck_assert_int_eq(vk_listener_set_nodelay(s.listener, on), 0);
		fd = client(&s);
		ask(fd);
		/* Not turn(): once the answer is out nothing is left to wake the loop. */
		for (int i = 0; i < 1000 && recv(fd, answer, 2, MSG_DONTWAIT | MSG_PEEK) < 2; i++)
			ev_run(s.k.loop, EVRUN_NOWAIT);
		ck_assert_int_eq(recv(fd, answer, 2, 0), 2);
		ck_assert_int_eq(answer[0], on ? '1' : '0');
		close(fd);
	}
	server_stop(&s);
}
END_TEST

static Suite *listener_suite(void)
{
	Suite *s = suite_create("vk_listener");
	TCase *tc = tcase_create("accept");

	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_idle_worker_accepts_one_per_event);
	tcase_add_test(tc, test_busy_worker_keeps_up_with_new_connections);
	tcase_add_test(tc, test_nodelay);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return check_run(listener_suite());
}
