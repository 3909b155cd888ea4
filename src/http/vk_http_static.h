/*
 * vk_http_static: serve the files of a directory.
 *
 *	static const struct vk_http_route routes[] = {
 *		VK_HTTP_GET("/files/" "*", vk_http_static),
 *	};
 *	VK_HTTP_APP_FULL("site", routes, 64 * 1024, vk_http_static_init,
 *			 vk_http_static_fini);
 *	VK_APP_PATHS("root");
 *
 * (the pattern is "/files/" then "*", split here only for the comment;
 * src/apps/static.c, the bundled static.so, serves the whole path space.)
 *
 * vk_http_static is a handler for a route whose pattern ends in "*": the
 * tail (percent-decoded) names a file under the root. It answers GET and
 * HEAD with the file, sent with sendfile(2) (vk_http_sendfile()): the
 * bytes never pass through the micro-heap, and a slow reader of a large
 * file holds no more than its send ring and one descriptor. It sets
 * Content-Type by the name's extension, Last-Modified and ETag, and
 * answers If-None-Match and If-Modified-Since (304) and a single Range
 * (206, or 416 when it lies past the end; a list of ranges gets the whole
 * file, as RFC 9110 allows). A directory gets its index file, or a 301 to
 * the path with a '/' added.
 *
 * Refused, before any file is opened: a ".." segment (as sent or
 * encoded, "%2e%2e"), a tail that starts with '/' (400). Refused when
 * opening: a symbolic link that leads out of the root (403), unless
 * opt.symlinks = any. The file is opened with openat2(RESOLVE_BENEATH),
 * which the kernel checks at every step of the walk, races included
 * (Linux 5.6+); on an older kernel, it is opened and then its real path
 * (/proc/self/fd) is checked to lie under the root's. Anything but a
 * regular file or a directory gets 403.
 *
 * Options, in the app's [app NAME] section of vkd.ini:
 *	opt.root = DIR             the directory served (required); declare
 *	                           it a path (VK_APP_PATHS, vk_app.h) so that
 *	                           a relative one is taken from the
 *	                           configuration file's directory
 *	opt.index = index.html     the file a directory's path serves; off: none
 *	opt.symlinks = inside      symbolic links must stay under the root;
 *	                           any: they may lead anywhere
 *	opt.open_cache = 1s        how long a path opened is served from the
 *	                           descriptor kept then (0: open every time)
 *
 * The open-file cache (32 paths a worker): within opt.open_cache of an
 * open, the same path gets a duplicate of the descriptor kept then, not a
 * new walk of the path (a fifth of a 4 KiB request's CPU here). Each
 * request still fstat()s its descriptor: a file written in place is seen
 * at once; one renamed over or removed is served as it was for at most
 * opt.open_cache, as nginx's open_file_cache does for
 * open_file_cache_valid. Refusals are never cached.
 *
 * vk_http_static reads its configuration from the app's state
 * (vk_http_app_state()): use vk_http_static_init and vk_http_static_fini
 * as the app's hooks, or call them from the app's own. A route line of
 * vkd.ini (`route = GET /assets/ * static:DIR`, without the space) mounts
 * it on DIR in any HTTP app, with a configuration of its own: DIR for
 * opt.root, the app's other options.
 */
#ifndef VK_HTTP_STATIC_H
#define VK_HTTP_STATIC_H

#include "vk_app.h"
#include "vk_state.h"
#include "vk_api.h"

VK_API_BEGIN

/* The handler: serves the route's "*" parameter under the root. */
void vk_http_static(struct vk_thread *that);

/*
 * Read the options and open the root: the app state vk_http_static needs.
 * NULL with *error (EINVAL, with a message on stderr, or errno) on failure.
 */
void *vk_http_static_init(const struct vk_app_context *context, int *error);
void vk_http_static_fini(void *state);

VK_API_END

#endif
