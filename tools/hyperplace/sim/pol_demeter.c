// SPDX-License-Identifier: GPL-2.0
/*
 * demeter: the rules of Demeter (SOSP'25) as its artifact implements them
 * (vtta/sosp25-demeter, patch/demeter.patch, mm/demeter/); ../README cites each one.
 * One target process; two initial ranges of 2 x RAM (rounded up to 1 GiB), one up
 * from the lowest mapping and one down to the top of the highest. Every 500 ms: halve
 * every count, then one split pass in address order (>= 4 MiB, count >= 15 x cpus,
 * strictly more than a neighbour's count + 2 x 15 x cpus; 2 MiB-aligned midpoint;
 * both halves get half the count; at most 2048 ranges; no merge). Every split is one
 * step of the tree's age and stamps its halves with it. After a pass that split, once
 * some range is down to 2 MiB: rank, leave out the cooling ranges (made by the last
 * 3 splits) that rank above every other one, and exchange hot and cold pages.
 */
#include <stdlib.h>
#include <string.h>

#include "place.h"
#include "policy.h"
#include "util.h"

#define DM_EPOCH_NS	500000000ull
#define DM_GRAN		(2ull << 20)
#define DM_RAM_ALIGN	(1ull << 30)
#define DM_MIN_SPLIT	(4ull << 20)
#define DM_THR_PER_CPU	15
#define DM_MAX_RANGES	2048
#define DM_COOLING	3

struct drange {
	uint64_t start, end;
	uint64_t cnt;
	uint64_t age;		/* the tree's age at the split that made it, 0 = initial */
};

struct dem {
	uint32_t pid;
	int attached;
	struct drange *r;
	size_t n;
	uint64_t age;		/* splits so far */
	int at_gran;		/* some range reached 2 MiB */
	int unfinished;		/* the last exchange ran out of budget */
	struct drange *ranked;	/* scratch: the ranges, hottest first */
	struct prange *pr;
};

static void dm_init(struct sim *s)
{
	struct dem *d = xcalloc(1, sizeof(*d));

	d->r = xcalloc(DM_MAX_RANGES, sizeof(*d->r));
	d->ranked = xcalloc(DM_MAX_RANGES, sizeof(*d->ranked));
	d->pr = xcalloc(DM_MAX_RANGES, sizeof(*d->pr));
	s->pd = d;
	s->epoch_ns = DM_EPOCH_NS;
}

static void dm_fini(struct sim *s)
{
	struct dem *d = s->pd;

	free(d->r);
	free(d->ranked);
	free(d->pr);
	free(d);
}

static uint64_t align_up(uint64_t x, uint64_t a)
{
	return (x + a - 1) & ~(a - 1);
}

/*
 * Attach to the first process that shows up, as Demeter's sysfs pid does. Its ranges
 * start at the heap's start and end at mmap_base, both fixed for the process; the
 * simulator knows neither, so the lowest page the process ever maps stands for the
 * one and the top of its highest for the other. RAM is what the trace ever maps.
 */
static void attach(struct sim *s, struct dem *d, uint32_t pid)
{
	const struct trace *tr = s->tr;
	uint64_t c, lo = UINT64_MAX, hi = 0;

	for (uint64_t p = 0; p < tr->npages; p++) {
		if (tr->page_pid[p] != pid)
			continue;
		if (tr->page_va[p] < lo)
			lo = tr->page_va[p];
		if (tr->page_va[p] + tr->page_size > hi)
			hi = tr->page_va[p] + tr->page_size;
	}
	if (hi <= lo)
		return;
	c = 2 * align_up(tr->npages << tr->shift, DM_RAM_ALIGN);
	lo &= ~(DM_RAM_ALIGN - 1);
	hi = align_up(hi, DM_RAM_ALIGN);
	/* the heap range grows up, the mmap range down; where they would meet, end to end */
	if (hi - lo < 2 * c) {
		if (hi < 2 * c)
			hi = 2 * c;
		lo = hi - 2 * c;
	}
	d->r[0] = (struct drange){ lo, lo + c, 0, 0 };
	d->r[1] = (struct drange){ hi - c, hi, 0, 0 };
	d->n = 2;
	d->age = 0;
	d->at_gran = 0;
	d->unfinished = 0;
	d->pid = pid;
	d->attached = 1;
}

