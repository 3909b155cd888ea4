/*
 * vkd_master: the supervising process; see vkd_master.h.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "vkd_check.h"
#include "vkd_apps.h"
#include "vkd_chan.h"
#include "vkd_control.h"
#include "vkd_counters.h"
#include "vkd_listen.h"
#include "vkd_log.h"
#include "vkd_master.h"
#include "vkd_mesh.h"
#include "vkd_module.h"
#include "vkd_notify.h"
#include "vkd_query.h"
#include "vkd_worker.h"

/*
 * `reload wait` is answered when the old generation's workers all stopped
 * accepting, looked at this often. A worker that has not got to its
 * SIGTERM is busy in one dispatch (the watchdog bounds that in CPU time,
 * and a starved CPU stretches it: 1.5 s of CPU took over 5 s of wall time
 * at load 18) or blocked: it is waited for until it is killed at
 * drain_timeout, so that the answer stays true, but for 30 s at most
 * (vkd_control.c's bound on a `reload wait` counts on it).
 */
#define VKD_DRAIN_LOOK_MS 2L
#define VKD_DRAIN_WAIT_MAX_MS 30000L
/* A worker that lived this long was stable: its backoff starts over. */
#define VKD_STABLE_MS 60000L
/* Second and later quick deaths wait 100 ms, 200 ms, ... up to 30 s. */
#define VKD_BACKOFF_BASE_MS 100L
#define VKD_BACKOFF_MAX_MS 30000L
/* A new generation that is not ready in this time fails the reload. */
#define VKD_RELOAD_TIMEOUT_MS 60000L
/* Time a draining worker gets past drain_timeout to exit by itself. */
#define VKD_KILL_GRACE_MS 1000L
/* How often STATUS= is refreshed (only sent when it changed). */
#define VKD_STATUS_PERIOD_MS 2000L

enum gen_state {
	GEN_STARTING, /* forked, not every worker ready yet */
	GEN_ACTIVE,   /* serving */
	GEN_DRAINING, /* told to finish; no respawns */
};

struct gen;

struct worker {
	struct gen *gen;
	unsigned index;
	pid_t pid; /* 0 when not running */
	struct vkd_slot *slot;
	unsigned failures;	 /* deaths in a row, each within VKD_STABLE_MS of its start */
	uint64_t restarts;	 /* respawns of this worker number */
	struct vk_stats carried; /* what its processes gone counted */
	long started_ms;
	long respawn_ms; /* when pid == 0 and not done: fork again then */
	long kill_ms;	 /* when draining: SIGKILL then; 0 = not set */
	uint64_t sent;	 /* signals the master sent this process (bit N-1: N) */
	int ctl;	 /* our end of its control socket (vkd_mesh.h), -1: none */
	int ctl_child;	 /* its end, from before the fork until after */
	int ready;
	int done;	      /* exited and stays so */
	struct vkd_link link; /* the channel to it (ps, kill) */
};

struct gen {
	unsigned number;
	enum gen_state state;
	struct vkd_config *config;
	struct vkd_listener **listeners; /* one per listen address, in config order */
	int *fds;
	size_t listener_count;
	struct worker *workers;
	unsigned worker_count;
	long deadline_ms;	   /* a reload's generation: ready by then */
	struct vkd_app_table apps; /* per-app counters, shared with its workers */
	struct gen *next;
};

struct master {
	const char *path;
	char **argv;
	struct gen *gens;    /* every generation with live workers, newest first */
	struct gen *current; /* the one serving, or the first one starting */
	struct gen *pending; /* a reload's generation until it is ready */
	/* A reload's configuration while its modules are checked (NULL when
	 * none is): the master serves meanwhile, and its generation starts
	 * when the check ends well. */
	struct vkd_config *checking;
	struct vkd_check check;
	struct vkd_listeners listeners;
	struct vkd_counters counters;
	struct vkd_app_sums apps_gone; /* per-app totals of generations gone */
	struct vkd_control *control;
	struct vkd_queries queries; /* ps and kill in flight */
	struct pollfd *pfd;	    /* the poll set, and whose link each entry is */
	struct worker **pfd_worker;
	long started_ms;
	int sigfd;
	int ready_pipe[2];
	unsigned next_gen;
	int stopping;
	int announced; /* READY=1 sent */
	/*
	 * A reload that activated generation `served` and told generation
	 * `drains` to drain: `reload wait` is answered once no worker of the
	 * latter accepts any more (or at `served_by_ms`), so that a client
	 * connecting after it reaches the new generation only.
	 */
	unsigned served, drains;
	long served_by_ms;
	long status_ms;
	char status[256];
	pid_t pid;
};

static long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---- status ---- */

/* Workers of generation g that reported ready. */
static unsigned gen_ready_count(const struct gen *g)
{
	unsigned ready = 0;

	for (unsigned i = 0; g && i < g->worker_count; i++)
		ready += g->workers[i].ready;
	return ready;
}

static void master_status_text(struct master *m, char *buf, size_t size)
{
	struct vkd_totals t;

	/* The counters sum every worker the master had; "ready" is the serving
	 * generation's. */
	vkd_counters_sum(&m->counters, &t);
	snprintf(buf, size,
		 "gen %u: %u/%u workers ready, %llu connections, %llu accepted, %llu refused, "
		 "%llu faults, %llu restarts%s",
		 m->current ? m->current->number : 0, gen_ready_count(m->current),
		 m->current ? m->current->worker_count : 0, (unsigned long long)t.connections,
		 (unsigned long long)t.stats.accepted, (unsigned long long)t.stats.refused,
		 (unsigned long long)t.stats.faults, (unsigned long long)t.restarts,
		 m->stopping ? ", stopping" : (m->pending || m->checking ? ", reloading" : ""));
}

/* Send STATUS= if it changed since the last time. */
static void master_status(struct master *m)
{
	char text[sizeof(m->status)];

	m->status_ms = now_ms() + VKD_STATUS_PERIOD_MS;
	master_status_text(m, text, sizeof(text));
	if (strcmp(text, m->status) == 0)
		return;
	memcpy(m->status, text, sizeof(text));
	if (vkd_notify_status(text) < 0)
		vkd_debug("sd_notify(STATUS): %s", strerror(errno));
}

