#include "vk_http_app_s.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vk_http_mount.h"
#include "vk_log.h"
#include "vk_parse.h"

#define HEAD_DEFAULT 16384
#define HEADER_TIMEOUT_DEFAULT 30000
/* The smallest max_head: the head buffer in the connection's page (vk_http_conn.c). */
#define HEAD_MIN 256

/*
 * opt.KEY, when set, as a size ("16k") or a duration in milliseconds
 * ("30s"), in min..max: the grammar of every other value in vkd.ini.
 */
static int option_number(const struct vk_app_context *context, const char *key, int duration,
			 uint64_t min, uint64_t max, uint64_t *value)
{
	const char *text = context->option(context, key);
	uint64_t parsed;
	size_t size;
	unsigned ms;
	int rc;

	if (!text)
		return 0;
	if (duration) {
		rc = vk_parse_duration_ms(text, &ms);
		parsed = ms;
	} else {
		rc = vk_parse_size(text, &size);
		parsed = size;
	}
	if (rc < 0 || parsed < min || parsed > max) {
		fprintf(stderr, "http: app %s: opt.%s: expected %s from %llu to %llu, got '%s'\n",
			context->name, key, duration ? "a time (ms)" : "a number",
			(unsigned long long)min, (unsigned long long)max, text);
		vk_app_refuse(context, key);
		return -1;
	}
	*value = parsed;
	return 0;
}

/*
 * opt.max_head, set or its default, against each connection's heap (as
 * vkd offered it, vk_http_mount.h): a head past the connection's own small
 * buffer goes on in max_head bytes of the heap (vk_http_conn.c), which the
 * rings must leave free. A default that does not fit is refused too:
 * otherwise every head past that buffer would fail at run time.
 */
static int heap_check(const struct vk_app_context *context, uint64_t max_head)
{
	const struct vk_http_mounts *heap = vk_http_mounts_app(context->name);

	if (!heap || !heap->heap_size || max_head <= heap->heap_room)
		return 0;
	fprintf(stderr,
		"http: app %s: opt.max_head: a head of %llu bytes%s does not fit each "
		"connection's heap, which has %zu (heap %zu less two rings of %zu and 8k): "
		"raise heap to %zu or set opt.max_head lower\n",
		context->name, (unsigned long long)max_head,
		context->option(context, "max_head") ? "" : " (the default)", heap->heap_room,
		heap->heap_size, heap->ring_size,
		heap->heap_size - heap->heap_room + (size_t)max_head);
	vk_app_refuse(context, "max_head");
	return -1;
}

static int read_options(struct vk_http_server *s, const struct vk_app_context *context)
{
	uint64_t max_line = s->limits.max_line, max_headers = s->limits.max_headers;
	uint64_t max_body = s->limits.max_body, max_head = HEAD_DEFAULT;
	uint64_t header_timeout = HEADER_TIMEOUT_DEFAULT;

	if (option_number(context, "max_line", 0, 64, VK_HTTP_MAX_HEAD, &max_line) ||
	    option_number(context, "max_headers", 0, 1, VK_HTTP_MAX_FIELDS, &max_headers) ||
	    option_number(context, "max_head", 0, HEAD_MIN, VK_HTTP_MAX_HEAD, &max_head) ||
	    option_number(context, "max_body", 0, 0, UINT64_MAX, &max_body) ||
	    option_number(context, "header_timeout", 1, 1, UINT32_MAX, &header_timeout))
		return -1;
	if (heap_check(context, max_head) < 0)
		return -1;
	s->limits.max_line = max_line;
	s->limits.max_headers = max_headers;
	s->limits.max_body = max_body;
	s->max_head = max_head;
	s->header_timeout_ms = (uint32_t)header_timeout;
	return 0;
}

/* The module was built against the same HTTP library, with good routes. */
static int check_app(const struct vk_http_app *app, const char *name)
{
	char why[256];

	if (app->magic != VK_HTTP_APP_MAGIC || app->app_size != sizeof(struct vk_http_app) ||
	    app->route_size != sizeof(struct vk_http_route)) {
		fprintf(stderr,
			"http: app %s: built against another vk_http_app.h (struct sizes: app %u, "
			"route %u; this vkd: %zu, %zu)\n",
			name, app->app_size, app->route_size, sizeof(struct vk_http_app),
			sizeof(struct vk_http_route));
		return -1;
	}
	if (vk_http_route_check(app->routes, app->nroutes, why, sizeof(why)) < 0) {
		fprintf(stderr, "http: app %s: %s\n", name, why);
		return -1;
	}
	return 0;
}

