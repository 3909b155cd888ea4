/*
 * vk_pool and vk_heap_clean(): a heap passes from one micro-process to the
 * next with no byte of the first readable by the second, zeroed in place
 * (its pages stay resident: no madvise, no fault for the next user) when
 * the first wrote little, given back to the kernel when it wrote much or
 * faulted.
 */
#include "vk_check.h"

#include <errno.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include "vk_pool.h"

#define HEAP (64 * 1024)
#define SECRET "s3cr3t-b1ts"

/* Pages of the heap resident now (mincore). */
static uint64_t resident_mask(const struct vk_heap *heap)
{
	size_t page = vk_page_size();
	size_t pages = heap->size / page;
	unsigned char vec[64];
	uint64_t mask = 0;

	ck_assert_uint_le(pages, 64);
	ck_assert_int_eq(mincore(heap->base, heap->size, vec), 0);
	for (size_t i = 0; i < pages; i++) {
		if (vec[i] & 1)
			mask |= 1ull << i;
	}
	return mask;
}

static void assert_zero(const struct vk_heap *heap)
{
	for (size_t i = 0; i < heap->size; i++) {
		if (heap->base[i])
			ck_abort_msg("byte %zu of the heap is %#x after cleaning", i,
				     (unsigned char)heap->base[i]);
	}
}

/*
 * A connection's layout: a lazy send ring reserved first, written a
 * little from its origin; plain allocations after it; a lazy receive ring
 * written a little from its start. Only those pages are touched, zeroed
 * in place, and stay resident; the untouched ring pages stay untouched.
 */
START_TEST(test_clean_in_place)
{
	struct vk_heap heap;
	size_t page = vk_page_size();
	struct vk_heap_span *tx, *rx; /* in the state, as a socket keeps them */
	char *tx_buf, *state, *rx_buf;

	ck_assert_int_eq(vk_heap_map(&heap, HEAP, 1), 0);
	tx_buf = vk_heap_reserve(&heap, 3 * page + 1024);
	ck_assert_ptr_nonnull(tx_buf);
	state = vk_heap_alloc(&heap, 1000);
	tx = (struct vk_heap_span *)state;
	rx = tx + 1;
	*tx = (struct vk_heap_span){3 * page, 0};
	*rx = (struct vk_heap_span){0, 0};
	ck_assert_int_eq(vk_heap_set_lazy(&heap, tx_buf, 3 * page + 1024, tx), 0);
	rx_buf = vk_heap_alloc(&heap, 4 * page);
	ck_assert_int_eq(vk_heap_set_lazy(&heap, rx_buf, 4 * page, rx), 0);
	memset(tx_buf + 3 * page, 0xa5, 200);
	tx->reach = 200;
	memset(state + 2 * sizeof(*tx), 0xa5, 1000 - 2 * sizeof(*tx));
	memset(rx_buf, 0xa5, 100);
	rx->reach = 100;
	/* Everything touched is in one page: the send ring's tail and what follows. */
	ck_assert_uint_eq(resident_mask(&heap), 1ull << 3);

	vk_heap_clean(&heap);
	ck_assert_uint_eq(resident_mask(&heap), 1ull << 3);
	ck_assert_uint_eq(heap.kept, 1ull << 3);
	assert_zero(&heap);
	vk_heap_unmap(&heap);
}
END_TEST

/* A ring that wrapped: both pieces of its span are zeroed. */
START_TEST(test_clean_wrapped_span)
{
	struct vk_heap heap;
	size_t page = vk_page_size();
	struct vk_heap_span *span;
	char *buf;

	ck_assert_int_eq(vk_heap_map(&heap, HEAP, 1), 0);
	buf = vk_heap_reserve(&heap, 2 * page);
	/* The span in the ring's own first bytes, which it says were written. */
	span = (struct vk_heap_span *)buf;
	*span = (struct vk_heap_span){page + 100, 0};
	ck_assert_int_eq(vk_heap_set_lazy(&heap, buf, 2 * page, span), 0);
	memset(buf + page + 100, 0xa5, page - 100);
	memset(buf + sizeof(*span), 0xa5, 50 - sizeof(*span));
	span->reach = page - 100 + 50;
	vk_heap_clean(&heap);
	ck_assert_uint_eq(heap.kept, 3);
	assert_zero(&heap);
	vk_heap_unmap(&heap);
}
END_TEST

