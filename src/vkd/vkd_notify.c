/*
 * vkd_notify: sd_notify(3) messages; see vkd_notify.h.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#ifdef HAVE_LIBSYSTEMD
#include <systemd/sd-daemon.h>
#endif

#include "vkd_notify.h"

#define VKD_NOTIFY_MAX 1024

#ifdef HAVE_LIBSYSTEMD

static int notify_send(const char *state)
{
	int rc = sd_notify(0, state);

	if (rc < 0) {
		errno = -rc;
		return -1;
	}
	return rc > 0;
}

#else

/* Fill `sun` from $NOTIFY_SOCKET; returns the address length or 0 if unset. */
static socklen_t notify_address(struct sockaddr_un *sun)
{
	const char *name = getenv("NOTIFY_SOCKET");
	size_t len;

	if (!name || !*name)
		return 0;
	len = strlen(name);
	if ((name[0] != '/' && name[0] != '@') || len >= sizeof(sun->sun_path)) {
		errno = EINVAL;
		return (socklen_t)-1;
	}
	memset(sun, 0, sizeof(*sun));
	sun->sun_family = AF_UNIX;
	memcpy(sun->sun_path, name, len);
	if (name[0] == '@') {
		/* Abstract: the name is the bytes after a leading NUL, no terminator. */
		sun->sun_path[0] = '\0';
		return (socklen_t)(offsetof(struct sockaddr_un, sun_path) + len);
	}
	return (socklen_t)(offsetof(struct sockaddr_un, sun_path) + len + 1);
}

static int notify_send(const char *state)
{
	struct sockaddr_un sun;
	socklen_t len = notify_address(&sun);
	ssize_t sent;
	int fd, saved;

	if (len == 0)
		return 0;
	if (len == (socklen_t)-1)
		return -1;
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	do
		sent = sendto(fd, state, strlen(state), MSG_NOSIGNAL, (struct sockaddr *)&sun, len);
	while (sent < 0 && errno == EINTR);
	saved = errno;
	close(fd);
	errno = saved;
	return sent < 0 ? -1 : 1;
}

#endif

int vkd_notify(const char *state)
{
	return notify_send(state);
}

/* Copy `status` into `buf` with line breaks made spaces. */
static void notify_flatten(char *buf, size_t size, const char *status)
{
	snprintf(buf, size, "%s", status);
	for (char *p = buf; *p; p++)
		if (*p == '\n' || *p == '\r')
			*p = ' ';
}

/* Send `head` (may be "") followed by STATUS=, the status on one line. */
static int notify_with_status(const char *head, const char *status)
{
	char flat[VKD_NOTIFY_MAX - 32];
	char msg[VKD_NOTIFY_MAX];

	notify_flatten(flat, sizeof(flat), status);
	snprintf(msg, sizeof(msg), "%sSTATUS=%s", head, flat);
	return notify_send(msg);
}

int vkd_notify_ready(const char *status)
{
	return notify_with_status("READY=1\n", status);
}

int vkd_notify_reloading(void)
{
	struct timespec now;
	char msg[128];

	if (clock_gettime(CLOCK_MONOTONIC, &now) < 0)
		return -1;
	snprintf(msg, sizeof(msg), "RELOADING=1\nMONOTONIC_USEC=%llu",
		 (unsigned long long)now.tv_sec * 1000000ull +
		     (unsigned long long)now.tv_nsec / 1000ull);
	return notify_send(msg);
}

int vkd_notify_stopping(void)
{
	return notify_send("STOPPING=1");
}

int vkd_notify_status(const char *status)
{
	return notify_with_status("", status);
}
