// SPDX-License-Identifier: GPL-2.0
/* Epochs: decay arithmetic, splits, merges, the cap, reshapes, -ENOMEM. */
#include "tests.h"

#define A(mib)	HPT_ADDR(HPT_MIB(mib))

static void hpt_params(struct hp_range_params *p)
{
	hp_range_params_init(p);
}

void test_decay_arith(void)
{
	struct hp_range_params p;
	struct hpt_space t, u;
	struct hp_range *r;

	hpt_params(&p);
	hpt_init(&t, &p);
	p.decay_shift = 3;
	hpt_init(&u, &p);
	/* One granule cannot split, so only decay acts on it. */
	hpt_map(&t, HPT_MIB(2), HPT_MIB(2));
	hpt_map(&u, HPT_MIB(2), HPT_MIB(2));
	hpt_sweep(&t, A(2), A(4), 100, 1);
	hpt_sweep(&u, A(2), A(4), 100, 1);
	r = hp_space_first(t.s);
	CHECK_EQ(hp_range_count(r), 25600);
	CHECK_EQ(hp_range_density(r), (25600ULL << HP_DENSITY_SHIFT) / 512);
	hpt_epoch(&t);
	CHECK_EQ(hp_range_count(r), 12800);
	hpt_epoch(&t);
	CHECK_EQ(hp_range_count(r), 6400);
	hpt_epoch(&u);
	CHECK_EQ(hp_range_count(hp_space_first(u.s)), 25600 - 3200);
	/* Odd counts round the decayed part down. */
	hpt_record(&t, A(3), 1);
	hpt_epoch(&t);
	CHECK_EQ(hp_range_count(r), 3328);
	CHECK_EQ(hp_range_density(r), (3328ULL << HP_DENSITY_SHIFT) / 512);
	CHECK_EQ(hp_space_nr_ranges(t.s), 1);
	hpt_fini(&t);
	hpt_fini(&u);
}

/* Every boundary inside [lo, hi) of @t is a multiple of 2 MiB. */
static void hpt_check_thp_aligned(struct hpt_space *t)
{
	struct hp_range *r;

	for (r = hp_space_first(t->s); r; r = hp_range_next(r))
		CHECK(!(r->start & ((2UL << 20) - 1)) &&
		      !(r->end & ((2UL << 20) - 1)));
}

/* Hot 2 MiB at @hot (MiB) inside 64 MiB, 10% uniform background. */
static void hpt_hot_epoch(struct hpt_space *t, unsigned long hot)
{
	hpt_sweep(t, A(hot), A(hot + 2), 1800, 1);
	hpt_sweep(t, A(0), A(64), 200, 1);
	hpt_epoch(t);
}

void test_split_converges(void)
{
	struct hpt_space t;
	struct hp_range *r;
	int i;

	hpt_init(&t, NULL);
	hpt_map(&t, 0, HPT_MIB(64));
	hpt_hot_epoch(&t, 20);
	CHECK_EQ(hp_space_get_stats(t.s)->splits, 1);
	for (i = 0; i < 10; i++)
		hpt_hot_epoch(&t, 20);
	r = hp_space_lookup(t.s, A(21));
	CHECK(r && r->start == A(20) && r->end == A(22));
	hpt_check_thp_aligned(&t);
	CHECK(hp_space_nr_ranges(t.s) <= 8);
	hpt_fini(&t);
}

static unsigned int hpt_nonzero(struct hpt_space *t)
{
	struct hp_range *r;
	unsigned int i, n = 0;

	for (r = hp_space_first(t->s); r; r = hp_range_next(r))
		for (i = 0; i < HP_NR_SUB; i++)
			n += !!r->sub[i];
	return n;
}

