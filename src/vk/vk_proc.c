#include "vk_proc.h"

#include "vk_kern.h"
#include "vk_poll.h"

double vk_proc_now(const struct vk_proc *proc)
{
	return ev_now(vk_kern_loop(proc->kern));
}

void vk_proc_enqueue(struct vk_proc *proc, struct vk_thread *thread)
{
	thread->status = VK_THREAD_RUNNABLE;
	thread->run_next = NULL;
	*proc->run_tail = thread;
	proc->run_tail = &thread->run_next;
}

static struct vk_thread *dequeue(struct vk_proc *proc)
{
	struct vk_thread *thread = proc->run_head;

	if (!thread)
		return NULL;
	proc->run_head = thread->run_next;
	if (!proc->run_head)
		proc->run_tail = &proc->run_head;
	return thread;
}

void vk_proc_time(struct vk_proc *proc, struct vk_thread *thread, double deadline)
{
	vk_proc_untime(thread);
	thread->deadline = deadline;
	thread->timed_next = proc->timed;
	if (proc->timed)
		proc->timed->timed_prev = &thread->timed_next;
	thread->timed_prev = &proc->timed;
	proc->timed = thread;
}

void vk_proc_untime(struct vk_thread *thread)
{
	if (!thread->timed_prev)
		return;
	*thread->timed_prev = thread->timed_next;
	if (thread->timed_next)
		thread->timed_next->timed_prev = thread->timed_prev;
	thread->timed_prev = NULL;
	thread->timed_next = NULL;
}

void vk_proc_expire(struct vk_proc *proc)
{
	double now = vk_proc_now(proc);
	struct vk_thread *thread = proc->timed;

	while (thread) {
		struct vk_thread *next = thread->timed_next;

		if (thread->deadline <= now)
			vk_thread_wake(thread, thread->sleeping ? 0 : ETIMEDOUT);
		thread = next;
	}
}

/*
 * Arm the timer for the earliest deadline. A later deadline than the one
 * armed costs nothing now: the timer fires early, finds nothing due and is
 * re-armed then. That keeps libev's timer heap out of the per-request path,
 * where every operation pushes its deadline a little further.
 */
void vk_proc_arm_timer(struct vk_proc *proc)
{
	struct ev_loop *loop = vk_kern_loop(proc->kern);
	double earliest = 0;

	for (struct vk_thread *t = proc->timed; t; t = t->timed_next) {
		if (earliest == 0 || t->deadline < earliest)
			earliest = t->deadline;
	}
	if (earliest == 0) {
		/* Nothing timed: a pending timer just finds nothing due. */
		return;
	}
	if (proc->timer_at != 0 && proc->timer_at <= earliest && ev_is_active(&proc->timer))
		return;
	ev_timer_stop(loop, &proc->timer);
	ev_timer_set(&proc->timer, earliest - ev_now(loop) + 0.0005, 0.);
	ev_timer_start(loop, &proc->timer);
	proc->timer_at = earliest;
}

void vk_proc_run(struct vk_proc *proc)
{
	struct vk_thread *thread;

	for (;;) {
		while ((thread = dequeue(proc))) {
			thread->status = VK_THREAD_RUNNING;
			thread->func(thread);
			if (thread->status == VK_THREAD_YIELDED)
				vk_proc_enqueue(proc, thread);
			if (proc->main->status == VK_THREAD_DONE)
				return;
		}
		/* Flushing may free ring space and wake a blocked writer. */
		vk_poll_flush_all(proc);
		if (!proc->run_head)
			return;
	}
}