/*
 * More than VK_HEAP_KEEP_PAGES written, by one user or by several in
 * turn: every page goes back to the kernel, so a pooled heap pins little.
 */
START_TEST(test_clean_trims_past_keep)
{
	struct vk_heap heap;
	size_t page = vk_page_size();
	char *buf;

	ck_assert_int_eq(vk_heap_map(&heap, HEAP, 1), 0);
	buf = vk_heap_alloc(&heap, 5 * page);
	memset(buf, 0xa5, 5 * page);
	vk_heap_clean(&heap);
	ck_assert_uint_eq(resident_mask(&heap), 0);
	ck_assert_uint_eq(heap.kept, 0);

	/*
	 * Users that each wrote in one page, a different one (an untouched lazy
	 * block before it): their pages are kept up to the limit.
	 */
	for (int user = 1; user <= VK_HEAP_KEEP_PAGES + 1; user++) {
		struct vk_heap_span *none;
		char *ring;

		vk_heap_reset(&heap);
		ring = vk_heap_reserve(&heap, (size_t)user * page);
		buf = vk_heap_alloc(&heap, 100);
		none = (struct vk_heap_span *)buf;
		*none = (struct vk_heap_span){0, 0};
		ck_assert_int_eq(vk_heap_set_lazy(&heap, ring, (size_t)user * page, none), 0);
		memset(buf + sizeof(*none), 0xa5, 100 - sizeof(*none));
		vk_heap_clean(&heap);
		if (user <= VK_HEAP_KEEP_PAGES)
			ck_assert_int_eq(__builtin_popcountll(resident_mask(&heap)), user);
	}
	ck_assert_uint_eq(resident_mask(&heap), 0);
	ck_assert_uint_eq(heap.kept, 0);
	assert_zero(&heap);
	vk_heap_unmap(&heap);
}
END_TEST

/* A span that does not fit its block is not believed: the block is zeroed whole. */
START_TEST(test_clean_bad_span)
{
	struct vk_heap heap;
	size_t page = vk_page_size();
	struct vk_heap_span *span;
	char *buf;

	ck_assert_int_eq(vk_heap_map(&heap, HEAP, 1), 0);
	buf = vk_heap_alloc(&heap, page);
	span = vk_heap_alloc(&heap, sizeof(*span));
	*span = (struct vk_heap_span){0, 0};
	ck_assert_int_eq(vk_heap_set_lazy(&heap, buf, page, span), 0);
	/* A span outside the heap is refused. */
	ck_assert_int_eq(vk_heap_set_lazy(&heap, buf, page, &(struct vk_heap_span){0, 0}), -EINVAL);
	memset(buf, 0xa5, page);
	span->reach = 2 * page;
	vk_heap_clean(&heap);
	assert_zero(&heap);
	vk_heap_unmap(&heap);
}
END_TEST

/* ---- how many heaps the pool keeps ---- */

#define BURST (VK_POOL_KEEP + 100)

/* `count` heaps taken at once, then all given back. */
static void take_and_give_back(struct vk_pool *pool, struct vk_heap *heaps, int count)
{
	for (int i = 0; i < count; i++)
		ck_assert_int_eq(vk_pool_acquire(pool, &heaps[i], HEAP, 0, 0), 0);
	for (int i = 0; i < count; i++)
		vk_pool_release(pool, &heaps[i], VK_POOL_CLEAN, 0);
}

/*
 * A burst of connections comes back in bursts: every heap of one is kept
 * (a pool of 256 mapped the rest again, each time), then given back
 * slowly once nobody takes them.
 */
