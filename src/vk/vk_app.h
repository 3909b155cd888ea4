/*
 * vk_app: the descriptor an application module exports.
 *
 * A module is a shared object that vkd loads with dlopen(). It exports one
 * symbol, `vk_app_descriptor`, made by VK_APP(); everything else should be
 * hidden (build with -fvisibility=hidden, as libvk.pc says).
 *
 *	static void main_coroutine(struct vk_thread *that) { ... }
 *	VK_APP("echo", main_coroutine, 65536);
 *
 * Like an nginx module's signature, the descriptor records what the
 * module was compiled against: the ABI version, and the layout of the
 * public structures whose fields its code reads inline (sizes, and a
 * shape of field offsets and macro constants).
 * vkd (`vkd -t`, start and reload) refuses a module whose magic or ABI
 * major differs from its own, whose ABI minor is newer than its own (the
 * module may call what this vkd lacks), whose layout differs (built
 * against other headers), or whose name differs from the [app NAME] that
 * loads it; the message names the module and the mismatch.
 */
#ifndef VK_APP_H
#define VK_APP_H

#include <stddef.h>
#include <stdint.h>

#include "vk_api.h"
#include "vk_http.h"
#include "vk_socket.h"
#include "vk_state.h"

#define VK_APP_MAGIC 0x766b6170u /* "vkap" */
/*
 * Major: a change that breaks modules built before it (a layout, a
 * signature). Minor: an addition; a module built against minor N loads in
 * any vkd of the same major with minor >= N.
 */
#define VK_APP_ABI_MAJOR 2
/*
 * 1: vk_end() calls vk_thread_finish(), which tells a lost resume point.
 * 2: vk_socket_drained() (vk_drained()).
 * 3: the HTTP server library (vk_http_app.h), vk_http_request_grow().
 * 4: outbound connections (vk_connect(), vk_forward()) and the try forms.
 * 5: services (VK_SERVICES), channels and publish/subscribe.
 * 6: vk_socket_destroy(), vk_socket_peer_address().
 * 7: files sent with sendfile (vk_file_adopt(), vk_sendfile()), vk_http_static.
 * 8: vk_relay(): a subscription relayed to a socket by the kernel.
 * 9: vk_channel_handoff(): a connection handed to a channel by the kernel.
 * 10: vk_parse_bool(), the booleans of vkd.ini for opt.* values.
 * 11: VK_APP_PATHS: opt.* values vkd hands over as absolute paths.
 * 12: vk_http_route_pattern_error(); VK_HTTP_EXPORT() for route lines of vkd.ini.
 * 13: struct vk_app_context's heap_size, ring_size and heap_room.
 * 14: vk_app_refuse(): init names the option it refuses (vkd says its line).
 */
#define VK_APP_ABI_MINOR 14
#define VK_APP_SYMBOL "vk_app_descriptor"

/*
 * What an app's init hook is told about its configuration. It only grows
 * at its end, each addition an ABI minor: a module of an older minor reads
 * the fields of its own.
 */
struct vk_app_context {
	const char *name; /* the [app NAME] */
	/* The value of `opt.KEY` in the app's section, or NULL; `key` is KEY, without "opt.". */
	const char *(*option)(const struct vk_app_context *context, const char *key);
	const void *opaque; /* for option() */
	/*
	 * ABI 2.13: each connection's micro-heap, so that init can refuse an
	 * option that sizes what a connection allocates (vk_alloc(), a socket
	 * of vk_socket_create()) beyond what its heap holds: vkd -t then says
	 * so, instead of every client failing that allocation at run time.
	 * Check the value in effect, the option's default too (the bundled
	 * apps say which it was). heap_size: the heap's bytes (vkd.ini's
	 * heap, else the descriptor's, grown by what rings larger than the
	 * default add); ring_size: each way of the connection's
	 * socket, whose two rings come out of that heap; heap_room: what is
	 * left of it for the app's own allocations, once the rings and the
	 * room kept for the coroutines' state (8 KiB) are counted. heap_size 0:
	 * not told (a context made by hand, as in a test): check nothing.
	 */
	size_t heap_size;
	size_t ring_size;
	size_t heap_room;
};

/*
 * What the module's compiler saw of the public structures: their sizes,
 * and a shape for the two that macros and inline functions read field by
 * field: a weighted sum of the fields' offsets and of the constants those
 * macros compile into the module (thread states, resume points, read
 * modes; HTTP methods and body kinds). Fields that moved at the same size
 * change the shape.
 */
struct vk_app_layout {
	uint16_t thread;       /* struct vk_thread (vk_state_s.h) */
	uint16_t app_context;  /* struct vk_app_context */
	uint16_t http_request; /* struct vk_http_request */
	uint16_t http_chunked; /* struct vk_http_chunked */
	uint16_t http_limits;  /* struct vk_http_limits */
	uint16_t http_out;     /* struct vk_http_out */
	uint32_t thread_shape; /* VK_APP_THREAD_SHAPE */
	uint32_t http_shape;   /* VK_APP_HTTP_SHAPE */
};

