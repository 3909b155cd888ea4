/*
 * vkd_module: loading and checking application modules; see vkd_module.h.
 */
#include "config.h"

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "vkd_io.h"
#include "vkd_log.h"
#include "vkd_module.h"
#include "vkd_user.h"

/* How long the checking child may take to load every module. */
#define VKD_MODULE_CHECK_TIMEOUT_MS 10000
#define VKD_MODULE_REPORT_MAX 65536

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

/* Refuse a module that saw a public structure at another size than vkd did. */
static int layout_check(const struct vk_app_layout *theirs, char *reason, size_t size)
{
	static const struct vk_app_layout ours = VK_APP_LAYOUT;

#define VKD_LAYOUT_SAME(field, type)     \
	if (theirs->field != ours.field) \
		return layout_mismatch(type, theirs->field, ours.field, reason, size);
	VKD_LAYOUT_SAME(thread, "struct vk_thread")
	VKD_LAYOUT_SAME(app_context, "struct vk_app_context")
	VKD_LAYOUT_SAME(http_request, "struct vk_http_request")
	VKD_LAYOUT_SAME(http_chunked, "struct vk_http_chunked")
	VKD_LAYOUT_SAME(http_limits, "struct vk_http_limits")
	VKD_LAYOUT_SAME(http_out, "struct vk_http_out")
#undef VKD_LAYOUT_SAME
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
	if (layout_check(&app->layout, reason, size) < 0)
		return -1;
	if (!app->name || strcmp(app->name, name) != 0)
		return reason_set(reason, size, "module is app \"%s\", configured as [app %s]",
				  app->name ? app->name : "(null)", name);
	if (!app->main)
		return reason_set(reason, size, "no main coroutine in %s", VK_APP_SYMBOL);
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
	return 0;
}

/* /proc/self/fd/N names the pinned file itself, whatever its path holds now. */
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

