/*
 * vkd_control: the master's control socket, which vkctl(8) talks to.
 *
 * A Unix stream socket at the configuration's `control` path, created by
 * the master after it has bound the listeners and before it forks the
 * first workers. A socket file that nobody answers on is stale and is
 * removed first; if something answers, another vkd owns the path and the
 * master refuses to start. The file is made 0600 by bind() (under a tight
 * umask), then given `control_group` and finally `control_mode`, so it is
 * never more open than configured. These three keys are read at start
 * only; a reload that changes them is logged and has no effect on the
 * socket until vkd restarts.
 *
 * Who may talk: SO_PEERCRED of each connection is checked at accept. Root,
 * the master's own uid, and, when control_group is set, a peer whose gid
 * is that group or whose user has it among its groups (getgrouplist(3) of
 * the peer uid's name) are allowed. Anyone else gets one error reply
 * {"ok":false,"error":"permission denied"} and the connection is closed.
 *
 * Protocol: the client sends one request line of at most
 * VKD_CONTROL_LINE_MAX bytes, newline included ("\r\n" is accepted too,
 * and end of file ends the line as well). The master answers with one
 * JSON object on one line and closes the connection. Every reply has
 * "ok": true or false; a false one has "error": a message for people
 * (several messages are separated by "\n" inside the string). Words are
 * separated by spaces or tabs:
 *
 *   status        {"ok":true,"version":V,"pid":P,"generation":G,
 *                  "reloading":G2 (0 if not),"checking":bool (a reload's
 *                  modules are being checked),"stopping":bool,"uptime_s":S,
 *                  "workers":[{"index":N,"pid":P,"generation":G,
 *                  "state":"starting|ready|draining","restarts":R,
 *                  "connections":C,"connections_total":A,"faults":F,
 *                  "bytes_in":I,"bytes_out":O,"refused":X,
 *                  "watchdog":D,"app_errors":E,"killed":K}, ...],
 *                  "totals":{"workers":W,"ready":W,"draining":W, and the
 *                  same counters as a worker's},
 *                  "apps":[{"name":A,"connections":C,"connections_total":T,
 *                  "faults":F,"watchdog":D,"refused":X,"killed":K,
 *                  "app_errors":E}, ...]}
 *                 Workers of every live generation, sorted by generation
 *                 then index, read from the shared counters page. A
 *                 worker waiting to be respawned is not listed. A worker
 *                 row's counters go on across its respawns (within its
 *                 generation); the totals count every worker the master
 *                 ever had, so they never go backwards ("connections" is
 *                 the live ones, the one level among the counts). "apps"
 *                 has every app of a live generation, and every app a
 *                 generation gone counted anything for, by name: its
 *                 totals too are for the life of the master.
 *   reload        start a generation swap, as SIGHUP does. The modules are
 *                 checked in a child while the master goes on serving
 *                 (status answers meanwhile); the reply comes once the
 *                 check passed and the new generation is forked:
 *                 {"ok":true,"generation":G,"state":"starting"}, or an
 *                 error (the configuration's or modules' "file:line:
 *                 message" lines) and nothing changed.
 *   reload wait   the same, but the reply comes when generation G is ready
 *                 and the old one was told to drain ({"ok":true,
 *                 "generation":G}), or when the new generation failed.
 *   stop          {"ok":true} is sent, then a graceful stop begins (SIGTERM).
 *   kill N [SIG]  send SIG (a name, with or without "SIG", any case, or a
 *                 number; TERM by default) to worker N of the serving
 *                 generation; supervision respawns it as after any death.
 *                 {"ok":true,"worker":N,"pid":P,"signal":"TERM"}
 *   kill W/ID     end micro-process ID of worker W of the serving
 *                 generation as a fault would (connection closed, counted
 *                 as killed, logged): {"ok":true,"worker":W,"pid":P,
 *                 "id":ID}, or an error when W has no such process.
 *   ps [N]        every micro-process of every worker of every live
 *                 generation (of the workers numbered N only, with N):
 *                 {"ok":true,"truncated":bool,"workers":[{"index":N,
 *                 "generation":G,"pid":P,"answered":true,"procs":C,
 *                 "slices":S,"pause_max_us":U,"pause_max_cpu_us":U2} or
 *                 {...,"answered":false,"error":"gone|no answer in
 *                 time|..."}, ...],"procs":[{"worker":N,"generation":G,
 *                 "id":ID,"app":A,"peer":"127.0.0.1:5555","state":S,
 *                 "age_s":F,"last_run_s":F (absent if it never ran),
 *                 "heap_used":B,"heap_mapped":B,"bytes_in":B,
 *                 "bytes_out":B}, ...]}, sorted by generation, worker
 *                 and id. state is starting, ready (queued to run),
 *                 closing (sending its last bytes), or what its main
 *                 coroutine waits for: read, write, message, sleep,
 *                 child. ps and kill W/ID ask the workers over their
 *                 channels (vkd_query.h) and are answered when all did,
 *                 or after VKD_QUERY_TIMEOUT_MS with those that did; at
 *                 most VKD_QUERY_RECORDS_MAX processes ("truncated").
 *   version       {"ok":true,"version":"PACKAGE_VERSION"}
 *
 * Anything else, a line that is too long, a line with control bytes and
 * bad arguments get {"ok":false,"error":"..."} naming what was wrong.
 *
 * The master never waits on a client: every descriptor is non-blocking
 * and polled in the master's loop, and every client is bounded:
 * - At most VKD_CONTROL_CLIENTS_MAX connections are served at once. One
 *   more takes the place of the oldest client still waiting for its peer
 *   to send (all or the rest of) its request, which is answered
 *   {"ok":false,"error":"busy: ..."} and closed, so that clients that
 *   send nothing cannot lock out a `status`; when there is no such
 *   client, the new one is answered "busy" and closed.
 * - The request line must be complete VKD_CONTROL_TIMEOUT_MS after the
 *   accept (bytes that arrive do not extend it); then the client gets an
 *   error reply instead.
 * - A reply is dropped, and the connection closed, when the client takes
 *   none of it for VKD_CONTROL_TIMEOUT_MS: each send that makes progress
 *   moves the deadline, so a slow reader of a large status gets it all.
 * - A `reload` client is answered when the module check ends (it takes
 *   at most 10 s), a `reload wait` client when the reload ends (the
 *   master then gives a new generation 60 s to become ready, and the old
 *   one 30 s to stop accepting) or fails; either gets an error if no end
 *   is reported within 110 s (CONTROL_WAIT_MS). While it waits, only
 *   its hang-up is watched for, which ends it.
 */
