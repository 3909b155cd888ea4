/*
 * vkd_worker: one worker process; see vkd_worker.h.
 */
#include "config.h"

#include <errno.h>
#include <grp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <unistd.h>

#include <ev.h>

#include "vk_app.h"
#include "vk_bus.h"
#include "vk_code.h"
#include "vk_kern.h"
#include "vk_listener.h"
#include "vk_mesh.h"
#include "vk_resolve.h"
#include "vk_service.h"
#include "vkd_access.h"
#include "vkd_log.h"
#include "vkd_mesh.h"
#include "vkd_module.h"
#include "vkd_ps.h"
#include "vkd_user.h"
#include "vkd_worker.h"

/* Descriptors a worker needs besides its connections: stdio, libev, logs. */
#define VKD_WORKER_FD_RESERVE 64
/* How often a draining worker looks whether its connections are gone. */
#define VKD_DRAIN_POLL_S 0.02

struct worker_app {
	struct vkd_module module;
	struct vk_app_context context;
	void *state; /* the init hook's result */
	int inited;
};

struct worker {
	const struct vkd_worker_args *args;
	struct ev_loop *loop;
	struct vk_kern *kern;
	struct worker_app *apps;
	struct vk_listener **listeners;
	struct vkd_ps *ps; /* answers the master's ps and kill */
	size_t listener_count;
	struct vk_mesh *mesh;
	struct ev_io mesh_io; /* links to other workers arrive here */
	struct vk_service **services;
	size_t service_count;
	struct ev_signal sigterm;
	struct ev_timer drain_poll;
	struct ev_timer drain_deadline;
	int draining;
	struct vk_resolve_config resolve; /* vk_connect()'s name lookups */
};

/*
 * Overwrite the argument area with `title`, so that ps(1) shows it. Only
 * the contiguous argv strings are used (the environment is left alone),
 * so a short command line gives a truncated title.
 */
static void worker_set_argv_title(char **argv, const char *title)
{
	char *start, *end;

	if (!argv || !argv[0])
		return;
	start = argv[0];
	end = start + strlen(start) + 1;
	for (size_t i = 1; argv[i] && argv[i] == end; i++)
		end = argv[i] + strlen(argv[i]) + 1;
	memset(start, 0, (size_t)(end - start));
	snprintf(start, (size_t)(end - start), "%s", title);
}

static void worker_set_title(const struct vkd_worker_args *args)
{
	char title[64], comm[16], ident[48];

	snprintf(title, sizeof(title), "vkd: worker %u (gen %u)", args->index, args->generation);
	/* The kernel keeps 15 bytes of comm: "vkd worker 123" fits. */
	snprintf(comm, sizeof(comm), "vkd worker %u", args->index);
	if (prctl(PR_SET_NAME, comm) < 0)
		vkd_warn("prctl(PR_SET_NAME): %s", strerror(errno));
	worker_set_argv_title(args->argv, title);
	snprintf(ident, sizeof(ident), " worker %u (gen %u)", args->index, args->generation);
	vkd_log_set_ident(ident);
}

/*
 * Signals a worker does not act on are ignored: a terminal's ^C or ^\
 * reaches the whole process group, and the master alone decides what the
 * workers do. SIGPIPE is ignored so that a write to a closed connection is
 * an EPIPE for that micro-process, not the end of the worker.
 */
static int worker_signals(void)
{
	static const int ignored[] = {SIGPIPE, SIGHUP, SIGINT, SIGQUIT, SIGUSR1, SIGUSR2};
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sigemptyset(&sa.sa_mask);
	sa.sa_handler = SIG_IGN;
	for (size_t i = 0; i < sizeof(ignored) / sizeof(ignored[0]); i++)
		if (sigaction(ignored[i], &sa, NULL) < 0)
			return -1;
	sa.sa_handler = SIG_DFL;
	return sigaction(SIGCHLD, &sa, NULL);
}

/*
 * Descriptors a proxied connection takes beyond its own: one upstream and
 * a pipe each way for vk_forward()'s direct path.
 */
#define VKD_WORKER_FORWARD_FDS 5

