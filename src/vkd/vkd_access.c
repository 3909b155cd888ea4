/*
 * vkd_access: the access logs of one worker; see vkd_access.h.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "vk_log.h"
#include "vkd_access.h"
#include "vkd_log.h"

#define ACCESS_FLAGS (O_WRONLY | O_APPEND | O_CREAT | O_NONBLOCK | O_CLOEXEC)
#define ACCESS_MODE 0644

struct access_log {
	const char *app;  /* the config's */
	const char *path; /* NULL: stderr */
	int fd;		  /* -1: none (a FIFO with no reader yet): every line dropped */
	int socket;	  /* stderr is a socket: send(MSG_DONTWAIT) */
	size_t used;
	uint64_t *drops;
	uint64_t own_drops; /* when there is no shared counter */
	char *buf;
};

static struct access_log *logs;
static size_t log_count;
static struct ev_loop *flush_loop;
static struct ev_timer flush_timer;
static struct ev_signal reopen_signal;

static void count_drops(struct access_log *log, const char *from, size_t len)
{
	uint64_t lines = 0;

	for (const char *p = from; (p = memchr(p, '\n', len - (size_t)(p - from))); p++)
		lines++;
	__atomic_store_n(log->drops, *log->drops + lines, __ATOMIC_RELAXED);
}

static ssize_t put(const struct access_log *log, const char *buf, size_t len)
{
	ssize_t n;

	do {
		n = log->socket ? send(log->fd, buf, len, MSG_DONTWAIT | MSG_NOSIGNAL)
				: write(log->fd, buf, len);
	} while (n < 0 && errno == EINTR);
	return n;
}

/*
 * One write of the buffer. What it does not take is dropped, whole lines
 * only: the rest of a line cut by a short write stays first in the
 * buffer, so the file never holds half a line followed by another.
 */
static void flush(struct access_log *log)
{
	ssize_t n;
	const char *end;
	size_t keep;

	if (!log->used)
		return;
	n = log->fd >= 0 ? put(log, log->buf, log->used) : -1;
	if (n < 0)
		n = 0;
	if ((size_t)n == log->used) {
		log->used = 0;
		return;
	}
	keep = 0;
	if (n > 0 && log->buf[n - 1] != '\n') {
		end = memchr(log->buf + n, '\n', log->used - (size_t)n);
		keep = (size_t)(end - log->buf) + 1 - (size_t)n;
	}
	count_drops(log, log->buf + n + keep, log->used - (size_t)n - keep);
	memmove(log->buf, log->buf + n, keep);
	log->used = keep;
}

static void flush_all(void)
{
	for (size_t i = 0; i < log_count; i++)
		flush(&logs[i]);
}

static void flush_cb(struct ev_loop *loop, struct ev_timer *timer, int revents)
{
	(void)loop;
	(void)timer;
	(void)revents;
	flush_all();
}

static void *hook_find(const char *name)
{
	for (size_t i = 0; i < log_count; i++)
		if (strcmp(logs[i].app, name) == 0)
			return &logs[i];
	return NULL;
}

static void hook_write(void *opaque, const char *line, size_t len)
{
	struct access_log *log = opaque;

	if (log->used + len > VKD_ACCESS_BUFFER)
		flush(log);
	if (log->used + len > VKD_ACCESS_BUFFER) {
		count_drops(log, line, len);
		return;
	}
	memcpy(log->buf + log->used, line, len);
	log->used += len;
	if (flush_loop && !ev_is_active(&flush_timer)) {
		ev_timer_set(&flush_timer, VKD_ACCESS_FLUSH_S, 0.);
		ev_timer_start(flush_loop, &flush_timer);
	}
}

static const struct vk_access_hook hook = {.find = hook_find, .write = hook_write};

/*
 * stderr, without changing its flags (the master's lines go there too): a
 * file is shared as it is (its offset too) and never says EAGAIN; a
 * socket (journald) takes MSG_DONTWAIT; a pipe or terminal is opened anew,
 * non-blocking.
 */
static int open_stderr(struct access_log *log)
{
	struct stat st;
	int fd;

	if (fstat(STDERR_FILENO, &st) < 0)
		return -1;
	log->socket = S_ISSOCK(st.st_mode);
	if (!S_ISREG(st.st_mode) && !log->socket) {
		fd = open("/proc/self/fd/2", O_WRONLY | O_APPEND | O_NONBLOCK | O_CLOEXEC);
		if (fd >= 0)
			return fd;
	}
	return fcntl(STDERR_FILENO, F_DUPFD_CLOEXEC, 3);
}

