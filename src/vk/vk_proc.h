/*
 * vk_proc: micro-processes, and the queue of those ready to run.
 *
 * A micro-process is a set of coroutines (tasks, vk_task.h) sharing one
 * micro-heap. Its control block lives outside the heap, because the kernel
 * must queue it, time it and account for its descriptors while the heap is
 * protected. This layer knows processes as things to queue and time; what
 * runs in them is vk_task's, and how one dispatch goes is vk_kern's.
 *
 * Every process of a worker points to the worker's struct vk_sched: the
 * event loop, the queue of processes to dispatch, the descriptor table,
 * the counters and whether the worker drains. The kernel owns it; the
 * layers above reach it through a process, never through the kernel.
 */
#ifndef VK_PROC_H
#define VK_PROC_H

#include <ev.h>
#include <netinet/in.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>

#include "vk_internal.h"
#include "vk_heap.h"
#include "vk_list.h"
#include "vk_state.h"
#include "vk_stats.h"

struct vk_bus;
struct vk_chan_proc;
struct vk_connpool;
struct vk_fd;
struct vk_poll;
struct vk_post;
struct vk_resolve_config;
struct vk_resolver;
struct vk_proc;
struct vk_task;

/* What every process of one worker shares. */
struct vk_sched {
	struct ev_loop *loop;
	struct vk_proc *ready_head; /* processes to dispatch, in order */
	struct vk_proc **ready_tail;
	/*
	 * The processes of the last dispatch round, in the order they ran
	 * (each with proc->ran set), and how many of them I/O woke since
	 * (proc->again): vk_sched_begin_round() queues those in that order.
	 */
	struct vk_proc **ran;
	size_t ran_count;
	size_t ran_max;
	size_t again_count;
	unsigned ran_polls;	/* ev_iteration() when the list began */
	struct vk_poll *poll;	/* the descriptor table (vk_poll.h) */
	struct vk_stats *stats; /* where the counters are kept */
	int draining;		/* the worker stops: apps finish and close */
	/* Outbound connections (vk_connect.c): made at first use, freed by the kernel. */
	struct vk_resolver *resolver;
	const struct vk_resolve_config *resolve_config; /* NULL: defaults */
	struct vk_connpool *connpool;
	struct vk_bus *bus; /* services, addresses, topics (vk_bus.h) */
	double epoch;	    /* ev_now() at vk_sched_init(): processes keep times from it */
};

/* Called when a micro-process ends (outside of it; its heap is gone). */
typedef void (*vk_proc_exit_fn)(struct vk_proc *proc, void *ctx);

/* How a micro-process is made; see vk_kern_spawn(). */
struct vk_proc_config {
	size_t heap_size;    /* bytes of micro-heap (rounded up to pages) */
	uint32_t timeout_ms; /* the main coroutine's first vk_set_timeout(); 0 = none */
	int isolation;	     /* protect the heap while the process does not run */
	size_t ring_size;    /* each direction of the main socket; 0 = default */
	const char *name;    /* the app's, for log lines (kept as a pointer); NULL: "?" */
	uint32_t max_run_ms; /* CPU time a dispatch may use (vk_watchdog.h); 0 = no limit */
	/*
	 * The process is idle once no byte moved on any of its descriptors
	 * for this long: every wait then ends with ETIMEDOUT; 0 = never.
	 */
	uint32_t idle_timeout_ms;
	uint32_t app;			/* the caller's tag for the app, shown by vk_kern_walk() */
	struct vk_app_stats *app_stats; /* the app's counters; NULL: none kept */
	/*
	 * Called as each process ends (but see vk_proc_forget_exit()): kept
	 * here, shared, not in each control block.
	 */
	vk_proc_exit_fn on_exit;
	void *on_exit_ctx;
};

