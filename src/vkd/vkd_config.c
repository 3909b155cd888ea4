/*
 * vkd_config.c - load and validate vkd.ini.
 *
 * How lines are numbered, and why inih is fed through our own reader:
 *
 * Every error must say "file:line:", but Debian's inih is built without
 * INI_HANDLER_LINENO, so its handler never learns the line. Re-scanning the
 * file afterwards to find "the line of key X" is fragile (repeated keys,
 * the same key in many sections). Instead we parse with ini_parse_stream()
 * and a reader of our own: inih asks the reader for exactly one line, then
 * calls the handler for that line (if any) before it asks for the next, so
 * the reader's count is the handler's line number.
 *
 * The reader also takes over the parts of inih that would lose or bend
 * information, so that the result does not depend on how inih was built:
 * - It reads whole lines with getline(); a line longer than inih's buffer
 *   is reported, not split into two lines behind our back.
 * - It strips leading blanks, so that inih's multi-line continuation (an
 *   indented line appends to the previous value) never triggers: an
 *   indented "key = value" is just a key.
 * - It parses "[section]" headers itself (inih truncates long section
 *   names and does not trim them) and hands inih an empty line instead;
 *   the handler uses our section state, not inih's section argument. This
 *   also lets an empty "[app x]" section be seen at all.
 * - It reports lines that are not "key = value", "[section]", a comment or
 *   blank, and hands inih an empty line, so every syntax error is
 *   reported, not only the first (inih returns one line number).
 * What is left to inih is splitting "key = value", trimming both sides
 * and removing ";" comments.
 *
 * All errors are collected (up to VKD_CONFIG_MAX_ERRORS) and the parse goes
 * on, so that "vkd -t" shows everything that is wrong in one run.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1 /* asprintf(); config.h says so too, when it is there */
#endif
#include "config.h"

#include "vkd_config.h"

#include <ctype.h>
#include <errno.h>
#include <ini.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "vk_addr.h"
#include "vk_parse.h"
#include "vkd_path.h"
#include "vkd_spell.h"
#include "vkd_user.h"

#ifndef VKD_MODULE_DIR
/* Makefile.am defines it as $(pkglibdir); this only keeps odd builds going. */
#define VKD_MODULE_DIR "/usr/local/lib/mnvkd"
#endif

#define APP_NAME_MAX 64
#define MAX_KEYS 16
#define SHOW 60 /* at most this much of a bad value is quoted back */

enum section_kind {
	SEC_NONE, /* before the first header */
	SEC_VKD,
	SEC_APP,  /* the last app in cfg->apps */
	SEC_SKIP, /* a bad header: its keys are ignored, not reported */
};

struct loader {
	struct vkd_config *cfg;
	struct vkd_config_errors *errors;
	size_t error_total; /* counted even when errors is NULL */
	const char *name;   /* for messages */
	char *base_dir;	    /* a relative module_dir is taken from here */
	FILE *fp;
	char *buf;
	size_t cap;
	int line;
	int read_errno;
	int nomem;
	enum section_kind sec;
	int vkd_line;		/* of the [vkd] header; 0 if none yet */
	int key_line[MAX_KEYS]; /* first line of each key in this section */
	int control_line;
	uid_t user_uid;
	gid_t user_gid;
	gid_t group_gid;
};

struct key {
	const char *name;
	void (*set)(struct loader *l, const char *key, const char *value);
	unsigned flags;
};

#define KEY_REPEAT 1u	/* may appear more than once */
#define KEY_OPTIONAL 2u /* an empty value means "not set" */

/* ---- errors ---- */

static void add_error(struct loader *l, int line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void keep_message(struct loader *l, char *msg)
{
	struct vkd_config_errors *e = l->errors;

	if (!e) {
		free(msg);
		return;
	}
	if (!msg || e->count == VKD_CONFIG_MAX_ERRORS) {
		free(msg);
		e->dropped++;
		return;
	}
	e->messages[e->count++] = msg;
}

static void add_error(struct loader *l, int line, const char *fmt, ...)
{
	va_list ap;
	char *what = NULL;
	char *msg = NULL;
	int rc;

	l->error_total++;
	va_start(ap, fmt);
	rc = vasprintf(&what, fmt, ap);
	va_end(ap);
	if (rc < 0) {
		l->nomem = 1;
		keep_message(l, NULL);
		return;
	}
	if (line > 0)
		rc = asprintf(&msg, "%s:%d: %s", l->name, line, what);
	else
		rc = asprintf(&msg, "%s: %s", l->name, what);
	free(what);
	if (rc < 0) {
		l->nomem = 1;
		msg = NULL;
	}
	keep_message(l, msg);
}

static char *dup_or_flag(struct loader *l, const char *s)
{
	char *copy = strdup(s);

	if (!copy)
		l->nomem = 1;
	return copy;
}

/* ---- small helpers ---- */

static char *skip_blanks(char *s)
{
	while (*s && isspace((unsigned char)*s))
		s++;
	return s;
}

static void trim_end(char *s)
{
	size_t n = strlen(s);

	while (n > 0 && isspace((unsigned char)s[n - 1]))
		s[--n] = '\0';
}

size_t vkd_heap_for_ring(size_t ring)
{
	size_t page = (size_t)sysconf(_SC_PAGESIZE);

	return (2 * ring + VKD_HEAP_SPARE + page - 1) / page * page;
}

const char *vkd_log_level_name(enum vkd_log_level level)
{
	switch (level) {
	case VKD_LOG_ERROR:
		return "error";
	case VKD_LOG_WARN:
		return "warn";
	case VKD_LOG_INFO:
		return "info";
	case VKD_LOG_DEBUG:
		return "debug";
	}
	return "?";
}

static int parse_log_level(const char *s, enum vkd_log_level *out)
{
	static const enum vkd_log_level levels[] = {VKD_LOG_ERROR, VKD_LOG_WARN, VKD_LOG_INFO,
						    VKD_LOG_DEBUG};

	if (strcasecmp(s, "warning") == 0) {
		*out = VKD_LOG_WARN;
		return 0;
	}
	for (size_t i = 0; i < sizeof(levels) / sizeof(levels[0]); i++) {
		if (strcasecmp(s, vkd_log_level_name(levels[i])) == 0) {
			*out = levels[i];
			return 0;
		}
	}
	errno = EINVAL;
	return -1;
}

/* ---- [vkd] keys ---- */

/* "auto": one worker per online CPU, within 1..VKD_WORKERS_MAX. */
static unsigned online_cpus(void)
{
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);

	if (cpus < 1)
		return 1;
	if (cpus > VKD_WORKERS_MAX)
		return VKD_WORKERS_MAX;
	return (unsigned)cpus;
}

