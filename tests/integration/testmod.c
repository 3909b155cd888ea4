/*
 * testmod: modules for the integration tests, one source built several
 * ways (see tests/integration/local.mk):
 *
 *  crashmod   [app crash], an echo app whose init hook fails or crashes as
 *             opt.crash says: "init" (refuse with EIO), "abort" (SIGABRT),
 *             "workers" (refuse with EIO, naming opt.crash, every time but
 *             the first, which is vkd's module check: workers then
 *             crash-loop), "root" (refuse with EACCES when run as root),
 *             "exit" (exit(0), as if all went well), "hang" (never
 *             return), anything else or unset (start normally)
 *  badmagic   a descriptor with the wrong magic
 *  badabi     a descriptor with the wrong ABI major
 *  newminor   a descriptor with an ABI minor newer than vkd's
 *  badpaths   an echo app declaring a path option whose name has a '/'
 *  minor13    a descriptor of ABI 2.13, before vk_app_refuse()
 *  badlayout  a descriptor built against another struct vk_thread
 *  badshape   one built against a struct vk_thread of the same size whose
 *             fields sit elsewhere
 *  nodesc     no descriptor at all
 *  trapmod    [app trap], an echo app whose connection misbehaves on
 *             command: the line "!abort" calls abort(), "!assert" fails
 *             an assert(), "!segv" writes through NULL, "!spin" computes
 *             forever, "!bigstate" calls a coroutine whose state is larger
 *             than any heap, "!bigalloc" asks vk_alloc() for more than
 *             any heap, "!bigring" answers "ring N" and reads from a socket
 *             on a socketpair whose N-byte receive ring (allocated at its
 *             first read) does not fit what the heap has left, "!switch"
 *             blocks inside a switch statement of
 *             its own, "!nodelay PORT" answers "nodelay N" where N is the
 *             TCP_NODELAY of the worker's TCP socket whose peer port is
 *             PORT (the client's own: an app does not see its descriptor);
 *             any other line is echoed
 *  ver1, ver2 [app ver], an echo app that answers the line "version" with
 *             "1" or "2"; ver2's code and data sit at other offsets, as a
 *             rebuilt module's would
 *  tickmod    [app tick]: the first line is a number of milliseconds; then
 *             one coroutine reads the client's lines (and drops them) and
 *             another writes "tick\n" that often, each waiting on its own:
 *             the writer receives a message from a clock coroutine per tick
 */
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <stdlib.h>
#include <string.h>

#include "vk_app.h"
#include "vk_socket.h"

/* VK_APP_LAYOUT, but for the sizes of struct vk_thread and struct vk_app_context given. */
#define TESTMOD_LAYOUT(thread_size, context_size)                                            \
	{                                                                                    \
		.thread = (thread_size), .app_context = (context_size),                      \
		.http_request = sizeof(struct vk_http_request),                              \
		.http_chunked = sizeof(struct vk_http_chunked),                              \
		.http_limits = sizeof(struct vk_http_limits),                                \
		.http_out = sizeof(struct vk_http_out), .thread_shape = VK_APP_THREAD_SHAPE, \
		.http_shape = VK_APP_HTTP_SHAPE,                                             \
	}

/* Unused by the trap app, which has its own. */
static __attribute__((unused)) void echo_main(struct vk_thread *that)
{
	struct {
		char line[1024];
		ssize_t n;
	} * self;

	vk_begin();
	for (;;) {
		vk_readline(self->n, self->line, sizeof(self->line));
		if (self->n == 0)
			break;
		vk_write(self->line, (size_t)self->n);
	}
	vk_finally();
	vk_clear_error();
	vk_end();
}

#if defined(TESTMOD_VERSION)

#if TESTMOD_VERSION == 2
/* Moves what follows in .text and .rodata. */
__attribute__((used)) static const char testmod_pad[8192] = {2};
__attribute__((used)) static void testmod_pad_code(void)
{
	__asm__ volatile(".fill 8192, 1, 0x90");
}
#endif

#define TESTMOD_STR(x) #x
#define TESTMOD_XSTR(x) TESTMOD_STR(x)

static void ver_main(struct vk_thread *that)
{
	static const char version[] = TESTMOD_XSTR(TESTMOD_VERSION) "\n";
	struct {
		char line[1024];
		ssize_t n;
	} * self;

	vk_begin();
	for (;;) {
		vk_readline(self->n, self->line, sizeof(self->line));
		if (self->n == 0)
			break;
		if (self->n == 8 && memcmp(self->line, "version\n", 8) == 0)
			vk_write(version, sizeof(version) - 1);
		else
			vk_write(self->line, (size_t)self->n);
	}
	vk_finally();
	vk_clear_error();
	vk_end();
}

