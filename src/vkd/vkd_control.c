/*
 * vkd_control: the master's control socket; see vkd_control.h.
 */
#include "config.h"

#include <errno.h>
#include <grp.h>
#include <limits.h>
#include <pwd.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "vkd_apps.h"
#include "vkd_control.h"
#include "vkd_counters.h"
#include "vkd_log.h"
#include "vkd_query.h"

#define CONTROL_BACKLOG 64
/* Accepts per wake-up, so that a flood cannot starve the master's loop. */
#define CONTROL_ACCEPT_BURST 16
/* After EMFILE and the like the socket stays readable: rest before retrying. */
#define CONTROL_PAUSE_MS 100L
/* While accept keeps failing, one warning per this many ms (see vk_kern.c). */
#define CONTROL_WARN_MS 10000L
/* Unread bytes discarded before a close, so that the peer sees EOF after
 * its reply rather than ECONNRESET (Linux resets when input is left). */
#define CONTROL_DISCARD_MAX 65536
/* A `reload` is answered by the end of its module check (10 s at most), a
 * `reload wait` by the reload's end, which the master bounds (10 s + 60 s
 * for the new generation, 30 s for the old one to stop accepting); this
 * only guards against a reload that never reports. */
#define CONTROL_WAIT_MS 110000L
#define CONTROL_ERROR_MAX 4096
#define CONTROL_WORDS_MAX 8
/* Bytes of a bad word quoted back in an error. */
#define CONTROL_SHOW 64
#define CONTROL_PWBUF 16384

enum client_state {
	CLIENT_FREE = 0,
	CLIENT_READ,  /* waiting for the request line */
	CLIENT_WAIT,  /* `reload`: until the reload started or ended */
	CLIENT_WRITE, /* sending the reply */
	CLIENT_QUERY, /* `ps`, `kill W/ID`: until the workers answered */
};

struct client {
	enum client_state state;
	int fd;
	pid_t pid; /* the peer's, for logs */
	uid_t uid;
	int wait_ready; /* CLIENT_WAIT for `reload wait`: until the end */
	long accepted_ms;
	long deadline_ms;
	size_t len;
	char line[VKD_CONTROL_LINE_MAX + 1];
	char *reply;
	size_t reply_len;
	size_t reply_off;
	int reply_static;	 /* reply is not ours to free */
	struct vkd_query *query; /* CLIENT_QUERY: the one it waits for */
};

struct vkd_control {
	int fd;
	char *path;
	dev_t dev; /* of the file we made: unlink only that one */
	ino_t ino;
	uid_t uid; /* the master's */
	gid_t gid; /* control_group's, or (gid_t)-1 */
	const struct vkd_counters *counters;
	const struct vkd_control_ops *ops;
	void *ctx;
	long pause_until_ms;
	long accept_warned_ms;	  /* of the last accept warning */
	unsigned accept_failures; /* since that warning */
	struct client clients[VKD_CONTROL_CLIENTS_MAX];
};

static const char oom_reply[] = "{\"ok\":false,\"error\":\"out of memory\"}\n";

/* ---- JSON output ---- */

/*
 * Written here rather than with jansson (which vkctl reads the replies
 * with), because jansson cannot write today's replies byte for byte: it
 * writes "\b", "\f", "\r" and upper-case "\u001B" where this writes
 * "\u0008", "\u000c", "\u000d" and "\u001b", leaves DEL and C1 controls
 * raw where this escapes them, and refuses a string that is not UTF-8
 * where this writes U+FFFD.
 */

/* A growing string; after a failed allocation it only remembers that. */
struct jbuf {
	char *data;
	size_t len;
	size_t size;
	int failed;
};

static int jb_reserve(struct jbuf *b, size_t more)
{
	size_t size;
	char *data;

	if (b->failed)
		return -1;
	if (b->len + more < b->size)
		return 0;
	size = b->size ? b->size : 256;
	while (size <= b->len + more)
		size *= 2;
	data = realloc(b->data, size);
	if (!data) {
		b->failed = 1;
		return -1;
	}
	b->data = data;
	b->size = size;
	return 0;
}

static void jb_mem(struct jbuf *b, const char *s, size_t n)
{
	if (jb_reserve(b, n) < 0)
		return;
	memcpy(b->data + b->len, s, n);
	b->len += n;
	b->data[b->len] = '\0';
}

static void jb_raw(struct jbuf *b, const char *s)
{
	jb_mem(b, s, strlen(s));
}

/*
 * The length of the well-formed UTF-8 sequence at p (RFC 3629: shortest
 * form, no surrogates, at most U+10FFFF), or 0 if there is none.
 */
