/*
 * vk_http_log: one access log line, in the combined log format with the
 * request's time in microseconds at the end (vk_http(3)):
 *
 *   ADDR - - [03/Dec/2026:02:50:26 +0000] "GET /a?b HTTP/1.1" 200 512 "REFERER" "AGENT" 87
 *
 * Pure: the formatting only, for the connection (vk_http_conn.c) to hand
 * to the access log hook (vk_log.h). Internal.
 */
#ifndef VK_HTTP_LOG_H
#define VK_HTTP_LOG_H

#include "vk_internal.h"

#include <stddef.h>
#include <stdint.h>
#include <time.h>

/* The longest line: the escaped request cut at 4 KiB, referer and agent at 1 KiB each. */
#define VK_HTTP_LOG_LINE_MAX 8192
#define VK_HTTP_LOG_REQUEST_MAX 4096
#define VK_HTTP_LOG_FIELD_MAX 1024

/*
 * The status logged for a request whose client went (reset, cut its body,
 * timed out reading) before any answer was sent: nginx's 499, so that
 * log tools that know it count these apart from the server's errors.
 */
#define VK_HTTP_LOG_CLIENT_GONE 499

struct vk_http_log_entry {
	const char *peer; /* the client's address; NULL: "-" */
	time_t start;	  /* when the request began (wall clock) */
	/* The request line's parts; method NULL: the request did not parse ("-"). */
	const char *method;
	const char *target;
	size_t target_len;
	int version; /* 10, 11 */
	int status;
	uint64_t bytes;	     /* of the answer's body */
	const char *referer; /* NULL: "-" */
	const char *agent;   /* NULL: "-" */
	uint64_t usec;	     /* from the request's first byte to the answer's last */
};

/*
 * Format `e` into out (VK_HTTP_LOG_LINE_MAX bytes), ending in '\n'. The
 * request, referer and agent are quoted; in them a '"', a '\', a control
 * byte or a byte past 0x7e is written \xHH (as nginx does), and each is
 * cut where its escaped form would pass its maximum. The time is local
 * time, as strftime's "%d/%b/%Y:%H:%M:%S %z". Returns the byte count.
 */
size_t vk_http_log_format(char *out, const struct vk_http_log_entry *e);

#endif
