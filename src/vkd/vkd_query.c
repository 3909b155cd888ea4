/*
 * vkd_query: the master's questions to its workers; see vkd_query.h.
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "vkd_query.h"

/* Bytes taken from one link per wake-up: the loop serves the rest meanwhile. */
#define QUERY_READ_MAX ((size_t)1 << 20)

struct vkd_query *vkd_query_new(struct vkd_queries *queries, enum vkd_query_kind kind,
				uint64_t kill_id, long deadline_ms)
{
	struct vkd_query *query = calloc(1, sizeof(*query));

	if (!query)
		return NULL;
	query->kind = kind;
	query->kill_id = kill_id;
	query->deadline_ms = deadline_ms;
	/* Never 0, so that a zeroed frame is nobody's. */
	query->id = ++queries->next_id ? queries->next_id : ++queries->next_id;
	return query;
}

static void part_end(struct vkd_query *query, struct vkd_query_part *part,
		     enum vkd_part_state state, const char *failure)
{
	if (part->state != VKD_PART_ASKED)
		return;
	part->state = state;
	part->failure = failure;
	part->link = NULL;
	query->left--;
}

static int copy_apps(struct vkd_query_part *part, const struct vkd_config *config)
{
	part->apps = calloc(config->app_count, sizeof(*part->apps));
	if (!part->apps)
		return -1;
	for (size_t i = 0; i < config->app_count; i++) {
		part->apps[i] = strdup(config->apps[i].name);
		if (!part->apps[i])
			return -1;
		part->app_count = i + 1;
	}
	return 0;
}

/* The request, in one non-blocking send: a fresh socket has room for it. */
static int send_request(const struct vkd_query *query, const struct vkd_link *link)
{
	struct vkd_chan_out out = {0};
	int rc;

	if (query->kind == VKD_QUERY_PS)
		rc = vkd_chan_put(&out, VKD_CHAN_PS, query->id, 0, NULL, 0);
	else
		rc = vkd_chan_put(&out, VKD_CHAN_KILL, query->id, 0, &query->kill_id,
				  sizeof(query->kill_id));
	if (rc == 0)
		rc = vkd_chan_flush(link->fd, &out) == 1 ? 0 : -1;
	vkd_chan_out_free(&out);
	return rc;
}

int vkd_query_ask(struct vkd_query *query, struct vkd_link *link, unsigned index,
		  unsigned generation, pid_t pid, const struct vkd_config *config)
{
	struct vkd_query_part *grown, *part;

	grown = realloc(query->parts, (query->part_count + 1) * sizeof(*grown));
	if (!grown)
		return -1;
	query->parts = grown;
	part = &grown[query->part_count++];
	memset(part, 0, sizeof(*part));
	part->index = index;
	part->generation = generation;
	part->pid = pid;
	part->state = VKD_PART_ASKED;
	part->link = link;
	query->left++;
	if (copy_apps(part, config) < 0)
		return -1;
	if (link->fd < 0)
		part_end(query, part, VKD_PART_FAILED, "not running");
	else if (send_request(query, link) < 0)
		part_end(query, part, VKD_PART_FAILED, "cannot be asked (its channel is full)");
	return 0;
}

void vkd_queries_add(struct vkd_queries *queries, struct vkd_query *query)
{
	query->next = queries->list;
	queries->list = query;
}

static int add_records(struct vkd_query *query, size_t part, const struct vk_proc_info *info,
		       size_t count)
{
	for (size_t i = 0; i < count; i++) {
		if (query->rec_count == VKD_QUERY_RECORDS_MAX) {
			query->truncated = 1;
			return 0;
		}
		if (query->rec_count == query->rec_size) {
			size_t size = query->rec_size ? query->rec_size * 2 : 1024;
			struct vkd_query_rec *grown = realloc(query->recs, size * sizeof(*grown));

			if (!grown)
				return -1;
			query->recs = grown;
			query->rec_size = size;
		}
		query->recs[query->rec_count].part = part;
		memcpy(&query->recs[query->rec_count++].info, &info[i], sizeof(info[i]));
	}
	return 0;
}

