/*
 * kv_wire: what a kv connection and a kv shard say on their channel.
 *
 * A request is a header then the key then the value (each may be empty);
 * the shard answers each request, in order, with a 32-bit length then that
 * many bytes of the RESP reply the client gets. Both ends are processes of
 * one build of one app, so the header is in host order.
 */
#ifndef KV_WIRE_H
#define KV_WIRE_H

#include <stdint.h>

enum kv_op {
	KV_GET = 1,
	KV_SET,	   /* arg: milliseconds to live, 0 for ever; flags: KV_SET_* */
	KV_DEL,	   /* one key; the connection adds up the replies of DEL k1 k2 ... */
	KV_EXISTS, /* one key, likewise */
	KV_INCR,   /* arg: by how much */
	KV_EXPIRE, /* arg: milliseconds to live (<= 0: remove now) */
	KV_TTL,
	KV_CRASH, /* DEBUG SEGFAULT, when opt.crash_command = on: for tests */
	/*
	 * The first and only request of a channel that carries a client's
	 * own RESP stream from here on (kv.h: the connection handed off).
	 */
	KV_RESP,
};

/* SET's flags, as Redis 7 has them (the connection has checked they go together). */
enum {
	KV_SET_NX = 1,	    /* only when the key is not there: else a nil reply */
	KV_SET_XX = 2,	    /* only when it is there */
	KV_SET_GET = 4,	    /* the reply is the old value (or nil), whether set or not */
	KV_SET_KEEPTTL = 8, /* a key that was there keeps its time to live */
	KV_SET_AT = 16,	    /* arg is the unix time (ms) it expires at, not a time to live */
};

struct kv_request {
	uint32_t op;
	uint32_t klen;
	uint32_t vlen;
	uint32_t flags; /* KV_SET's */
	int64_t arg;
};

/* The service's name, sharded over the workers (VK_SERVICE_SHARDED). */
#define KV_SERVICE "kv"

#endif
