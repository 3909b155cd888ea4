#include "vk_http_route.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

static const char *const method_names[] = {
    [VK_HTTP_GET] = "GET",     [VK_HTTP_HEAD] = "HEAD",	    [VK_HTTP_POST] = "POST",
    [VK_HTTP_PUT] = "PUT",     [VK_HTTP_DELETE] = "DELETE", [VK_HTTP_OPTIONS] = "OPTIONS",
    [VK_HTTP_PATCH] = "PATCH", [VK_HTTP_TRACE] = "TRACE",   [VK_HTTP_CONNECT] = "CONNECT",
};

#define METHOD_COUNT (sizeof(method_names) / sizeof(method_names[0]))

const char *vk_http_method_name(enum vk_http_method method)
{
	if ((unsigned)method >= METHOD_COUNT)
		return NULL;
	return method_names[method];
}

static bool is_name_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '_';
}

/* Length of the parameter name at p (just after its ':'). */
static size_t name_len(const char *p)
{
	size_t n = 0;

	while (is_name_char(p[n]))
		n++;
	return n;
}

/* Whether the pattern's part at p names `name` (n bytes). */
static bool names_equal(const char *p, const char *name, size_t n)
{
	return name_len(p) == n && memcmp(p, name, n) == 0;
}

const char *vk_http_route_pattern_error(const char *pattern)
{
	const char *names[VK_HTTP_MAX_PARAMS];
	unsigned count = 0;

	if (pattern[0] != '/')
		return "does not start with '/'";
	for (const char *p = pattern; *p; p++) {
		size_t n;

		if (*p == '*') {
			if (p[-1] != '/' || p[1] != '\0')
				return "'*' is not the whole last segment";
		} else if (*p != ':') {
			if ((unsigned char)*p <= 0x20 || (unsigned char)*p >= 0x7f || *p == '?' ||
			    *p == '#')
				return "holds a byte a path cannot have";
			continue;
		}
		if (count == VK_HTTP_MAX_PARAMS)
			return "has too many parameters";
		if (*p == '*') {
			names[count++] = p;
			continue;
		}
		if (p[-1] != '/')
			return "':' does not start a segment";
		n = name_len(p + 1);
		if (n == 0)
			return "has an empty parameter name";
		if (p[1 + n] != '\0' && p[1 + n] != '/')
			return "a parameter name holds a byte other than A-Z a-z 0-9 _";
		for (unsigned i = 0; i < count; i++)
			if (names[i][0] == ':' && names_equal(names[i] + 1, p + 1, n))
				return "repeats a parameter name";
		names[count++] = p;
		p += n;
	}
	return NULL;
}

int vk_http_route_check(const struct vk_http_route *routes, size_t n, char *why, size_t why_len)
{
	for (size_t i = 0; i < n; i++) {
		const struct vk_http_route *r = &routes[i];
		const char *error = NULL;

		if (!r->pattern)
			error = "has no pattern";
		else if (!r->handler)
			error = "has no handler";
		else if (r->methods >> METHOD_COUNT || r->methods & VK_HTTP_METHOD(VK_HTTP_OTHER))
			error = "has a method outside GET .. CONNECT";
		else
			error = vk_http_route_pattern_error(r->pattern);
		if (error) {
			snprintf(why, why_len, "route %zu (\"%s\") %s", i + 1,
				 r->pattern ? r->pattern : "", error);
			return -EINVAL;
		}
	}
	return 0;
}

/* Match path against pattern; the parameters go to *m. */
static bool pattern_match(const char *p, const char *path, size_t len, struct vk_http_match *m)
{
	size_t i = 0;

	m->nparams = 0;
	for (; *p; p++) {
		size_t start = i;

		if (*p == '*') {
			m->param_off[m->nparams] = (uint16_t)i;
			m->param_len[m->nparams++] = (uint16_t)(len - i);
			return true;
		}
		if (*p != ':') {
			if (i == len || path[i] != *p)
				return false;
			i++;
			continue;
		}
		while (i < len && path[i] != '/')
			i++;
		if (i == start)
			return false;
		m->param_off[m->nparams] = (uint16_t)start;
		m->param_len[m->nparams++] = (uint16_t)(i - start);
		p += name_len(p + 1);
	}
	return i == len;
}

static bool method_ok(unsigned methods, enum vk_http_method method)
{
	if (methods == VK_HTTP_ANY_METHOD || methods & VK_HTTP_METHOD(method))
		return true;
	return method == VK_HTTP_HEAD && methods & VK_HTTP_METHOD(VK_HTTP_GET);
}

int vk_http_route_match(const struct vk_http_route *routes, size_t n, enum vk_http_method method,
			const char *path, size_t len, struct vk_http_match *match)
{
	unsigned allow = 0;
	bool found = false;

	match->route = NULL;
	match->allow = 0;
	/* Offsets are 16 bits: a longer path matches no pattern. */
	if (len > UINT16_MAX)
		return 404;
	for (size_t i = 0; i < n; i++) {
		if (!pattern_match(routes[i].pattern, path, len, match))
			continue;
		if (method_ok(routes[i].methods, method)) {
			match->route = &routes[i];
			return 0;
		}
		found = true;
		allow |= routes[i].methods;
	}
	match->nparams = 0;
	if (!found)
		return 404;
	if (allow & VK_HTTP_METHOD(VK_HTTP_GET))
		allow |= VK_HTTP_METHOD(VK_HTTP_HEAD);
	match->allow = allow;
	return 405;
}

int vk_http_route_param(const struct vk_http_route *route, const char *name)
{
	size_t n = strlen(name);
	int index = 0;

	for (const char *p = route->pattern; *p; p++) {
		if (*p == '*')
			return n == 1 && name[0] == '*' ? index : -1;
		if (*p != ':')
			continue;
		if (names_equal(p + 1, name, n))
			return index;
		index++;
	}
	return -1;
}

int vk_http_route_allow(unsigned methods, char *buf, size_t cap)
{
	size_t len = 0;

	for (unsigned m = 1; m < METHOD_COUNT; m++) {
		size_t n;

		if (!(methods & VK_HTTP_METHOD(m)))
			continue;
		n = strlen(method_names[m]);
		if (len + (len ? 2 : 0) + n + 1 > cap)
			return -ENOSPC;
		if (len) {
			memcpy(buf + len, ", ", 2);
			len += 2;
		}
		memcpy(buf + len, method_names[m], n);
		len += n;
	}
	if (len + 1 > cap)
		return -ENOSPC;
	buf[len] = '\0';
	return (int)len;
}
