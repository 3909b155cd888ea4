/*
 * chat-load: the load client of tests/bench/chat (see there). One thread,
 * epoll: M members subscribe to a room, S senders each publish N messages
 * at a fixed total rate; every delivery is counted and timed.
 *
 *   chat-load --proto chat|resp --port P [--members M] [--senders S]
 *             [--messages N] [--rate R] [--timeout SEC] [--pids PID,...]
 *
 * chat: the bundled chat app (lines; a member told "* K lines dropped"
 * counts K drops). resp: redis-server, SUBSCRIBE room / PUBLISH room.
 * A message is "#S:SEQ:NS", NS the sender's CLOCK_MONOTONIC in ns when it
 * wrote it (one clock for the whole machine), so each delivery's latency
 * is the receiver's clock minus NS. The RSS of the server processes
 * (--pids) is read from /proc before the members connect, once all are
 * subscribed and at the end. Prints one JSON object; exit 0 even with
 * losses (the JSON says), 1 on a setup failure or the timeout.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAX_PIDS 16
#define RBUF 65536

struct peer {
	int fd;
	int sender; /* index among the senders, or -1 for a member */
	int ready;  /* subscribed (resp) / saw every sender's rename (chat) */
	uint64_t got;
	uint64_t dropped;
	uint32_t *next_seq; /* per sender: the next sequence number expected */
	uint64_t reordered;
	size_t len;
	char buf[RBUF];
};

static struct {
	int resp;
	int port;
	int members, senders, messages;
	double rate, timeout;
	int pids[MAX_PIDS];
	int npids;
} opt = {.members = 1000, .senders = 10, .messages = 500, .rate = 1000, .timeout = 120};

static struct peer *peers;
static uint32_t *lat_us;
static uint64_t nlat, maxlat;
static uint64_t last_delivery_ns;

static void die(const char *what)
{
	fprintf(stderr, "chat-load: %s: %s\n", what, strerror(errno));
	exit(1);
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* Total VmRSS of the --pids, in KiB. */
static long rss_kib(void)
{
	long total = 0;

	for (int i = 0; i < opt.npids; i++) {
		char path[64], line[256];
		FILE *f;

		snprintf(path, sizeof(path), "/proc/%d/status", opt.pids[i]);
		f = fopen(path, "r");
		if (!f)
			continue;
		while (fgets(line, sizeof(line), f))
			if (strncmp(line, "VmRSS:", 6) == 0)
				total += atol(line + 6);
		fclose(f);
	}
	return total;
}

static int dial(void)
{
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)opt.port)};
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	int one = 1;

	if (fd < 0)
		die("socket");
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		die("connect");
	if (setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)) < 0)
		die("TCP_NODELAY");
	return fd;
}

