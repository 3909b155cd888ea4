/*
 * vk_kern: the virtual kernel of one worker process.
 *
 * It gives micro-processes their life: it spawns them (a heap from the
 * pool, a control block), dispatches them, and ends them (descriptors
 * closed, heap back to the pool), also when they fault. Processes queued
 * by events (vk_poll) and timers (vk_proc) are dispatched from one
 * ev_prepare watcher, just before the loop would block, so a process woken
 * by several events in one loop iteration runs once. Each dispatch costs
 * at most one unprotect of its heap and one protect of the heap open
 * before it; none when the same process runs again next (its heap stays
 * open in between).
 *
 * A worker is single-threaded: another thread would make every mprotect
 * a TLB shootdown across CPUs. One kernel per process.
 */
#ifndef VK_KERN_H
#define VK_KERN_H

#include <ev.h>
#include <stdint.h>

#include "vk_internal.h"
#include "vk_log.h"
#include "vk_proc.h"
#include "vk_stats.h"

struct vk_bus;
struct vk_kern;

/*
 * Make the kernel of this process on `loop`, with its descriptor table and
 * heap pool, and install the fault handler (vk_fault.h). Returns NULL with
 * errno set on failure, EBUSY if one already exists.
 */
struct vk_kern *vk_kern_create(struct ev_loop *loop);

/* End every micro-process, unmap every heap, restore the signal handlers. */
void vk_kern_destroy(struct vk_kern *kern);

/* Keep counters at `stats` instead of privately (the current ones are copied). */
void vk_kern_set_stats(struct vk_kern *kern, struct vk_stats *stats);
const struct vk_stats *vk_kern_stats(const struct vk_kern *kern);

/* The counters, to add to (vk_listener.c). */
struct vk_stats *vk_kern_counters(struct vk_kern *kern);

/*
 * How many micro-heaps may be mapped at once: by default derived from
 * vm.max_map_count (vk_pool.h). Past it, spawning fails with ENOMEM and a
 * log line.
 */
void vk_kern_set_heap_limit(struct vk_kern *kern, size_t heaps);
size_t vk_kern_heap_limit(const struct vk_kern *kern);

/*
 * How many pipe descriptors vk_forward()'s direct path may hold at once
 * (vk_poll_set_pipe_budget()); 0: every forward copies through rings.
 */
void vk_kern_set_pipe_budget(struct vk_kern *kern, size_t fds);

/*
 * How the worker resolves host names for vk_connect() (vk_resolve.h);
 * `config` must outlive the kernel. Before the first lookup: the resolver
 * is made then, with the defaults when this was not called.
 */
struct vk_resolve_config;
void vk_kern_set_resolve_config(struct vk_kern *kern, const struct vk_resolve_config *config);

/*
 * Start a micro-process running `main(arg)` as its main coroutine. When
 * `fd` is not -1 it must be non-blocking; it becomes the main coroutine's
 * default socket and is closed when the process ends (also on failure).
 * Returns the process, or NULL with errno (ENOMEM: heap limit or mmap).
 */
struct vk_proc *vk_kern_spawn(struct vk_kern *kern, const struct vk_proc_config *config,
			      vk_func main, void *arg, int fd);

/*
 * Enter drain: vk_draining() becomes true for every coroutine, so apps
 * finish what is in flight and close; coroutines waiting between messages
 * on a served connection are woken to wait only VK_DRAIN_IDLE_MS more
 * (one not served yet waits for its first message as before: see
 * vk_socket_await_idle()). Listeners are the caller's to close, and the
 * end of the drain (a deadline) too.
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

/* What a micro-process is doing, for vkctl ps. */
enum vk_proc_state {
	VK_PROC_STARTING, /* spawned, not dispatched yet */
	VK_PROC_READY,	  /* queued to run */
	VK_PROC_WAITING,  /* its main coroutine waits for `wait` (enum vk_wait) */
	VK_PROC_CLOSING,  /* its main coroutine ended; sending what it wrote */
};

/*
 * A micro-process as vkctl ps shows it: all of it kept outside its heap
 * (no protection change to look), plain data (vkd sends it from a worker
 * to the master as it is).
 */
struct vk_proc_info {
	uint64_t id;
	uint64_t heap_used;   /* bytes allocated (the stack's top) */
	uint64_t heap_mapped; /* bytes of its heap */
	uint64_t bytes_in;    /* read from its descriptors */
	uint64_t bytes_out;   /* written to its descriptors */
	double started;	      /* ev_now() (seconds since the epoch) when spawned */
	double last_run;      /* of its last dispatch; 0: none yet */
	uint32_t app;	      /* vk_proc_config.app */
	uint8_t state;	      /* enum vk_proc_state */
	uint8_t wait;	      /* enum vk_wait, when waiting */
	uint8_t unused[2];
	struct vk_peer peer;
};

/*
 * Walk the live micro-processes, newest first, a few at a time between
 * other work: vk_kern_walk() fills at most `max` and returns how many (0
 * at the end). A process that ends meanwhile is skipped; one spawned
 * after vk_kern_walk_begin() is not seen. Not from a dispatch.
 */
void vk_kern_walk_begin(struct vk_kern *kern);
size_t vk_kern_walk(struct vk_kern *kern, struct vk_proc_info *out, size_t max);

/*
 * End micro-process `id` the way a fault does (descriptors closed, heap
 * trimmed), counted as killed, with a log line (level 6). Returns 0, or
 * -ESRCH when no live process has that id. Not from a dispatch.
 */
int vk_kern_kill(struct vk_kern *kern, uint64_t id);

/* Close the heap left open by the last dispatch (before inspecting heaps). */
void vk_kern_close_heaps(struct vk_kern *kern);

struct ev_loop *vk_kern_loop(const struct vk_kern *kern);

/* The worker's bus: services, addresses, topics (vk_bus.h). */
struct vk_bus *vk_kern_bus(const struct vk_kern *kern);

#endif
