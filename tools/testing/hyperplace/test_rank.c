// SPDX-License-Identifier: GPL-2.0
/*
 * Ranking: capacity fit with a partial boundary, hysteresis, ranges with
 * no samples, density across mms, truncated decision lists, and a hot
 * set that neither ping-pongs when it is stable nor sticks when it moves.
 * hpt_rank() compares every call with the brute-force reference.
 */
#include "tests.h"

#define A(mib)	HPT_ADDR(HPT_MIB(mib))

static unsigned long hpt_hot(struct hpt_space *t, unsigned long mib)
{
	struct hp_range *r = hp_space_lookup(t->s, A(mib));

	return r ? hp_range_hot_pages(r) : ~0UL;
}

/* Three ranges that cannot split: 2 MiB, 2 MiB and 4 MiB. */
static void hpt_three(struct hpt_space *t)
{
	hpt_map(t, 0, HPT_MIB(2));
	hpt_map(t, HPT_MIB(4), HPT_MIB(2));
	hpt_map(t, HPT_MIB(8), HPT_MIB(4));
	hpt_sweep(t, A(0), A(2), 100, 1);
	hpt_sweep(t, A(5), A(6), 50, 1);	/* upper half only */
	hpt_sweep(t, A(8), A(12), 40, 1);
}

void test_rank_capacity_fit(void)
{
	struct hpt_space t, *ts[1] = { &t };
	struct hp_rank_result res;
	struct hp_range *r;

	hpt_init(&t, NULL);
	hpt_three(&t);
	CHECK_EQ(hpt_rank(ts, 1, 768, NULL, 8, &res), 2);
	CHECK_EQ(hpt_hot(&t, 0), 512);
	CHECK_EQ(hpt_hot(&t, 4), 256);
	CHECK_EQ(hpt_hot(&t, 8), 0);
	CHECK_EQ(res.hot_pages, 768);
	CHECK_EQ(res.promote_pages, 768);
	CHECK_EQ(res.demote_pages, 0);
	r = hp_space_lookup(t.s, A(4));
	CHECK_EQ(res.boundary_density, hp_range_density(r));
	/* The partial part sits on the denser (upper) half. */
	CHECK(!hp_space_is_hot(t.s, A(4)));
	CHECK(hp_space_is_hot(t.s, A(5)));
	CHECK(hp_space_is_hot(t.s, A(6) - 1));
	/* Same input, same answer: nothing to do. */
	CHECK_EQ(hpt_rank(ts, 1, 768, NULL, 8, &res), 0);
	CHECK_EQ(res.hot_pages, 768);
	/* More room than demand: the boundary gets all of its range. */
	CHECK_EQ(hpt_rank(ts, 1, 1 << 20, NULL, 8, &res), 2);
	CHECK_EQ(res.hot_pages, 2048);
	CHECK_EQ(res.promote_pages, 256 + 1024);
	CHECK_EQ(hpt_rank(ts, 1, 0, NULL, 8, &res), 3);
	CHECK_EQ(res.hot_pages, 0);
	CHECK_EQ(res.demote_pages, 2048);
	hpt_fini(&t);
}

void test_rank_hysteresis(void)
{
	struct hpt_space t, *ts[1] = { &t };
	struct hp_range_params p;
	struct hp_rank_result res;

	hp_range_params_init(&p);
	hpt_init(&t, &p);
	hpt_three(&t);
	hpt_sweep(&t, A(0), A(2), 100, 1);	/* range 1 stays on top */
	hpt_rank(ts, 1, 768, &p, 8, &res);
	CHECK_EQ(hpt_hot(&t, 4), 256);
	/* Range 3 becomes 10% denser than range 2: below the 25% margin. */
	hpt_sweep(&t, A(8), A(12), 70, 1);
	CHECK_EQ(hpt_rank(ts, 1, 768, &p, 8, &res), 0);
	CHECK_EQ(hpt_hot(&t, 4), 256);
	CHECK_EQ(hpt_hot(&t, 8), 0);
	/* Without hysteresis it flips at once. */
	p.hysteresis = 0;
	CHECK_EQ(hpt_rank(ts, 1, 768, &p, 8, &res), 2);
	CHECK_EQ(hpt_hot(&t, 4), 0);
	CHECK_EQ(hpt_hot(&t, 8), 256);
	p.hysteresis = 25;
	CHECK_EQ(hpt_rank(ts, 1, 768, &p, 8, &res), 0);
	/* Range 2 at twice range 3's density beats the margin. */
	hpt_sweep(&t, A(5), A(6), 60, 1);
	CHECK_EQ(hpt_rank(ts, 1, 768, &p, 8, &res), 2);
	CHECK_EQ(hpt_hot(&t, 4), 256);
	CHECK_EQ(hpt_hot(&t, 8), 0);
	/* A partial range keeps its end when its amount changes. */
	CHECK(hp_space_is_hot(t.s, A(6) - 1));
	CHECK_EQ(hpt_rank(ts, 1, 600, &p, 8, &res), 1);
	CHECK_EQ(hpt_hot(&t, 4), 88);
	CHECK(hp_space_is_hot(t.s, A(6) - 1));
	CHECK_EQ(res.demote_pages, 168);
	hpt_fini(&t);
}

