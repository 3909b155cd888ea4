/*
 * vkd_master: the supervising process.
 *
 * The master loads the configuration, binds every listener, maps the
 * counters, checks the modules in a child process and forks the workers of
 * the first generation. It never runs application code. It then waits for
 * signals, worker exits and ready reports:
 *
 *  - a worker that dies is respawned at once the first time, then with an
 *    exponential backoff (with jitter) while it keeps dying within a minute
 *    of its start;
 *  - SIGHUP reloads: the configuration and modules are checked again and,
 *    if good, a new generation starts; once all of it is ready the old one
 *    drains. On any error nothing changes;
 *  - SIGTERM and SIGINT drain every worker and exit 0 when all are gone
 *    (stragglers are killed after drain_timeout); SIGQUIT kills the
 *    workers and exits at once; SIGUSR1 reopens the logs;
 *  - the control socket (vkd_control), opened once the listeners are
 *    bound, serves vkctl: status from the counters, reload (answered when
 *    it started or, with `wait`, when it ended), stop, and kill N.
 *
 * The service manager hears READY=1, RELOADING=1, STOPPING=1 and STATUS=
 * through vkd_notify.
 */
#ifndef VKD_MASTER_H
#define VKD_MASTER_H

#include "vkd_config.h"

/*
 * Run the daemon with the configuration at `path` (already loaded and
 * checked as `config`, which the master owns from now on). `argv` is
 * given to workers for their process titles. Returns the process exit
 * status: 0 after a stop, 1 when it could not start.
 */
int vkd_master_run(const char *path, struct vkd_config *config, char **argv);

#endif
