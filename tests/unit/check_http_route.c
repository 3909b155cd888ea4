/*
 * check_http_route.c - unit tests for the HTTP router (src/http/
 * vk_http_route.c), the route lines of vkd.ini (src/http/vk_http_mount.c:
 * parsing and duplicates) and the URL helpers (src/http/vk_http_url.c):
 * pure functions, tested on their own.
 */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check_run.h"
#include "vk_http_mount.h"
#include "vk_http_route.h"
#include "vk_http_url.h"

/* Handlers are only compared, never run. */
static void h_root(struct vk_thread *that)
{
	(void)that;
}
static void h_user(struct vk_thread *that)
{
	(void)that;
}
static void h_users(struct vk_thread *that)
{
	(void)that;
}
static void h_put(struct vk_thread *that)
{
	(void)that;
}
static void h_file(struct vk_thread *that)
{
	(void)that;
}
static void h_any(struct vk_thread *that)
{
	(void)that;
}
static void h_post(struct vk_thread *that)
{
	(void)that;
}

static const struct vk_http_route routes[] = {
    VK_HTTP_GET("/", h_root),
    VK_HTTP_GET("/users", h_users),
    VK_HTTP_POST("/users", h_post),
    VK_HTTP_GET("/users/:id", h_user),
    VK_HTTP_ROUTE(VK_HTTP_METHOD(VK_HTTP_PUT) | VK_HTTP_METHOD(VK_HTTP_PATCH), "/users/:id", h_put),
    VK_HTTP_GET("/users/:id/posts/:post", h_user),
    VK_HTTP_GET("/files/*", h_file),
    VK_HTTP_ANY("/any", h_any),
    /* Shadowed by the route above it for GET: first match wins. */
    VK_HTTP_GET("/users/me", h_root),
};

#define NROUTES (sizeof(routes) / sizeof(routes[0]))

struct match_case {
	enum vk_http_method method;
	const char *path;
	int rc;
	vk_func handler;
	const char *params[3];
	unsigned allow;
};

#define M(x) VK_HTTP_METHOD(VK_HTTP_##x)

static const struct match_case matches[] = {
    {VK_HTTP_GET, "/", 0, h_root, {NULL}, 0},
    {VK_HTTP_HEAD, "/", 0, h_root, {NULL}, 0},
    {VK_HTTP_POST, "/", 405, NULL, {NULL}, M(GET) | M(HEAD)},
    {VK_HTTP_GET, "/users", 0, h_users, {NULL}, 0},
    {VK_HTTP_POST, "/users", 0, h_post, {NULL}, 0},
    {VK_HTTP_DELETE, "/users", 405, NULL, {NULL}, M(GET) | M(HEAD) | M(POST)},
    {VK_HTTP_GET, "/users/", 404, NULL, {NULL}, 0},
    {VK_HTTP_GET, "/users/42", 0, h_user, {"42"}, 0},
    {VK_HTTP_GET, "/users/me", 0, h_user, {"me"}, 0},
    {VK_HTTP_PATCH, "/users/42", 0, h_put, {"42"}, 0},
    {VK_HTTP_DELETE, "/users/42", 405, NULL, {NULL}, M(GET) | M(HEAD) | M(PUT) | M(PATCH)},
    {VK_HTTP_GET, "/users/42/", 404, NULL, {NULL}, 0},
    {VK_HTTP_GET, "/users/a%20b/posts/7", 0, h_user, {"a%20b", "7"}, 0},
    {VK_HTTP_GET, "/users/42/posts/", 404, NULL, {NULL}, 0},
    {VK_HTTP_GET, "/users//posts/7", 404, NULL, {NULL}, 0},
    {VK_HTTP_GET, "/files/", 0, h_file, {""}, 0},
    {VK_HTTP_GET, "/files/a/b/../c.txt", 0, h_file, {"a/b/../c.txt"}, 0},
    {VK_HTTP_GET, "/files", 404, NULL, {NULL}, 0},
    {VK_HTTP_OPTIONS, "/any", 0, h_any, {NULL}, 0},
    {VK_HTTP_CONNECT, "/any", 0, h_any, {NULL}, 0},
    {VK_HTTP_GET, "/anything", 404, NULL, {NULL}, 0},
    {VK_HTTP_GET, "", 404, NULL, {NULL}, 0},
    {VK_HTTP_GET, "*", 404, NULL, {NULL}, 0},
    {VK_HTTP_GET, "/USERS", 404, NULL, {NULL}, 0},
};

