/*
 * vk_state: stackless coroutines.
 *
 * A coroutine is a function `void fn(struct vk_thread *that)` that keeps all
 * of its state in an anonymous struct declared before vk_begin():
 *
 *	void echo(struct vk_thread *that)
 *	{
 *		struct {
 *			char line[1024];
 *			ssize_t n;
 *		} *self;
 *
 *		vk_begin();
 *		for (;;) {
 *			vk_readline(self->n, self->line, sizeof(self->line));
 *			if (self->n == 0)
 *				break;
 *			vk_write(self->line, (size_t)self->n);
 *		}
 *		vk_finally();
 *		if (vk_error() && vk_error() != ECONNRESET)
 *			fprintf(stderr, "echo: %s\n", strerror(vk_error()));
 *		vk_clear_error();
 *		vk_end();
 *	}
 *
 * vk_begin() allocates `self` (zeroed) on the micro-heap; vk_end() frees it.
 * A blocking operation returns from the function and resumes at the same
 * place when the coroutine runs again (Simon Tatham's switch trick), so C
 * locals do not survive a blocking operation: keep everything in `self`.
 * Case labels come from __COUNTER__, so one blocking macro may be built from
 * others and several may stand on one line. A blocking operation may not be
 * used inside a switch statement of your own: the coroutine would resume at
 * its vk_end(), skipping everything in between, vk_finally() included.
 * That is detected, logged and counted by vkd, and the coroutine ends with
 * ENOTRECOVERABLE (seen by whoever waits on it).
 *
 * Raising: vk_raise(e) jumps to vk_finally(), which normal control flow also
 * falls into. There vk_error() tells the error (0 when none). An error still
 * set at vk_end() ends the coroutine with it, and whoever waits on it
 * (vk_call, vk_join) sees it raised in turn. A raise inside the finally
 * block ends the coroutine at once. Without vk_finally(), a raise ends the
 * coroutine directly.
 *
 * Errors, everywhere in libvk (one convention):
 *  - a blocking operation (a macro that may wait) raises a positive errno
 *    value at the statement that failed;
 *  - a function that returns int or ssize_t returns a value >= 0 on
 *    success and a negated errno value (-ENOMEM) on failure; errno is not
 *    used;
 *  - a function that returns a pointer returns NULL on failure and sets
 *    errno.
 * (vk_http.h's parser returns negated HTTP statuses, which it documents.)
 *
 * Errors an app handles where they happen: the blocking operations that
 * meet a peer's or an upstream's failure (the socket operations but
 * sendfile, connect, forward, call, join, send, receive, request) have
 * a try form, vk_try_X(rc, ...) beside vk_X(...) (and
 * vk_socket_try_X(s, rc, ...) beside vk_socket_X(s, ...)). It does what
 * vk_X does, but instead of raising it stores the error in `rc` (an
 * lvalue of a signed type, a field of `self`) as a negated errno value;
 * on success `rc` gets the operation's result, or 0 when it has none.
 * The coroutine goes on either way: it can retry a connect, try another
 * address, or answer an error of its own, without a child coroutine to
 * catch the raise. As with a raise, a failed operation's partial progress
 * (bytes already read into a buffer) is not reported.
 */
#ifndef VK_STATE_H
#define VK_STATE_H

#include <errno.h>
#include <stddef.h>
#include <stdint.h>

#include "vk_state_s.h"
#include "vk_api.h"

VK_API_BEGIN

typedef void (*vk_func)(struct vk_thread *that);

/* Resume points that are not __COUNTER__ values. */
#define VK_LINE_START 0
#define VK_LINE_FINALLY (-1)
#define VK_LINE_END (-2)

/* Internal: allocate the state of a starting coroutine; NULL if no room. */
void *vk_thread_begin(struct vk_thread *that, size_t size);
/* Internal: a coroutine's function ended (what modules of ABI minor 0 call). */
void vk_thread_end(struct vk_thread *that);
/*
 * Internal: a coroutine reached vk_end(), by its own flow (that->line is
 * VK_LINE_END or VK_LINE_FINALLY) or from a resume point its switch does
 * not know (a blocking operation inside a switch of its own): that is an
 * app error, logged and counted, and the coroutine ends with
 * ENOTRECOVERABLE.
 */
