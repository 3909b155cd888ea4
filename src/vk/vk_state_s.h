/*
 * The layout of a coroutine, visible because the vk_state.h macros read and
 * write it inline. Nothing outside libvk should touch these fields.
 */
#ifndef VK_STATE_S_H
#define VK_STATE_S_H

#include <stddef.h>
#include <stdint.h>

struct vk_proc;
struct vk_socket;

enum vk_thread_status {
	VK_THREAD_RUNNABLE, /* in its micro-process's run queue */
	VK_THREAD_RUNNING,
	VK_THREAD_YIELDED, /* gave way; goes back to the end of the run queue */
	VK_THREAD_BLOCKED, /* waits for a wake-up */
	VK_THREAD_DONE,	   /* ended, not yet joined */
};

struct vk_thread {
	void (*func)(struct vk_thread *that);
	void *self;	   /* state from vk_begin(), on the micro-heap */
	int line;	   /* where to resume: 0 at start, else a case label */
	int error;	   /* the error being raised, seen by vk_finally() */
	int wake_error;	   /* error handed over by whoever woke this thread */
	uint8_t status;	   /* enum vk_thread_status */
	uint8_t unwinding; /* inside vk_finally(): a raise now ends the thread */
	uint8_t detached;  /* free the thread when it ends; nobody joins it */
	uint8_t sleeping;  /* the deadline ends a sleep, not an operation */
	uint8_t idle_wait; /* waits between messages: a drain may cut it short */
	struct vk_proc *proc;
	struct vk_thread *run_next;
	struct vk_thread *waiter;     /* blocked in vk_call() or vk_join() on us */
	struct vk_socket *socket;     /* default socket (stdio) */
	void *arg;		      /* from the spawner */
	struct vk_thread **wait_slot; /* the waiter list we are in (a ring's reader/writer) */
	struct vk_thread *wait_next;  /* next in that list, woken in order */
	size_t op_done;		      /* progress of the operation in flight */
	uint32_t timeout_ms;	      /* applied to each blocking operation */
	int child_error;	      /* error of the child we called or joined */
	double deadline;	      /* ev_now() time, valid when timed_prev */
	struct vk_thread *timed_next;
	struct vk_thread **timed_prev;
	/* Intra-process messages (vk_future.h). */
	intptr_t message;
	struct vk_thread *message_from;
	struct vk_thread *senders_head; /* threads blocked sending to us */
	struct vk_thread **senders_tail;
	struct vk_thread *send_next;
	struct vk_thread *sending_to; /* whose senders queue we are in */
	struct vk_thread *request_to; /* whom our pending vk_request() went to */
	uint8_t receiving;
	uint8_t awaiting_reply;
};

#endif
