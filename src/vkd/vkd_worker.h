/*
 * vkd_worker: one worker process.
 *
 * Forked by the master, a worker names itself, raises its descriptor limit,
 * drops privileges, loads its modules and calls their init hooks, makes its
 * virtual kernel with its counters in the shared slot, accepts on the
 * inherited listeners and tells the master it is ready. SIGTERM (also sent
 * when the master dies) makes it drain: stop accepting, let the live
 * connections finish, exit when none is left in any worker of its
 * generation (their connections may use its services) or at drain_timeout.
 */
#ifndef VKD_WORKER_H
#define VKD_WORKER_H

#include <sys/types.h>

#include "vkd_config.h"
#include "vkd_counters.h"

struct vkd_worker_args {
	const struct vkd_config *config;
	unsigned index;	     /* N of "worker N" */
	unsigned generation; /* G of "(gen G)" */
	struct vkd_slot *slot;
	const struct vkd_counters *counters; /* every worker's slot, to see the generation's */
	/* Listening descriptors, one per listen address in config order. */
	const int *fds;
	size_t fd_count;
	int ready_fd; /* write one byte here once accepting */
	pid_t master;
	char **argv;	  /* the process's argv, overwritten with the title; may be NULL */
	unsigned workers; /* in the generation: shards of sharded services */
	int mesh_fd;	  /* control socket bringing links to the other workers, or -1 */
	/* Per-app counters in shared memory: one per app, in config order; may be NULL. */
	struct vk_app_stats *app_stats;
	int chan_fd; /* the worker's end of its channel to the master (vkd_ps.h) */
};

/*
 * Run the worker in a freshly forked child. Every descriptor the master
 * does not want the worker to have must already be closed. Returns the
 * exit status for the child: 0 after a drain, 1 when it could not start.
 */
int vkd_worker_run(const struct vkd_worker_args *args);

#endif