START_TEST(test_pool_keeps_a_burst)
{
	static struct vk_heap heaps[BURST];
	struct vk_stats stats = {0};
	struct vk_pool pool;

	vk_pool_init(&pool, &stats);
	take_and_give_back(&pool, heaps, BURST);
	ck_assert_uint_eq(pool.free_count, BURST);
	ck_assert_uint_eq(pool.mapped, BURST);
	/* The next burst maps nothing. */
	for (int i = 0; i < BURST; i++)
		ck_assert_int_eq(vk_pool_acquire(&pool, &heaps[i], HEAP, 0, 0), 0);
	ck_assert_uint_eq(pool.mapped, BURST);
	for (int i = 0; i < BURST; i++)
		vk_pool_release(&pool, &heaps[i], VK_POOL_CLEAN, 0);

	/* A burst drew on the pool: nothing is unmapped for VK_POOL_HOLD calls. */
	for (int i = 0; i < VK_POOL_HOLD; i++)
		ck_assert_uint_eq(vk_pool_shrink(&pool), 100);
	ck_assert_uint_eq(pool.mapped, BURST);
	/*
	 * Ten taken and given back: 90 stayed unused, of which a step goes
	 * (36 left over VK_POOL_KEEP), then the rest.
	 */
	take_and_give_back(&pool, heaps, 10);
	ck_assert_uint_eq(vk_pool_shrink(&pool), 100 - VK_POOL_SHRINK_STEP);
	ck_assert_uint_eq(vk_pool_shrink(&pool), 0);
	ck_assert_uint_eq(pool.free_count, VK_POOL_KEEP);
	ck_assert_uint_eq(pool.mapped, VK_POOL_KEEP);
	ck_assert_uint_eq(vk_pool_shrink(&pool), 0);
	ck_assert_uint_eq(pool.mapped, VK_POOL_KEEP);
	vk_pool_destroy(&pool);
	ck_assert_uint_eq(pool.mapped, 0);
}
END_TEST

/*
 * The next burst comes within the hold (bursts of connections recur: the
 * heaps of a 10,000-connection burst unmapped at 64 a second were mapped
 * again, 2,560 of them 40 s later): each renews it. Fewer than
 * VK_POOL_KEEP taken at once do not.
 */
START_TEST(test_pool_hold_renewed_by_a_burst)
{
	static struct vk_heap heaps[BURST];
	struct vk_stats stats = {0};
	struct vk_pool pool;

	vk_pool_init(&pool, &stats);
	take_and_give_back(&pool, heaps, BURST);
	for (int i = 0; i < VK_POOL_HOLD - 1; i++)
		vk_pool_shrink(&pool);
	/* A burst from the pool, no heap mapped: the hold starts again. */
	take_and_give_back(&pool, heaps, BURST);
	for (int i = 0; i < VK_POOL_HOLD; i++) {
		/* A few taken and given back between calls do not renew it. */
		take_and_give_back(&pool, heaps, 10);
		ck_assert_uint_eq(vk_pool_shrink(&pool), 100);
	}
	ck_assert_uint_eq(pool.mapped, BURST);
	/* Then the heaps nobody took go, a step a call. */
	ck_assert_uint_eq(vk_pool_shrink(&pool), 100 - VK_POOL_SHRINK_STEP);
	ck_assert_uint_eq(vk_pool_shrink(&pool), 0);
	ck_assert_uint_eq(pool.mapped, VK_POOL_KEEP);
	vk_pool_destroy(&pool);
}
END_TEST

/*
 * A hold ends when the pool is back to VK_POOL_KEEP and its timer stops
 * (vk_pool_shrink() returns 0): heaps pooled again later, with no burst
 * since, go at the usual pace, not after the old hold's leftover.
 */