static void master_announce_ready(struct master *m)
{
	master_status_text(m, m->status, sizeof(m->status));
	if (vkd_notify_ready(m->status) < 0)
		vkd_warn("sd_notify(READY=1): %s", strerror(errno));
}

/* ---- workers ---- */

static const char *signal_text(int sig)
{
	const char *name = sigabbrev_np(sig);

	return name ? name : "?";
}

static uint64_t signal_bit(int sig)
{
	return sig >= 1 && sig <= 64 ? (uint64_t)1 << (sig - 1) : 0;
}

/*
 * The level of a worker's exit (LOGGING in vkd(8)): an end the master
 * asked for is news (info); any other end lost what the worker served,
 * whether it was serving, starting or draining (error). A worker exits 0
 * only after a drain, which SIGTERM starts (from the master or not); an
 * exit 0 before that is app code calling exit().
 */
static enum vkd_log_level exit_level(const struct worker *w, int status, uint32_t slot_state)
{
	if (WIFSIGNALED(status))
		return w->sent & signal_bit(WTERMSIG(status)) ? VKD_LOG_INFO : VKD_LOG_ERROR;
	if (WEXITSTATUS(status) != 0)
		return VKD_LOG_ERROR;
	return slot_state == VKD_SLOT_DRAINING ? VKD_LOG_INFO : VKD_LOG_ERROR;
}

static void log_exit(const struct worker *w, pid_t pid, int status)
{
	enum vkd_log_level level = exit_level(w, status, vkd_slot_state(w->slot));

	if (WIFSIGNALED(status))
		vkd_log(level, "worker %u (gen %u) pid %ld killed by signal %d (SIG%s)%s", w->index,
			w->gen->number, (long)pid, WTERMSIG(status), signal_text(WTERMSIG(status)),
			WCOREDUMP(status) ? ", core dumped" : "");
	else
		vkd_log(level, "worker %u (gen %u) pid %ld exited with status %d", w->index,
			w->gen->number, (long)pid, WEXITSTATUS(status));
}

/* In the child: keep only what the worker needs, then become it. */
/*
 * In a worker: close the master's end of every worker's channel, its own
 * included. Another worker's would let app code there talk to that worker
 * as if it were the master (kill its connections).
 */
static void worker_close_links(struct master *m)
{
	for (struct gen *g = m->gens; g; g = g->next)
		for (unsigned i = 0; i < g->worker_count; i++)
			if (g->workers[i].link.fd >= 0)
				close(g->workers[i].link.fd);
}

static void __attribute__((noreturn)) worker_child(struct master *m, struct worker *w, int chan)
{
	struct gen *g = w->gen;
	struct vkd_worker_args args = {
	    .config = g->config,
	    .index = w->index,
	    .generation = g->number,
	    .slot = w->slot,
	    .counters = &m->counters,
	    .fds = g->fds,
	    .fd_count = g->listener_count,
	    .ready_fd = m->ready_pipe[1],
	    .master = m->pid,
	    .argv = m->argv,
	    .workers = g->worker_count,
	    .mesh_fd = w->ctl_child,
	    .app_stats = vkd_app_table_row(&g->apps, w->index),
	    .chan_fd = chan,
	};

	close(m->sigfd);
	close(m->ready_pipe[0]);
	vkd_control_close_fds(m->control);
	worker_close_links(m);
	/* Another generation's listener, if kept open here, would queue
	 * connections that nobody accepts once that generation is gone. */
	vkd_listeners_close_except(&m->listeners, g->fds, g->listener_count);
	for (struct gen *other = m->gens; other; other = other->next) {
		if (other != g)
			vkd_module_unpin(other->config);
		/* Control sockets are the master's: a worker holding one would hide a death. */
		for (unsigned i = 0; i < other->worker_count; i++)
			if (other->workers[i].ctl >= 0)
				close(other->workers[i].ctl);
	}
	if (m->checking) {
		vkd_module_unpin(m->checking);
		if (m->check.fd >= 0)
			close(m->check.fd);
	}
	exit(vkd_worker_run(&args));
}

/* Close the master's end of a worker's control socket. */
static void worker_close_ctl(struct worker *w)
{
	if (w->ctl >= 0)
		close(w->ctl);
	w->ctl = -1;
}

/*
 * The control socket of a worker about to fork, and its links to every
 * running worker of its generation (vkd_mesh.h). Without them it runs,
 * alone: its channels to other workers are refused.
 */
static void worker_mesh(struct worker *w)
{
	struct gen *g = w->gen;

	w->ctl_child = -1;
	if (vkd_mesh_control(&w->ctl, &w->ctl_child) < 0) {
		vkd_warn("worker %u (gen %u): control socket: %s", w->index, g->number,
			 strerror(errno));
		w->ctl = -1;
		return;
	}
	for (unsigned i = 0; i < g->worker_count; i++) {
		struct worker *peer = &g->workers[i];

		if (peer == w || peer->pid <= 0 || peer->ctl < 0)
			continue;
		if (vkd_mesh_link(w->ctl, w->index, peer->ctl, peer->index) < 0)
			vkd_warn("worker %u (gen %u): no link to worker %u: %s", w->index,
				 g->number, peer->index, strerror(errno));
	}
}

