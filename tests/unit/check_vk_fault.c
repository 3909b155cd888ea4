/*
 * libvk unit tests: isolation of micro-heaps, containment of faults, and
 * the cost of protection (mprotect calls per dispatch).
 *
 * This program defines mprotect() itself, so that libvk's calls (linked in
 * statically) come here and can be counted against the kernel's own
 * `protections` counter.
 */
#include "vk_check.h"

#include "vk_code.h"

#include <assert.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#define HEAP (64 * 1024)

/* ---- counting mprotect ---- */

static volatile long g_mprotect_calls;

int mprotect(void *addr, size_t len, int prot)
{
	g_mprotect_calls++;
	return (int)syscall(SYS_mprotect, addr, len, prot);
}

/* ---- real faults, out of the sanitizers' sight ---- */

static int *volatile g_null;
static volatile int g_zero;
static volatile int g_seven = 7; /* not 1: GCC turns 1 / x into compares */
static volatile int g_sink;

__attribute__((noinline, no_sanitize("address", "undefined"))) static void fault_segv(void)
{
	*g_null = 1;
}

__attribute__((noinline, no_sanitize("undefined"))) static void fault_fpe(void)
{
	g_sink = g_seven / g_zero;
}

__attribute__((noinline, no_sanitize_address)) static long read_long(const long *p)
{
	return *(const volatile long *)p;
}

/* ================================================================== */
/* 4. A heap is accessible only while its micro-process runs          */
/* ================================================================== */

#define MAGIC 0x5ca1ab1e1234567L

static long *volatile g_a_magic; /* into A's heap */
static long g_a_seen;
static int g_a_done;
static int g_b_started;
static int g_b_reached;
static long g_b_value;

static void reset_cross(void)
{
	g_a_magic = NULL;
	g_a_seen = 0;
	g_a_done = 0;
	g_b_started = 0;
	g_b_reached = 0;
	g_b_value = 0;
}

/* proc_a's argument for ending at once, after publishing. */
#define ENDS_AT_ONCE ((void *)1)

/*
 * Publishes a pointer into its heap, sleeps, then reads it back itself;
 * with ENDS_AT_ONCE, ends after publishing.
 */
static void proc_a(struct vk_thread *that)
{
	struct {
		long magic;
	} * self;

	vk_begin();
	self->magic = MAGIC;
	g_a_magic = &self->magic;
	if (vk_arg() != ENDS_AT_ONCE) {
		vk_sleep(20);
		/* The running process may read its heap through any pointer. */
		g_a_seen = read_long(g_a_magic);
		g_a_done = 1;
	}
	vk_end();
}

/* Reads A's heap while A does not run. */
static void proc_b(struct vk_thread *that)
{
	struct {
		int unused;
	} * self;

	vk_begin();
	g_b_started = 1;
	g_b_value = read_long(g_a_magic);
	g_b_reached = 1;
	vk_end();
}

/* _i: bit 0 = A's isolation, bit 1 = B's. B faults iff A is isolated. */
START_TEST(test_cross_heap_read)
{
	int a_isolated = _i & 1, b_isolated = (_i >> 1) & 1;
	struct vkt_kern k;
	struct vk_stats stats;

	reset_cross();
	k = vkt_kern_new();
	vkt_spawn(&k, HEAP, a_isolated, proc_a, NULL);
	vkt_spawn(&k, HEAP, b_isolated, proc_b, NULL);
	vk_kern_run(k.kern);
	stats = *vk_kern_stats(k.kern);
	vkt_kern_free(&k);

	ck_assert_int_eq(g_b_started, 1);
	ck_assert_int_eq(g_a_done, 1);
	ck_assert_int_eq(g_a_seen, MAGIC);
	ck_assert_uint_eq(stats.procs_now, 0);
	ck_assert_uint_eq(stats.procs_total, 2);
	if (a_isolated) {
		ck_assert_uint_eq(stats.faults, 1);
		ck_assert_int_eq(g_b_reached, 0);
		ck_assert_int_eq(vkt_log_lines, 1);
		ck_assert_ptr_nonnull(strstr(vkt_log_buf, "SIGSEGV"));
	} else {
		ck_assert_uint_eq(stats.faults, 0);
		ck_assert_int_eq(g_b_reached, 1);
		ck_assert_int_eq(g_b_value, MAGIC);
		ck_assert_int_eq(vkt_log_lines, 0);
	}
}
END_TEST

/* Blocks until the end of the run (a sleep), doing nothing else. */
static void idle_proc(struct vk_thread *that)
{
	struct {
		int unused;
	} * self;

	vk_begin();
	vk_sleep(30);
	vk_end();
}

/*
 * Dispatch A by hand, then read its heap from outside any micro-process.
 * how 0: after vk_kern_close_heaps(); 1: after another process ran (its
 * dispatch closed A's heap); 2: right after A's dispatch, whose heap is
 * left open until the next dispatch (see vk_kern_dispatch()).
 */
static void dispatch_a_then_read(int isolation, int how)
{
	struct vkt_kern k;

	reset_cross();
	k = vkt_kern_new();
	vkt_spawn(&k, HEAP, isolation, proc_a, NULL);
	if (how == 1)
		vkt_spawn(&k, HEAP, isolation, idle_proc, NULL);
	vk_kern_dispatch(k.kern);
	ck_assert_ptr_nonnull(g_a_magic);
	ck_assert_int_eq(g_a_done, 0); /* asleep */
	if (how == 0)
		vk_kern_close_heaps(k.kern);
	g_b_value = read_long(g_a_magic);
	/* Reached only without isolation, or with A's heap left open. */
	ck_assert_int_eq(isolation == 0 || how == 2, 1);
	ck_assert_int_eq(g_b_value, MAGIC);
	vk_kern_run(k.kern);
	ck_assert_int_eq(g_a_done, 1);
	vkt_kern_free(&k);
}

/* Outside any micro-process, the read is a real crash. */
START_TEST(test_read_from_outside_dies)
{
	vkt_expect_death_by_signal();
	dispatch_a_then_read(1, 0);
}
END_TEST

START_TEST(test_read_from_outside_after_other_dies)
{
	vkt_expect_death_by_signal();
	dispatch_a_then_read(1, 1);
}
END_TEST