/* What a coroutine waits for, as vkctl ps shows the main one's. */
enum vk_wait {
	VK_WAIT_NONE,
	VK_WAIT_READ,	 /* bytes (or a connection to accept) on a socket */
	VK_WAIT_WRITE,	 /* room to write, or the peer to take what was sent */
	VK_WAIT_MESSAGE, /* a message, an answer or a channel from another coroutine */
	VK_WAIT_SLEEP,	 /* vk_sleep() */
	VK_WAIT_CHILD,	 /* a coroutine it called or joins */
	VK_WAIT_CONNECT, /* vk_connect(): a name lookup or a handshake */
	VK_WAIT_FORWARD, /* vk_forward(): bytes either way between two sockets */
};

/*
 * Who is at the other end of a process's connection (outside its heap):
 * the address and port without a sockaddr's padding (20 bytes, not 28).
 */
struct vk_peer {
	uint8_t addr[16]; /* AF_INET: the first 4 bytes */
	uint16_t port;	  /* network byte order */
	uint8_t family;	  /* AF_INET, AF_INET6 or AF_UNIX; AF_UNSPEC: none known */
};

/*
 * Errors of an app's own making, which end a coroutine (vk_state.c notes
 * them; the kernel logs them after the dispatch).
 */
enum vk_app_error {
	VK_APP_ERROR_NONE,
	VK_APP_ERROR_STATE,  /* a coroutine's state is larger than the heap left */
	VK_APP_ERROR_RESUME, /* resumed at a point its switch does not know */
	VK_APP_ERROR_ALLOC,  /* vk_alloc() or the like larger than the heap left (not counted) */
};

/* The last app error of a dispatch, for its log line. */
struct vk_app_error_note {
	uint8_t what; /* enum vk_app_error; VK_APP_ERROR_NONE: none noted */
	void *code;   /* the coroutine's function */
	size_t size;  /* STATE, ALLOC: bytes asked for; RESUME: the resume point */
	size_t left;  /* STATE, ALLOC: bytes the heap had left */
};

/*
 * What only some processes need, allocated at its first use
 * (vk_proc_extra()) and freed when the process ends: an idle connection
 * does without these 64 bytes.
 */
struct vk_proc_extra {
	LIST_HEAD(, vk_post) posts; /* wake-ups from outside a dispatch (vk_post.h) */
	struct vk_post *fired;	    /* of which fired since the last dispatch */
	struct vk_chan_proc *chans; /* its channels (vk_chan.h), NULL until it has one */
	void *will;		    /* published when it ends (vk_pubsub.c), or NULL */
	struct vk_app_error_note app_error;
};

/*
 * A process's control block, one per connection: kept small (an idle
 * connection's memory is its heap's hot page and this), with what a
 * dispatch touches first. 272 bytes (a static assertion in vk_proc.c
 * keeps it so): what only some processes need is in struct
 * vk_proc_extra, what all of an app's share in its config.
 */
