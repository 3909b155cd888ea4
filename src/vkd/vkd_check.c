/*
 * vkd_check: checking modules in a child process; see vkd_check.h.
 */
#include "config.h"

#include <errno.h>
#include <limits.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "vkd_check.h"
#include "vkd_io.h"
#include "vkd_log.h"
#include "vkd_module.h"
#include "vkd_access.h"
#include "vkd_user.h"

/* Bytes of report kept; more is read and dropped, so the child never blocks. */
#define VKD_CHECK_REPORT_MAX 65536
/* vkd_check_run(): how often it looks whether the child is gone once its
 * pipe is closed (or held open by a process it left behind). */
#define VKD_CHECK_REAP_MS 5
#define VKD_CHECK_POLL_MS 100

/* What the child did, as its report says. */
enum step { STEP_NONE, STEP_LOAD, STEP_INIT, STEP_FINI };

static const char *const step_names[] = {"", "load", "init", "fini"};

/* Where a module was when the check ended, in words. */
static const char *const step_where[] = {
    "",
    "while loading it (in its constructors)",
    "in its init hook",
    "in its fini hook",
};

/* ---- errors ---- */

void vkd_check_errors_free(struct vkd_check_errors *errors)
{
	for (size_t i = 0; i < errors->count; i++)
		free(errors->messages[i]);
	free(errors->messages);
	errors->messages = NULL;
	errors->count = 0;
}

static int errors_add(struct vkd_check_errors *errors, const char *format, ...)
    __attribute__((format(printf, 2, 3)));

/* Always -1, so that a failure can return it. */
static int errors_add(struct vkd_check_errors *errors, const char *format, ...)
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

/* ---- the child ---- */

static void child_say(int fd, const char *format, ...) __attribute__((format(printf, 2, 3)));

/* One report line; a short one is better than none (the parent reads what came). */
static void child_say(int fd, const char *format, ...)
{
	char line[1024];
	va_list ap;
	int n;

	va_start(ap, format);
	n = vsnprintf(line, sizeof(line), format, ap);
	va_end(ap);
	if (n < 0)
		return;
	if ((size_t)n >= sizeof(line)) {
		n = sizeof(line) - 1;
		line[n - 1] = '\n';
	}
	(void)vkd_write_all(fd, line, (size_t)n);
}

static void child_bad(int fd, const struct vkd_config *config, const struct vkd_app_config *app,
		      const char *what, const char *reason)
{
	child_say(fd, "bad %s:%d: app %s: %s: %s\n", config->path, app->line, app->name, what,
		  reason);
}

/* Init refused: at the option it named (vk_app_refuse()), else at the app's line. */
static void child_bad_init(int fd, const struct vkd_config *config,
			   const struct vkd_app_config *app, const char *reason)
{
	const struct vkd_app_option *opt = vkd_module_refused(app);

	if (!opt) {
		child_bad(fd, config, app, "init refused its options", reason);
		return;
	}
	child_say(fd, "bad %s:%d: app %s: opt.%s: init refused it: %s\n", config->path, opt->line,
		  app->name, opt->name, reason);
}

/* A route line of app refused: its own line. */
static void child_bad_route(int fd, const struct vkd_config *config,
			    const struct vkd_app_config *app, const struct vk_http_mount *route,
			    const char *reason)
{
	child_say(fd, "bad %s:%d: app %s: route: %s\n", config->path, route->line, app->name,
		  reason);
}

/* Path options of app that could not be made absolute: each refused at its own line. */
static int child_bad_paths(int fd, const struct vkd_config *config,
			   const struct vkd_app_config *app, const struct vkd_module *module)
{
	const struct vkd_app_option *opt;
	size_t from = 0;
	int bad = 0;

	while ((opt = vkd_module_path_unresolved(module, app, &from))) {
		child_say(fd,
			  "bad %s:%d: app %s: opt.%s: cannot make '%.60s' absolute, relative "
			  "to the configuration's directory: no working directory (%s); give "
			  "an absolute path, or -c an absolute file\n",
			  config->path, opt->line, app->name, opt->name, opt->value,
			  strerror(opt->path_errno));
		bad = -1;
	}
	return bad;
}