START_TEST(test_read_from_outside_without_isolation)
{
	dispatch_a_then_read(0, _i);
}
END_TEST

/* The documented exception: the last heap dispatched stays open. */
START_TEST(test_last_heap_open_until_next_dispatch)
{
	dispatch_a_then_read(1, 2);
}
END_TEST

/*
 * A process's heap is protected from its spawn on, not only after its
 * first dispatch: B runs first and reads A's fresh heap, which A has not
 * run in yet. Bug repro: a freshly mapped (or isolation-off pooled) heap
 * stays readable and writable until its process first runs.
 */
static struct vk_proc *volatile g_proc_a;

static void proc_b_reads_fresh(struct vk_thread *that)
{
	struct {
		int unused;
	} * self;

	vk_begin();
	g_b_started = 1;
	g_b_value = read_long((const long *)(void *)g_proc_a->heap.base);
	g_b_reached = 1;
	vk_end();
}

START_TEST(test_fresh_heap_protected_before_first_run)
{
	struct vkt_kern k;
	struct vk_stats stats;

	reset_cross();
	k = vkt_kern_new();
	vkt_spawn(&k, HEAP, 1, proc_b_reads_fresh, NULL);
	g_proc_a = vkt_spawn(&k, HEAP, 1, proc_a, NULL);
	vk_kern_run(k.kern);
	stats = *vk_kern_stats(k.kern);
	vkt_kern_free(&k);
	ck_assert_int_eq(g_b_started, 1);
	ck_assert_int_eq(g_a_done, 1);
	ck_assert_int_eq(g_b_reached, 0);
	ck_assert_uint_eq(stats.faults, 1);
}
END_TEST

/* ================================================================== */
/* 5. A fault ends one micro-process; 100 others run to completion    */
/* ================================================================== */

static int g_completed;
static int g_after_fault;
static int g_faulted;

static void reset_faults(void)
{
	g_completed = 0;
	g_after_fault = 0;
	g_faulted = 0;
}

/* Yields and sleeps before and after the fault; checks its heap at the end. */
static void worker(struct vk_thread *that)
{
	struct {
		unsigned char pattern[512];
		int i;
	} * self;

	vk_begin();
	memset(self->pattern, (int)(uintptr_t)vk_arg(), sizeof(self->pattern));
	for (self->i = 0; self->i < 4; self->i++) {
		vk_yield();
		vk_sleep(3);
		vk_yield();
	}
	for (self->i = 0; self->i < (int)sizeof(self->pattern); self->i++)
		ck_assert_int_eq(self->pattern[self->i], (unsigned char)(uintptr_t)vk_arg());
	g_completed++;
	vk_end();
}

/* Not a signal number: the faulter fails an assert(). */
#define FAILED_ASSERT (-1)

/* Faults after a few yields and a sleep; vk_arg() is the signal. */
static void faulter(struct vk_thread *that)
{
	struct {
		int unused;
	} * self;

	vk_begin();
	vk_yield();
	vk_sleep(5);
	vk_yield();
	g_faulted++;
	switch ((intptr_t)vk_arg()) {
	case SIGSEGV:
		fault_segv();
		break;
	case SIGABRT:
		abort();
	case FAILED_ASSERT:
		assert(g_zero == 1);
		break;
	default:
		fault_fpe();
	}
	g_after_fault = 1;
	vk_end();
}

static struct vk_stats run_with_faulters(int nfaulters, const int *signals)
{
	struct vkt_kern k;
	struct vk_stats stats;

	reset_faults();
	k = vkt_kern_new();
	for (int i = 0; i < 100; i++) {
		if (i % (100 / nfaulters) == 50 / nfaulters)
			vkt_spawn(&k, HEAP, 1, faulter,
				  (void *)(intptr_t)signals[i / (100 / nfaulters)]);
		vkt_spawn(&k, HEAP, 1, worker, (void *)(uintptr_t)(i + 1));
	}
	vk_kern_run(k.kern);
	stats = *vk_kern_stats(k.kern);
	/* The kernel goes on working after the faults. */
	vkt_spawn(&k, HEAP, 1, worker, (void *)(uintptr_t)7);
	vk_kern_run(k.kern);
	ck_assert_int_eq(g_completed, 101);
	ck_assert_uint_eq(vk_kern_stats(k.kern)->procs_now, 0);
	vkt_kern_free(&k);

	ck_assert_int_eq(g_faulted, nfaulters);
	ck_assert_int_eq(g_after_fault, 0);
	ck_assert_uint_eq(stats.procs_total, 100 + (unsigned)nfaulters);
	ck_assert_uint_eq(stats.procs_now, 0);
	ck_assert_uint_eq(stats.faults, (unsigned)nfaulters);
	ck_assert_int_eq(vkt_log_lines, nfaulters);
	return stats;
}

START_TEST(test_fault_segv_contained)
{
	static const int signals[] = {SIGSEGV};

	run_with_faulters(1, signals);
	ck_assert_ptr_nonnull(strstr(vkt_log_buf, "SIGSEGV"));
	/* The log line names the faulting address: NULL. */
	ck_assert(strstr(vkt_log_buf, "(nil)") || strstr(vkt_log_buf, "0x0"));
}
END_TEST

START_TEST(test_fault_fpe_contained)
{
	static const int signals[] = {SIGFPE};

	run_with_faulters(1, signals);
	ck_assert_ptr_nonnull(strstr(vkt_log_buf, "SIGFPE"));
}
END_TEST

/*
 * abort() and a failed assert() end only the process that called them.
 * Bug repro: SIGABRT was not caught, so the whole worker died of it.
 */
START_TEST(test_abort_contained)
{
	static const int signals[] = {SIGABRT};

	run_with_faulters(1, signals);
	ck_assert_ptr_nonnull(strstr(vkt_log_buf, "SIGABRT"));
}
END_TEST

START_TEST(test_failed_assert_contained)
{
	static const int signals[] = {FAILED_ASSERT};

	run_with_faulters(1, signals);
	ck_assert_ptr_nonnull(strstr(vkt_log_buf, "SIGABRT"));
}
END_TEST

