/*
 * tests/bench/micro: micro-benchmarks of libvk (issue 2, "Benchmark").
 *
 * Prints one table. Every figure is the median of several runs (each run
 * long enough to take >= 50 ms, after a warm-up that also calibrates the
 * iteration count), next to a baseline measured in the same run, their
 * ratio, and the goal. Wall-clock ns from CLOCK_MONOTONIC; nothing pinned.
 *
 *  1. yield: two coroutines of one micro-process alternately vk_yield().
 *     One "round trip" = the scheduler resumes a coroutine and it yields
 *     back (one vk_yield() of one coroutine); ns = elapsed / total yields.
 *     Baselines: a call through a volatile function pointer (call+return),
 *     and a swapcontext() round trip (swap to a makecontext'd context and
 *     back: two swapcontext calls).
 *  2. message: ping-pong of vk_send()/vk_receive() between two coroutines
 *     of one micro-process; each direction counts as one message, so
 *     ns/msg = elapsed / (2 * round trips). Baseline: the yield round trip.
 *  3. dispatch: four micro-processes each blocked in vk_read_some() on a
 *     socketpair; A1, B1 with isolation = 1, A0, B0 with isolation = 0. A
 *     cycle writes one byte to the peer of a process, runs one
 *     ev_run(EVRUN_NOWAIT) (epoll sees it) and one vk_kern_dispatch() (the
 *     process reads it and blocks again). A and B alternate, so every
 *     dispatch opens a heap that is closed. The goal compares: protection
 *     overhead per dispatch = cycle(isolation 1) - cycle(isolation 0)
 *     (median of per-run differences), against a bare
 *     mprotect(PROT_READ|PROT_WRITE) + mprotect(PROT_NONE) pair in a tight
 *     loop on the very heap of A1 (same size, same VMA, same resident
 *     pages) while it is protected. A second baseline, "by hand": isolation
 *     0 and the benchmark itself does the same pair around
 *     vk_kern_dispatch(), so the ratio to it is what libvk adds over the
 *     two system calls where they have to happen. A third, with no libvk
 *     at all: the bare pair after a one-byte write+read on a socketpair,
 *     minus that write+read alone, which shows what the same two calls
 *     cost next to socket calls rather than in a tight loop. Also checked:
 *     vk_kern_stats() counts one dispatch per byte and exactly 2
 *     protections per dispatch with isolation, 0 without. And the
 *     watchdog's cost: cycle(isolation 0, max_run 1 s) - cycle(isolation
 *     0, no max_run), median of per-run differences (the per-dispatch
 *     bookkeeping and the CPU-clock ticks, one per 100 ms of CPU).
 *  4. RSS: N = 10,000 micro-processes with a 64 KiB heap, each on one
 *     accepted Unix stream connection (the client ends live in a second
 *     process, so each side needs 10,000 fds, under a 20,000 hard limit),
 *     each echoes one line "hello\n" and blocks reading again. RSS
 *     (VmRSS) after minus before spawning, divided by N. Runs in a fresh
 *     forked process each time (no warm-up needed: nothing is pooled).
 *     Baseline: the heap pages resident per process (mincore), to show
 *     where the bytes go; a map of which heap pages are resident follows.
 *
 *  5. channel: a round trip between two micro-processes over a channel
 *     (vk_channel.h): a client writes 8 bytes, flushes, and reads the 8
 *     bytes a service coroutine echoes back; both processes with isolation
 *     off, then both on. ns = elapsed / round trips, timed inside the
 *     client. A round trip is two dispatches (the service's, then the
 *     client's), each opening its heap and closing the other's with
 *     isolation. Baseline: the same round trip as messages between two
 *     coroutines of one micro-process (vk_send()+vk_receive() each way, 2 x
 *     row 2). Also counted (vk_kern_stats()): dispatches and protection
 *     changes a round trip.
 *
 * Usage: micro [--quick] [--runs N] [--procs N]
 *              [--only switch|dispatch|rss|channel]
 *   --quick  runs of >= 10 ms instead of 50, 5 runs, 2,000 processes
 *   --only   measure only that part (repeatable): switch = rows 1 and 2
 */
#include <errno.h>
#include <ev.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <ucontext.h>
#include <unistd.h>

#include "vk.h"
#include "vk_heap.h"
#include "vk_kern.h"
#include "vk_bus.h"
#include "vk_poll.h"
#include "vk_service.h"
#include "vk_task.h"

#define HEAP_SIZE (64 * 1024)
#define MAX_RUNS 31

static int opt_quick;
static int opt_runs = 7;
static long opt_procs = 10000;
static double min_run_ns = 50e6;

static struct ev_loop *loop;
static struct vk_kern *kern;

static double now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static void die(const char *what)
{
	fprintf(stderr, "micro: %s: %s\n", what, strerror(errno));
	exit(1);
}

