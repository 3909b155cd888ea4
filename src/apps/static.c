/*
 * static: serve the files of a directory (vk_http_static.h).
 *
 *	[app site]
 *	module = static.so
 *	listen = 127.0.0.1:8080
 *	opt.root = /srv/www
 *
 * (a relative opt.root is taken from the directory of vkd.ini: VK_APP_PATHS)
 * Every path is a file under opt.root: GET and HEAD, with Content-Type,
 * Last-Modified, ETag, conditional requests, a single Range, index files
 * (opt.index) and the refusal of paths that leave the root (opt.symlinks);
 * a path opened within opt.open_cache (1s) reuses the descriptor kept.
 * The body goes out with sendfile(2). The HTTP options (opt.max_line ...)
 * are those of every HTTP app (vk_http(3)).
 */
#include "vk_http_app.h"

static const struct vk_http_route routes[] = {
    VK_HTTP_GET("/*", vk_http_static),
};

VK_HTTP_APP_FULL("static", routes, 64 * 1024, vk_http_static_init, vk_http_static_fini);
/* A relative opt.root is taken from the configuration file's directory. */
VK_APP_PATHS("root");
