#include "vk_watchdog.h"

#include <errno.h>
#include <signal.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "vk_code.h"
#include "vk_fault.h"

/* glibc 2.36 spells only the union member. */
#ifndef sigev_notify_thread_id
#define sigev_notify_thread_id _sigev_un._tid
#endif

#define NS_PER_MS 1000000ull

static struct {
	int installed;
	int has_timer;
	timer_t timer;
	uint32_t tick_ms;	     /* the tick for the smallest budget watched */
	volatile sig_atomic_t fast;  /* ticking every ms: an overrun waits for app code */
	volatile uint32_t budget_ms; /* of the running dispatch; 0: none, or unbounded */
	volatile uint64_t dispatch;  /* bumped by every dispatch */
	uint64_t seen_dispatch;	     /* the handler's: the dispatch it last found */
	uint64_t seen_cpu_ns;	     /* and the thread's CPU time then */
	struct sigaction old_action;
} dog;

static uint64_t cpu_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* timer_settime() is one system call: safe in the handler as well. */
static int set_period(uint32_t ms)
{
	struct itimerspec spec;

	spec.it_interval.tv_sec = ms / 1000;
	spec.it_interval.tv_nsec = (long)(ms % 1000) * 1000000L;
	spec.it_value = spec.it_interval;
	return timer_settime(dog.timer, 0, &spec, NULL) == -1 ? -errno : 0;
}

static void set_fast(int fast)
{
	if (dog.fast == fast)
		return;
	dog.fast = fast;
	set_period(fast ? VK_WATCHDOG_TICK_MIN_MS : dog.tick_ms);
}

/*
 * A tick. The dispatch it finds for the first time is noted with the CPU
 * time now; one it finds again is ended once it has used its budget since,
 * if it runs app code now (else the next tick, a millisecond of CPU later,
 * looks again).
 */
static void tick(const void *context)
{
	uint32_t budget = dog.budget_ms;
	uint64_t now = cpu_ns(), used;
	uintptr_t pc;
	struct vk_fault_info info;

	if (!budget || dog.dispatch != dog.seen_dispatch) {
		dog.seen_dispatch = dog.dispatch;
		dog.seen_cpu_ns = now;
		set_fast(0);
		return;
	}
	used = now - dog.seen_cpu_ns;
	if (used < budget * NS_PER_MS)
		return;
	pc = vk_fault_context_pc(context);
	if (!vk_code_contains(pc)) {
		set_fast(1);
		return;
	}
	set_fast(0);
	memset(&info, 0, sizeof(info));
	info.signal = SIGXCPU;
	info.code = (void *)pc;
	info.watchdog = 1;
	info.cpu_ms = (uint32_t)(used / NS_PER_MS);
	/* Returns only when no micro-process is armed: nothing to end. */
	vk_fault_escape(&info);
}

static void handler(int signal_number, siginfo_t *info, void *context)
{
	/* Ours is a timer's, with our address; anything else keeps its meaning. */
	if (info->si_code != SI_TIMER || info->si_value.sival_ptr != &dog) {
		signal(signal_number, SIG_DFL);
		raise(signal_number);
		return;
	}
	tick(context);
}

int vk_watchdog_install(void)
{
	struct sigaction action;

	if (dog.installed)
		return -EBUSY;
	memset(&action, 0, sizeof(action));
	action.sa_sigaction = handler;
	/* As vk_fault's: left by siglongjmp, on the alternate stack. */
	action.sa_flags = SA_SIGINFO | SA_ONSTACK | SA_NODEFER | SA_RESTART;
	sigemptyset(&action.sa_mask);
	if (sigaction(SIGXCPU, &action, &dog.old_action) == -1)
		return -errno;
	dog.installed = 1;
	return 0;
}

void vk_watchdog_remove(void)
{
	if (!dog.installed)
		return;
	if (dog.has_timer)
		timer_delete(dog.timer);
	sigaction(SIGXCPU, &dog.old_action, NULL);
	memset(&dog, 0, sizeof(dog));
}

static uint32_t tick_for(uint32_t budget_ms)
{
	uint32_t tick = budget_ms / 4;

	if (tick < VK_WATCHDOG_TICK_MIN_MS)
		return VK_WATCHDOG_TICK_MIN_MS;
	return tick > VK_WATCHDOG_TICK_MAX_MS ? VK_WATCHDOG_TICK_MAX_MS : tick;
}

static int create_timer(void)
{
	struct sigevent event;

	memset(&event, 0, sizeof(event));
	/* This thread's CPU clock, signalled to this thread: it ticks only while we compute. */
	event.sigev_notify = SIGEV_THREAD_ID;
	event.sigev_notify_thread_id = gettid();
	event.sigev_signo = SIGXCPU;
	event.sigev_value.sival_ptr = &dog;
	if (timer_create(CLOCK_THREAD_CPUTIME_ID, &event, &dog.timer) == -1)
		return -errno;
	dog.has_timer = 1;
	return 0;
}

int vk_watchdog_watch(uint32_t budget_ms)
{
	uint32_t tick;
	int rc;

	if (!budget_ms || !dog.installed)
		return 0;
	tick = tick_for(budget_ms);
	if (dog.has_timer && tick >= dog.tick_ms)
		return 0;
	if (!dog.has_timer && (rc = create_timer()) < 0)
		return rc;
	dog.tick_ms = tick;
	return dog.fast ? 0 : set_period(tick);
}

void vk_watchdog_begin(uint32_t budget_ms)
{
	dog.dispatch++;
	dog.budget_ms = budget_ms;
}

void vk_watchdog_end(void)
{
	dog.budget_ms = 0;
}
