// SPDX-License-Identifier: GPL-2.0
/*
 * tpp: TPP (ASPLOS'23) as merged upstream (numa_balancing=2). The NUMA-balancing
 * scanner arms hint faults on slow-tier pages, 256 MiB per 1000 ms scan period
 * (spread over 100 ms ticks); a hint fault promotes its page when the fault came
 * within the 1000 ms hot threshold of the scan. Reclaim demotes from the fast tier in
 * LRU order (a CLOCK over the Accessed bits) whenever free fast memory falls under
 * the demotion watermark (2% of the fast tier), so promotions find room.
 * PEBS samples are not used.
 */
#include <stdlib.h>

#include "policy.h"
#include "util.h"

#define TPP_TICK_NS		100000000ull
#define TPP_SCAN_PERIOD_NS	1000000000ull
#define TPP_SCAN_BYTES		(256ull << 20)
#define TPP_HOT_NS		1000000000ull
#define TPP_WMARK_PCT		2

struct tpp {
	uint64_t *scanned;	/* when the hint was armed */
	uint64_t scan_hand, clock_hand;
	uint64_t per_tick;	/* pages scanned per tick */
	uint64_t wmark;		/* free fast pages reclaim keeps */
};

static void tpp_init(struct sim *s)
{
	struct tpp *t = xcalloc(1, sizeof(*t));

	t->scanned = xcalloc(s->tr->npages ? s->tr->npages : 1, sizeof(*t->scanned));
	t->per_tick = (TPP_SCAN_BYTES >> s->tr->shift) * TPP_TICK_NS / TPP_SCAN_PERIOD_NS;
	t->wmark = s->fast_cap * TPP_WMARK_PCT / 100;
	s->pd = t;
	s->epoch_ns = TPP_TICK_NS;
}

static void tpp_fini(struct sim *s)
{
	struct tpp *t = s->pd;

	free(t->scanned);
	free(t);
}

/* kswapd-style demotion: second chance on the Accessed bit, coldest out first. */
static void reclaim(struct sim *s, struct tpp *t, uint64_t want_free)
{
	uint64_t np = s->tr->npages, steps = 0;

	while (sim_free_fast(s) < want_free && steps++ < 2 * np) {
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

		if (s->pf[p] & PF_SLOW) {
			s->pf[p] |= PF_HINT;
			t->scanned[p] = s->now;
		}
	}
	reclaim(s, t, t->wmark);
}

static void tpp_faults(struct sim *s, const uint32_t *pages, const uint64_t *ft, size_t n)
{
	struct tpp *t = s->pd;

	for (size_t i = 0; i < n; i++) {
		uint32_t p = pages[i];

		if (!(s->pf[p] & PF_SLOW) || ft[i] - t->scanned[p] > TPP_HOT_NS)
			continue;
		if (!sim_free_fast(s))
			reclaim(s, t, 1 + t->wmark);
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
