/*
 * kv_resp: the Redis protocol (RESP 2) as the kv app speaks it.
 *
 * Requests are arrays of bulk strings ("*2\r\n$3\r\nGET\r\n$1\r\nk\r\n"),
 * as redis-cli and redis-benchmark send them, or inline commands ("PING
 * k\r\n", words separated by spaces), as typed into telnet. Replies are
 * formatted here too. Nothing here does I/O or allocates.
 */
#ifndef KV_RESP_H
#define KV_RESP_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/types.h>

/* An argument: bytes in the buffer parsed, not NUL-terminated. */
struct kv_arg {
	const char *p;
	size_t len;
};

/*
 * Parse one command at the start of `buf` (`len` bytes). Returns the bytes
 * it takes, with the arguments in argv[0 .. *argc) (at most `max`; more is
 * an error); 0 when the command is not all there yet; -1 on a protocol
 * error, with *error a reply line for it ("-ERR ...\r\n"). An empty
 * command (a blank inline line) takes its bytes with *argc 0.
 */
ssize_t kv_resp_parse(const char *buf, size_t len, struct kv_arg *argv, size_t max, size_t *argc,
		      const char **error);

/* Whether the `n` bytes at `p` are `word` (in upper case), ignoring ASCII case. */
int kv_resp_same(const char *p, const char *word, size_t n);

/*
 * Whether argument `a` is `word` (in upper case), ignoring ASCII case.
 * Inline, so that the length of a literal word is a constant.
 */
static inline int kv_resp_is(const struct kv_arg *a, const char *word)
{
	size_t n = strlen(word);

	return a->len == n && kv_resp_same(a->p, word, n);
}

/* The argument as a signed 64-bit decimal integer: 0, or -1 if it is not one. */
int kv_resp_int(const struct kv_arg *a, int64_t *out);

/* ":N\r\n" into `out` (room for 24 bytes); returns its length. */
size_t kv_resp_format_int(char *out, int64_t n);

/* "$N\r\n" (or "*N\r\n" with `type` '*') into `out` (24 bytes); returns its length. */
size_t kv_resp_format_head(char *out, char type, size_t n);

#endif