static void set_workers(struct loader *l, const char *key, const char *value)
{
	uint64_t n;

	if (strcmp(value, "auto") == 0) {
		l->cfg->workers = online_cpus();
		l->cfg->workers_auto = 1;
		return;
	}
	if (vk_parse_uint(value, 1, VKD_WORKERS_MAX, &n) < 0) {
		add_error(l, l->line, "%s: expected a number from 1 to %d or 'auto', got '%.*s'",
			  key, VKD_WORKERS_MAX, SHOW, value);
		return;
	}
	l->cfg->workers = (unsigned)n;
	l->cfg->workers_auto = 0;
}

static void set_control(struct loader *l, const char *key, const char *value)
{
	char path[VK_ADDR_UNIX_PATH_SIZE];
	const char *why;
	char *copy;

	if (vk_addr_unix_path(value, path, &why) < 0) {
		add_error(l, l->line, "%s: %s, got '%.*s'", key, why, SHOW, value);
		return;
	}
	copy = dup_or_flag(l, path);
	if (!copy)
		return;
	free(l->cfg->control_path);
	l->cfg->control_path = copy;
	l->control_line = l->line;
}

static void set_control_mode(struct loader *l, const char *key, const char *value)
{
	unsigned mode = 0;
	const char *s = value;

	/* Octal whether or not it starts with 0, as chmod(1) reads it. */
	for (; *s >= '0' && *s <= '7' && mode <= 0777; s++)
		mode = mode * 8 + (unsigned)(*s - '0');
	if (s == value || *s || mode > 0777) {
		add_error(l, l->line, "%s: expected an octal mode from 0 to 0777, got '%.*s'", key,
			  SHOW, value);
		return;
	}
	l->cfg->control_mode = (mode_t)mode;
}

/* Resolve a group key into *gid and *name, or report it unknown. */
static void set_group_key(struct loader *l, const char *key, const char *value, gid_t *gid,
			  char **name)
{
	if (vkd_group_lookup(value, gid) < 0) {
		add_error(l, l->line, "%s: no such group '%.*s'", key, SHOW, value);
		return;
	}
	free(*name);
	*name = dup_or_flag(l, value);
}

static void set_control_group(struct loader *l, const char *key, const char *value)
{
	set_group_key(l, key, value, &l->cfg->control_gid, &l->cfg->control_group);
}

static void set_user(struct loader *l, const char *key, const char *value)
{
	if (vkd_user_lookup(value, &l->user_uid, &l->user_gid) < 0) {
		add_error(l, l->line, "%s: no such user '%.*s'", key, SHOW, value);
		return;
	}
	free(l->cfg->user);
	l->cfg->user = dup_or_flag(l, value);
}

static void set_group(struct loader *l, const char *key, const char *value)
{
	set_group_key(l, key, value, &l->group_gid, &l->cfg->group);
}

static void set_log_level(struct loader *l, const char *key, const char *value)
{
	if (parse_log_level(value, &l->cfg->log_level) < 0)
		add_error(l, l->line, "%s: expected error, warn, info or debug, got '%.*s'", key,
			  SHOW, value);
}

static void set_timeout(struct loader *l, const char *key, const char *value, unsigned *out)
{
	int rc = vk_parse_duration_ms(value, out);

	if (rc == 0)
		return;
	if (rc == -ERANGE)
		add_error(l, l->line, "%s: '%.*s' is too long (at most 49 days)", key, SHOW, value);
	else
		add_error(l, l->line,
			  "%s: expected a time such as 30s, 500ms, 2m or 1h, got '%.*s'", key, SHOW,
			  value);
}

static void set_drain_timeout(struct loader *l, const char *key, const char *value)
{
	set_timeout(l, key, value, &l->cfg->drain_timeout_ms);
}

static void set_module_dir(struct loader *l, const char *key, const char *value)
{
	(void)key;
	free(l->cfg->module_dir);
	l->cfg->module_dir = dup_or_flag(l, value);
}

/*
 * A file the resolver reads (resolv_conf, hosts_file): made absolute
 * (relative to this file's directory) and readable now, so that a typo
 * fails vkd -t instead of every lookup of a worker.
 */
