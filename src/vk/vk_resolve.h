/*
 * vk_resolve: host names to addresses, without blocking the worker.
 *
 * One resolver per worker, made at its first lookup: a c-ares channel
 * whose sockets and timeouts are watched by the worker's own libev loop
 * (the worker stays single-threaded). It honours /etc/hosts (first, as
 * nsswitch.conf says), /etc/resolv.conf and /etc/nsswitch.conf, or the
 * files its configuration names instead.
 *
 * Answers are cached per worker: at most VK_RESOLVE_CACHE entries, the
 * least recently used going first, each kept for the TTL of its records
 * (at least VK_RESOLVE_TTL_MIN_S, at most VK_RESOLVE_TTL_MAX_S: /etc/hosts
 * has no TTL); a name that does not resolve is remembered for
 * VK_RESOLVE_TTL_MIN_S, so that a burst of connects to it makes one
 * query. Concurrent lookups of one name share one query.
 *
 * A lookup runs from a dispatch: on a miss the caller's post (vk_post.h)
 * is fired when the query ends, and the caller looks up again.
 */
#ifndef VK_RESOLVE_H
#define VK_RESOLVE_H

#include <ev.h>
#include <netinet/in.h>
#include <stdint.h>
#include <sys/socket.h>

#include "vk_internal.h"
#include "vk_post.h"
#include "vk_stats.h"

#define VK_RESOLVE_CACHE 1024
#define VK_RESOLVE_TTL_MIN_S 1.0
#define VK_RESOLVE_TTL_MAX_S 3600.0
/* Addresses kept per name, in c-ares's order (RFC 6724). */
#define VK_RESOLVE_ADDRS 8
#define VK_RESOLVE_TIMEOUT_MS_DEFAULT 5000

struct vk_resolve_config {
	const char *resolv_conf; /* NULL: /etc/resolv.conf */
	const char *hosts_file;	 /* NULL: /etc/hosts */
	unsigned timeout_ms;	 /* a whole lookup; 0: the default */
	const char *servers;	 /* tests: "127.0.0.1:5353,..." instead of resolv.conf's */
};

/* One address of an answer; its port is the caller's to set. */
struct vk_resolved {
	union {
		struct sockaddr sa;
		struct sockaddr_in sin;
		struct sockaddr_in6 sin6;
	} addr;
	socklen_t len;
};

struct vk_resolver;

/*
 * A resolver on `loop`, counting in `stats` (resolves, resolve_failures).
 * NULL with errno (ENOMEM, or EINVAL for a configuration c-ares refuses).
 */
struct vk_resolver *vk_resolver_create(struct ev_loop *loop, const struct vk_resolve_config *config,
				       struct vk_stats *stats);

/* Cancel what is in flight (its posts fire), close its sockets, free. */
void vk_resolver_destroy(struct vk_resolver *resolver);

/*
 * The addresses of `name` (lower case, as vk_addr_parse() leaves it).
 * Returns their count, >= 1, with *out pointing at them (valid until the
 * worker's loop runs again); -EAGAIN when a query is under way, after
 * which `post` fires once it ends (look up again then); or -ENXIO (no such
 * name, or no address), -ETIMEDOUT (no answer in time), -EHOSTUNREACH
 * (the name servers failed or refused), -ENOMEM.
 */
int vk_resolver_lookup(struct vk_resolver *resolver, const char *name, struct vk_post *post,
		       const struct vk_resolved **out);

/* Cached names now (completed or under way), for tests. */
size_t vk_resolver_cached(const struct vk_resolver *resolver);

#endif
