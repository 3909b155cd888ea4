#include "vk_kern.h"

#include <errno.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "vk_bus.h"
#include "vk_chan.h"
#include "vk_code.h"
#include "vk_connpool.h"
#include "vk_fault.h"
#include "vk_handoff.h"
#include "vk_poll.h"
#include "vk_pool.h"
#include "vk_pubsub_s.h"
#include "vk_report.h"
#include "vk_watchdog.h"
#include "vk_post.h"
#include "vk_resolve.h"
#include "vk_socket_s.h"
#include "vk_task.h"

/* How long a process whose main coroutine ended may take to send what it wrote. */
#define VK_LAST_WORDS_S 5.0
/*
 * How long an idle process whose waits were ended (ETIMEDOUT) may take to
 * end by itself before the kernel ends it: its app may answer and close
 * (the HTTP app's 408); one that waits again has not understood.
 */
#define VK_IDLE_GRACE_S 1.0
/* How often a pool holding more than VK_POOL_KEEP heaps shrinks (vk_pool_shrink()). */
#define VK_POOL_SHRINK_S 1.0

struct vk_kern {
	struct vk_sched sched;
	struct vk_pool pool;
	struct ev_prepare prepare;
	struct ev_timer pool_shrink; /* runs while the pool holds more than VK_POOL_KEEP */
	struct vk_proc *running;     /* whose code runs now: owns any fault */
	struct vk_proc *open;	     /* whose heap is accessible now */
	LIST_HEAD(, vk_proc) all;    /* live processes */
	struct vk_proc *spare_procs; /* control blocks to reuse */
	struct proc_slab *slabs;     /* where control blocks come from, newest first */
	unsigned slab_used;	     /* control blocks taken from the newest */
	struct kern_config *configs; /* what processes were spawned with, most recent first */
	struct vk_stats own_stats;
	struct vk_report report;	  /* early ends, rate-limited */
	struct vk_app_stats no_app_stats; /* for processes whose config keeps none */
	struct vk_proc *walk_next;	  /* vk_kern_walk()'s place; fixed up by proc_end() */
	uint32_t unwatched;		  /* a budget the watchdog could not take, logged */
	uint64_t next_id;
	sigjmp_buf fault_jump;
};

/*
 * A config processes were spawned with, kept for the kernel's life: its
 * processes point to it rather than each carrying a copy (56 bytes a
 * connection). There are few: one per app, service and test.
 */
/*
 * Control blocks come VK_KERN_SLAB at a time: a malloc block each would
 * add a header and round up to 16 bytes (288 bytes for 272, 16 more per
 * connection). They are never freed before the kernel (spare_procs).
 */
#define VK_KERN_SLAB 64

struct proc_slab {
	struct proc_slab *next;
	struct vk_proc procs[VK_KERN_SLAB];
};

struct kern_config {
	struct vk_proc_config config;
	struct kern_config *next;
};

/* One kernel per process: signal dispositions (vk_fault) are per process. */
static struct vk_kern *current_kern;

struct ev_loop *vk_kern_loop(const struct vk_kern *kern)
{
	return kern->sched.loop;
}

struct vk_bus *vk_kern_bus(const struct vk_kern *kern)
{
	return kern->sched.bus;
}

struct vk_stats *vk_kern_counters(struct vk_kern *kern)
{
	return kern->sched.stats;
}

const struct vk_stats *vk_kern_stats(const struct vk_kern *kern)
{
	return kern->sched.stats;
}

void vk_kern_set_stats(struct vk_kern *kern, struct vk_stats *stats)
{
	*stats = *kern->sched.stats;
	kern->sched.stats = stats;
	kern->pool.stats = stats;
}

void vk_kern_set_heap_limit(struct vk_kern *kern, size_t heaps)
{
	kern->pool.limit = heaps;
}

size_t vk_kern_heap_limit(const struct vk_kern *kern)
{
	return kern->pool.limit;
}

void vk_kern_set_pipe_budget(struct vk_kern *kern, size_t fds)
{
	vk_poll_set_pipe_budget(kern->sched.poll, fds);
}

void vk_kern_set_resolve_config(struct vk_kern *kern, const struct vk_resolve_config *config)
{
	kern->sched.resolve_config = config;
}

int vk_kern_draining(const struct vk_kern *kern)
{
	return kern->sched.draining;
}

