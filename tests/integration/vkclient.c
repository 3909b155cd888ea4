/*
 * vkclient: the integration tests' client and helpers.
 *
 *	vkclient port
 *		bind a free loopback TCP port and print it (the port is free
 *		again when this exits; a race with others is possible but rare)
 *	vkclient load PORT CLIENTS LINES
 *		CLIENTS concurrent connections to 127.0.0.1:PORT, each sending
 *		LINES lines of random length (1..8000 bytes) and checking that
 *		every byte comes back; exit 1 with a message on a mismatch
 *	vkclient hold PORT
 *		connect, echo one line and send half of another; print "held"
 *		and the local port, wait for a line on stdin; then send the rest
 *		of the line, check its echo and print "ok"; exit 1 on failure
 *	vkclient notify PATH OUT
 *		bind an AF_UNIX datagram socket at PATH and append every
 *		message received to OUT, one message a line (newlines in a
 *		message become spaces); exit on SIGTERM
 *	vkclient ask PORT LINE
 *		send LINE and a newline, print the one line that comes back
 *		(without its newline); exit 1 if none comes within 5 s
 *	vkclient wait PORT MS
 *		exit 0 as soon as 127.0.0.1:PORT accepts a connection, 1 after MS
 *	vkclient crowd PORT N LINE
 *		N connections each echo a line; then one more sends LINE (a
 *		newline is added) while the N send their second line at once.
 *		That one must be closed by the server (end of stream or reset)
 *		with no echo, within 10 s; each of the N must get its second
 *		line back, and a third. Prints "closed after MS ms"; exit 1
 *		with a message otherwise
 *	vkclient open PORT N
 *		N connections that each echo a line, then wait for a line on
 *		stdin (the N stay open meanwhile); prints each local port, one a
 *		line, then "open" when all are established; then each echoes a
 *		second line: prints "closed PORT" for each that the server
 *		closed, then "done"
 */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stddef.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#define LINE_MAX_LEN 8000
#define LOAD_TIMEOUT_MS 15000

static long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int die(const char *what)
{
	fprintf(stderr, "vkclient: %s: %s\n", what, strerror(errno));
	return 1;
}

static int connect_port(int port, int nonblock)
{
	struct sockaddr_in sin = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
	int fd = socket(AF_INET, SOCK_STREAM | (nonblock ? SOCK_NONBLOCK : 0), 0);

	if (fd < 0)
		return -1;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (connect(fd, (struct sockaddr *)&sin, sizeof(sin)) < 0 && errno != EINPROGRESS) {
		close(fd);
		return -1;
	}
	return fd;
}

static int cmd_port(void)
{
	struct sockaddr_in sin = {.sin_family = AF_INET};
	socklen_t len = sizeof(sin);
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	if (fd < 0)
		return die("socket");
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(fd, (struct sockaddr *)&sin, sizeof(sin)) < 0 ||
	    getsockname(fd, (struct sockaddr *)&sin, &len) < 0)
		return die("bind");
	printf("%d\n", ntohs(sin.sin_port));
	close(fd);
	return 0;
}

static int cmd_wait(int port, int ms)
{
	long end = now_ms() + ms;

	while (now_ms() < end) {
		int fd = connect_port(port, 0);

		if (fd >= 0) {
			close(fd);
			return 0;
		}
		usleep(20000);
	}
	fprintf(stderr, "vkclient: port %d not accepting after %d ms\n", port, ms);
	return 1;
}

/* ---- load ---- */

struct client {
	int fd;
	char *out;  /* everything to send */
	size_t len; /* its length */
	size_t sent;
	size_t got; /* bytes echoed and checked */
	int done;
};

static void make_lines(struct client *c, int lines, unsigned *seed)
{
	c->out = malloc((size_t)lines * (LINE_MAX_LEN + 1));
	if (!c->out) {
		fprintf(stderr, "vkclient: out of memory\n");
		exit(1);
	}
	c->len = 0;
	for (int i = 0; i < lines; i++) {
		size_t n = 1 + (size_t)(rand_r(seed) % LINE_MAX_LEN);

		for (size_t j = 0; j < n; j++)
			c->out[c->len++] = (char)('!' + rand_r(seed) % 90);
		c->out[c->len++] = '\n';
	}
}

