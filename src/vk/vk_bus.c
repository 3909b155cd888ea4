#include "vk_bus.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* An entry of the address map: process `id` of this worker. */
struct vk_bus_addr {
	struct vk_bus_addr *next;
	uint64_t id;
	struct vk_proc *proc;
};

#define VK_BUS_MIN_BUCKETS 64

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

void vk_bus_destroy(struct vk_bus *bus)
{
	if (!bus)
		return;
	while (bus->services) {
		struct vk_bus_service *next = bus->services->next;

		free(bus->services);
		bus->services = next;
	}
	for (size_t i = 0; i < bus->addr_buckets; i++) {
		while (bus->addrs[i]) {
			struct vk_bus_addr *next = bus->addrs[i]->next;

			free(bus->addrs[i]);
			bus->addrs[i] = next;
		}
	}
	free(bus->addrs);
	/* Topics go with their last subscriber; what is left has none. */
	for (size_t i = 0; i < bus->topic_buckets; i++) {
		while (bus->topics[i]) {
			struct vk_topic *next = bus->topics[i]->next;

			free(bus->topics[i]);
			bus->topics[i] = next;
		}
	}
	free(bus->topics);
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

static size_t id_bucket(uint64_t id, size_t mask)
{
	return (size_t)(id * 0x9e3779b97f4a7c15ull >> 32) & mask;
}

/* Double the address table (or make its first buckets). -ENOMEM. */
static int addr_grow(struct vk_bus *bus)
{
	size_t size = bus->addr_buckets ? bus->addr_buckets * 2 : VK_BUS_MIN_BUCKETS;
	struct vk_bus_addr **fresh = calloc(size, sizeof(*fresh));

	if (!fresh)
		return -ENOMEM;
	for (size_t i = 0; i < bus->addr_buckets; i++) {
		while (bus->addrs[i]) {
			struct vk_bus_addr *a = bus->addrs[i];
			size_t b = id_bucket(a->id, size - 1);

			bus->addrs[i] = a->next;
			a->next = fresh[b];
			fresh[b] = a;
		}
	}
	free(bus->addrs);
	bus->addrs = fresh;
	bus->addr_buckets = size;
	return 0;
}

struct vk_proc *vk_bus_addr_find(const struct vk_bus *bus, uint64_t id)
{
	if (!bus->addr_buckets)
		return NULL;
	for (struct vk_bus_addr *a = bus->addrs[id_bucket(id, bus->addr_buckets - 1)]; a;
	     a = a->next)
		if (a->id == id)
			return a->proc;
	return NULL;
}

uint64_t vk_bus_addr_of(struct vk_bus *bus, struct vk_proc *proc)
{
	uint64_t address = (uint64_t)bus->worker << VK_BUS_ADDR_BITS | proc->id;
	struct vk_bus_addr *a;
	size_t b;

	if (vk_bus_addr_find(bus, proc->id))
		return address;
	if (bus->addr_count >= bus->addr_buckets && addr_grow(bus) < 0)
		return 0;
	a = malloc(sizeof(*a));
	if (!a)
		return 0;
	a->id = proc->id;
	a->proc = proc;
	b = id_bucket(proc->id, bus->addr_buckets - 1);
	a->next = bus->addrs[b];
	bus->addrs[b] = a;
	bus->addr_count++;
	return address;
}

void vk_bus_addr_remove(struct vk_bus *bus, uint64_t id)
{
	struct vk_bus_addr **link;

	if (!bus->addr_buckets)
		return;
	for (link = &bus->addrs[id_bucket(id, bus->addr_buckets - 1)]; *link;
	     link = &(*link)->next) {
		struct vk_bus_addr *a = *link;

		if (a->id != id)
			continue;
		*link = a->next;
		free(a);
		bus->addr_count--;
		return;
	}
}

/* ---- topics ---- */

static size_t name_bucket(const char *name, size_t len, size_t mask)
{
	return (size_t)fnv1a(name, len) & mask;
}

static int topic_grow(struct vk_bus *bus)
{
	size_t size = bus->topic_buckets ? bus->topic_buckets * 2 : VK_BUS_MIN_BUCKETS;
	struct vk_topic **fresh = calloc(size, sizeof(*fresh));

	if (!fresh)
		return -ENOMEM;
	for (size_t i = 0; i < bus->topic_buckets; i++) {
		while (bus->topics[i]) {
			struct vk_topic *t = bus->topics[i];
			size_t b = name_bucket(t->name, t->len, size - 1);

			bus->topics[i] = t->next;
			t->next = fresh[b];
			fresh[b] = t;
		}
	}
	free(bus->topics);
	bus->topics = fresh;
	bus->topic_buckets = size;
	return 0;
}

static struct vk_topic *topic_find(const struct vk_bus *bus, const char *name, size_t len)
{
	if (!bus->topic_buckets)
		return NULL;
	for (struct vk_topic *t = bus->topics[name_bucket(name, len, bus->topic_buckets - 1)]; t;
	     t = t->next)
		if (t->len == len && memcmp(t->name, name, len) == 0)
			return t;
	return NULL;
}

struct vk_topic *vk_bus_topic(struct vk_bus *bus, const char *name, size_t len, int create)
{
	struct vk_topic *t = topic_find(bus, name, len);
	size_t b;

	if (t || !create)
		return t;
	if (bus->topic_count >= bus->topic_buckets && topic_grow(bus) < 0) {
		errno = ENOMEM;
		return NULL;
	}
	t = calloc(1, sizeof(*t) + len + 1);
	if (!t)
		return NULL;
	memcpy(t->name, name, len);
	t->len = len;
	b = name_bucket(name, len, bus->topic_buckets - 1);
	t->next = bus->topics[b];
	bus->topics[b] = t;
	bus->topic_count++;
	return t;
}

void vk_bus_topic_drop(struct vk_bus *bus, struct vk_topic *topic)
{
	struct vk_topic **link =
	    &bus->topics[name_bucket(topic->name, topic->len, bus->topic_buckets - 1)];

	while (*link && *link != topic)
		link = &(*link)->next;
	if (!*link)
		return;
	*link = topic->next;
	bus->topic_count--;
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
