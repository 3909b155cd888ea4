/*
 * vkd_notify: tell the service manager how the daemon is doing.
 *
 * The sd_notify(3) protocol: one datagram of "KEY=value" lines to the
 * AF_UNIX socket named by $NOTIFY_SOCKET (an abstract socket when the name
 * starts with '@'). Without $NOTIFY_SOCKET every call does nothing. With
 * libsystemd (configure found it) its sd_notify() sends; otherwise vkd sends
 * the datagram itself.
 */
#ifndef VKD_NOTIFY_H
#define VKD_NOTIFY_H

/*
 * Send `state` ("READY=1\nSTATUS=...", no trailing newline needed).
 * Returns 1 if sent, 0 if there is no $NOTIFY_SOCKET, -1 with errno.
 */
int vkd_notify(const char *state);

/* The first generation serves: READY=1 with a STATUS= line. */
int vkd_notify_ready(const char *status);

/* A reload starts: RELOADING=1 and MONOTONIC_USEC=<CLOCK_MONOTONIC us>. */
int vkd_notify_reloading(void);

/* The daemon stops: STOPPING=1. */
int vkd_notify_stopping(void);

/* STATUS=<status>; newlines in `status` are sent as spaces. */
int vkd_notify_status(const char *status);

#endif
