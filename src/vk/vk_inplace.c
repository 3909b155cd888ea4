#include "vk_inplace.h"

#include <string.h>

#include "vk_task.h"

int vk_inplace_init(struct vk_thread *that, struct vk_inplace *c)
{
	struct vk_task *task;

	if (c->child)
		return 0;
	task = vk_task_create(vk_task_proc(that), NULL, NULL);
	if (!task)
		return -ENOMEM;
	task->thread.status = VK_THREAD_DONE;
	c->child = &task->thread;
	return 0;
}

int vk_inplace_begin(struct vk_thread *that, struct vk_inplace *c, vk_func fn, void *arg,
		     int *error)
{
	struct vk_task *task;

	if (vk_inplace_init(that, c) < 0)
		return -ENOMEM;
	task = vk_task_of(c->child);
	/* A kept task has ended and is in no list: start it afresh. */
	memset(task, 0, sizeof(*task));
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
