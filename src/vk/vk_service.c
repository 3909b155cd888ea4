#include "vk_service.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "vk_bus.h"
#include "vk_log.h"

struct vk_service {
	struct vk_kern *kern;
	struct vk_bus_service *entry; /* in the directory; entry->proc is ours */
	struct vk_service_spec spec;
	struct ev_timer restart;
	double started_at;
	unsigned failures; /* ends in a row, each within VK_SERVICE_STABLE_S of its start */
	char name[];
};

static void service_exit(struct vk_proc *proc, void *ctx);

static int spawn(struct vk_service *service)
{
	struct vk_stats *stats = vk_kern_counters(service->kern);
	struct vk_proc *proc = vk_kern_spawn(service->kern, &service->spec.config,
					     service->spec.main, service->spec.arg, -1);

	if (!proc)
		return -errno;
	service->entry->proc = proc;
	service->started_at = ev_now(vk_kern_loop(service->kern));
	stats->services_now++;
	return 0;
}

static void restart_callback(struct ev_loop *loop, struct ev_timer *timer, int revents)
{
	struct vk_service *service = timer->data;
	int rc;

	(void)loop;
	(void)revents;
	rc = spawn(service);
	if (rc == 0) {
		vk_kern_counters(service->kern)->service_restarts++;
		return;
	}
	/* No heap now: try again later, as if it had ended once more. */
	vk_log(3, "service %s: cannot start: %s", service->name, strerror(-rc));
	service->failures++;
	ev_timer_set(&service->restart, VK_SERVICE_BACKOFF_BASE_MS / 1000.0, 0.);
	ev_timer_start(vk_kern_loop(service->kern), &service->restart);
}

/* 0 the first time, then 100 ms, 200 ms, ... up to the maximum. */
static double backoff_s(unsigned failures)
{
	double ms = VK_SERVICE_BACKOFF_BASE_MS;

	if (failures <= 1)
		return 0;
	for (unsigned i = 2; i < failures && ms < VK_SERVICE_BACKOFF_MAX_MS; i++)
		ms *= 2;
	return (ms > VK_SERVICE_BACKOFF_MAX_MS ? VK_SERVICE_BACKOFF_MAX_MS : ms) / 1000.0;
}

static void service_exit(struct vk_proc *proc, void *ctx)
{
	struct vk_service *service = ctx;
	struct ev_loop *loop = vk_kern_loop(service->kern);
	double delay;

	service->entry->proc = NULL;
	vk_kern_counters(service->kern)->services_now--;
	if (ev_now(loop) - service->started_at >= VK_SERVICE_STABLE_S)
		service->failures = 0;
	service->failures++;
	delay = backoff_s(service->failures);
	vk_log(proc->faulted ? 3 : 4, "service %s (micro-process %llu) %s; restarting in %.0f ms",
	       service->name, (unsigned long long)proc->id,
	       proc->faulted ? "ended by a fault" : "ended", delay * 1000);
	/* Never from inside the ending: the next loop iteration starts it. */
	ev_timer_set(&service->restart, delay, 0.);
	ev_timer_start(loop, &service->restart);
}

struct vk_service *vk_service_start(struct vk_kern *kern, const struct vk_service_spec *spec)
{
	struct vk_bus *bus = vk_kern_bus(kern);
	size_t len = strlen(spec->name);
	struct vk_service *service = calloc(1, sizeof(*service) + len + 1);
	int rc;

	if (!service)
		return NULL;
	memcpy(service->name, spec->name, len + 1);
	service->kern = kern;
	service->spec = *spec;
	service->spec.name = service->name;
	service->spec.config.on_exit = service_exit;
	service->spec.config.on_exit_ctx = service;
	ev_timer_init(&service->restart, restart_callback, 0., 0.);
	service->restart.data = service;
	service->entry = vk_bus_service_add(bus, service->name, spec->kind);
	if (!service->entry) {
		free(service);
		return NULL;
	}
	if (spec->kind == VK_BUS_SINGLE && bus->worker != 1)
		return service;
	rc = spawn(service);
	if (rc < 0) {
		/* The directory keeps the name: opening it says ECONNREFUSED, not ENOENT. */
		free(service);
		errno = -rc;
		return NULL;
	}
	return service;
}

void vk_service_stop(struct vk_service *service)
{
	if (!service)
		return;
	ev_timer_stop(vk_kern_loop(service->kern), &service->restart);
	if (service->entry->proc)
		vk_proc_forget_exit(service->entry->proc);
	free(service);
}

struct vk_proc *vk_service_proc(const struct vk_service *service)
{
	return service->entry->proc;
}
