/*
 * vk_inplace: call a child coroutine in place, again and again.
 *
 * vk_call() makes a task for the child, queues it, lets the caller block
 * until the child ends, and frees the task: about 55 ns a call here
 * (against 5 ns for a vk_yield()). A request handler is called once per
 * request, and most calls end without ever blocking. vk_inplace runs the
 * child at once, inside the caller's turn, on a task kept from one call
 * to the next: a call that does not block costs no allocation and no trip
 * through the run queue. A call that blocks turns into what vk_call()
 * does: the caller waits, the child runs whenever it is woken, and its end
 * wakes the caller (the task is then freed, and the next call makes one).
 *
 * Internal to libvk's upper layers (the HTTP server): it knows tasks.
 */
#ifndef VK_INPLACE_H
#define VK_INPLACE_H

#include "vk_internal.h"

#include <stddef.h>
#include <stdint.h>

#include "vk_state.h"

struct vk_inplace {
	struct vk_thread *child; /* the task kept between calls, or NULL */
	uint16_t frame_size;	 /* of the tasks made */
};

/*
 * Make the child's task now, with a frame of frame_size bytes (at most
 * 65535) after it for the child's state: a child whose state fits takes
 * nothing from the heap, and its state sits with its task where the
 * heap's top is now (say, in a connection's hot page, before its receive
 * ring, where a per-call allocation would touch a page of its own).
 * Returns 0 or -ENOMEM. Optional: the first call makes a task without a
 * frame otherwise.
 */
int vk_inplace_init(struct vk_thread *that, struct vk_inplace *c, size_t frame_size);

/*
 * Run fn(arg) in place as a child of `that`, with its default socket and
 * timeout. Returns 1 when the child ended before this returned (*error is
 * then the error it ended with, 0 if none), 0 when it blocked (the caller
 * must block until it ends: use vk_inplace_call()), or -ENOMEM.
 */
int vk_inplace_begin(struct vk_thread *that, struct vk_inplace *c, vk_func fn, void *arg,
		     int *error);

/* The error a child that blocked ended with, once its end woke the caller. */
int vk_inplace_end(struct vk_thread *that, struct vk_inplace *c);

/*
 * Call fn(arg) in place and wait for its end; `error` (an int lvalue kept
 * in self) gets the error it ended with, which is not raised here: the
 * caller decides. Raises ENOMEM when there is no room for the child.
 */
#define vk_inplace_call(c, fn, a, error)                                       \
	do {                                                                   \
		int vk_ip_ = vk_inplace_begin(that, (c), (fn), (a), &(error)); \
		if (vk_ip_ < 0)                                                \
			vk_raise(-vk_ip_);                                     \
		if (vk_ip_ == 0) {                                             \
			vk_suspend_(VK_THREAD_BLOCKED);                        \
			(error) = vk_inplace_end(that, (c));                   \
		}                                                              \
	} while (0)

#endif
