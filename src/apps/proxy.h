/*
 * proxy.so's parts: the configuration both modes share (proxy.c), and
 * the HTTP reverse proxy (proxy_http.c).
 */
#ifndef PROXY_H
#define PROXY_H

#include <stddef.h>
#include <stdint.h>

#include "vk.h"
#include "vk_http_app.h"

#define PROXY_UPSTREAMS_MAX 64

enum proxy_mode { PROXY_TCP, PROXY_HTTP };

struct upstream {
	struct vk_addr addr;
	double logged_at;  /* last failure logged, vk_now() time */
	unsigned failures; /* since */
};

struct proxy_config {
	const char *name;
	enum proxy_mode mode;
	struct upstream upstreams[PROXY_UPSTREAMS_MAX];
	unsigned count;
	unsigned next; /* round-robin, per worker */
	uint32_t connect_timeout_ms;
	size_t buffer;
	/* HTTP mode */
	void *http;		       /* the HTTP library's server (vk_http_app_start()) */
	uint32_t read_timeout_ms;      /* an upstream silent that long while answering: 504 */
	unsigned keepalive;	       /* idle upstream connections kept per address (0: none) */
	uint32_t keepalive_timeout_ms; /* ... for at most this long */
	size_t max_head;	       /* an answer's head, at most: the library's opt.max_head */
};

/* Log a failed upstream: one line per upstream per second, with a count of those left out. */
void proxy_log_failure(struct proxy_config *config, struct upstream *up, int error, double now);

/* The next upstream in the worker's round-robin order. */
struct upstream *proxy_pick(struct proxy_config *config, unsigned first, unsigned tried);

/* Start the HTTP mode: config->http; 0 or -1 (with a message). */
int proxy_http_start(struct proxy_config *config, const struct vk_app_context *context);

#endif
