#include "vk_http_static_s.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>
#if __has_include(<linux/openat2.h>)
#include <linux/openat2.h>
#endif

#include "vk_http_app.h"
#include "vk_http_exchange_s.h"
#include "vk_parse.h"

#define OPEN_FLAGS (O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY)

/* ---- configuration ---- */

static int bad_option(const struct vk_app_context *context, const char *key, const char *why,
		      const char *value, int *error)
{
	fprintf(stderr, "http: app %s: opt.%s: %s, got '%s'\n", context->name, key, why,
		value ? value : "");
	vk_app_refuse(context, key);
	*error = EINVAL;
	return -1;
}

static int read_options(struct vk_http_static_conf *conf, const struct vk_app_context *context,
			int *error)
{
	const char *root = context->option(context, "root");
	const char *index = context->option(context, "index");
	const char *symlinks = context->option(context, "symlinks");
	const char *open_cache = context->option(context, "open_cache");
	unsigned cache_ms = 1000;
	char *real;

	if (!root || !*root)
		return bad_option(context, "root", "the directory to serve is required", root,
				  error);
	conf->root = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (conf->root < 0) {
		fprintf(stderr, "http: app %s: opt.root: %s: %s\n", context->name, root,
			strerror(errno));
		*error = errno;
		vk_app_refuse(context, "root");
		return -1;
	}
	real = realpath(root, NULL);
	if (!real) {
		*error = errno;
		vk_app_refuse(context, "root");
		return -1;
	}
	conf->root_path = real;
	conf->root_len = strlen(real);
	if (!index)
		index = "index.html";
	if (strcmp(index, "off") != 0) {
		if (!*index || strchr(index, '/') || !strcmp(index, "..") || !strcmp(index, "."))
			return bad_option(context, "index", "expected a file name or off", index,
					  error);
		conf->index = strdup(index);
		if (!conf->index) {
			*error = ENOMEM;
			return -1;
		}
	}
	if (!symlinks || !strcmp(symlinks, "inside"))
		conf->resolve = VK_HTTP_STATIC_BENEATH;
	else if (!strcmp(symlinks, "any"))
		conf->resolve = VK_HTTP_STATIC_ANY;
	else
		return bad_option(context, "symlinks", "expected inside or any", symlinks, error);
	if (open_cache && vk_parse_duration_ms(open_cache, &cache_ms) < 0)
		return bad_option(context, "open_cache", "expected a duration (0: off)", open_cache,
				  error);
	if (cache_ms) {
		conf->cache = calloc(VK_HTTP_STATIC_CACHE_SLOTS, sizeof(*conf->cache));
		if (!conf->cache) {
			*error = ENOMEM;
			return -1;
		}
		for (int i = 0; i < VK_HTTP_STATIC_CACHE_SLOTS; i++)
			conf->cache[i].fd = -1;
		conf->cache_valid = cache_ms / 1000.0;
	}
	return 0;
}

/* Empty a slot of the open-file cache. */
static void cached_drop(struct vk_http_static_cached *slot)
{
	if (slot->fd >= 0)
		close(slot->fd);
	free(slot->path);
	slot->fd = -1;
	slot->path = NULL;
}

void *vk_http_static_init(const struct vk_app_context *context, int *error)
{
	struct vk_http_static_conf *conf = calloc(1, sizeof(*conf));

	if (!conf) {
		*error = ENOMEM;
		return NULL;
	}
	conf->root = -1;
	if (read_options(conf, context, error) < 0) {
		vk_http_static_fini(conf);
		return NULL;
	}
	return conf;
}

void vk_http_static_fini(void *state)
{
	struct vk_http_static_conf *conf = state;

	if (!conf)
		return;
	if (conf->root >= 0)
		close(conf->root);
	for (int i = 0; conf->cache && i < VK_HTTP_STATIC_CACHE_SLOTS; i++)
		cached_drop(&conf->cache[i]);
	free(conf->cache);
	free(conf->root_path);
	free(conf->index);
	free(conf);
}

/* ---- paths ---- */