void vk_kern_set_draining(struct vk_kern *kern, int draining)
{
	kern->sched.draining = draining;
	if (!draining)
		return;
	/* Idle waiters must re-arm with the drain grace: see vk_await_idle(). */
	struct vk_proc *proc;

	LIST_FOREACH (proc, &kern->all, all) {
		proc->nudged = 1;
		vk_proc_schedule(proc);
	}
}

static void pool_shrink_callback(struct ev_loop *loop, struct ev_timer *timer, int revents)
{
	struct vk_kern *kern = timer->data;

	(void)revents;
	if (vk_pool_shrink(&kern->pool))
		return;
	/* It runs unreferenced (below): give the reference back before stopping. */
	ev_ref(loop);
	ev_timer_stop(loop, timer);
}

/* A pool grown past VK_POOL_KEEP shrinks back slowly; it does not keep ev_run() going. */
static void pool_shrink_start(struct vk_kern *kern)
{
	if (kern->pool.free_count <= VK_POOL_KEEP || ev_is_active(&kern->pool_shrink))
		return;
	ev_timer_again(kern->sched.loop, &kern->pool_shrink);
	ev_unref(kern->sched.loop);
}

static void prepare_callback(struct ev_loop *loop, struct ev_prepare *watcher, int revents)
{
	(void)loop;
	(void)revents;
	vk_kern_dispatch(watcher->data);
}

struct vk_kern *vk_kern_create(struct ev_loop *loop)
{
	struct vk_kern *kern;
	int rc;

	if (current_kern) {
		errno = EBUSY;
		return NULL;
	}
	kern = calloc(1, sizeof(*kern));
	if (!kern)
		return NULL;
	vk_sched_init(&kern->sched, loop, &kern->own_stats);
	vk_pool_init(&kern->pool, &kern->own_stats);
	kern->sched.poll = vk_poll_create();
	kern->sched.bus = kern->sched.poll ? vk_bus_create(&kern->sched) : NULL;
	if (!kern->sched.bus) {
		vk_poll_destroy(kern->sched.poll);
		free(kern);
		return NULL;
	}
	rc = vk_fault_install();
	if (rc == 0 && (rc = vk_watchdog_install()) < 0)
		vk_fault_remove();
	if (rc < 0) {
		vk_bus_destroy(kern->sched.bus);
		vk_poll_destroy(kern->sched.poll);
		free(kern);
		errno = -rc;
		return NULL;
	}
	vk_report_init(&kern->report, loop);
	ev_prepare_init(&kern->prepare, prepare_callback);
	kern->prepare.data = kern;
	ev_prepare_start(loop, &kern->prepare);
	/* The prepare watcher alone must not keep the loop running. */
	ev_unref(loop);
	ev_init(&kern->pool_shrink, pool_shrink_callback);
	kern->pool_shrink.repeat = VK_POOL_SHRINK_S;
	kern->pool_shrink.data = kern;
	current_kern = kern;
	return kern;
}

/* ---- the life of a micro-process ---- */

static struct vk_proc *proc_alloc(struct vk_kern *kern)
{
	struct vk_proc *proc = kern->spare_procs;

	if (proc) {
		kern->spare_procs = proc->ready_next;
		memset(proc, 0, sizeof(*proc));
		return proc;
	}
	if (!kern->slabs || kern->slab_used == VK_KERN_SLAB) {
		struct proc_slab *slab = calloc(1, sizeof(*slab));

		if (!slab)
			return NULL;
		slab->next = kern->slabs;
		kern->slabs = slab;
		kern->slab_used = 0;
	}
	return &kern->slabs->procs[kern->slab_used++];
}

/* A control block nobody points to any more. */
static void proc_recycle(struct vk_kern *kern, struct vk_proc *proc)
{
	proc->ready_next = kern->spare_procs;
	kern->spare_procs = proc;
}

/* Field by field: a caller's struct may hold anything in its padding. */
static int config_same(const struct vk_proc_config *a, const struct vk_proc_config *b)
{
	return a->heap_size == b->heap_size && a->timeout_ms == b->timeout_ms &&
	       a->isolation == b->isolation && a->ring_size == b->ring_size && a->name == b->name &&
	       a->max_run_ms == b->max_run_ms && a->idle_timeout_ms == b->idle_timeout_ms &&
	       a->app == b->app && a->app_stats == b->app_stats && a->on_exit == b->on_exit &&
	       a->on_exit_ctx == b->on_exit_ctx;
}

