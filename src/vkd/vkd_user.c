/*
 * vkd_user.c - look up the configured user and group, and drop to them.
 */
#include "config.h"

#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include "vk_parse.h"
#include "vkd_log.h"
#include "vkd_user.h"

int vkd_user_lookup(const char *name, uid_t *uid, gid_t *gid)
{
	struct passwd *pw = getpwnam(name);
	uint64_t n;

	if (!pw && vk_parse_uint(name, 0, (uid_t)-2, &n) == 0)
		pw = getpwuid((uid_t)n);
	if (!pw)
		return -1;
	*uid = pw->pw_uid;
	*gid = pw->pw_gid;
	return 0;
}

int vkd_group_lookup(const char *name, gid_t *gid)
{
	struct group *gr = getgrnam(name);
	uint64_t n;

	if (!gr && vk_parse_uint(name, 0, (gid_t)-2, &n) == 0)
		gr = getgrgid((gid_t)n);
	if (!gr)
		return -1;
	*gid = gr->gr_gid;
	return 0;
}

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