static int int_order(const void *a, const void *b)
{
	int x = *(const int *)a, y = *(const int *)b;

	return (x > y) - (x < y);
}

/*
 * Close what the master had open but the report pipe and the module
 * files: a module that hangs must not hold a control client's connection
 * open, nor a listener the master has given back.
 */
static void child_close_fds(const struct vkd_config *config, int fd)
{
	size_t n = 0;
	int *keep = calloc(config->app_count + 1, sizeof(*keep));
	int from = 3;

	if (!keep)
		return; /* harmless: the fds only stay open longer */
	keep[n++] = fd;
	for (size_t i = 0; i < config->app_count; i++)
		if (config->apps[i].module_fd >= 0)
			keep[n++] = config->apps[i].module_fd;
	qsort(keep, n, sizeof(*keep), int_order);
	for (size_t i = 0; i < n; i++) {
		if (keep[i] > from && close_range((unsigned)from, (unsigned)keep[i] - 1, 0) < 0)
			break; /* no close_range (Linux < 5.9): leave them */
		from = keep[i] + 1;
	}
	(void)close_range((unsigned)from, ~0U, 0);
	free(keep);
}

/* The master's mask blocks the signals it reads from a signalfd: app
 * code runs with none blocked, as in a worker. */
static void child_signals(void)
{
	sigset_t none;

	sigemptyset(&none);
	(void)sigprocmask(SIG_SETMASK, &none, NULL);
}

/* App `i`: load, services, init, fini. `loaded` keeps the modules loaded so far (may be NULL). */
static int child_check_app(int fd, const struct vkd_config *config, size_t i,
			   struct vkd_module *loaded)
{
	const struct vkd_app_config *app = &config->apps[i];
	struct vk_app_context context;
	struct vkd_module module;
	char reason[512];
	void *state;
	int error = 0;

	child_say(fd, "step %zu load\n", i);
	if (vkd_access_check(app, reason, sizeof(reason)) < 0) {
		char what[PATH_MAX + 16];

		snprintf(what, sizeof(what), "access_log %s", app->access_log_path);
		child_bad(fd, config, app, what, reason);
		return -1;
	}
	if (vkd_module_open_app(&module, app, reason, sizeof(reason)) < 0) {
		child_bad(fd, config, app, app->module_path, reason);
		return -1;
	}
	if (loaded) {
		loaded[i] = module;
		if (vkd_module_services_clash(config, loaded, i, reason, sizeof(reason))) {
			child_bad(fd, config, app, app->module_path, reason);
			return -1;
		}
	}
	if (child_bad_paths(fd, config, app, &module) < 0)
		return -1;
	for (size_t r = 0; r < app->route_count; r++) {
		if (vkd_module_route_check(&module, &app->routes[r], reason, sizeof(reason)) < 0) {
			child_bad_route(fd, config, app, &app->routes[r], reason);
			error = -1;
		}
	}
	if (error < 0)
		return -1;
	child_say(fd, "step %zu init\n", i);
	error = vkd_module_init(&module, app, &context, &state);
	if (error) {
		child_bad_init(fd, config, app, strerror(error));
		return -1;
	}
	child_say(fd, "step %zu fini\n", i);
	if (module.app->fini)
		module.app->fini(state);
	return 0;
}

/* The checking child: its report, then exit. */
static void __attribute__((noreturn)) check_child(const struct vkd_config *config, int fd)
{
	struct vkd_module *loaded;
	int bad = 0;

	prctl(PR_SET_PDEATHSIG, SIGKILL);
	child_close_fds(config, fd);
	child_signals();
	/*
	 * A module's constructors and init hook are application code: they run
	 * as the workers will (user, group), never as a root master. Without
	 * root, becoming a user or group other than our own fails here as it
	 * would in every worker (which then respawned forever): said now.
	 */
	if (vkd_user_become(config) < 0) {
		child_say(fd, "bad module check: cannot become the configured user and group "
			      "(only root can switch to another)\n");
		_exit(1);
	}
	loaded = calloc(config->app_count, sizeof(*loaded));
	for (size_t i = 0; i < config->app_count; i++)
		if (child_check_app(fd, config, i, loaded) < 0)
			bad = 1;
	child_say(fd, "done\n");
	/* _exit: the child must not run the master's exit handlers or flush its stdio. */
	_exit(bad);
}