void vk_thread_finish(struct vk_thread *that);

#define vk_begin()                                           \
	vk_dispatch_:                                        \
	__attribute__((unused));                             \
	self = that->self;                                   \
	switch (that->line) {                                \
	case VK_LINE_START:                                  \
		self = vk_thread_begin(that, sizeof(*self)); \
		if (!self)                                   \
			return;

#define vk_finally()                  \
	__attribute__((fallthrough)); \
	case VK_LINE_FINALLY:         \
		that->unwinding = 1;

#define vk_end()                        \
	that->line = VK_LINE_END;       \
	__attribute__((fallthrough));   \
	default:;                       \
		}                       \
		vk_thread_finish(that); \
		return

/* Raise error `e` (a positive errno value): go to vk_finally(). */
#define vk_raise(e)                                                           \
	do {                                                                  \
		that->error = (e);                                            \
		that->line = that->unwinding ? VK_LINE_END : VK_LINE_FINALLY; \
		goto vk_dispatch_;                                            \
	} while (0)

/* End the coroutine from anywhere, without error (through vk_finally()). */
#define vk_return() vk_raise(0)

/* The error being raised, in vk_finally(); 0 when none. */
#define vk_error() (that->error)

/* Handle the error: the coroutine then ends without it. */
#define vk_clear_error() (that->error = 0)

/* Internal: leave the function with `status`; resume at a fresh label. */
#define vk_suspend_at_(n, st)        \
	do {                         \
		that->line = (n);    \
		that->status = (st); \
		return;              \
	case (n):;                   \
	} while (0)
#define vk_suspend_(st) vk_suspend_at_(__COUNTER__ + 1, st)

/* Internal: block until woken; raise what the waker handed over. */
#define vk_wait_()                                    \
	do {                                          \
		vk_suspend_(VK_THREAD_BLOCKED);       \
		if (that->wake_error) {               \
			int vk_e_ = that->wake_error; \
			that->wake_error = 0;         \
			vk_raise(vk_e_);              \
		}                                     \
	} while (0)

/*
 * Internal: block until woken; if the waker handed over an error, store
 * it in `rc` (negated) and `break` out of the loop around this statement.
 */
#define vk_wait_try_(rc)                  \
	vk_suspend_(VK_THREAD_BLOCKED);   \
	if (that->wake_error) {           \
		(rc) = -that->wake_error; \
		that->wake_error = 0;     \
		break;                    \
	}

/* Let every other runnable coroutine of this micro-process run first. */
#define vk_yield() vk_suspend_(VK_THREAD_YIELDED)

/*
 * Start `fn` as a new coroutine of this micro-process, with `arg` as its
 * vk_arg() and this coroutine's socket as its own. It runs once this one
 * blocks or yields. `t` (a struct vk_thread * lvalue) receives its handle,
 * to pass to vk_join(). Raises ENOMEM when the heap is full.
 */
#define vk_spawn(t, fn, a)                                 \
	do {                                               \
		(t) = vk_thread_spawn(that, (fn), (a), 0); \
		if (!(t))                                  \
			vk_raise(ENOMEM);                  \
	} while (0)

/* Like vk_spawn(), but nobody joins: the coroutine is freed when it ends. */
#define vk_spawn_detached(fn, a)                          \
	do {                                              \
		if (!vk_thread_spawn(that, (fn), (a), 1)) \
			vk_raise(ENOMEM);                 \
	} while (0)

/* Wait for a coroutine from vk_spawn() to end; raise its error if any. */
#define vk_join(t)                                      \
	do {                                            \
		if (vk_thread_join_begin(that, (t)))    \
			vk_suspend_(VK_THREAD_BLOCKED); \
		if (that->child_error)                  \
			vk_raise(that->child_error);    \
	} while (0)

/* vk_join() that stores the coroutine's error in `rc` (0 or -errno). */
#define vk_try_join(rc, t)                              \
	do {                                            \
		if (vk_thread_join_begin(that, (t)))    \
			vk_suspend_(VK_THREAD_BLOCKED); \
		(rc) = -that->child_error;              \
	} while (0)

/* Run `fn(arg)` as a child coroutine and wait for it to end. */
#define vk_call(fn, a)                                      \
	do {                                                \
		if (!vk_thread_call_begin(that, (fn), (a))) \
			vk_raise(ENOMEM);                   \
		vk_suspend_(VK_THREAD_BLOCKED);             \
		if (that->child_error)                      \
			vk_raise(that->child_error);        \
	} while (0)

