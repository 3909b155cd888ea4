/*
 * proxy: a TCP proxy (opt.mode = tcp) or an HTTP reverse proxy
 * (opt.mode = http, proxy_http.c) to one or more upstreams.
 *
 * Each client connection goes to the next upstream, round-robin per
 * worker; when a connect fails (refused, unreachable, timed out, a name
 * that does not resolve) the next upstream is tried, and when none
 * answers the client's connection is closed, with one log line. Then the
 * two connections are joined (vk_forward()): bytes go both ways, an end
 * of stream on one side is passed on as a half-close of the other, and
 * the app's idle_timeout (a vkd key) is one idle timeout for the pair.
 *
 * Options ([app NAME] keys):
 *	opt.upstream = ADDRESS ...   required: one or more addresses as vkd.ini
 *	                             writes them (127.0.0.1:6379, [::1]:80,
 *	                             unix:/run/x.sock, a host name and a port),
 *	                             separated by blanks or commas
 *	opt.connect_timeout = 5s     bound on each connect, name lookup included
 *	opt.buffer = 16k             each ring of the upstream connection
 *	opt.mode = tcp               tcp, or http: a reverse proxy (proxy_http.c)
 * HTTP mode only (and the HTTP library's opt.max_head ..., vk_http(3);
 * opt.max_head also bounds an upstream answer's head; opt.max_body is
 * unlimited unless set):
 *	opt.read_timeout = 60s       an upstream silent that long: 504
 *	opt.keepalive = 32           idle upstream connections kept per
 *	                             address, per worker (0: none)
 *	opt.keepalive_timeout = 60s  ... each for at most this long
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "proxy.h"

#define PROXY_CONNECT_TIMEOUT_DEFAULT 5000
#define PROXY_READ_TIMEOUT_DEFAULT 60000
#define PROXY_KEEPALIVE_DEFAULT 32
#define PROXY_KEEPALIVE_TIMEOUT_DEFAULT 60000
#define PROXY_BUFFER_DEFAULT (16 * 1024)
/* opt.max_head as the HTTP library takes it (vk_http_app.h): its default and bounds. */
#define PROXY_MAX_HEAD_DEFAULT (16 * 1024)
#define PROXY_MAX_HEAD_MIN 256
#define PROXY_MAX_HEAD_MAX (64 * 1024)
/* A failing upstream is logged at most this often per worker. */
#define PROXY_LOG_EVERY_S 1.0

static int option_duration(const struct vk_app_context *context, const char *key, uint32_t *out)
{
	const char *text = context->option(context, key);
	unsigned ms;

	if (!text)
		return 0;
	if (vk_parse_duration_ms(text, &ms) < 0 || ms == 0) {
		fprintf(stderr, "proxy: app %s: opt.%s: expected a time such as 5s, got '%s'\n",
			context->name, key, text);
		vk_app_refuse(context, key);
		return -1;
	}
	*out = ms;
	return 0;
}

static int option_size(const struct vk_app_context *context, const char *key, size_t min,
		       size_t max, size_t *out)
{
	const char *text = context->option(context, key);
	size_t size;

	if (!text)
		return 0;
	if (vk_parse_size(text, &size) < 0 || size < min || size > max) {
		fprintf(stderr,
			"proxy: app %s: opt.%s: expected a size from %zu to %zu, got '%s'\n",
			context->name, key, min, max, text);
		vk_app_refuse(context, key);
		return -1;
	}
	*out = size;
	return 0;
}

static int option_count(const struct vk_app_context *context, const char *key, unsigned *out)
{
	const char *text = context->option(context, key);
	char *end;
	unsigned long n;

	if (!text)
		return 0;
	n = strtoul(text, &end, 10);
	if (end == text || *end || n > 100000) {
		fprintf(stderr, "proxy: app %s: opt.%s: expected a count, got '%s'\n",
			context->name, key, text);
		vk_app_refuse(context, key);
		return -1;
	}
	*out = (unsigned)n;
	return 0;
}