/* Connections at most: every app's max_connections. */
static rlim_t worker_connections(const struct vkd_config *config)
{
	rlim_t connections = 0;

	for (size_t i = 0; i < config->app_count; i++)
		connections += (rlim_t)config->apps[i].max_connections;
	return connections;
}

/* Descriptors needed at most: every connection of every app, every listener. */
static rlim_t worker_fds_needed(const struct vkd_config *config)
{
	rlim_t needed = VKD_WORKER_FD_RESERVE + worker_connections(config);

	for (size_t i = 0; i < config->app_count; i++)
		needed += config->apps[i].listen_count;
	return needed;
}

static int worker_set_nofile(rlim_t n)
{
	struct rlimit want = {.rlim_cur = n, .rlim_max = n};

	return setrlimit(RLIMIT_NOFILE, &want);
}

/*
 * Raise RLIMIT_NOFILE to what max_connections needs and room for
 * forwards' upstreams and pipes, the hard limit too when privileged
 * (before privileges are dropped); else as far as allowed. Only a limit
 * below what max_connections needs is worth a warning: without the room,
 * forwards copy through rings instead of pipes (worker_pipe_budget()).
 */
static void worker_raise_nofile(const struct vkd_config *config)
{
	rlim_t needed = worker_fds_needed(config);
	rlim_t wanted = needed + VKD_WORKER_FORWARD_FDS * worker_connections(config);
	struct rlimit lim;

	if (getrlimit(RLIMIT_NOFILE, &lim) < 0) {
		vkd_warn("getrlimit(RLIMIT_NOFILE): %s", strerror(errno));
		return;
	}
	if (lim.rlim_cur >= wanted)
		return;
	/* Both limits up when privileged: to what is wanted, else (fs.nr_open) to what is needed.
	 */
	if (lim.rlim_max < wanted && worker_set_nofile(wanted) == 0)
		return;
	if (lim.rlim_max < needed && worker_set_nofile(needed) == 0)
		return;
	lim.rlim_cur = lim.rlim_max < wanted ? lim.rlim_max : wanted;
	if (setrlimit(RLIMIT_NOFILE, &lim) < 0) {
		vkd_warn("setrlimit(RLIMIT_NOFILE, %llu): %s", (unsigned long long)lim.rlim_cur,
			 strerror(errno));
		return;
	}
	if (lim.rlim_cur < needed)
		vkd_warn("descriptor limit %llu is below the %llu that max_connections needs",
			 (unsigned long long)lim.rlim_cur, (unsigned long long)needed);
}

/*
 * The pipe descriptors vk_forward() may hold: of what the limit leaves
 * beyond max_connections, the share pipes take in a proxied connection
 * (four of VKD_WORKER_FORWARD_FDS), so that pipes never take the
 * descriptors a connection or its upstream needs.
 */
static size_t worker_pipe_budget(const struct vkd_config *config)
{
	rlim_t needed = worker_fds_needed(config);
	struct rlimit lim;

	if (getrlimit(RLIMIT_NOFILE, &lim) < 0 || lim.rlim_cur <= needed)
		return 0;
	if (lim.rlim_cur == RLIM_INFINITY)
		lim.rlim_cur = needed + VKD_WORKER_FORWARD_FDS * worker_connections(config);
	return (size_t)((lim.rlim_cur - needed) / VKD_WORKER_FORWARD_FDS * 4);
}

/*
 * Die with the master: SIGTERM, so the connections still drain. Set after
 * the credentials change, which clears it.
 */
static int worker_watch_master(pid_t master)
{
	if (prctl(PR_SET_PDEATHSIG, SIGTERM) < 0) {
		vkd_error("prctl(PR_SET_PDEATHSIG): %s", strerror(errno));
		return -1;
	}
	if (getppid() != master) {
		vkd_error("the master is gone");
		return -1;
	}
	return 0;
}

/*
 * The module's code, for the watchdog (which ends a process only while it
 * runs app code) and for the code addresses in log lines. Without it the
 * watchdog cannot end a process of this app: a warning, not an error.
 */
