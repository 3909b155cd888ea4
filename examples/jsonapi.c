/*
 * jsonapi: a JSON API on vk_http(3), with jansson; bad input gets 400.
 *	GET  /hello/:name  {"hello":NAME}
 *	POST /sum          a JSON array of numbers (up to 4 KiB) in, {"sum":S,"count":N} out
 *	GET  /stats        {"pid":PID,"requests":N}, N counted in this worker
 */
#include <jansson.h>
#include <unistd.h>
#include "vk_http_app.h"

static json_int_t requests; /* each worker is a process: its own count */

struct answer {
	int status;
	size_t len;
	char json[512];
};

/* The answer for v (taken): 200 with it, `bad` without it, 500 when too long. */
static void answer(struct answer *a, json_t *v, int bad)
{
	a->len = v ? json_dumpb(v, a->json, sizeof(a->json), JSON_COMPACT) : 0;
	a->status = !v ? bad : a->len && a->len <= sizeof(a->json) ? 200 : 500;
	a->len = a->status == 200 ? a->len : 0;
	json_decref(v);
}

/* {"sum":S,"count":N} for a JSON array of numbers, or NULL. */
static json_t *total(const char *text, size_t len)
{
	json_t *in = json_loadb(text, len, 0, NULL), *v, *out;
	double sum = 0;
	int bad = !json_is_array(in);
	size_t i;

	json_array_foreach(in, i, v)
	{
		bad |= !json_is_number(v);
		sum += json_number_value(v);
	}
	out = bad ? NULL : json_pack("{s:f,s:I}", "sum", sum, "count", (json_int_t)i);
	json_decref(in);
	return out;
}

static void hello(struct vk_thread *that)
{
	struct answer *self;

	vk_begin();
	requests++;
	answer(self, json_pack("{s:s}", "hello", vk_http_param("name")), 400);
	vk_http_reply(self->status, "application/json", self->json, self->len);
	vk_end();
}

static void sum(struct vk_thread *that)
{
	struct {
		ssize_t n;
		char body[4096];
		struct answer a;
	} * self;

	vk_begin();
	requests++;
	vk_http_read_all(self->n, self->body, sizeof(self->body)); /* longer: 413 */
	answer(&self->a, total(self->body, (size_t)self->n), 400);
	vk_http_reply(self->a.status, "application/json", self->a.json, self->a.len);
	vk_end();
}

static void stats(struct vk_thread *that)
{
	struct answer *self;

	vk_begin();
	requests++;
	answer(self, json_pack("{s:i,s:I}", "pid", getpid(), "requests", requests), 500);
	vk_http_reply(self->status, "application/json", self->json, self->len);
	vk_end();
}

static const struct vk_http_route routes[] = {
    VK_HTTP_GET("/hello/:name", hello),
    VK_HTTP_POST("/sum", sum),
    VK_HTTP_GET("/stats", stats),
};

VK_HTTP_APP("jsonapi", routes, 64 * 1024);