struct vk_proc {
	struct vk_heap heap;
	struct vk_sched *sched;
	const struct vk_proc_config *config; /* the kernel's copy, shared (vk_kern_spawn()) */
	struct vk_task *main;
	/* The last task to run in this dispatch; its run_next is the first (a ring). */
	struct vk_task *run_last;
	LIST_HEAD(, vk_task) timed;  /* tasks with a deadline */
	struct vk_proc *ready_next;  /* in the sched's ready queue */
	LIST_ENTRY(vk_proc) all;     /* in the kernel's list of live processes */
	struct vk_proc_extra *extra; /* NULL until needed */
	/*
	 * Fires at the earliest task deadline. Its data (libev leaves it to
	 * the user) holds the deadline it is armed for: vk_proc_timer_at().
	 */
	struct ev_timer timer;
	double last_io; /* when a byte last moved, or the process started */
	union {
		/* Until its first dispatch builds the main coroutine (vk_kern.c). */
		struct {
			vk_func func;
			void *arg;
		} start;
		/* Once started (zero until then). */
		struct {
			double last_words_until; /* main ended, sending what is left: until then */
			double idle_since;	 /* idle: when its waits were ended; 0 = not idle */
		};
	};
	uint64_t bytes_in;  /* read from its descriptors */
	uint64_t bytes_out; /* written to its descriptors */
	uint64_t id;
	/* For vkctl ps only: seconds from sched->epoch (a float is exact enough to show). */
	float started_at; /* when spawned */
	float last_run;	  /* of its last dispatch; 0: none yet */
	int main_fd;	  /* its connection until it starts, else -1 */
	/* Lists through the descriptor table (vk_poll.h), by number; -1: empty. */
	int fds;	       /* descriptors this process owns */
	int pending;	       /* descriptors with events to take in */
	uint8_t peer_addr[16]; /* struct vk_peer, less its family: see vk_proc_peer() */
	uint16_t peer_port;
	uint16_t peer_family : 2; /* PEER_* in vk_proc.c */
	uint16_t main_wait : 3;	  /* enum vk_wait: what its main coroutine waits for */
	uint16_t queued : 1;
	uint16_t started : 1;
	uint16_t timer_fired : 1;
	uint16_t nudged : 1; /* the worker started draining: re-time idle waits */
	uint16_t ended : 1;
	uint16_t faulted : 1;	  /* ended by a fault: its channels' readers see EPIPE */
	uint16_t exit_forgot : 1; /* vk_proc_forget_exit(): config->on_exit is not called */
	uint16_t ran : 1;	  /* ran in the last round: listed in sched->ran */
	uint16_t again : 1;	  /* and woken by I/O since: queued by vk_sched_begin_round() */
};

/* An empty scheduler on `loop`, with its counters at `stats`. */
void vk_sched_init(struct vk_sched *sched, struct ev_loop *loop, struct vk_stats *stats);

/* Free what `sched` holds (its processes are the kernel's). */
void vk_sched_fini(struct vk_sched *sched);

/*
 * Start a dispatch round, after a poll. The processes that ran in the last
 * round and that this poll reported (vk_proc_schedule_event() keeps them
 * apart) go to the back of the ready queue, in the order they ran in it,
 * behind every process that did not run in it. A process of the last round
 * that this poll did not report left epoll's ready list: when it is ready
 * again, epoll reports it in the order it became ready, and it is queued
 * as one that did not run.
 *
 * Why: libev drives epoll level-triggered, and epoll puts each descriptor
 * it reports back at the end of its ready list, in the order of that
 * report, not in the order the process then ran or its next bytes came.
 * Served in epoll's order, a connection whose client answers quickly is
 * reported early round after round and the rest wait behind it (at 10,000
 * connections the slowest 1% waited twice as long as the median one).
 * Served as "not in the last round first, then the rest in epoll's order",
 * the first part of each round went to the end of the next one, two rounds
 * apart (1,000 keep-alive connections, traced: 5% of the requests ran 579
 * or more places later in their round than the connection's last; served
 * in the order they ran, 1% ran 183 or more later). So each connection
 * keeps its place and waits one round, as nginx's edge-triggered epoll
 * serves them.
 */
void vk_sched_begin_round(struct vk_sched *sched);

/*
 * `proc` runs in this round: listed, for the next round's order
 * (vk_sched_begin_round()). Once a round; with no memory to list it, it is
 * queued as one that did not run.
 */
void vk_sched_note_run(struct vk_sched *sched, struct vk_proc *proc);

/*
 * Take the next process off the ready queue, or NULL. An ended process is
 * returned too (it was queued before it ended): the caller skips it.
 */
struct vk_proc *vk_sched_pop(struct vk_sched *sched);

/*
 * Make a control block for a process of `sched` (its heap not yet
 * acquired) with its run queue empty and its timer set up.
 */
void vk_proc_init(struct vk_proc *proc, struct vk_sched *sched);

/*
 * The process's struct vk_proc_extra, allocated (zeroed) at the first
 * call; NULL with errno ENOMEM.
 */
struct vk_proc_extra *vk_proc_extra(struct vk_proc *proc);

