#include "vk_http_url.h"

#include <errno.h>
#include <stdbool.h>
#include <string.h>

static int hex(unsigned char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c |= 0x20;
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

ssize_t vk_http_unescape(const char *in, size_t len, char *out, size_t cap, unsigned flags)
{
	size_t o = 0;

	for (size_t i = 0; i < len; i++) {
		char c = in[i];

		if (c == '%') {
			int hi = len - i >= 3 ? hex((unsigned char)in[i + 1]) : -1;
			int lo = len - i >= 3 ? hex((unsigned char)in[i + 2]) : -1;

			if (hi < 0 || lo < 0)
				return -EINVAL;
			c = (char)(hi << 4 | lo);
			if (c == '\0')
				return -EINVAL;
			i += 2;
		} else if (c == '+' && flags & VK_HTTP_FORM) {
			c = ' ';
		}
		if (o + 1 >= cap)
			return -ENOSPC;
		out[o++] = c;
	}
	if (o >= cap)
		return -ENOSPC;
	out[o] = '\0';
	return (ssize_t)o;
}

/* Whether the encoded field name f[0..n) decodes to `name`. */
static bool name_is(const char *f, size_t n, const char *name)
{
	char decoded[256];
	ssize_t len = vk_http_unescape(f, n, decoded, sizeof(decoded), VK_HTTP_FORM);

	return len >= 0 && strcmp(decoded, name) == 0;
}

ssize_t vk_http_form_value(const char *form, size_t len, const char *name, char *out, size_t cap)
{
	size_t i = 0;

	if (len == (size_t)-1)
		len = strlen(form);
	while (i < len) {
		size_t end = i;
		size_t eq;

		while (end < len && form[end] != '&')
			end++;
		eq = i;
		while (eq < end && form[eq] != '=')
			eq++;
		if (name_is(form + i, eq - i, name)) {
			size_t v = eq < end ? eq + 1 : end;

			return vk_http_unescape(form + v, end - v, out, cap, VK_HTTP_FORM);
		}
		i = end + 1;
	}
	return -ENOENT;
}
