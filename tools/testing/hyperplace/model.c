// SPDX-License-Identifier: GPL-2.0
/* Reference model of a space and the invariants checked after every call. */
#include <stdlib.h>
#include <string.h>
#include "bits.h"
#include "model.h"
#include "tap.h"
#include "tests.h"

static int fail_countdown;

bool hp_shim_alloc_fails(void)
{
	return fail_countdown > 0 && --fail_countdown == 0;
}

void hpt_fail_alloc(int nth)
{
	fail_countdown = nth;
}

void hpt_init(struct hpt_space *t, const struct hp_range_params *p)
{
	memset(t, 0, sizeof(*t));
	t->s = hp_space_create(p);
	CHECK(!IS_ERR(t->s));
	if (IS_ERR(t->s))
		abort();
	t->min_shift = t->s->params.split_shift;
}

void hpt_fini(struct hpt_space *t)
{
	hp_space_destroy(t->s);
	t->s = NULL;
}

u64 hpt_total(const struct hp_space *s)
{
	const struct hp_range *r;
	u64 sum = 0;

	for (r = hp_space_first(s); r; r = hp_range_next(r))
		sum += hp_range_count(r);
	return sum;
}

unsigned long hpt_mapped_pages(const struct hpt_space *t)
{
	return hpt_bits_count(t->mapped, NULL, 0, HPT_PAGES);
}

unsigned long hpt_intervals(const struct hpt_space *t)
{
	unsigned long w, n = 0;
	u64 carry = 0;

	for (w = 0; w < HPT_WORDS; w++) {
		n += __builtin_popcountll(t->mapped[w] &
					  ~(t->mapped[w] << 1 | carry));
		carry = t->mapped[w] >> 63;
	}
	return n;
}

/* A range boundary is a split point or the end of some map/unmap. */
static bool hpt_boundary_ok(const struct hpt_space *t, unsigned long addr)
{
	return !(addr & ((1UL << t->min_shift) - 1)) ||
	       hpt_bit(t->edge, HPT_PG(addr));
}

static void hpt_check_range(struct hpt_space *t, const struct hp_range *r)
{
	unsigned long gran = 1UL << t->s->params.split_shift, lo, prev;
	unsigned int i;

	CHECK(r->start < r->end);
	CHECK(!(r->start & (PAGE_SIZE - 1)) && !(r->end & (PAGE_SIZE - 1)));
	CHECK(r->start >= HPT_BASE && r->end <= HPT_ADDR(HPT_PAGES));
	if (r->start < HPT_BASE || r->end > HPT_ADDR(HPT_PAGES))
		return;
	CHECK_EQ(hpt_bits_count(t->mapped, NULL, HPT_PG(r->start),
				HPT_PG(r->end)), hp_range_pages(r));
	CHECK(hpt_boundary_ok(t, r->start));
	CHECK(hpt_boundary_ok(t, r->end));
	prev = r->start;
	for (i = 0; i < HP_NR_SUB - 1; i++) {
		lo = r->cut[i];
		CHECK(lo >= prev && lo <= r->end);
		CHECK(lo == r->start || lo == r->end || !(lo & (gran - 1)));
		prev = lo;
	}
	for (i = 0; i < HP_NR_SUB; i++)
		CHECK(r->sub[i] <= HP_SUB_MAX);
	CHECK(r->hot_start <= r->hot_end);
	CHECK(r->hot_start >= r->start && r->hot_end <= r->end);
	CHECK(!(r->hot_start & (PAGE_SIZE - 1)) &&
	      !(r->hot_end & (PAGE_SIZE - 1)));
	if (r->hot_start == r->hot_end)
		CHECK_EQ(r->hot_start, r->start);
	else
		CHECK(r->hot_start == r->start || r->hot_end == r->end);
	CHECK(hp_space_lookup(t->s, r->start) == r);
	CHECK(hp_space_lookup(t->s, r->end - 1) == r);
}

/* The pages of the window that are hot in the ranges of @s, into @map. */
static void hpt_hot_map(const struct hp_space *s, u64 *map)
{
	const struct hp_range *r;

	memset(map, 0, HPT_WORDS * sizeof(u64));
	for (r = hp_space_first(s); r; r = hp_range_next(r))
		hpt_bits_set(map, HPT_PG(r->hot_start), HPT_PG(r->hot_end),
			     true);
}

void hpt_placed_sync(struct hpt_space *t)
{
	hpt_hot_map(t->s, t->placed);
}

/*
 * Nothing but hp_rank() may change the hot set, and the decisions it
 * returns must describe every change: the engine's placement built from
 * them equals the hot parts (hpt_check_range() ties those to
 * hp_space_is_hot()).
 */
