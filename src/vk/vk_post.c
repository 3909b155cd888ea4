#include "vk_post.h"

#include <errno.h>
#include <stdlib.h>

struct vk_post *vk_post_create(struct vk_proc *proc)
{
	struct vk_proc_extra *extra = vk_proc_extra(proc);
	struct vk_post *post = extra ? calloc(1, sizeof(*post)) : NULL;

	if (!post)
		return NULL;
	post->proc = proc;
	LIST_INSERT_HEAD(&extra->posts, post, link);
	return post;
}

static void unfire(struct vk_post *post)
{
	struct vk_post **link = &post->proc->extra->fired;

	if (!post->fired)
		return;
	while (*link && *link != post)
		link = &(*link)->fired_next;
	if (*link)
		*link = post->fired_next;
	post->fired = 0;
	post->fired_next = NULL;
}

static void post_free(struct vk_post *post)
{
	if (post->cancel)
		post->cancel(post);
	unfire(post);
	LIST_REMOVE(post, link);
	free(post);
}

void vk_post_destroy(struct vk_post *post)
{
	if (!post)
		return;
	/* Nobody may stay blocked on a freed post. */
	if (post->waiter)
		vk_task_wake(post->waiter, ECANCELED);
	post_free(post);
}

struct vk_post *vk_post_owned(const struct vk_proc *proc, struct vk_post *post)
{
	struct vk_post *p;

	if (!proc->extra)
		return NULL;
	LIST_FOREACH (p, &proc->extra->posts, link) {
		if (p == post)
			return post;
	}
	return NULL;
}

void vk_post_fire(struct vk_post *post)
{
	struct vk_proc *proc = post->proc;

	if (post->fired)
		return;
	post->fired = 1;
	post->fired_next = proc->extra->fired;
	proc->extra->fired = post;
	vk_proc_schedule(proc);
}

void vk_post_take(struct vk_proc *proc)
{
	struct vk_post *post;

	if (!proc->extra)
		return;
	post = proc->extra->fired;
	proc->extra->fired = NULL;
	while (post) {
		struct vk_post *next = post->fired_next;

		post->fired = 0;
		post->fired_next = NULL;
		if (post->waiter)
			vk_task_wake(post->waiter, 0);
		post = next;
	}
}

void vk_post_destroy_all(struct vk_proc *proc)
{
	/* The tasks go with the heap: only the other ends are told. */
	if (!proc->extra)
		return;
	while (!LIST_EMPTY(&proc->extra->posts))
		post_free(LIST_FIRST(&proc->extra->posts));
	proc->extra->fired = NULL;
}