static void dm_samples(struct sim *s, const struct sample *v, size_t n)
{
	struct dem *d = s->pd;

	for (size_t i = 0; i < n; i++) {
		size_t lo = 0, hi;

		if (!d->attached)
			attach(s, d, v[i].pid);
		if (v[i].pid != d->pid)
			continue;	/* per-task events see only the target */
		hi = d->n;
		while (lo < hi) {
			size_t mid = (lo + hi) / 2;

			if (v[i].va < d->r[mid].start)
				hi = mid;
			else if (v[i].va >= d->r[mid].end)
				lo = mid + 1;
			else {
				d->r[mid].cnt++;
				break;
			}
		}
	}
}

static int should_split(const struct dem *d, size_t i, uint64_t thr)
{
	const struct drange *r = &d->r[i];

	if (r->end - r->start < DM_MIN_SPLIT || r->cnt < thr)
		return 0;
	if (d->n == 1)
		return 1;
	if (i > 0 && r->cnt > d->r[i - 1].cnt + 2 * thr)
		return 1;
	return i + 1 < d->n && r->cnt > d->r[i + 1].cnt + 2 * thr;
}

/*
 * One pass in address order. A range that splits is compared no more in this pass,
 * but the range after it meets the new right half as its neighbour.
 * Returns the number of splits.
 */
static size_t split_pass(struct dem *d, uint64_t thr)
{
	size_t i = 0, nsplit = 0;

	while (i < d->n && d->n < DM_MAX_RANGES) {
		struct drange *r = &d->r[i];
		uint64_t mid;

		if (!should_split(d, i, thr)) {
			i++;
			continue;
		}
		mid = r->start + ((r->end - r->start) / 2 & ~(DM_GRAN - 1));
		memmove(r + 2, r + 1, (d->n - i - 1) * sizeof(*r));
		d->age++;
		r->cnt /= 2;
		r[1] = (struct drange){ mid, r->end, r->cnt, d->age };
		r->end = mid;
		r->age = d->age;
		d->n++;
		nsplit++;
		if (mid - r->start == DM_GRAN || r[1].end - mid == DM_GRAN)
			d->at_gran = 1;
		i += 2;
	}
	return nsplit;
}

static uint64_t freq(const struct drange *r)
{
	return r->cnt * DM_GRAN / (r->end - r->start + 1);
}

/* hottest first: samples per 2 MiB (whole), then samples, then the newer */
static int by_heat(const void *a, const void *b)
{
	const struct drange *x = a, *y = b;

	if (freq(x) != freq(y))
		return freq(x) < freq(y) ? 1 : -1;
	if (x->cnt != y->cnt)
		return x->cnt < y->cnt ? 1 : -1;
	return x->age < y->age ? 1 : x->age > y->age ? -1 : 0;
}

static int cooling(const struct dem *d, const struct drange *r)
{
	return d->age - r->age < DM_COOLING;
}

static void rank_and_exchange(struct sim *s, struct dem *d)
{
	size_t i, first = 0, n = 0;

	memcpy(d->ranked, d->r, d->n * sizeof(*d->r));
	qsort(d->ranked, d->n, sizeof(*d->ranked), by_heat);
	/* cooling ranges above the hottest settled one sit this ranking out */
	while (first < d->n && cooling(d, &d->ranked[first]))
		first++;
	if (first == d->n)
		first = 0;
	for (i = first; i < d->n; i++) {
		const struct drange *r = &d->ranked[i];

		d->pr[n++] = (struct prange){ r->start, r->end, r->cnt, d->pid };
	}
	d->unfinished = place_ranges(s, d->pr, n).left > 0;
}

static void dm_epoch(struct sim *s)
{
	struct dem *d = s->pd;
	uint64_t thr = (uint64_t)DM_THR_PER_CPU * s->tr->cpus;
	size_t i;

	if (!d->attached)
		return;
	for (i = 0; i < d->n; i++)
		d->r[i].cnt /= 2;
	/*
	 * Demeter exchanges what a ranking asks for at once; pairs that the shared budget
	 * cut off are taken up at the next epoch, ranked anew.
	 */
	if ((split_pass(d, thr) || d->unfinished) && d->at_gran)
		rank_and_exchange(s, d);
}

static void dm_ctl(struct sim *s, const struct ctl *c)
{
	struct dem *d = s->pd;

	/* Demeter keeps its ranges across munmap; only exit of the target ends it */
	if (c->op == 'x' && d->attached && c->pid == d->pid) {
		d->attached = 0;
		d->n = 0;
	}
	(void)s;
}

const struct policy pol_demeter = {
	.name = "demeter",
	.init = dm_init,
	.fini = dm_fini,
	.samples = dm_samples,
	.epoch = dm_epoch,
	.ctl = dm_ctl,
	.faults = pol_no_faults,
};
