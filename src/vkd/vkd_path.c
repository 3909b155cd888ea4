/*
 * vkd_path: a configured socket path made into the one vkd binds; see
 * vkd_path.h.
 */
#include "config.h"

#include <string.h>

#include "vkd_path.h"

/* The normalization of vkd_socket_path(); the length, or -1 if the result
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

int vkd_socket_path(const char *path, char *out, const char **reason)
{
	int len;

	if (path[0] == '\0') {
		*reason = "the path is empty";
		return -1;
	}
	if (path[0] == '@') {
		*reason = "abstract sockets (@name) are not supported";
		return -1;
	}
	if (path[0] != '/') {
		*reason = "the path must be absolute";
		return -1;
	}
	len = normalize_path(path, out, VKD_SOCKET_PATH_SIZE);
	if (len < 0) {
		*reason = "the path is too long for a unix socket (at most 107 bytes)";
		return -1;
	}
	if (len == 1) {
		*reason = "the path names a directory";
		return -1;
	}
	return 0;
}