/* Term `k` of a shape: `v` times a weight odd and distinct for each k. */
#define VK_APP_TERM(k, v) ((uint32_t)(v) * (2654435761u * (2u * (k) + 1u)))

/* clang-format off */
#define VK_APP_THREAD_SHAPE                                                    \
	((uint32_t)(VK_APP_TERM(0, offsetof(struct vk_thread, self)) +         \
		    VK_APP_TERM(1, offsetof(struct vk_thread, line)) +         \
		    VK_APP_TERM(2, offsetof(struct vk_thread, error)) +        \
		    VK_APP_TERM(3, offsetof(struct vk_thread, wake_error)) +   \
		    VK_APP_TERM(4, offsetof(struct vk_thread, child_error)) +  \
		    VK_APP_TERM(5, offsetof(struct vk_thread, status)) +       \
		    VK_APP_TERM(6, offsetof(struct vk_thread, unwinding)) +    \
		    VK_APP_TERM(7, offsetof(struct vk_thread, timeout_ms)) +   \
		    VK_APP_TERM(8, offsetof(struct vk_thread, socket)) +       \
		    VK_APP_TERM(9, offsetof(struct vk_thread, arg)) +          \
		    VK_APP_TERM(10, offsetof(struct vk_thread, op_done)) +     \
		    VK_APP_TERM(11, offsetof(struct vk_thread, message)) +     \
		    VK_APP_TERM(12, offsetof(struct vk_thread, message_from)) + \
		    VK_APP_TERM(13, VK_THREAD_BLOCKED) +                       \
		    VK_APP_TERM(14, VK_THREAD_YIELDED) +                       \
		    VK_APP_TERM(15, VK_THREAD_DONE) +                          \
		    VK_APP_TERM(16, VK_LINE_FINALLY) +                         \
		    VK_APP_TERM(17, VK_LINE_END) +                             \
		    VK_APP_TERM(18, VK_READ_ALL) +                             \
		    VK_APP_TERM(19, VK_READ_SOME) +                            \
		    VK_APP_TERM(20, VK_READ_LINE)))

#define VK_APP_HTTP_SHAPE                                                          \
	((uint32_t)(VK_APP_TERM(0, offsetof(struct vk_http_request, method)) +     \
		    VK_APP_TERM(1, offsetof(struct vk_http_request, version)) +    \
		    VK_APP_TERM(2, offsetof(struct vk_http_request, target_off)) + \
		    VK_APP_TERM(3, offsetof(struct vk_http_request, target_len)) + \
		    VK_APP_TERM(4, offsetof(struct vk_http_request, nfields)) +    \
		    VK_APP_TERM(5, offsetof(struct vk_http_request, content_length)) + \
		    VK_APP_TERM(6, offsetof(struct vk_http_request, keep_alive)) + \
		    VK_APP_TERM(7, offsetof(struct vk_http_request, expect_continue)) + \
		    VK_APP_TERM(8, offsetof(struct vk_http_request, buf)) +        \
		    VK_APP_TERM(9, offsetof(struct vk_http_request, fields)) +     \
		    VK_APP_TERM(10, offsetof(struct vk_http_field, value_off)) +   \
		    VK_APP_TERM(11, offsetof(struct vk_http_out, len)) +           \
		    VK_APP_TERM(12, offsetof(struct vk_http_out, error)) +         \
		    VK_APP_TERM(13, VK_HTTP_CONNECT) +                             \
		    VK_APP_TERM(14, VK_HTTP_BODY_CHUNKED)))

#define VK_APP_LAYOUT                                                  \
	{                                                              \
		.thread = sizeof(struct vk_thread),                    \
		.app_context = sizeof(struct vk_app_context),          \
		.http_request = sizeof(struct vk_http_request),        \
		.http_chunked = sizeof(struct vk_http_chunked),        \
		.http_limits = sizeof(struct vk_http_limits),          \
		.http_out = sizeof(struct vk_http_out),                \
		.thread_shape = VK_APP_THREAD_SHAPE,                   \
		.http_shape = VK_APP_HTTP_SHAPE,                       \
	}
/* clang-format on */

struct vk_app {
	/* These three stay first in every ABI, so any module can be refused clearly. */
	uint32_t magic;
	uint16_t abi_major;
	uint16_t abi_minor;
	struct vk_app_layout layout;
	const char *name;
	vk_func main;	  /* runs once per connection, on its descriptor */
	size_t heap_size; /* default micro-heap size */
	/*
	 * Optional: called once per worker after loading, before accepting.
	 * Returns a pointer given to each main coroutine as vk_arg() (or NULL),
	 * and sets *error to a positive errno to refuse to start.
	 */
	void *(*init)(const struct vk_app_context *context, int *error);
	/* Optional: called once per worker before unloading, with init's result. */
	void (*fini)(void *state);
};

