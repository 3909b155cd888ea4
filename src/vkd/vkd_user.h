/*
 * vkd_user: the credentials application code runs with.
 *
 * The configuration's user, group and control_group names are looked up
 * here when it is loaded. Workers, and the child that checks modules,
 * become the configured user and group before they load any application
 * code, so that an app's init hook never runs as root even when the
 * master does.
 */
#ifndef VKD_USER_H
#define VKD_USER_H

#include <sys/types.h>

#include "vkd_config.h"

/*
 * The user called name, or when no user has that name, the user whose
 * number it is (as chown(1) reads it): 0 with its uid and primary group's
 * gid, or -1 when there is none (and nothing written). Through NSS with
 * getpwnam(), which is not thread-safe.
 */
int vkd_user_lookup(const char *name, uid_t *uid, gid_t *gid);

/* The same for a group: 0 with its gid, or -1 (getgrnam()). */
int vkd_group_lookup(const char *name, gid_t *gid);

/*
 * Become config->uid and config->gid, each when set (the gid is the
 * group's, else the user's primary group): the gid first, and when
 * running as root also as the only supplementary group, then the uid.
 * Returns 0, or -1 with the failing call logged.
 */
int vkd_user_become(const struct vkd_config *config);

#endif