static void set_resolver_file(struct loader *l, const char *key, const char *value, char **out)
{
	char *path = vkd_path_absolute(value, l->base_dir);

	if (!path) {
		l->nomem = errno == ENOMEM;
		if (!l->nomem)
			add_error(l, l->line, "%s: %s", key, strerror(errno));
		return;
	}
	if (access(path, R_OK) < 0) {
		add_error(l, l->line, "%s: cannot read '%.*s': %s", key, SHOW, value,
			  strerror(errno));
		free(path);
		return;
	}
	free(*out);
	*out = path;
}

static void set_resolv_conf(struct loader *l, const char *key, const char *value)
{
	set_resolver_file(l, key, value, &l->cfg->resolv_conf);
}

static void set_hosts_file(struct loader *l, const char *key, const char *value)
{
	set_resolver_file(l, key, value, &l->cfg->hosts_file);
}

static void set_resolve_timeout(struct loader *l, const char *key, const char *value)
{
	set_timeout(l, key, value, &l->cfg->resolve_timeout_ms);
	if (l->cfg->resolve_timeout_ms == 0) {
		add_error(l, l->line, "%s: must be more than 0", key);
		l->cfg->resolve_timeout_ms = VKD_DEFAULT_RESOLVE_TIMEOUT_MS;
	}
}

static const struct key vkd_keys[] = {
    {"workers", set_workers, 0},
    {"control", set_control, 0},
    {"control_mode", set_control_mode, 0},
    {"control_group", set_control_group, KEY_OPTIONAL},
    {"user", set_user, KEY_OPTIONAL},
    {"group", set_group, KEY_OPTIONAL},
    {"log_level", set_log_level, 0},
    {"drain_timeout", set_drain_timeout, 0},
    {"module_dir", set_module_dir, KEY_OPTIONAL},
    {"resolv_conf", set_resolv_conf, KEY_OPTIONAL},
    {"hosts_file", set_hosts_file, KEY_OPTIONAL},
    {"resolve_timeout", set_resolve_timeout, 0},
};

/* ---- [app NAME] keys ---- */

static struct vkd_app_config *current_app(struct loader *l)
{
	return &l->cfg->apps[l->cfg->app_count - 1];
}

static void set_module(struct loader *l, const char *key, const char *value)
{
	struct vkd_app_config *app = current_app(l);

	(void)key;
	free(app->module);
	app->module = dup_or_flag(l, value);
}

static void report_clash(struct loader *l, const struct vkd_listen *in,
			 const struct vkd_app_config *app, const struct vkd_listen *old)
{
	if (strcmp(in->text, old->text) != 0)
		add_error(l, l->line, "listen: %s overlaps %s of [app %s] at line %d", in->text,
			  old->text, app->name, old->line);
	else if (app == current_app(l))
		add_error(l, l->line, "listen: %s is already listed in [app %s] at line %d",
			  in->text, app->name, old->line);
	else
		add_error(l, l->line, "listen: %s is already used by [app %s] at line %d", in->text,
			  app->name, old->line);
}

/* Report a clash with an address already taken; 1 if there was one. */
static int listen_taken(struct loader *l, const struct vkd_listen *in)
{
	for (size_t a = 0; a < l->cfg->app_count; a++) {
		const struct vkd_app_config *app = &l->cfg->apps[a];

		for (size_t i = 0; i < app->listen_count; i++) {
			if (vkd_listen_conflict(in, &app->listen[i])) {
				report_clash(l, in, app, &app->listen[i]);
				return 1;
			}
		}
	}
	return 0;
}

static void set_listen(struct loader *l, const char *key, const char *value)
{
	struct vkd_app_config *app = current_app(l);
	struct vkd_listen in;
	struct vkd_listen *grown;
	const char *why = NULL;

	if (vkd_parse_listen(value, &in, &why) < 0) {
		add_error(l, l->line, "%s: %s, got '%.*s'", key, why, SHOW, value);
		return;
	}
	in.line = l->line;
	if (listen_taken(l, &in))
		return;
	grown = realloc(app->listen, (app->listen_count + 1) * sizeof(*grown));
	if (!grown) {
		l->nomem = 1;
		return;
	}
	app->listen = grown;
	app->listen[app->listen_count++] = in;
}

static void set_heap(struct loader *l, const char *key, const char *value)
{
	size_t page = (size_t)sysconf(_SC_PAGESIZE);
	size_t n = 0;
	int rc = vk_parse_size(value, &n);

	if (rc == -EINVAL) {
		add_error(l, l->line, "%s: expected a size such as 64k or 1M, got '%.*s'", key,
			  SHOW, value);
		return;
	}
	if (rc < 0 || n > VKD_HEAP_MAX) {
		add_error(l, l->line, "%s: '%.*s' is too large (at most 1G)", key, SHOW, value);
		return;
	}
	/* mprotect() works on whole pages, so a heap is whole pages. */
	n = (n + page - 1) / page * page;
	if (n < VKD_HEAP_MIN) {
		add_error(l, l->line,
			  "%s: '%.*s' is too small (at least 40k: a connection's two 16 KiB "
			  "rings live in it)",
			  key, SHOW, value);
		return;
	}
	current_app(l)->heap_size = n;
}

static void set_ring(struct loader *l, const char *key, const char *value)
{
	size_t n = 0;
	int rc = vk_parse_size(value, &n);

	if (rc == -EINVAL) {
		add_error(l, l->line, "%s: expected a size such as 16k or 64k, got '%.*s'", key,
			  SHOW, value);
		return;
	}
	if (rc < 0 || n < VKD_RING_MIN || n > VKD_RING_MAX) {
		add_error(l, l->line, "%s: '%.*s' is out of range (4k to 1M)", key, SHOW, value);
		return;
	}
	current_app(l)->ring_size = n;
}