VK_APP_FULL("ver", ver_main, 65536, NULL, NULL);

#elif defined(TESTMOD_CRASH)

/*
 * Append the CLOCK_MONOTONIC ms of this start to opt.stamp, if set.
 * Returns whether this was the first start recorded there.
 */
static int stamp(const char *path)
{
	struct timespec ts;
	char line[32];
	int fd, n, first;

	if (!path || clock_gettime(CLOCK_MONOTONIC, &ts) < 0)
		return 1;
	first = access(path, F_OK) != 0;
	n = snprintf(line, sizeof(line), "%lld\n",
		     (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000);
	fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
	if (fd < 0)
		return first;
	if (write(fd, line, (size_t)n) != n)
		n = -1;
	close(fd);
	return first;
}

static void *crash_init(const struct vk_app_context *context, int *error)
{
	const char *how = context->option(context, "crash");
	int first = stamp(context->option(context, "stamp"));

	if (how && strcmp(how, "init") == 0)
		*error = 5; /* EIO */
	if (how && strcmp(how, "workers") == 0 && !first) {
		vk_app_refuse(context, "crash");
		*error = 5;
	}
	if (how && strcmp(how, "abort") == 0)
		abort();
	if (how && strcmp(how, "root") == 0 && geteuid() == 0)
		*error = 13; /* EACCES */
	if (how && strcmp(how, "exit") == 0)
		exit(0);
	while (how && strcmp(how, "hang") == 0)
		pause();
	return NULL;
}

VK_APP_FULL("crash", echo_main, 65536, crash_init, NULL);

#elif defined(TESTMOD_TRAP)

#undef NDEBUG
#include <assert.h>

static int *volatile trap_null;
static volatile int trap_zero;
static volatile unsigned long trap_spins;

/* A coroutine whose state cannot fit a heap (at most 1 GiB, vkd.ini(5)). */
static void too_big(struct vk_thread *that)
{
	struct {
		char bytes[(size_t)2 << 30];
	} * self;

	vk_begin();
	self->bytes[0] = 1;
	vk_end();
}

/* A blocking operation inside a switch of its own: it resumes at vk_end(). */
static void blocks_in_switch(struct vk_thread *that)
{
	struct {
		int unused;
	} * self;

	vk_begin();
	switch (trap_zero) {
	case 0:
		vk_yield();
		break;
	default:
		break;
	}
	vk_end();
}

/* Reads from a socket whose receive ring the heap cannot hold (see "!bigring"). */
static void big_ring(struct vk_thread *that)
{
	struct {
		struct vk_socket *s;
		int fds[2];
		size_t ring;
		char line[32];
		ssize_t n;
	} * self;

	vk_begin();
	self->fds[0] = self->fds[1] = -1;
	/* The send ring fits what is left, the receive ring no longer does. */
	self->ring = vk_heap_left() / 3 * 2 / 4096 * 4096;
	self->n = snprintf(self->line, sizeof(self->line), "ring %zu\n", self->ring);
	vk_write(self->line, (size_t)self->n);
	vk_flush();
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, self->fds) < 0)
		vk_raise(errno);
	if (write(self->fds[1], "x\n", 2) != 2)
		vk_raise(EIO);
	self->s = vk_socket_create(that, self->ring);
	if (!self->s)
		vk_raise(ENOMEM);
	if (vk_socket_bind_fd(that, self->s, self->fds[0]) < 0)
		vk_raise(EBADF);
	self->fds[0] = -1;
	vk_socket_read_some(self->s, self->n, self->line, sizeof(self->line));
	vk_finally();
	if (self->fds[0] >= 0)
		close(self->fds[0]);
	if (self->fds[1] >= 0)
		close(self->fds[1]);
	vk_end();
}

/* The store through a null pointer is the fault under test: UBSan must let
 * it reach the kernel's handler rather than stop the worker first. */
__attribute__((no_sanitize_undefined)) static void trap(struct vk_thread *that, const char *line)
{
	if (strcmp(line, "!abort\n") == 0)
		abort();
	if (strcmp(line, "!assert\n") == 0)
		assert(trap_zero == 1);
	if (strcmp(line, "!segv\n") == 0)
		*trap_null = 1;
	if (strcmp(line, "!spin\n") == 0)
		for (;;)
			trap_spins++;
}

