#include "vk_kern.h"

#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include "vk_poll.h"
#include "vk_socket.h"

/* Heaps kept mapped for reuse, per kernel. */
#define VK_POOL_MAX 256
/* Mappings left for the rest of the process under vm.max_map_count. */
#define VK_MAP_RESERVE 1024
/* How long a process whose main coroutine ended may take to send what it wrote. */
#define VK_LAST_WORDS_S 5.0
/*
 * Connections accepted per readiness event. One, as nginx does by default:
 * workers share one accept queue, and a worker that took a burst of
 * connections in one go would serve them all while another sat idle (seen:
 * 100 wrk connections split 100/0 and 64/36 between two workers at 64). A
 * busy worker comes back to accept later than an idle one, which balances.
 */
#define VK_ACCEPT_BATCH 1
/* How long accepting pauses after EMFILE and the like. */
#define VK_ACCEPT_PAUSE_S 0.1
/* While accept keeps failing (every pause), one warning per this many seconds. */
#define VK_ACCEPT_WARN_S 10.0

/*
 * The limit that listeners share (an app with several addresses has one):
 * live processes against max_procs. It lives while a listener or a live
 * process counts in it, so listeners may close in any order.
 */
struct vk_listen_group {
	unsigned active;
	unsigned max_procs;
	unsigned refs;
};

struct vk_listener {
	struct vk_kern *kern;
	struct vk_listen_group *group;
	struct ev_io io;
	struct ev_timer retry; /* resumes accepting after EMFILE */
	ev_tstamp warned_at;   /* of the last accept warning */
	unsigned failures;     /* accept failures since that warning */
	struct vk_proc_config config;
	vk_func main;
	void *arg;
};

struct vk_kern {
	struct ev_loop *loop;
	struct ev_prepare prepare;
	struct vk_proc *ready_head;
	struct vk_proc **ready_tail;
	struct vk_proc *running; /* whose code runs now: owns any fault */
	struct vk_proc *open;	 /* whose heap is accessible now */
	struct vk_proc *all;
	struct vk_proc *spare_procs;
	struct vk_heap *pool;
	size_t pool_count;
	size_t heaps_mapped;
	size_t heap_limit;
	struct vk_fd *fds;
	size_t fd_count;
	struct vk_kern_stats own_stats;
	struct vk_kern_stats *stats;
	vk_log_fn log;
	uint64_t next_id;
	int draining;
	sigjmp_buf fault_jump;
	volatile sig_atomic_t fault_signal;
	void *volatile fault_address;
	void *alt_stack;
	struct sigaction old_actions[4];
};

static const int fault_signals[4] = {SIGSEGV, SIGBUS, SIGFPE, SIGILL};

/* The fault handler needs it; there is one kernel per process. */
static struct vk_kern *current_kern;

struct ev_loop *vk_kern_loop(const struct vk_kern *kern)
{
	return kern->loop;
}

struct vk_kern_stats *vk_kern_counters(struct vk_kern *kern)
{
	return kern->stats;
}

const struct vk_kern_stats *vk_kern_stats(const struct vk_kern *kern)
{
	return kern->stats;
}

void vk_kern_set_stats(struct vk_kern *kern, struct vk_kern_stats *stats)
{
	*stats = *kern->stats;
	kern->stats = stats;
}

void vk_kern_set_logger(struct vk_kern *kern, vk_log_fn fn)
{
	kern->log = fn;
}

void vk_kern_log(struct vk_kern *kern, int level, const char *format, ...)
{
	char line[512];
	va_list args;

	va_start(args, format);
	vsnprintf(line, sizeof(line), format, args);
	va_end(args);
	if (kern->log)
		kern->log(level, line);
	else
		fprintf(stderr, "vk: %s\n", line);
}

void vk_kern_set_draining(struct vk_kern *kern, int draining)
{
	kern->draining = draining;
	if (!draining)
		return;
	/* Idle waiters must re-arm with the drain grace: see vk_await_idle(). */
	for (struct vk_proc *proc = kern->all; proc; proc = proc->all_next) {
		proc->nudged = 1;
		vk_proc_schedule(proc);
	}
}

