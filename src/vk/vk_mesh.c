#include "vk_mesh.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "vk_bus.h"
#include "vk_chan.h"
#include "vk_log.h"
#include "vk_pubsub_s.h"

/* Bytes read from a link at once; at least two whole frames. */
#define VK_MESH_IN_SIZE (4 * (VK_MESH_FRAME_MAX + sizeof(struct frame)))
/* Bytes queued to a link beyond which bridges stop sending data for now. */
#define VK_MESH_OUT_HIGH (1u << 20)

enum {
	F_OPEN = 1, /* aux: name length; payload: window (4), target id (8), name */
	F_DATA,	    /* payload: bytes */
	F_CREDIT,   /* payload: bytes (4) the receiver may send more */
	F_HUP,	    /* an end of message, after the data before it */
	F_HUPACK,   /* the end of message was consumed: the next may come */
	F_CLOSE,    /* aux: the error the far reader sees (0: end of stream) */
	F_PUB,	    /* aux: topic length; payload: topic, message */
};

/* Set in a frame's flags when its sender opened the channel. */
#define F_FROM_OPENER 1
/* Set in a bridge's key when the far side opened the channel. */
#define KEY_THEIRS (1ull << 63)

struct frame {
	uint32_t len; /* payload bytes after the header */
	uint8_t type;
	uint8_t flags;
	uint16_t aux;
	uint64_t id; /* the channel, as its opener numbers it */
};

struct vk_link;

/* One end of a channel through a link: the local agent standing for the far process. */
struct vk_bridge {
	struct vk_chain_link chain; /* in the link's bridges, by key */
	struct vk_link *link;
	struct vk_chan_end *end; /* the agent's end of the local channel */
	uint64_t key;		 /* our id, KEY_THEIRS when the far side opened it */
	uint32_t window;	 /* ring size, each way */
	uint32_t credit;	 /* bytes the far ring still has room for */
	uint64_t received;	 /* bytes put into end->tx from the far side */
	uint64_t granted;	 /* window plus the credit sent back */
	uint8_t hup_sent;	 /* forwarded an end of message, not yet consumed there */
	uint8_t hup_in;		 /* the far side's end of message is in end->tx */
	uint8_t close_sent;
	uint8_t starved; /* held back by the link's queue, not by credit */
};

struct vk_link {
	struct vk_mesh *mesh;
	unsigned peer;
	int fd;
	struct ev_io io;
	char *in;
	size_t in_len;
	char *out;
	size_t out_len;		 /* bytes queued, from out_off */
	size_t out_off;		 /* bytes of out already written */
	size_t out_size;	 /* allocated */
	struct vk_chain bridges; /* struct vk_bridge */
	uint64_t next_id;
	size_t starved; /* bridges held back by the queue */
	uint8_t dirty;	/* frames queued since the last write */
	uint8_t writing;
	uint8_t paused; /* a publication waits for subscribers to make room */
	struct ev_timer resume;
	struct vk_link *dirty_next;
};

struct vk_mesh {
	struct vk_kern *kern;
	struct vk_bus *bus;
	struct ev_loop *loop;
	struct ev_prepare flush;
	struct vk_link **links; /* by worker index */
	size_t link_slots;
	struct vk_link *dirty;
};

static struct vk_stats *stats_of(const struct vk_link *link)
{
	return vk_kern_counters(link->mesh->kern);
}

/* ---- the bridges of a link ---- */

static size_t key_hash(uint64_t key)
{
	return (size_t)((key * 0x9e3779b97f4a7c15ull) >> 32);
}

static struct vk_bridge *bridge_of(struct vk_chain_link *link)
{
	return vk_chain_entry(link, struct vk_bridge, chain);
}

static struct vk_bridge *bridge_find(const struct vk_link *link, uint64_t key)
{
	size_t hash = key_hash(key);

	for (struct vk_chain_link *l = vk_chain_bucket(&link->bridges, hash); l; l = l->next)
		if (l->hash == hash && bridge_of(l)->key == key)
			return bridge_of(l);
	return NULL;
}