static int worker_spawn(struct master *m, struct worker *w)
{
	struct vkd_slot *slot = vkd_counters_take(&m->counters);
	int chan[2];
	pid_t pid;

	if (!slot) {
		vkd_error("worker %u (gen %u): no free counter slot", w->index, w->gen->number);
		return -1;
	}
	if (vkd_chan_pair(chan) < 0) {
		vkd_error("worker %u (gen %u): socketpair: %s", w->index, w->gen->number,
			  strerror(errno));
		vkd_counters_release(slot);
		return -1;
	}
	slot->index = w->index;
	slot->generation = w->gen->number;
	slot->restarts = w->restarts;
	slot->carried = w->carried;
	w->slot = slot;
	w->started_ms = now_ms();
	slot->started_ms = (uint64_t)w->started_ms;
	w->ready = 0;
	w->respawn_ms = 0;
	w->sent = 0;
	worker_mesh(w);
	pid = fork();
	if (pid < 0) {
		vkd_error("worker %u (gen %u): fork: %s", w->index, w->gen->number,
			  strerror(errno));
		vkd_counters_release(slot);
		w->slot = NULL;
		worker_close_ctl(w);
		if (w->ctl_child >= 0)
			close(w->ctl_child);
		close(chan[0]);
		close(chan[1]);
		return -1;
	}
	if (pid == 0) {
		close(chan[0]);
		worker_child(m, w, chan[1]);
	}
	if (w->ctl_child >= 0)
		close(w->ctl_child);
	w->ctl_child = -1;
	close(chan[1]);
	w->link.fd = chan[0];
	w->pid = pid;
	__atomic_store_n(&slot->pid, (int32_t)pid, __ATOMIC_RELAXED);
	vkd_debug("worker %u (gen %u) started, pid %ld", w->index, w->gen->number, (long)pid);
	return 0;
}

/* Exponential with +-20% jitter, so that workers of one crash do not
 * come back in lockstep; still strictly growing from step to step. */
static long backoff_ms(unsigned failures)
{
	long delay;

	if (failures <= 1)
		return 0;
	delay = VKD_BACKOFF_BASE_MS;
	for (unsigned i = 2; i < failures && delay < VKD_BACKOFF_MAX_MS; i++)
		delay *= 2;
	if (delay > VKD_BACKOFF_MAX_MS)
		delay = VKD_BACKOFF_MAX_MS;
	return delay - delay / 5 + random() % (delay * 2 / 5 + 1);
}

static void worker_schedule_respawn(struct master *m, struct worker *w)
{
	long now = now_ms();
	long delay;

	if (now - w->started_ms >= VKD_STABLE_MS)
		w->failures = 0;
	w->failures++;
	w->restarts++;
	m->counters.restarts++;
	delay = backoff_ms(w->failures);
	w->respawn_ms = now + delay;
	if (delay > 0)
		vkd_warn("worker %u (gen %u) keeps dying: respawn in %ld ms", w->index,
			 w->gen->number, delay);
}

static void worker_respawn(struct master *m, struct worker *w)
{
	if (worker_spawn(m, w) == 0)
		return;
	/* A failed fork counts as a quick death: back off before retrying. */
	w->started_ms = now_ms();
	worker_schedule_respawn(m, w);
	if (w->respawn_ms <= now_ms())
		w->respawn_ms = now_ms() + VKD_BACKOFF_BASE_MS;
}

static void worker_signal(struct worker *w, int sig)
{
	if (w->pid <= 0)
		return;
	w->sent |= signal_bit(sig);
	if (kill(w->pid, sig) < 0 && errno != ESRCH)
		vkd_error("kill(%ld, %d): %s", (long)w->pid, sig, strerror(errno));
}

/* Append a message to a "\n"-separated list for a control client; err
 * may be NULL (a reload from SIGHUP has nobody to tell). */
static void err_add(char *err, size_t size, const char *message)
{
	size_t len;

	if (!err || size == 0)
		return;
	len = strlen(err);
	if (len + 1 < size)
		snprintf(err + len, size - len, "%s%s", len ? "\n" : "", message);
}

/* ---- generations ---- */

/* Give back the generation's addresses: closed once no generation has them. */
static void gen_put_listeners(struct master *m, struct gen *g)
{
	for (size_t i = 0; i < g->listener_count; i++)
		vkd_listeners_put(&m->listeners, g->listeners[i]);
	g->listener_count = 0;
}

/* Keep a generation's per-app totals by name, then drop its table. */
static void gen_retire_apps(struct master *m, struct gen *g)
{
	for (size_t i = 0; g->apps.cells && i < g->config->app_count; i++)
		if (vkd_app_sums_add_table(&m->apps_gone, g->config->apps[i].name, &g->apps, i, 0) <
		    0)
			vkd_error("out of memory: the totals of app %s lose generation %u",
				  g->config->apps[i].name, g->number);
	vkd_app_table_unmap(&g->apps);
}

static void gen_free(struct master *m, struct gen *g)
{
	/* Workers set up (gen set) have a link, closed or not. */
	for (unsigned i = 0; g->workers && i < g->worker_count; i++) {
		worker_close_ctl(&g->workers[i]);
		if (g->workers[i].gen == g)
			vkd_queries_link_gone(&m->queries, &g->workers[i].link);
	}
	gen_retire_apps(m, g);
	gen_put_listeners(m, g);
	vkd_config_free(g->config);
	free(g->listeners);
	free(g->fds);
	free(g->workers);
	free(g);
}

static size_t config_listen_count(const struct vkd_config *config)
{
	size_t n = 0;

	for (size_t i = 0; i < config->app_count; i++)
		n += config->apps[i].listen_count;
	return n;
}

/* Get (bind or share) every listener of the configuration. */
static int gen_bind(struct master *m, struct gen *g, char *err, size_t size)
{
	const struct vkd_config *config = g->config;
	const char *what = "";
	char text[512];

	for (size_t i = 0; i < config->app_count; i++) {
		const struct vkd_app_config *app = &config->apps[i];

		for (size_t j = 0; j < app->listen_count; j++) {
			struct vkd_listener *l;

			l = vkd_listeners_get(&m->listeners, &app->listen[j], app->backlog, &what);
			if (!l) {
				snprintf(text, sizeof(text),
					 "%s:%d: app %s: cannot listen on %s: %s: %s", config->path,
					 app->listen[j].line, app->name, app->listen[j].text, what,
					 strerror(errno));
				vkd_error("%s", text);
				err_add(err, size, text);
				return -1;
			}
			g->listeners[g->listener_count] = l;
			g->fds[g->listener_count++] = l->fd;
		}
	}
	return 0;
}

/* A generation for `config` (owned from now on) with its listeners bound.
 * Why it failed goes to the log and to err (may be NULL). */
static struct gen *gen_create(struct master *m, struct vkd_config *config, char *err, size_t size)
{
	size_t listen_count = config_listen_count(config);
	struct gen *g = calloc(1, sizeof(*g));