static int set_ranged(struct loader *l, const char *key, const char *value, uint64_t min,
		      uint64_t max, uint64_t *out)
{
	if (vk_parse_uint(value, min, max, out) == 0)
		return 0;
	add_error(l, l->line, "%s: expected a number from %llu to %llu, got '%.*s'", key,
		  (unsigned long long)min, (unsigned long long)max, SHOW, value);
	return -1;
}

static void set_max_connections(struct loader *l, const char *key, const char *value)
{
	uint64_t n;

	if (set_ranged(l, key, value, 1, VKD_MAX_CONNECTIONS_MAX, &n) == 0)
		current_app(l)->max_connections = (unsigned)n;
}

static void set_backlog(struct loader *l, const char *key, const char *value)
{
	uint64_t n;

	if (set_ranged(l, key, value, 1, VKD_BACKLOG_MAX, &n) == 0)
		current_app(l)->backlog = (int)n;
}

static void set_idle_timeout(struct loader *l, const char *key, const char *value)
{
	set_timeout(l, key, value, &current_app(l)->idle_timeout_ms);
}

static void set_max_run(struct loader *l, const char *key, const char *value)
{
	set_timeout(l, key, value, &current_app(l)->max_run_ms);
}

static void set_isolation(struct loader *l, const char *key, const char *value)
{
	if (vk_parse_bool(value, &current_app(l)->isolation) < 0)
		add_error(l, l->line, "%s: expected " VK_PARSE_BOOL_EXPECTED ", got '%.*s'", key,
			  SHOW, value);
}

static void set_defer_accept(struct loader *l, const char *key, const char *value)
{
	set_timeout(l, key, value, &current_app(l)->defer_accept_ms);
}

static void set_tcp_nodelay(struct loader *l, const char *key, const char *value)
{
	if (vk_parse_bool(value, &current_app(l)->tcp_nodelay) < 0)
		add_error(l, l->line, "%s: expected " VK_PARSE_BOOL_EXPECTED ", got '%.*s'", key,
			  SHOW, value);
}

/*
 * access_log: off, stderr, or a file made absolute (relative to this
 * file's directory). Whether the workers' user may write it is the module
 * check's question (vkd_access_check()), asked as that user.
 */
static void set_access_log(struct loader *l, const char *key, const char *value)
{
	struct vkd_app_config *app = current_app(l);
	char *path;

	free(app->access_log_path);
	app->access_log_path = NULL;
	if (strcmp(value, "off") == 0) {
		app->access_log = VKD_ACCESS_OFF;
		return;
	}
	if (strcmp(value, "stderr") == 0) {
		app->access_log = VKD_ACCESS_STDERR;
		return;
	}
	if (!value[0]) {
		add_error(l, l->line, "%s: expected off, stderr or a path, got ''", key);
		return;
	}
	path = vkd_path_absolute(value, l->base_dir);
	if (!path) {
		l->nomem = errno == ENOMEM;
		if (!l->nomem)
			add_error(l, l->line, "%s: %s", key, strerror(errno));
		return;
	}
	app->access_log = VKD_ACCESS_PATH;
	app->access_log_path = path;
}

/* Keep a static: directory as an absolute path, relative to this file's directory. */
static int route_root(struct loader *l, struct vk_http_mount *m)
{
	char *path = vkd_path_absolute(m->target, l->base_dir);

	if (!path) {
		l->nomem = errno == ENOMEM;
		if (!l->nomem)
			add_error(l, l->line, "route: static:%s: %s", m->target, strerror(errno));
		return -1;
	}
	free(m->target);
	m->target = path;
	return 0;
}

/* An earlier route line that answers what m would: m could never be reached. */
static const struct vk_http_mount *route_overlap(const struct vkd_app_config *app,
						 const struct vk_http_mount *m)
{
	for (size_t i = 0; i < app->route_count; i++)
		if (vk_http_mount_overlap(&app->routes[i], m))
			return &app->routes[i];
	return NULL;
}

/* route = METHODS PATTERN HANDLER (repeatable): the grammar is checked here, the handler later. */
static void set_route(struct loader *l, const char *key, const char *value)
{
	struct vkd_app_config *app = current_app(l);
	const struct vk_http_mount *earlier;
	struct vk_http_mount m, *grown;
	char why[256], methods[64];
	int rc = vk_http_mount_parse(value, &m, why, sizeof(why));

	if (rc == -ENOMEM)
		l->nomem = 1;
	if (rc < 0) {
		if (rc != -ENOMEM)
			add_error(l, l->line, "%s: %s", key, why);
		return;
	}
	m.line = l->line;
	earlier = route_overlap(app, &m);
	if (earlier) {
		vk_http_mount_methods(earlier->methods, methods, sizeof(methods));
		add_error(l, l->line,
			  "%s: duplicate route: line %d routes %s %s already (the same path, a "
			  "method in common)",
			  key, earlier->line, methods, earlier->pattern);
	}
	if (earlier || (m.is_static && route_root(l, &m) < 0)) {
		vk_http_mount_free(&m);
		return;
	}
	grown = realloc(app->routes, (app->route_count + 1) * sizeof(*grown));
	if (!grown) {
		l->nomem = 1;
		vk_http_mount_free(&m);
		return;
	}
	app->routes = grown;
	app->routes[app->route_count++] = m;
}

enum { APP_MODULE, APP_LISTEN }; /* indexes in app_keys, for the end-of-section check */

