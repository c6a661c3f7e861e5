/* SPDX-License-Identifier: GPL-2.0 */
/*
 * HyperPlace range classifier: per-mm sets of virtual address ranges with
 * decayed access counts, split/merged every epoch and ranked by access
 * density across all managed mms.  See Documentation/mm/hyperplace.rst.
 *
 * The same source is compiled by the kernel, by the userspace harness in
 * tools/testing/hyperplace/ and by the hpsim simulator, so this header
 * only uses types that both <linux/...> trees provide.
 *
 * Locking: the caller serializes every call on a space; hp_rank() needs
 * all spaces it is given to be stable for the duration of the call.
 * Nothing here sleeps except through GFP_KERNEL allocations in
 * hp_space_create(), hp_space_map(), hp_space_unmap(), hp_space_epoch()
 * and hp_rank().  hp_space_record() never allocates and never sleeps.
 */
#ifndef __MM_HYPERPLACE_RANGE_H
#define __MM_HYPERPLACE_RANGE_H

#include <linux/types.h>
#include <linux/rbtree.h>

/* One sample of weight 1 adds 1 << HP_COUNT_SHIFT to a count. */
#define HP_COUNT_SHIFT		8
/* Density: count << HP_DENSITY_SHIFT divided by the range's pages. */
#define HP_DENSITY_SHIFT	20
/* Sub-counters saturate here, so densities never overflow u64. */
#define HP_SUB_MAX		0x4000000000ULL	/* 1 << 38 */
/* Number of sub-counters per range (split evidence). */
#define HP_NR_SUB		4
/* Lookup cache: one slot per 2 MiB block, modulo the number of slots. */
#define HP_CACHE_SHIFT		21
#define HP_CACHE_SLOTS		64

/* Defaults and valid ranges of struct hp_range_params (inclusive). */
#define HP_SPLIT_SHIFT_DEF	21
#define HP_SPLIT_SHIFT_MAX	30
#define HP_DECAY_SHIFT_DEF	1
#define HP_DECAY_SHIFT_MIN	1
#define HP_DECAY_SHIFT_MAX	16
#define HP_SPLIT_RATIO_DEF	200
#define HP_SPLIT_RATIO_MIN	110
#define HP_SPLIT_RATIO_MAX	10000
#define HP_SPLIT_MIN_DEF	32
#define HP_SPLIT_MIN_MIN	1
#define HP_SPLIT_MIN_MAX	1048576U
#define HP_MERGE_RATIO_DEF	125
#define HP_MERGE_RATIO_MIN	100
#define HP_MERGE_FLOOR_DEF	1
#define HP_MIN_AGE_DEF		2
#define HP_MIN_AGE_MAX		1000
#define HP_MAX_RANGES_DEF	2048
#define HP_MAX_RANGES_MIN	16
#define HP_MAX_RANGES_MAX	1048576U
#define HP_HYSTERESIS_DEF	25
#define HP_HYSTERESIS_MAX	1000

/**
 * struct hp_range_params - tunables of the range classifier
 * @split_shift: log2 of the split granularity in bytes; split points are
 *	aligned to it.  Default 21 (2 MiB, one x86 THP).  Valid PAGE_SHIFT..30.
 * @decay_shift: each epoch every count loses count >> @decay_shift,
 *	rounded up (so a count of 1 decays to 0), so 1 halves counts every
 *	epoch.  Default 1.  Valid 1..16.
 * @split_ratio: percent; a range splits when the denser side of its best
 *	cut has at least @split_ratio percent of the other side's density.
 *	Default 200.  Valid 110..10000.
 * @split_min_samples: the denser side of a cut needs at least this many
 *	(decayed) samples before a split is trusted.  Default 32.
 *	Valid 1..1048576.
 * @merge_ratio: percent; two adjacent ranges merge when the denser one
 *	has at most @merge_ratio percent of the other's density.
 *	Default 125.  Valid 100..@split_ratio - 1 (so a merge never undoes
 *	itself by an immediate split).
 * @merge_floor_samples: two adjacent ranges that both hold fewer samples
 *	than this are cold and merge regardless of their ratio.  Default 1.
 *	Valid 0..@split_min_samples.
 * @min_age: epochs a range created by a split or a mapping waits before
 *	it may merge (cooling).  Default 2.  Valid 0..1000.
 * @max_ranges: cap on the ranges of one space.  Splits never exceed it;
 *	the epoch merges the most similar neighbours while it is exceeded.
 *	A space holds at least one range per disjoint mapped interval, even
 *	beyond the cap, and keeps neighbours whose hot parts would not join
 *	into one part at an end until hp_rank() changes them.  Default 2048.  Valid 16..1048576.
 * @hysteresis: percent; hp_rank() raises the count of ranges already in
 *	the hot set by this much plus two standard deviations of sampling
 *	noise (2 * sqrt(samples)) and lowers the count of the others by that
 *	noise, so a cold range must be denser beyond doubt to displace a hot
 *	one.  0 turns hysteresis off.  Default 25.  Valid 0..1000.
 */
