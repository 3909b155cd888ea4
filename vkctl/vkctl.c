/*
 * vkctl: control a running vkd through its control socket. See vkctl(8).
 *
 *	vkctl [-s SOCKET] [-c CONFIG] [--json] COMMAND [ARGS]
 *
 * One request line goes to the socket, one JSON reply line comes back
 * (the protocol is described in src/vkd/vkd_control.h). The reply is
 * printed for people (a table for `status`) or, with --json, as it came.
 *
 * Exit status: 0 when the daemon said ok, 1 when it said not ok (its error
 * on stderr) or the reply was bad or late, 2 on a usage error, 3 when the
 * socket cannot be reached.
 */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "vkctl_config.h"
#include "vkd_control.h"

enum { EXIT_NOT_OK = 1, EXIT_USAGE = 2, EXIT_CONNECT = 3 };

/* How long a reply may take: a reload's wait is bounded by the daemon
 * (60 s for the new generation), and even a reload without it answers
 * only after checking the modules (10 s each at most); everything else
 * answers at once. */
#define TIMEOUT_WAIT_MS 90000L
#define TIMEOUT_MS 10000L
/* A status of the largest daemon is well under this. */
#define REPLY_MAX ((size_t)64 << 20)
#define JSON_DEPTH_MAX 32
#define SOCKET_PATH_MAX sizeof(((struct sockaddr_un *)0)->sun_path)

struct options {
	const char *socket;
	const char *config;
	int config_given;
	int json;
	long timeout_ms;
	char request[VKD_CONTROL_LINE_MAX];
	char *command; /* first word of request, for printing */
};

static long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void usage(FILE *out)
{
	fprintf(out,
		"usage: vkctl [-s SOCKET] [-c CONFIG] [--json] COMMAND [ARGS]\n"
		"commands:\n"
		"  status              workers, their state and counters\n"
		"  reload [--wait]     start a new generation (--wait: until it serves)\n"
		"  stop                graceful stop\n"
		"  kill N [SIGNAL]     signal worker N (default TERM); it is respawned\n"
		"  version             the daemon's version\n"
		"options:\n"
		"  -s, --socket PATH   the control socket (default: the config's control key)\n"
		"  -c, --config FILE   read the socket path from FILE (default %s)\n"
		"  -j, --json          print the daemon's JSON reply as is\n"
		"  -V, --version       print vkctl's version\n"
		"  -h, --help          print this help\n",
		VKD_DEFAULT_CONFIG);
}

/* ---- the request ---- */

static int request_add(struct options *opts, const char *word)
{
	size_t len = strlen(opts->request);

	if (strpbrk(word, "\r\n")) {
		fprintf(stderr, "vkctl: an argument may not contain a line break\n");
		return -1;
	}
	/* The daemon takes VKD_CONTROL_LINE_MAX bytes, the newline included. */
	if (len + (len ? 1 : 0) + strlen(word) + 1 > VKD_CONTROL_LINE_MAX) {
		fprintf(stderr, "vkctl: the request is longer than %d bytes with its newline\n",
			VKD_CONTROL_LINE_MAX);
		return -1;
	}
	if (len)
		strcat(opts->request, " ");
	strcat(opts->request, word);
	return 0;
}

/* COMMAND [ARGS] into one line; `reload --wait` is `reload wait`. */
static int build_request(struct options *opts, int argc, char **argv)
{
	int reload = strcmp(argv[0], "reload") == 0;

	opts->command = argv[0];
	for (int i = 0; i < argc; i++) {
		const char *word = argv[i];

		if (i > 0 && strcmp(word, "--json") == 0) {
			opts->json = 1;
			continue;
		}
		if (i > 0 && reload && (strcmp(word, "--wait") == 0 || strcmp(word, "-w") == 0))
			word = "wait";
		if (request_add(opts, word) < 0)
			return -1;
	}
	opts->timeout_ms = reload ? TIMEOUT_WAIT_MS : TIMEOUT_MS;
	return 0;
}

/* ---- where the socket is ---- */

/* The config's control path, into out; -1 when the file named by -c
 * cannot be read. */
