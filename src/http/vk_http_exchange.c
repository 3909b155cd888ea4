#include "vk_http_exchange_s.h"

#include <string.h>

#include "vk_http_app_s.h"
#include "vk_http_url.h"

struct vk_http_exchange *vk_http_exchange_of(const struct vk_thread *that)
{
	struct vk_http_exchange *ex = that->arg;

	return ex && ex->magic == VK_HTTP_EXCHANGE_MAGIC ? ex : NULL;
}

void vk_http_exchange_init(struct vk_http_exchange *ex, struct vk_thread *conn,
			   const struct vk_http_server *server, struct vk_http_request *req)
{
	ex->server = server;
	ex->req = req;
	ex->conn = conn;
	ex->socket = conn->socket;
}

void vk_http_exchange_start(struct vk_http_exchange *ex)
{
	struct vk_http_request *req = ex->req;

	memset(&ex->route, 0,
	       offsetof(struct vk_http_exchange, out_left) -
		   offsetof(struct vk_http_exchange, route));
	ex->magic = VK_HTTP_EXCHANGE_MAGIC;
	ex->keep_alive = req->keep_alive;
	ex->out_left = -1;
	ex->path = vk_http_request_path(req, &ex->path_len);
	if (req->chunked) {
		ex->in = VK_HTTP_IN_CHUNKED;
		vk_http_chunked_init(&ex->chunked, &ex->server->limits);
	} else if (req->has_content_length && req->content_length) {
		ex->in = VK_HTTP_IN_LENGTH;
		ex->in_left = req->content_length;
	}
	ex->continue_owed = req->expect_continue && ex->in != VK_HTTP_IN_NONE;
}

/* The query in the target (NUL-terminated there), or NULL. */
static const char *query_of(const struct vk_http_exchange *ex)
{
	const struct vk_http_request *req = ex->req;
	const char *target = vk_http_request_target(req);

	if (ex->path >= target && ex->path < target + req->target_len)
		return ex->path[ex->path_len] == '?' ? ex->path + ex->path_len + 1 : NULL;
	/* "http://host?q" has no path in the target: "/" stands for it. */
	if (req->method == VK_HTTP_CONNECT)
		return NULL;
	target = memchr(target, '?', req->target_len);
	return target ? target + 1 : NULL;
}

int vk_http_exchange_bind(struct vk_http_exchange *ex, const struct vk_http_match *match)
{
	struct vk_http_request *req = ex->req;
	const char *query = query_of(ex);
	const char *path = ex->path;
	char *buf = req->buf;
	size_t used = req->used;
	size_t room = query ? ex->path_len + 1 : 0;

	ex->route = match->route;
	ex->query = query ? query : "";
	/* Most requests: no query, no parameter, and the path ends the target. */
	if (!query && !match->nparams)
		return 0;
	for (unsigned i = 0; i < match->nparams; i++)
		room += match->param_len[i] + 1u;
	if (room > req->cap - used)
		return -ENOSPC;
	if (query) {
		/* The path runs into the query in the target: a copy ends it. */
		memcpy(buf + used, path, ex->path_len);
		buf[used + ex->path_len] = '\0';
		ex->path = buf + used;
		used += ex->path_len + 1;
	}
	for (unsigned i = 0; i < match->nparams; i++) {
		ssize_t n = vk_http_unescape(path + match->param_off[i], match->param_len[i],
					     buf + used, req->cap - used, 0);

		if (n < 0)
			return -EINVAL;
		ex->param_off[i] = (uint16_t)used;
		used += (size_t)n + 1;
	}
	return 0;
}

ssize_t vk_http_exchange_await(struct vk_thread *that, struct vk_http_exchange *ex)
{
	size_t progress = that->op_done;
	ssize_t rc;

	that->op_done = ex->await_mark;
	rc = vk_socket_await_step(that, ex->socket);
	ex->await_mark = rc == -EAGAIN ? that->op_done : 0;
	that->op_done = progress;
	return rc;
}

void vk_http_exchange_begin_op(struct vk_http_exchange *ex)
{
	if (!ex)
		return;
	ex->phase = 0;
	ex->await_mark = 0;
}

int vk_http_exchange_in_head(const struct vk_http_exchange *ex, const char *p)
{
	return p >= ex->req->buf && p < ex->req->buf + ex->req->cap;
}

size_t vk_http_exchange_head_spare(const struct vk_http_exchange *ex)
{
	const struct vk_http_request *req = ex->req;
	size_t used = req->used;

	/* The path copied out of the target, when it had a query. */
	if (vk_http_exchange_in_head(ex, ex->path) && (size_t)(ex->path - req->buf) >= req->used)
		used = (size_t)(ex->path - req->buf) + ex->path_len + 1;
	/* The parameters: one left from an earlier request only costs room. */
	for (unsigned i = 0; i < VK_HTTP_MAX_PARAMS; i++) {
		size_t off = ex->param_off[i], end;

		if (off < req->used || off >= req->cap)
			continue;
		end = off + strnlen(req->buf + off, req->cap - off) + 1;
		if (end > used)
			used = end;
	}
	return used < req->cap ? used : req->cap;
}

void vk_http_exchange_end(struct vk_thread *that, struct vk_http_exchange *ex)
{
	if (ex->fields && !vk_http_exchange_in_head(ex, ex->fields))
		vk_free(ex->fields);
	ex->fields = NULL;
	ex->magic = 0;
}

enum vk_http_method vk_http_exchange_method(const struct vk_http_exchange *ex)
{
	return ex ? ex->req->method : VK_HTTP_OTHER;
}

const char *vk_http_exchange_path(const struct vk_http_exchange *ex)
{
	return ex ? ex->path : NULL;
}

const char *vk_http_exchange_query(const struct vk_http_exchange *ex)
{
	return ex ? ex->query : NULL;
}

const char *vk_http_exchange_param(const struct vk_http_exchange *ex, const char *name)
{
	int i;

	if (!ex || !ex->route)
		return NULL;
	i = vk_http_route_param(ex->route, name);
	return i < 0 ? NULL : ex->req->buf + ex->param_off[i];
}

const char *vk_http_exchange_header(const struct vk_http_exchange *ex, const char *name)
{
	return ex ? vk_http_header(ex->req, name) : NULL;
}

const struct vk_http_request *vk_http_exchange_head(const struct vk_http_exchange *ex)
{
	return ex ? ex->req : NULL;
}

int64_t vk_http_exchange_body_length(const struct vk_http_exchange *ex)
{
	if (!ex)
		return 0;
	switch (vk_http_request_body(ex->req)) {
	case VK_HTTP_BODY_LENGTH:
		return (int64_t)ex->req->content_length;
	case VK_HTTP_BODY_CHUNKED:
		return -1;
	default:
		return 0;
	}
}

void *vk_http_exchange_app_state(const struct vk_http_exchange *ex)
{
	return ex ? ex->server->app_state : NULL;
}

void *vk_http_exchange_route_state(const struct vk_http_exchange *ex)
{
	const struct vk_http_server *s = ex ? ex->server : NULL;

	if (!s || !s->route_state || !ex->route)
		return NULL;
	return s->route_state[ex->route - s->routes];
}
