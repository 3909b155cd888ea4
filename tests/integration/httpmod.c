/*
 * httpmod: [app handlers], an HTTP app for the tests of the handler API
 * (tests/integration/http-handlers.sh). Each route exercises one thing:
 *
 *	GET  /hello                 "hello\n"
 *	GET  /sleep/:ms             vk_sleep(ms), then "slept\n"
 *	GET  /stream/:n             n chunks "chunk I\n", a vk_yield() between
 *	POST /all                   the whole body (vk_http_read_all, 1 KiB), echoed
 *	POST /slow                  the body read 7 bytes at a time and echoed, the
 *	                            answer started after the first read (before
 *	                            it with ?early), its length the body's
 *	GET  /fault                 writes through NULL
 *	GET  /raise                 raises EPROTO before answering
 *	GET  /raise-late            starts a chunked answer, writes, raises EPROTO
 *	GET  /silent                returns without answering
 *	GET  /users/:id/posts/:post "id=.. post=.. path=.. query=.."
 *	GET  /files/ *              "tail=.." (the pattern has no space)
 *	GET  /header                X-Echo: the request's X-In; X-Added: yes
 *	GET  /bad-header            adds a field whose value holds CR LF
 *	GET  /short                 announces 10 bytes, writes 5, returns
 *	GET  /204                   204 No Content
 *	ANY  /any                   the method's name
 *	GET  /version               HTTPMOD_VERSION and a newline ("0\n" unless
 *	                            built with -DHTTPMOD_VERSION=N: httpver1.so
 *	                            and httpver2.so, for vkd_module_overwrite_wrk.sh)
 *
 * hello, any, params and tail are exported for route lines too
 * (VK_HTTP_EXPORT), beside two symbols those lines must refuse.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vk_http_app.h"

#ifndef HTTPMOD_VERSION
#define HTTPMOD_VERSION 0
#endif

#if HTTPMOD_VERSION == 2
/* Moves what follows in .text and .rodata: the old code read through a
 * mapping of the new file would be garbage. */
__attribute__((used)) static const char httpmod_pad[8192] = {2};
__attribute__((used)) static void httpmod_pad_code(void)
{
	__asm__ volatile(".fill 8192, 1, 0x90");
}
#endif

#define HTTPMOD_STR(x) #x
#define HTTPMOD_XSTR(x) HTTPMOD_STR(x)

static void hello(struct vk_thread *that)
{
	struct {
		int unused;
	} * self;

	vk_begin();
	vk_http_reply(200, "text/plain", "hello\n", 6);
	vk_end();
}

static void sleeper(struct vk_thread *that)
{
	struct {
		int unused;
	} * self;

	vk_begin();
	vk_sleep((uint32_t)atoi(vk_http_param("ms")));
	vk_http_reply(200, "text/plain", "slept\n", 6);
	vk_end();
}

static void stream(struct vk_thread *that)
{
	struct {
		int i, n, len;
		char line[32];
	} * self;

	vk_begin();
	self->n = atoi(vk_http_param("n"));
	vk_http_start(200, "text/plain", -1);
	for (self->i = 0; self->i < self->n; self->i++) {
		self->len = snprintf(self->line, sizeof(self->line), "chunk %d\n", self->i);
		vk_http_write(self->line, (size_t)self->len);
		vk_yield();
	}
	vk_end();
}

static void all(struct vk_thread *that)
{
	struct {
		ssize_t n;
		char body[1024];
	} * self;

	vk_begin();
	vk_http_read_all(self->n, self->body, sizeof(self->body));
	vk_http_reply(200, "application/octet-stream", self->body, (size_t)self->n);
	vk_end();
}

static void slow(struct vk_thread *that)
{
	struct {
		ssize_t n;
		int started;
		char piece[7];
	} * self;

	vk_begin();
	if (strcmp(vk_http_query(), "early") == 0)
		vk_http_start(200, NULL, vk_http_body_length());
	for (;;) {
		vk_http_read(self->n, self->piece, sizeof(self->piece));
		if (!self->started) {
			self->started = 1;
			if (strcmp(vk_http_query(), "early") != 0)
				vk_http_start(200, NULL, vk_http_body_length());
		}
		if (self->n == 0)
			break;
		vk_http_write(self->piece, (size_t)self->n);
	}
	vk_end();
}

/* The store through NULL is the fault under test: UBSan must let it reach the kernel. */
__attribute__((no_sanitize_undefined)) static void fault(struct vk_thread *that)
{
	struct {
		int *volatile p;
	} * self;

	vk_begin();
	*self->p = 1;
	vk_http_reply(200, NULL, "", 0);
	vk_end();
}

static void raiser(struct vk_thread *that)
{
	struct {
		int unused;
	} * self;

	vk_begin();
	vk_raise(EPROTO);
	vk_end();
}

static void raise_late(struct vk_thread *that)
{
	struct {
		int unused;
	} * self;

	vk_begin();
	vk_http_start(200, "text/plain", -1);
	vk_http_write("part\n", 5);
	vk_raise(EPROTO);
	vk_end();
}

static void silent(struct vk_thread *that)
{
	struct {
		int unused;
	} * self;

	vk_begin();
	vk_end();
}