void vkd_module_pin(struct vkd_config *config)
{
	for (size_t i = 0; i < config->app_count; i++) {
		struct vkd_app_config *app = &config->apps[i];
		char path[32];

		if (app->module_fd >= 0)
			continue;
		app->module_fd = open(app->module_path, O_RDONLY | O_CLOEXEC);
		if (app->module_fd < 0)
			continue; /* loading by path says why */
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

void vkd_module_errors_free(struct vkd_module_errors *errors)
{
	for (size_t i = 0; i < errors->count; i++)
		free(errors->messages[i]);
	free(errors->messages);
	errors->messages = NULL;
	errors->count = 0;
}

static int errors_add(struct vkd_module_errors *errors, const char *format, ...)
    __attribute__((format(printf, 2, 3)));

static int errors_add(struct vkd_module_errors *errors, const char *format, ...)
{
	char **messages;
	char *message;
	va_list ap;
	int n;

	messages = realloc(errors->messages, (errors->count + 1) * sizeof(*messages));
	if (!messages)
		return -1;
	errors->messages = messages;
	va_start(ap, format);
	n = vasprintf(&message, format, ap);
	va_end(ap);
	if (n < 0)
		return -1;
	errors->messages[errors->count++] = message;
	return -1;
}

static const char *module_option(const struct vk_app_context *context, const char *key)
{
	return vkd_app_option(context->opaque, key);
}

int vkd_module_init(struct vkd_module *module, const struct vkd_app_config *app,
		    struct vk_app_context *context, void **state)
{
	int error = 0;

	context->name = app->name;
	context->option = module_option;
	context->opaque = app;
	*state = NULL;
	if (!module->app->init)
		return 0;
	*state = module->app->init(context, &error);
	return error;
}

/* Report one bad module to the master, as "CONFIG:LINE: app NAME: ..." */
static void check_report(int fd, const struct vkd_config *config, const struct vkd_app_config *app,
			 const char *what, const char *reason)
{
	char line[1024];
	int n = snprintf(line, sizeof(line), "%s:%d: app %s: %s: %s\n", config->path, app->line,
			 app->name, what, reason);

	if (n > 0)
		/* A short report is better than none: the master reads what came. */
		(void)vkd_write_all(fd, line,
				    (size_t)n < sizeof(line) ? (size_t)n : sizeof(line) - 1);
}

/* The checking child: one line per bad module, then exit. */
static void __attribute__((noreturn)) check_child(const struct vkd_config *config, int fd)
{
	char reason[512];
	int bad = 0;

	prctl(PR_SET_PDEATHSIG, SIGKILL);
	/*
	 * A module's constructors and init hook are application code: they run
	 * as the workers will (user, group), never as a root master. Without
	 * root there is nothing to drop, and nothing to gain from trying.
	 */
	if (geteuid() == 0 && vkd_user_become(config) < 0) {
		static const char line[] = "module check: cannot become the configured user\n";

		(void)vkd_write_all(fd, line, sizeof(line) - 1);
		_exit(1);
	}
	for (size_t i = 0; i < config->app_count; i++) {
		const struct vkd_app_config *app = &config->apps[i];
		struct vkd_module module;
		struct vk_app_context context;
		void *state;
		int error;

		if (vkd_module_open_app(&module, app, reason, sizeof(reason)) < 0) {
			bad = 1;
			check_report(fd, config, app, app->module_path, reason);
			continue;
		}
		error = vkd_module_init(&module, app, &context, &state);
		if (error) {
			bad = 1;
			check_report(fd, config, app, "init refused its options", strerror(error));
			continue;
		}
		if (module.app->fini)
			module.app->fini(state);
	}
	/* _exit: the child must not run the master's exit handlers or flush its stdio. */
	_exit(bad);
}

static long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Read the child's report until EOF or the deadline; 1 on timeout. */
static int check_read(int fd, char *buf, size_t size, size_t *len)
{
	long deadline = now_ms() + VKD_MODULE_CHECK_TIMEOUT_MS;
	struct pollfd pfd = {.fd = fd, .events = POLLIN};

	*len = 0;
	buf[0] = '\0';
	for (;;) {
		long left = deadline - now_ms();
		ssize_t n;
		int rc;

		if (left <= 0)
			return 1;
		rc = poll(&pfd, 1, (int)left);
		if (rc < 0 && errno == EINTR)
			continue;
		if (rc < 0)
			return -1;
		if (rc == 0)
			return 1;
		n = read(fd, buf + *len, size - 1 - *len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		*len += (size_t)n;
		buf[*len] = '\0';
		if (n == 0 || *len == size - 1)
			return 0;
	}
}

static void check_collect(struct vkd_module_errors *errors, char *buf)
{
	char *save = NULL;

	for (char *line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save))
		errors_add(errors, "%s", line);
}

static int check_wait(pid_t pid, int timed_out, struct vkd_module_errors *errors)
{
	int status;

	if (timed_out) {
		kill(pid, SIGKILL);
		errors_add(errors, "module check timed out after %d ms (a module hangs on load)",
			   VKD_MODULE_CHECK_TIMEOUT_MS);
	}
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return errors_add(errors, "module check: waitpid: %s", strerror(errno));
	if (timed_out)
		return -1;
	if (WIFSIGNALED(status))
		return errors_add(errors, "module check crashed with signal %d (%s)",
				  WTERMSIG(status), strsignal(WTERMSIG(status)));
	if (WEXITSTATUS(status) != 0 && errors->count == 0)
		return errors_add(errors, "module check failed with status %d",
				  WEXITSTATUS(status));
	return errors->count ? -1 : 0;
}

int vkd_module_check(const struct vkd_config *config, struct vkd_module_errors *errors)
{
	static char report[VKD_MODULE_REPORT_MAX];
	int pipefd[2], rc;
	size_t len;
	pid_t pid;

	if (pipe2(pipefd, O_CLOEXEC) < 0)
		return errors_add(errors, "module check: pipe: %s", strerror(errno));
	pid = fork();
	if (pid < 0) {
		rc = errno;
		close(pipefd[0]);
		close(pipefd[1]);
		return errors_add(errors, "module check: fork: %s", strerror(rc));
	}
	if (pid == 0) {
		close(pipefd[0]);
		check_child(config, pipefd[1]);
	}
	close(pipefd[1]);
	rc = check_read(pipefd[0], report, sizeof(report), &len);
	close(pipefd[0]);
	if (rc < 0)
		errors_add(errors, "module check: read: %s", strerror(errno));
	else
		check_collect(errors, report);
	return check_wait(pid, rc == 1, errors);
}
