/*
 * vk_code: the app code a worker runs, by address.
 *
 * The worker registers the executable segments of each app module it
 * loaded. Two things need to know whether an address is app code:
 *  - the watchdog (vk_fault.h) may end a micro-process that overran its
 *    budget only while the process runs its app's own code: code of libvk,
 *    libev or the C library may hold a lock or be halfway through a list
 *    (malloc), and jumping out of it would leave the worker broken;
 *  - log lines name a code address by module and offset (and symbol when
 *    dladdr(3) finds one), with the module's name as configured, not the
 *    /proc/self/fd path it was loaded from.
 *
 * One table per process, filled before serving; vk_code_contains() is
 * safe in a signal handler (it reads a fixed array).
 */
#ifndef VK_CODE_H
#define VK_CODE_H

#include <stddef.h>
#include <stdint.h>

#include "vk_internal.h"

/* Executable segments remembered at most; more are ignored (not app code). */
#define VK_CODE_MAX 64

/*
 * Register [start, end) as app code of the module `name` (kept as a
 * pointer: it must outlive the registration) loaded at `base`. Returns 0,
 * or -ENOSPC when the table is full.
 */
int vk_code_add(const char *name, uintptr_t base, uintptr_t start, uintptr_t end);

/*
 * Register every executable segment of the loaded object that contains
 * `address` (a symbol of a dlopen()ed module). Returns the number of
 * segments, or -ENOENT when no loaded object contains it, or -ENOSPC.
 */
int vk_code_add_object(const void *address, const char *name);

/* Forget every registration. */
void vk_code_clear(void);

/* Whether `pc` is in registered app code. Async-signal-safe. */
int vk_code_contains(uintptr_t pc);

/*
 * Describe a code address for a log line: "name+0xOFF" within a
 * registered module, "symbol+0xOFF (object)" or "object+0xOFF" where
 * dladdr(3) resolves it, else "0xADDR". Returns buf.
 */
const char *vk_code_describe(uintptr_t pc, char *buf, size_t size);

#endif
