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
#include <jansson.h>
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
 * (10 s for the check, 60 s for the new generation, 30 s for the old one
 * to stop accepting, 110 s if it never reports), and even a reload
 * without it answers only after checking the modules (10 s at most for
 * all of them); everything else answers at once. */
#define TIMEOUT_WAIT_MS 120000L
#define TIMEOUT_MS 10000L
/* A status of the largest daemon is well under this. */
#define REPLY_MAX ((size_t)64 << 20)
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
		"  ps [N]              every micro-process of every worker, or of worker N\n"
		"  kill W/ID           end micro-process ID of worker W (as ps shows them)\n"
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

/* ---- reading the reply ---- */

/*
 * Control characters other than newline and tab (C0, DEL, C1) in a string
 * become '?': they end on a terminal, where an escape sequence quoted back
 * from a config file must not act. jansson keeps strings valid UTF-8, so
 * a C1 control is the two bytes C2 80..C2 9F. Returns the new length.
 */
static size_t terminal_safe(char *s, size_t len)
{
	size_t out = 0;

	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == 0xc2 && i + 1 < len && (unsigned char)s[i + 1] < 0xa0) {
			c = '?';
			i++;
		} else if ((c < 0x20 && c != '\n' && c != '\t') || c == 0x7f) {
			c = '?';
		}
		s[out++] = (char)c;
	}
	return out;
}

/* A string member, made safe for a terminal; fallback when missing. */
static const char *jstr(json_t *obj, const char *key, const char *fallback)
{
	json_t *v = json_object_get(obj, key);
	size_t len;
	char *copy;

	if (!json_is_string(v))
		return fallback;
	/* With JSON_ALLOW_NUL the string may hold "\u0000": copy by length. */
	len = json_string_length(v);
	copy = malloc(len + 1);
	if (!copy)
		return fallback;
	memcpy(copy, json_string_value(v), len);
	len = terminal_safe(copy, len);
	if (json_string_setn_nocheck(v, copy, len) < 0) {
		free(copy);
		return fallback;
	}
	free(copy);
	return json_string_value(v);
}

