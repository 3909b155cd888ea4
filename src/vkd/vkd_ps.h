/*
 * vkd_ps: a worker's end of its channel to the master (vkd_chan.h): it
 * answers ps and kill.
 *
 * Requests are answered in order. A ps walks the kernel's micro-processes
 * a slice at a time (VKD_PS_SLICE of them, copied from their control
 * blocks, no heap touched), one slice per turn of the event loop: between
 * two slices the worker serves its connections, so a ps of 10,000
 * connections stops it for the time of one slice, not of the whole list.
 * The next slice waits until the master took the last one (the socket is
 * writable again), so a master that reads slowly costs the worker nothing
 * but memory for one slice. A kill ends the micro-process the way a fault
 * would (vk_kern_kill()).
 */
#ifndef VKD_PS_H
#define VKD_PS_H

#include <ev.h>

#include "vk_kern.h"

/* Micro-processes a slice holds. */
#define VKD_PS_SLICE 256

struct vkd_ps;

/* Answer on `fd` (non-blocking; owned from now on). NULL with errno. */
struct vkd_ps *vkd_ps_open(struct ev_loop *loop, struct vk_kern *kern, int fd);

/* Stop answering, close the descriptor, free. NULL is allowed. */
void vkd_ps_close(struct vkd_ps *ps);

#endif
