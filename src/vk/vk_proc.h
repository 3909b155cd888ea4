/*
 * vk_proc: micro-processes.
 *
 * A micro-process is a set of coroutines sharing one micro-heap, with its
 * own run queue. Its control block lives outside the heap, because the
 * kernel must queue it, time it and account for its file descriptors while
 * the heap is protected.
 *
 * One dispatch makes the heap accessible, takes in the events the poller
 * saw, runs coroutines until the run queue is empty, flushes what they wrote
 * and leaves the heap to be protected again. The micro-process ends when its
 * main coroutine ends: its descriptors are closed and its heap goes back to
 * the pool.
 */
#ifndef VK_PROC_H
#define VK_PROC_H

#include <ev.h>
#include <stdint.h>

#include "vk_heap.h"
#include "vk_state.h"

struct vk_kern;
struct vk_fd;

/* How a micro-process is made; see vk_kern_spawn(). */
struct vk_proc_config {
	size_t heap_size;    /* bytes of micro-heap (rounded up to pages) */
	uint32_t timeout_ms; /* the main coroutine's vk_set_timeout(); 0 = none */
	int isolation;	     /* protect the heap while the process does not run */
	size_t ring_size;    /* each direction of the main socket; 0 = default */
};

/* Called when a micro-process ends (outside of it; its heap is gone). */
typedef void (*vk_proc_exit_fn)(struct vk_proc *proc, void *ctx);

struct vk_proc {
	struct vk_heap heap;
	struct vk_kern *kern;
	struct vk_thread *main;
	struct vk_thread *run_head; /* coroutines in the heap, run in order */
	struct vk_thread **run_tail;
	struct vk_thread *timed;    /* coroutines with a deadline */
	struct vk_fd *fds;	    /* descriptors this process owns */
	struct vk_fd *pending;	    /* descriptors with events to take in */
	struct vk_proc *ready_next; /* the kernel's queue of processes to run */
	struct vk_proc *all_next;
	struct vk_proc **all_prev;
	struct ev_timer timer;	 /* fires at the earliest coroutine deadline */
	double timer_at;	 /* when the timer is armed for, 0 = not armed */
	double last_words_until; /* main ended, sending what is left: until then */
	uint64_t id;
	struct vk_proc_config config;
	vk_func main_func;
	void *main_arg;
	int main_fd;
	vk_proc_exit_fn on_exit;
	void *on_exit_ctx;
	uint8_t queued;
	uint8_t started;
	uint8_t timer_fired;
	uint8_t nudged; /* the worker started draining: re-time idle waits */
	uint8_t ended;
};

/* Queue the micro-process for dispatch (the kernel runs it soon). */
void vk_proc_schedule(struct vk_proc *proc);

/* Internal: put a coroutine at the end of the run queue. */
void vk_proc_enqueue(struct vk_proc *proc, struct vk_thread *thread);

/* Internal: one dispatch, with the heap already accessible. */
void vk_proc_run(struct vk_proc *proc);

/* Internal: add/remove a coroutine to/from the deadline list. */
void vk_proc_time(struct vk_proc *proc, struct vk_thread *thread, double deadline);
void vk_proc_untime(struct vk_thread *thread);

/* Internal: wake the coroutines whose deadline passed; re-arm the timer. */
void vk_proc_expire(struct vk_proc *proc);
void vk_proc_arm_timer(struct vk_proc *proc);

/* The event loop's current time. */
double vk_proc_now(const struct vk_proc *proc);

#endif