/* The descriptor of a path log; -1 with errno. A FIFO with no reader yet is ENXIO. */
static int open_path(const char *path)
{
	int fd;

	do
		fd = open(path, ACCESS_FLAGS, ACCESS_MODE);
	while (fd < 0 && errno == EINTR);
	return fd;
}

static int open_one(struct access_log *log)
{
	if (!log->path) {
		log->fd = open_stderr(log);
		if (log->fd < 0) {
			vkd_error("app %s: access_log stderr: %s", log->app, strerror(errno));
			return -1;
		}
		return 0;
	}
	log->fd = open_path(log->path);
	if (log->fd >= 0)
		return 0;
	if (errno == ENXIO) {
		vkd_warn("app %s: access_log %s: no reader yet: lines are dropped until "
			 "SIGUSR1",
			 log->app, log->path);
		return 0;
	}
	vkd_error("app %s: access_log %s: %s", log->app, log->path, strerror(errno));
	return -1;
}

static void reopen_all(void)
{
	flush_all();
	for (size_t i = 0; i < log_count; i++) {
		struct access_log *log = &logs[i];
		int fd;

		if (!log->path)
			continue;
		fd = open_path(log->path);
		if (fd < 0) {
			/* Keep writing where we did: a line in the old file beats none. */
			vkd_error("app %s: access_log %s: reopen: %s", log->app, log->path,
				  strerror(errno));
			continue;
		}
		if (log->fd >= 0)
			close(log->fd);
		log->fd = fd;
	}
}

static void reopen_cb(struct ev_loop *loop, struct ev_signal *watcher, int revents)
{
	(void)loop;
	(void)watcher;
	(void)revents;
	reopen_all();
}

int vkd_access_open(const struct vkd_config *config, struct vk_app_stats *app_stats)
{
	size_t count = 0;

	for (size_t i = 0; i < config->app_count; i++)
		count += config->apps[i].access_log != VKD_ACCESS_OFF;
	if (!count)
		return 0;
	logs = calloc(count, sizeof(*logs));
	if (!logs) {
		vkd_error("access logs: out of memory");
		return -1;
	}
	for (size_t i = 0; i < config->app_count; i++) {
		const struct vkd_app_config *app = &config->apps[i];
		struct access_log *log = &logs[log_count];

		if (app->access_log == VKD_ACCESS_OFF)
			continue;
		log->app = app->name;
		log->path = app->access_log == VKD_ACCESS_PATH ? app->access_log_path : NULL;
		log->drops = app_stats ? &app_stats[i].access_log_drops : &log->own_drops;
		log->buf = malloc(VKD_ACCESS_BUFFER);
		log->fd = -1;
		log_count++;
		if (!log->buf) {
			vkd_error("app %s: access_log: out of memory", app->name);
			return -1;
		}
		if (open_one(log) < 0)
			return -1;
	}
	vk_access_set_hook(&hook);
	return 0;
}

void vkd_access_start(struct ev_loop *loop)
{
	flush_loop = loop;
	ev_timer_init(&flush_timer, flush_cb, VKD_ACCESS_FLUSH_S, 0.);
	ev_signal_init(&reopen_signal, reopen_cb, SIGUSR1);
	ev_signal_start(loop, &reopen_signal);
	/* Neither keeps a draining worker's loop alive. */
	ev_unref(loop);
}

void vkd_access_close(void)
{
	flush_all();
	vk_access_set_hook(NULL);
	if (flush_loop) {
		ev_timer_stop(flush_loop, &flush_timer);
		ev_ref(flush_loop);
		ev_signal_stop(flush_loop, &reopen_signal);
		flush_loop = NULL;
	}
	for (size_t i = 0; i < log_count; i++) {
		if (logs[i].fd >= 0)
			close(logs[i].fd);
		free(logs[i].buf);
	}
	free(logs);
	logs = NULL;
	log_count = 0;
}

int vkd_access_check(const struct vkd_app_config *app, char *reason, size_t cap)
{
	int fd;

	if (app->access_log != VKD_ACCESS_PATH)
		return 0;
	fd = open_path(app->access_log_path);
	if (fd < 0 && errno != ENXIO) {
		snprintf(reason, cap, "%s", strerror(errno));
		return -1;
	}
	if (fd >= 0)
		close(fd);
	return 0;
}
