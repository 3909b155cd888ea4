#include "vk_fault.h"

#include <errno.h>
#include <execinfo.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <ucontext.h>
#include <unistd.h>

#include "vk_code.h"

/*
 * SIGABRT too: abort() and a failed assert() in app code are that
 * micro-process's end, not the worker's. glibc's abort() raises it with
 * its lock released, so leaving its handler by siglongjmp leaves nothing
 * held (glibc 2.36, stage 1 of abort()).
 */
static const int fault_signals[] = {SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT};
#define FAULT_SIGNALS (sizeof(fault_signals) / sizeof(fault_signals[0]))

static struct {
	int installed;
	sigjmp_buf *volatile jump; /* armed: where a fault of the running code goes */
	volatile sig_atomic_t signal;
	void *volatile address;
	volatile sig_atomic_t has_address;
	void *volatile code;
	void *volatile app_code;
	volatile sig_atomic_t watchdog;
	volatile uint32_t cpu_ms;
	void *alt_stack;
	struct sigaction old_actions[FAULT_SIGNALS];
} fault;

/*
 * Whether this process's own code raised the signal: a trap (the kernel
 * sets si_code > 0) or a raise() of our own, abort()'s included (si_code
 * SI_TKILL, our pid). A signal sent by kill(2) from another process has
 * si_code <= 0 and that process's pid.
 */
static int raised_here(const siginfo_t *info)
{
	return info->si_code > 0 || info->si_pid == getpid();
}

/* Give the signal its default action: the process dies of it, with a core. */
static void act_as_signal(int signal_number, const siginfo_t *info)
{
	signal(signal_number, SIG_DFL);
	/* A trap recurs by itself when the handler returns; a sent signal must be re-raised. */
	if (info->si_code <= 0)
		raise(signal_number);
}

uintptr_t vk_fault_context_pc(const void *context)
{
	const ucontext_t *uc = context;

#if defined(__x86_64__)
	return (uintptr_t)uc->uc_mcontext.gregs[REG_RIP];
#elif defined(__i386__)
	return (uintptr_t)uc->uc_mcontext.gregs[REG_EIP];
#elif defined(__aarch64__)
	return (uintptr_t)uc->uc_mcontext.pc;
#else
	(void)uc;
	return 0;
#endif
}

/* Frames looked at for the app code that called into a library and died there. */
#define APP_FRAMES_MAX 32

/*
 * The innermost app frame on the stack, for a fault outside app code
 * (abort() and assert() raise from the C library). backtrace() was primed
 * at install, so it does not load its unwinder here.
 */
static void *innermost_app_frame(void)
{
	void *frames[APP_FRAMES_MAX];
	int n = backtrace(frames, APP_FRAMES_MAX);

	for (int i = 0; i < n; i++)
		if (vk_code_contains((uintptr_t)frames[i]))
			return frames[i];
	return NULL;
}

static void fault_handler(int signal_number, siginfo_t *info, void *context)
{
	sigjmp_buf *jump = fault.jump;
	uintptr_t pc;

	if (!jump || !raised_here(info)) {
		act_as_signal(signal_number, info);
		return;
	}
	pc = vk_fault_context_pc(context);
	fault.signal = signal_number;
	fault.address = info->si_addr;
	/* Only a trap sets si_addr; a raise() or abort() fills that union with its pid. */
	fault.has_address = info->si_code > 0;
	fault.code = (void *)pc;
	fault.app_code = vk_code_contains(pc) ? NULL : innermost_app_frame();
	fault.watchdog = 0;
	fault.jump = NULL;
	siglongjmp(*jump, 1);
}

void vk_fault_escape(const struct vk_fault_info *info)
{
	sigjmp_buf *jump = fault.jump;

	if (!jump)
		return;
	fault.signal = info->signal;
	fault.address = info->address;
	fault.has_address = info->has_address;
	fault.code = info->code;
	fault.app_code = info->app_code;
	fault.watchdog = info->watchdog;
	fault.cpu_ms = info->cpu_ms;
	fault.jump = NULL;
	siglongjmp(*jump, 1);
}

static void restore_actions(size_t count)
{
	for (size_t i = 0; i < count; i++)
		sigaction(fault_signals[i], &fault.old_actions[i], NULL);
}

static void remove_stack(void)
{
	stack_t stack = {.ss_flags = SS_DISABLE};

	sigaltstack(&stack, NULL);
	free(fault.alt_stack);
	fault.alt_stack = NULL;
}

static int install_stack(void)
{
	stack_t stack;

	stack.ss_size = SIGSTKSZ > 65536 ? SIGSTKSZ : 65536;
	stack.ss_sp = malloc(stack.ss_size);
	stack.ss_flags = 0;
	if (!stack.ss_sp)
		return -ENOMEM;
	if (sigaltstack(&stack, NULL) == -1) {
		int error = errno;

		free(stack.ss_sp);
		return -error;
	}
	fault.alt_stack = stack.ss_sp;
	return 0;
}

int vk_fault_install(void)
{
	struct sigaction action;
	int rc;

	void *frame;

	if (fault.installed)
		return -EBUSY;
	/* The first backtrace() loads the unwinder (dlopen, malloc): not in a handler. */
	backtrace(&frame, 1);
	rc = install_stack();
	if (rc < 0)
		return rc;
	memset(&action, 0, sizeof(action));
	action.sa_sigaction = fault_handler;
	/* NODEFER: we leave the handler by siglongjmp, with no mask to restore. */
	action.sa_flags = SA_SIGINFO | SA_ONSTACK | SA_NODEFER;
	sigemptyset(&action.sa_mask);
	for (size_t i = 0; i < FAULT_SIGNALS; i++) {
		if (sigaction(fault_signals[i], &action, &fault.old_actions[i]) == -1) {
			rc = -errno;
			restore_actions(i);
			remove_stack();
			return rc;
		}
	}
	fault.installed = 1;
	return 0;
}

void vk_fault_remove(void)
{
	if (!fault.installed)
		return;
	restore_actions(FAULT_SIGNALS);
	remove_stack();
	fault.jump = NULL;
	fault.installed = 0;
}

void vk_fault_arm(sigjmp_buf *jump)
{
	fault.jump = jump;
}

void vk_fault_disarm(void)
{
	fault.jump = NULL;
}

struct vk_fault_info vk_fault_last(void)
{
	struct vk_fault_info info = {.signal = fault.signal,
				     .address = fault.address,
				     .has_address = fault.has_address,
				     .code = fault.code,
				     .app_code = fault.app_code,
				     .watchdog = fault.watchdog,
				     .cpu_ms = fault.cpu_ms};

	return info;
}

const char *vk_fault_signal_name(int signal_number)
{
	switch (signal_number) {
	case SIGSEGV:
		return "SIGSEGV";
	case SIGBUS:
		return "SIGBUS";
	case SIGFPE:
		return "SIGFPE";
	case SIGILL:
		return "SIGILL";
	case SIGABRT:
		return "SIGABRT";
	case SIGXCPU:
		return "SIGXCPU";
	}
	return "signal";
}