static void hpt_check_placed(struct hpt_space *t)
{
	static u64 hot[HPT_WORDS];
	unsigned long w, bad = 0, first = 0;
	u64 diff;

	hpt_hot_map(t->s, hot);
	/* A word at a time: this runs after every call the fuzzer makes. */
	for (w = 0; w < HPT_WORDS; w++) {
		diff = hot[w] ^ t->placed[w];
		if (!diff)
			continue;
		if (!bad)
			first = w * 64 + __builtin_ctzll(diff);
		bad += __builtin_popcountll(diff);
	}
	if (bad)
		hpt_fail(__FILE__, __LINE__,
			 "%lu pages placed unlike hp_space_is_hot(), first %#lx",
			 bad, HPT_ADDR(first));
}

void hpt_check(struct hpt_space *t)
{
	const struct hp_space_stats *st = hp_space_get_stats(t->s);
	unsigned long pages = 0, prev_end = 0;
	const struct hp_range *r;
	unsigned int n = 0;

	for (r = hp_space_first(t->s); r; r = hp_range_next(r)) {
		CHECK(r->start >= prev_end);
		prev_end = r->end;
		hpt_check_range(t, r);
		pages += hp_range_pages(r);
		n++;
	}
	CHECK_EQ(n, hp_space_nr_ranges(t->s));
	CHECK_EQ(pages, hpt_mapped_pages(t));
	CHECK_EQ(st->samples, t->samples);
	CHECK_EQ(st->unmatched, t->unmatched);
	CHECK_EQ(hp_range_params_validate(&t->s->params), 0);
	hpt_check_placed(t);
}

/*
 * Map (@map) or unmap pages [@pg, @pg + @n): a failure must change
 * nothing; a map keeps every count, an unmap can only lose some.
 */
static int hpt_change(struct hpt_space *t, unsigned long pg, unsigned long n,
		      bool map)
{
	unsigned long start = HPT_ADDR(pg), end = HPT_ADDR(pg + n);
	struct hpt_snap sn;
	u64 total;
	int err;

	hpt_snap_take(&sn, t->s);
	err = map ? hp_space_map(t->s, start, end) :
		    hp_space_unmap(t->s, start, end);
	if (err) {
		CHECK(err == -ENOMEM);
		CHECK(hpt_snap_same(&sn, t->s));
	} else {
		total = hpt_total(t->s);
		CHECK(map ? total == hpt_total_snap(&sn) :
			    total <= hpt_total_snap(&sn));
		hpt_bits_set(t->mapped, pg, pg + n, map);
		if (!map)	/* the engine's pages go with the mapping */
			hpt_bits_set(t->placed, pg, pg + n, false);
		hpt_bits_set(t->edge, pg, pg + 1, true);
		hpt_bits_set(t->edge, pg + n, pg + n + 1, true);
	}
	hpt_snap_free(&sn);
	hpt_check(t);
	return err;
}

int hpt_map(struct hpt_space *t, unsigned long pg, unsigned long n)
{
	return hpt_change(t, pg, n, true);
}

int hpt_unmap(struct hpt_space *t, unsigned long pg, unsigned long n)
{
	return hpt_change(t, pg, n, false);
}

/*
 * The range holding @addr, found without the tree, and the total count:
 * one walk, as this runs for every sample.
 */
static struct hp_range *hpt_scan(const struct hp_space *s, unsigned long addr,
				 u64 *total)
{
	struct hp_range *r, *found = NULL;

	*total = 0;
	for (r = hp_space_first(s); r; r = hp_range_next(r)) {
		*total += hp_range_count(r);
		if (addr >= r->start && addr < r->end)
			found = r;
	}
	return found;
}

bool hpt_record(struct hpt_space *t, unsigned long addr, u32 weight)
{
	u64 before[HP_NR_SUB], total, rest, want;
	u64 add = (u64)weight << HP_COUNT_SHIFT;
	struct hp_range *r = hpt_scan(t->s, addr, &total);
	unsigned long lo, hi;
	unsigned int i;
	bool hit;

	if (r)
		memcpy(before, r->sub, sizeof(before));
	hit = hp_space_record(t->s, addr, weight);
	CHECK_EQ(hit, !!r);
	if (!r) {
		t->unmatched++;
		CHECK_EQ(hpt_total(t->s), total);
		return hit;
	}
	t->samples++;
	rest = total;
	/* Only the sub-counter of @addr grows, and it saturates... */
	for (i = 0; i < HP_NR_SUB; i++) {
		lo = i ? r->cut[i - 1] : r->start;
		hi = i < HP_NR_SUB - 1 ? r->cut[i] : r->end;
		want = before[i];
		if (addr >= lo && addr < hi)
			want = min_t(u64, want + add, HP_SUB_MAX);
		CHECK_EQ(r->sub[i], want);
		rest -= before[i];
	}
	/* ...and the other ranges keep their counts. */
	CHECK_EQ(hpt_total(t->s) - hp_range_count(r), rest);
	return hit;
}