void test_rank_zero_density(void)
{
	struct hpt_space t, *ts[1] = { &t };
	struct hp_rank_result res;
	int i;

	hpt_init(&t, NULL);
	hpt_map(&t, 0, HPT_MIB(2));
	hpt_map(&t, HPT_MIB(4), HPT_MIB(2));
	/* No samples: nothing is worth a migration, whatever the room. */
	CHECK_EQ(hpt_rank(ts, 1, 1 << 20, NULL, 8, &res), 0);
	CHECK_EQ(res.hot_pages, 0);
	hpt_sweep(&t, A(0), A(2), 10, 1);
	CHECK_EQ(hpt_rank(ts, 1, 1 << 20, NULL, 8, &res), 1);
	CHECK_EQ(hpt_hot(&t, 0), 512);
	CHECK_EQ(hpt_hot(&t, 4), 0);
	/* Decayed to nothing: stays hot while the room is not needed. */
	for (i = 0; i < 20; i++)
		hpt_epoch(&t);
	CHECK_EQ(hp_range_count(hp_space_first(t.s)), 0);
	CHECK_EQ(hpt_rank(ts, 1, 1 << 20, NULL, 8, &res), 0);
	CHECK_EQ(hpt_hot(&t, 0), 512);
	/* ... and makes room when a range with samples needs it. */
	hpt_sweep(&t, A(4), A(6), 10, 1);
	CHECK_EQ(hpt_rank(ts, 1, 512, NULL, 8, &res), 2);
	CHECK_EQ(hpt_hot(&t, 0), 0);
	CHECK_EQ(hpt_hot(&t, 4), 512);
	hpt_fini(&t);
}

void test_rank_cross_mm(void)
{
	struct hpt_space x, y, *ts[2] = { &x, &y };
	struct hp_rank_result res;

	hpt_init(&x, NULL);
	hpt_init(&y, NULL);
	/* x has more samples, y has more per page: y wins the room. */
	hpt_map(&x, 0, HPT_MIB(64));
	hpt_sweep(&x, A(0), A(64), 1000, 1);
	hpt_map(&y, 0, HPT_MIB(2));
	hpt_sweep(&y, A(0), A(2), 100, 1);
	CHECK_EQ(hpt_rank(ts, 2, 512, NULL, 8, &res), 1);
	CHECK_EQ(hpt_hot(&y, 0), 512);
	CHECK_EQ(hpt_hot(&x, 0), 0);
	/* With room for both, the rest goes to x's range, partially. */
	CHECK_EQ(hpt_rank(ts, 2, 1536, NULL, 8, &res), 1);
	CHECK_EQ(hpt_hot(&x, 0), 1024);
	CHECK_EQ(res.hot_pages, 1536);
	hpt_fini(&x);
	hpt_fini(&y);
}