static void worker_register_code(const struct vkd_app_config *app, const struct vk_app *descriptor)
{
	int rc = vk_code_add_object(descriptor, app->module);

	if (rc < 0)
		vkd_warn("app %s: %s: cannot find its code: %s", app->name, app->module,
			 strerror(-rc));
}

static int worker_load(struct worker *w)
{
	const struct vkd_config *config = w->args->config;
	char reason[512];

	for (size_t i = 0; i < config->app_count; i++) {
		const struct vkd_app_config *app = &config->apps[i];

		if (vkd_module_open_app(&w->apps[i].module, app, reason, sizeof(reason)) < 0) {
			vkd_error("%s:%d: app %s: %s: %s", config->path, app->line, app->name,
				  app->module_path, reason);
			return -1;
		}
		worker_register_code(app, w->apps[i].module.app);
	}
	return 0;
}

static int worker_init_apps(struct worker *w)
{
	const struct vkd_config *config = w->args->config;

	for (size_t i = 0; i < config->app_count; i++) {
		struct worker_app *wa = &w->apps[i];
		int error =
		    vkd_module_init(&wa->module, &config->apps[i], &wa->context, &wa->state);

		if (error) {
			const struct vkd_app_option *opt = vkd_module_refused(&config->apps[i]);

			if (opt)
				vkd_error("%s:%d: app %s: opt.%s: init failed: %s", config->path,
					  opt->line, config->apps[i].name, opt->name,
					  strerror(error));
			else
				vkd_error("app %s: init failed: %s", config->apps[i].name,
					  strerror(error));
			return -1;
		}
		wa->inited = 1;
	}
	return 0;
}

static void worker_fini_apps(struct worker *w)
{
	const struct vkd_config *config = w->args->config;

	/* In reverse: a later app may depend on what an earlier one set up. */
	for (size_t i = config->app_count; i-- > 0;) {
		struct worker_app *wa = &w->apps[i];

		if (wa->inited && wa->module.app->fini)
			wa->module.app->fini(wa->state);
		wa->inited = 0;
	}
}

static int worker_listen(struct worker *w)
{
	const struct vkd_config *config = w->args->config;
	size_t k = 0;

	for (size_t i = 0; i < config->app_count; i++) {
		const struct vkd_app_config *app = &config->apps[i];
		struct worker_app *wa = &w->apps[i];
		struct vk_proc_config pc = {
		    .heap_size = vkd_module_heap_size(app, wa->module.app),
		    .idle_timeout_ms = app->idle_timeout_ms,
		    .isolation = app->isolation,
		    .name = app->name,
		    .max_run_ms = app->max_run_ms,
		    .ring_size = app->ring_size,
		    .app = (uint32_t)i,
		    .app_stats = w->args->app_stats ? &w->args->app_stats[i] : NULL,
		};

		for (size_t j = 0; j < app->listen_count; j++, k++) {
			int rc;

			if (k >= w->args->fd_count) {
				vkd_error("app %s: no descriptor for %s", app->name,
					  app->listen[j].text);
				return -1;
			}
			w->listeners[k] =
			    vk_listener_open(w->kern, w->args->fds[k], &pc, wa->module.app->main,
					     wa->state, app->max_connections);
			if (!w->listeners[k]) {
				vkd_error("app %s: listen on %s: %s", app->name,
					  app->listen[j].text, strerror(errno));
				return -1;
			}
			rc = vk_listener_set_nodelay(w->listeners[k], app->tcp_nodelay);
			if (rc < 0) {
				vkd_error("app %s: TCP_NODELAY on %s: %s", app->name,
					  app->listen[j].text, strerror(-rc));
				return -1;
			}
			/* Whole seconds, rounded up: 500ms defers, it does not turn off. */
			rc = vk_listener_set_defer_accept(w->listeners[k],
							  app->defer_accept_ms / 1000 +
							      (app->defer_accept_ms % 1000 != 0));
			if (rc < 0) {
				vkd_error("app %s: TCP_DEFER_ACCEPT on %s: %s", app->name,
					  app->listen[j].text, strerror(-rc));
				return -1;
			}
			w->listener_count = k + 1;
			/* max_connections bounds the app, whatever address it came by. */
			if (j > 0)
				vk_listener_share(w->listeners[k], w->listeners[k - j]);
		}
	}
	return 0;
}

