#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1 /* dladdr1() */
#endif
#include "vk_http_mount.h"

#include <dlfcn.h>
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <link.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define BLANKS " \t"

/* ---- parsing a line ---- */

/* Say why in why/cap; the value is -EINVAL. */
#define fail(why, cap, ...) (snprintf((why), (cap), __VA_ARGS__), -EINVAL)

/* The method called name/len, or VK_HTTP_OTHER. */
static enum vk_http_method method_named(const char *name, size_t len)
{
	for (unsigned m = VK_HTTP_GET; m <= VK_HTTP_CONNECT; m++) {
		const char *known = vk_http_method_name((enum vk_http_method)m);

		if (strlen(known) == len && memcmp(known, name, len) == 0)
			return (enum vk_http_method)m;
	}
	return VK_HTTP_OTHER;
}

static int parse_methods(const char *text, size_t len, unsigned *methods, char *why, size_t cap)
{
	const char *end = text + len;

	*methods = 0;
	if (len == 1 && text[0] == '*') {
		*methods = VK_HTTP_ANY_METHOD;
		return 0;
	}
	for (const char *p = text; p <= end;) {
		const char *comma = memchr(p, ',', (size_t)(end - p));
		size_t n = (size_t)((comma ? comma : end) - p);
		enum vk_http_method m = method_named(p, n);

		if (m == VK_HTTP_OTHER)
			return fail(why, cap,
				    "unknown method '%.*s': expected * or GET, HEAD, POST, PUT, "
				    "DELETE, OPTIONS, PATCH, TRACE, CONNECT joined by ','",
				    (int)(n > 32 ? 32 : n), p);
		if (*methods & VK_HTTP_METHOD(m))
			return fail(why, cap, "method %.*s named twice", (int)n, p);
		*methods |= VK_HTTP_METHOD(m);
		p += n + 1;
	}
	return 0;
}

static int is_identifier(const char *s)
{
	size_t n = strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_");

	return n > 0 && n <= VK_HTTP_MOUNT_NAME_MAX && s[n] == '\0' &&
	       !(s[0] >= '0' && s[0] <= '9');
}

/* An exported handler's name: one C identifier. */
static int parse_export(const char *target, struct vk_http_mount *m, char *why, size_t cap)
{
	size_t word = strcspn(target, BLANKS);

	if (target[word])
		return fail(why, cap, "unexpected '%.64s' after the handler name",
			    target + word + strspn(target + word, BLANKS));
	if (!is_identifier(target))
		return fail(
		    why, cap,
		    "handler '%.64s' is not a C name (letters, digits, '_', up to %d bytes) "
		    "nor static:DIR",
		    target, VK_HTTP_MOUNT_NAME_MAX);
	m->target = strdup(target);
	return m->target ? 0 : -ENOMEM;
}

/* static:DIR, on a pattern ending in '*', for GET and HEAD. */
static int parse_static(const char *dir, struct vk_http_mount *m, char *why, size_t cap)
{
	const unsigned get_head = VK_HTTP_METHOD(VK_HTTP_GET) | VK_HTTP_METHOD(VK_HTTP_HEAD);
	size_t plen = strlen(m->pattern);

	dir += strspn(dir, BLANKS);
	if (!*dir)
		return fail(why, cap,
			    "static: needs the directory to serve, as in static:/srv/www");
	if (m->pattern[plen - 1] != '*')
		return fail(why, cap, "static: serves the tail of a pattern ending in '/*'");
	if (m->methods == VK_HTTP_ANY_METHOD || m->methods & ~get_head)
		return fail(why, cap, "static: answers GET and HEAD only; write GET");
	m->is_static = 1;
	m->target = strdup(dir); /* a directory may hold blanks: the rest of the line */
	return m->target ? 0 : -ENOMEM;
}

