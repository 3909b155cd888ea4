/*
 * vk_parse: numbers, sizes and durations as vkd.ini and the apps' opt.*
 * values write them. Each table row is parsed alone; a failure must leave
 * the output untouched.
 */
#include <check.h>
#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdlib.h>

#include "check_run.h"
#include "vk_parse.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

struct uint_case {
	const char *text;
	uint64_t min, max;
	int err; /* 0, EINVAL or ERANGE */
	uint64_t value;
};

static const struct uint_case uint_cases[] = {
    {"0", 0, 10, 0, 0},
    {"10", 0, 10, 0, 10},
    {"1", 1, 65535, 0, 1},
    {"65535", 1, 65535, 0, 65535},
    {"0042", 0, 100, 0, 42},
    {"18446744073709551615", 0, UINT64_MAX, 0, UINT64_MAX},
    {"0", 1, 65535, ERANGE, 0},
    {"65536", 1, 65535, ERANGE, 0},
    {"18446744073709551616", 0, UINT64_MAX, ERANGE, 0},
    {"", 0, 10, EINVAL, 0},
    {"-1", 0, 10, EINVAL, 0},
    {"+1", 0, 10, EINVAL, 0},
    {" 1", 0, 10, EINVAL, 0},
    {"1 ", 0, 10, EINVAL, 0},
    {"0x1", 0, 10, EINVAL, 0},
    {"1k", 0, 10000, EINVAL, 0},
    {"99999999999999999999999x", 0, UINT64_MAX, EINVAL, 0},
};

START_TEST(test_parse_uint)
{
	const struct uint_case *c = &uint_cases[_i];
	uint64_t out = 12345;
	int rc;

	rc = vk_parse_uint(c->text, c->min, c->max, &out);
	if (c->err) {
		ck_assert_msg(rc == -c->err, "'%s': rc %d, want -%d", c->text, rc, c->err);
		ck_assert_uint_eq(out, 12345);
		return;
	}
	ck_assert_msg(rc == 0, "'%s' should parse", c->text);
	ck_assert_uint_eq(out, c->value);
}
END_TEST

struct size_case {
	const char *text;
	int err; /* 0, EINVAL or ERANGE */
	size_t value;
};

static const struct size_case size_cases[] = {
    {"0", 0, 0},
    {"1", 0, 1},
    {"512", 0, 512},
    {"007", 0, 7},
    {"1k", 0, 1024},
    {"1K", 0, 1024},
    {"64k", 0, 65536},
    {"1m", 0, 1048576},
    {"3M", 0, 3145728},
    {"1g", 0, 1073741824},
    {"2G", 0, (size_t)2 << 30},
    {"18446744073709551615", 0, SIZE_MAX},
    {"17179869183G", 0, (size_t)17179869183 << 30},
    {"", EINVAL, 0},
    {"-1", EINVAL, 0},
    {"+1", EINVAL, 0},
    {" 1", EINVAL, 0},
    {"1 ", EINVAL, 0},
    {"1 k", EINVAL, 0},
    {"1kb", EINVAL, 0},
    {"1KiB", EINVAL, 0},
    {"1.5k", EINVAL, 0},
    {"k", EINVAL, 0},
    {"0x10", EINVAL, 0},
    {"1T", EINVAL, 0},
    {"abc", EINVAL, 0},
    {"99999999999999999999999x", EINVAL, 0},
    {"18446744073709551616", ERANGE, 0},
    {"99999999999999999999999", ERANGE, 0},
    {"17179869184G", ERANGE, 0},
    {"18014398509481984k", ERANGE, 0},
    {"17592186044416M", ERANGE, 0},
};

START_TEST(test_parse_size)
{
	const struct size_case *c = &size_cases[_i];
	size_t out = 12345;
	int rc;

	rc = vk_parse_size(c->text, &out);
	if (c->err) {
		ck_assert_msg(rc == -c->err, "'%s': rc %d, want -%d", c->text, rc, c->err);
		ck_assert_uint_eq(out, 12345); /* untouched */
		return;
	}
	ck_assert_msg(rc == 0, "'%s' should parse", c->text);
	ck_assert_uint_eq(out, c->value);
}
END_TEST