START_TEST(test_two_faults_contained)
{
	static const int signals[] = {SIGSEGV, SIGFPE};

	run_with_faulters(2, signals);
	ck_assert_ptr_nonnull(strstr(vkt_log_buf, "SIGSEGV"));
	ck_assert_ptr_nonnull(strstr(vkt_log_buf, "SIGFPE"));
}
END_TEST

/* Reads one byte from its descriptor, then faults. */
static void read_then_fault(struct vk_thread *that)
{
	struct {
		char c;
		ssize_t n;
	} * self;

	vk_begin();
	vk_read(self->n, &self->c, 1);
	g_faulted++;
	fault_segv();
	g_after_fault = 1;
	vk_end();
}

/* The descriptors of a process that faulted are closed. */
START_TEST(test_fault_closes_descriptors)
{
	struct vkt_kern k;
	int p[2];
	char c;
	struct vk_proc_config config = vkt_config(HEAP, 1);

	reset_faults();
	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, p), 0);
	k = vkt_kern_new();
	ck_assert_ptr_nonnull(vk_kern_spawn(k.kern, &config, read_then_fault, NULL, p[0]));
	ck_assert_int_eq(write(p[1], "x", 1), 1);
	vk_kern_run(k.kern);
	ck_assert_int_eq(g_faulted, 1);
	ck_assert_int_eq(g_after_fault, 0);
	ck_assert_uint_eq(vk_kern_stats(k.kern)->faults, 1);
	ck_assert_uint_eq(vk_kern_stats(k.kern)->procs_now, 0);
	/* Our end sees the end of the stream; theirs is gone. */
	ck_assert_int_eq(read(p[1], &c, 1), 0);
	errno = 0;
	ck_assert_int_eq(fcntl(p[0], F_GETFD), -1);
	ck_assert_int_eq(errno, EBADF);
	close(p[1]);
	vkt_kern_free(&k);
}
END_TEST

/*
 * The fault's log line names the app, the process, its peer, the signal,
 * the faulting address and the code address. Bug repro: it named only the
 * process id, the signal and the address.
 */
START_TEST(test_fault_log_names_everything)
{
	struct vkt_kern k;
	int p[2];
	struct vk_proc_config config = vkt_config(HEAP, 1);
	struct vk_proc *proc;
	struct sockaddr_un peer = {.sun_family = AF_UNIX};

	reset_faults();
	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, p), 0);
	k = vkt_kern_new();
	proc = vk_kern_spawn(k.kern, &config, read_then_fault, NULL, p[0]);
	ck_assert_ptr_nonnull(proc);
	vk_proc_set_peer(proc, (struct sockaddr *)&peer, sizeof(sa_family_t));
	ck_assert_int_eq(write(p[1], "x", 1), 1);
	vk_kern_run(k.kern);
	close(p[1]);
	vkt_kern_free(&k);
	ck_assert_int_eq(vkt_log_lines, 1);
	ck_assert_ptr_nonnull(strstr(vkt_log_buf, "app test: "));
	ck_assert_ptr_nonnull(strstr(vkt_log_buf, "micro-process 1 "));
	ck_assert_ptr_nonnull(strstr(vkt_log_buf, "(unix)"));
	ck_assert_ptr_nonnull(strstr(vkt_log_buf, "SIGSEGV"));
	ck_assert_ptr_nonnull(strstr(vkt_log_buf, "address 0x0,"));
	/* The code address, resolved to this test program and an offset. */
	ck_assert_ptr_nonnull(strstr(vkt_log_buf, "code check_vk_fault"));
}
END_TEST

/*
 * 50 faults in a burst log VK_REPORT_BURST lines, then one summary with
 * the count held back; the counter has all 50. Bug repro: 50 lines.
 */
static void faults_at_once(struct vk_thread *that)
{
	struct {
		int unused;
	} * self;

	vk_begin();
	fault_segv();
	vk_end();
}

START_TEST(test_fault_log_rate_limited)
{
	struct vkt_kern k = vkt_kern_new();

	for (int i = 0; i < 50; i++)
		vkt_spawn(&k, HEAP, 1, faults_at_once, NULL);
	vk_kern_run(k.kern);
	ck_assert_uint_eq(vk_kern_stats(k.kern)->faults, 50);
	ck_assert_int_eq(vkt_log_lines, VK_REPORT_BURST);
	/* The summary comes at the end of the window, or when the kernel goes. */
	vkt_kern_free(&k);
	ck_assert_int_eq(vkt_log_lines, VK_REPORT_BURST + 1);
	ck_assert_msg(strstr(vkt_log_buf, "\n40 more ") != NULL, "%s", vkt_log_buf);
}
END_TEST

/* raise() by the process's own code is its fault: contained. */
static void raises_segv(struct vk_thread *that)
{
	struct {
		int unused;
	} * self;

	vk_begin();
	g_faulted++;
	raise(SIGSEGV);
	g_after_fault = 1;
	vk_end();
}

START_TEST(test_fault_raised_contained)
{
	struct vk_stats stats;

	reset_faults();
	stats = vkt_run(raises_segv, NULL, HEAP, 1);
	ck_assert_int_eq(g_faulted, 1);
	ck_assert_int_eq(g_after_fault, 0);
	ck_assert_uint_eq(stats.faults, 1);
	ck_assert_uint_eq(stats.procs_now, 0);
}
END_TEST

/*
 * Waits while another process sends it vk_arg(), a signal, with kill(2): a signal
 * from outside is not a fault of whatever runs, so the process dies of it.
 */
static void killed_from_outside(struct vk_thread *that)
{
	struct {
		int unused;
	} * self;
	pid_t child;

	vk_begin();
	child = fork();
	if (child == 0) {
		kill(getppid(), (int)(intptr_t)vk_arg());
		_exit(0);
	}
	while (waitpid(child, NULL, 0) == -1 && errno == EINTR)
		;
	/* The signal may still be on its way: give it time to arrive. */
	usleep(200 * 1000);
	g_after_fault = 1;
	vk_end();
}

START_TEST(test_fault_sent_kills)
{
	vkt_expect_death_by_signal();
	/* The kernel installs its handler again: only its own decision counts. */
	vkt_run(killed_from_outside, (void *)(intptr_t)SIGSEGV, HEAP, 1);
}
END_TEST

