/*
 * vkd_query: the master's questions to its workers, vkctl ps and kill,
 * over each worker's channel (vkd_chan.h).
 *
 * The master never waits on a worker: a request is one non-blocking send
 * (a few dozen bytes, which a fresh socket always takes), answers are read
 * as they come in the master's poll loop, and a query ends when every
 * worker asked has answered, has died, or its deadline passed
 * (VKD_QUERY_TIMEOUT_MS), whichever comes first: a worker stuck in a long
 * dispatch is reported as not answering, and the rest is answered. Frames
 * of a query that ended already are dropped as they arrive.
 */
#ifndef VKD_QUERY_H
#define VKD_QUERY_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "vk_kern.h"
#include "vkd_chan.h"
#include "vkd_config.h"

/* How long workers have to answer, and how many processes a ps keeps. */
#define VKD_QUERY_TIMEOUT_MS 5000L
#define VKD_QUERY_RECORDS_MAX 200000

/* The master's end of one worker's channel. */
struct vkd_link {
	int fd; /* -1 when the worker is gone */
	struct vkd_chan_in in;
};

enum vkd_query_kind {
	VKD_QUERY_PS,
	VKD_QUERY_KILL,
};

enum vkd_part_state {
	VKD_PART_ASKED,	 /* waiting for its answer */
	VKD_PART_DONE,	 /* answered */
	VKD_PART_FAILED, /* gone, mute or confused: `failure` says */
};

/* One worker asked. */
struct vkd_query_part {
	struct vkd_link *link; /* NULL once it answered or failed */
	unsigned index;
	unsigned generation;
	pid_t pid;
	char **apps; /* its generation's app names, by index (copied) */
	size_t app_count;
	enum vkd_part_state state;
	const char *failure;
	struct vkd_chan_ps_end end; /* ps: how it went, from the worker */
	int kill_error;		    /* kill: 0, or ESRCH */
};

/* A process a ps found, with the part (worker) it came from. */
struct vkd_query_rec {
	size_t part;
	struct vk_proc_info info;
};

struct vkd_query {
	enum vkd_query_kind kind;
	uint32_t id;
	uint64_t kill_id; /* kill: the process */
	long deadline_ms;
	struct vkd_query_part *parts;
	size_t part_count;
	size_t left; /* parts still asked */
	struct vkd_query_rec *recs;
	size_t rec_count;
	size_t rec_size;
	int truncated; /* more than VKD_QUERY_RECORDS_MAX: the rest dropped */
	void *owner;   /* whoever waits for it (a control client); NULL: nobody */
	struct vkd_query *next;
};

/* The queries in flight. */
struct vkd_queries {
	struct vkd_query *list;
	uint32_t next_id;
};

/* A query with no part yet, due by `deadline_ms`. NULL (ENOMEM). */
struct vkd_query *vkd_query_new(struct vkd_queries *queries, enum vkd_query_kind kind,
				uint64_t kill_id, long deadline_ms);

/*
 * Ask the worker at the end of `link` (worker `index` of generation
 * `generation`, whose apps are `config`'s). A worker that cannot be asked
 * (gone, its socket full) becomes a failed part. 0, or -1 (ENOMEM).
 */
int vkd_query_ask(struct vkd_query *query, struct vkd_link *link, unsigned index,
		  unsigned generation, pid_t pid, const struct vkd_config *config);

/* Put a query whose parts were asked in flight. */
void vkd_queries_add(struct vkd_queries *queries, struct vkd_query *query);

/*
 * `link` is readable: take in its frames. Returns 0, or -1 when the
 * worker's end is closed or it spoke nonsense: the caller closes the link
 * with vkd_queries_link_gone().
 */
int vkd_queries_read(struct vkd_queries *queries, struct vkd_link *link);

/* The worker at `link` is gone: its parts fail; the link is closed. */
void vkd_queries_link_gone(struct vkd_queries *queries, struct vkd_link *link);

/* A query that is over (all in, or past its deadline), taken off the list; or NULL. */
struct vkd_query *vkd_queries_take_done(struct vkd_queries *queries, long now_ms);

/* Milliseconds until the next deadline (0 when one passed), or -1. */
long vkd_queries_timeout(const struct vkd_queries *queries, long now_ms);

/* The name of a record's app, "?" if out of range. */
const char *vkd_query_app(const struct vkd_query *query, const struct vkd_query_rec *rec);

void vkd_query_free(struct vkd_query *query);

/* Free every query in flight (at exit). */
void vkd_queries_free(struct vkd_queries *queries);

#endif
