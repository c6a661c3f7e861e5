// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit tests of the HyperPlace range classifier (mm/hyperplace/range.c)
 * as the kernel builds it.  The exhaustive tests, with a reference model
 * and sanitizers, live in tools/testing/hyperplace; these check the same
 * behaviour with kernel allocators, rbtree and 64-bit helpers.
 */
#include <kunit/test.h>
#include <linux/err.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/sizes.h>

#include "../range.h"

#define HPK_BASE	0x7f0000000000UL
#define HPK_A(mib)	(HPK_BASE + ((unsigned long)(mib) << 20))

static void hpk_destroy(void *s)
{
	hp_space_destroy(s);
}

static struct hp_space *hpk_space(struct kunit *test,
				  const struct hp_range_params *p)
{
	struct hp_space *s = hp_space_create(p);

	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, s);
	KUNIT_ASSERT_EQ(test, kunit_add_action_or_reset(test, hpk_destroy, s),
			0);
	return s;
}

/* @n samples spread evenly over [@start, @end). */
static void hpk_sweep(struct hp_space *s, unsigned long start,
		      unsigned long end, unsigned long n)
{
	unsigned long i, pages = (end - start) >> PAGE_SHIFT;

	for (i = 0; i < n; i++)
		hp_space_record(s, start + ((i * pages / n) << PAGE_SHIFT), 1);
}

static unsigned long hpk_hot(struct hp_space *s, unsigned long addr)
{
	struct hp_range *r = hp_space_lookup(s, addr);

	return r ? hp_range_hot_pages(r) : ~0UL;
}

static void hpk_params(struct kunit *test)
{
	struct hp_range_params p;
	struct hp_space *s;

	hp_range_params_init(&p);
	KUNIT_EXPECT_EQ(test, hp_range_params_validate(&p), 0);
	KUNIT_EXPECT_EQ(test, p.split_shift, 21U);
	p.decay_shift = 0;
	KUNIT_EXPECT_EQ(test, hp_range_params_validate(&p), -ERANGE);
	s = hp_space_create(&p);
	KUNIT_EXPECT_TRUE(test, IS_ERR(s) && PTR_ERR(s) == -ERANGE);
	hp_range_params_init(&p);
	p.merge_ratio = p.split_ratio;
	KUNIT_EXPECT_EQ(test, hp_range_params_validate(&p), -EINVAL);

	s = hpk_space(test, NULL);
	KUNIT_EXPECT_EQ(test, hp_space_set_params(s, &p), -EINVAL);
	KUNIT_EXPECT_EQ(test, s->params.merge_ratio, 125U);
}

static void hpk_map_unmap(struct kunit *test)
{
	struct hp_space *s = hpk_space(test, NULL);
	struct hp_range *r;

	KUNIT_EXPECT_EQ(test, hp_space_map(s, HPK_A(0), HPK_A(64)), 0);
	KUNIT_EXPECT_EQ(test, hp_space_map(s, HPK_A(32), HPK_A(80)), 0);
	KUNIT_EXPECT_EQ(test, hp_space_nr_ranges(s), 2U);
	KUNIT_EXPECT_EQ(test, hp_space_map(s, HPK_A(1) + 1, HPK_A(2)), -EINVAL);
	/* A hole splits a range; trims keep the rest. */
	KUNIT_EXPECT_EQ(test, hp_space_unmap(s, HPK_A(10), HPK_A(12)), 0);
	KUNIT_EXPECT_EQ(test, hp_space_nr_ranges(s), 3U);
	KUNIT_EXPECT_EQ(test, hp_space_unmap(s, HPK_A(60), HPK_A(70)), 0);
	r = hp_space_lookup(s, HPK_A(59));
	KUNIT_ASSERT_NOT_NULL(test, r);
	KUNIT_EXPECT_EQ(test, r->end, HPK_A(60));
	r = hp_space_lookup(s, HPK_A(70));
	KUNIT_ASSERT_NOT_NULL(test, r);
	KUNIT_EXPECT_EQ(test, r->start, HPK_A(70));
	KUNIT_EXPECT_NULL(test, hp_space_lookup(s, HPK_A(11)));
	KUNIT_EXPECT_EQ(test, hp_space_unmap(s, HPK_A(0), HPK_A(128)), 0);
	KUNIT_EXPECT_EQ(test, hp_space_nr_ranges(s), 0U);
}