static int parse_mode(const struct vk_app_context *context, struct proxy_config *config)
{
	const char *text = context->option(context, "mode");

	if (!text || strcmp(text, "tcp") == 0) {
		config->mode = PROXY_TCP;
	} else if (strcmp(text, "http") == 0) {
		config->mode = PROXY_HTTP;
	} else {
		fprintf(stderr, "proxy: app %s: opt.mode: expected tcp or http, got '%s'\n",
			context->name, text);
		vk_app_refuse(context, "mode");
		return -1;
	}
	return 0;
}

/* opt.upstream: addresses separated by blanks or commas. */
static int parse_upstreams(const struct vk_app_context *context, struct proxy_config *config)
{
	const char *text = context->option(context, "upstream");
	const char *at = text;

	if (!text) {
		fprintf(stderr, "proxy: app %s: opt.upstream is required\n", context->name);
		return -1;
	}
	for (;;) {
		char one[VK_ADDR_TEXT_SIZE + 8];
		const char *why = NULL;
		size_t n;

		at += strspn(at, " \t,");
		if (!*at)
			break;
		n = strcspn(at, " \t,");
		if (config->count == PROXY_UPSTREAMS_MAX || n >= sizeof(one)) {
			fprintf(stderr, "proxy: app %s: opt.upstream: %s\n", context->name,
				n >= sizeof(one) ? "an address is too long" : "too many addresses");
			return -1;
		}
		memcpy(one, at, n);
		one[n] = '\0';
		if (vk_addr_parse(one, VK_ADDR_NAME, &config->upstreams[config->count].addr, &why) <
		    0) {
			fprintf(stderr, "proxy: app %s: opt.upstream: '%s': %s\n", context->name,
				one, why);
			return -1;
		}
		config->count++;
		at += n;
	}
	if (!config->count) {
		fprintf(stderr, "proxy: app %s: opt.upstream names no address\n", context->name);
		return -1;
	}
	return 0;
}

/* " (the default)" when opt.KEY is not set, so that a refusal says which value it was. */
static const char *default_note(const struct vk_app_context *context, const char *key)
{
	return context->option(context, key) ? "" : " (the default)";
}

/* parse_upstreams(), naming opt.upstream to vkd when it fails: 1 then, else 0. */
static int upstreams_bad(const struct vk_app_context *context, struct proxy_config *config)
{
	if (parse_upstreams(context, config) == 0)
		return 0;
	vk_app_refuse(context, "upstream");
	return 1;
}

/*
 * opt.buffer (and in HTTP mode opt.max_head), set or their defaults,
 * against each connection's heap (ABI 2.13): the upstream socket's two
 * rings, and an upstream answer's head of max_head beside them, must fit
 * in what the client's rings leave, or every client would fail that
 * allocation at run time. 0, or -1 with a line naming them.
 */
static int heap_check(const struct vk_app_context *context, const struct proxy_config *config)
{
	int http = config->mode == PROXY_HTTP;
	size_t need = 2 * config->buffer + (http ? config->max_head : 0);
	char head[64] = "";

	if (!context->heap_size || need <= context->heap_room)
		return 0;
	if (http)
		snprintf(head, sizeof(head), " and opt.max_head = %zu%s", config->max_head,
			 default_note(context, "max_head"));
	fprintf(stderr,
		"proxy: app %s: opt.buffer = %zu%s%s: %s take %zu bytes of each connection's "
		"heap, which has %zu (heap %zu less the client's rings of %zu and 8k): raise "
		"heap to %zu or set them lower\n",
		context->name, config->buffer, default_note(context, "buffer"), head,
		http ? "two rings and an answer's head" : "the upstream's two rings", need,
		context->heap_room, context->heap_size, context->ring_size,
		context->heap_size - context->heap_room + need);
	/* The line to blame: opt.buffer's, else a set opt.max_head's, else the app's. */
	vk_app_refuse(context, http && !context->option(context, "buffer") ? "max_head" : "buffer");
	return -1;
}

