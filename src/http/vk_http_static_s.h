/*
 * The parts of vk_http_static that tests reach: its configuration, the
 * path checks, Range and If-None-Match. Internal.
 */
#ifndef VK_HTTP_STATIC_S_H
#define VK_HTTP_STATIC_S_H

#include "vk_internal.h"

#include <stddef.h>
#include <stdint.h>

#include "vk_http_static.h"

/* How a path is held under the root. */
enum vk_http_static_resolve {
	VK_HTTP_STATIC_BENEATH = 0, /* openat2(RESOLVE_BENEATH) */
	VK_HTTP_STATIC_CHECKED,	    /* openat(), then its /proc/self/fd path checked */
	VK_HTTP_STATIC_ANY,	    /* openat(): symlinks may lead anywhere */
};

/* Slots of the open-file cache, one path each, chosen by the path's hash. */
#define VK_HTTP_STATIC_CACHE_SLOTS 32

/* A path opened lately and a descriptor of it kept (fd -1: the slot is empty). */
struct vk_http_static_cached {
	int fd;
	uint32_t hash;
	double opened; /* vk_now() at the open */
	char *path;
};

struct vk_http_static_conf {
	int root;	 /* the directory, O_PATH */
	char *root_path; /* its real path, for VK_HTTP_STATIC_CHECKED */
	size_t root_len;
	char *index; /* NULL: none */
	int resolve; /* enum vk_http_static_resolve; BENEATH falls back to CHECKED */
	/* opt.open_cache: NULL when 0; entries serve for cache_valid seconds */
	struct vk_http_static_cached *cache;
	double cache_valid;
};

/*
 * Whether a decoded tail may name a file under the root: not empty
 * segments aside, no ".." segment and no leading '/'. 0 or -EINVAL.
 */
int vk_http_static_path_ok(const char *rel);

/*
 * Open rel (checked by vk_http_static_path_ok()) under the root, for
 * reading, never blocking (a FIFO does not hold the worker). Returns the
 * descriptor, or -errno: -EXDEV for a symbolic link out of the root,
 * -ENOENT, -ENOTDIR, -EACCES, -ELOOP...
 */
int vk_http_static_open(struct vk_http_static_conf *conf, const char *rel);

/*
 * vk_http_static_open() through the open-file cache, at time `now`
 * (vk_now()): a path opened less than cache_valid seconds before gets a
 * duplicate of the descriptor kept then, with no walk of the path. The
 * descriptor returned is the caller's either way.
 */
int vk_http_static_open_cached(struct vk_http_static_conf *conf, const char *rel, double now);

/*
 * A Range value against a file of `size` bytes: 1 with the one range in
 * *off and *len, 0 when it is to be ignored (not "bytes=", malformed, or
 * several ranges: the whole file is sent), -1 when unsatisfiable (416).
 */
int vk_http_static_range(const char *value, uint64_t size, uint64_t *off, uint64_t *len);

/* Whether an If-None-Match list ("*", or tags, weak or not) matches etag. */
int vk_http_static_etag_match(const char *list, const char *etag);

/* The Content-Type for a file name, by its extension. */
const char *vk_http_static_type(const char *name);

#endif