int vk_http_mount_parse(const char *text, struct vk_http_mount *mount, char *why, size_t cap)
{
	const size_t prefix = strlen(VK_HTTP_MOUNT_STATIC);
	const char *methods = text + strspn(text, BLANKS), *pattern, *target;
	size_t mlen = strcspn(methods, BLANKS), plen, tlen;
	const char *error;
	char *copy;
	int rc;

	memset(mount, 0, sizeof(*mount));
	pattern = methods + mlen + strspn(methods + mlen, BLANKS);
	plen = strcspn(pattern, BLANKS);
	target = pattern + plen + strspn(pattern + plen, BLANKS);
	if (!mlen || !plen || !*target)
		return fail(why, cap,
			    "expected METHODS PATTERN HANDLER, as in GET /users/:id get_user");
	rc = parse_methods(methods, mlen, &mount->methods, why, cap);
	if (rc < 0)
		return rc;
	mount->pattern = strndup(pattern, plen);
	if (!mount->pattern)
		return -ENOMEM;
	/* The end trimmed (inih does it for vkd.ini). */
	tlen = strlen(target);
	while (tlen && strchr(BLANKS, target[tlen - 1]))
		tlen--;
	copy = strndup(target, tlen);
	error = vk_http_route_pattern_error(mount->pattern);
	if (!copy)
		rc = -ENOMEM;
	else if (error)
		rc = fail(why, cap, "pattern '%.64s' %s", mount->pattern, error);
	else if (strncmp(copy, VK_HTTP_MOUNT_STATIC, prefix) == 0)
		rc = parse_static(copy + prefix, mount, why, cap);
	else
		rc = parse_export(copy, mount, why, cap);
	free(copy);
	if (rc < 0)
		vk_http_mount_free(mount);
	return rc;
}

void vk_http_mount_free(struct vk_http_mount *mount)
{
	free(mount->pattern);
	free(mount->target);
	mount->pattern = mount->target = NULL;
}

/* ---- duplicates ---- */

/* The methods a route answers, as the router sees them. */
static unsigned answered(unsigned methods)
{
	if (methods == VK_HTTP_ANY_METHOD)
		return ~0u;
	if (methods & VK_HTTP_METHOD(VK_HTTP_GET))
		methods |= VK_HTTP_METHOD(VK_HTTP_HEAD);
	return methods;
}

/* The length of the parameter name at p, its ':' included. */
static size_t param_len(const char *p)
{
	size_t n = 1;

	while (p[n] && p[n] != '/')
		n++;
	return n;
}

/* Same pattern but for the names of parameters. */
static int same_shape(const char *a, const char *b)
{
	while (*a && *b) {
		if (*a == ':' && *b == ':') {
			a += param_len(a);
			b += param_len(b);
			continue;
		}
		if (*a++ != *b++)
			return 0;
	}
	return *a == *b;
}

int vk_http_mount_overlap(const struct vk_http_mount *earlier, const struct vk_http_mount *later)
{
	return (answered(earlier->methods) & answered(later->methods)) &&
	       same_shape(earlier->pattern, later->pattern);
}

void vk_http_mount_methods(unsigned methods, char *buf, size_t cap)
{
	size_t len = 0;

	if (cap)
		buf[0] = '\0';
	if (methods == VK_HTTP_ANY_METHOD) {
		snprintf(buf, cap, "*");
		return;
	}
	for (unsigned m = VK_HTTP_GET; m <= VK_HTTP_CONNECT; m++) {
		int n;

		if (!(methods & VK_HTTP_METHOD(m)) || len >= cap)
			continue;
		n = snprintf(buf + len, cap - len, "%s%s", len ? "," : "",
			     vk_http_method_name((enum vk_http_method)m));
		if (n > 0)
			len += (size_t)n;
	}
}

/* ---- what the module and the file system hold ---- */

/* (ELF64_ST_TYPE() is ELF32_ST_TYPE(): the low 4 bits, in both classes.) */
static const char *kind_name(unsigned char info)
{
	switch (ELF64_ST_TYPE(info)) {
	case STT_FUNC:
		return "function";
	case STT_OBJECT:
		return "object";
	default:
		return "symbol";
	}
}

