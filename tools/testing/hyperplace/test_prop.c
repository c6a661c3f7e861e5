// SPDX-License-Identifier: GPL-2.0
/*
 * Randomized property test: a long random mix of every operation on three
 * spaces with different parameters, each call checked by the model
 * (coverage, boundaries, counts, statistics) and every ranking by the
 * brute-force reference.  The seed is printed; HPT_SEED overrides it.
 */
#include <stdlib.h>
#include "tests.h"

#define HPT_OPS		100000
#define HPT_NSP		3
#define HPT_SEED_DEF	20261126ULL

u64 hpt_rand(u64 *state)
{
	u64 x = *state;

	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	*state = x;
	return x * 0x2545f4914f6cdd1dULL;
}

u64 hpt_seed(void)
{
	const char *env = getenv("HPT_SEED");

	return env && *env ? strtoull(env, NULL, 0) : HPT_SEED_DEF;
}

struct hpt_prop {
	u64 rng;
	struct hpt_space sp[HPT_NSP];
	unsigned long hot_pg[HPT_NSP];
	unsigned long hot_len[HPT_NSP];
};

static unsigned long hpt_below(struct hpt_prop *st, unsigned long n)
{
	return n ? hpt_rand(&st->rng) % n : 0;
}

/* A random interval of the window, in pages: small, medium or large. */
static void hpt_interval(struct hpt_prop *st, unsigned long *pg,
			 unsigned long *n)
{
	static const unsigned long sizes[] = { 16, 1024, 8192, HPT_PAGES };
	unsigned long max = sizes[hpt_below(st, 4)];

	*pg = hpt_below(st, HPT_PAGES);
	max = max < HPT_PAGES - *pg ? max : HPT_PAGES - *pg;
	*n = 1 + hpt_below(st, max);
}

static void hpt_prop_record(struct hpt_prop *st, unsigned int i)
{
	struct hpt_space *t = &st->sp[i];
	unsigned long x = hpt_below(st, 100), addr;
	u32 weight = hpt_below(st, 10) ? 1 : hpt_below(st, 100);

	if (x < 80)
		addr = HPT_ADDR(st->hot_pg[i] + hpt_below(st, st->hot_len[i]));
	else if (x < 95)
		addr = HPT_ADDR(hpt_below(st, HPT_PAGES));
	else
		addr = hpt_rand(&st->rng);
	hpt_record(t, addr + hpt_below(st, PAGE_SIZE), weight);
}

static void hpt_prop_params(struct hpt_prop *st, unsigned int i)
{
	static const unsigned int shifts[] = { 12, 14, 16, 21 };
	static const unsigned int caps[] = { 16, 32, 64, 256 };
	struct hp_range_params p = st->sp[i].s->params;

	switch (hpt_below(st, 6)) {
	case 0:
		p.split_shift = shifts[hpt_below(st, 4)];
		break;
	case 1:
		p.max_ranges = caps[hpt_below(st, 4)];
		break;
	case 2:
		p.decay_shift = 1 + hpt_below(st, 4);
		break;
	case 3:
		p.min_age = hpt_below(st, 4);
		break;
	case 4:
		p.merge_ratio = 100 + hpt_below(st, 150);	/* may be invalid */
		break;
	default:
		p.split_shift = 11 + hpt_below(st, 22);	/* may be invalid */
		break;
	}
	hpt_set_params(&st->sp[i], &p);
}

static void hpt_prop_rank(struct hpt_prop *st)
{
	struct hpt_space *ts[HPT_NSP];
	struct hp_range_params p;
	unsigned long pages = 0;
	unsigned int i, max_dec;

	for (i = 0; i < HPT_NSP; i++) {
		ts[i] = &st->sp[i];
		pages += hpt_mapped_pages(ts[i]);
	}
	hp_range_params_init(&p);
	p.hysteresis = hpt_below(st, 4) ? 25 : hpt_below(st, 101);
	max_dec = hpt_below(st, 4) ? 64 : hpt_below(st, 3);
	hpt_rank(ts, HPT_NSP, hpt_below(st, pages + 2), &p, max_dec, NULL);
}

