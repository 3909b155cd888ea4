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

/*
 * An upstream's answer head, parsed in place (names and values
 * NUL-terminated in the buffer). The fields are not listed: walk them
 * with proxy_answer_next(). A pointer a field costs 1.6 KiB of the
 * handler's state (100 names and values), zeroed every request and, with
 * isolation on, one more page touched every dispatch.
 */
struct proxy_answer {
	int status;
	int version; /* 10, 11 */
	int close;   /* the connection cannot be used again */
	int chunked;
	int64_t length; /* Content-Length, -1 when none */
	const char *type;
	unsigned nfields;
	unsigned nconnection;
	const char *fields;			      /* the first field's line */
	const char *fields_end;			      /* the empty line */
	const char *connection[PROXY_CONNECTION_MAX]; /* the Connection fields' values */
};

/*
 * Fields the proxy treats apart, by name (any case): hop-by-hop ones, those
 * the HTTP library writes itself, those it extends.
 */
enum proxy_field_id {
	PROXY_F_OTHER,
	PROXY_F_CONNECTION,
	PROXY_F_KEEP_ALIVE,
	PROXY_F_PROXY_CONNECTION,
	PROXY_F_TE,
	PROXY_F_TRAILER,
	PROXY_F_TRANSFER_ENCODING,
	PROXY_F_UPGRADE,
	PROXY_F_CONTENT_LENGTH,
	PROXY_F_EXPECT,
	PROXY_F_X_FORWARDED_FOR,
	PROXY_F_FORWARDED,
	PROXY_F_PROXY_AUTHORIZATION,
	PROXY_F_PROXY_AUTHENTICATE,
	PROXY_F_SERVER,
	PROXY_F_DATE,
	PROXY_F_CONTENT_TYPE,
	PROXY_F_HOST,
};

/* The id of the field called `name` (len bytes). */
enum proxy_field_id proxy_field_id(const char *name, size_t len);

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

/*
 * The fields of a parsed head in order: `*at` NULL at first; each call
 * gives the next field's name and value and returns 1, then 0 after the
 * last.
 */
int proxy_answer_next(const struct proxy_answer *a, const char **at, const char **name,
		      const char **value);

/* Whether the field `name` of a is not to be passed on: hop-by-hop, or written by the library. */
int proxy_answer_dropped(const struct proxy_answer *a, const char *name);

/* Whether `list` (a comma list of tokens) holds `token`, in any case. */
int proxy_list_has(const char *list, const char *token);

#endif