/* "nodelay N" for the TCP socket of this process whose peer port is `port`. */
static size_t nodelay_of_peer(unsigned port, char *out, size_t size)
{
	for (int fd = 0; fd < 4096; fd++) {
		struct sockaddr_storage peer;
		socklen_t len = sizeof(peer);
		int value = -1;
		socklen_t value_len = sizeof(value);
		unsigned at;

		if (getpeername(fd, (struct sockaddr *)&peer, &len) < 0)
			continue;
		if (peer.ss_family == AF_INET)
			at = ntohs(((struct sockaddr_in *)&peer)->sin_port);
		else if (peer.ss_family == AF_INET6)
			at = ntohs(((struct sockaddr_in6 *)&peer)->sin6_port);
		else
			continue;
		if (at != port)
			continue;
		if (getsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &value, &value_len) < 0)
			break;
		return (size_t)snprintf(out, size, "nodelay %d\n", value);
	}
	return (size_t)snprintf(out, size, "nodelay ?\n");
}

static void trap_main(struct vk_thread *that)
{
	struct {
		char line[1024];
		ssize_t n;
		char *big;
	} * self;

	vk_begin();
	for (;;) {
		vk_readline(self->n, self->line, sizeof(self->line) - 1);
		if (self->n == 0)
			break;
		self->line[self->n] = '\0';
		trap(that, self->line);
		if (strcmp(self->line, "!bigstate\n") == 0)
			vk_call(too_big, NULL);
		if (strcmp(self->line, "!bigalloc\n") == 0)
			vk_alloc(self->big, 1 << 20);
		if (strcmp(self->line, "!bigring\n") == 0)
			vk_call(big_ring, NULL);
		if (strcmp(self->line, "!switch\n") == 0)
			vk_call(blocks_in_switch, NULL);
		if (strncmp(self->line, "!nodelay ", 9) == 0)
			self->n = (ssize_t)nodelay_of_peer((unsigned)atoi(self->line + 9),
							   self->line, sizeof(self->line));
		vk_write(self->line, (size_t)self->n);
	}
	vk_finally();
	vk_clear_error();
	vk_end();
}

VK_APP("trap", trap_main, 65536);

#elif defined(TESTMOD_TICK)

#include "vk_future.h"

struct tick_plan {
	struct vk_thread *writer;
	uint32_t ms;
};

/* Writes a tick for every message it receives. */
static void tick_writer(struct vk_thread *that)
{
	struct {
		intptr_t message;
	} * self;

	vk_begin();
	for (;;) {
		vk_receive(self->message);
		vk_write_literal("tick\n");
		vk_flush();
	}
	vk_end();
}

/* Tells the writer every plan->ms. */
static void tick_clock(struct vk_thread *that)
{
	struct {
		struct tick_plan *plan;
	} * self;

	vk_begin();
	self->plan = vk_arg();
	for (;;) {
		vk_sleep(self->plan->ms);
		vk_send(self->plan->writer, 1);
	}
	vk_end();
}

static void tick_main(struct vk_thread *that)
{
	struct {
		struct tick_plan plan;
		struct vk_thread *clock;
		char line[64];
		ssize_t n;
	} * self;

	vk_begin();
	vk_readline(self->n, self->line, sizeof(self->line) - 1);
	if (self->n == 0)
		vk_return();
	self->line[self->n] = '\0';
	self->plan.ms = (uint32_t)strtoul(self->line, NULL, 10);
	vk_spawn(self->plan.writer, tick_writer, NULL);
	vk_spawn(self->clock, tick_clock, &self->plan);
	for (;;) {
		vk_readline(self->n, self->line, sizeof(self->line));
		if (self->n == 0)
			break;
	}
	vk_finally();
	vk_clear_error();
	vk_end();
}

VK_APP("tick", tick_main, 65536);

#elif defined(TESTMOD_BADMAGIC)

__attribute__((visibility("default"))) const struct vk_app vk_app_descriptor = {
    .magic = 0xdeadbeefu,
    .abi_major = VK_APP_ABI_MAJOR,
    .abi_minor = VK_APP_ABI_MINOR,
    .layout = VK_APP_LAYOUT,
    .name = "badmagic",
    .main = echo_main,
    .heap_size = 65536,
};

#elif defined(TESTMOD_BADABI)

