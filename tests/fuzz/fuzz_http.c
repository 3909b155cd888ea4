/*
 * fuzz_http.c - libFuzzer target for the HTTP/1.1 request parser and the
 * chunked decoder.
 *
 * The input is a client's byte stream. Each request in it is parsed three
 * ways (whole, one byte at a time, in pieces of a size taken from the
 * input) and the results must be identical; a parsed head must satisfy the
 * invariants the header promises; a chunked body is decoded whole and byte
 * by byte and must give the same bytes. Then the next pipelined request.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "vk_http.h"

#define CAP 2048
#define MAX_BODY 4096
#define MAX_REQUESTS 8

/* Small limits, so that every limit is within the fuzzer's reach. */
static const struct vk_http_limits limits = {
    .max_line = 512,
    .max_headers = 16,
    .max_body = MAX_BODY,
    .flags = 0,
};

struct head_run {
	int rc;
	size_t consumed;
	struct vk_http_request req;
	char buf[CAP];
};

struct body_run {
	int rc;
	size_t consumed;
	size_t len;
	char out[MAX_BODY];
};

static struct head_run runs[3];
static struct body_run bodies[2];

#define CHECK(cond)                       \
	do {                              \
		if (!(cond))              \
			__builtin_trap(); \
	} while (0)

static void parse_head(struct head_run *r, const uint8_t *d, size_t n, size_t step)
{
	size_t pos = 0;

	vk_http_request_init(&r->req, r->buf, sizeof(r->buf), &limits);
	r->rc = 0;
	while (pos < n) {
		size_t len = step && step < n - pos ? step : n - pos;
		size_t c = (size_t)-1;

		r->rc = vk_http_request_parse(&r->req, (const char *)d + pos, len, &c);
		CHECK(c <= len);
		CHECK(r->rc != 0 || c == len);
		pos += c;
		if (r->rc)
			break;
	}
	r->consumed = pos;
}

static int is_tchar(unsigned char c)
{
	return (c >= '0' && c <= '9') || ((c | 0x20) >= 'a' && (c | 0x20) <= 'z') ||
	       (c && strchr("!#$%&'*+-.^_`|~", c));
}

/* What the header promises about a head that parsed. */
static void check_head(const struct head_run *r)
{
	const struct vk_http_request *q = &r->req;
	struct vk_http_out out;
	char obuf[CAP + 64];

	CHECK(q->version == 10 || q->version == 11);
	CHECK(q->method_len > 0 && q->buf[q->method_len] == '\0');
	CHECK(q->method != VK_HTTP_OTHER);
	CHECK(q->target_len > 0 && q->buf[q->target_off + q->target_len] == '\0');
	for (size_t i = 0; i < q->target_len; i++) {
		unsigned char c = (unsigned char)q->buf[q->target_off + i];
		CHECK(c > 0x20 && c < 0x7f);
	}
	CHECK(q->nfields <= limits.max_headers);
	CHECK(!(q->chunked && q->has_content_length));
	CHECK(q->version == 10 || q->has_host);
	CHECK(!q->has_content_length || q->content_length <= MAX_BODY);

	vk_http_out_init(&out, obuf, sizeof(obuf));
	for (size_t i = 0; i < q->nfields; i++) {
		const struct vk_http_field *f = &q->fields[i];
		const char *name = vk_http_field_name(q, i);
		const char *value = vk_http_field_value(q, i);

		CHECK(f->name_len > 0 && name[f->name_len] == '\0');
		CHECK(value[f->value_len] == '\0');
		for (size_t j = 0; j < f->name_len; j++)
			CHECK(is_tchar((unsigned char)name[j]));
		for (size_t j = 0; j < f->value_len; j++) {
			unsigned char c = (unsigned char)value[j];
			CHECK(c == '\t' || (c >= 0x20 && c != 0x7f));
		}
		if (f->value_len) {
			CHECK(value[0] != ' ' && value[0] != '\t');
			CHECK(value[f->value_len - 1] != ' ' && value[f->value_len - 1] != '\t');
		}
		CHECK(vk_http_header(q, name) != NULL);
		/* A parsed field can always be written back out. */
		CHECK(vk_http_out_header(&out, name, f->name_len, value, f->value_len) == 0);
	}
}

