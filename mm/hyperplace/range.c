// SPDX-License-Identifier: GPL-2.0
/*
 * HyperPlace range classifier: per-mm range sets, epochs and ranking.
 *
 * Each range keeps four sub-counters split at granularity-aligned points.
 * They are the split evidence: a range splits where its sample
 * distribution departs most from uniform, so a lone range covering a
 * whole mapping can find its hot part without waiting for a neighbour.
 * Counts are moved between ranges by spreading each sub-counter evenly
 * over its extent, which keeps the total exact across splits and merges.
 */
#include "range_internal.h"
#include "range.h"

#define HP_SUB_LAST	(HP_NR_SUB - 1)
/* Hysteresis adds this many standard deviations of noise to a count. */
#define HP_NOISE_SIGMAS	2ULL
/*
 * The cap's merge tolerance doubles every pass, from merge_ratio; once it
 * exceeds this (2^40 percent: densities 10^10 times apart count as
 * similar, which leaves only pairs of an empty and a busy range), the
 * next pass is the last and merges any pair whose hot parts join.  It
 * bounds the passes to about 35.
 */
#define HP_CAP_PCT_MAX	BIT_ULL(40)
/* Boosted counts stay below this so that density never overflows. */
#define HP_KEY_COUNT_MAX	(1ULL << (63 - HP_DENSITY_SHIFT))

static const struct hp_range_params hp_defaults = {
	.split_shift		= HP_SPLIT_SHIFT_DEF,
	.decay_shift		= HP_DECAY_SHIFT_DEF,
	.split_ratio		= HP_SPLIT_RATIO_DEF,
	.split_min_samples	= HP_SPLIT_MIN_DEF,
	.merge_ratio		= HP_MERGE_RATIO_DEF,
	.merge_floor_samples	= HP_MERGE_FLOOR_DEF,
	.min_age		= HP_MIN_AGE_DEF,
	.max_ranges		= HP_MAX_RANGES_DEF,
	.hysteresis		= HP_HYSTERESIS_DEF,
};

void hp_range_params_init(struct hp_range_params *p)
{
	*p = hp_defaults;
}
EXPORT_SYMBOL_IF_KUNIT(hp_range_params_init);

static bool hp_out(unsigned int v, unsigned int lo, unsigned int hi)
{
	return v < lo || v > hi;
}

int hp_range_params_validate(const struct hp_range_params *p)
{
	if (hp_out(p->split_shift, PAGE_SHIFT, HP_SPLIT_SHIFT_MAX) ||
	    hp_out(p->decay_shift, HP_DECAY_SHIFT_MIN, HP_DECAY_SHIFT_MAX) ||
	    hp_out(p->split_ratio, HP_SPLIT_RATIO_MIN, HP_SPLIT_RATIO_MAX) ||
	    hp_out(p->split_min_samples, HP_SPLIT_MIN_MIN, HP_SPLIT_MIN_MAX) ||
	    hp_out(p->merge_ratio, HP_MERGE_RATIO_MIN, HP_SPLIT_RATIO_MAX) ||
	    hp_out(p->merge_floor_samples, 0, HP_SPLIT_MIN_MAX) ||
	    p->min_age > HP_MIN_AGE_MAX ||
	    hp_out(p->max_ranges, HP_MAX_RANGES_MIN, HP_MAX_RANGES_MAX) ||
	    p->hysteresis > HP_HYSTERESIS_MAX)
		return -ERANGE;
	if (p->merge_ratio >= p->split_ratio ||
	    p->merge_floor_samples > p->split_min_samples)
		return -EINVAL;
	return 0;
}
EXPORT_SYMBOL_IF_KUNIT(hp_range_params_validate);

/* Extent [*lo, *hi) of sub-counter @i of @r. */
static void hp_sub_bounds(const struct hp_range *r, unsigned int i,
			  unsigned long *lo, unsigned long *hi)
{
	*lo = i ? r->cut[i - 1] : r->start;
	*hi = i < HP_SUB_LAST ? r->cut[i] : r->end;
}

static unsigned int hp_sub_index(const struct hp_range *r, unsigned long addr)
{
	if (addr < r->cut[1])
		return addr >= r->cut[0];
	return 2 + (addr >= r->cut[2]);
}

/* Give @r the extent [@start, @end), no counts and no hot part. */
static void hp_reset(struct hp_range *r, unsigned long start,
		     unsigned long end, unsigned int shift)
{
	unsigned long quarter = (end - start) / HP_NR_SUB;
	unsigned int i;

	r->start = start;
	r->end = end;
	r->hot_start = start;
	r->hot_end = start;
	for (i = 0; i < HP_SUB_LAST; i++) {
		unsigned long c = ALIGN_DOWN(start + quarter * (i + 1),
					     1UL << shift);

		r->cut[i] = clamp(c, start, end);
	}
	for (i = 0; i < HP_NR_SUB; i++)
		r->sub[i] = 0;
}

