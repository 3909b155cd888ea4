/*
 * vk_pubsub: publish/subscribe between micro-processes, across workers.
 *
 * A micro-process subscribes to named topics and reads what is published
 * to them from a socket, with the ordinary operations (vk_socket_read(),
 * vk_socket_readline(), ...). Any micro-process publishes: the message
 * reaches every subscriber of the topic in every worker of the generation
 * but the publishing process itself, whole, in the order each publisher
 * published. Messages follow each other in the stream with nothing in
 * between: give them a framing (lines, a length prefix).
 *
 * Publishing never blocks. Each subscription holds at most
 * VK_SUBSCRIPTION_RING bytes that its reader has not read; a message that
 * does not fit whole is dropped for that subscriber and counted, and the
 * subscriber reads the count with vk_dropped(). So a subscriber that does
 * not keep up loses messages, never the publisher's time or the worker's
 * memory. (So does one in a worker whose link from the publisher's worker
 * is full; vkctl status counts both as drops.)
 *
 * A process may also leave a last will: a message the kernel publishes on
 * its behalf when it ends, however it ends, a fault included.
 */
#ifndef VK_PUBSUB_H
#define VK_PUBSUB_H

#include <stddef.h>
#include <stdint.h>

#include "vk_api.h"
#include "vk_socket.h"
#include "vk_state.h"

VK_API_BEGIN

/* Bytes a subscription holds unread; also the largest message. */
#define VK_SUBSCRIPTION_RING 16384
#define VK_PUBLISH_MAX VK_SUBSCRIPTION_RING
/* Longest topic name, in bytes. */
#define VK_TOPIC_MAX 255

/* Functions behind the macros: >= 0 or -errno. */
int vk_pubsub_subscribe(struct vk_thread *that, struct vk_socket **socket, const char *topic);
int vk_pubsub_unsubscribe(struct vk_thread *that, struct vk_socket *socket, const char *topic);
int vk_pubsub_publish(struct vk_thread *that, const char *topic, const void *msg, size_t len);
int vk_pubsub_will(struct vk_thread *that, const char *topic, const void *msg, size_t len);
uint64_t vk_pubsub_dropped(const struct vk_socket *socket);
ssize_t vk_pubsub_relay_step(struct vk_thread *that, struct vk_socket *s, struct vk_socket *to);

/*
 * Subscribe to `topic`. `s` (a struct vk_socket * lvalue) is the
 * subscription: when NULL, a new one is made into it; else the topic is
 * added to it. Raises EINVAL (empty or too long a topic, or `s` is not a
 * subscription), ENOMEM. Writing to a subscription raises EBADF; close it
 * with vk_channel_close().
 */
#define vk_subscribe(s, topic)                                        \
	do {                                                          \
		int vk_u_ = vk_pubsub_subscribe(that, &(s), (topic)); \
		if (vk_u_ < 0)                                        \
			vk_raise(-vk_u_);                             \
	} while (0)

/* Stop receiving `topic` on subscription `s` (no error if it was not there). */
#define vk_unsubscribe(s, topic) vk_pubsub_unsubscribe(that, (s), (topic))

/*
 * Publish `len` bytes to `topic`. Never blocks. Raises EMSGSIZE beyond
 * VK_PUBLISH_MAX, EINVAL for a bad topic.
 */
#define vk_publish(topic, msg, len)                                         \
	do {                                                                \
		int vk_p_ = vk_pubsub_publish(that, (topic), (msg), (len)); \
		if (vk_p_ < 0)                                              \
			vk_raise(-vk_p_);                                   \
	} while (0)

/*
 * Publish `len` bytes to `topic` when this micro-process ends, normally or
 * by a fault; replaces an earlier will; a NULL topic takes it back. Raises
 * as vk_publish(), and ENOMEM.
 */
#define vk_will(topic, msg, len)                                         \
	do {                                                             \
		int vk_p_ = vk_pubsub_will(that, (topic), (msg), (len)); \
		if (vk_p_ < 0)                                           \
			vk_raise(-vk_p_);                                \
	} while (0)

/* Messages dropped for subscription `s` so far, its queue being full. */
#define vk_dropped(s) vk_pubsub_dropped(s)

/*
 * Relay subscription `s` to socket `to` (on a descriptor): what is
 * published to `s` goes on to `to`'s peer as it comes, written by the
 * kernel straight from the subscription's queue, which is outside the
 * heap, without running this micro-process (so with no protection change):
 * one write a loop iteration for all that came in it. The socket's own
 * bytes go first. While relayed, what the process writes to `to` waits in
 * the socket's ring until the relay returns; reading `to` goes on as usual.
 *
 * `rc` gets 1 when messages were dropped for `s` that no earlier return
 * of vk_relay() said (vk_dropped() counts them: tell the peer and relay
 * again), once the messages queued before them are all out (so that a
 * notice goes between whole messages); 0 when the subscription ended. Raises EINVAL (`s` is not a
 * subscription of this process), ENOTSOCK (`to` is not on a descriptor),
 * EBUSY (`s` relayed, or `to` joined, already), EBADF (either closed while
 * relayed), the error writing to `to` met, and ETIMEDOUT at the process's
 * idle timeout (the coroutine's own timeout does not apply).
 *
 *	for (;;) {
 *		vk_relay(self->sub, that->socket, self->rc);
 *		if (self->rc == 0)
 *			break;
 *		... write "N messages dropped" to that->socket ...
 *	}
 */
#define vk_relay(s, to, rc)                                                       \
	do {                                                                      \
		ssize_t vk_rl_;                                                   \
		vk_socket_own_op_(vk_rl_, vk_pubsub_relay_step(that, (s), (to))); \
		if (vk_rl_ < 0)                                                   \
			vk_raise((int)-vk_rl_);                                   \
		(rc) = vk_rl_;                                                    \
	} while (0)

VK_API_END

#endif
