/*
 * vkd_apps: per-app counters; see vkd_apps.h.
 */
#include "config.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "vkd_apps.h"

#define STATS_WORDS (sizeof(struct vk_app_stats) / sizeof(uint64_t))

int vkd_app_table_map(struct vkd_app_table *table, size_t apps, size_t workers)
{
	size_t bytes;
	void *map;

	memset(table, 0, sizeof(*table));
	if (!apps || !workers || apps > SIZE_MAX / workers / sizeof(struct vk_app_stats)) {
		errno = EINVAL;
		return -1;
	}
	bytes = apps * workers * sizeof(struct vk_app_stats);
	/* Anonymous memory is zeroed; shared, so the children's writes show here. */
	map = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (map == MAP_FAILED)
		return -1;
	table->cells = map;
	table->apps = apps;
	table->workers = workers;
	return 0;
}

void vkd_app_table_unmap(struct vkd_app_table *table)
{
	if (table->cells)
		munmap(table->cells, table->apps * table->workers * sizeof(struct vk_app_stats));
	memset(table, 0, sizeof(*table));
}

struct vk_app_stats *vkd_app_table_row(const struct vkd_app_table *table, unsigned index)
{
	if (!table->cells || index == 0 || index > table->workers)
		return NULL;
	return &table->cells[(index - 1) * table->apps];
}

void vkd_app_table_worker_gone(struct vkd_app_table *table, unsigned index)
{
	struct vk_app_stats *row = vkd_app_table_row(table, index);

	for (size_t i = 0; row && i < table->apps; i++)
		__atomic_store_n(&row[i].procs_now, 0, __ATOMIC_RELAXED);
}

static struct vkd_app_sum *find_or_add(struct vkd_app_sums *sums, const char *name)
{
	struct vkd_app_sum *grown;
	char *copy;

	for (size_t i = 0; i < sums->count; i++)
		if (strcmp(sums->list[i].name, name) == 0)
			return &sums->list[i];
	copy = strdup(name);
	grown = copy ? realloc(sums->list, (sums->count + 1) * sizeof(*grown)) : NULL;
	if (!grown) {
		free(copy);
		errno = ENOMEM;
		return NULL;
	}
	sums->list = grown;
	memset(&grown[sums->count], 0, sizeof(*grown));
	grown[sums->count].name = copy;
	return &grown[sums->count++];
}

int vkd_app_sums_add(struct vkd_app_sums *sums, const char *name, const struct vk_app_stats *add,
		     int live)
{
	const uint64_t *from = (const uint64_t *)add;
	struct vkd_app_sum *sum;
	uint64_t *to;
	int any = live;

	/* A generation gone adds nothing it never counted: no name of its own. */
	for (size_t i = 0; i < STATS_WORDS && !any; i++)
		any = __atomic_load_n(&from[i], __ATOMIC_RELAXED) != 0;
	if (!any)
		return 0;
	sum = find_or_add(sums, name);
	if (!sum)
		return -1;
	to = (uint64_t *)&sum->stats;
	/* Word by word, each read once: a worker may be adding to it now. */
	for (size_t i = 0; i < STATS_WORDS; i++)
		if (live || i != offsetof(struct vk_app_stats, procs_now) / sizeof(uint64_t))
			to[i] += __atomic_load_n(&from[i], __ATOMIC_RELAXED);
	return 0;
}

int vkd_app_sums_add_table(struct vkd_app_sums *sums, const char *name,
			   const struct vkd_app_table *table, size_t app, int live)
{
	for (size_t w = 1; w <= table->workers; w++) {
		const struct vk_app_stats *row = vkd_app_table_row(table, (unsigned)w);

		if (app < table->apps && vkd_app_sums_add(sums, name, &row[app], live) < 0)
			return -1;
	}
	return 0;
}

int vkd_app_sums_copy(struct vkd_app_sums *into, const struct vkd_app_sums *from)
{
	vkd_app_sums_free(into);
	for (size_t i = 0; i < from->count; i++)
		if (vkd_app_sums_add(into, from->list[i].name, &from->list[i].stats, 1) < 0)
			return -1;
	return 0;
}

void vkd_app_sums_free(struct vkd_app_sums *sums)
{
	for (size_t i = 0; i < sums->count; i++)
		free(sums->list[i].name);
	free(sums->list);
	sums->list = NULL;
	sums->count = 0;
}