void test_split_conserves(void)
{
	struct hp_range_params p;
	struct hpt_space t;
	u64 before;

	hpt_params(&p);
	p.decay_shift = 16;	/* decay takes 1 from each non-zero count */
	hpt_init(&t, &p);
	hpt_map(&t, 0, HPT_MIB(64));
	hpt_sweep(&t, A(40), A(42), 100, 1);
	hpt_sweep(&t, A(0), A(64), 64, 1);
	before = hpt_total(t.s);
	hpt_epoch(&t);
	CHECK_EQ(hp_space_nr_ranges(t.s), 2);
	CHECK_EQ(hpt_total(t.s) + hpt_nonzero(&t), before);
	CHECK(hp_space_lookup(t.s, A(40))->start == A(32));
	CHECK(hp_space_lookup(t.s, A(40))->end == A(64));
	hpt_check_thp_aligned(&t);
	hpt_fini(&t);
}

void test_merge_roundtrip(void)
{
	struct hpt_space t;
	struct hp_range *r;
	unsigned int peak;
	int i;

	hpt_init(&t, NULL);
	hpt_map(&t, 0, HPT_MIB(64));
	for (i = 0; i < 8; i++)
		hpt_hot_epoch(&t, 36);
	peak = hp_space_nr_ranges(t.s);
	CHECK(peak >= 4);
	/* Uniform access: neighbours become similar and merge back. */
	for (i = 0; i < 12; i++) {
		hpt_sweep(&t, A(0), A(64), 16384, 1);
		hpt_epoch(&t);
	}
	CHECK_EQ(hp_space_nr_ranges(t.s), 1);
	CHECK(hp_space_get_stats(t.s)->merges >= peak - 1);
	/* And split again when a hot spot appears. */
	for (i = 0; i < 10; i++)
		hpt_hot_epoch(&t, 8);
	r = hp_space_lookup(t.s, A(8));
	CHECK(r && r->start == A(8) && r->end == A(10));
	/* No access at all: everything decays below the floor and merges. */
	for (i = 0; i < 30; i++)
		hpt_epoch(&t);
	CHECK_EQ(hp_space_nr_ranges(t.s), 1);
	r = hp_space_first(t.s);
	CHECK(r && r->start == A(0) && r->end == A(64));
	hpt_fini(&t);
}

void test_merge_min_age(void)
{
	struct hp_range_params p;
	struct hpt_space t;
	int i;

	hpt_params(&p);
	p.min_age = 3;
	hpt_init(&t, &p);
	/* Two cold neighbours from two maps cool down before merging. */
	hpt_map(&t, 0, HPT_MIB(2));
	hpt_map(&t, HPT_MIB(2), HPT_MIB(2));
	for (i = 0; i < 3; i++) {
		hpt_epoch(&t);
		CHECK_EQ(hp_space_nr_ranges(t.s), 2);
	}
	hpt_epoch(&t);
	CHECK_EQ(hp_space_nr_ranges(t.s), 1);
	/* A split restarts the age of both halves. */
	hpt_map(&t, HPT_MIB(4), HPT_MIB(60));
	for (i = 0; i < 4; i++)
		hpt_epoch(&t);
	CHECK_EQ(hp_space_nr_ranges(t.s), 1);
	hpt_sweep(&t, A(8), A(10), 1000, 1);
	hpt_epoch(&t);
	CHECK_EQ(hp_space_nr_ranges(t.s), 2);
	CHECK_EQ(hp_space_first(t.s)->age, 1);
	CHECK_EQ(hp_range_next(hp_space_first(t.s))->age, 1);
	hpt_fini(&t);
}

