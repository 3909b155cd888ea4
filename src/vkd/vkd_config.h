/*
 * vkd_config.h - the vkd.ini configuration: loading, validation, and the
 * parsed result that the master, the workers and vkctl's status share.
 *
 * Loading is all-or-nothing: vkd_config_load() either returns a complete,
 * validated configuration in which every default is filled in, every
 * address is parsed and every module path is resolved, or it returns NULL
 * and fills a list of human-readable errors, each starting "file:line: ".
 * Nothing in the result needs checking again by its users.
 *
 * The format is described in vkd.ini(5).
 */
#ifndef VKD_CONFIG_H
#define VKD_CONFIG_H

#include <stddef.h>
#include <stdio.h>
#include <sys/types.h>

#include "vk_http_mount.h"
#include "vkd_listen.h"

/* Log levels carry their syslog(3) numbers so that the logger can use them
 * as journald "<N>" prefixes directly. */
enum vkd_log_level {
	VKD_LOG_ERROR = 3,
	VKD_LOG_WARN = 4,
	VKD_LOG_INFO = 6,
	VKD_LOG_DEBUG = 7,
};

/* "error", "warn", "info", "debug"; "?" for anything else. */
const char *vkd_log_level_name(enum vkd_log_level level);

/* The smallest heap (whole pages) that holds two rings of `ring` bytes and the spare. */
size_t vkd_heap_for_ring(size_t ring);

/* Limits. */
#define VKD_CONFIG_MAX_ERRORS 50 /* messages kept; later ones are counted only */
#define VKD_WORKERS_MAX 1024
/* A connection's two 16 KiB rings live in its heap, with room to spare. */
#define VKD_HEAP_MIN ((size_t)40 << 10)
#define VKD_HEAP_MAX ((size_t)1 << 30)
/*
 * A connection's socket ring, each way: 4 KiB holds any usual head; past
 * 1 MiB a ring outgrows what one system call moves on loopback.
 */
#define VKD_RING_MIN ((size_t)4 << 10)
#define VKD_RING_MAX ((size_t)1 << 20)
/* Room a heap keeps beside its two rings: the coroutine and its state. */
#define VKD_HEAP_SPARE ((size_t)8 << 10)
#define VKD_MAX_CONNECTIONS_MAX 1048576u
#define VKD_BACKLOG_MAX 65535

/* Defaults for keys that are absent. */
#define VKD_DEFAULT_CONTROL "/run/vkd/vkd.sock"
#define VKD_DEFAULT_CONTROL_MODE 0660
#define VKD_DEFAULT_LOG_LEVEL VKD_LOG_INFO
#define VKD_DEFAULT_DRAIN_TIMEOUT_MS 30000u
#define VKD_DEFAULT_RESOLVE_TIMEOUT_MS 5000u
#define VKD_DEFAULT_MAX_CONNECTIONS 10000u
#define VKD_DEFAULT_IDLE_TIMEOUT_MS 60000u
#define VKD_DEFAULT_ISOLATION 1
#define VKD_DEFAULT_BACKLOG 511
#define VKD_DEFAULT_RING ((size_t)16 << 10)
#define VKD_DEFAULT_TCP_NODELAY 1
/*
 * CPU time one dispatch of a micro-process may use (vk_watchdog.h). A
 * dispatch of the bundled apps takes microseconds; a second of computing
 * already stalls every other connection of the worker for that second,
 * yet leaves room for an app that legitimately computes (a large
 * response). Lower it for latency; 0 turns the watchdog off.
 */
#define VKD_DEFAULT_MAX_RUN_MS 1000u

/* The environment variable that overrides module_dir (non-empty only). */
#define VKD_MODULE_DIR_ENV "VKD_MODULE_DIR"

/* Where an app's access log goes (access_log = off | stderr | PATH). */
enum vkd_access_kind {
	VKD_ACCESS_OFF = 0,
	VKD_ACCESS_STDERR,
	VKD_ACCESS_PATH,
};

/* An "opt.NAME = value" line: settings the core does not interpret. */
struct vkd_app_option {
	char *name;  /* without the "opt." prefix */
	char *value; /* may be "" */
	/* value made absolute from the configuration file's directory, for
	 * a module that declares it a path (VK_APP_PATHS); NULL when "" or
	 * when it could not be made absolute (path_errno) */
	char *path;
	/* Why a relative value has no path (getcwd() failed, a relative -c);
	 * 0 when it has one. Only an option the module declares a path is
	 * refused for it (vkd_module_path_unresolved()). */
	int path_errno;
	int line;
};

