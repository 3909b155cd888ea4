#include "vk_resolve.h"

#include <ares.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define BUCKETS (2 * VK_RESOLVE_CACHE)

/* One socket c-ares asked us to watch. */
struct resolve_sock {
	struct ev_io io;
	struct vk_resolver *resolver;
	struct resolve_sock *next;
};

/* One name: an answer, a failure, or a query under way. */
struct entry {
	struct vk_resolver *resolver;
	struct entry *hash_next;
	struct entry *lru_prev; /* towards the most recently used */
	struct entry *lru_next;
	struct vk_post *waiters; /* posts to fire when the query ends */
	double expires;		 /* ev_now() time */
	int error;		 /* positive errno, 0 when count addresses */
	int count;
	uint8_t pending;
	struct vk_resolved addrs[VK_RESOLVE_ADDRS];
	char name[];
};

struct vk_resolver {
	struct ev_loop *loop;
	ares_channel channel;
	struct vk_stats *stats;
	struct ev_timer timer;
	struct resolve_sock *socks;
	struct entry *buckets[BUCKETS];
	struct entry *lru_head; /* most recently used */
	struct entry *lru_tail;
	size_t count;
	unsigned pending; /* queries under way: they keep the loop running */
	int hints_flags;
};

/* ---- libev watchers of c-ares's sockets and timeouts ---- */

/*
 * Watchers do not keep the loop running by themselves (ev_unref after
 * starting; ev_ref before stopping): a query under way does, through
 * `pending`, and an idle resolver never holds a worker that is done.
 */
static void watch_start_io(struct ev_loop *loop, struct ev_io *io)
{
	ev_io_start(loop, io);
	ev_unref(loop);
}

static void watch_stop_io(struct ev_loop *loop, struct ev_io *io)
{
	if (!ev_is_active(io))
		return;
	ev_ref(loop);
	ev_io_stop(loop, io);
}

static void rearm_timer(struct vk_resolver *r)
{
	struct timeval tv;

	if (ev_is_active(&r->timer)) {
		ev_ref(r->loop);
		ev_timer_stop(r->loop, &r->timer);
	}
	if (!ares_timeout(r->channel, NULL, &tv))
		return;
	ev_timer_set(&r->timer, (double)tv.tv_sec + (double)tv.tv_usec / 1e6, 0.);
	ev_timer_start(r->loop, &r->timer);
	ev_unref(r->loop);
}

static void timer_callback(struct ev_loop *loop, struct ev_timer *timer, int revents)
{
	struct vk_resolver *r = timer->data;

	(void)loop;
	(void)revents;
	/* The timer was stopped by firing: account for its ev_unref. */
	ev_ref(r->loop);
	ares_process_fd(r->channel, ARES_SOCKET_BAD, ARES_SOCKET_BAD);
	rearm_timer(r);
}

static void io_callback(struct ev_loop *loop, struct ev_io *io, int revents)
{
	struct resolve_sock *sock = (struct resolve_sock *)io;
	struct vk_resolver *r = sock->resolver;
	int fd = io->fd;

	(void)loop;
	/* c-ares may close the socket (sock_state) in here: sock is not used after. */
	ares_process_fd(r->channel, revents & EV_READ ? fd : ARES_SOCKET_BAD,
			revents & EV_WRITE ? fd : ARES_SOCKET_BAD);
	rearm_timer(r);
}

static void sock_state(void *data, ares_socket_t fd, int readable, int writable)
{
	struct vk_resolver *r = data;
	struct resolve_sock **link = &r->socks;
	struct resolve_sock *sock;
	int events = (readable ? EV_READ : 0) | (writable ? EV_WRITE : 0);

	while (*link && (*link)->io.fd != fd)
		link = &(*link)->next;
	sock = *link;
	if (!events) {
		if (!sock)
			return;
		watch_stop_io(r->loop, &sock->io);
		*link = sock->next;
		free(sock);
		return;
	}
	if (!sock) {
		sock = calloc(1, sizeof(*sock));
		if (!sock)
			return; /* the query times out instead */
		sock->resolver = r;
		sock->next = r->socks;
		r->socks = sock;
		ev_io_init(&sock->io, io_callback, fd, events);
	} else {
		watch_stop_io(r->loop, &sock->io);
		ev_io_set(&sock->io, fd, events);
	}
	watch_start_io(r->loop, &sock->io);
}

/* ---- the cache ---- */

static size_t hash_name(const char *name)
{
	uint32_t h = 2166136261u; /* FNV-1a */

	for (; *name; name++)
		h = (h ^ (unsigned char)*name) * 16777619u;
	return h % BUCKETS;
}

static struct entry *find(struct vk_resolver *r, const char *name)
{
	struct entry *e = r->buckets[hash_name(name)];

	while (e && strcmp(e->name, name) != 0)
		e = e->hash_next;
	return e;
}

