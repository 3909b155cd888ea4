/*
 * vk_http_mount: routes an operator mounts from vkd.ini, not from C.
 * Internal: shared by vkd (which reads, checks and hands them over) and
 * the HTTP library (which builds the app's table from them).
 *
 *	[app api]
 *	route = GET /users/:id      get_user
 *	route = GET,HEAD /files/ *  static:/srv/www
 *
 * (no space before the '*': this comment cannot hold the pair.)
 *
 * A line is METHODS PATTERN TARGET, separated by blanks:
 *  - METHODS: "*" (any method) or a comma-separated list of GET, HEAD,
 *    POST, PUT, DELETE, OPTIONS, PATCH, TRACE, CONNECT (as HTTP spells
 *    them: upper case), each named once;
 *  - PATTERN: a route pattern (vk_http_route.h);
 *  - TARGET: the name of a handler the module exports with
 *    VK_HTTP_EXPORT() (a C identifier), or "static:DIR", the bundled
 *    static-file handler (vk_http_static.h) on directory DIR, which needs
 *    a PATTERN ending in '*' and METHODS among GET and HEAD.
 *
 * Where each step is checked: the line's grammar when the file is read
 * (vk_http_mount_parse(), vk_http_mount_overlap(): every file:line error
 * at once), the export and the directory in the module check, as the
 * workers' user (vk_http_mount_export(), vk_http_mount_root_ok()), and
 * both again when a worker builds the table (vk_http_app.c).
 */
#ifndef VK_HTTP_MOUNT_H
#define VK_HTTP_MOUNT_H

#include <stddef.h>

#include "vk_http_route.h"

/* Longest handler name (the symbol adds VK_HTTP_EXPORT_PREFIX). */
#define VK_HTTP_MOUNT_NAME_MAX 64
#define VK_HTTP_MOUNT_STATIC "static:"

/* One route line, parsed. */
struct vk_http_mount {
	unsigned methods; /* VK_HTTP_METHOD() bits, or VK_HTTP_ANY_METHOD */
	char *pattern;
	char *target;  /* the export's name, or the static directory */
	int is_static; /* target is a directory for vk_http_static */
	int line;      /* in the configuration file; 0 if none */
};

/*
 * Parse `text` (the value of a route key) into *mount, whose strings are
 * then malloc'd (vk_http_mount_free()). Returns 0, -EINVAL with the reason
 * in why (naming what is wrong), or -ENOMEM.
 */
int vk_http_mount_parse(const char *text, struct vk_http_mount *mount, char *why, size_t cap);

void vk_http_mount_free(struct vk_http_mount *mount);

/*
 * Whether `later` can never match a request that `earlier` has not
 * matched first for some method: patterns of the same shape (":a" and
 * ":b" alike) and methods in common (GET counts as HEAD, as the router
 * does). A duplicate, refused.
 */
int vk_http_mount_overlap(const struct vk_http_mount *earlier, const struct vk_http_mount *later);

/* The methods as a line writes them ("GET,POST", "*") into buf. */
void vk_http_mount_methods(unsigned methods, char *buf, size_t cap);

/*
 * The handler `name` that the module loaded as `module` (a dlopen()
 * handle) exports with VK_HTTP_EXPORT(): 0 with it in *handler, or -1
 * with the reason in why (no such export, a symbol of another kind or
 * size, another object's symbol, a bad magic or name).
 */
int vk_http_mount_export(void *module, const char *name, vk_func *handler, char *why, size_t cap);

/* Whether this process can serve `dir`: 0, or -1 with the reason in why. */
int vk_http_mount_root_ok(const char *dir, char *why, size_t cap);

/*
 * The route lines of app `name`, handed over by vkd before the app's
 * init hook runs in this process (the module check, a worker) and kept by
 * vkd, with `module`, for as long as the app runs. NULL when it has none.
 */
struct vk_http_mounts {
	const char *app;
	void *module; /* its dlopen() handle */
	const struct vk_http_mount *mounts;
	size_t count;
	/*
	 * Each connection's heap, as struct vk_app_context tells it (ABI
	 * 2.13). The library's checks read it here, not from the context
	 * they are given: a module of an older minor may hand them a context
	 * of its own making, which lacks those fields.
	 */
	size_t heap_size, ring_size, heap_room;
};

/* Record app's lines (replacing any earlier record of the same app). 0 or -ENOMEM. */
int vk_http_mounts_offer(const struct vk_http_mounts *mounts);

/* The lines recorded for app `name`, or NULL (also when it has none). */
const struct vk_http_mounts *vk_http_mounts_find(const char *name);

/* The record of app `name`, whether it has lines or not, or NULL. */
const struct vk_http_mounts *vk_http_mounts_app(const char *name);

#endif
