/*
 * check_config.c - unit tests for vkd.ini loading (src/vkd/vkd_config.c).
 *
 * Every config is written to a fresh mkstemp() file under /tmp and loaded
 * from there, as vkd does. Error tests assert the number of errors, the
 * "file:line: " prefix and the offending key or value, not the wording.
 */
#include "config.h"

#include "vkd_config.h"
#include "check_run.h"

#include <arpa/inet.h>
#include <check.h>
#include <errno.h>
#include <limits.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

/* A minimal valid app, for tests about something else. */
#define APP_A "[app a]\nmodule = a.so\nlisten = 127.0.0.1:7000\n"

static char path[64];
static struct vkd_config *cfg;
static struct vkd_config_errors errs;
static int load_errno;

static void setup(void)
{
	unsetenv(VKD_MODULE_DIR_ENV);
	cfg = NULL;
	memset(&errs, 0, sizeof(errs));
	path[0] = '\0';
}

static void teardown(void)
{
	vkd_config_free(cfg);
	cfg = NULL;
	vkd_config_errors_free(&errs);
}

static void write_temp(const char *text, size_t len)
{
	int fd;

	snprintf(path, sizeof(path), "/tmp/check_config.XXXXXX");
	fd = mkstemp(path);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, text, len), (ssize_t)len);
	close(fd);
}

static struct vkd_config *load_text(const char *text)
{
	vkd_config_free(cfg);
	vkd_config_errors_free(&errs);
	write_temp(text, strlen(text));
	cfg = vkd_config_load(path, &errs);
	load_errno = errno;
	unlink(path);
	return cfg;
}

static void dump_errors(void)
{
	for (size_t i = 0; i < errs.count; i++)
		fprintf(stderr, "  %s\n", errs.messages[i]);
}

static const struct vkd_config *load_ok(const char *text)
{
	if (!load_text(text)) {
		dump_errors();
		ck_abort_msg("expected the config to load, got %zu errors", errs.count);
	}
	ck_assert_uint_eq(errs.count, 0);
	return cfg;
}

/* Error idx starts with "path:line: " and mentions needle. */
static void assert_error_at(size_t idx, int line, const char *needle)
{
	char prefix[96];

	ck_assert_uint_gt(errs.count, idx);
	snprintf(prefix, sizeof(prefix), "%s:%d: ", path, line);
	ck_assert_msg(strncmp(errs.messages[idx], prefix, strlen(prefix)) == 0,
		      "error '%s' should start with '%s'", errs.messages[idx], prefix);
	if (needle)
		ck_assert_msg(strstr(errs.messages[idx], needle) != NULL,
			      "error '%s' should mention '%s'", errs.messages[idx], needle);
}

static void expect_errors(const char *text, size_t count)
{
	ck_assert_ptr_null(load_text(text));
	ck_assert_int_eq(load_errno, EINVAL);
	if (errs.count != count)
		dump_errors();
	ck_assert_uint_eq(errs.count, count);
}

static void expect_one_error(const char *text, int line, const char *needle)
{
	expect_errors(text, 1);
	assert_error_at(0, line, needle);
}

static char *cwd_join(const char *rel)
{
	char *cwd = getcwd(NULL, 0);
	char *out;

	ck_assert_ptr_nonnull(cwd);
	ck_assert_int_ge(asprintf(&out, "%s/%s", cwd, rel), 0);
	free(cwd);
	return out;
}

/* ---- valid files ---- */

/* The resolver's keys (vk_connect() to host names): paths made absolute. */
START_TEST(test_resolver_keys)
{
	const struct vkd_config *c = load_ok("[vkd]\n"
					     "resolv_conf = /etc//hosts\n"
					     "hosts_file = /dev/null\n"
					     "resolve_timeout = 300ms\n" APP_A);

	ck_assert_str_eq(c->resolv_conf, "/etc//hosts");
	ck_assert_str_eq(c->hosts_file, "/dev/null");
	ck_assert_uint_eq(c->resolve_timeout_ms, 300);
}
END_TEST

