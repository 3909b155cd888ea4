/*
 * vk_inplace: a child called in place runs at once and, when it does not
 * block, costs no allocation; one that blocks, yields or raises behaves as
 * under vk_call(), except that its error is handed over, not raised.
 */
#include "vk_check.h"
#include "vk_inplace.h"

#define HEAP (64 * 1024)

static int g_errors[8];
static size_t g_left[3];

/* Traces "C<arg>" and ends at once, with error arg when arg >= 10. */
static void quick(struct vk_thread *that)
{
	struct {
		int unused;
	} * self;

	vk_begin();
	vkt_tracef("C%d", (int)(intptr_t)vk_arg());
	if ((intptr_t)vk_arg() >= 10)
		vk_raise((int)(intptr_t)vk_arg());
	vk_end();
}

/* Sleeps, yields, then ends with error arg (0 if none). */
static void slow(struct vk_thread *that)
{
	struct {
		int unused;
	} * self;

	vk_begin();
	vkt_trace("S:sleep");
	vk_sleep(5);
	vkt_trace("S:yield");
	vk_yield();
	vkt_trace("S:end");
	if (vk_arg())
		vk_raise((int)(intptr_t)vk_arg());
	vk_end();
}

static void yielder(struct vk_thread *that)
{
	struct {
		int unused;
	} * self;

	vk_begin();
	vkt_trace("Y:yield");
	vk_yield();
	vkt_trace("Y:end");
	vk_end();
}

static void main_mixed(struct vk_thread *that)
{
	struct {
		struct vk_inplace c;
		int error;
		int i;
	} * self;

	vk_begin();
	if (vk_inplace_init(that, &self->c, 64) < 0)
		vk_raise(ENOMEM);
	vk_inplace_call(&self->c, quick, (void *)1, self->error);
	vkt_trace("M:1");
	g_errors[0] = self->error;
	vk_inplace_call(&self->c, quick, (void *)EPROTO, self->error);
	vkt_trace("M:2");
	g_errors[1] = self->error;
	vk_inplace_call(&self->c, slow, NULL, self->error);
	vkt_trace("M:3");
	g_errors[2] = self->error;
	vk_inplace_call(&self->c, slow, (void *)EIO, self->error);
	vkt_trace("M:4");
	g_errors[3] = self->error;
	vk_inplace_call(&self->c, yielder, NULL, self->error);
	vkt_trace("M:5");
	g_errors[4] = self->error;
	/*
	 * The child that blocked went with its task: the next call makes one,
	 * and calls that do not block take nothing more from the heap.
	 */
	vk_inplace_call(&self->c, quick, (void *)2, self->error);
	g_left[0] = vk_heap_left();
	for (self->i = 1; self->i < 1000; self->i++) {
		vk_inplace_call(&self->c, quick, (void *)2, self->error);
		if (self->error)
			break;
	}
	g_left[1] = vk_heap_left();
	g_errors[5] = self->error;
	vk_end();
}

START_TEST(test_inplace_mixed)
{
	struct vk_stats stats;
	char expected[8192];
	size_t n;

	vkt_trace_reset();
	memset(g_errors, -1, sizeof(g_errors));
	stats = vkt_run(main_mixed, NULL, HEAP, 1);
	vkt_assert_clean(stats);
	n = (size_t)snprintf(expected, sizeof(expected),
			     "C1 M:1 C%d M:2 S:sleep S:yield S:end M:3 S:sleep S:yield S:end M:4 "
			     "Y:yield Y:end M:5",
			     EPROTO);
	for (int i = 0; i < 1000; i++)
		n += (size_t)snprintf(expected + n, sizeof(expected) - n, " C2");
	/* The trace buffer keeps its first 4 KiB. */
	expected[VKT_TRACE_MAX - 1] = '\0';
	vkt_trace_is(expected);
	ck_assert_int_eq(g_errors[0], 0);
	ck_assert_int_eq(g_errors[1], EPROTO);
	ck_assert_int_eq(g_errors[2], 0);
	ck_assert_int_eq(g_errors[3], EIO);
	ck_assert_int_eq(g_errors[4], 0);
	ck_assert_int_eq(g_errors[5], 0);
	ck_assert_uint_eq(g_left[0], g_left[1]);
}
END_TEST

/* A state larger than the frame goes on the heap; a small one does not. */
static void big(struct vk_thread *that)
{
	struct {
		char bytes[200];
	} * self;

	vk_begin();
	g_left[(intptr_t)vk_arg()] = vk_heap_left();
	memset(self->bytes, 0x5a, sizeof(self->bytes));
	vk_yield();
	vkt_tracef("B%d", self->bytes[199] == 0x5a);
	vk_end();
}

static void small(struct vk_thread *that)
{
	struct {
		char bytes[64];
	} * self;

	vk_begin();
	g_left[(intptr_t)vk_arg()] = vk_heap_left();
	memset(self->bytes, 0x5a, sizeof(self->bytes));
	vk_sleep(1);
	vkt_tracef("S%d", self->bytes[63] == 0x5a);
	vk_end();
}

static void main_frames(struct vk_thread *that)
{
	struct {
		struct vk_inplace c;
		int error;
	} * self;

	vk_begin();
	if (vk_inplace_init(that, &self->c, 64) < 0)
		vk_raise(ENOMEM);
	g_left[0] = vk_heap_left();
	vk_inplace_call(&self->c, small, (void *)1, self->error);
	vk_inplace_call(&self->c, big, (void *)2, self->error);
	vk_finally();
	g_errors[0] = vk_error();
	vk_end();
}

START_TEST(test_inplace_frames)
{
	struct vk_stats stats;

	vkt_trace_reset();
	memset(g_left, 0, sizeof(g_left));
	stats = vkt_run(main_frames, NULL, HEAP, 1);
	vkt_assert_clean(stats);
	vkt_trace_is("S1 B1");
	ck_assert_int_eq(g_errors[0], 0);
	/* 64 bytes fit the frame: nothing from the heap, even across a sleep. */
	ck_assert_uint_eq(g_left[1], g_left[0]);
	/* The task went with the sleeping child; the next call made a framed one and the 200 bytes
	 * went on the heap. */
	ck_assert_uint_lt(g_left[2], g_left[0]);
}
END_TEST

/* The caller's error handling is its own: a child's error is not raised. */
static void main_raise(struct vk_thread *that)
{
	struct {
		struct vk_inplace c;
		int error;
	} * self;

	vk_begin();
	vk_inplace_call(&self->c, slow, (void *)ENOENT, self->error);
	vkt_tracef("M:%d", self->error == ENOENT);
	vk_finally();
	g_errors[0] = vk_error();
	vk_end();
}

START_TEST(test_inplace_error_not_raised)
{
	struct vk_stats stats;

	vkt_trace_reset();
	stats = vkt_run(main_raise, NULL, HEAP, 1);
	vkt_assert_clean(stats);
	vkt_trace_is("S:sleep S:yield S:end M:1");
	ck_assert_int_eq(g_errors[0], 0);
}
END_TEST

static Suite *inplace_suite(void)
{
	Suite *s = suite_create("vk_inplace");
	TCase *tc = tcase_create("inplace");

	tcase_add_test(tc, test_inplace_mixed);
	tcase_add_test(tc, test_inplace_error_not_raised);
	tcase_add_test(tc, test_inplace_frames);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return check_run(inplace_suite());
}