	if (!g) {
		vkd_config_free(config);
		vkd_error("out of memory");
		err_add(err, size, "out of memory");
		return NULL;
	}
	g->config = config;
	g->number = ++m->next_gen;
	g->state = GEN_STARTING;
	g->worker_count = config->workers;
	g->listeners = calloc(listen_count, sizeof(*g->listeners));
	g->fds = calloc(listen_count, sizeof(*g->fds));
	g->workers = calloc(g->worker_count, sizeof(*g->workers));
	if (!g->listeners || !g->fds || !g->workers) {
		vkd_error("out of memory");
		err_add(err, size, "out of memory");
		free(g->workers);
		g->workers = NULL;
		gen_free(m, g);
		return NULL;
	}
	for (unsigned i = 0; i < g->worker_count; i++) {
		g->workers[i].gen = g;
		g->workers[i].index = i + 1;
		g->workers[i].ctl = -1;
		g->workers[i].ctl_child = -1;
		g->workers[i].link.fd = -1;
	}
	if (vkd_app_table_map(&g->apps, config->app_count, g->worker_count) < 0) {
		vkd_error("mapping the per-app counters: %s", strerror(errno));
		err_add(err, size, "cannot map the per-app counters");
		gen_free(m, g);
		return NULL;
	}
	if (gen_bind(m, g, err, size) < 0) {
		gen_free(m, g);
		return NULL;
	}
	g->next = m->gens;
	m->gens = g;
	return g;
}

static void gen_start(struct master *m, struct gen *g)
{
	vkd_info("starting generation %u: %u workers, %zu apps", g->number, g->worker_count,
		 g->config->app_count);
	for (unsigned i = 0; i < g->worker_count; i++) {
		struct worker *w = &g->workers[i];

		if (worker_spawn(m, w) < 0) {
			w->started_ms = now_ms();
			worker_schedule_respawn(m, w);
		}
	}
}

static int gen_live(const struct gen *g)
{
	for (unsigned i = 0; i < g->worker_count; i++)
		if (!g->workers[i].done)
			return 1;
	return 0;
}

/* Drop a drained generation once its last worker is gone. */
static void gen_reap(struct master *m, struct gen *g)
{
	struct gen **p;

	if (g->state != GEN_DRAINING || gen_live(g))
		return;
	for (p = &m->gens; *p; p = &(*p)->next) {
		if (*p != g)
			continue;
		*p = g->next;
		break;
	}
	if (m->current == g)
		m->current = NULL;
	if (m->pending == g)
		m->pending = NULL;
	vkd_debug("generation %u is gone", g->number);
	gen_free(m, g);
}

/* How long after its SIGTERM a draining worker is killed. */
static long gen_kill_delay_ms(const struct gen *g)
{
	long drain = g->config->drain_timeout_ms;

	return drain ? drain + VKD_KILL_GRACE_MS : 0;
}

/* Stop a generation: TERM to drain, or KILL. Dead workers stay dead. */
static void gen_stop(struct master *m, struct gen *g, int sig)
{
	long kill_at = now_ms() + gen_kill_delay_ms(g);

	if (g->state == GEN_DRAINING && sig != SIGKILL)
		return;
	g->state = GEN_DRAINING;
	/*
	 * A draining generation never forks again, and its workers close their
	 * copies as they start to drain: an address no other generation serves
	 * must refuse connections now, not queue them for nobody.
	 */
	gen_put_listeners(m, g);
	for (unsigned i = 0; i < g->worker_count; i++) {
		struct worker *w = &g->workers[i];

		if (w->pid == 0) {
			w->done = 1;
			continue;
		}
		if (sig == SIGTERM && g->config->drain_timeout_ms == 0)
			sig = SIGKILL;
		worker_signal(w, sig);
		w->kill_ms = sig == SIGKILL ? 0 : kill_at;
	}
	gen_reap(m, g);
}

static int gen_all_ready(const struct gen *g)
{
	for (unsigned i = 0; i < g->worker_count; i++)
		if (!g->workers[i].ready)
			return 0;
	return 1;
}

/* The old generation drains once the new one serves. */
static void gen_activate(struct master *m, struct gen *g)
{
	struct gen *old = m->current;
	long delay;

	g->state = GEN_ACTIVE;
	if (g != m->pending) {
		vkd_info("generation %u ready: %u workers", g->number, g->worker_count);
		master_announce_ready(m);
		m->announced = 1;
		return;
	}
	m->pending = NULL;
	m->current = g;
	vkd_log_set_level(g->config->log_level);
	vkd_info("reload: generation %u ready, generation %u drains", g->number,
		 old ? old->number : 0);
	master_announce_ready(m);
	if (!old) {
		vkd_control_reload_done(m->control, g->number, NULL, now_ms());
		return;
	}
	/*
	 * Read before gen_stop(): a generation with no worker alive (all
	 * waiting out their respawn backoff) is freed there at once.
	 */
	m->served = g->number;
	m->drains = old->number;
	/* By then gen_stop()'s SIGKILL has ended any worker still accepting. */
	delay = gen_kill_delay_ms(old) + VKD_KILL_GRACE_MS;
	m->served_by_ms =
	    now_ms() + (delay < VKD_DRAIN_WAIT_MAX_MS ? delay : VKD_DRAIN_WAIT_MAX_MS);
	gen_stop(m, old, SIGTERM);
}

/* A worker of generation `number` still accepts (it has not seen its SIGTERM yet). */
static int gen_accepting(const struct master *m, unsigned number)
{
	for (const struct gen *g = m->gens; g; g = g->next) {
		if (g->number != number)
			continue;
		for (unsigned i = 0; i < g->worker_count; i++) {
			const struct worker *w = &g->workers[i];

			if (w->pid > 0 && vkd_slot_state(w->slot) == VKD_SLOT_READY)
				return 1;
		}
	}
	return 0;
}

/* Answer `reload wait` once the drained generation stopped accepting. */
static void reload_served(struct master *m, long now)
{
	if (!m->served || (gen_accepting(m, m->drains) && now < m->served_by_ms))
		return;
	vkd_control_reload_done(m->control, m->served, NULL, now);
	m->served = 0;
}

