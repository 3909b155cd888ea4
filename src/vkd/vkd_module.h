/*
 * vkd_module: loading application modules and checking them.
 *
 * A module is a shared object exporting `vk_app_descriptor` (vk_app.h).
 * Workers load modules with dlopen(RTLD_NOW | RTLD_LOCAL) and keep them
 * loaded until they exit. The master never loads application code: it
 * checks modules in a short-lived child (vkd_module_check()), which reports
 * its findings over a pipe, so a module that crashes in a constructor only
 * fails the check.
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
};

/*
 * Load the module at `path` for [app NAME] `name` and check it: the file
 * exists and is an ELF object, dlopen() succeeds, it exports the
 * descriptor, whose magic, ABI major and name are right and whose main
 * coroutine is set. Returns 0, or -1 with a reason (not naming the file)
 * in `reason`.
 */
int vkd_module_open(struct vkd_module *module, const char *path, const char *name, char *reason,
		    size_t size);

/* vkd_module_open() for [app NAME] `app`: its pinned file, else its path. */
int vkd_module_open_app(struct vkd_module *module, const struct vkd_app_config *app, char *reason,
			size_t size);

/*
 * Run the module's init hook for `app`: fill `context` (which the caller
 * keeps for as long as the app runs) with the app's name and its opt.*
 * values, and call init. Returns 0 with init's result in *state (NULL
 * when there is no hook), or the positive errno init refused with.
 */
int vkd_module_init(struct vkd_module *module, const struct vkd_app_config *app,
		    struct vk_app_context *context, void **state);

/*
 * Open every module file of `config` once and keep it open in the config,
 * so that the check and every worker of the generation, respawned ones
 * included, load that very file even when its path is replaced meanwhile
 * (a new version copied in before the reload). Best effort: a file that
 * does not open stays unpinned, and loading it by path reports why.
 */
void vkd_module_pin(struct vkd_config *config);

/* Close the files vkd_module_pin() opened (in a worker, another generation's). */
void vkd_module_unpin(struct vkd_config *config);

/* Messages found by vkd_module_check(). */
struct vkd_module_errors {
	char **messages; /* "CONFIG:LINE: app NAME: MODULE: reason" */
	size_t count;
};

void vkd_module_errors_free(struct vkd_module_errors *errors);

/*
 * Check every module of `config` in a forked child (bounded by a timeout):
 * each loads (vkd_module_open) and accepts its app's options (its init
 * hook runs, then its fini hook), so that a bad opt.* value is a
 * configuration error and not a crash loop of workers.
 * Returns 0 when all are good, else -1 with the messages in `errors` (also
 * on a failure of the check itself, e.g. fork()). `errors` is the
 * caller's, zeroed before the call.
 */
int vkd_module_check(const struct vkd_config *config, struct vkd_module_errors *errors);

#endif
