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

#include <stddef.h>
#include <stdint.h>

#include "kv_wire.h"
#include "vk.h"

/*
 * What every coroutine of a shard shares: a connection handed to the
 * shard (kv.h) runs the commands on its keys with the calls below.
 */
struct kv_shard;
struct kv_config;

/* The shard's heap (the app's VK_SERVICES). */
#define KV_SHARD_HEAP (64u << 20)

/*
 * The most of the shard's heap one client (handoff on) or one channel's
 * requests (handoff off) may take at once for its buffers: what the shard
 * keeps out of its store (kv_shard_main()) less the room a client must
 * find to be accepted. The app refuses an opt.max_request it cannot hold.
 */
size_t kv_shard_room(const struct kv_config *config);

/* The service's main coroutine; vk_arg() is the app's struct kv_config. */
void kv_shard_main(struct vk_thread *that);

/* The shard's clock: milliseconds. */
int64_t kv_shard_now(const struct vk_thread *that);

/* Room every reply but a GET's (or SET ... GET's) fits in, its 4-byte length included. */
#define KV_SHARD_REPLY_MIN 128

/*
 * Carry out `req` (`key` and `val` its bytes) on the shard's store: its
 * reply (a 32-bit length, then the RESP reply) into `out`, which has `cap`
 * bytes (at least KV_SHARD_REPLY_MIN). Returns the bytes put there; or,
 * when the reply (a GET's) needs more than `cap`, nothing is done and the
 * bytes it needs are returned: call again with that room. A GET looked
 * the key up twice before (to size its reply, then to make it): 141
 * instructions of 1,461 a request (callgrind, redis-benchmark -P 16).
 */
size_t kv_shard_execute(struct kv_shard *shard, const struct kv_request *req, const char *key,
			const char *val, int64_t now, char *out, size_t cap);

#endif
