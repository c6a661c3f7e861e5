// SPDX-License-Identifier: GPL-2.0
/*
 * damon: DAMON (mm/damon) with DAMOS migrate_hot / migrate_cold. Regions cover each
 * process's mappings (vaddr monitoring; upstream runs the migrate actions on paddr,
 * the access check is the same). Every 5 ms sampling interval each region checks the
 * Accessed bit of one random page and arms a new one; every 100 ms aggregation
 * interval adjacent regions whose nr_accesses differ by <= 10% of the maximum merge,
 * schemes apply, and every region splits in two at a random point while there are
 * fewer than max_nr_regions / 2 (min 10, max 1000 regions).
 * migrate_hot: regions with nr_accesses >= 5% of the maximum, hottest first, promote
 * into free fast pages. migrate_cold: regions with nr_accesses == 0, oldest first,
 * demote until 2% of the fast tier is free (the DAMOS quota goal).
 * PEBS samples are not used.
 */
#include <stdlib.h>
#include <string.h>

#include "policy.h"
#include "util.h"

#define DA_SAMPLE_NS	5000000ull
#define DA_AGGR		20		/* samples per aggregation: 100 ms */
#define DA_MIN_REGIONS	10
#define DA_MAX_REGIONS	1000
#define DA_HOT_PCT	5
#define DA_FREE_PCT	2

struct dreg {
	uint64_t start, end;
	uint32_t pid;
	uint32_t nr, last_nr, age;
	uint32_t probe;			/* page whose Accessed bit is being watched */
	int armed;
};

struct damon {
	struct dreg *r, *tmp;
	size_t n, cap;
	uint32_t tick;
	uint64_t rng;
};

static void reserve(struct damon *d, size_t n)
{
	if (n <= d->cap)
		return;
	while (d->cap < n)
		d->cap = d->cap ? 2 * d->cap : 64;
	d->r = xrealloc(d->r, d->cap * sizeof(*d->r));
	d->tmp = xrealloc(d->tmp, d->cap * sizeof(*d->tmp));
}

static void da_init(struct sim *s)
{
	struct damon *d = xcalloc(1, sizeof(*d));

	d->rng = s->o->seed ^ 0xda3011ull;
	s->pd = d;
	s->epoch_ns = DA_SAMPLE_NS;
}

static void da_fini(struct sim *s)
{
	struct damon *d = s->pd;

	free(d->r);
	free(d->tmp);
	free(d);
}

static int reg_cmp(const void *a, const void *b)
{
	const struct dreg *x = a, *y = b;

	if (x->pid != y->pid)
		return x->pid < y->pid ? -1 : 1;
	return x->start < y->start ? -1 : x->start > y->start;
}

/* Drop [start, end) of pid from the regions, keeping what lies outside it. */
static void cut(struct damon *d, uint32_t pid, uint64_t start, uint64_t end)
{
	size_t n = 0, n0 = d->n;

	reserve(d, n0 * 2 + 1);
	for (size_t i = 0; i < n0; i++) {
		struct dreg r = d->r[i];

		if (r.pid != pid || r.end <= start || r.start >= end) {
			d->tmp[n++] = r;
			continue;
		}
		r.armed = 0;
		if (r.start < start) {
			d->tmp[n] = r;
			d->tmp[n++].end = start;
		}
		if (r.end > end) {
			d->tmp[n] = r;
			d->tmp[n++].start = end;
		}
	}
	memcpy(d->r, d->tmp, n * sizeof(*d->r));
	d->n = n;
}

static void da_ctl(struct sim *s, const struct ctl *c)
{
	struct damon *d = s->pd;
	uint64_t ps = s->tr->page_size;

	if (c->op == 'x') {
		cut(d, c->pid, 0, UINT64_MAX);
		return;
	}
	cut(d, c->pid, c->start, c->end);
	if (c->op != 'm')
		return;
	/* a new target area starts as min_nr_regions equal pieces */
	{
		uint64_t pages = (c->end - c->start) / ps;
		uint64_t k = pages < DA_MIN_REGIONS ? pages : DA_MIN_REGIONS;

		reserve(d, d->n + k);
		for (uint64_t i = 0; i < k; i++) {
			struct dreg r = { 0 };

			r.pid = c->pid;
			r.start = c->start + (pages * i / k) * ps;
			r.end = c->start + (pages * (i + 1) / k) * ps;
			d->r[d->n++] = r;
		}
	}
	qsort(d->r, d->n, sizeof(*d->r), reg_cmp);
}

static uint64_t rand_page(struct sim *s, struct damon *d, const struct dreg *r)
{
	uint64_t pages = (r->end - r->start) >> s->tr->shift;
	uint64_t va = r->start + (rng_below(&d->rng, pages) << s->tr->shift);

	return vmap_page(&s->vm, r->pid, va);
}

static void check(struct sim *s, struct damon *d)
{
	for (size_t i = 0; i < d->n; i++) {
		struct dreg *r = &d->r[i];
		uint64_t pg;

		if (r->armed && (s->pf[r->probe] & PF_ACC))
			r->nr++;
		pg = rand_page(s, d, r);
		r->armed = pg != UINT64_MAX;
		if (!r->armed)
			continue;
		r->probe = (uint32_t)pg;
		s->pf[pg] &= (uint8_t)~PF_ACC;
	}
	s->nsamples += d->n;
}