static const struct key app_keys[] = {
    [APP_MODULE] = {"module", set_module, 0},
    [APP_LISTEN] = {"listen", set_listen, KEY_REPEAT},
    {"heap", set_heap, 0},
    {"max_connections", set_max_connections, 0},
    {"idle_timeout", set_idle_timeout, 0},
    {"isolation", set_isolation, 0},
    {"backlog", set_backlog, 0},
    {"tcp_nodelay", set_tcp_nodelay, 0},
    {"defer_accept", set_defer_accept, 0},
    {"ring", set_ring, 0},
    {"max_run", set_max_run, 0},
    {"access_log", set_access_log, 0},
    {"route", set_route, KEY_REPEAT},
};

#define N_VKD_KEYS (sizeof(vkd_keys) / sizeof(vkd_keys[0]))
#define N_APP_KEYS (sizeof(app_keys) / sizeof(app_keys[0]))

_Static_assert(N_VKD_KEYS <= MAX_KEYS && N_APP_KEYS <= MAX_KEYS, "raise MAX_KEYS");

/* Letters, digits, '_', '-' and '.': names show up in logs, JSON and argv. */
static int valid_name(const char *s, size_t max)
{
	size_t n = strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-.");

	return n > 0 && n <= max && s[n] == '\0';
}

static void set_option(struct loader *l, const char *key, const char *value)
{
	struct vkd_app_config *app = current_app(l);
	const char *name = key + 4;
	struct vkd_app_option *grown;
	struct vkd_app_option opt = {NULL, NULL, NULL, 0, l->line};

	if (!valid_name(name, APP_NAME_MAX)) {
		add_error(l, l->line,
			  "bad option name '%.*s': use opt.NAME with letters, digits, '_', '-' "
			  "and '.'",
			  SHOW, key);
		return;
	}
	for (size_t i = 0; i < app->option_count; i++) {
		if (strcmp(app->options[i].name, name) == 0) {
			add_error(l, l->line,
				  "duplicate key '%s' in [app %s]; first set at line %d", key,
				  app->name, app->options[i].line);
			return;
		}
	}
	grown = realloc(app->options, (app->option_count + 1) * sizeof(*grown));
	if (!grown) {
		l->nomem = 1;
		return;
	}
	app->options = grown;
	opt.name = dup_or_flag(l, name);
	opt.value = dup_or_flag(l, value);
	/*
	 * Made absolute now, as the other paths are: the module may say it is
	 * one. Whether it does is known once the module is loaded: a failure
	 * (no working directory for a relative -c) is kept for the check.
	 */
	if (value[0] && !(opt.path = vkd_path_absolute(value, l->base_dir))) {
		if (errno == ENOMEM)
			l->nomem = 1;
		else
			opt.path_errno = errno;
	}
	if (!opt.name || !opt.value || (value[0] && !opt.path && !opt.path_errno)) {
		free(opt.name);
		free(opt.value);
		free(opt.path);
		return;
	}
	app->options[app->option_count++] = opt;
}

/* ---- key dispatch ---- */

static const struct key *find_key(const struct key *keys, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++) {
		if (strcmp(keys[i].name, name) == 0)
			return &keys[i];
	}
	return NULL;
}

static const char *closest_key(const struct key *keys, size_t n, const char *name)
{
	const char *best = NULL;
	unsigned best_d = 3; /* suggest only within two edits */

	for (size_t i = 0; i < n; i++) {
		unsigned d = vkd_edit_distance(name, keys[i].name);

		if (d < best_d && d < strlen(name)) {
			best = keys[i].name;
			best_d = d;
		}
	}
	return best;
}

static void unknown_key(struct loader *l, const char *where, const char *name)
{
	int in_vkd = l->sec == SEC_VKD;
	const struct key *keys = in_vkd ? vkd_keys : app_keys;
	size_t n = in_vkd ? N_VKD_KEYS : N_APP_KEYS;
	const char *guess = closest_key(keys, n, name);

	if (guess) {
		add_error(l, l->line, "unknown key '%.*s' in %s; did you mean '%s'?", SHOW, name,
			  where, guess);
		return;
	}
	if (in_vkd && find_key(app_keys, N_APP_KEYS, name))
		add_error(l, l->line, "key '%s' belongs in an [app NAME] section, not in [vkd]",
			  name);
	else if (!in_vkd && find_key(vkd_keys, N_VKD_KEYS, name))
		add_error(l, l->line, "key '%s' belongs in [vkd], not in %s", name, where);
	else
		add_error(l, l->line, "unknown key '%.*s' in %s", SHOW, name, where);
}

static void set_key(struct loader *l, const char *where, const char *name, const char *value)
{
	int in_vkd = l->sec == SEC_VKD;
	const struct key *keys = in_vkd ? vkd_keys : app_keys;
	const struct key *k = find_key(keys, in_vkd ? N_VKD_KEYS : N_APP_KEYS, name);
	size_t i;

	if (!k) {
		unknown_key(l, where, name);
		return;
	}
	i = (size_t)(k - keys);
	if (!(k->flags & KEY_REPEAT) && l->key_line[i]) {
		add_error(l, l->line, "duplicate key '%s' in %s; first set at line %d", name, where,
			  l->key_line[i]);
		return;
	}
	if (!l->key_line[i])
		l->key_line[i] = l->line;
	if (value[0] == '\0' && (k->flags & KEY_OPTIONAL))
		return; /* explicitly empty: keep the default */
	if (value[0] == '\0') {
		add_error(l, l->line, "%s: a value is required", name);
		return;
	}
	k->set(l, name, value);
}