static void hpk_record_decay(struct kunit *test)
{
	struct hp_space *s = hpk_space(test, NULL);
	struct hp_range *r;

	/* One 2 MiB granule: it cannot split, only decay acts on it. */
	KUNIT_ASSERT_EQ(test, hp_space_map(s, HPK_A(2), HPK_A(4)), 0);
	hpk_sweep(s, HPK_A(2), HPK_A(4), 100);
	KUNIT_EXPECT_FALSE(test, hp_space_record(s, HPK_A(4), 1));
	KUNIT_EXPECT_EQ(test, hp_space_get_stats(s)->samples, 100ULL);
	KUNIT_EXPECT_EQ(test, hp_space_get_stats(s)->unmatched, 1ULL);
	r = hp_space_first(s);
	KUNIT_ASSERT_NOT_NULL(test, r);
	KUNIT_EXPECT_EQ(test, hp_range_count(r), 100ULL << HP_COUNT_SHIFT);
	KUNIT_EXPECT_EQ(test, hp_space_epoch(s), 0);
	KUNIT_EXPECT_EQ(test, hp_range_count(r), 50ULL << HP_COUNT_SHIFT);
	KUNIT_EXPECT_EQ(test, hp_range_density(r),
			(50ULL << (HP_COUNT_SHIFT + HP_DENSITY_SHIFT)) / 512);
}

/* One epoch: 1800 samples on 2 MiB at @hot MiB, 200 over all 64 MiB. */
static void hpk_hot_epoch(struct hp_space *s, unsigned long hot)
{
	hpk_sweep(s, HPK_A(hot), HPK_A(hot + 2), 1800);
	hpk_sweep(s, HPK_A(0), HPK_A(64), 200);
	hp_space_epoch(s);
}

static void hpk_split_merge(struct kunit *test)
{
	struct hp_space *s = hpk_space(test, NULL);
	struct hp_range *r;
	int i;

	KUNIT_ASSERT_EQ(test, hp_space_map(s, HPK_A(0), HPK_A(64)), 0);
	for (i = 0; i < 11; i++)
		hpk_hot_epoch(s, 20);
	r = hp_space_lookup(s, HPK_A(21));
	KUNIT_ASSERT_NOT_NULL(test, r);
	KUNIT_EXPECT_EQ(test, r->start, HPK_A(20));
	KUNIT_EXPECT_EQ(test, r->end, HPK_A(22));
	for (r = hp_space_first(s); r; r = hp_range_next(r))
		KUNIT_EXPECT_TRUE(test, IS_ALIGNED(r->start, SZ_2M) &&
				  IS_ALIGNED(r->end, SZ_2M));
	/* Silence: counts decay below the floor and all merges back. */
	for (i = 0; i < 30; i++)
		hp_space_epoch(s);
	KUNIT_EXPECT_EQ(test, hp_space_nr_ranges(s), 1U);
	KUNIT_EXPECT_GT(test, hp_space_get_stats(s)->merges, 0ULL);
}

/* Ranges of 2, 2 and 4 MiB with 100, 50 (upper half) and 40 samples. */
static struct hp_space *hpk_three(struct kunit *test)
{
	struct hp_space *s = hpk_space(test, NULL);

	KUNIT_EXPECT_EQ(test, hp_space_map(s, HPK_A(0), HPK_A(2)), 0);
	KUNIT_EXPECT_EQ(test, hp_space_map(s, HPK_A(4), HPK_A(6)), 0);
	KUNIT_EXPECT_EQ(test, hp_space_map(s, HPK_A(8), HPK_A(12)), 0);
	hpk_sweep(s, HPK_A(0), HPK_A(2), 100);
	hpk_sweep(s, HPK_A(5), HPK_A(6), 50);
	hpk_sweep(s, HPK_A(8), HPK_A(12), 40);
	return s;
}

