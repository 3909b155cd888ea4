/*
 * kv_shard: the kv service, one shard per worker (VK_SERVICE_SHARDED).
 *
 * It holds the keys that hash to its worker in a kv_store in its own
 * heap, accepts the channels that connections open to it, and answers each
 * channel's requests (kv_wire.h) in order, a coroutine per channel. It
 * starts empty: what a shard held is gone when it is restarted (after a
 * fault) and when the workers are replaced (reload).
 */
#ifndef KV_SHARD_H
#define KV_SHARD_H

#include "vk.h"

/* The service's main coroutine; vk_arg() is the app's struct kv_config. */
void kv_shard_main(struct vk_thread *that);

#endif
