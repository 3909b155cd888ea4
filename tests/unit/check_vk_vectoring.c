/*
 * libvk unit tests: vectorings (rings exposed as one or two iovecs), for
 * every start offset and every fill level of small rings, so that every
 * split of the held bytes and of the free space is seen.
 */
#include "vk_check.h"

#define CANARY ((char)0xee)
#define MAX_RING 16

static const size_t sizes[] = {1, 2, 3, 7, 8, 16};
#define NSIZES (sizeof(sizes) / sizeof(sizes[0]))

/* The byte at logical position i of the content set up with `seed`. */
static char content_byte(int seed, size_t i)
{
	return (char)('a' + (size_t)(seed + (int)i * 7) % 26);
}

/*
 * A ring of `size` bytes at `buf` holding `len` bytes from offset `start`:
 * content_byte(seed, 0 .. len-1) in ring order; every other byte is CANARY.
 */
static void setup(struct vk_vectoring *ring, char *buf, size_t size, size_t start, size_t len,
		  int seed)
{
	memset(buf, CANARY, MAX_RING);
	vk_vectoring_init(ring, buf, size);
	ring->start = start;
	ring->len = len;
	for (size_t i = 0; i < len; i++)
		buf[(start + i) % size] = content_byte(seed, i);
}

/*
 * The bytes [pos, pos + len) of a ring of `size` in ring order must be
 * described as one iovec, or two split exactly at the end of the buffer.
 */
static void check_region(const struct iovec *iov, int count, const char *buf, size_t size,
			 size_t pos, size_t len)
{
	if (len == 0) {
		vkt_eq(count, 0);
		return;
	}
	vkt_ptr_eq(iov[0].iov_base, buf + pos);
	if (pos + len <= size) {
		vkt_eq(count, 1);
		vkt_eq(iov[0].iov_len, len);
		return;
	}
	vkt_eq(count, 2);
	vkt_eq(iov[0].iov_len, size - pos);
	vkt_ptr_eq(iov[1].iov_base, buf);
	vkt_eq(iov[1].iov_len, pos + len - size);
}

/* Everything the ring does not hold is still CANARY. */
static void check_canaries(const struct vk_vectoring *ring, const char *buf)
{
	for (size_t i = ring->len; i < ring->size; i++)
		vkt_eq(buf[(ring->start + i) % ring->size], CANARY);
	for (size_t i = ring->size; i < MAX_RING; i++)
		vkt_eq(buf[i], CANARY);
}

/* The ring holds exactly `expect`, `len` bytes. */
static void check_holds(const struct vk_vectoring *ring, const char *expect, size_t len)
{
	char out[MAX_RING * 2 + 2];

	vkt_eq(vk_vectoring_used(ring), len);
	vkt_eq(vk_vectoring_free(ring), ring->size - len);
	vkt_eq(vk_vectoring_peek(ring, out, sizeof(out)), len);
	vkt_true(memcmp(out, expect, len) == 0);
	vkt_true(ring->start < ring->size);
}

START_TEST(test_iov_every_split)
{
	char buf[MAX_RING];
	struct vk_vectoring ring;
	struct iovec iov[2];
	int ones = 0, twos = 0;

	for (size_t z = 0; z < NSIZES; z++) {
		size_t size = sizes[z];

		for (size_t start = 0; start < size; start++) {
			for (size_t len = 0; len <= size; len++) {
				int count;

				setup(&ring, buf, size, start, len, 0);
				memset(iov, 0, sizeof(iov));
				count = vk_vectoring_used_iov(&ring, iov);
				check_region(iov, count, buf, size, start, len);
				ones += count == 1;
				twos += count == 2;

				memset(iov, 0, sizeof(iov));
				count = vk_vectoring_free_iov(&ring, iov);
				check_region(iov, count, buf, size, (start + len) % size,
					     size - len);
				ones += count == 1;
				twos += count == 2;
			}
		}
	}
	/* Sanity: both shapes were met, many times. */
	ck_assert_int_gt(ones, 300);
	ck_assert_int_gt(twos, 300);
}
END_TEST