#define VK_APP_FULL(app_name, main_fn, heap, init_fn, fini_fn)                           \
	__attribute__((visibility("default"))) const struct vk_app vk_app_descriptor = { \
	    .magic = VK_APP_MAGIC,                                                       \
	    .abi_major = VK_APP_ABI_MAJOR,                                               \
	    .abi_minor = VK_APP_ABI_MINOR,                                               \
	    .layout = VK_APP_LAYOUT,                                                     \
	    .name = (app_name),                                                          \
	    .main = (main_fn),                                                           \
	    .heap_size = (heap),                                                         \
	    .init = (init_fn),                                                           \
	    .fini = (fini_fn),                                                           \
	}

#define VK_APP(app_name, main_fn, heap) VK_APP_FULL(app_name, main_fn, heap, NULL, NULL)

VK_API_BEGIN

/*
 * ABI 2.14: init names the option it refuses, `key` as option() takes it
 * (KEY, without "opt."), before it returns with *error set: vkd
 * (`vkd -t`, start and reload) then reports the refusal at that option's
 * own FILE:LINE of vkd.ini, not at the [app] section's. An option left at
 * its default has no line: the section's is given, as it is when init
 * names none (a module of an older minor). The last call counts; a NULL
 * key forgets it.
 *
 *	if (bad) {
 *		fprintf(stderr, "app %s: opt.buffer: ...\n", context->name);
 *		vk_app_refuse(context, "buffer");
 *		*error = EINVAL;
 *		return NULL;
 *	}
 */
void vk_app_refuse(const struct vk_app_context *context, const char *key);

VK_API_END

/*
 * Path options (ABI 2.11): the opt.* keys whose value names a file or a
 * directory. vkd hands such a value to option() made absolute: a relative
 * one is taken from the directory of the configuration file, as vkd's own
 * paths are (vkd.ini(5)), whatever vkd's working directory; an empty one
 * stays empty. Other options are handed over as written. Names as opt.*
 * names (letters, digits, '_', '-', '.'), at most VK_APP_PATHS_MAX.
 *
 *	VK_APP_PATHS("root", "templates");
 */
#define VK_APP_PATHS_SYMBOL "vk_app_paths"
#define VK_APP_PATHS_MAX 64
#define VK_APP_PATHS(...)                      \
	__attribute__((visibility("default"))) \
	const char *const vk_app_paths[] = {__VA_ARGS__, NULL}

/*
 * Services (ABI 2.5): micro-processes an app declares, which every worker
 * starts with the app, independent of any connection, and restarts (with
 * backoff) when they end or fault. Coroutines reach them by name with
 * channels (vk_channel.h). A service's main coroutine has no socket; its
 * vk_arg() is the app's init state, as a connection's is. Service names
 * are shared by every app of a configuration: two apps may not declare
 * the same one.
 *
 *	VK_SERVICES({"room", room_main, 0, VK_SERVICE_LOCAL},
 *		    {"store", store_main, 64 << 20, VK_SERVICE_SHARDED});
 */
struct vk_service {
	const char *name; /* letters, digits, '_', '-', '.'; at most 64 bytes */
	vk_func main;	  /* its main coroutine */
	size_t heap_size; /* 0: the app's heap size */
	unsigned flags;	  /* a VK_SERVICE_ kind, possibly | VK_SERVICE_UNPROTECTED */
};

/* One in every worker, reached by name from coroutines of its own worker. */
#define VK_SERVICE_LOCAL 0x0u
/*
 * One in every worker, each the shard owning the keys that hash to its
 * worker: vk_channel_open_key() reaches the owner of a key, in whichever
 * worker; vk_channel_open() the one of the caller's worker.
 */
#define VK_SERVICE_SHARDED 0x1u
/* One in the whole generation, in worker 1, reached from every worker. */
#define VK_SERVICE_SINGLE 0x2u
#define VK_SERVICE_KIND 0x3u
/*
 * Leave its heap open even with isolation on: a protection change costs
 * more the more pages the heap has resident (doc/DESIGN.md), which a large
 * store pays at each dispatch.
 */
#define VK_SERVICE_UNPROTECTED 0x100u

#define VK_SERVICES_SYMBOL "vk_app_services"
#define VK_SERVICE_NAME_MAX 64
#define VK_SERVICES_MAX 64

/* Declare the app's services (up to VK_SERVICES_MAX), as a list of struct vk_service. */
#define VK_SERVICES(...)                                                                     \
	__attribute__((visibility("default"))) const struct vk_service vk_app_services[] = { \
	    __VA_ARGS__,                                                                     \
	    {0},                                                                             \
	}

#endif