static struct vk_bridge *bridge_add(struct vk_link *link, uint64_t key, struct vk_chan_end *end,
				    uint32_t window)
{
	struct vk_bridge *b = calloc(1, sizeof(*b));

	if (!b)
		return NULL;
	b->link = link;
	b->end = end;
	b->key = key;
	b->window = window;
	b->credit = window;
	b->granted = window;
	if (vk_chain_insert(&link->bridges, &b->chain, key_hash(key)) < 0) {
		free(b);
		return NULL;
	}
	return b;
}

static void bridge_free(struct vk_bridge *b)
{
	struct vk_link *link = b->link;

	vk_chain_remove(&link->bridges, &b->chain);
	if (b->starved)
		link->starved--;
	free(b);
}

/* ---- frames out ---- */

static void mark_dirty(struct vk_link *link)
{
	if (link->dirty)
		return;
	link->dirty = 1;
	link->dirty_next = link->mesh->dirty;
	link->mesh->dirty = link;
}

/* Room for `n` more bytes at the end of the queue. -ENOMEM. */
static int out_reserve(struct vk_link *link, size_t n)
{
	size_t size;
	char *grown;

	if (link->out_off && link->out_off + link->out_len + n > link->out_size) {
		memmove(link->out, link->out + link->out_off, link->out_len);
		link->out_off = 0;
	}
	if (link->out_off + link->out_len + n <= link->out_size)
		return 0;
	size = link->out_size ? link->out_size : 64 * 1024;
	while (size < link->out_len + n)
		size *= 2;
	grown = realloc(link->out, size);
	if (!grown)
		return -ENOMEM;
	link->out = grown;
	link->out_size = size;
	return 0;
}

/* Queue a frame whose payload is `a` then `b` (either may be empty). */
static int frame_out(struct vk_link *link, uint8_t type, uint64_t key, uint16_t aux, const void *a,
		     size_t a_len, const void *b, size_t b_len)
{
	struct frame f = {
	    .len = (uint32_t)(a_len + b_len),
	    .type = type,
	    .flags = key & KEY_THEIRS ? 0 : F_FROM_OPENER,
	    .aux = aux,
	    .id = key & ~KEY_THEIRS,
	};
	char *at;

	if (link->fd < 0)
		return -EPIPE;
	if (out_reserve(link, sizeof(f) + a_len + b_len) < 0)
		return -ENOMEM;
	at = link->out + link->out_off + link->out_len;
	memcpy(at, &f, sizeof(f));
	if (a_len)
		memcpy(at + sizeof(f), a, a_len);
	if (b_len)
		memcpy(at + sizeof(f) + a_len, b, b_len);
	link->out_len += sizeof(f) + a_len + b_len;
	mark_dirty(link);
	return 0;
}

/* Send up to the credit of what the local process wrote. */
static void send_data(struct vk_bridge *b)
{
	struct vk_link *link = b->link;
	struct vk_vectoring *rx = b->end->rx;

	while (vk_vectoring_used(rx) && b->credit) {
		struct iovec iov[2];
		size_t n;

		if (link->out_len >= VK_MESH_OUT_HIGH) {
			if (!b->starved)
				link->starved++;
			b->starved = 1;
			return;
		}
		vk_vectoring_used_iov(rx, iov);
		n = iov[0].iov_len;
		if (n > b->credit)
			n = b->credit;
		if (n > VK_MESH_FRAME_MAX)
			n = VK_MESH_FRAME_MAX;
		if (frame_out(link, F_DATA, b->key, 0, iov[0].iov_base, n, NULL, 0) < 0)
			return;
		b->credit -= (uint32_t)n;
		vk_vectoring_consumed(rx, n);
		vk_chan_read(b->end, n);
	}
	if (b->starved) {
		b->starved = 0;
		link->starved--;
	}
}

/* Credit back the room the local reader made, in halves of the window. */
static void send_credit(struct vk_bridge *b)
{
	uint64_t consumed = b->received - vk_vectoring_used(b->end->tx);
	uint64_t owed = consumed + b->window - b->granted;
	uint32_t n;

	if (owed == 0)
		return;
	if (owed < b->window / 2 && vk_vectoring_used(b->end->tx))
		return;
	n = (uint32_t)owed;
	if (frame_out(b->link, F_CREDIT, b->key, 0, &n, sizeof(n), NULL, 0) == 0)
		b->granted += n;
}

static void send_close(struct vk_bridge *b, int error)
{
	b->close_sent = 1;
	frame_out(b->link, F_CLOSE, b->key, (uint16_t)error, NULL, 0, NULL, 0);
}