START_TEST(test_full)
{
	const struct vkd_config *c = load_ok("; a comment\n"
					     "# another\n"
					     "[vkd]\n"
					     "workers = 3\n"
					     "control = /tmp//vkd-test/./ctl.sock/\n"
					     "control_mode = 0640\n"
					     "control_group = root\n"
					     "user = root\n"
					     "group = root\n"
					     "log_level = debug\n"
					     "drain_timeout = 1500ms\n"
					     "module_dir = /opt/mods/\n"
					     "\n"
					     "[app echo]\n"
					     "module = echo.so\n"
					     "listen = 127.0.0.1:7007\n"
					     "listen = [::1]:7007\n"
					     "listen = unix:/tmp/echo.sock\n"
					     "heap = 128k\n"
					     "max_connections = 500\n"
					     "idle_timeout = 2m\n"
					     "isolation = off\n"
					     "backlog = 128\n"
					     "tcp_nodelay = off\n"
					     "opt.greeting = hello world ; a comment\n"
					     "opt.empty =\n"
					     "\n"
					     "[app http]\n"
					     "module = /abs/http.so\n"
					     "listen = *:8080\n"
					     "max_run = 0\n");
	const struct vkd_app_config *echo = &c->apps[0];
	const struct vkd_app_config *http = &c->apps[1];
	const struct sockaddr_in *sin = (const struct sockaddr_in *)&echo->listen[0].addr;
	const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)&echo->listen[1].addr;
	const struct sockaddr_un *sun = (const struct sockaddr_un *)&echo->listen[2].addr;

	ck_assert_str_eq(c->path, path);
	ck_assert_uint_eq(c->workers, 3);
	ck_assert_int_eq(c->workers_auto, 0);
	ck_assert_str_eq(c->control_path, "/tmp/vkd-test/ctl.sock");
	ck_assert_uint_eq(c->control_mode, 0640);
	ck_assert_str_eq(c->control_group, "root");
	ck_assert_uint_eq(c->control_gid, 0);
	ck_assert_str_eq(c->user, "root");
	ck_assert_str_eq(c->group, "root");
	ck_assert_uint_eq(c->uid, 0);
	ck_assert_uint_eq(c->gid, 0);
	ck_assert_int_eq(c->log_level, VKD_LOG_DEBUG);
	ck_assert_uint_eq(c->drain_timeout_ms, 1500);
	ck_assert_str_eq(c->module_dir, "/opt/mods/");
	ck_assert_uint_eq(c->app_count, 2);

	ck_assert_str_eq(echo->name, "echo");
	ck_assert_int_eq(echo->line, 14);
	ck_assert_str_eq(echo->module, "echo.so");
	ck_assert_str_eq(echo->module_path, "/opt/mods/echo.so");
	ck_assert_uint_eq(echo->listen_count, 3);
	ck_assert_int_eq(echo->listen[0].family, AF_INET);
	ck_assert_str_eq(echo->listen[0].text, "127.0.0.1:7007");
	ck_assert_int_eq(echo->listen[0].line, 16);
	ck_assert_uint_eq(echo->listen[0].addrlen, sizeof(struct sockaddr_in));
	ck_assert_int_eq(sin->sin_family, AF_INET);
	ck_assert_uint_eq(ntohs(sin->sin_port), 7007);
	ck_assert_uint_eq(ntohl(sin->sin_addr.s_addr), INADDR_LOOPBACK);
	ck_assert_int_eq(echo->listen[1].family, AF_INET6);
	ck_assert_str_eq(echo->listen[1].text, "[::1]:7007");
	ck_assert_int_eq(echo->listen[1].line, 17);
	ck_assert_uint_eq(echo->listen[1].addrlen, sizeof(struct sockaddr_in6));
	ck_assert_int_eq(sin6->sin6_family, AF_INET6);
	ck_assert_uint_eq(ntohs(sin6->sin6_port), 7007);
	ck_assert(IN6_IS_ADDR_LOOPBACK(&sin6->sin6_addr));
	ck_assert_int_eq(echo->listen[2].family, AF_UNIX);
	ck_assert_str_eq(echo->listen[2].text, "unix:/tmp/echo.sock");
	ck_assert_int_eq(sun->sun_family, AF_UNIX);
	ck_assert_str_eq(sun->sun_path, "/tmp/echo.sock");
	ck_assert_uint_eq(echo->listen[2].addrlen,
			  offsetof(struct sockaddr_un, sun_path) + strlen("/tmp/echo.sock") + 1);
	ck_assert_uint_eq(echo->heap_size, 128 * 1024);
	ck_assert_uint_eq(echo->max_connections, 500);
	ck_assert_uint_eq(echo->idle_timeout_ms, 120000);
	ck_assert_int_eq(echo->isolation, 0);
	ck_assert_int_eq(echo->backlog, 128);
	ck_assert_int_eq(echo->tcp_nodelay, 0);
	ck_assert_uint_eq(echo->option_count, 2);
	ck_assert_str_eq(echo->options[0].name, "greeting");
	ck_assert_str_eq(echo->options[0].value, "hello world");
	ck_assert_int_eq(echo->options[0].line, 25);
	ck_assert_str_eq(vkd_app_option(echo, "greeting"), "hello world");
	ck_assert_str_eq(vkd_app_option(echo, "empty"), "");
	ck_assert_ptr_null(vkd_app_option(echo, "absent"));
	/* As a path (VK_APP_PATHS): from the file's directory (/tmp); "" stays "". */
	ck_assert_str_eq(vkd_app_option_path(echo, "greeting"), "/tmp/hello world");
	ck_assert_str_eq(vkd_app_option_path(echo, "empty"), "");
	ck_assert_ptr_null(vkd_app_option_path(echo, "absent"));

	ck_assert_str_eq(http->name, "http");
	ck_assert_str_eq(http->module_path, "/abs/http.so");
	ck_assert_uint_eq(http->listen_count, 1);
	ck_assert_str_eq(http->listen[0].text, "*:8080");
	ck_assert_uint_eq(http->option_count, 0);
	ck_assert_ptr_null(vkd_app_option(http, "greeting"));
	ck_assert_uint_eq(http->max_run_ms, 0);
	ck_assert_uint_eq(echo->max_run_ms, VKD_DEFAULT_MAX_RUN_MS);

	ck_assert_ptr_eq(vkd_config_app(c, "http"), http);
	ck_assert_ptr_null(vkd_config_app(c, "nope"));
}
END_TEST

START_TEST(test_defaults)
{
	const struct vkd_config *c = load_ok(APP_A);
	const struct vkd_app_config *a = &c->apps[0];
	char *mod;

	ck_assert_int_eq(c->workers_auto, 1);
	ck_assert_uint_ge(c->workers, 1);
	ck_assert_str_eq(c->control_path, VKD_DEFAULT_CONTROL);
	ck_assert_uint_eq(c->control_mode, 0660);
	ck_assert_ptr_null(c->control_group);
	ck_assert_uint_eq(c->control_gid, (gid_t)-1);
	ck_assert_ptr_null(c->user);
	ck_assert_ptr_null(c->group);
	ck_assert_uint_eq(c->uid, (uid_t)-1);
	ck_assert_uint_eq(c->gid, (gid_t)-1);
	ck_assert_int_eq(c->log_level, VKD_LOG_INFO);
	ck_assert_uint_eq(c->drain_timeout_ms, 30000);
	ck_assert_ptr_null(c->resolv_conf);
	ck_assert_ptr_null(c->hosts_file);
	ck_assert_uint_eq(c->resolve_timeout_ms, 5000);
	ck_assert_str_eq(c->module_dir, VKD_MODULE_DIR);
	ck_assert_int_ge(asprintf(&mod, "%s/a.so", VKD_MODULE_DIR), 0);
	ck_assert_str_eq(a->module_path, mod);
	free(mod);
	ck_assert_uint_eq(a->heap_size, 0); /* the module decides */
	ck_assert_uint_eq(a->max_connections, 10000);
	ck_assert_uint_eq(a->idle_timeout_ms, 60000);
	ck_assert_int_eq(a->isolation, 1);
	ck_assert_int_eq(a->backlog, 511);
	ck_assert_int_eq(a->tcp_nodelay, 1);
	ck_assert_uint_eq(a->ring_size, 16 * 1024);
	ck_assert_uint_eq(a->max_run_ms, 1000);
	ck_assert_uint_eq(a->option_count, 0);
	ck_assert_ptr_null(a->options);
}
END_TEST

/* Optional keys written empty keep their defaults. */
START_TEST(test_empty_optional)
{
	const struct vkd_config *c = load_ok("[vkd]\ncontrol_group =\nuser =   ; none\ngroup =\n"
					     "module_dir =\n" APP_A);

	ck_assert_ptr_null(c->control_group);
	ck_assert_ptr_null(c->user);
	ck_assert_ptr_null(c->group);
	ck_assert_str_eq(c->module_dir, VKD_MODULE_DIR);
}
END_TEST