static void fail(const char *what)
{
	fprintf(stderr, "micro: check failed: %s\n", what);
	exit(1);
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static double median(const double *v, int n)
{
	double s[MAX_RUNS];

	memcpy(s, v, (size_t)n * sizeof(*s));
	qsort(s, (size_t)n, sizeof(*s), cmp_double);
	return n % 2 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
}

/*
 * A measured operation: run `n` iterations, return the elapsed ns and set
 * *ops to how many operations that was.
 */
typedef double (*bench_fn)(long n, double *ops);

/* Warm up and find n such that one run takes at least min_run_ns. */
static long calibrate(bench_fn fn)
{
	long n = 256;

	for (;;) {
		double ops, t = fn(n, &ops);
		double scale;

		if (t >= min_run_ns)
			break;
		scale = t > 0 ? min_run_ns * 1.2 / t : 16;
		if (scale < 2)
			scale = 2;
		if (scale > 64)
			scale = 64;
		n = (long)((double)n * scale);
	}
	fn(n, &(double){0}); /* one more at full length: warm */
	return n;
}

/* ns per operation of one run. */
static double per_op(bench_fn fn, long n)
{
	double ops, t = fn(n, &ops);

	return t / ops;
}

/* ---------------------------------------------------------------- 1 -- */

static void __attribute__((noinline)) nop_function(void)
{
	__asm__ volatile("" ::: "memory");
}

static void (*volatile indirect)(void) = nop_function;

static double bench_indirect(long n, double *ops)
{
	double t0 = now_ns();

	for (long i = 0; i < n; i++)
		indirect();
	*ops = (double)n;
	return now_ns() - t0;
}

static ucontext_t uc_main, uc_co;

static void co_function(void)
{
	for (;;)
		swapcontext(&uc_co, &uc_main);
}

static void swapcontext_init(void)
{
	static char stack[64 * 1024];

	if (getcontext(&uc_co) == -1)
		die("getcontext");
	uc_co.uc_stack.ss_sp = stack;
	uc_co.uc_stack.ss_size = sizeof(stack);
	uc_co.uc_link = NULL;
	makecontext(&uc_co, co_function, 0);
}

static double bench_swapcontext(long n, double *ops)
{
	double t0 = now_ns();

	for (long i = 0; i < n; i++)
		swapcontext(&uc_main, &uc_co);
	*ops = (double)n;
	return now_ns() - t0;
}

/* Results handed out of a micro-process (globals are outside any heap). */
static struct {
	long n;
	double t0, t1;
	long errors;
} result;

static void yield_child(struct vk_thread *that)
{
	struct {
		long i;
	} *self;

	vk_begin();
	for (self->i = 0; self->i < result.n; self->i++)
		vk_yield();
	vk_end();
}

static void yield_main(struct vk_thread *that)
{
	struct {
		long i;
		struct vk_thread *child;
	} *self;

	vk_begin();
	vk_spawn(self->child, yield_child, NULL);
	result.t0 = now_ns();
	for (self->i = 0; self->i < result.n; self->i++)
		vk_yield();
	vk_join(self->child);
	result.t1 = now_ns();
	vk_end();
}

static void run_proc(vk_func fn)
{
	struct vk_proc_config config = {.heap_size = HEAP_SIZE, .isolation = 1};

	result.t0 = result.t1 = 0;
	if (!vk_kern_spawn(kern, &config, fn, NULL, -1))
		die("vk_kern_spawn");
	vk_kern_dispatch(kern);
	if (result.t1 == 0)
		fail("coroutine did not finish in one dispatch");
}

static double bench_yield(long n, double *ops)
{
	result.n = n;
	run_proc(yield_main);
	*ops = 2.0 * (double)n; /* both coroutines yield n times */
	return result.t1 - result.t0;
}

/* ---------------------------------------------------------------- 2 -- */

static void pong(struct vk_thread *that)
{
	struct {
		struct vk_thread *peer;
		intptr_t m;
	} *self;

	vk_begin();
	self->peer = vk_arg();
	for (;;) {
		vk_receive(self->m);
		if (self->m < 0)
			break;
		vk_send(self->peer, self->m);
	}
	vk_end();
}

static void ping(struct vk_thread *that)
{
	struct {
		long i;
		intptr_t m;
		struct vk_thread *peer;
	} *self;

	vk_begin();
	vk_spawn(self->peer, pong, that);
	result.t0 = now_ns();
	for (self->i = 0; self->i < result.n; self->i++) {
		vk_send(self->peer, self->i);
		vk_receive(self->m);
		if (self->m != self->i || vk_sender() != self->peer)
			result.errors++;
	}
	result.t1 = now_ns();
	vk_send(self->peer, -1);
	vk_join(self->peer);
	vk_end();
}

static double bench_message(long n, double *ops)
{
	result.n = n;
	result.errors = 0;
	run_proc(ping);
	if (result.errors)
		fail("messages arrived wrong");
	*ops = 2.0 * (double)n; /* one message each way per round trip */
	return result.t1 - result.t0;
}

/* ---------------------------------------------------------------- 3 -- */

static void reader_main(struct vk_thread *that)
{
	struct {
		char buf[64];
		size_t n;
	} *self;

	vk_begin();
	for (;;) {
		vk_read_some(self->n, self->buf, sizeof(self->buf));
		if (self->n == 0)
			break;
	}
	vk_end();
}

struct reader {
	struct vk_proc *proc;
	int peer;
};

static struct reader readers[2][2]; /* [isolation][A, B] */
static struct reader watched[2];    /* isolation 0, max_run 1 s: [A, B] */
static double dispatch_inner_ns;    /* time inside vk_kern_dispatch() */
static double cycle_faults[4];      /* minor page faults per dispatch, last run */

static void reader_spawn(struct reader *r, int isolation, uint32_t max_run_ms)
{
	struct vk_proc_config config = {
	    .heap_size = HEAP_SIZE, .isolation = isolation, .max_run_ms = max_run_ms};
	int sv[2];

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv) == -1)
		die("socketpair");
	r->peer = sv[1];
	r->proc = vk_kern_spawn(kern, &config, reader_main, NULL, sv[0]);
	if (!r->proc)
		die("vk_kern_spawn");
}

/*
 * One cycle for one process. `manual`: the process has isolation off and
 * the benchmark itself unprotects/protects its heap around the dispatch,
 * where libvk would: the bare pair in the same context.
 */
static void poke(struct reader *r, int manual)
{
	struct vk_heap *heap = &r->proc->heap;
	double t0;

	if (write(r->peer, "x", 1) != 1)
		die("write");
	ev_run(loop, EVRUN_NOWAIT);
	t0 = now_ns();
	if (manual && mprotect(heap->base, heap->size, PROT_READ | PROT_WRITE) == -1)
		die("mprotect");
	vk_kern_dispatch(kern);
	if (manual && mprotect(heap->base, heap->size, PROT_NONE) == -1)
		die("mprotect");
	dispatch_inner_ns += now_ns() - t0;
}