/* Fill the free space through its iovecs (as readv would), then produce. */
START_TEST(test_produce_consume)
{
	char buf[MAX_RING], expect[MAX_RING * 2];
	struct vk_vectoring ring;
	struct iovec iov[2];

	for (size_t z = 0; z < NSIZES; z++) {
		size_t size = sizes[z];

		for (size_t start = 0; start < size; start++) {
			for (size_t len = 0; len <= size; len++) {
				for (size_t k = 0; k <= size - len; k++) {
					int count;
					size_t done = 0;

					setup(&ring, buf, size, start, len, 1);
					for (size_t i = 0; i < len; i++)
						expect[i] = content_byte(1, i);
					for (size_t i = 0; i < k; i++)
						expect[len + i] = content_byte(2, i);
					count = vk_vectoring_free_iov(&ring, iov);
					for (int v = 0; v < count && done < k; v++) {
						size_t n = k - done < iov[v].iov_len
							       ? k - done
							       : iov[v].iov_len;

						memcpy(iov[v].iov_base, expect + len + done, n);
						done += n;
					}
					vkt_eq(done, k);
					vk_vectoring_produced(&ring, k);
					check_holds(&ring, expect, len + k);
					check_canaries(&ring, buf);
					/* Drain in two steps through used_iov. */
					vk_vectoring_consumed(&ring, (len + k) / 2);
					check_holds(&ring, expect + (len + k) / 2,
						    len + k - (len + k) / 2);
					vk_vectoring_consumed(&ring, len + k - (len + k) / 2);
					check_holds(&ring, expect, 0);
					/* Empty: back to the start, in one piece. */
					vkt_eq(ring.start, 0);
				}
			}
		}
	}
}
END_TEST

START_TEST(test_put_get_peek)
{
	char buf[MAX_RING], data[MAX_RING + 2], expect[MAX_RING * 2 + 2], out[MAX_RING + 2];
	struct vk_vectoring ring;

	for (size_t i = 0; i < sizeof(data); i++)
		data[i] = content_byte(3, i);
	for (size_t z = 0; z < NSIZES; z++) {
		size_t size = sizes[z];

		for (size_t start = 0; start < size; start++) {
			for (size_t len = 0; len <= size; len++) {
				for (size_t i = 0; i < len; i++)
					expect[i] = content_byte(4, i);
				/* put: takes what fits, appends in order. */
				for (size_t k = 0; k <= size + 1; k++) {
					size_t fits = k < size - len ? k : size - len;

					setup(&ring, buf, size, start, len, 4);
					vkt_eq(vk_vectoring_put(&ring, data, k), fits);
					memcpy(expect + len, data, fits);
					check_holds(&ring, expect, len + fits);
					check_canaries(&ring, buf);
				}
				/* peek: copies, consumes nothing. */
				for (size_t k = 0; k <= size + 1; k++) {
					size_t got = k < len ? k : len;

					setup(&ring, buf, size, start, len, 4);
					memset(out, 0, sizeof(out));
					vkt_eq(vk_vectoring_peek(&ring, out, k), got);
					vkt_true(memcmp(out, expect, got) == 0);
					vkt_eq(out[got], 0);
					vkt_eq(ring.start, start);
					vkt_eq(ring.len, len);
				}
				/* get: copies and consumes. */
				for (size_t k = 0; k <= size + 1; k++) {
					size_t got = k < len ? k : len;

					setup(&ring, buf, size, start, len, 4);
					memset(out, 0, sizeof(out));
					vkt_eq(vk_vectoring_get(&ring, out, k), got);
					vkt_true(memcmp(out, expect, got) == 0);
					vkt_eq(out[got], 0);
					check_holds(&ring, expect + got, len - got);
					if (got == len)
						vkt_eq(ring.start, 0);
				}
			}
		}
	}
}
END_TEST

