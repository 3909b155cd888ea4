/*
 * vkd_counters: the shared counters page; see vkd_counters.h.
 */
#include "config.h"

#include <errno.h>
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

void vkd_counters_sum(const struct vkd_counters *counters, struct vkd_totals *totals)
{
	memset(totals, 0, sizeof(*totals));
	for (size_t i = 0; i < counters->count; i++) {
		const struct vkd_slot *slot = &counters->slots[i];
		uint32_t state = vkd_slot_state(slot);

		if (state == VKD_SLOT_FREE)
			continue;
		totals->workers++;
		totals->ready += state == VKD_SLOT_READY;
		totals->draining += state == VKD_SLOT_DRAINING;
		totals->connections += vkd_slot_read(&slot->stats.procs_now);
		totals->accepted += vkd_slot_read(&slot->stats.accepted);
		totals->refused += vkd_slot_read(&slot->stats.refused);
		totals->faults += vkd_slot_read(&slot->stats.faults);
		totals->restarts += vkd_slot_read(&slot->restarts);
	}
}