struct hp_range_params {
	unsigned int split_shift;
	unsigned int decay_shift;
	unsigned int split_ratio;
	unsigned int split_min_samples;
	unsigned int merge_ratio;
	unsigned int merge_floor_samples;
	unsigned int min_age;
	unsigned int max_ranges;
	unsigned int hysteresis;
};

/**
 * struct hp_range - one range of a space (read-only outside range.c)
 * @node: link in the space's rbtree, ordered by address
 * @start: first byte, page aligned
 * @end: one past the last byte, page aligned, > @start
 * @hot_start: first byte of the part that belongs on the fast tier
 * @hot_end: end of that part; @hot_start == @hot_end when none is.  The
 *	hot part is empty, the whole range, or touches @start or @end.
 * @cut: the three inner boundaries of the sub-counters, aligned to the
 *	split granularity and clamped to [@start, @end]
 * @sub: decayed counts of the four parts; the range's count is their sum
 * @age: epochs since the range was created, split or merged
 * @settled: made by merging similar neighbours that both had enough
 *	samples, not split since and still busy: known to be uniform, so not
 *	bisected to look for finer structure unless it holds the partial
 *	boundary of the hot set
 * @rank_pages: scratch for hp_rank()
 *
 * Ranges of one space are disjoint, sorted and lie inside mapped memory.
 */
struct hp_range {
	struct rb_node node;
	unsigned long start;
	unsigned long end;
	unsigned long hot_start;
	unsigned long hot_end;
	unsigned long cut[HP_NR_SUB - 1];
	u64 sub[HP_NR_SUB];
	unsigned int age;
	bool settled;
	unsigned long rank_pages;
};

/**
 * struct hp_space_stats - counters of one space, monotonic
 * @samples: samples that hit a range
 * @unmatched: samples outside every range (counted and ignored)
 * @epochs: epochs run
 * @splits: ranges split
 * @refines: ranges split without a denser part to split at (in halves or
 *	quarters), to look for finer structure near the hot set
 * @merges: merges of similar neighbours
 * @cap_merges: merges forced by @max_ranges
 * @alloc_failures: allocations that failed (the operation was skipped)
 */
struct hp_space_stats {
	u64 samples;
	u64 unmatched;
	u64 epochs;
	u64 splits;
	u64 refines;
	u64 merges;
	u64 cap_merges;
	u64 alloc_failures;
};

/**
 * struct hp_space - the range set of one mm (fields private to range.c)
 * @root: ranges ordered by address
 * @nr_ranges: number of ranges in @root
 * @cache: ranges that samples recently hit, by 2 MiB block of the address
 * @params: validated copy of the parameters
 * @refine_floor: ranges at least this dense may be bisected without a
 *	denser part: the larger of the mean density and half the density of
 *	the hot set's boundary, as of the last hp_rank()
 * @stats: counters
 */
struct hp_space {
	struct rb_root root;
	unsigned int nr_ranges;
	struct hp_range *cache[HP_CACHE_SLOTS];
	struct hp_range_params params;
	u64 refine_floor;
	struct hp_space_stats stats;
};

/**
 * struct hp_decision - a range whose hot part changed in hp_rank()
 * @space: the space the range belongs to
 * @start: start of the range
 * @end: end of the range
 * @old_hot_start: previous hot part, as in &struct hp_range
 * @old_hot_end: end of the previous hot part
 * @hot_start: new hot part
 * @hot_end: end of the new hot part
 * @promote_pages: pages in the new hot part that were not in the old one
 * @demote_pages: pages in the old hot part that are not in the new one
 *
 * Decisions come out grouped by space, in the order of the spaces array,
 * and sorted by address within a space.  Both parts touch the same end
 * of the range or one of them is empty or whole, so the pages to promote
 * and the pages to demote each form one interval.
 */
