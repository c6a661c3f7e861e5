// SPDX-License-Identifier: GPL-2.0
/*
 * memtis: Memtis (SOSP'23) as a per-page model. Every sample bumps its page's count;
 * pages sit in a log2 histogram (bin = 1 + floor(log2(count)), 16 bins). The hot
 * threshold is the lowest bin such that the pages at or above it fit the fast tier,
 * refitted every adaptation period; every cooling period halves all counts. kmigrated
 * promotes hot pages from the slow tier, hottest first, and demotes non-hot pages,
 * coldest bin first (cold before warm), to make room. Memtis' THP
 * splitting is not modelled (the simulator has base pages only).
 */
#include <stdlib.h>
#include <string.h>

#include "policy.h"
#include "util.h"

#define MT_BINS		16
#define MT_EPOCH_NS	100000000ull	/* kmigrated wakeup */

struct mt {
	uint32_t *cnt;
	uint64_t bins[MT_BINS];
	uint64_t since_cool, since_adapt;
	uint64_t cool_every, adapt_every;
	unsigned int thr;		/* hot: bin >= thr */
	uint32_t *order;		/* scratch: candidates sorted by bin */
};

static unsigned int bin_of(uint32_t c)
{
	unsigned int b = c ? 32 - (unsigned int)__builtin_clz(c) : 0;

	return b < MT_BINS ? b : MT_BINS - 1;
}

static void refit(struct sim *s, struct mt *m)
{
	uint64_t sum = 0;
	int b;

	m->thr = 0;
	for (b = MT_BINS - 1; b >= 0; b--) {
		sum += m->bins[b];
		if (sum > s->fast_cap) {
			m->thr = (unsigned int)b + 1;
			break;
		}
	}
}

static void cool(struct sim *s, struct mt *m)
{
	memset(m->bins, 0, sizeof(m->bins));
	for (uint64_t p = 0; p < s->tr->npages; p++) {
		if (s->pf[p] & PF_DEAD)
			m->cnt[p] = 0;
		m->cnt[p] >>= 1;
		if (s->pf[p] & (PF_FAST | PF_SLOW))
			m->bins[bin_of(m->cnt[p])]++;
	}
}

static void mt_init(struct sim *s)
{
	struct mt *m = xcalloc(1, sizeof(*m));

	m->cnt = xcalloc(s->tr->npages ? s->tr->npages : 1, sizeof(*m->cnt));
	m->order = xcalloc(s->tr->npages ? s->tr->npages : 1, sizeof(*m->order));
	/* Memtis: adaptation 100k samples, cooling 2M samples, scaled to the fast tier */
	m->cool_every = 2 * s->fast_cap;
	m->adapt_every = m->cool_every / 20 ? m->cool_every / 20 : 1;
	s->pd = m;
	s->epoch_ns = MT_EPOCH_NS;
}

static void mt_fini(struct sim *s)
{
	struct mt *m = s->pd;

	free(m->order);
	free(m->cnt);
	free(m);
}

static void mt_samples(struct sim *s, const struct sample *v, size_t n)
{
	struct mt *m = s->pd;

	for (size_t i = 0; i < n; i++) {
		uint32_t p = v[i].page, c = m->cnt[p];
		unsigned int b0 = bin_of(c), b1 = bin_of(c + 1);

		m->cnt[p] = c + 1;
		if (b0 != b1) {
			if (m->bins[b0])
				m->bins[b0]--;
			m->bins[b1]++;
		}
		if (++m->since_adapt >= m->adapt_every) {
			m->since_adapt = 0;
			refit(s, m);
		}
		if (++m->since_cool >= m->cool_every) {
			m->since_cool = 0;
			cool(s, m);
			refit(s, m);
		}
	}
}

/* candidates: hot pages on slow, non-hot pages on fast (victims, cold before warm) */
static int candidate(const struct sim *s, const struct mt *m, uint64_t p)
{
	unsigned int b = bin_of(m->cnt[p]);
	uint8_t f = s->pf[p];

	return ((f & PF_SLOW) && b >= m->thr && b) || ((f & PF_FAST) && b < m->thr);
}

static void mt_epoch(struct sim *s)
{
	struct mt *m = s->pd;
	uint64_t np = s->tr->npages;
	size_t off[MT_BINS + 1] = { 0 }, pos[MT_BINS], ci, hi;

	/* counting sort of the candidates by bin */
	for (uint64_t p = 0; p < np; p++)
		if (candidate(s, m, p))
			off[bin_of(m->cnt[p]) + 1]++;
	for (int b = 0; b < MT_BINS; b++) {
		off[b + 1] += off[b];
		pos[b] = off[b];
	}
	for (uint64_t p = 0; p < np; p++)
		if (candidate(s, m, p))
			m->order[pos[bin_of(m->cnt[p])]++] = (uint32_t)p;
	/* hottest first; make room by demoting the coldest */
	ci = 0;
	for (hi = off[MT_BINS]; hi-- > off[m->thr ? m->thr : 1];) {
		if (!sim_free_fast(s)) {
			if (ci >= off[m->thr] || ci >= hi)
				return;
			if (sim_demote(s, m->order[ci++]) < 0)
				return;
		}
		if (sim_promote(s, m->order[hi]) < 0)
			return;
	}
}

const struct policy pol_memtis = {
	.name = "memtis",
	.init = mt_init,
	.fini = mt_fini,
	.samples = mt_samples,
	.epoch = mt_epoch,
	.ctl = pol_no_ctl,	/* dead pages are dropped at the next cooling */
	.faults = pol_no_faults,
};
