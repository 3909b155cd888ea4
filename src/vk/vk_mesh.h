/*
 * vk_mesh: the inter-worker path of one worker.
 *
 * The master gives each worker one Unix stream socket to every other
 * worker of its generation (a socketpair it makes when it forks a worker,
 * passing the other half to the worker already running: see vkd_master.c).
 * This endpoint, driven by the worker's loop, carries over them:
 *  - channels to another worker's processes: a channel opened here to a
 *    process there is two local channels, one in each worker, joined by a
 *    bridge at each end that stands for the far process (an agent end,
 *    vk_chan.h). Bytes go in frames, with credit: a bridge sends no more
 *    than the far ring has room for, so each direction stays bounded by
 *    its two rings and a writer facing a full channel blocks, as locally;
 *  - publications: each message published here goes, in publish order, to
 *    every other worker, which queues it for its own subscribers.
 * Frames are gathered during a loop iteration and written with one write
 * per link just before the loop waits (a prepare watcher of the lowest
 * priority: after the kernel's dispatch). A link whose socket is full
 * keeps its frames (channels are held back by their credit); beyond
 * VK_MESH_OUT_MAX bytes queued, publications to that worker are dropped
 * and counted. When a link ends (its worker died), every channel through
 * it sees EPIPE; the master links the respawned worker again.
 */
#ifndef VK_MESH_H
#define VK_MESH_H

#include "vk_internal.h"
#include "vk_kern.h"

struct vk_mesh;

/* Bytes queued to one worker beyond which publications to it are dropped. */
#define VK_MESH_OUT_MAX (4u << 20)
/* Largest payload of one frame. */
#define VK_MESH_FRAME_MAX (64u << 10)

/*
 * The endpoint of the kernel's worker, which becomes the bus's way to the
 * other workers (vk_bus_set_remote()). NULL with errno.
 */
struct vk_mesh *vk_mesh_create(struct vk_kern *kern);

/*
 * Adopt `fd` (a connected stream socket, made non-blocking here; ours from
 * now on) as the link to worker `worker`, replacing an older one. Returns
 * 0 or -errno (the descriptor is closed then).
 */
int vk_mesh_add_peer(struct vk_mesh *mesh, unsigned worker, int fd);

/* Whether a link to `worker` is up. */
int vk_mesh_linked(const struct vk_mesh *mesh, unsigned worker);

/* Close every link (their channels see EPIPE) and free the endpoint. */
void vk_mesh_destroy(struct vk_mesh *mesh);

#endif
