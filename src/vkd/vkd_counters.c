/*
 * vkd_counters: the shared counters page; see vkd_counters.h.
 */
#include "config.h"

#include <errno.h>
#include <stddef.h>
#include <string.h>
#include <sys/mman.h>

#include "vkd_counters.h"

int vkd_counters_map(struct vkd_counters *counters, size_t count)
{
	void *map;

	if (count == 0 || count > VKD_SLOTS_MAX) {
		errno = EINVAL;
		return -1;
	}
	/* Anonymous memory is zeroed: every slot starts FREE. */
	map = mmap(NULL, count * sizeof(struct vkd_slot), PROT_READ | PROT_WRITE,
		   MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (map == MAP_FAILED)
		return -1;
	counters->slots = map;
	counters->count = count;
	return 0;
}

void vkd_counters_unmap(struct vkd_counters *counters)
{
	if (!counters->slots)
		return;
	munmap(counters->slots, counters->count * sizeof(struct vkd_slot));
	counters->slots = NULL;
	counters->count = 0;
}

struct vkd_slot *vkd_counters_take(struct vkd_counters *counters)
{
	for (size_t i = 0; i < counters->count; i++) {
		struct vkd_slot *slot = &counters->slots[i];

		if (vkd_slot_state(slot) != VKD_SLOT_FREE)
			continue;
		memset(slot, 0, sizeof(*slot));
		vkd_slot_set_state(slot, VKD_SLOT_STARTING);
		return slot;
	}
	errno = ENOSPC;
	return NULL;
}

void vkd_counters_release(struct vkd_slot *slot)
{
	memset(slot, 0, sizeof(*slot));
	vkd_slot_set_state(slot, VKD_SLOT_FREE);
}

/* struct vk_stats is a row of 64-bit counters (vk_stats.h): added word by word. */
_Static_assert(sizeof(struct vk_stats) % sizeof(uint64_t) == 0,
	       "struct vk_stats holds 64-bit counters only");
#define VKD_STATS_WORDS (sizeof(struct vk_stats) / sizeof(uint64_t))
#define VKD_STATS_WORD(field) (offsetof(struct vk_stats, field) / sizeof(uint64_t))

/*
 * The levels (vk_stats.h: they fall as well as rise) say how things are
 * now: a live worker's only, never carried over nor retired.
 */
static const size_t vkd_stats_levels[] = {
    VKD_STATS_WORD(procs_now),
    VKD_STATS_WORD(outbound_now),
    VKD_STATS_WORD(pooled_now),
    VKD_STATS_WORD(services_now),
};

static int vkd_stats_is_level(size_t word)
{
	for (size_t i = 0; i < sizeof(vkd_stats_levels) / sizeof(vkd_stats_levels[0]); i++)
		if (vkd_stats_levels[i] == word)
			return 1;
	return 0;
}

void vkd_stats_add(struct vk_stats *into, const struct vk_stats *from)
{
	uint64_t *to = (uint64_t *)into;
	const uint64_t *add = (const uint64_t *)from;

	for (size_t i = 0; i < VKD_STATS_WORDS; i++)
		if (!vkd_stats_is_level(i))
			to[i] += vkd_slot_read(&add[i]);
}

/* Add the levels of a live worker's counters. */
static void vkd_stats_add_levels(struct vk_stats *into, const struct vk_stats *from)
{
	uint64_t *to = (uint64_t *)into;
	const uint64_t *add = (const uint64_t *)from;

	for (size_t i = 0; i < sizeof(vkd_stats_levels) / sizeof(vkd_stats_levels[0]); i++)
		to[vkd_stats_levels[i]] += vkd_slot_read(&add[vkd_stats_levels[i]]);
}

void vkd_slot_stats(const struct vkd_slot *slot, struct vk_stats *out)
{
	memcpy(out, &slot->carried, sizeof(*out));
	vkd_stats_add(out, &slot->stats);
	vkd_stats_add_levels(out, &slot->stats);
}

void vkd_counters_retire(struct vkd_counters *counters, struct vkd_slot *slot,
			 struct vk_stats *carried)
{
	vkd_stats_add(&counters->retired, &slot->stats);
	if (carried)
		vkd_stats_add(carried, &slot->stats);
	vkd_counters_release(slot);
}

void vkd_counters_sum(const struct vkd_counters *counters, struct vkd_totals *totals)
{
	memset(totals, 0, sizeof(*totals));
	totals->stats = counters->retired;
	totals->restarts = counters->restarts;
	for (size_t i = 0; i < counters->count; i++) {
		const struct vkd_slot *slot = &counters->slots[i];
		uint32_t state = vkd_slot_state(slot);

		if (state == VKD_SLOT_FREE)
			continue;
		totals->workers++;
		totals->ready += state == VKD_SLOT_READY;
		totals->draining += state == VKD_SLOT_DRAINING;
		totals->connections += vkd_slot_connections(slot);
		vkd_stats_add(&totals->stats, &slot->stats);
		vkd_stats_add_levels(&totals->stats, &slot->stats);
	}
}
