/*
 * relay: an HTTP handler that makes an outbound HTTP call and relays the
 * answer. GET /relay/PATH?QUERY asks opt.upstream (an address,
 * "127.0.0.1:8080") for GET /PATH?QUERY over a keep-alive connection from the worker's pool and
 * answers with the upstream's status, Content-Type and body (at most 8
 * KiB, framed by Content-Length); 502 when the upstream cannot be reached
 * or answers something else.
 *
 *	[app relay]
 *	module = /path/to/relay.so
 *	listen = 127.0.0.1:8090
 *	opt.upstream = 127.0.0.1:8080
 *
 * The outbound socket's two rings come out of the connection's heap, next
 * to the connection's own: init refuses a heap without room for them, so
 * that vkd -t says so rather than every request failing with ENOMEM.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <vk_http_app.h>

struct relay_conf {
	struct vk_addr upstream;
};

static void *relay_init(const struct vk_app_context *context, int *error)
{
	const char *text = context->option(context, "upstream");
	const char *why = "missing";
	struct relay_conf *conf;

	conf = calloc(1, sizeof(*conf));
	if (!conf) {
		*error = ENOMEM;
		return NULL;
	}
	if (!text || vk_addr_parse(text, VK_ADDR_NAME, &conf->upstream, &why) < 0) {
		fprintf(stderr, "relay: opt.upstream: %s\n", why);
		/* vkd then gives the line of opt.upstream (ABI 2.14). */
		vk_app_refuse(context, "upstream");
		free(conf);
		*error = EINVAL;
		return NULL;
	}
	/* heap_size 0: a context that does not tell the heap (ABI < 2.13). */
	if (context->heap_size && context->heap_room < 2 * context->ring_size + 12 * 1024) {
		fprintf(stderr, "relay: heap: %zu bytes leave no room for an upstream socket\n",
			context->heap_size);
		free(conf);
		*error = ENOSPC;
		return NULL;
	}
	return conf;
}

static void relay_fini(void *state)
{
	free(state);
}

/* The value of a head line "Name: value\r\n" called `name`, or NULL. */
static const char *field(char *line, const char *name)
{
	size_t len = strlen(name);

	if (strncasecmp(line, name, len) != 0 || line[len] != ':')
		return NULL;
	line[strcspn(line, "\r\n")] = '\0';
	return line + len + 1 + strspn(line + len + 1, " \t");
}

static void relay(struct vk_thread *that)
{
	struct {
		struct relay_conf *conf;
		struct vk_socket *up;
		ssize_t rc;
		char line[512];
		ssize_t n;
		int status;
		long length;
		char type[128];
		char body[8192];
	} * self;

	vk_begin();
	self->conf = vk_http_app_state();
	self->length = -1;
	vk_set_connect_timeout(2000);
	vk_try_connect_addr(self->rc, self->up, &self->conf->upstream);
	if (self->rc < 0) {
		vk_http_reply(502, "text/plain", "upstream unreachable\n", 21);
		vk_return();
	}
	/* The path as sent (checked by the parser), not the decoded parameter:
	 * a decoded "%0d%0a" would end the request line. */
	self->n =
	    snprintf(self->line, sizeof(self->line), "GET %s%s%s HTTP/1.1\r\nHost: %s\r\n\r\n",
		     vk_http_path() + strlen("/relay"), *vk_http_query() ? "?" : "",
		     vk_http_query(), self->conf->upstream.text);
	if (self->n >= (ssize_t)sizeof(self->line)) {
		vk_http_reply(414, "text/plain", "path too long\n", 14);
		vk_return();
	}
	/* Errors of the upstream are caught, to answer 502 rather than 500. */
	vk_socket_try_write(self->up, self->rc, self->line, (size_t)self->n);
	if (self->rc >= 0)
		vk_socket_try_flush(self->up, self->rc);
	if (self->rc >= 0)
		vk_socket_try_readline(self->up, self->rc, self->line, sizeof(self->line) - 1);
	if (self->rc > 12 && strncmp(self->line, "HTTP/1.", 7) == 0)
		self->status = atoi(self->line + 9);
	/* The head's fields, up to the empty line. */
	while (self->status >= 200 && self->status <= 599) {
		vk_socket_try_readline(self->up, self->rc, self->line, sizeof(self->line) - 1);
		if (self->rc <= 2)
			break;
		self->line[self->rc] = '\0';
		if (field(self->line, "Content-Length"))
			self->length = atol(field(self->line, "Content-Length"));
		else if (field(self->line, "Content-Type"))
			snprintf(self->type, sizeof(self->type), "%s",
				 field(self->line, "Content-Type"));
	}
	if (self->rc != 2 || self->length < 0 || self->length > (long)sizeof(self->body)) {
		vk_http_reply(502, "text/plain", "bad upstream answer\n", 20);
		vk_return();
	}
	vk_socket_try_read(self->up, self->rc, self->body, (size_t)self->length);
	if (self->rc != self->length) {
		vk_http_reply(502, "text/plain", "upstream answer cut\n", 20);
		vk_return();
	}
	/* The answer was read whole: the connection serves the next request. */
	vk_socket_keep(that, self->up, 16, 10000);
	vk_http_reply(self->status, self->type[0] ? self->type : NULL, self->body,
		      (size_t)self->length);
	vk_finally();
	/* The heap is a stack: the socket goes before the state (vk(3)). */
	vk_socket_destroy(that, self->up);
	vk_end();
}

static const struct vk_http_route routes[] = {
    VK_HTTP_GET("/relay/*", relay),
};

VK_HTTP_APP_FULL("relay", routes, 128 * 1024, relay_init, relay_fini);