static int client_step(struct client *c, short revents, int index)
{
	char buf[65536];

	if ((revents & POLLOUT) && c->sent < c->len) {
		ssize_t n = send(c->fd, c->out + c->sent, c->len - c->sent, MSG_NOSIGNAL);

		if (n < 0 && errno != EAGAIN)
			return die("send");
		if (n > 0)
			c->sent += (size_t)n;
	}
	if (!(revents & (POLLIN | POLLHUP | POLLERR)))
		return 0;
	for (;;) {
		ssize_t n = recv(c->fd, buf, sizeof(buf), 0);

		if (n < 0 && errno == EAGAIN)
			return 0;
		if (n < 0)
			return die("recv");
		if (n == 0) {
			fprintf(stderr, "vkclient: client %d: closed after %zu of %zu bytes\n",
				index, c->got, c->len);
			return 1;
		}
		if (c->got + (size_t)n > c->len || memcmp(buf, c->out + c->got, (size_t)n) != 0) {
			fprintf(stderr, "vkclient: client %d: echo differs at byte %zu\n", index,
				c->got);
			return 1;
		}
		c->got += (size_t)n;
		if (c->got == c->len) {
			c->done = 1;
			close(c->fd);
			c->fd = -1;
			return 0;
		}
	}
}

static int cmd_load(int port, int count, int lines)
{
	struct client *clients = calloc((size_t)count, sizeof(*clients));
	struct pollfd *pfd = calloc((size_t)count, sizeof(*pfd));
	unsigned seed = (unsigned)getpid();
	long end = now_ms() + LOAD_TIMEOUT_MS;
	int left = count;

	for (int i = 0; i < count; i++) {
		clients[i].fd = connect_port(port, 1);
		if (clients[i].fd < 0)
			return die("connect");
		make_lines(&clients[i], lines, &seed);
	}
	while (left > 0) {
		int rc;

		for (int i = 0; i < count; i++) {
			pfd[i].fd = clients[i].fd;
			pfd[i].events = POLLIN | (clients[i].sent < clients[i].len ? POLLOUT : 0);
		}
		rc = poll(pfd, (nfds_t)count, 1000);
		if (rc < 0 && errno != EINTR)
			return die("poll");
		if (now_ms() > end) {
			fprintf(stderr, "vkclient: %d of %d clients not done in time\n", left,
				count);
			return 1;
		}
		for (int i = 0; rc > 0 && i < count; i++) {
			if (clients[i].fd < 0 || !pfd[i].revents)
				continue;
			if (client_step(&clients[i], pfd[i].revents, i))
				return 1;
		}
		left = 0;
		for (int i = 0; i < count; i++)
			left += !clients[i].done;
	}
	for (int i = 0; i < count; i++)
		free(clients[i].out);
	free(clients);
	free(pfd);
	return 0;
}

/* ---- hold ---- */

/* Send `line` and read back `echo` (what was sent before, and `line`). */
static int echo_expect(int fd, const char *line, const char *echo)
{
	size_t len = strlen(echo), got = 0;
	char buf[256];

	if (send(fd, line, strlen(line), MSG_NOSIGNAL) != (ssize_t)strlen(line))
		return die("send");
	while (got < len) {
		struct pollfd pfd = {.fd = fd, .events = POLLIN};
		ssize_t n;

		if (poll(&pfd, 1, 5000) <= 0) {
			fprintf(stderr, "vkclient: no echo in 5 s\n");
			return 1;
		}
		n = recv(fd, buf + got, sizeof(buf) - got, 0);
		if (n <= 0) {
			fprintf(stderr, "vkclient: connection lost: %s\n",
				n == 0 ? "closed by the server" : strerror(errno));
			return 1;
		}
		got += (size_t)n;
	}
	if (got != len || memcmp(buf, echo, len) != 0) {
		fprintf(stderr, "vkclient: wrong echo\n");
		return 1;
	}
	return 0;
}