/*
 * `n` cycles of A then B. mode 0: isolation off; 1: isolation on; 2:
 * isolation off, the benchmark does the protection itself (see poke());
 * 3: isolation off, max_run 1 s (the watchdog).
 */
static double cycle(int mode, long n, double *ops)
{
	const struct vk_stats *st = vk_kern_stats(kern);
	uint64_t d0, p0;
	int isolation = mode == 1, manual = mode == 2;
	struct reader *pair = mode == 3 ? watched : readers[isolation];

	/*
	 * The last dispatch leaves its heap open; start and end with none open
	 * so that every dispatch counts its open and the close it causes.
	 */
	vk_kern_close_heaps(kern);
	d0 = st->dispatches;
	p0 = st->protections;
	struct rusage ru0, ru1;
	double t0;

	dispatch_inner_ns = 0;
	getrusage(RUSAGE_SELF, &ru0);
	t0 = now_ns();
	for (long i = 0; i < n; i++) {
		poke(&pair[0], manual);
		poke(&pair[1], manual);
	}
	t0 = now_ns() - t0;
	getrusage(RUSAGE_SELF, &ru1);
	for (int i = 0; manual && i < 2; i++) {
		/* libvk believes these heaps accessible: leave them so. */
		struct vk_heap *heap = &readers[0][i].proc->heap;

		if (mprotect(heap->base, heap->size, PROT_READ | PROT_WRITE) == -1)
			die("mprotect");
	}
	*ops = 2.0 * (double)n;
	cycle_faults[mode] = (double)(ru1.ru_minflt - ru0.ru_minflt) / *ops;
	vk_kern_close_heaps(kern);
	if (st->dispatches - d0 != 2 * (uint64_t)n)
		fail("one dispatch per byte written");
	if (st->protections - p0 != (isolation ? 2 * (st->dispatches - d0) : 0))
		fail("exactly 2 mprotect per dispatch with isolation, 0 without");
	return t0;
}

static double bench_cycle0(long n, double *ops)
{
	return cycle(0, n, ops);
}

static double bench_cycle1(long n, double *ops)
{
	return cycle(1, n, ops);
}

static double bench_cycle2(long n, double *ops)
{
	return cycle(2, n, ops);
}

static double bench_cycle3(long n, double *ops)
{
	return cycle(3, n, ops);
}

static double bench_bare_pair(long n, double *ops)
{
	struct vk_heap *heap = &readers[1][0].proc->heap;
	double t0;

	if (heap->accessible)
		fail("isolated heap protected between dispatches");
	t0 = now_ns();
	for (long i = 0; i < n; i++) {
		if (mprotect(heap->base, heap->size, PROT_READ | PROT_WRITE) == -1 ||
		    mprotect(heap->base, heap->size, PROT_NONE) == -1)
			die("mprotect");
	}
	*ops = (double)n;
	return now_ns() - t0;
}

/*
 * The same pair with no libvk around it, between a one-byte write and read
 * on a socketpair of the benchmark's own: bench_socket_pair minus
 * bench_socket_only is what the pair costs where a dispatch has it, in
 * between socket system calls.
 */
static int bare_socket[2] = {-1, -1};

static void bare_socket_round_trip(void)
{
	char byte = 'x';

	if (write(bare_socket[0], &byte, 1) != 1 || read(bare_socket[1], &byte, 1) != 1)
		die("socketpair write/read");
}

static double bench_socket_only(long n, double *ops)
{
	double t0 = now_ns();

	for (long i = 0; i < n; i++)
		bare_socket_round_trip();
	*ops = (double)n;
	return now_ns() - t0;
}

static double bench_socket_pair(long n, double *ops)
{
	struct vk_heap *heap = &readers[1][0].proc->heap;
	double t0 = now_ns();

	for (long i = 0; i < n; i++) {
		bare_socket_round_trip();
		if (mprotect(heap->base, heap->size, PROT_READ | PROT_WRITE) == -1 ||
		    mprotect(heap->base, heap->size, PROT_NONE) == -1)
			die("mprotect");
	}
	*ops = (double)n;
	return now_ns() - t0;
}

static long resident_pages(const struct vk_heap *heap, long *map)
{
	size_t pages = heap->size / vk_page_size();
	unsigned char vec[pages];
	long count = 0;

	if (mincore(heap->base, heap->size, vec) == -1)
		die("mincore");
	for (size_t i = 0; i < pages; i++) {
		if (vec[i] & 1) {
			count++;
			if (map)
				map[i]++;
		}
	}
	return count;
}

/* ---------------------------------------------------------------- 4 -- */

struct rss_result {
	long procs;
	double rss_before_kib; /* VmRSS before spawning */
	double rss_idle_kib;   /* after spawning, every process blocked reading */
	double rss_after_kib;  /* after one line echoed by every process */
	double pte_before_kib; /* VmPTE */
	double pte_after_kib;
	double heap_pages;     /* resident heap pages per process (mincore) */
	double page_share[HEAP_SIZE / 4096]; /* share of processes with page i resident */
	int ok;
};

/* A field of /proc/self/status, in KiB. */
static double status_kib(const char *field)
{
	FILE *f = fopen("/proc/self/status", "re");
	char line[256];
	size_t len = strlen(field);
	double v = -1;

	if (!f)
		die("/proc/self/status");
	while (fgets(line, sizeof(line), f)) {
		if (!strncmp(line, field, len) && line[len] == ':') {
			v = strtod(line + len + 1, NULL);
			break;
		}
	}
	fclose(f);
	return v;
}

static void echo_main(struct vk_thread *that)
{
	struct {
		char line[64];
		size_t n;
	} *self;

	vk_begin();
	for (;;) {
		vk_readline(self->n, self->line, sizeof(self->line));
		if (self->n == 0)
			break;
		vk_write(self->line, self->n);
	}
	vk_end();
}