/* kill -ABRT from another process ends the worker, as it always did. */
START_TEST(test_abort_sent_kills)
{
	vkt_expect_death_by_signal();
	vkt_run(killed_from_outside, (void *)(intptr_t)SIGABRT, HEAP, 1);
}
END_TEST

/* abort() outside any micro-process is the kernel's own: the worker dies. */
START_TEST(test_abort_outside_dies)
{
	struct vkt_kern k;

	vkt_expect_death_by_signal();
	k = vkt_kern_new();
	abort();
	vkt_kern_free(&k);
}
END_TEST

/* Outside any micro-process a fault is a real crash. */
START_TEST(test_fault_outside_dies_segv)
{
	struct vkt_kern k;

	vkt_expect_death_by_signal();
	k = vkt_kern_new();
	fault_segv();
	vkt_kern_free(&k);
}
END_TEST

START_TEST(test_fault_outside_dies_fpe)
{
	struct vkt_kern k;

	vkt_expect_death_by_signal();
	k = vkt_kern_new();
	fault_fpe();
	vkt_kern_free(&k);
}
END_TEST

/* ================================================================== */
/* 12. Protection accounting                                          */
/* ================================================================== */

static long g_bytes[2];
static char g_order[16]; /* which process ran, in order: "P", "Q" */

/* Counts the bytes arriving on its descriptor until the end. */
static void counter_main(struct vk_thread *that)
{
	struct {
		char buf[16];
		ssize_t n;
	} * self;

	vk_begin();
	for (;;) {
		vk_read_some(self->n, self->buf, sizeof(self->buf));
		if (self->n == 0)
			break;
		*(long *)vk_arg() += self->n;
		strncat(g_order, vk_arg() == &g_bytes[0] ? "P" : "Q",
			sizeof(g_order) - strlen(g_order) - 1);
	}
	vk_end();
}

struct cost {
	uint64_t protections;
	long mprotects;
	uint64_t dispatches;
};

static struct cost cost_now(struct vkt_kern *k)
{
	const struct vk_stats *stats = vk_kern_stats(k->kern);
	struct cost c = {stats->protections, g_mprotect_calls, stats->dispatches};

	return c;
}

static struct cost cost_since(struct vkt_kern *k, struct cost before)
{
	struct cost now = cost_now(k);
	struct cost c = {now.protections - before.protections, now.mprotects - before.mprotects,
			 now.dispatches - before.dispatches};

	/* The counter tells the truth. */
	ck_assert_int_eq(c.mprotects, (long)c.protections);
	return c;
}

/*
 * Send one byte to each of the `n` peers, let the loop see it, and
 * dispatch: the cost of what that took. g_order tells who ran.
 */
static struct cost poke(struct vkt_kern *k, const int *peers, int n)
{
	struct cost before = cost_now(k);

	g_order[0] = '\0';
	for (int i = 0; i < n; i++)
		ck_assert_int_eq(write(peers[i], "x", 1), 1);
	ev_run(k->loop, EVRUN_NOWAIT); /* the readiness callbacks queue them */
	vk_kern_dispatch(k->kern);     /* as the prepare watcher would */
	return cost_since(k, before);
}

/* Two processes P and Q, each counting the bytes on a socket pair. */
struct pq {
	struct vkt_kern k;
	int p[2], q[2];
};

static void pq_start(struct pq *pq, int isolation)
{
	struct vk_proc_config config = vkt_config(HEAP, isolation);

	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, pq->p),
			 0);
	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, pq->q),
			 0);
	g_bytes[0] = g_bytes[1] = 0;
	pq->k = vkt_kern_new();
	ck_assert_ptr_nonnull(
	    vk_kern_spawn(pq->k.kern, &config, counter_main, &g_bytes[0], pq->p[0]));
	ck_assert_ptr_nonnull(
	    vk_kern_spawn(pq->k.kern, &config, counter_main, &g_bytes[1], pq->q[0]));
	vk_kern_dispatch(pq->k.kern); /* both start and wait */
	ck_assert_uint_eq(vk_kern_stats(pq->k.kern)->dispatches, 2);
}

static void pq_end(struct pq *pq)
{
	close(pq->p[1]);
	close(pq->q[1]);
	vk_kern_run(pq->k.kern);
	ck_assert_uint_eq(vk_kern_stats(pq->k.kern)->procs_now, 0);
	ck_assert_uint_eq(vk_kern_stats(pq->k.kern)->faults, 0);
	vkt_kern_free(&pq->k);
}

/*
 * With isolation: a dispatch after another process's costs exactly two
 * calls (protect the other heap, unprotect this one); the same process
 * again costs none. Without: none ever.
 */
static void check_protection_cost(int isolation)
{
	struct pq pq;
	struct cost c;
	long per = isolation ? 2 : 0;

	pq_start(&pq, isolation);
	/* Q, then P: P's dispatch follows another process's. */
	c = poke(&pq.k, &pq.q[1], 1);
	ck_assert_uint_eq(c.dispatches, 1);
	ck_assert_int_eq(g_bytes[1], 1);
	c = poke(&pq.k, &pq.p[1], 1);
	ck_assert_uint_eq(c.dispatches, 1);
	ck_assert_int_eq(g_bytes[0], 1);
	ck_assert_uint_eq(c.protections, (uint64_t)per);
	/* Q again, after P. */
	c = poke(&pq.k, &pq.q[1], 1);
	ck_assert_uint_eq(c.dispatches, 1);
	ck_assert_int_eq(g_bytes[1], 2);
	ck_assert_uint_eq(c.protections, (uint64_t)per);
	/* Q right after Q: its heap is still open. */
	c = poke(&pq.k, &pq.q[1], 1);
	ck_assert_uint_eq(c.dispatches, 1);
	ck_assert_int_eq(g_bytes[1], 3);
	ck_assert_uint_eq(c.protections, 0);
	/* Both in one loop iteration, Q open before: two per switch of heap. */
	{
		int both[2] = {pq.p[1], pq.q[1]};

		c = poke(&pq.k, both, 2);
	}
	ck_assert_uint_eq(c.dispatches, 2);
	ck_assert_int_eq(g_bytes[0], 2);
	ck_assert_int_eq(g_bytes[1], 4);
	if (strcmp(g_order, "PQ") == 0)
		ck_assert_uint_eq(c.protections, 2 * (uint64_t)per); /* Q-P, P-Q */
	else if (strcmp(g_order, "QP") == 0)
		ck_assert_uint_eq(c.protections, (uint64_t)per); /* Q-P */
	else
		ck_abort_msg("order %s", g_order);
	/* Closing the open heap by hand: one call; then opening it: one. */
	{
		struct cost before = cost_now(&pq.k);

		vk_kern_close_heaps(pq.k.kern);
		c = cost_since(&pq.k, before);
		ck_assert_uint_eq(c.protections, (uint64_t)per / 2);
		vk_kern_close_heaps(pq.k.kern); /* nothing open: free */
		c = cost_since(&pq.k, before);
		ck_assert_uint_eq(c.protections, (uint64_t)per / 2);
	}
	c = poke(&pq.k, &pq.p[1], 1);
	ck_assert_uint_eq(c.dispatches, 1);
	ck_assert_uint_eq(c.protections, (uint64_t)per / 2);
	pq_end(&pq);
}