/* In a dispatch: wake the idle waiters so they re-time their wait. */
static void wake_idle_waiters(struct vk_proc *proc)
{
	proc->nudged = 0;
	for (struct vk_fd *entry = proc->fds; entry; entry = entry->proc_next) {
		struct vk_thread *reader = entry->socket->rx->reader;

		while (reader) {
			struct vk_thread *next = reader->wait_next;

			if (reader->idle_wait)
				vk_thread_wake(reader, 0);
			reader = next;
		}
	}
}

int vk_kern_draining(const struct vk_kern *kern)
{
	return kern->draining;
}

void vk_kern_set_heap_limit(struct vk_kern *kern, size_t heaps)
{
	kern->heap_limit = heaps;
}

size_t vk_kern_heap_limit(const struct vk_kern *kern)
{
	return kern->heap_limit;
}

struct vk_fd *vk_poll_entry(struct vk_kern *kern, int fd)
{
	if (fd < 0 || (size_t)fd >= kern->fd_count)
		return NULL;
	return &kern->fds[fd];
}

/* Each heap is two mappings (heap and guard page): see vk_heap.h. */
static size_t default_heap_limit(void)
{
	FILE *file = fopen("/proc/sys/vm/max_map_count", "re");
	unsigned long maps = 65530;

	if (file) {
		if (fscanf(file, "%lu", &maps) != 1)
			maps = 65530;
		fclose(file);
	}
	return maps > 2 * VK_MAP_RESERVE ? (maps - VK_MAP_RESERVE) / 2 : maps / 4;
}

/* A fault in a micro-process ends it; anywhere else it is a real crash. */
static void fault_handler(int signal_number, siginfo_t *info, void *context)
{
	struct vk_kern *kern = current_kern;

	(void)context;
	if (!kern || !kern->running) {
		/* Return with the default action so the fault recurs and dumps core. */
		signal(signal_number, SIG_DFL);
		return;
	}
	kern->fault_signal = signal_number;
	kern->fault_address = info->si_addr;
	siglongjmp(kern->fault_jump, 1);
}

static int install_fault_handler(struct vk_kern *kern)
{
	stack_t stack;
	struct sigaction action;

	/* The alternate stack catches a coroutine that overflows the C stack. */
	stack.ss_size = SIGSTKSZ > 65536 ? SIGSTKSZ : 65536;
	stack.ss_sp = malloc(stack.ss_size);
	stack.ss_flags = 0;
	if (!stack.ss_sp)
		return -1;
	if (sigaltstack(&stack, NULL) == -1) {
		free(stack.ss_sp);
		return -1;
	}
	kern->alt_stack = stack.ss_sp;
	memset(&action, 0, sizeof(action));
	action.sa_sigaction = fault_handler;
	/* NODEFER: we leave the handler by siglongjmp, with no mask to restore. */
	action.sa_flags = SA_SIGINFO | SA_ONSTACK | SA_NODEFER;
	sigemptyset(&action.sa_mask);
	for (int i = 0; i < 4; i++) {
		if (sigaction(fault_signals[i], &action, &kern->old_actions[i]) == -1)
			return -1;
	}
	return 0;
}

static void remove_fault_handler(struct vk_kern *kern)
{
	stack_t stack = {.ss_flags = SS_DISABLE};

	for (int i = 0; i < 4; i++)
		sigaction(fault_signals[i], &kern->old_actions[i], NULL);
	sigaltstack(&stack, NULL);
	free(kern->alt_stack);
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
	struct rlimit limit;

	if (current_kern) {
		errno = EBUSY;
		return NULL;
	}
	kern = calloc(1, sizeof(*kern));
	if (!kern)
		return NULL;
	kern->loop = loop;
	kern->ready_tail = &kern->ready_head;
	kern->stats = &kern->own_stats;
	kern->heap_limit = default_heap_limit();
	if (getrlimit(RLIMIT_NOFILE, &limit) == -1 || limit.rlim_cur == RLIM_INFINITY)
		limit.rlim_cur = 65536;
	kern->fd_count = (size_t)limit.rlim_cur;
	/* calloc of this size maps lazily: untouched entries cost no memory. */
	kern->fds = calloc(kern->fd_count, sizeof(*kern->fds));
	if (!kern->fds) {
		free(kern);
		return NULL;
	}
	if (install_fault_handler(kern) == -1) {
		int saved = errno;

		free(kern->fds);
		free(kern);
		errno = saved;
		return NULL;
	}
	ev_prepare_init(&kern->prepare, prepare_callback);
	kern->prepare.data = kern;
	ev_prepare_start(loop, &kern->prepare);
	/* The prepare watcher alone must not keep the loop running. */
	ev_unref(loop);
	current_kern = kern;
	return kern;
}

