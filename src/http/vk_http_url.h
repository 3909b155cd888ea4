/*
 * vk_http_url: the pieces of a URL an app decodes itself: percent-escapes
 * (RFC 3986 2.1) and form fields (application/x-www-form-urlencoded, as a
 * query string or a POST body). Pure functions: no I/O, no allocation.
 */
#ifndef VK_HTTP_URL_H
#define VK_HTTP_URL_H

#include <stddef.h>
#include <sys/types.h>
#include "vk_api.h"

VK_API_BEGIN

/* Flags of vk_http_unescape(). */
enum {
	VK_HTTP_FORM = 1u << 0, /* '+' stands for a space (form fields) */
};

/*
 * vk_http_unescape - percent-decode in[0..len) into out (cap bytes),
 * NUL-terminated. in and out may be the same buffer (decoding only
 * shrinks).
 *
 * Returns the decoded length, -EINVAL for a '%' not followed by two hex
 * digits or for an escaped NUL ("%00": it would cut a C string short), or
 * -ENOSPC when out is too small (out is then not terminated).
 */
ssize_t vk_http_unescape(const char *in, size_t len, char *out, size_t cap, unsigned flags);

/*
 * vk_http_form_value - the value of field `name` in a form ("a=1&b=x+y",
 * as vk_http_query() gives or a urlencoded body), decoded into out (cap
 * bytes), NUL-terminated. The first field whose decoded name is `name`
 * wins; "a" and "a=" both give "". form is len bytes, or up to its NUL
 * when len is (size_t)-1.
 *
 * Returns the value's length, -ENOENT when there is no such field, or as
 * vk_http_unescape() (-EINVAL, -ENOSPC).
 */
ssize_t vk_http_form_value(const char *form, size_t len, const char *name, char *out, size_t cap);

VK_API_END

#endif
