/*
 * vkd_listen: the listening sockets, bound by the master.
 *
 * The master binds every address before it forks (so a privileged port
 * works before workers drop privileges) and the workers inherit the
 * descriptors: one accept queue per address, shared by all workers.
 * Sockets are kept across reloads: a listener whose address is still in
 * the new configuration is the same descriptor, so no connection is
 * refused while generations swap. A table counts the generations that use
 * each listener and closes it when the last one is gone.
 */
#ifndef VKD_LISTEN_H
#define VKD_LISTEN_H

#include "vkd_config.h"

/* Unix sockets are made reachable like a loopback TCP port. */
#define VKD_UNIX_SOCKET_MODE 0666

struct vkd_listener {
	struct vkd_listen addr; /* as configured */
	int fd;
	int backlog;
	unsigned refs; /* generations using it */
};

struct vkd_listeners {
	struct vkd_listener **items;
	size_t count;
	size_t size;
};

/*
 * Bind, listen on and make non-blocking a socket for `addr`: SO_REUSEADDR
 * for TCP, IPV6_V6ONLY for IPv6 (so "*:P" and "[::]:P" coexist), a stale
 * unix socket file removed first and the new one chmod'ed. Returns the
 * descriptor, or -1 with errno and *what naming the failed step.
 */
int vkd_listen_open(const struct vkd_listen *addr, int backlog, const char **what);

/*
 * A listener for `addr` with one more reference: the one already open on
 * that address (its backlog updated), or a new one. NULL with errno and
 * *what set on failure.
 */
struct vkd_listener *vkd_listeners_get(struct vkd_listeners *table, const struct vkd_listen *addr,
				       int backlog, const char **what);

/* Drop a reference; the last one closes the socket (and unlinks its file). */
void vkd_listeners_put(struct vkd_listeners *table, struct vkd_listener *listener);

/* Close every descriptor in this process only (a worker's copies), no unlink. */
void vkd_listeners_close_except(struct vkd_listeners *table, const int *keep, size_t keep_count);

/* Close and unlink everything, free the table (the master at exit). */
void vkd_listeners_free(struct vkd_listeners *table);

#endif