static void *proxy_init(const struct vk_app_context *context, int *error)
{
	struct proxy_config *config = calloc(1, sizeof(*config));

	if (!config) {
		*error = ENOMEM;
		return NULL;
	}
	config->name = context->name;
	config->connect_timeout_ms = PROXY_CONNECT_TIMEOUT_DEFAULT;
	config->buffer = PROXY_BUFFER_DEFAULT;
	config->read_timeout_ms = PROXY_READ_TIMEOUT_DEFAULT;
	config->keepalive = PROXY_KEEPALIVE_DEFAULT;
	config->keepalive_timeout_ms = PROXY_KEEPALIVE_TIMEOUT_DEFAULT;
	config->max_head = PROXY_MAX_HEAD_DEFAULT;
	if (parse_mode(context, config) < 0 || upstreams_bad(context, config) ||
	    option_duration(context, "connect_timeout", &config->connect_timeout_ms) < 0 ||
	    option_duration(context, "read_timeout", &config->read_timeout_ms) < 0 ||
	    option_duration(context, "keepalive_timeout", &config->keepalive_timeout_ms) < 0 ||
	    option_count(context, "keepalive", &config->keepalive) < 0 ||
	    option_size(context, "buffer", 1024, 16 * 1024 * 1024, &config->buffer) < 0 ||
	    option_size(context, "max_head", PROXY_MAX_HEAD_MIN, PROXY_MAX_HEAD_MAX,
			&config->max_head) < 0 ||
	    heap_check(context, config) < 0 ||
	    (config->mode == PROXY_HTTP && proxy_http_start(config, context) < 0)) {
		free(config);
		*error = EINVAL;
		return NULL;
	}
	/* Workers start their rotation at different places. */
	config->next = (unsigned)getpid();
	return config;
}

static void proxy_fini(void *state)
{
	struct proxy_config *config = state;

	if (config->http)
		vk_http_app_stop(config->http);
	free(config);
}

struct upstream *proxy_pick(struct proxy_config *config, unsigned first, unsigned tried)
{
	return &config->upstreams[(first + tried) % config->count];
}

/* One line per upstream per PROXY_LOG_EVERY_S, with what was left out. */
void proxy_log_failure(struct proxy_config *config, struct upstream *up, int error, double now)
{
	up->failures++;
	if (up->logged_at && now - up->logged_at < PROXY_LOG_EVERY_S)
		return;
	if (up->failures > 1)
		fprintf(stderr, "proxy: app %s: upstream %s: %s (%u failures)\n", config->name,
			up->addr.text, strerror(error), up->failures);
	else
		fprintf(stderr, "proxy: app %s: upstream %s: %s\n", config->name, up->addr.text,
			strerror(error));
	up->logged_at = now;
	up->failures = 0;
}

static void proxy_tcp(struct vk_thread *that)
{
	struct {
		struct proxy_config *config;
		struct vk_socket *up;
		struct upstream *target;
		unsigned first;
		unsigned tried;
		ssize_t rc;
	} * self;

	vk_begin();
	self->config = vk_arg();
	self->up = vk_socket_create(that, self->config->buffer);
	if (!self->up)
		vk_raise(ENOMEM);
	vk_set_connect_timeout(self->config->connect_timeout_ms);
	self->first = self->config->next++;
	for (self->tried = 0; self->tried < self->config->count; self->tried++) {
		/* In self: C locals do not survive the connect's waits. */
		self->target = proxy_pick(self->config, self->first, self->tried);
		vk_try_connect_addr(self->rc, self->up, &self->target->addr);
		if (self->rc == 0)
			break;
		proxy_log_failure(self->config, self->target, (int)-self->rc, vk_now(that));
	}
	if (self->rc < 0) {
		fprintf(stderr, "proxy: app %s: no upstream answered; closing the client\n",
			self->config->name);
		vk_return();
	}
	vk_forward(that->socket, self->up);
	vk_finally();
	/* Resets and timeouts end the pair; the client sees its connection end. */
	vk_clear_error();
	vk_end();
}

/* Each connection: the TCP proxy, or the HTTP library serving proxy_http.c's handler. */
static void proxy_main(struct vk_thread *that)
{
	struct {
		struct proxy_config *config;
	} * self;

	vk_begin();
	self->config = vk_arg();
	if (self->config->mode == PROXY_HTTP)
		vk_call(vk_http_serve, self->config->http);
	else
		vk_call(proxy_tcp, self->config);
	vk_end();
}

/*
 * An HTTP request holds two 16 KiB rings to its upstream, ~5 KiB of state,
 * a 16 KiB buffer and up to opt.max_head for the answer's head.
 */
VK_APP_FULL("proxy", proxy_main, 256 * 1024, proxy_init, proxy_fini);
