/*
 * vkd_io: small blocking I/O helpers of the daemon.
 */
#ifndef VKD_IO_H
#define VKD_IO_H

#include <stddef.h>

/*
 * Write all `len` bytes of `buf` to `fd`, retrying after EINTR and short
 * writes. Returns 0, or -1 with errno (EPIPE, EIO, ...; a write of 0 bytes
 * gives EIO) with part of the bytes possibly written.
 */
int vkd_write_all(int fd, const void *buf, size_t len);

#endif
