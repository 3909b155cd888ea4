/*
 * vkd_apps: per-app counters, for vkctl status.
 *
 * Each generation maps one table in memory shared with its workers before
 * it forks them: a row per worker number, a cell per app of its
 * configuration (struct vk_app_stats), which that worker's kernel and
 * listeners write and the master reads without locks (one writer a cell,
 * aligned 64-bit words, a recent value is all a reader wants). A respawned
 * worker takes its number's row back, its live count zeroed (its
 * connections died with it), so the row's totals go on. When a
 * generation goes, the master keeps its sums by app name: an app's totals
 * never go backwards for the life of the master, across reloads too.
 */
#ifndef VKD_APPS_H
#define VKD_APPS_H

#include <stddef.h>

#include "vk_stats.h"

/* One generation's table. */
struct vkd_app_table {
	struct vk_app_stats *cells; /* workers rows of apps cells */
	size_t apps;
	size_t workers;
};

/* Map a zeroed table shared with future children. 0, or -1 with errno. */
int vkd_app_table_map(struct vkd_app_table *table, size_t apps, size_t workers);
void vkd_app_table_unmap(struct vkd_app_table *table);

/* The row of worker `index` (1-based): one cell per app, in config order. */
struct vk_app_stats *vkd_app_table_row(const struct vkd_app_table *table, unsigned index);

/* Worker `index` is gone: its live connections went with it. */
void vkd_app_table_worker_gone(struct vkd_app_table *table, unsigned index);

/* Sums by app name. */
struct vkd_app_sum {
	char *name;
	struct vk_app_stats stats;
};

struct vkd_app_sums {
	struct vkd_app_sum *list; /* in the order names were first added */
	size_t count;
};

/*
 * Add `add` to the sum of app `name` (made at 0 if new); with `live` 0 its
 * procs_now is left out (a generation gone has none), and all zeros add
 * no name. 0, or -1 (ENOMEM).
 */
int vkd_app_sums_add(struct vkd_app_sums *sums, const char *name, const struct vk_app_stats *add,
		     int live);

/* Add the column of app `app` of every row of `table` to `name`'s sum. */
int vkd_app_sums_add_table(struct vkd_app_sums *sums, const char *name,
			   const struct vkd_app_table *table, size_t app, int live);

/* A copy of `from` into `into` (emptied first). 0, or -1 (ENOMEM). */
int vkd_app_sums_copy(struct vkd_app_sums *into, const struct vkd_app_sums *from);

void vkd_app_sums_free(struct vkd_app_sums *sums);

#endif