/* The local process did something (or credit came): send what is due. */
static void bridge_pump(struct vk_bridge *b)
{
	struct vk_chan_end *end = b->end;
	struct vk_chan_end *local = vk_chan_other(end);

	if (b->close_sent || end->closed)
		return;
	send_data(b);
	if (local->closed) {
		/* After its last bytes, the far reader sees how it ended. */
		if (!vk_vectoring_used(end->rx))
			send_close(b, end->rx->error);
		return;
	}
	if (end->rx->eof && !vk_vectoring_used(end->rx) && !b->hup_sent) {
		b->hup_sent = 1;
		frame_out(b->link, F_HUP, b->key, 0, NULL, 0, NULL, 0);
	}
	send_credit(b);
	if (b->hup_in && !end->tx->eof) {
		b->hup_in = 0;
		frame_out(b->link, F_HUPACK, b->key, 0, NULL, 0, NULL, 0);
	}
}

static void bridge_event(struct vk_chan_end *end, void *ctx)
{
	(void)end;
	bridge_pump(ctx);
}

/* ---- the bus's way out ---- */

static struct vk_link *link_to(const struct vk_mesh *mesh, unsigned worker)
{
	if (worker >= mesh->link_slots)
		return NULL;
	return mesh->links[worker];
}

static int remote_open(void *ctx, struct vk_chan_end *end, unsigned worker, const char *name,
		       uint64_t id)
{
	struct vk_link *link = link_to(ctx, worker);
	size_t name_len = name ? strlen(name) : 0;
	char head[12];
	uint32_t window = (uint32_t)end->tx->size;
	struct vk_bridge *b;

	if (!link)
		return -ECONNREFUSED;
	if (name_len > UINT16_MAX)
		return -ENAMETOOLONG;
	b = bridge_add(link, ++link->next_id & ~KEY_THEIRS, end, window);
	if (!b)
		return -ENOMEM;
	memcpy(head, &window, 4);
	memcpy(head + 4, &id, 8);
	if (frame_out(link, F_OPEN, b->key, (uint16_t)name_len, head, sizeof(head), name,
		      name_len) < 0) {
		bridge_free(b);
		return -ENOMEM;
	}
	vk_chan_bind_agent(end, bridge_event, b);
	return 0;
}

static void remote_publish(void *ctx, const char *topic, size_t topic_len, const void *msg,
			   size_t len)
{
	struct vk_mesh *mesh = ctx;

	for (size_t i = 0; i < mesh->link_slots; i++) {
		struct vk_link *link = mesh->links[i];

		if (!link)
			continue;
		if (link->out_len >= VK_MESH_OUT_MAX ||
		    frame_out(link, F_PUB, 0, (uint16_t)topic_len, topic, topic_len, msg, len) < 0)
			stats_of(link)->drops++;
	}
}

static const struct vk_bus_remote mesh_remote = {
    .open = remote_open,
    .publish = remote_publish,
};

/* ---- frames in ---- */

static void link_down(struct vk_link *link, const char *why);

/* A channel opened from the far side to a process here. */
static void frame_open(struct vk_link *link, uint64_t key, const struct frame *f,
		       const char *payload)
{
	struct vk_bus *bus = link->mesh->bus;
	char name[256];
	struct vk_proc *target = NULL;
	struct vk_bus_service *service;
	struct vk_bridge *b;
	struct vk_chan *chan;
	uint32_t window;
	uint64_t id;
	int error = ECONNREFUSED;

	if (f->len < 12 || f->aux != f->len - 12 || f->aux >= sizeof(name) ||
	    bridge_find(link, key))
		goto refuse;
	memcpy(&window, payload, 4);
	memcpy(&id, payload + 4, 8);
	memcpy(name, payload + 12, f->aux);
	name[f->aux] = '\0';
	if (f->aux) {
		service = vk_bus_service_find(bus, name);
		if (!service)
			error = ENOENT;
		else
			target = service->proc;
	} else {
		target = vk_bus_addr_find(bus, id & ((1ull << VK_BUS_ADDR_BITS) - 1));
	}
	if (!target || window == 0 || window > (16u << 20))
		goto refuse;
	chan = vk_chan_create(bus, window);
	b = chan ? bridge_add(link, key, &chan->end[0], window) : NULL;
	if (!b || vk_chan_offer(&chan->end[1], target) < 0) {
		if (b)
			bridge_free(b);
		if (chan) {
			vk_chan_close(&chan->end[0], ECONNREFUSED);
			vk_chan_close(&chan->end[1], ECONNREFUSED);
		}
		error = ENOMEM;
		goto refuse;
	}
	vk_chan_bind_agent(&chan->end[0], bridge_event, b);
	stats_of(link)->channels++;
	return;
refuse:
	frame_out(link, F_CLOSE, key, (uint16_t)error, NULL, 0, NULL, 0);
}

