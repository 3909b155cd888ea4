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

#include "vk_parse.h"
#include "vkd_listen.h"
#include "vkd_path.h"

/* ---- addresses ---- */

static int listen_fail(const char **reason, const char *why)
{
	if (reason)
		*reason = why;
	errno = EINVAL;
	return -1;
}

static int parse_port(const char *s, in_port_t *port)
{
	uint64_t n;

	if (vk_parse_uint(s, 1, 65535, &n) < 0)
		return -1;
	*port = (in_port_t)n;
	return 0;
}

static int parse_unix(const char *path, struct vkd_listen *out, const char **reason)
{
	struct sockaddr_un *sun = (struct sockaddr_un *)&out->addr;
	const char *why = NULL;

	if (vkd_socket_path(path, sun->sun_path, &why) < 0)
		return listen_fail(reason, why);
	sun->sun_family = AF_UNIX;
	out->family = AF_UNIX;
	out->addrlen =
	    (socklen_t)(offsetof(struct sockaddr_un, sun_path) + strlen(sun->sun_path) + 1);
	snprintf(out->text, sizeof(out->text), "unix:%s", sun->sun_path);
	return 0;
}

static int parse_inet6(const char *text, struct vkd_listen *out, const char **reason)
{
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&out->addr;
	const char *close = strchr(text, ']');
	char host[INET6_ADDRSTRLEN];
	size_t n;

	if (!close)
		return listen_fail(reason, "missing ']' after the IPv6 address");
	if (close[1] != ':')
		return listen_fail(reason, "expected ':PORT' after ']'");
	n = (size_t)(close - text - 1);
	if (memchr(text, '%', n))
		return listen_fail(reason, "IPv6 scope ids (%) are not supported");
	if (n >= sizeof(host))
		return listen_fail(reason, "not an IPv6 address");
	memcpy(host, text + 1, n);
	host[n] = '\0';
	if (inet_pton(AF_INET6, host, &sin6->sin6_addr) != 1)
		return listen_fail(reason, "not an IPv6 address");
	if (parse_port(close + 2, &sin6->sin6_port) < 0)
		return listen_fail(reason, "the port must be a number from 1 to 65535");
	/* Print the port before htons() swaps it. */
	inet_ntop(AF_INET6, &sin6->sin6_addr, host, sizeof(host));
	snprintf(out->text, sizeof(out->text), "[%s]:%u", host, (unsigned)sin6->sin6_port);
	sin6->sin6_port = htons(sin6->sin6_port);
	sin6->sin6_family = AF_INET6;
	out->family = AF_INET6;
	out->addrlen = sizeof(*sin6);
	return 0;
}

static int parse_inet4(const char *text, struct vkd_listen *out, const char **reason)
{
	struct sockaddr_in *sin = (struct sockaddr_in *)&out->addr;
	const char *colon = strrchr(text, ':');
	char host[INET_ADDRSTRLEN];
	size_t n;

	if (!colon)
		return listen_fail(reason,
				   "expected ADDRESS:PORT, *:PORT, [IPv6]:PORT or unix:/PATH");
	n = (size_t)(colon - text);
	if (n == 0)
		return listen_fail(reason,
				   "missing address before ':'; use *:PORT for any address");
	if (memchr(text, ':', n))
		return listen_fail(reason, "IPv6 addresses go in brackets, as in [::1]:80");
	if (n >= sizeof(host))
		return listen_fail(reason, "not an IPv4 address (host names are not resolved)");
	memcpy(host, text, n);
	host[n] = '\0';
	if (strcmp(host, "*") == 0)
		sin->sin_addr.s_addr = htonl(INADDR_ANY);
	else if (inet_pton(AF_INET, host, &sin->sin_addr) != 1)
		return listen_fail(reason, "not an IPv4 address (host names are not resolved)");
	if (parse_port(colon + 1, &sin->sin_port) < 0)
		return listen_fail(reason, "the port must be a number from 1 to 65535");
	if (sin->sin_addr.s_addr == htonl(INADDR_ANY))
		strcpy(host, "*");
	else
		inet_ntop(AF_INET, &sin->sin_addr, host, sizeof(host));
	snprintf(out->text, sizeof(out->text), "%s:%u", host, (unsigned)sin->sin_port);
	sin->sin_port = htons(sin->sin_port);
	sin->sin_family = AF_INET;
	out->family = AF_INET;
	out->addrlen = sizeof(*sin);
	return 0;
}

int vkd_parse_listen(const char *text, struct vkd_listen *out, const char **reason)
{
	memset(out, 0, sizeof(*out));
	if (text[0] == '\0')
		return listen_fail(reason, "the address is empty");
	if (strncmp(text, "unix:", 5) == 0)
		return parse_unix(text + 5, out, reason);
	if (text[0] == '[')
		return parse_inet6(text, out, reason);
	return parse_inet4(text, out, reason);
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
