#include "vk_bus.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* An entry of the address map: process `id` of this worker. */
struct vk_bus_addr {
	struct vk_chain_link chain;
	uint64_t id;
	struct vk_proc *proc;
};

struct vk_bus *vk_bus_create(struct vk_sched *sched)
{
	struct vk_bus *bus = calloc(1, sizeof(*bus));

	if (!bus)
		return NULL;
	bus->sched = sched;
	bus->worker = 1;
	bus->workers = 1;
	return bus;
}

static void free_bufs(struct vk_bus *bus)
{
	for (size_t i = 0; i < VK_BUS_BUF_SIZES; i++)
		while (bus->bufs[i].count)
			free(bus->bufs[i].free[--bus->bufs[i].count]);
}

static void free_addr(struct vk_chain_link *link)
{
	free(vk_chain_entry(link, struct vk_bus_addr, chain));
}

static void free_topic(struct vk_chain_link *link)
{
	free(vk_chain_entry(link, struct vk_topic, chain));
}

void vk_bus_destroy(struct vk_bus *bus)
{
	if (!bus)
		return;
	while (bus->services) {
		struct vk_bus_service *next = bus->services->next;

		free(bus->services);
		bus->services = next;
	}
	vk_chain_clear(&bus->addrs, free_addr);
	/* Topics go with their last subscriber; what is left has none. */
	vk_chain_clear(&bus->topics, free_topic);
	free_bufs(bus);
	free(bus);
}

void vk_bus_set_geometry(struct vk_bus *bus, unsigned worker, unsigned workers)
{
	bus->workers = workers ? workers : 1;
	bus->worker = worker && worker <= bus->workers ? worker : 1;
}

void vk_bus_set_remote(struct vk_bus *bus, const struct vk_bus_remote *remote, void *ctx)
{
	bus->remote = remote;
	bus->remote_ctx = ctx;
}

static uint64_t fnv1a(const void *data, size_t len)
{
	const unsigned char *p = data;
	uint64_t h = 0xcbf29ce484222325ull;

	for (size_t i = 0; i < len; i++) {
		h ^= p[i];
		h *= 0x100000001b3ull;
	}
	return h;
}

unsigned vk_bus_shard(const struct vk_bus *bus, const void *key, size_t len)
{
	return (unsigned)(fnv1a(key, len) % bus->workers) + 1;
}

/* ---- services ---- */

struct vk_bus_service *vk_bus_service_find(const struct vk_bus *bus, const char *name)
{
	for (struct vk_bus_service *s = bus->services; s; s = s->next)
		if (strcmp(s->name, name) == 0)
			return s;
	return NULL;
}

struct vk_bus_service *vk_bus_service_add(struct vk_bus *bus, const char *name, unsigned kind)
{
	size_t len = strlen(name);
	struct vk_bus_service *s;

	if (kind > VK_BUS_SINGLE || len == 0) {
		errno = EINVAL;
		return NULL;
	}
	if (vk_bus_service_find(bus, name)) {
		errno = EEXIST;
		return NULL;
	}
	s = calloc(1, sizeof(*s) + len + 1);
	if (!s)
		return NULL;
	memcpy(s->name, name, len + 1);
	s->kind = kind;
	s->next = bus->services;
	bus->services = s;
	return s;
}

unsigned vk_bus_route(const struct vk_bus *bus, const struct vk_bus_service *service,
		      const void *key, size_t len)
{
	switch (service->kind) {
	case VK_BUS_SINGLE:
		return 1;
	case VK_BUS_SHARDED:
		return key ? vk_bus_shard(bus, key, len) : bus->worker;
	default:
		return bus->worker;
	}
}

/* ---- addresses ---- */

static size_t id_hash(uint64_t id)
{
	return (size_t)(id * 0x9e3779b97f4a7c15ull >> 32);
}

static struct vk_bus_addr *addr_find(const struct vk_bus *bus, uint64_t id)
{
	size_t hash = id_hash(id);

	for (struct vk_chain_link *l = vk_chain_bucket(&bus->addrs, hash); l; l = l->next) {
		struct vk_bus_addr *a = vk_chain_entry(l, struct vk_bus_addr, chain);

		if (l->hash == hash && a->id == id)
			return a;
	}
	return NULL;
}

struct vk_proc *vk_bus_addr_find(const struct vk_bus *bus, uint64_t id)
{
	struct vk_bus_addr *a = addr_find(bus, id);

	return a ? a->proc : NULL;
}

uint64_t vk_bus_addr_of(struct vk_bus *bus, struct vk_proc *proc)
{
	uint64_t address = (uint64_t)bus->worker << VK_BUS_ADDR_BITS | proc->id;
	struct vk_bus_addr *a;

	if (addr_find(bus, proc->id))
		return address;
	a = malloc(sizeof(*a));
	if (!a)
		return 0;
	a->id = proc->id;
	a->proc = proc;
	if (vk_chain_insert(&bus->addrs, &a->chain, id_hash(proc->id)) < 0) {
		free(a);
		return 0;
	}
	return address;
}

void vk_bus_addr_remove(struct vk_bus *bus, uint64_t id)
{
	struct vk_bus_addr *a = addr_find(bus, id);

	if (!a)
		return;
	vk_chain_remove(&bus->addrs, &a->chain);
	free(a);
}

/* ---- topics ---- */

static struct vk_topic *topic_find(const struct vk_bus *bus, const char *name, size_t len,
				   size_t hash)
{
	for (struct vk_chain_link *l = vk_chain_bucket(&bus->topics, hash); l; l = l->next) {
		struct vk_topic *t = vk_chain_entry(l, struct vk_topic, chain);

		if (l->hash == hash && t->len == len && memcmp(t->name, name, len) == 0)
			return t;
	}
	return NULL;
}

struct vk_topic *vk_bus_topic(struct vk_bus *bus, const char *name, size_t len, int create)
{
	size_t hash = (size_t)fnv1a(name, len);
	struct vk_topic *t = topic_find(bus, name, len, hash);

	if (t || !create)
		return t;
	t = calloc(1, sizeof(*t) + len + 1);
	if (!t)
		return NULL;
	memcpy(t->name, name, len);
	t->len = len;
	if (vk_chain_insert(&bus->topics, &t->chain, hash) < 0) {
		free(t);
		errno = ENOMEM;
		return NULL;
	}
	return t;
}

void vk_bus_topic_drop(struct vk_bus *bus, struct vk_topic *topic)
{
	if (vk_chain_remove(&bus->topics, &topic->chain) < 0)
		return;
	free(topic);
}

/* ---- ring buffers ---- */

void *vk_bus_buf_get(struct vk_bus *bus, size_t size)
{
	for (size_t i = 0; i < VK_BUS_BUF_SIZES; i++)
		if (bus->bufs[i].size == size && bus->bufs[i].count)
			return bus->bufs[i].free[--bus->bufs[i].count];
	return malloc(size);
}

void vk_bus_buf_put(struct vk_bus *bus, void *buf, size_t size)
{
	for (size_t i = 0; i < VK_BUS_BUF_SIZES; i++) {
		if (bus->bufs[i].size == 0)
			bus->bufs[i].size = size;
		if (bus->bufs[i].size != size)
			continue;
		if (bus->bufs[i].count < VK_BUS_BUF_KEEP) {
			bus->bufs[i].free[bus->bufs[i].count++] = buf;
			return;
		}
		break;
	}
	free(buf);
}