int vk_http_static_path_ok(const char *rel)
{
	const char *p = rel;

	if (*rel == '/')
		return -EINVAL;
	while (*p) {
		const char *end = strchrnul(p, '/');

		if (end - p == 2 && p[0] == '.' && p[1] == '.')
			return -EINVAL;
		p = *end ? end + 1 : end;
	}
	return 0;
}

/* The fallback: open, then check where the descriptor really leads. */
static int open_checked(const struct vk_http_static_conf *conf, const char *rel)
{
	char link[64], real[PATH_MAX];
	ssize_t n;
	int fd = openat(conf->root, rel, OPEN_FLAGS);

	if (fd < 0)
		return -errno;
	snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
	n = readlink(link, real, sizeof(real) - 1);
	if (n < 0) {
		int e = errno;

		close(fd);
		return -e;
	}
	real[n] = '\0';
	if ((size_t)n < conf->root_len || memcmp(real, conf->root_path, conf->root_len) != 0 ||
	    (real[conf->root_len] != '/' && real[conf->root_len] != '\0' &&
	     strcmp(conf->root_path, "/") != 0)) {
		close(fd);
		return -EXDEV;
	}
	return fd;
}

int vk_http_static_open(struct vk_http_static_conf *conf, const char *rel)
{
	int fd;

	if (!*rel)
		rel = ".";
	if (conf->resolve == VK_HTTP_STATIC_ANY) {
		fd = openat(conf->root, rel, OPEN_FLAGS);
		return fd < 0 ? -errno : fd;
	}
#ifdef SYS_openat2
	if (conf->resolve == VK_HTTP_STATIC_BENEATH) {
		/*
		 * The kernel holds every step of the walk under the root, symlinks
		 * and concurrent renames included, in the one call.
		 */
		struct open_how how = {
		    .flags = OPEN_FLAGS,
		    .resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS,
		};

		fd = (int)syscall(SYS_openat2, conf->root, rel, &how, sizeof(how));
		if (fd >= 0)
			return fd;
		/* Before Linux 5.6, or a sandbox that forbids it: check afterwards. */
		if (errno != ENOSYS && errno != EPERM)
			return -errno;
		conf->resolve = VK_HTTP_STATIC_CHECKED;
	}
#endif
	return open_checked(conf, rel);
}

/* FNV-1a: which slot of the open-file cache a path takes. */
static uint32_t path_hash(const char *p)
{
	uint32_t h = 2166136261u;

	while (*p)
		h = (h ^ (unsigned char)*p++) * 16777619u;
	return h;
}

/*
 * A hit costs a dup (fcntl F_DUPFD_CLOEXEC) where the open costs a walk
 * of the path under the root: an openat and the close of its last
 * reference measured 3.2-3.5 + 1.4-1.7 us here (a loop, load 6-10), a
 * dup and its close 0.6-0.7 + 0.45; a 4 KiB request's CPU went from 25.5
 * to 20.2 us (tests/bench/static).
 * The caller still fstat()s its descriptor, so a file written in place
 * is seen at once; one replaced (renamed over) or removed is served as
 * it was for at most cache_valid seconds, as nginx's open_file_cache
 * does for its open_file_cache_valid. Refusals are not cached: every
 * path here passed vk_http_static_path_ok(), and a slot is filled only
 * by vk_http_static_open(), so a kept descriptor was under the root when
 * it was opened.
 */
int vk_http_static_open_cached(struct vk_http_static_conf *conf, const char *rel, double now)
{
	struct vk_http_static_cached *slot;
	uint32_t h;
	int fd, keep;

	if (!conf->cache)
		return vk_http_static_open(conf, rel);
	h = path_hash(rel);
	slot = &conf->cache[h % VK_HTTP_STATIC_CACHE_SLOTS];
	if (slot->fd >= 0 && slot->hash == h && now >= slot->opened &&
	    now - slot->opened < conf->cache_valid && strcmp(slot->path, rel) == 0) {
		fd = fcntl(slot->fd, F_DUPFD_CLOEXEC, 0);
		return fd < 0 ? -errno : fd;
	}
	fd = vk_http_static_open(conf, rel);
	if (fd < 0)
		return fd;
	cached_drop(slot);
	/* Best effort: with no descriptor or memory to spare, nothing is kept. */
	keep = fcntl(fd, F_DUPFD_CLOEXEC, 0);
	if (keep < 0)
		return fd;
	slot->path = strdup(rel);
	if (!slot->path) {
		close(keep);
		return fd;
	}
	slot->fd = keep;
	slot->hash = h;
	slot->opened = now;
	return fd;
}