static void hp_sub_add(struct hp_range *r, unsigned int i, u64 v)
{
	r->sub[i] = min_t(u64, r->sub[i] + v, HP_SUB_MAX);
}

/*
 * Add the part of @count that falls inside @r, @count being spread evenly
 * over [@lo, @hi).  The remainder of the rounding goes to the last
 * sub-counter touched, so nothing is lost when [@lo, @hi) lies inside @r.
 */
static void hp_spread(struct hp_range *r, unsigned long lo, unsigned long hi,
		      u64 count)
{
	unsigned long clo = max(lo, r->start), chi = min(hi, r->end);
	unsigned long qlo, qhi, ovl;
	u64 share, part, given = 0;
	unsigned int i, last = 0;

	if (clo >= chi || !count)
		return;
	share = count;
	if (clo != lo || chi != hi)
		share = mul_u64_u64_div_u64(count, chi - clo, hi - lo);
	for (i = 0; i < HP_NR_SUB; i++) {
		hp_sub_bounds(r, i, &qlo, &qhi);
		qlo = max(qlo, clo);
		qhi = min(qhi, chi);
		if (qlo >= qhi)
			continue;
		ovl = qhi - qlo;
		part = mul_u64_u64_div_u64(share, ovl, chi - clo);
		hp_sub_add(r, i, part);
		given += part;
		last = i;
	}
	hp_sub_add(r, last, share - given);
}

/*
 * Move the counts and the hot part of @o (a copy of a range as it was)
 * that overlap @r into @r.  Hot parts are joined by their hull; callers
 * only join hot parts that are adjacent.
 */
static void hp_absorb(struct hp_range *r, const struct hp_range *o)
{
	unsigned long lo, hi;
	unsigned int i;

	for (i = 0; i < HP_NR_SUB; i++) {
		hp_sub_bounds(o, i, &lo, &hi);
		hp_spread(r, lo, hi, o->sub[i]);
	}
	lo = max(o->hot_start, r->start);
	hi = min(o->hot_end, r->end);
	if (lo >= hi)
		return;
	if (r->hot_start == r->hot_end) {
		r->hot_start = lo;
		r->hot_end = hi;
	} else {
		r->hot_start = min(r->hot_start, lo);
		r->hot_end = max(r->hot_end, hi);
	}
}

u64 hp_range_count(const struct hp_range *r)
{
	return r->sub[0] + r->sub[1] + r->sub[2] + r->sub[3];
}
EXPORT_SYMBOL_IF_KUNIT(hp_range_count);

unsigned long hp_range_pages(const struct hp_range *r)
{
	return (r->end - r->start) >> PAGE_SHIFT;
}
EXPORT_SYMBOL_IF_KUNIT(hp_range_pages);

unsigned long hp_range_hot_pages(const struct hp_range *r)
{
	return (r->hot_end - r->hot_start) >> PAGE_SHIFT;
}
EXPORT_SYMBOL_IF_KUNIT(hp_range_hot_pages);

static u64 hp_density(u64 count, unsigned long pages)
{
	return div64_u64(count << HP_DENSITY_SHIFT, pages);
}

u64 hp_range_density(const struct hp_range *r)
{
	return hp_density(hp_range_count(r), hp_range_pages(r));
}
EXPORT_SYMBOL_IF_KUNIT(hp_range_density);

u64 hp_range_density_of(const struct hp_range *r, u64 count)
{
	return hp_density(min_t(u64, count, HP_KEY_COUNT_MAX),
			  hp_range_pages(r));
}

/*
 * @hi * 100 >= @lo * @pct, for @pct >= 100, without overflow: the
 * quotient below never exceeds @hi.
 */
static bool hp_ratio_ge(u64 hi, u64 lo, u64 pct)
{
	return mul_u64_u64_div_u64(hi, 100, pct) >= lo;
}

/* Densities @a and @b are within @pct percent of each other. */
static bool hp_similar(u64 a, u64 b, u64 pct)
{
	u64 hi = max(a, b), lo = min(a, b);

	return mul_u64_u64_div_u64(hi, 100, pct) <= lo;
}

static bool hp_less(struct rb_node *a, const struct rb_node *b)
{
	return rb_entry(a, struct hp_range, node)->start <
	       rb_entry(b, struct hp_range, node)->start;
}

static struct hp_range *hp_range_alloc(void)
{
	return kzalloc(sizeof(struct hp_range), GFP_KERNEL);
}

static void hp_insert(struct hp_space *s, struct hp_range *r)
{
	rb_add(&r->node, &s->root, hp_less);
	s->nr_ranges++;
}

static void hp_cache_clear(struct hp_space *s)
{
	unsigned int i;

	for (i = 0; i < HP_CACHE_SLOTS; i++)
		s->cache[i] = NULL;
}

