/*
 * vkd_chan: the channel between the master and one worker.
 *
 * A Unix stream socketpair made when the worker is forked: the master
 * keeps one end, the worker the other. Both sides are non-blocking and
 * speak in frames: a fixed head (type, request id, an argument, the
 * payload's length) and a payload. The master asks (VKD_CHAN_PS,
 * VKD_CHAN_KILL); the worker answers each request in order, a ps in
 * several parts. Master and worker are the same program, so payloads are
 * plain structs (struct vk_proc_info).
 */
#ifndef VKD_CHAN_H
#define VKD_CHAN_H

#include <stddef.h>
#include <stdint.h>

enum vkd_chan_type {
	VKD_CHAN_PS = 1,    /* master: list your micro-processes */
	VKD_CHAN_KILL,	    /* master: end micro-process `payload` (a uint64_t id) */
	VKD_CHAN_PS_PART,   /* worker: some struct vk_proc_info */
	VKD_CHAN_PS_END,    /* worker: that was all (struct vkd_chan_ps_end) */
	VKD_CHAN_KILL_DONE, /* worker: arg = 0, or ESRCH */
};

struct vkd_chan_head {
	uint32_t type; /* enum vkd_chan_type */
	uint32_t id;   /* the request's, echoed in its answers */
	uint32_t arg;
	uint32_t len; /* bytes of payload that follow */
};

/* How a worker's ps went, for the master to tell. */
struct vkd_chan_ps_end {
	uint64_t procs;		   /* records sent */
	uint64_t slices;	   /* loop iterations it took */
	uint64_t max_slice_ns;	   /* the longest the worker spent on it at once */
	uint64_t max_slice_cpu_ns; /* the same in CPU time: without the host's preemption */
};

/* The largest payload either side accepts: a frame past it is an error. */
#define VKD_CHAN_PAYLOAD_MAX ((size_t)1 << 20)

/* Bytes received, and the frames they make. */
struct vkd_chan_in {
	char *buf;
	size_t len;
	size_t size;
};

/*
 * Read what the socket holds (at most `max` bytes this time). Returns the
 * bytes read (0 when nothing was there), or -1 at end of file, on an
 * error, or out of memory (errno says).
 */
long vkd_chan_read(int fd, struct vkd_chan_in *in, size_t max);

/*
 * The whole frame at the front, or NULL while it is incomplete; its
 * payload follows the head. -1 in *bad for a frame too large to be one.
 * vkd_chan_consume() drops it.
 */
const struct vkd_chan_head *vkd_chan_frame(const struct vkd_chan_in *in, int *bad);
void vkd_chan_consume(struct vkd_chan_in *in);
void vkd_chan_in_free(struct vkd_chan_in *in);

/* Bytes to send. */
struct vkd_chan_out {
	char *buf;
	size_t len;
	size_t off; /* sent so far */
	size_t size;
};

/* Queue a frame. 0, or -1 (ENOMEM, or EMSGSIZE past VKD_CHAN_PAYLOAD_MAX). */
int vkd_chan_put(struct vkd_chan_out *out, uint32_t type, uint32_t id, uint32_t arg,
		 const void *payload, size_t len);

/* Bytes queued and not sent yet. */
static inline size_t vkd_chan_pending(const struct vkd_chan_out *out)
{
	return out->len - out->off;
}

/*
 * Send what is queued, without blocking. Returns 1 when all of it went, 0
 * when some is left (wait for the socket to be writable), -1 on an error.
 */
int vkd_chan_flush(int fd, struct vkd_chan_out *out);
void vkd_chan_out_free(struct vkd_chan_out *out);

/* A non-blocking, close-on-exec socketpair: [0] the master's, [1] the worker's. */
int vkd_chan_pair(int fds[2]);

#endif