/* ---- the parent ---- */

int vkd_check_start(struct vkd_check *check, const struct vkd_config *config, long now_ms,
		    struct vkd_check_errors *errors)
{
	int pipefd[2], saved;
	pid_t pid;

	memset(check, 0, sizeof(*check));
	check->fd = -1;
	check->report = malloc(VKD_CHECK_REPORT_MAX);
	if (!check->report)
		return errors_add(errors, "module check: out of memory");
	check->report[0] = '\0';
	if (pipe2(pipefd, O_CLOEXEC) < 0) {
		saved = errno;
		free(check->report);
		return errors_add(errors, "module check: pipe: %s", strerror(saved));
	}
	pid = fork();
	if (pid < 0) {
		saved = errno;
		close(pipefd[0]);
		close(pipefd[1]);
		free(check->report);
		return errors_add(errors, "module check: fork: %s", strerror(saved));
	}
	if (pid == 0) {
		close(pipefd[0]);
		check_child(config, pipefd[1]);
	}
	close(pipefd[1]);
	/* Read by a poll loop: a read must never block it. */
	if (fcntl(pipefd[0], F_SETFL, O_NONBLOCK) < 0)
		vkd_warn("module check: fcntl(O_NONBLOCK): %s", strerror(errno));
	check->config = config;
	check->pid = pid;
	check->fd = pipefd[0];
	check->deadline_ms = now_ms + VKD_CHECK_TIMEOUT_MS;
	return 0;
}

static void check_close(struct vkd_check *check)
{
	if (check->fd >= 0 && close(check->fd) < 0 && errno != EINTR)
		vkd_debug("module check: close: %s", strerror(errno));
	check->fd = -1;
}

void vkd_check_read(struct vkd_check *check)
{
	char sink[4096];

	while (check->fd >= 0) {
		size_t room = VKD_CHECK_REPORT_MAX - 1 - check->len;
		char *to = room ? check->report + check->len : sink;
		ssize_t n = read(check->fd, to, room ? room : sizeof(sink));

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return;
		if (n <= 0) {
			if (n < 0)
				vkd_warn("module check: read: %s", strerror(errno));
			check_close(check);
			return;
		}
		if (!room) {
			check->truncated = 1;
			continue;
		}
		check->len += (size_t)n;
		check->report[check->len] = '\0';
	}
}

void vkd_check_kill(struct vkd_check *check)
{
	if (check->pid > 0 && kill(check->pid, SIGKILL) < 0 && errno != ESRCH)
		vkd_error("module check: kill(%ld): %s", (long)check->pid, strerror(errno));
}

void vkd_check_expire(struct vkd_check *check, long now_ms)
{
	if (check->timed_out || now_ms < check->deadline_ms)
		return;
	check->timed_out = 1;
	vkd_check_kill(check);
}

/* What the report says. */
struct verdict {
	size_t app;	/* of the last step */
	enum step step; /* STEP_NONE: no step reported */
	int done;
	size_t bad;
};

static void verdict_step(struct verdict *v, const char *line, size_t app_count)
{
	char name[8];
	size_t app;

	if (sscanf(line, "step %zu %7s", &app, name) != 2 || app >= app_count)
		return;
	for (enum step s = STEP_LOAD; s <= STEP_FINI; s++) {
		if (strcmp(name, step_names[s]) != 0)
			continue;
		v->app = app;
		v->step = s;
	}
}

/* Parse the report; every "bad" line becomes an error. */
static void verdict_read(struct vkd_check *check, struct verdict *v,
			 struct vkd_check_errors *errors)
{
	char *save = NULL;