/* A non-negative integer member; 0 when missing or not one. */
static uint64_t ju64(const json_t *obj, const char *key)
{
	const json_t *v = json_object_get(obj, key);

	if (!json_is_integer(v) || json_integer_value(v) < 0)
		return 0;
	return (uint64_t)json_integer_value(v);
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

#define ROW_FORMAT "%-7s %-4s %-8s %-9s %8s %7s %10s %6s %5s %7s %8s %8s\n"

static void print_row(json_t *w, const char *index, const char *gen, const char *pid,
		      const char *state)
{
	char restarts[24], conns[24], total[24], faults[24], wdog[24], refused[24], in[16], out[16];

	snprintf(restarts, sizeof(restarts), "%llu", (unsigned long long)ju64(w, "restarts"));
	snprintf(conns, sizeof(conns), "%llu", (unsigned long long)ju64(w, "connections"));
	snprintf(total, sizeof(total), "%llu", (unsigned long long)ju64(w, "connections_total"));
	snprintf(faults, sizeof(faults), "%llu", (unsigned long long)ju64(w, "faults"));
	snprintf(wdog, sizeof(wdog), "%llu", (unsigned long long)ju64(w, "watchdog"));
	snprintf(refused, sizeof(refused), "%llu", (unsigned long long)ju64(w, "refused"));
	format_bytes(ju64(w, "bytes_in"), in, sizeof(in));
	format_bytes(ju64(w, "bytes_out"), out, sizeof(out));
	printf(ROW_FORMAT, index, gen, pid, state, restarts, conns, total, faults, wdog, refused,
	       in, out);
}

static void print_worker(json_t *w)
{
	char index[24], gen[24], pid[24];

	snprintf(index, sizeof(index), "%llu", (unsigned long long)ju64(w, "index"));
	snprintf(gen, sizeof(gen), "%llu", (unsigned long long)ju64(w, "generation"));
	snprintf(pid, sizeof(pid), "%llu", (unsigned long long)ju64(w, "pid"));
	print_row(w, index, gen, pid, jstr(w, "state", "?"));
}

/* One line for channels, services, publish/subscribe and links, all workers. */
static void print_messaging(json_t *t)
{
	char bytes[16], in[16], out[16];

	format_bytes(ju64(t, "channel_bytes"), bytes, sizeof(bytes));
	format_bytes(ju64(t, "link_bytes_in"), in, sizeof(in));
	format_bytes(ju64(t, "link_bytes_out"), out, sizeof(out));
	printf("messaging: %llu services, %llu service restarts, %llu channels, %s channel "
	       "bytes, %llu messages, %llu delivered, %llu dropped, links %s in, %s out\n",
	       (unsigned long long)ju64(t, "services"),
	       (unsigned long long)ju64(t, "service_restarts"),
	       (unsigned long long)ju64(t, "channels"), bytes,
	       (unsigned long long)ju64(t, "messages"), (unsigned long long)ju64(t, "deliveries"),
	       (unsigned long long)ju64(t, "drops"), in, out);
}

#define APP_FORMAT "%-16s %7s %10s %6s %5s %6s %6s %7s %8s\n"

/* Counters by app, for the life of the daemon. */
static void print_apps(json_t *apps)
{
	static const char *const keys[] = {
	    "connections", "connections_total", "faults",  "watchdog",
	    "killed",	   "app_errors",	"refused", "access_log_drops"};
	char num[8][24];
	json_t *a;
	size_t i;

	if (!json_array_size(apps))
		return;
	printf("\n" APP_FORMAT, "APP", "CONNS", "TOTAL", "FAULTS", "WDOG", "KILLED", "ERRORS",
	       "REFUSED", "LOGDROPS");
	json_array_foreach(apps, i, a)
	{
		for (size_t k = 0; k < 8; k++)
			snprintf(num[k], sizeof(num[k]), "%llu",
				 (unsigned long long)ju64(a, keys[k]));
		printf(APP_FORMAT, jstr(a, "name", "?"), num[0], num[1], num[2], num[3], num[4],
		       num[5], num[6], num[7]);
	}
}

static void print_status(json_t *reply)
{
	json_t *workers = json_object_get(reply, "workers");
	json_t *totals = json_object_get(reply, "totals");
	json_t *w;
	size_t i;
	uint64_t reloading = ju64(reply, "reloading");
	char uptime[32], ready[32];

	format_uptime(ju64(reply, "uptime_s"), uptime, sizeof(uptime));
	printf("vkd %s, pid %llu, generation %llu, up %s", jstr(reply, "version", "?"),
	       (unsigned long long)ju64(reply, "pid"),
	       (unsigned long long)ju64(reply, "generation"), uptime);
	if (reloading)
		printf(", reloading to generation %llu", (unsigned long long)reloading);
	if (json_is_true(json_object_get(reply, "checking")))
		printf(", reloading: checking the modules");
	if (json_is_true(json_object_get(reply, "stopping")))
		printf(", stopping");
	printf("\n");
	printf(ROW_FORMAT, "WORKER", "GEN", "PID", "STATE", "RESTARTS", "CONNS", "TOTAL", "FAULTS",
	       "WDOG", "REFUSED", "IN", "OUT");
	json_array_foreach(workers, i, w) print_worker(w);
	if (!totals)
		return;
	snprintf(ready, sizeof(ready), "%llu ready", (unsigned long long)ju64(totals, "ready"));
	print_row(totals, "total", "", "", ready);
	print_messaging(totals);
	print_apps(json_object_get(reply, "apps"));
}

/* 12345 s as "3h25m", "5m45s", "12.3s": short, for a table. */
static void format_age(double s, char *out, size_t size)
{
	if (s < 60)
		snprintf(out, size, "%.1fs", s);
	else
		format_uptime((uint64_t)s, out, size);
}

static double jdouble(const json_t *obj, const char *key, double fallback)
{
	const json_t *v = json_object_get(obj, key);

	return json_is_number(v) ? json_number_value(v) : fallback;
}

#define PS_FORMAT "%-6s %-4s %8s %-12s %-22s %8s %-8s %15s %8s %8s %8s\n"

static void print_proc(json_t *p)
{
	char w[24], gen[24], id[24], age[32], last[32], used[16], mapped[16], heap[40], in[16],
	    out[16];

	snprintf(w, sizeof(w), "%llu", (unsigned long long)ju64(p, "worker"));
	snprintf(gen, sizeof(gen), "%llu", (unsigned long long)ju64(p, "generation"));
	snprintf(id, sizeof(id), "%llu", (unsigned long long)ju64(p, "id"));
	format_age(jdouble(p, "age_s", 0), age, sizeof(age));
	if (json_object_get(p, "last_run_s"))
		format_age(jdouble(p, "last_run_s", 0), last, sizeof(last));
	else
		snprintf(last, sizeof(last), "-");
	format_bytes(ju64(p, "heap_used"), used, sizeof(used));
	format_bytes(ju64(p, "heap_mapped"), mapped, sizeof(mapped));
	snprintf(heap, sizeof(heap), "%s/%s", used, mapped);
	format_bytes(ju64(p, "bytes_in"), in, sizeof(in));
	format_bytes(ju64(p, "bytes_out"), out, sizeof(out));
	printf(PS_FORMAT, w, gen, id, jstr(p, "app", "?"), jstr(p, "peer", "?"), age,
	       jstr(p, "state", "?"), heap, in, out, last);
}

/* One row per micro-process; a worker that did not answer on stderr. */
static void print_ps(json_t *reply)
{
	json_t *procs = json_object_get(reply, "procs");
	json_t *workers = json_object_get(reply, "workers");
	json_t *x;
	size_t i;

	printf(PS_FORMAT, "WORKER", "GEN", "ID", "APP", "PEER", "AGE", "STATE", "HEAP", "IN", "OUT",
	       "LAST");
	json_array_foreach(procs, i, x) print_proc(x);
	json_array_foreach(workers, i, x)
	{
		if (!json_is_true(json_object_get(x, "answered")))
			fprintf(stderr,
				"vkctl: worker %llu (gen %llu, pid %llu) did not answer: %s\n",
				(unsigned long long)ju64(x, "index"),
				(unsigned long long)ju64(x, "generation"),
				(unsigned long long)ju64(x, "pid"), jstr(x, "error", "?"));
	}
	if (json_is_true(json_object_get(reply, "truncated")))
		fprintf(stderr, "vkctl: too many micro-processes: the list is cut short\n");
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

static void print_reply(const struct options *opts, json_t *reply, const char *raw)
{
	const char *cmd = opts->command;

	if (strcmp(cmd, "status") == 0) {
		print_status(reply);
	} else if (strcmp(cmd, "reload") == 0) {
		unsigned long long gen = (unsigned long long)ju64(reply, "generation");

		if (json_object_get(reply, "state"))
			printf("reload started: generation %llu is starting\n", gen);
		else
			printf("reloaded: generation %llu serves\n", gen);
	} else if (strcmp(cmd, "stop") == 0) {
		printf("vkd is stopping\n");
	} else if (strcmp(cmd, "ps") == 0) {
		print_ps(reply);
	} else if (strcmp(cmd, "kill") == 0 && json_object_get(reply, "id")) {
		printf("micro-process %llu/%llu ended (worker pid %llu)\n",
		       (unsigned long long)ju64(reply, "worker"),
		       (unsigned long long)ju64(reply, "id"),
		       (unsigned long long)ju64(reply, "pid"));
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
	json_error_t error;
	json_t *reply;
	json_t *ok;
	int status;

	if (b->len && b->data[b->len - 1] == '\n')
		b->len--;
	b->data[b->len] = '\0';
	reply = json_loadb(b->data, b->len, JSON_ALLOW_NUL, &error);
	ok = json_object_get(reply, "ok");
	if (!json_is_boolean(ok)) {
		fprintf(stderr, "vkctl: %s: not a reply: '%.200s'\n", path, b->data);
		json_decref(reply);
		return EXIT_NOT_OK;
	}
	status = json_is_true(ok) ? EXIT_SUCCESS : EXIT_NOT_OK;
	if (opts->json)
		printf("%s\n", b->data);
	else if (status == EXIT_SUCCESS)
		print_reply(opts, reply, b->data);
	if (status != EXIT_SUCCESS)
		print_error(jstr(reply, "error", "the daemon said no, without a reason"));
	json_decref(reply);
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
