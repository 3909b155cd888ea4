/*
 * Helpers shared by the libvk Check tests (tests/unit/check_vk*.c).
 *
 * Every test that needs a kernel makes its own loop and kernel and destroys
 * both at the end, so the tests also pass with CK_FORK=no; in the default
 * fork mode a crash fails only the test it happens in.
 */
#ifndef VK_CHECK_H
#define VK_CHECK_H

#include <check.h>
#include <ev.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "vk.h"
#include "vk_heap.h"
#include "vk_kern.h"
#include "vk_listener.h"
#include "vk_report.h"
#include "vk_socket_s.h"
#include "vk_task.h"
#include "check_run.h"

/*
 * Cheap assertions for hot loops: Check's ck_assert_*() record a checkpoint
 * (a write to a file) even when they pass, which makes a million of them
 * take seconds. These only cost a compare until they fail.
 */
#define vkt_eq(a, b)                                                                               \
	do {                                                                                       \
		uintmax_t vkt_a_ = (uintmax_t)(a), vkt_b_ = (uintmax_t)(b);                        \
		if (vkt_a_ != vkt_b_)                                                              \
			ck_abort_msg("Assertion '%s == %s' failed: %ju != %ju", #a, #b, vkt_a_,    \
				     vkt_b_);                                                      \
	} while (0)
#define vkt_ptr_eq(a, b) vkt_eq((uintptr_t)(const void *)(a), (uintptr_t)(const void *)(b))
#define vkt_true(c)                                                                                \
	do {                                                                                       \
		if (!(c))                                                                          \
			ck_abort_msg("Assertion '%s' failed", #c);                                 \
	} while (0)

/* ---- an event trace, in memory outside every micro-heap ---- */

#define VKT_TRACE_MAX 4096

static char vkt_trace_buf[VKT_TRACE_MAX];

static inline void vkt_trace_reset(void)
{
	vkt_trace_buf[0] = '\0';
}

/* Append one event; events are separated by a space. */
static inline void vkt_trace(const char *event)
{
	size_t len = strlen(vkt_trace_buf);

	if (len)
		len += (size_t)snprintf(vkt_trace_buf + len, VKT_TRACE_MAX - len, " ");
	snprintf(vkt_trace_buf + len, VKT_TRACE_MAX - len, "%s", event);
}

static inline void vkt_tracef(const char *format, int value)
{
	char event[64];

	snprintf(event, sizeof(event), format, value);
	vkt_trace(event);
}

#define vkt_trace_is(expected) ck_assert_str_eq(vkt_trace_buf, (expected))

/*
 * For a test that must die of a fault: no core file, and the default action
 * (a sanitizer's handler would turn the signal into an exit status).
 */
static inline void vkt_expect_death_by_signal(void)
{
	struct rlimit none = {0, 0};

	setrlimit(RLIMIT_CORE, &none);
	signal(SIGSEGV, SIG_DFL);
	signal(SIGBUS, SIG_DFL);
	signal(SIGFPE, SIG_DFL);
	signal(SIGABRT, SIG_DFL);
	signal(SIGXCPU, SIG_DFL);
}

/* ---- time ---- */

static inline double vkt_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/*
 * A slack of `ms` for an upper bound on elapsed time, stretched by how
 * oversubscribed the machine is (1-minute load average over online CPUs,
 * 1x to 4x). The bounds are met on an idle machine; with builds beside the
 * suite (load 10-17 on 2 CPUs, seen) a runnable process can wait longer than
 * that for a CPU, which says nothing about the code. Lower bounds never
 * stretch.
 */
static inline double vkt_slack_ms(double ms)
{
	double load;
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);
	double f;

	if (getloadavg(&load, 1) != 1 || cpus < 1)
		return ms;
	f = load / (double)cpus;
	if (f < 1)
		f = 1;
	if (f > 4)
		f = 4;
	return ms * f;
}

/* ---- a PRNG for byte streams both sides can regenerate ---- */

static inline uint64_t vkt_rand(uint64_t *state)
{
	/* splitmix64 */
	uint64_t z = (*state += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

/* Fill with bytes of the stream `state`. */
static inline void vkt_fill(uint64_t *state, char *buf, size_t len)
{
	for (size_t i = 0; i < len; i++)
		buf[i] = (char)(vkt_rand(state) & 0xff);
}

/* ---- a kernel per test ---- */

/* Log lines the kernel wrote, for tests that check them. */
static char vkt_log_buf[4096];
static int vkt_log_lines;

static inline void vkt_logger(int level, const char *message)
{
	size_t len = strlen(vkt_log_buf);

	(void)level;
	vkt_log_lines++;
	snprintf(vkt_log_buf + len, sizeof(vkt_log_buf) - len, "%s\n", message);
}

struct vkt_kern {
	struct ev_loop *loop;
	struct vk_kern *kern;
};

static inline struct vkt_kern vkt_kern_new(void)
{
	struct vkt_kern k;

	k.loop = ev_loop_new(EVFLAG_AUTO);
	ck_assert_ptr_nonnull(k.loop);
	k.kern = vk_kern_create(k.loop);
	ck_assert_ptr_nonnull(k.kern);
	vkt_log_buf[0] = '\0';
	vkt_log_lines = 0;
	vk_log_set_sink(vkt_logger);
	return k;
}

static inline void vkt_kern_free(struct vkt_kern *k)
{
	vk_kern_destroy(k->kern);
	ev_loop_destroy(k->loop);
	k->kern = NULL;
	k->loop = NULL;
}

static inline struct vk_proc_config vkt_config(size_t heap_size, int isolation)
{
	struct vk_proc_config config;

	memset(&config, 0, sizeof(config));
	config.heap_size = heap_size;
	config.isolation = isolation;
	config.name = "test";
	return config;
}

static inline struct vk_proc *vkt_spawn(struct vkt_kern *k, size_t heap_size, int isolation,
					vk_func fn, void *arg)
{
	struct vk_proc_config config = vkt_config(heap_size, isolation);
	struct vk_proc *proc = vk_kern_spawn(k->kern, &config, fn, arg, -1);

	ck_assert_ptr_nonnull(proc);
	return proc;
}

/*
 * Run `fn(arg)` as the main coroutine of one micro-process in a fresh
 * kernel until nothing is left; return the kernel's counters.
 */
static inline struct vk_stats vkt_run(vk_func fn, void *arg, size_t heap_size, int isolation)
{
	struct vkt_kern k = vkt_kern_new();
	struct vk_stats stats;

	vkt_spawn(&k, heap_size, isolation, fn, arg);
	vk_kern_run(k.kern);
	stats = *vk_kern_stats(k.kern);
	vkt_kern_free(&k);
	return stats;
}

/* A run that ended cleanly: one process, no fault, nothing left over. */
#define vkt_assert_clean(stats)                                                                    \
	do {                                                                                       \
		ck_assert_uint_eq((stats).procs_now, 0);                                           \
		ck_assert_uint_eq((stats).faults, 0);                                              \
		ck_assert_uint_eq((stats).app_errors, 0);                                          \
	} while (0)

#endif
