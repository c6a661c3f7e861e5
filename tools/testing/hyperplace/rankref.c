// SPDX-License-Identifier: GPL-2.0
/*
 * Brute-force reference for hp_rank(): O(R^2) selection of the densest
 * range, page bitmaps for what changed, then a comparison with what
 * hp_rank() did to the ranges and reported.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "bits.h"
#include "model.h"
#include "tap.h"

struct hpt_ref {
	struct hp_range *r;
	unsigned int sp;
	u64 density;
	u64 key;
	bool hot;
	bool done;
	unsigned long take;
	unsigned long hs, he;
	unsigned long ohs, ohe;
};

/* @a ranks before @b: denser (boosted), then hot, then space, then start. */
static bool hpt_ref_before(const struct hpt_ref *a, const struct hpt_ref *b)
{
	if (a->key != b->key)
		return a->key > b->key;
	if (a->hot != b->hot)
		return a->hot;
	if (a->sp != b->sp)
		return a->sp < b->sp;
	return a->r->start < b->r->start;
}

/* Count of @r in [@lo, @hi), each sub-counter spread evenly over its extent. */
static u64 hpt_ref_count_in(const struct hp_range *r, unsigned long lo,
			    unsigned long hi)
{
	unsigned long qlo, qhi, a, b;
	unsigned int i;
	u64 sum = 0;

	for (i = 0; i < HP_NR_SUB; i++) {
		qlo = i ? r->cut[i - 1] : r->start;
		qhi = i < HP_NR_SUB - 1 ? r->cut[i] : r->end;
		a = qlo > lo ? qlo : lo;
		b = qhi < hi ? qhi : hi;
		if (a < b)
			sum += (u64)((unsigned __int128)r->sub[i] * (b - a) /
				     (qhi - qlo));
	}
	return sum;
}

/* Where the hot part of @x goes: see hp_rank() in range.h. */
static void hpt_ref_place(struct hpt_ref *x)
{
	struct hp_range *r = x->r;
	unsigned long pages = hp_range_pages(r);
	bool at_start;

	if (!x->take) {
		x->hs = r->start;
		x->he = r->start;
		return;
	}
	if (x->take == pages) {
		x->hs = r->start;
		x->he = r->end;
		return;
	}
	if (x->ohs != x->ohe && x->ohe - x->ohs != r->end - r->start)
		at_start = x->ohs == r->start;
	else
		at_start = hpt_ref_count_in(r, r->start,
					    r->start + x->take * PAGE_SIZE) >
			   hpt_ref_count_in(r, r->end - x->take * PAGE_SIZE,
					    r->end);
	x->hs = at_start ? r->start : r->end - x->take * PAGE_SIZE;
	x->he = at_start ? r->start + x->take * PAGE_SIZE : r->end;
}

static u64 hpt_isqrt(u64 n)
{
	u64 s = (u64)sqrt((double)n);

	while (s * s > n)
		s--;
	while ((s + 1) * (s + 1) <= n)
		s++;
	return s;
}

/* Hot: count + hyst% + 2 sigma; cold: count - 2 sigma; as a density. */
static u64 hpt_ref_key(u64 count, unsigned long pages, unsigned int hyst,
		       bool hot)
{
	u64 sigma2 = (2 * hpt_isqrt(count >> HP_COUNT_SHIFT)) <<
		     HP_COUNT_SHIFT;
	unsigned __int128 c = count;

	if (hot)
		c += c * hyst / 100 + sigma2;
	else
		c = count > sigma2 ? count - sigma2 : 0;
	if (c > 1ULL << (63 - HP_DENSITY_SHIFT))
		c = 1ULL << (63 - HP_DENSITY_SHIFT);
	return (u64)(c << HP_DENSITY_SHIFT) / pages;
}