struct hp_decision {
	struct hp_space *space;
	unsigned long start;
	unsigned long end;
	unsigned long old_hot_start;
	unsigned long old_hot_end;
	unsigned long hot_start;
	unsigned long hot_end;
	unsigned long promote_pages;
	unsigned long demote_pages;
};

/**
 * struct hp_rank_result - summary of one hp_rank() call
 * @nr_ranges: ranges ranked, over all spaces
 * @hot_pages: pages in the hot set after the call, <= fast_pages
 * @promote_pages: sum of &hp_decision.promote_pages
 * @demote_pages: sum of &hp_decision.demote_pages
 * @nr_decisions: decisions produced; those beyond max_dec were not stored
 *	(the new hot parts are in the ranges all the same)
 * @boundary_density: density of the last range that got fast pages, 0 if
 *	none did
 */
struct hp_rank_result {
	unsigned int nr_ranges;
	unsigned long hot_pages;
	unsigned long promote_pages;
	unsigned long demote_pages;
	unsigned int nr_decisions;
	u64 boundary_density;
};

/**
 * hp_range_params_init() - fill @p with the defaults
 * @p: parameters to fill
 */
void hp_range_params_init(struct hp_range_params *p);

/**
 * hp_range_params_validate() - check parameters before they are used
 * @p: parameters to check
 *
 * Return: 0 if valid; -ERANGE if a field is outside its valid range;
 * -EINVAL if fields contradict each other (@merge_ratio >= @split_ratio,
 * @merge_floor_samples > @split_min_samples).
 */
int hp_range_params_validate(const struct hp_range_params *p);

/**
 * hp_space_create() - allocate an empty range set
 * @p: parameters, copied; NULL means the defaults
 *
 * Return: the space, ERR_PTR(-ERANGE/-EINVAL) for bad parameters or
 * ERR_PTR(-ENOMEM).
 */
struct hp_space *hp_space_create(const struct hp_range_params *p);

/**
 * hp_space_destroy() - free a space and all its ranges (mm exit)
 * @s: the space, or NULL
 */
void hp_space_destroy(struct hp_space *s);

/**
 * hp_space_set_params() - replace the parameters of a space
 * @s: the space
 * @p: new parameters, validated first
 *
 * A smaller @max_ranges takes effect at the next epoch; a new
 * @split_shift re-spreads the sub-counters of every range.
 *
 * Return: 0, or the error of hp_range_params_validate() with nothing
 * changed.
 */
int hp_space_set_params(struct hp_space *s, const struct hp_range_params *p);

/**
 * hp_space_map() - cover a new mapping with ranges
 * @s: the space
 * @start: page-aligned start
 * @end: page-aligned end, > @start
 *
 * Parts of [@start, @end) that are already covered keep their ranges and
 * counts; each uncovered gap gets a new cold range.
 *
 * Return: 0, -EINVAL for an empty or unaligned interval, or -ENOMEM with
 * nothing changed.
 */
int hp_space_map(struct hp_space *s, unsigned long start, unsigned long end);

/**
 * hp_space_unmap() - stop covering [@start, @end) (munmap, mremap source)
 * @s: the space
 * @start: page-aligned start
 * @end: page-aligned end, > @start
 *
 * Ranges inside the interval are freed; ranges that overlap it are
 * trimmed, keeping the counts of their sub-counters that remain.  A
 * range with a hole punched in it becomes two ranges.  mremap() is an
 * unmap of the old interval followed by a map of the new one.
 *
 * Return: 0, -EINVAL for an empty or unaligned interval, or -ENOMEM with
 * nothing changed.
 */
int hp_space_unmap(struct hp_space *s, unsigned long start,
		   unsigned long end);

/**
 * hp_space_record() - account one sample
 * @s: the space
 * @addr: sampled virtual address
 * @weight: weight of the sample (1 for a plain sample)
 *
 * O(log R); O(1) when the range of the sample's 2 MiB block is cached.
 *
 * Return: true if @addr lies in a range; false if not (the sample is
 * counted in &hp_space_stats.unmatched and otherwise ignored).
 */
bool hp_space_record(struct hp_space *s, unsigned long addr, u32 weight);

/**
 * hp_space_epoch() - end an epoch of one space
 * @s: the space
 *
 * Splits ranges with a significantly denser part at a split-granularity
 * boundary and refines ranges near the hot set that look uniform, never
 * beyond @max_ranges; merges similar neighbours that are both wholly hot
 * or both wholly cold; merges the most similar neighbours while there
 * are more than @max_ranges ranges; then decays all counts and ages every
 * range.  Merges never change which pages are hot, not even those forced
 * by the cap: only hp_rank() does, and it reports every change.
 *
 * Return: 0, or -ENOMEM if a split was skipped; the space stays valid.
 */
