/*
 * libvk: write network services as straight-line blocking code that runs as
 * stackless coroutines in isolated micro-processes. See vk(3).
 *
 * This header and those it includes are the whole API an app may use; the
 * kernel's own structures are internal and not installed.
 */
#ifndef VK_H
#define VK_H

#include "vk_state.h"
#include "vk_future.h"
#include "vk_socket.h"
#include "vk_connect.h"
#include "vk_forward.h"
#include "vk_channel.h"
#include "vk_pubsub.h"
#include "vk_http.h"
#include "vk_parse.h"
#include "vk_addr.h"
#include "vk_app.h"

#endif