START_TEST(test_pool_hold_ends_with_the_timer)
{
	static struct vk_heap heaps[BURST];
	struct vk_stats stats = {0};
	struct vk_pool pool;

	vk_pool_init(&pool, &stats);
	take_and_give_back(&pool, heaps, BURST);
	ck_assert_uint_eq(vk_pool_shrink(&pool), 100);
	/* 100 in use, VK_POOL_KEEP pooled: the timer stops. */
	for (int i = 0; i < 100; i++)
		ck_assert_int_eq(vk_pool_acquire(&pool, &heaps[i], HEAP, 0, 0), 0);
	ck_assert_uint_eq(vk_pool_shrink(&pool), 0);
	for (int i = 0; i < 100; i++)
		vk_pool_release(&pool, &heaps[i], VK_POOL_CLEAN, 0);
	/* Started again: the 100 were in use at the last call, then a step goes. */
	ck_assert_uint_eq(vk_pool_shrink(&pool), 100);
	ck_assert_uint_eq(vk_pool_shrink(&pool), 100 - VK_POOL_SHRINK_STEP);
	vk_pool_destroy(&pool);
}
END_TEST

/* At the heap limit, heaps pooled for one size make room for another size. */
START_TEST(test_pool_limit_other_size)
{
	struct vk_heap heaps[4], other;
	struct vk_stats stats = {0};
	struct vk_pool pool;

	vk_pool_init(&pool, &stats);
	pool.limit = 4;
	for (int i = 0; i < 4; i++)
		ck_assert_int_eq(vk_pool_acquire(&pool, &heaps[i], HEAP, 0, 0), 0);
	ck_assert_int_eq(vk_pool_acquire(&pool, &other, 2 * HEAP, 0, 0), -ENOMEM);
	for (int i = 0; i < 4; i++)
		vk_pool_release(&pool, &heaps[i], VK_POOL_CLEAN, 0);
	ck_assert_int_eq(vk_pool_acquire(&pool, &other, 2 * HEAP, 0, 0), 0);
	ck_assert_uint_eq(other.size, 2 * HEAP);
	ck_assert_uint_eq(pool.mapped, 4);
	ck_assert_uint_eq(pool.free_count, 3);
	vk_pool_release(&pool, &other, VK_POOL_CLEAN, 0);
	ck_assert_int_eq(vk_pool_acquire(&pool, &other, 2 * HEAP, 0, 0), 0);
	ck_assert_uint_eq(pool.mapped, 4);
	vk_pool_release(&pool, &other, VK_POOL_CLEAN, 0);
	vk_pool_destroy(&pool);
}
END_TEST

/*
 * The heap left open (VK_POOL_OPEN): only one cleaned in place and open;
 * taken open only by an isolated process that may (take_open), closed for
 * any other; handed to a process that never ran for its own closed heap;
 * one at most; closed by vk_pool_close_open().
 */