static void hpk_rank_fit(struct kunit *test)
{
	struct hp_space *s = hpk_three(test);
	struct hp_decision dec[4];
	struct hp_rank_result res;

	KUNIT_EXPECT_EQ(test, hp_rank(&s, 1, 768, NULL, dec, 4, &res), 2);
	KUNIT_EXPECT_EQ(test, res.hot_pages, 768UL);
	KUNIT_EXPECT_EQ(test, res.promote_pages, 768UL);
	KUNIT_EXPECT_EQ(test, hpk_hot(s, HPK_A(0)), 512UL);
	KUNIT_EXPECT_EQ(test, hpk_hot(s, HPK_A(4)), 256UL);
	KUNIT_EXPECT_EQ(test, hpk_hot(s, HPK_A(8)), 0UL);
	KUNIT_EXPECT_PTR_EQ(test, dec[1].space, s);
	KUNIT_EXPECT_EQ(test, dec[1].hot_start, HPK_A(5));
	KUNIT_EXPECT_EQ(test, dec[1].hot_end, HPK_A(6));
	KUNIT_EXPECT_FALSE(test, hp_space_is_hot(s, HPK_A(4)));
	KUNIT_EXPECT_TRUE(test, hp_space_is_hot(s, HPK_A(5)));
	/* Same input: nothing to do. */
	KUNIT_EXPECT_EQ(test, hp_rank(&s, 1, 768, NULL, dec, 4, &res), 0);
	KUNIT_EXPECT_EQ(test, hp_rank(&s, 1, 0, NULL, dec, 4, &res), 2);
	KUNIT_EXPECT_EQ(test, res.demote_pages, 768UL);
}

static void hpk_rank_hysteresis(struct kunit *test)
{
	struct hp_space *s = hpk_three(test);
	struct hp_range_params p;
	struct hp_decision dec[4];

	hp_range_params_init(&p);
	hp_rank(&s, 1, 768, &p, dec, 4, NULL);
	/* 10% denser than the boundary range: not enough to displace it. */
	hpk_sweep(s, HPK_A(8), HPK_A(12), 70);
	KUNIT_EXPECT_EQ(test, hp_rank(&s, 1, 768, &p, dec, 4, NULL), 0);
	KUNIT_EXPECT_EQ(test, hpk_hot(s, HPK_A(4)), 256UL);
	p.hysteresis = 0;
	KUNIT_EXPECT_EQ(test, hp_rank(&s, 1, 768, &p, dec, 4, NULL), 2);
	KUNIT_EXPECT_EQ(test, hpk_hot(s, HPK_A(4)), 0UL);
	KUNIT_EXPECT_EQ(test, hpk_hot(s, HPK_A(8)), 256UL);
}

static void hpk_cross_mm(struct kunit *test)
{
	struct hp_space *x = hpk_space(test, NULL);
	struct hp_space *y = hpk_space(test, NULL);
	struct hp_space *both[2] = { x, y };
	struct hp_rank_result res;

	/* x has more samples, y more per page: y gets the room. */
	KUNIT_ASSERT_EQ(test, hp_space_map(x, HPK_A(0), HPK_A(64)), 0);
	KUNIT_ASSERT_EQ(test, hp_space_map(y, HPK_A(0), HPK_A(2)), 0);
	hpk_sweep(x, HPK_A(0), HPK_A(64), 1000);
	hpk_sweep(y, HPK_A(0), HPK_A(2), 100);
	KUNIT_EXPECT_EQ(test, hp_rank(both, 2, 512, NULL, NULL, 0, &res), 0);
	KUNIT_EXPECT_EQ(test, res.nr_decisions, 1U);
	KUNIT_EXPECT_EQ(test, hpk_hot(y, HPK_A(0)), 512UL);
	KUNIT_EXPECT_EQ(test, hpk_hot(x, HPK_A(0)), 0UL);
}

