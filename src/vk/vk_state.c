#include "vk_state.h"

#include <string.h>

#include "vk_kern.h"
#include "vk_proc.h"

void *vk_thread_begin(struct vk_thread *that, size_t size)
{
	that->self = vk_heap_calloc(&that->proc->heap, 1, size);
	if (!that->self) {
		/* There is no state to run a finally block with: end now. */
		that->error = ENOMEM;
		vk_thread_end(that);
	}
	return that->self;
}

/* Free a coroutine that nobody will join. */
static void thread_release(struct vk_thread *thread)
{
	vk_heap_free(&thread->proc->heap, thread);
}

static void unlink_sender(struct vk_thread *thread);

void vk_thread_end(struct vk_thread *that)
{
	struct vk_thread *waiter = that->waiter;

	/* Senders queued here would never be taken, and would point at freed memory. */
	while (that->senders_head) {
		struct vk_thread *sender = that->senders_head;

		vk_thread_wake(sender, EPIPE);
		if (sender->sending_to == that)
			unlink_sender(sender);
	}
	vk_heap_free(&that->proc->heap, that->self);
	that->self = NULL;
	that->status = VK_THREAD_DONE;
	vk_proc_untime(that);
	if (waiter) {
		waiter->child_error = that->error;
		that->waiter = NULL;
		vk_thread_wake(waiter, 0);
		/* The waiter has what it needs: a joined or called child goes. */
		if (that != that->proc->main)
			thread_release(that);
		return;
	}
	if (that->detached && that != that->proc->main)
		thread_release(that);
}

static struct vk_thread *thread_create(struct vk_thread *that, vk_func fn, void *arg)
{
	struct vk_thread *child = vk_heap_calloc(&that->proc->heap, 1, sizeof(*child));

	if (!child)
		return NULL;
	child->func = fn;
	child->arg = arg;
	child->proc = that->proc;
	child->socket = that->socket;
	child->timeout_ms = that->timeout_ms;
	return child;
}

struct vk_thread *vk_thread_spawn(struct vk_thread *that, vk_func fn, void *arg, int detached)
{
	struct vk_thread *child = thread_create(that, fn, arg);

	if (!child)
		return NULL;
	child->detached = (uint8_t)detached;
	vk_proc_enqueue(that->proc, child);
	return child;
}

int vk_thread_join_begin(struct vk_thread *that, struct vk_thread *child)
{
	that->child_error = 0;
	if (child->status == VK_THREAD_DONE) {
		that->child_error = child->error;
		thread_release(child);
		return 0;
	}
	child->waiter = that;
	that->status = VK_THREAD_BLOCKED;
	return 1;
}

struct vk_thread *vk_thread_call_begin(struct vk_thread *that, vk_func fn, void *arg)
{
	struct vk_thread *child = thread_create(that, fn, arg);

	if (!child)
		return NULL;
	that->child_error = 0;
	child->waiter = that;
	vk_proc_enqueue(that->proc, child);
	return child;
}

void vk_thread_sleep_begin(struct vk_thread *that, uint32_t ms)
{
	struct vk_proc *proc = that->proc;

	that->sleeping = 1;
	vk_proc_time(proc, that, vk_proc_now(proc) + ms / 1000.0);
}

void *vk_thread_calloc(struct vk_thread *that, size_t count, size_t size)
{
	return vk_heap_calloc(&that->proc->heap, count, size);
}

void *vk_thread_alloc(struct vk_thread *that, size_t count, size_t size)
{
	if (size && count > SIZE_MAX / size) {
		errno = ENOMEM;
		return NULL;
	}
	return vk_heap_alloc(&that->proc->heap, count * size);
}

double vk_now(const struct vk_thread *that)
{
	return vk_proc_now(that->proc);
}

void vk_thread_free(struct vk_thread *that, void *ptr)
{
	vk_heap_free(&that->proc->heap, ptr);
}

/* Take a thread out of the waiter list it is in, if any. */
static void unlink_waiter(struct vk_thread *thread)
{
	struct vk_thread **link = thread->wait_slot;

	if (!link)
		return;
	while (*link && *link != thread)
		link = &(*link)->wait_next;
	if (*link)
		*link = thread->wait_next;
	thread->wait_slot = NULL;
	thread->wait_next = NULL;
}

void vk_thread_block(struct vk_thread *that, struct vk_thread **slot)
{
	uint32_t ms = that->timeout_ms;

	if (slot) {
		/*
		 * Queue behind the waiters already there: coroutines sharing a
		 * socket (a child inherits its parent's) may wait on one ring
		 * together, and each must be woken in turn, none forgotten.
		 */
		struct vk_thread **link = slot;

		unlink_waiter(that);
		while (*link)
			link = &(*link)->wait_next;
		*link = that;
		that->wait_slot = slot;
	}
	/* Between messages, a draining worker waits only a short grace. */
	if (that->idle_wait && vk_draining(that) && (ms == 0 || ms > VK_DRAIN_IDLE_MS))
		ms = VK_DRAIN_IDLE_MS;
	if (ms)
		vk_proc_time(that->proc, that, vk_proc_now(that->proc) + ms / 1000.0);
}

/* Take a thread out of the senders queue of the one it sends to. */
static void unlink_sender(struct vk_thread *thread)
{
	struct vk_thread *to = thread->sending_to;
	struct vk_thread **link = &to->senders_head;

	while (*link && *link != thread)
		link = &(*link)->send_next;
	if (*link) {
		*link = thread->send_next;
		if (to->senders_tail == &thread->send_next)
			to->senders_tail = link;
	}
	thread->sending_to = NULL;
	thread->send_next = NULL;
}

void vk_thread_wake(struct vk_thread *thread, int error)
{
	if (thread->status != VK_THREAD_BLOCKED)
		return;
	unlink_waiter(thread);
	if (thread->sending_to)
		unlink_sender(thread);
	thread->receiving = 0;
	thread->sleeping = 0;
	/* Whatever woke it, it waits for no response any more. */
	thread->awaiting_reply = 0;
	vk_proc_untime(thread);
	thread->wake_error = error;
	vk_proc_enqueue(thread->proc, thread);
}

int vk_draining(const struct vk_thread *that)
{
	return vk_kern_draining(that->proc->kern);
}