static void lru_unlink(struct vk_resolver *r, struct entry *e)
{
	if (e->lru_prev)
		e->lru_prev->lru_next = e->lru_next;
	else
		r->lru_head = e->lru_next;
	if (e->lru_next)
		e->lru_next->lru_prev = e->lru_prev;
	else
		r->lru_tail = e->lru_prev;
	e->lru_prev = e->lru_next = NULL;
}

static void lru_push(struct vk_resolver *r, struct entry *e)
{
	e->lru_prev = NULL;
	e->lru_next = r->lru_head;
	if (r->lru_head)
		r->lru_head->lru_prev = e;
	else
		r->lru_tail = e;
	r->lru_head = e;
}

static void entry_free(struct vk_resolver *r, struct entry *e)
{
	struct entry **link = &r->buckets[hash_name(e->name)];

	while (*link != e)
		link = &(*link)->hash_next;
	*link = e->hash_next;
	lru_unlink(r, e);
	r->count--;
	free(e);
}

/* Room for one more entry: the least recently used answer goes. */
static int make_room(struct vk_resolver *r)
{
	struct entry *e = r->lru_tail;

	if (r->count < VK_RESOLVE_CACHE)
		return 0;
	/* A query under way has waiters and a c-ares callback: it stays. */
	while (e && e->pending)
		e = e->lru_prev;
	if (!e)
		return -ENOMEM;
	entry_free(r, e);
	return 0;
}

static struct entry *entry_new(struct vk_resolver *r, const char *name)
{
	size_t len = strlen(name);
	struct entry *e;
	size_t bucket;

	if (make_room(r) < 0)
		return NULL;
	e = calloc(1, sizeof(*e) + len + 1);
	if (!e)
		return NULL;
	memcpy(e->name, name, len + 1);
	e->resolver = r;
	bucket = hash_name(name);
	e->hash_next = r->buckets[bucket];
	r->buckets[bucket] = e;
	lru_push(r, e);
	r->count++;
	return e;
}

/* ---- waiters ---- */

static void waiter_cancel(struct vk_post *post)
{
	struct entry *e = post->owner;
	struct vk_post **link = &e->waiters;

	while (*link && *link != post)
		link = &(*link)->owner_next;
	if (*link)
		*link = post->owner_next;
	post->owner = NULL;
	post->owner_next = NULL;
	post->cancel = NULL;
}

static void waiter_add(struct entry *e, struct vk_post *post)
{
	if (post->owner == e)
		return;
	if (post->cancel)
		post->cancel(post);
	post->owner = e;
	post->cancel = waiter_cancel;
	post->owner_next = e->waiters;
	e->waiters = post;
}

static void waiters_fire(struct entry *e)
{
	struct vk_post *post = e->waiters;

	e->waiters = NULL;
	while (post) {
		struct vk_post *next = post->owner_next;

		post->owner = NULL;
		post->owner_next = NULL;
		post->cancel = NULL;
		vk_post_fire(post);
		post = next;
	}
}

/* ---- queries ---- */

static int error_of(int status)
{
	switch (status) {
	case ARES_ENOTFOUND:
	case ARES_ENODATA:
	case ARES_ENONAME:
	case ARES_EBADNAME:
		return ENXIO;
	case ARES_ETIMEOUT:
		return ETIMEDOUT;
	case ARES_ENOMEM:
		return ENOMEM;
	case ARES_ECANCELLED:
	case ARES_EDESTRUCTION:
		return ECANCELED;
	}
	/* The servers failed, refused, or answered garbage. */
	return EHOSTUNREACH;
}

static double ttl_clamp(double ttl)
{
	if (ttl < VK_RESOLVE_TTL_MIN_S)
		return VK_RESOLVE_TTL_MIN_S;
	return ttl > VK_RESOLVE_TTL_MAX_S ? VK_RESOLVE_TTL_MAX_S : ttl;
}

/* Keep the stream addresses of an answer; the shortest TTL bounds them all. */
static void keep_answer(struct entry *e, const struct ares_addrinfo *ai, double *ttl)
{
	int min_ttl = -1;

	e->count = 0;
	for (const struct ares_addrinfo_node *n = ai ? ai->nodes : NULL; n; n = n->ai_next) {
		struct vk_resolved *out = &e->addrs[e->count];

		if (e->count == VK_RESOLVE_ADDRS)
			break;
		if ((n->ai_family != AF_INET && n->ai_family != AF_INET6) ||
		    (size_t)n->ai_addrlen > sizeof(out->addr))
			continue;
		memcpy(&out->addr, n->ai_addr, n->ai_addrlen);
		out->len = (socklen_t)n->ai_addrlen;
		e->count++;
		if (min_ttl < 0 || n->ai_ttl < min_ttl)
			min_ttl = n->ai_ttl;
	}
	*ttl = min_ttl < 0 ? 0 : min_ttl;
}

