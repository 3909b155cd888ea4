/*
 * libvk unit tests: vk_chain, the hash table under the bus and the mesh.
 * Entries must be found after every growth, removed exactly, and all
 * handed back by a clear; hashes that collide (the same hash, and hashes
 * equal modulo the bucket count) keep their entries apart.
 */
#include "vk_check.h"
#include "vk_chain.h"

#define N 5000

struct entry {
	int key;
	struct vk_chain_link chain;
	int dropped;
};

static struct entry entries[N];

/* A hash that puts 8 keys on each value, and many values on each bucket. */
static size_t hash_of(int key)
{
	return (size_t)(key / 8) * 1024;
}

static struct entry *find(const struct vk_chain *c, int key)
{
	size_t h = hash_of(key);

	for (struct vk_chain_link *l = vk_chain_bucket(c, h); l; l = l->next) {
		struct entry *e = vk_chain_entry(l, struct entry, chain);

		if (l->hash == h && e->key == key)
			return e;
	}
	return NULL;
}

static void fill(struct vk_chain *c)
{
	memset(entries, 0, sizeof(entries));
	for (int i = 0; i < N; i++) {
		entries[i].key = i;
		vkt_eq(vk_chain_insert(c, &entries[i].chain, hash_of(i)), 0);
	}
	vkt_eq(c->count, N);
	ck_assert_uint_ge(c->size, N);
}

START_TEST(test_find_after_growth)
{
	struct vk_chain c = {0};

	ck_assert_ptr_null(vk_chain_bucket(&c, 7));
	fill(&c);
	for (int i = 0; i < N; i++)
		ck_assert_ptr_eq(find(&c, i), &entries[i]);
	ck_assert_ptr_null(find(&c, N));
	vk_chain_clear(&c, NULL);
	vkt_eq(c.count, 0);
	ck_assert_ptr_null(vk_chain_bucket(&c, 0));
}
END_TEST

START_TEST(test_remove)
{
	struct vk_chain c = {0};
	struct vk_chain_link stranger = {0};

	vkt_eq(vk_chain_remove(&c, &stranger), -ENOENT);
	fill(&c);
	for (int i = 0; i < N; i += 2)
		vkt_eq(vk_chain_remove(&c, &entries[i].chain), 0);
	vkt_eq(c.count, N / 2);
	for (int i = 0; i < N; i++)
		ck_assert_ptr_eq(find(&c, i), i % 2 ? &entries[i] : NULL);
	/* Removed twice, or never filed: refused, nothing else changes. */
	vkt_eq(vk_chain_remove(&c, &entries[0].chain), -ENOENT);
	stranger.hash = hash_of(1);
	vkt_eq(vk_chain_remove(&c, &stranger), -ENOENT);
	vkt_eq(c.count, N / 2);
	vk_chain_clear(&c, NULL);
}
END_TEST

static void drop(struct vk_chain_link *l)
{
	struct entry *e = vk_chain_entry(l, struct entry, chain);

	ck_assert_ptr_null(l->next);
	e->dropped++;
}

START_TEST(test_clear_drops_each_once)
{
	struct vk_chain c = {0};

	fill(&c);
	vk_chain_clear(&c, drop);
	for (int i = 0; i < N; i++)
		vkt_eq(entries[i].dropped, 1);
	vkt_eq(c.count, 0);
	vkt_eq(c.size, 0);
	/* Usable again after a clear. */
	vkt_eq(vk_chain_insert(&c, &entries[3].chain, hash_of(3)), 0);
	ck_assert_ptr_eq(find(&c, 3), &entries[3]);
	vk_chain_clear(&c, NULL);
}
END_TEST

static Suite *chain_suite(void)
{
	Suite *s = suite_create("vk_chain");
	TCase *tc = tcase_create("chain");

	tcase_add_test(tc, test_find_after_growth);
	tcase_add_test(tc, test_remove);
	tcase_add_test(tc, test_clear_drops_each_once);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return check_run(chain_suite());
}