/* A frame from `link`, for the query it answers (dropped if that one is over). */
static void route(struct vkd_queries *queries, struct vkd_link *link,
		  const struct vkd_chan_head *head)
{
	const void *payload = head + 1;

	for (struct vkd_query *query = queries->list; query; query = query->next) {
		if (query->id != head->id)
			continue;
		for (size_t i = 0; i < query->part_count; i++) {
			struct vkd_query_part *part = &query->parts[i];

			if (part->link != link)
				continue;
			if (head->type == VKD_CHAN_PS_PART &&
			    add_records(query, i, payload,
					head->len / sizeof(struct vk_proc_info)) < 0)
				part_end(query, part, VKD_PART_FAILED, "out of memory");
			else if (head->type == VKD_CHAN_PS_END && head->len == sizeof(part->end)) {
				memcpy(&part->end, payload, sizeof(part->end));
				part_end(query, part, VKD_PART_DONE, NULL);
			} else if (head->type == VKD_CHAN_KILL_DONE) {
				part->kill_error = (int)head->arg;
				part_end(query, part, VKD_PART_DONE, NULL);
			}
			return;
		}
	}
}

int vkd_queries_read(struct vkd_queries *queries, struct vkd_link *link)
{
	const struct vkd_chan_head *head;
	long n = vkd_chan_read(link->fd, &link->in, QUERY_READ_MAX);
	int bad;

	while ((head = vkd_chan_frame(&link->in, &bad))) {
		route(queries, link, head);
		vkd_chan_consume(&link->in);
	}
	return n < 0 || bad ? -1 : 0;
}

void vkd_queries_link_gone(struct vkd_queries *queries, struct vkd_link *link)
{
	for (struct vkd_query *query = queries->list; query; query = query->next)
		for (size_t i = 0; i < query->part_count; i++)
			if (query->parts[i].link == link)
				part_end(query, &query->parts[i], VKD_PART_FAILED, "gone");
	if (link->fd >= 0)
		close(link->fd);
	link->fd = -1;
	vkd_chan_in_free(&link->in);
}

struct vkd_query *vkd_queries_take_done(struct vkd_queries *queries, long now_ms)
{
	for (struct vkd_query **p = &queries->list; *p; p = &(*p)->next) {
		struct vkd_query *query = *p;

		if (query->left && query->deadline_ms > now_ms)
			continue;
		*p = query->next;
		for (size_t i = 0; i < query->part_count; i++)
			part_end(query, &query->parts[i], VKD_PART_FAILED, "no answer in time");
		return query;
	}
	return NULL;
}

long vkd_queries_timeout(const struct vkd_queries *queries, long now_ms)
{
	long next = -1;

	for (const struct vkd_query *query = queries->list; query; query = query->next) {
		long left = query->left ? query->deadline_ms - now_ms : 0;

		if (left < 0)
			left = 0;
		if (next < 0 || left < next)
			next = left;
	}
	return next;
}

const char *vkd_query_app(const struct vkd_query *query, const struct vkd_query_rec *rec)
{
	const struct vkd_query_part *part = &query->parts[rec->part];

	return rec->info.app < part->app_count ? part->apps[rec->info.app] : "?";
}

void vkd_query_free(struct vkd_query *query)
{
	if (!query)
		return;
	for (size_t i = 0; i < query->part_count; i++) {
		for (size_t j = 0; j < query->parts[i].app_count; j++)
			free(query->parts[i].apps[j]);
		free(query->parts[i].apps);
	}
	free(query->parts);
	free(query->recs);
	free(query);
}

void vkd_queries_free(struct vkd_queries *queries)
{
	while (queries->list) {
		struct vkd_query *query = queries->list;

		queries->list = query->next;
		vkd_query_free(query);
	}
}
