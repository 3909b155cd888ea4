/*
 * http: an HTTP/1.1 server app, on the library's handler API (vk_http(3)).
 *
 *	GET /        200 "Hello, World!\n"
 *	POST /echo   200 with the request body (Content-Length or chunked)
 *	other paths  404; another method on / or /echo, 405
 *
 * Everything else is the library's: keep-alive, pipelining (answers in
 * order, gathered into one writev per batch), Expect: 100-continue, HEAD,
 * Date and Server, the limits (opt.max_line, max_headers, max_head,
 * max_body, header_timeout: see vk_http(3)), the error statuses and the
 * lingering close.
 */
#include "vk_http_app.h"

static const char hello_text[] = "Hello, World!\n";

static void hello(struct vk_thread *that)
{
	struct {
		int unused;
	} * self;

	vk_begin();
	vk_http_reply(200, "text/plain", hello_text, sizeof(hello_text) - 1);
	vk_end();
}

/*
 * Copy the body back, framed like the request's: with its length, or
 * chunked. The head waits for the first piece of the body, so that a bad
 * first chunk still gets its 400 or 413; a later error can only cut the
 * answer short.
 */
static void echo(struct vk_thread *that)
{
	struct {
		ssize_t n;
		char buf[4096];
	} * self;

	vk_begin();
	vk_http_read(self->n, self->buf, sizeof(self->buf));
	vk_http_start(200, NULL, vk_http_body_length());
	while (self->n > 0) {
		vk_http_write(self->buf, (size_t)self->n);
		vk_http_read(self->n, self->buf, sizeof(self->buf));
	}
	vk_end();
}

static const struct vk_http_route routes[] = {
    VK_HTTP_GET("/", hello),
    VK_HTTP_POST("/echo", echo),
};

VK_HTTP_APP("http", routes, 64 * 1024);