/* Stop accepting: the kernel's listeners, then this process's copies. */
static void worker_close_listeners(struct worker *w)
{
	for (size_t k = 0; k < w->listener_count; k++) {
		if (!w->listeners[k])
			continue;
		vk_listener_close(w->listeners[k]);
		w->listeners[k] = NULL;
		close(w->args->fds[k]);
	}
	w->listener_count = 0;
}

/*
 * Connections left in this worker's generation: its services serve every
 * worker's, so it goes only when none is left anywhere (the others'
 * counts are in the shared page; a worker gone counts none).
 */
static uint64_t generation_connections(const struct worker *w)
{
	const struct vkd_counters *counters = w->args->counters;
	uint64_t total = 0;

	if (!counters)
		return vkd_slot_connections(w->args->slot);
	for (size_t i = 0; i < counters->count; i++) {
		const struct vkd_slot *slot = &counters->slots[i];

		if (vkd_slot_state(slot) != VKD_SLOT_FREE &&
		    __atomic_load_n(&slot->generation, __ATOMIC_RELAXED) == w->args->generation)
			total += vkd_slot_connections(slot);
	}
	return total;
}

static void drain_poll_cb(struct ev_loop *loop, struct ev_timer *timer, int revents)
{
	struct worker *w = timer->data;

	if (generation_connections(w) == 0)
		ev_break(loop, EVBREAK_ALL);
}

static void drain_deadline_cb(struct ev_loop *loop, struct ev_timer *timer, int revents)
{
	struct worker *w = timer->data;

	const struct vk_stats *stats = vk_kern_stats(w->kern);

	vkd_warn("drain_timeout: ending %llu connections",
		 (unsigned long long)(stats->procs_now - stats->services_now));
	ev_break(loop, EVBREAK_ALL);
}

static void worker_drain(struct worker *w)
{
	double timeout = w->args->config->drain_timeout_ms / 1000.0;

	if (w->draining)
		return;
	w->draining = 1;
	worker_close_listeners(w);
	/* After the close: the master takes DRAINING for "accepts no more". */
	vkd_slot_set_state(w->args->slot, VKD_SLOT_DRAINING);
	vk_kern_set_draining(w->kern, 1);
	vkd_info("draining %llu connections",
		 (unsigned long long)(vk_kern_stats(w->kern)->procs_now -
				      vk_kern_stats(w->kern)->services_now));
	ev_timer_init(&w->drain_poll, drain_poll_cb, 0., VKD_DRAIN_POLL_S);
	w->drain_poll.data = w;
	ev_timer_start(w->loop, &w->drain_poll);
	ev_timer_init(&w->drain_deadline, drain_deadline_cb, timeout, 0.);
	w->drain_deadline.data = w;
	ev_timer_start(w->loop, &w->drain_deadline);
}

static void sigterm_cb(struct ev_loop *loop, struct ev_signal *watcher, int revents)
{
	worker_drain(watcher->data);
}

/* Tell the master: the slot says READY, the byte wakes it up. */
static int worker_report_ready(struct worker *w)
{
	char byte = 'r';
	ssize_t n;

	vkd_slot_set_state(w->args->slot, VKD_SLOT_READY);
	do
		n = write(w->args->ready_fd, &byte, 1);
	while (n < 0 && errno == EINTR);
	/* EAGAIN: the pipe is full of unread wake-ups, the master will look. */
	if (n < 0 && errno != EAGAIN) {
		vkd_error("reporting ready: %s", strerror(errno));
		return -1;
	}
	close(w->args->ready_fd);
	return 0;
}

