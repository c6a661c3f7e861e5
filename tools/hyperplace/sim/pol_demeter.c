// SPDX-License-Identifier: GPL-2.0
/*
 * demeter: the published rules of Demeter (SOSP'25), see ../README for sources.
 * One target process; two initial ranges of 2 x RAM; every 500 ms halve all counts and
 * split ranges (>= 4 MiB, count >= 15 x cpus, beating a neighbour by 2 x 15 x cpus)
 * into 2 MiB-aligned halves; no merge; at most 2048 ranges; ranges made by the splits of
 * the last 3 epochs are cooling (not split again; counting split events instead of
 * epochs deadlocks: the cooling children are then the only candidates). Migration (hot/cold exchange pairs only) is planned only in
 * an epoch that split, and only once some range is down to 2 MiB.
 */
#include <stdlib.h>
#include <string.h>

#include "place.h"
#include "policy.h"
#include "util.h"

#define DM_EPOCH_NS	500000000ull
#define DM_GRAN		(2ull << 20)
#define DM_MIN_SPLIT	(4ull << 20)
#define DM_THR_PER_CPU	15
#define DM_MAX_RANGES	2048
#define DM_COOLING	3

struct drange {
	uint64_t start, end;
	uint64_t cnt;
	uint64_t born;		/* epoch of the split that created it, 0 = initial */
};

struct dem {
	uint32_t pid;
	int attached;
	struct drange *r;
	size_t n;
	uint64_t epoch;
	int at_gran;		/* some range reached 2 MiB */
	struct prange *pr;
};

static void dm_init(struct sim *s)
{
	struct dem *d = xcalloc(1, sizeof(*d));

	d->r = xcalloc(DM_MAX_RANGES, sizeof(*d->r));
	d->pr = xcalloc(DM_MAX_RANGES, sizeof(*d->pr));
	s->pd = d;
	s->epoch_ns = DM_EPOCH_NS;
}

static void dm_fini(struct sim *s)
{
	struct dem *d = s->pd;

	free(d->r);
	free(d->pr);
	free(d);
}

/* Attach to the first process that shows up, as Demeter's sysfs pid does. */
static void attach(struct sim *s, struct dem *d, uint32_t pid)
{
	struct vpid *p = vmap_pid(&s->vm, pid, 0);
	uint64_t ram = (s->tr->npages << s->tr->shift), lo;

	if (!p || !p->n)
		return;
	ram = (ram + DM_GRAN - 1) & ~(DM_GRAN - 1);
	lo = p->v[0].start & ~(DM_GRAN - 1);
	/* heap range and mmap range of 2 x RAM each, laid end to end over the mappings */
	d->r[0] = (struct drange){ lo, lo + 2 * ram, 0, 0 };
	d->r[1] = (struct drange){ lo + 2 * ram, lo + 4 * ram, 0, 0 };
	d->n = 2;
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
	if (r->born && r->born + DM_COOLING > d->epoch)
		return 0;	/* made in one of the last 3 epochs: cooling */
	if (i > 0 && r->cnt >= d->r[i - 1].cnt + 2 * thr)
		return 1;
	return i + 1 < d->n && r->cnt >= d->r[i + 1].cnt + 2 * thr;
}

static void dm_epoch(struct sim *s)
{
	struct dem *d = s->pd;
	uint64_t thr = (uint64_t)DM_THR_PER_CPU * s->tr->cpus;
	uint8_t *split;
	size_t i, n0 = d->n, nsplit = 0;

	if (!d->attached)
		return;
	for (i = 0; i < d->n; i++)
		d->r[i].cnt /= 2;
	d->epoch++;
	/* decide on the counts as they were, then apply from the top down */
	split = xcalloc(n0, 1);
	for (i = 0; i < n0; i++)
		if (d->n + nsplit < DM_MAX_RANGES && should_split(d, i, thr))
			split[i] = 1, nsplit++;
	for (i = n0; i-- > 0;) {
		struct drange *r = &d->r[i];
		uint64_t mid;

		if (!split[i])
			continue;
		mid = r->start + (((r->end - r->start) / 2) & ~(DM_GRAN - 1));
		memmove(r + 2, r + 1, (d->n - i - 1) * sizeof(*r));
		r[1] = (struct drange){ mid, r->end, r->cnt / 2, d->epoch };
		r->end = mid;
		r->cnt -= r[1].cnt;
		r->born = d->epoch;
		d->n++;
		if (mid - r->start == DM_GRAN || r[1].end - mid == DM_GRAN)
			d->at_gran = 1;
	}
	free(split);
	if (!nsplit || !d->at_gran)
		return;
	for (i = 0; i < d->n; i++) {
		struct drange *r = &d->r[i];

		d->pr[i] = (struct prange){ r->start, r->end,
			(double)r->cnt * (double)DM_GRAN / (double)(r->end - r->start), d->pid };
	}
	place_ranges(s, d->pr, d->n);
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