static void control_send(int fd, char c)
{
	if (write(fd, &c, 1) != 1)
		die("control write");
}

static char control_wait(int fd)
{
	char c = 0;

	if (read(fd, &c, 1) != 1)
		return 0;
	return c;
}

/* The client side: connect n times, then send a line on each, read back. */
static void rss_client(const struct sockaddr_un *addr, socklen_t len, long n, int control)
{
	int *fds = calloc((size_t)n, sizeof(*fds));
	char buf[16];

	if (!fds)
		die("calloc");
	for (long i = 0; i < n; i++) {
		fds[i] = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (fds[i] == -1 || connect(fds[i], (const struct sockaddr *)addr, len) == -1)
			die("client connect");
	}
	if (control_wait(control) != 'g')
		_exit(1);
	for (long i = 0; i < n; i++) {
		if (write(fds[i], "hello\n", 6) != 6)
			die("client write");
	}
	for (long i = 0; i < n; i++) {
		size_t got = 0;

		while (got < 6) {
			ssize_t r = read(fds[i], buf + got, 6 - got);

			if (r <= 0)
				die("client read");
			got += (size_t)r;
		}
		if (memcmp(buf, "hello\n", 6))
			fail("echo content");
	}
	control_send(control, 'd');
	control_wait(control); /* until the server is done measuring */
	_exit(0);
}

/* The server side, in a fresh process: returns through `out`. */
static void rss_server(int listener, long n, size_t ring, int control, struct rss_result *out)
{
	struct vk_proc_config config = {.heap_size = HEAP_SIZE, .isolation = 1, .ring_size = ring};
	struct vk_proc **procs = calloc((size_t)n, sizeof(*procs));
	int *fds = calloc((size_t)n, sizeof(*fds));
	struct ev_loop *l = ev_loop_new(EVFLAG_AUTO);
	struct vk_kern *k;
	const struct vk_stats *st;
	long map[HEAP_SIZE / 4096] = {0};
	long pages = 0;

	if (!procs || !fds || !l)
		die("rss server setup");
	k = vk_kern_create(l);
	if (!k)
		die("vk_kern_create");
	st = vk_kern_stats(k);
	for (long i = 0; i < n; i++) {
		fds[i] = accept4(listener, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fds[i] == -1)
			die("accept");
	}
	memset(procs, 0xff, (size_t)n * sizeof(*procs)); /* our own array: resident before */
	out->rss_before_kib = status_kib("VmRSS");
	out->pte_before_kib = status_kib("VmPTE");
	for (long i = 0; i < n; i++) {
		procs[i] = vk_kern_spawn(k, &config, echo_main, NULL, fds[i]);
		if (!procs[i])
			die("vk_kern_spawn");
	}
	vk_kern_dispatch(k);
	out->rss_idle_kib = status_kib("VmRSS");
	control_send(control, 'g');
	while (st->bytes_out < 6 * (uint64_t)n) {
		ev_run(l, EVRUN_NOWAIT);
		vk_kern_dispatch(k);
	}
	if (control_wait(control) != 'd')
		fail("client did not read every echo");
	out->rss_after_kib = status_kib("VmRSS");
	out->pte_after_kib = status_kib("VmPTE");
	for (long i = 0; i < n; i++)
		pages += resident_pages(&procs[i]->heap, map);
	if (st->procs_now != (uint64_t)n)
		fail("every process alive and idle");
	out->heap_pages = (double)pages / (double)n;
	for (size_t i = 0; i < HEAP_SIZE / 4096 && i < procs[0]->heap.size / vk_page_size(); i++)
		out->page_share[i] = (double)map[i] / (double)n;
	out->procs = n;
	out->ok = 1;
	_exit(0);
}

static void rss_run(long n, size_t ring, struct rss_result *out)
{
	struct sockaddr_un addr = {.sun_family = AF_UNIX};
	socklen_t len;
	int listener, control[2], status;
	pid_t server, client;

	/* An abstract address: nothing to clean up. */
	snprintf(addr.sun_path + 1, sizeof(addr.sun_path) - 1, "mnvkd-bench-micro-%ld",
		 (long)getpid());
	len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 +
			  strlen(addr.sun_path + 1));
	listener = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (listener == -1 || bind(listener, (struct sockaddr *)&addr, len) == -1 ||
	    listen(listener, 4096) == -1)
		die("listen");
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, control) == -1)
		die("socketpair");
	memset(out, 0, sizeof(*out));
	fflush(NULL);
	server = fork();
	if (server == -1)
		die("fork");
	if (server == 0) {
		close(control[1]);
		rss_server(listener, n, ring, control[0], out);
	}
	client = fork();
	if (client == -1)
		die("fork");
	if (client == 0) {
		close(control[0]);
		close(listener);
		rss_client(&addr, len, n, control[1]);
	}
	close(listener);
	close(control[0]);
	close(control[1]);
	if (waitpid(server, &status, 0) == -1 || !WIFEXITED(status) || WEXITSTATUS(status))
		fail("rss server");
	if (waitpid(client, &status, 0) == -1 || !WIFEXITED(status) || WEXITSTATUS(status))
		fail("rss client");
	if (!out->ok)
		fail("rss result");
}

/* ---------------------------------------------------------------- 5 -- */

#define RT_BYTES 8

static void rt_serve(struct vk_thread *that)
{
	struct {
		struct vk_socket *peer;
		char buf[RT_BYTES];
		ssize_t n;
	} *self;

	vk_begin();
	self->peer = that->socket;
	for (;;) {
		vk_read(self->n, self->buf, sizeof(self->buf));
		if (self->n < RT_BYTES)
			break;
		vk_write(self->buf, sizeof(self->buf));
		vk_flush();
	}
	vk_channel_close(self->peer);
	vk_end();
}

