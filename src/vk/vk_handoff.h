/*
 * vk_handoff: a process's descriptor handed to one of its channels
 * (vk_channel_handoff(), vk_channel.h).
 *
 * While handed off, the descriptor's rings are the channel's, which are
 * the kernel's memory: what the descriptor's peer sends is read (in the
 * libev callback, heaps closed) straight into the ring the other end of
 * the channel reads, and what the other end writes goes to the
 * descriptor, one write per descriptor after each round of dispatches
 * (vk_handoff_flush()). The process that handed it off does not run for
 * any of it: its end of the channel is an agent meanwhile. So a client
 * served by a service costs the service's dispatches only: one protection
 * change for every client that sent something in a loop iteration,
 * instead of two dispatches of each client's process per request.
 *
 * The handoff ends (the handing task wakes, the rings go back) when the
 * other end has closed the channel and everything it wrote went out, when
 * the descriptor fails, or at the process's idle timeout; if the process
 * ends first, its end of the channel goes back to it, to be closed with
 * it.
 */
#ifndef VK_HANDOFF_H
#define VK_HANDOFF_H

#include <sys/types.h>

#include "vk_internal.h"

struct vk_bus;
struct vk_chan_end;
struct vk_fd;
struct vk_thread;
struct vk_vectoring;

/*
 * One step of vk_channel_handoff() for the calling task: `entry` (a
 * descriptor of its process) handed to `end` (a channel end of its
 * process). -EAGAIN while it waits (first for the socket's own unsent
 * bytes, and for room for its unread ones in the channel), then 0 once
 * the other end closed and its bytes went out, or -errno: the
 * descriptor's error, EPIPE when the other end's process faulted,
 * ETIMEDOUT at the idle timeout, EBUSY for a descriptor in another
 * arrangement (relayed, forwarded, listening, a file).
 */
ssize_t vk_handoff_step(struct vk_thread *that, struct vk_fd *entry, struct vk_vectoring *own_rx,
			struct vk_chan_end *end);

/* After a round of dispatches: write what the round gave handed-off descriptors. */
void vk_handoff_flush(struct vk_bus *bus);

#endif