static struct hpt_ref *hpt_ref_build(struct hpt_space **ts, unsigned int n,
				     unsigned int hyst, unsigned int *nr)
{
	struct hpt_ref *refs, *x;
	struct hp_range *r;
	unsigned int i, total = 0;

	for (i = 0; i < n; i++)
		total += hp_space_nr_ranges(ts[i]->s);
	refs = calloc(total + 1, sizeof(*refs));
	if (!refs)
		abort();
	x = refs;
	for (i = 0; i < n; i++) {
		for (r = hp_space_first(ts[i]->s); r; r = hp_range_next(r)) {
			x->r = r;
			x->sp = i;
			x->density = (hp_range_count(r) << HP_DENSITY_SHIFT) /
				     hp_range_pages(r);
			x->hot = r->hot_start != r->hot_end;
			x->key = x->density;
			if (hyst)
				x->key = hpt_ref_key(hp_range_count(r),
						     hp_range_pages(r), hyst,
						     x->hot);
			x->ohs = r->hot_start;
			x->ohe = r->hot_end;
			x++;
		}
	}
	*nr = total;
	return refs;
}

/* Greedy fill; returns the boundary density, sets *hot and *eligible. */
static u64 hpt_ref_fill(struct hpt_ref *refs, unsigned int nr,
			unsigned long fast, unsigned long *hot,
			unsigned long *eligible)
{
	unsigned long left = fast, pages;
	struct hpt_ref *best;
	unsigned int k, j;
	u64 boundary = 0;

	*hot = 0;
	*eligible = 0;
	for (k = 0; k < nr; k++) {
		best = NULL;
		for (j = 0; j < nr; j++)
			if (!refs[j].done &&
			    (!best || hpt_ref_before(&refs[j], best)))
				best = &refs[j];
		best->done = true;
		if (!best->key && !best->hot)
			continue;
		pages = hp_range_pages(best->r);
		*eligible += pages;
		best->take = pages < left ? pages : left;
		left -= best->take;
		*hot += best->take;
		if (best->take)
			boundary = best->density;
	}
	return boundary;
}

static void hpt_hot_bitmap(const struct hp_space *s, u64 *map)
{
	const struct hp_range *r;

	memset(map, 0, HPT_WORDS * sizeof(u64));
	for (r = hp_space_first(s); r; r = hp_range_next(r))
		hpt_bits_set(map, HPT_PG(r->hot_start), HPT_PG(r->hot_end),
			     true);
}

static void hpt_check_is_hot(struct hp_space *s, const struct hp_range *r)
{
	if (r->hot_start == r->hot_end) {
		CHECK(!hp_space_is_hot(s, r->start));
		return;
	}
	CHECK(hp_space_is_hot(s, r->hot_start));
	CHECK(hp_space_is_hot(s, r->hot_end - 1));
	if (r->hot_start > r->start)
		CHECK(!hp_space_is_hot(s, r->hot_start - 1));
	if (r->hot_end < r->end)
		CHECK(!hp_space_is_hot(s, r->hot_end));
}

/*
 * Move the engine's pages as the decisions say; if some were dropped
 * (@res->nr_decisions > @ret), the engine walks the hot parts instead.
 */
static void hpt_apply_decisions(struct hpt_space **ts, unsigned int n,
				const struct hp_decision *dec, int ret,
				const struct hp_rank_result *res)
{
	const struct hp_decision *d;
	unsigned int i;

	if (res->nr_decisions > (unsigned int)ret) {
		for (i = 0; i < n; i++)
			hpt_placed_sync(ts[i]);
		return;
	}
	for (d = dec; d < dec + ret; d++) {
		for (i = 0; i < n && ts[i]->s != d->space; i++)
			;
		if (i == n) {
			CHECK(i < n);
			continue;
		}
		hpt_bits_set(ts[i]->placed, HPT_PG(d->start), HPT_PG(d->end),
			     false);
		hpt_bits_set(ts[i]->placed, HPT_PG(d->hot_start),
			     HPT_PG(d->hot_end), true);
	}
}

struct hpt_rank_env {
	struct hpt_space **ts;
	unsigned int n;
	u64 (*old)[HPT_WORDS];
	u64 (*new)[HPT_WORDS];
	struct hp_decision *dec;
	unsigned int max_dec;
};