static void frame_data(struct vk_bridge *b, const struct frame *f, const char *payload)
{
	ssize_t n;

	/* Closed here: what the far side sends can never be read. */
	if (b->end->closed || vk_chan_other(b->end)->closed)
		return;
	n = vk_chan_put(b->end, payload, f->len);
	if (n != (ssize_t)f->len) {
		vk_log(3, "worker %u sent more than its credit on a channel", b->link->peer);
		if (n < 0)
			return;
	}
	b->received += (uint64_t)n;
}

/* The far side ended the channel: the local process sees it; the far bridge hears back. */
static void frame_close(struct vk_bridge *b, int error)
{
	if (!b->close_sent)
		send_close(b, 0);
	vk_chan_close(b->end, error);
	bridge_free(b);
}

static void frame_in(struct vk_link *link, const struct frame *f, const char *payload)
{
	uint64_t key = f->id | (f->flags & F_FROM_OPENER ? KEY_THEIRS : 0);
	struct vk_bridge *b;
	uint32_t n;

	if (f->type == F_PUB) {
		if (f->aux <= f->len)
			vk_pubsub_deliver(link->mesh->bus, payload, f->aux, payload + f->aux,
					  f->len - f->aux, NULL);
		return;
	}
	if (f->type == F_OPEN) {
		frame_open(link, key, f, payload);
		return;
	}
	b = bridge_find(link, key);
	if (!b)
		return; /* a channel already closed here */
	switch (f->type) {
	case F_DATA:
		frame_data(b, f, payload);
		break;
	case F_CREDIT:
		if (f->len == sizeof(n)) {
			memcpy(&n, payload, sizeof(n));
			b->credit += n;
			bridge_pump(b);
		}
		break;
	case F_HUP:
		b->hup_in = 1;
		b->end->tx->eof = 1;
		vk_chan_wrote(b->end);
		break;
	case F_HUPACK:
		b->hup_sent = 0;
		vk_chan_readhup(b->end);
		bridge_pump(b);
		break;
	case F_CLOSE:
		frame_close(b, f->aux);
		break;
	default:
		break;
	}
}

static void update_io(struct vk_link *link);

/*
 * A publication would be dropped for a subscriber that may just not have
 * run yet (a link brings a whole burst at once): take nothing more from
 * the link until the next loop iteration, after the subscribers' dispatch
 * (vk_pubsub_would_drop()).
 */
static void link_pause(struct vk_link *link)
{
	link->paused = 1;
	update_io(link);
	ev_timer_set(&link->resume, 0., 0.);
	ev_timer_start(link->mesh->loop, &link->resume);
}

/* Take in every whole frame read; keep a partial one. 0, or -1 on a bad frame. */
static int frames_in(struct vk_link *link)
{
	size_t at = 0;

	while (link->in_len - at >= sizeof(struct frame)) {
		struct frame f;

		memcpy(&f, link->in + at, sizeof(f));
		if (f.len > VK_MESH_FRAME_MAX + VK_TOPIC_MAX + 12)
			return -1;
		if (link->in_len - at < sizeof(f) + f.len)
			break;
		if (f.type == F_PUB && f.aux <= f.len &&
		    vk_pubsub_would_drop(link->mesh->bus, link->in + at + sizeof(f), f.aux,
					 f.len - f.aux)) {
			link_pause(link);
			break;
		}
		frame_in(link, &f, link->in + at + sizeof(f));
		/* A frame may have taken the link down (a protocol error). */
		if (link->fd < 0)
			return 0;
		at += sizeof(f) + f.len;
	}
	memmove(link->in, link->in + at, link->in_len - at);
	link->in_len -= at;
	return 0;
}

