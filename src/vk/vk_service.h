/*
 * vk_service: the services of one worker.
 *
 * A service is a micro-process an app declares (VK_SERVICES, vk_app.h) and
 * the worker keeps running, independent of any connection: started with
 * the worker, it accepts the channels opened to it by name
 * (vk_channel.h). It is ended like any micro-process when it faults; when
 * it ends, for any reason, the channels to it see the end (EPIPE after a
 * fault), the service directory marks it down (opening a channel to it
 * raises ECONNREFUSED), and it starts again: at once the first time, then
 * after 100 ms, 200 ms, ... up to 30 s while it keeps ending within 10 s
 * of its start. Each restart is counted (service_restarts) and logged.
 * A restarted service starts empty: what the old one held is gone.
 */
#ifndef VK_SERVICE_H
#define VK_SERVICE_H

#include "vk_internal.h"
#include "vk_kern.h"

struct vk_service;

struct vk_service_spec {
	const char *name;	      /* unique in the worker; copied */
	unsigned kind;		      /* enum vk_bus_kind */
	vk_func main;		      /* its main coroutine */
	void *arg;		      /* vk_arg() of the main coroutine */
	struct vk_proc_config config; /* heap, isolation; no timeout by default */
};

/* Restart backoff: the first restart is at once, then these. */
#define VK_SERVICE_BACKOFF_BASE_MS 100
#define VK_SERVICE_BACKOFF_MAX_MS 30000
/* A service that ran this long was stable: its backoff starts over. */
#define VK_SERVICE_STABLE_S 10.0

/*
 * Declare a service in the worker's directory and start it, if an
 * instance runs in this worker (a VK_BUS_SINGLE service runs in worker 1
 * only: see vk_bus_set_geometry()). Returns the service, or NULL with
 * errno (EEXIST: the name is taken; ENOMEM).
 */
struct vk_service *vk_service_start(struct vk_kern *kern, const struct vk_service_spec *spec);

/*
 * Stop restarting the service and free it. Its process, if running, goes
 * on until the kernel ends it (vk_kern_destroy()).
 */
void vk_service_stop(struct vk_service *service);

/* Its process now, or NULL while it is down or runs in another worker. */
struct vk_proc *vk_service_proc(const struct vk_service *service);

#endif
