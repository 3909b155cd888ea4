/*
 * tests/bench/http-ir.c: an HTTP app module served on a socketpair inside
 * one process, so that callgrind can count the instructions the server
 * spends per request (tests/bench/http-instructions runs it). Load on the
 * machine does not change the count, unlike req/s and CPU time.
 *
 * Usage: http-ir MODULE DEPTH BATCHES [ISOLATION [CONNECTIONS]]
 * loads MODULE as vkd would (its init hook with no options), starts
 * CONNECTIONS (default 1) connections' micro-processes on socketpairs,
 * and writes BATCHES batches of DEPTH pipelined "GET /" in one write to
 * each, reading all the answers of a batch before the next: DEPTH 1 is
 * keep-alive. The server runs inside ev_run(), the client outside it:
 * count with `valgrind --tool=callgrind --toggle-collect=ev_run`. With
 * 100 connections, as wrk -c100 keeps, their heaps compete for the
 * caches: `--cache-sim=yes` then shows what a layout costs in misses.
 * Built against a build tree's libvk.a (whole, exported: the module
 * resolves vk_* here).
 */
#include <dlfcn.h>
#include <ev.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "vk.h"
#include "vk_kern.h"

static const char request[] = "GET / HTTP/1.1\r\nHost: 127.0.0.1:8080\r\n\r\n";
static const char body[] = "Hello, World!\n";

static const char *no_option(const struct vk_app_context *context, const char *key)
{
	(void)context;
	(void)key;
	return NULL;
}

/* Count the answers in what the server sent: one body each. */
static long count_answers(const char *p, size_t n, char *tail)
{
	static char buf[65536 + sizeof(body)];
	size_t keep = sizeof(body) - 2;
	long found = 0;

	memcpy(buf, tail, keep);
	memcpy(buf + keep, p, n);
	for (size_t i = 0; i + sizeof(body) - 1 <= keep + n; i++)
		found += memcmp(buf + i, body, sizeof(body) - 1) == 0;
	memcpy(tail, buf + n, keep);
	return found;
}

/* One client's side of a connection. */
struct client {
	int fd;
	long answers;
	char tail[sizeof(body)];
};

int main(int argc, char **argv)
{
	struct vk_app_context context = {.name = "http", .option = no_option};
	struct vk_proc_config config = {.timeout_ms = 60000};
	const struct vk_app *app;
	struct ev_loop *loop;
	struct vk_kern *kern;
	size_t len = sizeof(request) - 1;
	long depth, batches, nclients = 1, answers = 0;
	void *state = NULL, *module;
	int error = 0;
	struct client *clients;
	char *batch;

	if (argc < 4) {
		fprintf(stderr, "usage: %s MODULE DEPTH BATCHES [ISOLATION [CONNECTIONS]]\n",
			argv[0]);
		return 2;
	}
	depth = atol(argv[2]);
	batches = atol(argv[3]);
	config.isolation = argc > 4 ? atoi(argv[4]) : 0;
	if (argc > 5)
		nclients = atol(argv[5]);
	module = dlopen(argv[1], RTLD_NOW);
	app = module ? dlsym(module, VK_APP_SYMBOL) : NULL;
	clients = nclients > 0 ? calloc((size_t)nclients, sizeof(*clients)) : NULL;
	if (!app || depth < 1 || batches < 1 || !clients) {
		fprintf(stderr, "http-ir: %s\n", module ? "bad arguments" : dlerror());
		return 2;
	}
	if (app->init)
		state = app->init(&context, &error);
	loop = ev_default_loop(0);
	kern = vk_kern_create(loop);
	if (error || !kern) {
		fprintf(stderr, "http-ir: cannot start\n");
		return 1;
	}
	config.heap_size = app->heap_size;
	for (long c = 0; c < nclients; c++) {
		int fds[2];

		if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, fds) < 0 ||
		    !vk_kern_spawn(kern, &config, app->main, state, fds[0])) {
			fprintf(stderr, "http-ir: cannot spawn\n");
			return 1;
		}
		clients[c].fd = fds[1];
	}
	batch = malloc(len * (size_t)depth);
	for (long i = 0; i < depth; i++)
		memcpy(batch + len * (size_t)i, request, len);
	for (long b = 0; b < batches; b++) {
		long done = 0;

		for (long c = 0; c < nclients; c++) {
			size_t off = 0;

			while (off < len * (size_t)depth) {
				ssize_t n =
				    write(clients[c].fd, batch + off, len * (size_t)depth - off);

				if (n > 0)
					off += (size_t)n;
				else
					ev_run(loop, EVRUN_NOWAIT);
			}
		}
		while (done < nclients) {
			ev_run(loop, EVRUN_NOWAIT);
			done = 0;
			for (long c = 0; c < nclients; c++) {
				struct client *cl = &clients[c];
				char in[65536];
				ssize_t n;

				while (cl->answers < (b + 1) * depth &&
				       (n = read(cl->fd, in, sizeof(in))) > 0)
					cl->answers += count_answers(in, (size_t)n, cl->tail);
				done += cl->answers >= (b + 1) * depth;
			}
		}
	}
	for (long c = 0; c < nclients; c++)
		answers += clients[c].answers;
	printf("%ld answers\n", answers);
	return 0;
}