static void hp_remove(struct hp_space *s, struct hp_range *r)
{
	rb_erase(&r->node, &s->root);
	s->nr_ranges--;
	hp_cache_clear(s);
	kfree(r);
}

static struct hp_range *hp_find(const struct hp_space *s, unsigned long addr)
{
	struct rb_node *n = s->root.rb_node;

	while (n) {
		struct hp_range *r = rb_entry(n, struct hp_range, node);

		if (addr < r->start)
			n = n->rb_left;
		else if (addr >= r->end)
			n = n->rb_right;
		else
			return r;
	}
	return NULL;
}

/* Lowest range that ends above @addr. */
static struct hp_range *hp_find_above(const struct hp_space *s,
				      unsigned long addr)
{
	struct rb_node *n = s->root.rb_node;
	struct hp_range *best = NULL;

	while (n) {
		struct hp_range *r = rb_entry(n, struct hp_range, node);

		if (addr < r->end) {
			best = r;
			n = n->rb_left;
		} else {
			n = n->rb_right;
		}
	}
	return best;
}

struct hp_range *hp_space_first(const struct hp_space *s)
{
	struct rb_node *n = rb_first(&s->root);

	return n ? rb_entry(n, struct hp_range, node) : NULL;
}
EXPORT_SYMBOL_IF_KUNIT(hp_space_first);

struct hp_range *hp_range_next(const struct hp_range *r)
{
	struct rb_node *n = rb_next(&r->node);

	return n ? rb_entry(n, struct hp_range, node) : NULL;
}
EXPORT_SYMBOL_IF_KUNIT(hp_range_next);

/*
 * The range holding @addr, through a direct-mapped cache indexed by the
 * 2 MiB block of @addr: samples cluster in few blocks, and a hit costs no
 * tree walk (whose branches mispredict on scattered samples).
 */
static struct hp_range *hp_lookup(struct hp_space *s, unsigned long addr)
{
	struct hp_range **slot, *r;

	slot = &s->cache[(addr >> HP_CACHE_SHIFT) & (HP_CACHE_SLOTS - 1)];
	r = *slot;
	if (r && addr >= r->start && addr < r->end)
		return r;
	r = hp_find(s, addr);
	if (r)
		*slot = r;
	return r;
}

struct hp_range *hp_space_lookup(struct hp_space *s, unsigned long addr)
{
	return hp_lookup(s, addr);
}
EXPORT_SYMBOL_IF_KUNIT(hp_space_lookup);

bool hp_space_is_hot(struct hp_space *s, unsigned long addr)
{
	struct hp_range *r = hp_space_lookup(s, addr);

	return r && addr >= r->hot_start && addr < r->hot_end;
}
EXPORT_SYMBOL_IF_KUNIT(hp_space_is_hot);

bool hp_space_record(struct hp_space *s, unsigned long addr, u32 weight)
{
	struct hp_range *r = hp_lookup(s, addr);

	if (!r) {
		s->stats.unmatched++;
		return false;
	}
	hp_sub_add(r, hp_sub_index(r, addr), (u64)weight << HP_COUNT_SHIFT);
	s->stats.samples++;
	return true;
}
EXPORT_SYMBOL_IF_KUNIT(hp_space_record);

struct hp_space *hp_space_create(const struct hp_range_params *p)
{
	struct hp_space *s;
	int err;

	if (!p)
		p = &hp_defaults;
	err = hp_range_params_validate(p);
	if (err)
		return ERR_PTR(err);
	s = kzalloc(sizeof(*s), GFP_KERNEL);
	if (!s)
		return ERR_PTR(-ENOMEM);
	s->root = RB_ROOT;
	s->params = *p;
	return s;
}
EXPORT_SYMBOL_IF_KUNIT(hp_space_create);

void hp_space_destroy(struct hp_space *s)
{
	struct hp_range *r, *tmp;

	if (!s)
		return;
	rbtree_postorder_for_each_entry_safe(r, tmp, &s->root, node)
		kfree(r);
	kfree(s);
}
EXPORT_SYMBOL_IF_KUNIT(hp_space_destroy);

/* Re-derive @r's sub-counters for a new extent or granularity. */
static void hp_reshape(struct hp_range *r, unsigned long start,
		       unsigned long end, unsigned int shift)
{
	struct hp_range o = *r;

	hp_reset(r, start, end, shift);
	hp_absorb(r, &o);
}

int hp_space_set_params(struct hp_space *s, const struct hp_range_params *p)
{
	unsigned int old_shift = s->params.split_shift;
	struct hp_range *r;
	int err;

	err = hp_range_params_validate(p);
	if (err)
		return err;
	s->params = *p;
	if (p->split_shift == old_shift)
		return 0;
	for (r = hp_space_first(s); r; r = hp_range_next(r))
		hp_reshape(r, r->start, r->end, p->split_shift);
	return 0;
}
EXPORT_SYMBOL_IF_KUNIT(hp_space_set_params);

