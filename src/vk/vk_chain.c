#include "vk_chain.h"

#include <errno.h>
#include <stdlib.h>

static int grow(struct vk_chain *chain)
{
	size_t size = chain->size ? chain->size * 2 : VK_CHAIN_MIN_BUCKETS;
	struct vk_chain_link **fresh = calloc(size, sizeof(*fresh));

	if (!fresh)
		return -ENOMEM;
	for (size_t i = 0; i < chain->size; i++) {
		while (chain->buckets[i]) {
			struct vk_chain_link *link = chain->buckets[i];
			size_t at = link->hash & (size - 1);

			chain->buckets[i] = link->next;
			link->next = fresh[at];
			fresh[at] = link;
		}
	}
	free(chain->buckets);
	chain->buckets = fresh;
	chain->size = size;
	return 0;
}

int vk_chain_insert(struct vk_chain *chain, struct vk_chain_link *link, size_t hash)
{
	size_t at;

	if (chain->count >= chain->size && grow(chain) < 0)
		return -ENOMEM;
	at = hash & (chain->size - 1);
	link->hash = hash;
	link->next = chain->buckets[at];
	chain->buckets[at] = link;
	chain->count++;
	return 0;
}

struct vk_chain_link *vk_chain_bucket(const struct vk_chain *chain, size_t hash)
{
	if (!chain->size)
		return NULL;
	return chain->buckets[hash & (chain->size - 1)];
}

int vk_chain_remove(struct vk_chain *chain, struct vk_chain_link *link)
{
	struct vk_chain_link **at;

	if (!chain->size)
		return -ENOENT;
	at = &chain->buckets[link->hash & (chain->size - 1)];
	while (*at && *at != link)
		at = &(*at)->next;
	if (!*at)
		return -ENOENT;
	*at = link->next;
	link->next = NULL;
	chain->count--;
	return 0;
}

void vk_chain_clear(struct vk_chain *chain, void (*drop)(struct vk_chain_link *link))
{
	for (size_t i = 0; i < chain->size; i++) {
		while (chain->buckets[i]) {
			struct vk_chain_link *link = chain->buckets[i];

			chain->buckets[i] = link->next;
			link->next = NULL;
			if (drop)
				drop(link);
		}
	}
	free(chain->buckets);
	chain->buckets = NULL;
	chain->size = 0;
	chain->count = 0;
}