/* A mounted static directory sees the app's options, but for opt.root: its own. */
struct mount_context {
	struct vk_app_context context;
	const struct vk_app_context *app;
	const char *root;
};

static const char *mount_option(const struct vk_app_context *context, const char *key)
{
	const struct mount_context *m = (const struct mount_context *)context;

	if (strcmp(key, "root") == 0)
		return m->root;
	return m->app->option(m->app, key);
}

/* Route i of the table: line i, its handler found or its directory opened. */
static int mount_one(struct vk_http_server *s, struct vk_http_route *r, size_t i,
		     const struct vk_http_mounts *mounts, const struct vk_app_context *context)
{
	const struct vk_http_mount *m = &mounts->mounts[i];
	/* The rest (the heap, ABI 2.13) as the app was told. */
	struct mount_context mc = {*context, context, m->target};
	char why[512], name[128];
	int error = 0;

	r->methods = m->methods;
	r->pattern = m->pattern;
	if (!m->is_static) {
		if (vk_http_mount_export(mounts->module, m->target, &r->handler, why,
					 sizeof(why)) == 0)
			return 0;
		fprintf(stderr, "http: app %s: route at line %d: %s\n", s->name, m->line, why);
		return EINVAL;
	}
	snprintf(name, sizeof(name), "%s (route at line %d)", s->name, m->line);
	mc.context.name = name;
	mc.context.option = mount_option;
	mc.context.opaque = NULL;
	r->handler = vk_http_static;
	s->route_state[i] = vk_http_static_init(&mc.context, &error);
	return s->route_state[i] ? 0 : error ? error : EINVAL;
}

/*
 * The table when vkd.ini mounts routes: those first, in the file's order,
 * then the app's own. Without mounts the app's table is used as it is.
 */
static int build_routes(struct vk_http_server *s, const struct vk_app_context *context)
{
	const struct vk_http_mounts *mounts = vk_http_mounts_find(context->name);
	const struct vk_http_app *app = s->app;
	struct vk_http_route *routes;
	int error;

	s->routes = app->routes;
	s->nroutes = app->nroutes;
	if (!mounts)
		return 0;
	routes = calloc(mounts->count + app->nroutes, sizeof(*routes));
	s->route_state = calloc(mounts->count + app->nroutes, sizeof(*s->route_state));
	if (!routes || !s->route_state) {
		free(routes);
		return ENOMEM;
	}
	memcpy(routes + mounts->count, app->routes, app->nroutes * sizeof(*routes));
	s->routes = routes;
	s->nroutes = mounts->count + app->nroutes;
	for (size_t i = 0; i < mounts->count; i++) {
		error = mount_one(s, &routes[i], i, mounts, context);
		if (error)
			return error;
	}
	return 0;
}

void *vk_http_app_start(const struct vk_http_app *app, const struct vk_app_context *context,
			int *error)
{
	struct vk_http_server *s;

	if (check_app(app, context->name) < 0) {
		*error = EINVAL;
		return NULL;
	}
	s = calloc(1, sizeof(*s));
	if (s)
		s->name = strdup(context->name);
	if (!s || !s->name) {
		free(s);
		*error = ENOMEM;
		return NULL;
	}
	s->app = app;
	s->limits = vk_http_limits_default;
	s->access_log = vk_access_find(context->name);
	if (read_options(s, context) < 0) {
		*error = EINVAL;
		vk_http_app_stop(s);
		return NULL;
	}
	*error = build_routes(s, context);
	if (*error) {
		vk_http_app_stop(s);
		return NULL;
	}
	if (app->init) {
		*error = 0;
		s->app_state = app->init(context, error);
		if (*error) {
			vk_http_app_stop(s);
			return NULL;
		}
		s->app_started = 1;
	}
	return s;
}

void vk_http_app_stop(void *server)
{
	struct vk_http_server *s = server;

	if (!s)
		return;
	if (s->app_started && s->app->fini)
		s->app->fini(s->app_state);
	for (size_t i = 0; s->route_state && i < s->nroutes; i++)
		vk_http_static_fini(s->route_state[i]);
	free(s->route_state);
	if (s->routes != s->app->routes)
		free((void *)s->routes);
	free((char *)s->name);
	free(s);
}