/* The kernel's copy of `config`, with its defaults filled in; NULL: no memory. */
static const struct vk_proc_config *config_intern(struct vk_kern *kern,
						  const struct vk_proc_config *config)
{
	struct vk_proc_config want = *config;
	struct kern_config **link = &kern->configs, *found;

	if (!want.app_stats)
		want.app_stats = &kern->no_app_stats;
	if (!want.ring_size)
		want.ring_size = VK_SOCKET_RING_DEFAULT;
	for (; *link; link = &(*link)->next)
		if (config_same(&(*link)->config, &want))
			break;
	found = *link;
	if (found) {
		/* To the front: a worker spawns for the same app again and again. */
		*link = found->next;
	} else {
		found = malloc(sizeof(*found));
		if (!found)
			return NULL;
		found->config = want;
	}
	found->next = kern->configs;
	kern->configs = found;
	return &found->config;
}

struct vk_proc *vk_kern_spawn(struct vk_kern *kern, const struct vk_proc_config *config,
			      vk_func main, void *arg, int fd)
{
	const struct vk_proc_config *shared = config_intern(kern, config);
	struct vk_proc *proc = shared ? proc_alloc(kern) : NULL;
	/* The heap the last process left open may come open while no other is (proc_end()). */
	int rc = proc ? vk_pool_acquire(&kern->pool, &proc->heap, config->heap_size,
					config->isolation, !kern->open)
		      : -ENOMEM;
	int came_open = rc == 1;

	if (came_open)
		rc = 0;

	/* Cannot watch: the budget is not kept, said once per budget asked for. */
	if (rc == 0 && config->max_run_ms && vk_watchdog_watch(config->max_run_ms) < 0 &&
	    kern->unwatched != config->max_run_ms) {
		kern->unwatched = config->max_run_ms;
		vk_log(4, "watchdog: cannot make its timer: max_run is not enforced");
	}
	if (rc < 0) {
		if (proc)
			proc_recycle(kern, proc);
		if (fd >= 0)
			close(fd);
		errno = -rc;
		return NULL;
	}
	vk_proc_init(proc, &kern->sched);
	proc->config = shared;
	proc->start.func = main;
	proc->start.arg = arg;
	proc->main_fd = fd;
	proc->id = ++kern->next_id;
	LIST_INSERT_HEAD(&kern->all, proc, all);
	kern->sched.stats->procs_now++;
	kern->sched.stats->procs_total++;
	proc->config->app_stats->procs_now++;
	proc->config->app_stats->procs_total++;
	proc->started_at = (float)(ev_now(kern->sched.loop) - kern->sched.epoch);
	/* Open, it is the open heap: the next dispatch of another process closes it. */
	if (came_open)
		kern->open = proc;
	/* The main coroutine is built in the first dispatch, inside the window. */
	vk_proc_schedule(proc);
	return proc;
}

/*
 * Build the main coroutine and its socket; the heap is accessible. The
 * socket comes first: see vk_socket_create_main() for the page layout.
 */
static int proc_start(struct vk_proc *proc)
{
	struct vk_socket *socket = NULL;
	struct vk_task *main;

	proc->started = 1;
	/* Idle from its first dispatch, whose clock is fresh (vk_kern_dispatch()). */
	proc->last_io = vk_proc_now(proc);
	if (proc->main_fd >= 0) {
		socket = vk_socket_create_main(proc, proc->config->ring_size, proc->main_fd);
		if (!socket)
			return -1;
		proc->main_fd = -1; /* the socket's now */
	}
	main = vk_task_create(proc, proc->start.func, proc->start.arg);
	/* What follows in the union is zero until it is used. */
	memset(&proc->start, 0, sizeof(proc->start));
	if (!main)
		return -1;
	main->thread.timeout_ms = proc->config->timeout_ms;
	main->thread.socket = socket;
	proc->main = main;
	vk_task_enqueue(main);
	return 0;
}

