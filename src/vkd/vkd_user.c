/*
 * vkd_user.c - drop to the configured user and group.
 */
#include "config.h"

#include <errno.h>
#include <grp.h>
#include <string.h>
#include <unistd.h>

#include "vkd_log.h"
#include "vkd_user.h"

int vkd_user_become(const struct vkd_config *config)
{
	gid_t gid = config->gid;
	uid_t uid = config->uid;

	if (gid != (gid_t)-1 && (gid != getegid() || geteuid() == 0)) {
		if (geteuid() == 0 && setgroups(1, &gid) < 0) {
			vkd_error("setgroups(%lu): %s", (unsigned long)gid, strerror(errno));
			return -1;
		}
		if (setresgid(gid, gid, gid) < 0) {
			vkd_error("setgid(%lu): %s", (unsigned long)gid, strerror(errno));
			return -1;
		}
	}
	if (uid != (uid_t)-1 && uid != geteuid() && setresuid(uid, uid, uid) < 0) {
		vkd_error("setuid(%lu): %s", (unsigned long)uid, strerror(errno));
		return -1;
	}
	return 0;
}
