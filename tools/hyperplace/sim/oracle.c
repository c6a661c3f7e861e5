// SPDX-License-Identifier: GPL-2.0
#include <stdlib.h>
#include <string.h>

#include "oracle.h"
#include "sim.h"
#include "util.h"

struct oset {
	const struct trace *tr;
	uint32_t *cnt;		/* accesses this interval */
	uint32_t *touched;	/* pages with cnt > 0 */
	size_t ntouched;
	uint32_t *vals;
	uint8_t *in;		/* 1 = in the fast set, 2 = chosen for the next one */
	uint32_t *mem, *next;	/* fast set members */
	size_t nmem;
};

/* k-th largest of v[0..n) (1 <= k <= n), reordering v: three-way quickselect. */
static uint32_t kth_largest(uint32_t *v, size_t n, size_t k)
{
	size_t lo = 0, hi = n, want = k - 1;

	for (;;) {
		uint32_t pivot = v[lo + (hi - lo) / 2], x;
		size_t lt = lo, i = lo, gt = hi;

		/* [lo, lt) > pivot, [lt, i) == pivot, [gt, hi) < pivot */
		while (i < gt) {
			if (v[i] > pivot) {
				x = v[lt], v[lt++] = v[i], v[i++] = x;
			} else if (v[i] < pivot) {
				x = v[--gt], v[gt] = v[i], v[i] = x;
			} else {
				i++;
			}
		}
		if (want < lt)
			hi = lt;
		else if (want >= gt)
			lo = gt;
		else
			return pivot;
	}
}

/* Close one interval: best hits, then the moves from the old fast set to the new. */
static uint64_t close_interval(struct oset *o, uint64_t cap, uint64_t *moved)
{
	uint64_t hits = 0, ties = 0;
	uint32_t thr = 0;
	size_t n = o->ntouched, nn = 0;

	if (n > cap) {
		uint64_t above = 0;

		for (size_t i = 0; i < n; i++)
			o->vals[i] = o->cnt[o->touched[i]];
		thr = kth_largest(o->vals, n, cap);
		for (size_t i = 0; i < n; i++)
			above += o->cnt[o->touched[i]] > thr;
		ties = cap - above;	/* how many pages at exactly thr fit */
	}
	/* above thr, then ties at thr: members of the old set first, so no churn */
	for (int pass = 0; pass < 2; pass++) {
		for (size_t i = 0; i < n; i++) {
			uint32_t p = o->touched[i], c = o->cnt[p];
			int take = pass ? c == thr && ties && o->in[p] != 2 && (ties--, 1) :
				   c > thr || (c == thr && o->in[p] == 1 && ties && (ties--, 1));

			if (!take)
				continue;
			hits += c;
			*moved += o->in[p] != 1;
			o->in[p] = 2;
			o->next[nn++] = p;
		}
	}
	for (size_t i = 0; i < n; i++)
		o->cnt[o->touched[i]] = 0;
	/* old members not chosen stay while there is room, else they are demoted */
	for (size_t i = 0; i < o->nmem; i++) {
		uint32_t p = o->mem[i];

		if (o->in[p] == 2)
			continue;
		if (nn < cap) {
			o->next[nn++] = p;
		} else {
			o->in[p] = 0;
			(*moved)++;
		}
	}
	for (size_t i = 0; i < nn; i++)
		o->in[o->next[i]] = 1;
	memcpy(o->mem, o->next, nn * sizeof(*o->mem));
	o->nmem = nn;
	o->ntouched = 0;
	return hits;
}

void oracle_run(struct oracle *o, const struct trace *tr, uint64_t ival)
{
	struct oset st = { .tr = tr };
	uint64_t t = tr->t0, next_ival = ival, iacc = 0, t0 = thread_ns();
	uint64_t cap = tr->fast_pages;
	size_t k = 0, np = tr->npages ? tr->npages : 1;

	memset(o, 0, sizeof(*o));
	o->nival = sim_nival(tr, ival);
	o->iacc = xcalloc(o->nival, sizeof(*o->iacc));
	o->ihit = xcalloc(o->nival, sizeof(*o->ihit));
	st.cnt = xcalloc(np, sizeof(*st.cnt));
	st.touched = xmalloc(np * sizeof(*st.touched));
	st.vals = xmalloc(np * sizeof(*st.vals));
	st.in = xcalloc(np, 1);
	st.mem = xmalloc((np < cap ? np : cap) * sizeof(*st.mem) + 4);
	st.next = xmalloc((np < cap ? np : cap) * sizeof(*st.next) + 4);
	if (cap > np)
		cap = np;

	for (size_t i = 0; i < tr->n; i++) {
		uint32_t w = tr->ev[i], p;

		t += tr->dt[i];
		if ((w >> EV_SHIFT) == EV_CTL)
			t = tr->ctl[w & EV_ARG].t;
		if (t - tr->t0 >= next_ival) {	/* as in sim_run() */
			while (k + 1 < o->nival && sat_mul(k + 1, ival) <= t - tr->t0) {
				o->iacc[k] = iacc;
				o->ihit[k++] = close_interval(&st, cap, &o->moved);
				iacc = 0;
			}
			next_ival = sat_mul(k + 1, ival);
		}
		if ((w >> EV_SHIFT) == EV_CTL)
			continue;
		p = w & EV_ARG;
		if (!st.cnt[p]++)
			st.touched[st.ntouched++] = p;
		iacc++;
	}
	if (k < o->nival) {
		o->iacc[k] = iacc;
		o->ihit[k] = close_interval(&st, cap, &o->moved);
	}
	for (k = 0; k < o->nival; k++) {
		o->acc += o->iacc[k];
		o->hits += o->ihit[k];
	}
	free(st.cnt);
	free(st.touched);
	free(st.vals);
	free(st.in);
	free(st.mem);
	free(st.next);
	o->cpu_s = (double)(thread_ns() - t0) / 1e9;
}

void oracle_free(struct oracle *o)
{
	free(o->iacc);
	free(o->ihit);
}
