// SPDX-License-Identifier: GPL-2.0
/*
 * memtis: Memtis (SOSP'23) as its artifact implements it (cosmoss-jigu/memtis,
 * linux/mm/htmm_*.c); ../README cites each rule. Every sample adds 512 to its 4 KiB
 * page's count; pages sit in a histogram of 16 bins, bin = min(15, floor(log2(count
 * + 1))). Every adaptation period the hot threshold is refitted to the fast tier less
 * its 3% promotion watermark: one above the hottest bin that would overflow it, at
 * least 1, at most 15; between coolings it only rises, and the first refit after a
 * cooling lowers it by at most one. The warm threshold is one lower while the hot
 * pages fill less than 75% of the tier. Every cooling period all counts halve. Every
 * 500 ms the migration threads demote what keeps the slow tier's hot pages out, never
 * a warm or hot page, and promote hot slow pages into the room below the watermark.
 * Memtis' huge-page accounting and splitting are not modelled (base pages only).
 */
#include <stdlib.h>
#include <string.h>

#include "policy.h"
#include "util.h"

#define MT_BINS		16
#define MT_PER_SAMPLE	512		/* a sample's weight on a base page */
#define MT_EPOCH_NS	500000000ull	/* kmigraterd's demotion and promotion period */
#define MT_WMARK_PCT	3		/* promotion watermark */
#define MT_LOW_WMARK_PCT 2		/* demotion with no hot slow page */
#define MT_WARM_PCT	75

struct mt {
	uint32_t *cnt;
	uint64_t bins[MT_BINS];
	uint64_t since_cool, since_adapt;
	uint64_t cool_every, adapt_every;
	uint64_t cap;			/* fast pages less the promotion watermark */
	unsigned int thr;		/* hot: bin >= thr */
	unsigned int warm;		/* never demoted: bin >= warm */
	int warm_too;			/* the last demotion fell short: warm pages go */
	int cooled;			/* a cooling since the last refit */
	uint32_t *order;		/* scratch: candidates sorted by bin */
};

static unsigned int bin_of(uint32_t c)
{
	unsigned int b = 31 - (unsigned int)__builtin_clz(c + 1);	/* c < UINT32_MAX */

	return b < MT_BINS ? b : MT_BINS - 1;
}

static void refit(struct mt *m)
{
	unsigned int fit = 0, b;
	uint64_t sum = 0;

	for (b = MT_BINS; b-- > 0;) {
		if (sum + m->bins[b] > m->cap) {
			fit = b + 1;
			break;
		}
		sum += m->bins[b];
	}
	if (fit < 1)
		fit = 1;
	if (fit > MT_BINS - 1)
		fit = MT_BINS - 1;
	/* after a cooling it may only fall, by one; otherwise only rise */
	if (m->cooled) {
		if (fit < m->thr && m->thr > 1)
			m->thr--;
	} else if (fit > m->thr) {
		m->thr = fit;
	}
	m->cooled = 0;
	/* warm from what fit, before the rule above */
	m->warm = sum * 100 < m->cap * MT_WARM_PCT ? m->thr - 1 : m->thr;
}

static void cool(struct sim *s, struct mt *m)
{
	memset(m->bins, 0, sizeof(m->bins));
	for (uint64_t p = 0; p < s->tr->npages; p++) {
		if (s->pf[p] & PF_DEAD)
			m->cnt[p] = 0;
		m->cnt[p] >>= 1;
		/* a page is in the histogram once sampled, until its count is gone */
		if (m->cnt[p] && (s->pf[p] & (PF_FAST | PF_SLOW)))
			m->bins[bin_of(m->cnt[p])]++;
	}
	m->cooled = 1;
}