/* ---- micro-heaps ---- */

static int set_access(struct vk_kern *kern, struct vk_heap *heap, int accessible)
{
	if (heap->accessible == accessible)
		return 0;
	kern->stats->protections++;
	return vk_heap_set_access(heap, accessible);
}

static int heap_acquire(struct vk_kern *kern, struct vk_heap *heap, size_t size, int isolation)
{
	size_t rounded = (size + vk_page_size() - 1) / vk_page_size() * vk_page_size();
	struct vk_heap **link = &kern->pool;

	for (; *link; link = &(*link)->pool_next) {
		if ((*link)->size == rounded) {
			struct vk_heap *found = *link;

			*link = found->pool_next;
			*heap = *found;
			free(found);
			kern->pool_count--;
			vk_heap_reset(heap);
			return 0;
		}
	}
	if (kern->heaps_mapped >= kern->heap_limit) {
		kern->stats->heap_failures++;
		vk_kern_log(kern, 4, "micro-heap limit reached (%zu heaps; raise vm.max_map_count)",
			    kern->heap_limit);
		errno = ENOMEM;
		return -1;
	}
	/* An isolated heap is born closed: it opens when its process first runs. */
	if (vk_heap_map(heap, size, !isolation) == -1) {
		int saved = errno;

		kern->stats->heap_failures++;
		vk_kern_log(kern, 3, "cannot map a micro-heap of %zu bytes: %s", size,
			    strerror(saved));
		errno = saved;
		return -1;
	}
	kern->heaps_mapped++;
	return 0;
}

static void heap_release(struct vk_kern *kern, struct vk_heap *heap, int reuse)
{
	struct vk_heap *pooled;

	if (reuse && kern->pool_count < VK_POOL_MAX) {
		pooled = malloc(sizeof(*pooled));
		if (pooled) {
			/* One madvise per connection buys that no byte outlives it. */
			vk_heap_trim(heap);
			*pooled = *heap;
			pooled->pool_next = kern->pool;
			kern->pool = pooled;
			kern->pool_count++;
			heap->base = NULL;
			return;
		}
	}
	vk_heap_unmap(heap);
	kern->heaps_mapped--;
}

/* ---- micro-processes ---- */

static void timer_callback(struct ev_loop *loop, struct ev_timer *timer, int revents)
{
	struct vk_proc *proc = timer->data;

	(void)loop;
	(void)revents;
	proc->timer_at = 0;
	proc->timer_fired = 1;
	vk_proc_schedule(proc);
}

void vk_proc_schedule(struct vk_proc *proc)
{
	struct vk_kern *kern = proc->kern;

	if (proc->queued || proc->ended)
		return;
	/* Queued work must keep ev_run() going until the prepare watcher runs. */
	if (!kern->ready_head)
		ev_ref(kern->loop);
	proc->queued = 1;
	proc->ready_next = NULL;
	*kern->ready_tail = proc;
	kern->ready_tail = &proc->ready_next;
}

void vk_proc_on_exit(struct vk_proc *proc, vk_proc_exit_fn fn, void *ctx)
{
	proc->on_exit = fn;
	proc->on_exit_ctx = ctx;
}

static struct vk_proc *proc_alloc(struct vk_kern *kern)
{
	struct vk_proc *proc = kern->spare_procs;

	if (proc) {
		kern->spare_procs = proc->ready_next;
		memset(proc, 0, sizeof(*proc));
		return proc;
	}
	return calloc(1, sizeof(*proc));
}

