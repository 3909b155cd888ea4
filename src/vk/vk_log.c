#include "vk_log.h"

#include <stdarg.h>
#include <stdio.h>

static vk_log_fn sink;

void vk_log_set_sink(vk_log_fn fn)
{
	sink = fn;
}

void vk_log(int level, const char *format, ...)
{
	char line[512];
	va_list args;

	va_start(args, format);
	vsnprintf(line, sizeof(line), format, args);
	va_end(args);
	if (sink)
		sink(level, line);
	else
		fprintf(stderr, "vk: %s\n", line);
}

static const struct vk_access_hook *access_hook;

void vk_access_set_hook(const struct vk_access_hook *hook)
{
	access_hook = hook;
}

void *vk_access_find(const char *name)
{
	return access_hook ? access_hook->find(name) : NULL;
}

void vk_access_write(void *log, const char *line, size_t len)
{
	if (access_hook && log)
		access_hook->write(log, line, len);
}
