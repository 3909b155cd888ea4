#include "vk_pubsub_s.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "vk_chan.h"
#include "vk_poll.h"
#include "vk_post.h"
#include "vk_socket_s.h"
#include "vk_task.h"

/*
 * A subscription is a channel: its end 0 is the publishers (an agent), its
 * end 1 the subscriber's socket. It is in the subscriber list of each of
 * its topics through one link each.
 */
struct vk_sub {
	struct vk_chan *chan;
	struct vk_bus *bus;
	struct vk_sub_link *links; /* its topics */
	uint64_t dropped;
	/* Found full by a delivery that waited for it; cleared when it reads. */
	uint8_t stalled;
	/*
	 * Relayed (vk_relay()): the descriptor whose send ring the
	 * subscription's ring is, the post that wakes the relaying task, and
	 * its place in the bus's list of relays with bytes to send.
	 */
	struct vk_fd *relay;
	struct vk_post *relay_post;
	LIST_ENTRY(vk_sub) relayed; /* in the bus's relays */
	uint64_t relay_told;	    /* dropped, as the last vk_relay() return said */
	int relay_error;	    /* the descriptor failed: the relay ends with it */
};

struct vk_sub_link {
	struct vk_sub *sub;
	struct vk_topic *topic;
	LIST_ENTRY(vk_sub_link) in_topic; /* in the topic's subscribers */
	struct vk_sub_link *sub_next;	  /* in the subscription's topics */
};

/* A last will (vk_pubsub_will()): the topic, then the message. */
struct vk_will {
	size_t topic_len;
	size_t len;
	char data[];
};

static struct vk_bus *bus_of(const struct vk_thread *that)
{
	return vk_task_proc(that)->sched->bus;
}

static int topic_ok(const char *topic, size_t *len)
{
	*len = topic ? strlen(topic) : 0;
	return *len > 0 && *len <= VK_TOPIC_MAX ? 0 : -EINVAL;
}

static void unlink_topic(struct vk_bus *bus, struct vk_sub_link *link)
{
	struct vk_topic *topic = link->topic;

	LIST_REMOVE(link, in_topic);
	if (LIST_EMPTY(&topic->subs))
		vk_bus_topic_drop(bus, topic);
}

/* The relay's descriptor, if it is still the one joined to the subscription. */
static struct vk_fd *relay_entry(const struct vk_sub *sub)
{
	struct vk_fd *entry = sub->relay;

	if (!entry || entry->proc != sub->chan->end[1].proc || entry->tx != sub->chan->end[1].rx)
		return NULL;
	return entry;
}

/* The descriptor sends from its own ring again; nothing is relayed. */
static void relay_part(struct vk_sub *sub)
{
	struct vk_fd *entry = relay_entry(sub);

	if (entry && entry->join) {
		entry->tx = entry->join->parked_tx;
		entry->join->parked_tx = NULL;
		entry->join->watcher = NULL;
	}
	sub->relay = NULL;
	vk_list_unlink(sub, relayed);
	if (sub->relay_post) {
		struct vk_post *post = sub->relay_post;

		/*
		 * In a dispatch of the owner (its posts go before its
		 * subscriptions when it ends): a relaying task still blocked
		 * on it wakes with ECANCELED.
		 */
		sub->relay_post = NULL;
		post->cancel = NULL;
		vk_post_destroy(post);
	}
}

static void sub_free(struct vk_sub *sub)
{
	relay_part(sub);
	while (sub->links) {
		struct vk_sub_link *link = sub->links;

		sub->links = link->sub_next;
		unlink_topic(sub->bus, link);
		free(link);
	}
	free(sub);
}

/*
 * The publishers' end hears from the subscriber: bytes read (nothing to
 * do: the next message finds the room), or the subscription closed.
 */
static void publishers_event(struct vk_chan_end *end, void *ctx)
{
	struct vk_sub *sub = ctx;

	if (!vk_chan_other(end)->closed) {
		sub->stalled = 0;
		return;
	}
	sub_free(sub);
	vk_chan_close(end, 0);
}

static struct vk_sub *sub_of(const struct vk_socket *socket)
{
	struct vk_chan_end *publishers;