void test_rank_truncated(void)
{
	struct hpt_space a, b, c, *ts[3] = { &a, &b, &c };
	struct hp_rank_result res;

	hpt_init(&a, NULL);
	hpt_init(&b, NULL);
	hpt_init(&c, NULL);
	hpt_three(&a);
	hpt_three(&b);
	hpt_three(&c);
	/* hpt_rank() checks that all ranges changed, decisions or not. */
	CHECK_EQ(hpt_rank(ts, 3, 1 << 20, NULL, 1, &res), 1);
	CHECK_EQ(res.nr_decisions, 9);
	CHECK_EQ(res.hot_pages, 3 * 2048);
	CHECK_EQ(hpt_rank(ts, 3, 1000, NULL, 0, &res), 0);
	CHECK_EQ(res.hot_pages, 1000);
	hpt_fini(&a);
	hpt_fini(&b);
	hpt_fini(&c);
}

/* One epoch: 90% of 2000 samples on 2 MiB at @hot, the rest uniform. */
static unsigned long hpt_cycle(struct hpt_space *t, unsigned long hot)
{
	struct hpt_space *ts[1] = { t };
	struct hp_rank_result res;

	hpt_sweep(t, A(hot), A(hot + 2), 1800, 1);
	hpt_sweep(t, A(0), A(64), 200, 1);
	hpt_epoch(t);
	hpt_rank(ts, 1, 512, NULL, 64, &res);
	return res.promote_pages + res.demote_pages;
}

void test_stable_no_churn(void)
{
	unsigned long moved = 0;
	struct hpt_space t;
	int i;

	hpt_init(&t, NULL);
	hpt_map(&t, 0, HPT_MIB(64));
	for (i = 0; i < 15; i++)
		hpt_cycle(&t, 20);
	CHECK(hp_space_is_hot(t.s, A(20)));
	CHECK(hp_space_is_hot(t.s, A(22) - 1));
	/* A stable hot set: placement work stops, no ping-pong. */
	for (i = 0; i < 20; i++)
		moved += hpt_cycle(&t, 20);
	CHECK_EQ(moved, 0);
	/* The hot set moves: the new place wins within a few epochs. */
	for (i = 0; i < 8; i++)
		hpt_cycle(&t, 40);
	CHECK(hp_space_is_hot(t.s, A(40)));
	CHECK(hp_space_is_hot(t.s, A(42) - 1));
	CHECK(!hp_space_is_hot(t.s, A(20)));
	hpt_fini(&t);
}

/*
 * 16 hot MiB, one every 4 MiB: every quarter of every range looks the
 * same, so only bisecting ranges near the hot set finds them.
 */
void test_refine_scatter(void)
{
	struct hpt_space t, *ts[1] = { &t };
	unsigned long k, hot = 0, moved = 0;
	struct hp_rank_result res;
	int i;

	hpt_init(&t, NULL);
	hpt_map(&t, 0, HPT_MIB(64));
	for (i = 0; i < 20; i++) {
		for (k = 0; k < 16; k++)
			hpt_sweep(&t, A(4 * k), A(4 * k + 1), 100, 1);
		hpt_sweep(&t, A(0), A(64), 200, 1);
		hpt_epoch(&t);
		hpt_rank(ts, 1, 16 * 512, NULL, 64, NULL);
	}
	for (k = 0; k < 16; k++)
		hot += hp_space_is_hot(t.s, A(4 * k)) &&
		       hp_space_is_hot(t.s, A(4 * k + 1) - 1);
	CHECK_EQ(hot, 16);
	CHECK(hp_space_get_stats(t.s)->refines > 0);
	/*
	 * Uniform access afterwards: every range is as dense as the next,
	 * so hysteresis keeps the hot set as it is and nothing moves.
	 */
	for (i = 0; i < 30; i++) {
		hpt_sweep(&t, A(0), A(64), 16384, 1);
		hpt_epoch(&t);
		hpt_rank(ts, 1, 16 * 512, NULL, 64, &res);
		if (i >= 5)
			moved += res.promote_pages + res.demote_pages;
	}
	CHECK_EQ(moved, 0);
	CHECK(hp_space_nr_ranges(t.s) <= 32);
	/* With no fast memory left, all is cold and merges back into one. */
	hpt_rank(ts, 1, 0, NULL, 64, &res);
	for (i = 0; i < 4; i++) {
		hpt_sweep(&t, A(0), A(64), 16384, 1);
		hpt_epoch(&t);
	}
	CHECK_EQ(hp_space_nr_ranges(t.s), 1);
	hpt_fini(&t);
}