static int on_key(void *user, const char *section, const char *name, const char *value)
{
	struct loader *l = user;
	char where[APP_NAME_MAX + 8];

	(void)section; /* ours is better: see the top of the file */
	switch (l->sec) {
	case SEC_NONE:
		add_error(l, l->line,
			  "key '%.*s' is outside any section; put it under [vkd] or [app NAME]",
			  SHOW, name);
		break;
	case SEC_SKIP:
		break;
	case SEC_VKD:
		set_key(l, "[vkd]", name, value);
		break;
	case SEC_APP:
		if (strncmp(name, "opt.", 4) == 0) {
			set_option(l, name, value);
			break;
		}
		snprintf(where, sizeof(where), "[app %s]", current_app(l)->name);
		set_key(l, where, name, value);
		break;
	}
	return 1; /* errors are ours to collect; never make inih stop or count them */
}

/* ---- sections ---- */

static void app_defaults(struct vkd_app_config *app)
{
	memset(app, 0, sizeof(*app));
	app->module_fd = -1;
	app->heap_size = 0; /* the module's own default applies */
	app->max_connections = VKD_DEFAULT_MAX_CONNECTIONS;
	app->idle_timeout_ms = VKD_DEFAULT_IDLE_TIMEOUT_MS;
	app->isolation = VKD_DEFAULT_ISOLATION;
	app->backlog = VKD_DEFAULT_BACKLOG;
	app->tcp_nodelay = VKD_DEFAULT_TCP_NODELAY;
	app->ring_size = VKD_DEFAULT_RING;
	app->max_run_ms = VKD_DEFAULT_MAX_RUN_MS;
}

/* Checks that need the whole section, run when the next one starts. */
static void end_section(struct loader *l)
{
	const struct vkd_app_config *app;

	if (l->sec != SEC_APP)
		return;
	app = current_app(l);
	if (!l->key_line[APP_MODULE])
		add_error(l, app->line, "[app %s] has no 'module' key", app->name);
	if (!l->key_line[APP_LISTEN])
		add_error(l, app->line, "[app %s] has no 'listen' key", app->name);
	/* Without a heap key the worker grows the module's heap to fit instead. */
	if (app->heap_size && app->heap_size < vkd_heap_for_ring(app->ring_size))
		add_error(l, app->line,
			  "[app %s]: a heap of %zu bytes cannot hold two rings of %zu bytes "
			  "(at least %zu)",
			  app->name, app->heap_size, app->ring_size,
			  vkd_heap_for_ring(app->ring_size));
}

static void begin_app(struct loader *l, const char *name)
{
	struct vkd_config *cfg = l->cfg;
	struct vkd_app_config *grown;
	char *copy;

	l->sec = SEC_SKIP;
	if (name[0] == '\0') {
		add_error(l, l->line, "[app] needs a name, as in [app echo]");
		return;
	}
	if (!valid_name(name, APP_NAME_MAX)) {
		add_error(l, l->line,
			  "bad app name '%.*s': use up to %d letters, digits, '_', '-' and '.'",
			  SHOW, name, APP_NAME_MAX);
		return;
	}
	for (size_t i = 0; i < cfg->app_count; i++) {
		if (strcmp(cfg->apps[i].name, name) == 0) {
			add_error(l, l->line,
				  "duplicate section [app %s]; first defined at line %d", name,
				  cfg->apps[i].line);
			return;
		}
	}
	copy = dup_or_flag(l, name);
	if (!copy)
		return;
	grown = realloc(cfg->apps, (cfg->app_count + 1) * sizeof(*grown));
	if (!grown) {
		free(copy);
		l->nomem = 1;
		return;
	}
	cfg->apps = grown;
	app_defaults(&cfg->apps[cfg->app_count]);
	cfg->apps[cfg->app_count].name = copy;
	cfg->apps[cfg->app_count].line = l->line;
	cfg->app_count++;
	l->sec = SEC_APP;
}

static void begin_vkd(struct loader *l)
{
	if (l->vkd_line) {
		add_error(l, l->line, "duplicate section [vkd]; first at line %d", l->vkd_line);
		l->sec = SEC_SKIP;
		return;
	}
	l->vkd_line = l->line;
	l->sec = SEC_VKD;
}

/* line points at '['; it may be modified. */
static void begin_section(struct loader *l, char *line)
{
	char *close = strchr(line, ']');
	char *name;
	char *rest;

	end_section(l);
	memset(l->key_line, 0, sizeof(l->key_line));
	l->sec = SEC_SKIP;
	if (!close) {
		add_error(l, l->line, "section header is missing ']'");
		return;
	}
	rest = skip_blanks(close + 1);
	if (*rest && *rest != ';' && *rest != '#') {
		add_error(l, l->line, "unexpected text '%.*s' after the section header", SHOW,
			  rest);
		return;
	}
	*close = '\0';
	name = skip_blanks(line + 1);
	trim_end(name);
	if (strcmp(name, "vkd") == 0) {
		begin_vkd(l);
		return;
	}
	if (strncmp(name, "app", 3) == 0 && (name[3] == '\0' || isspace((unsigned char)name[3]))) {
		begin_app(l, skip_blanks(name + 3));
		return;
	}
	add_error(l, l->line, "unknown section [%.*s]; expected [vkd] or [app NAME]", SHOW, name);
}

/* ---- the reader inih pulls lines from ---- */

/*
 * A "key = value" line as inih will split it: the first '=' or ':' outside
 * a ";" comment. We insist on '=' so that a ':' inside the key (which inih
 * would take as the separator) is reported rather than misread.
 */