static void params(struct vk_thread *that)
{
	struct {
		int n;
		char out[512];
	} * self;

	vk_begin();
	self->n =
	    snprintf(self->out, sizeof(self->out), "id=%s post=%s path=%s query=%s",
		     vk_http_param("id"), vk_http_param("post"), vk_http_path(), vk_http_query());
	vk_http_reply(200, "text/plain", self->out, (size_t)self->n);
	vk_end();
}

static void tail(struct vk_thread *that)
{
	struct {
		int n;
		char out[512];
	} * self;

	vk_begin();
	self->n = snprintf(self->out, sizeof(self->out), "tail=%s", vk_http_param("*"));
	vk_http_reply(200, "text/plain", self->out, (size_t)self->n);
	vk_end();
}

static void header(struct vk_thread *that)
{
	struct {
		int unused;
	} * self;

	vk_begin();
	if (vk_http_get_header("X-In"))
		vk_http_add_header("X-Echo", vk_http_get_header("X-In"));
	vk_http_add_header("X-Added", "yes");
	vk_http_reply(200, "text/plain", "ok\n", 3);
	vk_end();
}

static void bad_header(struct vk_thread *that)
{
	struct {
		int unused;
	} * self;

	vk_begin();
	vk_http_add_header("X-Split", "a\r\nX-Injected: 1");
	vk_http_reply(200, "text/plain", "no\n", 3);
	vk_end();
}

/*
 * A Content-Type the handler gives, by name: "crlf" and "del" hold a byte
 * that could end a line, "long" is 129 bytes (one over VK_HTTP_TYPE_MAX):
 * each a 500; "tab" and "max" (128 bytes) pass. "buf-X" is "text/X" from
 * one buffer of the module's, rewritten each time: what the library keeps
 * of a type it saw must not go by the type's address.
 */
static void typed(struct vk_thread *that)
{
	static char type_buf[64];
	static const char long_type[] =
	    "text/"
	    "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
	    "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx";
	const char *kind = vk_http_param("kind");
	const char *type = "text/plain";
	struct {
		int unused;
	} * self;

	vk_begin();
	if (strcmp(kind, "crlf") == 0)
		type = "text/plain\r\nX-Injected: 1";
	else if (strcmp(kind, "del") == 0)
		type = "text/plain\x7f";
	else if (strcmp(kind, "tab") == 0)
		type = "text/plain;\tcharset=utf-8";
	else if (strcmp(kind, "long") == 0)
		type = long_type;
	else if (strcmp(kind, "max") == 0)
		type = long_type + 1;
	else if (strncmp(kind, "buf-", 4) == 0) {
		snprintf(type_buf, sizeof(type_buf), "text/%s", kind + 4);
		type = type_buf;
	}
	vk_http_reply(200, type, "typed\n", 6);
	vk_end();
}

static void short_answer(struct vk_thread *that)
{
	struct {
		int unused;
	} * self;

	vk_begin();
	vk_http_start(200, "text/plain", 10);
	vk_http_write("12345", 5);
	vk_end();
}

static void no_content(struct vk_thread *that)
{
	struct {
		int unused;
	} * self;

	vk_begin();
	vk_http_reply(204, NULL, NULL, 0);
	vk_end();
}

static void any(struct vk_thread *that)
{
	struct {
		int unused;
	} * self;

	vk_begin();
	vk_http_reply(200, "text/plain", vk_http_request_method_str(vk_http_head()),
		      strlen(vk_http_request_method_str(vk_http_head())));
	vk_end();
}

static void version(struct vk_thread *that)
{
	static const char text[] = HTTPMOD_XSTR(HTTPMOD_VERSION) "\n";
	struct {
		int unused;
	} * self;

	vk_begin();
	vk_http_reply(200, "text/plain", text, sizeof(text) - 1);
	vk_end();
}

static const struct vk_http_route routes[] = {
    VK_HTTP_GET("/hello", hello),
    VK_HTTP_GET("/sleep/:ms", sleeper),
    VK_HTTP_GET("/stream/:n", stream),
    VK_HTTP_POST("/all", all),
    VK_HTTP_POST("/slow", slow),
    VK_HTTP_GET("/fault", fault),
    VK_HTTP_GET("/raise", raiser),
    VK_HTTP_GET("/raise-late", raise_late),
    VK_HTTP_GET("/silent", silent),
    VK_HTTP_GET("/users/:id/posts/:post", params),
    VK_HTTP_GET("/files/*", tail),
    VK_HTTP_GET("/header", header),
    VK_HTTP_GET("/bad-header", bad_header),
    VK_HTTP_GET("/type/:kind", typed),
    VK_HTTP_GET("/short", short_answer),
    VK_HTTP_GET("/204", no_content),
    VK_HTTP_ANY("/any", any),
    VK_HTTP_GET("/version", version),
};

VK_HTTP_APP("handlers", routes, 64 * 1024);

/* For route lines of vkd.ini (tests/integration/http-routes.sh). */
VK_HTTP_EXPORT(hello);
VK_HTTP_EXPORT(any);
VK_HTTP_EXPORT(params);
VK_HTTP_EXPORT(tail);

/* Symbols a route line must refuse: one of the export's name but another kind, ... */
__attribute__((visibility("default"))) const int vk_http_export_bogus = 1;
/* ... and a handler exported as a bare function. */
__attribute__((visibility("default"))) void httpmod_bare(struct vk_thread *that);
void httpmod_bare(struct vk_thread *that)
{
	hello(that);
}
