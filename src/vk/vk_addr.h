/*
 * vk_addr: stream socket addresses as vkd.ini writes them.
 *
 *	127.0.0.1:80     an IPv4 address and a port
 *	[::1]:80         an IPv6 address, in brackets
 *	unix:/run/x.sock a unix socket's absolute path
 *	*:80, [::]:80    any address (for listening; VK_ADDR_ANY)
 *	db.local:5432    a host name, resolved when connecting (VK_ADDR_NAME)
 *
 * vkd reads its listen keys with vk_addr_parse() and apps read the
 * addresses they connect to with it (vk_connect()), so an address means
 * the same thing on every line of the file. Nothing here does I/O: a
 * name is checked for its form, not looked up.
 */
#ifndef VK_ADDR_H
#define VK_ADDR_H

#include <stdint.h>
#include <sys/socket.h>
#include <sys/un.h>

#include "vk_api.h"

VK_API_BEGIN

/* sun_path's size: a unix socket's path with its terminating NUL. */
#define VK_ADDR_UNIX_PATH_SIZE sizeof(((struct sockaddr_un *)0)->sun_path)
/* A host name (253 characters) and its NUL. */
#define VK_ADDR_NAME_SIZE 254
/* The longest normalized text ("name:65535") and its NUL. */
#define VK_ADDR_TEXT_SIZE (VK_ADDR_NAME_SIZE + 6)

/* vk_addr_parse() flags. */
enum {
	VK_ADDR_ANY = 1,  /* "*:PORT", "0.0.0.0:PORT" and "[::]:PORT" are allowed */
	VK_ADDR_NAME = 2, /* a host name is allowed: family AF_UNSPEC, to resolve */
};

struct vk_addr {
	/* AF_INET, AF_INET6 or AF_UNIX; AF_UNSPEC for a host name. */
	int family;
	/* Ready for bind() or connect(); for a host name, empty (addrlen 0). */
	struct sockaddr_storage addr;
	socklen_t addrlen;
	uint16_t port; /* host byte order; 0 for a unix socket */
	/* For a host name: the name, lower case; else empty. */
	char name[VK_ADDR_NAME_SIZE];
	/*
	 * The normalized form: two texts are equal exactly when they name
	 * the same address. "127.0.0.1:80", "*:80" (any IPv4), "[::1]:80",
	 * "[::]:80" (any IPv6), "unix:/run/x.sock" (the path normalized by
	 * vk_addr_unix_path()), "db.local:5432".
	 */
	char text[VK_ADDR_TEXT_SIZE];
};

/*
 * Parse one address. Returns 0, or -EINVAL with *reason (if reason is not
 * NULL) a static phrase saying why. The port is a number from 1 to 65535.
 */
int vk_addr_parse(const char *text, int flags, struct vk_addr *out, const char **reason);

/*
 * A path usable as a unix socket: not empty, not abstract ("@name"),
 * absolute, and after lexical normalization (empty and "." components and
 * a trailing "/" dropped; ".." kept, since only the file system knows what
 * it means behind a symbolic link) not "/" and short enough for sun_path.
 * Writes the normalized path into out (VK_ADDR_UNIX_PATH_SIZE bytes) and
 * returns 0, or returns -EINVAL with *reason a static phrase saying why.
 * vkd and vkctl find the control socket by this rule too.
 */
int vk_addr_unix_path(const char *path, char *out, const char **reason);

VK_API_END

#endif