/*
 * How the heap of an ending process waits in the pool. Left open when it
 * is the open heap: no other process ran since it was opened, and it is
 * cleaned before any does; the next isolated process then takes it open,
 * or the next dispatch closes it (open_heap()). A Connection: close
 * request served in one dispatch costs no protection change then, instead
 * of two (one to open the heap, one to close it in the pool).
 */
static int pool_access(const struct vk_kern *kern, const struct vk_proc *proc)
{
	if (!proc->config->isolation)
		return VK_POOL_AS_IS;
	return kern->open == proc ? VK_POOL_OPEN : VK_POOL_CLOSED;
}

static void proc_end(struct vk_kern *kern, struct vk_proc *proc, enum vk_pool_return heap_to)
{
	int access = pool_access(kern, proc);

	proc->ended = 1;
	vk_poll_close_all(proc);
	vk_post_destroy_all(proc);
	/* Its last will first: its own subscriptions are still there to skip. */
	vk_pubsub_proc_end(proc);
	vk_chan_proc_end(proc);
	if (proc->main_fd >= 0)
		close(proc->main_fd);
	vk_proc_stop_timer(proc);
	if (kern->open == proc)
		kern->open = NULL;
	/* A pooled heap waits closed, as every heap not running does. */
	vk_pool_release(&kern->pool, &proc->heap, heap_to, access);
	pool_shrink_start(kern);
	if (kern->walk_next == proc)
		kern->walk_next = LIST_NEXT(proc, all);
	LIST_REMOVE(proc, all);
	kern->sched.stats->procs_now--;
	proc->config->app_stats->procs_now--;
	if (proc->config->on_exit && !proc->exit_forgot)
		proc->config->on_exit(proc, proc->config->on_exit_ctx);
	vk_proc_drop_extra(proc);
	/* Queued processes are skipped once ended; recycle after the queue drains. */
	if (!proc->queued)
		proc_recycle(kern, proc);
}

/* ---- dispatch ---- */

/* Open the heap of `proc`, closing the one open before it. */
static int open_heap(struct vk_kern *kern, struct vk_proc *proc)
{
	if (kern->open == proc)
		return 0;
	if (kern->open && kern->open->config->isolation)
		vk_pool_set_access(&kern->pool, &kern->open->heap, 0);
	kern->open = proc;
	/*
	 * The heap an ended process left open in the pool (proc_end()): a
	 * process that never ran holds nothing in its own, so it takes that
	 * one instead of opening its own; else it is closed.
	 */
	if (!proc->started && proc->config->isolation &&
	    vk_pool_swap_open(&kern->pool, &proc->heap) == 0)
		return 0;
	vk_pool_close_open(&kern->pool);
	return vk_pool_set_access(&kern->pool, &proc->heap, 1);
}

/*
 * A main coroutine may end with bytes still in its send rings (an app that
 * writes its last answer and returns, to a peer that reads slowly): the
 * process stays, reading nothing, until they went, the peer is gone, or
 * VK_LAST_WORDS_S passed; then it ends. Called again on each write
 * readiness and at the deadline.
 */
static void last_words(struct vk_kern *kern, struct vk_proc *proc)
{
	if (!vk_poll_last_words(proc) || vk_proc_now(proc) >= proc->last_words_until) {
		proc_end(kern, proc, VK_POOL_CLEAN);
		return;
	}
	if (vk_proc_timer_at(proc) != proc->last_words_until)
		vk_proc_set_timer(proc, proc->last_words_until);
}

/*
 * Run the process's coroutines until none is runnable. Flushing may free
 * ring space and wake a blocked writer, so flush and run again until the
 * flush woke nobody.
 */
static void run(struct vk_proc *proc)
{
	for (;;) {
		vk_task_run_queue(proc);
		if (proc->main->thread.status == VK_THREAD_DONE)
			return;
		vk_poll_flush_all(proc);
		if (!proc->run_last)
			return;
	}
}