START_TEST(test_workers_auto)
{
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);
	const struct vkd_config *c = load_ok("[vkd]\nworkers = auto\n" APP_A);

	ck_assert_int_gt(cpus, 0);
	ck_assert_uint_eq(c->workers, cpus > VKD_WORKERS_MAX ? VKD_WORKERS_MAX : (unsigned)cpus);
	ck_assert_int_eq(c->workers_auto, 1);
	c = load_ok("[vkd]\nworkers = 1024\n" APP_A);
	ck_assert_uint_eq(c->workers, 1024);
}
END_TEST

/* Users and groups by name or number, and the user's primary group. */
START_TEST(test_user_group)
{
	const struct vkd_config *c = load_ok("[vkd]\nuser = 0\ncontrol_group = 0\n" APP_A);

	ck_assert_str_eq(c->user, "0");
	ck_assert_uint_eq(c->uid, 0);
	ck_assert_uint_eq(c->gid, 0); /* root's primary group */
	ck_assert_uint_eq(c->control_gid, 0);
	c = load_ok("[vkd]\ngroup = root\n" APP_A);
	ck_assert_uint_eq(c->uid, (uid_t)-1);
	ck_assert_uint_eq(c->gid, 0);
}
END_TEST

/* Indented keys are keys (inih's continuation lines are off), CRLF, BOM. */
START_TEST(test_syntax_leniency)
{
	const struct vkd_config *c = load_ok("\xef\xbb\xbf[vkd]\r\n"
					     "   workers = 2\r\n"
					     "\tlog_level = WARNING\r\n"
					     "  [ app   a ]   ; trailing comment\r\n"
					     "module=a.so\r\n"
					     "   listen = 127.0.0.1:7000\r\n"
					     "    heap = 48k\r\n");

	ck_assert_uint_eq(c->workers, 2);
	ck_assert_int_eq(c->log_level, VKD_LOG_WARN);
	ck_assert_str_eq(c->apps[0].name, "a");
	ck_assert_int_eq(c->apps[0].line, 4);
	ck_assert_int_eq(c->apps[0].listen[0].line, 6);
	ck_assert_uint_eq(c->apps[0].heap_size % (size_t)sysconf(_SC_PAGESIZE), 0);
	ck_assert_uint_ge(c->apps[0].heap_size, 48 * 1024);
}
END_TEST

/* A ring each way and the spare must fit the heap the section gives. */
START_TEST(test_ring)
{
	const struct vkd_config *c = load_ok(APP_A "ring = 64k\n");

	ck_assert_uint_eq(c->apps[0].ring_size, 64 * 1024);
	ck_assert_uint_eq(c->apps[0].heap_size, 0); /* the worker makes room: vkd_heap_for_ring() */
	ck_assert_uint_ge(vkd_heap_for_ring(64 * 1024), 2 * 64 * 1024 + 8 * 1024);
	c = load_ok(APP_A "heap = 256k\nring = 64k\n");
	ck_assert_uint_eq(c->apps[0].ring_size, 64 * 1024);
	c = load_ok(APP_A "heap = 40k\nring = 16k\n");
	ck_assert_uint_eq(c->apps[0].ring_size, 16 * 1024);
	c = load_ok(APP_A "heap = 40k\nring = 4k\n");
	ck_assert_uint_eq(c->apps[0].ring_size, 4 * 1024);
	expect_one_error(APP_A "heap = 128k\nring = 64k\n", 1, "two rings");
}
END_TEST

START_TEST(test_heap_rounding)
{
	size_t page = (size_t)sysconf(_SC_PAGESIZE);
	const struct vkd_config *c = load_ok(APP_A "heap = 65537\n");

	ck_assert_uint_eq(c->apps[0].heap_size, (65537 + page - 1) / page * page);
	c = load_ok(APP_A "heap = 40000\n"); /* rounds up to at least 40k */
	ck_assert_uint_ge(c->apps[0].heap_size, 40960);
	ck_assert_uint_eq(c->apps[0].heap_size % page, 0);
	c = load_ok(APP_A "heap = 40k\n");
	ck_assert_uint_eq(c->apps[0].heap_size, 40960);
	c = load_ok(APP_A "heap = 1G\n");
	ck_assert_uint_eq(c->apps[0].heap_size, (size_t)1 << 30);
	expect_one_error(APP_A "heap = 1073741825\n", 4, "1073741825");
	expect_one_error(APP_A "heap = 8k\n", 4, "8k");
	expect_one_error(APP_A "heap = 36k\n", 4, "36k");
	expect_one_error(APP_A "heap = 99999999999999999999999\n", 4, "heap");
}
END_TEST

START_TEST(test_control_mode)
{
	ck_assert_uint_eq(load_ok("[vkd]\ncontrol_mode = 660\n" APP_A)->control_mode, 0660);
	ck_assert_uint_eq(load_ok("[vkd]\ncontrol_mode = 0\n" APP_A)->control_mode, 0);
	ck_assert_uint_eq(load_ok("[vkd]\ncontrol_mode = 0777\n" APP_A)->control_mode, 0777);
}
END_TEST

START_TEST(test_bool_spellings)
{
	static const char *const on[] = {"on", "yes", "true", "1", "ON", "True"};
	static const char *const off[] = {"off", "no", "false", "0", "OFF", "No"};
	char text[256];

	for (size_t i = 0; i < sizeof(on) / sizeof(on[0]); i++) {
		snprintf(text, sizeof(text), APP_A "isolation = %s\n", on[i]);
		ck_assert_int_eq(load_ok(text)->apps[0].isolation, 1);
		snprintf(text, sizeof(text), APP_A "isolation = %s\n", off[i]);
		ck_assert_int_eq(load_ok(text)->apps[0].isolation, 0);
	}
}
END_TEST