static void mt_init(struct sim *s)
{
	struct mt *m = xcalloc(1, sizeof(*m));

	m->cnt = xcalloc(s->tr->npages ? s->tr->npages : 1, sizeof(*m->cnt));
	m->order = xcalloc(s->tr->npages ? s->tr->npages : 1, sizeof(*m->order));
	/* Memtis: adaptation 100k samples, cooling 2M samples, scaled to the fast tier */
	m->cool_every = 2 * s->fast_cap;
	m->adapt_every = m->cool_every / 20 ? m->cool_every / 20 : 1;
	m->cap = s->fast_cap - s->fast_cap * MT_WMARK_PCT / 100;
	m->thr = 1;
	m->warm = 0;
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
		uint32_t c1 = c >= UINT32_MAX - MT_PER_SAMPLE ? UINT32_MAX - 1 : c + MT_PER_SAMPLE;
		unsigned int b0 = bin_of(c), b1 = bin_of(c1);

		m->cnt[p] = c1;
		/* a page without a count enters the histogram */
		if (!c)
			m->bins[b1]++;
		else if (b0 != b1) {
			if (m->bins[b0])
				m->bins[b0]--;
			m->bins[b1]++;
		}
		if (++m->since_cool >= m->cool_every) {
			m->since_cool = 0;
			m->since_adapt = 0;
			cool(s, m);
		} else if (++m->since_adapt >= m->adapt_every) {
			m->since_adapt = 0;
			refit(m);
		}
	}
}

/* candidates: hot pages on slow, pages under the warm bin on fast (victims) */
static int candidate(const struct sim *s, const struct mt *m, uint64_t p,
		     unsigned int warm)
{
	unsigned int b = bin_of(m->cnt[p]);
	uint8_t f = s->pf[p];

	return ((f & PF_SLOW) && m->cnt[p] && b >= m->thr) || ((f & PF_FAST) && b < warm);
}

static void mt_epoch(struct sim *s)
{
	struct mt *m = s->pd;
	uint64_t np = s->tr->npages, wm = s->fast_cap - m->cap;
	uint64_t slow_hot, excess = 0, demoted = 0;
	size_t off[MT_BINS + 1] = { 0 }, pos[MT_BINS], ci, hi;
	unsigned int warm = m->warm_too ? m->thr : m->warm;

	/* counting sort of the candidates by bin; pages never sampled are bin 0 */
	m->warm_too = 0;
	for (uint64_t p = 0; p < np; p++)
		if (candidate(s, m, p, warm))
			off[bin_of(m->cnt[p]) + 1]++;
	for (int b = 0; b < MT_BINS; b++) {
		off[b + 1] += off[b];
		pos[b] = off[b];
	}
	for (uint64_t p = 0; p < np; p++)
		if (candidate(s, m, p, warm))
			m->order[pos[bin_of(m->cnt[p])]++] = (uint32_t)p;
	slow_hot = off[MT_BINS] - off[m->thr];
	/* need_toptier_demotion(): room for the slow hot pages and the watermark */
	if (slow_hot && s->fast_used + slow_hot + wm > s->fast_cap)
		excess = s->fast_used + slow_hot + wm - s->fast_cap;
	else if (!slow_hot && s->fast_used + s->fast_cap * MT_LOW_WMARK_PCT / 100 > s->fast_cap)
		excess = s->fast_used + wm - s->fast_cap;
	/* demotion: the coldest victims first (Memtis: the oldest inactive ones) */
	for (ci = 0; ci < off[m->thr] && demoted < excess; ci++) {
		if (!(s->pf[m->order[ci]] & PF_FAST))
			continue;
		if (sim_demote(s, m->order[ci]) < 0)
			break;
		demoted++;
	}
	/* it could not make room: the next demotion takes warm pages too */
	if (demoted < excess && demoted < slow_hot)
		m->warm_too = 1;
	/* promotion: hottest first (Memtis: the oldest hot ones) into the room left */
	for (hi = off[MT_BINS]; hi-- > off[m->thr] && s->fast_used < m->cap;)
		if (sim_promote(s, m->order[hi]) < 0)
			return;
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
