/*
 * vk_addr: the addresses vkd listens on and apps connect to, as vkd.ini
 * writes them. Listening forms (and their refusals) are also checked
 * through vkd_parse_listen() in check_config; these rows are about what
 * connecting adds: host names, and no "any" address.
 */
#include <arpa/inet.h>
#include <check.h>
#include <errno.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/un.h>

#include "check_run.h"
#include "vk_addr.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

struct addr_case {
	const char *text;
	int flags;
	int family; /* NO: refused */
	const char *normal;
	unsigned port;
};

#define NAME VK_ADDR_NAME
#define ANY VK_ADDR_ANY
#define NO (-1)

static const struct addr_case cases[] = {
    {"127.0.0.1:80", NAME, AF_INET, "127.0.0.1:80", 80},
    {"127.0.0.1:080", 0, AF_INET, "127.0.0.1:80", 80},
    {"[::1]:6379", NAME, AF_INET6, "[::1]:6379", 6379},
    {"[0:0::1]:1", NAME, AF_INET6, "[::1]:1", 1},
    {"unix:/run//x.sock", NAME, AF_UNIX, "unix:/run/x.sock", 0},
    {"localhost:80", NAME, AF_UNSPEC, "localhost:80", 80},
    {"DB.Example.COM:5432", NAME, AF_UNSPEC, "db.example.com:5432", 5432},
    {"_srv.x-y.example.:53", NAME, AF_UNSPEC, "_srv.x-y.example.:53", 53},
    {"a1:65535", NAME, AF_UNSPEC, "a1:65535", 65535},
    {"*:80", ANY, AF_INET, "*:80", 80},
    {"0.0.0.0:80", ANY, AF_INET, "*:80", 80},
    {"[::]:80", ANY, AF_INET6, "[::]:80", 80},
    /* Connecting names one address: "any" is for listening only. */
    {"*:80", NAME, NO, NULL, 0},
    {"0.0.0.0:80", NAME, NO, NULL, 0},
    {"[::]:80", NAME, NO, NULL, 0},
    /* Names only when asked for. */
    {"localhost:80", ANY, NO, NULL, 0},
    /* Malformed names and numbers that look like IPv4 addresses. */
    {"1.2.3:80", NAME, NO, NULL, 0},
    {"01.2.3.4:80", NAME, NO, NULL, 0},
    {"256.0.0.1:80", NAME, NO, NULL, 0},
    {"-a.example:80", NAME, NO, NULL, 0},
    {"a-.example:80", NAME, NO, NULL, 0},
    {"a..example:80", NAME, NO, NULL, 0},
    {".example:80", NAME, NO, NULL, 0},
    {"a b:80", NAME, NO, NULL, 0},
    {"a/b:80", NAME, NO, NULL, 0},
    {"xn--caf-dma.example:80", NAME, AF_UNSPEC, "xn--caf-dma.example:80", 80},
    {"localhost:0", NAME, NO, NULL, 0},
    {"localhost:", NAME, NO, NULL, 0},
    {"localhost", NAME, NO, NULL, 0},
    {"::1:80", NAME, NO, NULL, 0},
    {"", NAME, NO, NULL, 0},
    {"unix:relative", NAME, NO, NULL, 0},
};

START_TEST(test_addr_parse)
{
	const struct addr_case *c = &cases[_i];
	struct vk_addr addr;
	const char *why = NULL;
	int rc = vk_addr_parse(c->text, c->flags, &addr, &why);

	if (c->family == NO) {
		ck_assert_msg(rc == -EINVAL, "'%s' should be refused, rc %d", c->text, rc);
		ck_assert_ptr_nonnull(why);
		return;
	}
	ck_assert_msg(rc == 0, "'%s' refused: %s", c->text, why);
	ck_assert_int_eq(addr.family, c->family);
	ck_assert_str_eq(addr.text, c->normal);
	ck_assert_uint_eq(addr.port, c->port);
	if (c->family == AF_UNSPEC) {
		ck_assert_uint_eq(addr.addrlen, 0);
		ck_assert_uint_eq(strlen(addr.name),
				  strlen(c->normal) - strlen(strrchr(c->normal, ':')));
		return;
	}
	ck_assert_int_eq(addr.addr.ss_family, c->family);
	if (c->family == AF_INET)
		ck_assert_uint_eq(ntohs(((struct sockaddr_in *)&addr.addr)->sin_port), c->port);
	if (c->family == AF_INET6)
		ck_assert_uint_eq(ntohs(((struct sockaddr_in6 *)&addr.addr)->sin6_port), c->port);
	if (c->family == AF_UNIX)
		ck_assert_str_eq(((struct sockaddr_un *)&addr.addr)->sun_path, c->normal + 5);
}
END_TEST

/* The longest name (253 characters, labels of 63) is taken; one more is not. */
START_TEST(test_addr_name_lengths)
{
	char text[300];
	struct vk_addr addr;
	size_t n = 0;

	for (int label = 0; label < 4; label++) {
		size_t len = label < 3 ? 63 : 61;

		memset(text + n, 'a' + label, len);
		n += len;
		if (label < 3)
			text[n++] = '.';
	}
	ck_assert_uint_eq(n, 253);
	strcpy(text + n, ":1");
	ck_assert_int_eq(vk_addr_parse(text, VK_ADDR_NAME, &addr, NULL), 0);
	ck_assert_uint_eq(strlen(addr.name), 253);
	memmove(text + 1, text, n + 3);
	text[0] = 'z';
	ck_assert_int_eq(vk_addr_parse(text, VK_ADDR_NAME, &addr, NULL), -EINVAL);
	memset(text, 'a', 64);
	strcpy(text + 64, ".b:1");
	ck_assert_int_eq(vk_addr_parse(text, VK_ADDR_NAME, &addr, NULL), -EINVAL);
}
END_TEST

static Suite *addr_suite(void)
{
	Suite *s = suite_create("vk_addr");
	TCase *tc = tcase_create("parse");

	tcase_add_loop_test(tc, test_addr_parse, 0, N(cases));
	tcase_add_test(tc, test_addr_name_lengths);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return check_run(addr_suite());
}
