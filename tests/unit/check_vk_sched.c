/*
 * The order in which the kernel serves micro-processes woken in the same
 * loop iteration: the order of their events (readiness as epoll reported
 * it, deadlines as they fell due), oldest first, so that with many busy
 * connections each waits about one round, never two.
 *
 * Processes here own one end of a socketpair each; the test writes to the
 * other ends in a chosen order, turns the loop once (ev_run(EVRUN_ONCE):
 * poll, take the events in) and dispatches, the processes tracing their
 * number as they run.
 */
#include "vk_check.h"

#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

#define HEAP (64 * 1024)
#define PROCS 8

/* Trace "P<n>" for every read, until the peer closes. */
static void reader_main(struct vk_thread *that)
{
	struct {
		char buf[64];
		ssize_t n;
	} * self;

	vk_begin();
	for (;;) {
		vk_read_some(self->n, self->buf, sizeof(self->buf));
		if (self->n == 0)
			break;
		vkt_tracef("P%d", (int)(intptr_t)vk_arg());
	}
	vk_finally();
	vk_clear_error();
	vk_end();
}

struct pairs {
	struct vkt_kern k;
	int peer[PROCS];
	struct vk_proc *proc[PROCS];
};

static void pairs_start(struct pairs *p)
{
	struct vk_proc_config config = vkt_config(HEAP, 0);

	p->k = vkt_kern_new();
	for (int i = 0; i < PROCS; i++) {
		int sv[2];

		ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
		ck_assert_int_eq(fcntl(sv[0], F_SETFL, O_NONBLOCK), 0);
		struct vk_proc *proc =
		    vk_kern_spawn(p->k.kern, &config, reader_main, (void *)(intptr_t)i, sv[0]);

		ck_assert_ptr_nonnull(proc);
		p->proc[i] = proc;
		p->peer[i] = sv[1];
	}
	/* Every process starts and waits for bytes; the loop registers them. */
	vk_kern_dispatch(p->k.kern);
	ev_run(p->k.loop, EVRUN_NOWAIT);
	vkt_trace_reset();
}

static void pairs_stop(struct pairs *p)
{
	for (int i = 0; i < PROCS; i++)
		close(p->peer[i]);
	vk_kern_run(p->k.kern);
	ck_assert_uint_eq(vk_kern_stats(p->k.kern)->procs_now, 0);
	vkt_kern_free(&p->k);
}

/* Write a byte to the `n` peers in `order`, turn the loop once (a poll), dispatch. */
static void wake(struct pairs *p, const int *order, int n)
{
	for (int i = 0; i < n; i++)
		ck_assert_int_eq(write(p->peer[order[i]], "x", 1), 1);
	ev_run(p->k.loop, EVRUN_ONCE);
	vk_kern_dispatch(p->k.kern);
}

/* wake() all of them, then poll once more with nothing ready. */
static void wake_in_order(struct pairs *p, const int *order)
{
	wake(p, order, PROCS);
	/*
	 * Poll once with nothing ready: epoll keeps a descriptor it reported
	 * in its ready list, in place, until a poll finds it drained.
	 */
	ev_run(p->k.loop, EVRUN_NOWAIT);
}

START_TEST(test_readiness_order)
{
	static const int first[PROCS] = {3, 0, 6, 1, 7, 2, 5, 4};
	static const int second[PROCS] = {7, 6, 5, 4, 3, 2, 1, 0};
	struct pairs p;

	pairs_start(&p);
	wake_in_order(&p, first);
	vkt_trace_is("P3 P0 P6 P1 P7 P2 P5 P4");
	vkt_trace_reset();
	wake_in_order(&p, second);
	vkt_trace_is("P7 P6 P5 P4 P3 P2 P1 P0");
	pairs_stop(&p);
}
END_TEST

/*
 * A connection served in one round whose next bytes come during that
 * round, after other connections became ready: epoll (level-triggered
 * under libev) keeps the reported descriptor in its ready list, in place,
 * and reports it first again; the kernel serves it after those that
 * waited, as epoll's edge-triggered order would.
 */
START_TEST(test_last_round_after_waiting)
{
	static const int first[1] = {0}, next[4] = {1, 2, 3, 0};
	struct pairs p;

	pairs_start(&p);
	wake(&p, first, 1);
	vkt_trace_is("P0");
	vkt_trace_reset();
	/* No poll between: P0 is still in epoll's ready list, ahead. */
	wake(&p, next, 4);
	vkt_trace_is("P1 P2 P3 P0");
	pairs_stop(&p);
}
END_TEST

/*
 * Closed-loop clients send their next request in the order their answers
 * went out; served in epoll's order instead, the connections that waited
 * (served first in a round) were reported after those that had not (epoll
 * puts each reported descriptor back in the order of the report), so they
 * ran last in the next round: two rounds apart. Each keeps its place.
 */
START_TEST(test_last_round_keeps_its_order)
{
	static const int first[1] = {0}, next[3] = {1, 2, 0};
	struct pairs p;

	pairs_start(&p);
	wake(&p, first, 1);
	vkt_trace_reset();
	wake(&p, next, 3);
	vkt_trace_is("P1 P2 P0");
	vkt_trace_reset();
	/* Their next bytes, as their answers went: the same order again. */
	wake(&p, next, 3);
	vkt_trace_is("P1 P2 P0");
	pairs_stop(&p);
}
END_TEST