	if (!socket || !socket->chan)
		return NULL;
	publishers = vk_chan_other(socket->chan);
	return publishers->agent == publishers_event ? publishers->agent_ctx : NULL;
}

/* A new subscription of the calling process, and its socket. */
static int sub_create(struct vk_thread *that, struct vk_socket **socket)
{
	struct vk_sub *sub = calloc(1, sizeof(*sub));
	struct vk_chan *chan = sub ? vk_chan_create(bus_of(that), VK_SUBSCRIPTION_RING) : NULL;
	int rc = chan ? vk_chan_bind(&chan->end[1], vk_task_proc(that)) : -ENOMEM;

	*socket = rc == 0 ? vk_socket_create_chan(that, &chan->end[1]) : NULL;
	if (!*socket) {
		if (chan) {
			vk_chan_close(&chan->end[0], EPIPE);
			vk_chan_close(&chan->end[1], EPIPE);
		}
		free(sub);
		return -ENOMEM;
	}
	sub->chan = chan;
	sub->bus = bus_of(that);
	vk_chan_bind_agent(&chan->end[0], publishers_event, sub);
	/* Nobody reads what a subscriber would write. */
	chan->end[1].tx->error = EBADF;
	return 0;
}

int vk_pubsub_subscribe(struct vk_thread *that, struct vk_socket **socket, const char *topic)
{
	struct vk_sub_link *link;
	struct vk_topic *t;
	struct vk_sub *sub;
	size_t len;
	int rc = topic_ok(topic, &len);

	if (rc < 0)
		return rc;
	if (!*socket && (rc = sub_create(that, socket)) < 0)
		return rc;
	sub = sub_of(*socket);
	if (!sub)
		return -EINVAL;
	for (link = sub->links; link; link = link->sub_next)
		if (link->topic->len == len && memcmp(link->topic->name, topic, len) == 0)
			return 0;
	t = vk_bus_topic(sub->bus, topic, len, 1);
	link = t ? calloc(1, sizeof(*link)) : NULL;
	if (!link) {
		if (t && LIST_EMPTY(&t->subs))
			vk_bus_topic_drop(sub->bus, t);
		return -ENOMEM;
	}
	link->sub = sub;
	link->topic = t;
	link->sub_next = sub->links;
	sub->links = link;
	LIST_INSERT_HEAD(&t->subs, link, in_topic);
	return 0;
}

int vk_pubsub_unsubscribe(struct vk_thread *that, struct vk_socket *socket, const char *topic)
{
	struct vk_sub *sub = sub_of(socket);
	struct vk_sub_link **at;
	size_t len;

	(void)that;
	if (!sub || topic_ok(topic, &len) < 0)
		return -EINVAL;
	for (at = &sub->links; *at; at = &(*at)->sub_next) {
		struct vk_sub_link *link = *at;

		if (link->topic->len != len || memcmp(link->topic->name, topic, len) != 0)
			continue;
		*at = link->sub_next;
		unlink_topic(sub->bus, link);
		free(link);
		return 0;
	}
	return 0;
}

/* Queue a whole message for one subscriber, or count it dropped. */
static int deliver_one(struct vk_sub *sub, const void *msg, size_t len)
{
	struct vk_chan_end *publishers = &sub->chan->end[0];
	struct vk_stats *stats = sub->bus->sched->stats;

	if (vk_vectoring_free(publishers->tx) < len || vk_chan_put(publishers, msg, len) < 0) {
		sub->dropped++;
		stats->drops++;
		return 0;
	}
	stats->deliveries++;
	if (sub->relay && !vk_list_linked(sub, relayed))
		LIST_INSERT_HEAD(&sub->bus->relays, sub, relayed);
	return 1;
}

/*
 * Send what a relayed subscription holds, heaps closed: from its ring,
 * which is outside every heap, to the descriptor. What went is read as
 * the subscriber would read it (the ring goes back when empty, held-back
 * publications may come). The relaying task wakes on a failure, and when
 * the ring is empty after drops: its notice goes between whole messages
 * (a message may have left in part), after those queued before the drops.
 */
