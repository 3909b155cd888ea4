/*
 * vk_internal.h: included first by every header that is internal to libvk.
 *
 * Internal headers describe the kernel's own structures (heaps, processes,
 * descriptors, the scheduler). They are not installed, and an app that
 * reaches one anyway stops compiling here: apps see the API of vk(3) only,
 * so that what they can touch without a cast is their own heap. libvk,
 * vkd and libvk's tests build with -DVK_INTERNAL.
 */
#ifndef VK_INTERNAL_H
#define VK_INTERNAL_H

#ifndef VK_INTERNAL
#error "this header is internal to libvk; apps include vk.h (see vk(3))"
#endif

#endif