struct vkd_app_config {
	char *name;	   /* NAME of [app NAME] */
	char *module;	   /* as written */
	char *module_path; /* absolute as written, else module_dir/module */
	/* The module file opened once for a generation (vkd_module_pin()), so
	 * that every load is of that file; -1 when not pinned. Closed by
	 * vkd_config_free(). */
	int module_fd;
	struct vkd_listen *listen;
	size_t listen_count;	  /* >= 1 */
	size_t heap_size;	  /* page multiple in VKD_HEAP_MIN..VKD_HEAP_MAX; 0: the module's */
	unsigned max_connections; /* per worker */
	unsigned idle_timeout_ms; /* 0: no idle timeout */
	int isolation;		  /* 1: heap protected while not running; 0: left open */
	int backlog;		  /* listen(2) backlog, 1..VKD_BACKLOG_MAX */
	int tcp_nodelay;	  /* 1: accepted TCP connections get TCP_NODELAY */
	unsigned defer_accept_ms; /* TCP_DEFER_ACCEPT for up to this long; 0: off */
	size_t ring_size;	  /* each way of a connection's socket, VKD_RING_MIN..MAX */
	unsigned max_run_ms;	  /* CPU budget per dispatch; 0: none */
	struct vkd_app_option *options;
	size_t option_count;
	/*
	 * "route = METHODS PATTERN HANDLER" lines (vk_http_mount.h), in the
	 * file's order: parsed, no two overlapping, a static: directory made
	 * absolute (relative to the file's directory). The module check
	 * finds each handler and opens each directory.
	 */
	struct vk_http_mount *routes;
	size_t route_count;
	int line; /* of the [app NAME] header */
	enum vkd_access_kind access_log;
	char *access_log_path; /* VKD_ACCESS_PATH: absolute (relative to the file's directory) */
};

struct vkd_config {
	char *path;	     /* the file as given to vkd_config_load() */
	unsigned workers;    /* resolved: 1..VKD_WORKERS_MAX; default "auto" */
	int workers_auto;    /* 1 if "auto" (written or by default) */
	char *control_path;  /* absolute, normalized */
	mode_t control_mode; /* 0..0777 */
	char *control_group; /* NULL: not set */
	gid_t control_gid;   /* (gid_t)-1 when control_group is NULL */
	char *user;	     /* NULL: workers keep the master's user */
	char *group;	     /* NULL: the user's primary group, or unchanged */
	uid_t uid;	     /* (uid_t)-1 when user is NULL */
	gid_t gid;	     /* group's gid, else user's primary gid, else (gid_t)-1 */
	enum vkd_log_level log_level;
	unsigned drain_timeout_ms; /* 0: old workers are killed at once */
	/* Where relative modules are found, made absolute: $VKD_MODULE_DIR
	 * (relative to the working directory), else the module_dir key
	 * (relative to the file's directory), else the compiled-in
	 * VKD_MODULE_DIR. */
	char *module_dir;
	/* The worker's resolver (vk_connect() to a host name); NULL: the system's. */
	char *resolv_conf; /* absolute */
	char *hosts_file;  /* absolute */
	unsigned resolve_timeout_ms;
	struct vkd_app_config *apps;
	size_t app_count; /* >= 1 */
};

/*
 * Errors found while loading, in the order found: line by line, except
 * that a section's missing keys are reported when the section ends and
 * the whole-file checks (no application, control path clash) come last.
 * Each message reads
 * "file:line: what is wrong" ("file: what is wrong" when the file cannot be
 * opened). At most VKD_CONFIG_MAX_ERRORS are kept; dropped counts the rest.
 * The struct is the caller's (usually on its stack); vkd_config_load()
 * initializes it and vkd_config_errors_free() releases the messages.
 */
struct vkd_config_errors {
	size_t count;
	size_t dropped;
	char *messages[VKD_CONFIG_MAX_ERRORS];
};

/*
 * Load and validate the file at path. Returns the configuration, or NULL
 * with errno set (ENOMEM, EINVAL for a bad file, or the errno of opening
 * or reading it) and every error found recorded in errors. errors may be
 * NULL when the caller does not want messages; when not NULL it must be
 * passed to vkd_config_errors_free() afterwards, whatever the result.
 *
 * Names in user, group and control_group are resolved here (getpwnam(),
 * getgrnam(), which are not thread-safe), so that "vkd -t" reports an
 * unknown user. VKD_MODULE_DIR is read from the environment here too.
 */
struct vkd_config *vkd_config_load(const char *path, struct vkd_config_errors *errors);

/* The same from memory; name is used in messages and as config->path.
 * For tests and fuzzing. */
struct vkd_config *vkd_config_load_buffer(const char *name, const char *data, size_t len,
					  struct vkd_config_errors *errors);

void vkd_config_free(struct vkd_config *config);
void vkd_config_errors_free(struct vkd_config_errors *errors);

/* Print every message, one a line, and "N more errors not shown" if some
 * were dropped. */
void vkd_config_errors_print(const struct vkd_config_errors *errors, FILE *out);

/* The line "opt.NAME" of the app (its value, its line), or NULL. */
const struct vkd_app_option *vkd_app_option_find(const struct vkd_app_config *app,
						 const char *name);
/* The value of "opt.NAME", or NULL if the app has no such option. */
const char *vkd_app_option(const struct vkd_app_config *app, const char *name);
/* The same option as a path (VK_APP_PATHS): absolute, or "" when empty. */
const char *vkd_app_option_path(const struct vkd_app_config *app, const char *name);

/* The app named name, or NULL. */
const struct vkd_app_config *vkd_config_app(const struct vkd_config *config, const char *name);

#endif /* VKD_CONFIG_H */