START_TEST(test_find)
{
	char buf[MAX_RING];
	struct vk_vectoring ring;

	for (size_t z = 0; z < NSIZES; z++) {
		size_t size = sizes[z];

		for (size_t start = 0; start < size; start++) {
			for (size_t len = 0; len <= size; len++) {
				/* None there. */
				setup(&ring, buf, size, start, len, 5);
				for (size_t limit = 0; limit <= size + 1; limit++)
					vkt_eq(vk_vectoring_find(&ring, '\n', limit), 0);
				/* One at every position, seen only within the limit. */
				for (size_t at = 0; at < len; at++) {
					setup(&ring, buf, size, start, len, 5);
					buf[(start + at) % size] = '\n';
					for (size_t limit = 0; limit <= size + 1; limit++)
						vkt_eq(vk_vectoring_find(&ring, '\n', limit),
						       at < limit ? at + 1 : 0);
					/* A second one later: the first counts. */
					if (at + 1 < len) {
						buf[(start + len - 1) % size] = '\n';
						vkt_eq(vk_vectoring_find(&ring, '\n', len), at + 1);
					}
					vkt_eq(ring.len, len);
				}
				/* A byte that is only in the free space is not found. */
				setup(&ring, buf, size, start, len, 5);
				vkt_eq(vk_vectoring_find(&ring, CANARY, size), 0);
			}
		}
	}
}
END_TEST

static void check_splice(size_t size1, size_t size2, size_t start1, size_t len1, size_t start2,
			 size_t len2, size_t want)
{
	char buf1[MAX_RING], buf2[MAX_RING];
	char from_expect[MAX_RING], to_expect[MAX_RING * 2];
	struct vk_vectoring from, to;
	size_t moved = want;

	if (moved > len1)
		moved = len1;
	if (moved > size2 - len2)
		moved = size2 - len2;
	setup(&from, buf1, size1, start1, len1, 6);
	setup(&to, buf2, size2, start2, len2, 7);
	for (size_t i = 0; i < len1; i++)
		from_expect[i] = content_byte(6, i);
	for (size_t i = 0; i < len2; i++)
		to_expect[i] = content_byte(7, i);
	memcpy(to_expect + len2, from_expect, moved);
	vkt_eq(vk_vectoring_splice(&to, &from, want), moved);
	check_holds(&to, to_expect, len2 + moved);
	check_holds(&from, from_expect + moved, len1 - moved);
	check_canaries(&to, buf2);
	if (moved == len1)
		vkt_eq(from.start, 0);
}

START_TEST(test_splice_7_16)
{
	static const size_t ring_sizes[] = {7, 16};

	for (int a = 0; a < 2; a++) {
		for (int b = 0; b < 2; b++) {
			size_t size1 = ring_sizes[a], size2 = ring_sizes[b];
			int every_want = size1 == 7 || size2 == 7;

			for (size_t s1 = 0; s1 < size1; s1++)
				for (size_t l1 = 0; l1 <= size1; l1++)
					for (size_t s2 = 0; s2 < size2; s2++)
						for (size_t l2 = 0; l2 <= size2; l2++) {
							if (every_want) {
								for (size_t w = 0; w <= size1 + 1;
								     w++)
									check_splice(size1, size2,
										     s1, l1, s2, l2,
										     w);
							} else {
								check_splice(size1, size2, s1, l1,
									     s2, l2, 1);
								check_splice(size1, size2, s1, l1,
									     s2, l2, l1 / 2 + 1);
								check_splice(size1, size2, s1, l1,
									     s2, l2, size1 + 1);
							}
						}
		}
	}
}
END_TEST

/* A long random stream through a small ring, against a plain FIFO. */
START_TEST(test_stream_through_small_rings)
{
	static const size_t ring_sizes[] = {7, 16};
	char buf[MAX_RING], chunk[MAX_RING + 8];
	struct vk_vectoring ring;

	for (int r = 0; r < 2; r++) {
		uint64_t put_rng = 42, get_rng = 42, ops = 7;
		size_t held = 0, total_in = 0, total_out = 0;

		memset(buf, CANARY, sizeof(buf));
		vk_vectoring_init(&ring, buf, ring_sizes[r]);
		for (int i = 0; i < 200000; i++) {
			size_t k = (size_t)(vkt_rand(&ops) % (ring_sizes[r] + 3));

			if (vkt_rand(&ops) & 1) {
				uint64_t peek_rng = put_rng;
				size_t fits = k < ring.size - held ? k : ring.size - held;

				vkt_fill(&peek_rng, chunk, k);
				vkt_eq(vk_vectoring_put(&ring, chunk, k), fits);
				/* Only what fit was taken from the stream. */
				vkt_fill(&put_rng, chunk, fits);
				held += fits;
				total_in += fits;
			} else {
				char expect[MAX_RING + 8];
				size_t got = k < held ? k : held;

				vkt_eq(vk_vectoring_get(&ring, chunk, k), got);
				vkt_fill(&get_rng, expect, got);
				vkt_true(memcmp(chunk, expect, got) == 0);
				held -= got;
				total_out += got;
			}
			vkt_eq(vk_vectoring_used(&ring), held);
		}
		ck_assert_uint_gt(total_out, 100000);
		vkt_eq(total_in - total_out, held);
	}
}
END_TEST