START_TEST(test_log_levels)
{
	ck_assert_int_eq(load_ok("[vkd]\nlog_level = error\n" APP_A)->log_level, VKD_LOG_ERROR);
	ck_assert_int_eq(load_ok("[vkd]\nlog_level = warn\n" APP_A)->log_level, VKD_LOG_WARN);
	ck_assert_int_eq(load_ok("[vkd]\nlog_level = info\n" APP_A)->log_level, VKD_LOG_INFO);
	ck_assert_int_eq(load_ok("[vkd]\nlog_level = Debug\n" APP_A)->log_level, VKD_LOG_DEBUG);
	ck_assert_str_eq(vkd_log_level_name(VKD_LOG_ERROR), "error");
	ck_assert_str_eq(vkd_log_level_name(VKD_LOG_WARN), "warn");
	ck_assert_str_eq(vkd_log_level_name(VKD_LOG_INFO), "info");
	ck_assert_str_eq(vkd_log_level_name(VKD_LOG_DEBUG), "debug");
	ck_assert_int_eq(VKD_LOG_ERROR, 3);
	ck_assert_int_eq(VKD_LOG_DEBUG, 7);
}
END_TEST

START_TEST(test_listen_repeatable)
{
	const struct vkd_config *c = load_ok(APP_A "listen = 127.0.0.1:7001\n"
						   "listen = 127.0.0.2:7000\n"
						   "listen = *:7002\n"
						   "listen = [::]:7002\n" /* IPv6-only: no clash */
						   "[app b]\nmodule = b.so\nlisten = [::1]:7000\n");

	ck_assert_uint_eq(c->apps[0].listen_count, 5);
	ck_assert_uint_eq(c->apps[1].listen_count, 1);
}
END_TEST

/* route lines: repeatable, kept in order with their lines, static: made absolute. */
START_TEST(test_routes)
{
	const struct vkd_config *c = load_ok(APP_A "route = GET /users/:id user_get\n"
						   "route = PUT,PATCH /users/:id user_set\n"
						   "route = GET /s/* static:www/site\n"
						   "route = GET /t/* static: /srv/a b\n"
						   "[app b]\nmodule = b.so\nlisten = [::1]:7000\n");
	const struct vk_http_mount *r = c->apps[0].routes;

	ck_assert_uint_eq(c->apps[0].route_count, 4);
	ck_assert_uint_eq(c->apps[1].route_count, 0);
	ck_assert_int_eq(r[0].line, 4);
	ck_assert_str_eq(r[0].pattern, "/users/:id");
	ck_assert_str_eq(r[0].target, "user_get");
	ck_assert_uint_eq(r[1].methods,
			  VK_HTTP_METHOD(VK_HTTP_PUT) | VK_HTTP_METHOD(VK_HTTP_PATCH));
	ck_assert_int_eq(r[2].line, 6);
	ck_assert(r[2].is_static);
	ck_assert_str_eq(r[2].target, "/tmp/www/site"); /* the file's directory */
	ck_assert_str_eq(r[3].target, "/srv/a b");
}
END_TEST

/* Each bad route line is an error at its own line; the others still load. */
START_TEST(test_routes_bad)
{
	expect_one_error(APP_A "route = GTE /x h\n", 4, "GTE");
	expect_one_error(APP_A "route = GET x h\n", 4, "'x'");
	expect_one_error(APP_A "route = GET /a/:/b h\n", 4, "/a/:/b");
	expect_one_error(APP_A "route = GET /:a/:a h\n", 4, "/:a/:a");
	expect_one_error(APP_A "route = GET /x a-b\n", 4, "a-b");
	expect_one_error(APP_A "route = GET /x\n", 4, "route");
	expect_one_error(APP_A "route =\n", 4, "route");
	expect_one_error(APP_A "route = POST /s/* static:/d\n", 4, "GET");
	expect_one_error(APP_A "route = GET /u/:id a\nroute = GET /v b\nroute = HEAD /u/:x c\n", 6,
			 "line 4");
	expect_errors(APP_A "route = GTE /x h\nroute = GET /ok h\nroute = GET /ok h\n", 2);
	assert_error_at(0, 4, "GTE");
	assert_error_at(1, 6, "line 5");
	expect_one_error("[vkd]\nroute = GET /x h\n" APP_A, 2, "route");
}
END_TEST

/* The bundled conf/vkd.ini is valid and runs every bundled app. */
START_TEST(test_bundled_config)
{
	const struct vkd_config *c;

	setenv(VKD_MODULE_DIR_ENV, "/build/apps", 1);
	cfg = vkd_config_load(VKD_TOP_SRCDIR "/conf/vkd.ini", &errs);
	dump_errors();
	ck_assert_ptr_nonnull(cfg);
	c = cfg;
	ck_assert_uint_eq(c->workers, 2);
	ck_assert_int_eq(c->log_level, VKD_LOG_INFO);
	ck_assert_str_eq(c->control_path, "/tmp/vkd.sock");
	ck_assert_ptr_null(c->user);
	ck_assert_uint_eq(c->app_count, 6);
	for (size_t i = 0; i < c->app_count; i++) {
		static const char *const want[][3] = {
		    {"echo", "/build/apps/echo.so", "127.0.0.1:7007"},
		    {"http", "/build/apps/http.so", "127.0.0.1:8080"},
		    {"static", "/build/apps/static.so", "127.0.0.1:8081"},
		    {"proxy", "/build/apps/proxy.so", "127.0.0.1:8082"},
		    {"chat", "/build/apps/chat.so", "127.0.0.1:7010"},
		    {"kv", "/build/apps/kv.so", "127.0.0.1:6380"},
		};

		ck_assert_str_eq(c->apps[i].name, want[i][0]);
		ck_assert_str_eq(c->apps[i].module_path, want[i][1]);
		ck_assert_str_eq(c->apps[i].listen[0].text, want[i][2]);
	}
}
END_TEST

/* ---- module paths ---- */

START_TEST(test_module_dir_env)
{
	const struct vkd_config *c;
	char *expect;

	setenv(VKD_MODULE_DIR_ENV, "/env/mods", 1);
	c = load_ok("[vkd]\nmodule_dir = /conf/mods\n" APP_A);
	ck_assert_str_eq(c->module_dir, "/env/mods");
	ck_assert_str_eq(c->apps[0].module_path, "/env/mods/a.so");

	/* Empty means unset: the file's value wins again. */
	setenv(VKD_MODULE_DIR_ENV, "", 1);
	c = load_ok("[vkd]\nmodule_dir = /conf/mods\n" APP_A);
	ck_assert_str_eq(c->apps[0].module_path, "/conf/mods/a.so");

	/* A relative directory from the environment: the working directory's. */
	setenv(VKD_MODULE_DIR_ENV, "build/mods/", 1);
	c = load_ok(APP_A);
	expect = cwd_join("build/mods/a.so");
	ck_assert_str_eq(c->apps[0].module_path, expect);
	free(expect);

	/* Overrides the compiled-in default too. */
	setenv(VKD_MODULE_DIR_ENV, "/env2", 1);
	c = load_ok(APP_A);
	ck_assert_str_eq(c->apps[0].module_path, "/env2/a.so");
}
END_TEST