static int export_kind_ok(const void *address, const char *symbol, void *module, char *why,
			  size_t cap)
{
	struct link_map *own = NULL, *map = NULL;
	const ElfW(Sym) *sym = NULL;
	Dl_info info;

	if (!dladdr1(address, &info, (void **)&sym, RTLD_DL_SYMENT) || !sym)
		return fail(why, cap, "%s: no symbol entry found for it", symbol);
	if (ELF64_ST_TYPE(sym->st_info) != STT_OBJECT ||
	    sym->st_size != sizeof(struct vk_http_export))
		return fail(why, cap,
			    "%s is not a handler export (an ELF %s of %zu bytes, not the %zu-byte "
			    "object VK_HTTP_EXPORT() makes)",
			    symbol, kind_name(sym->st_info), (size_t)sym->st_size,
			    sizeof(struct vk_http_export));
	if (dlinfo(module, RTLD_DI_LINKMAP, &own) == 0 &&
	    dladdr1(address, &info, (void **)&map, RTLD_DL_LINKMAP) && map != own)
		return fail(why, cap, "%s is another object's (%s), not the module's", symbol,
			    info.dli_fname ? info.dli_fname : "?");
	return 0;
}

int vk_http_mount_export(void *module, const char *name, vk_func *handler, char *why, size_t cap)
{
	char symbol[sizeof(VK_HTTP_EXPORT_PREFIX) + VK_HTTP_MOUNT_NAME_MAX];
	const struct vk_http_export *e;

	snprintf(symbol, sizeof(symbol), VK_HTTP_EXPORT_PREFIX "%s", name);
	e = dlsym(module, symbol);
	if (!e) {
		if (dlsym(module, name))
			return fail(why, cap,
				    "the module exports '%s', but not as a handler: export it with "
				    "VK_HTTP_EXPORT(%s)",
				    name, name);
		return fail(why, cap, "the module exports no handler '%s' (VK_HTTP_EXPORT(%s))",
			    name, name);
	}
	if (export_kind_ok(e, symbol, module, why, cap) < 0)
		return -1;
	if (e->magic != VK_HTTP_EXPORT_MAGIC || e->size != sizeof(*e) || !e->name ||
	    strcmp(e->name, name) != 0 || !e->handler)
		return fail(why, cap,
			    "%s is not a handler made by VK_HTTP_EXPORT() (bad magic, "
			    "size, name or handler)",
			    symbol);
	*handler = e->handler;
	return 0;
}

int vk_http_mount_root_ok(const char *dir, char *why, size_t cap)
{
	int fd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);

	if (fd < 0)
		return fail(why, cap, "static: %s: %s", dir, strerror(errno));
	close(fd);
	/* Files are opened under it: it must be searchable, and readable for its index. */
	if (faccessat(AT_FDCWD, dir, R_OK | X_OK, AT_EACCESS) < 0)
		return fail(why, cap, "static: %s: %s (needs read and search)", dir,
			    strerror(errno));
	return 0;
}

/* ---- handed over by vkd ---- */

static struct vk_http_mounts *offered;
static size_t offered_count;

int vk_http_mounts_offer(const struct vk_http_mounts *mounts)
{
	struct vk_http_mounts *grown;

	for (size_t i = 0; i < offered_count; i++) {
		if (strcmp(offered[i].app, mounts->app) == 0) {
			offered[i] = *mounts;
			return 0;
		}
	}
	grown = realloc(offered, (offered_count + 1) * sizeof(*grown));
	if (!grown)
		return -ENOMEM;
	offered = grown;
	offered[offered_count++] = *mounts;
	return 0;
}

const struct vk_http_mounts *vk_http_mounts_app(const char *name)
{
	for (size_t i = 0; i < offered_count; i++)
		if (strcmp(offered[i].app, name) == 0)
			return &offered[i];
	return NULL;
}

const struct vk_http_mounts *vk_http_mounts_find(const char *name)
{
	const struct vk_http_mounts *m = vk_http_mounts_app(name);

	return m && m->count ? m : NULL;
}
