/*
 * vkd_listen: the listening sockets: their addresses as the listen key
 * writes them, and the sockets the master binds.
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

#include <sys/socket.h>

#include "vk_addr.h"

#define VKD_LISTEN_TEXT_MAX VK_ADDR_TEXT_SIZE

/*
 * One listening address, ready for socket(family, SOCK_STREAM, 0) and
 * bind(fd, (struct sockaddr *)&addr, addrlen).
 *
 * text is the normalized form, used in status output and to compare
 * addresses: "127.0.0.1:80", "*:80" (any IPv4), "[::1]:80", "[::]:80"
 * (any IPv6; vkd_listen_open() sets IPV6_V6ONLY so that "*:80" and
 * "[::]:80" can coexist), "unix:/run/x.sock" (the path normalized by
 * vk_addr_unix_path()).
 */
struct vkd_listen {
	int family; /* AF_INET, AF_INET6 or AF_UNIX */
	struct sockaddr_storage addr;
	socklen_t addrlen;
	char text[VKD_LISTEN_TEXT_MAX];
	int line; /* where it was written; 0 if not from a file */
};

/*
 * Parse one listen address (the syntax of the listen key in vkd.ini(5)):
 * "ADDRESS:PORT", "*:PORT", "[IPv6]:PORT" or "unix:/PATH", by libvk's
 * vk_addr_parse() (the addresses apps connect to are written the same
 * way). Host names are not resolved. On failure returns -1 with errno EINVAL and, if reason is
 * not NULL, *reason set to a static phrase saying why. out->line is set
 * to 0.
 */
int vkd_parse_listen(const char *text, struct vkd_listen *out, const char **reason);

/* 1 if a and b cannot both be bound: the same address, or the same port
 * and family with one of them the wildcard address. */
int vkd_listen_conflict(const struct vkd_listen *a, const struct vkd_listen *b);

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