START_TEST(test_protection_cost_isolated)
{
	check_protection_cost(1);
}
END_TEST

START_TEST(test_protection_cost_not_isolated)
{
	check_protection_cost(0);
}
END_TEST

/*
 * The first dispatch of a new process after another's costs the same two
 * calls as any other: its heap was protected from its spawn on (see
 * test_fresh_heap_protected_before_first_run, the same bug).
 */
START_TEST(test_protection_cost_first_dispatch)
{
	struct pq pq;
	struct vk_proc_config config = vkt_config(HEAP, 1);
	struct cost before;
	int r[2];
	long r_bytes = 0;

	pq_start(&pq, 1); /* Q's heap is open now */
	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, r), 0);
	ck_assert_ptr_nonnull(vk_kern_spawn(pq.k.kern, &config, counter_main, &r_bytes, r[0]));
	before = cost_now(&pq.k);
	vk_kern_dispatch(pq.k.kern);
	ck_assert_uint_eq(cost_since(&pq.k, before).dispatches, 1);
	ck_assert_uint_eq(cost_since(&pq.k, before).protections, 2);
	close(r[1]);
	pq_end(&pq);
}
END_TEST

/*
 * A heap left open in the pool by a process that ended (the open heap
 * at its end: vk_pool_release(VK_POOL_OPEN)) is closed before another
 * process runs, or taken open by a new one, whose heap it then is.
 */

static const long *volatile g_read_at;

/* Reads *g_read_at once a byte came on its descriptor, then goes on counting. */
static void reads_on_byte(struct vk_thread *that)
{
	struct {
		char c;
		ssize_t n;
	} * self;

	vk_begin();
	vk_read_some(self->n, &self->c, 1);
	g_b_started = 1;
	g_b_value = read_long(g_read_at);
	g_b_reached = 1;
	vk_read_some(self->n, &self->c, 1);
	vk_end();
}

/*
 * B waits on a descriptor; A runs and ends, its heap pooled open; then B
 * runs and reads where A's heap is (how 0), or where the heap of C is, a
 * new process that took A's heap open and did not run yet (how 1): each
 * read faults. Bug repro: without the close in open_heap(), B read A's
 * pooled heap (how 0); without marking C's heap the open one at its
 * spawn, B read it (how 1).
 */
static void pooled_open_heap_read(int how)
{
	struct vk_proc_config config = vkt_config(HEAP, 1);
	struct vkt_kern k;
	struct vk_stats stats;
	struct vk_proc *c;
	int s[2];

	reset_cross();
	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, s), 0);
	k = vkt_kern_new();
	ck_assert_ptr_nonnull(vk_kern_spawn(k.kern, &config, reads_on_byte, NULL, s[0]));
	vk_kern_dispatch(k.kern); /* B waits */
	vkt_spawn(&k, HEAP, 1, proc_a, ENDS_AT_ONCE);
	vk_kern_dispatch(k.kern); /* A ends: its heap is pooled open */
	ck_assert_ptr_nonnull(g_a_magic);
	g_read_at = g_a_magic;
	ck_assert_int_eq(write(s[1], "x", 1), 1);
	ev_run(k.loop, EVRUN_NOWAIT); /* B is queued */
	if (how == 1) {
		c = vkt_spawn(&k, HEAP, 1, idle_proc, NULL); /* queued after B */
		ck_assert_ptr_eq(c->heap.base, (char *)((uintptr_t)g_a_magic & ~(uintptr_t)4095));
		g_read_at = (const long *)(void *)c->heap.base;
	}
	vk_kern_dispatch(k.kern);
	stats = *vk_kern_stats(k.kern);
	close(s[1]);
	vk_kern_run(k.kern);
	vkt_kern_free(&k);
	ck_assert_int_eq(g_b_started, 1);
	ck_assert_int_eq(g_b_reached, 0);
	ck_assert_uint_eq(stats.faults, 1);
}

START_TEST(test_pooled_open_heap_closed_before_next_run)
{
	pooled_open_heap_read(0);
}
END_TEST

START_TEST(test_new_process_on_open_heap_protected)
{
	pooled_open_heap_read(1);
}
END_TEST

/*
 * A process that runs and ends in one dispatch (a Connection: close
 * request) costs no protection change when the last process before it
 * ended too: it takes the heap that one left open, at its spawn or, when
 * another process's heap was open then, at its first dispatch.
 */
/* Spawn `n` processes that end at once, dispatch: the cost checked. */
static void enders_cost(struct vkt_kern *k, int n, uint64_t protections)
{
	struct cost before = cost_now(k), c;

	for (int i = 0; i < n; i++)
		vkt_spawn(k, HEAP, 1, proc_a, ENDS_AT_ONCE);
	vk_kern_dispatch(k->kern);
	c = cost_since(k, before);
	ck_assert_uint_eq(c.dispatches, (uint64_t)n);
	ck_assert_uint_eq(c.protections, protections);
}