static void send_all(int fd, const char *buf, size_t len)
{
	while (len) {
		ssize_t n = write(fd, buf, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			die("write");
		buf += n;
		len -= (size_t)n;
	}
}

static void on_message(struct peer *p, const char *m, uint64_t at)
{
	unsigned s, seq;
	uint64_t ns, us;

	if (sscanf(m, "#%u:%u:%" SCNu64, &s, &seq, &ns) != 3 || s >= (unsigned)opt.senders)
		return;
	if (p->sender >= 0)
		return;
	p->got++;
	if (seq != p->next_seq[s])
		p->reordered++;
	p->next_seq[s] = seq + 1;
	us = at > ns ? (at - ns) / 1000 : 0;
	if (us > maxlat)
		maxlat = us;
	if (nlat < (uint64_t)opt.members * opt.senders * opt.messages)
		lat_us[nlat++] = us > UINT32_MAX ? UINT32_MAX : (uint32_t)us;
	last_delivery_ns = at;
}

/* One line (without its newline) of what the server sent. */
static void on_line(struct peer *p, char *line, uint64_t at)
{
	char *hash = strchr(line, '#');
	unsigned long long k;

	if (hash) {
		on_message(p, hash, at);
		return;
	}
	if (opt.resp) {
		/* "subscribe" arrives once the subscription is in place. */
		if (strncmp(line, "subscribe", 9) == 0)
			p->ready = 1;
		return;
	}
	if (sscanf(line, "* %llu lines dropped", &k) == 1)
		p->dropped += k;
	else if (strncmp(line, "* ", 2) == 0 && strstr(line, " is now s"))
		p->ready++;
}

static int on_readable(struct peer *p)
{
	uint64_t at;
	ssize_t n;
	char *start, *nl;

	n = read(p->fd, p->buf + p->len, sizeof(p->buf) - 1 - p->len);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return 0;
	if (n <= 0)
		return -1;
	at = now_ns();
	p->len += (size_t)n;
	p->buf[p->len] = '\0';
	start = p->buf;
	while ((nl = memchr(start, '\n', p->len - (size_t)(start - p->buf)))) {
		*nl = '\0';
		if (nl > start && nl[-1] == '\r')
			nl[-1] = '\0';
		on_line(p, start, at);
		start = nl + 1;
	}
	p->len -= (size_t)(start - p->buf);
	memmove(p->buf, start, p->len);
	if (p->len == sizeof(p->buf) - 1)
		p->len = 0; /* a line this long is nothing of ours */
	return 0;
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

static void usage(int rc)
{
	fprintf(rc ? stderr : stdout,
		"usage: chat-load --proto chat|resp --port P [--members M] [--senders S]\n"
		"                 [--messages N] [--rate R] [--timeout SEC] [--pids PID,...]\n"
		"M members (1000), S senders (10) each sending N messages (500), R messages\n"
		"a second in all (1000); prints one JSON object (see chat-load.c).\n");
	exit(rc);
}

static void parse(int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;

		if (strcmp(a, "--help") == 0)
			usage(0);
		if (!v)
			usage(2);
		i++;
		if (strcmp(a, "--proto") == 0)
			opt.resp = strcmp(v, "resp") == 0;
		else if (strcmp(a, "--port") == 0)
			opt.port = atoi(v);
		else if (strcmp(a, "--members") == 0)
			opt.members = atoi(v);
		else if (strcmp(a, "--senders") == 0)
			opt.senders = atoi(v);
		else if (strcmp(a, "--messages") == 0)
			opt.messages = atoi(v);
		else if (strcmp(a, "--rate") == 0)
			opt.rate = atof(v);
		else if (strcmp(a, "--timeout") == 0)
			opt.timeout = atof(v);
		else if (strcmp(a, "--pids") == 0)
			for (char *t = strtok(argv[i], ","); t && opt.npids < MAX_PIDS;
			     t = strtok(NULL, ","))
				opt.pids[opt.npids++] = atoi(t);
		else
			usage(2);
	}
	if (opt.port <= 0 || opt.members < 1 || opt.senders < 1 || opt.messages < 1 ||
	    opt.rate <= 0 || opt.timeout <= 0)
		usage(2);
}

static void on_alarm(int sig)
{
	(void)sig;
	static const char msg[] = "chat-load: timed out\n";
	if (write(2, msg, sizeof(msg) - 1) < 0)
		_exit(1);
	_exit(1);
}

/* Read what is there for up to ms milliseconds. */
static void pump(int ep, int ms)
{
	struct epoll_event ev[256];
	int n = epoll_wait(ep, ev, 256, ms);

	if (n < 0 && errno != EINTR)
		die("epoll_wait");
	for (int i = 0; i < n; i++)
		if (on_readable(&peers[ev[i].data.u32]) < 0) {
			errno = ECONNRESET;
			die("the server closed a connection");
		}
}

int main(int argc, char **argv)
{
	int total = 0, ep, ready;
	uint64_t expected, got = 0, dropped = 0, reordered = 0, t0, t_end, interval;
	long rss0, rss1, rss2;
	int lossy = 0;
	char line[128];
	struct rlimit rl;

	parse(argc, argv);
	signal(SIGALRM, on_alarm);
	signal(SIGPIPE, SIG_IGN);
	alarm((unsigned)opt.timeout + 1);
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	total = opt.members + opt.senders;
	peers = calloc((size_t)total, sizeof(*peers));
	expected = (uint64_t)opt.members * opt.senders * opt.messages;
	lat_us = malloc(expected * sizeof(*lat_us));
	ep = epoll_create1(EPOLL_CLOEXEC);
	if (!peers || !lat_us || ep < 0)
		die("setup");
	rss0 = rss_kib();
	for (int i = 0; i < total; i++) {
		struct peer *p = &peers[i];
		struct epoll_event ev = {.events = EPOLLIN, .data.u32 = (uint32_t)i};

		p->fd = dial();
		p->sender = i < opt.members ? -1 : i - opt.members;
		p->next_seq = calloc((size_t)opt.senders, sizeof(*p->next_seq));
		if (!p->next_seq || epoll_ctl(ep, EPOLL_CTL_ADD, p->fd, &ev) < 0)
			die("epoll_ctl");
		if (opt.resp && p->sender < 0)
			send_all(p->fd, "SUBSCRIBE room\r\n", 16);
		/* Read as we go: the joins of the later ones pile up otherwise. */
		pump(ep, 0);
	}
	/* Ready: subscribed (resp), or every sender's rename seen (chat). */
	for (int s = 0; s < opt.senders && !opt.resp; s++) {
		int n = snprintf(line, sizeof(line), "/nick s%d\n", s);

		send_all(peers[opt.members + s].fd, line, (size_t)n);
	}
	for (;;) {
		ready = 0;
		for (int i = 0; i < opt.members; i++)
			ready += opt.resp ? peers[i].ready : peers[i].ready >= opt.senders;
		if (ready == opt.members)
			break;
		pump(ep, 10);
	}
	rss1 = rss_kib();
	interval = (uint64_t)(1e9 / opt.rate);
	t0 = now_ns();
	for (uint64_t k = 0; k < (uint64_t)opt.senders * opt.messages;) {
		uint64_t due = t0 + k * interval, now = now_ns();

		if (now < due) {
			pump(ep, (int)((due - now) / 1000000));
			continue;
		}
		/* Message k: sender k % S, its number k / S. */
		int s = (int)(k % (uint64_t)opt.senders);
		int n = opt.resp ? snprintf(line, sizeof(line),
					    "PUBLISH room #%d:%" PRIu64 ":%" PRIu64 "\r\n", s,
					    k / (uint64_t)opt.senders, now_ns())
				 : snprintf(line, sizeof(line), "#%d:%" PRIu64 ":%" PRIu64 "\n", s,
					    k / (uint64_t)opt.senders, now_ns());
		send_all(peers[opt.members + s].fd, line, (size_t)n);
		k++;
	}
	t_end = now_ns();
	/* Until everything arrived, or 5 s without a delivery. */
	for (;;) {
		got = 0;
		for (int i = 0; i < opt.members; i++)
			got += peers[i].got + peers[i].dropped;
		if (got >= expected)
			break;
		if (now_ns() - (last_delivery_ns > t_end ? last_delivery_ns : t_end) >
		    5000000000ull)
			break;
		pump(ep, 10);
	}
	rss2 = rss_kib();
	got = 0;
	for (int i = 0; i < opt.members; i++) {
		got += peers[i].got;
		dropped += peers[i].dropped;
		reordered += peers[i].reordered;
		lossy += peers[i].dropped > 0;
	}
	qsort(lat_us, nlat, sizeof(*lat_us), cmp_u32);
	printf("{\"proto\": \"%s\", \"members\": %d, \"senders\": %d, \"messages\": %d, "
	       "\"rate\": %.0f, \"expected\": %" PRIu64 ", \"delivered\": %" PRIu64
	       ", \"dropped\": %" PRIu64 ", \"lost\": %" PRId64 ", \"members_with_drops\": %d, "
	       "\"reordered\": %" PRIu64 ", \"seconds\": %.3f, \"send_seconds\": %.3f, "
	       "\"delivered_per_s\": %.0f, \"p50_us\": %u, \"p99_us\": %u, \"max_us\": %" PRIu64
	       ", \"rss_kib_before\": %ld, \"rss_kib_joined\": %ld, \"rss_kib_end\": %ld}\n",
	       opt.resp ? "resp" : "chat", opt.members, opt.senders, opt.messages, opt.rate,
	       expected, got, dropped, (int64_t)(expected - got - dropped), lossy, reordered,
	       (double)((last_delivery_ns > t0 ? last_delivery_ns : t_end) - t0) / 1e9,
	       (double)(t_end - t0) / 1e9,
	       (double)got /
		   ((double)((last_delivery_ns > t0 ? last_delivery_ns : t_end) - t0) / 1e9),
	       nlat ? lat_us[nlat / 2] : 0, nlat ? lat_us[nlat * 99 / 100] : 0, maxlat, rss0, rss1,
	       rss2);
	for (int i = 0; i < total; i++)
		close(peers[i].fd);
	return 0;
}
