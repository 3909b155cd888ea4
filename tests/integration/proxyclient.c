/*
 * proxyclient: byte streams through a proxy, checked byte for byte.
 *
 *	proxyclient echo PORT CLIENTS MAXBYTES SEED
 *		CLIENTS concurrent connections to 127.0.0.1:PORT, whose far end
 *		echoes. Each sends a payload of random bytes, its length drawn
 *		log-uniformly from 1 to MAXBYTES (client 0 sends exactly
 *		MAXBYTES, client 1 one byte), ends its side (shutdown SHUT_WR),
 *		and reads until end of stream, checking that exactly its bytes
 *		came back, in order. Prints "clients N bytes B ms T"; exits 1
 *		with a message on the first mismatch, reset, or after 120 s.
 *
 * The payload of each client is regenerated from (SEED, client) to
 * check what comes back, so nothing is stored.
 */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <math.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define DEADLINE_MS 120000
#define CHUNK 65536

static long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static uint64_t splitmix(uint64_t *state)
{
	uint64_t z = (*state += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

/* A byte stream both ends can regenerate. */
struct stream {
	uint64_t state;
	uint64_t word;
	int left;
};

static void stream_init(struct stream *s, uint64_t seed, int client)
{
	memset(s, 0, sizeof(*s));
	s->state = seed * 1000003u + (uint64_t)client;
}

static void stream_fill(struct stream *s, unsigned char *buf, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (!s->left) {
			s->word = splitmix(&s->state);
			s->left = 8;
		}
		buf[i] = (unsigned char)s->word;
		s->word >>= 8;
		s->left--;
	}
}

struct client {
	int fd;
	size_t total;
	size_t sent;
	size_t received;
	int sent_all;
	int done;
	struct stream out;
	struct stream expect;
	unsigned char pending[CHUNK];
	size_t pending_off;
	size_t pending_len;
};

static size_t payload_length(uint64_t seed, int client, size_t max)
{
	uint64_t state = seed ^ (0xabcdefull + (uint64_t)client * 7919u);
	double u = (double)(splitmix(&state) >> 11) / 9007199254740992.0;
	double len;

	if (client == 0)
		return max;
	if (client == 1)
		return 1;
	/* Log-uniform: as many small payloads as large ones, per decade. */
	len = exp(u * log((double)max));
	return len < 1 ? 1 : (size_t)len;
}

static int fail(int client, const char *what)
{
	fprintf(stderr, "proxyclient: client %d: %s\n", client, what);
	return 1;
}

static int connect_to(int port)
{
	struct sockaddr_in sin = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return -1;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (connect(fd, (struct sockaddr *)&sin, sizeof(sin)) < 0 && errno != EINPROGRESS) {
		close(fd);
		return -1;
	}
	return fd;
}

static int client_send(int ep, struct client *c, int index)
{
	while (!c->sent_all) {
		ssize_t n;

		if (c->pending_off == c->pending_len) {
			size_t left = c->total - c->sent;

			c->pending_off = 0;
			c->pending_len = left < CHUNK ? left : CHUNK;
			stream_fill(&c->out, c->pending, c->pending_len);
		}
		n = send(c->fd, c->pending + c->pending_off, c->pending_len - c->pending_off,
			 MSG_NOSIGNAL);
		if (n < 0) {
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return 0;
			return fail(index, strerror(errno));
		}
		c->pending_off += (size_t)n;
		c->sent += (size_t)n;
		if (c->sent == c->total) {
			struct epoll_event ev = {.events = EPOLLIN, .data.u32 = (uint32_t)index};

			if (shutdown(c->fd, SHUT_WR) < 0)
				return fail(index, strerror(errno));
			if (epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &ev) < 0)
				return fail(index, "epoll_ctl");
			c->sent_all = 1;
		}
	}
	return 0;
}

static int client_receive(struct client *c, int index)
{
	unsigned char buf[CHUNK], want[CHUNK];

	for (;;) {
		ssize_t n = recv(c->fd, buf, sizeof(buf), 0);

		if (n < 0) {
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return 0;
			return fail(index, strerror(errno));
		}
		if (n == 0) {
			if (c->received != c->total) {
				char msg[96];

				snprintf(msg, sizeof(msg), "end of stream after %zu of %zu bytes",
					 c->received, c->total);
				return fail(index, msg);
			}
			c->done = 1;
			close(c->fd);
			return 0;
		}
		if (c->received + (size_t)n > c->total)
			return fail(index, "more bytes than were sent");
		stream_fill(&c->expect, want, (size_t)n);
		if (memcmp(buf, want, (size_t)n) != 0) {
			char msg[96];

			snprintf(msg, sizeof(msg), "wrong bytes at offset %zu", c->received);
			return fail(index, msg);
		}
		c->received += (size_t)n;
	}
}

static int cmd_echo(int port, int count, size_t max, uint64_t seed)
{
	struct client *clients = calloc((size_t)count, sizeof(*clients));
	struct rlimit lim;
	long start = now_ms();
	size_t bytes = 0;
	int ep = epoll_create1(EPOLL_CLOEXEC);
	int left = count;

	if (!clients || ep < 0)
		return fail(-1, "out of memory");
	if (getrlimit(RLIMIT_NOFILE, &lim) == 0 && lim.rlim_cur < (rlim_t)count + 64) {
		lim.rlim_cur =
		    lim.rlim_max < (rlim_t)count + 64 ? lim.rlim_max : (rlim_t)count + 64;
		setrlimit(RLIMIT_NOFILE, &lim);
	}
	for (int i = 0; i < count; i++) {
		struct client *c = &clients[i];
		struct epoll_event ev = {.events = EPOLLIN | EPOLLOUT, .data.u32 = (uint32_t)i};

		c->total = payload_length(seed, i, max);
		bytes += c->total;
		stream_init(&c->out, seed, i);
		stream_init(&c->expect, seed, i);
		c->fd = connect_to(port);
		if (c->fd < 0)
			return fail(i, "connect");
		if (epoll_ctl(ep, EPOLL_CTL_ADD, c->fd, &ev) < 0)
			return fail(i, "epoll_ctl");
	}
	while (left > 0) {
		struct epoll_event events[256];
		int n = epoll_wait(ep, events, 256, 1000);

		if (now_ms() - start > DEADLINE_MS) {
			for (int i = 0; i < count; i++)
				if (!clients[i].done)
					return fail(i, "not done in 120 s");
		}
		for (int k = 0; k < n; k++) {
			int i = (int)events[k].data.u32;
			struct client *c = &clients[i];

			if (c->done)
				continue;
			if ((events[k].events & EPOLLOUT) && client_send(ep, c, i))
				return 1;
			if ((events[k].events & (EPOLLIN | EPOLLHUP | EPOLLERR)) &&
			    client_receive(c, i))
				return 1;
			if (c->done)
				left--;
		}
	}
	printf("clients %d bytes %zu ms %ld\n", count, bytes, now_ms() - start);
	free(clients);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc == 6 && strcmp(argv[1], "echo") == 0)
		return cmd_echo(atoi(argv[2]), atoi(argv[3]), (size_t)strtoull(argv[4], NULL, 10),
				strtoull(argv[5], NULL, 10));
	fprintf(stderr, "usage: proxyclient echo PORT CLIENTS MAXBYTES SEED\n");
	return 2;
}
