/*
 * vkd_access: the access logs of one worker's apps (the app key
 * `access_log = PATH | stderr | off`, vkd.ini(5)).
 *
 * The HTTP layer formats a line per request (vk_http_log.h) and hands it
 * through libvk's access hook (vk_log.h) to this file, which owns the
 * descriptor, a bounded buffer (VKD_ACCESS_BUFFER bytes per log, malloc'd
 * by the worker: no micro-heap holds it) and the count of dropped lines.
 * Writing never blocks the worker: the descriptor is O_NONBLOCK, the
 * buffer goes out in one write(2) when a line does not fit or on a short
 * timer, and lines a full pipe or disk does not take are dropped and
 * counted (vk_app_stats.access_log_drops). Each worker opens its own
 * descriptors, so SIGUSR1 (forwarded by the master) reopens them.
 */
#ifndef VKD_ACCESS_H
#define VKD_ACCESS_H

#include <stddef.h>

#include <ev.h>

#include "vk_stats.h"
#include "vkd_config.h"

#define VKD_ACCESS_BUFFER ((size_t)64 << 10)
/* How long a line may wait in the buffer. */
#define VKD_ACCESS_FLUSH_S 0.1

/*
 * Open the access log of every app of config that has one and set the
 * libvk hook. app_stats (a cell per app, may be NULL) receive the drop
 * counts. Returns 0, or -1 after logging an error that names the app and
 * the path.
 */
int vkd_access_open(const struct vkd_config *config, struct vk_app_stats *app_stats);

/* Flush on loop's timer from now on, and reopen on SIGUSR1. */
void vkd_access_start(struct ev_loop *loop);

/* Write what is buffered, close the files and clear the hook. */
void vkd_access_close(void);

/*
 * Whether app's access log can be opened for writing as this process is
 * (the module check, run as the workers' user). Returns 0 (also off,
 * stderr, and a FIFO nobody reads yet), or -1 with the reason in reason.
 */
int vkd_access_check(const struct vkd_app_config *app, char *reason, size_t cap);

#endif
