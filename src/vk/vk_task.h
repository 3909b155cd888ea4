/*
 * vk_task: coroutines as libvk's scheduler sees them.
 *
 * A task is a coroutine's frame (struct vk_thread, what its own code and
 * the vk_state.h macros touch) followed by what the kernel needs to run
 * it: its micro-process, its place in the run queue, the list it waits in,
 * its deadline, whoever joins it and the messages queued for it. The whole
 * task lives on its process's micro-heap; an app sees only the frame.
 *
 * This layer runs a process's run queue, blocks and wakes tasks, and times
 * them out. It sits on vk_proc (queues and clocks of processes) and under
 * everything that makes a task wait: coroutine calls (vk_state.c),
 * messages (vk_future.c), the poller and sockets.
 */
#ifndef VK_TASK_H
#define VK_TASK_H

#include "vk_internal.h"
#include "vk_list.h"
#include "vk_proc.h"
#include "vk_state.h"

struct vk_task {
	struct vk_thread thread; /* first: a task is its coroutine's frame */
	vk_func func;
	struct vk_proc *proc;
	struct vk_task *run_next;
	struct vk_task *waiter;	    /* blocked in vk_call() or vk_join() on us */
	struct vk_task **wait_slot; /* the waiter list we are in (a ring's reader/writer) */
	struct vk_task *wait_next;  /* next in that list, woken in order */
	double deadline;	    /* ev_now() time, valid when timed is linked; HUGE_VAL: none */
	LIST_ENTRY(vk_task) timed;  /* in the process's tasks with a deadline */
	/* Messages (vk_future.h). */
	struct vk_task *senders_head; /* tasks blocked sending to us */
	struct vk_task **senders_tail;
	struct vk_task *send_next;
	struct vk_task *sending_to; /* whose senders queue we are in */
	struct vk_task *request_to; /* whom our pending vk_request() went to */
	struct vk_task *requesters; /* took our message, owe us vk_respond() */
	struct vk_task *request_next;
	uint8_t detached;  /* free the task when it ends; nobody joins it */
	uint8_t sleeping;  /* the deadline ends a sleep, not an operation */
	uint8_t idle_wait; /* waits between messages, served: a drain cuts it short */
	uint8_t receiving;
	uint8_t awaiting_reply;
	/*
	 * Bytes right after the task that hold its state (vk_begin()'s self)
	 * instead of a heap block, when it fits: a coroutine called again and
	 * again in place (vk_inplace.h) allocates nothing. 0: none.
	 */
	uint16_t frame_size;
	uint32_t connect_timeout_ms; /* vk_set_connect_timeout(); 0: thread.timeout_ms */
};

/* The frame after a task (see frame_size), aligned as heap blocks are. */
static inline void *vk_task_frame(struct vk_task *task)
{
	return (void *)(((uintptr_t)(task + 1) + VK_HEAP_ALIGN - 1) &
			~(uintptr_t)(VK_HEAP_ALIGN - 1));
}

static inline struct vk_task *vk_task_of(struct vk_thread *thread)
{
	return (struct vk_task *)thread;
}

static inline struct vk_proc *vk_task_proc(const struct vk_thread *thread)
{
	return ((const struct vk_task *)thread)->proc;
}

/*
 * Make a task running `fn(arg)` in `proc`, on its heap (zeroed), not yet
 * queued. NULL with errno ENOMEM when the heap is full.
 */
struct vk_task *vk_task_create(struct vk_proc *proc, vk_func fn, void *arg);

/* Free a task that has ended and that nobody will join. */
void vk_task_release(struct vk_task *task);

/* Put a task at the end of its process's run queue. */
void vk_task_enqueue(struct vk_task *task);

/*
 * Run the process's queued tasks until the queue is empty or the main task
 * has ended. The heap must be accessible.
 */
void vk_task_run_queue(struct vk_proc *proc);

/*
 * Register `task` as a waiter in `*slot` (NULL: none), behind those there
 * already, waiting for `what` (enum vk_wait, for vkctl ps), and arm its
 * timeout; the caller then suspends with vk_wait_().
 */
void vk_task_block(struct vk_task *task, struct vk_task **slot, int what);

/* Note what `task` waits for, when it is its process's main coroutine. */
static inline void vk_task_waits_for(struct vk_task *task, int what)
{
	if (task == task->proc->main)
		task->proc->main_wait = (uint8_t)what;
}

/*
 * vk_task_block() for an operation that keeps its own deadline (a
 * connect's, a forward's shared idle time) and must clean up when it
 * passes: the task is timed at `deadline` (0: not timed) and woken then
 * with no error, to find the deadline passed itself and say ETIMEDOUT.
 * The process's idle timeout still ends the wait, with ETIMEDOUT handed
 * over as a wake-up error.
 */
void vk_task_block_until(struct vk_task *task, struct vk_task **slot, int what, double deadline);

/*
 * Make a blocked task runnable, handing it `error` (0 for none) to raise
 * where it waits. Does nothing if it is not blocked.
 */
void vk_task_wake(struct vk_task *task, int error);

/*
 * `responder` took the message of `requester`, which now waits for its
 * vk_respond(): should the responder end first, the requester gets EPIPE.
 */
void vk_task_await_reply(struct vk_task *requester, struct vk_task *responder);

/*
 * `task` ends: every task queued sending to it, and every one waiting for
 * its response, is woken with EPIPE (nothing would ever answer them, and
 * they would point at freed memory).
 */
void vk_task_end_messages(struct vk_task *task);

/* Add a task to its process's deadline list at `deadline`, or remove it. */
void vk_task_time(struct vk_task *task, double deadline);
void vk_task_untime(struct vk_task *task);

/* Wake the tasks whose deadline passed: ETIMEDOUT, or 0 for a sleep. */
void vk_task_expire(struct vk_proc *proc);

/*
 * The process is idle: wake every task that waits (on a descriptor, a
 * pipe, a message or a sleep) with ETIMEDOUT. A task waiting in vk_call()
 * or vk_join() waits on, for the child it waits for.
 */
void vk_task_expire_all(struct vk_proc *proc);

/* The earliest deadline of the process's tasks, 0 when none. */
double vk_task_earliest(const struct vk_proc *proc);

/*
 * The worker started draining: wake the tasks that wait between messages
 * on a served connection (vk_await_idle) so that they re-time their wait
 * with the drain's grace.
 */
void vk_task_wake_idle(struct vk_task *list);

#endif