/* Log the app error the dispatch noted (each one was counted already), or its failed allocation. */
static void report_app_error(struct vk_kern *kern, struct vk_proc *proc)
{
	struct vk_app_error_note note = proc->extra->app_error;
	char code[192];

	proc->extra->app_error.what = VK_APP_ERROR_NONE;
	vk_code_describe((uintptr_t)note.code, code, sizeof(code));
	if (note.what == VK_APP_ERROR_STATE)
		vk_report_proc(&kern->report, 3, proc,
			       "app error: coroutine %s: its state of %zu bytes does not fit the "
			       "heap (%zu bytes left): it ends with ENOMEM",
			       code, note.size, note.left);
	else if (note.what == VK_APP_ERROR_ALLOC)
		vk_report_proc(&kern->report, 4, proc,
			       "coroutine %s: an allocation of %zu bytes does not fit the heap "
			       "(%zu bytes left; is the app's heap key large enough for its "
			       "options?): ENOMEM",
			       code, note.size, note.left);
	else
		vk_report_proc(
		    &kern->report, 3, proc,
		    "app error: coroutine %s resumed at a point its switch does not know "
		    "(%zu: a blocking operation inside a switch statement of its own?), "
		    "skipping its vk_finally(): it ends with ENOTRECOVERABLE",
		    code, note.size);
}

/* The worker started draining: coroutines waiting between messages re-time. */
static void wake_idle_waiters(struct vk_proc *proc)
{
	proc->nudged = 0;
	for (struct vk_fd *entry = vk_poll_first(proc); entry; entry = vk_poll_next(entry))
		if (!entry->handed) /* its ring's reader is another process's */
			vk_task_wake_idle(entry->rx->reader);
}

/*
 * Whether `proc` ended because it stayed idle. Idle means no byte moved on
 * its descriptors for its idle_timeout: then every wait of it ends with
 * ETIMEDOUT, and its app closes as it sees fit; if it is still there and
 * nothing moved VK_IDLE_GRACE_S later, it is ended.
 */
static int idle_ended(struct vk_kern *kern, struct vk_proc *proc)
{
	double now = vk_proc_now(proc);

	if (!proc->config->idle_timeout_ms)
		return 0;
	if (proc->idle_since && proc->last_io > proc->idle_since)
		proc->idle_since = 0; /* bytes moved since: busy again */
	if (proc->idle_since) {
		if (now < proc->idle_since + VK_IDLE_GRACE_S)
			return 0;
		vk_report_proc(&kern->report, 4, proc,
			       "still waiting %.0f s after idle_timeout ended its waits: closed",
			       VK_IDLE_GRACE_S);
		proc_end(kern, proc, VK_POOL_CLEAN);
		return 1;
	}
	if (now < proc->last_io + proc->config->idle_timeout_ms / 1000.0)
		return 0;
	proc->idle_since = now;
	vk_task_expire_all(proc);
	return 0;
}

/* When the timer must fire next: a task's deadline or the idle deadline; 0: none. */
static double next_deadline(const struct vk_proc *proc)
{
	double next = vk_task_earliest(proc), idle;

	if (!proc->config->idle_timeout_ms)
		return next;
	idle = proc->idle_since ? proc->idle_since + VK_IDLE_GRACE_S
				: proc->last_io + proc->config->idle_timeout_ms / 1000.0;
	return next == 0 || idle < next ? idle : next;
}

static void dispatch_one(struct vk_kern *kern, struct vk_proc *proc)
{
	int rc;

	kern->sched.stats->dispatches++;
	vk_sched_note_run(&kern->sched, proc);
	proc->last_run = (float)(vk_proc_now(proc) - proc->sched->epoch);
	rc = open_heap(kern, proc);
	if (rc < 0) {
		vk_log(3, "micro-process %llu: mprotect: %s", (unsigned long long)proc->id,
		       strerror(-rc));
		proc_end(kern, proc, VK_POOL_UNMAP);
		return;
	}
	if (!proc->started && proc_start(proc) == -1) {
		kern->sched.stats->refused++;
		proc->config->app_stats->refused++;
		proc_end(kern, proc, VK_POOL_CLEAN);
		return;
	}
	vk_poll_take_events(proc);
	vk_post_take(proc);
	vk_chan_take_events(proc);
	if (proc->last_words_until) {
		proc->timer_fired = 0;
		last_words(kern, proc);
		return;
	}
	if (proc->nudged)
		wake_idle_waiters(proc);
	if (proc->timer_fired) {
		proc->timer_fired = 0;
		if (idle_ended(kern, proc))
			return;
		vk_task_expire(proc);
	}
	run(proc);
	if (proc->extra && proc->extra->app_error.what)
		report_app_error(kern, proc);
	if (proc->main->thread.status == VK_THREAD_DONE) {
		proc->last_words_until = vk_proc_now(proc) + VK_LAST_WORDS_S;
		last_words(kern, proc);
		return;
	}
	vk_proc_arm_timer(proc, next_deadline(proc));
}

