/*
 * vk_post: wake-ups from outside a dispatch.
 *
 * A libev callback (a name resolved, say) runs while every micro-heap may
 * be protected, so it may not touch a task. It fires a post instead: a
 * small object outside every heap that names its process. Firing queues
 * the process; its next dispatch wakes the task blocked on the post, as
 * the poller's events wake the tasks blocked on a ring.
 *
 * A post belongs to its process: it lives until destroyed, and at the
 * latest until the process ends. Whoever fires it (the other end) hooks
 * `cancel` to hear that it goes, so that it never fires a freed post.
 */
#ifndef VK_POST_H
#define VK_POST_H

#include "vk_internal.h"
#include "vk_list.h"
#include "vk_task.h"

struct vk_post {
	struct vk_proc *proc;
	struct vk_task *waiter;	    /* blocked on it (vk_task_block(task, &post->waiter)) */
	LIST_ENTRY(vk_post) link;   /* in the process's list of posts */
	struct vk_post *fired_next; /* in the process's list of fired posts */
	/* For the other end: its list of posts to fire, and its cleanup. */
	struct vk_post *owner_next;
	void *owner;
	void (*cancel)(struct vk_post *post);
	uint8_t fired;
};

/* A post of `proc`, not fired, nobody waiting. NULL with errno ENOMEM. */
struct vk_post *vk_post_create(struct vk_proc *proc);

/*
 * Tell the other end (cancel), forget any firing, free; a task still
 * blocked on it is woken with ECANCELED. NULL is ignored. In a dispatch.
 */
void vk_post_destroy(struct vk_post *post);

/*
 * `post` if it is one of `proc`'s posts, else NULL: for a pointer read
 * back from a micro-heap, which the app's code can write.
 */
struct vk_post *vk_post_owned(const struct vk_proc *proc, struct vk_post *post);

/* From anywhere, heaps closed: queue the process to wake the waiter. */
void vk_post_fire(struct vk_post *post);

/* In a dispatch, heap open: wake the waiters of the posts fired since the last. */
void vk_post_take(struct vk_proc *proc);

/* The process ends: free every post it has (its tasks are gone). */
void vk_post_destroy_all(struct vk_proc *proc);

#endif