static void rt_service(struct vk_thread *that)
{
	struct {
		struct vk_socket *peer;
	} *self;

	vk_begin();
	for (;;) {
		vk_channel_accept(self->peer);
		vk_use_socket(self->peer);
		vk_spawn_detached(rt_serve, NULL);
	}
	vk_end();
}

static void rt_client(struct vk_thread *that)
{
	struct {
		struct vk_socket *ch;
		char out[RT_BYTES], in[RT_BYTES];
		long i;
		ssize_t n;
	} *self;

	vk_begin();
	vk_channel_open(self->ch, vk_arg());
	/* One round trip first: the service's coroutine for us is running. */
	vk_socket_write(self->ch, self->out, RT_BYTES);
	vk_socket_flush(self->ch);
	vk_socket_read(self->ch, self->n, self->in, RT_BYTES);
	result.t0 = now_ns();
	for (self->i = 0; self->i < result.n; self->i++) {
		memcpy(self->out, &self->i, sizeof(self->i));
		vk_socket_write(self->ch, self->out, RT_BYTES);
		vk_socket_flush(self->ch);
		vk_socket_read(self->ch, self->n, self->in, RT_BYTES);
		if (self->n != RT_BYTES || memcmp(self->in, self->out, RT_BYTES) != 0)
			result.errors++;
	}
	result.t1 = now_ns();
	vk_channel_close(self->ch);
	vk_finally();
	if (vk_error())
		result.errors++;
	vk_end();
}

static double rt_dispatches[2], rt_protections[2]; /* a round trip, last run, by isolation */

/* A client that faulted never says it is done: give up after this long. */
#define RT_LIMIT_S 120.0

static void rt_tick_callback(struct ev_loop *l, struct ev_timer *w, int revents)
{
	(void)l;
	(void)w;
	(void)revents;
}

static struct ev_timer rt_tick;

static double channel_round_trips(int isolation, long n, double *ops)
{
	static const char *const names[2] = {"rt0", "rt1"};
	struct vk_proc_config config = {.heap_size = HEAP_SIZE, .isolation = isolation};
	const struct vk_stats *st = vk_kern_stats(kern);
	uint64_t d0 = st->dispatches, p0 = st->protections;

	result.n = n;
	result.t0 = result.t1 = 0;
	result.errors = 0;
	if (!vk_kern_spawn(kern, &config, rt_client, (void *)names[isolation], -1))
		die("vk_kern_spawn");
	/*
	 * Until the client is done, not until the loop has nothing to watch:
	 * the dispatch section's processes still wait on their sockets, and
	 * vk_kern_run() would wait with them for ever.
	 */
	ev_timer_start(loop, &rt_tick); /* wakes the loop to look at the clock */
	for (double until = ev_time() + RT_LIMIT_S; !result.t1 && !result.errors;) {
		if (ev_time() > until)
			die("channel round trips: the client did not end in time");
		ev_run(loop, EVRUN_ONCE);
	}
	ev_timer_stop(loop, &rt_tick);
	if (result.errors || result.t1 == 0)
		fail("channel round trips went wrong");
	rt_dispatches[isolation] = (double)(st->dispatches - d0) / (double)n;
	rt_protections[isolation] = (double)(st->protections - p0) / (double)n;
	*ops = (double)n;
	return result.t1 - result.t0;
}

static double bench_channel0(long n, double *ops)
{
	return channel_round_trips(0, n, ops);
}

static double bench_channel1(long n, double *ops)
{
	return channel_round_trips(1, n, ops);
}

static double bench_message_rt(long n, double *ops)
{
	double ns = bench_message(n, ops);

	*ops = (double)n; /* a round trip: a message each way */
	return ns;
}

/* ----------------------------------------------------------- driver -- */

struct switch_figures {
	double indirect, swapctx, yield, message;
	long n_yield, n_message;
};

/* 1 and 2: calibrate (that is also the warm-up), then interleave the runs. */
static void section_switch(struct switch_figures *f)
{
	double ind[MAX_RUNS], swp[MAX_RUNS], yld[MAX_RUNS], msg[MAX_RUNS];
	long n_ind, n_swap;

	swapcontext_init();
	n_ind = calibrate(bench_indirect);
	n_swap = calibrate(bench_swapcontext);
	f->n_yield = calibrate(bench_yield);
	f->n_message = calibrate(bench_message);
	for (int r = 0; r < opt_runs; r++) {
		ind[r] = per_op(bench_indirect, n_ind);
		swp[r] = per_op(bench_swapcontext, n_swap);
		yld[r] = per_op(bench_yield, f->n_yield);
		msg[r] = per_op(bench_message, f->n_message);
	}
	f->indirect = median(ind, opt_runs);
	f->swapctx = median(swp, opt_runs);
	f->yield = median(yld, opt_runs);
	f->message = median(msg, opt_runs);
}

struct dispatch_figures {
	double cycle[4];    /* per dispatch, by mode (see cycle()) */
	double inner[4];    /* of which inside vk_kern_dispatch (+ the pair by hand) */
	double overhead;    /* cycle[1] - cycle[0], median of per-run differences */
	double watchdog;    /* cycle[3] - cycle[0], likewise */
	double overhead_by_hand; /* cycle[2] - cycle[0], likewise */
	double bare;        /* the pair in a tight loop */
	double bare_between; /* the pair between socket calls, no libvk */
	double faults[4];
	long pages, n;
	size_t heap_kib;
};