static bool hp_bad_interval(unsigned long start, unsigned long end)
{
	return start >= end || !IS_ALIGNED(start, PAGE_SIZE) ||
	       !IS_ALIGNED(end, PAGE_SIZE);
}

/*
 * Walk the gaps of [@start, @end) that no range covers.  Without @fill,
 * count them; with it, cover gap i with @fill[i].
 */
static unsigned long hp_map_gaps(struct hp_space *s, unsigned long start,
				 unsigned long end, struct hp_range **fill)
{
	struct hp_range *r = hp_find_above(s, start);
	unsigned long cur = start, gap_end, n = 0;

	while (cur < end) {
		if (r && r->start <= cur) {
			cur = r->end;
			r = hp_range_next(r);
			continue;
		}
		gap_end = r ? min(r->start, end) : end;
		if (fill) {
			hp_reset(fill[n], cur, gap_end, s->params.split_shift);
			hp_insert(s, fill[n]);
		}
		n++;
		cur = gap_end;
	}
	return n;
}

int hp_space_map(struct hp_space *s, unsigned long start, unsigned long end)
{
	struct hp_range *stack[4], **fill = stack;
	unsigned long n, i;
	int err = 0;

	if (hp_bad_interval(start, end))
		return -EINVAL;
	n = hp_map_gaps(s, start, end, NULL);
	if (!n)
		return 0;
	if (n > ARRAY_SIZE(stack)) {
		fill = kvmalloc_array(n, sizeof(*fill), GFP_KERNEL);
		if (!fill)
			goto nomem;
	}
	for (i = 0; i < n; i++) {
		fill[i] = hp_range_alloc();
		if (!fill[i])
			break;
	}
	if (i < n) {
		while (i--)
			kfree(fill[i]);
		err = -ENOMEM;
	} else {
		hp_map_gaps(s, start, end, fill);
	}
	if (fill != stack)
		kvfree(fill);
	if (!err)
		return 0;
nomem:
	s->stats.alloc_failures++;
	return -ENOMEM;
}
EXPORT_SYMBOL_IF_KUNIT(hp_space_map);

int hp_space_unmap(struct hp_space *s, unsigned long start, unsigned long end)
{
	unsigned int shift = s->params.split_shift;
	struct hp_range *r, *next, *right;

	if (hp_bad_interval(start, end))
		return -EINVAL;
	r = hp_find_above(s, start);
	if (r && r->start < start && r->end > end) {
		/* A hole in one range: the part above it needs a new range. */
		right = hp_range_alloc();
		if (!right) {
			s->stats.alloc_failures++;
			return -ENOMEM;
		}
		hp_reset(right, end, r->end, shift);
		hp_absorb(right, r);
		right->age = r->age;
		hp_reshape(r, r->start, start, shift);
		hp_insert(s, right);
		return 0;
	}
	for (; r && r->start < end; r = next) {
		next = hp_range_next(r);
		if (r->start >= start && r->end <= end)
			hp_remove(s, r);
		else if (r->start < start)
			hp_reshape(r, r->start, start, shift);
		else
			hp_reshape(r, end, r->end, shift);
	}
	return 0;
}
EXPORT_SYMBOL_IF_KUNIT(hp_space_unmap);

/* Enough samples for its density to be evidence. */
static bool hp_busy(const struct hp_space *s, const struct hp_range *r)
{
	return hp_range_count(r) >=
	       ((u64)s->params.split_min_samples << HP_COUNT_SHIFT);
}

/* Pages of @r below @cut. */
static unsigned long hp_pages_below(const struct hp_range *r, unsigned long cut)
{
	return (cut - r->start) >> PAGE_SHIFT;
}

static bool hp_cut_valid(const struct hp_range *r, unsigned int i)
{
	return r->cut[i] > r->start && r->cut[i] < r->end;
}

/*
 * The inner sub-counter boundary where the samples of @r depart most from
 * uniform, if the denser side is significantly denser and has enough
 * samples to be trusted; 0 if there is none.
 */
static unsigned long hp_skew_cut(const struct hp_space *s,
				 const struct hp_range *r)
{
	const struct hp_range_params *p = &s->params;
	u64 total = hp_range_count(r), left = 0, lcount = 0;
	u64 exp, dev, best_dev = 0, hot, dl, dr;
	unsigned long pages = hp_range_pages(r), lpages, cut = 0;
	unsigned int i;

	for (i = 0; i < HP_SUB_LAST; i++) {
		left += r->sub[i];
		if (!hp_cut_valid(r, i))
			continue;
		lpages = hp_pages_below(r, r->cut[i]);
		exp = mul_u64_u64_div_u64(total, lpages, pages);
		dev = left > exp ? left - exp : exp - left;
		if (dev > best_dev) {
			best_dev = dev;
			cut = r->cut[i];
			lcount = left;
		}
	}
	if (!cut)
		return 0;
	lpages = hp_pages_below(r, cut);
	dl = hp_density(lcount, lpages);
	dr = hp_density(total - lcount, pages - lpages);
	hot = dl >= dr ? lcount : total - lcount;
	if (hot < ((u64)p->split_min_samples << HP_COUNT_SHIFT) ||
	    !hp_ratio_ge(max(dl, dr), min(dl, dr), p->split_ratio))
		return 0;
	return cut;
}