static int worker_start_kernel(struct worker *w)
{
	sigset_t none;

	w->loop = ev_loop_new(EVFLAG_AUTO);
	if (!w->loop) {
		vkd_error("cannot make the event loop");
		return -1;
	}
	w->kern = vk_kern_create(w->loop);
	if (!w->kern) {
		vkd_error("cannot make the virtual kernel: %s", strerror(errno));
		return -1;
	}
	if (w->args->chan_fd >= 0) {
		w->ps = vkd_ps_open(w->loop, w->kern, w->args->chan_fd);
		if (!w->ps) {
			vkd_error("cannot answer the master: %s", strerror(errno));
			return -1;
		}
	}
	vk_log_set_sink(vkd_log_kern);
	vk_kern_set_stats(w->kern, &w->args->slot->stats);
	vk_kern_set_pipe_budget(w->kern, worker_pipe_budget(w->args->config));
	w->resolve.resolv_conf = w->args->config->resolv_conf;
	w->resolve.hosts_file = w->args->config->hosts_file;
	w->resolve.timeout_ms = w->args->config->resolve_timeout_ms;
	vk_kern_set_resolve_config(w->kern, &w->resolve);
	ev_signal_init(&w->sigterm, sigterm_cb, SIGTERM);
	w->sigterm.data = w;
	ev_signal_start(w->loop, &w->sigterm);
	/* The master blocks its signals; a SIGTERM sent since fork() arrives now. */
	sigemptyset(&none);
	if (sigprocmask(SIG_SETMASK, &none, NULL) < 0) {
		vkd_error("sigprocmask: %s", strerror(errno));
		return -1;
	}
	return 0;
}

/* ---- services and the links to the other workers ---- */

static void mesh_adopt(void *ctx, unsigned index, int fd)
{
	struct worker *w = ctx;
	int rc;

	if (index == 0 || index > w->args->workers || index == w->args->index) {
		close(fd);
		return;
	}
	rc = vk_mesh_add_peer(w->mesh, index, fd);
	if (rc < 0)
		vkd_warn("link to worker %u: %s", index, strerror(-rc));
	else
		vkd_debug("linked to worker %u", index);
}

static void mesh_io_cb(struct ev_loop *loop, struct ev_io *io, int revents)
{
	struct worker *w = io->data;

	if (vkd_mesh_receive(io->fd, mesh_adopt, w) == 0)
		return;
	/* The master is gone: no more links come (PR_SET_DEATHSIG drains us). */
	ev_ref(loop);
	ev_io_stop(loop, io);
}

/*
 * The bus's geometry, and the links: those waiting from before the fork,
 * taken in now, then those the master sends as other workers start.
 */
static int worker_start_mesh(struct worker *w)
{
	const struct vkd_worker_args *args = w->args;

	vk_bus_set_geometry(vk_kern_bus(w->kern), args->index, args->workers);
	if (args->mesh_fd < 0)
		return 0;
	w->mesh = vk_mesh_create(w->kern);
	if (!w->mesh) {
		vkd_error("cannot make the inter-worker endpoint: %s", strerror(errno));
		return -1;
	}
	if (vkd_mesh_receive(args->mesh_fd, mesh_adopt, w) < 0)
		return 0;
	ev_io_init(&w->mesh_io, mesh_io_cb, args->mesh_fd, EV_READ);
	w->mesh_io.data = w;
	ev_io_start(w->loop, &w->mesh_io);
	/* Waiting for links must not keep a draining worker alive. */
	ev_unref(w->loop);
	return 0;
}

/* A service's heap: its own size, else its app's, within the config's bounds. */
static size_t service_heap_size(const struct vkd_app_config *app, const struct vk_app *module,
				const struct vk_service *service)
{
	size_t page = (size_t)sysconf(_SC_PAGESIZE);
	size_t size = service->heap_size;

	if (!size)
		return vkd_module_heap_size(app, module);
	if (size < VKD_HEAP_MIN)
		size = VKD_HEAP_MIN;
	if (size > VKD_HEAP_MAX)
		size = VKD_HEAP_MAX;
	return (size + page - 1) / page * page;
}