START_TEST(test_match_table)
{
	const struct match_case *c = &matches[_i];
	struct vk_http_match m;
	int rc;

	memset(&m, 0xa5, sizeof(m));
	rc = vk_http_route_match(routes, NROUTES, c->method, c->path, strlen(c->path), &m);
	ck_assert_msg(rc == c->rc, "%s: rc %d, expected %d", c->path, rc, c->rc);
	if (rc) {
		ck_assert_ptr_null(m.route);
		ck_assert_uint_eq(m.allow, c->allow);
		return;
	}
	ck_assert_ptr_nonnull(m.route);
	ck_assert_msg(m.route->handler == c->handler, "%s: wrong handler", c->path);
	for (unsigned i = 0; i < 3; i++) {
		char value[64];

		if (!c->params[i]) {
			ck_assert_uint_eq(m.nparams, i);
			break;
		}
		ck_assert_uint_gt(m.nparams, i);
		snprintf(value, sizeof(value), "%.*s", (int)m.param_len[i],
			 c->path + m.param_off[i]);
		ck_assert_str_eq(value, c->params[i]);
	}
}
END_TEST

START_TEST(test_param_names)
{
	const struct vk_http_route *posts = &routes[5];

	ck_assert_int_eq(vk_http_route_param(posts, "id"), 0);
	ck_assert_int_eq(vk_http_route_param(posts, "post"), 1);
	ck_assert_int_eq(vk_http_route_param(posts, "pos"), -1);
	ck_assert_int_eq(vk_http_route_param(posts, "posts"), -1);
	ck_assert_int_eq(vk_http_route_param(posts, "*"), -1);
	ck_assert_int_eq(vk_http_route_param(&routes[6], "*"), 0);
	ck_assert_int_eq(vk_http_route_param(&routes[0], "id"), -1);
}
END_TEST

struct check_case {
	const char *pattern;
	unsigned methods;
	const char *error; /* NULL: good */
};

static const struct check_case checks[] = {
    {"/", M(GET), NULL},
    {"/a/:b/c/:d_2/*", M(GET), NULL},
    {"/a/*", VK_HTTP_ANY_METHOD, NULL},
    {"/a:b", M(GET), "':' does not start a segment"},
    {"a", M(GET), "does not start with '/'"},
    {"", M(GET), "does not start with '/'"},
    {"/a/:", M(GET), "empty parameter name"},
    {"/a/:/b", M(GET), "empty parameter name"},
    {"/a/:id.json", M(GET), "a parameter name holds"},
    {"/a/:id/:id", M(GET), "repeats a parameter name"},
    {"/a/*/b", M(GET), "'*' is not the whole last segment"},
    {"/a*", M(GET), "'*' is not the whole last segment"},
    {"/a b", M(GET), "holds a byte"},
    {"/a?b", M(GET), "holds a byte"},
    {"/:a/:b/:c/:d/:e/:f/:g/:h", M(GET), NULL},
    {"/:a/:b/:c/:d/:e/:f/:g/:h/*", M(GET), "too many parameters"},
    {"/", VK_HTTP_METHOD(VK_HTTP_OTHER), "has a method outside"},
    {"/", 1u << 20, "has a method outside"},
};

START_TEST(test_check_table)
{
	const struct check_case *c = &checks[_i];
	struct vk_http_route r[2] = {VK_HTTP_GET("/ok", h_root), {c->methods, c->pattern, h_root}};
	char why[256] = "";
	int rc = vk_http_route_check(r, 2, why, sizeof(why));

	if (!c->error) {
		ck_assert_msg(rc == 0, "%s: refused: %s", c->pattern, why);
		return;
	}
	ck_assert_int_eq(rc, -EINVAL);
	ck_assert_msg(strstr(why, c->error) != NULL, "%s: '%s' does not say '%s'", c->pattern, why,
		      c->error);
	ck_assert_msg(strstr(why, "route 2") != NULL, "%s: '%s' does not name route 2", c->pattern,
		      why);
}
END_TEST

START_TEST(test_check_missing)
{
	struct vk_http_route r[1] = {{M(GET), "/", NULL}};
	char why[256];

	ck_assert_int_eq(vk_http_route_check(r, 1, why, sizeof(why)), -EINVAL);
	ck_assert_ptr_nonnull(strstr(why, "no handler"));
	r[0].pattern = NULL;
	r[0].handler = h_root;
	ck_assert_int_eq(vk_http_route_check(r, 1, why, sizeof(why)), -EINVAL);
	ck_assert_ptr_nonnull(strstr(why, "no pattern"));
	ck_assert_int_eq(vk_http_route_check(routes, NROUTES, why, sizeof(why)), 0);
}
END_TEST