/* ---- reload ---- */

static void reload_done_badly(struct master *m, const char *why)
{
	char status[sizeof(m->status) + 64];

	vkd_error("reload failed: %s; generation %u goes on", why,
		  m->current ? m->current->number : 0);
	snprintf(status, sizeof(status), "reload failed: %s", why);
	if (m->announced && vkd_notify_ready(status) < 0)
		vkd_warn("sd_notify(READY=1): %s", strerror(errno));
	m->status[0] = '\0';
}

/* The new generation could not start: drain what of it runs. */
static void reload_abandon(struct master *m, const char *why)
{
	struct gen *g = m->pending;

	m->pending = NULL;
	gen_stop(m, g, SIGTERM);
	reload_done_badly(m, why);
	vkd_control_reload_done(m->control, 0, why, now_ms());
}

/* Log an error and keep it for the control client. */
static void reload_error(char *err, size_t size, const char *message)
{
	vkd_error("%s", message);
	err_add(err, size, message);
}

/* Read and pin the configuration for a reload; NULL with the errors logged and in err. */
static struct vkd_config *reload_config(struct master *m, char *err, size_t size)
{
	struct vkd_config_errors errs;
	struct vkd_config *config;
	char text[64];

	config = vkd_config_load(m->path, &errs);
	for (size_t i = 0; i < errs.count; i++)
		reload_error(err, size, errs.messages[i]);
	if (errs.dropped) {
		snprintf(text, sizeof(text), "%zu more errors not shown", errs.dropped);
		reload_error(err, size, text);
	}
	if (!config && errs.count == 0) {
		snprintf(text, sizeof(text), "%s", strerror(errno));
		reload_error(err, size, text);
	}
	vkd_config_errors_free(&errs);
	if (config)
		vkd_module_pin(config);
	return config;
}

/* Log every error of a check and keep them for the control clients. */
static void reload_check_errors(struct vkd_check_errors *errors, char *err, size_t size)
{
	for (size_t i = 0; i < errors->count; i++)
		reload_error(err, size, errors->messages[i]);
	vkd_check_errors_free(errors);
}

/* The control socket is made once: say so when its keys change. */
static void reload_check_control(const struct vkd_config *old, const struct vkd_config *config)
{
	const char *og = old->control_group ? old->control_group : "";
	const char *ng = config->control_group ? config->control_group : "";

	if (strcmp(old->control_path, config->control_path) != 0 ||
	    old->control_mode != config->control_mode || strcmp(og, ng) != 0)
		vkd_warn("reload: control, control_mode and control_group take effect at the "
			 "next start; the control socket stays %s",
			 old->control_path);
}

/* The new generation of a checked configuration (owned from now on). */
static void reload_start(struct master *m, struct vkd_config *config)
{
	char err[4096] = "";
	struct gen *g;

	if (m->current)
		reload_check_control(m->current->config, config);
	g = gen_create(m, config, err, sizeof(err));
	if (!g) {
		reload_done_badly(m, "cannot listen");
		vkd_control_reload_done(m->control, 0, err, now_ms());
		return;
	}
	g->deadline_ms = now_ms() + VKD_RELOAD_TIMEOUT_MS;
	m->pending = g;
	gen_start(m, g);
	vkd_control_reload_started(m->control, g->number, now_ms());
}

/* The reload's module check ended with the child's wait status. */
static void reload_checked(struct master *m, int status)
{
	struct vkd_config *config = m->checking;
	struct vkd_check_errors errors = {0};
	char err[4096] = "";
	int rc = vkd_check_end(&m->check, status, &errors);

	m->checking = NULL;
	if (m->stopping) {
		vkd_check_errors_free(&errors);
		vkd_config_free(config);
		return;
	}
	if (rc == 0) {
		vkd_check_errors_free(&errors);
		reload_start(m, config);
		return;
	}
	reload_check_errors(&errors, err, sizeof(err));
	vkd_config_free(config);
	reload_done_badly(m, "configuration or module errors");
	vkd_control_reload_done(m->control, 0, err[0] ? err : "module check failed", now_ms());
}

/* Why a reload cannot start now, or NULL. */
static const char *reload_busy(const struct master *m, char *why, size_t size)
{
	if (m->stopping)
		return "vkd is stopping";
	if (m->checking)
		return "a reload is in progress: its modules are being checked";
	if (!m->pending)
		return NULL;
	snprintf(why, size, "a reload is in progress: generation %u is starting",
		 m->pending->number);
	return why;
}

/*
 * Start a reload: read the configuration, then check its modules in a
 * child while the master goes on serving. Returns 0 when the check runs
 * (its end is told through vkd_control_reload_started() or _done()), or
 * -1 with the reason in err (may be NULL).
 */
static int master_reload(struct master *m, char *err, size_t size)
{
	struct vkd_check_errors errors = {0};
	struct vkd_config *config;
	const char *busy;
	char why[128];

	busy = reload_busy(m, why, sizeof(why));
	if (busy) {
		if (!m->stopping)
			vkd_warn("reload: %s; ignored", busy);
		err_add(err, size, busy);
		return -1;
	}
	vkd_info("reloading %s", m->path);
	if (vkd_notify_reloading() < 0)
		vkd_warn("sd_notify(RELOADING=1): %s", strerror(errno));
	config = reload_config(m, err, size);
	if (!config) {
		reload_done_badly(m, "configuration or module errors");
		return -1;
	}
	if (vkd_check_start(&m->check, config, now_ms(), &errors) < 0) {
		reload_check_errors(&errors, err, size);
		vkd_config_free(config);
		reload_done_badly(m, "the module check did not start");
		return -1;
	}
	m->checking = config;
	return 0;
}

/* ---- events ---- */

static struct worker *master_find(struct master *m, pid_t pid)
{
	for (struct gen *g = m->gens; g; g = g->next)
		for (unsigned i = 0; i < g->worker_count; i++)
			if (g->workers[i].pid == pid)
				return &g->workers[i];
	return NULL;
}

