/*
 * vk_list: the kernel's doubly linked lists are <sys/queue.h>'s LIST
 * (an element holds its next and the address of the pointer to it, so it
 * leaves its list in O(1) without knowing the head).
 *
 * An element that may or may not be listed when it is taken out starts
 * zeroed and leaves with vk_list_unlink(), which does nothing to an element
 * that is not listed and leaves it unlisted (vk_list_linked() is then 0).
 */
#ifndef VK_LIST_H
#define VK_LIST_H

#include "vk_internal.h"

#include <sys/queue.h>

#define vk_list_linked(elm, field) ((elm)->field.le_prev != NULL)

#define vk_list_unlink(elm, field)                   \
	do {                                         \
		if (vk_list_linked(elm, field)) {    \
			LIST_REMOVE(elm, field);     \
			(elm)->field.le_next = NULL; \
			(elm)->field.le_prev = NULL; \
		}                                    \
	} while (0)

#endif
