/*
 * vkd_log: the daemon's log, one line per event on stderr.
 *
 * When $JOURNAL_STREAM is set (stderr is connected to journald), each line
 * starts with a "<N>" syslog level prefix that journald turns into the
 * entry's priority; journald adds the time and pid itself. Otherwise each
 * line starts with an ISO 8601 timestamp and the level name. A line is
 * written with one write(2), so lines of the master and its workers do not
 * interleave.
 */
#ifndef VKD_LOG_H
#define VKD_LOG_H

#include "vkd_config.h"

enum vkd_log_format {
	VKD_LOG_STAMPED, /* "2024-05-01T12:00:00.123Z info vkd[42]: message" */
	VKD_LOG_JOURNAL, /* "<6>vkd[42]: message" */
	VKD_LOG_PLAIN,	 /* "vkd: message", for `vkd -t` and usage errors */
};

/* Choose the format from the environment: journal or stamped. */
void vkd_log_init(void);

void vkd_log_set_format(enum vkd_log_format format);

/* Drop messages less severe than `level` (errors always pass). */
void vkd_log_set_level(enum vkd_log_level level);
enum vkd_log_level vkd_log_get_level(void);

/*
 * Name who speaks, after "vkd": "" for the master, " worker 2 (gen 1)" for
 * a worker. Copied; truncated to a short fixed length.
 */
void vkd_log_set_ident(const char *ident);

/*
 * Reopen the log destination. stderr is inherited from whoever started
 * vkd (journald, a terminal, a shell redirection) and is never reopened,
 * so this only says so; it is here so that SIGUSR1 has one place to act.
 */
void vkd_log_reopen(void);

void vkd_log(enum vkd_log_level level, const char *format, ...)
    __attribute__((format(printf, 2, 3)));

#define vkd_error(...) vkd_log(VKD_LOG_ERROR, __VA_ARGS__)
#define vkd_warn(...) vkd_log(VKD_LOG_WARN, __VA_ARGS__)
#define vkd_info(...) vkd_log(VKD_LOG_INFO, __VA_ARGS__)
#define vkd_debug(...) vkd_log(VKD_LOG_DEBUG, __VA_ARGS__)

/* A sink for vk_log_set_sink(): syslog levels 0..7 map onto ours. */
void vkd_log_kern(int level, const char *message);

#endif