static void link_read(struct vk_link *link)
{
	/* A few reads at most: the other links and processes get their turn. */
	for (int i = 0; i < 4 && link->fd >= 0 && !link->paused && link->in_len < VK_MESH_IN_SIZE;
	     i++) {
		ssize_t n = read(link->fd, link->in + link->in_len, VK_MESH_IN_SIZE - link->in_len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return;
		if (n <= 0) {
			link_down(link, n == 0 ? "it is gone" : strerror(errno));
			return;
		}
		stats_of(link)->mesh_bytes_in += (uint64_t)n;
		link->in_len += (size_t)n;
		if (frames_in(link) < 0) {
			link_down(link, "bad frame");
			return;
		}
	}
}

/* ---- writing ---- */

/*
 * Watch what the link waits for: reading unless paused, writing while the
 * queue is ahead of the socket. The watcher never keeps the loop running
 * (unreferenced), so that a draining worker can end.
 */
static void update_io(struct vk_link *link)
{
	struct ev_loop *loop = link->mesh->loop;
	int events = (link->paused ? 0 : EV_READ) | (link->writing ? EV_WRITE : 0);

	if (ev_is_active(&link->io)) {
		if ((link->io.events & (EV_READ | EV_WRITE)) == events)
			return;
		ev_ref(loop);
		ev_io_stop(loop, &link->io);
	}
	if (!events)
		return;
	ev_io_set(&link->io, link->fd, events);
	ev_io_start(loop, &link->io);
	ev_unref(loop);
}

static void watch(struct vk_link *link, int writing)
{
	link->writing = (uint8_t)writing;
	update_io(link);
}

/* The queue went below the mark: the bridges it held back send again. */
static void unstarve(struct vk_link *link)
{
	for (size_t i = 0; i < link->bridges.size && link->starved; i++)
		for (struct vk_chain_link *l = link->bridges.buckets[i], *next; l; l = next) {
			next = l->next;
			if (bridge_of(l)->starved)
				bridge_pump(bridge_of(l));
		}
}

static void link_write(struct vk_link *link)
{
	while (link->out_len) {
		ssize_t n = write(link->fd, link->out + link->out_off, link->out_len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			watch(link, 1);
			return;
		}
		if (n < 0) {
			link_down(link, strerror(errno));
			return;
		}
		stats_of(link)->mesh_bytes_out += (uint64_t)n;
		link->out_off += (size_t)n;
		link->out_len -= (size_t)n;
	}
	link->out_off = 0;
	watch(link, 0);
}

static void io_callback(struct ev_loop *loop, struct ev_io *io, int revents)
{
	struct vk_link *link = io->data;

	(void)loop;
	if ((revents & EV_READ) && !link->paused)
		link_read(link);
	if (link->fd >= 0 && (revents & EV_WRITE)) {
		link_write(link);
		if (link->fd >= 0 && link->starved && link->out_len < VK_MESH_OUT_HIGH)
			unstarve(link);
	}
	if (link->fd < 0)
		free(link);
}

static void resume_callback(struct ev_loop *loop, struct ev_timer *timer, int revents)
{
	struct vk_link *link = timer->data;

	(void)loop;
	(void)revents;
	link->paused = 0;
	if (frames_in(link) < 0)
		link_down(link, "bad frame");
	if (link->fd < 0) {
		free(link);
		return;
	}
	update_io(link);
}

static void flush_callback(struct ev_loop *loop, struct ev_prepare *watcher, int revents)
{
	struct vk_mesh *mesh = watcher->data;

	(void)loop;
	(void)revents;
	while (mesh->dirty) {
		struct vk_link *link = mesh->dirty;

		mesh->dirty = link->dirty_next;
		link->dirty = 0;
		if (link->fd >= 0 && !link->writing)
			link_write(link);
		if (link->fd < 0)
			free(link);
	}
}

/* ---- links ---- */

static void link_unmark(struct vk_link *link)
{
	struct vk_link **at = &link->mesh->dirty;

	while (*at && *at != link)
		at = &(*at)->dirty_next;
	if (*at)
		*at = link->dirty_next;
	link->dirty = 0;
}

/*
 * The far worker is gone: every channel through the link sees EPIPE. The
 * link is left for whoever holds it to free (the callback it failed in).
 */
static void link_down(struct vk_link *link, const char *why)
{
	struct vk_mesh *mesh = link->mesh;

	/* Info: a worker that died is the master's to report, as a warning. */
	vk_log(6, "link to worker %u down: %s", link->peer, why);
	for (size_t i = 0; i < link->bridges.size; i++)
		while (link->bridges.buckets[i]) {
			struct vk_bridge *b = bridge_of(link->bridges.buckets[i]);

			b->close_sent = 1;
			vk_chan_close(b->end, EPIPE);
			bridge_free(b);
		}
	vk_chain_clear(&link->bridges, NULL);
	/* Its watcher is unreferenced while active (update_io()). */
	if (ev_is_active(&link->io)) {
		ev_ref(mesh->loop);
		ev_io_stop(mesh->loop, &link->io);
	}
	ev_timer_stop(mesh->loop, &link->resume);
	link->paused = 0;
	close(link->fd);
	link->fd = -1;
	link_unmark(link);
	free(link->in);
	free(link->out);
	link->in = link->out = NULL;
	link->out_len = 0;
	if (link->peer < mesh->link_slots && mesh->links[link->peer] == link)
		mesh->links[link->peer] = NULL;
}

static int slots_for(struct vk_mesh *mesh, unsigned worker)
{
	size_t size = mesh->link_slots ? mesh->link_slots : 8;
	struct vk_link **grown;

	if (worker < mesh->link_slots)
		return 0;
	while (size <= worker)
		size *= 2;
	grown = realloc(mesh->links, size * sizeof(*grown));
	if (!grown)
		return -ENOMEM;
	memset(grown + mesh->link_slots, 0, (size - mesh->link_slots) * sizeof(*grown));
	mesh->links = grown;
	mesh->link_slots = size;
	return 0;
}

int vk_mesh_add_peer(struct vk_mesh *mesh, unsigned worker, int fd)
{
	struct vk_link *link;
	int flags = fcntl(fd, F_GETFL);

	if (flags < 0 || fcntl(fd, F_SETFL, flags | O_NONBLOCK) < 0 ||
	    slots_for(mesh, worker) < 0) {
		int error = flags < 0 ? errno : ENOMEM;

		close(fd);
		return -error;
	}
	link = calloc(1, sizeof(*link));
	if (link)
		link->in = malloc(VK_MESH_IN_SIZE);
	if (!link || !link->in) {
		free(link);
		close(fd);
		return -ENOMEM;
	}
	if (mesh->links[worker]) {
		struct vk_link *old = mesh->links[worker];

		link_down(old, "replaced");
		free(old);
	}
	link->mesh = mesh;
	link->peer = worker;
	link->fd = fd;
	ev_io_init(&link->io, io_callback, fd, EV_READ);
	link->io.data = link;
	ev_timer_init(&link->resume, resume_callback, 0., 0.);
	link->resume.data = link;
	update_io(link);
	mesh->links[worker] = link;
	return 0;
}

int vk_mesh_linked(const struct vk_mesh *mesh, unsigned worker)
{
	return link_to(mesh, worker) != NULL;
}

struct vk_mesh *vk_mesh_create(struct vk_kern *kern)
{
	struct vk_mesh *mesh = calloc(1, sizeof(*mesh));

	if (!mesh)
		return NULL;
	mesh->kern = kern;
	mesh->bus = vk_kern_bus(kern);
	mesh->loop = vk_kern_loop(kern);
	ev_prepare_init(&mesh->flush, flush_callback);
	mesh->flush.data = mesh;
	/* After the kernel's dispatch, which gathers the frames. */
	ev_set_priority(&mesh->flush, EV_MINPRI);
	ev_prepare_start(mesh->loop, &mesh->flush);
	ev_unref(mesh->loop);
	vk_bus_set_remote(mesh->bus, &mesh_remote, mesh);
	return mesh;
}

void vk_mesh_destroy(struct vk_mesh *mesh)
{
	if (!mesh)
		return;
	vk_bus_set_remote(mesh->bus, NULL, NULL);
	for (size_t i = 0; i < mesh->link_slots; i++) {
		struct vk_link *link = mesh->links[i];

		if (!link)
			continue;
		link_down(link, "closing");
		free(link);
	}
	free(mesh->links);
	ev_ref(mesh->loop);
	ev_prepare_stop(mesh->loop, &mesh->flush);
	free(mesh);
}
