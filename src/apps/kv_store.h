/*
 * kv_store: the keys of one kv shard, in memory the shard's micro-process
 * owns (one arena from its heap: the heap's own allocator is a stack,
 * which keys that come and go in any order would fragment).
 *
 * Inside the arena: items in size classes (16-byte steps up to 128 bytes,
 * then four classes per power of two), each class with a free list; a
 * chained hash table that doubles when it holds more keys than buckets.
 * Keys expire lazily (a read finds them gone) and a few buckets at a time
 * (kv_store_expire()), so expired keys give their memory back even when
 * nobody reads them. Times are milliseconds of the caller's clock.
 */
#ifndef KV_STORE_H
#define KV_STORE_H

#include <stddef.h>
#include <stdint.h>

struct kv_store;

/* Results of the operations that can fail. */
enum {
	KV_OK = 0,
	KV_NOMEM = -1,	 /* the arena is full */
	KV_NOTINT = -2,	 /* INCR of a value that is no integer */
	KV_OVERFLOW = -3 /* INCR past the int64 range */
};

/*
 * A store in the `size` bytes at `arena` (aligned to 16), which hold the
 * store's own state too. NULL when it is too small.
 */
struct kv_store *kv_store_init(void *arena, size_t size);

/*
 * The value of `key`, or NULL when there is none (or it expired). The
 * pointer is valid until the store next changes.
 */
const char *kv_store_get(struct kv_store *store, const char *key, size_t klen, int64_t now,
			 size_t *vlen);

/* The same, and when the key is there its expiry time (0: never) in *expire. */
const char *kv_store_lookup(struct kv_store *store, const char *key, size_t klen, int64_t now,
			    size_t *vlen, int64_t *expire);

/* Set `key` to the value, expiring at `expire` (0: never). KV_OK or KV_NOMEM. */
int kv_store_set(struct kv_store *store, const char *key, size_t klen, const char *val, size_t vlen,
		 int64_t expire, int64_t now);

/* Remove `key`; 1 if it was there. */
int kv_store_del(struct kv_store *store, const char *key, size_t klen, int64_t now);

/* Add `by` to the integer value of `key` (0 if none); the result in *out. */
int kv_store_incr(struct kv_store *store, const char *key, size_t klen, int64_t by, int64_t now,
		  int64_t *out);

/* Make `key` expire at `expire` (<= now: remove it now). 1 if the key was there. */
int kv_store_expire_at(struct kv_store *store, const char *key, size_t klen, int64_t expire,
		       int64_t now);

/* Milliseconds left: -2 when there is no key, -1 when it does not expire. */
int64_t kv_store_ttl(struct kv_store *store, const char *key, size_t klen, int64_t now);

/* Look at up to `buckets` buckets for expired keys and remove them. Returns how many. */
size_t kv_store_expire(struct kv_store *store, size_t buckets, int64_t now);

/* Keys held (expired ones not yet removed included). */
size_t kv_store_count(const struct kv_store *store);

#endif
