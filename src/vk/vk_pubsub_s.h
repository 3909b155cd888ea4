/*
 * The calls libvk makes on publish/subscribe that apps do not
 * (vk_pubsub.h is the API). Internal: not installed.
 */
#ifndef VK_PUBSUB_S_H
#define VK_PUBSUB_S_H

#include <stddef.h>

#include "vk_internal.h"
#include "vk_bus.h"
#include "vk_pubsub.h"

/*
 * Queue a message for the subscribers of `topic` in this worker, but
 * those of process `from` (NULL: none skipped). Returns how many got it.
 */
unsigned vk_pubsub_deliver(struct vk_bus *bus, const char *topic, size_t topic_len, const void *msg,
			   size_t len, const struct vk_proc *from);

/*
 * Whether a message of `len` bytes to `topic` would be dropped now for a
 * subscriber here that has not been waited for yet. Those are marked
 * waited for (until they read): a caller that can hold the message back
 * (the inter-worker path) gives them one dispatch to make room, and a
 * subscriber that did not read in it is slow, so the next call ignores it
 * and its copy is dropped.
 */
int vk_pubsub_would_drop(struct vk_bus *bus, const char *topic, size_t topic_len, size_t len);

/*
 * Send what relayed subscriptions (vk_relay()) received since the last
 * call, one write per subscriber for all its messages; heaps closed. The
 * kernel calls it after each round of dispatches.
 */
void vk_pubsub_relay_flush(struct vk_bus *bus);

/* `proc` ends: publish its last will, if any. */
void vk_pubsub_proc_end(struct vk_proc *proc);

#endif