/* Make one of the next allocations fail during one operation. */
static void hpt_prop_fault(struct hpt_prop *st, unsigned int i)
{
	struct hpt_space *t = &st->sp[i];
	unsigned long pg, n;

	hpt_fail_alloc(1 + hpt_below(st, 3));
	hpt_interval(st, &pg, &n);
	switch (hpt_below(st, 4)) {
	case 0:
		hpt_map(t, pg, n);
		break;
	case 1:
		hpt_unmap(t, pg, n);
		break;
	case 2:
		hpt_epoch(t);
		break;
	default:
		hpt_prop_rank(st);
		break;
	}
	hpt_fail_alloc(0);
}

static void hpt_prop_step(struct hpt_prop *st)
{
	unsigned int x = hpt_below(st, 1000), i = hpt_below(st, HPT_NSP);
	struct hpt_space *t = &st->sp[i];
	unsigned long pg, n;

	if (x < 700) {
		hpt_prop_record(st, i);
	} else if (x < 760) {
		hpt_interval(st, &pg, &n);
		hpt_map(t, pg, n);
	} else if (x < 800) {
		hpt_interval(st, &pg, &n);
		hpt_unmap(t, pg, n);
	} else if (x < 820) {
		hpt_interval(st, &st->hot_pg[i], &st->hot_len[i]);
	} else if (x < 900) {
		hpt_epoch(t);
	} else if (x < 960) {
		hpt_prop_rank(st);
	} else if (x < 975) {
		hpt_prop_params(st, i);
	} else if (x < 995) {
		hpt_prop_fault(st, i);
	} else {
		/* exit and a new process in the same slot */
		hpt_unmap(t, 0, HPT_PAGES);
		pg = hpt_below(st, HPT_PAGES - HPT_MIB(64));
		hpt_map(t, pg, HPT_MIB(64));
	}
}

void test_property(void)
{
	static struct hpt_prop st;
	struct hp_range_params p[HPT_NSP];
	const struct hp_space_stats *s;
	unsigned long op;
	unsigned int i;
	u64 seed = hpt_seed();

	hpt_diag("property test: %d operations, seed=%llu (HPT_SEED=n)",
		 HPT_OPS, (unsigned long long)seed);
	st.rng = seed ? seed : 1;
	for (i = 0; i < HPT_NSP; i++) {
		hp_range_params_init(&p[i]);
		p[i].max_ranges = 256;
		st.hot_pg[i] = HPT_MIB(8 * i);
		st.hot_len[i] = 512;
	}
	p[0].split_shift = 16;
	p[0].min_age = 1;
	p[1].split_shift = 14;
	p[1].max_ranges = 16;
	p[1].min_age = 0;
	p[1].decay_shift = 2;
	p[2].merge_floor_samples = 0;
	for (i = 0; i < HPT_NSP; i++) {
		hpt_init(&st.sp[i], &p[i]);
		hpt_map(&st.sp[i], 0, HPT_MIB(64));
	}
	for (op = 0; op < HPT_OPS && !hpt_failures(); op++)
		hpt_prop_step(&st);
	if (hpt_failures())
		hpt_diag("first failure at operation %lu", op - 1);
	CHECK_EQ(op, HPT_OPS);
	for (i = 0; i < HPT_NSP; i++) {
		s = hp_space_get_stats(st.sp[i].s);
		hpt_diag("space %u: R=%u samples=%llu unmatched=%llu epochs=%llu "
			 "splits=%llu refines=%llu merges=%llu cap_merges=%llu "
			 "alloc_failures=%llu",
			 i, hp_space_nr_ranges(st.sp[i].s),
			 (unsigned long long)s->samples,
			 (unsigned long long)s->unmatched,
			 (unsigned long long)s->epochs,
			 (unsigned long long)s->splits,
			 (unsigned long long)s->refines,
			 (unsigned long long)s->merges,
			 (unsigned long long)s->cap_merges,
			 (unsigned long long)s->alloc_failures);
		CHECK(s->splits > 0 && s->merges > 0);
		hpt_fini(&st.sp[i]);
	}
}