struct vk_proc *vk_kern_spawn(struct vk_kern *kern, const struct vk_proc_config *config,
			      vk_func main, void *arg, int fd)
{
	struct vk_proc *proc = proc_alloc(kern);

	if (!proc || heap_acquire(kern, &proc->heap, config->heap_size, config->isolation) == -1) {
		int saved = proc ? errno : ENOMEM;

		free(proc);
		if (fd >= 0)
			close(fd);
		errno = saved;
		return NULL;
	}
	/* A pooled heap of a process without isolation comes open: close it. */
	if (config->isolation && proc->heap.accessible)
		set_access(kern, &proc->heap, 0);
	proc->kern = kern;
	proc->config = *config;
	if (!proc->config.ring_size)
		proc->config.ring_size = VK_SOCKET_RING_DEFAULT;
	proc->main_func = main;
	proc->main_arg = arg;
	proc->main_fd = fd;
	proc->run_tail = &proc->run_head;
	proc->id = ++kern->next_id;
	ev_init(&proc->timer, timer_callback);
	proc->timer.data = proc;
	proc->all_next = kern->all;
	if (kern->all)
		kern->all->all_prev = &proc->all_next;
	proc->all_prev = &kern->all;
	kern->all = proc;
	kern->stats->procs_now++;
	kern->stats->procs_total++;
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
	struct vk_thread *main;

	proc->started = 1;
	if (proc->main_fd >= 0) {
		socket = vk_socket_create_main(&proc->heap, proc->config.ring_size);
		if (!socket)
			return -1;
	}
	main = vk_heap_calloc(&proc->heap, 1, sizeof(*main));
	if (!main)
		return -1;
	main->func = proc->main_func;
	main->arg = proc->main_arg;
	main->proc = proc;
	main->timeout_ms = proc->config.timeout_ms;
	main->socket = socket;
	proc->main = main;
	if (socket) {
		if (vk_poll_attach(proc, socket, proc->main_fd, 0) == -1)
			return -1;
		proc->main_fd = -1;
	}
	vk_proc_enqueue(proc, main);
	return 0;
}

static void proc_end(struct vk_kern *kern, struct vk_proc *proc, int reuse_heap)
{
	struct vk_fd *entry = proc->fds;

	proc->ended = 1;
	while (entry) {
		struct vk_fd *next = entry->proc_next;

		vk_poll_close(entry);
		entry = next;
	}
	if (proc->main_fd >= 0)
		close(proc->main_fd);
	ev_timer_stop(kern->loop, &proc->timer);
	if (kern->open == proc)
		kern->open = NULL;
	/* A pooled heap waits closed, as every heap not running does. */
	if (reuse_heap && proc->config.isolation)
		set_access(kern, &proc->heap, 0);
	heap_release(kern, &proc->heap, reuse_heap);
	*proc->all_prev = proc->all_next;
	if (proc->all_next)
		proc->all_next->all_prev = proc->all_prev;
	kern->stats->procs_now--;
	if (proc->on_exit)
		proc->on_exit(proc, proc->on_exit_ctx);
	/* Queued processes are skipped once ended; recycle after the queue drains. */
	if (proc->queued)
		return;
	proc->ready_next = kern->spare_procs;
	kern->spare_procs = proc;
}

/* Open the heap of `proc`, closing the one open before it. */
static int open_heap(struct vk_kern *kern, struct vk_proc *proc)
{
	if (kern->open == proc)
		return 0;
	if (kern->open && kern->open->config.isolation)
		set_access(kern, &kern->open->heap, 0);
	kern->open = proc;
	return set_access(kern, &proc->heap, 1);
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
	double now = vk_proc_now(proc);

	if (!vk_poll_last_words(proc) || now >= proc->last_words_until) {
		proc_end(kern, proc, 1);
		return;
	}
	if (proc->timer_at != proc->last_words_until) {
		ev_timer_stop(kern->loop, &proc->timer);
		ev_timer_set(&proc->timer, proc->last_words_until - now + 0.0005, 0.);
		ev_timer_start(kern->loop, &proc->timer);
		proc->timer_at = proc->last_words_until;
	}
}

