// SPDX-License-Identifier: GPL-2.0
/* Following the VMAs: map, unmap, trims, holes, remaps, lookups. */
#include "tests.h"

#define A(mib)	HPT_ADDR(HPT_MIB(mib))

void test_map_basic(void)
{
	struct hpt_space t;
	struct hp_range *r;
	u64 total;

	hpt_init(&t, NULL);
	CHECK_EQ(hpt_map(&t, 0, HPT_MIB(4)), 0);
	CHECK_EQ(hp_space_nr_ranges(t.s), 1);
	hpt_sweep(&t, A(0), A(4), 64, 1);
	total = hpt_total(t.s);
	/* Overlapping maps only cover the gaps and keep the counts. */
	CHECK_EQ(hpt_map(&t, HPT_MIB(2), HPT_MIB(6)), 0);
	CHECK_EQ(hp_space_nr_ranges(t.s), 2);
	CHECK_EQ(hpt_total(t.s), total);
	CHECK_EQ(hpt_map(&t, 0, HPT_MIB(8)), 0);
	CHECK_EQ(hp_space_nr_ranges(t.s), 2);
	r = hp_space_lookup(t.s, A(5));
	CHECK(r && r->start == A(4) && r->end == A(8));
	CHECK_EQ(hpt_map(&t, HPT_MIB(16), 1), 0);
	CHECK_EQ(hp_space_nr_ranges(t.s), 3);
	/* One map over several gaps fills all of them. */
	CHECK_EQ(hpt_map(&t, HPT_MIB(20), HPT_MIB(1)), 0);
	CHECK_EQ(hpt_map(&t, HPT_MIB(24), HPT_MIB(1)), 0);
	CHECK_EQ(hpt_map(&t, HPT_MIB(28), HPT_MIB(1)), 0);
	CHECK_EQ(hpt_map(&t, HPT_MIB(10), HPT_MIB(30)), 0);
	CHECK_EQ(hp_space_nr_ranges(t.s), 11);
	CHECK_EQ(hpt_intervals(&t), 2);
	CHECK_EQ(hp_space_map(t.s, A(64), A(64)), -EINVAL);
	CHECK_EQ(hp_space_map(t.s, A(65), A(64)), -EINVAL);
	CHECK_EQ(hp_space_map(t.s, A(64) + 1, A(66)), -EINVAL);
	CHECK_EQ(hp_space_map(t.s, A(64), A(66) - 1), -EINVAL);
	CHECK_EQ(hp_space_nr_ranges(t.s), 11);
	hpt_check(&t);
	hpt_fini(&t);
}

void test_unmap_churn(void)
{
	struct hpt_space t;
	struct hp_range *r;
	u64 before, after;

	hpt_init(&t, NULL);
	hpt_map(&t, 0, HPT_MIB(64));
	hpt_sweep(&t, A(0), A(64), 16384, 1);
	before = hpt_total(t.s);
	/* Trimming a uniform range keeps the counts of what remains. */
	CHECK_EQ(hpt_unmap(&t, 0, HPT_MIB(16)), 0);
	after = hpt_total(t.s);
	CHECK(after * 4 <= before * 3 + 4 && after * 4 + 4 >= before * 3);
	r = hp_space_first(t.s);
	CHECK(r && r->start == A(16) && r->end == A(64));
	/* A hole splits the range in two. */
	CHECK_EQ(hpt_unmap(&t, HPT_MIB(30), HPT_MIB(2)), 0);
	CHECK_EQ(hp_space_nr_ranges(t.s), 2);
	CHECK_EQ(hpt_intervals(&t), 2);
	CHECK_EQ(hpt_unmap(&t, HPT_MIB(60), HPT_MIB(4)), 0);
	r = hp_space_lookup(t.s, A(59));
	CHECK(r && r->end == A(60));
	/* Unmapping across ranges and gaps, and unmapping nothing. */
	CHECK_EQ(hpt_unmap(&t, HPT_MIB(28), HPT_MIB(8)), 0);
	CHECK_EQ(hp_space_nr_ranges(t.s), 2);
	CHECK_EQ(hpt_unmap(&t, HPT_MIB(100), HPT_MIB(1)), 0);
	CHECK_EQ(hp_space_nr_ranges(t.s), 2);
	/* mremap: unmap the old place, map the new one, which is cold. */
	CHECK_EQ(hpt_unmap(&t, HPT_MIB(40), HPT_MIB(8)), 0);
	CHECK_EQ(hpt_map(&t, HPT_MIB(80), HPT_MIB(8)), 0);
	r = hp_space_lookup(t.s, A(80));
	CHECK(r && hp_range_count(r) == 0 && r->end == A(88));
	CHECK_EQ(hp_space_nr_ranges(t.s), 4);
	CHECK_EQ(hp_space_unmap(t.s, A(1), A(1)), -EINVAL);
	CHECK_EQ(hp_space_unmap(t.s, A(1) + 4, A(2)), -EINVAL);
	/* Exit-like teardown: everything goes. */
	CHECK_EQ(hpt_unmap(&t, 0, HPT_PAGES), 0);
	CHECK_EQ(hp_space_nr_ranges(t.s), 0);
	CHECK(!hp_space_first(t.s));
	hpt_fini(&t);
}

