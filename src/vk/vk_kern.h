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
 * are woken to wait only VK_DRAIN_IDLE_MS more. Listeners are the
 * caller's to close.
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

/* The worker's bus: services, addresses, topics (vk_bus.h). */
struct vk_bus *vk_kern_bus(const struct vk_kern *kern);

#endif
