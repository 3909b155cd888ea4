/*
 * vkd_module: loading and checking application modules; see vkd_module.h.
 */
#include "config.h"

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <unistd.h>

#include "vk_http_app.h"
#include "vk_http_mount.h"
#include "vk_refused.h"
#include "vkd_log.h"
#include "vkd_module.h"

static int reason_set(char *reason, size_t size, const char *format, ...)
    __attribute__((format(printf, 3, 4)));

static int reason_set(char *reason, size_t size, const char *format, ...)
{
	va_list ap;

	va_start(ap, format);
	vsnprintf(reason, size, format, ap);
	va_end(ap);
	return -1;
}

/*
 * Look at the file before dlopen() does: its messages for a missing file
 * or a text file are long and vary between libc versions.
 */
static int module_file_check(const char *path, char *reason, size_t size)
{
	unsigned char magic[4];
	struct stat st;
	ssize_t n;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return reason_set(reason, size, "cannot open: %s", strerror(errno));
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return reason_set(reason, size, "not a regular file");
	}
	do
		n = read(fd, magic, sizeof(magic));
	while (n < 0 && errno == EINTR);
	close(fd);
	if (n < 0)
		return reason_set(reason, size, "cannot read: %s", strerror(errno));
	if (n != (ssize_t)sizeof(magic) || memcmp(magic, "\177ELF", 4) != 0)
		return reason_set(reason, size, "not an ELF shared object");
	return 0;
}

static int layout_mismatch(const char *type, unsigned theirs, unsigned ours, char *reason,
			   size_t size)
{
	return reason_set(reason, size,
			  "built against other headers: %s is %u bytes in the module, %u in vkd "
			  "(rebuild the module)",
			  type, theirs, ours);
}

/* The ABI minor that grew struct vk_app_context (heap_size ...), and its size before. */
#define MODULE_CONTEXT_MINOR 13
#define MODULE_CONTEXT_OLD offsetof(struct vk_app_context, heap_size)

/*
 * struct vk_app_context only grows at its end (vk_app.h): a module of an
 * older minor saw it as it was then, and reads no field past that.
 */
static int context_size_ok(const struct vk_app *app)
{
	static const struct vk_app_layout ours = VK_APP_LAYOUT;

	return app->layout.app_context == ours.app_context ||
	       (app->abi_minor < MODULE_CONTEXT_MINOR &&
		app->layout.app_context == MODULE_CONTEXT_OLD);
}

/* Refuse a module that saw a public structure at another size than vkd did. */
static int layout_check(const struct vk_app *app, char *reason, size_t size)
{
	static const struct vk_app_layout ours = VK_APP_LAYOUT;
	const struct vk_app_layout *theirs = &app->layout;

#define VKD_LAYOUT_SAME(field, type)     \
	if (theirs->field != ours.field) \
		return layout_mismatch(type, theirs->field, ours.field, reason, size);
	VKD_LAYOUT_SAME(thread, "struct vk_thread")
	if (!context_size_ok(app))
		return layout_mismatch("struct vk_app_context", theirs->app_context,
				       ours.app_context, reason, size);
	VKD_LAYOUT_SAME(http_request, "struct vk_http_request")
	VKD_LAYOUT_SAME(http_chunked, "struct vk_http_chunked")
	VKD_LAYOUT_SAME(http_limits, "struct vk_http_limits")
	VKD_LAYOUT_SAME(http_out, "struct vk_http_out")
#undef VKD_LAYOUT_SAME
	if (theirs->thread_shape != ours.thread_shape)
		return reason_set(reason, size,
				  "built against other headers: struct vk_thread's fields or the "
				  "coroutine macros' constants differ (rebuild the module)");
	if (theirs->http_shape != ours.http_shape)
		return reason_set(reason, size,
				  "built against other headers: the vk_http structures' fields or "
				  "constants differ (rebuild the module)");
	return 0;
}

