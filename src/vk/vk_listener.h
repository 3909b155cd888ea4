/*
 * vk_listener: accepting connections into micro-processes.
 *
 * A listener watches a listening descriptor on the kernel's loop and makes
 * each accepted connection a micro-process running the app's main
 * coroutine on it. Listeners of one app share one limit of live
 * connections; past it a new connection is closed at once and counted as
 * refused. Out of descriptors (EMFILE and the like), accepting pauses for
 * 100 ms at a time instead of spinning on readiness, with one warning per
 * 10 s. An idle worker accepts one connection per readiness event; a busy
 * one as many more as half the dispatches it made since it last accepted
 * (at most 512), so that new connections keep pace with busy ones.
 */
#ifndef VK_LISTENER_H
#define VK_LISTENER_H

#include "vk_internal.h"
#include "vk_kern.h"

struct vk_listener;

/*
 * Accept connections on listening descriptor `fd` (non-blocking; it stays
 * the caller's), each becoming a micro-process running `main` with `arg`.
 * Beyond `max_procs` live processes (0: no limit) a new connection is
 * closed at once and counted as refused. NULL with errno on failure.
 */
struct vk_listener *vk_listener_open(struct vk_kern *kern, int fd,
				     const struct vk_proc_config *config, vk_func main, void *arg,
				     unsigned max_procs);

/*
 * Whether connections accepted from now on get TCP_NODELAY (`on`) or not,
 * set on the listening socket, which accepted sockets inherit (Linux): no
 * system call per connection. The listening socket is shared (workers,
 * generations): set it on every open, to the app's setting. Returns 0, or
 * -errno; 0 and nothing done when the socket is not TCP (a Unix socket).
 */
int vk_listener_set_nodelay(struct vk_listener *listener, int on);

/*
 * TCP_DEFER_ACCEPT on the listening socket (as vk_listener_set_nodelay(),
 * set on every open): the kernel hands over a connection only once its
 * first bytes came, or `seconds` passed; 0 turns it off. A connection
 * accepted before its request makes a readv() that finds nothing, an
 * epoll_ctl() and a wait more. Returns 0, or -errno; 0 and nothing done
 * when the socket is not TCP.
 */
int vk_listener_set_defer_accept(struct vk_listener *listener, unsigned seconds);

/* Stop accepting and free the listener (live connections go on). */
void vk_listener_close(struct vk_listener *listener);

/*
 * Live micro-processes counted against the listener's limit: its own, and
 * those of the listeners that share the limit with it.
 */
unsigned vk_listener_active(const struct vk_listener *listener);

/*
 * Make `listener` count its processes against the limit of `with` (whose
 * max_procs then bounds both together), as an app listening on several
 * addresses has one limit. Processes it started before keep counting
 * where they did. Either listener may be closed first.
 */
void vk_listener_share(struct vk_listener *listener, struct vk_listener *with);

#endif