void test_cap(void)
{
	struct hpt_space t, *ts[1] = { &t };
	struct hp_range_params p;
	unsigned long i, k;

	hpt_params(&p);
	p.max_ranges = 16;
	p.split_shift = 16;
	hpt_init(&t, &p);
	hpt_map(&t, 0, HPT_MIB(64));
	for (i = 0; i < 20; i++) {
		/*
		 * 40 small hot spots spread evenly: uniform at quarter
		 * scale, so only bisecting the boundary finds them.
		 */
		for (k = 0; k < 40; k++)
			hpt_sweep(&t, A(k * 3 / 2), A(k * 3 / 2) + 65536,
				  50 + 10 * k, 1);
		hpt_epoch(&t);
		CHECK(hp_space_nr_ranges(t.s) <= 16);
		hpt_rank(ts, 1, 160, &p, 64, NULL);
	}
	CHECK_EQ(hp_space_nr_ranges(t.s), 16);
	CHECK(hp_space_get_stats(t.s)->refines > 0);
	/* Splits stop at the cap rather than being merged away after. */
	CHECK_EQ(hp_space_get_stats(t.s)->cap_merges, 0);
	/* 20 disjoint mappings need 20 ranges, cap or not. */
	for (i = 0; i < 20; i++)
		hpt_unmap(&t, HPT_MIB(3 * i) + 16, HPT_MIB(1));
	CHECK_EQ(hpt_intervals(&t), 21);
	for (i = 0; i < 40; i++)
		hpt_epoch(&t);
	CHECK_EQ(hp_space_nr_ranges(t.s), 21);
	/* Fewer mappings than the cap: back under it. */
	hpt_unmap(&t, 0, HPT_MIB(32));
	hpt_epoch(&t);
	CHECK(hp_space_nr_ranges(t.s) <= 16);
	/* Lowering the cap merges down at the next epoch. */
	p.max_ranges = 64;
	hpt_set_params(&t, &p);
	hpt_map(&t, 0, HPT_MIB(128));
	for (i = 0; i < 10; i++) {
		for (k = 0; k < 40; k++)
			hpt_sweep(&t, A(k * 3), A(k * 3) + 65536, 50 + 10 * k,
				  1);
		hpt_epoch(&t);
	}
	CHECK(hp_space_nr_ranges(t.s) > 16);
	p.max_ranges = 16;
	hpt_set_params(&t, &p);
	hpt_epoch(&t);
	CHECK(hp_space_nr_ranges(t.s) <= 16);
	CHECK(hp_space_get_stats(t.s)->cap_merges > 0);
	hpt_fini(&t);
}

void test_set_params_reshape(void)
{
	struct hp_range_params p;
	struct hpt_space t;
	struct hp_range *r;
	int i;

	hpt_init(&t, NULL);
	hpt_map(&t, 0, HPT_MIB(64));
	for (i = 0; i < 3; i++)
		hpt_hot_epoch(&t, 20);
	hpt_params(&p);
	p.split_shift = 14;
	/* hpt_set_params() checks conservation and alignment. */
	CHECK_EQ(hpt_set_params(&t, &p), 0);
	for (i = 0; i < 8; i++) {
		hpt_sweep(&t, A(20), A(20) + 65536, 400, 1);
		hpt_epoch(&t);
	}
	r = hp_space_lookup(t.s, A(20));
	CHECK(r && r->end - r->start < (2UL << 20));
	CHECK(r && !(r->start & 0x3fff) && !(r->end & 0x3fff));
	p.split_shift = 21;
	CHECK_EQ(hpt_set_params(&t, &p), 0);
	hpt_fini(&t);
}