static void merge(struct damon *d, uint32_t thr, uint64_t sz_limit)
{
	size_t n = 0;

	for (size_t i = 0; i < d->n; i++) {
		struct dreg *a = n ? &d->tmp[n - 1] : NULL, *b = &d->r[i];
		uint32_t diff = a ? (a->nr > b->nr ? a->nr - b->nr : b->nr - a->nr) : 0;

		if (a && a->pid == b->pid && a->end == b->start && diff <= thr &&
		    b->end - a->start <= sz_limit) {
			uint64_t sa = a->end - a->start, sb = b->end - b->start;

			a->nr = (uint32_t)((a->nr * sa + b->nr * sb) / (sa + sb));
			a->last_nr = (uint32_t)((a->last_nr * sa + b->last_nr * sb) / (sa + sb));
			a->age = (uint32_t)((a->age * sa + b->age * sb) / (sa + sb));
			a->end = b->end;
			a->armed = 0;
		} else {
			d->tmp[n++] = *b;
		}
	}
	memcpy(d->r, d->tmp, n * sizeof(*d->r));
	d->n = n;
}

static void split(struct sim *s, struct damon *d)
{
	size_t n = 0;

	if (d->n >= DA_MAX_REGIONS / 2)
		return;
	reserve(d, 2 * d->n);
	for (size_t i = 0; i < d->n; i++) {
		struct dreg r = d->r[i];
		uint64_t pages = (r.end - r.start) >> s->tr->shift;

		if (pages < 2) {
			d->tmp[n++] = r;
			continue;
		}
		/* random cut in the middle 80%, as damon_split_regions_of() */
		uint64_t at = r.start + ((pages / 10 + rng_below(&d->rng, pages * 8 / 10 + 1))
					 << s->tr->shift);
		if (at <= r.start || at >= r.end)
			at = r.start + ((pages / 2) << s->tr->shift);
		d->tmp[n] = r;
		d->tmp[n++].end = at;
		d->tmp[n] = r;
		d->tmp[n].start = at;
		d->tmp[n++].armed = 0;
	}
	memcpy(d->r, d->tmp, n * sizeof(*d->r));
	d->n = n;
}

struct walk {
	struct sim *s;
	int promote;
	int stop;
	uint64_t want_free;
};

static void move_run(void *ctx, uint64_t first, uint64_t n)
{
	struct walk *w = ctx;

	for (uint64_t p = first; p < first + n && !w->stop; p++) {
		if (w->promote) {
			if ((w->s->pf[p] & PF_SLOW) && sim_promote(w->s, (uint32_t)p) < 0)
				w->stop = 1;
		} else {
			if (sim_free_fast(w->s) >= w->want_free) {
				w->stop = 1;
				break;
			}
			if ((w->s->pf[p] & PF_FAST) && sim_demote(w->s, (uint32_t)p) < 0)
				w->stop = 1;
		}
	}
}

static int by_hot(const void *a, const void *b)
{
	const struct dreg *x = *(const struct dreg *const *)a, *y = *(const struct dreg *const *)b;

	if (x->nr != y->nr)
		return x->nr < y->nr ? 1 : -1;
	if (!x->nr)	/* idle: oldest last, where migrate_cold starts */
		return x->age < y->age ? -1 : x->age > y->age;
	return x->age < y->age ? 1 : x->age > y->age ? -1 : 0;
}

static void schemes(struct sim *s, struct damon *d)
{
	struct dreg **v = xmalloc((d->n ? d->n : 1) * sizeof(*v));
	struct walk w = { .s = s, .want_free = s->fast_cap * DA_FREE_PCT / 100 };
	uint32_t hot_min = (DA_AGGR * DA_HOT_PCT + 99) / 100;
	size_t i, nv = 0;

	for (i = 0; i < d->n; i++)
		v[nv++] = &d->r[i];
	qsort(v, nv, sizeof(*v), by_hot);
	/* migrate_cold first: oldest idle regions give room (end of the order) */
	for (i = nv; i-- > 0 && !w.stop && sim_free_fast(s) < w.want_free;)
		if (v[i]->nr == 0)
			sim_for_range(s, v[i]->pid, v[i]->start, v[i]->end, move_run, &w);
	w.stop = 0;
	w.promote = 1;
	for (i = 0; i < nv && !w.stop && v[i]->nr >= hot_min && sim_free_fast(s); i++)
		sim_for_range(s, v[i]->pid, v[i]->start, v[i]->end, move_run, &w);
	free(v);
}

static void da_epoch(struct sim *s)
{
	struct damon *d = s->pd;
	uint32_t maxnr = 0, thr;
	uint64_t total = 0;

	check(s, d);
	if (++d->tick < DA_AGGR)
		return;
	d->tick = 0;
	for (size_t i = 0; i < d->n; i++) {
		maxnr = d->r[i].nr > maxnr ? d->r[i].nr : maxnr;
		total += d->r[i].end - d->r[i].start;
	}
	thr = maxnr / 10 ? maxnr / 10 : 1;	/* max(1, max_nr_accesses / 10) */
	merge(d, thr, total / DA_MIN_REGIONS);
	schemes(s, d);
	for (size_t i = 0; i < d->n; i++) {
		struct dreg *r = &d->r[i];
		uint32_t diff = r->nr > r->last_nr ? r->nr - r->last_nr : r->last_nr - r->nr;

		r->age = diff > thr ? 0 : r->age + 1;
		r->last_nr = r->nr;
		r->nr = 0;
	}
	split(s, d);
}

const struct policy pol_damon = {
	.name = "damon",
	.init = da_init,
	.fini = da_fini,
	.samples = pol_no_samples,
	.epoch = da_epoch,
	.ctl = da_ctl,
	.faults = pol_no_faults,
};