static void query_done(void *arg, int status, int timeouts, struct ares_addrinfo *result)
{
	struct entry *e = arg;
	struct vk_resolver *r = e->resolver;
	double ttl = 0;

	(void)timeouts;
	memset(e->addrs, 0, sizeof(e->addrs));
	e->error = 0;
	if (status == ARES_SUCCESS)
		keep_answer(e, result, &ttl);
	else
		e->count = 0;
	if (status != ARES_SUCCESS || e->count == 0) {
		e->error = status == ARES_SUCCESS ? ENXIO : error_of(status);
		e->count = 0;
		ttl = 0;
		r->stats->resolve_failures++;
	}
	ares_freeaddrinfo(result);
	e->expires = ev_now(r->loop) + ttl_clamp(ttl);
	e->pending = 0;
	if (--r->pending == 0)
		ev_unref(r->loop);
	waiters_fire(e);
}

static void query_start(struct vk_resolver *r, struct entry *e)
{
	struct ares_addrinfo_hints hints;

	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = r->hints_flags;
	e->pending = 1;
	if (r->pending++ == 0)
		ev_ref(r->loop);
	r->stats->resolves++;
	/* The callback may run before this returns (/etc/hosts, a bad name). */
	ares_getaddrinfo(r->channel, e->name, NULL, &hints, query_done, e);
	rearm_timer(r);
}

int vk_resolver_lookup(struct vk_resolver *r, const char *name, struct vk_post *post,
		       const struct vk_resolved **out)
{
	struct entry *e = find(r, name);

	if (!e) {
		e = entry_new(r, name);
		if (!e)
			return -ENOMEM;
		query_start(r, e);
	} else if (!e->pending && ev_now(r->loop) >= e->expires) {
		query_start(r, e);
	}
	if (e->pending) {
		waiter_add(e, post);
		return -EAGAIN;
	}
	lru_unlink(r, e);
	lru_push(r, e);
	if (e->error)
		return -e->error;
	*out = e->addrs;
	return e->count;
}

size_t vk_resolver_cached(const struct vk_resolver *resolver)
{
	return resolver->count;
}

/* ---- life ---- */

struct vk_resolver *vk_resolver_create(struct ev_loop *loop, const struct vk_resolve_config *config,
				       struct vk_stats *stats)
{
	struct vk_resolver *r = calloc(1, sizeof(*r));
	struct ares_options options;
	unsigned timeout_ms =
	    config && config->timeout_ms ? config->timeout_ms : VK_RESOLVE_TIMEOUT_MS_DEFAULT;
	int mask = ARES_OPT_SOCK_STATE_CB | ARES_OPT_TIMEOUTMS | ARES_OPT_TRIES;

	if (!r)
		return NULL;
	if (ares_library_init(ARES_LIB_INIT_ALL) != ARES_SUCCESS) {
		free(r);
		errno = ENOMEM;
		return NULL;
	}
	r->loop = loop;
	r->stats = stats;
	ev_timer_init(&r->timer, timer_callback, 0., 0.);
	r->timer.data = r;
	memset(&options, 0, sizeof(options));
	options.sock_state_cb = sock_state;
	options.sock_state_cb_data = r;
	/* Two tries, the second twice as long (c-ares doubles it): the whole in timeout_ms. */
	options.tries = 2;
	options.timeout = (int)(timeout_ms / 3 ? timeout_ms / 3 : 1);
	if (config && config->resolv_conf) {
		mask |= ARES_OPT_RESOLVCONF;
		options.resolvconf_path = (char *)config->resolv_conf;
	}
	/* c-ares 1.18 takes another hosts file from $CARES_HOSTS only. */
	if (config && config->hosts_file) {
		if (setenv("CARES_HOSTS", config->hosts_file, 1) < 0)
			goto fail;
		r->hints_flags |= ARES_AI_ENVHOSTS;
	}
	if (ares_init_options(&r->channel, &options, mask) != ARES_SUCCESS)
		goto fail;
	if (config && config->servers &&
	    ares_set_servers_ports_csv(r->channel, config->servers) != ARES_SUCCESS) {
		ares_destroy(r->channel);
		goto fail;
	}
	return r;

fail:
	ares_library_cleanup();
	free(r);
	errno = EINVAL;
	return NULL;
}

void vk_resolver_destroy(struct vk_resolver *r)
{
	if (!r)
		return;
	/* Queries under way end here, with ARES_EDESTRUCTION (their posts fire). */
	ares_destroy(r->channel);
	while (r->socks) {
		struct resolve_sock *sock = r->socks;

		r->socks = sock->next;
		watch_stop_io(r->loop, &sock->io);
		free(sock);
	}
	if (ev_is_active(&r->timer)) {
		ev_ref(r->loop);
		ev_timer_stop(r->loop, &r->timer);
	}
	while (r->lru_head)
		entry_free(r, r->lru_head);
	ares_library_cleanup();
	free(r);
}
