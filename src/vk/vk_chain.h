/*
 * vk_chain: a hash table of chained entries, for the kernel's own maps
 * (the bus's addresses and topics, a link's bridges).
 *
 * An entry embeds a struct vk_chain_link and is filed under a hash its
 * owner computed; the link keeps the hash, so that growing the table needs
 * no callback and a lookup compares hashes before keys. The table doubles
 * when it holds as many entries as buckets, from VK_CHAIN_MIN_BUCKETS.
 * It allocates only its bucket array; entries are the caller's.
 *
 * A lookup walks one bucket (a walk of every entry, the buckets in turn):
 *	for (l = vk_chain_bucket(c, h); l; l = l->next)
 *		if (l->hash == h && <the key of the entry holding l matches>)
 */
#ifndef VK_CHAIN_H
#define VK_CHAIN_H

#include <stddef.h>

#include "vk_internal.h"

#define VK_CHAIN_MIN_BUCKETS 64

struct vk_chain_link {
	struct vk_chain_link *next;
	size_t hash;
};

struct vk_chain {
	struct vk_chain_link **buckets;
	size_t size; /* buckets: 0 or a power of two */
	size_t count;
};

/* The entry of `type` whose vk_chain_link member `member` is at `link`. */
#define vk_chain_entry(link, type, member) ((type *)((char *)(link)-offsetof(type, member)))

/* File `link` under `hash`. Returns 0, or -ENOMEM when the table could not grow. */
int vk_chain_insert(struct vk_chain *chain, struct vk_chain_link *link, size_t hash);

/* The first link of the bucket `hash` falls in, or NULL. */
struct vk_chain_link *vk_chain_bucket(const struct vk_chain *chain, size_t hash);

/* Unfile `link`. Returns 0, or -ENOENT when it was not filed here. */
int vk_chain_remove(struct vk_chain *chain, struct vk_chain_link *link);

/*
 * Empty the table: `drop` (if not NULL) is called once with each entry's
 * link, unfiled, and the bucket array is freed.
 */
void vk_chain_clear(struct vk_chain *chain, void (*drop)(struct vk_chain_link *link));

#endif