static int socket_from_config(const struct options *opts, char *out)
{
	if (vkctl_config_control(opts->config, out, SOCKET_PATH_MAX) == 0 || !opts->config_given)
		return 0;
	fprintf(stderr, "vkctl: %s: %s\n", opts->config, strerror(errno));
	return -1;
}

/* ---- talking ---- */

static int ctl_connect(const char *path, long timeout_ms)
{
	struct sockaddr_un sun = {.sun_family = AF_UNIX};
	struct timeval tv = {.tv_sec = timeout_ms / 1000, .tv_usec = timeout_ms % 1000 * 1000};
	int fd, saved;

	if (strlen(path) >= sizeof(sun.sun_path)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	memcpy(sun.sun_path, path, strlen(path) + 1);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	/* Bounds a connect() to a daemon whose queue is full, and the send. */
	if (setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)) < 0 ||
	    connect(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0) {
		saved = errno;
		close(fd);
		errno = saved;
		return -1;
	}
	return fd;
}

static int send_all(int fd, const char *data, size_t len)
{
	while (len) {
		ssize_t n = send(fd, data, len, MSG_NOSIGNAL);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		data += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Wait for fd to be readable until deadline: 1, 0 on timeout, -1. */
static int wait_readable(int fd, long deadline)
{
	struct pollfd pfd = {.fd = fd, .events = POLLIN};
	long left = deadline - now_ms();
	int rc;

	if (left <= 0)
		return 0;
	do
		rc = poll(&pfd, 1, (int)left);
	while (rc < 0 && errno == EINTR);
	return rc;
}

/* A growing buffer for the reply. */
struct buf {
	char *data;
	size_t len;
	size_t size;
};

static int buf_room(struct buf *b)
{
	size_t size = b->size ? b->size * 2 : 4096;
	char *data;

	if (b->len + 1 < b->size)
		return 0;
	if (size > REPLY_MAX) {
		errno = EMSGSIZE;
		return -1;
	}
	data = realloc(b->data, size);
	if (!data)
		return -1;
	b->data = data;
	b->size = size;
	return 0;
}

/* Read one line (or up to EOF). 1 when a line came, 0 on timeout, -1. */
static int read_reply(int fd, struct buf *b, long deadline)
{
	for (;;) {
		ssize_t n;
		int rc;

		if (buf_room(b) < 0)
			return -1;
		rc = wait_readable(fd, deadline);
		if (rc <= 0)
			return rc;
		n = recv(fd, b->data + b->len, b->size - b->len - 1, 0);
		if (n < 0 && errno == EINTR)
			continue;
		/* Reset after the reply: the daemon closed with our bytes unread. */
		if (n < 0 && errno == ECONNRESET && b->len)
			n = 0;
		if (n < 0)
			return -1;
		b->data[b->len + (size_t)n] = '\0';
		if (n == 0 || memchr(b->data + b->len, '\n', (size_t)n)) {
			b->len += (size_t)n;
			return 1;
		}
		b->len += (size_t)n;
	}
}

/* ---- a small JSON reader: the daemon's replies, nothing more ---- */

enum jtype { J_NULL, J_FALSE, J_TRUE, J_NUMBER, J_STRING, J_ARRAY, J_OBJECT };

struct jval {
	enum jtype type;
	char *key;	    /* a member's name */
	char *text;	    /* J_STRING decoded, J_NUMBER as written */
	struct jval *child; /* elements or members */
	struct jval *next;
};

struct jparser {
	const char *p;
	const char *end;
	int depth;
};

static void jfree(struct jval *v)
{
	while (v) {
		struct jval *next = v->next;

		jfree(v->child);
		free(v->key);
		free(v->text);
		free(v);
		v = next;
	}
}

static void jp_ws(struct jparser *jp)
{
	while (jp->p < jp->end &&
	       (*jp->p == ' ' || *jp->p == '\t' || *jp->p == '\n' || *jp->p == '\r'))
		jp->p++;
}

static int hex4(const char *p, unsigned *out)
{
	unsigned v = 0;

	for (int i = 0; i < 4; i++) {
		char c = p[i];

		v <<= 4;
		if (c >= '0' && c <= '9')
			v |= (unsigned)(c - '0');
		else if (c >= 'a' && c <= 'f')
			v |= (unsigned)(c - 'a' + 10);
		else if (c >= 'A' && c <= 'F')
			v |= (unsigned)(c - 'A' + 10);
		else
			return -1;
	}
	*out = v;
	return 0;
}

static size_t utf8_put(char *out, unsigned cp)
{
	if (cp < 0x80) {
		out[0] = (char)cp;
		return 1;
	}
	if (cp < 0x800) {
		out[0] = (char)(0xc0 | cp >> 6);
		out[1] = (char)(0x80 | (cp & 0x3f));
		return 2;
	}
	if (cp < 0x10000) {
		out[0] = (char)(0xe0 | cp >> 12);
		out[1] = (char)(0x80 | (cp >> 6 & 0x3f));
		out[2] = (char)(0x80 | (cp & 0x3f));
		return 3;
	}
	out[0] = (char)(0xf0 | cp >> 18);
	out[1] = (char)(0x80 | (cp >> 12 & 0x3f));
	out[2] = (char)(0x80 | (cp >> 6 & 0x3f));
	out[3] = (char)(0x80 | (cp & 0x3f));
	return 4;
}

/* \uXXXX at p (after the backslash-u), with a surrogate pair's second half. */
static int jp_unicode(struct jparser *jp, unsigned *cp)
{
	unsigned lo;

	if (jp->end - jp->p < 4 || hex4(jp->p, cp) < 0)
		return -1;
	jp->p += 4;
	if (*cp < 0xd800 || *cp > 0xdfff)
		return 0;
	/* A lone or reversed surrogate becomes U+FFFD rather than an error. */
	if (*cp <= 0xdbff && jp->end - jp->p >= 6 && jp->p[0] == '\\' && jp->p[1] == 'u' &&
	    hex4(jp->p + 2, &lo) == 0 && lo >= 0xdc00 && lo <= 0xdfff) {
		*cp = 0x10000 + ((*cp - 0xd800) << 10) + (lo - 0xdc00);
		jp->p += 6;
		return 0;
	}
	*cp = 0xfffd;
	return 0;
}

/*
 * Control characters other than newline and tab (C0, DEL, C1) that a reply
 * carries are shown as '?': they end on a terminal, where an escape
 * sequence quoted back from a config file must not act.
 */
static int terminal_control(unsigned cp)
{
	return (cp < 0x20 && cp != '\n' && cp != '\t') || (cp >= 0x7f && cp < 0xa0);
}

static int jp_escape(struct jparser *jp, char *out, size_t *len)
{
	static const char from[] = "\"\\/bfnrt", to[] = "\"\\/??\n?\t";
	const char *hit;
	unsigned cp;

	if (jp->p >= jp->end)
		return -1;
	if (*jp->p == 'u') {
		jp->p++;
		if (jp_unicode(jp, &cp) < 0)
			return -1;
		*len += utf8_put(out + *len, terminal_control(cp) ? '?' : cp);
		return 0;
	}
	hit = strchr(from, *jp->p);
	if (!hit || !*jp->p)
		return -1;
	out[(*len)++] = to[hit - from];
	jp->p++;
	return 0;
}

/* A string at jp->p (on its opening quote), decoded into a new buffer. */
static char *jp_string(struct jparser *jp)
{
	/* Decoding never grows the text: an escape of k bytes yields <= k. */
	char *out = malloc((size_t)(jp->end - jp->p) + 1);
	size_t len = 0;

	if (!out)
		return NULL;
	jp->p++;
	while (jp->p < jp->end && *jp->p != '"') {
		unsigned char c = (unsigned char)*jp->p;

		if (c < 0x20)
			goto bad;
		if (c == 0x7f ||
		    (c == 0xc2 && jp->end - jp->p >= 2 && (unsigned char)jp->p[1] >= 0x80 &&
		     (unsigned char)jp->p[1] < 0xa0)) {
			/* DEL or a C1 control sent raw: see terminal_control(). */
			out[len++] = '?';
			jp->p += c == 0x7f ? 1 : 2;
			continue;
		}
		if (c != '\\') {
			out[len++] = (char)c;
			jp->p++;
			continue;
		}
		jp->p++;
		if (jp_escape(jp, out, &len) < 0)
			goto bad;
	}
	if (jp->p >= jp->end)
		goto bad;
	jp->p++;
	out[len] = '\0';
	return out;
bad:
	free(out);
	return NULL;
}

static int digits(struct jparser *jp)
{
	const char *start = jp->p;

	while (jp->p < jp->end && *jp->p >= '0' && *jp->p <= '9')
		jp->p++;
	return jp->p > start ? 0 : -1;
}

/* -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)? kept as text. */
static char *jp_number(struct jparser *jp)
{
	const char *start = jp->p;
	char *text;

	if (jp->p < jp->end && *jp->p == '-')
		jp->p++;
	if (jp->p < jp->end && *jp->p == '0')
		jp->p++;
	else if (digits(jp) < 0)
		return NULL;
	if (jp->p < jp->end && *jp->p == '.' && (jp->p++, digits(jp) < 0))
		return NULL;
	if (jp->p < jp->end && (*jp->p == 'e' || *jp->p == 'E')) {
		jp->p++;
		if (jp->p < jp->end && (*jp->p == '+' || *jp->p == '-'))
			jp->p++;
		if (digits(jp) < 0)
			return NULL;
	}
	text = strndup(start, (size_t)(jp->p - start));
	return text;
}

static struct jval *jp_value(struct jparser *jp);

/* Elements or members up to `close`; members have keys. */
static int jp_items(struct jparser *jp, struct jval *parent, char close)
{
	struct jval **tail = &parent->child;
	int object = close == '}';

	jp->p++;
	jp_ws(jp);
	if (jp->p < jp->end && *jp->p == close) {
		jp->p++;
		return 0;
	}
	for (;;) {
		char *key = NULL;
		struct jval *v;

		jp_ws(jp);
		if (object) {
			if (jp->p >= jp->end || *jp->p != '"' || !(key = jp_string(jp)))
				return -1;
			jp_ws(jp);
			if (jp->p >= jp->end || *jp->p++ != ':') {
				free(key);
				return -1;
			}
		}
		v = jp_value(jp);
		if (!v) {
			free(key);
			return -1;
		}
		v->key = key;
		*tail = v;
		tail = &v->next;
		jp_ws(jp);
		if (jp->p < jp->end && *jp->p == ',') {
			jp->p++;
			continue;
		}
		if (jp->p < jp->end && *jp->p == close) {
			jp->p++;
			return 0;
		}
		return -1;
	}
}

static int jp_literal(struct jparser *jp, const char *word)
{
	size_t len = strlen(word);

	if ((size_t)(jp->end - jp->p) < len || memcmp(jp->p, word, len) != 0)
		return -1;
	jp->p += len;
	return 0;
}

static int jp_fill(struct jparser *jp, struct jval *v)
{
	char c = *jp->p;

	switch (c) {
	case '{':
	case '[':
		v->type = c == '{' ? J_OBJECT : J_ARRAY;
		if (++jp->depth > JSON_DEPTH_MAX)
			return -1;
		if (jp_items(jp, v, c == '{' ? '}' : ']') < 0)
			return -1;
		jp->depth--;
		return 0;
	case '"':
		v->type = J_STRING;
		v->text = jp_string(jp);
		return v->text ? 0 : -1;
	case 't':
		v->type = J_TRUE;
		return jp_literal(jp, "true");
	case 'f':
		v->type = J_FALSE;
		return jp_literal(jp, "false");
	case 'n':
		v->type = J_NULL;
		return jp_literal(jp, "null");
	default:
		v->type = J_NUMBER;
		v->text = jp_number(jp);
		return v->text ? 0 : -1;
	}
}

static struct jval *jp_value(struct jparser *jp)
{
	struct jval *v;

	jp_ws(jp);
	if (jp->p >= jp->end)
		return NULL;
	v = calloc(1, sizeof(*v));
	if (!v)
		return NULL;
	if (jp_fill(jp, v) < 0) {
		jfree(v);
		return NULL;
	}
	return v;
}

/* The one value in text[0..len), or NULL if it is not exactly that. */
static struct jval *json_parse(const char *text, size_t len)
{
	struct jparser jp = {.p = text, .end = text + len};
	struct jval *v = jp_value(&jp);

	jp_ws(&jp);
	if (v && jp.p != jp.end) {
		jfree(v);
		return NULL;
	}
	return v;
}

static const struct jval *jget(const struct jval *obj, const char *key)
{
	if (!obj || obj->type != J_OBJECT)
		return NULL;
	for (const struct jval *m = obj->child; m; m = m->next)
		if (strcmp(m->key, key) == 0)
			return m;
	return NULL;
}

static const char *jstr(const struct jval *obj, const char *key, const char *fallback)
{
	const struct jval *v = jget(obj, key);

	return v && v->type == J_STRING ? v->text : fallback;
}

/* A non-negative integer member; 0 when missing or not one. */
static uint64_t ju64(const struct jval *obj, const char *key)
{
	const struct jval *v = jget(obj, key);
	unsigned long long n;
	char *end;

	if (!v || v->type != J_NUMBER || v->text[0] == '-')
		return 0;
	errno = 0;
	n = strtoull(v->text, &end, 10);
	return *end || errno ? 0 : (uint64_t)n;
}

static int jtrue(const struct jval *obj, const char *key)
{
	const struct jval *v = jget(obj, key);

	return v && v->type == J_TRUE;
}

/* ---- printing ---- */

static void format_bytes(uint64_t n, char *out, size_t size)
{
	static const char units[] = "KMGTPE";
	double v = (double)n;
	int u = -1;

	if (n < 1024) {
		snprintf(out, size, "%llu", (unsigned long long)n);
		return;
	}
	while (v >= 1024 && u < 5) {
		v /= 1024;
		u++;
	}
	snprintf(out, size, "%.1f%c", v, units[u]);
}

static void format_uptime(uint64_t s, char *out, size_t size)
{
	unsigned long long d = s / 86400, h = s / 3600 % 24, m = s / 60 % 60, sec = s % 60;

	if (d)
		snprintf(out, size, "%llud%02lluh%02llum", d, h, m);
	else if (h)
		snprintf(out, size, "%lluh%02llum%02llus", h, m, sec);
	else if (m)
		snprintf(out, size, "%llum%02llus", m, sec);
	else
		snprintf(out, size, "%llus", sec);
}

#define ROW_FORMAT "%-7s %-4s %-8s %-9s %8s %7s %10s %6s %7s %8s %8s\n"

static void print_row(const struct jval *w, const char *index, const char *gen, const char *pid,
		      const char *state)
{
	char restarts[24], conns[24], total[24], faults[24], refused[24], in[16], out[16];

	snprintf(restarts, sizeof(restarts), "%llu", (unsigned long long)ju64(w, "restarts"));
	snprintf(conns, sizeof(conns), "%llu", (unsigned long long)ju64(w, "connections"));
	snprintf(total, sizeof(total), "%llu", (unsigned long long)ju64(w, "connections_total"));
	snprintf(faults, sizeof(faults), "%llu", (unsigned long long)ju64(w, "faults"));
	snprintf(refused, sizeof(refused), "%llu", (unsigned long long)ju64(w, "refused"));
	format_bytes(ju64(w, "bytes_in"), in, sizeof(in));
	format_bytes(ju64(w, "bytes_out"), out, sizeof(out));
	printf(ROW_FORMAT, index, gen, pid, state, restarts, conns, total, faults, refused, in,
	       out);
}

static void print_worker(const struct jval *w)
{
	char index[24], gen[24], pid[24];

	snprintf(index, sizeof(index), "%llu", (unsigned long long)ju64(w, "index"));
	snprintf(gen, sizeof(gen), "%llu", (unsigned long long)ju64(w, "generation"));
	snprintf(pid, sizeof(pid), "%llu", (unsigned long long)ju64(w, "pid"));
	print_row(w, index, gen, pid, jstr(w, "state", "?"));
}

static void print_status(const struct jval *reply)
{
	const struct jval *workers = jget(reply, "workers");
	const struct jval *totals = jget(reply, "totals");
	uint64_t reloading = ju64(reply, "reloading");
	char uptime[32], ready[32];

	format_uptime(ju64(reply, "uptime_s"), uptime, sizeof(uptime));
	printf("vkd %s, pid %llu, generation %llu, up %s", jstr(reply, "version", "?"),
	       (unsigned long long)ju64(reply, "pid"),
	       (unsigned long long)ju64(reply, "generation"), uptime);
	if (reloading)
		printf(", reloading to generation %llu", (unsigned long long)reloading);
	if (jtrue(reply, "stopping"))
		printf(", stopping");
	printf("\n");
	printf(ROW_FORMAT, "WORKER", "GEN", "PID", "STATE", "RESTARTS", "CONNS", "TOTAL", "FAULTS",
	       "REFUSED", "IN", "OUT");
	if (workers && workers->type == J_ARRAY)
		for (const struct jval *w = workers->child; w; w = w->next)
			print_worker(w);
	if (!totals)
		return;
	snprintf(ready, sizeof(ready), "%llu ready", (unsigned long long)ju64(totals, "ready"));
	print_row(totals, "total", "", "", ready);
}

/* The daemon's message, one "vkctl: " line per line of it. */
static void print_error(const char *error)
{
	const char *line = error;

	for (;;) {
		const char *nl = strchr(line, '\n');
		int len = nl ? (int)(nl - line) : (int)strlen(line);

		fprintf(stderr, "vkctl: %.*s\n", len, line);
		if (!nl)
			return;
		line = nl + 1;
	}
}

static void print_reply(const struct options *opts, const struct jval *reply, const char *raw)
{
	const char *cmd = opts->command;

	if (strcmp(cmd, "status") == 0) {
		print_status(reply);
	} else if (strcmp(cmd, "reload") == 0) {
		unsigned long long gen = (unsigned long long)ju64(reply, "generation");

		if (jget(reply, "state"))
			printf("reload started: generation %llu is starting\n", gen);
		else
			printf("reloaded: generation %llu serves\n", gen);
	} else if (strcmp(cmd, "stop") == 0) {
		printf("vkd is stopping\n");
	} else if (strcmp(cmd, "kill") == 0) {
		printf("SIG%s sent to worker %llu (pid %llu)\n", jstr(reply, "signal", "?"),
		       (unsigned long long)ju64(reply, "worker"),
		       (unsigned long long)ju64(reply, "pid"));
	} else if (strcmp(cmd, "version") == 0) {
		printf("vkd %s\n", jstr(reply, "version", "?"));
	} else {
		puts(raw);
	}
}

/* The reply into an exit status, printing it as asked. */
static int handle_reply(const struct options *opts, const char *path, struct buf *b)
{
	struct jval *reply;
	const struct jval *ok;
	int status;

	if (b->len && b->data[b->len - 1] == '\n')
		b->len--;
	b->data[b->len] = '\0';
	reply = json_parse(b->data, b->len);
	ok = jget(reply, "ok");
	if (!ok || (ok->type != J_TRUE && ok->type != J_FALSE)) {
		fprintf(stderr, "vkctl: %s: not a reply: '%.200s'\n", path, b->data);
		jfree(reply);
		return EXIT_NOT_OK;
	}
	status = ok->type == J_TRUE ? EXIT_SUCCESS : EXIT_NOT_OK;
	if (opts->json)
		printf("%s\n", b->data);
	else if (status == EXIT_SUCCESS)
		print_reply(opts, reply, b->data);
	if (status != EXIT_SUCCESS)
		print_error(jstr(reply, "error", "the daemon said no, without a reason"));
	jfree(reply);
	return status;
}

static int exchange(const struct options *opts, const char *path)
{
	char line[VKD_CONTROL_LINE_MAX + 1];
	struct buf b = {0};
	long deadline;
	int fd, rc;

	fd = ctl_connect(path, opts->timeout_ms);
	if (fd < 0) {
		fprintf(stderr, "vkctl: cannot connect to %s: %s\n", path, strerror(errno));
		return EXIT_CONNECT;
	}
	deadline = now_ms() + opts->timeout_ms;
	snprintf(line, sizeof(line), "%s\n", opts->request);
	/* EPIPE: refused at once (permissions), the reason is waiting unread. */
	if (send_all(fd, line, strlen(line)) < 0 && errno != EPIPE && errno != ECONNRESET) {
		fprintf(stderr, "vkctl: %s: sending: %s\n", path, strerror(errno));
		close(fd);
		return EXIT_NOT_OK;
	}
	rc = read_reply(fd, &b, deadline);
	close(fd);
	if (rc <= 0) {
		if (rc == 0)
			fprintf(stderr, "vkctl: %s: no reply within %ld s\n", path,
				opts->timeout_ms / 1000);
		else
			fprintf(stderr, "vkctl: %s: reading the reply: %s\n", path,
				strerror(errno));
		free(b.data);
		return EXIT_NOT_OK;
	}
	if (b.len)
		rc = handle_reply(opts, path, &b);
	else
		fprintf(stderr, "vkctl: %s: the daemon closed without a reply\n", path);
	free(b.data);
	return rc;
}

/* ---- main ---- */

/* Returns -1 to go on, else an exit status. */
static int parse_options(int argc, char **argv, struct options *opts)
{
	static const struct option longs[] = {
	    {"socket", required_argument, NULL, 's'}, {"config", required_argument, NULL, 'c'},
	    {"json", no_argument, NULL, 'j'},	      {"help", no_argument, NULL, 'h'},
	    {"version", no_argument, NULL, 'V'},      {NULL, 0, NULL, 0},
	};
	int c;

	opts->config = VKD_DEFAULT_CONFIG;
	opterr = 0;
	/* "+": options end at the command, so `kill 2 -9`-like words pass. */
	while ((c = getopt_long(argc, argv, "+:s:c:jhV", longs, NULL)) != -1) {
		switch (c) {
		case 's':
			opts->socket = optarg;
			break;
		case 'c':
			opts->config = optarg;
			opts->config_given = 1;
			break;
		case 'j':
			opts->json = 1;
			break;
		case 'h':
			usage(stdout);
			return EXIT_SUCCESS;
		case 'V':
			printf("vkctl (%s) %s\n", PACKAGE_NAME, PACKAGE_VERSION);
			return EXIT_SUCCESS;
		case ':':
			fprintf(stderr, "vkctl: option %s needs an argument\n", argv[optind - 1]);
			usage(stderr);
			return EXIT_USAGE;
		default:
			if (optopt)
				fprintf(stderr, "vkctl: unknown option -%c\n", optopt);
			else
				fprintf(stderr, "vkctl: unknown option %s\n", argv[optind - 1]);
			usage(stderr);
			return EXIT_USAGE;
		}
	}
	if (optind >= argc) {
		fprintf(stderr, "vkctl: no command\n");
		usage(stderr);
		return EXIT_USAGE;
	}
	if (build_request(opts, argc - optind, argv + optind) < 0)
		return EXIT_USAGE;
	return -1;
}

int main(int argc, char **argv)
{
	struct options opts = {0};
	char path[SOCKET_PATH_MAX];
	int rc;

	rc = parse_options(argc, argv, &opts);
	if (rc >= 0)
		return rc;
	if (opts.socket)
		snprintf(path, sizeof(path), "%s", opts.socket);
	else if (socket_from_config(&opts, path) < 0)
		return EXIT_USAGE;
	if (opts.socket && strlen(opts.socket) >= sizeof(path)) {
		fprintf(stderr, "vkctl: socket path too long: %s\n", opts.socket);
		return EXIT_USAGE;
	}
	return exchange(&opts, path);
}