static void section_dispatch(struct dispatch_figures *f)
{
	double c[4][MAX_RUNS], in[4][MAX_RUNS], over[MAX_RUNS], over2[MAX_RUNS], bare[MAX_RUNS];
	double between[MAX_RUNS], dog[MAX_RUNS];
	long n_bare, n_socket;

	reader_spawn(&readers[0][0], 0, 0);
	reader_spawn(&readers[0][1], 0, 0);
	reader_spawn(&readers[1][0], 1, 0);
	reader_spawn(&readers[1][1], 1, 0);
	reader_spawn(&watched[0], 0, 1000);
	reader_spawn(&watched[1], 0, 1000);
	vk_kern_dispatch(kern); /* start them: each blocks reading */
	calibrate(bench_cycle1);
	calibrate(bench_cycle2);
	calibrate(bench_cycle3);
	f->n = calibrate(bench_cycle0); /* the fastest: every mode then runs long enough */
	n_bare = calibrate(bench_bare_pair);
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, bare_socket) == -1)
		die("socketpair");
	n_socket = calibrate(bench_socket_pair);
	for (int r = 0; r < opt_runs; r++) {
		/* Rotate the order so drift does not favour one mode. */
		for (int k = 0; k < 4; k++) {
			int mode = (r + k) % 4;
			double ops;

			c[mode][r] = cycle(mode, f->n, &ops) / ops;
			in[mode][r] = dispatch_inner_ns / ops;
		}
		over[r] = c[1][r] - c[0][r];
		over2[r] = c[2][r] - c[0][r];
		dog[r] = c[3][r] - c[0][r];
		bare[r] = per_op(bench_bare_pair, n_bare);
		between[r] =
		    per_op(bench_socket_pair, n_socket) - per_op(bench_socket_only, n_socket);
	}
	close(bare_socket[0]);
	close(bare_socket[1]);
	for (int mode = 0; mode < 4; mode++) {
		f->cycle[mode] = median(c[mode], opt_runs);
		f->inner[mode] = median(in[mode], opt_runs);
		f->faults[mode] = cycle_faults[mode];
	}
	f->overhead = median(over, opt_runs);
	f->overhead_by_hand = median(over2, opt_runs);
	f->watchdog = median(dog, opt_runs);
	f->bare = median(bare, opt_runs);
	f->bare_between = median(between, opt_runs);
	f->pages = resident_pages(&readers[1][0].proc->heap, NULL);
	f->heap_kib = readers[1][0].proc->heap.size / 1024;
}

struct rss_figures {
	double after, idle, heap, pte; /* bytes per process */
	double page_share[HEAP_SIZE / 4096];
	size_t ring;
};

/* 4: each run in fresh processes (so this one must not have a kernel yet). */
static void section_rss(long procs, size_t ring, struct rss_figures *f)
{
	static struct rss_result *res;
	double after[MAX_RUNS], idle[MAX_RUNS], heap[MAX_RUNS], pte[MAX_RUNS];

	if (!res) {
		res = mmap(NULL, sizeof(*res), PROT_READ | PROT_WRITE,
			   MAP_SHARED | MAP_ANONYMOUS, -1, 0);
		if (res == MAP_FAILED)
			die("mmap");
	}
	for (int r = 0; r < opt_runs; r++) {
		rss_run(procs, ring, res);
		after[r] = (res->rss_after_kib - res->rss_before_kib) * 1024.0 / (double)procs;
		idle[r] = (res->rss_idle_kib - res->rss_before_kib) * 1024.0 / (double)procs;
		pte[r] = (res->pte_after_kib - res->pte_before_kib) * 1024.0 / (double)procs;
		heap[r] = res->heap_pages * (double)vk_page_size();
	}
	f->after = median(after, opt_runs);
	f->idle = median(idle, opt_runs);
	f->heap = median(heap, opt_runs);
	f->pte = median(pte, opt_runs);
	memcpy(f->page_share, res->page_share, sizeof(f->page_share));
	f->ring = ring ? ring : VK_SOCKET_RING_DEFAULT;
}

struct channel_figures {
	double rt[2];	/* ns a round trip, by isolation */
	double message; /* ns a round trip of messages in one process */
	double overhead; /* rt[1] - rt[0], median of per-run differences */
	double dispatches[2], protections[2];
	long n;
};

/* 5: two services (isolation off and on), a client process a run. */
static void section_channel(struct channel_figures *f)
{
	double rt[2][MAX_RUNS], msg[MAX_RUNS], over[MAX_RUNS];
	static const char *const names[2] = {"rt0", "rt1"};
	long n_msg;

	for (int iso = 0; iso < 2; iso++) {
		struct vk_service_spec spec = {
		    .name = names[iso],
		    .kind = VK_BUS_LOCAL,
		    .main = rt_service,
		    .config = {.heap_size = HEAP_SIZE, .isolation = iso},
		};

		if (!vk_service_start(kern, &spec))
			die("vk_service_start");
	}
	vk_kern_dispatch(kern); /* the services start and wait */
	calibrate(bench_channel1);
	f->n = calibrate(bench_channel0);
	n_msg = calibrate(bench_message_rt);
	for (int r = 0; r < opt_runs; r++) {
		for (int k = 0; k < 2; k++) {
			int iso = (r + k) % 2;

			rt[iso][r] = per_op(iso ? bench_channel1 : bench_channel0, f->n);
		}
		over[r] = rt[1][r] - rt[0][r];
		msg[r] = per_op(bench_message_rt, n_msg);
	}
	for (int iso = 0; iso < 2; iso++) {
		f->rt[iso] = median(rt[iso], opt_runs);
		f->dispatches[iso] = rt_dispatches[iso];
		f->protections[iso] = rt_protections[iso];
	}
	f->message = median(msg, opt_runs);
	f->overhead = median(over, opt_runs);
}

static void row(const char *figure, double value, const char *unit, const char *base_name,
		double base, const char *goal, int pass)
{
	char v[32], b[32], r[32];

	snprintf(v, sizeof(v), "%.1f %s", value, unit);
	snprintf(b, sizeof(b), "%.1f %s", base, unit);
	snprintf(r, sizeof(r), "%.2fx", base > 0 ? value / base : 0.0);
	printf("%-34s %11s | %-30s %11s | %7s | %-9s %s\n", figure, v, base_name, b, r, goal,
	       pass < 0 ? "" : pass ? "PASS" : "FAIL");
}