void test_record_basic(void)
{
	struct hpt_space t;
	struct hp_range *r;

	hpt_init(&t, NULL);
	hpt_map(&t, 0, HPT_MIB(8));
	CHECK(hpt_record(&t, A(0), 1));
	CHECK(hpt_record(&t, A(8) - 1, 5));
	CHECK(!hpt_record(&t, A(8), 1));
	CHECK(!hpt_record(&t, 0, 1));
	CHECK(!hpt_record(&t, ~0UL, 1));
	CHECK(hpt_record(&t, A(3), 0));
	r = hp_space_first(t.s);
	CHECK(r && hp_range_count(r) == 6 << HP_COUNT_SHIFT);
	CHECK(r && r->sub[0] == 1 << HP_COUNT_SHIFT);
	CHECK(r && r->sub[3] == 5 << HP_COUNT_SHIFT);
	/* The lookup cache must forget a range that went away. */
	CHECK(hpt_record(&t, A(1), 1));
	hpt_unmap(&t, 0, HPT_MIB(2));
	CHECK(!hpt_record(&t, A(1), 1));
	CHECK(hpt_record(&t, A(2), 1));
	CHECK_EQ(hp_space_get_stats(t.s)->samples, 5);
	CHECK_EQ(hp_space_get_stats(t.s)->unmatched, 4);
	/* Counts saturate instead of wrapping. */
	hpt_map(&t, HPT_MIB(16), HPT_MIB(2));
	hp_space_record(t.s, A(16), ~0U);
	hp_space_record(t.s, A(16), ~0U);
	t.samples += 2;
	r = hp_space_lookup(t.s, A(16));
	CHECK(r && hp_range_count(r) == HP_SUB_MAX);
	hpt_check(&t);
	hpt_fini(&t);
}

/* Blocks 128 MiB apart share a lookup cache slot: alternate between them. */
void test_record_cache_alias(void)
{
	struct hp_space *s = hp_space_create(NULL);
	unsigned long far = HPT_BASE + (HP_CACHE_SLOTS << HP_CACHE_SHIFT);
	struct hp_range *a, *b;
	int i;

	CHECK(!IS_ERR(s));
	if (IS_ERR(s))
		return;
	CHECK_EQ(hp_space_map(s, HPT_BASE, HPT_BASE + (2UL << 20)), 0);
	CHECK_EQ(hp_space_map(s, far, far + (2UL << 20)), 0);
	for (i = 0; i < 1000; i++) {
		CHECK(hp_space_record(s, HPT_BASE + (i % 512) * PAGE_SIZE, 1));
		CHECK(hp_space_record(s, far + (i % 512) * PAGE_SIZE, 2));
		CHECK(!hp_space_record(s, far + (4UL << 20), 1));
	}
	a = hp_space_lookup(s, HPT_BASE);
	b = hp_space_lookup(s, far);
	CHECK(a && a->start == HPT_BASE && hp_range_count(a) == 1000 << 8);
	CHECK(b && b->start == far && hp_range_count(b) == 2000 << 8);
	/* A cached range that goes away must not be found again. */
	CHECK_EQ(hp_space_unmap(s, far, far + (2UL << 20)), 0);
	CHECK(!hp_space_record(s, far, 1));
	CHECK(!hp_space_lookup(s, far));
	CHECK(hp_space_lookup(s, HPT_BASE) == a);
	CHECK_EQ(hp_space_get_stats(s)->samples, 2000);
	CHECK_EQ(hp_space_get_stats(s)->unmatched, 1001);
	hp_space_destroy(s);
}