static int check_key_line(struct loader *l, const char *s)
{
	const char *p = s;

	for (; *p && *p != '=' && *p != ':'; p++) {
		if (*p == ';' && p > s && isspace((unsigned char)p[-1]))
			break;
	}
	if (*p == '=' && p == s) {
		add_error(l, l->line, "missing key name before '='");
		return -1;
	}
	if (*p == '=')
		return 0;
	add_error(l, l->line, "expected 'key = value' or '[section]', got '%.*s'", SHOW, s);
	return -1;
}

/* Take one line; returns what inih should see, or NULL at the end. */
static const char *next_line(struct loader *l, int size)
{
	ssize_t n;
	char *s;

	errno = 0;
	n = getline(&l->buf, &l->cap, l->fp);
	if (n < 0) {
		if (ferror(l->fp)) {
			l->read_errno = errno ? errno : EIO;
			add_error(l, l->line, "cannot read: %s", strerror(l->read_errno));
		} else if (!feof(l->fp)) {
			l->nomem = 1; /* getline() could not grow its buffer */
		}
		return NULL;
	}
	l->line++;
	s = l->buf;
	if (n > 0 && s[n - 1] == '\n')
		s[--n] = '\0';
	if (n > 0 && s[n - 1] == '\r')
		s[--n] = '\0';
	if (l->line == 1 && strncmp(s, "\xef\xbb\xbf", 3) == 0)
		s += 3; /* UTF-8 byte order mark */
	if (strlen(s) != (size_t)(n - (s - l->buf))) {
		add_error(l, l->line, "the line contains a NUL byte");
		return "";
	}
	s = skip_blanks(s);
	if (strlen(s) >= (size_t)size) {
		add_error(l, l->line, "the line is too long (at most %d characters)", size - 1);
		return "";
	}
	if (*s == '\0' || *s == ';' || *s == '#')
		return s;
	if (*s == '[') {
		begin_section(l, s);
		return "";
	}
	return check_key_line(l, s) == 0 ? s : "";
}

static char *reader(char *out, int size, void *stream)
{
	struct loader *l = stream;
	const char *s;

	if (size < 2)
		return NULL;
	s = next_line(l, size);
	if (!s)
		return NULL;
	/* next_line() checked that it fits */
	memcpy(out, s, strlen(s) + 1);
	return out;
}

/* ---- putting it together ---- */

static struct vkd_config *config_new(const char *name)
{
	struct vkd_config *cfg = calloc(1, sizeof(*cfg));

	if (!cfg)
		return NULL;
	cfg->workers = online_cpus();
	cfg->workers_auto = 1;
	cfg->control_mode = VKD_DEFAULT_CONTROL_MODE;
	cfg->control_gid = (gid_t)-1;
	cfg->uid = (uid_t)-1;
	cfg->gid = (gid_t)-1;
	cfg->log_level = VKD_DEFAULT_LOG_LEVEL;
	cfg->drain_timeout_ms = VKD_DEFAULT_DRAIN_TIMEOUT_MS;
	cfg->resolve_timeout_ms = VKD_DEFAULT_RESOLVE_TIMEOUT_MS;
	cfg->path = strdup(name);
	cfg->control_path = strdup(VKD_DEFAULT_CONTROL);
	if (!cfg->path || !cfg->control_path) {
		vkd_config_free(cfg);
		return NULL;
	}
	return cfg;
}

/*
 * The directory modules are loaded from, made absolute so that it stays
 * right whatever the daemon's working directory becomes: the environment
 * (relative to the working directory) beats the file (relative to the
 * file's directory) beats the build.
 */
static char *effective_module_dir(struct loader *l)
{
	const char *env = getenv(VKD_MODULE_DIR_ENV);
	const char *dir = VKD_MODULE_DIR;
	const char *base = NULL;
	char *out;

	if (env && *env) {
		dir = env;
	} else if (l->cfg->module_dir) {
		dir = l->cfg->module_dir;
		base = l->base_dir;
	}
	out = vkd_path_absolute(dir, base);
	if (!out && errno == ENOMEM)
		l->nomem = 1;
	else if (!out)
		add_error(l, 0, "cannot find the working directory: %s", strerror(errno));
	return out;
}

static void resolve_modules(struct loader *l)
{
	char *dir = effective_module_dir(l);

	if (!dir)
		return;
	free(l->cfg->module_dir);
	l->cfg->module_dir = dir;
	for (size_t i = 0; i < l->cfg->app_count; i++) {
		struct vkd_app_config *app = &l->cfg->apps[i];

		if (!app->module)
			continue;
		app->module_path = vkd_path_join(dir, app->module);
		if (!app->module_path)
			l->nomem = 1;
	}
}

/* The control socket and a unix listener cannot share a path. */
static void check_control_clash(struct loader *l)
{
	const struct vkd_config *cfg = l->cfg;

	for (size_t a = 0; a < cfg->app_count; a++) {
		const struct vkd_app_config *app = &cfg->apps[a];

		for (size_t i = 0; i < app->listen_count; i++) {
			const struct vkd_listen *in = &app->listen[i];

			if (in->family == AF_UNIX && strcmp(in->text + 5, cfg->control_path) == 0)
				add_error(l, in->line,
					  "listen: %s in [app %s] is the control socket's path",
					  in->text, app->name);
		}
	}
}

static void finish(struct loader *l)
{
	struct vkd_config *cfg = l->cfg;

	end_section(l);
	if (l->read_errno)
		return; /* what was not read cannot be judged */
	if (cfg->app_count == 0)
		add_error(l, l->line > 0 ? l->line : 1,
			  "no [app NAME] section; vkd needs at least one application");
	check_control_clash(l);
	resolve_modules(l);
	if (cfg->user) {
		cfg->uid = l->user_uid;
		cfg->gid = l->user_gid;
	}
	if (cfg->group)
		cfg->gid = l->group_gid;
}