START_TEST(test_pool_open_heap)
{
	struct vk_stats stats = {0};
	struct vk_pool pool;
	struct vk_heap h, g;
	char *base;

	vk_pool_init(&pool, &stats);
	ck_assert_int_eq(vk_pool_acquire(&pool, &h, HEAP, 1, 1), 0); /* mapped closed */
	ck_assert_int_eq(h.accessible, 0);
	/* Closed, it is pooled closed whatever is asked. */
	vk_pool_release(&pool, &h, VK_POOL_CLEAN, VK_POOL_OPEN);
	ck_assert_ptr_null(pool.open);
	ck_assert_int_eq(vk_pool_acquire(&pool, &h, HEAP, 1, 1), 0);
	ck_assert_int_eq(vk_pool_set_access(&pool, &h, 1), 0);
	memcpy(vk_heap_alloc(&h, 64), SECRET, sizeof(SECRET));
	base = h.base;
	/* Trimmed (a fault): closed. */
	vk_pool_release(&pool, &h, VK_POOL_TRIM, VK_POOL_OPEN);
	ck_assert_ptr_null(pool.open);
	ck_assert_int_eq(vk_pool_acquire(&pool, &h, HEAP, 1, 1), 0);
	ck_assert_int_eq(vk_pool_set_access(&pool, &h, 1), 0);
	memcpy(vk_heap_alloc(&h, 64), SECRET, sizeof(SECRET));
	stats.protections = 0;
	vk_pool_release(&pool, &h, VK_POOL_CLEAN, VK_POOL_OPEN);
	ck_assert_ptr_nonnull(pool.open);
	ck_assert_uint_eq(stats.protections, 0);
	/* An isolated process that may take it open: it comes open, and clean. */
	ck_assert_int_eq(vk_pool_acquire(&pool, &h, HEAP, 1, 1), 1);
	ck_assert_ptr_eq(h.base, base);
	ck_assert_int_eq(h.accessible, 1);
	ck_assert_ptr_null(pool.open);
	assert_zero(&h);
	ck_assert_uint_eq(stats.protections, 0);
	/* One that may not: closed. */
	vk_pool_release(&pool, &h, VK_POOL_CLEAN, VK_POOL_OPEN);
	ck_assert_int_eq(vk_pool_acquire(&pool, &h, HEAP, 1, 0), 0);
	ck_assert_int_eq(h.accessible, 0);
	ck_assert_ptr_null(pool.open);
	ck_assert_uint_eq(stats.protections, 1);
	/* A process that never ran gives its closed heap for the open one. */
	ck_assert_int_eq(vk_pool_acquire(&pool, &g, HEAP, 1, 1), 0);
	ck_assert_int_eq(vk_pool_swap_open(&pool, &g), -1); /* none open */
	ck_assert_int_eq(vk_pool_set_access(&pool, &h, 1), 0);
	vk_pool_release(&pool, &h, VK_POOL_CLEAN, VK_POOL_OPEN);
	ck_assert_int_eq(vk_pool_swap_open(&pool, &g), 0);
	ck_assert_ptr_eq(g.base, base);
	ck_assert_int_eq(g.accessible, 1);
	ck_assert_ptr_null(pool.open);
	ck_assert_uint_eq(pool.free_count, 1);
	/* The heap given for it waits closed; vk_pool_close_open() closes the open one. */
	ck_assert_int_eq(vk_pool_acquire(&pool, &h, HEAP, 1, 1), 0);
	ck_assert_int_eq(h.accessible, 0);
	vk_pool_release(&pool, &g, VK_POOL_CLEAN, VK_POOL_OPEN);
	ck_assert_ptr_nonnull(pool.open);
	stats.protections = 0;
	vk_pool_close_open(&pool);
	ck_assert_ptr_null(pool.open);
	ck_assert_uint_eq(stats.protections, 1);
	ck_assert_int_eq(vk_pool_acquire(&pool, &g, HEAP, 1, 1), 0);
	ck_assert_int_eq(g.accessible, 0);
	vk_pool_release(&pool, &g, VK_POOL_CLEAN, VK_POOL_CLOSED);
	vk_pool_release(&pool, &h, VK_POOL_CLEAN, VK_POOL_CLOSED);
	vk_pool_destroy(&pool);
	ck_assert_uint_eq(pool.mapped, 0);
}
END_TEST

/* ---- through the kernel: one process, then the next on its heap ---- */

static struct vk_proc *volatile g_first, *volatile g_second;
static int *volatile g_null;

/* A real fault, out of the sanitizers' sight (as check_vk_fault.c does). */
__attribute__((noinline, no_sanitize("address", "undefined"))) static void fault_segv(void)
{
	*g_null = 1;
}

/* The second process reads its whole heap, past its allocations too. */
__attribute__((noinline, no_sanitize_address)) static int find_secret(const char *base, size_t size)
{
	for (size_t i = 0; i + sizeof(SECRET) - 1 <= size; i++) {
		if (memcmp(base + i, SECRET, sizeof(SECRET) - 1) == 0)
			return (int)i + 1;
	}
	return 0;
}
static int g_found; /* offset + 1 of SECRET in the second's heap, or 0 */
static int g_scanned;

