/*
 * vkd_check: checking a configuration's modules in a child process.
 *
 * The master never runs application code, yet a module that cannot load,
 * or whose init hook refuses its opt.* values, must be a configuration
 * error (of `vkd -t`, of a start, of a reload) and not a crash loop of
 * workers. So a short-lived child, forked from the master, does for every
 * app what a worker will do (as the configured user): it loads the module
 * (vkd_module_open_app(), which checks its services too), sees that no
 * earlier app declares a service of the same name, runs its init hook,
 * then its fini hook.
 *
 * The child reports on a pipe, one line per event: the step it enters
 * ("step I load|init|fini" for app I), each bad module ("bad
 * CONFIG:LINE: app NAME: MODULE: reason") and, last, "done". Only that
 * explicit "done" with exit status 0 and no bad module counts as a pass:
 * a module that ends the child (exit(0) in its init hook, a signal, a
 * hang until the timeout) fails the check, and the last step reported
 * names the app, its module file and its config line.
 *
 * The check is asynchronous: vkd_check_start() forks and returns; the
 * caller polls `fd`, calls vkd_check_read() when it is readable and
 * vkd_check_expire() at `deadline_ms`, reaps the child itself (the master
 * reaps every child in one place) and hands its wait status to
 * vkd_check_end(). vkd_check_run() does all of that in place, for `vkd -t`
 * and the first start, when the master has nothing else to serve yet.
 */
#ifndef VKD_CHECK_H
#define VKD_CHECK_H

#include <stddef.h>
#include <sys/types.h>

#include "vkd_config.h"

/* How long the child may take for every module of a configuration. */
#define VKD_CHECK_TIMEOUT_MS 10000L

/* Messages found by a check, each "CONFIG:LINE: app NAME: MODULE: reason"
 * when it is about one module. The caller's, zeroed before use. */
struct vkd_check_errors {
	char **messages;
	size_t count;
};

void vkd_check_errors_free(struct vkd_check_errors *errors);

/* A check under way. */
struct vkd_check {
	const struct vkd_config *config; /* the caller's, kept until the end */
	pid_t pid;			 /* the child, until vkd_check_end() */
	int fd;				 /* the report's read end, non-blocking; -1 after EOF */
	long deadline_ms;		 /* CLOCK_MONOTONIC ms: killed then */
	int timed_out;
	char *report; /* what the child wrote, NUL-terminated */
	size_t len;
	int truncated;
};

/*
 * Fork the child that checks every module of `config` (pinned already:
 * vkd_module_pin()), due by now_ms + VKD_CHECK_TIMEOUT_MS. Returns 0, or
 * -1 with the reason in `errors` (pipe or fork failed: nothing to wait
 * for).
 */
int vkd_check_start(struct vkd_check *check, const struct vkd_config *config, long now_ms,
		    struct vkd_check_errors *errors);

/* Read what the child has written so far (fd was readable). */
void vkd_check_read(struct vkd_check *check);

/* Past the deadline: kill the child. Its end still comes by vkd_check_end(). */
void vkd_check_expire(struct vkd_check *check, long now_ms);

/* Kill the child now (the caller stops): the result will not be wanted. */
void vkd_check_kill(struct vkd_check *check);

/*
 * The child was reaped with wait status `status`: read the rest of its
 * report, judge it and release the check. Returns 0 when every module
 * passed, else -1 with the messages in `errors`.
 */
int vkd_check_end(struct vkd_check *check, int status, struct vkd_check_errors *errors);

/* A whole check, waited for in place (bounded by the timeout). 0 or -1. */
int vkd_check_run(const struct vkd_config *config, struct vkd_check_errors *errors);

#endif
