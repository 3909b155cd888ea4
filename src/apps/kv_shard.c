/*
 * kv_shard: the kv service; see kv_shard.h.
 */
#include "kv_shard.h"

#include <signal.h>
#include <string.h>

#include "kv.h"
#include "kv_config.h"
#include "kv_resp.h"
#include "kv_store.h"
#include "kv_wire.h"

/* Heap kept out of the store, for the coroutines of the channels. */
#define KV_SHARD_RESERVE (1u << 20)
/*
 * The same when the clients are handed to the shard (kv.h): each costs
 * about 4.5 KiB of coroutines here (its parser's buffers), so 1 MiB ran
 * out at 400 clients of redis-benchmark -c 400 (the shard ended with
 * ENOMEM); 16 MiB hold about 3,600, the store keeps 48 MiB.
 */
#define KV_SHARD_RESERVE_HANDOFF (16u << 20)
/*
 * Room a new client must find in the heap: its coroutines' states (about
 * 4.5 KiB with a handed-off client's parser), a reply larger than their own
 * buffers, and what the expirer and the other clients take meanwhile.
 */
#define KV_CLIENT_ROOM (32u << 10)
/* Expired keys nobody reads are removed this often, this many buckets at a time. */
#define KV_EXPIRE_EVERY_MS 100
#define KV_EXPIRE_BUCKETS 1024
/* A GET reply of a value up to this size is built in the coroutine's own buffer. */
#define KV_SMALL 480
/*
 * Replies to one channel gathered and written at once, when a read would
 * wait: one vk_write() per batch, not one (about 160 instructions of libvk)
 * a reply.
 */
#define KV_GATHER 512

static const char err_nomem[] = "-OOM the shard is out of memory\r\n";
static const char err_notint[] = "-ERR value is not an integer or out of range\r\n";
static const char err_overflow[] = "-ERR increment or decrement would overflow\r\n";
static const char err_op[] = "-ERR unknown shard request\r\n";
static const char err_set_time[] = "-ERR invalid expire time in 'set' command\r\n";
static const char err_expire_time[] = "-ERR invalid expire time in 'expire' command\r\n";

/* What every coroutine of a shard shares. */
struct kv_shard {
	struct kv_store *store;
	const struct kv_config *config;
};

/* The heap kept out of the store, of the `size` bytes left at the shard's start. */
static size_t reserve_of(const struct kv_config *config, size_t size)
{
	size_t reserve = config->handoff ? KV_SHARD_RESERVE_HANDOFF : KV_SHARD_RESERVE;

	return size > 2 * reserve ? reserve : size / 2;
}

size_t kv_shard_room(const struct kv_config *config)
{
	size_t reserve = reserve_of(config, KV_SHARD_HEAP);

	return reserve > KV_CLIENT_ROOM ? reserve - KV_CLIENT_ROOM : 0;
}

int64_t kv_shard_now(const struct vk_thread *that)
{
	return (int64_t)(vk_now(that) * 1000.0);
}

#define now_ms kv_shard_now

static void kv_expirer(struct vk_thread *that)
{
	struct {
		struct kv_shard *shard;
	} * self;

	vk_begin();
	self->shard = vk_arg();
	for (;;) {
		vk_sleep(KV_EXPIRE_EVERY_MS);
		kv_store_expire(self->shard->store, KV_EXPIRE_BUCKETS, now_ms(that));
	}
	vk_end();
}

/* A reply built in `out` after its 4-byte length: the length is filled in. */
static size_t reply_small(char *out, const char *resp, size_t len)
{
	uint32_t n = (uint32_t)len;

	memcpy(out, &n, 4);
	memcpy(out + 4, resp, len);
	return 4 + len;
}

static size_t reply_int(char *out, int64_t v)
{
	char text[24];

	return reply_small(out, text, kv_resp_format_int(text, v));
}

static size_t reply_status(char *out, int rc)
{
	switch (rc) {
	case KV_OK:
		return reply_small(out, "+OK\r\n", 5);
	case KV_NOTINT:
		return reply_small(out, err_notint, sizeof(err_notint) - 1);
	case KV_OVERFLOW:
		return reply_small(out, err_overflow, sizeof(err_overflow) - 1);
	default:
		return reply_small(out, err_nomem, sizeof(err_nomem) - 1);
	}
}

/*
 * The reply to a GET: "$N\r\n<value>\r\n" (or "$-1\r\n") with its length,
 * into `out` when it fits in `cap`; else the room it needs.
 */