static void same_head(const struct head_run *a, const struct head_run *b)
{
	const struct vk_http_request *x = &a->req;
	const struct vk_http_request *y = &b->req;

	CHECK(a->rc == b->rc);
	if (a->rc != 1)
		return;
	CHECK(a->consumed == b->consumed);
	CHECK(x->method == y->method && x->version == y->version);
	CHECK(x->method_len == y->method_len);
	CHECK(x->target_off == y->target_off && x->target_len == y->target_len);
	CHECK(x->nfields == y->nfields);
	CHECK(x->has_content_length == y->has_content_length);
	CHECK(x->content_length == y->content_length);
	CHECK(x->chunked == y->chunked && x->keep_alive == y->keep_alive);
	CHECK(x->expect_continue == y->expect_continue && x->has_host == y->has_host);
	CHECK(x->used == y->used && memcmp(x->buf, y->buf, x->used) == 0);
	CHECK(memcmp(x->fields, y->fields, x->nfields * sizeof(x->fields[0])) == 0);
}

static void decode_body(struct body_run *b, const uint8_t *d, size_t n, size_t step)
{
	struct vk_http_chunked ch;
	size_t pos = 0;

	vk_http_chunked_init(&ch, &limits);
	b->rc = 0;
	b->len = 0;
	while (pos < n) {
		size_t len = step && step < n - pos ? step : n - pos;
		const char *data;
		size_t dlen;
		size_t c;

		b->rc = vk_http_chunked_decode(&ch, (const char *)d + pos, len, &c, &data, &dlen);
		CHECK(c <= len);
		CHECK(b->rc != 0 || (c == len && dlen == 0));
		if (b->rc == 1) {
			CHECK(dlen > 0 && data == (const char *)d + pos + c - dlen);
			CHECK(b->len + dlen <= MAX_BODY);
			memcpy(b->out + b->len, data, dlen);
			b->len += dlen;
			b->rc = 0;
		}
		pos += c;
		if (b->rc)
			break;
	}
	b->consumed = pos;
}

/* Returns how many bytes the body took, or 0 when the stream ends here. */
static size_t body(const struct vk_http_request *req, const uint8_t *d, size_t n, size_t step)
{
	switch (vk_http_request_body(req)) {
	case VK_HTTP_BODY_NONE:
		return 0;
	case VK_HTTP_BODY_LENGTH:
		return req->content_length <= n ? (size_t)req->content_length : n;
	case VK_HTTP_BODY_CHUNKED:
		decode_body(&bodies[0], d, n, 0);
		decode_body(&bodies[1], d, n, step);
		CHECK(bodies[0].rc == bodies[1].rc);
		CHECK(bodies[0].len == bodies[1].len);
		CHECK(memcmp(bodies[0].out, bodies[1].out, bodies[0].len) == 0);
		if (bodies[0].rc != 2)
			return n;
		CHECK(bodies[0].consumed == bodies[1].consumed);
		return bodies[0].consumed;
	}
	__builtin_trap();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t step = size ? 2 + data[size - 1] % 13 : 2;

	for (int i = 0; i < MAX_REQUESTS && size > 0; i++) {
		size_t used;

		parse_head(&runs[0], data, size, 0);
		parse_head(&runs[1], data, size, 1);
		parse_head(&runs[2], data, size, step);
		same_head(&runs[0], &runs[1]);
		same_head(&runs[0], &runs[2]);
		if (runs[0].rc != 1)
			break;
		check_head(&runs[0]);
		data += runs[0].consumed;
		size -= runs[0].consumed;
		used = body(&runs[0].req, data, size, step);
		if (used == 0 && vk_http_request_body(&runs[0].req) != VK_HTTP_BODY_NONE)
			break;
		data += used;
		size -= used;
		if (!runs[0].req.keep_alive)
			break;
	}
	return 0;
}