static void print_page_map(const struct rss_figures *f)
{
	size_t pages = HEAP_SIZE / vk_page_size();

	printf("  pages of the heap resident (one character a page, share of processes in "
	       "tenths, '.' none, '*' all): ");
	for (size_t i = 0; i < pages && i < HEAP_SIZE / 4096; i++) {
		double s = f->page_share[i];

		putchar(s <= 0 ? '.' : s >= 1 ? '*' : (char)('0' + (int)(s * 10)));
	}
	putchar('\n');
}

static void print_machine(void)
{
	struct utsname u;
	char model[256] = "?";
	FILE *f = fopen("/proc/cpuinfo", "re");
	double load[3] = {0};

	if (f) {
		char line[512];

		while (fgets(line, sizeof(line), f)) {
			char *colon = strchr(line, ':');

			if (!strncmp(line, "model name", 10) && colon) {
				snprintf(model, sizeof(model), "%s", colon + 2);
				model[strcspn(model, "\n")] = 0;
				break;
			}
		}
		fclose(f);
	}
	uname(&u);
	if (getloadavg(load, 3) == -1)
		load[0] = load[1] = load[2] = -1;
	printf("machine: %s %s %s, nproc %ld (%s), load %.2f %.2f %.2f\n", u.sysname, u.release,
	       u.machine, sysconf(_SC_NPROCESSORS_ONLN), model, load[0], load[1], load[2]);
	printf("method: median of %d runs, each >= %.0f ms after a warm-up; wall clock "
	       "(CLOCK_MONOTONIC); nothing pinned\n",
	       opt_runs, min_run_ns / 1e6);
}

static void usage(void)
{
	fprintf(stderr, "usage: micro [--quick] [--runs N] [--procs N] "
			"[--only switch|dispatch|rss|channel]...\n");
	exit(2);
}

enum { SEC_SWITCH = 1, SEC_DISPATCH = 2, SEC_RSS = 4, SEC_CHANNEL = 8 };

