#include "vk_channel.h"

#include <errno.h>

#include "vk_bus.h"
#include "vk_chan.h"
#include "vk_handoff.h"
#include "vk_poll.h"
#include "vk_socket_s.h"
#include "vk_task.h"

static struct vk_bus *bus_of(const struct vk_thread *that)
{
	return vk_task_proc(that)->sched->bus;
}

uint64_t vk_channel_self(struct vk_thread *that)
{
	struct vk_proc *proc = vk_task_proc(that);
	struct vk_chan_proc *cp = vk_chan_proc(proc);
	uint64_t address;

	if (!cp)
		return 0;
	address = vk_bus_addr_of(bus_of(that), proc);
	if (address)
		cp->addressed = 1;
	return address;
}

/*
 * The channel's far end: offered to process `target` here, or handed to
 * the inter-worker path for worker `worker`. Returns 0 or -errno.
 */
static int connect_end(struct vk_bus *bus, struct vk_chan_end *far, struct vk_proc *target,
		       unsigned worker, const char *name, uint64_t id)
{
	if (worker != bus->worker) {
		if (!bus->remote)
			return -ECONNREFUSED;
		return bus->remote->open(bus->remote_ctx, far, worker, name, id);
	}
	if (!target)
		return -ECONNREFUSED;
	return vk_chan_offer(far, target);
}

/* Where a channel goes: its worker, and here its process (NULL: none). */
static int resolve(struct vk_bus *bus, const char *name, const void *key, size_t len,
		   uint64_t address, unsigned *worker, struct vk_proc **target)
{
	const struct vk_bus_service *service;

	if (!name) {
		*worker = (unsigned)(address >> VK_BUS_ADDR_BITS);
		if (*worker == 0 || *worker > bus->workers)
			return -ECONNREFUSED;
		*target = vk_bus_addr_find(bus, address & ((1ull << VK_BUS_ADDR_BITS) - 1));
		return 0;
	}
	service = vk_bus_service_find(bus, name);
	if (!service)
		return -ENOENT;
	*worker = vk_bus_route(bus, service, key, len);
	*target = service->proc;
	return 0;
}

struct vk_socket *vk_channel_open_fn(struct vk_thread *that, const char *name, const void *key,
				     size_t len, uint64_t address)
{
	struct vk_proc *proc = vk_task_proc(that);
	struct vk_bus *bus = bus_of(that);
	struct vk_proc *target = NULL;
	struct vk_socket *socket;
	struct vk_chan *chan;
	unsigned worker = 0;
	int rc = resolve(bus, name, key, len, address, &worker, &target);

	if (rc < 0) {
		errno = -rc;
		return NULL;
	}
	chan = vk_chan_create(bus, VK_CHANNEL_RING);
	if (!chan)
		return NULL;
	rc = vk_chan_bind(&chan->end[0], proc);
	socket = rc == 0 ? vk_socket_create_chan(that, &chan->end[0]) : NULL;
	if (!socket) {
		/* The far end is nobody's yet: closing the near one frees the channel. */
		vk_chan_close(&chan->end[1], EPIPE);
		vk_chan_close(&chan->end[0], EPIPE);
		errno = ENOMEM;
		return NULL;
	}
	rc = connect_end(bus, &chan->end[1], target, worker, name, address);
	if (rc < 0) {
		vk_channel_release(that, socket);
		vk_chan_close(&chan->end[1], -rc);
		errno = -rc;
		return NULL;
	}
	bus->sched->stats->channels++;
	return socket;
}

ssize_t vk_channel_accept_step(struct vk_thread *that, struct vk_socket **socket)
{
	struct vk_proc *proc = vk_task_proc(that);
	struct vk_chan_end *end = vk_chan_accept(proc);

	if (!end) {
		vk_chan_await_offer(vk_task_of(that));
		return -EAGAIN;
	}
	*socket = vk_socket_create_chan(that, end);
	if (!*socket) {
		vk_chan_close(end, ECONNREFUSED);
		return -ENOMEM;
	}
	bus_of(that)->sched->stats->channels++;
	return 0;
}

void vk_channel_release(struct vk_thread *that, struct vk_socket *socket)
{
	if (!socket)
		return;
	vk_socket_close(that, socket);
	vk_thread_free(that, socket);
}

unsigned vk_channel_shard(const struct vk_thread *that, const void *key, size_t len)
{
	return vk_bus_shard(bus_of(that), key, len);
}

unsigned vk_channel_worker(const struct vk_thread *that)
{
	return bus_of(that)->worker;
}

unsigned vk_channel_workers(const struct vk_thread *that)
{
	return bus_of(that)->workers;
}

ssize_t vk_channel_handoff_step(struct vk_thread *that, struct vk_socket *s, struct vk_socket *ch)
{
	struct vk_proc *proc = vk_task_proc(that);
	struct vk_fd *entry = s && s->entry ? vk_poll_owned(proc, s->entry) : NULL;

	if (!ch || !ch->chan)
		return that->op_done ? -EBADF : -EINVAL;
	if (!entry)
		return -ENOTSOCK;
	return vk_handoff_step(that, entry, s->rx, ch->chan);
}
