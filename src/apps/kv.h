/*
 * kv: a client connection's loop, run either by the connection's own
 * micro-process (it sends each command to the shard owning its key, over
 * channels) or, with one worker, where every key's shard is the local one,
 * by the shard itself: the connection hands its descriptor to a channel to
 * the shard (vk_channel_handoff()) and no longer runs, and the shard reads
 * the client's commands from that channel and carries them out on its
 * store in place. Each command then costs no dispatch of its own: one
 * dispatch of the shard serves every client that sent something in a loop
 * iteration, where the connection's process ran twice per batch.
 */
#ifndef KV_H
#define KV_H

#include "vk.h"

struct kv_config;
struct kv_shard;

struct kv_conn_arg {
	const struct kv_config *config;
	struct kv_shard *shard; /* running in the shard: its store; else NULL */
};

/* The RESP loop on that->socket until the client quits or goes; vk_arg() a struct kv_conn_arg. */
void kv_conn(struct vk_thread *that);

#endif