void test_enomem(void)
{
	struct hp_range_params p;
	struct hpt_space t;
	struct hpt_space *ts[1] = { &t };
	int nth, err;

	hpt_fail_alloc(1);
	CHECK(PTR_ERR(hp_space_create(NULL)) == -ENOMEM);
	hpt_fail_alloc(0);

	hpt_init(&t, NULL);
	hpt_map(&t, 0, HPT_MIB(1));
	hpt_map(&t, HPT_MIB(2), HPT_MIB(1));
	hpt_map(&t, HPT_MIB(4), HPT_MIB(1));
	hpt_map(&t, HPT_MIB(6), HPT_MIB(1));
	hpt_map(&t, HPT_MIB(8), HPT_MIB(1));
	/* 5 gaps: an array and five ranges; any failure changes nothing. */
	for (nth = 1; nth <= 7; nth++) {
		hpt_fail_alloc(nth);
		err = hpt_map(&t, 0, HPT_MIB(12));
		CHECK_EQ(err, nth <= 6 ? -ENOMEM : 0);
		hpt_fail_alloc(0);
	}
	CHECK_EQ(hp_space_get_stats(t.s)->alloc_failures, 6);
	CHECK_EQ(hp_space_nr_ranges(t.s), 10);
	/* A hole needs a new range. */
	hpt_fail_alloc(1);
	CHECK_EQ(hpt_unmap(&t, HPT_MIB(10), 16), -ENOMEM);
	hpt_fail_alloc(0);
	CHECK_EQ(hpt_unmap(&t, HPT_MIB(10), 16), 0);
	CHECK_EQ(hp_space_nr_ranges(t.s), 11);

	hpt_unmap(&t, 0, HPT_PAGES);
	hpt_map(&t, 0, HPT_MIB(64));
	hpt_sweep(&t, A(20), A(22), 1000, 1);
	hpt_fail_alloc(1);
	CHECK_EQ(hpt_epoch(&t), -ENOMEM);
	hpt_fail_alloc(0);
	CHECK_EQ(hp_space_nr_ranges(t.s), 1);
	CHECK_EQ(hpt_epoch(&t), 0);
	CHECK_EQ(hp_space_nr_ranges(t.s), 2);
	hp_range_params_init(&p);
	hpt_fail_alloc(1);
	CHECK_EQ(hpt_rank(ts, 1, 1024, &p, 4, NULL), -ENOMEM);
	hpt_fail_alloc(0);
	CHECK(hpt_rank(ts, 1, 1024, &p, 4, NULL) > 0);
	hpt_fini(&t);
}

/* Densities 1.6x apart merge when the counts are too small to tell. */
void test_merge_noise(void)
{
	struct hp_range_params p;
	struct hpt_space t, u;

	hpt_params(&p);
	p.min_age = 0;
	hpt_init(&t, &p);
	hpt_init(&u, &p);
	hpt_map(&t, 0, HPT_MIB(2));
	hpt_map(&t, HPT_MIB(2), HPT_MIB(2));
	hpt_sweep(&t, A(0), A(2), 10, 1);
	hpt_sweep(&t, A(2), A(4), 16, 1);
	hpt_epoch(&t);
	CHECK_EQ(hp_space_nr_ranges(t.s), 1);
	/* The same ratio with many samples is a real difference. */
	hpt_map(&u, 0, HPT_MIB(2));
	hpt_map(&u, HPT_MIB(2), HPT_MIB(2));
	hpt_sweep(&u, A(0), A(2), 1000, 1);
	hpt_sweep(&u, A(2), A(4), 1600, 1);
	hpt_epoch(&u);
	CHECK_EQ(hp_space_nr_ranges(u.s), 2);
	hpt_fini(&t);
	hpt_fini(&u);
}

/* A uniform-looking busy range is refined, in quarters when very busy. */
void test_refine_quarters(void)
{
	struct hpt_space t, u, v;

	hpt_init(&t, NULL);
	hpt_init(&u, NULL);
	hpt_init(&v, NULL);
	hpt_map(&t, 0, HPT_MIB(64));
	hpt_map(&u, 0, HPT_MIB(64));
	hpt_map(&v, 0, HPT_MIB(64));
	hpt_sweep(&t, A(0), A(64), 4 * 32, 1);
	hpt_sweep(&u, A(0), A(64), 2 * 32, 1);
	hpt_sweep(&v, A(0), A(64), 2 * 32 - 1, 1);
	hpt_epoch(&t);
	hpt_epoch(&u);
	hpt_epoch(&v);
	CHECK_EQ(hp_space_nr_ranges(t.s), 4);
	CHECK_EQ(hp_space_nr_ranges(u.s), 2);
	CHECK_EQ(hp_space_nr_ranges(v.s), 1);
	CHECK_EQ(hp_space_get_stats(t.s)->refines, 1);
	hpt_fini(&t);
	hpt_fini(&u);
	hpt_fini(&v);
}

/*
 * The layout of the cap-merge tests: two touching 2 MiB ranges at 0 and
 * 15 isolated 2 MiB mappings, one more than a cap of 16 leaves room for,
 * so the epoch must force a merge and only the touching pair can merge.
 */