static int module_app_check(const struct vk_app *app, const char *name, char *reason, size_t size)
{
	if (app->magic != VK_APP_MAGIC)
		return reason_set(reason, size, "wrong magic 0x%08x in %s (want 0x%08x)",
				  (unsigned)app->magic, VK_APP_SYMBOL, VK_APP_MAGIC);
	if (app->abi_major != VK_APP_ABI_MAJOR)
		return reason_set(reason, size, "built for ABI %u.%u, vkd has ABI %u.%u",
				  (unsigned)app->abi_major, (unsigned)app->abi_minor,
				  VK_APP_ABI_MAJOR, VK_APP_ABI_MINOR);
	if (app->abi_minor > VK_APP_ABI_MINOR)
		return reason_set(reason, size,
				  "built for ABI %u.%u, newer than vkd's ABI %u.%u (upgrade vkd)",
				  (unsigned)app->abi_major, (unsigned)app->abi_minor,
				  VK_APP_ABI_MAJOR, VK_APP_ABI_MINOR);
	if (layout_check(app, reason, size) < 0)
		return -1;
	if (!app->name || strcmp(app->name, name) != 0)
		return reason_set(reason, size, "module is app \"%s\", configured as [app %s]",
				  app->name ? app->name : "(null)", name);
	if (!app->main)
		return reason_set(reason, size, "no main coroutine in %s", VK_APP_SYMBOL);
	return 0;
}