static void relay_send(struct vk_sub *sub)
{
	struct vk_fd *entry = relay_entry(sub);
	struct vk_chan_end *end = &sub->chan->end[1];
	size_t before = vk_vectoring_used(end->rx);
	ssize_t n;

	if (!entry || !before || sub->relay_error)
		return;
	n = vk_poll_send(entry);
	if (n < 0) {
		sub->relay_error = (int)-n;
		if (sub->relay_post)
			vk_post_fire(sub->relay_post);
		return;
	}
	vk_chan_read(end, before - vk_vectoring_used(end->rx));
	if (sub->dropped != sub->relay_told && !vk_vectoring_used(end->rx) && sub->relay_post)
		vk_post_fire(sub->relay_post);
}

void vk_pubsub_relay_flush(struct vk_bus *bus)
{
	while (!LIST_EMPTY(&bus->relays)) {
		struct vk_sub *sub = LIST_FIRST(&bus->relays);

		vk_list_unlink(sub, relayed);
		relay_send(sub);
	}
}

/* The process ends (vk_post_destroy_all()): its relay's post goes. */
static void relay_cancel(struct vk_post *post)
{
	struct vk_sub *sub = post->owner;

	if (sub)
		sub->relay_post = NULL;
}

static int relay_joinable(const struct vk_fd *entry)
{
	return entry && !entry->connecting && !entry->listener && !vk_poll_watcher(entry) &&
	       !vk_poll_parked_tx(entry) && !entry->file;
}

/*
 * Before the join: the socket's own bytes go first (the task waits as
 * their writer), then the descriptor's send ring is the subscription's.
 */
static ssize_t relay_start(struct vk_thread *that, struct vk_sub *sub, struct vk_fd *entry)
{
	struct vk_task *task = vk_task_of(that);
	struct vk_post *post;
	ssize_t n;

	if (that->wake_error) {
		n = -that->wake_error;
		that->wake_error = 0;
		return n;
	}
	if (sub->relay || !relay_joinable(entry))
		return -EBUSY;
	n = vk_poll_drain(entry, task);
	if (n < 0)
		return n;
	if (!vk_poll_join(entry))
		return -ENOMEM;
	post = vk_post_create(vk_task_proc(that));
	if (!post)
		return -ENOMEM;
	post->owner = sub;
	post->cancel = relay_cancel;
	sub->relay_post = post;
	sub->relay = entry;
	sub->relay_error = 0;
	entry->join->parked_tx = entry->tx;
	entry->tx = sub->chan->end[1].rx;
	/* Woken by the writes a dispatch makes (the descriptor was full). */
	entry->join->watcher = task;
	that->op_done = 1;
	return 0;
}

ssize_t vk_pubsub_relay_step(struct vk_thread *that, struct vk_socket *s, struct vk_socket *to)
{
	struct vk_proc *proc = vk_task_proc(that);
	struct vk_sub *sub = sub_of(s);
	struct vk_fd *entry = to && to->entry ? vk_poll_owned(proc, to->entry) : NULL;
	struct vk_vectoring *ring;
	ssize_t n;

	if (!sub || sub->chan->end[1].proc != proc)
		return that->op_done ? -EBADF : -EINVAL;
	if (!entry)
		return -ENOTSOCK;
	if (!that->op_done) {
		n = relay_start(that, sub, entry);
		if (n < 0)
			return n;
	} else if (sub->relay != entry || !relay_entry(sub) || !sub->relay_post) {
		/* The socket was closed, or the relay undone, while it waited. */
		that->wake_error = 0;
		relay_part(sub);
		return -EBADF;
	} else if (that->wake_error) {
		/* The process's idle timeout. */
		n = -that->wake_error;
		that->wake_error = 0;
		relay_part(sub);
		return n;
	}
	ring = sub->chan->end[1].rx;
	/* A dispatch's flush (the descriptor had been full) wrote from the ring too. */
	vk_chan_settle(&sub->chan->end[1]);
	relay_send(sub);
	if (sub->relay_error || ring->error) {
		n = -(sub->relay_error ? sub->relay_error : ring->error);
		relay_part(sub);
		return n;
	}
	if (sub->dropped != sub->relay_told && !vk_vectoring_used(ring)) {
		sub->relay_told = sub->dropped;
		relay_part(sub);
		return 1;
	}
	if (ring->eof && !vk_vectoring_used(ring)) {
		relay_part(sub);
		return 0;
	}
	vk_task_block_until(vk_task_of(that), &sub->relay_post->waiter, VK_WAIT_MESSAGE, 0);
	return -EAGAIN;
}