/* Read the secret from the socket, keep it in every kind of memory, answer it. */
static void first_main(struct vk_thread *that)
{
	struct {
		char got[sizeof(SECRET) - 1];
		char *raw;
		ssize_t n;
		int crash;
	} * self;

	vk_begin();
	self->crash = (int)(intptr_t)vk_arg();
	vk_read(self->n, self->got, sizeof(self->got));
	/* Not zeroed by the allocator: only the cleaning stands between it and the next. */
	vk_alloc(self->raw, 100);
	memcpy(self->raw, self->got, sizeof(self->got));
	vk_write(self->got, sizeof(self->got));
	vk_flush();
	if (self->crash)
		fault_segv();
	vk_end();
}

static void second_main(struct vk_thread *that)
{
	struct {
		int unused;
	} * self;

	vk_begin();
	g_found = find_secret(g_second->heap.base, g_second->heap.size);
	g_scanned = 1;
	vk_end();
}

/*
 * _i: bit 0 isolation, bit 1 the first process faults (its heap is then
 * trimmed, not cleaned in place).
 */
START_TEST(test_next_process_reads_nothing)
{
	int isolation = _i & 1, crash = (_i >> 1) & 1;
	struct vkt_kern k = vkt_kern_new();
	struct vk_proc_config config = vkt_config(HEAP, isolation);
	int sv[2];
	char back[sizeof(SECRET) - 1];
	char *first_base;

	g_found = 0;
	g_scanned = 0;
	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv), 0);
	ck_assert_int_eq(write(sv[1], SECRET, sizeof(SECRET) - 1), sizeof(SECRET) - 1);
	g_first = vk_kern_spawn(k.kern, &config, first_main, (void *)(intptr_t)crash, sv[0]);
	ck_assert_ptr_nonnull(g_first);
	first_base = g_first->heap.base;
	vk_kern_run(k.kern);
	ck_assert_int_eq(read(sv[1], back, sizeof(back)), sizeof(back));
	ck_assert(memcmp(back, SECRET, sizeof(back)) == 0);
	ck_assert_uint_eq(vk_kern_stats(k.kern)->faults, (uint64_t)crash);

	g_second = vkt_spawn(&k, HEAP, isolation, second_main, NULL);
	ck_assert_ptr_eq(g_second->heap.base, first_base);
	/* Cleaned in place (its page kept) unless it faulted (trimmed). */
	if (crash)
		ck_assert_uint_eq(g_second->heap.kept, 0);
	else
		ck_assert_uint_ne(g_second->heap.kept, 0);
	vk_kern_run(k.kern);
	ck_assert_int_eq(g_scanned, 1);
	ck_assert_msg(g_found == 0, "the secret survived at offset %d of the heap", g_found - 1);
	close(sv[1]);
	vkt_kern_free(&k);
}
END_TEST

static Suite *pool_suite(void)
{
	Suite *s = suite_create("vk_pool");
	TCase *tc = tcase_create("clean");

	tcase_add_test(tc, test_clean_in_place);
	tcase_add_test(tc, test_clean_wrapped_span);
	tcase_add_test(tc, test_clean_trims_past_keep);
	tcase_add_test(tc, test_clean_bad_span);
	suite_add_tcase(s, tc);
	tc = tcase_create("size");
	tcase_add_test(tc, test_pool_keeps_a_burst);
	tcase_add_test(tc, test_pool_hold_renewed_by_a_burst);
	tcase_add_test(tc, test_pool_hold_ends_with_the_timer);
	tcase_add_test(tc, test_pool_limit_other_size);
	tcase_add_test(tc, test_pool_open_heap);
	suite_add_tcase(s, tc);
	tc = tcase_create("reuse");
	tcase_add_loop_test(tc, test_next_process_reads_nothing, 0, 4);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return check_run(pool_suite());
}