START_TEST(test_module_paths)
{
	const struct vkd_config *c = load_ok("[vkd]\nmodule_dir = /opt//mods//\n"
					     "[app a]\nmodule = /abs/a.so\nlisten = *:1\n"
					     "[app b]\nmodule = sub/b.so\nlisten = *:2\n");

	ck_assert_str_eq(c->apps[0].module, "/abs/a.so");
	ck_assert_str_eq(c->apps[0].module_path, "/abs/a.so");
	ck_assert_str_eq(c->apps[1].module, "sub/b.so");
	ck_assert_str_eq(c->apps[1].module_path, "/opt//mods/sub/b.so");

	/* A relative module_dir in the file is relative to the file (in /tmp). */
	c = load_ok("[vkd]\nmodule_dir = rel\n" APP_A);
	ck_assert_str_eq(c->apps[0].module_path, "/tmp/rel/a.so");
	c = load_ok("[vkd]\nmodule_dir = /\n" APP_A);
	ck_assert_str_eq(c->apps[0].module_path, "/a.so");
}
END_TEST

/* ---- one error each, with its line ---- */

START_TEST(test_unknown_section)
{
	expect_one_error("[vdk]\nworkers = 2\n" APP_A, 1, "[vdk]");
	expect_one_error("[application x]\nmodule = x\n" APP_A, 1, "application x");
}
END_TEST

START_TEST(test_unknown_key)
{
	expect_one_error("[app echo]\nmodule = a.so\nlsiten = 127.0.0.1:7007\nlisten = *:7\n", 3,
			 "'lsiten' in [app echo]");
	ck_assert_ptr_nonnull(strstr(errs.messages[0], "'listen'")); /* did you mean */
	expect_one_error("[vkd]\nfrobnicate = 1\n" APP_A, 2, "frobnicate");
	expect_one_error("[vkd]\nlisten = *:9\n" APP_A, 2, "listen");
	expect_one_error(APP_A "workers = 2\n", 4, "workers");
}
END_TEST

START_TEST(test_key_outside_section)
{
	expect_one_error("workers = 2\n" APP_A, 1, "workers");
}
END_TEST

START_TEST(test_duplicate_app)
{
	expect_one_error(APP_A "[app a]\nmodule = b.so\nlisten = 127.0.0.1:7001\n", 4, "[app a]");
	ck_assert_ptr_nonnull(strstr(errs.messages[0], "line 1"));
}
END_TEST

START_TEST(test_duplicate_section_vkd)
{
	expect_one_error("[vkd]\nworkers = 2\n[vkd]\nworkers = 3\n" APP_A, 3, "[vkd]");
}
END_TEST

START_TEST(test_duplicate_key)
{
	expect_one_error("[app a]\nmodule = a.so\nmodule = b.so\nlisten = *:1\n", 3, "module");
	ck_assert_ptr_nonnull(strstr(errs.messages[0], "line 2"));
	expect_one_error("[vkd]\nworkers = 2\n\nworkers = 3\n" APP_A, 4, "workers");
	expect_one_error("[vkd]\nuser =\nuser = root\n" APP_A, 3, "user");
	expect_one_error(APP_A "opt.x = 1\nopt.x = 2\n", 5, "opt.x");
}
END_TEST

START_TEST(test_listen_clash_apps)
{
	expect_one_error(APP_A "[app b]\nmodule = b.so\nlisten = 127.0.0.1:7000\n", 6,
			 "127.0.0.1:7000");
	ck_assert_ptr_nonnull(strstr(errs.messages[0], "[app a]"));
	/* Normalized before comparing. */
	expect_one_error(APP_A "[app b]\nmodule = b.so\nlisten = 127.0.0.1:07000\n", 6,
			 "127.0.0.1:7000");
	expect_one_error("[app a]\nmodule = a\nlisten = unix:/tmp/x.sock\n"
			 "[app b]\nmodule = b\nlisten = unix:/tmp//./x.sock\n",
			 6, "unix:/tmp/x.sock");
	expect_one_error("[app a]\nmodule = a\nlisten = [::1]:80\n"
			 "[app b]\nmodule = b\nlisten = [0:0::1]:080\n",
			 6, "[::1]:80");
	/* The wildcard address takes the port from every address. */
	expect_one_error(APP_A "[app b]\nmodule = b.so\nlisten = *:7000\n", 6, "*:7000");
	expect_one_error(APP_A "[app b]\nmodule = b.so\nlisten = 0.0.0.0:7000\n", 6, "*:7000");
	expect_one_error("[app a]\nmodule = a\nlisten = [::]:80\n"
			 "[app b]\nmodule = b\nlisten = [::1]:80\n",
			 6, "[::1]:80");
}
END_TEST

START_TEST(test_listen_twice_in_app)
{
	expect_one_error(APP_A "listen = 127.0.0.1:7000\n", 4, "127.0.0.1:7000");
}
END_TEST

START_TEST(test_listen_control_clash)
{
	expect_one_error("[vkd]\ncontrol = /tmp/v.sock\n"
			 "[app a]\nmodule = a\nlisten = unix:/tmp//v.sock\n",
			 5, "unix:/tmp/v.sock");
}
END_TEST

START_TEST(test_app_without_module)
{
	expect_one_error("[vkd]\n[app a]\nlisten = *:7\n", 2, "module");
}
END_TEST

START_TEST(test_app_without_listen)
{
	expect_one_error("[app a]\nmodule = a.so\n[vkd]\n", 1, "listen");
	/* An empty section is seen too, and both are missing. */
	expect_errors("[app a]\n", 2);
	assert_error_at(0, 1, "module");
	assert_error_at(1, 1, "listen");
}
END_TEST

START_TEST(test_no_apps)
{
	expect_one_error("[vkd]\nworkers = 2\n", 2, "app");
	expect_one_error("", 1, "app");
	expect_one_error("; only a comment\n\n\n", 3, "app");
}
END_TEST

START_TEST(test_missing_file)
{
	snprintf(path, sizeof(path), "/nonexistent/vkd-check/vkd.ini");
	cfg = vkd_config_load(path, &errs);
	ck_assert_ptr_null(cfg);
	ck_assert_int_eq(errno, ENOENT);
	ck_assert_uint_eq(errs.count, 1);
	ck_assert_msg(strncmp(errs.messages[0], "/nonexistent/vkd-check/vkd.ini: ", 32) == 0, "%s",
		      errs.messages[0]);
	ck_assert_ptr_nonnull(strstr(errs.messages[0], strerror(ENOENT)));
}
END_TEST