START_TEST(test_protection_cost_ending_processes)
{
	struct vk_proc_config config = vkt_config(HEAP, 1);
	struct vkt_kern k;
	struct cost before, c;
	int s[2];

	reset_cross();
	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, s), 0);
	k = vkt_kern_new();
	/* Heaps pooled, so that no spawn below maps one (its guard page's mprotect). */
	for (int i = 0; i < 3; i++)
		vkt_spawn(&k, HEAP, 1, proc_a, ENDS_AT_ONCE);
	vk_kern_dispatch(k.kern);
	/* A waiting process, whose heap is the open one. */
	ck_assert_ptr_nonnull(vk_kern_spawn(k.kern, &config, counter_main, &g_bytes[0], s[0]));
	vk_kern_dispatch(k.kern);
	/* The first to end after it: its heap and the other's switch, two calls. */
	enders_cost(&k, 1, 2);
	/* The next takes its heap open at its spawn: none. */
	enders_cost(&k, 1, 0);
	/* Two spawned at once: the second takes it at its first dispatch: none. */
	enders_cost(&k, 2, 0);
	/* The waiting process again: the pooled open heap is closed, its own opened. */
	before = cost_now(&k);
	ck_assert_int_eq(write(s[1], "x", 1), 1);
	ev_run(k.loop, EVRUN_NOWAIT);
	vk_kern_dispatch(k.kern);
	c = cost_since(&k, before);
	ck_assert_uint_eq(c.dispatches, 1);
	ck_assert_uint_eq(c.protections, 2);
	close(s[1]);
	vk_kern_run(k.kern);
	ck_assert_uint_eq(vk_kern_stats(k.kern)->faults, 0);
	vkt_kern_free(&k);
}
END_TEST

/* ================================================================== */
/* The kernel's life                                                  */
/* ================================================================== */

START_TEST(test_one_kernel_per_process)
{
	struct vkt_kern k = vkt_kern_new();

	errno = 0;
	ck_assert_ptr_null(vk_kern_create(k.loop));
	ck_assert_int_eq(errno, EBUSY);
	vkt_kern_free(&k);
	/* Once destroyed, another may be made. */
	k = vkt_kern_new();
	vkt_kern_free(&k);
}
END_TEST

/* Destroying a kernel ends its processes, closes their descriptors and
 * puts the fault handlers back as they were. */
START_TEST(test_destroy_with_live_processes)
{
	struct sigaction before[3], after[3];
	static const int signals[3] = {SIGSEGV, SIGBUS, SIGFPE};
	struct vk_proc_config config = vkt_config(HEAP, 1);
	struct vkt_kern k;
	int p[2];
	char c;

	for (int i = 0; i < 3; i++)
		ck_assert_int_eq(sigaction(signals[i], NULL, &before[i]), 0);
	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, p), 0);
	g_bytes[0] = 0;
	k = vkt_kern_new();
	ck_assert_ptr_nonnull(vk_kern_spawn(k.kern, &config, counter_main, &g_bytes[0], p[0]));
	vkt_spawn(&k, HEAP, 1, idle_proc, NULL);
	vk_kern_dispatch(k.kern);
	ck_assert_uint_eq(vk_kern_stats(k.kern)->procs_now, 2);
	vkt_kern_free(&k);
	ck_assert_int_eq(read(p[1], &c, 1), 0);
	errno = 0;
	ck_assert_int_eq(fcntl(p[0], F_GETFD), -1);
	ck_assert_int_eq(errno, EBADF);
	close(p[1]);
	for (int i = 0; i < 3; i++) {
		ck_assert_int_eq(sigaction(signals[i], NULL, &after[i]), 0);
		ck_assert_ptr_eq((void *)after[i].sa_sigaction, (void *)before[i].sa_sigaction);
	}
}
END_TEST

/*
 * vm.max_map_count bounds how many heaps a worker may map (two mappings
 * each): by default the limit is derived from it, and past the limit a
 * spawn fails with ENOMEM, is counted and logged, and the live processes
 * are untouched. A pooled heap counts as mapped, and is reused first.
 */
START_TEST(test_heap_limit)
{
	struct vkt_kern k = vkt_kern_new();
	struct vk_proc_config config = vkt_config(HEAP, 1);
	unsigned long maps = 0;
	FILE *file = fopen("/proc/sys/vm/max_map_count", "r");

	ck_assert_ptr_nonnull(file);
	ck_assert_int_eq(fscanf(file, "%lu", &maps), 1);
	fclose(file);
	/* Two mappings a heap, leaving some for the rest of the process. */
	ck_assert_uint_le(vk_kern_heap_limit(k.kern), maps / 2);
	ck_assert_uint_ge(vk_kern_heap_limit(k.kern), maps / 4);

	vk_kern_set_heap_limit(k.kern, 2);
	vkt_spawn(&k, HEAP, 1, idle_proc, NULL);
	vkt_spawn(&k, HEAP, 1, idle_proc, NULL);
	errno = 0;
	ck_assert_ptr_null(vk_kern_spawn(k.kern, &config, idle_proc, NULL, -1));
	ck_assert_int_eq(errno, ENOMEM);
	ck_assert_uint_eq(vk_kern_stats(k.kern)->heap_failures, 1);
	ck_assert_int_ge(vkt_log_lines, 1);
	vk_kern_dispatch(k.kern);
	ck_assert_uint_eq(vk_kern_stats(k.kern)->procs_now, 2);
	vkt_kern_free(&k);
}
END_TEST

/* ================================================================== */
/* The watchdog: a CPU budget per dispatch                            */
/* ================================================================== */

/* App code, as a module's would be: registered with vk_code_add(). */
#define VKT_APP_CODE __attribute__((section("vkt_app_code"), noinline))
extern const char __start_vkt_app_code[], __stop_vkt_app_code[];

static void register_app_code(void)
{
	vk_code_clear();
	ck_assert_int_eq(vk_code_add("test-app", 0, (uintptr_t)__start_vkt_app_code,
				     (uintptr_t)__stop_vkt_app_code),
			 0);
}

static double cpu_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static volatile unsigned long g_spins;
static volatile int g_spun; /* the non-app spin ran to its end */
static double g_spin_start, g_spin_end;

