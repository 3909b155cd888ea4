/*
 * vk_stats: the counters of one worker's kernel.
 *
 * Every counter only grows but procs_now, outbound_now, pooled_now and
 * services_now, which also fall as processes and connections end. They may
 * live in memory shared with a supervisor (vk_kern_set_stats()), which reads
 * them without locks: each is one aligned 64-bit word, written by one
 * process only.
 */
#ifndef VK_STATS_H
#define VK_STATS_H

#include <stdint.h>

#include "vk_internal.h"

struct vk_stats {
	uint64_t procs_now;	/* micro-processes alive */
	uint64_t procs_total;	/* micro-processes started */
	uint64_t faults;	/* micro-processes ended by a fault */
	uint64_t bytes_in;	/* bytes read from descriptors */
	uint64_t bytes_out;	/* bytes written to descriptors */
	uint64_t accepted;	/* connections accepted */
	uint64_t refused;	/* connections closed at once: over a limit */
	uint64_t heap_failures; /* micro-heaps that could not be mapped */
	uint64_t dispatches;	/* micro-process dispatches */
	uint64_t protections;	/* mprotect calls */
	uint64_t watchdog;	/* micro-processes ended by the watchdog (max_run) */
	uint64_t app_errors;	/* coroutines ended by an app error (vk_proc.h) */
	/* Outbound connections (vk_connect()). */
	uint64_t outbound_now;	   /* open now (falls as they close) */
	uint64_t connects;	   /* opened with a handshake */
	uint64_t connect_failures; /* connects that failed or timed out */
	uint64_t connects_pooled;  /* taken from the idle pool, no handshake */
	uint64_t resolves;	   /* host name lookups made (cache misses) */
	uint64_t resolve_failures; /* lookups that found no address */
	uint64_t pooled_now;	   /* idle in the pool now (vk_socket_keep()) */
	/* Messaging (vk_chan.h, vk_pubsub.h, vk_service.h, vk_mesh.h). */
	uint64_t services_now;	   /* service micro-processes alive */
	uint64_t service_restarts; /* services started again after ending */
	uint64_t channels;	   /* channels opened, to this worker's processes or from them */
	uint64_t channel_bytes;	   /* bytes processes wrote into channels */
	uint64_t messages;	   /* messages published by this worker's processes */
	uint64_t deliveries;	   /* messages queued for this worker's subscribers */
	uint64_t drops;		   /* messages dropped: a subscriber's queue, or a link, full */
	uint64_t mesh_bytes_out;   /* bytes sent to other workers */
	uint64_t mesh_bytes_in;	   /* bytes received from other workers */
	uint64_t killed;	/* micro-processes ended by vkctl kill (vk_kern_kill()) */
};

/*
 * The counters of one app in one worker (vk_proc_config.app_stats), for
 * vkctl status: written by the worker's kernel, listeners and access logs only.
 */
struct vk_app_stats {
	uint64_t procs_now;	   /* its micro-processes alive */
	uint64_t procs_total;	   /* started */
	uint64_t faults;	   /* ended by a fault */
	uint64_t watchdog;	   /* ended by the watchdog */
	uint64_t refused;	   /* connections closed at once: over max_connections, no heap */
	uint64_t killed;	   /* ended by vkctl kill */
	uint64_t app_errors;	   /* coroutines ended by an app error */
	uint64_t access_log_drops; /* access log lines dropped: the file or pipe was full */
};

#endif