/* Letters, digits, '_', '-' and '.', as app and option names. */
static int name_ok(const char *name)
{
	size_t n;

	if (!name)
		return 0;
	n = strspn(name, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-.");
	return n > 0 && n <= VK_SERVICE_NAME_MAX && name[n] == '\0';
}

/* The ABI minor that added VK_SERVICES: older modules declare none. */
#define MODULE_SERVICES_MINOR 5

/* The services a module declares (ABI 2.5), checked; 0 or -1 with a reason. */
static int module_services(struct vkd_module *module, char *reason, size_t size)
{
	const struct vk_service *list;
	size_t n = 0;

	module->services = NULL;
	module->service_count = 0;
	if (module->app->abi_minor < MODULE_SERVICES_MINOR)
		return 0;
	list = dlsym(module->handle, VK_SERVICES_SYMBOL);
	if (!list)
		return 0;
	for (; list[n].name || list[n].main; n++) {
		const struct vk_service *s = &list[n];

		if (n >= VK_SERVICES_MAX)
			return reason_set(reason, size, "more than %d services", VK_SERVICES_MAX);
		if (!name_ok(s->name))
			return reason_set(reason, size,
					  "service %zu: bad name '%.64s': use up to %d letters, "
					  "digits, '_', '-' and '.'",
					  n + 1, s->name ? s->name : "(null)", VK_SERVICE_NAME_MAX);
		if (!s->main)
			return reason_set(reason, size, "service %s: no main coroutine", s->name);
		if ((s->flags & VK_SERVICE_KIND) > VK_SERVICE_SINGLE ||
		    (s->flags & ~(VK_SERVICE_KIND | VK_SERVICE_UNPROTECTED)))
			return reason_set(reason, size, "service %s: unknown flags 0x%x", s->name,
					  s->flags);
		for (size_t i = 0; i < n; i++)
			if (strcmp(list[i].name, s->name) == 0)
				return reason_set(reason, size, "service %s is declared twice",
						  s->name);
	}
	module->services = n ? list : NULL;
	module->service_count = n;
	return 0;
}

/* The ABI minor that added VK_APP_PATHS: older modules declare none. */
#define MODULE_PATHS_MINOR 11

/* The path options a module declares (ABI 2.11), checked; 0 or -1 with a reason. */
static int module_paths(struct vkd_module *module, char *reason, size_t size)
{
	const char *const *list;
	size_t n = 0;

	module->paths = NULL;
	if (module->app->abi_minor < MODULE_PATHS_MINOR)
		return 0;
	list = dlsym(module->handle, VK_APP_PATHS_SYMBOL);
	if (!list)
		return 0;
	for (; list[n]; n++) {
		if (n >= VK_APP_PATHS_MAX)
			return reason_set(reason, size, "more than %d path options",
					  VK_APP_PATHS_MAX);
		/* Option names follow the rule of service names. */
		if (!name_ok(list[n]))
			return reason_set(reason, size,
					  "path option %zu: bad name '%.64s': use letters, "
					  "digits, '_', '-' and '.'",
					  n + 1, list[n]);
	}
	module->paths = list;
	return 0;
}

static int module_is_path(const struct vkd_module *module, const char *key)
{
	for (size_t i = 0; module->paths && module->paths[i]; i++)
		if (strcmp(module->paths[i], key) == 0)
			return 1;
	return 0;
}

int vkd_module_open(struct vkd_module *module, const char *path, const char *name, char *reason,
		    size_t size)
{
	const struct vk_app *app;
	void *handle;
	const char *err;

	if (module_file_check(path, reason, size) < 0)
		return -1;
	handle = dlopen(path, RTLD_NOW | RTLD_LOCAL);
	if (!handle) {
		err = dlerror();
		return reason_set(reason, size, "cannot load: %s", err ? err : "dlopen failed");
	}
	dlerror();
	app = dlsym(handle, VK_APP_SYMBOL);
	if (!app) {
		/* Modules stay loaded until exit; dlclose() would upset LSan. */
		return reason_set(reason, size, "no %s symbol: not a vkd module", VK_APP_SYMBOL);
	}
	if (module_app_check(app, name, reason, size) < 0)
		return -1;
	module->handle = handle;
	module->app = app;
	module->config = NULL;
	if (module_services(module, reason, size) < 0)
		return -1;
	return module_paths(module, reason, size);
}

int vkd_module_services_clash(const struct vkd_config *config, const struct vkd_module *modules,
			      size_t i, char *reason, size_t size)
{
	for (size_t k = 0; k < modules[i].service_count; k++) {
		const char *name = modules[i].services[k].name;

		for (size_t j = 0; j < i; j++)
			for (size_t l = 0; l < modules[j].service_count; l++)
				if (strcmp(modules[j].services[l].name, name) == 0) {
					reason_set(reason, size,
						   "service %s is declared by app %s too", name,
						   config->apps[j].name);
					return 1;
				}
	}
	return 0;
}

/* /proc/self/fd/N names the pinned copy, whatever its path holds now. */
static void pinned_path(const struct vkd_app_config *app, char *out, size_t size)
{
	snprintf(out, size, "/proc/self/fd/%d", app->module_fd);
}

int vkd_module_open_app(struct vkd_module *module, const struct vkd_app_config *app, char *reason,
			size_t size)
{
	char path[32];

	if (app->module_fd < 0)
		return vkd_module_open(module, app->module_path, app->name, reason, size);
	pinned_path(app, path, sizeof(path));
	return vkd_module_open(module, path, app->name, reason, size);
}

/* A copy's seals: no write, no size change, and no seal taken off. */
#define VKD_MODULE_SEALS (F_SEAL_WRITE | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL)

/* Everything the file `from` holds, appended to `to`. */
static int copy_all(int from, int to)
{
	for (;;) {
		ssize_t n = sendfile(to, from, NULL, (size_t)1 << 20);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return (int)n;
	}
}

/*
 * A sealed in-memory copy of the open module file `fd`, named after it (in
 * /proc/PID/maps: "/memfd:NAME (deleted)"). Returns the copy, or -1 with
 * errno.
 */
static int module_copy(int fd, const char *path)
{
	const char *slash = strrchr(path, '/');
	int copy = memfd_create(slash ? slash + 1 : path, MFD_CLOEXEC | MFD_ALLOW_SEALING);
	int saved;

	if (copy < 0)
		return -1;
	if (copy_all(fd, copy) == 0 && fcntl(copy, F_ADD_SEALS, VKD_MODULE_SEALS) == 0)
		return copy;
	saved = errno;
	close(copy);
	errno = saved;
	return -1;
}

/*
 * The descriptor app's generation loads: a sealed copy of its file, else
 * (no memfd here) the file itself; -1 when it does not open as a regular
 * file (loading by path says why). O_NONBLOCK: a FIFO must not block the
 * master.
 */
static int module_pin_fd(const struct vkd_app_config *app)
{
	struct stat st;
	int fd, copy;

	fd = open(app->module_path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0)
		return -1;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return -1;
	}
	copy = module_copy(fd, app->module_path);
	if (copy < 0) {
		vkd_warn("app %s: %s: no private copy of the module (%s): a write to the "
			 "file in place reaches its workers",
			 app->name, app->module_path, strerror(errno));
		return fd;
	}
	close(fd);
	return copy;
}

void vkd_module_pin(struct vkd_config *config)
{
	for (size_t i = 0; i < config->app_count; i++) {
		struct vkd_app_config *app = &config->apps[i];
		char path[32];

		if (app->module_fd >= 0)
			continue;
		app->module_fd = module_pin_fd(app);
		if (app->module_fd < 0)
			continue;
		pinned_path(app, path, sizeof(path));
		if (access(path, R_OK) == 0)
			continue;
		/* No /proc here: load by path, as without pinning. */
		close(app->module_fd);
		app->module_fd = -1;
	}
}