unsigned vk_pubsub_deliver(struct vk_bus *bus, const char *topic, size_t topic_len, const void *msg,
			   size_t len, const struct vk_proc *from)
{
	struct vk_topic *t = vk_bus_topic(bus, topic, topic_len, 0);
	struct vk_sub_link *link;
	unsigned count = 0;

	if (!t)
		return 0;
	LIST_FOREACH (link, &t->subs, in_topic) {
		struct vk_sub *sub = link->sub;

		if (from && sub->chan->end[1].proc == from)
			continue;
		count += (unsigned)deliver_one(sub, msg, len);
	}
	return count;
}

int vk_pubsub_would_drop(struct vk_bus *bus, const char *topic, size_t topic_len, size_t len)
{
	struct vk_topic *t = vk_bus_topic(bus, topic, topic_len, 0);
	struct vk_sub_link *link;
	int would = 0;

	if (!t)
		return 0;
	LIST_FOREACH (link, &t->subs, in_topic) {
		struct vk_sub *sub = link->sub;

		if (sub->stalled || vk_vectoring_free(sub->chan->end[0].tx) >= len)
			continue;
		sub->stalled = 1;
		would = 1;
	}
	return would;
}

/* Publish from process `from`: here, then to every other worker. */
static unsigned publish(struct vk_bus *bus, const struct vk_proc *from, const char *topic,
			size_t topic_len, const void *msg, size_t len)
{
	unsigned count = vk_pubsub_deliver(bus, topic, topic_len, msg, len, from);

	bus->sched->stats->messages++;
	if (bus->remote)
		bus->remote->publish(bus->remote_ctx, topic, topic_len, msg, len);
	return count;
}

int vk_pubsub_publish(struct vk_thread *that, const char *topic, const void *msg, size_t len)
{
	size_t topic_len;
	int rc = topic_ok(topic, &topic_len);

	if (rc < 0)
		return rc;
	if (len > VK_PUBLISH_MAX)
		return -EMSGSIZE;
	if (len == 0)
		return 0;
	return (int)publish(bus_of(that), vk_task_proc(that), topic, topic_len, msg, len);
}

int vk_pubsub_will(struct vk_thread *that, const char *topic, const void *msg, size_t len)
{
	struct vk_proc *proc = vk_task_proc(that);
	struct vk_will *will;
	size_t topic_len;
	int rc;

	if (proc->extra) {
		free(proc->extra->will);
		proc->extra->will = NULL;
	}
	if (!topic)
		return 0;
	rc = topic_ok(topic, &topic_len);
	if (rc < 0)
		return rc;
	if (len > VK_PUBLISH_MAX)
		return -EMSGSIZE;
	/* Kernel memory: the heap may be gone, or garbage after a fault, when it is published. */
	will = vk_proc_extra(proc) ? malloc(sizeof(*will) + topic_len + len) : NULL;
	if (!will)
		return -ENOMEM;
	will->topic_len = topic_len;
	will->len = len;
	memcpy(will->data, topic, topic_len);
	memcpy(will->data + topic_len, msg, len);
	proc->extra->will = will;
	return 0;
}

void vk_pubsub_proc_end(struct vk_proc *proc)
{
	struct vk_will *will = proc->extra ? proc->extra->will : NULL;

	if (!will)
		return;
	proc->extra->will = NULL;
	if (will->len)
		publish(proc->sched->bus, proc, will->data, will->topic_len,
			will->data + will->topic_len, will->len);
	free(will);
}

uint64_t vk_pubsub_dropped(const struct vk_socket *socket)
{
	const struct vk_sub *sub = sub_of(socket);

	return sub ? sub->dropped : 0;
}
