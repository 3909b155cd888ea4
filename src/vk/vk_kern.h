/*
 * vk_kern: the virtual kernel of one worker process.
 *
 * It owns the libev loop's view of micro-processes: the queue of processes
 * to dispatch, the descriptor table, the pool of micro-heaps and the fault
 * handler. Processes queued by events are dispatched from one ev_prepare
 * watcher, just before the loop would block, so a process woken by several
 * events in one loop iteration runs once. Each dispatch costs at most one
 * unprotect of its heap and one protect of the heap open before it; none
 * when the same process runs again next (its heap stays open in between).
 *
 * A worker is single-threaded: another thread would make every mprotect
 * a TLB shootdown across CPUs. One kernel per process.
 */
#ifndef VK_KERN_H
#define VK_KERN_H

#include <ev.h>
#include <stdint.h>

#include "vk_proc.h"

/*
 * Counters of one worker. The kernel only ever adds to them; they may live
 * in memory shared with a supervisor (vk_kern_set_stats()), which reads
 * them without locks: each is one aligned 64-bit word.
 */
struct vk_kern_stats {
	uint64_t procs_now;	/* micro-processes alive */
	uint64_t procs_total;	/* micro-processes started */
	uint64_t faults;	/* micro-processes ended by a fault */
	uint64_t bytes_in;	/* bytes read from descriptors */
	uint64_t bytes_out;	/* bytes written to descriptors */
	uint64_t accepted;	/* connections accepted */
	uint64_t refused;	/* connections closed at once: over a limit */
	uint64_t heap_failures; /* micro-heaps that could not be mapped */
	uint64_t dispatches;	/* micro-process dispatches */
	uint64_t protections;	/* mprotect calls */
};

struct vk_kern;
struct vk_listener;

/* Log sink: `level` is a syslog level (3 error .. 7 debug). */
typedef void (*vk_log_fn)(int level, const char *message);

/*
 * Make the kernel of this process on `loop`, and install the fault handler
 * (SIGSEGV, SIGBUS, SIGFPE, SIGILL) with an alternate signal stack. Returns
 * NULL with errno set on failure, or EBUSY if one already exists.
 */
struct vk_kern *vk_kern_create(struct ev_loop *loop);

/* End every micro-process, unmap every heap, restore the signal handlers. */
void vk_kern_destroy(struct vk_kern *kern);

/* Send the kernel's log lines (faults, limits) to `fn`; default stderr. */
void vk_kern_set_logger(struct vk_kern *kern, vk_log_fn fn);

/* Keep counters at `stats` (zeroed by the caller) instead of privately. */
void vk_kern_set_stats(struct vk_kern *kern, struct vk_kern_stats *stats);
const struct vk_kern_stats *vk_kern_stats(const struct vk_kern *kern);

/*
 * How many micro-heaps may be mapped at once: by default derived from
 * vm.max_map_count (each heap is two mappings), leaving room for the rest
 * of the process. Past it, spawning fails with ENOMEM and a log line.
 */
void vk_kern_set_heap_limit(struct vk_kern *kern, size_t heaps);
size_t vk_kern_heap_limit(const struct vk_kern *kern);

/*
 * Start a micro-process running `main(arg)` as its main coroutine. When
 * `fd` is not -1 it must be non-blocking; it becomes the main coroutine's
 * default socket and is closed when the process ends (also on failure).
 * Returns the process, or NULL with errno (ENOMEM: heap limit or mmap).
 */
struct vk_proc *vk_kern_spawn(struct vk_kern *kern, const struct vk_proc_config *config,
			      vk_func main, void *arg, int fd);

/* Call `fn(proc, ctx)` when `proc` ends. */
void vk_proc_on_exit(struct vk_proc *proc, vk_proc_exit_fn fn, void *ctx);

/*
 * Accept connections on listening descriptor `fd` (which stays the
 * caller's) in the kernel, each becoming a micro-process running `main`
 * with `arg`. Beyond `max_procs` live processes from this listener a new
 * connection is closed at once and counted as refused.
 */
struct vk_listener *vk_kern_listen(struct vk_kern *kern, int fd,
				   const struct vk_proc_config *config, vk_func main, void *arg,
				   unsigned max_procs);

/* Stop accepting and free the listener (live connections go on). */
void vk_listener_close(struct vk_listener *listener);

/*
 * Live micro-processes counted against the listener's limit: its own, and
 * those of the listeners that share the limit with it.
 */
unsigned vk_listener_active(const struct vk_listener *listener);

/*
 * Make `listener` count its processes against the limit of `with` (whose
 * max_procs then bounds both together), as an app listening on several
 * addresses has one limit. Processes it started before keep counting
 * where they did. Either listener may be closed first.
 */
void vk_listener_share(struct vk_listener *listener, struct vk_listener *with);

/*
 * Enter drain: vk_draining() becomes true for every coroutine, so apps
 * finish what is in flight and close. Listeners are the caller's to close.
 */
void vk_kern_set_draining(struct vk_kern *kern, int draining);
int vk_kern_draining(const struct vk_kern *kern);

/* Run the loop until no micro-process and no other watcher is left. */
void vk_kern_run(struct vk_kern *kern);

/*
 * Run every queued micro-process now (normally the prepare watcher does).
 * The heap of the last one dispatched is left open (nothing else runs
 * until the next dispatch closes it); see vk_kern_close_heaps().
 */
void vk_kern_dispatch(struct vk_kern *kern);

/* Close the heap left open by the last dispatch (before inspecting heaps). */
void vk_kern_close_heaps(struct vk_kern *kern);

struct ev_loop *vk_kern_loop(const struct vk_kern *kern);

/* Internal: the counters to add to. */
struct vk_kern_stats *vk_kern_counters(struct vk_kern *kern);

/* Internal: write one log line through the kernel's logger. */
void vk_kern_log(struct vk_kern *kern, int level, const char *format, ...)
    __attribute__((format(printf, 3, 4)));

#endif