/*
 * A ring with an origin snaps back to it while what it holds fits from
 * there; once the bytes held wrapped past the end, it restarts at the
 * buffer's start, so the next batch as large is one iovec. The written
 * span still counts from the origin, one piece wrapping.
 */
START_TEST(test_origin_then_restart)
{
	char buf[MAX_RING], out[MAX_RING];
	struct vk_vectoring ring;
	struct iovec iov[2];

	memset(buf, CANARY, sizeof(buf));
	vk_vectoring_init(&ring, buf, 16);
	vk_vectoring_set_origin(&ring, 12);
	vkt_eq(vk_vectoring_put(&ring, "abc", 3), 3);
	vkt_eq(vk_vectoring_used_iov(&ring, iov), 1);
	vkt_ptr_eq(iov[0].iov_base, buf + 12);
	vkt_eq(vk_vectoring_get(&ring, out, 3), 3);
	vkt_eq(ring.start, 12);

	/* Six bytes from 12: four to the end, two from the start. */
	vkt_eq(vk_vectoring_put(&ring, "defghi", 6), 6);
	vkt_eq(vk_vectoring_used_iov(&ring, iov), 2);
	vkt_eq(vk_vectoring_get(&ring, out, 6), 6);
	vkt_true(memcmp(out, "defghi", 6) == 0);
	vkt_eq(ring.start, 0);

	/* The next six are one piece at the start. */
	vkt_eq(vk_vectoring_put(&ring, "jklmno", 6), 6);
	vkt_eq(vk_vectoring_used_iov(&ring, iov), 1);
	vkt_ptr_eq(iov[0].iov_base, buf);
	vkt_eq(iov[0].iov_len, 6);
	vkt_eq(ring.written.origin, 12);
	vkt_eq(ring.written.reach, 10);
	vkt_eq(vk_vectoring_get(&ring, out, 6), 6);
	vkt_true(memcmp(out, "jklmno", 6) == 0);
	vkt_eq(ring.start, 0);

	/* A new origin is where it snaps back to again. */
	vk_vectoring_set_origin(&ring, 12);
	vkt_eq(ring.start, 12);
}
END_TEST

/*
 * Whether a ring ever held a byte (what tells a served connection from a
 * fresh one, vk_socket_await_idle()): not at first, nor for an empty put
 * or a new origin; from the first bytes on, even once they are consumed
 * and after a new origin.
 */
START_TEST(test_ever_used)
{
	char buf[MAX_RING], out[MAX_RING];
	struct vk_vectoring ring;

	vk_vectoring_init(&ring, buf, 16);
	vkt_eq(vk_vectoring_ever_used(&ring), 0);
	vk_vectoring_set_origin(&ring, 12);
	vkt_eq(vk_vectoring_put(&ring, "", 0), 0);
	vkt_eq(vk_vectoring_ever_used(&ring), 0);
	vkt_eq(vk_vectoring_put(&ring, "ab", 2), 2);
	vkt_eq(vk_vectoring_ever_used(&ring), 1);
	vkt_eq(vk_vectoring_get(&ring, out, 2), 2);
	vkt_eq(vk_vectoring_used(&ring), 0);
	vkt_eq(vk_vectoring_ever_used(&ring), 1);
	vk_vectoring_set_origin(&ring, 4);
	vkt_eq(vk_vectoring_ever_used(&ring), 1);
}
END_TEST

static Suite *vectoring_suite(void)
{
	Suite *s = suite_create("vk_vectoring");
	TCase *tc = tcase_create("vectoring");

	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_iov_every_split);
	tcase_add_test(tc, test_produce_consume);
	tcase_add_test(tc, test_put_get_peek);
	tcase_add_test(tc, test_find);
	tcase_add_test(tc, test_splice_7_16);
	tcase_add_test(tc, test_stream_through_small_rings);
	tcase_add_test(tc, test_origin_then_restart);
	tcase_add_test(tc, test_ever_used);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return check_run(vectoring_suite());
}