static void hpt_cap_merge_layout(struct hpt_space *t, struct hp_range_params *p)
{
	unsigned long i;

	hpt_params(p);
	p->max_ranges = 16;
	hpt_init(t, p);
	hpt_map(t, 0, HPT_MIB(2));
	hpt_map(t, HPT_MIB(2), HPT_MIB(2));
	for (i = 0; i < 15; i++)
		hpt_map(t, HPT_MIB(10 + 4 * i), HPT_MIB(2));
}

/*
 * A merge forced by the cap must not move a hot part behind the engine's
 * back: a hot 2 MiB range next to a partially hot one, and more isolated
 * mappings than the cap leaves room for.  hpt_check() compares the
 * placement built from the decisions with the hot parts.
 */
void test_cap_merge_hot(void)
{
	struct hpt_space t, *ts[1] = { &t };
	struct hp_range_params p;
	unsigned long i;

	hpt_cap_merge_layout(&t, &p);
	hpt_sweep(&t, A(0), A(2), 1000, 1);
	hpt_sweep(&t, A(2), A(4), 300, 1);
	hpt_rank(ts, 1, 768, &p, 64, NULL);
	CHECK_EQ(hp_range_hot_pages(hp_space_first(t.s)), 512);
	hpt_epoch(&t);
	hpt_rank(ts, 1, 768, &p, 64, NULL);
	/* The soft cap may stay exceeded, but the hot set is as ranked. */
	CHECK(hp_space_nr_ranges(t.s) <= 17);
	for (i = 0; i < 3; i++) {
		hpt_sweep(&t, A(0), A(4), 1000, 1);
		hpt_epoch(&t);
		hpt_rank(ts, 1, 768, &p, 64, NULL);
	}
	hpt_fini(&t);
}

/* rb_next() with a count of the calls: the cost of walking the ranges. */
struct rb_node *__real_rb_next(const struct rb_node *node);
struct rb_node *__wrap_rb_next(const struct rb_node *node);
static unsigned long hpt_rb_next_calls;

struct rb_node *__wrap_rb_next(const struct rb_node *node)
{
	hpt_rb_next_calls++;
	return __real_rb_next(node);
}

/*
 * More mappings than the cap, all apart: nothing can merge, and the epoch
 * must not walk the ranges once per doubling of the merge tolerance (35
 * walks); a few walks (split, merge, cap, decay) are the cost.
 */
void test_cap_unreachable_cost(void)
{
	struct hp_range_params p;
	struct hpt_space t;
	unsigned long i, calls, n = 2048;

	hpt_params(&p);
	p.max_ranges = 16;
	hpt_init(&t, &p);
	for (i = 0; i < n; i++)
		hpt_map(&t, 3 * i, 2);
	hpt_rb_next_calls = 0;
	hpt_epoch(&t);
	calls = hpt_rb_next_calls;
	CHECK_EQ(hp_space_nr_ranges(t.s), n);
	/* hpt_epoch()'s own checks walk the ranges a few times too. */
	if (calls > 10 * n)
		hpt_fail(__FILE__, __LINE__,
			 "epoch walked %lu ranges, %.1f per range", calls,
			 (double)calls / n);
	hpt_fini(&t);
}

/*
 * A cap merge joins ranges that need not be alike: the result is not
 * known to be uniform, whatever the lower one was.
 */
void test_cap_merge_unsettles(void)
{
	struct hp_range_params p;
	struct hpt_space t;
	struct hp_range *r;

	hpt_cap_merge_layout(&t, &p);
	hpt_sweep(&t, A(0), A(4), 200, 1);
	r = hp_space_first(t.s);
	r->settled = true;
	/* Over the cap: no split; too young for a similar merge. */
	hpt_epoch(&t);
	CHECK_EQ(hp_space_get_stats(t.s)->cap_merges, 1);
	CHECK_EQ(r->end, A(4));
	CHECK(!r->settled);
	hpt_fini(&t);
}