struct duration_case {
	const char *text;
	int err;
	unsigned ms;
};

static const struct duration_case duration_cases[] = {
    {"0", 0, 0},
    {"30", 0, 30000},
    {"30s", 0, 30000},
    {"250ms", 0, 250},
    {"0ms", 0, 0},
    {"2m", 0, 120000},
    {"1h", 0, 3600000},
    {"1193h", 0, 4294800000u},
    {"4294967295ms", 0, UINT_MAX},
    {"4294967s", 0, 4294967000u},
    {"", EINVAL, 0},
    {"-1", EINVAL, 0},
    {"+1s", EINVAL, 0},
    {"1d", EINVAL, 0},
    {"1S", EINVAL, 0},
    {"1H", EINVAL, 0},
    {"1 s", EINVAL, 0},
    {"s", EINVAL, 0},
    {"ms", EINVAL, 0},
    {"1.5s", EINVAL, 0},
    {"1mss", EINVAL, 0},
    {"1sec", EINVAL, 0},
    {"1us", EINVAL, 0},
    {"4294967296ms", ERANGE, 0},
    {"4294968s", ERANGE, 0},
    {"1194h", ERANGE, 0},
    {"71583m", ERANGE, 0},
    {"99999999999999999999999", ERANGE, 0},
    {"99999999999999999999999ms", ERANGE, 0},
};

START_TEST(test_parse_duration)
{
	const struct duration_case *c = &duration_cases[_i];
	unsigned out = 12345;
	int rc;

	rc = vk_parse_duration_ms(c->text, &out);
	if (c->err) {
		ck_assert_msg(rc == -c->err, "'%s': rc %d, want -%d", c->text, rc, c->err);
		ck_assert_uint_eq(out, 12345);
		return;
	}
	ck_assert_msg(rc == 0, "'%s' should parse", c->text);
	ck_assert_uint_eq(out, c->ms);
}
END_TEST

struct bool_case {
	const char *text;
	int err;
	int value;
};

static const struct bool_case bool_cases[] = {
    {"on", 0, 1},	{"yes", 0, 1},	   {"true", 0, 1},     {"1", 0, 1},
    {"On", 0, 1},	{"YES", 0, 1},	   {"True", 0, 1},     {"off", 0, 0},
    {"no", 0, 0},	{"false", 0, 0},   {"0", 0, 0},	       {"OFF", 0, 0},
    {"No", 0, 0},	{"FALSE", 0, 0},   {"", EINVAL, 0},    {"maybe", EINVAL, 0},
    {"onn", EINVAL, 0}, {"o", EINVAL, 0},  {" on", EINVAL, 0}, {"on ", EINVAL, 0},
    {"2", EINVAL, 0},	{"01", EINVAL, 0}, {"y", EINVAL, 0},   {"enabled", EINVAL, 0},
};

START_TEST(test_parse_bool)
{
	const struct bool_case *c = &bool_cases[_i];
	int out = 7;
	int rc;

	rc = vk_parse_bool(c->text, &out);
	if (c->err) {
		ck_assert_msg(rc == -c->err, "'%s': rc %d, want -%d", c->text, rc, c->err);
		ck_assert_int_eq(out, 7);
		return;
	}
	ck_assert_msg(rc == 0, "'%s' should parse", c->text);
	ck_assert_int_eq(out, c->value);
}
END_TEST

static Suite *parse_suite(void)
{
	Suite *s = suite_create("vk_parse");
	TCase *tc = tcase_create("values");

	tcase_add_loop_test(tc, test_parse_uint, 0, N(uint_cases));
	tcase_add_loop_test(tc, test_parse_size, 0, N(size_cases));
	tcase_add_loop_test(tc, test_parse_duration, 0, N(duration_cases));
	tcase_add_loop_test(tc, test_parse_bool, 0, N(bool_cases));
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return check_run(parse_suite());
}