static int worker_start_services(struct worker *w)
{
	const struct vkd_config *config = w->args->config;

	for (size_t i = 0; i < config->app_count; i++) {
		const struct vkd_app_config *app = &config->apps[i];
		struct worker_app *wa = &w->apps[i];

		for (size_t j = 0; j < wa->module.service_count; j++) {
			const struct vk_service *decl = &wa->module.services[j];
			struct vk_service_spec spec = {
			    .name = decl->name,
			    .kind = decl->flags & VK_SERVICE_KIND,
			    .main = decl->main,
			    .arg = wa->state,
			    .config =
				{
				    .name = app->name,
				    /* vkctl ps names a service's app by it (it was app 0's). */
				    .app = (uint32_t)i,
				    .heap_size = service_heap_size(app, wa->module.app, decl),
				    .isolation =
					app->isolation && !(decl->flags & VK_SERVICE_UNPROTECTED),
				},
			};
			struct vk_service *service = vk_service_start(w->kern, &spec);

			if (!service) {
				vkd_error("app %s: service %s: %s", app->name, decl->name,
					  strerror(errno));
				return -1;
			}
			w->services[w->service_count++] = service;
		}
	}
	return 0;
}

static void worker_stop_services(struct worker *w)
{
	for (size_t i = 0; i < w->service_count; i++)
		vk_service_stop(w->services[i]);
	w->service_count = 0;
}

static size_t worker_service_total(const struct worker *w)
{
	size_t total = 0;

	for (size_t i = 0; i < w->args->config->app_count; i++)
		total += w->apps[i].module.service_count;
	return total;
}

static int worker_prepare(struct worker *w)
{
	const struct vkd_worker_args *args = w->args;

	if (worker_signals() < 0) {
		vkd_error("sigaction: %s", strerror(errno));
		return -1;
	}
	worker_raise_nofile(args->config);
	if (vkd_user_become(args->config) < 0 || worker_watch_master(args->master) < 0)
		return -1;
	w->apps = calloc(args->config->app_count, sizeof(*w->apps));
	w->listeners = calloc(args->fd_count ? args->fd_count : 1, sizeof(*w->listeners));
	if (!w->apps || !w->listeners) {
		vkd_error("out of memory");
		return -1;
	}
	/* Before the apps' init: the HTTP layer finds its app's log there. */
	if (vkd_access_open(args->config, args->app_stats) < 0)
		return -1;
	if (worker_load(w) < 0 || worker_init_apps(w) < 0 || worker_start_kernel(w) < 0)
		return -1;
	vkd_access_start(w->loop);
	w->services = calloc(worker_service_total(w) + 1, sizeof(*w->services));
	if (!w->services) {
		vkd_error("out of memory");
		return -1;
	}
	if (worker_start_mesh(w) < 0 || worker_start_services(w) < 0)
		return -1;
	return worker_listen(w);
}

static void worker_cleanup(struct worker *w)
{
	worker_close_listeners(w);
	worker_stop_services(w);
	/* Before the kernel: channels through the links close as the processes end. */
	vk_mesh_destroy(w->mesh);
	if (w->loop && ev_is_active(&w->mesh_io)) {
		ev_ref(w->loop);
		ev_io_stop(w->loop, &w->mesh_io);
	}
	if (w->args->mesh_fd >= 0)
		close(w->args->mesh_fd);
	if (w->kern) {
		vkd_ps_close(w->ps);
		vk_kern_destroy(w->kern);
	}
	if (w->loop) {
		ev_signal_stop(w->loop, &w->sigterm);
		ev_timer_stop(w->loop, &w->drain_poll);
		ev_timer_stop(w->loop, &w->drain_deadline);
		ev_loop_destroy(w->loop);
	}
	/* After the kernel: no micro-process may run app code past fini. */
	if (w->apps)
		worker_fini_apps(w);
	vkd_access_close();
	free(w->apps);
	free(w->listeners);
	free(w->services);
}

int vkd_worker_run(const struct vkd_worker_args *args)
{
	struct worker w = {.args = args};
	int status = 1;

	worker_set_title(args);
	if (worker_prepare(&w) < 0 || worker_report_ready(&w) < 0)
		goto out;
	vkd_debug("ready, pid %ld", (long)getpid());
	vk_kern_run(w.kern);
	status = 0;
out:
	worker_cleanup(&w);
	return status;
}