/*
 * A new partial hot part goes to the end that holds the samples, even
 * when aligning the cuts leaves sub-counters of unequal or zero size: a
 * 3 MiB range has cuts at 0, 0 and 2 MiB, so sub[2] covers [0, 2M) and
 * sub[3] covers [2M, 3M).
 */
void test_rank_place_dense_end(void)
{
	struct hpt_space t, *ts[1] = { &t };
	struct hp_range_params p;
	struct hp_range *r;

	hp_range_params_init(&p);
	hpt_init(&t, &p);
	hpt_map(&t, 0, HPT_MIB(3));
	hpt_sweep(&t, A(0), A(1), 1000, 1);
	r = hp_space_first(t.s);
	CHECK_EQ(r->sub[0] + r->sub[1], 0);
	hpt_rank(ts, 1, 256, &p, 64, NULL);
	CHECK_EQ(r->hot_start, A(0));
	CHECK_EQ(r->hot_end, A(1));
	CHECK(hp_space_is_hot(t.s, A(0)));
	CHECK(!hp_space_is_hot(t.s, A(3) - PAGE_SIZE));
	hpt_fini(&t);

	/* Samples in the top MiB: the part goes to the top. */
	hpt_init(&t, &p);
	hpt_map(&t, 0, HPT_MIB(3));
	hpt_sweep(&t, A(2), A(3), 1000, 1);
	r = hp_space_first(t.s);
	hpt_rank(ts, 1, 256, &p, 64, NULL);
	CHECK_EQ(r->hot_start, A(2));
	CHECK_EQ(r->hot_end, A(3));
	hpt_fini(&t);
}

/*
 * hp_rank() sets the refinement floor of every space to the larger of
 * half the boundary density and the mean density, the mean computed as a
 * density (no count per page truncated to whole fixed-point units).
 */
void test_rank_refine_floor(void)
{
	struct hpt_space t, *ts[1] = { &t };
	struct hp_range_params p;
	struct hp_rank_result res;
	u64 count, mean;

	hp_range_params_init(&p);
	hpt_init(&t, &p);
	hpt_three(&t);
	count = hpt_total(t.s);
	/* 190 samples over 2048 pages: 23.75 units per page. */
	mean = (count << HP_DENSITY_SHIFT) / 2048;
	hpt_rank(ts, 1, 0, &p, 64, &res);
	CHECK_EQ(res.boundary_density, 0);
	CHECK_EQ(t.s->refine_floor, mean);
	/* The 2 MiB range of 100 samples is the boundary: 50 per page. */
	hpt_rank(ts, 1, 512, &p, 64, &res);
	CHECK(res.boundary_density / 2 > mean);
	CHECK_EQ(t.s->refine_floor, res.boundary_density / 2);
	hpt_fini(&t);
}

/*
 * More ranges in all spaces together than an unsigned int counts: the
 * total must not wrap (a short array would be overrun), hp_rank() fails
 * with nothing changed.  The counts are faked; no range is touched.
 */
void test_rank_overflow(void)
{
	struct hpt_space t, u;
	struct hp_space *both[2];
	struct hp_decision dec[6];	/* one per range */
	unsigned int nt, nu;
	int ret;

	hpt_init(&t, NULL);
	hpt_init(&u, NULL);
	hpt_three(&t);
	hpt_three(&u);
	both[0] = t.s;
	both[1] = u.s;
	nt = t.s->nr_ranges;
	nu = u.s->nr_ranges;
	t.s->nr_ranges = 0x80000000U;
	u.s->nr_ranges = 0x80000000U;
	ret = hp_rank(both, 2, 768, NULL, dec, 6, NULL);
	t.s->nr_ranges = nt;
	u.s->nr_ranges = nu;
	CHECK_EQ(ret, -ENOMEM);
	CHECK(!hp_space_is_hot(t.s, A(0)));
	/* A huge @max_dec still yields a count that fits an int. */
	ret = hp_rank(both, 2, 768, NULL, dec, UINT_MAX, NULL);
	CHECK(ret > 0 && ret <= 6);
	hpt_placed_sync(&t);
	hpt_placed_sync(&u);
	hpt_fini(&t);
	hpt_fini(&u);
}