/* ---- conditions and ranges ---- */

static const char *skip_ows(const char *p)
{
	while (*p == ' ' || *p == '\t')
		p++;
	return p;
}

int vk_http_static_etag_match(const char *list, const char *etag)
{
	size_t len = strlen(etag);
	const char *p = skip_ows(list);

	if (*p == '*' && *skip_ows(p + 1) == '\0')
		return 1;
	while (*p) {
		const char *end;

		p = skip_ows(p);
		/* Weak comparison (RFC 9110 8.8.3.2): W/ does not count. */
		if (p[0] == 'W' && p[1] == '/')
			p += 2;
		end = strchrnul(p, ',');
		{
			const char *e = end;

			while (e > p && (e[-1] == ' ' || e[-1] == '\t'))
				e--;
			if ((size_t)(e - p) == len && memcmp(p, etag, len) == 0)
				return 1;
		}
		p = *end ? end + 1 : end;
	}
	return 0;
}

/* Digits only, no sign, no overflow. */
static int parse_u64(const char *p, const char *end, uint64_t *v)
{
	uint64_t n = 0;

	if (p == end)
		return -1;
	for (; p < end; p++) {
		if (*p < '0' || *p > '9' || n > (UINT64_MAX - 9) / 10)
			return -1;
		n = n * 10 + (uint64_t)(*p - '0');
	}
	*v = n;
	return 0;
}

int vk_http_static_range(const char *value, uint64_t size, uint64_t *off, uint64_t *len)
{
	const char *p = skip_ows(value), *dash, *end;
	uint64_t first, last;

	if (strncasecmp(p, "bytes=", 6) != 0)
		return 0;
	p = skip_ows(p + 6);
	if (strchr(p, ','))
		return 0;
	end = p + strlen(p);
	while (end > p && (end[-1] == ' ' || end[-1] == '\t'))
		end--;
	dash = memchr(p, '-', (size_t)(end - p));
	if (!dash)
		return 0;
	if (dash == p) {
		/* The last n bytes. */
		if (parse_u64(dash + 1, end, &last) < 0)
			return 0;
		if (last == 0 || size == 0)
			return -1;
		if (last > size)
			last = size;
		*off = size - last;
		*len = last;
		return 1;
	}
	if (parse_u64(p, dash, &first) < 0)
		return 0;
	if (dash + 1 == end) {
		last = UINT64_MAX;
	} else if (parse_u64(dash + 1, end, &last) < 0 || last < first) {
		return 0;
	}
	if (first >= size)
		return -1;
	if (last >= size)
		last = size - 1;
	*off = first;
	*len = last - first + 1;
	return 1;
}

struct type {
	const char *ext;
	const char *type;
};

static const struct type types[] = {
    {"html", "text/html; charset=utf-8"},
    {"htm", "text/html; charset=utf-8"},
    {"css", "text/css; charset=utf-8"},
    {"js", "text/javascript; charset=utf-8"},
    {"mjs", "text/javascript; charset=utf-8"},
    {"json", "application/json"},
    {"txt", "text/plain; charset=utf-8"},
    {"md", "text/markdown; charset=utf-8"},
    {"csv", "text/csv; charset=utf-8"},
    {"xml", "application/xml"},
    {"svg", "image/svg+xml"},
    {"png", "image/png"},
    {"jpg", "image/jpeg"},
    {"jpeg", "image/jpeg"},
    {"gif", "image/gif"},
    {"webp", "image/webp"},
    {"avif", "image/avif"},
    {"ico", "image/x-icon"},
    {"pdf", "application/pdf"},
    {"wasm", "application/wasm"},
    {"woff", "font/woff"},
    {"woff2", "font/woff2"},
    {"ttf", "font/ttf"},
    {"otf", "font/otf"},
    {"mp4", "video/mp4"},
    {"webm", "video/webm"},
    {"mp3", "audio/mpeg"},
    {"ogg", "audio/ogg"},
    {"wav", "audio/wav"},
    {"zip", "application/zip"},
    {"gz", "application/gzip"},
    {"tar", "application/x-tar"},
};