/* The inner sub-counter boundary nearest the middle of @r, or 0. */
static unsigned long hp_mid_cut(const struct hp_range *r)
{
	unsigned long mid = r->start + (r->end - r->start) / 2;
	unsigned long cut = 0, dist, best = ~0UL;
	unsigned int i;

	for (i = 0; i < HP_SUB_LAST; i++) {
		if (!hp_cut_valid(r, i))
			continue;
		dist = r->cut[i] > mid ? r->cut[i] - mid : mid - r->cut[i];
		if (dist < best) {
			best = dist;
			cut = r->cut[i];
		}
	}
	return cut;
}

static bool hp_hot_empty(const struct hp_range *r)
{
	return r->hot_start == r->hot_end;
}

static bool hp_hot_partial(const struct hp_range *r)
{
	return !hp_hot_empty(r) && (r->hot_start != r->start ||
				    r->hot_end != r->end);
}

/*
 * Whether to bisect @r although its sub-counters look uniform: they cannot
 * see structure finer than a quarter (small hot spots spread evenly), so
 * explore ranges that matter for the hot set: denser than the mean and at
 * least half as dense as the boundary (hp_rank() sets @refine_floor).
 * Skip those that came from merging similar halves (known uniform,
 * "settled") unless they hold the partial boundary.  The mean keeps cold
 * ranges that merely fill spare fast capacity from being explored.
 */
static bool hp_should_refine(const struct hp_space *s,
			     const struct hp_range *r)
{
	u64 min = (u64)s->params.split_min_samples << HP_COUNT_SHIFT;

	/* Both halves should be busy enough to show a skew next time. */
	if (hp_range_count(r) < 2 * min ||
	    hp_range_density(r) < s->refine_floor)
		return false;
	return hp_hot_partial(r) || !r->settled;
}

/* Split @r at @cut; @r keeps the lower part.  Return 1 or -ENOMEM. */
static int hp_split_at(struct hp_space *s, struct hp_range *r,
		       unsigned long cut)
{
	unsigned int shift = s->params.split_shift;
	struct hp_range *right, o;

	right = hp_range_alloc();
	if (!right) {
		s->stats.alloc_failures++;
		return -ENOMEM;
	}
	o = *r;
	hp_reset(right, cut, o.end, shift);
	hp_absorb(right, &o);
	hp_reset(r, o.start, cut, shift);
	hp_absorb(r, &o);
	/*
	 * hp_refine() cuts where @r had boundaries before its first split,
	 * which may now be inside a sub-counter: both shares of it round
	 * down.  @r keeps what they lost, so that splits move counts exactly.
	 */
	hp_sub_add(r, HP_SUB_LAST, hp_range_count(&o) - hp_range_count(r) -
		   hp_range_count(right));
	r->age = 0;
	r->settled = false;
	hp_insert(s, right);
	s->stats.splits++;
	return 1;
}

/*
 * Bisect @r; if it is busy enough for four busy quarters and the cap
 * allows, split it at all its sub-counter boundaries: two levels at once,
 * so evenly spread hot spots are found in half the epochs.
 */
static int hp_refine(struct hp_space *s, struct hp_range *r)
{
	u64 min = (u64)s->params.split_min_samples << HP_COUNT_SHIFT;
	unsigned long cuts[HP_SUB_LAST], cut;
	int i, ret = 0;

	if (hp_range_count(r) < 4 * min ||
	    s->nr_ranges + HP_SUB_LAST > s->params.max_ranges) {
		cut = hp_mid_cut(r);
		ret = cut ? hp_split_at(s, r, cut) : 0;
	} else {
		for (i = 0; i < HP_SUB_LAST; i++)
			cuts[i] = r->cut[i];
		/* From the top down, so that @r keeps the lowest part. */
		for (i = HP_SUB_LAST - 1; i >= 0 && ret >= 0; i--)
			if (cuts[i] > r->start && cuts[i] < r->end)
				ret = hp_split_at(s, r, cuts[i]);
	}
	if (ret > 0)
		s->stats.refines++;
	return ret;
}

/*
 * Split @r where its samples show a denser part or, failing that, refine
 * it if hp_should_refine().  Return 1 if split, 0 if not, -ENOMEM.
 */