/* A directory opens but cannot be read; this works even as root. */
START_TEST(test_unreadable_dir)
{
	cfg = vkd_config_load("/tmp", &errs);
	ck_assert_ptr_null(cfg);
	ck_assert_int_eq(errno, EISDIR);
	ck_assert_uint_eq(errs.count, 1);
	ck_assert_msg(strncmp(errs.messages[0], "/tmp: ", 6) == 0, "%s", errs.messages[0]);
	ck_assert_ptr_nonnull(strstr(errs.messages[0], strerror(EISDIR)));
}
END_TEST

START_TEST(test_unreadable_mode)
{
	const char *text = APP_A;

	if (geteuid() == 0)
		return; /* root reads anything */
	write_temp(text, strlen(text));
	ck_assert_int_eq(chmod(path, 0), 0);
	cfg = vkd_config_load(path, &errs);
	load_errno = errno;
	unlink(path);
	ck_assert_ptr_null(cfg);
	ck_assert_int_eq(load_errno, EACCES);
	ck_assert_uint_eq(errs.count, 1);
	ck_assert_ptr_nonnull(strstr(errs.messages[0], strerror(EACCES)));
	ck_assert_ptr_nonnull(strstr(errs.messages[0], path));
}
END_TEST

START_TEST(test_null_errors)
{
	ck_assert_ptr_null(vkd_config_load("/nonexistent/vkd.ini", NULL));
	ck_assert_int_eq(errno, ENOENT);
	ck_assert_ptr_null(vkd_config_load_buffer("mem", "[vkd]\nbogus = 1\n", 16, NULL));
	ck_assert_int_eq(errno, EINVAL);
}
END_TEST

/* ---- syntax ---- */

START_TEST(test_syntax_errors)
{
	char text[512];

	expect_one_error(APP_A "this is not a key\n", 4, "this is not a key");
	expect_one_error(APP_A "[app b\n", 4, "']'");
	expect_one_error(APP_A "[vkd] junk\n", 4, "junk");
	expect_one_error(APP_A "= value\n", 4, "=");
	expect_one_error(APP_A "heap: 64k\n", 4, "heap: 64k");
	expect_one_error("[app]\n" APP_A, 1, "name");
	expect_one_error("[app a b]\n" APP_A, 1, "a b");
	expect_one_error(APP_A "opt. = 1\n", 4, "opt.");
	expect_one_error(APP_A "opt.a b = 1\n", 4, "opt.a b");

	/* inih reads lines of at most 199 characters: say so, do not split. */
	snprintf(text, sizeof(text), APP_A "opt.long = %0250d\nworkers = 1\n", 7);
	expect_errors(text, 2);
	assert_error_at(0, 4, "long");
	assert_error_at(1, 5, "workers"); /* and the line count stays right */
}
END_TEST

START_TEST(test_nul_byte)
{
	static const char text[] = APP_A "heap = 64k\0junk\nbacklog = x\n";

	cfg = vkd_config_load_buffer("mem.ini", text, sizeof(text) - 1, &errs);
	ck_assert_ptr_null(cfg);
	ck_assert_uint_eq(errs.count, 2);
	ck_assert_msg(strncmp(errs.messages[0], "mem.ini:4: ", 11) == 0, "%s", errs.messages[0]);
	ck_assert_msg(strncmp(errs.messages[1], "mem.ini:5: ", 11) == 0, "%s", errs.messages[1]);
}
END_TEST

START_TEST(test_load_buffer)
{
	static const char text[] = "[vkd]\nworkers = 2\n" APP_A;

	cfg = vkd_config_load_buffer("mem.ini", text, sizeof(text) - 1, &errs);
	ck_assert_ptr_nonnull(cfg);
	ck_assert_str_eq(cfg->path, "mem.ini");
	ck_assert_uint_eq(cfg->workers, 2);
	ck_assert_uint_eq(cfg->app_count, 1);
	vkd_config_free(cfg);
	cfg = vkd_config_load_buffer("empty.ini", "", 0, &errs);
	ck_assert_ptr_null(cfg);
	ck_assert_uint_eq(errs.count, 1);
	ck_assert_msg(strncmp(errs.messages[0], "empty.ini:1: ", 13) == 0, "%s", errs.messages[0]);
}
END_TEST

/* ---- all errors, and the cap ---- */

START_TEST(test_many_errors_in_order)
{
	expect_errors("[vkd]\n"
		      "workers = many\n"	   /* 2 */
		      "log_level = loud\n"	   /* 3 */
		      "[app a]\n"		   /* 4: no listen (reported at the next section) */
		      "module = a.so\n"		   /* 5 */
		      "heap = lots\n"		   /* 6 */
		      "[app b]\n"		   /* 7 */
		      "module = b.so\n"		   /* 8 */
		      "listen = 127.0.0.1:99999\n" /* 9 */
		      "isolation = maybe\n",	   /* 10 */
		      6);
	assert_error_at(0, 2, "many");
	assert_error_at(1, 3, "loud");
	assert_error_at(2, 6, "lots");
	assert_error_at(3, 4, "listen");
	assert_error_at(4, 9, "99999");
	assert_error_at(5, 10, "maybe");
	/* a bad listen line is reported once, not again as "no listen" */
	expect_errors("[vkd]\nworkers = many\n[app b]\nmodule = b.so\nlisten = 127.0.0.1:99999\n"
		      "isolation = maybe\n",
		      3);
	assert_error_at(2, 6, "maybe");
}
END_TEST

START_TEST(test_error_cap)
{
	char *text = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&text, &len);
	char *printed = NULL;
	size_t printed_len = 0;

	ck_assert_ptr_nonnull(out);
	fputs("[vkd]\n", out);
	for (int i = 0; i < 60; i++)
		fprintf(out, "bogus%d = 1\n", i);
	fclose(out);
	expect_errors(text, VKD_CONFIG_MAX_ERRORS);
	free(text);
	ck_assert_uint_eq(errs.dropped, 11); /* 60 keys and "no apps", 50 kept */
	assert_error_at(0, 2, "bogus0");
	assert_error_at(49, 51, "bogus49");

	out = open_memstream(&printed, &printed_len);
	vkd_config_errors_print(&errs, out);
	fclose(out);
	ck_assert_ptr_nonnull(strstr(printed, "bogus49"));
	ck_assert_ptr_nonnull(strstr(printed, "11 more errors not shown"));
	free(printed);
}
END_TEST