const char *vk_http_static_type(const char *name)
{
	const char *slash = strrchr(name, '/');
	const char *dot = strrchr(slash ? slash + 1 : name, '.');

	if (dot && dot[1]) {
		for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
			if (strcasecmp(dot + 1, types[i].ext) == 0)
				return types[i].type;
		}
	}
	return "application/octet-stream";
}

/* ---- the handler ---- */

/* What the handler is to answer, worked out before it blocks. */
struct plan {
	int status;
	int fd; /* to send from; -1 when none */
	const char *type;
	const char *text; /* the body of an error answer */
	uint64_t off;
	uint64_t len;
};

static int add(struct vk_http_exchange *ex, const char *name, const char *value)
{
	return vk_http_exchange_add_header(ex, name, value);
}

/* An IMF-fixdate, or -1. */
static time_t parse_date(const char *value)
{
	struct tm tm = {0};
	const char *end = strptime(value, "%a, %d %b %Y %H:%M:%S GMT", &tm);

	if (!end || *skip_ows(end))
		return -1;
	return timegm(&tm);
}

/* Whether the conditions (RFC 9110 13.2.2) say the client's copy is current. */
static int not_modified(struct vk_http_exchange *ex, const char *etag, const struct stat *st)
{
	const char *inm = vk_http_exchange_header(ex, "If-None-Match");
	const char *ims;
	time_t since;

	if (inm)
		return vk_http_static_etag_match(inm, etag);
	ims = vk_http_exchange_header(ex, "If-Modified-Since");
	if (!ims)
		return 0;
	since = parse_date(ims);
	return since != -1 && st->st_mtime <= since;
}

/* A Range is honoured when If-Range, if any, names this version. */
static int range_applies(struct vk_http_exchange *ex, const char *etag, const char *modified)
{
	const char *if_range = vk_http_exchange_header(ex, "If-Range");

	if (!if_range)
		return 1;
	if_range = skip_ows(if_range);
	return strcmp(if_range, etag) == 0 || strcmp(if_range, modified) == 0;
}

static int refuse(struct plan *plan, int status, const char *text)
{
	plan->status = status;
	plan->text = text;
	return 0;
}

/* A directory: its index file, or a redirect to the path with its '/'. */
static int open_index(struct vk_http_static_conf *conf, struct vk_http_exchange *ex,
		      const char *rel, struct plan *plan, char *name, size_t cap)
{
	const char *path = vk_http_exchange_path(ex);
	size_t len = strlen(rel);
	int n;

	if (!*path || path[strlen(path) - 1] != '/') {
		n = snprintf(name, cap, "%s/", path);
		if (n < 0 || (size_t)n >= cap || add(ex, "Location", name) < 0)
			return refuse(plan, 414, "URI too long\n");
		return refuse(plan, 301, "Moved permanently\n");
	}
	if (!conf->index)
		return refuse(plan, 403, "Forbidden\n");
	n = snprintf(name, cap, "%s%s%s", rel, len && rel[len - 1] != '/' ? "/" : "", conf->index);
	if (n < 0 || (size_t)n >= cap)
		return refuse(plan, 414, "URI too long\n");
	return 1;
}

static int open_error(struct plan *plan, int error)
{
	switch (error) {
	case ENOENT:
	case ENOTDIR:
	case ENAMETOOLONG:
		return refuse(plan, 404, "Not found\n");
	default:
		/* EXDEV: out of the root; ELOOP, EACCES, EPERM... */
		return refuse(plan, 403, "Forbidden\n");
	}
}

