/*
 * check_http_static.c - unit tests for the static-file handler's checks
 * (src/http/vk_http_static.c): the path check, opening under the root in
 * each of the three ways (openat2, the /proc/self/fd fallback, symlinks
 * allowed), Range, If-None-Match and the types.
 */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check_run.h"
#include "vk_http_static_s.h"

START_TEST(test_path_ok)
{
	static const char *const good[] = {"",	  "a",	 "a/b",	  "a/",	     "a//b",   "a/./b",
					   "..a", "a..", "a/...", ".hidden", "a/..b/c"};
	static const char *const bad[] = {"..", "../a", "a/..", "a/../b", "/a", "/", "a/../../b"};

	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		ck_assert_msg(vk_http_static_path_ok(good[i]) == 0, "refused %s", good[i]);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ck_assert_msg(vk_http_static_path_ok(bad[i]) == -EINVAL, "took %s", bad[i]);
}
END_TEST

/* A root with a file, a symlink in and three out; the outside file beside it. */
static char top[64];
static struct vk_http_static_conf conf;

static void make_tree(void)
{
	char path[256];

	snprintf(top, sizeof(top), "/tmp/check_http_static.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(top));
#define P(fmt) (snprintf(path, sizeof(path), fmt, top), path)
	ck_assert_int_eq(mkdir(P("%s/root"), 0700), 0);
	ck_assert_int_eq(mkdir(P("%s/root/d"), 0700), 0);
	ck_assert_int_eq(mkdir(P("%s/out"), 0700), 0);
	close(open(P("%s/root/f"), O_CREAT | O_WRONLY, 0600));
	close(open(P("%s/out/secret"), O_CREAT | O_WRONLY, 0600));
	ck_assert_int_eq(symlink("f", P("%s/root/in")), 0);
	ck_assert_int_eq(symlink("../f", P("%s/root/d/up")), 0);
	ck_assert_int_eq(symlink("../out/secret", P("%s/root/rel")), 0);
	ck_assert_int_eq(symlink("../out", P("%s/root/dir")), 0);
	{
		char target[128];

		snprintf(target, sizeof(target), "%s/out/secret", top);
		ck_assert_int_eq(symlink(target, P("%s/root/abs")), 0);
	}
	conf.root = open(P("%s/root"), O_PATH | O_DIRECTORY | O_CLOEXEC);
	ck_assert_int_ge(conf.root, 0);
	conf.root_path = realpath(path, NULL);
	ck_assert_ptr_nonnull(conf.root_path);
	conf.root_len = strlen(conf.root_path);
#undef P
}

static void remove_tree(void)
{
	char cmd[128];

	close(conf.root);
	free(conf.root_path);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", top);
	ck_assert_int_eq(system(cmd), 0);
}

/* Opens (>= 0, closed here), or the -errno. */
static int try_open(int resolve, const char *rel)
{
	int fd;

	conf.resolve = resolve;
	fd = vk_http_static_open(&conf, rel);
	if (fd >= 0)
		close(fd);
	return fd >= 0 ? 0 : fd;
}

static const int modes[] = {VK_HTTP_STATIC_BENEATH, VK_HTTP_STATIC_CHECKED};

START_TEST(test_open_beneath)
{
	int mode = modes[_i];

	make_tree();
	ck_assert_int_eq(try_open(mode, "f"), 0);
	ck_assert_int_eq(try_open(mode, "in"), 0);
	ck_assert_int_eq(try_open(mode, "d/up"), 0);
	ck_assert_int_eq(try_open(mode, "d"), 0);
	ck_assert_int_eq(try_open(mode, ""), 0);
	ck_assert_int_eq(try_open(mode, "nope"), -ENOENT);
	/* Out of the root, whatever the way: refused. */
	ck_assert_int_lt(try_open(mode, "rel"), 0);
	ck_assert_int_lt(try_open(mode, "dir/secret"), 0);
	if (mode == VK_HTTP_STATIC_CHECKED)
		ck_assert_int_eq(try_open(mode, "abs"), -EXDEV);
	else
		ck_assert_int_lt(try_open(mode, "abs"), 0);
	/* The checks of the fallback do not take ".." on trust either. */
	ck_assert_int_lt(try_open(mode, "../out/secret"), 0);
	remove_tree();
}
END_TEST

START_TEST(test_open_any)
{
	make_tree();
	ck_assert_int_eq(try_open(VK_HTTP_STATIC_ANY, "rel"), 0);
	ck_assert_int_eq(try_open(VK_HTTP_STATIC_ANY, "abs"), 0);
	ck_assert_int_eq(try_open(VK_HTTP_STATIC_ANY, "dir/secret"), 0);
	remove_tree();
}
END_TEST

struct range_case {
	const char *value;
	uint64_t size;
	int rc;
	uint64_t off, len;
};

static const struct range_case ranges[] = {
    {"bytes=0-9", 100, 1, 0, 10},
    {"bytes=10-", 100, 1, 10, 90},
    {"bytes=-10", 100, 1, 90, 10},
    {"bytes=-200", 100, 1, 0, 100},
    {"bytes=90-200", 100, 1, 90, 10},
    {"bytes=99-99", 100, 1, 99, 1},
    {"BYTES = 1-2", 100, 0, 0, 0},
    {"Bytes=1-2 ", 100, 1, 1, 2},
    {"bytes=100-", 100, -1, 0, 0},
    {"bytes=100-200", 100, -1, 0, 0},
    {"bytes=-0", 100, -1, 0, 0},
    {"bytes=0-", 0, -1, 0, 0},
    {"bytes=-5", 0, -1, 0, 0},
    {"bytes=5-1", 100, 0, 0, 0},
    {"bytes=0-1,3-4", 100, 0, 0, 0},
    {"items=0-1", 100, 0, 0, 0},
    {"bytes=a-1", 100, 0, 0, 0},
    {"bytes=-", 100, 0, 0, 0},
    {"bytes=1", 100, 0, 0, 0},
    {"bytes=+1-2", 100, 0, 0, 0},
    {"bytes=99999999999999999999-", 100, 0, 0, 0},
};

START_TEST(test_range)
{
	const struct range_case *c = &ranges[_i];
	uint64_t off = 0, len = 0;

	ck_assert_msg(vk_http_static_range(c->value, c->size, &off, &len) == c->rc, "%s", c->value);
	if (c->rc == 1) {
		ck_assert_uint_eq(off, c->off);
		ck_assert_uint_eq(len, c->len);
	}
}
END_TEST

START_TEST(test_etag)
{
	const char *tag = "\"5f-6\"";

	ck_assert(vk_http_static_etag_match("\"5f-6\"", tag));
	ck_assert(vk_http_static_etag_match(" * ", tag));
	ck_assert(vk_http_static_etag_match("W/\"5f-6\"", tag));
	ck_assert(vk_http_static_etag_match("\"a\", \"5f-6\" ,\"b\"", tag));
	ck_assert(!vk_http_static_etag_match("\"5f-7\"", tag));
	ck_assert(!vk_http_static_etag_match("5f-6", tag));
	ck_assert(!vk_http_static_etag_match("", tag));
	ck_assert(!vk_http_static_etag_match("\"a\", *", tag));
}
END_TEST

START_TEST(test_type)
{
	ck_assert_str_eq(vk_http_static_type("a/b.html"), "text/html; charset=utf-8");
	ck_assert_str_eq(vk_http_static_type("X.PNG"), "image/png");
	ck_assert_str_eq(vk_http_static_type("a.b/c"), "application/octet-stream");
	ck_assert_str_eq(vk_http_static_type("a."), "application/octet-stream");
	ck_assert_str_eq(vk_http_static_type("noext"), "application/octet-stream");
	ck_assert_str_eq(vk_http_static_type("x.tar.gz"), "application/gzip");
}
END_TEST

/* The inode a descriptor leads to (closed here), or 0. */
static ino_t inode_of(int fd)
{
	struct stat st;
	ino_t ino = fd >= 0 && fstat(fd, &st) == 0 ? st.st_ino : 0;

	if (fd >= 0)
		close(fd);
	return ino;
}

/*
 * The open-file cache: a path opened within cache_valid seconds is the
 * file opened then (a duplicate descriptor, the caller's own), even once
 * another file was renamed over it; after that, the new one. Refusals
 * are never cached, and a cache-less conf opens every time.
 */
START_TEST(test_open_cached)
{
	char path[256], other[256];
	ino_t first, second;
	int fd, again;

	make_tree();
	conf.resolve = VK_HTTP_STATIC_BENEATH;
	conf.cache = calloc(VK_HTTP_STATIC_CACHE_SLOTS, sizeof(*conf.cache));
	ck_assert_ptr_nonnull(conf.cache);
	for (int i = 0; i < VK_HTTP_STATIC_CACHE_SLOTS; i++)
		conf.cache[i].fd = -1;
	conf.cache_valid = 1.0;

	fd = vk_http_static_open_cached(&conf, "f", 100.0);
	ck_assert_int_ge(fd, 0);
	again = vk_http_static_open_cached(&conf, "f", 100.5);
	ck_assert_int_ge(again, 0);
	ck_assert_int_ne(fd, again);
	first = inode_of(fd);
	ck_assert_uint_ne(first, 0);
	ck_assert_uint_eq(inode_of(again), first);

	/* Another file renamed over it: the kept one until the second is up. */
	snprintf(other, sizeof(other), "%s/root/g", top);
	close(open(other, O_CREAT | O_WRONLY, 0600));
	snprintf(path, sizeof(path), "%s/root/f", top);
	ck_assert_int_eq(rename(other, path), 0);
	ck_assert_uint_eq(inode_of(vk_http_static_open_cached(&conf, "f", 100.9)), first);
	second = inode_of(vk_http_static_open_cached(&conf, "f", 101.0));
	ck_assert_uint_ne(second, 0);
	ck_assert_uint_ne(second, first);
	ck_assert_uint_eq(inode_of(vk_http_static_open_cached(&conf, "f", 101.2)), second);

	/* Refusals go through the checks every time. */
	ck_assert_int_lt(vk_http_static_open_cached(&conf, "rel", 101.2), 0);
	ck_assert_int_lt(vk_http_static_open_cached(&conf, "rel", 101.3), 0);
	ck_assert_int_eq(vk_http_static_open_cached(&conf, "nope", 101.3), -ENOENT);

	for (int i = 0; i < VK_HTTP_STATIC_CACHE_SLOTS; i++)
		if (conf.cache[i].fd >= 0) {
			close(conf.cache[i].fd);
			free(conf.cache[i].path);
		}
	free(conf.cache);
	conf.cache = NULL;

	/* No cache: the new file at once. */
	close(open(other, O_CREAT | O_WRONLY, 0600));
	ck_assert_int_eq(rename(other, path), 0);
	ck_assert_uint_ne(inode_of(vk_http_static_open_cached(&conf, "f", 101.3)), second);
	remove_tree();
}
END_TEST

static Suite *static_suite(void)
{
	Suite *s = suite_create("http_static");
	TCase *tc = tcase_create("paths");

	tcase_add_test(tc, test_path_ok);
	tcase_add_loop_test(tc, test_open_beneath, 0, sizeof(modes) / sizeof(modes[0]));
	tcase_add_test(tc, test_open_any);
	tcase_add_test(tc, test_open_cached);
	suite_add_tcase(s, tc);
	tc = tcase_create("headers");
	tcase_add_loop_test(tc, test_range, 0, sizeof(ranges) / sizeof(ranges[0]));
	tcase_add_test(tc, test_etag);
	tcase_add_test(tc, test_type);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return check_run(static_suite());
}
