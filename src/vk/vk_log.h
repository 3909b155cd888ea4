/*
 * vk_log: where libvk's own messages go (faults, limits, accept errors).
 *
 * One sink per process, as there is one kernel per process. Lines are
 * formatted here and handed whole to the sink, which adds its own prefix.
 */
#ifndef VK_LOG_H
#define VK_LOG_H

#include "vk_internal.h"

#include <stddef.h>

/* A sink: `level` is a syslog level (3 error .. 7 debug). */
typedef void (*vk_log_fn)(int level, const char *message);

/* Send every later line to `fn`; NULL restores the default, stderr. */
void vk_log_set_sink(vk_log_fn fn);

/* Format one line (at most 511 bytes; longer ones are cut) and log it. */
void vk_log(int level, const char *format, ...) __attribute__((format(printf, 2, 3)));

/*
 * Access logs: lines the HTTP layer writes per request, kept by whoever
 * owns the files (vkd: a buffer and a descriptor per app in each worker,
 * outside every micro-heap). One narrow hook, set once per process before
 * the apps start; without it every app's access log is off.
 */
struct vk_access_hook {
	/* The access log of app `name`, or NULL when it has none. */
	void *(*find)(const char *name);
	/* Take one line (ending in '\n'); never blocks; may drop it, counting it. */
	void (*write)(void *log, const char *line, size_t len);
};

/* Set the hook (NULL: no access logs). The hook is the caller's, kept by address. */
void vk_access_set_hook(const struct vk_access_hook *hook);

/* The access log of app `name`, or NULL (off, or no hook). */
void *vk_access_find(const char *name);

/* Hand one line to `log` (from vk_access_find()). */
void vk_access_write(void *log, const char *line, size_t len);

#endif
