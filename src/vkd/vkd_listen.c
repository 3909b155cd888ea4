/*
 * vkd_listen: parsing listen addresses, binding and sharing the listening
 * sockets; see vkd_listen.h.
 */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "vkd_listen.h"

/* ---- addresses ---- */

int vkd_parse_listen(const char *text, struct vkd_listen *out, const char **reason)
{
	struct vk_addr addr;
	int rc = vk_addr_parse(text, VK_ADDR_ANY, &addr, reason);

	memset(out, 0, sizeof(*out));
	if (rc < 0) {
		errno = -rc;
		return -1;
	}
	out->family = addr.family;
	out->addr = addr.addr;
	out->addrlen = addr.addrlen;
	memcpy(out->text, addr.text, sizeof(out->text));
	return 0;
}

int vkd_listen_conflict(const struct vkd_listen *a, const struct vkd_listen *b)
{
	if (a->family != b->family)
		return 0;
	if (a->family == AF_UNIX)
		return strcmp(a->text, b->text) == 0;
	if (a->family == AF_INET) {
		const struct sockaddr_in *x = (const struct sockaddr_in *)&a->addr;
		const struct sockaddr_in *y = (const struct sockaddr_in *)&b->addr;

		if (x->sin_port != y->sin_port)
			return 0;
		return x->sin_addr.s_addr == y->sin_addr.s_addr ||
		       x->sin_addr.s_addr == htonl(INADDR_ANY) ||
		       y->sin_addr.s_addr == htonl(INADDR_ANY);
	}
	if (a->family == AF_INET6) {
		const struct sockaddr_in6 *x = (const struct sockaddr_in6 *)&a->addr;
		const struct sockaddr_in6 *y = (const struct sockaddr_in6 *)&b->addr;

		if (x->sin6_port != y->sin6_port)
			return 0;
		return IN6_ARE_ADDR_EQUAL(&x->sin6_addr, &y->sin6_addr) ||
		       IN6_IS_ADDR_UNSPECIFIED(&x->sin6_addr) ||
		       IN6_IS_ADDR_UNSPECIFIED(&y->sin6_addr);
	}
	return 0;
}

/* ---- sockets ---- */

/* The path of a unix socket address, or NULL for an abstract or IP one. */
static const char *listen_path(const struct vkd_listen *addr)
{
	const struct sockaddr_un *sun = (const struct sockaddr_un *)&addr->addr;

	if (addr->family != AF_UNIX || sun->sun_path[0] == '\0')
		return NULL;
	return sun->sun_path;
}

/*
 * Remove a socket file nobody listens on. Anything that is not a socket
 * is left alone, and bind() then fails with EADDRINUSE, which is the
 * honest answer.
 */
static int listen_unlink_stale(const struct vkd_listen *addr)
{
	const char *path = listen_path(addr);
	struct stat st;
	int fd, rc, err;

	if (!path || lstat(path, &st) < 0 || !S_ISSOCK(st.st_mode))
		return 0;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	/* Refused: nobody listens, the file is stale. Anything else: in use. */
	rc = connect(fd, (const struct sockaddr *)&addr->addr, addr->addrlen);
	err = rc < 0 ? errno : 0;
	close(fd);
	if (err != ECONNREFUSED) {
		errno = EADDRINUSE;
		return -1;
	}
	return unlink(path) < 0 && errno != ENOENT ? -1 : 0;
}

static int listen_options(int fd, const struct vkd_listen *addr)
{
	int on = 1;

	if (addr->family == AF_UNIX)
		return 0;
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on)) < 0)
		return -1;
	if (addr->family == AF_INET6 &&
	    setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &on, sizeof(on)) < 0)
		return -1;
	return 0;
}

int vkd_listen_open(const struct vkd_listen *addr, int backlog, const char **what)
{
	const char *path = listen_path(addr);
	int fd, saved;

	*what = "remove stale socket";
	if (listen_unlink_stale(addr) < 0)
		return -1;
	/* Non-blocking: workers accept from a shared queue and may lose races. */
	*what = "socket";
	fd = socket(addr->family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	*what = "setsockopt";
	if (listen_options(fd, addr) < 0)
		goto fail;
	*what = "bind";
	if (bind(fd, (const struct sockaddr *)&addr->addr, addr->addrlen) < 0)
		goto fail;
	*what = "chmod";
	if (path && chmod(path, VKD_UNIX_SOCKET_MODE) < 0)
		goto fail_unlink;
	*what = "listen";
	if (listen(fd, backlog) < 0)
		goto fail_unlink;
	return fd;

fail_unlink:
	saved = errno;
	if (path)
		unlink(path);
	errno = saved;
fail:
	saved = errno;
	close(fd);
	errno = saved;
	return -1;
}

static int listen_same(const struct vkd_listen *a, const struct vkd_listen *b)
{
	return a->family == b->family && strcmp(a->text, b->text) == 0;
}

static int listeners_grow(struct vkd_listeners *table)
{
	size_t size = table->size ? table->size * 2 : 8;
	struct vkd_listener **items;

	if (table->count < table->size)
		return 0;
	items = realloc(table->items, size * sizeof(*items));
	if (!items)
		return -1;
	table->items = items;
	table->size = size;
	return 0;
}

struct vkd_listener *vkd_listeners_get(struct vkd_listeners *table, const struct vkd_listen *addr,
				       int backlog, const char **what)
{
	struct vkd_listener *listener;

	for (size_t i = 0; i < table->count; i++) {
		listener = table->items[i];
		if (!listen_same(&listener->addr, addr))
			continue;
		/* listen() again only changes the backlog of a listening socket. */
		if (listener->backlog != backlog && listen(listener->fd, backlog) == 0)
			listener->backlog = backlog;
		listener->refs++;
		return listener;
	}
	*what = "out of memory";
	if (listeners_grow(table) < 0)
		return NULL;
	listener = calloc(1, sizeof(*listener));
	if (!listener)
		return NULL;
	listener->addr = *addr;
	listener->backlog = backlog;
	listener->refs = 1;
	listener->fd = vkd_listen_open(addr, backlog, what);
	if (listener->fd < 0) {
		free(listener);
		return NULL;
	}
	table->items[table->count++] = listener;
	return listener;
}

static void listener_close(struct vkd_listener *listener)
{
	const char *path = listen_path(&listener->addr);

	close(listener->fd);
	if (path)
		unlink(path);
	free(listener);
}

void vkd_listeners_put(struct vkd_listeners *table, struct vkd_listener *listener)
{
	if (!listener || --listener->refs > 0)
		return;
	for (size_t i = 0; i < table->count; i++) {
		if (table->items[i] != listener)
			continue;
		table->items[i] = table->items[--table->count];
		break;
	}
	listener_close(listener);
}

static int fd_kept(int fd, const int *keep, size_t keep_count)
{
	for (size_t i = 0; i < keep_count; i++)
		if (keep[i] == fd)
			return 1;
	return 0;
}

void vkd_listeners_close_except(struct vkd_listeners *table, const int *keep, size_t keep_count)
{
	for (size_t i = 0; i < table->count; i++) {
		struct vkd_listener *listener = table->items[i];

		if (listener->fd >= 0 && !fd_kept(listener->fd, keep, keep_count)) {
			close(listener->fd);
			listener->fd = -1;
		}
	}
}

void vkd_listeners_free(struct vkd_listeners *table)
{
	for (size_t i = 0; i < table->count; i++)
		listener_close(table->items[i]);
	free(table->items);
	table->items = NULL;
	table->count = table->size = 0;
}
