/*
 * vkctl_config: where vkd's control socket is, read from vkd.ini.
 *
 * Only the control key of [vkd] is read, not the whole configuration: a
 * file with errors elsewhere (as when a broken edit is about to be
 * reloaded) still names the socket. Lines and section headers are read as
 * vkd's loader reads them (leading blanks ignored, so an indented key is a
 * key; "[ vkd ]" is [vkd]), the default is vkd's, and the value is
 * normalized by the same vkd_socket_path(), so vkctl and vkd agree on the
 * path for every file vkd accepts.
 */
#ifndef VKCTL_CONFIG_H
#define VKCTL_CONFIG_H

#include <stddef.h>

/*
 * The control socket's path for the configuration file at path, into out
 * (size bytes, truncated to fit): the control key's value, normalized
 * when it is a valid socket path and as written otherwise, or
 * VKD_DEFAULT_CONTROL when there is no such key (the last one counts).
 * Returns 0, or -1 with errno set when the file cannot be opened or read;
 * out then holds the default.
 */
int vkctl_config_control(const char *path, char *out, size_t size);

#endif