#ifndef VKD_CONTROL_H
#define VKD_CONTROL_H

#include <poll.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "vkd_config.h"

/* The configuration vkd reads, and vkctl reads for the socket's path. */
#define VKD_DEFAULT_CONFIG VKD_SYSCONF_DIR "/vkd.ini"

#define VKD_CONTROL_LINE_MAX 1024    /* bytes of a request, newline included */
#define VKD_CONTROL_CLIENTS_MAX 32   /* connections served at once */
#define VKD_CONTROL_TIMEOUT_MS 5000L /* to send the request; a stalled reply */
/* Descriptors vkd_control_pollfds() may fill: the clients and the socket. */
#define VKD_CONTROL_POLLFDS (VKD_CONTROL_CLIENTS_MAX + 1)

/* What the master tells about itself for `status`. */
struct vkd_control_info {
	pid_t pid;
	unsigned generation; /* serving */
	unsigned reloading;  /* a reload's generation still starting; 0: none */
	int checking;	     /* a reload's modules are being checked */
	int stopping;
	long uptime_ms;
};

/*
 * The master's side of the commands. Each is called from
 * vkd_control_handle() with `ctx`. Messages go into err (size bytes,
 * always terminated); several messages are separated by "\n".
 */
struct vkd_app_sums;
struct vkd_query;

struct vkd_control_ops {
	void (*info)(void *ctx, struct vkd_control_info *info);
	/* Start a reload: 0 when its module check runs (the answer comes by
	 * vkd_control_reload_started() or vkd_control_reload_done()), or -1
	 * with err set. */
	int (*reload)(void *ctx, char *err, size_t size);
	/* Begin a graceful stop. */
	void (*stop)(void *ctx);
	/* Signal worker `index` of the serving generation: 0 with its pid in
	 * *pid, or -1 with err set. */
	int (*kill)(void *ctx, unsigned index, int sig, pid_t *pid, char *err, size_t size);
	/* Fill `sums` (empty) with every app's counters for the life of the
	 * master: 0, or -1 (out of memory). */
	int (*apps)(void *ctx, struct vkd_app_sums *sums);
	/* Ask worker `index` (0: every worker) of every live generation for
	 * its micro-processes; or end micro-process `id` of worker `index` of
	 * the serving generation. A query in flight, answered through
	 * vkd_control_query_done(), or NULL with err set. */
	struct vkd_query *(*ps)(void *ctx, unsigned index, char *err, size_t size);
	struct vkd_query *(*kill_proc)(void *ctx, unsigned index, uint64_t id, char *err,
				       size_t size);
};

struct vkd_control;
struct vkd_counters;

/*
 * Create the socket for config's control keys (see above). Returns the
 * server, or NULL with errno set and a message in err.
 */
struct vkd_control *vkd_control_open(const struct vkd_config *config,
				     const struct vkd_counters *counters,
				     const struct vkd_control_ops *ops, void *ctx, char *err,
				     size_t size);

/* Close every connection and the socket, remove the socket file if it is
 * still the one we made, and free. NULL is allowed. */
void vkd_control_close(struct vkd_control *ctl);

/* In a forked child: close the descriptors only (the file stays, the
 * memory is the parent's copy and is left alone). NULL is allowed. */
void vkd_control_close_fds(struct vkd_control *ctl);

/*
 * Fill at most max entries of pfd with what to poll; returns how many.
 * After poll(), give the same entries to vkd_control_handle().
 */
size_t vkd_control_pollfds(struct vkd_control *ctl, struct pollfd *pfd, size_t max, long now_ms);
void vkd_control_handle(struct vkd_control *ctl, const struct pollfd *pfd, size_t count,
			long now_ms);

/* Milliseconds until a client's deadline (0 when one is due), or -1. */
long vkd_control_timeout(const struct vkd_control *ctl, long now_ms);

/* End clients whose deadline has passed. */
void vkd_control_timers(struct vkd_control *ctl, long now_ms);

/* A reload's modules passed their check and generation `generation` was
 * forked: answers every `reload` (not `reload wait`). */
void vkd_control_reload_started(struct vkd_control *ctl, unsigned generation, long now_ms);

/*
 * A query that ops->ps or ops->kill_proc started is over: answer the
 * client waiting for it, if it still does, and free the query.
 */
void vkd_control_query_done(struct vkd_control *ctl, struct vkd_query *query, long now_ms);

/*
 * A reload ended: generation `generation` serves and the old one drains
 * (error NULL: answers every `reload wait`), or it failed with `error`
 * (answers every waiting `reload` and `reload wait`).
 */
void vkd_control_reload_done(struct vkd_control *ctl, unsigned generation, const char *error,
			     long now_ms);

#endif
