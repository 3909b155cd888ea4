/*
 * vk_refused: the option an app's init named when it refused its options
 * (vk_app_refuse(), vk_app.h), kept for vkd to report at that option's
 * own line of vkd.ini.
 *
 * One record per process: init hooks run one after another on vkd's
 * thread (its module check, each worker's start), and vkd reads the record
 * right after the hook that refused.
 */
#ifndef VK_REFUSED_H
#define VK_REFUSED_H

#include "vk_internal.h"

/*
 * Record `key` (an opt.* name without "opt.") as refused by app `app`;
 * a NULL key, or a name or key too long to keep (past 127 bytes, longer
 * than vkd.ini takes), forgets any earlier record.
 */
void vk_refused_set(const char *app, const char *key);

/* The key recorded for app `app`, or NULL (none, or one of another app). */
const char *vk_refused_key(const char *app);

#endif