static int hp_try_split(struct hp_space *s, struct hp_range *r)
{
	unsigned long cut = hp_skew_cut(s, r);

	if (cut)
		return hp_split_at(s, r, cut);
	if (!hp_should_refine(s, r))
		return 0;
	return hp_refine(s, r);
}

/*
 * Merging @a with its upper neighbour @b keeps the hot set exactly when
 * the hot parts join into one part that touches an end of the result.
 */
static bool hp_hot_joinable(const struct hp_range *a, const struct hp_range *b)
{
	bool ea = hp_hot_empty(a), eb = hp_hot_empty(b);

	if (ea && eb)
		return true;
	if (ea)
		return b->hot_end == b->end;
	if (eb)
		return a->hot_start == a->start;
	return a->hot_end == a->end && b->hot_start == b->start &&
	       (a->hot_start == a->start || b->hot_end == b->end);
}

/*
 * Both wholly hot or both wholly cold.  Similar neighbours merge only
 * then: joining a hot range with a cold one would make a partial range,
 * which hp_should_refine() bisects again at once.
 */
static bool hp_hot_alike(const struct hp_range *a, const struct hp_range *b)
{
	if (hp_hot_empty(a) || hp_hot_empty(b))
		return hp_hot_empty(a) && hp_hot_empty(b);
	return !hp_hot_partial(a) && !hp_hot_partial(b);
}

/*
 * Merge @b, the upper neighbour of @a, into @a.  Callers check
 * hp_hot_joinable(), so the hot set stays exactly as hp_rank() last
 * reported it.
 */
static void hp_merge(struct hp_space *s, struct hp_range *a, struct hp_range *b)
{
	unsigned int age = min(a->age, b->age);
	struct hp_range oa = *a;

	hp_reset(a, oa.start, b->end, s->params.split_shift);
	hp_absorb(a, &oa);
	hp_absorb(a, b);
	a->age = age;
	hp_remove(s, b);
}

/* One standard deviation of the density of @r: sqrt(samples) samples. */
static u64 hp_sigma_density(const struct hp_range *r)
{
	u64 sigma = int_sqrt(hp_range_count(r) >> HP_COUNT_SHIFT);

	return hp_density(sigma << HP_COUNT_SHIFT, hp_range_pages(r));
}

/*
 * Densities within @pct percent, or too close to tell apart: ranges with
 * few samples differ by more than any ratio on noise alone, and would
 * otherwise never merge.
 */
static bool hp_similar_ranges(const struct hp_range *a,
			      const struct hp_range *b, u64 pct)
{
	u64 da = hp_range_density(a), db = hp_range_density(b);
	u64 noise = HP_NOISE_SIGMAS * (hp_sigma_density(a) +
				       hp_sigma_density(b));

	return hp_similar(da, db, pct) || max(da, db) - min(da, db) <= noise;
}

static bool hp_can_merge(const struct hp_space *s, const struct hp_range *a,
			 const struct hp_range *b)
{
	const struct hp_range_params *p = &s->params;
	u64 floor = (u64)p->merge_floor_samples << HP_COUNT_SHIFT;

	if (a->end != b->start || a->age < p->min_age || b->age < p->min_age ||
	    !hp_hot_alike(a, b))
		return false;
	if (hp_range_count(a) < floor && hp_range_count(b) < floor)
		return true;
	return hp_similar_ranges(a, b, p->merge_ratio);
}

static void hp_merge_similar(struct hp_space *s)
{
	struct hp_range *a = hp_space_first(s), *b;
	bool busy;

	while (a && (b = hp_range_next(a))) {
		if (hp_can_merge(s, a, b)) {
			/* Only busy similar halves show that a is uniform. */
			busy = hp_busy(s, a) && hp_busy(s, b);
			hp_merge(s, a, b);
			a->settled = busy;
			s->stats.merges++;
		} else {
			a = b;
		}
	}
}

/*
 * Bring R down to the cap by merging neighbours within a tolerance that
 * doubles every pass; the last pass merges any adjacent pair whose hot
 * parts join.  A merge never moves a hot part: no decision would report
 * it, and the placement would no longer match hp_space_is_hot().  Pairs
 * that do not join wait for the next ranking, so the cap is soft until
 * then.  Each pass is one walk, so this stays O(R) per pass even for a
 * large excess, and the passes stop once no pair is left that a later
 * pass could merge.
 */
