/*
 * vk_http_app: an HTTP app, and the one header an HTTP app includes: it
 * includes vk.h, so a handler may call the rest of vk(3) too (connect out,
 * channels, publish/subscribe).
 *
 *	#include <vk_http_app.h>
 *
 *	static void hello(struct vk_thread *that)
 *	{
 *		struct {
 *			int unused;
 *		} *self;
 *
 *		vk_begin();
 *		vk_http_reply(200, "text/plain", "Hello\n", 6);
 *		vk_end();
 *	}
 *
 *	static const struct vk_http_route routes[] = {
 *		VK_HTTP_GET("/", hello),
 *	};
 *	VK_HTTP_APP("hello", routes, 64 * 1024);
 *
 * The library owns the connection: it reads and checks each request head
 * (vk_http.h: strict, smuggling-safe), routes it (vk_http_route.h), runs
 * the route's handler (vk_http_exchange.h, vk_http_body.h,
 * vk_http_reply.h), and keeps the connection alive, pipelined or not,
 * answering in order; it answers the errors, times out slow heads and
 * idle connections, and closes with a lingering read after an error. See
 * vk_http(3).
 *
 * Options, in the app's [app NAME] section of vkd.ini (all optional):
 *	opt.max_line = 8k         longest request or field line (414, 431)
 *	opt.max_headers = 100     header fields per request (431)
 *	opt.max_head = 16k        whole request head (431), up to 64k. Heads
 *	                          up to 512 bytes are read in the connection's
 *	                          own page; a longer one needs max_head bytes
 *	                          free on the heap, else 431
 *	opt.max_body = 1M         request body (413)
 *	opt.header_timeout = 30s  a started head must be complete by then (408)
 * and idle_timeout (vkd.ini(5)) closes a connection on which no byte moved
 * either way for that long, between requests or while a handler waits.
 *
 * The section may also mount routes (`route = GET /users/:id get_user`,
 * vk_http_route.h, vkd.ini(5)): handlers the module exports with
 * VK_HTTP_EXPORT(), and static directories. vk_http_app_start() then
 * builds, once per worker, a table of those lines followed by `routes`;
 * without such lines requests are matched against `routes` itself.
 */
#ifndef VK_HTTP_APP_H
#define VK_HTTP_APP_H

#include <stddef.h>
#include <stdint.h>

#include "vk.h"
#include "vk_app.h"
#include "vk_http.h"
#include "vk_http_body.h"
#include "vk_http_exchange.h"
#include "vk_http_reply.h"
#include "vk_http_route.h"
#include "vk_http_static.h"
#include "vk_http_url.h"
#include "vk_state.h"
#include "vk_api.h"

VK_API_BEGIN

#define VK_HTTP_APP_MAGIC 0x766b6861u /* "vkha" */

/*
 * What VK_HTTP_APP() records. Like struct vk_app's layout, the sizes say
 * what the module's compiler saw, and the app does not start under a vkd
 * whose HTTP library sees other sizes.
 */
struct vk_http_app {
	uint32_t magic;
	uint16_t route_size; /* sizeof(struct vk_http_route) */
	uint16_t app_size;   /* sizeof(struct vk_http_app) */
	const struct vk_http_route *routes;
	size_t nroutes;
	/* Optional, as in VK_APP_FULL(); init's result is vk_http_app_state(). */
	void *(*init)(const struct vk_app_context *context, int *error);
	void (*fini)(void *state);
};

/* The library's side of the descriptor: the connection's main coroutine, init and fini. */
void vk_http_serve(struct vk_thread *that);
void *vk_http_app_start(const struct vk_http_app *app, const struct vk_app_context *context,
			int *error);
void vk_http_app_stop(void *server);

/* Elements in an array; refuses a pointer at compile time. */
#define VK_HTTP_COUNT(a)                                                                \
	(sizeof(a) / sizeof((a)[0]) +                                                   \
	 0 * sizeof(struct {                                                            \
		 int vk_not_an_array_                                                   \
		     : __builtin_types_compatible_p(__typeof__(a), __typeof__(&(a)[0])) \
		       ? -1                                                             \
		       : 1;                                                             \
	 }))

/*
 * An HTTP app called `name` (the [app NAME] that loads it) serving the
 * route table `routes` (an array) on micro-heaps of `heap` bytes. With
 * _FULL, init (or NULL) runs once per worker with the app's options and
 * returns the state handlers read with vk_http_app_state(); fini (or
 * NULL) gets it back when the worker stops.
 */
#define VK_HTTP_APP_FULL(name, routes, heap, init_fn, fini_fn)                       \
	static const struct vk_http_app vk_http_app_ = {                             \
	    .magic = VK_HTTP_APP_MAGIC,                                              \
	    .route_size = sizeof(struct vk_http_route),                              \
	    .app_size = sizeof(struct vk_http_app),                                  \
	    .routes = (routes),                                                      \
	    .nroutes = VK_HTTP_COUNT(routes),                                        \
	    .init = (init_fn),                                                       \
	    .fini = (fini_fn),                                                       \
	};                                                                           \
	static void *vk_http_init_(const struct vk_app_context *context, int *error) \
	{                                                                            \
		return vk_http_app_start(&vk_http_app_, context, error);             \
	}                                                                            \
	VK_APP_FULL(name, vk_http_serve, heap, vk_http_init_, vk_http_app_stop)

#define VK_HTTP_APP(name, routes, heap) VK_HTTP_APP_FULL(name, routes, heap, NULL, NULL)

VK_API_END

#endif