START_TEST(test_allow)
{
	char buf[64];

	ck_assert_int_eq(vk_http_route_allow(M(GET) | M(HEAD) | M(POST), buf, sizeof(buf)), 15);
	ck_assert_str_eq(buf, "GET, HEAD, POST");
	ck_assert_int_eq(vk_http_route_allow(M(DELETE), buf, sizeof(buf)), 6);
	ck_assert_str_eq(buf, "DELETE");
	ck_assert_int_eq(vk_http_route_allow(M(GET) | M(HEAD), buf, 9), -ENOSPC);
	ck_assert_int_eq(vk_http_route_allow(M(GET) | M(HEAD), buf, 10), 9);
	ck_assert_str_eq(vk_http_method_name(VK_HTTP_PATCH), "PATCH");
	ck_assert_ptr_null(vk_http_method_name(VK_HTTP_OTHER));
}
END_TEST

START_TEST(test_unescape)
{
	char out[32];

	ck_assert_int_eq(vk_http_unescape("a%20b%2Fc%2fd", 13, out, sizeof(out), 0), 7);
	ck_assert_str_eq(out, "a b/c/d");
	ck_assert_int_eq(vk_http_unescape("a+b", 3, out, sizeof(out), 0), 3);
	ck_assert_str_eq(out, "a+b");
	ck_assert_int_eq(vk_http_unescape("a+b%2B", 6, out, sizeof(out), VK_HTTP_FORM), 4);
	ck_assert_str_eq(out, "a b+");
	ck_assert_int_eq(vk_http_unescape("%C3%A9", 6, out, sizeof(out), 0), 2);
	ck_assert_str_eq(out, "\xc3\xa9");
	/* Bad escapes, an escaped NUL. */
	ck_assert_int_eq(vk_http_unescape("%", 1, out, sizeof(out), 0), -EINVAL);
	ck_assert_int_eq(vk_http_unescape("%2", 2, out, sizeof(out), 0), -EINVAL);
	ck_assert_int_eq(vk_http_unescape("%zz", 3, out, sizeof(out), 0), -EINVAL);
	ck_assert_int_eq(vk_http_unescape("%2g", 3, out, sizeof(out), 0), -EINVAL);
	ck_assert_int_eq(vk_http_unescape("a%00b", 5, out, sizeof(out), 0), -EINVAL);
	/* len bounds the input: the escape past it is not read. */
	ck_assert_int_eq(vk_http_unescape("ab%41", 3, out, sizeof(out), 0), -EINVAL);
	ck_assert_int_eq(vk_http_unescape("ab%41", 2, out, sizeof(out), 0), 2);
	/* Room for the NUL too. */
	ck_assert_int_eq(vk_http_unescape("abc", 3, out, 3, 0), -ENOSPC);
	ck_assert_int_eq(vk_http_unescape("abc", 3, out, 4, 0), 3);
	ck_assert_int_eq(vk_http_unescape("", 0, out, 1, 0), 0);
	ck_assert_str_eq(out, "");
	/* In place. */
	strcpy(out, "x%41%42y");
	ck_assert_int_eq(vk_http_unescape(out, strlen(out), out, sizeof(out), 0), 4);
	ck_assert_str_eq(out, "xABy");
}
END_TEST

START_TEST(test_form_value)
{
	static const char form[] = "a=1&b=x+y%21&empty=&bare&a=2&na%6De=z&=v&c=%zz";
	char out[16];

	ck_assert_int_eq(vk_http_form_value(form, (size_t)-1, "a", out, sizeof(out)), 1);
	ck_assert_str_eq(out, "1");
	ck_assert_int_eq(vk_http_form_value(form, (size_t)-1, "b", out, sizeof(out)), 4);
	ck_assert_str_eq(out, "x y!");
	ck_assert_int_eq(vk_http_form_value(form, (size_t)-1, "empty", out, sizeof(out)), 0);
	ck_assert_str_eq(out, "");
	ck_assert_int_eq(vk_http_form_value(form, (size_t)-1, "bare", out, sizeof(out)), 0);
	ck_assert_int_eq(vk_http_form_value(form, (size_t)-1, "name", out, sizeof(out)), 1);
	ck_assert_str_eq(out, "z");
	ck_assert_int_eq(vk_http_form_value(form, (size_t)-1, "", out, sizeof(out)), 1);
	ck_assert_str_eq(out, "v");
	ck_assert_int_eq(vk_http_form_value(form, (size_t)-1, "c", out, sizeof(out)), -EINVAL);
	ck_assert_int_eq(vk_http_form_value(form, (size_t)-1, "nope", out, sizeof(out)), -ENOENT);
	ck_assert_int_eq(vk_http_form_value(form, (size_t)-1, "b", out, 4), -ENOSPC);
	/* len cuts the form. */
	ck_assert_int_eq(vk_http_form_value(form, 3, "a", out, sizeof(out)), 1);
	ck_assert_int_eq(vk_http_form_value(form, 3, "b", out, sizeof(out)), -ENOENT);
	ck_assert_int_eq(vk_http_form_value("", 0, "a", out, sizeof(out)), -ENOENT);
}
END_TEST

