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