static void dispatch_one(struct vk_kern *kern, struct vk_proc *proc)
{
	kern->stats->dispatches++;
	if (open_heap(kern, proc) == -1) {
		vk_kern_log(kern, 3, "micro-process %llu: mprotect: %s",
			    (unsigned long long)proc->id, strerror(errno));
		proc_end(kern, proc, 0);
		return;
	}
	if (!proc->started && proc_start(proc) == -1) {
		kern->stats->refused++;
		proc_end(kern, proc, 1);
		return;
	}
	vk_poll_take_events(proc);
	if (proc->last_words_until) {
		proc->timer_fired = 0;
		last_words(kern, proc);
		return;
	}
	if (proc->nudged)
		wake_idle_waiters(proc);
	if (proc->timer_fired) {
		proc->timer_fired = 0;
		vk_proc_expire(proc);
	}
	vk_proc_run(proc);
	if (proc->main->status == VK_THREAD_DONE) {
		proc->last_words_until = vk_proc_now(proc) + VK_LAST_WORDS_S;
		last_words(kern, proc);
		return;
	}
	vk_proc_arm_timer(proc);
}

static const char *signal_name(int signal_number)
{
	switch (signal_number) {
	case SIGSEGV:
		return "SIGSEGV";
	case SIGBUS:
		return "SIGBUS";
	case SIGFPE:
		return "SIGFPE";
	case SIGILL:
		return "SIGILL";
	}
	return "signal";
}

/* Called after a fault unwound out of `proc`: end it, keep serving. */
static void contain_fault(struct vk_kern *kern, struct vk_proc *proc)
{
	kern->stats->faults++;
	vk_kern_log(kern, 3, "micro-process %llu ended by %s at address %p",
		    (unsigned long long)proc->id, signal_name(kern->fault_signal),
		    kern->fault_address);
	/*
	 * Its heap may hold anything now; back in the pool it is trimmed to
	 * zero pages (heap_release), so the next user sees none of it.
	 */
	proc_end(kern, proc, 1);
}

static struct vk_proc *next_ready(struct vk_kern *kern)
{
	struct vk_proc *proc = kern->ready_head;

	if (!proc)
		return NULL;
	kern->ready_head = proc->ready_next;
	if (!kern->ready_head) {
		kern->ready_tail = &kern->ready_head;
		ev_unref(kern->loop);
	}
	proc->queued = 0;
	if (proc->ended) {
		proc->ready_next = kern->spare_procs;
		kern->spare_procs = proc;
		return next_ready(kern);
	}
	return proc;
}

void vk_kern_dispatch(struct vk_kern *kern)
{
	struct vk_proc *proc;

	/*
	 * Deadlines are set from the loop's clock: refresh it once a round, so
	 * that the time callbacks took does not make timeouts fire early.
	 */
	if (kern->ready_head)
		ev_now_update(kern->loop);
	/* A fault anywhere below comes back here, with kern->running set. */
	if (sigsetjmp(kern->fault_jump, 0)) {
		proc = kern->running;
		kern->running = NULL;
		contain_fault(kern, proc);
	}
	while ((proc = next_ready(kern))) {
		kern->running = proc;
		dispatch_one(kern, proc);
		kern->running = NULL;
	}
	/*
	 * The last heap stays open while the loop waits: no micro-process code
	 * runs until the next dispatch, which closes it before opening another
	 * (open_heap). A process dispatched again next is then not re-protected
	 * at all, the cheapest case: a busy or pipelining client.
	 */
}

void vk_kern_close_heaps(struct vk_kern *kern)
{
	if (!kern->open)
		return;
	if (kern->open->config.isolation)
		set_access(kern, &kern->open->heap, 0);
	kern->open = NULL;
}

void vk_kern_run(struct vk_kern *kern)
{
	ev_run(kern->loop, 0);
}

void vk_kern_destroy(struct vk_kern *kern)
{
	while (kern->all)
		proc_end(kern, kern->all, 0);
	while (kern->ready_head)
		next_ready(kern);
	while (kern->spare_procs) {
		struct vk_proc *proc = kern->spare_procs;

		kern->spare_procs = proc->ready_next;
		free(proc);
	}
	while (kern->pool) {
		struct vk_heap *heap = kern->pool;

		kern->pool = heap->pool_next;
		vk_heap_unmap(heap);
		free(heap);
	}
	ev_ref(kern->loop);
	ev_prepare_stop(kern->loop, &kern->prepare);
	remove_fault_handler(kern);
	free(kern->fds);
	if (current_kern == kern)
		current_kern = NULL;
	free(kern);
}

/* ---- listeners ---- */