/*
 * Held in the middle of a line: a connection between lines is idle, and a
 * draining worker lets an idle one go after a short grace (vk_await_idle),
 * which a test on a busy machine could outlast; one in the middle of a
 * message it serves to the end.
 */
static int cmd_hold(int port)
{
	static const char half[] = "second ";
	char line[64];
	int fd = connect_port(port, 0);

	if (fd < 0)
		return die("connect");
	struct sockaddr_in self;
	socklen_t len = sizeof(self);

	if (echo_expect(fd, "first line\n", "first line\n"))
		return 1;
	if (send(fd, half, sizeof(half) - 1, MSG_NOSIGNAL) != (ssize_t)sizeof(half) - 1)
		return die("send");
	if (getsockname(fd, (struct sockaddr *)&self, &len) < 0)
		return die("getsockname");
	printf("held %d\n", ntohs(self.sin_port));
	fflush(stdout);
	if (!fgets(line, sizeof(line), stdin)) {
		fprintf(stderr, "vkclient: stdin closed\n");
		return 1;
	}
	if (echo_expect(fd, "line\n", "second line\n"))
		return 1;
	printf("ok\n");
	fflush(stdout);
	close(fd);
	return 0;
}

/* ---- crowd ---- */

/*
 * Wall time, generous: a round may wait for a spinning handler to use up
 * its CPU budget (1 s by default), which on a loaded 2-core CI machine
 * took 11 s of wall time.
 */
#define CROWD_TIMEOUT_MS 30000

/* Send "tag i" on each of the n descriptors and wait for every echo. */
static int echo_all(const int *fds, int n, const char *tag)
{
	struct pollfd *pfd = calloc((size_t)n, sizeof(*pfd));
	size_t *got = calloc((size_t)n, sizeof(*got));
	char line[64], buf[64];
	long end = now_ms() + CROWD_TIMEOUT_MS;
	int left = n, rc = 1;

	if (!pfd || !got)
		return die("calloc");
	for (int i = 0; i < n; i++) {
		int len = snprintf(line, sizeof(line), "%s %d\n", tag, i);

		if (send(fds[i], line, (size_t)len, MSG_NOSIGNAL) != len) {
			fprintf(stderr, "vkclient: %s: connection %d: send: %s\n", tag, i,
				strerror(errno));
			goto out;
		}
		pfd[i].fd = fds[i];
		pfd[i].events = POLLIN;
	}
	while (left > 0) {
		int ready = poll(pfd, (nfds_t)n, 1000);

		if (ready < 0 && errno != EINTR) {
			die("poll");
			goto out;
		}
		if (now_ms() > end) {
			fprintf(stderr, "vkclient: %s: %d of %d connections got no echo in time\n",
				tag, left, n);
			goto out;
		}
		for (int i = 0; ready > 0 && i < n; i++) {
			int len = snprintf(line, sizeof(line), "%s %d\n", tag, i);
			ssize_t r;

			if (pfd[i].fd < 0 || !pfd[i].revents)
				continue;
			r = recv(fds[i], buf + got[i], sizeof(buf) - got[i], MSG_DONTWAIT);
			if (r <= 0) {
				fprintf(stderr, "vkclient: %s: connection %d lost: %s\n", tag, i,
					r == 0 ? "closed by the server" : strerror(errno));
				goto out;
			}
			got[i] += (size_t)r;
			if (got[i] < (size_t)len)
				continue;
			if (got[i] != (size_t)len || memcmp(buf, line, (size_t)len) != 0) {
				fprintf(stderr, "vkclient: %s: connection %d: wrong echo\n", tag,
					i);
				goto out;
			}
			pfd[i].fd = -1;
			left--;
		}
	}
	rc = 0;
out:
	free(pfd);
	free(got);
	return rc;
}

