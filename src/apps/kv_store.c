/*
 * kv_store: one shard's keys; see kv_store.h.
 */
#include "kv_store.h"

#include <string.h>

/* Size classes: 16 .. 128 by 16 (8), then 4 per power of two. */
#define KV_CLASSES 160
#define KV_BUCKETS_MIN 1024

struct kv_item {
	struct kv_item *next; /* in its bucket */
	int64_t expire;	      /* 0: never */
	uint64_t hash;
	uint32_t klen;
	uint32_t vlen;
	uint32_t cls;
	char data[]; /* the key, then the value */
};

struct kv_free {
	struct kv_free *next;
};

struct kv_store {
	char *base;
	size_t size;
	size_t top; /* bump pointer: below it every byte is in a block */
	struct kv_free *free[KV_CLASSES];
	struct kv_item **buckets;
	size_t nbuckets; /* a power of two */
	unsigned buckets_cls;
	size_t count;
	size_t cursor; /* next bucket kv_store_expire() looks at */
};

/* The class of a block of `n` bytes, and its size. */
static unsigned size_class(size_t n, size_t *size)
{
	unsigned b;
	size_t step;

	if (n <= 128) {
		*size = n ? (n + 15) & ~(size_t)15 : 16;
		return (unsigned)(*size >> 4) - 1;
	}
	b = 63u - (unsigned)__builtin_clzll((unsigned long long)(n - 1));
	step = (size_t)1 << (b - 2);
	*size = (n + step - 1) & ~(step - 1);
	return 8 + (b - 7) * 4 + (unsigned)(*size >> (b - 2)) - 5;
}

static void *block_alloc(struct kv_store *s, size_t n, unsigned *cls)
{
	size_t size;
	unsigned c = size_class(n, &size);
	void *p;

	if (c >= KV_CLASSES)
		return NULL;
	*cls = c;
	if (s->free[c]) {
		p = s->free[c];
		s->free[c] = s->free[c]->next;
		return p;
	}
	if (size > s->size - s->top)
		return NULL;
	p = s->base + s->top;
	s->top += size;
	return p;
}

static void block_free(struct kv_store *s, void *p, unsigned cls)
{
	struct kv_free *f = p;

	f->next = s->free[cls];
	s->free[cls] = f;
}

/* The block size of class `cls`. */
static size_t class_size(unsigned cls)
{
	unsigned b;

	if (cls < 8)
		return ((size_t)cls + 1) << 4;
	b = 7 + (cls - 8) / 4;
	return ((size_t)(cls - 8) % 4 + 5) << (b - 2);
}

/*
 * The key's hash for the buckets: 8 bytes at a time (the shards are chosen
 * by FNV-1a, in the bus, independently), finished with a 64-bit mixer.
 * FNV-1a a byte at a time cost about 80 instructions of a 16-byte key's
 * lookup (callgrind, redis-benchmark -P 16).
 */
static uint64_t hash_key(const char *key, size_t len)
{
	uint64_t h = 0x9e3779b97f4a7c15ull ^ (len * 0xff51afd7ed558ccdull);
	uint64_t w;

	for (; len >= 8; key += 8, len -= 8) {
		memcpy(&w, key, 8);
		h = (h ^ w) * 0x9fb21c651e98df25ull;
		h ^= h >> 29;
	}
	if (len) {
		w = 0;
		memcpy(&w, key, len);
		h = (h ^ w) * 0x9fb21c651e98df25ull;
		h ^= h >> 29;
	}
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdull;
	h ^= h >> 33;
	h *= 0xc4ceb9fe1a85ec53ull;
	h ^= h >> 33;
	return h;
}

struct kv_store *kv_store_init(void *arena, size_t size)
{
	struct kv_store *s = arena;
	size_t bytes = KV_BUCKETS_MIN * sizeof(*s->buckets);

	if (size < sizeof(*s) + bytes + 4096)
		return NULL;
	memset(s, 0, sizeof(*s));
	s->base = (char *)arena;
	s->size = size;
	s->top = (sizeof(*s) + 15) & ~(size_t)15;
	s->buckets = block_alloc(s, bytes, &s->buckets_cls);
	if (!s->buckets)
		return NULL;
	memset(s->buckets, 0, bytes);
	s->nbuckets = KV_BUCKETS_MIN;
	return s;
}

/* Twice the buckets, when the arena has room for them; else keep going longer. */
static void grow(struct kv_store *s)
{
	size_t n = s->nbuckets * 2;
	unsigned cls;
	struct kv_item **fresh = block_alloc(s, n * sizeof(*fresh), &cls);

	if (!fresh)
		return;
	memset(fresh, 0, n * sizeof(*fresh));
	for (size_t i = 0; i < s->nbuckets; i++) {
		while (s->buckets[i]) {
			struct kv_item *it = s->buckets[i];

			s->buckets[i] = it->next;
			it->next = fresh[it->hash & (n - 1)];
			fresh[it->hash & (n - 1)] = it;
		}
	}
	block_free(s, s->buckets, s->buckets_cls);
	s->buckets = fresh;
	s->buckets_cls = cls;
	s->nbuckets = n;
}

static void unlink_item(struct kv_store *s, struct kv_item **link)
{
	struct kv_item *it = *link;

	*link = it->next;
	s->count--;
	block_free(s, it, it->cls);
}

/* The link to `key`'s item, or to the NULL ending its bucket; drops it if expired. */
static struct kv_item **find(struct kv_store *s, const char *key, size_t klen, uint64_t h,
			     int64_t now)
{
	struct kv_item **link = &s->buckets[h & (s->nbuckets - 1)];

	for (; *link; link = &(*link)->next) {
		struct kv_item *it = *link;

		if (it->hash != h || it->klen != klen || memcmp(it->data, key, klen) != 0)
			continue;
		if (it->expire && it->expire <= now) {
			unlink_item(s, link);
			/* The bucket's end is further on: find it again. */
			while (*link)
				link = &(*link)->next;
		}
		return link;
	}
	return link;
}