static void worker_exited(struct master *m, struct worker *w, pid_t pid, int status)
{
	struct gen *g = w->gen;
	int was_ready = w->ready;

	log_exit(w, pid, status);
	worker_close_ctl(w);
	vkd_queries_link_gone(&m->queries, &w->link);
	vkd_counters_retire(&m->counters, w->slot, &w->carried);
	vkd_app_table_worker_gone(&g->apps, w->index);
	w->slot = NULL;
	w->pid = 0;
	w->ready = 0;
	w->kill_ms = 0;
	if (m->stopping || g->state == GEN_DRAINING) {
		w->done = 1;
		gen_reap(m, g);
		return;
	}
	if (g == m->pending && !was_ready) {
		w->done = 1;
		reload_abandon(m, "a worker of the new generation died while starting");
		return;
	}
	worker_schedule_respawn(m, w);
}

static void master_reap(struct master *m)
{
	for (;;) {
		struct worker *w;
		int status;
		pid_t pid = waitpid(-1, &status, WNOHANG);

		if (pid < 0 && errno == EINTR)
			continue;
		if (pid <= 0)
			return;
		if (m->checking && pid == m->check.pid) {
			reload_checked(m, status);
			continue;
		}
		w = master_find(m, pid);
		if (w)
			worker_exited(m, w, pid, status);
	}
}

static void master_ready_reports(struct master *m)
{
	char buf[256];

	while (read(m->ready_pipe[0], buf, sizeof(buf)) > 0)
		;
	for (struct gen *g = m->gens; g; g = g->next) {
		for (unsigned i = 0; i < g->worker_count; i++) {
			struct worker *w = &g->workers[i];

			if (w->pid == 0 || w->ready || vkd_slot_state(w->slot) != VKD_SLOT_READY)
				continue;
			w->ready = 1;
			vkd_debug("worker %u (gen %u) pid %ld ready", w->index, g->number,
				  (long)w->pid);
		}
		if (g->state == GEN_STARTING && gen_all_ready(g))
			gen_activate(m, g);
	}
}

static void master_stop(struct master *m, int sig)
{
	if (m->stopping && sig != SIGKILL)
		return;
	vkd_info("%s: %s", sig == SIGKILL ? "stopping now" : "stopping",
		 sig == SIGKILL ? "killing the workers" : "draining the workers");
	if (!m->stopping && vkd_notify_stopping() < 0)
		vkd_warn("sd_notify(STOPPING=1): %s", strerror(errno));
	if (!m->stopping && (m->pending || m->checking))
		vkd_control_reload_done(m->control, 0, "vkd is stopping", now_ms());
	/* The check's end still comes by SIGCHLD: the loop waits for it. */
	if (m->checking)
		vkd_check_kill(&m->check);
	m->stopping = 1;
	for (struct gen *g = m->gens, *next; g; g = next) {
		next = g->next;
		gen_stop(m, g, sig);
	}
}

/* Pass a signal on to every running worker (SIGUSR1: they reopen their access logs). */
static void master_forward(struct master *m, int sig)
{
	for (struct gen *g = m->gens; g; g = g->next)
		for (unsigned i = 0; i < g->worker_count; i++)
			if (g->workers[i].pid > 0 && kill(g->workers[i].pid, sig) < 0 &&
			    errno != ESRCH)
				vkd_error("kill(%ld, %d): %s", (long)g->workers[i].pid, sig,
					  strerror(errno));
}

static void master_signal(struct master *m, int sig)
{
	switch (sig) {
	case SIGCHLD:
		master_reap(m);
		break;
	case SIGTERM:
	case SIGINT:
		master_stop(m, SIGTERM);
		break;
	case SIGQUIT:
		master_stop(m, SIGKILL);
		break;
	case SIGHUP:
		master_reload(m, NULL, 0);
		break;
	case SIGUSR1:
		vkd_log_reopen();
		master_forward(m, SIGUSR1);
		break;
	default:
		break;
	}
}

static void master_signals(struct master *m)
{
	struct signalfd_siginfo info;
	ssize_t n;

	while ((n = read(m->sigfd, &info, sizeof(info))) == (ssize_t)sizeof(info))
		master_signal(m, (int)info.ssi_signo);
	/* A lost SIGCHLD merge is harmless: reaping loops until nothing is left. */
	if (n < 0 && errno != EAGAIN && errno != EINTR)
		vkd_error("read(signalfd): %s", strerror(errno));
}

static void worker_timers(struct master *m, struct worker *w, long now)
{
	if (w->pid == 0 && !w->done && w->respawn_ms && w->respawn_ms <= now &&
	    w->gen->state != GEN_DRAINING && !m->stopping)
		worker_respawn(m, w);
	if (w->pid > 0 && w->kill_ms && w->kill_ms <= now) {
		vkd_warn("worker %u (gen %u) pid %ld did not drain in time: killed", w->index,
			 w->gen->number, (long)w->pid);
		worker_signal(w, SIGKILL);
		w->kill_ms = 0;
	}
}

static void master_timers(struct master *m)
{
	long now = now_ms();

	for (struct gen *g = m->gens; g; g = g->next)
		for (unsigned i = 0; i < g->worker_count; i++)
			worker_timers(m, &g->workers[i], now);
	if (m->pending && m->pending->deadline_ms <= now)
		reload_abandon(m, "the new generation was not ready in time");
	reload_served(m, now);
	if (m->checking)
		vkd_check_expire(&m->check, now);
	if (m->status_ms <= now)
		master_status(m);
	vkd_control_timers(m->control, now);
}

static long min_deadline(long a, long b)
{
	return a && (!b || a < b) ? a : b;
}

/* Milliseconds until the next timer, for poll(). */
static int master_timeout(const struct master *m)
{
	long next = m->status_ms;
	long now = now_ms();
	long left, control;

	for (const struct gen *g = m->gens; g; g = g->next) {
		for (unsigned i = 0; i < g->worker_count; i++) {
			const struct worker *w = &g->workers[i];

			if (w->pid == 0 && !w->done)
				next = min_deadline(w->respawn_ms, next);
			if (w->pid > 0)
				next = min_deadline(w->kill_ms, next);
		}
	}
	if (m->pending)
		next = min_deadline(m->pending->deadline_ms, next);
	/* A draining worker says so in its slot, not with a wake-up: look often. */
	if (m->served)
		next = min_deadline(now + VKD_DRAIN_LOOK_MS, next);
	if (m->checking && !m->check.timed_out)
		next = min_deadline(m->check.deadline_ms, next);
	control = vkd_control_timeout(m->control, now);
	if (control >= 0)
		next = min_deadline(now + control, next);
	control = vkd_queries_timeout(&m->queries, now);
	if (control >= 0)
		next = min_deadline(now + control, next);
	left = next - now;
	if (left < 0)
		return 0;
	return left > 60000 ? 60000 : (int)left;
}

