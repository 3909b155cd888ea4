/*
 * vkd_module: loading application modules.
 *
 * A module is a shared object exporting `vk_app_descriptor` (vk_app.h).
 * Workers load modules with dlopen(RTLD_NOW | RTLD_LOCAL) and keep them
 * loaded until they exit. The master never loads application code: it
 * checks modules in a short-lived child (vkd_check.h).
 */
#ifndef VKD_MODULE_H
#define VKD_MODULE_H

#include <stddef.h>

#include "vk_app.h"
#include "vkd_config.h"

/* A loaded module. */
struct vkd_module {
	void *handle;
	const struct vk_app *app;
	const struct vk_service *services; /* VK_SERVICES, checked; NULL when none */
	size_t service_count;
	const char *const *paths; /* VK_APP_PATHS, checked; NULL when none */
	/* The app whose options option() reads (vkd_module_init()). */
	const struct vkd_app_config *config;
};

/*
 * Load the module at `path` for [app NAME] `name` and check it: the file
 * exists and is an ELF object, dlopen() succeeds, it exports the
 * descriptor, whose magic, ABI major and name are right and whose main
 * coroutine is set, and its services (VK_SERVICES, ABI 2.5) are well
 * formed: names, kinds, main coroutines, no name twice, and so are its
 * path options (VK_APP_PATHS, ABI 2.11). Returns 0, or -1
 * with a reason (not naming the file) in `reason`.
 */
int vkd_module_open(struct vkd_module *module, const char *path, const char *name, char *reason,
		    size_t size);

/* vkd_module_open() for [app NAME] `app`: its pinned file, else its path. */
int vkd_module_open_app(struct vkd_module *module, const struct vkd_app_config *app, char *reason,
			size_t size);

/*
 * The bytes of each connection's heap for `app` loaded from `module`:
 * the config's heap, else the module's own default grown by what rings
 * larger than the default add (the room it left for its own allocations
 * stays), held to the bounds the config enforces (a module may ask for
 * less than its rings need) and rounded to pages like a configured one.
 */
size_t vkd_module_heap_size(const struct vkd_app_config *app, const struct vk_app *module);

/*
 * The first option of `app` from index *from on that the module declares a
 * path (VK_APP_PATHS) but that could not be made absolute (its path_errno:
 * a relative value, a relative -c and no working directory), or NULL.
 * *from is moved past it, so that a loop finds them all.
 */
const struct vkd_app_option *vkd_module_path_unresolved(const struct vkd_module *module,
							const struct vkd_app_config *app,
							size_t *from);

/*
 * Run the module's init hook for `app`: fill `context` (which the caller
 * keeps for as long as the app runs, with `module`) with the app's name,
 * its opt.* values, those it declares paths (VK_APP_PATHS) made absolute,
 * and its connections' heap (heap_size, ring_size, heap_room), and call
 * init. Returns 0 with init's result in *state (NULL
 * when there is no hook), or the positive errno init refused with (or a
 * path option's path_errno, before init: vkd_module_path_unresolved()).
 */
int vkd_module_init(struct vkd_module *module, const struct vkd_app_config *app,
		    struct vk_app_context *context, void **state);

/*
 * After vkd_module_init() refused: the option of `app` its init named
 * (vk_app_refuse(), ABI 2.14), whose line is the one to report, or NULL
 * (it named none, or an option left at its default: the [app] line).
 */
const struct vkd_app_option *vkd_module_refused(const struct vkd_app_config *app);

/*
 * Whether the module loaded for an app can serve its route line `route`
 * (vkd.ini's `route` key): the module is an HTTP app, and exports the
 * handler named (vk_http_mount_export()) or this process can serve the
 * static directory (vk_http_mount_root_ok()). 0, or -1 with the reason.
 * Run in the module check, as the workers' user, for every line.
 */
int vkd_module_route_check(const struct vkd_module *module, const struct vk_http_mount *route,
			   char *reason, size_t size);

/*
 * Copy every module file of `config` once into a sealed memfd (no write,
 * no size change, no unsealing) kept open in the config, so that the
 * check and every worker of the generation, respawned ones included, load
 * that very content (/proc/self/fd/N) whatever happens to the file: a new
 * version renamed over it, copied over it in place (same inode), the file
 * truncated or deleted. Only the next reload reads the path again. Where
 * memfd_create() fails the file itself is kept open instead (a rename is
 * still harmless, an in-place write is not; a warning says so). Best
 * effort: a file that does not open as a regular file stays unpinned, and
 * loading it by path reports why.
 */
void vkd_module_pin(struct vkd_config *config);

/* Close the files vkd_module_pin() opened (in a worker, another generation's). */
void vkd_module_unpin(struct vkd_config *config);

/*
 * Whether app `i` of `config` declares a service that one of the apps
 * before it declares too (service names are a worker's, not an app's):
 * 1 with the reason in `reason`, else 0. `modules` are the apps' loaded
 * modules, 0 to i; an app not loaded has no services.
 */
int vkd_module_services_clash(const struct vkd_config *config, const struct vkd_module *modules,
			      size_t i, char *reason, size_t size);

#endif
