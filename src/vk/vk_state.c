#include "vk_state.h"

#include <string.h>

#include "vk_task.h"

static struct vk_heap *heap_of(const struct vk_thread *that)
{
	return &vk_task_proc(that)->heap;
}

void *vk_thread_begin(struct vk_thread *that, size_t size)
{
	struct vk_task *task = vk_task_of(that);
	size_t left;

	if (task->frame_size && size <= task->frame_size) {
		that->self = memset(vk_task_frame(task), 0, size);
		return that->self;
	}
	left = vk_heap_available(heap_of(that));
	that->self = vk_heap_calloc(heap_of(that), 1, size);
	if (!that->self) {
		/* There is no state to run a finally block with: end now. */
		vk_proc_app_error(task->proc, VK_APP_ERROR_STATE, (void *)task->func, size, left);
		that->error = ENOMEM;
		vk_thread_end(that);
	}
	return that->self;
}

void vk_thread_finish(struct vk_thread *that)
{
	struct vk_task *task = vk_task_of(that);

	if (that->line != VK_LINE_END && that->line != VK_LINE_FINALLY) {
		vk_proc_app_error(task->proc, VK_APP_ERROR_RESUME, (void *)task->func,
				  (size_t)that->line, 0);
		that->error = ENOTRECOVERABLE;
	}
	vk_thread_end(that);
}

void vk_thread_end(struct vk_thread *that)
{
	struct vk_task *task = vk_task_of(that);
	struct vk_task *waiter = task->waiter;
	int is_main = task == task->proc->main;

	vk_task_end_messages(task);
	if (!task->frame_size || that->self != vk_task_frame(task))
		vk_heap_free(heap_of(that), that->self);
	that->self = NULL;
	that->status = VK_THREAD_DONE;
	vk_task_untime(task);
	if (waiter) {
		waiter->thread.child_error = that->error;
		task->waiter = NULL;
		vk_task_wake(waiter, 0);
		/* The waiter has what it needs: a joined or called child goes. */
		if (!is_main)
			vk_task_release(task);
		return;
	}
	if (task->detached && !is_main)
		vk_task_release(task);
}

/* A child of `that`, sharing its socket and timeout. */
static struct vk_task *child_create(struct vk_thread *that, vk_func fn, void *arg)
{
	struct vk_task *child = vk_task_create(vk_task_proc(that), fn, arg);

	if (!child)
		return NULL;
	child->thread.socket = that->socket;
	child->thread.timeout_ms = that->timeout_ms;
	child->connect_timeout_ms = vk_task_of(that)->connect_timeout_ms;
	return child;
}

struct vk_thread *vk_thread_spawn(struct vk_thread *that, vk_func fn, void *arg, int detached)
{
	struct vk_task *child = child_create(that, fn, arg);

	if (!child)
		return NULL;
	child->detached = (uint8_t)detached;
	vk_task_enqueue(child);
	return &child->thread;
}

int vk_thread_join_begin(struct vk_thread *that, struct vk_thread *child)
{
	that->child_error = 0;
	if (child->status == VK_THREAD_DONE) {
		that->child_error = child->error;
		vk_task_release(vk_task_of(child));
		return 0;
	}
	vk_task_of(child)->waiter = vk_task_of(that);
	vk_task_waits_for(vk_task_of(that), VK_WAIT_CHILD);
	that->status = VK_THREAD_BLOCKED;
	return 1;
}

struct vk_thread *vk_thread_call_begin(struct vk_thread *that, vk_func fn, void *arg)
{
	struct vk_task *child = child_create(that, fn, arg);

	if (!child)
		return NULL;
	that->child_error = 0;
	child->waiter = vk_task_of(that);
	vk_task_waits_for(vk_task_of(that), VK_WAIT_CHILD);
	vk_task_enqueue(child);
	return &child->thread;
}

void vk_thread_sleep_begin(struct vk_thread *that, uint32_t ms)
{
	struct vk_task *task = vk_task_of(that);

	task->sleeping = 1;
	vk_task_waits_for(task, VK_WAIT_SLEEP);
	vk_task_time(task, vk_proc_now(task->proc) + ms / 1000.0);
}

/*
 * An allocation the heap could not hold is logged with the sizes (a
 * warning, not an app error: the app may handle the ENOMEM): a heap too
 * small for what the app's options ask (proxy.so's opt.buffer = 1M in the
 * default 256k heap) otherwise closed every connection with nothing
 * logged at any level. A failed allocation left the heap as it was: what
 * it has left is read after.
 */
static void *alloc_noted(struct vk_thread *that, void *p, size_t count, size_t size)
{
	struct vk_task *task = vk_task_of(that);

	if (p)
		return p;
	vk_proc_alloc_failed(task->proc, (void *)task->func,
			     size && count > SIZE_MAX / size ? SIZE_MAX : count * size,
			     vk_heap_available(heap_of(that)));
	errno = ENOMEM;
	return NULL;
}

void *vk_thread_calloc(struct vk_thread *that, size_t count, size_t size)
{
	return alloc_noted(that, vk_heap_calloc(heap_of(that), count, size), count, size);
}

void *vk_thread_alloc(struct vk_thread *that, size_t count, size_t size)
{
	void *p = NULL;

	if (!size || count <= SIZE_MAX / size)
		p = vk_heap_alloc(heap_of(that), count * size);
	return alloc_noted(that, p, count, size);
}

void vk_thread_free(struct vk_thread *that, void *ptr)
{
	vk_heap_free(heap_of(that), ptr);
}

size_t vk_thread_heap_left(const struct vk_thread *that)
{
	return vk_heap_available(heap_of(that));
}

double vk_now(const struct vk_thread *that)
{
	return vk_proc_now(vk_task_proc(that));
}

int vk_draining(const struct vk_thread *that)
{
	return vk_task_proc(that)->sched->draining;
}
