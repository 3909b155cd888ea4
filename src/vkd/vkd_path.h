/*
 * vkd_path: paths worked out from their text and the working directory,
 * without looking at the files they name: joining and splitting the paths
 * of the configuration file and the modules. (The rule that turns a
 * configured unix socket path into the one vkd binds is libvk's
 * vk_addr_unix_path(), which vkctl uses too.)
 */
#ifndef VKD_PATH_H
#define VKD_PATH_H

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