/* Wait until the server closes fd, reading nothing; the ms it took, or -1. */
static long wait_closed(int fd, long start)
{
	struct pollfd pfd = {.fd = fd, .events = POLLIN};
	char buf[256];
	ssize_t n;

	if (poll(&pfd, 1, CROWD_TIMEOUT_MS) <= 0) {
		fprintf(stderr, "vkclient: the trap connection is still open after %d ms\n",
			CROWD_TIMEOUT_MS);
		return -1;
	}
	n = recv(fd, buf, sizeof(buf), 0);
	if (n > 0) {
		fprintf(stderr, "vkclient: the trap connection answered %zd bytes\n", n);
		return -1;
	}
	return now_ms() - start;
}

static void close_all(int *fds, int n)
{
	for (int i = 0; i < n; i++)
		if (fds[i] >= 0)
			close(fds[i]);
	free(fds);
}

static int *open_all(int port, int n)
{
	int *fds = calloc((size_t)n, sizeof(*fds));

	if (!fds) {
		die("calloc");
		return NULL;
	}
	for (int i = 0; i < n; i++) {
		fds[i] = connect_port(port, 0);
		if (fds[i] < 0) {
			die("connect");
			close_all(fds, i);
			return NULL;
		}
	}
	return fds;
}

static int crowd(int *fds, int port, int n, const char *trap)
{
	char line[256];
	long start, took;
	int fd, len;

	if (echo_all(fds, n, "first"))
		return 1;
	fd = connect_port(port, 0);
	if (fd < 0)
		return die("connect");
	len = snprintf(line, sizeof(line), "%s\n", trap);
	start = now_ms();
	if (send(fd, line, (size_t)len, MSG_NOSIGNAL) != len)
		return die("send");
	if (echo_all(fds, n, "second"))
		return 1;
	took = wait_closed(fd, start);
	if (took < 0)
		return 1;
	if (echo_all(fds, n, "third"))
		return 1;
	printf("closed after %ld ms\n", took);
	return 0;
}

static int cmd_crowd(int port, int n, const char *trap)
{
	int *fds = open_all(port, n);
	int rc;

	if (!fds)
		return 1;
	rc = crowd(fds, port, n, trap);
	close_all(fds, n);
	return rc;
}

/* ---- open ---- */

/* Raise the descriptor limit as far as allowed: N connections need N. */
static void raise_nofile(void)
{
	struct rlimit lim;

	if (getrlimit(RLIMIT_NOFILE, &lim) == 0 && lim.rlim_cur < lim.rlim_max) {
		lim.rlim_cur = lim.rlim_max;
		setrlimit(RLIMIT_NOFILE, &lim);
	}
}

static int hold_open(int *fds, int *ports, int n)
{
	struct sockaddr_in self;
	char line[64];

	if (echo_all(fds, n, "first"))
		return 1;
	for (int i = 0; i < n; i++) {
		socklen_t len = sizeof(self);

		if (getsockname(fds[i], (struct sockaddr *)&self, &len) < 0)
			return die("getsockname");
		ports[i] = ntohs(self.sin_port);
		printf("%d\n", ports[i]);
	}
	printf("open\n");
	fflush(stdout);
	if (!fgets(line, sizeof(line), stdin)) {
		fprintf(stderr, "vkclient: stdin closed\n");
		return 1;
	}
	for (int i = 0; i < n; i++) {
		struct pollfd pfd = {.fd = fds[i], .events = POLLIN};
		char buf[64];
		ssize_t r;

		if (send(fds[i], "second\n", 7, MSG_NOSIGNAL) != 7) {
			printf("closed %d\n", ports[i]);
			continue;
		}
		r = poll(&pfd, 1, 5000) > 0 ? recv(fds[i], buf, sizeof(buf), 0) : -1;
		if (r <= 0)
			printf("closed %d\n", ports[i]);
	}
	printf("done\n");
	return 0;
}

static int cmd_open(int port, int n)
{
	int *fds, *ports = calloc((size_t)n, sizeof(*ports));
	int rc;

	if (!ports)
		return die("calloc");
	raise_nofile();
	fds = open_all(port, n);
	if (!fds) {
		free(ports);
		return 1;
	}
	rc = hold_open(fds, ports, n);
	close_all(fds, n);
	free(ports);
	return rc;
}