/* The master's descriptors come first in its poll set. */
enum { PFD_SIGNALS, PFD_READY, PFD_CHECK, PFD_CONTROL };

/* Each live worker's channel, after the master's own descriptors: how many. */
static size_t link_pollfds(struct master *m, struct pollfd *pfd, struct worker **who)
{
	size_t n = 0;

	for (struct gen *g = m->gens; g; g = g->next) {
		for (unsigned i = 0; i < g->worker_count && n < VKD_SLOTS_MAX; i++) {
			struct worker *w = &g->workers[i];

			if (w->link.fd < 0)
				continue;
			pfd[n].fd = w->link.fd;
			pfd[n].events = POLLIN;
			pfd[n].revents = 0;
			who[n++] = w;
		}
	}
	return n;
}

/* Answers from the workers, then the queries they ended. */
static void master_links(struct master *m, const struct pollfd *pfd, struct worker **who, size_t n)
{
	struct vkd_query *query;

	for (size_t i = 0; i < n; i++) {
		if (!pfd[i].revents || who[i]->link.fd != pfd[i].fd)
			continue;
		if (vkd_queries_read(&m->queries, &who[i]->link) < 0)
			vkd_queries_link_gone(&m->queries, &who[i]->link);
	}
	while ((query = vkd_queries_take_done(&m->queries, now_ms())))
		vkd_control_query_done(m->control, query, now_ms());
}

static void master_loop(struct master *m)
{
	while (!(m->stopping && !m->gens && !m->checking)) {
		struct pollfd *pfd = m->pfd;
		size_t n, links;
		int rc;

		pfd[PFD_SIGNALS] = (struct pollfd){.fd = m->sigfd, .events = POLLIN};
		pfd[PFD_READY] = (struct pollfd){.fd = m->ready_pipe[0], .events = POLLIN};
		/* A negative fd is left out by poll(). */
		pfd[PFD_CHECK] =
		    (struct pollfd){.fd = m->checking ? m->check.fd : -1, .events = POLLIN};
		n = PFD_CONTROL + vkd_control_pollfds(m->control, pfd + PFD_CONTROL,
						      VKD_CONTROL_POLLFDS, now_ms());
		links = link_pollfds(m, pfd + n, m->pfd_worker);
		rc = poll(pfd, n + links, master_timeout(m));

		if (rc < 0 && errno != EINTR) {
			vkd_error("poll: %s", strerror(errno));
			master_stop(m, SIGKILL);
		}
		/* Before the signals: a reaped worker may free the generation
		 * that m->pfd_worker points into. */
		master_links(m, rc > 0 ? pfd + n : pfd, m->pfd_worker, rc > 0 ? links : 0);
		/* The check's report before SIGCHLD, which ends the check. */
		if (rc > 0 && pfd[PFD_CHECK].revents && m->checking)
			vkd_check_read(&m->check);
		if (rc > 0 && pfd[PFD_SIGNALS].revents)
			master_signals(m);
		if (rc > 0 && pfd[PFD_READY].revents)
			master_ready_reports(m);
		if (rc > 0)
			vkd_control_handle(m->control, pfd + PFD_CONTROL, n - PFD_CONTROL,
					   now_ms());
		master_timers(m);
	}
}

/* ---- the control socket's commands ---- */

static void control_info(void *ctx, struct vkd_control_info *info)
{
	struct master *m = ctx;

	info->pid = m->pid;
	info->generation = m->current ? m->current->number : 0;
	info->reloading = m->pending ? m->pending->number : 0;
	info->checking = m->checking != NULL;
	info->stopping = m->stopping;
	info->uptime_ms = now_ms() - m->started_ms;
}

static int control_reload(void *ctx, char *err, size_t size)
{
	return master_reload(ctx, err, size);
}

static void control_stop(void *ctx)
{
	master_stop(ctx, SIGTERM);
}

static int control_kill(void *ctx, unsigned index, int sig, pid_t *pid, char *err, size_t size)
{
	struct master *m = ctx;
	struct gen *g = m->current;
	struct worker *w;

	if (!g || index == 0 || index > g->worker_count) {
		snprintf(err, size, "kill: no worker %u in generation %u (workers are 1 to %u)",
			 index, g ? g->number : 0, g ? g->worker_count : 0);
		return -1;
	}
	w = &g->workers[index - 1];
	if (w->pid == 0) {
		snprintf(err, size, "kill: worker %u (gen %u) is not running", index, g->number);
		return -1;
	}
	w->sent |= signal_bit(sig);
	if (kill(w->pid, sig) < 0) {
		snprintf(err, size, "kill: worker %u pid %ld: %s", index, (long)w->pid,
			 strerror(errno));
		return -1;
	}
	*pid = w->pid;
	return 0;
}

/* Per-app totals: the generations gone, and every live one's table. */
static int control_apps(void *ctx, struct vkd_app_sums *sums)
{
	struct master *m = ctx;

	if (vkd_app_sums_copy(sums, &m->apps_gone) < 0)
		return -1;
	/* Names keep the place they first had: those gone, then the live ones. */
	for (struct gen *g = m->gens; g; g = g->next)
		for (size_t i = 0; i < g->config->app_count; i++)
			if (vkd_app_sums_add_table(sums, g->config->apps[i].name, &g->apps, i, 1) <
			    0)
				return -1;
	return 0;
}

/* ps: every running worker of every live generation, or those numbered `index`. */
static struct vkd_query *control_ps(void *ctx, unsigned index, char *err, size_t size)
{
	struct master *m = ctx;
	struct vkd_query *query =
	    vkd_query_new(&m->queries, VKD_QUERY_PS, 0, now_ms() + VKD_QUERY_TIMEOUT_MS);