int main(int argc, char **argv)
{
	struct switch_figures sw = {0};
	struct dispatch_figures di = {0};
	struct rss_figures rs = {0};
	struct channel_figures ch = {0};
	struct rlimit lim;
	long procs;
	int runs_set = 0, sections = 0;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--quick"))
			opt_quick = 1;
		else if (!strcmp(argv[i], "--runs") && i + 1 < argc) {
			opt_runs = atoi(argv[++i]);
			runs_set = 1;
		} else if (!strcmp(argv[i], "--procs") && i + 1 < argc)
			opt_procs = atol(argv[++i]);
		else if (!strcmp(argv[i], "--only") && i + 1 < argc) {
			i++;
			if (!strcmp(argv[i], "switch"))
				sections |= SEC_SWITCH;
			else if (!strcmp(argv[i], "dispatch"))
				sections |= SEC_DISPATCH;
			else if (!strcmp(argv[i], "rss"))
				sections |= SEC_RSS;
			else if (!strcmp(argv[i], "channel"))
				sections |= SEC_CHANNEL;
			else
				usage();
		} else
			usage();
	}
	if (!sections)
		sections = SEC_SWITCH | SEC_DISPATCH | SEC_RSS | SEC_CHANNEL;
	if (opt_quick) {
		min_run_ns = 10e6;
		if (!runs_set)
			opt_runs = 5;
		if (opt_procs == 10000)
			opt_procs = 2000;
	}
	if (opt_runs < 1 || opt_runs > MAX_RUNS || opt_procs < 1)
		usage();
	setvbuf(stdout, NULL, _IOLBF, 0);
	signal(SIGPIPE, SIG_IGN);

	/* Each side of the RSS test holds `procs` descriptors and a few more. */
	if (getrlimit(RLIMIT_NOFILE, &lim) == 0 && lim.rlim_cur < lim.rlim_max) {
		lim.rlim_cur = lim.rlim_max;
		setrlimit(RLIMIT_NOFILE, &lim);
	}
	getrlimit(RLIMIT_NOFILE, &lim);
	procs = opt_procs;
	if (lim.rlim_cur != RLIM_INFINITY && (rlim_t)procs + 64 > lim.rlim_cur) {
		procs = (long)lim.rlim_cur - 64;
		fprintf(stderr, "micro: RLIMIT_NOFILE is %llu: %ld processes instead of %ld\n",
			(unsigned long long)lim.rlim_cur, procs, opt_procs);
	}
	print_machine();

	if (sections & SEC_RSS)
		section_rss(procs, 0, &rs);
	loop = ev_loop_new(EVFLAG_AUTO);
	if (!loop)
		die("ev_loop_new");
	kern = vk_kern_create(loop);
	ev_timer_init(&rt_tick, rt_tick_callback, 1., 1.);
	if (!kern)
		die("vk_kern_create");
	if (sections & SEC_SWITCH)
		section_switch(&sw);
	if (sections & SEC_DISPATCH)
		section_dispatch(&di);
	if (sections & SEC_CHANNEL)
		section_channel(&ch);

	printf("\n%-34s %11s | %-30s %11s | %7s | %-9s %s\n", "figure", "median", "baseline",
	       "median", "ratio", "goal", "");
	if (sections & SEC_SWITCH) {
		row("yield round trip (ns/yield)", sw.yield, "ns", "indirect call (volatile ptr)",
		    sw.indirect, "<= 20 ns", sw.yield <= 20);
		row("yield round trip (ns/yield)", sw.yield, "ns", "swapcontext there and back",
		    sw.swapctx, "<= 20 ns", sw.yield <= 20);
		row("message send+receive (ns/msg)", sw.message, "ns", "yield round trip", sw.yield,
		    "<= 50 ns", sw.message <= 50);
	}
	if (sections & SEC_DISPATCH) {
		row("dispatch: protection overhead", di.overhead, "ns",
		    "bare mprotect pair, tight loop", di.bare, "<= 1.2x",
		    di.overhead <= 1.2 * di.bare);
		row("dispatch: protection overhead", di.overhead, "ns",
		    "same pair by hand, in place", di.overhead_by_hand, "info", -1);
		row("dispatch: protection overhead", di.overhead, "ns",
		    "bare pair between socket calls", di.bare_between, "info", -1);
		row("  cycle, isolation on", di.cycle[1], "ns", "cycle, isolation off", di.cycle[0],
		    "info", -1);
		row("  cycle, pair by hand", di.cycle[2], "ns", "cycle, isolation off", di.cycle[0],
		    "info", -1);
		row("  vk_kern_dispatch, isolation on", di.inner[1], "ns",
		    "vk_kern_dispatch, isol. off", di.inner[0], "info", -1);
		row("  vk_kern_dispatch + pair by hand", di.inner[2], "ns",
		    "vk_kern_dispatch, isol. off", di.inner[0], "info", -1);
		row("dispatch: watchdog overhead", di.watchdog, "ns", "cycle, isolation off",
		    di.cycle[0], "<= 1%", di.watchdog <= 0.01 * di.cycle[0]);
		row("  cycle, max_run 1s", di.cycle[3], "ns", "cycle, isolation off", di.cycle[0],
		    "info", -1);
	}
	if (sections & SEC_RSS) {
		row("RSS per idle process (bytes)", rs.after, "B", "its resident heap pages",
		    rs.heap, "<= 8 KiB", rs.after <= 8192);
		row("  same, before the line", rs.idle, "B", "after the line", rs.after, "info",
		    -1);
	}

	if (sections & SEC_CHANNEL) {
		row("channel round trip, isol. off", ch.rt[0], "ns", "message round trip, 1 process",
		    ch.message, "info", -1);
		row("channel round trip, isol. on", ch.rt[1], "ns", "message round trip, 1 process",
		    ch.message, "info", -1);
		row("  isolation's share of it", ch.overhead, "ns", "channel round trip, isol. off",
		    ch.rt[0], "info", -1);
	}

	printf("\nnotes:\n");
	if (sections & SEC_SWITCH) {
		printf("- yield: 2 coroutines of 1 micro-process alternate vk_yield(); ns = "
		       "elapsed / yields of both; one yield = the scheduler resumes a coroutine "
		       "and it returns (%ld yields a coroutine a run); swapcontext: there and "
		       "back = 2 calls\n",
		       sw.n_yield);
		printf("- message: ping-pong vk_send()/vk_receive(); ns = elapsed / (2 x round "
		       "trips), a message each way counts as one (%ld round trips a run)\n",
		       sw.n_message);
	}
	if (sections & SEC_DISPATCH) {
		printf("- dispatch: a cycle = write 1 byte to the socketpair peer of process A "
		       "(then B) + ev_run(EVRUN_NOWAIT) + vk_kern_dispatch() (the process reads "
		       "the byte and blocks again); per dispatch; %ld cycles of A+B a run\n",
		       di.n);
		printf("  overhead = cycle(isolation 1) - cycle(isolation 0), median of per-run "
		       "differences; bare pair = mprotect(RW) + mprotect(NONE) of the %zu KiB "
		       "heap of A (%ld pages resident) in a tight loop; 'by hand' = isolation 0 "
		       "and the benchmark does the same pair around vk_kern_dispatch(); 'between "
		       "socket calls' = the bare pair after a 1-byte write+read on a socketpair, "
		       "minus that write+read alone (no libvk, no epoll)\n",
		       di.heap_kib, di.pages);
		printf("  watchdog overhead = cycle(isolation 0, max_run 1s) - cycle(isolation 0, "
		       "no max_run), median of per-run differences (it can come out below 0: "
		       "noise)\n");
		printf("  checked: vk_kern_stats() counts 1 dispatch a byte, 2 protections a "
		       "dispatch with isolation, 0 without; minor faults a dispatch: %.2f on, "
		       "%.2f off\n",
		       di.faults[1], di.faults[0]);
	}
	if (sections & SEC_RSS) {
		printf("- RSS: %ld micro-processes, %d KiB heap each, isolation on, rings %zu B "
		       "each way; each echoes one \"hello\\n\" and blocks reading; (VmRSS after - "
		       "VmRSS before spawning) / N; heap pages resident a process (mincore): "
		       "%.2f; page tables (VmPTE, not in RSS): %.0f B a process\n",
		       procs, HEAP_SIZE / 1024, rs.ring, rs.heap / (double)vk_page_size(), rs.pte);
		print_page_map(&rs);
		printf("  outside the heap, a process: struct vk_proc %zu B (malloc), struct vk_fd "
		       "%zu B (fd table), libev's fd entry, malloc overhead\n",
		       sizeof(struct vk_proc), sizeof(struct vk_fd));
	}
	if (sections & SEC_CHANNEL) {
		printf("- channel: a client process writes %d bytes to a service's coroutine "
		       "over a channel, flushes, reads the %d bytes echoed; ns = elapsed / round "
		       "trips (%ld a run); isolation's share = rt(on) - rt(off), median of "
		       "per-run differences; message round trip = vk_send()+vk_receive() each "
		       "way between 2 coroutines of 1 process\n",
		       RT_BYTES, RT_BYTES, ch.n);
		printf("  counted: a round trip is %.2f dispatches (off) and %.2f (on), with "
		       "%.2f protection changes (on) and %.2f (off)\n",
		       ch.dispatches[0], ch.dispatches[1], ch.protections[1], ch.protections[0]);
	}
	vk_kern_destroy(kern);
	ev_loop_destroy(loop);
	return 0;
}