/* Compare every range and decision with the reference. */
static void hpt_ref_compare(struct hpt_rank_env *env, struct hpt_ref *refs,
			    unsigned int nr, int ret,
			    const struct hp_rank_result *res)
{
	unsigned long promote = 0, demote = 0, a, b;
	unsigned int i, changed = 0, partial = 0;
	struct hp_decision *d;
	struct hpt_ref *x;

	for (i = 0; i < env->n; i++)
		hpt_hot_bitmap(env->ts[i]->s, env->new[i]);
	for (x = refs; x < refs + nr; x++) {
		CHECK_EQ(x->r->hot_start, x->hs);
		CHECK_EQ(x->r->hot_end, x->he);
		hpt_check_is_hot(env->ts[x->sp]->s, x->r);
		if (x->take && x->take < hp_range_pages(x->r))
			partial++;
		if (x->hs == x->ohs && x->he == x->ohe)
			continue;
		a = HPT_PG(x->r->start);
		b = HPT_PG(x->r->end);
		promote += hpt_bits_count(env->new[x->sp], env->old[x->sp],
					  a, b);
		demote += hpt_bits_count(env->old[x->sp], env->new[x->sp],
					 a, b);
		if (changed < env->max_dec) {
			d = &env->dec[changed];
			CHECK(d->space == env->ts[x->sp]->s);
			CHECK_EQ(d->start, x->r->start);
			CHECK_EQ(d->end, x->r->end);
			CHECK_EQ(d->old_hot_start, x->ohs);
			CHECK_EQ(d->old_hot_end, x->ohe);
			CHECK_EQ(d->hot_start, x->hs);
			CHECK_EQ(d->hot_end, x->he);
			CHECK_EQ(d->promote_pages,
				 hpt_bits_count(env->new[x->sp],
						env->old[x->sp], a, b));
			CHECK_EQ(d->demote_pages,
				 hpt_bits_count(env->old[x->sp],
						env->new[x->sp], a, b));
		}
		changed++;
	}
	CHECK(partial <= 1);
	CHECK_EQ(ret, changed < env->max_dec ? changed : env->max_dec);
	CHECK_EQ(res->nr_decisions, changed);
	CHECK_EQ(res->promote_pages, promote);
	CHECK_EQ(res->demote_pages, demote);
	CHECK_EQ(res->nr_ranges, nr);
}

int hpt_rank(struct hpt_space **ts, unsigned int n, unsigned long fast,
	     const struct hp_range_params *p, unsigned int max_dec,
	     struct hp_rank_result *out)
{
	unsigned int hyst = p ? p->hysteresis : HP_HYSTERESIS_DEF, nr, i;
	struct hpt_rank_env env = { .ts = ts, .n = n, .max_dec = max_dec };
	struct hp_space *spaces[8];
	struct hpt_snap snaps[8];
	struct hp_rank_result res;
	unsigned long hot, eligible;
	struct hpt_ref *refs;
	u64 boundary;
	int ret;

	if (n > 8)
		abort();
	refs = hpt_ref_build(ts, n, hyst, &nr);
	boundary = hpt_ref_fill(refs, nr, fast, &hot, &eligible);
	for (i = 0; i < nr; i++)
		hpt_ref_place(&refs[i]);
	env.old = calloc(n + 1, sizeof(*env.old));
	env.new = calloc(n + 1, sizeof(*env.new));
	env.dec = calloc(max_dec + 1, sizeof(*env.dec));
	if (!env.old || !env.new || !env.dec)
		abort();
	for (i = 0; i < n; i++) {
		spaces[i] = ts[i]->s;
		hpt_hot_bitmap(ts[i]->s, env.old[i]);
		hpt_snap_take(&snaps[i], ts[i]->s);
	}

	ret = hp_rank(spaces, n, fast, p, env.dec, max_dec, &res);
	if (ret < 0) {
		CHECK_EQ(ret, -ENOMEM);
		for (i = 0; i < n; i++)
			CHECK(hpt_snap_same(&snaps[i], ts[i]->s));
	} else {
		hpt_ref_compare(&env, refs, nr, ret, &res);
		hpt_apply_decisions(ts, n, env.dec, ret, &res);
		CHECK_EQ(res.hot_pages, hot);
		CHECK(hot <= fast);
		CHECK_EQ(hot, eligible < fast ? eligible : fast);
		CHECK_EQ(res.boundary_density, boundary);
		if (out)
			*out = res;
	}
	for (i = 0; i < n; i++) {
		hpt_snap_free(&snaps[i]);
		hpt_check(ts[i]);
	}
	free(env.old);
	free(env.new);
	free(env.dec);
	free(refs);
	return ret;
}