static void group_release(struct vk_listen_group *group)
{
	if (--group->refs == 0)
		free(group);
}

static void listener_proc_exit(struct vk_proc *proc, void *ctx)
{
	struct vk_listen_group *group = ctx;

	(void)proc;
	group->active--;
	group_release(group);
}

/*
 * Out of descriptors lasts as long as the connections holding them: a
 * warning per pause would be ten lines a second for all that time.
 */
static void accept_warn(struct vk_listener *listener, int error)
{
	ev_tstamp now = ev_now(listener->kern->loop);

	listener->failures++;
	if (listener->warned_at && now - listener->warned_at < VK_ACCEPT_WARN_S)
		return;
	if (listener->failures > 1)
		vk_kern_log(listener->kern, 4,
			    "accept: %s; %u failures in %.0f s, pausing 100 ms each",
			    strerror(error), listener->failures, now - listener->warned_at);
	else
		vk_kern_log(listener->kern, 4, "accept: %s; pausing 100 ms", strerror(error));
	listener->warned_at = now;
	listener->failures = 0;
}

static void accept_callback(struct ev_loop *loop, struct ev_io *io, int revents)
{
	struct vk_listener *listener = io->data;
	struct vk_kern *kern = listener->kern;

	(void)revents;
	for (int i = 0; i < VK_ACCEPT_BATCH; i++) {
		int fd = accept4(io->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		struct vk_proc *proc;

		if (fd == -1) {
			if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS ||
			    errno == ENOMEM) {
				/* Out of descriptors: pause instead of spinning on readiness. */
				accept_warn(listener, errno);
				ev_io_stop(loop, io);
				/*
				 * Set again each time: a one-shot timer that fired keeps
				 * what was left of it (nothing), not its first duration.
				 */
				ev_timer_set(&listener->retry, VK_ACCEPT_PAUSE_S, 0.);
				ev_timer_start(loop, &listener->retry);
			}
			return;
		}
		kern->stats->accepted++;
		if (listener->group->active >= listener->group->max_procs) {
			kern->stats->refused++;
			close(fd);
			continue;
		}
		proc = vk_kern_spawn(kern, &listener->config, listener->main, listener->arg, fd);
		if (!proc) {
			kern->stats->refused++;
			continue;
		}
		listener->group->active++;
		listener->group->refs++;
		vk_proc_on_exit(proc, listener_proc_exit, listener->group);
	}
}

static void retry_callback(struct ev_loop *loop, struct ev_timer *timer, int revents)
{
	struct vk_listener *listener = timer->data;

	(void)revents;
	ev_io_start(loop, &listener->io);
}

struct vk_listener *vk_kern_listen(struct vk_kern *kern, int fd,
				   const struct vk_proc_config *config, vk_func main, void *arg,
				   unsigned max_procs)
{
	struct vk_listener *listener = calloc(1, sizeof(*listener));
	struct vk_listen_group *group = calloc(1, sizeof(*group));

	if (!listener || !group) {
		free(listener);
		free(group);
		return NULL;
	}
	group->max_procs = max_procs ? max_procs : UINT32_MAX;
	group->refs = 1;
	listener->group = group;
	listener->kern = kern;
	listener->config = *config;
	listener->main = main;
	listener->arg = arg;
	ev_io_init(&listener->io, accept_callback, fd, EV_READ);
	listener->io.data = listener;
	ev_timer_init(&listener->retry, retry_callback, VK_ACCEPT_PAUSE_S, 0.);
	listener->retry.data = listener;
	ev_io_start(kern->loop, &listener->io);
	return listener;
}

void vk_listener_close(struct vk_listener *listener)
{
	struct vk_kern *kern = listener->kern;

	ev_io_stop(kern->loop, &listener->io);
	ev_timer_stop(kern->loop, &listener->retry);
	/* Its live processes hold the group until they end. */
	group_release(listener->group);
	free(listener);
}

unsigned vk_listener_active(const struct vk_listener *listener)
{
	return listener->group->active;
}

void vk_listener_share(struct vk_listener *listener, struct vk_listener *with)
{
	if (listener->group == with->group)
		return;
	group_release(listener->group);
	listener->group = with->group;
	listener->group->refs++;
}