static size_t reply_get(char *out, size_t cap, const char *value, size_t len)
{
	char head[24];
	size_t h;
	uint32_t n;

	if (!value)
		return reply_small(out, "$-1\r\n", 5);
	h = kv_resp_format_head(head, '$', len);
	if (4 + h + len + 2 > cap)
		return 4 + h + len + 2;
	n = (uint32_t)(h + len + 2);
	memcpy(out, &n, 4);
	memcpy(out + 4, head, h);
	memcpy(out + 4 + h, value, len);
	memcpy(out + 4 + h + len, "\r\n", 2);
	return 4 + n;
}

/* The value set, expiring at `expire` (0: never); one already past (EXAT 1) removes the key. */
static int store_put(struct kv_store *store, const struct kv_request *req, const char *key,
		     const char *val, int64_t expire, int64_t now)
{
	if (expire && expire <= now) {
		kv_store_del(store, key, req->klen, now);
		return KV_OK;
	}
	return kv_store_set(store, key, req->klen, val, req->vlen, expire, now);
}

/*
 * SET with its flags (kv_wire.h), as Redis 7 does it: with GET the reply
 * is the old value (made first, so that a reply larger than `cap` is
 * asked for before anything changes), whether NX or XX then let the value
 * be set or not.
 */
static size_t execute_set(struct kv_store *store, const struct kv_request *req, const char *key,
			  const char *val, int64_t now, char *out, size_t cap)
{
	const char *old;
	size_t vlen = 0, len = 0;
	int64_t expire = 0, old_expire = 0;
	int rc;

	if (req->flags & KV_SET_AT) {
		expire = req->arg;
	} else if (req->arg > 0) {
		/* A time past the end of int64 is refused, as Redis does, not wrapped
		 * into the past (which answered OK and lost the key). */
		if (req->arg > INT64_MAX - now)
			return reply_small(out, err_set_time, sizeof(err_set_time) - 1);
		expire = now + req->arg;
	}
	if (!(req->flags & (KV_SET_NX | KV_SET_XX | KV_SET_GET | KV_SET_KEEPTTL)))
		return reply_status(out, store_put(store, req, key, val, expire, now));
	old = kv_store_lookup(store, key, req->klen, now, &vlen, &old_expire);
	if (req->flags & KV_SET_GET) {
		len = reply_get(out, cap, old, vlen);
		if (len > cap)
			return len;
	}
	if ((req->flags & KV_SET_NX && old) || (req->flags & KV_SET_XX && !old))
		return len ? len : reply_small(out, "$-1\r\n", 5);
	if (req->flags & KV_SET_KEEPTTL && old)
		expire = old_expire;
	rc = store_put(store, req, key, val, expire, now);
	return rc == KV_OK && len ? len : reply_status(out, rc);
}

size_t kv_shard_execute(struct kv_shard *shard, const struct kv_request *req, const char *key,
			const char *val, int64_t now, char *out, size_t cap)
{
	struct kv_store *store = shard->store;
	const char *value;
	size_t vlen = 0;
	int64_t n;
	int rc;

	switch (req->op) {
	case KV_GET:
		value = kv_store_get(store, key, req->klen, now, &vlen);
		return reply_get(out, cap, value, vlen);
	case KV_SET:
		return execute_set(store, req, key, val, now, out, cap);
	case KV_DEL:
		return reply_int(out, kv_store_del(store, key, req->klen, now));
	case KV_EXISTS:
		return reply_int(out, kv_store_get(store, key, req->klen, now, &vlen) != NULL);
	case KV_INCR:
		rc = kv_store_incr(store, key, req->klen, req->arg, now, &n);
		return rc == KV_OK ? reply_int(out, n) : reply_status(out, rc);
	case KV_EXPIRE:
		if (req->arg > INT64_MAX - now)
			return reply_small(out, err_expire_time, sizeof(err_expire_time) - 1);
		return reply_int(out,
				 kv_store_expire_at(store, key, req->klen, now + req->arg, now));
	case KV_TTL:
		n = kv_store_ttl(store, key, req->klen, now);
		return reply_int(out, n < 0 ? n : (n + 500) / 1000);
	case KV_CRASH:
		if (shard->config->crash_command)
			raise(SIGSEGV);
		break;
	}
	return reply_small(out, err_op, sizeof(err_op) - 1);
}

/* The bytes a socket holds, ready to read. */
static size_t held(const struct vk_socket *s)
{
	struct iovec iov[2];
	int n = vk_socket_peek_iov(s, iov);

	return n == 0 ? 0 : iov[0].iov_len + (n > 1 ? iov[1].iov_len : 0);
}

/*
 * Give back a request's or a reply's buffer, when it was taken from the
 * heap rather than `own` in the coroutine's state: `own` from then on.
 */
static void release(struct vk_thread *that, char **buf, char *own)
{
	if (*buf && *buf != own)
		vk_free(*buf);
	*buf = own;
}

