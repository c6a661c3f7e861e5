// SPDX-License-Identifier: GPL-2.0
/*
 * tpp: TPP (ASPLOS'23) as merged upstream (numa_balancing=2, Linux 6.12); ../README
 * cites each rule. The NUMA-balancing scanner arms hint faults on slow-tier pages,
 * 256 MiB per 1000 ms scan period (spread over 100 ms ticks); a page whose hint is
 * still armed keeps the time it was first armed. A hint fault promotes its page when
 * it came less than the hot threshold (1000 ms) after the scan, or whatever its
 * latency while the fast tier has plenty of free memory; candidates beyond the
 * promotion rate limit in a second are refused, and the threshold adjusts to that
 * limit once a minute. A promotion that would take the fast tier below its high
 * watermark fails and wakes kswapd, which demotes in LRU order (a CLOCK over the
 * Accessed bits) until free memory is back above the promotion watermark.
 * PEBS samples are not used.
 */
#include <math.h>
#include <stdlib.h>

#include "policy.h"
#include "util.h"

#define TPP_TICK_NS		100000000ull
#define TPP_SCAN_PERIOD_NS	1000000000ull
#define TPP_SCAN_BYTES		(256ull << 20)
#define TPP_HOT_MS		1000ull		/* numa_balancing_hot_threshold_ms */
#define TPP_RATE_MBPS		65536ull	/* numa_balancing_promote_rate_limit_MBps */
#define TPP_ADJ_WINDOW_NS	60000000000ull	/* numa_balancing_scan_period_max_ms */
#define TPP_ADJ_STEPS		16
#define TPP_RATE_WINDOW_NS	1000000000ull
#define NS_PER_MS		1000000ull

struct tpp {
	uint64_t *scanned;	/* when the hint was armed */
	uint64_t scan_hand, clock_hand;
	uint64_t per_tick;	/* pages scanned per tick */
	uint64_t wmark_low, wmark_high, wmark_promo;	/* free fast pages */
	uint64_t plenty;	/* free fast pages above which every fault promotes */
	uint64_t hot_ms;	/* the adjusted hot threshold */
	uint64_t rate_pages;	/* promotion rate limit, pages per second */
	uint64_t rate_start, rate_cand;		/* this second's candidates */
	uint64_t adj_start, adj_cand;		/* this window's candidates */
	int adj_started;
};

/*
 * The zone watermarks of a node of @pages pages: min_free_kbytes = sqrt(16 x KiB),
 * clamped to 128 KiB..256 MiB; each step is the larger of min/4 and 0.1% of the node.
 * In pages, rounded up, at least one page each; on a tier too small for them (pages
 * of MiBs, a handful of pages), they are cut so that promo stays under a quarter.
 */
static void watermarks(struct tpp *t, uint64_t pages, uint64_t page_size)
{
	double bytes = (double)pages * (double)page_size;
	double min_b = sqrt(16 * bytes / 1024) * 1024, step_b;
	uint64_t min, step;

	if (min_b < 128 << 10)
		min_b = 128 << 10;
	if (min_b > 256 << 20)
		min_b = 256 << 20;
	step_b = min_b / 4 > bytes / 1000 ? min_b / 4 : bytes / 1000;
	min = (uint64_t)ceil(min_b / (double)page_size);
	step = (uint64_t)ceil(step_b / (double)page_size);
	if (min + 3 * step > pages / 4) {
		min = pages / 16;
		step = pages / 16;
	}
	t->wmark_low = min + step;
	t->wmark_high = min + 2 * step;
	t->wmark_promo = min + 3 * step;
}

static void tpp_init(struct sim *s)
{
	struct tpp *t = xcalloc(1, sizeof(*t));
	unsigned int shift = s->tr->shift;

	t->scanned = xcalloc(s->tr->npages ? s->tr->npages : 1, sizeof(*t->scanned));
	t->per_tick = (TPP_SCAN_BYTES >> shift) * TPP_TICK_NS / TPP_SCAN_PERIOD_NS;
	watermarks(t, s->fast_cap, s->tr->page_size);
	/* upstream: promo watermark + max(1 GiB, 1/16 of the node); 1 GiB is unscaled */
	t->plenty = t->wmark_promo + s->fast_cap / 16;
	t->hot_ms = TPP_HOT_MS;
	t->rate_pages = (TPP_RATE_MBPS << 20) >> shift;
	s->pd = t;
	s->epoch_ns = TPP_TICK_NS;
}

