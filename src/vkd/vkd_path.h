/*
 * vkd_path: paths worked out from their text and the working directory,
 * without looking at the files they name: the rule that turns a configured unix socket path into
 * the one vkd binds (vkd's configuration and vkctl both use it, so that they always agree on where
 * the control socket is), and joining and splitting the paths of the configuration file and the
 * modules.
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

/* dir/file, or file itself when it is absolute; NULL with errno ENOMEM
 * when out of memory. The caller frees it. */
char *vkd_path_join(const char *dir, const char *file);

/* The directory part of path: "." when it has no "/", "/" for a file in
 * the root; NULL with errno ENOMEM when out of memory. The caller frees
 * it. */
char *vkd_path_dir(const char *path);

/*
 * path made absolute: itself when it starts with "/", else joined to base.
 * A relative base is taken from the working directory; a NULL or "." base
 * is the working directory itself. NULL with errno set (ENOMEM, or getcwd()'s error) on failure.
 * The caller frees it.
 */
char *vkd_path_absolute(const char *path, const char *base);

#endif
