/*
 * vk_log: where libvk's own messages go (faults, limits, accept errors).
 *
 * One sink per process, as there is one kernel per process. Lines are
 * formatted here and handed whole to the sink, which adds its own prefix.
 */
#ifndef VK_LOG_H
#define VK_LOG_H

#include "vk_internal.h"

/* A sink: `level` is a syslog level (3 error .. 7 debug). */
typedef void (*vk_log_fn)(int level, const char *message);

/* Send every later line to `fn`; NULL restores the default, stderr. */
void vk_log_set_sink(vk_log_fn fn);

/* Format one line (at most 511 bytes; longer ones are cut) and log it. */
void vk_log(int level, const char *format, ...) __attribute__((format(printf, 2, 3)));

#endif