/* Open the file, answer its conditions and its range: all that does not block. */
static int plan_answer(struct vk_http_exchange *ex, struct plan *plan, double now)
{
	/* A directory mounted by vkd.ini has its own; static.so's is the app's. */
	struct vk_http_static_conf *conf = vk_http_exchange_route_state(ex);
	const char *rel = vk_http_exchange_param(ex, "*");
	char name[PATH_MAX], etag[48], modified[VK_HTTP_DATE_LEN + 1], range[64];
	const char *value;
	struct stat st;
	int rc;

	memset(plan, 0, sizeof(*plan));
	plan->fd = -1;
	if (!conf)
		conf = vk_http_exchange_app_state(ex);
	if (!conf || !rel)
		return refuse(plan, 404, "Not found\n");
	if (vk_http_static_path_ok(rel) < 0)
		return refuse(plan, 400, "Bad path\n");
	for (int tries = 0;; tries++) {
		plan->fd = vk_http_static_open_cached(conf, rel, now);
		if (plan->fd < 0)
			return open_error(plan, -plan->fd);
		if (fstat(plan->fd, &st) < 0)
			return refuse(plan, 500, "Internal error\n");
		if (!S_ISDIR(st.st_mode) || tries)
			break;
		close(plan->fd);
		plan->fd = -1;
		rc = open_index(conf, ex, rel, plan, name, sizeof(name));
		if (rc <= 0)
			return rc;
		rel = name;
	}
	if (!S_ISREG(st.st_mode))
		return refuse(plan, 403, "Forbidden\n");
	snprintf(etag, sizeof(etag), "\"%" PRIx64 "-%" PRIx64 "\"", (uint64_t)st.st_mtime,
		 (uint64_t)st.st_size);
	memcpy(modified, vk_http_date(st.st_mtime), VK_HTTP_DATE_LEN);
	modified[VK_HTTP_DATE_LEN] = '\0';
	if (add(ex, "Last-Modified", modified) < 0 || add(ex, "ETag", etag) < 0)
		return refuse(plan, 500, "Internal error\n");
	plan->type = vk_http_static_type(rel);
	if (not_modified(ex, etag, &st)) {
		plan->status = 304;
		return 0;
	}
	if (add(ex, "Accept-Ranges", "bytes") < 0)
		return refuse(plan, 500, "Internal error\n");
	plan->status = 200;
	plan->off = 0;
	plan->len = (uint64_t)st.st_size;
	value = vk_http_exchange_header(ex, "Range");
	if (!value || !range_applies(ex, etag, modified))
		return 0;
	rc = vk_http_static_range(value, (uint64_t)st.st_size, &plan->off, &plan->len);
	if (rc < 0) {
		snprintf(range, sizeof(range), "bytes */%" PRIu64, (uint64_t)st.st_size);
		add(ex, "Content-Range", range);
		return refuse(plan, 416, "Range not satisfiable\n");
	}
	if (rc > 0) {
		snprintf(range, sizeof(range), "bytes %" PRIu64 "-%" PRIu64 "/%" PRIu64, plan->off,
			 plan->off + plan->len - 1, (uint64_t)st.st_size);
		if (add(ex, "Content-Range", range) < 0)
			return refuse(plan, 500, "Internal error\n");
		plan->status = 206;
	}
	return 0;
}

void vk_http_static(struct vk_thread *that)
{
	struct {
		struct vk_file *file;
		struct plan plan;
	} * self;

	vk_begin();
	self->file = NULL;
	plan_answer(vk_http_exchange_of(that), &self->plan, vk_now(that));
	if (self->plan.text) {
		if (self->plan.fd >= 0)
			close(self->plan.fd);
		vk_http_reply(self->plan.status, "text/plain", self->plan.text,
			      strlen(self->plan.text));
		vk_return();
	}
	/* From here the descriptor is libvk's: closed with the process if not before. */
	self->file = vk_file_adopt(that, self->plan.fd);
	if (!self->file) {
		close(self->plan.fd);
		vk_raise(errno);
	}
	if (self->plan.status == 304) {
		vk_http_start(304, NULL, 0);
		vk_return();
	}
	vk_http_start(self->plan.status, self->plan.type, (int64_t)self->plan.len);
	vk_http_sendfile(self->file, (off_t)self->plan.off, (size_t)self->plan.len);
	vk_finally();
	if (self->file)
		vk_file_close(that, self->file);
	vk_end();
}