static void hpk_cap(struct kunit *test)
{
	struct hp_range_params p;
	struct hp_space *s;
	unsigned long k;
	int i;

	hp_range_params_init(&p);
	p.max_ranges = 16;
	p.split_shift = 16;
	s = hpk_space(test, &p);
	KUNIT_ASSERT_EQ(test, hp_space_map(s, HPK_A(0), HPK_A(64)), 0);
	for (i = 0; i < 20; i++) {
		for (k = 0; k < 40; k++)
			hpk_sweep(s, HPK_A(k * 3 / 2),
				  HPK_A(k * 3 / 2) + SZ_64K, 50 + 10 * k);
		hp_space_epoch(s);
		KUNIT_EXPECT_LE(test, hp_space_nr_ranges(s), 16U);
		hp_rank(&s, 1, 160, &p, NULL, 0, NULL);
	}
	KUNIT_EXPECT_EQ(test, hp_space_nr_ranges(s), 16U);
}

/* A merge forced by the cap never moves a hot part behind hp_rank(). */
static void hpk_cap_merge_hot(struct kunit *test)
{
	struct hp_range_params p;
	bool hot[4] = { };
	struct hp_space *s;
	int i;

	hp_range_params_init(&p);
	p.max_ranges = 16;
	s = hpk_space(test, &p);
	KUNIT_ASSERT_EQ(test, hp_space_map(s, HPK_A(0), HPK_A(2)), 0);
	KUNIT_ASSERT_EQ(test, hp_space_map(s, HPK_A(2), HPK_A(4)), 0);
	for (i = 0; i < 15; i++)
		KUNIT_ASSERT_EQ(test, hp_space_map(s, HPK_A(10 + 4 * i),
						   HPK_A(12 + 4 * i)), 0);
	hpk_sweep(s, HPK_A(0), HPK_A(2), 1000);
	hpk_sweep(s, HPK_A(2), HPK_A(4), 300);
	hp_rank(&s, 1, 768, &p, NULL, 0, NULL);
	for (i = 0; i < 4; i++)
		hot[i] = hp_space_is_hot(s, HPK_A(i) + SZ_512K);
	hp_space_epoch(s);
	for (i = 0; i < 4; i++)
		KUNIT_EXPECT_EQ(test, hp_space_is_hot(s, HPK_A(i) + SZ_512K),
				hot[i]);
}

/* A new partial hot part goes to the end that holds the samples. */
static void hpk_place_dense_end(struct kunit *test)
{
	struct hp_space *s = hpk_space(test, NULL);

	/* Cuts at 0, 0 and 2 MiB: sub[2] is [0, 2M), sub[3] [2M, 3M). */
	KUNIT_ASSERT_EQ(test, hp_space_map(s, HPK_A(0), HPK_A(3)), 0);
	hpk_sweep(s, HPK_A(0), HPK_A(1), 1000);
	hp_rank(&s, 1, 256, NULL, NULL, 0, NULL);
	KUNIT_EXPECT_TRUE(test, hp_space_is_hot(s, HPK_A(0)));
	KUNIT_EXPECT_FALSE(test, hp_space_is_hot(s, HPK_A(3) - PAGE_SIZE));
}

static struct kunit_case hpk_cases[] = {
	KUNIT_CASE(hpk_params),
	KUNIT_CASE(hpk_map_unmap),
	KUNIT_CASE(hpk_record_decay),
	KUNIT_CASE(hpk_split_merge),
	KUNIT_CASE(hpk_rank_fit),
	KUNIT_CASE(hpk_rank_hysteresis),
	KUNIT_CASE(hpk_cross_mm),
	KUNIT_CASE(hpk_cap),
	KUNIT_CASE(hpk_cap_merge_hot),
	KUNIT_CASE(hpk_place_dense_end),
	{}
};

static struct kunit_suite hpk_suite = {
	.name = "hyperplace_range",
	.test_cases = hpk_cases,
};

kunit_test_suite(hpk_suite);

MODULE_IMPORT_NS(EXPORTED_FOR_KUNIT_TESTING);
MODULE_DESCRIPTION("KUnit tests for the HyperPlace range classifier");
MODULE_LICENSE("GPL");