static struct vkd_config *load_stream(struct loader *l)
{
	int rc;

	rc = ini_parse_stream(reader, l, on_key, l);
	if (rc == -2)
		l->nomem = 1;
	else if (rc > 0 && l->error_total == 0)
		add_error(l, rc, "syntax error"); /* the reader should have caught it */
	finish(l);
	if (l->nomem && l->errors)
		keep_message(l, strdup("out of memory while loading the configuration"));
	if (!l->nomem && l->error_total == 0)
		return l->cfg;
	vkd_config_free(l->cfg);
	l->cfg = NULL;
	errno = l->nomem ? ENOMEM : l->read_errno ? l->read_errno : EINVAL;
	return NULL;
}

static void loader_init(struct loader *l, const char *name, struct vkd_config_errors *errors)
{
	memset(l, 0, sizeof(*l));
	l->name = name;
	l->errors = errors;
	if (errors)
		memset(errors, 0, sizeof(*errors));
}

static void loader_done(struct loader *l)
{
	if (l->fp)
		fclose(l->fp);
	free(l->buf);
	free(l->base_dir);
}

static struct vkd_config *fail_early(struct loader *l, int err, const char *what)
{
	if (err == ENOMEM)
		keep_message(l, strdup("out of memory while loading the configuration"));
	else
		add_error(l, 0, "%s: %s", what, strerror(err));
	loader_done(l);
	errno = err;
	return NULL;
}

struct vkd_config *vkd_config_load(const char *path, struct vkd_config_errors *errors)
{
	struct loader l;
	struct vkd_config *cfg;
	int err;

	loader_init(&l, path, errors);
	l.fp = fopen(path, "re");
	if (!l.fp)
		return fail_early(&l, errno, "cannot open");
	l.base_dir = vkd_path_dir(path);
	l.cfg = config_new(path);
	if (!l.base_dir || !l.cfg) {
		vkd_config_free(l.cfg);
		return fail_early(&l, ENOMEM, NULL);
	}
	cfg = load_stream(&l);
	err = errno;
	loader_done(&l);
	errno = err;
	return cfg;
}

struct vkd_config *vkd_config_load_buffer(const char *name, const char *data, size_t len,
					  struct vkd_config_errors *errors)
{
	struct loader l;
	struct vkd_config *cfg;
	int err;

	loader_init(&l, name, errors);
	/* fmemopen() in "r" mode does not write; it just is not declared const. */
	l.fp = fmemopen((void *)(uintptr_t)data, len, "r");
	if (!l.fp)
		return fail_early(&l, errno, "cannot read the buffer");
	l.cfg = config_new(name);
	if (!l.cfg)
		return fail_early(&l, ENOMEM, NULL);
	cfg = load_stream(&l);
	err = errno;
	loader_done(&l);
	errno = err;
	return cfg;
}

static void app_free(struct vkd_app_config *app)
{
	if (app->module_fd >= 0)
		close(app->module_fd);
	free(app->name);
	free(app->module);
	free(app->module_path);
	free(app->access_log_path);
	free(app->listen);
	for (size_t i = 0; i < app->option_count; i++) {
		free(app->options[i].name);
		free(app->options[i].value);
		free(app->options[i].path);
	}
	free(app->options);
	for (size_t i = 0; i < app->route_count; i++)
		vk_http_mount_free(&app->routes[i]);
	free(app->routes);
}

void vkd_config_free(struct vkd_config *config)
{
	if (!config)
		return;
	for (size_t i = 0; i < config->app_count; i++)
		app_free(&config->apps[i]);
	free(config->apps);
	free(config->path);
	free(config->control_path);
	free(config->control_group);
	free(config->user);
	free(config->group);
	free(config->module_dir);
	free(config->resolv_conf);
	free(config->hosts_file);
	free(config);
}

void vkd_config_errors_free(struct vkd_config_errors *errors)
{
	if (!errors)
		return;
	for (size_t i = 0; i < errors->count; i++)
		free(errors->messages[i]);
	errors->count = 0;
	errors->dropped = 0;
}

void vkd_config_errors_print(const struct vkd_config_errors *errors, FILE *out)
{
	for (size_t i = 0; i < errors->count; i++)
		fprintf(out, "%s\n", errors->messages[i]);
	if (errors->dropped)
		fprintf(out, "%zu more error%s not shown\n", errors->dropped,
			errors->dropped == 1 ? "" : "s");
}

const struct vkd_app_option *vkd_app_option_find(const struct vkd_app_config *app, const char *name)
{
	for (size_t i = 0; i < app->option_count; i++) {
		if (strcmp(app->options[i].name, name) == 0)
			return &app->options[i];
	}
	return NULL;
}

const char *vkd_app_option(const struct vkd_app_config *app, const char *name)
{
	const struct vkd_app_option *opt = vkd_app_option_find(app, name);

	return opt ? opt->value : NULL;
}

const char *vkd_app_option_path(const struct vkd_app_config *app, const char *name)
{
	const struct vkd_app_option *opt = vkd_app_option_find(app, name);

	if (!opt)
		return NULL;
	return opt->path ? opt->path : "";
}

const struct vkd_app_config *vkd_config_app(const struct vkd_config *config, const char *name)
{
	for (size_t i = 0; i < config->app_count; i++) {
		if (strcmp(config->apps[i].name, name) == 0)
			return &config->apps[i];
	}
	return NULL;
}