static bool hpt_hot_empty(const struct hp_range *r)
{
	return r->hot_start == r->hot_end;
}

/*
 * Some touching neighbours could merge with their hot parts joined into
 * one that touches an end.  The cap may stay exceeded only without them.
 */
static bool hpt_any_joinable(const struct hp_space *s)
{
	const struct hp_range *a, *b;
	bool ea, eb, ok;

	for (a = hp_space_first(s); a && (b = hp_range_next(a)); a = b) {
		if (a->end != b->start)
			continue;
		ea = hpt_hot_empty(a);
		eb = hpt_hot_empty(b);
		if (ea && eb)
			ok = true;
		else if (ea)
			ok = b->hot_end == b->end;
		else if (eb)
			ok = a->hot_start == a->start;
		else
			ok = a->hot_end == a->end && b->hot_start == b->start &&
			     (a->hot_start == a->start || b->hot_end == b->end);
		if (ok)
			return true;
	}
	return false;
}

/*
 * The largest count of a run of touching ranges.  Splits and merges move
 * counts exactly unless a sub-counter of the result saturates at
 * HP_SUB_MAX, and that needs more than HP_SUB_MAX in one run.
 */
static u64 hpt_max_run(const struct hp_space *s)
{
	const struct hp_range *r, *prev = NULL;
	u64 run = 0, max = 0;

	for (r = hp_space_first(s); r; prev = r, r = hp_range_next(r)) {
		if (!prev || prev->end != r->start)
			run = 0;
		run += hp_range_count(r);
		if (run > max)
			max = run;
	}
	return max;
}

int hpt_epoch(struct hpt_space *t)
{
	unsigned int shift = t->s->params.decay_shift;
	u64 before = hpt_total(t->s), after, epochs;
	bool exact = hpt_max_run(t->s) <= HP_SUB_MAX;
	unsigned long cap, iv;
	int err;

	epochs = hp_space_get_stats(t->s)->epochs;
	err = hp_space_epoch(t->s);
	CHECK(err == 0 || err == -ENOMEM);
	after = hpt_total(t->s);
	/*
	 * Splits and merges move counts exactly (unless saturated); decay
	 * keeps x - ceil(x / 2^d) of every sub-counter x.
	 */
	CHECK((unsigned __int128)after << shift <=
	      (unsigned __int128)before * ((1ULL << shift) - 1));
	CHECK(!exact || (unsigned __int128)(after + HP_NR_SUB *
					    hp_space_nr_ranges(t->s)) << shift >=
	      (unsigned __int128)before * ((1ULL << shift) - 1));
	CHECK_EQ(hp_space_get_stats(t->s)->epochs, epochs + 1);
	cap = t->s->params.max_ranges;
	iv = hpt_intervals(t);
	if (hp_space_nr_ranges(t->s) > (cap > iv ? cap : iv))
		CHECK(!hpt_any_joinable(t->s));
	hpt_check(t);
	return err;
}

/*
 * A new split granularity re-spreads the count of every range over new
 * sub-counters: exactly, unless the range holds more than one sub-counter
 * can; then one saturates and the range keeps at least HP_SUB_MAX.
 */
static void hpt_check_respread(const struct hpt_snap *sn,
			       const struct hp_space *s)
{
	const struct hp_range *r;
	unsigned int i = 0;
	u64 old, now;

	for (r = hp_space_first(s); r && i < sn->n; r = hp_range_next(r)) {
		CHECK(r->start == sn->r[i].start && r->end == sn->r[i].end);
		old = hp_range_count(&sn->r[i++]);
		now = hp_range_count(r);
		if (old <= HP_SUB_MAX)
			CHECK_EQ(now, old);
		else
			CHECK(now <= old && now >= HP_SUB_MAX);
	}
}

int hpt_set_params(struct hpt_space *t, const struct hp_range_params *p)
{
	struct hpt_snap sn;
	int err;

	hpt_snap_take(&sn, t->s);
	err = hp_space_set_params(t->s, p);
	CHECK_EQ(err, hp_range_params_validate(p));
	if (err) {
		CHECK(hpt_snap_same(&sn, t->s));
	} else {
		CHECK(!memcmp(&t->s->params, p, sizeof(*p)));
		hpt_check_respread(&sn, t->s);
		if (p->split_shift < t->min_shift)
			t->min_shift = p->split_shift;
	}
	hpt_snap_free(&sn);
	hpt_check(t);
	return err;
}

void hpt_sweep(struct hpt_space *t, unsigned long start, unsigned long end,
	       unsigned long n, u32 weight)
{
	unsigned long i, pages = (end - start) >> PAGE_SHIFT;

	for (i = 0; i < n; i++)
		hpt_record(t, start + ((i * pages / n) << PAGE_SHIFT), weight);
}