static void note_spin_end(struct vk_proc *proc, void *ctx)
{
	(void)proc;
	(void)ctx;
	g_spin_end = cpu_ms();
}

/* Computes in app code until `ms` of CPU passed (forever when 0). */
VKT_APP_CODE static void spin_app(double ms)
{
	double until = cpu_ms() + ms;

	for (;;) {
		for (int i = 0; i < 100000; i++)
			g_spins++;
		if (ms && cpu_ms() >= until)
			return;
	}
}

/* The same outside app code: the watchdog must not cut it short. */
__attribute__((noinline)) static void spin_kernel(double ms)
{
	double until = cpu_ms() + ms;

	while (cpu_ms() < until)
		g_spins++;
	g_spun = 1;
}

/* Spins forever in app code after a yield and a sleep. */
VKT_APP_CODE static void spinner(struct vk_thread *that)
{
	struct {
		int unused;
	} * self;

	vk_begin();
	vk_yield();
	vk_sleep(5);
	g_faulted++;
	g_spin_start = cpu_ms();
	spin_app(0);
	g_after_fault = 1;
	vk_end();
}

/*
 * A process that computes forever is ended by the watchdog once its
 * budget is used; 100 others complete. Bug repro: no watchdog, the test
 * ran into Check's timeout.
 */
START_TEST(test_watchdog_ends_spinner)
{
	struct vkt_kern k;
	struct vk_proc_config config = vkt_config(HEAP, 1);
	struct vk_stats stats;
	struct vk_proc *proc;
	double took;

	reset_faults();
	register_app_code();
	config.max_run_ms = 50;
	config.on_exit = note_spin_end;
	k = vkt_kern_new();
	for (int i = 0; i < 100; i++) {
		vkt_spawn(&k, HEAP, 1, worker, (void *)(uintptr_t)(i + 1));
		if (i != 50)
			continue;
		proc = vk_kern_spawn(k.kern, &config, spinner, NULL, -1);
		ck_assert_ptr_nonnull(proc);
	}
	vk_kern_run(k.kern);
	took = g_spin_end - g_spin_start;
	stats = *vk_kern_stats(k.kern);
	vkt_kern_free(&k);
	vk_code_clear();
	ck_assert_int_eq(g_completed, 100);
	ck_assert_int_eq(g_faulted, 1);
	ck_assert_int_eq(g_after_fault, 0);
	ck_assert_uint_eq(stats.watchdog, 1);
	ck_assert_uint_eq(stats.faults, 0);
	ck_assert_uint_eq(stats.procs_now, 0);
	/* Between the budget and the budget plus two ticks (12 ms each), and some slack. */
	ck_assert_double_ge(took, 50);
	ck_assert_double_le(took, 50 + 2 * 12 + vkt_slack_ms(60));
	ck_assert_int_eq(vkt_log_lines, 1);
	ck_assert_ptr_nonnull(strstr(vkt_log_buf, "watchdog"));
	ck_assert_ptr_nonnull(strstr(vkt_log_buf, "code test-app+0x"));
}
END_TEST

/*
 * Over budget outside app code (think of libvk or malloc), the process is
 * not cut there: only when it is back in app code.
 */
VKT_APP_CODE static void overruns_in_kernel(struct vk_thread *that)
{
	struct {
		int unused;
	} * self;

	vk_begin();
	g_faulted++;
	spin_kernel(150);
	spin_app(0);
	g_after_fault = 1;
	vk_end();
}

START_TEST(test_watchdog_waits_for_app_code)
{
	struct vkt_kern k;
	struct vk_proc_config config = vkt_config(HEAP, 1);
	struct vk_stats stats;

	reset_faults();
	g_spun = 0;
	register_app_code();
	config.max_run_ms = 20;
	k = vkt_kern_new();
	ck_assert_ptr_nonnull(vk_kern_spawn(k.kern, &config, overruns_in_kernel, NULL, -1));
	vk_kern_run(k.kern);
	stats = *vk_kern_stats(k.kern);
	vkt_kern_free(&k);
	vk_code_clear();
	ck_assert_int_eq(g_spun, 1);
	ck_assert_int_eq(g_after_fault, 0);
	ck_assert_uint_eq(stats.watchdog, 1);
}
END_TEST

/* Many dispatches each under the budget add up to more: no end. */
VKT_APP_CODE static void works_in_slices(struct vk_thread *that)
{
	struct {
		int i;
	} * self;

	vk_begin();
	for (self->i = 0; self->i < 8; self->i++) {
		spin_app(15);
		vk_sleep(1);
	}
	g_completed++;
	vk_end();
}

START_TEST(test_watchdog_budget_per_dispatch)
{
	struct vkt_kern k;
	struct vk_proc_config config = vkt_config(HEAP, 1);
	struct vk_stats stats;

	reset_faults();
	register_app_code();
	config.max_run_ms = 40;
	k = vkt_kern_new();
	ck_assert_ptr_nonnull(vk_kern_spawn(k.kern, &config, works_in_slices, NULL, -1));
	vk_kern_run(k.kern);
	stats = *vk_kern_stats(k.kern);
	vkt_kern_free(&k);
	vk_code_clear();
	ck_assert_int_eq(g_completed, 1);
	ck_assert_uint_eq(stats.watchdog, 0);
}
END_TEST

/* SIGXCPU sent from another process keeps its meaning: the worker dies. */
START_TEST(test_xcpu_sent_kills)
{
	vkt_expect_death_by_signal();
	vkt_run(killed_from_outside, (void *)(intptr_t)SIGXCPU, HEAP, 1);
}
END_TEST

/* ================================================================== */
/* Looking at processes from outside: vkctl ps and kill                */
/* ================================================================== */

/*
 * The walk sees every live process with what ps shows, from outside its
 * heap; kill ends exactly the one named, counted for it and its app.
 */
