/*
 * vkd_path: the lexical rule that turns a configured unix socket path into
 * the one vkd binds. vkd's configuration and vkctl both use it, so that
 * they always agree on where the control socket is.
 */
#ifndef VKD_PATH_H
#define VKD_PATH_H

#include <sys/un.h>

/* sun_path's size: a unix socket's path with its terminating NUL. */
#define VKD_SOCKET_PATH_SIZE sizeof(((struct sockaddr_un *)0)->sun_path)

/*
 * A path usable as a unix socket: not empty, not abstract ("@name"),
 * absolute, and after lexical normalization (empty and "." components and
 * a trailing "/" dropped; ".." kept, since only the file system knows what
 * it means behind a symbolic link) not "/" and short enough for sun_path.
 * Writes the normalized path into out (VKD_SOCKET_PATH_SIZE bytes) and
 * returns 0, or returns -1 with *reason a static phrase saying why.
 */
int vkd_socket_path(const char *path, char *out, const char **reason);

#endif