/* ---- bad values, one a row: (section, line, what the error must mention) ---- */

struct bad_value {
	int app; /* 0: [vkd], 1: [app a] */
	const char *line;
	const char *needle;
};

static const struct bad_value bad_values[] = {
    {0, "workers = many", "many"},
    {0, "workers = 0", "workers"},
    {0, "workers = 1025", "1025"},
    {0, "workers = -1", "-1"},
    {0, "workers = 2x", "2x"},
    {0, "workers =", "workers"},
    {0, "control = relative.sock", "relative.sock"},
    {0, "control = /", "control"},
    {0, "control =", "control"},
    {0, "control = @abstract", "@abstract"},
    {0,
     "control = "
     "/tmp/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
     "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.sock",
     "control"},
    {0, "control_mode = 0800", "0800"},
    {0, "control_mode = 1777", "1777"},
    {0, "control_mode = rw", "rw"},
    {0, "control_mode = -660", "-660"},
    {0, "control_group = no-such-group-vkd", "no-such-group-vkd"},
    {0, "user = no-such-user-vkd", "no-such-user-vkd"},
    {0, "user = 4000000000", "4000000000"},
    {0, "group = no-such-group-vkd", "no-such-group-vkd"},
    {0, "log_level = loud", "loud"},
    {0, "log_level =", "log_level"},
    {0, "drain_timeout = 5x", "5x"},
    {0, "drain_timeout = -1s", "-1s"},
    {0, "drain_timeout = 50d", "50d"},
    {0, "drain_timeout = 4294968s", "4294968s"},
    {0, "resolv_conf = /nonexistent/resolv.conf", "/nonexistent/resolv.conf"},
    {0, "hosts_file = /nonexistent/hosts", "/nonexistent/hosts"},
    {0, "resolve_timeout = 0", "resolve_timeout"},
    {0, "resolve_timeout = fast", "fast"},
    {1, "module =", "module"},
    {1, "listen = localhost:80", "localhost:80"},
    {1, "listen = 127.0.0.1", "127.0.0.1"},
    {1, "listen = 127.0.0.1:0", "127.0.0.1:0"},
    {1, "listen = unix:relative", "unix:relative"},
    {1, "listen =", "listen"},
    {1, "heap = 64q", "64q"},
    {1, "heap = -64k", "-64k"},
    {1, "heap = 2G", "2G"},
    {1, "heap = 1k", "1k"},
    {1, "heap =", "heap"},
    {1, "max_connections = 0", "max_connections"},
    {1, "max_connections = 1048577", "1048577"},
    {1, "max_connections = ten", "ten"},
    {1, "idle_timeout = soon", "soon"},
    {1, "idle_timeout = 1.5s", "1.5s"},
    {1, "isolation = maybe", "maybe"},
    {1, "isolation = 2", "isolation"},
    {1, "backlog = 0", "backlog"},
    {1, "backlog = 65536", "65536"},
    {1, "backlog = -1", "-1"},
    {1, "tcp_nodelay = fast", "fast"},
    {1, "ring = 1k", "1k"},
    {1, "ring = 2M", "2M"},
    {1, "ring = big", "big"},
    {1, "max_run = fast", "fast"},
    {1, "max_run = 1.5s", "1.5s"},
};

START_TEST(test_bad_value)
{
	const struct bad_value *b = &bad_values[_i];
	char text[512];

	if (b->app)
		snprintf(text, sizeof(text), APP_A "%s\n", b->line);
	else
		snprintf(text, sizeof(text), "[vkd]\n%s\n" APP_A, b->line);
	expect_one_error(text, b->app ? 4 : 2, b->needle);
}
END_TEST

/* ---- listen addresses (sizes and durations: tests/unit/check_vk_parse.c) ---- */

struct listen_case {
	const char *text;
	int family; /* 0: must fail */
	const char *normal;
	unsigned port;
};

static const struct listen_case listen_cases[] = {
    {"127.0.0.1:7007", AF_INET, "127.0.0.1:7007", 7007},
    {"127.0.0.1:0080", AF_INET, "127.0.0.1:80", 80},
    {"10.1.2.3:65535", AF_INET, "10.1.2.3:65535", 65535},
    {"*:7007", AF_INET, "*:7007", 7007},
    {"0.0.0.0:1", AF_INET, "*:1", 1},
    {"[::1]:7007", AF_INET6, "[::1]:7007", 7007},
    {"[0:0:0:0:0:0:0:1]:80", AF_INET6, "[::1]:80", 80},
    {"[::]:443", AF_INET6, "[::]:443", 443},
    {"[2001:DB8::0001]:8080", AF_INET6, "[2001:db8::1]:8080", 8080},
    {"[::ffff:127.0.0.1]:80", AF_INET6, "[::ffff:127.0.0.1]:80", 80},
    {"unix:/tmp/a.sock", AF_UNIX, "unix:/tmp/a.sock", 0},
    {"unix:/tmp//./a.sock", AF_UNIX, "unix:/tmp/a.sock", 0},
    {"unix:/run/../a.sock", AF_UNIX, "unix:/run/../a.sock", 0},
    {"", 0, NULL, 0},
    {"127.0.0.1", 0, NULL, 0},
    {"127.0.0.1:", 0, NULL, 0},
    {"127.0.0.1:0", 0, NULL, 0},
    {"127.0.0.1:65536", 0, NULL, 0},
    {"127.0.0.1:-1", 0, NULL, 0},
    {"127.0.0.1:+80", 0, NULL, 0},
    {"127.0.0.1:http", 0, NULL, 0},
    {"127.0.0.1:99999999999999999999999", 0, NULL, 0},
    {"localhost:80", 0, NULL, 0},
    {":80", 0, NULL, 0},
    {"::1:80", 0, NULL, 0},
    {"256.0.0.1:80", 0, NULL, 0},
    {"1.2.3:80", 0, NULL, 0},
    {"01.2.3.4:80", 0, NULL, 0},
    {"[::1]80", 0, NULL, 0},
    {"[::1:80", 0, NULL, 0},
    {"[::1]:", 0, NULL, 0},
    {"[fe80::1%eth0]:80", 0, NULL, 0},
    {"[nothex]:80", 0, NULL, 0},
    {"[127.0.0.1]:80", 0, NULL, 0},
    {"unix:", 0, NULL, 0},
    {"unix:relative.sock", 0, NULL, 0},
    {"unix:@abstract", 0, NULL, 0},
    {"unix:/", 0, NULL, 0},
    {"unix:/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
     "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
     0, NULL, 0},
};