const char *kv_store_lookup(struct kv_store *s, const char *key, size_t klen, int64_t now,
			    size_t *vlen, int64_t *expire)
{
	struct kv_item *it = *find(s, key, klen, hash_key(key, klen), now);

	if (!it)
		return NULL;
	*vlen = it->vlen;
	*expire = it->expire;
	return it->data + it->klen;
}

const char *kv_store_get(struct kv_store *s, const char *key, size_t klen, int64_t now,
			 size_t *vlen)
{
	int64_t expire;

	return kv_store_lookup(s, key, klen, now, vlen, &expire);
}

int kv_store_set(struct kv_store *s, const char *key, size_t klen, const char *val, size_t vlen,
		 int64_t expire, int64_t now)
{
	uint64_t h = hash_key(key, klen);
	struct kv_item **link = find(s, key, klen, h, now);
	struct kv_item *it = *link;
	size_t need = sizeof(*it) + klen + vlen;
	unsigned cls;

	if (klen > UINT32_MAX || vlen > UINT32_MAX)
		return KV_NOMEM;
	/* Overwritten in place when its block still fits the value. */
	if (it && class_size(it->cls) >= need) {
		memmove(it->data + klen, val, vlen);
		it->vlen = (uint32_t)vlen;
		it->expire = expire;
		return KV_OK;
	}
	it = block_alloc(s, need, &cls);
	if (!it)
		return KV_NOMEM;
	it->expire = expire;
	it->hash = h;
	it->klen = (uint32_t)klen;
	it->vlen = (uint32_t)vlen;
	it->cls = cls;
	memcpy(it->data, key, klen);
	memcpy(it->data + klen, val, vlen);
	if (*link) {
		it->next = (*link)->next;
		block_free(s, *link, (*link)->cls);
		*link = it;
		return KV_OK;
	}
	it->next = NULL;
	*link = it;
	if (++s->count > s->nbuckets)
		grow(s);
	return KV_OK;
}

int kv_store_del(struct kv_store *s, const char *key, size_t klen, int64_t now)
{
	struct kv_item **link = find(s, key, klen, hash_key(key, klen), now);

	if (!*link)
		return 0;
	unlink_item(s, link);
	return 1;
}

/* The value as an int64, as Redis reads it: 0, or -1. */
static int value_int(const char *v, size_t len, int64_t *out)
{
	uint64_t n = 0;
	size_t i = 0;
	int neg = 0;

	if (len == 0 || len > 20)
		return -1;
	if (v[0] == '-') {
		neg = 1;
		i = 1;
	}
	/* No digits, a leading zero, or "-0": not canonical, not a number. */
	if (i == len || (v[i] == '0' && (len > i + 1 || neg)))
		return -1;
	for (; i < len; i++) {
		unsigned d = (unsigned)(v[i] - '0');

		if (d > 9 || n > (UINT64_MAX - d) / 10)
			return -1;
		n = n * 10 + d;
	}
	if (neg ? n > (uint64_t)INT64_MAX + 1 : n > (uint64_t)INT64_MAX)
		return -1;
	*out = neg ? (int64_t)(0 - n) : (int64_t)n;
	return 0;
}

int kv_store_incr(struct kv_store *s, const char *key, size_t klen, int64_t by, int64_t now,
		  int64_t *out)
{
	struct kv_item *it = *find(s, key, klen, hash_key(key, klen), now);
	int64_t v = 0, expire = 0;
	char text[24];
	size_t len = 0;
	uint64_t u;

	if (it) {
		if (value_int(it->data + it->klen, it->vlen, &v) < 0)
			return KV_NOTINT;
		expire = it->expire;
	}
	if ((by > 0 && v > INT64_MAX - by) || (by < 0 && v < INT64_MIN - by))
		return KV_OVERFLOW;
	v += by;
	u = v < 0 ? 0 - (uint64_t)v : (uint64_t)v;
	do {
		text[sizeof(text) - 1 - len++] = (char)('0' + u % 10);
		u /= 10;
	} while (u);
	if (v < 0)
		text[sizeof(text) - 1 - len++] = '-';
	*out = v;
	/* INCR keeps the key's time to live. */
	return kv_store_set(s, key, klen, text + sizeof(text) - len, len, expire, now);
}

int kv_store_expire_at(struct kv_store *s, const char *key, size_t klen, int64_t expire,
		       int64_t now)
{
	struct kv_item **link = find(s, key, klen, hash_key(key, klen), now);

	if (!*link)
		return 0;
	if (expire <= now)
		unlink_item(s, link);
	else
		(*link)->expire = expire;
	return 1;
}

int64_t kv_store_ttl(struct kv_store *s, const char *key, size_t klen, int64_t now)
{
	struct kv_item *it = *find(s, key, klen, hash_key(key, klen), now);

	if (!it)
		return -2;
	if (!it->expire)
		return -1;
	return it->expire - now;
}

size_t kv_store_expire(struct kv_store *s, size_t buckets, int64_t now)
{
	size_t removed = 0;

	for (size_t n = 0; n < buckets && n < s->nbuckets; n++) {
		struct kv_item **link = &s->buckets[s->cursor];

		while (*link) {
			if ((*link)->expire && (*link)->expire <= now) {
				unlink_item(s, link);
				removed++;
			} else {
				link = &(*link)->next;
			}
		}
		s->cursor = (s->cursor + 1) & (s->nbuckets - 1);
	}
	return removed;
}

size_t kv_store_count(const struct kv_store *s)
{
	return s->count;
}
