/*
 * libvk: write network services as straight-line blocking code that runs as
 * stackless coroutines in isolated micro-processes. See vk(3).
 */
#ifndef VK_H
#define VK_H

#include "vk_state.h"
#include "vk_future.h"
#include "vk_socket.h"
#include "vk_heap.h"
#include "vk_proc.h"
#include "vk_kern.h"

#endif
