/*
 * kv: a client connection's loop, run either by the connection's own
 * micro-process (it sends each command to the shard owning its key, over
 * channels) or by its worker's shard: the connection hands its descriptor
 * to a channel to the shard (vk_channel_handoff()) and no longer runs, and
 * the shard reads the client's commands from that channel, carries out
 * those on its own keys on its store in place, and sends the others to
 * their shards in other workers over channels of its own, as the
 * connection would. Each command then costs no dispatch of its own: one
 * dispatch of the shard serves every client that sent something in a loop
 * iteration, where the connection's process ran twice per batch (with 2
 * workers, 0.043 mprotect calls per batch of 16 instead of 4.0).
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