/* Free it (the process ends; its posts, channels and will are gone). */
void vk_proc_drop_extra(struct vk_proc *proc);

/* Bytes moved on a descriptor of the process: it is not idle. */
static inline void vk_proc_moved(struct vk_proc *proc, uint64_t *counter, size_t bytes)
{
	*counter += bytes;
	proc->last_io = ev_now(proc->sched->loop);
}

/* When the process's timer is armed for (ev_now() time), 0 = not armed. */
static inline double vk_proc_timer_at(const struct vk_proc *proc)
{
	double at;

	memcpy(&at, &proc->timer.data, sizeof(at));
	return at;
}

/* Queue the process for dispatch (it runs before the loop next blocks). */
void vk_proc_schedule(struct vk_proc *proc);

/*
 * vk_proc_schedule() from an I/O watcher's callback: to the front of the
 * queue. libev calls the callbacks of one loop iteration in the reverse
 * order of the I/O events (its pending array is a stack; it feeds timers
 * reversed already, so a timer's callback queues at the back), so
 * front-queueing serves the processes in the order epoll reported them:
 * readiness oldest first. Queued at the back, the connection that became
 * ready first in a batch (~27 of them per poll at 1,000 keep-alive
 * connections) was served last. A process that ran in the last round is
 * only marked (proc->again): vk_sched_begin_round() queues it, behind the
 * rest, in the order it ran. Only between dispatches: the queue is empty
 * when the loop polls.
 */
void vk_proc_schedule_event(struct vk_proc *proc);

/*
 * Do not call the config's on_exit when `proc` ends (its context went
 * away: vk_service_stop()).
 */
void vk_proc_forget_exit(struct vk_proc *proc);

/*
 * Make the timer fire by `deadline` (ev_now() time; 0 = nothing timed). A
 * later deadline than the one armed costs nothing now: the timer fires
 * early, finds nothing due and is re-armed then. That keeps libev's timer
 * heap out of the per-request path, where every operation pushes its
 * deadline a little further.
 */
void vk_proc_arm_timer(struct vk_proc *proc, double deadline);

/* Arm the timer for exactly `deadline`, replacing what was armed. */
void vk_proc_set_timer(struct vk_proc *proc, double deadline);

/* Stop the timer. */
void vk_proc_stop_timer(struct vk_proc *proc);

/*
 * Note an app error of `proc` (counted now, logged by the kernel when the
 * dispatch is over); see struct vk_app_error_note.
 */
void vk_proc_app_error(struct vk_proc *proc, enum vk_app_error what, void *code, size_t size,
		       size_t left);

/*
 * Note an allocation of `size` bytes that the heap (`left` bytes left)
 * could not hold, to be logged as a warning when the dispatch is over,
 * unless an app error is noted already. Not counted: an app may handle
 * the ENOMEM.
 */
void vk_proc_alloc_failed(struct vk_proc *proc, void *code, size_t size, size_t left);

/* Remember the peer address of the process's connection (from accept). */
void vk_proc_set_peer(struct vk_proc *proc, const struct sockaddr *addr, socklen_t len);

/* The peer of the process's connection (family AF_UNSPEC: none known). */
void vk_proc_peer(const struct vk_proc *proc, struct vk_peer *peer);

/* `addr` (of `len` bytes) as a struct vk_peer: AF_UNSPEC if of another family. */
void vk_peer_from(struct vk_peer *peer, const struct sockaddr *addr, socklen_t len);

/*
 * The peer as text, for log lines: "127.0.0.1:80", "[::1]:80", "unix", or
 * "no peer". Returns buf.
 */
const char *vk_peer_text(const struct vk_peer *peer, char *buf, size_t size);
const char *vk_proc_peer_text(const struct vk_proc *proc, char *buf, size_t size);

/* "read", "write", "message", "sleep", "child", "none": for vkctl ps. */
const char *vk_wait_name(int what);

/* The event loop's clock (cached per loop iteration). */
double vk_proc_now(const struct vk_proc *proc);

#endif
