#include "vk_addr.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <netinet/in.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "vk_parse.h"

static int refuse(const char **reason, const char *why)
{
	if (reason)
		*reason = why;
	return -EINVAL;
}

/* The normalization of vk_addr_unix_path(); the length, or -1 if the result
 * does not fit in size bytes. */
static int normalize_path(const char *in, char *out, size_t size)
{
	size_t len = 0;

	while (*in) {
		size_t n;

		while (*in == '/')
			in++;
		n = strcspn(in, "/");
		if (n == 0 || (n == 1 && in[0] == '.')) {
			in += n;
			continue;
		}
		if (len + 1 + n >= size)
			return -1;
		out[len++] = '/';
		memcpy(out + len, in, n);
		len += n;
		in += n;
	}
	if (len == 0) {
		if (size < 2)
			return -1;
		out[len++] = '/';
	}
	out[len] = '\0';
	return (int)len;
}

int vk_addr_unix_path(const char *path, char *out, const char **reason)
{
	int len;

	if (path[0] == '\0')
		return refuse(reason, "the path is empty");
	if (path[0] == '@')
		return refuse(reason, "abstract sockets (@name) are not supported");
	if (path[0] != '/')
		return refuse(reason, "the path must be absolute");
	len = normalize_path(path, out, VK_ADDR_UNIX_PATH_SIZE);
	if (len < 0)
		return refuse(reason, "the path is too long for a unix socket (at most 107 bytes)");
	if (len == 1)
		return refuse(reason, "the path names a directory");
	return 0;
}

static int parse_port(const char *s, uint16_t *port, const char **reason)
{
	uint64_t n;

	if (vk_parse_uint(s, 1, 65535, &n) < 0)
		return refuse(reason, "the port must be a number from 1 to 65535");
	*port = (uint16_t)n;
	return 0;
}

static int parse_unix(const char *path, struct vk_addr *out, const char **reason)
{
	struct sockaddr_un *sun = (struct sockaddr_un *)&out->addr;
	int rc = vk_addr_unix_path(path, sun->sun_path, reason);

	if (rc < 0)
		return rc;
	sun->sun_family = AF_UNIX;
	out->family = AF_UNIX;
	out->addrlen =
	    (socklen_t)(offsetof(struct sockaddr_un, sun_path) + strlen(sun->sun_path) + 1);
	snprintf(out->text, sizeof(out->text), "unix:%s", sun->sun_path);
	return 0;
}

static int parse_inet6(const char *text, int flags, struct vk_addr *out, const char **reason)
{
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&out->addr;
	const char *close = strchr(text, ']');
	char host[INET6_ADDRSTRLEN];
	size_t n;

	if (!close)
		return refuse(reason, "missing ']' after the IPv6 address");
	if (close[1] != ':')
		return refuse(reason, "expected ':PORT' after ']'");
	n = (size_t)(close - text - 1);
	if (memchr(text, '%', n))
		return refuse(reason, "IPv6 scope ids (%) are not supported");
	if (n >= sizeof(host))
		return refuse(reason, "not an IPv6 address");
	memcpy(host, text + 1, n);
	host[n] = '\0';
	if (inet_pton(AF_INET6, host, &sin6->sin6_addr) != 1)
		return refuse(reason, "not an IPv6 address");
	if (IN6_IS_ADDR_UNSPECIFIED(&sin6->sin6_addr) && !(flags & VK_ADDR_ANY))
		return refuse(reason, "[::] is any address: name one to connect to");
	if (parse_port(close + 2, &out->port, reason) < 0)
		return -EINVAL;
	inet_ntop(AF_INET6, &sin6->sin6_addr, host, sizeof(host));
	snprintf(out->text, sizeof(out->text), "[%s]:%u", host, (unsigned)out->port);
	sin6->sin6_port = htons(out->port);
	sin6->sin6_family = AF_INET6;
	out->family = AF_INET6;
	out->addrlen = sizeof(*sin6);
	return 0;
}

