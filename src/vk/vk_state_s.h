/*
 * The frame of a coroutine: the fields the vk_state.h macros read and
 * write inline, in the coroutine's own function, for speed. They are the
 * coroutine's own state, not the kernel's: how libvk queues, times and
 * joins a coroutine lives in a larger structure that is not part of the
 * API. Use the macros and functions of vk(3); touch no field by hand but
 * reading `socket`, the default socket (a main coroutine's connection).
 *
 * Modules compile this layout into their code: vk_app.h records its size
 * and shape (field offsets, the macros' constants) in every module, and
 * vkd refuses a module built against another. Changing it means a new
 * VK_APP_ABI_MAJOR.
 */
#ifndef VK_STATE_S_H
#define VK_STATE_S_H

#include <stddef.h>
#include <stdint.h>

struct vk_socket;

enum vk_thread_status {
	VK_THREAD_RUNNABLE, /* in its micro-process's run queue */
	VK_THREAD_RUNNING,
	VK_THREAD_YIELDED, /* gave way; goes back to the end of the run queue */
	VK_THREAD_BLOCKED, /* waits for a wake-up */
	VK_THREAD_DONE,	   /* ended, not yet joined */
};

struct vk_thread {
	void *self;			/* state from vk_begin(), on the micro-heap */
	int line;			/* where to resume: 0 at start, else a case label */
	int error;			/* the error being raised, seen by vk_finally() */
	int wake_error;			/* error handed over by whoever woke this thread */
	int child_error;		/* error of the child we called or joined */
	uint8_t status;			/* enum vk_thread_status */
	uint8_t unwinding;		/* inside vk_finally(): a raise now ends the thread */
	uint32_t timeout_ms;		/* applied to each blocking operation */
	struct vk_socket *socket;	/* default socket (stdio) */
	void *arg;			/* from the spawner */
	size_t op_done;			/* progress of the operation in flight */
	intptr_t message;		/* the last message received (vk_future.h) */
	struct vk_thread *message_from; /* and who sent it */
};

#endif
