/*
 * vkd_mesh: the links between the workers of a generation, as the master
 * makes them and the workers take them in.
 *
 * Each worker has a control socket to the master (a SOCK_SEQPACKET pair
 * made when it is forked). When the master forks worker N, it makes one
 * stream socketpair for each worker of the generation that is running,
 * and sends one half to each side over their control sockets (SCM_RIGHTS,
 * with the index of the worker at the other end). So every two running
 * workers of a generation hold one socket to each other, and only they:
 * when one dies, the other reads the end of the stream (vk_mesh.h), and
 * the master links its successor when it forks it. A new worker's own
 * halves wait in its control socket from before it is forked; it takes
 * them in before it reports ready.
 */
#ifndef VKD_MESH_H
#define VKD_MESH_H

/*
 * Master: the control pair of a worker about to be forked: *master_end
 * stays with the master, *worker_end goes to the worker. Both close on
 * exec. Returns 0 or -1 with errno.
 */
int vkd_mesh_control(int *master_end, int *worker_end);

/*
 * Master: link the workers whose control sockets (master ends) are `a_ctl`
 * and `b_ctl`, of indexes `a` and `b`: one socketpair, a half sent to
 * each, none kept. Never blocks. Returns 0 or -1 with errno (a worker
 * whose control socket is full or gone stays unlinked).
 */
int vkd_mesh_link(int a_ctl, unsigned a, int b_ctl, unsigned b);

/*
 * Worker: take in the links waiting on control socket `ctl`, calling
 * `adopt(ctx, index, fd)` for each (the descriptor is then the callee's).
 * Never blocks. Returns 0, or -1 when the master's end is closed.
 */
int vkd_mesh_receive(int ctl, void (*adopt)(void *ctx, unsigned index, int fd), void *ctx);

#endif