static void hp_enforce_cap(struct hp_space *s)
{
	u64 pct = s->params.merge_ratio;
	struct hp_range *a, *b;
	bool force = false, left;

	while (s->nr_ranges > s->params.max_ranges) {
		/*
		 * Whether a later pass could merge more: a pair is only too
		 * different yet, or a merge changed what its neighbours see.
		 */
		left = false;
		a = hp_space_first(s);
		while (a && (b = hp_range_next(a)) &&
		       s->nr_ranges > s->params.max_ranges) {
			if (a->end != b->start || !hp_hot_joinable(a, b)) {
				a = b;
			} else if (force || hp_similar_ranges(a, b, pct)) {
				hp_merge(s, a, b);
				/* Not known to be uniform: may be refined. */
				a->settled = false;
				s->stats.cap_merges++;
				left = true;
			} else {
				left = true;
				a = b;
			}
		}
		/*
		 * Mappings apart from each other never merge: with more of
		 * them than the cap, stop rather than walk every pass.
		 */
		if (force || !left)
			break;
		pct <<= 1;
		force = pct > HP_CAP_PCT_MAX;
	}
}

static void hp_decay(struct hp_space *s)
{
	unsigned int shift = s->params.decay_shift, i;
	struct hp_range *r;

	/* Round the decayed part up, so that counts reach zero. */
	for (r = hp_space_first(s); r; r = hp_range_next(r)) {
		for (i = 0; i < HP_NR_SUB; i++)
			r->sub[i] -= (r->sub[i] + (1ULL << shift) - 1) >> shift;
		/* Uniformity seen long ago says nothing about today. */
		if (!hp_busy(s, r))
			r->settled = false;
		if (r->age <= HP_MIN_AGE_MAX)
			r->age++;
	}
}

int hp_space_epoch(struct hp_space *s)
{
	struct hp_range *r, *next;
	int ret, err = 0;

	for (r = hp_space_first(s); r; r = next) {
		next = hp_range_next(r);
		if (s->nr_ranges >= s->params.max_ranges)
			break;
		ret = hp_try_split(s, r);
		if (ret < 0) {
			err = ret;
			break;
		}
	}
	hp_merge_similar(s);
	hp_enforce_cap(s);
	hp_decay(s);
	s->stats.epochs++;
	return err;
}
EXPORT_SYMBOL_IF_KUNIT(hp_space_epoch);

struct hp_rank_ent {
	u64 key;
	struct hp_range *r;
	unsigned int space;
	bool hot;
};

/* Densest first; on ties hot ones first, then by space and address. */
static int hp_rank_cmp(const void *pa, const void *pb)
{
	const struct hp_rank_ent *a = pa, *b = pb;

	if (a->key != b->key)
		return a->key > b->key ? -1 : 1;
	if (a->hot != b->hot)
		return a->hot ? -1 : 1;
	if (a->space != b->space)
		return a->space < b->space ? -1 : 1;
	if (a->r->start != b->r->start)
		return a->r->start < b->r->start ? -1 : 1;
	return 0;
}

/*
 * Ranking key: the density, with hysteresis.  A hot range's count is
 * raised by @hyst percent plus HP_NOISE_SIGMAS standard deviations of a
 * Poisson count of that many samples; a cold range's count is lowered by
 * the same noise term.  A range thus enters the hot set only when it is
 * denser beyond doubt: with a relative margin alone, ranges with few
 * samples trade places on noise every epoch, each trade a migration.
 * The noise term is large for them and negligible for busy ranges.
 */
static u64 hp_rank_key(const struct hp_range *r, unsigned int hyst, bool hot)
{
	u64 count = hp_range_count(r), noise;

	if (hyst) {
		noise = (HP_NOISE_SIGMAS *
			 int_sqrt(count >> HP_COUNT_SHIFT)) << HP_COUNT_SHIFT;
		if (hot)
			count += mul_u64_u64_div_u64(count, hyst, 100) + noise;
		else
			count = count > noise ? count - noise : 0;
	}
	return hp_density(min_t(u64, count, HP_KEY_COUNT_MAX),
			  hp_range_pages(r));
}

/*
 * The count of @r that falls in [@lo, @hi), each sub-counter taken as
 * spread evenly over its extent.
 */
static u64 hp_count_in(const struct hp_range *r, unsigned long lo,
		       unsigned long hi)
{
	unsigned long qlo, qhi, olo, ohi;
	unsigned int i;
	u64 sum = 0;

	for (i = 0; i < HP_NR_SUB; i++) {
		hp_sub_bounds(r, i, &qlo, &qhi);
		olo = max(qlo, lo);
		ohi = min(qhi, hi);
		if (olo < ohi)
			sum += mul_u64_u64_div_u64(r->sub[i], ohi - olo,
						   qhi - qlo);
	}
	return sum;
}

/*
 * Place @r's hot part of @r->rank_pages pages; the old part picks the end.
 * A new part goes to the end where a part of that size holds more of the
 * count (the top end on a tie, when nothing tells them apart): the
 * sub-counters cover unequal, even empty, extents once their cuts are
 * aligned, so their raw sums cannot tell.
 */