/* One channel: requests in, replies out, in order, until the connection closes it. */
static void kv_serve(struct vk_thread *that)
{
	struct {
		struct kv_shard *shard;
		struct vk_socket *peer;
		struct kv_request req;
		char *in;  /* key and value, when larger than `small` */
		char *out; /* a reply, when larger than `reply` */
		struct kv_conn_arg conn;
		size_t need, len, gathered;
		ssize_t n;
		char small[KV_SMALL];
		char reply[KV_SMALL + 32];
		char gather[KV_GATHER]; /* replies made, to be written at once */
	} * self;

	vk_begin();
	self->shard = vk_arg();
	self->peer = that->socket;
	for (;;) {
		/* Replies go out before a read waits. */
		if (self->gathered && held(self->peer) < sizeof(self->req)) {
			vk_write(self->gather, self->gathered);
			self->gathered = 0;
		}
		vk_read(self->n, (char *)&self->req, sizeof(self->req));
		if (self->n == 0)
			break;
		if (self->n != (ssize_t)sizeof(self->req))
			vk_raise(EPROTO);
		if (self->req.op == KV_RESP) {
			/* A client's own stream from here on: its commands run here. */
			self->conn.config = self->shard->config;
			self->conn.shard = self->shard;
			vk_call(kv_conn, &self->conn);
			break;
		}
		self->need = (size_t)self->req.klen + self->req.vlen;
		if (self->need > self->shard->config->max_request)
			vk_raise(EPROTO);
		self->in = self->small;
		if (self->need > sizeof(self->small))
			vk_alloc(self->in, self->need);
		if (self->gathered &&
		    (held(self->peer) < self->need ||
		     sizeof(self->gather) - self->gathered < KV_SHARD_REPLY_MIN)) {
			vk_write(self->gather, self->gathered);
			self->gathered = 0;
		}
		vk_read(self->n, self->in, self->need);
		if ((size_t)self->n != self->need)
			vk_raise(EPROTO);
		self->len = kv_shard_execute(
		    self->shard, &self->req, self->in, self->in + self->req.klen, now_ms(that),
		    self->gather + self->gathered, sizeof(self->gather) - self->gathered);
		if (self->len <= sizeof(self->gather) - self->gathered) {
			self->gathered += self->len;
			release(that, &self->in, self->small);
			continue;
		}
		/* A reply larger than the room left: nothing was done yet. */
		if (self->gathered) {
			vk_write(self->gather, self->gathered);
			self->gathered = 0;
		}
		/* No blocking from here to the write: the store does not change meanwhile. */
		self->out = self->reply;
		self->len =
		    kv_shard_execute(self->shard, &self->req, self->in, self->in + self->req.klen,
				     now_ms(that), self->out, sizeof(self->reply));
		if (self->len > sizeof(self->reply)) {
			vk_alloc(self->out, self->len);
			self->len = kv_shard_execute(self->shard, &self->req, self->in,
						     self->in + self->req.klen, now_ms(that),
						     self->out, self->len);
		}
		vk_write(self->out, self->len);
		release(that, &self->out, self->reply);
		release(that, &self->in, self->small);
	}
	vk_finally();
	/*
	 * A connection that went away, or spoke nonsense: its channel closes,
	 * the shard goes on, and a request or reply cut short gives its buffer
	 * back (a client gone in the middle of a GET of a 480k value kept 480k
	 * of the shard's heap for good, and the next such GET failed).
	 */
	release(that, &self->out, self->reply);
	release(that, &self->in, self->small);
	vk_clear_error();
	vk_channel_close(self->peer);
	vk_end();
}

void kv_shard_main(struct vk_thread *that)
{
	struct {
		struct kv_shard shard;
		struct vk_socket *peer;
		char *arena;
		size_t size;
	} * self;

	vk_begin();
	self->shard.config = vk_arg();
	self->size = vk_heap_left();
	self->size -= reserve_of(self->shard.config, self->size);
	self->size &= ~(size_t)15;
	/* Not zeroed: pages the store never reaches stay out of memory. */
	vk_alloc(self->arena, self->size);
	self->shard.store = kv_store_init(self->arena, self->size);
	if (!self->shard.store)
		vk_raise(ENOMEM);
	vk_spawn_detached(kv_expirer, &self->shard);
	for (;;) {
		vk_channel_accept(self->peer);
		/*
		 * A client that finds no room is refused: its channel closes and
		 * the store and every other client stay. Raising here would end
		 * the shard, and with it the store and all its clients (5,000
		 * redis clients on one worker's 16 MiB did: kv-handoff-full.sh).
		 */
		if (vk_heap_left() < KV_CLIENT_ROOM) {
			vk_channel_close(self->peer);
			continue;
		}
		vk_use_socket(self->peer);
		if (!vk_thread_spawn(that, kv_serve, &self->shard, 1))
			vk_channel_close(self->peer);
	}
	vk_end();
}