START_TEST(test_parse_listen)
{
	const struct listen_case *c = &listen_cases[_i];
	struct vkd_listen in;
	const char *why = NULL;
	int rc = vkd_parse_listen(c->text, &in, &why);

	if (!c->family) {
		ck_assert_msg(rc == -1, "'%s' should be refused", c->text);
		ck_assert_int_eq(errno, EINVAL);
		ck_assert_ptr_nonnull(why);
		return;
	}
	ck_assert_msg(rc == 0, "'%s' refused: %s", c->text, why);
	ck_assert_int_eq(in.family, c->family);
	ck_assert_int_eq(in.addr.ss_family, c->family);
	ck_assert_str_eq(in.text, c->normal);
	if (c->family == AF_INET)
		ck_assert_uint_eq(ntohs(((struct sockaddr_in *)&in.addr)->sin_port), c->port);
	if (c->family == AF_INET6)
		ck_assert_uint_eq(ntohs(((struct sockaddr_in6 *)&in.addr)->sin6_port), c->port);
	if (c->family == AF_UNIX)
		ck_assert_str_eq(((struct sockaddr_un *)&in.addr)->sun_path, c->normal + 5);
}
END_TEST

/* The longest unix path that fits (107 bytes) is taken. */
START_TEST(test_listen_unix_longest)
{
	char text[200];
	struct vkd_listen in;
	size_t max = sizeof(((struct sockaddr_un *)0)->sun_path) - 1;

	strcpy(text, "unix:/");
	memset(text + 6, 'x', max - 1);
	text[6 + max - 1] = '\0';
	ck_assert_int_eq(vkd_parse_listen(text, &in, NULL), 0);
	ck_assert_uint_eq(strlen(((struct sockaddr_un *)&in.addr)->sun_path), max);
	strcat(text, "x");
	ck_assert_int_eq(vkd_parse_listen(text, &in, NULL), -1);
}
END_TEST

START_TEST(test_listen_conflict)
{
	static const struct {
		const char *a, *b;
		int clash;
	} cases[] = {
	    {"127.0.0.1:80", "127.0.0.1:080", 1}, {"127.0.0.1:80", "127.0.0.2:80", 0},
	    {"127.0.0.1:80", "127.0.0.1:81", 0},  {"*:80", "127.0.0.1:80", 1},
	    {"10.0.0.1:80", "0.0.0.0:80", 1},	  {"*:80", "[::]:80", 0},
	    {"[::]:80", "[::1]:80", 1},		  {"[::1]:80", "[::2]:80", 0},
	    {"unix:/a", "unix://a", 1},		  {"unix:/a", "unix:/b", 0},
	    {"[::1]:80", "[::1]:81", 0},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct vkd_listen a, b;

		ck_assert_int_eq(vkd_parse_listen(cases[i].a, &a, NULL), 0);
		ck_assert_int_eq(vkd_parse_listen(cases[i].b, &b, NULL), 0);
		ck_assert_msg(vkd_listen_conflict(&a, &b) == cases[i].clash, "%s vs %s", cases[i].a,
			      cases[i].b);
		ck_assert_int_eq(vkd_listen_conflict(&b, &a), cases[i].clash);
	}
}
END_TEST

#define N(a) ((int)(sizeof(a) / sizeof((a)[0])))

static Suite *config_suite(void)
{
	Suite *s = suite_create("config");
	TCase *load = tcase_create("load");
	TCase *errors = tcase_create("errors");
	TCase *parse = tcase_create("parse");

	tcase_add_checked_fixture(load, setup, teardown);
	tcase_add_test(load, test_full);
	tcase_add_test(load, test_resolver_keys);
	tcase_add_test(load, test_defaults);
	tcase_add_test(load, test_empty_optional);
	tcase_add_test(load, test_workers_auto);
	tcase_add_test(load, test_user_group);
	tcase_add_test(load, test_syntax_leniency);
	tcase_add_test(load, test_heap_rounding);
	tcase_add_test(load, test_ring);
	tcase_add_test(load, test_control_mode);
	tcase_add_test(load, test_bool_spellings);
	tcase_add_test(load, test_log_levels);
	tcase_add_test(load, test_listen_repeatable);
	tcase_add_test(load, test_routes);
	tcase_add_test(errors, test_routes_bad);
	tcase_add_test(load, test_module_dir_env);
	tcase_add_test(load, test_module_paths);
	tcase_add_test(load, test_load_buffer);
	tcase_add_test(load, test_bundled_config);
	suite_add_tcase(s, load);

	tcase_add_checked_fixture(errors, setup, teardown);
	tcase_add_test(errors, test_unknown_section);
	tcase_add_test(errors, test_unknown_key);
	tcase_add_test(errors, test_key_outside_section);
	tcase_add_test(errors, test_duplicate_app);
	tcase_add_test(errors, test_duplicate_section_vkd);
	tcase_add_test(errors, test_duplicate_key);
	tcase_add_test(errors, test_listen_clash_apps);
	tcase_add_test(errors, test_listen_twice_in_app);
	tcase_add_test(errors, test_listen_control_clash);
	tcase_add_test(errors, test_app_without_module);
	tcase_add_test(errors, test_app_without_listen);
	tcase_add_test(errors, test_no_apps);
	tcase_add_test(errors, test_missing_file);
	tcase_add_test(errors, test_unreadable_dir);
	tcase_add_test(errors, test_unreadable_mode);
	tcase_add_test(errors, test_null_errors);
	tcase_add_test(errors, test_syntax_errors);
	tcase_add_test(errors, test_nul_byte);
	tcase_add_test(errors, test_many_errors_in_order);
	tcase_add_test(errors, test_error_cap);
	tcase_add_loop_test(errors, test_bad_value, 0, N(bad_values));
	suite_add_tcase(s, errors);

	tcase_add_loop_test(parse, test_parse_listen, 0, N(listen_cases));
	tcase_add_test(parse, test_listen_unix_longest);
	tcase_add_test(parse, test_listen_conflict);
	suite_add_tcase(s, parse);
	return s;
}

int main(void)
{
	return check_run(config_suite());
}