/* vk_call() that stores the child's error in `rc` (0 or -errno). */
#define vk_try_call(rc, fn, a)                                \
	do {                                                  \
		if (!vk_thread_call_begin(that, (fn), (a))) { \
			(rc) = -ENOMEM;                       \
			break;                                \
		}                                             \
		vk_suspend_(VK_THREAD_BLOCKED);               \
		(rc) = -that->child_error;                    \
	} while (0)

/* The argument the spawner passed. */
#define vk_arg() (that->arg)

/* Sleep for `ms` milliseconds of the event loop's clock. */
#define vk_sleep(ms)                               \
	do {                                       \
		vk_thread_sleep_begin(that, (ms)); \
		vk_wait_();                        \
	} while (0)

/*
 * Give every later blocking operation of this coroutine a timeout: a wait
 * with no progress for `ms` milliseconds raises ETIMEDOUT (each wait of an
 * operation that blocks several times, such as a vk_read() fed a byte at a
 * time, starts it again: it bounds inactivity, not the whole operation).
 * vk_call() and vk_join() are not timed: the child has its own. 0 turns it
 * off. A main coroutine starts with none; a spawned one with its
 * spawner's timeout.
 *
 * This is the tool for one operation (an HTTP head that must arrive in
 * time). The connection as a whole has its app's idle_timeout
 * (vkd.ini(5)): once no byte moved either way on the micro-process's
 * descriptors for that long, every wait of every coroutine of it raises
 * ETIMEDOUT, whatever its own timeout; the process is ended 1 s later if
 * it is still there and still idle.
 */
#define vk_set_timeout(ms) (that->timeout_ms = (uint32_t)(ms))

/* The timeout vk_set_timeout() last set, in milliseconds (0: none). */
#define vk_timeout() (that->timeout_ms)

/*
 * Allocate `n` zeroed elements of *p on the micro-heap into `p`; raise
 * ENOMEM when the heap is full. Free with vk_free(), ideally in reverse
 * order of allocation (the heap is a stack).
 */
#define vk_calloc(p, n)                                          \
	do {                                                     \
		(p) = vk_thread_calloc(that, (n), sizeof(*(p))); \
		if (!(p))                                        \
			vk_raise(ENOMEM);                        \
	} while (0)
#define vk_free(p) vk_thread_free(that, (p))

/*
 * Like vk_calloc() but not zeroed: for buffers, so that their untouched
 * pages stay out of the resident set and cost no memset per connection.
 */
#define vk_alloc(p, n)                                          \
	do {                                                    \
		(p) = vk_thread_alloc(that, (n), sizeof(*(p))); \
		if (!(p))                                       \
			vk_raise(ENOMEM);                       \
	} while (0)

/* Functions behind the macros; usable from plain C helpers too. */
struct vk_thread *vk_thread_spawn(struct vk_thread *that, vk_func fn, void *arg, int detached);
int vk_thread_join_begin(struct vk_thread *that, struct vk_thread *child);
struct vk_thread *vk_thread_call_begin(struct vk_thread *that, vk_func fn, void *arg);
void vk_thread_sleep_begin(struct vk_thread *that, uint32_t ms);
void *vk_thread_calloc(struct vk_thread *that, size_t count, size_t size);
void *vk_thread_alloc(struct vk_thread *that, size_t count, size_t size);
void vk_thread_free(struct vk_thread *that, void *ptr);

/* The event loop's clock, in seconds since the epoch (cached per iteration). */
double vk_now(const struct vk_thread *that);

/*
 * Bytes this micro-process can still allocate in one piece (vk_alloc()),
 * for sizing a buffer to the heap that is left.
 */
#define vk_heap_left() vk_thread_heap_left(that)
size_t vk_thread_heap_left(const struct vk_thread *that);

/*
 * How long a coroutine waiting between messages on a served connection
 * (vk_await_idle()) still waits once its worker starts draining.
 */
#define VK_DRAIN_IDLE_MS 1000

/* Whether the worker is draining: apps should finish and close. */
int vk_draining(const struct vk_thread *that);

VK_API_END

#endif
