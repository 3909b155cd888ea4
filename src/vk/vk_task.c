#include "vk_task.h"

#include <errno.h>
#include <math.h>

struct vk_task *vk_task_create(struct vk_proc *proc, vk_func fn, void *arg)
{
	struct vk_task *task = vk_heap_calloc(&proc->heap, 1, sizeof(*task));

	if (!task)
		return NULL;
	task->func = fn;
	task->proc = proc;
	task->thread.arg = arg;
	return task;
}

void vk_task_release(struct vk_task *task)
{
	vk_heap_free(&task->proc->heap, task);
}

void vk_task_enqueue(struct vk_task *task)
{
	struct vk_proc *proc = task->proc;

	task->thread.status = VK_THREAD_RUNNABLE;
	if (proc->run_last) {
		task->run_next = proc->run_last->run_next;
		proc->run_last->run_next = task;
	} else {
		task->run_next = task;
	}
	proc->run_last = task;
}

static struct vk_task *dequeue(struct vk_proc *proc)
{
	struct vk_task *last = proc->run_last, *task;

	if (!last)
		return NULL;
	task = last->run_next;
	if (task == last)
		proc->run_last = NULL;
	else
		last->run_next = task->run_next;
	task->run_next = NULL;
	return task;
}

void vk_task_run_queue(struct vk_proc *proc)
{
	struct vk_task *task;

	while ((task = dequeue(proc))) {
		task->thread.status = VK_THREAD_RUNNING;
		task->func(&task->thread);
		if (task->thread.status == VK_THREAD_YIELDED)
			vk_task_enqueue(task);
		if (proc->main->thread.status == VK_THREAD_DONE)
			return;
	}
}

/* Take a task out of the waiter list it is in, if any. */
static void unlink_waiter(struct vk_task *task)
{
	struct vk_task **link = task->wait_slot;

	if (!link)
		return;
	while (*link && *link != task)
		link = &(*link)->wait_next;
	if (*link)
		*link = task->wait_next;
	task->wait_slot = NULL;
	task->wait_next = NULL;
}

/* Take a task out of the senders queue of the one it sends to. */
static void unlink_sender(struct vk_task *task)
{
	struct vk_task *to = task->sending_to;
	struct vk_task **link = &to->senders_head;

	while (*link && *link != task)
		link = &(*link)->send_next;
	if (*link) {
		*link = task->send_next;
		if (to->senders_tail == &task->send_next)
			to->senders_tail = link;
	}
	task->sending_to = NULL;
	task->send_next = NULL;
}

/* Take a requester out of the list of the responder that took its message. */
static void unlink_requester(struct vk_task *task)
{
	struct vk_task **link = &task->request_to->requesters;

	while (*link && *link != task)
		link = &(*link)->request_next;
	if (*link)
		*link = task->request_next;
	task->request_next = NULL;
}

void vk_task_await_reply(struct vk_task *requester, struct vk_task *responder)
{
	requester->request_next = responder->requesters;
	responder->requesters = requester;
}

void vk_task_end_messages(struct vk_task *task)
{
	while (task->senders_head) {
		struct vk_task *sender = task->senders_head;

		vk_task_wake(sender, EPIPE);
		/* A sender that was not blocked is not unlinked by the wake. */
		if (sender->sending_to == task)
			unlink_sender(sender);
	}
	while (task->requesters) {
		struct vk_task *requester = task->requesters;

		vk_task_wake(requester, EPIPE);
		if (task->requesters == requester) {
			task->requesters = requester->request_next;
			requester->request_next = NULL;
		}
	}
}