/*
 * A host name as DNS writes it: dot-separated labels of letters, digits,
 * '-' and '_' (service names use it), none empty or over 63 characters,
 * not starting or ending with '-', and a last label that is not all
 * digits (that would be a malformed IPv4 address). A trailing dot is
 * allowed. Copied in lower case into out.
 */
static int parse_name(const char *text, size_t n, char *out, const char **reason)
{
	size_t label = 0;
	int digits_only = 1;

	if (n >= VK_ADDR_NAME_SIZE)
		return refuse(reason, "the host name is longer than 253 characters");
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)text[i];

		if (c == '.') {
			if (label == 0 || text[i - 1] == '-')
				return refuse(reason, "not an IPv4 address or a host name");
			label = 0;
			digits_only = 1;
		} else if (isalnum(c) || c == '-' || c == '_') {
			if (label == 0 && c == '-')
				return refuse(reason, "not an IPv4 address or a host name");
			if (++label > 63)
				return refuse(reason,
					      "a label of the host name is over 63 characters");
			if (!isdigit(c))
				digits_only = 0;
		} else {
			return refuse(reason, "not an IPv4 address or a host name");
		}
		out[i] = (char)tolower(c);
	}
	out[n] = '\0';
	if (label && (text[n - 1] == '-' || digits_only))
		return refuse(reason, "not an IPv4 address or a host name");
	return 0;
}

static int parse_inet4(const char *text, int flags, struct vk_addr *out, const char **reason)
{
	struct sockaddr_in *sin = (struct sockaddr_in *)&out->addr;
	const char *colon = strrchr(text, ':');
	const char *not_v4 = "not an IPv4 address (host names are not resolved)";
	char host[INET_ADDRSTRLEN];
	size_t n;

	if (!colon)
		return refuse(reason, "expected ADDRESS:PORT, *:PORT, [IPv6]:PORT or unix:/PATH");
	n = (size_t)(colon - text);
	if (n == 0)
		return refuse(reason, "missing address before ':'; use *:PORT for any address");
	if (memchr(text, ':', n))
		return refuse(reason, "IPv6 addresses go in brackets, as in [::1]:80");
	if (parse_port(colon + 1, &out->port, reason) < 0)
		return -EINVAL;
	if (n == 1 && text[0] == '*') {
		sin->sin_addr.s_addr = htonl(INADDR_ANY);
	} else if (n >= sizeof(host)) {
		host[0] = '\0';
	} else {
		memcpy(host, text, n);
		host[n] = '\0';
		if (inet_pton(AF_INET, host, &sin->sin_addr) != 1)
			host[0] = '\0';
	}
	if (!(n == 1 && text[0] == '*') && host[0] == '\0') {
		if (!(flags & VK_ADDR_NAME))
			return refuse(reason, not_v4);
		if (parse_name(text, n, out->name, reason) < 0)
			return -EINVAL;
		snprintf(out->text, sizeof(out->text), "%s:%u", out->name, (unsigned)out->port);
		out->family = AF_UNSPEC;
		return 0;
	}
	if (sin->sin_addr.s_addr == htonl(INADDR_ANY)) {
		if (!(flags & VK_ADDR_ANY))
			return refuse(reason, "* is any address: name one to connect to");
		strcpy(host, "*");
	} else {
		inet_ntop(AF_INET, &sin->sin_addr, host, sizeof(host));
	}
	snprintf(out->text, sizeof(out->text), "%s:%u", host, (unsigned)out->port);
	sin->sin_port = htons(out->port);
	sin->sin_family = AF_INET;
	out->family = AF_INET;
	out->addrlen = sizeof(*sin);
	return 0;
}

int vk_addr_parse(const char *text, int flags, struct vk_addr *out, const char **reason)
{
	memset(out, 0, sizeof(*out));
	if (text[0] == '\0')
		return refuse(reason, "the address is empty");
	if (strncmp(text, "unix:", 5) == 0)
		return parse_unix(text + 5, out, reason);
	if (text[0] == '[')
		return parse_inet6(text, flags, out, reason);
	return parse_inet4(text, flags, out, reason);
}