__attribute__((visibility("default"))) const struct vk_app vk_app_descriptor = {
    .magic = VK_APP_MAGIC,
    .abi_major = VK_APP_ABI_MAJOR + 1,
    .abi_minor = 0,
    .layout = VK_APP_LAYOUT,
    .name = "badabi",
    .main = echo_main,
    .heap_size = 65536,
};

#elif defined(TESTMOD_NEWMINOR)

__attribute__((visibility("default"))) const struct vk_app vk_app_descriptor = {
    .magic = VK_APP_MAGIC,
    .abi_major = VK_APP_ABI_MAJOR,
    .abi_minor = VK_APP_ABI_MINOR + 1,
    .layout = VK_APP_LAYOUT,
    .name = "newminor",
    .main = echo_main,
    .heap_size = 65536,
};

#elif defined(TESTMOD_BADPATHS)

VK_APP("badpaths", echo_main, 65536);
VK_APP_PATHS("root", "sub/dir");

#elif defined(TESTMOD_OLDCONTEXT) || defined(TESTMOD_SHORTCONTEXT)

/*
 * As if built against ABI 2.12's headers, whose struct vk_app_context
 * ended before heap_size: with minor 12 it loads (oldcontext), with this
 * minor it is a mismatch (shortcontext).
 */
__attribute__((visibility("default"))) const struct vk_app vk_app_descriptor = {
    .magic = VK_APP_MAGIC,
    .abi_major = VK_APP_ABI_MAJOR,
#ifdef TESTMOD_OLDCONTEXT
    .abi_minor = 12,
    .name = "oldcontext",
#else
    .abi_minor = VK_APP_ABI_MINOR,
    .name = "shortcontext",
#endif
    .layout = TESTMOD_LAYOUT(sizeof(struct vk_thread), offsetof(struct vk_app_context, heap_size)),
    .main = echo_main,
    .heap_size = 65536,
};

#elif defined(TESTMOD_MINOR13)

/* As if built against ABI 2.13's headers (no vk_app_refuse(), the same layout): it loads. */
__attribute__((visibility("default"))) const struct vk_app vk_app_descriptor = {
    .magic = VK_APP_MAGIC,
    .abi_major = VK_APP_ABI_MAJOR,
    .abi_minor = 13,
    .layout = VK_APP_LAYOUT,
    .name = "minor13",
    .main = echo_main,
    .heap_size = 65536,
};

#elif defined(TESTMOD_BADLAYOUT)

/* As if built against headers whose struct vk_thread had one more field. */
__attribute__((visibility("default"))) const struct vk_app vk_app_descriptor = {
    .magic = VK_APP_MAGIC,
    .abi_major = VK_APP_ABI_MAJOR,
    .abi_minor = VK_APP_ABI_MINOR,
    .layout = TESTMOD_LAYOUT(sizeof(struct vk_thread) + 8, sizeof(struct vk_app_context)),
    .name = "badlayout",
    .main = echo_main,
    .heap_size = 65536,
};

#elif defined(TESTMOD_BADSHAPE)

/*
 * As if built against headers where two fields of struct vk_thread swapped
 * places: every size the same, the shape not.
 */
#define TESTMOD_THREAD_SWAPPED                                                     \
	(VK_APP_THREAD_SHAPE - VK_APP_TERM(2, offsetof(struct vk_thread, error)) - \
	 VK_APP_TERM(3, offsetof(struct vk_thread, wake_error)) +                  \
	 VK_APP_TERM(2, offsetof(struct vk_thread, wake_error)) +                  \
	 VK_APP_TERM(3, offsetof(struct vk_thread, error)))

__attribute__((visibility("default"))) const struct vk_app vk_app_descriptor = {
    .magic = VK_APP_MAGIC,
    .abi_major = VK_APP_ABI_MAJOR,
    .abi_minor = VK_APP_ABI_MINOR,
    .layout =
	{
	    .thread = sizeof(struct vk_thread),
	    .app_context = sizeof(struct vk_app_context),
	    .http_request = sizeof(struct vk_http_request),
	    .http_chunked = sizeof(struct vk_http_chunked),
	    .http_limits = sizeof(struct vk_http_limits),
	    .http_out = sizeof(struct vk_http_out),
	    .thread_shape = TESTMOD_THREAD_SWAPPED,
	    .http_shape = VK_APP_HTTP_SHAPE,
	},
    .name = "badshape",
    .main = echo_main,
    .heap_size = 65536,
};

#else /* TESTMOD_NODESC */

__attribute__((visibility("default"))) void (*testmod_not_a_descriptor)(struct vk_thread *) =
    echo_main;

#endif