static size_t utf8_sequence(const unsigned char *p)
{
	size_t n;
	unsigned cp;

	if (*p >= 0xc2 && *p <= 0xdf) {
		n = 2;
		cp = *p & 0x1f;
	} else if (*p >= 0xe0 && *p <= 0xef) {
		n = 3;
		cp = *p & 0x0f;
	} else if (*p >= 0xf0 && *p <= 0xf4) {
		n = 4;
		cp = *p & 0x07;
	} else {
		return 0;
	}
	for (size_t i = 1; i < n; i++) {
		if ((p[i] & 0xc0) != 0x80) /* also stops at the terminating NUL */
			return 0;
		cp = cp << 6 | (p[i] & 0x3f);
	}
	if ((n == 3 && cp < 0x800) || (n == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
	    (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return n;
}

/*
 * A JSON string. Well-formed UTF-8 goes through as it is, so that a
 * config path or value in a message reads as written; control characters
 * (C0, DEL, C1) are escaped, and a byte that is not part of well-formed
 * UTF-8 becomes U+FFFD, so the reply is valid JSON whatever a client or a
 * config file made us quote back.
 */
static void jb_str(struct jbuf *b, const char *s)
{
	jb_raw(b, "\"");
	for (const unsigned char *p = (const unsigned char *)s; *p;) {
		char esc[8];
		size_t n = *p < 0x80 ? 1 : utf8_sequence(p);
		unsigned cp = n == 2 ? (unsigned)(p[0] & 0x1f) << 6 | (p[1] & 0x3f) : *p;

		if (*p == '"' || *p == '\\') {
			esc[0] = '\\';
			esc[1] = (char)*p;
			jb_mem(b, esc, 2);
		} else if (*p == '\n') {
			jb_raw(b, "\\n");
		} else if (*p == '\t') {
			jb_raw(b, "\\t");
		} else if (n == 0) {
			jb_raw(b, "\\ufffd");
			n = 1;
		} else if (cp < 0x20 || (cp >= 0x7f && cp < 0xa0)) {
			snprintf(esc, sizeof(esc), "\\u%04x", cp);
			jb_raw(b, esc);
		} else {
			jb_mem(b, (const char *)p, n);
		}
		p += n;
	}
	jb_raw(b, "\"");
}

/* `"key":`, after a comma unless it opens its object. */
static void jb_key(struct jbuf *b, const char *key)
{
	if (b->len && b->data[b->len - 1] != '{' && b->data[b->len - 1] != '[')
		jb_raw(b, ",");
	jb_str(b, key);
	jb_raw(b, ":");
}

static void jb_u64(struct jbuf *b, const char *key, uint64_t value)
{
	char num[24];

	jb_key(b, key);
	snprintf(num, sizeof(num), "%llu", (unsigned long long)value);
	jb_raw(b, num);
}

static void jb_string(struct jbuf *b, const char *key, const char *value)
{
	jb_key(b, key);
	jb_str(b, value);
}

static void jb_bool(struct jbuf *b, const char *key, int value)
{
	jb_key(b, key);
	jb_raw(b, value ? "true" : "false");
}

/* ---- clients ---- */

/* Close, after discarding what the peer sent that we did not read. */
static void close_discarding(int fd)
{
	char sink[4096];
	size_t total = 0;
	ssize_t n;

	while (total < CONTROL_DISCARD_MAX && (n = recv(fd, sink, sizeof(sink), MSG_DONTWAIT)) > 0)
		total += (size_t)n;
	if (close(fd) < 0 && errno != EINTR)
		vkd_debug("control: close: %s", strerror(errno));
}

static void client_end(struct client *c)
{
	/* Its query goes on; when it ends, nobody is told (vkd_control_query_done()). */
	if (c->query)
		c->query->owner = NULL;
	close_discarding(c->fd);
	if (!c->reply_static)
		free(c->reply);
	memset(c, 0, sizeof(*c));
	c->fd = -1;
}

/*
 * Send what is left of the reply; end the client once all of it went. The
 * deadline bounds a stall, not the whole reply: a slow reader of a large
 * status still gets all of it as long as it keeps reading.
 */
static void client_write(struct client *c, long now)
{
	size_t start = c->reply_off;

	while (c->reply_off < c->reply_len) {
		ssize_t n = send(c->fd, c->reply + c->reply_off, c->reply_len - c->reply_off,
				 MSG_DONTWAIT | MSG_NOSIGNAL);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			if (c->state != CLIENT_WRITE || c->reply_off > start)
				c->deadline_ms = now + VKD_CONTROL_TIMEOUT_MS;
			c->state = CLIENT_WRITE;
			return;
		}
		if (n < 0) {
			/* The peer left: nobody to tell. */
			vkd_debug("control: reply to pid %ld: %s", (long)c->pid, strerror(errno));
			break;
		}
		c->reply_off += (size_t)n;
	}
	client_end(c);
}

/* Take the object in b as the reply (freeing b's buffer) and send it. */
static void client_reply(struct client *c, struct jbuf *b, long now)
{
	jb_raw(b, "\n");
	if (b->failed) {
		free(b->data);
		c->reply = (char *)oom_reply;
		c->reply_len = sizeof(oom_reply) - 1;
		c->reply_static = 1;
	} else {
		c->reply = b->data;
		c->reply_len = b->len;
	}
	c->reply_off = 0;
	client_write(c, now);
}

static void __attribute__((format(printf, 3, 4)))
client_error(struct client *c, long now, const char *format, ...)
{
	char text[CONTROL_ERROR_MAX];
	struct jbuf b = {0};
	va_list ap;

	va_start(ap, format);
	vsnprintf(text, sizeof(text), format, ap);
	va_end(ap);
	jb_raw(&b, "{");
	jb_bool(&b, "ok", 0);
	jb_string(&b, "error", text);
	jb_raw(&b, "}");
	client_reply(c, &b, now);
}

/* ---- commands ---- */

static const char *slot_state_name(uint32_t state)
{
	switch (state) {
	case VKD_SLOT_STARTING:
		return "starting";
	case VKD_SLOT_READY:
		return "ready";
	case VKD_SLOT_DRAINING:
		return "draining";
	default:
		return "free";
	}
}

static int slot_order(const void *a, const void *b)
{
	const struct vkd_slot *x = *(const struct vkd_slot *const *)a;
	const struct vkd_slot *y = *(const struct vkd_slot *const *)b;

	if (x->generation != y->generation)
		return x->generation < y->generation ? -1 : 1;
	if (x->index != y->index)
		return x->index < y->index ? -1 : 1;
	return 0;
}

/* Outbound connections (vk_connect()), of a worker or in all. */
static void status_outbound(struct jbuf *b, const struct vk_stats *st)
{
	jb_u64(b, "outbound", st->outbound_now);
	jb_u64(b, "connects", st->connects);
	jb_u64(b, "connect_failures", st->connect_failures);
	jb_u64(b, "connects_pooled", st->connects_pooled);
	jb_u64(b, "resolves", st->resolves);
	jb_u64(b, "resolve_failures", st->resolve_failures);
	jb_u64(b, "pooled", st->pooled_now);
}

/* Channels, services, publish/subscribe, links between workers (vk_stats.h). */
static void status_messaging(struct jbuf *b, const struct vk_stats *st)
{
	jb_u64(b, "services", st->services_now);
	jb_u64(b, "service_restarts", st->service_restarts);
	jb_u64(b, "channels", st->channels);
	jb_u64(b, "channel_bytes", st->channel_bytes);
	jb_u64(b, "messages", st->messages);
	jb_u64(b, "deliveries", st->deliveries);
	jb_u64(b, "drops", st->drops);
	jb_u64(b, "link_bytes_in", st->mesh_bytes_in);
	jb_u64(b, "link_bytes_out", st->mesh_bytes_out);
}

/* The counters of a worker's row and of the totals, after "connections". */
static void status_counters(struct jbuf *b, const struct vk_stats *st)
{
	jb_u64(b, "connections_total", st->accepted);
	jb_u64(b, "faults", st->faults);
	jb_u64(b, "bytes_in", st->bytes_in);
	jb_u64(b, "bytes_out", st->bytes_out);
	jb_u64(b, "refused", st->refused);
	jb_u64(b, "watchdog", st->watchdog);
	jb_u64(b, "app_errors", st->app_errors);
	status_outbound(b, st);
	status_messaging(b, st);
	jb_u64(b, "killed", st->killed);
	jb_u64(b, "dispatches", st->dispatches);
	jb_u64(b, "protections", st->protections);
}

/* A worker's row: a respawned worker number's counters go on from where
 * its earlier processes left them (vkd_slot_stats()). */
static void status_worker(struct jbuf *b, const struct vkd_slot *s)
{
	uint32_t state = vkd_slot_state(s);
	struct vk_stats st;

	vkd_slot_stats(s, &st);
	jb_raw(b, b->data && b->data[b->len - 1] == '[' ? "{" : ",{");
	jb_u64(b, "index", s->index);
	jb_u64(b, "pid", (uint64_t)__atomic_load_n(&s->pid, __ATOMIC_RELAXED));
	jb_u64(b, "generation", s->generation);
	jb_string(b, "state", slot_state_name(state));
	jb_u64(b, "restarts", vkd_slot_read(&s->restarts));
	jb_u64(b, "connections", vkd_slot_connections(s));
	status_counters(b, &st);
	jb_raw(b, "}");
}

/* For the life of the master: workers gone count too (never backwards). */
static void status_totals(struct jbuf *b, const struct vkd_totals *t)
{
	jb_key(b, "totals");
	jb_raw(b, "{");
	jb_u64(b, "workers", t->workers);
	jb_u64(b, "ready", t->ready);
	jb_u64(b, "draining", t->draining);
	jb_u64(b, "restarts", t->restarts);
	jb_u64(b, "connections", t->connections);
	status_counters(b, &t->stats);
	jb_raw(b, "}");
}

/* Each app's counters, for the life of the master (empty when out of memory). */
static void status_apps(struct vkd_control *ctl, struct jbuf *b)
{
	struct vkd_app_sums sums = {0};

	jb_key(b, "apps");
	jb_raw(b, "[");
	if (ctl->ops->apps && ctl->ops->apps(ctl->ctx, &sums) < 0)
		vkd_warn("control: status: out of memory for the per-app counters");
	for (size_t i = 0; i < sums.count; i++) {
		const struct vk_app_stats *st = &sums.list[i].stats;

		jb_raw(b, i ? ",{" : "{");
		jb_string(b, "name", sums.list[i].name);
		jb_u64(b, "connections", st->procs_now);
		jb_u64(b, "connections_total", st->procs_total);
		jb_u64(b, "faults", st->faults);
		jb_u64(b, "watchdog", st->watchdog);
		jb_u64(b, "refused", st->refused);
		jb_u64(b, "killed", st->killed);
		jb_u64(b, "app_errors", st->app_errors);
		jb_u64(b, "access_log_drops", st->access_log_drops);
		jb_raw(b, "}");
	}
	jb_raw(b, "]");
	vkd_app_sums_free(&sums);
}

/* The slots in use, in status order. Only the master frees or takes
 * slots, and it is us: the list cannot change while we read it. */
static const struct vkd_slot **status_slots(const struct vkd_counters *counters, size_t *count)
{
	const struct vkd_slot **list = calloc(counters->count ? counters->count : 1, sizeof(*list));
	size_t n = 0;

	if (!list)
		return NULL;
	for (size_t i = 0; i < counters->count; i++)
		if (vkd_slot_state(&counters->slots[i]) != VKD_SLOT_FREE)
			list[n++] = &counters->slots[i];
	qsort(list, n, sizeof(*list), slot_order);
	*count = n;
	return list;
}

static void cmd_status(struct vkd_control *ctl, struct client *c, long now)
{
	struct vkd_control_info info = {0};
	const struct vkd_slot **slots;
	struct vkd_totals totals;
	struct jbuf b = {0};
	size_t count = 0;

	ctl->ops->info(ctl->ctx, &info);
	slots = status_slots(ctl->counters, &count);
	if (!slots) {
		client_error(c, now, "out of memory");
		return;
	}
	jb_raw(&b, "{");
	jb_bool(&b, "ok", 1);
	jb_string(&b, "version", PACKAGE_VERSION);
	jb_u64(&b, "pid", (uint64_t)info.pid);
	jb_u64(&b, "generation", info.generation);
	jb_u64(&b, "reloading", info.reloading);
	jb_bool(&b, "checking", info.checking);
	jb_bool(&b, "stopping", info.stopping);
	jb_u64(&b, "uptime_s", (uint64_t)(info.uptime_ms > 0 ? info.uptime_ms / 1000 : 0));
	jb_key(&b, "workers");
	jb_raw(&b, "[");
	for (size_t i = 0; i < count; i++)
		status_worker(&b, slots[i]);
	jb_raw(&b, "]");
	vkd_counters_sum(ctl->counters, &totals);
	status_totals(&b, &totals);
	status_apps(ctl, &b);
	jb_raw(&b, "}");
	free(slots);
	client_reply(c, &b, now);
}

/* ---- ps and kill W/ID: the workers' answers ---- */

static void jb_seconds(struct jbuf *b, const char *key, double seconds)
{
	char num[32];

	jb_key(b, key);
	snprintf(num, sizeof(num), "%.3f", seconds > 0 ? seconds : 0.0);
	jb_raw(b, num);
}

/* The libvk kernel's clock (ev_now()) is the wall clock. */
static double wall_clock(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static const char *proc_state(const struct vk_proc_info *info)
{
	switch (info->state) {
	case VK_PROC_STARTING:
		return "starting";
	case VK_PROC_READY:
		return "ready";
	case VK_PROC_CLOSING:
		return "closing";
	}
	return info->wait == VK_WAIT_NONE ? "waiting" : vk_wait_name(info->wait);
}

/* By generation, worker, then id. */
static int rec_order(const void *a, const void *b, void *ctx)
{
	const struct vkd_query *query = ctx;
	const struct vkd_query_rec *x = a, *y = b;
	const struct vkd_query_part *px = &query->parts[x->part], *py = &query->parts[y->part];

	if (px->generation != py->generation)
		return px->generation < py->generation ? -1 : 1;
	if (px->index != py->index)
		return px->index < py->index ? -1 : 1;
	if (x->info.id != y->info.id)
		return x->info.id < y->info.id ? -1 : 1;
	return 0;
}

static void ps_worker(struct jbuf *b, const struct vkd_query_part *part, int first)
{
	jb_raw(b, first ? "{" : ",{");
	jb_u64(b, "index", part->index);
	jb_u64(b, "generation", part->generation);
	jb_u64(b, "pid", (uint64_t)part->pid);
	jb_bool(b, "answered", part->state == VKD_PART_DONE);
	if (part->state == VKD_PART_DONE) {
		jb_u64(b, "procs", part->end.procs);
		jb_u64(b, "slices", part->end.slices);
		jb_u64(b, "pause_max_us", (part->end.max_slice_ns + 999) / 1000);
		jb_u64(b, "pause_max_cpu_us", (part->end.max_slice_cpu_ns + 999) / 1000);
	} else {
		jb_string(b, "error", part->failure ? part->failure : "no answer");
	}
	jb_raw(b, "}");
}

static void ps_proc(struct jbuf *b, const struct vkd_query *query, const struct vkd_query_rec *rec,
		    double wall, int first)
{
	const struct vk_proc_info *info = &rec->info;
	const struct vkd_query_part *part = &query->parts[rec->part];
	char peer[64];

	jb_raw(b, first ? "{" : ",{");
	jb_u64(b, "worker", part->index);
	jb_u64(b, "generation", part->generation);
	jb_u64(b, "id", info->id);
	jb_string(b, "app", vkd_query_app(query, rec));
	jb_string(b, "peer", vk_peer_text(&info->peer, peer, sizeof(peer)));
	jb_string(b, "state", proc_state(info));
	jb_seconds(b, "age_s", wall - info->started);
	if (info->last_run > 0)
		jb_seconds(b, "last_run_s", wall - info->last_run);
	jb_u64(b, "heap_used", info->heap_used);
	jb_u64(b, "heap_mapped", info->heap_mapped);
	jb_u64(b, "bytes_in", info->bytes_in);
	jb_u64(b, "bytes_out", info->bytes_out);
	jb_raw(b, "}");
}

static void reply_ps(struct client *c, struct vkd_query *query, long now)
{
	double wall = wall_clock();
	struct jbuf b = {0};

	/* No process anywhere: recs is NULL, which qsort_r() must not get. */
	if (query->rec_count)
		qsort_r(query->recs, query->rec_count, sizeof(*query->recs), rec_order, query);
	jb_raw(&b, "{");
	jb_bool(&b, "ok", 1);
	jb_bool(&b, "truncated", query->truncated);
	jb_key(&b, "workers");
	jb_raw(&b, "[");
	for (size_t i = 0; i < query->part_count; i++)
		ps_worker(&b, &query->parts[i], i == 0);
	jb_raw(&b, "]");
	jb_key(&b, "procs");
	jb_raw(&b, "[");
	for (size_t i = 0; i < query->rec_count; i++)
		ps_proc(&b, query, &query->recs[i], wall, i == 0);
	jb_raw(&b, "]}");
	client_reply(c, &b, now);
}

static void reply_kill_proc(struct client *c, const struct vkd_query *query, long now)
{
	const struct vkd_query_part *part = &query->parts[0];
	unsigned long long id = (unsigned long long)query->kill_id;
	struct jbuf b = {0};

	if (part->state != VKD_PART_DONE) {
		client_error(c, now, "kill: worker %u (pid %ld): %s", part->index, (long)part->pid,
			     part->failure ? part->failure : "no answer");
		return;
	}
	if (part->kill_error) {
		client_error(c, now,
			     "kill: worker %u has no micro-process %llu (vkctl ps lists them)",
			     part->index, id);
		return;
	}
	vkd_info("control: micro-process %u/%llu (worker pid %ld) ended, asked by pid %ld uid %ld",
		 part->index, id, (long)part->pid, (long)c->pid, (long)c->uid);
	jb_raw(&b, "{");
	jb_bool(&b, "ok", 1);
	jb_u64(&b, "worker", part->index);
	jb_u64(&b, "pid", (uint64_t)part->pid);
	jb_u64(&b, "id", query->kill_id);
	jb_raw(&b, "}");
	client_reply(c, &b, now);
}

void vkd_control_query_done(struct vkd_control *ctl, struct vkd_query *query, long now)
{
	struct client *c = query->owner;

	if (ctl && c && c->query == query) {
		c->query = NULL;
		if (query->kind == VKD_QUERY_PS)
			reply_ps(c, query, now);
		else
			reply_kill_proc(c, query, now);
	}
	vkd_query_free(query);
}

static void reply_generation(struct client *c, unsigned generation, const char *state, long now)
{
	struct jbuf b = {0};

	jb_raw(&b, "{");
	jb_bool(&b, "ok", 1);
	jb_u64(&b, "generation", generation);
	if (state)
		jb_string(&b, "state", state);
	jb_raw(&b, "}");
	client_reply(c, &b, now);
}

static void cmd_reload(struct vkd_control *ctl, struct client *c, char **argv, int argc, long now)
{
	char err[CONTROL_ERROR_MAX] = "";
	int wait = argc == 2;

	if (argc > 2 || (argc == 2 && strcmp(argv[1], "wait") != 0)) {
		client_error(c, now, "reload: unexpected argument '%.*s' (usage: reload [wait])",
			     CONTROL_SHOW, argv[strcmp(argv[1], "wait") == 0 ? 2 : 1]);
		return;
	}
	vkd_info("control: reload%s asked by pid %ld uid %ld", wait ? " wait" : "", (long)c->pid,
		 (long)c->uid);
	/* Waiting before the call: the answer comes when the module check
	 * ends (vkd_control_reload_started() or _done()). */
	c->state = CLIENT_WAIT;
	c->wait_ready = wait;
	c->deadline_ms = now + CONTROL_WAIT_MS;
	if (ctl->ops->reload(ctl->ctx, err, sizeof(err)) < 0 && c->state == CLIENT_WAIT)
		client_error(c, now, "%s", err[0] ? err : "reload failed");
}

static void cmd_stop(struct vkd_control *ctl, struct client *c, char **argv, int argc, long now)
{
	struct jbuf b = {0};

	if (argc > 1) {
		client_error(c, now, "stop: unexpected argument '%.*s'", CONTROL_SHOW, argv[1]);
		return;
	}
	vkd_info("control: stop asked by pid %ld uid %ld", (long)c->pid, (long)c->uid);
	jb_raw(&b, "{\"ok\":true}");
	client_reply(c, &b, now);
	ctl->ops->stop(ctl->ctx);
}

/* Decimal digits only, no sign, no overflow. */
static int parse_uint(const char *s, unsigned long max, unsigned long *out)
{
	unsigned long n = 0;

	if (!*s)
		return -1;
	for (; *s; s++) {
		if (*s < '0' || *s > '9')
			return -1;
		if (n > (max - (unsigned long)(*s - '0')) / 10)
			return -1;
		n = n * 10 + (unsigned long)(*s - '0');
	}
	*out = n;
	return 0;
}

/* "TERM", "sigterm", "15": the signal number, or -1. */
static int parse_signal(const char *s)
{
	unsigned long n;

	if (parse_uint(s, (unsigned long)SIGRTMAX, &n) == 0)
		return n >= 1 ? (int)n : -1;
	if (strncasecmp(s, "SIG", 3) == 0)
		s += 3;
	for (int sig = 1; sig < NSIG; sig++) {
		const char *name = sigabbrev_np(sig);

		if (name && strcasecmp(name, s) == 0)
			return sig;
	}
	return -1;
}

/* Wait for `query` (NULL: it could not start, err says why). */
static void client_query(struct client *c, struct vkd_query *query, const char *err, long now)
{
	if (!query) {
		client_error(c, now, "%s", err[0] ? err : "out of memory");
		return;
	}
	c->state = CLIENT_QUERY;
	c->query = query;
	query->owner = c;
	/* The master ends every query by its deadline: this is a guard only. */
	c->deadline_ms = query->deadline_ms + VKD_CONTROL_TIMEOUT_MS;
}

/* ps [N]: every micro-process of every worker, or of worker N. */
static void cmd_ps(struct vkd_control *ctl, struct client *c, char **argv, int argc, long now)
{
	char err[CONTROL_ERROR_MAX] = "";
	unsigned long index = 0;

	if (argc > 2 || (argc == 2 && (parse_uint(argv[1], UINT_MAX, &index) < 0 || !index))) {
		client_error(c, now,
			     "ps: expected an optional worker number (usage: ps [N]), got '%.*s'",
			     CONTROL_SHOW, argv[argc - 1]);
		return;
	}
	client_query(c, ctl->ops->ps(ctl->ctx, (unsigned)index, err, sizeof(err)), err, now);
}

/* kill W/ID: end micro-process ID of worker W of the serving generation. */
static void cmd_kill_proc(struct vkd_control *ctl, struct client *c, char **argv, int argc,
			  long now)
{
	char err[CONTROL_ERROR_MAX] = "";
	unsigned long index, id;
	char *slash = strchr(argv[1], '/');

	*slash = '\0';
	if (argc != 2 || parse_uint(argv[1], UINT_MAX, &index) < 0 ||
	    parse_uint(slash + 1, ULONG_MAX, &id) < 0 || !index || !id) {
		*slash = '/';
		client_error(
		    c, now,
		    "kill: expected W/ID, a worker number and a micro-process id as vkctl ps "
		    "shows them (usage: kill W/ID), got '%.*s'",
		    CONTROL_SHOW, argv[1]);
		return;
	}
	vkd_info("control: kill %lu/%lu asked by pid %ld uid %ld", index, id, (long)c->pid,
		 (long)c->uid);
	client_query(c, ctl->ops->kill_proc(ctl->ctx, (unsigned)index, id, err, sizeof(err)), err,
		     now);
}

static void cmd_kill(struct vkd_control *ctl, struct client *c, char **argv, int argc, long now)
{
	char err[CONTROL_ERROR_MAX] = "";
	struct jbuf b = {0};
	const char *name;
	unsigned long index;
	int sig = SIGTERM;
	pid_t pid = 0;
	char num[16];

	if (argc >= 2 && strchr(argv[1], '/')) {
		cmd_kill_proc(ctl, c, argv, argc, now);
		return;
	}
	if (argc < 2 || argc > 3) {
		client_error(c, now,
			     "kill: expected a worker number and an optional signal "
			     "(usage: kill N [SIGNAL] or kill W/ID)");
		return;
	}
	if (parse_uint(argv[1], UINT_MAX, &index) < 0) {
		client_error(c, now, "kill: bad worker number '%.*s'", CONTROL_SHOW, argv[1]);
		return;
	}
	if (argc == 3 && (sig = parse_signal(argv[2])) < 0) {
		client_error(c, now, "kill: unknown signal '%.*s'", CONTROL_SHOW, argv[2]);
		return;
	}
	if (ctl->ops->kill(ctl->ctx, (unsigned)index, sig, &pid, err, sizeof(err)) < 0) {
		client_error(c, now, "%s", err[0] ? err : "kill failed");
		return;
	}
	name = sigabbrev_np(sig);
	if (!name) {
		snprintf(num, sizeof(num), "%d", sig);
		name = num;
	}
	vkd_info("control: SIG%s sent to worker %lu pid %ld, asked by pid %ld uid %ld", name, index,
		 (long)pid, (long)c->pid, (long)c->uid);
	jb_raw(&b, "{");
	jb_bool(&b, "ok", 1);
	jb_u64(&b, "worker", index);
	jb_u64(&b, "pid", (uint64_t)pid);
	jb_string(&b, "signal", name);
	jb_raw(&b, "}");
	client_reply(c, &b, now);
}

static void cmd_version(struct client *c, char **argv, int argc, long now)
{
	struct jbuf b = {0};

	if (argc > 1) {
		client_error(c, now, "version: unexpected argument '%.*s'", CONTROL_SHOW, argv[1]);
		return;
	}
	jb_raw(&b, "{");
	jb_bool(&b, "ok", 1);
	jb_string(&b, "version", PACKAGE_VERSION);
	jb_raw(&b, "}");
	client_reply(c, &b, now);
}

/* Split on spaces and tabs, in place. Returns the count, or -1 if too many. */
static int split_words(char *line, char **argv)
{
	char *save = NULL;
	int argc = 0;

	for (char *p = strtok_r(line, " \t", &save); p; p = strtok_r(NULL, " \t", &save)) {
		if (argc == CONTROL_WORDS_MAX)
			return -1;
		argv[argc++] = p;
	}
	return argc;
}

static void client_command(struct vkd_control *ctl, struct client *c, char *line, long now)
{
	char *argv[CONTROL_WORDS_MAX];
	int argc = split_words(line, argv);

	if (argc < 0) {
		client_error(c, now, "too many words in the request (at most %d)",
			     CONTROL_WORDS_MAX);
		return;
	}
	if (argc == 0) {
		client_error(c, now, "empty request");
		return;
	}
	vkd_debug("control: '%.*s' from pid %ld uid %ld", CONTROL_SHOW, argv[0], (long)c->pid,
		  (long)c->uid);
	if (strcmp(argv[0], "status") == 0 && argc == 1)
		cmd_status(ctl, c, now);
	else if (strcmp(argv[0], "status") == 0)
		client_error(c, now, "status: unexpected argument '%.*s'", CONTROL_SHOW, argv[1]);
	else if (strcmp(argv[0], "reload") == 0)
		cmd_reload(ctl, c, argv, argc, now);
	else if (strcmp(argv[0], "stop") == 0)
		cmd_stop(ctl, c, argv, argc, now);
	else if (strcmp(argv[0], "kill") == 0)
		cmd_kill(ctl, c, argv, argc, now);
	else if (strcmp(argv[0], "ps") == 0)
		cmd_ps(ctl, c, argv, argc, now);
	else if (strcmp(argv[0], "version") == 0)
		cmd_version(c, argv, argc, now);
	else
		client_error(c, now, "unknown command '%.*s'", CONTROL_SHOW, argv[0]);
}

/* The line is c->line[0..len), without its newline. */
static void client_request(struct vkd_control *ctl, struct client *c, size_t len, long now)
{
	char *line = c->line;

	if (len && line[len - 1] == '\r')
		len--;
	line[len] = '\0';
	for (size_t i = 0; i < len; i++) {
		unsigned char ch = (unsigned char)line[i];

		if ((ch < 0x20 && ch != '\t') || ch == 0x7f) {
			client_error(
			    c, now, "the request is not a line of text (byte 0x%02x at offset %zu)",
			    ch, i);
			return;
		}
	}
	client_command(ctl, c, line, now);
}

static void client_read(struct vkd_control *ctl, struct client *c, long now)
{
	size_t room = VKD_CONTROL_LINE_MAX - c->len;
	ssize_t n;
	char *nl;

	do
		n = recv(c->fd, c->line + c->len, room, MSG_DONTWAIT);
	while (n < 0 && errno == EINTR);
	if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
		return;
	if (n < 0) {
		vkd_debug("control: read from pid %ld: %s", (long)c->pid, strerror(errno));
		client_end(c);
		return;
	}
	/* End of file ends the line too: `printf status | nc -U` works. */
	if (n == 0) {
		client_request(ctl, c, c->len, now);
		return;
	}
	nl = memchr(c->line + c->len, '\n', (size_t)n);
	c->len += (size_t)n;
	if (nl) {
		client_request(ctl, c, (size_t)(nl - c->line), now);
		return;
	}
	if (c->len == VKD_CONTROL_LINE_MAX)
		client_error(c, now, "request line too long (at most %d bytes with the newline)",
			     VKD_CONTROL_LINE_MAX);
}

static void client_event(struct vkd_control *ctl, struct client *c, short revents, long now)
{
	switch (c->state) {
	case CLIENT_READ:
		if (revents & (POLLIN | POLLHUP | POLLERR))
			client_read(ctl, c, now);
		break;
	case CLIENT_WRITE:
		if (revents & (POLLOUT | POLLHUP | POLLERR))
			client_write(c, now);
		break;
	case CLIENT_WAIT:
	case CLIENT_QUERY:
		/* Only hang-ups are polled for: the waiter left. */
		if (revents & (POLLHUP | POLLERR)) {
			vkd_debug("control: pid %ld stopped waiting for its answer", (long)c->pid);
			client_end(c);
		}
		break;
	default:
		break;
	}
}

/* ---- accepting ---- */

/*
 * Whether the user `uid` (primary group `gid`) has `want` in its groups.
 * The lookups go through NSS and may be slow where users are remote; they
 * are only made for a peer that is neither root nor our user, when
 * control_group is set, and the group id alone did not decide.
 */
static int user_in_group(uid_t uid, gid_t gid, gid_t want)
{
	struct passwd pw, *found = NULL;
	char *buf = malloc(CONTROL_PWBUF);
	gid_t groups[64], *list = groups;
	int n = 64, member = 0;

	if (!buf)
		return 0;
	if (getpwuid_r(uid, &pw, buf, CONTROL_PWBUF, &found) != 0 || !found)
		goto out;
	if (getgrouplist(pw.pw_name, gid, list, &n) < 0) {
		/* n is now the real count: try again with room for all. */
		list = calloc((size_t)n, sizeof(*list));
		if (!list || getgrouplist(pw.pw_name, gid, list, &n) < 0)
			goto out;
	}
	for (int i = 0; i < n && !member; i++)
		member = list[i] == want;
out:
	if (list != groups)
		free(list);
	free(buf);
	return member;
}

static int peer_allowed(const struct vkd_control *ctl, const struct ucred *cred)
{
	if (cred->uid == 0 || cred->uid == ctl->uid)
		return 1;
	if (ctl->gid == (gid_t)-1)
		return 0;
	if (cred->gid == ctl->gid)
		return 1;
	return user_in_group(cred->uid, cred->gid, ctl->gid);
}

/* A one-shot answer to a connection that gets no client slot. Fresh
 * sockets have room for it, so one non-blocking send does. */
static void refuse(int fd, const char *reply)
{
	if (send(fd, reply, strlen(reply), MSG_DONTWAIT | MSG_NOSIGNAL) < 0)
		vkd_debug("control: refusal not sent: %s", strerror(errno));
	close_discarding(fd);
}

static struct client *client_free_slot(struct vkd_control *ctl)
{
	for (size_t i = 0; i < VKD_CONTROL_CLIENTS_MAX; i++)
		if (ctl->clients[i].state == CLIENT_FREE)
			return &ctl->clients[i];
	return NULL;
}

/* Whether c waits on its peer for the rest of its request: nothing unread. */
static int client_stalled(const struct client *c)
{
	char byte;

	if (c->state != CLIENT_READ)
		return 0;
	return recv(c->fd, &byte, 1, MSG_PEEK | MSG_DONTWAIT) < 0 &&
	       (errno == EAGAIN || errno == EWOULDBLOCK);
}

/*
 * With every slot taken, the oldest client still waiting for its peer to
 * send a request makes room: clients that send nothing (a stuck agent,
 * 32 idle connections) must not lock out the next `status`. A client
 * whose request is complete, or has arrived unread, is never evicted.
 */
static struct client *client_evict(struct vkd_control *ctl)
{
	static const char reply[] = "{\"ok\":false,\"error\":\"busy: too many control "
				    "connections, and this one sent no request\"}\n";
	struct client *oldest = NULL;

	for (size_t i = 0; i < VKD_CONTROL_CLIENTS_MAX; i++) {
		struct client *c = &ctl->clients[i];

		if ((!oldest || c->accepted_ms < oldest->accepted_ms) && client_stalled(c))
			oldest = c;
	}
	if (!oldest)
		return NULL;
	vkd_warn("control: %d connections already: evicted pid %ld, which sent no request",
		 VKD_CONTROL_CLIENTS_MAX, (long)oldest->pid);
	refuse(oldest->fd, reply);
	memset(oldest, 0, sizeof(*oldest));
	oldest->fd = -1;
	return oldest;
}

static void control_admit(struct vkd_control *ctl, int fd, long now)
{
	struct ucred cred;
	socklen_t len = sizeof(cred);
	struct client *c;

	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0) {
		vkd_warn("control: SO_PEERCRED: %s", strerror(errno));
		refuse(fd, "{\"ok\":false,\"error\":\"cannot identify the peer\"}\n");
		return;
	}
	if (!peer_allowed(ctl, &cred)) {
		vkd_warn("control: refused pid %ld uid %ld gid %ld: not allowed", (long)cred.pid,
			 (long)cred.uid, (long)cred.gid);
		refuse(fd, "{\"ok\":false,\"error\":\"permission denied\"}\n");
		return;
	}
	c = client_free_slot(ctl);
	if (!c)
		c = client_evict(ctl);
	if (!c) {
		vkd_warn("control: %d connections already: refused pid %ld",
			 VKD_CONTROL_CLIENTS_MAX, (long)cred.pid);
		refuse(fd, "{\"ok\":false,\"error\":\"busy: too many control connections\"}\n");
		return;
	}
	memset(c, 0, sizeof(*c));
	c->state = CLIENT_READ;
	c->fd = fd;
	c->pid = cred.pid;
	c->uid = cred.uid;
	c->accepted_ms = now;
	c->deadline_ms = now + VKD_CONTROL_TIMEOUT_MS;
}

static void control_accept_warn(struct vkd_control *ctl, int error, long now)
{
	ctl->accept_failures++;
	if (ctl->accept_warned_ms && now - ctl->accept_warned_ms < CONTROL_WARN_MS)
		return;
	if (ctl->accept_failures > 1)
		vkd_warn("control: accept: %s; %u failures in %ld s, pausing 100 ms each",
			 strerror(error), ctl->accept_failures,
			 (now - ctl->accept_warned_ms) / 1000);
	else
		vkd_warn("control: accept: %s; pausing 100 ms", strerror(error));
	ctl->accept_warned_ms = now;
	ctl->accept_failures = 0;
}

static void control_accept(struct vkd_control *ctl, long now)
{
	for (int i = 0; i < CONTROL_ACCEPT_BURST; i++) {
		int fd = accept4(ctl->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);

		if (fd >= 0) {
			control_admit(ctl, fd, now);
			continue;
		}
		if (errno == EINTR || errno == ECONNABORTED)
			continue;
		if (errno == EAGAIN || errno == EWOULDBLOCK)
			return;
		/* Out of descriptors or memory: the connection stays queued. */
		control_accept_warn(ctl, errno, now);
		ctl->pause_until_ms = now + CONTROL_PAUSE_MS;
		return;
	}
}

/* ---- the socket ---- */

static void __attribute__((format(printf, 3, 4)))
say(char *err, size_t size, const char *format, ...)
{
	va_list ap;

	va_start(ap, format);
	vsnprintf(err, size, format, ap);
	va_end(ap);
}

/* Connect to path without blocking: 0 if something answers, else -1. */
static int control_probe(const struct sockaddr_un *sun)
{
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	int rc, saved;

	if (fd < 0)
		return -1;
	rc = connect(fd, (const struct sockaddr *)sun, sizeof(*sun));
	saved = errno;
	close(fd);
	/* EAGAIN: a listener whose queue is full still answers. */
	if (rc == 0 || saved == EAGAIN)
		return 0;
	errno = saved;
	return -1;
}

/* Clear the way for bind(): nothing there, or a stale socket removed. */
static int control_clear(const struct sockaddr_un *sun, char *err, size_t size)
{
	const char *path = sun->sun_path;
	struct stat st;

	if (lstat(path, &st) < 0) {
		if (errno == ENOENT)
			return 0;
		say(err, size, "control socket %s: %s", path, strerror(errno));
		return -1;
	}
	if (!S_ISSOCK(st.st_mode)) {
		errno = EEXIST;
		say(err, size, "control socket %s: exists and is not a socket", path);
		return -1;
	}
	if (control_probe(sun) == 0) {
		errno = EADDRINUSE;
		say(err, size, "control socket %s: another vkd answers on it", path);
		return -1;
	}
	if (errno != ECONNREFUSED) {
		say(err, size, "control socket %s: cannot tell whether it is in use: %s", path,
		    strerror(errno));
		return -1;
	}
	if (unlink(path) < 0 && errno != ENOENT) {
		say(err, size, "control socket %s: removing the stale socket: %s", path,
		    strerror(errno));
		return -1;
	}
	vkd_info("control socket %s: removed a stale socket", path);
	return 0;
}

/* Make the socket's folder when it is missing (only the last level:
 * /run/vkd under a fresh /run, without systemd's RuntimeDirectory=). */
static int control_mkdir(const char *path)
{
	char dir[sizeof(((struct sockaddr_un *)0)->sun_path)];
	char *slash;

	snprintf(dir, sizeof(dir), "%s", path);
	slash = strrchr(dir, '/');
	if (!slash || slash == dir)
		return -1;
	*slash = '\0';
	if (mkdir(dir, 0755) < 0) {
		if (errno == EEXIST)
			return 0;
		return -1;
	}
	/* Made under control_bind()'s umask: open it up as documented. */
	return chmod(dir, 0755);
}

/* bind() under a umask that leaves the file 0600 until chmod says more. */
static int control_bind(int fd, const struct sockaddr_un *sun)
{
	mode_t old = umask(0177);
	int rc = bind(fd, (const struct sockaddr *)sun, sizeof(*sun));
	int saved = errno;

	if (rc < 0 && saved == ENOENT && control_mkdir(sun->sun_path) == 0) {
		rc = bind(fd, (const struct sockaddr *)sun, sizeof(*sun));
		saved = errno;
	}
	umask(old);
	errno = saved;
	return rc;
}

/* Group, then mode, then listen; remember which file is ours. */
static int control_setup(struct vkd_control *ctl, const struct vkd_config *config,
			 const char **what)
{
	struct stat st;

	*what = "chown";
	if (ctl->gid != (gid_t)-1 && lchown(ctl->path, (uid_t)-1, ctl->gid) < 0)
		return -1;
	*what = "chmod";
	if (chmod(ctl->path, config->control_mode) < 0)
		return -1;
	*what = "stat";
	if (lstat(ctl->path, &st) < 0)
		return -1;
	ctl->dev = st.st_dev;
	ctl->ino = st.st_ino;
	*what = "listen";
	return listen(ctl->fd, CONTROL_BACKLOG);
}

static int control_listen(struct vkd_control *ctl, const struct vkd_config *config, char *err,
			  size_t size)
{
	struct sockaddr_un sun = {.sun_family = AF_UNIX};
	const char *what = "socket";
	int saved;

	if (strlen(ctl->path) >= sizeof(sun.sun_path)) {
		errno = ENAMETOOLONG;
		say(err, size, "control socket %s: path too long", ctl->path);
		return -1;
	}
	memcpy(sun.sun_path, ctl->path, strlen(ctl->path) + 1);
	if (control_clear(&sun, err, size) < 0)
		return -1;
	ctl->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (ctl->fd < 0)
		goto fail;
	what = "bind";
	if (control_bind(ctl->fd, &sun) < 0)
		goto fail;
	if (control_setup(ctl, config, &what) == 0)
		return 0;
	saved = errno;
	unlink(ctl->path);
	errno = saved;
fail:
	saved = errno;
	say(err, size, "control socket %s: %s: %s", ctl->path, what, strerror(saved));
	errno = saved;
	return -1;
}

struct vkd_control *vkd_control_open(const struct vkd_config *config,
				     const struct vkd_counters *counters,
				     const struct vkd_control_ops *ops, void *ctx, char *err,
				     size_t size)
{
	struct vkd_control *ctl = calloc(1, sizeof(*ctl));
	int saved;

	if (!ctl) {
		say(err, size, "control socket: out of memory");
		return NULL;
	}
	ctl->fd = -1;
	for (size_t i = 0; i < VKD_CONTROL_CLIENTS_MAX; i++)
		ctl->clients[i].fd = -1;
	ctl->uid = geteuid();
	ctl->gid = config->control_group ? config->control_gid : (gid_t)-1;
	ctl->counters = counters;
	ctl->ops = ops;
	ctl->ctx = ctx;
	ctl->path = strdup(config->control_path);
	if (!ctl->path) {
		say(err, size, "control socket: out of memory");
		free(ctl);
		return NULL;
	}
	if (control_listen(ctl, config, err, size) < 0) {
		saved = errno;
		if (ctl->fd >= 0)
			close(ctl->fd);
		free(ctl->path);
		free(ctl);
		errno = saved;
		return NULL;
	}
	vkd_info("control socket %s (mode %04o%s%s)", ctl->path, (unsigned)config->control_mode,
		 config->control_group ? ", group " : "",
		 config->control_group ? config->control_group : "");
	return ctl;
}

void vkd_control_close(struct vkd_control *ctl)
{
	struct stat st;

	if (!ctl)
		return;
	for (size_t i = 0; i < VKD_CONTROL_CLIENTS_MAX; i++)
		if (ctl->clients[i].state != CLIENT_FREE)
			client_end(&ctl->clients[i]);
	if (ctl->fd >= 0 && close(ctl->fd) < 0 && errno != EINTR)
		vkd_debug("control: close: %s", strerror(errno));
	/* Someone may have put another file there since: leave theirs alone. */
	if (lstat(ctl->path, &st) == 0 && st.st_dev == ctl->dev && st.st_ino == ctl->ino &&
	    unlink(ctl->path) < 0)
		vkd_warn("control socket %s: unlink: %s", ctl->path, strerror(errno));
	free(ctl->path);
	free(ctl);
}

void vkd_control_close_fds(struct vkd_control *ctl)
{
	if (!ctl)
		return;
	for (size_t i = 0; i < VKD_CONTROL_CLIENTS_MAX; i++)
		if (ctl->clients[i].state != CLIENT_FREE)
			close(ctl->clients[i].fd);
	close(ctl->fd);
}

/* ---- the master's loop ---- */

/* A waiter polls for nothing: POLLHUP, always reported, says it left. */
static short client_events(const struct client *c)
{
	switch (c->state) {
	case CLIENT_READ:
		return POLLIN;
	case CLIENT_WRITE:
		return POLLOUT;
	default:
		return 0;
	}
}

size_t vkd_control_pollfds(struct vkd_control *ctl, struct pollfd *pfd, size_t max, long now)
{
	size_t n = 0;

	if (!ctl)
		return 0;
	for (size_t i = 0; i < VKD_CONTROL_CLIENTS_MAX && n < max; i++) {
		const struct client *c = &ctl->clients[i];

		if (c->state == CLIENT_FREE)
			continue;
		pfd[n].fd = c->fd;
		pfd[n].events = client_events(c);
		pfd[n++].revents = 0;
	}
	if (n < max && ctl->pause_until_ms <= now) {
		pfd[n].fd = ctl->fd;
		pfd[n].events = POLLIN;
		pfd[n++].revents = 0;
	}
	return n;
}

static struct client *client_by_fd(struct vkd_control *ctl, int fd)
{
	for (size_t i = 0; i < VKD_CONTROL_CLIENTS_MAX; i++)
		if (ctl->clients[i].state != CLIENT_FREE && ctl->clients[i].fd == fd)
			return &ctl->clients[i];
	return NULL;
}

void vkd_control_handle(struct vkd_control *ctl, const struct pollfd *pfd, size_t count, long now)
{
	short listener = 0;

	if (!ctl)
		return;
	/* Clients first: the listener's accepts could reuse a closed client's
	 * descriptor number while its entry is still in pfd. A client ended
	 * since poll() (by a reload's end) is not found and is skipped. */
	for (size_t i = 0; i < count; i++) {
		struct client *c;

		if (pfd[i].fd == ctl->fd) {
			listener = pfd[i].revents;
			continue;
		}
		if (!pfd[i].revents)
			continue;
		c = client_by_fd(ctl, pfd[i].fd);
		if (c)
			client_event(ctl, c, pfd[i].revents, now);
	}
	if (listener & POLLIN)
		control_accept(ctl, now);
}

long vkd_control_timeout(const struct vkd_control *ctl, long now)
{
	long next = 0;

	if (!ctl)
		return -1;
	for (size_t i = 0; i < VKD_CONTROL_CLIENTS_MAX; i++) {
		const struct client *c = &ctl->clients[i];

		if (c->state != CLIENT_FREE && (!next || c->deadline_ms < next))
			next = c->deadline_ms;
	}
	if (ctl->pause_until_ms > now && (!next || ctl->pause_until_ms < next))
		next = ctl->pause_until_ms;
	if (!next)
		return -1;
	return next > now ? next - now : 0;
}

void vkd_control_timers(struct vkd_control *ctl, long now)
{
	if (!ctl)
		return;
	for (size_t i = 0; i < VKD_CONTROL_CLIENTS_MAX; i++) {
		struct client *c = &ctl->clients[i];

		if (c->state == CLIENT_FREE || c->deadline_ms > now)
			continue;
		if (c->state == CLIENT_READ) {
			vkd_debug("control: pid %ld sent no request in time", (long)c->pid);
			client_error(c, now, "no request line within %ld ms",
				     VKD_CONTROL_TIMEOUT_MS);
		} else if (c->state == CLIENT_WAIT) {
			client_error(c, now, "the reload did not report its end in time");
		} else if (c->state == CLIENT_QUERY) {
			c->query->owner = NULL;
			c->query = NULL;
			client_error(c, now, "the workers' answers did not come in time");
		} else {
			vkd_debug("control: pid %ld did not take its reply in time", (long)c->pid);
			client_end(c);
		}
	}
}

void vkd_control_reload_started(struct vkd_control *ctl, unsigned generation, long now)
{
	if (!ctl)
		return;
	for (size_t i = 0; i < VKD_CONTROL_CLIENTS_MAX; i++) {
		struct client *c = &ctl->clients[i];

		if (c->state == CLIENT_WAIT && !c->wait_ready)
			reply_generation(c, generation, "starting", now);
	}
}

void vkd_control_reload_done(struct vkd_control *ctl, unsigned generation, const char *error,
			     long now)
{
	if (!ctl)
		return;
	for (size_t i = 0; i < VKD_CONTROL_CLIENTS_MAX; i++) {
		struct client *c = &ctl->clients[i];

		if (c->state != CLIENT_WAIT)
			continue;
		if (error)
			client_error(c, now, "%s", error);
		else if (c->wait_ready)
			reply_generation(c, generation, NULL, now);
	}
}
