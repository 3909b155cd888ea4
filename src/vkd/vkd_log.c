/*
 * vkd_log: one line per event on stderr; see vkd_log.h.
 */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

#include "vkd_io.h"
#include "vkd_log.h"

#define VKD_LOG_LINE_MAX 2048
#define VKD_LOG_IDENT_MAX 48

static enum vkd_log_format log_format = VKD_LOG_STAMPED;
static enum vkd_log_level log_level = VKD_LOG_INFO;
static char log_ident[VKD_LOG_IDENT_MAX];

void vkd_log_init(void)
{
	const char *stream = getenv("JOURNAL_STREAM");

	log_format = stream && *stream ? VKD_LOG_JOURNAL : VKD_LOG_STAMPED;
}

void vkd_log_set_format(enum vkd_log_format format)
{
	log_format = format;
}

void vkd_log_set_level(enum vkd_log_level level)
{
	log_level = level;
}

enum vkd_log_level vkd_log_get_level(void)
{
	return log_level;
}

void vkd_log_set_ident(const char *ident)
{
	snprintf(log_ident, sizeof(log_ident), "%s", ident ? ident : "");
}

void vkd_log_reopen(void)
{
	vkd_info("SIGUSR1: the workers reopen their access logs; the error log is stderr, "
		 "which is not reopened");
}

/* "2024-05-01T12:00:00.123Z" in UTC; empty on a clock failure. */
static void log_stamp(char *buf, size_t size)
{
	struct timespec now;
	struct tm tm;
	size_t n;

	buf[0] = '\0';
	if (clock_gettime(CLOCK_REALTIME, &now) < 0 || !gmtime_r(&now.tv_sec, &tm))
		return;
	n = strftime(buf, size, "%Y-%m-%dT%H:%M:%S", &tm);
	if (n == 0)
		return;
	snprintf(buf + n, size - n, ".%03ldZ", now.tv_nsec / 1000000);
}

static size_t log_prefix(char *buf, size_t size, enum vkd_log_level level)
{
	char stamp[40];
	int n;

	switch (log_format) {
	case VKD_LOG_JOURNAL:
		n = snprintf(buf, size, "<%d>vkd%s: ", (int)level, log_ident);
		break;
	case VKD_LOG_PLAIN:
		n = snprintf(buf, size, "vkd%s: ", log_ident);
		break;
	default:
		log_stamp(stamp, sizeof(stamp));
		n = snprintf(buf, size, "%s %s vkd[%ld]%s: ", stamp, vkd_log_level_name(level),
			     (long)getpid(), log_ident);
		break;
	}
	if (n < 0)
		return 0;
	return (size_t)n < size ? (size_t)n : size - 1;
}

static void log_vline(enum vkd_log_level level, const char *format, va_list ap)
{
	char line[VKD_LOG_LINE_MAX];
	size_t len;
	int n;

	len = log_prefix(line, sizeof(line) - 1, level);
	n = vsnprintf(line + len, sizeof(line) - 1 - len, format, ap);
	if (n < 0)
		return;
	len += (size_t)n < sizeof(line) - 1 - len ? (size_t)n : sizeof(line) - 2 - len;
	/* One event, one line: a message never breaks the line structure. */
	for (size_t i = 0; i < len; i++)
		if (line[i] == '\n' || line[i] == '\r')
			line[i] = ' ';
	line[len++] = '\n';
	/* A log line that cannot be written has nowhere else to go. */
	(void)vkd_write_all(STDERR_FILENO, line, len);
}

void vkd_log(enum vkd_log_level level, const char *format, ...)
{
	int saved = errno;
	va_list ap;

	if (level > log_level)
		return;
	va_start(ap, format);
	log_vline(level, format, ap);
	va_end(ap);
	errno = saved;
}

void vkd_log_kern(int level, const char *message)
{
	enum vkd_log_level ours;

	if (level <= VKD_LOG_ERROR)
		ours = VKD_LOG_ERROR;
	else if (level <= VKD_LOG_WARN)
		ours = VKD_LOG_WARN;
	else if (level <= VKD_LOG_INFO)
		ours = VKD_LOG_INFO;
	else
		ours = VKD_LOG_DEBUG;
	vkd_log(ours, "%s", message);
}