START_TEST(test_walk_and_kill)
{
	struct vk_app_stats app = {0};
	struct vk_proc_config config = vkt_config(HEAP, 1);
	struct vk_proc_info info[8];
	uint64_t ids[3];
	int peers[3];
	struct vkt_kern k;
	char c;
	size_t n;

	config.app = 7;
	config.app_stats = &app;
	k = vkt_kern_new();
	for (int i = 0; i < 3; i++) {
		int p[2];
		struct vk_proc *proc;

		ck_assert_int_eq(
		    socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, p), 0);
		proc = vk_kern_spawn(k.kern, &config, counter_main, &g_bytes[0], p[0]);
		ck_assert_ptr_nonnull(proc);
		ids[i] = proc->id;
		peers[i] = p[1];
	}
	ck_assert_int_eq(write(peers[0], "abc", 3), 3);
	ev_run(k.loop, EVRUN_NOWAIT);
	vk_kern_dispatch(k.kern);
	vk_kern_walk_begin(k.kern);
	n = vk_kern_walk(k.kern, info, 2);
	ck_assert_uint_eq(n, 2);
	n += vk_kern_walk(k.kern, info + n, 8 - n);
	ck_assert_uint_eq(n, 3);
	ck_assert_uint_eq(vk_kern_walk(k.kern, info, 8), 0);
	for (size_t i = 0; i < n; i++) {
		ck_assert_uint_eq(info[i].app, 7);
		ck_assert_uint_eq(info[i].state, VK_PROC_WAITING);
		ck_assert_uint_eq(info[i].wait, VK_WAIT_READ);
		ck_assert_uint_eq(info[i].heap_mapped, HEAP);
		ck_assert_uint_gt(info[i].heap_used, 0);
		ck_assert(info[i].started > 0 && info[i].last_run >= info[i].started);
		/* Newest first. */
		ck_assert_uint_eq(info[i].id, ids[2 - i]);
		ck_assert_uint_eq(info[i].bytes_in, info[i].id == ids[0] ? 3 : 0);
	}
	ck_assert_uint_eq(app.procs_now, 3);
	ck_assert_int_eq(vk_kern_kill(k.kern, ids[1]), 0);
	ck_assert_int_eq(vk_kern_kill(k.kern, ids[1]), -ESRCH);
	ck_assert_int_eq(vk_kern_kill(k.kern, 999), -ESRCH);
	ck_assert_uint_eq(vk_kern_stats(k.kern)->killed, 1);
	ck_assert_uint_eq(app.killed, 1);
	ck_assert_uint_eq(app.procs_now, 2);
	ck_assert_uint_eq(vk_kern_stats(k.kern)->procs_now, 2);
	/* Exactly that one's connection is closed. */
	ck_assert_int_eq(read(peers[1], &c, 1), 0);
	errno = 0;
	ck_assert_int_eq(read(peers[2], &c, 1), -1);
	ck_assert_int_eq(errno, EAGAIN);
	ck_assert_ptr_nonnull(strstr(vkt_log_buf, "kill"));
	for (int i = 0; i < 3; i++)
		close(peers[i]);
	vk_kern_run(k.kern);
	ck_assert_uint_eq(app.procs_now, 0);
	ck_assert_uint_eq(app.procs_total, 3);
	vkt_kern_free(&k);
}
END_TEST

static Suite *fault_suite(void)
{
	Suite *s = suite_create("vk_fault");
	TCase *tc;

	tc = tcase_create("isolation");
	tcase_add_loop_test(tc, test_cross_heap_read, 0, 4);
	tcase_add_test_raise_signal(tc, test_read_from_outside_dies, SIGSEGV);
	tcase_add_test_raise_signal(tc, test_read_from_outside_after_other_dies, SIGSEGV);
	tcase_add_loop_test(tc, test_read_from_outside_without_isolation, 0, 3);
	tcase_add_test(tc, test_last_heap_open_until_next_dispatch);
	tcase_add_test(tc, test_fresh_heap_protected_before_first_run);
	tcase_add_test(tc, test_pooled_open_heap_closed_before_next_run);
	tcase_add_test(tc, test_new_process_on_open_heap_protected);
	suite_add_tcase(s, tc);

	tc = tcase_create("faults");
	tcase_set_timeout(tc, 20);
	tcase_add_test(tc, test_fault_segv_contained);
	tcase_add_test(tc, test_fault_fpe_contained);
	tcase_add_test(tc, test_two_faults_contained);
	tcase_add_test(tc, test_abort_contained);
	tcase_add_test(tc, test_failed_assert_contained);
	tcase_add_test_raise_signal(tc, test_abort_sent_kills, SIGABRT);
	tcase_add_test_raise_signal(tc, test_abort_outside_dies, SIGABRT);
	tcase_add_test(tc, test_fault_closes_descriptors);
	tcase_add_test(tc, test_fault_raised_contained);
	tcase_add_test(tc, test_fault_log_names_everything);
	tcase_add_test(tc, test_fault_log_rate_limited);
	tcase_add_test_raise_signal(tc, test_fault_sent_kills, SIGSEGV);
	tcase_add_test_raise_signal(tc, test_fault_outside_dies_segv, SIGSEGV);
	tcase_add_test_raise_signal(tc, test_fault_outside_dies_fpe, SIGFPE);
	suite_add_tcase(s, tc);

	tc = tcase_create("watchdog");
	tcase_set_timeout(tc, 20);
	tcase_add_test(tc, test_watchdog_ends_spinner);
	tcase_add_test(tc, test_watchdog_waits_for_app_code);
	tcase_add_test(tc, test_watchdog_budget_per_dispatch);
	tcase_add_test_raise_signal(tc, test_xcpu_sent_kills, SIGXCPU);
	suite_add_tcase(s, tc);

	tc = tcase_create("ps");
	tcase_add_test(tc, test_walk_and_kill);
	suite_add_tcase(s, tc);

	tc = tcase_create("kernel");
	tcase_add_test(tc, test_one_kernel_per_process);
	tcase_add_test(tc, test_destroy_with_live_processes);
	tcase_add_test(tc, test_heap_limit);
	suite_add_tcase(s, tc);

	tc = tcase_create("protection");
	tcase_add_test(tc, test_protection_cost_isolated);
	tcase_add_test(tc, test_protection_cost_not_isolated);
	tcase_add_test(tc, test_protection_cost_first_dispatch);
	tcase_add_test(tc, test_protection_cost_ending_processes);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return check_run(fault_suite());
}