/* ---- route lines of vkd.ini (vk_http_mount.h) ---- */

struct line_case {
	const char *text;
	unsigned methods;
	const char *pattern;
	const char *target;
	int is_static;
};

static const struct line_case good_lines[] = {
    {"GET /users/:id user_get", M(GET), "/users/:id", "user_get", 0},
    {"GET,POST /users add_or_list", M(GET) | M(POST), "/users", "add_or_list", 0},
    {"* /any _any2", VK_HTTP_ANY_METHOD, "/any", "_any2", 0},
    {"  DELETE\t/a/:x/b/*\t  h  ", M(DELETE), "/a/:x/b/*", "h", 0},
    {"PUT,PATCH,OPTIONS,TRACE,CONNECT,HEAD / root",
     M(PUT) | M(PATCH) | M(OPTIONS) | M(TRACE) | M(CONNECT) | M(HEAD), "/", "root", 0},
    {"GET /static/* static:/srv/www", M(GET), "/static/*", "/srv/www", 1},
    {"GET,HEAD /* static: /a dir/with blanks", M(GET) | M(HEAD), "/*", "/a dir/with blanks", 1},
    {"HEAD /s/* static:rel", M(HEAD), "/s/*", "rel", 1},
};

START_TEST(test_line_good)
{
	const struct line_case *c = &good_lines[_i];
	struct vk_http_mount m;
	char why[256] = "";

	ck_assert_msg(vk_http_mount_parse(c->text, &m, why, sizeof(why)) == 0, "'%s': %s", c->text,
		      why);
	ck_assert_uint_eq(m.methods, c->methods);
	ck_assert_str_eq(m.pattern, c->pattern);
	ck_assert_str_eq(m.target, c->target);
	ck_assert_int_eq(m.is_static, c->is_static);
	vk_http_mount_free(&m);
}
END_TEST

/* Each bad line, and a word its reason must hold (the bad part). */
static const struct {
	const char *text, *needle;
} bad_lines[] = {
    {"GTE /x h", "GTE"},	       /* unknown method */
    {"get /x h", "get"},	       /* methods are upper case */
    {"GET,,POST /x h", "''"},	       /* an empty method */
    {"GET, /x h", "''"},	       /* a trailing comma */
    {"GET,GET /x h", "GET"},	       /* a method twice */
    {"** /x h", "**"},		       /* not the any-method star */
    {"GET /x", "METHODS"},	       /* no handler */
    {"GET", "METHODS"},		       /* no pattern */
    {"", "METHODS"},		       /* nothing */
    {"GET x/y h", "x/y"},	       /* not a path */
    {"GET /a/*/b h", "/a/*/b"},	       /* '*' not last */
    {"GET /a* h", "/a*"},	       /* '*' not a whole segment */
    {"GET /a/:/b h", "/a/:/b"},	       /* an empty parameter name */
    {"GET /a:b h", "/a:b"},	       /* ':' inside a segment */
    {"GET /:a-b h", "/:a-b"},	       /* a bad byte in a name */
    {"GET /:a/:a h", "/:a/:a"},	       /* a name twice */
    {"GET /a?b h", "/a?b"},	       /* a query in a pattern */
    {"GET /x 9h", "9h"},	       /* not a C name */
    {"GET /x h-y", "h-y"},	       /* not a C name */
    {"GET /x h extra", "extra"},       /* one name only */
    {"GET /s static:/d", "*"},	       /* static needs a tail */
    {"POST /s/* static:/d", "GET"},    /* static answers GET and HEAD */
    {"* /s/* static:/d", "GET"},       /* ... not any method */
    {"GET /s/* static:", "static"},    /* no directory */
    {"GET /s/* static:   ", "static"}, /* no directory */
};

START_TEST(test_line_bad)
{
	struct vk_http_mount m;
	char why[256] = "";

	ck_assert_int_eq(vk_http_mount_parse(bad_lines[_i].text, &m, why, sizeof(why)), -EINVAL);
	ck_assert_msg(strstr(why, bad_lines[_i].needle) != NULL, "'%s': reason '%s' lacks '%s'",
		      bad_lines[_i].text, why, bad_lines[_i].needle);
	ck_assert_ptr_null(m.pattern);
	ck_assert_ptr_null(m.target);
}
END_TEST