/* The watchdog jumped out of `proc`, which used its CPU budget: end it. */
static void contain_overrun(struct vk_kern *kern, struct vk_proc *proc,
			    const struct vk_fault_info *fault)
{
	char code[192];

	kern->sched.stats->watchdog++;
	proc->config->app_stats->watchdog++;
	vk_code_describe((uintptr_t)fault->code, code, sizeof(code));
	vk_report_proc(
	    &kern->report, 3, proc,
	    "ended by the watchdog: at least %u ms of CPU without blocking (max_run %u ms), "
	    "code %s",
	    fault->cpu_ms, proc->config->max_run_ms, code);
	/* Cut off in the middle of its code: its heap may hold anything, as after a fault. */
	proc_end(kern, proc, VK_POOL_TRIM);
}

/* Called after a fault unwound out of `proc`: end it, keep serving. */
static void contain_fault(struct vk_kern *kern, struct vk_proc *proc)
{
	struct vk_fault_info fault = vk_fault_last();
	char address[48] = "", code[192], app_code[192] = "";

	/*
	 * No code of a process runs once it ended (last words, then its exit
	 * callback, end a dispatch): a fault then is the kernel's own bug.
	 * Ending the process twice would corrupt the kernel's lists; die loudly.
	 */
	if (proc->ended) {
		vk_log(2, "fault (%s at %p) in the kernel after micro-process %llu ended",
		       vk_fault_signal_name(fault.signal), fault.address,
		       (unsigned long long)proc->id);
		abort();
	}

	/* Its channels' readers see EPIPE: it did not end by its own will. */
	proc->faulted = 1;
	if (fault.watchdog) {
		contain_overrun(kern, proc, &fault);
		return;
	}
	kern->sched.stats->faults++;
	proc->config->app_stats->faults++;
	if (fault.has_address)
		snprintf(address, sizeof(address), " at address 0x%lx",
			 (unsigned long)fault.address);
	vk_code_describe((uintptr_t)fault.code, code, sizeof(code));
	if (fault.app_code) {
		size_t n = (size_t)snprintf(app_code, sizeof(app_code), ", called from ");

		vk_code_describe((uintptr_t)fault.app_code, app_code + n, sizeof(app_code) - n);
	}
	vk_report_proc(&kern->report, 3, proc, "ended by %s%s, code %s%s",
		       vk_fault_signal_name(fault.signal), address, code, app_code);
	/*
	 * Its heap may hold anything now; back in the pool it is trimmed to
	 * zero pages (vk_pool_release), so the next user sees none of it.
	 */
	proc_end(kern, proc, VK_POOL_TRIM);
}

/* The next process to dispatch, recycling those that ended while queued. */
static struct vk_proc *next_ready(struct vk_kern *kern)
{
	struct vk_proc *proc;

	while ((proc = vk_sched_pop(&kern->sched))) {
		if (!proc->ended)
			return proc;
		proc_recycle(kern, proc);
	}
	return NULL;
}

void vk_kern_dispatch(struct vk_kern *kern)
{
	struct vk_proc *proc;

	vk_sched_begin_round(&kern->sched);

	/*
	 * Deadlines are set from the loop's clock: refresh it once a round, so
	 * that the time callbacks took does not make timeouts fire early.
	 */
	if (kern->sched.ready_head)
		ev_now_update(kern->sched.loop);
	/* A fault of a process's code comes back here, with kern->running set. */
	if (sigsetjmp(kern->fault_jump, 0)) {
		vk_watchdog_end();
		proc = kern->running;
		kern->running = NULL;
		contain_fault(kern, proc);
	}
	do {
		while ((proc = next_ready(kern))) {
			kern->running = proc;
			vk_fault_arm(&kern->fault_jump);
			vk_watchdog_begin(proc->config->max_run_ms);
			dispatch_one(kern, proc);
			vk_watchdog_end();
			vk_fault_disarm();
			kern->running = NULL;
		}
		/*
		 * Relayed subscriptions (vk_relay()) send what this round
		 * brought them, one write each; a failure queues its relay.
		 */
		vk_pubsub_relay_flush(kern->sched.bus);
		/* Handed-off descriptors (vk_channel_handoff()) likewise. */
		vk_handoff_flush(kern->sched.bus);
	} while (kern->sched.ready_head);
	/*
	 * The last heap stays open while the loop waits: no micro-process code
	 * runs until the next dispatch, which closes it before opening another
	 * (open_heap). A process dispatched again next is then not re-protected
	 * at all, the cheapest case: a busy or pipelining client.
	 */
}