static void tpp_fini(struct sim *s)
{
	struct tpp *t = s->pd;

	free(t->scanned);
	free(t);
}

/* kswapd's demotion: second chance on the Accessed bit, coldest out first. */
static void reclaim(struct sim *s, struct tpp *t, uint64_t want_free)
{
	uint64_t np = s->tr->npages, steps = 0;

	/* kswapd's goal: free memory above @want_free */
	while (sim_free_fast(s) <= want_free && want_free < s->fast_cap &&
	       steps++ < 2 * np) {
		uint64_t p = t->clock_hand++ % np;

		if (!(s->pf[p] & PF_FAST))
			continue;
		if (s->pf[p] & PF_ACC) {
			s->pf[p] &= (uint8_t)~PF_ACC;
			continue;
		}
		if (sim_demote(s, (uint32_t)p) < 0)
			return;
	}
}

static void tpp_epoch(struct sim *s)
{
	struct tpp *t = s->pd;
	uint64_t np = s->tr->npages;

	/* change_prot_numa(): tiering mode skips pages already on the top tier */
	for (uint64_t i = 0; i < t->per_tick && np; i++) {
		uint64_t p = t->scan_hand++ % np;

		if ((s->pf[p] & (PF_SLOW | PF_HINT)) == PF_SLOW) {
			s->pf[p] |= PF_HINT;
			t->scanned[p] = s->now;
		}
	}
	/* kswapd runs at the low watermark */
	if (sim_free_fast(s) <= t->wmark_low)
		reclaim(s, t, t->wmark_promo);
}

/*
 * numa_promotion_adjust_threshold(): once a window, a step down if the window's
 * candidates exceeded the rate limit's by 10%, a step up if they fell 10% short.
 */
static void adjust_threshold(struct tpp *t, uint64_t now)
{
	uint64_t ref = t->rate_pages * (TPP_ADJ_WINDOW_NS / TPP_RATE_WINDOW_NS);
	uint64_t step = 2 * TPP_HOT_MS / TPP_ADJ_STEPS;

	/* the first call adjusts: the kernel's first window starts at boot */
	if (t->adj_started && now - t->adj_start <= TPP_ADJ_WINDOW_NS)
		return;
	if (t->adj_cand * 10 > ref * 11)
		t->hot_ms = t->hot_ms > 2 * step ? t->hot_ms - step : step;
	else if (t->adj_cand * 10 < ref * 9)
		t->hot_ms = t->hot_ms + step < 2 * TPP_HOT_MS ? t->hot_ms + step :
			    2 * TPP_HOT_MS;
	t->adj_start = now;
	t->adj_started = 1;
	t->adj_cand = 0;
}

/* numa_promotion_rate_limit(): false once this second's candidates are too many */
static int within_rate(struct tpp *t, uint64_t now)
{
	if (now - t->rate_start >= TPP_RATE_WINDOW_NS) {
		t->rate_start = now;
		t->rate_cand = 0;
	}
	return ++t->rate_cand < t->rate_pages;
}

static void tpp_faults(struct sim *s, const uint32_t *pages, const uint64_t *ft, size_t n)
{
	struct tpp *t = s->pd;

	for (size_t i = 0; i < n; i++) {
		uint32_t p = pages[i];

		if (!(s->pf[p] & PF_SLOW))
			continue;
		if (sim_free_fast(s) <= t->plenty) {
			adjust_threshold(t, ft[i]);
			if ((ft[i] - t->scanned[p]) / NS_PER_MS >= t->hot_ms)
				continue;
			t->adj_cand++;
			if (!within_rate(t, ft[i]))
				continue;
		} else {
			/* plenty of room: every fault promotes, at the default threshold */
			t->hot_ms = TPP_HOT_MS;
		}
		/*
		 * migrate_balanced_pgdat(): not below the high watermark. The fault
		 * fails and wakes kswapd, which runs at once next to the faulting
		 * task; the page waits for its next scan and fault.
		 */
		if (sim_free_fast(s) <= t->wmark_high + 1) {
			reclaim(s, t, t->wmark_promo);
			continue;
		}
		if (sim_promote(s, p) < 0)
			return;
	}
}

const struct policy pol_tpp = {
	.name = "tpp",
	.init = tpp_init,
	.fini = tpp_fini,
	.samples = pol_no_samples,
	.epoch = tpp_epoch,
	.ctl = pol_no_ctl,
	.faults = tpp_faults,
};
