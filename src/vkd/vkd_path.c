/*
 * vkd_path: paths worked out from their text; see vkd_path.h.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

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

char *vkd_path_join(const char *dir, const char *file)
{
	size_t n = strlen(dir);
	char *out;

	if (file[0] == '/')
		return strdup(file);
	while (n > 0 && dir[n - 1] == '/')
		n--;
	if (asprintf(&out, "%.*s/%s", (int)n, dir, file) < 0) {
		errno = ENOMEM;
		return NULL;
	}
	return out;
}

char *vkd_path_dir(const char *path)
{
	const char *slash = strrchr(path, '/');

	if (!slash)
		return strdup(".");
	if (slash == path)
		return strdup("/");
	return strndup(path, (size_t)(slash - path));
}

char *vkd_path_absolute(const char *path, const char *base)
{
	char *cwd, *abs_base, *out;

	if (path[0] == '/')
		return strdup(path);
	if (base && base[0] == '/')
		return vkd_path_join(base, path);
	cwd = getcwd(NULL, 0);
	if (!cwd)
		return NULL;
	/* The working directory itself: no "/./" in the result. */
	if (!base || strcmp(base, ".") == 0) {
		out = vkd_path_join(cwd, path);
	} else {
		abs_base = vkd_path_join(cwd, base);
		out = abs_base ? vkd_path_join(abs_base, path) : NULL;
		free(abs_base);
	}
	free(cwd);
	if (!out)
		errno = ENOMEM;
	return out;
}