	if (!query) {
		snprintf(err, size, "out of memory");
		return NULL;
	}
	for (struct gen *g = m->gens; g; g = g->next) {
		for (unsigned i = 0; i < g->worker_count; i++) {
			struct worker *w = &g->workers[i];

			if (w->pid == 0 || (index && w->index != index))
				continue;
			if (vkd_query_ask(query, &w->link, w->index, g->number, w->pid, g->config) <
			    0) {
				vkd_query_free(query);
				snprintf(err, size, "out of memory");
				return NULL;
			}
		}
	}
	if (!query->part_count) {
		vkd_query_free(query);
		snprintf(err, size,
			 index ? "ps: no worker %u is running" : "ps: no worker is running", index);
		return NULL;
	}
	vkd_queries_add(&m->queries, query);
	return query;
}

/* kill W/ID: of the serving generation, as kill N. */
static struct vkd_query *control_kill_proc(void *ctx, unsigned index, uint64_t id, char *err,
					   size_t size)
{
	struct master *m = ctx;
	struct gen *g = m->current;
	struct vkd_query *query;
	struct worker *w;

	if (!g || index == 0 || index > g->worker_count) {
		snprintf(err, size, "kill: no worker %u in generation %u (workers are 1 to %u)",
			 index, g ? g->number : 0, g ? g->worker_count : 0);
		return NULL;
	}
	w = &g->workers[index - 1];
	if (w->pid == 0) {
		snprintf(err, size, "kill: worker %u (gen %u) is not running", index, g->number);
		return NULL;
	}
	query = vkd_query_new(&m->queries, VKD_QUERY_KILL, id, now_ms() + VKD_QUERY_TIMEOUT_MS);
	if (!query || vkd_query_ask(query, &w->link, w->index, g->number, w->pid, g->config) < 0) {
		vkd_query_free(query);
		snprintf(err, size, "out of memory");
		return NULL;
	}
	vkd_queries_add(&m->queries, query);
	return query;
}

static const struct vkd_control_ops control_ops = {
    .ps = control_ps,
    .kill_proc = control_kill_proc,
    .info = control_info,
    .apps = control_apps,
    .reload = control_reload,
    .stop = control_stop,
    .kill = control_kill,
};

/* ---- setup ---- */

static int master_setup_signals(struct master *m)
{
	static const int handled[] = {SIGCHLD, SIGTERM, SIGINT, SIGQUIT, SIGHUP, SIGUSR1};
	struct sigaction sa;
	sigset_t set;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_IGN;
	sigemptyset(&sa.sa_mask);
	/* SIGUSR2 means nothing here; its default would end the master. */
	if (sigaction(SIGPIPE, &sa, NULL) < 0 || sigaction(SIGUSR2, &sa, NULL) < 0)
		return -1;
	sigemptyset(&set);
	for (size_t i = 0; i < sizeof(handled) / sizeof(handled[0]); i++)
		sigaddset(&set, handled[i]);
	/* Blocked and read from a signalfd: one loop, no async handlers. */
	if (sigprocmask(SIG_BLOCK, &set, NULL) < 0)
		return -1;
	m->sigfd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
	return m->sigfd < 0 ? -1 : 0;
}

static int master_setup(struct master *m)
{
	m->sigfd = m->ready_pipe[0] = m->ready_pipe[1] = -1;
	m->pid = getpid();
	m->started_ms = now_ms();
	srandom((unsigned)m->pid ^ (unsigned)time(NULL));
	if (master_setup_signals(m) < 0) {
		vkd_error("signals: %s", strerror(errno));
		return -1;
	}
	if (pipe2(m->ready_pipe, O_NONBLOCK | O_CLOEXEC) < 0) {
		vkd_error("pipe: %s", strerror(errno));
		return -1;
	}
	if (vkd_counters_map(&m->counters, VKD_SLOTS_MAX) < 0) {
		vkd_error("mapping the counters: %s", strerror(errno));
		return -1;
	}
	/* The poll set's largest: a channel per worker slot besides the rest. */
	m->pfd = calloc(PFD_CONTROL + VKD_CONTROL_POLLFDS + VKD_SLOTS_MAX, sizeof(*m->pfd));
	m->pfd_worker = calloc(VKD_SLOTS_MAX, sizeof(*m->pfd_worker));
	if (!m->pfd || !m->pfd_worker) {
		vkd_error("out of memory");
		return -1;
	}
	return 0;
}

static void master_cleanup(struct master *m)
{
	while (m->gens) {
		struct gen *g = m->gens;

		m->gens = g->next;
		gen_free(m, g);
	}
	vkd_config_free(m->checking);
	vkd_app_sums_free(&m->apps_gone);
	vkd_queries_free(&m->queries);
	free(m->pfd);
	free(m->pfd_worker);
	vkd_control_close(m->control);
	vkd_listeners_free(&m->listeners);
	vkd_counters_unmap(&m->counters);
	if (m->sigfd >= 0)
		close(m->sigfd);
	if (m->ready_pipe[0] >= 0)
		close(m->ready_pipe[0]);
	if (m->ready_pipe[1] >= 0)
		close(m->ready_pipe[1]);
}

int vkd_master_run(const char *path, struct vkd_config *config, char **argv)
{
	struct master m = {.path = path, .argv = argv};
	char err[512];
	int status = 1;

	vkd_log_set_level(config->log_level);
	if (master_setup(&m) < 0) {
		vkd_config_free(config);
		goto out;
	}
	m.current = gen_create(&m, config, NULL, 0);
	if (!m.current)
		goto out;
	/* After the listeners (a bind error is the likelier one), before the
	 * workers, so that READY=1 means vkctl can talk to us. */
	m.control =
	    vkd_control_open(m.current->config, &m.counters, &control_ops, &m, err, sizeof(err));
	if (!m.control) {
		vkd_error("%s", err);
		goto out;
	}
	gen_start(&m, m.current);
	master_status(&m);
	master_loop(&m);
	vkd_info("stopped");
	status = 0;
out:
	master_cleanup(&m);
	return status;
}