static int cmd_ask(int port, const char *question)
{
	char reply[1024];
	size_t got = 0;
	int fd = connect_port(port, 0);

	if (fd < 0)
		return die("connect");
	if (send(fd, question, strlen(question), MSG_NOSIGNAL) != (ssize_t)strlen(question) ||
	    send(fd, "\n", 1, MSG_NOSIGNAL) != 1)
		return die("send");
	while (got < sizeof(reply) - 1 && !memchr(reply, '\n', got)) {
		struct pollfd pfd = {.fd = fd, .events = POLLIN};
		ssize_t n;

		if (poll(&pfd, 1, 5000) <= 0) {
			fprintf(stderr, "vkclient: no answer in 5 s\n");
			return 1;
		}
		n = recv(fd, reply + got, sizeof(reply) - 1 - got, 0);
		if (n <= 0) {
			fprintf(stderr, "vkclient: connection lost: %s\n",
				n == 0 ? "closed by the server" : strerror(errno));
			return 1;
		}
		got += (size_t)n;
	}
	reply[got] = '\0';
	reply[strcspn(reply, "\n")] = '\0';
	printf("%s\n", reply);
	close(fd);
	return 0;
}

/* ---- notify ---- */

static volatile sig_atomic_t stop;

static void on_term(int sig)
{
	(void)sig;
	stop = 1;
}

static int cmd_notify(const char *path, const char *out)
{
	struct sockaddr_un sun = {.sun_family = AF_UNIX};
	struct sigaction sa;
	FILE *f = fopen(out, "a");
	int fd = socket(AF_UNIX, SOCK_DGRAM, 0);
	char buf[4096];
	socklen_t len;

	if (!f || fd < 0)
		return die("open");
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_term;
	sigaction(SIGTERM, &sa, NULL);
	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", path);
	len = (socklen_t)sizeof(sun);
	if (path[0] == '@') {
		/* Abstract namespace: a leading NUL, and the length says where it ends. */
		sun.sun_path[0] = '\0';
		len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + strlen(path));
	} else {
		unlink(path);
	}
	if (bind(fd, (struct sockaddr *)&sun, len) < 0)
		return die("bind");
	while (!stop) {
		ssize_t n = recv(fd, buf, sizeof(buf) - 1, 0);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return die("recv");
		for (ssize_t i = 0; i < n; i++)
			if (buf[i] == '\n')
				buf[i] = ' ';
		buf[n] = '\0';
		fprintf(f, "%s\n", buf);
		fflush(f);
	}
	fclose(f);
	close(fd);
	if (path[0] != '@')
		unlink(path);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc == 2 && strcmp(argv[1], "port") == 0)
		return cmd_port();
	if (argc == 5 && strcmp(argv[1], "load") == 0)
		return cmd_load(atoi(argv[2]), atoi(argv[3]), atoi(argv[4]));
	if (argc == 3 && strcmp(argv[1], "hold") == 0)
		return cmd_hold(atoi(argv[2]));
	if (argc == 4 && strcmp(argv[1], "notify") == 0)
		return cmd_notify(argv[2], argv[3]);
	if (argc == 4 && strcmp(argv[1], "ask") == 0)
		return cmd_ask(atoi(argv[2]), argv[3]);
	if (argc == 4 && strcmp(argv[1], "wait") == 0)
		return cmd_wait(atoi(argv[2]), atoi(argv[3]));
	if (argc == 5 && strcmp(argv[1], "crowd") == 0)
		return cmd_crowd(atoi(argv[2]), atoi(argv[3]), argv[4]);
	if (argc == 4 && strcmp(argv[1], "open") == 0)
		return cmd_open(atoi(argv[2]), atoi(argv[3]));
	fprintf(
	    stderr,
	    "usage: vkclient port | load PORT CLIENTS LINES | hold PORT | "
	    "notify PATH OUT | ask PORT LINE | wait PORT MS | crowd PORT N LINE | open PORT N\n");
	return 2;
}