void vk_task_block(struct vk_task *task, struct vk_task **slot, int what)
{
	uint32_t ms = task->thread.timeout_ms;

	vk_task_waits_for(task, what);
	if (slot) {
		/*
		 * Queue behind the waiters already there: coroutines sharing a
		 * socket (a child inherits its parent's) may wait on one ring
		 * together, and each must be woken in turn, none forgotten.
		 */
		struct vk_task **link = slot;

		unlink_waiter(task);
		while (*link)
			link = &(*link)->wait_next;
		*link = task;
		task->wait_slot = slot;
	}
	/* Between messages on a served connection, a drain leaves a short grace. */
	if (task->idle_wait && task->proc->sched->draining && (ms == 0 || ms > VK_DRAIN_IDLE_MS))
		ms = VK_DRAIN_IDLE_MS;
	if (ms)
		vk_task_time(task, vk_proc_now(task->proc) + ms / 1000.0);
	else if (task->proc->config->idle_timeout_ms)
		/* No deadline of its own, but an idle process ends every wait. */
		vk_task_time(task, HUGE_VAL);
}

void vk_task_block_until(struct vk_task *task, struct vk_task **slot, int what, double deadline)
{
	vk_task_block(task, slot, what);
	if (!deadline) {
		/* Not the coroutine's timeout: the operation's, which is none. */
		vk_task_untime(task);
		if (task->proc->config->idle_timeout_ms)
			vk_task_time(task, HUGE_VAL);
		return;
	}
	vk_task_time(task, deadline);
	/* Woken at the deadline like a sleeper: with no error to raise. */
	task->sleeping = 1;
}

void vk_task_wake(struct vk_task *task, int error)
{
	if (task->thread.status != VK_THREAD_BLOCKED)
		return;
	unlink_waiter(task);
	if (task->sending_to)
		unlink_sender(task);
	task->receiving = 0;
	task->sleeping = 0;
	/* Whatever woke it, it waits for no response any more. */
	if (task->awaiting_reply)
		unlink_requester(task);
	task->awaiting_reply = 0;
	vk_task_untime(task);
	task->thread.wake_error = error;
	vk_task_enqueue(task);
}

void vk_task_time(struct vk_task *task, double deadline)
{
	struct vk_proc *proc = task->proc;

	vk_task_untime(task);
	task->deadline = deadline;
	LIST_INSERT_HEAD(&proc->timed, task, timed);
}

void vk_task_untime(struct vk_task *task)
{
	vk_list_unlink(task, timed);
}

/* The task with the earliest deadline at or before `now`, or NULL. */
static struct vk_task *earliest_due(const struct vk_proc *proc, double now)
{
	struct vk_task *found = NULL;
	struct vk_task *task;

	LIST_FOREACH (task, &proc->timed, timed) {
		if (task->deadline <= now && (!found || task->deadline < found->deadline))
			found = task;
	}
	return found;
}

void vk_task_expire_all(struct vk_proc *proc)
{
	struct vk_task *task;

	while ((task = LIST_FIRST(&proc->timed))) {
		task->sleeping = 0;
		vk_task_wake(task, ETIMEDOUT);
		vk_task_untime(task);
	}
}

void vk_task_expire(struct vk_proc *proc)
{
	double now = vk_proc_now(proc);
	struct vk_task *task;

	/*
	 * In deadline order: when the loop comes back late, several deadlines
	 * are due at once, and a 10 ms sleep must still wake before a 20 ms
	 * one (test_sleep_order failed so under load). Each turn takes one
	 * task off the list, so this ends.
	 */
	while ((task = earliest_due(proc, now))) {
		/* Only a blocked task waits for its deadline; any other just leaves the list. */
		if (task->thread.status != VK_THREAD_BLOCKED) {
			vk_task_untime(task);
			continue;
		}
		vk_task_wake(task, task->sleeping ? 0 : ETIMEDOUT);
	}
}

double vk_task_earliest(const struct vk_proc *proc)
{
	double earliest = 0;
	const struct vk_task *task;

	LIST_FOREACH (task, &proc->timed, timed) {
		if (task->deadline != HUGE_VAL && (earliest == 0 || task->deadline < earliest))
			earliest = task->deadline;
	}
	return earliest;
}

void vk_task_wake_idle(struct vk_task *list)
{
	while (list) {
		struct vk_task *next = list->wait_next;

		if (list->idle_wait)
			vk_task_wake(list, 0);
		list = next;
	}
}