static int overlap(const char *a, const char *b)
{
	struct vk_http_mount ma, mb;
	char why[256];
	int rc;

	ck_assert_int_eq(vk_http_mount_parse(a, &ma, why, sizeof(why)), 0);
	ck_assert_int_eq(vk_http_mount_parse(b, &mb, why, sizeof(why)), 0);
	rc = vk_http_mount_overlap(&ma, &mb);
	ck_assert_int_eq(vk_http_mount_overlap(&mb, &ma), rc);
	vk_http_mount_free(&ma);
	vk_http_mount_free(&mb);
	return rc;
}

START_TEST(test_line_overlap)
{
	ck_assert(overlap("GET /u/:id a", "GET /u/:id b"));
	ck_assert(overlap("GET /u/:id a", "GET,POST /u/:name b")); /* names do not count */
	ck_assert(overlap("GET /u a", "HEAD /u b"));		   /* GET answers HEAD */
	ck_assert(overlap("* /u a", "DELETE /u b"));
	ck_assert(overlap("GET /f/* a", "GET /f/* static:/d"));
	ck_assert(overlap("GET /:a/x/:b a", "GET /:c/x/:d b"));
	ck_assert(!overlap("GET /u/:id a", "POST /u/:id b"));
	ck_assert(!overlap("HEAD /u a", "POST /u b"));
	ck_assert(!overlap("GET /u/:id a", "GET /u/me b")); /* an order, not a duplicate */
	ck_assert(!overlap("GET /u/:id a", "GET /u/:id/ b"));
	ck_assert(!overlap("GET /u a", "GET /u/ b"));
	ck_assert(!overlap("GET /f/* a", "GET /f/:x b"));
	ck_assert(!overlap("GET /:a a", "GET /:a/:b b"));
}
END_TEST

START_TEST(test_line_methods)
{
	char buf[64];

	vk_http_mount_methods(VK_HTTP_ANY_METHOD, buf, sizeof(buf));
	ck_assert_str_eq(buf, "*");
	vk_http_mount_methods(M(POST) | M(GET), buf, sizeof(buf));
	ck_assert_str_eq(buf, "GET,POST");
	vk_http_mount_methods(M(CONNECT), buf, sizeof(buf));
	ck_assert_str_eq(buf, "CONNECT");
}
END_TEST

START_TEST(test_line_root)
{
	char dir[] = "/tmp/check_http_route.XXXXXX", file[64], why[256];
	int fd;

	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(file, sizeof(file), "%s/f", dir);
	fd = open(file, O_CREAT | O_WRONLY, 0600);
	ck_assert_int_ge(fd, 0);
	close(fd);
	ck_assert_int_eq(vk_http_mount_root_ok(dir, why, sizeof(why)), 0);
	ck_assert_int_eq(vk_http_mount_root_ok(file, why, sizeof(why)), -EINVAL);
	ck_assert_ptr_nonnull(strstr(why, file));
	unlink(file);
	ck_assert_int_eq(vk_http_mount_root_ok(file, why, sizeof(why)), -EINVAL);
	if (geteuid() != 0) { /* root reads and searches anything */
		ck_assert_int_eq(chmod(dir, 0300), 0);
		ck_assert_int_eq(vk_http_mount_root_ok(dir, why, sizeof(why)), -EINVAL);
	}
	rmdir(dir);
}
END_TEST

static Suite *route_suite(void)
{
	Suite *s = suite_create("http_route");
	TCase *tc = tcase_create("route");

	tcase_add_loop_test(tc, test_match_table, 0, sizeof(matches) / sizeof(matches[0]));
	tcase_add_test(tc, test_param_names);
	tcase_add_loop_test(tc, test_check_table, 0, sizeof(checks) / sizeof(checks[0]));
	tcase_add_test(tc, test_check_missing);
	tcase_add_test(tc, test_allow);
	suite_add_tcase(s, tc);
	tc = tcase_create("line");
	tcase_add_loop_test(tc, test_line_good, 0, sizeof(good_lines) / sizeof(good_lines[0]));
	tcase_add_loop_test(tc, test_line_bad, 0, sizeof(bad_lines) / sizeof(bad_lines[0]));
	tcase_add_test(tc, test_line_overlap);
	tcase_add_test(tc, test_line_methods);
	tcase_add_test(tc, test_line_root);
	suite_add_tcase(s, tc);
	tc = tcase_create("url");
	tcase_add_test(tc, test_unescape);
	tcase_add_test(tc, test_form_value);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return check_run(route_suite());
}