/* Mark P0 (vk_proc_schedule_event()): it ran in a round, and the first poll after reports it. */
static void mark_p0(struct pairs *p)
{
	static const int first[1] = {0};

	wake(p, first, 1);
	vkt_trace_is("P0");
	vkt_trace_reset();
	ck_assert_int_eq(write(p->peer[0], "x", 1), 1);
	ck_assert_int_eq(write(p->peer[1], "x", 1), 1);
	ev_run(p->k.loop, EVRUN_ONCE);
	/* Woken, but left for the next round to queue in its place. */
	ck_assert(p->proc[0]->queued && p->proc[0]->again);
}

static void loop_kept_timeout(struct ev_loop *loop, struct ev_timer *timer, int revents)
{
	(void)revents;
	*(int *)timer->data = 1;
	ev_break(loop, EVBREAK_ONE);
}

/*
 * Whether something holds a reference on `loop` (ev_run() would go on):
 * a run with only an unreferenced 200 ms timer of ours returns at once
 * otherwise; else the timer ends it.
 */
static int loop_kept(struct ev_loop *loop)
{
	struct ev_timer timer;
	int fired = 0;

	ev_timer_init(&timer, loop_kept_timeout, 0.2, 0.);
	timer.data = &fired;
	ev_timer_start(loop, &timer);
	ev_unref(loop);
	ev_run(loop, 0);
	ev_ref(loop);
	ev_timer_stop(loop, &timer);
	return fired;
}

/* Ends at once. */
static void quiet_main(struct vk_thread *that)
{
	struct {
		int unused;
	} * self;

	vk_begin();
	vk_end();
}

/*
 * vkctl kill of a process marked but not yet queued: its control block
 * stays out of reuse until the next round queues and drops it (spawns
 * meanwhile take other blocks), the others run, and nothing is left
 * holding the loop once they are gone.
 */
START_TEST(test_marked_then_killed)
{
	struct vk_proc_config config = vkt_config(HEAP, 0);
	struct pairs p;

	pairs_start(&p);
	mark_p0(&p);
	ck_assert_int_eq(vk_kern_kill(p.k.kern, p.proc[0]->id), 0);
	for (int i = 0; i < 2; i++)
		ck_assert_ptr_nonnull(vk_kern_spawn(p.k.kern, &config, quiet_main, NULL, -1));
	vk_kern_dispatch(p.k.kern);
	vkt_trace_is("P1");
	ck_assert_uint_eq(vk_kern_stats(p.k.kern)->procs_now, PROCS - 1);
	for (int i = 0; i < PROCS; i++)
		close(p.peer[i]);
	vk_kern_run(p.k.kern);
	ck_assert_uint_eq(vk_kern_stats(p.k.kern)->procs_now, 0);
	ck_assert_uint_eq(vk_kern_stats(p.k.kern)->faults, 0);
	ck_assert_int_eq(loop_kept(p.k.loop), 0);
	vkt_kern_free(&p.k);
}
END_TEST

/* A kernel destroyed with a process marked gives the loop its reference back. */
START_TEST(test_destroy_with_marked)
{
	struct pairs p;

	pairs_start(&p);
	mark_p0(&p);
	vk_kern_destroy(p.k.kern);
	ck_assert_int_eq(loop_kept(p.k.loop), 0);
	ev_loop_destroy(p.k.loop);
	for (int i = 0; i < PROCS; i++)
		close(p.peer[i]);
}
END_TEST

/* Sleep (arg) ms once, trace "T<arg>". */
static void sleeper_main(struct vk_thread *that)
{
	struct {
		int unused;
	} * self;

	vk_begin();
	vk_sleep((uint32_t)(intptr_t)vk_arg());
	vkt_tracef("T%d", (int)(intptr_t)vk_arg());
	vk_end();
}

START_TEST(test_deadline_order)
{
	struct vkt_kern k = vkt_kern_new();
	static const int ms[PROCS] = {14, 11, 17, 10, 16, 12, 15, 13};
	double until;

	for (int i = 0; i < PROCS; i++)
		vkt_spawn(&k, HEAP, 0, sleeper_main, (void *)(intptr_t)ms[i]);
	vk_kern_dispatch(k.kern);
	vkt_trace_reset();
	/* Every deadline passes before the loop looks: they fall due together. */
	until = vkt_now_ms() + 40;
	while (vkt_now_ms() < until)
		usleep(1000);
	ev_run(k.loop, EVRUN_ONCE);
	vk_kern_dispatch(k.kern);
	vkt_trace_is("T10 T11 T12 T13 T14 T15 T16 T17");
	vk_kern_run(k.kern);
	vkt_kern_free(&k);
}
END_TEST

static Suite *sched_suite(void)
{
	Suite *s = suite_create("vk_sched");
	TCase *tc = tcase_create("order");

	tcase_add_test(tc, test_readiness_order);
	tcase_add_test(tc, test_last_round_after_waiting);
	tcase_add_test(tc, test_last_round_keeps_its_order);
	tcase_add_test(tc, test_deadline_order);
	tcase_add_test(tc, test_marked_then_killed);
	tcase_add_test(tc, test_destroy_with_marked);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return check_run(sched_suite());
}