static void hp_place(struct hp_range *r, unsigned long *hs, unsigned long *he)
{
	unsigned long pages = hp_range_pages(r), hot = r->rank_pages;
	bool at_start;

	if (!hot) {
		*hs = r->start;
		*he = r->start;
		return;
	}
	if (hot == pages) {
		*hs = r->start;
		*he = r->end;
		return;
	}
	if (!hp_hot_empty(r) && hp_range_hot_pages(r) != pages)
		at_start = r->hot_start == r->start;
	else
		at_start = hp_count_in(r, r->start,
				       r->start + (hot << PAGE_SHIFT)) >
			   hp_count_in(r, r->end - (hot << PAGE_SHIFT), r->end);
	if (at_start) {
		*hs = r->start;
		*he = r->start + (hot << PAGE_SHIFT);
	} else {
		*hs = r->end - (hot << PAGE_SHIFT);
		*he = r->end;
	}
}

static unsigned long hp_overlap_pages(unsigned long a0, unsigned long a1,
				      unsigned long b0, unsigned long b1)
{
	unsigned long lo = max(a0, b0), hi = min(a1, b1);

	return lo < hi ? (hi - lo) >> PAGE_SHIFT : 0;
}

/* Apply the ranked amounts to the ranges of @s and report the changes. */
static void hp_rank_apply(struct hp_space *s, struct hp_decision *dec,
			  unsigned int max_dec, struct hp_rank_result *res)
{
	unsigned long hs, he, both, promote, demote;
	struct hp_decision *d;
	struct hp_range *r;

	for (r = hp_space_first(s); r; r = hp_range_next(r)) {
		hp_place(r, &hs, &he);
		res->hot_pages += r->rank_pages;
		if (hs == r->hot_start && he == r->hot_end)
			continue;
		both = hp_overlap_pages(hs, he, r->hot_start, r->hot_end);
		promote = ((he - hs) >> PAGE_SHIFT) - both;
		demote = hp_range_hot_pages(r) - both;
		res->promote_pages += promote;
		res->demote_pages += demote;
		if (res->nr_decisions < max_dec) {
			d = &dec[res->nr_decisions];
			d->space = s;
			d->start = r->start;
			d->end = r->end;
			d->old_hot_start = r->hot_start;
			d->old_hot_end = r->hot_end;
			d->hot_start = hs;
			d->hot_end = he;
			d->promote_pages = promote;
			d->demote_pages = demote;
		}
		res->nr_decisions++;
		r->hot_start = hs;
		r->hot_end = he;
	}
}

int hp_rank(struct hp_space *const *spaces, unsigned int n,
	    unsigned long fast_pages, const struct hp_range_params *p,
	    struct hp_decision *dec, unsigned int max_dec,
	    struct hp_rank_result *res)
{
	struct hp_rank_result local = { };
	unsigned long left = fast_pages, take, pages = 0;
	u64 count = 0, floor;
	unsigned int i, nr = 0, stored;
	struct hp_rank_ent *ents = NULL, *e;
	struct hp_range *r;

	if (!p)
		p = &hp_defaults;
	/* The count of decisions is returned as an int. */
	max_dec = min_t(unsigned int, max_dec, INT_MAX);
	for (i = 0; i < n; i++)
		if (check_add_overflow(nr, spaces[i]->nr_ranges, &nr))
			return -ENOMEM;
	if (nr) {
		ents = kvmalloc_array(nr, sizeof(*ents), GFP_KERNEL);
		if (!ents)
			return -ENOMEM;
	}
	e = ents;
	for (i = 0; i < n; i++) {
		for (r = hp_space_first(spaces[i]); r; r = hp_range_next(r)) {
			count = min_t(u64, count + hp_range_count(r),
				      HP_KEY_COUNT_MAX);
			pages += hp_range_pages(r);
			e->hot = !hp_hot_empty(r);
			e->key = hp_rank_key(r, p->hysteresis, e->hot);
			e->r = r;
			e->space = i;
			e++;
		}
	}
	if (nr)
		sort(ents, nr, sizeof(*ents), hp_rank_cmp, NULL);
	/* By index: with no ranges, ents is NULL and ents + nr undefined. */
	for (i = 0; i < nr; i++) {
		e = &ents[i];
		take = 0;
		if (e->key || e->hot)
			take = min(hp_range_pages(e->r), left);
		e->r->rank_pages = take;
		left -= take;
		if (take)
			local.boundary_density = hp_range_density(e->r);
	}
	kvfree(ents);
	floor = max(local.boundary_density / 2,
		    hp_density(count, max(pages, 1UL)));
	for (i = 0; i < n; i++)
		spaces[i]->refine_floor = floor;

	local.nr_ranges = nr;
	for (i = 0; i < n; i++)
		hp_rank_apply(spaces[i], dec, max_dec, &local);
	stored = min(local.nr_decisions, max_dec);
	if (res)
		*res = local;
	return stored;
}
EXPORT_SYMBOL_IF_KUNIT(hp_rank);
