/*
 * proxy_answer: an upstream's answer head, parsed and checked as strictly
 * as the HTTP library checks requests (no smuggling across the hop), and
 * the framing of the body that follows it. No I/O: proxy_http.c reads
 * the head, tests/unit/check_proxy_answer.c feeds it.
 */
#ifndef PROXY_ANSWER_H
#define PROXY_ANSWER_H

#include <stddef.h>
#include <stdint.h>

#define PROXY_FIELDS_MAX 100
#define PROXY_CONNECTION_MAX 8

/* An upstream's answer head, parsed in place (names and values NUL-terminated). */
struct proxy_answer {
	int status;
	int version; /* 10, 11 */
	int close;   /* the connection cannot be used again */
	int chunked;
	int64_t length; /* Content-Length, -1 when none */
	const char *type;
	unsigned nfields;
	const char *names[PROXY_FIELDS_MAX];
	const char *values[PROXY_FIELDS_MAX];
	const char *connection[PROXY_CONNECTION_MAX]; /* the Connection fields' values */
	unsigned nconnection;
};

/* How the body after a head ends. */
enum proxy_framing {
	PROXY_BODY_NONE,    /* no body: a HEAD request's answer, 1xx, 204, 304 */
	PROXY_BODY_LENGTH,  /* Content-Length bytes */
	PROXY_BODY_CHUNKED, /* chunks up to the last one */
	PROXY_BODY_CLOSE,   /* up to the connection's end: not reusable */
};

/*
 * Parse the head in buf (len bytes: the status line, the fields, every
 * line ending in CRLF, the empty line last), writing NULs into it.
 * Returns 0, or -1 when it is not a well-formed answer: a bare LF or CR,
 * a NUL or another control byte, an obs-fold, a bad field name, a status
 * outside 100..599, Content-Length with Transfer-Encoding, Content-Lengths
 * that differ, a Transfer-Encoding other than chunked, more than
 * PROXY_FIELDS_MAX fields, no empty line at the end.
 */
int proxy_answer_parse(char *buf, size_t len, struct proxy_answer *a);

/* The framing of a's body; `head` when it answers a HEAD request. */
enum proxy_framing proxy_answer_framing(const struct proxy_answer *a, int head);

/* Whether the field `name` of a is not to be passed on: hop-by-hop, or written by the library. */
int proxy_answer_dropped(const struct proxy_answer *a, const char *name);

/* Whether `list` (a comma list of tokens) holds `token`, in any case. */
int proxy_list_has(const char *list, const char *token);

#endif
