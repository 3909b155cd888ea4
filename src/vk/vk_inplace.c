#include "vk_inplace.h"

#include <string.h>

#include "vk_task.h"

/* A task with room for a frame after it, not started. */
static struct vk_task *make_task(struct vk_proc *proc, uint16_t frame_size)
{
	size_t room = frame_size ? VK_HEAP_ALIGN - 1 + frame_size : 0;
	struct vk_task *task = vk_heap_calloc(&proc->heap, 1, sizeof(*task) + room);

	if (!task)
		return NULL;
	task->proc = proc;
	task->frame_size = frame_size;
	task->thread.status = VK_THREAD_DONE;
	return task;
}

int vk_inplace_init(struct vk_thread *that, struct vk_inplace *c, size_t frame_size)
{
	struct vk_task *task;

	if (frame_size > UINT16_MAX)
		return -EINVAL;
	c->frame_size = (uint16_t)frame_size;
	if (c->child)
		return 0;
	task = make_task(vk_task_proc(that), c->frame_size);
	if (!task)
		return -ENOMEM;
	c->child = &task->thread;
	return 0;
}

int vk_inplace_begin(struct vk_thread *that, struct vk_inplace *c, vk_func fn, void *arg,
		     int *error)
{
	struct vk_task *task;

	if (!c->child) {
		task = make_task(vk_task_proc(that), c->frame_size);
		if (!task)
			return -ENOMEM;
		c->child = &task->thread;
	}
	task = vk_task_of(c->child);
	/* A kept task has ended and is in no list: start it afresh. */
	memset(task, 0, sizeof(*task));
	task->frame_size = c->frame_size;
	task->func = fn;
	task->proc = vk_task_proc(that);
	task->thread.arg = arg;
	task->thread.socket = that->socket;
	task->thread.timeout_ms = that->timeout_ms;
	task->thread.status = VK_THREAD_RUNNING;
	fn(&task->thread);
	if (task->thread.status == VK_THREAD_DONE) {
		*error = task->thread.error;
		return 1;
	}
	/* As vk_call(): the end of the child wakes the caller and frees the task. */
	if (task->thread.status == VK_THREAD_YIELDED)
		vk_task_enqueue(task);
	task->waiter = vk_task_of(that);
	that->child_error = 0;
	c->child = NULL;
	return 0;
}

int vk_inplace_end(struct vk_thread *that, struct vk_inplace *c)
{
	(void)c;
	return that->child_error;
}