	memset(v, 0, sizeof(*v));
	for (char *line = strtok_r(check->report, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		if (strncmp(line, "bad ", 4) == 0) {
			errors_add(errors, "%s", line + 4);
			v->bad++;
		} else if (strncmp(line, "step ", 5) == 0) {
			verdict_step(v, line, check->config->app_count);
		} else if (strcmp(line, "done") == 0) {
			v->done = 1;
		}
	}
	if (check->truncated)
		errors_add(errors, "module check: report truncated at %d bytes",
			   VKD_CHECK_REPORT_MAX);
}

/* "CONFIG:LINE: app NAME: MODULE: " of the app the child was at. */
static void where(const struct vkd_check *check, const struct verdict *v, char *out, size_t size)
{
	const struct vkd_app_config *app;

	if (v->step == STEP_NONE) {
		snprintf(out, size, "%s: ", check->config->path);
		return;
	}
	app = &check->config->apps[v->app];
	snprintf(out, size, "%s:%d: app %s: %s: ", check->config->path, app->line, app->name,
		 app->module_path);
}

/* The child did not finish on its own: say where it was. */
static int verdict_unfinished(const struct vkd_check *check, const struct verdict *v, int status,
			      struct vkd_check_errors *errors)
{
	const char *in = step_where[v->step];
	char at[1024];
	int sig;

	where(check, v, at, sizeof(at));
	if (check->timed_out)
		return errors_add(errors, "%smodule check timed out after %ld ms %s (it hangs)", at,
				  VKD_CHECK_TIMEOUT_MS, v->step ? in : "before any module");
	if (WIFSIGNALED(status)) {
		sig = WTERMSIG(status);
		return errors_add(errors, "%smodule check crashed with signal %d (SIG%s) %s", at,
				  sig, sigabbrev_np(sig) ? sigabbrev_np(sig) : "?",
				  v->step ? in : "before any module");
	}
	return errors_add(errors,
			  "%smodule check ended with exit status %d %s, before it was done (a "
			  "module must not exit)",
			  at, WEXITSTATUS(status), v->step ? in : "before any module");
}

int vkd_check_end(struct vkd_check *check, int status, struct vkd_check_errors *errors)
{
	struct verdict v;
	int rc = 0;

	vkd_check_read(check);
	check_close(check);
	verdict_read(check, &v, errors);
	if (check->timed_out || WIFSIGNALED(status) || !v.done)
		rc = verdict_unfinished(check, &v, status, errors);
	else if (WEXITSTATUS(status) != 0 && v.bad == 0)
		rc = errors_add(errors, "module check failed with status %d", WEXITSTATUS(status));
	else if (v.bad)
		rc = -1;
	free(check->report);
	check->report = NULL;
	check->pid = 0;
	return rc;
}

static long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/*
 * Wait for the report, at most until the deadline. Once the pipe is at its
 * end the child is exiting: look again soon. The wait on the pipe is
 * bounded too, in case a process the module left behind holds it open.
 */
static void run_wait(struct vkd_check *check, long now)
{
	struct pollfd pfd = {.fd = check->fd, .events = POLLIN};
	long left = check->deadline_ms - now;
	int rc;

	if (left < 0)
		left = 0;
	if (check->fd < 0) {
		struct timespec ts = {
		    .tv_nsec = (left < VKD_CHECK_REAP_MS ? left : VKD_CHECK_REAP_MS) * 1000000L};

		nanosleep(&ts, NULL);
		return;
	}
	if (left > VKD_CHECK_POLL_MS)
		left = VKD_CHECK_POLL_MS;
	rc = poll(&pfd, 1, (int)left);
	if (rc > 0)
		vkd_check_read(check);
	else if (rc < 0 && errno != EINTR)
		vkd_warn("module check: poll: %s", strerror(errno));
}

int vkd_check_run(const struct vkd_config *config, struct vkd_check_errors *errors)
{
	struct vkd_check check;
	int status;

	if (vkd_check_start(&check, config, now_ms(), errors) < 0)
		return -1;
	for (;;) {
		pid_t pid = waitpid(check.pid, &status, WNOHANG);

		if (pid == check.pid)
			break;
		if (pid < 0 && errno != EINTR) {
			vkd_check_kill(&check);
			errors_add(errors, "module check: waitpid: %s", strerror(errno));
			check_close(&check);
			free(check.report);
			return -1;
		}
		if (now_ms() >= check.deadline_ms) {
			vkd_check_expire(&check, now_ms());
			while (waitpid(check.pid, &status, 0) < 0 && errno == EINTR)
				;
			break;
		}
		run_wait(&check, now_ms());
	}
	return vkd_check_end(&check, status, errors);
}
