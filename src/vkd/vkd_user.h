/*
 * vkd_user: the credentials application code runs with.
 *
 * Workers, and the child that checks modules, become the configured user
 * and group before they load any application code, so that an app's init
 * hook never runs as root even when the master does.
 */
#ifndef VKD_USER_H
#define VKD_USER_H

#include "vkd_config.h"

/*
 * Become config->user and config->group, when set: the group (and only it
 * as supplementary group) first, then the uid. Returns 0, or -1 with the
 * failing call logged.
 */
int vkd_user_become(const struct vkd_config *config);

#endif