int hp_space_epoch(struct hp_space *s);

/**
 * hp_rank() - choose the hot set across spaces
 * @spaces: the spaces to rank together
 * @n: number of spaces
 * @fast_pages: capacity of the fast tier in pages
 * @p: parameters (only @hysteresis is used); NULL means the defaults
 * @dec: array for the decisions, may be NULL if @max_dec is 0
 * @max_dec: size of @dec; at most INT_MAX decisions are stored
 * @res: summary, may be NULL
 *
 * Ranks all ranges by density, raised by @hysteresis and sampling noise
 * for ranges that are hot already and lowered by the noise for the
 * others, and gives fast pages to the densest ones until
 * @fast_pages is used up; the boundary range gets the remainder, as a
 * part touching the end of the range that was hot before, or else the
 * end where a part of that size holds more of the count.  A range whose
 * count is within the noise (no more than a few samples) never becomes
 * hot; a hot one stays hot while capacity is left.
 * Updates the hot part of every range, reports those that changed, and
 * records the boundary for the next epochs' refinement.
 *
 * Return: the number of decisions stored in @dec, or -ENOMEM with
 * nothing changed (also if the spaces hold more than UINT_MAX ranges).
 */
int hp_rank(struct hp_space *const *spaces, unsigned int n,
	    unsigned long fast_pages, const struct hp_range_params *p,
	    struct hp_decision *dec, unsigned int max_dec,
	    struct hp_rank_result *res);

/**
 * hp_space_lookup() - the range that contains @addr
 * @s: the space
 * @addr: virtual address
 *
 * Return: the range, or NULL if @addr is not covered.
 */
struct hp_range *hp_space_lookup(struct hp_space *s, unsigned long addr);

/**
 * hp_space_is_hot() - whether the page at @addr belongs on the fast tier
 * @s: the space
 * @addr: virtual address
 *
 * Return: true if @addr lies in the hot part of its range.
 */
bool hp_space_is_hot(struct hp_space *s, unsigned long addr);

/**
 * hp_space_first() - the lowest range of a space
 * @s: the space
 *
 * Return: the range, or NULL if the space is empty.
 */
struct hp_range *hp_space_first(const struct hp_space *s);

/**
 * hp_range_next() - the next range of the same space
 * @r: a range
 *
 * Return: the range above @r, or NULL.
 */
struct hp_range *hp_range_next(const struct hp_range *r);

/**
 * hp_range_count() - decayed access count of a range
 * @r: the range
 *
 * Return: the count, 1 << HP_COUNT_SHIFT per sample of weight 1.
 */
u64 hp_range_count(const struct hp_range *r);

/**
 * hp_range_density() - access density used for ranking
 * @r: the range
 *
 * Return: hp_range_count() << HP_DENSITY_SHIFT divided by the pages of
 * the range, rounded down.
 */
u64 hp_range_density(const struct hp_range *r);

/**
 * hp_range_density_of() - the density @r would have with another count
 * @r: the range
 * @count: a count, in hp_range_count()'s units (for a bound of its noise)
 *
 * Return: @count, capped so that it cannot overflow, << HP_DENSITY_SHIFT
 * divided by the pages of @r, rounded down.
 */
u64 hp_range_density_of(const struct hp_range *r, u64 count);

/**
 * hp_range_pages() - size of a range in pages
 * @r: the range
 *
 * Return: (@end - @start) >> PAGE_SHIFT.
 */
unsigned long hp_range_pages(const struct hp_range *r);

/**
 * hp_range_hot_pages() - pages of a range that belong on the fast tier
 * @r: the range
 *
 * Return: (@hot_end - @hot_start) >> PAGE_SHIFT.
 */
unsigned long hp_range_hot_pages(const struct hp_range *r);

/**
 * hp_space_nr_ranges() - number of ranges of a space
 * @s: the space
 *
 * Return: R.
 */
static inline unsigned int hp_space_nr_ranges(const struct hp_space *s)
{
	return s->nr_ranges;
}

/**
 * hp_space_get_stats() - counters of a space
 * @s: the space
 *
 * Return: a pointer to the counters, valid as long as @s.
 */
static inline const struct hp_space_stats *
hp_space_get_stats(const struct hp_space *s)
{
	return &s->stats;
}

#endif /* __MM_HYPERPLACE_RANGE_H */
