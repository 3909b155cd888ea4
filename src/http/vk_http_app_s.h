/*
 * What an HTTP app runs with in one worker: its routes, its limits and
 * its own state, made once by vk_http_app_start(). Internal.
 */
#ifndef VK_HTTP_APP_S_H
#define VK_HTTP_APP_S_H

#include "vk_internal.h"

#include <stddef.h>
#include <stdint.h>

#include "vk_http.h"
#include "vk_http_app.h"

struct vk_http_server {
	const char *name; /* the [app NAME] */
	const struct vk_http_app *app;
	/*
	 * What requests are matched against: app->routes itself, or, when
	 * vkd.ini mounts routes for the app (vk_http_mount.h), a table of
	 * those first and then app->routes, built once per worker, with the
	 * state of each mounted static directory (NULL elsewhere).
	 */
	const struct vk_http_route *routes;
	size_t nroutes;
	void **route_state; /* NULL without mounts */
	struct vk_http_limits limits;
	size_t max_head;
	uint32_t header_timeout_ms;
	void *app_state;  /* the app's init hook's result */
	int app_started;  /* its init ran: its fini runs */
	void *access_log; /* vk_access_find()'s, NULL: off */
};

#endif
