/*
 * kv_config: the kv app's options (its init hook reads them; every
 * connection and every shard sees them as vk_arg()).
 */
#ifndef KV_CONFIG_H
#define KV_CONFIG_H

#include <stddef.h>

struct kv_config {
	int crash_command;  /* opt.crash_command = on: DEBUG SEGFAULT faults the shard */
	size_t max_request; /* opt.max_request: the largest command, bytes (default 64k) */
	int handoff;	    /* opt.handoff (default on): clients run in their worker's shard */
};

#endif
