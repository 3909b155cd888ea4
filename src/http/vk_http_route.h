/*
 * vk_http_route: an HTTP app's routes, declared in C next to its handlers.
 *
 *	static const struct vk_http_route routes[] = {
 *		VK_HTTP_GET("/", hello),
 *		VK_HTTP_GET("/users/:id", get_user),
 *		VK_HTTP_POST("/users", add_user),
 *		VK_HTTP_ROUTE(VK_HTTP_METHOD(VK_HTTP_PUT) | VK_HTTP_METHOD(VK_HTTP_PATCH),
 *			      "/users/:id", set_user),
 *	};
 *	VK_HTTP_APP("api", routes, 64 * 1024);
 *
 * A pattern is matched against the request's path as sent (no
 * percent-decoding, no dot-segment removal, the query left out), byte for
 * byte, except for two kinds of parts:
 *  - ":name", a whole segment: matches one non-empty segment (up to the
 *    next '/'); the handler reads it, percent-decoded, with
 *    vk_http_param("name");
 *  - "*", the last thing after a '/': matches the rest of the path, empty
 *    or not, slashes included; vk_http_param("*") reads it.
 * "/users" and "/users/" are different paths. The first route whose
 * pattern and method match wins, in the order of the table. A GET route
 * answers HEAD too (the library drops the body). A path that some route
 * matches, with a method none takes, gets 405 with an Allow field; a path
 * that no route matches gets 404.
 *
 * The table is checked when the app starts (vkd -t, start, reload): a
 * pattern that does not start with '/', an empty or repeated parameter
 * name, a ':' or '*' that is not a whole segment, more than
 * VK_HTTP_MAX_PARAMS parameters or a NULL handler stop the app with a
 * message naming the route.
 *
 * Routes from vkd.ini: an operator may also mount routes in the app's
 * section, without recompiling (vkd.ini(5), vk_http(3)):
 *	route = GET /users/:id  get_user
 *	route = GET /static/ *  static:/srv/www   (no space before '*')
 * A handler named there must be exported by the module for that purpose:
 *	VK_HTTP_EXPORT(get_user);
 * which exports a struct vk_http_export named vk_http_export_get_user
 * (the compiler checks that get_user is a vk_func; vkd checks the
 * symbol's ELF kind, size and magic before it reads it). Those routes are
 * matched before the table's, in the file's order.
 */
#ifndef VK_HTTP_ROUTE_H
#define VK_HTTP_ROUTE_H

#include <stddef.h>
#include <stdint.h>

#include "vk_http.h"
#include "vk_state.h"
#include "vk_api.h"

VK_API_BEGIN

/* Most parameters (":name" and "*") in one pattern. */
#define VK_HTTP_MAX_PARAMS 8

/* A set of methods: VK_HTTP_METHOD(VK_HTTP_GET) | VK_HTTP_METHOD(VK_HTTP_POST). */
#define VK_HTTP_METHOD(m) (1u << (m))
/* Every method. */
#define VK_HTTP_ANY_METHOD 0u

struct vk_http_route {
	unsigned methods;    /* VK_HTTP_METHOD() bits, or VK_HTTP_ANY_METHOD */
	const char *pattern; /* "/users/:id" */
	vk_func handler;     /* a coroutine, run once per request (vk_http(3)) */
};

#define VK_HTTP_ROUTE(methods, pattern, handler) \
	{                                        \
		(methods), (pattern), (handler)  \
	}
#define VK_HTTP_GET(pattern, handler) VK_HTTP_ROUTE(VK_HTTP_METHOD(VK_HTTP_GET), pattern, handler)
#define VK_HTTP_POST(pattern, handler) VK_HTTP_ROUTE(VK_HTTP_METHOD(VK_HTTP_POST), pattern, handler)
#define VK_HTTP_PUT(pattern, handler) VK_HTTP_ROUTE(VK_HTTP_METHOD(VK_HTTP_PUT), pattern, handler)
#define VK_HTTP_DELETE(pattern, handler) \
	VK_HTTP_ROUTE(VK_HTTP_METHOD(VK_HTTP_DELETE), pattern, handler)
#define VK_HTTP_PATCH(pattern, handler) \
	VK_HTTP_ROUTE(VK_HTTP_METHOD(VK_HTTP_PATCH), pattern, handler)
#define VK_HTTP_ANY(pattern, handler) VK_HTTP_ROUTE(VK_HTTP_ANY_METHOD, pattern, handler)

/* A handler a route line of vkd.ini may name: what VK_HTTP_EXPORT() makes. */
struct vk_http_export {
	uint32_t magic; /* VK_HTTP_EXPORT_MAGIC */
	uint32_t size;	/* sizeof(struct vk_http_export) */
	const char *name;
	vk_func handler;
};

#define VK_HTTP_EXPORT_MAGIC 0x766b6865u /* "vkhe" */
#define VK_HTTP_EXPORT_PREFIX "vk_http_export_"

/* Export handler `fn` (a vk_func) under its own name, for route lines. */
#define VK_HTTP_EXPORT(fn)                                                                         \
	__attribute__((visibility("default"))) const struct vk_http_export vk_http_export_##fn = { \
	    VK_HTTP_EXPORT_MAGIC, sizeof(struct vk_http_export), #fn, (fn)}

/* What matching a request found. */
struct vk_http_match {
	const struct vk_http_route *route; /* NULL: none (404 or 405) */
	unsigned allow;			   /* on 405: the methods the path takes */
	unsigned nparams;
	/* Each parameter's place in the path, in pattern order. */
	uint16_t param_off[VK_HTTP_MAX_PARAMS];
	uint16_t param_len[VK_HTTP_MAX_PARAMS];
};

/*
 * vk_http_route_check - check a route table as the app starts.
 *
 * Returns 0, or -EINVAL with a message naming the first bad route in
 * why/why_len.
 */
int vk_http_route_check(const struct vk_http_route *routes, size_t n, char *why, size_t why_len);

/*
 * vk_http_route_pattern_error - why `pattern` is not a route pattern
 * (the reasons vk_http_route_check() gives), or NULL when it is one.
 */
const char *vk_http_route_pattern_error(const char *pattern);

/*
 * vk_http_route_match - find the route of a request.
 *
 * path/len is what vk_http_request_path() gives. Returns 0 with
 * match->route and its parameters set, 404 when no pattern matches the
 * path, 405 when patterns match but none with this method (match->allow
 * then holds their methods, HEAD added where GET is).
 */
int vk_http_route_match(const struct vk_http_route *routes, size_t n, enum vk_http_method method,
			const char *path, size_t len, struct vk_http_match *match);

/*
 * vk_http_route_param - the index of parameter `name` ("id" for ":id",
 * "*" for the tail) in route's pattern, or -1.
 */
int vk_http_route_param(const struct vk_http_route *route, const char *name);

/*
 * vk_http_route_allow - format a method set as an Allow value ("GET,
 * HEAD, POST") into buf. Returns its length, or -ENOSPC.
 */
int vk_http_route_allow(unsigned methods, char *buf, size_t cap);

/* The name of a method ("GET"), or NULL for VK_HTTP_OTHER. */
const char *vk_http_method_name(enum vk_http_method method);

VK_API_END

#endif