void vkd_module_unpin(struct vkd_config *config)
{
	for (size_t i = 0; i < config->app_count; i++) {
		struct vkd_app_config *app = &config->apps[i];

		if (app->module_fd >= 0 && close(app->module_fd) < 0 && errno != EINTR)
			vkd_debug("close module file: %s", strerror(errno));
		app->module_fd = -1;
	}
}

size_t vkd_module_heap_size(const struct vkd_app_config *app, const struct vk_app *module)
{
	size_t page = (size_t)sysconf(_SC_PAGESIZE);
	size_t size = module->heap_size;

	if (app->heap_size)
		return app->heap_size;
	if (size < VKD_HEAP_MIN)
		size = VKD_HEAP_MIN;
	/*
	 * The module sized its heap for the default rings: larger ones grow
	 * it by what they add, so that the room it left for its own
	 * allocations (its options' defaults, which init checks against it)
	 * stays. http.so's 64k becomes 160k for 64k rings, not 136k (no room).
	 */
	if (app->ring_size > VKD_DEFAULT_RING)
		size += 2 * (app->ring_size - VKD_DEFAULT_RING);
	if (size < vkd_heap_for_ring(app->ring_size))
		size = vkd_heap_for_ring(app->ring_size);
	if (size > VKD_HEAP_MAX)
		size = VKD_HEAP_MAX;
	return (size + page - 1) / page * page;
}

/* A connection's heap as init is told it (ABI 2.13): the rings and the spare taken off. */
static void context_heap(struct vk_app_context *context, const struct vkd_app_config *app,
			 const struct vk_app *module)
{
	size_t taken = 2 * app->ring_size + VKD_HEAP_SPARE;

	context->heap_size = vkd_module_heap_size(app, module);
	context->ring_size = app->ring_size;
	context->heap_room = context->heap_size > taken ? context->heap_size - taken : 0;
}

static const char *module_option(const struct vk_app_context *context, const char *key)
{
	const struct vkd_module *module = context->opaque;

	if (module_is_path(module, key))
		return vkd_app_option_path(module->config, key);
	return vkd_app_option(module->config, key);
}

const struct vkd_app_option *vkd_module_path_unresolved(const struct vkd_module *module,
							const struct vkd_app_config *app,
							size_t *from)
{
	while (*from < app->option_count) {
		const struct vkd_app_option *opt = &app->options[(*from)++];

		if (opt->path_errno && module_is_path(module, opt->name))
			return opt;
	}
	return NULL;
}

int vkd_module_init(struct vkd_module *module, const struct vkd_app_config *app,
		    struct vk_app_context *context, void **state)
{
	struct vk_http_mounts mounts = {.app = app->name,
					.module = module->handle,
					.mounts = app->routes,
					.count = app->route_count};
	const struct vkd_app_option *unresolved;
	size_t from = 0;
	int error = 0;

	module->config = app;
	context->name = app->name;
	context->option = module_option;
	context->opaque = module;
	context_heap(context, app, module->app);
	*state = NULL;
	/* The module check said which (vkd_check.c); a path must never be "". */
	unresolved = vkd_module_path_unresolved(module, app, &from);
	if (unresolved)
		return unresolved->path_errno;
	/*
	 * The HTTP library's init (vk_http_app_start()) builds its table with
	 * the routes, and checks its options against the heap.
	 */
	mounts.heap_size = context->heap_size;
	mounts.ring_size = context->ring_size;
	mounts.heap_room = context->heap_room;
	if (vk_http_mounts_offer(&mounts) < 0)
		return ENOMEM;
	if (!module->app->init)
		return 0;
	vk_refused_set(app->name, NULL);
	*state = module->app->init(context, &error);
	return error;
}

const struct vkd_app_option *vkd_module_refused(const struct vkd_app_config *app)
{
	const char *key = vk_refused_key(app->name);

	return key ? vkd_app_option_find(app, key) : NULL;
}

int vkd_module_route_check(const struct vkd_module *module, const struct vk_http_mount *route,
			   char *reason, size_t size)
{
	vk_func handler;

	if (module->app->main != vk_http_serve)
		return reason_set(
		    reason, size,
		    "the module is not an HTTP app (VK_HTTP_APP()): it takes no routes");
	if (route->is_static)
		return vk_http_mount_root_ok(route->target, reason, size);
	return vk_http_mount_export(module->handle, route->target, &handler, reason, size);
}