/* ---- looking at processes from outside (vkctl ps, kill) ---- */

void vk_kern_walk_begin(struct vk_kern *kern)
{
	kern->walk_next = LIST_FIRST(&kern->all);
}

static void proc_info(const struct vk_proc *proc, struct vk_proc_info *info)
{
	memset(info, 0, sizeof(*info));
	info->id = proc->id;
	info->app = proc->config->app;
	info->heap_used = proc->heap.top;
	info->heap_mapped = proc->heap.size;
	info->bytes_in = proc->bytes_in;
	info->bytes_out = proc->bytes_out;
	info->started = proc->sched->epoch + proc->started_at;
	info->last_run = proc->last_run > 0 ? proc->sched->epoch + proc->last_run : 0;
	vk_proc_peer(proc, &info->peer);
	if (!proc->started)
		info->state = VK_PROC_STARTING;
	else if (proc->last_words_until)
		info->state = VK_PROC_CLOSING;
	else if (proc->queued)
		info->state = VK_PROC_READY;
	else
		info->state = VK_PROC_WAITING;
	info->wait = proc->main_wait;
}

size_t vk_kern_walk(struct vk_kern *kern, struct vk_proc_info *out, size_t max)
{
	size_t n = 0;

	for (; n < max && kern->walk_next; n++) {
		proc_info(kern->walk_next, &out[n]);
		kern->walk_next = LIST_NEXT(kern->walk_next, all);
	}
	return n;
}

int vk_kern_kill(struct vk_kern *kern, uint64_t id)
{
	struct vk_proc *proc;

	LIST_FOREACH (proc, &kern->all, all) {
		if (proc->id == id)
			break;
	}
	if (!proc)
		return -ESRCH;
	kern->sched.stats->killed++;
	proc->config->app_stats->killed++;
	vk_report_proc(&kern->report, 6, proc, "ended by vkctl kill");
	proc_end(kern, proc, VK_POOL_TRIM);
	return 0;
}

void vk_kern_close_heaps(struct vk_kern *kern)
{
	vk_pool_close_open(&kern->pool);
	if (!kern->open)
		return;
	if (kern->open->config->isolation)
		vk_pool_set_access(&kern->pool, &kern->open->heap, 0);
	kern->open = NULL;
}

void vk_kern_run(struct vk_kern *kern)
{
	ev_run(kern->sched.loop, 0);
}

void vk_kern_destroy(struct vk_kern *kern)
{
	while (!LIST_EMPTY(&kern->all))
		proc_end(kern, LIST_FIRST(&kern->all), VK_POOL_UNMAP);
	/* Marked processes are queued first, so that the queue's loop reference goes. */
	vk_sched_begin_round(&kern->sched);
	while (next_ready(kern))
		;
	vk_sched_fini(&kern->sched);
	kern->spare_procs = NULL;
	while (kern->slabs) {
		struct proc_slab *slab = kern->slabs;

		kern->slabs = slab->next;
		free(slab);
	}
	while (kern->configs) {
		struct kern_config *config = kern->configs;

		kern->configs = config->next;
		free(config);
	}
	if (ev_is_active(&kern->pool_shrink)) {
		ev_ref(kern->sched.loop);
		ev_timer_stop(kern->sched.loop, &kern->pool_shrink);
	}
	vk_pool_destroy(&kern->pool);
	vk_report_stop(&kern->report);
	vk_resolver_destroy(kern->sched.resolver);
	vk_connpool_destroy(kern->sched.connpool);
	ev_ref(kern->sched.loop);
	ev_prepare_stop(kern->sched.loop, &kern->prepare);
	vk_watchdog_remove();
	vk_fault_remove();
	vk_bus_destroy(kern->sched.bus);
	vk_poll_destroy(kern->sched.poll);
	if (current_kern == kern)
		current_kern = NULL;
	free(kern);
}
