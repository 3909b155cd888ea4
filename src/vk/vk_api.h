/*
 * vk_api.h: what vkd exports to modules.
 *
 * libvk and vkd are built with -fvisibility=hidden: of all their
 * functions, a module can resolve only those declared between
 * VK_API_BEGIN and VK_API_END in the installed headers. The kernel's own
 * functions (vk_kern_*, vk_fault_*, vk_pool_*, ...) are not in the
 * dynamic symbol table at all, so a module that declares one by hand does
 * not load.
 */
#ifndef VK_API_H
#define VK_API_H

#define VK_API_BEGIN _Pragma("GCC visibility push(default)")
#define VK_API_END _Pragma("GCC visibility pop")

#endif
