// SPDX-License-Identifier: GPL-2.0
/*
 * hyperplace: the real classifier, mm/hyperplace/range.c, compiled unchanged with the
 * userspace shim of tools/testing/hyperplace. One hp_space per process follows the
 * process's mappings; samples go to hp_space_record(); every classification epoch runs
 * hp_space_epoch() on each space and hp_rank() across all of them.
 *
 * The rest of this file is the model's migration engine. It runs every tick, not only
 * when ranges split: pages of hot parts that changed (hp_rank's decisions), densest
 * range first, are promoted into free fast pages, else exchanged with a fast page of
 * the coldest non-hot range. An exchange costs two copies, so it is only made when the
 * incoming range is denser than the outgoing one by the classifier's hysteresis margin:
 * swapping cold for equally cold memory gains nothing.
 */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "range.h"

#include "policy.h"
#include "util.h"

#define HPP_TICK_NS		50000000ull	/* migration engine */
#define HPP_MAX_DEC		4096

struct hspace {
	uint32_t pid;
	struct hp_space *sp;
};

/* addresses of one range part, with the range's density when queued */
struct hrun {
	uint32_t pid;
	uint64_t start, end;
	double density;
	uint64_t range;		/* start of the range it belongs to */
};

struct runq {
	struct hrun *v;
	size_t head, n, cap;
};

struct hpp {
	struct hspace *s;
	size_t n, cap;
	struct hp_space **arr;
	struct hp_decision *dec;
	struct hp_range_params par;
	struct runq prom;		/* hot parts to bring in, densest first */
	struct runq cold;		/* non-hot parts of every range, coldest first */
	int cold_stale;			/* rebuild cold before the next victim search */
	uint32_t tick, epoch_ticks;	/* classification every epoch_ticks ticks */
};

static void rq_push(struct runq *q, uint32_t pid, uint64_t start, uint64_t end, double d,
		    uint64_t range)
{
	if (start >= end)
		return;
	if (q->head && q->head == q->n)
		q->head = q->n = 0;
	if (q->n == q->cap) {
		q->cap = q->cap ? 2 * q->cap : 256;
		q->v = xrealloc(q->v, q->cap * sizeof(*q->v));
	}
	q->v[q->n++] = (struct hrun){ pid, start, end, d, range };
}

static int denser_first(const void *a, const void *b)
{
	const struct hrun *x = a, *y = b;

	return x->density < y->density ? 1 : x->density > y->density ? -1 : 0;
}

static int colder_first(const void *a, const void *b)
{
	return denser_first(b, a);
}

static void rq_sort(struct runq *q, int (*cmp)(const void *, const void *))
{
	if (q->n > q->head)
		qsort(q->v + q->head, q->n - q->head, sizeof(*q->v), cmp);
}

static struct hspace *space_of(struct hpp *h, uint32_t pid, int create)
{
	for (size_t i = 0; i < h->n; i++)
		if (h->s[i].pid == pid)
			return &h->s[i];
	if (!create)
		return NULL;
	if (h->n == h->cap) {
		h->cap = h->cap ? 2 * h->cap : 8;
		h->s = xrealloc(h->s, h->cap * sizeof(*h->s));
		h->arr = xrealloc(h->arr, h->cap * sizeof(*h->arr));
	}
	h->s[h->n].pid = pid;
	h->s[h->n].sp = hp_space_create(&h->par);
	if (IS_ERR_OR_NULL(h->s[h->n].sp))
		die("hyperplace: hp_space_create failed");
	return &h->s[h->n++];
}

/* --hp key=value,... overrides struct hp_range_params fields (for tuning runs) */
static void set_params(struct hp_range_params *p, const char *spec)
{
	static const struct { const char *k; size_t off; } f[] = {
#define F(x) { #x, offsetof(struct hp_range_params, x) }
		F(split_shift), F(decay_shift), F(split_ratio), F(split_min_samples),
		F(merge_ratio), F(merge_floor_samples), F(min_age), F(max_ranges),
		F(hysteresis),
#undef F
	};
	char *dup, *tok, *save = NULL;

	if (!spec)
		return;
	dup = strdup(spec);
	for (tok = strtok_r(dup, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		char *eq = strchr(tok, '=');
		size_t i, n = sizeof(f) / sizeof(f[0]);

		for (i = 0; eq && i < n; i++)
			if ((size_t)(eq - tok) == strlen(f[i].k) && !strncmp(tok, f[i].k, eq - tok))
				break;
		if (!eq || i == n)
			die("hyperplace: unknown --hp parameter '%s'", tok);
		*(unsigned int *)((char *)p + f[i].off) = (unsigned int)strtoul(eq + 1, NULL, 0);
	}
	free(dup);
	if (hp_range_params_validate(p))
		die("hyperplace: --hp '%s' is outside the valid ranges (see range.h)", spec);
}

static void hpp_init(struct sim *s)
{
	struct hpp *h = xcalloc(1, sizeof(*h));

	if (s->tr->page_size != PAGE_SIZE)
		die("hyperplace: range.c is built for %lu-byte pages, the trace has %llu",
		    PAGE_SIZE, (unsigned long long)s->tr->page_size);
	h->epoch_ticks = (uint32_t)(s->o->hp_epoch_ms * 1000000ull / HPP_TICK_NS);
	if (!h->epoch_ticks)
		h->epoch_ticks = 1;
	hp_range_params_init(&h->par);
	set_params(&h->par, s->o->hp_params);
	h->dec = xcalloc(HPP_MAX_DEC, sizeof(*h->dec));
	s->pd = h;
	s->epoch_ns = HPP_TICK_NS;
}

static void hpp_fini(struct sim *s)
{
	struct hpp *h = s->pd;

	for (size_t i = 0; i < h->n; i++)
		hp_space_destroy(h->s[i].sp);
	free(h->s);
	free(h->arr);
	free(h->dec);
	free(h->prom.v);
	free(h->cold.v);
	free(h);
}

static void hpp_samples(struct sim *s, const struct sample *v, size_t n)
{
	struct hpp *h = s->pd;
	struct hspace *last = NULL;

	for (size_t i = 0; i < n; i++) {
		if (!last || last->pid != v[i].pid)
			last = space_of(h, v[i].pid, 0);
		if (last)
			hp_space_record(last->sp, (unsigned long)v[i].va, 1);
	}
}

static void hpp_ctl(struct sim *s, const struct ctl *c)
{
	struct hpp *h = s->pd;
	struct hspace *hs = space_of(h, c->pid, c->op == 'm');

	if (!hs)
		return;
	if (c->op == 'm') {
		if (hp_space_map(hs->sp, (unsigned long)c->start, (unsigned long)c->end))
			die("hyperplace: hp_space_map failed");
	} else if (c->op == 'u') {
		if (hp_space_unmap(hs->sp, (unsigned long)c->start, (unsigned long)c->end))
			die("hyperplace: hp_space_unmap failed");
	} else if (c->op == 'x') {
		hp_space_destroy(hs->sp);
		*hs = h->s[--h->n];
	}
}

/*
 * Page id of addr and, in *n, how many pages from there on are contiguous ids (the
 * rest of the run inside addr's mapping); UINT64_MAX with *n = 1 if unmapped.
 */
static uint64_t span(struct sim *s, uint32_t pid, uint64_t addr, uint64_t end, uint64_t *n)
{
	struct vpid *p = vmap_pid(&s->vm, pid, 0);
	long i = p ? vmap_find(p, addr) : -1;
	unsigned int sh = s->tr->shift;

	*n = 1;
	if (i < 0)
		return UINT64_MAX;
	if (end > p->v[i].end)
		end = p->v[i].end;
	*n = (end - addr) >> sh;
	return p->v[i].base + ((addr - p->v[i].start) >> sh);
}

/* First page in [pg, pg + n) that is on the fast tier, or n: 8 flag bytes per step. */
static uint64_t find_fast(const uint8_t *pf, uint64_t pg, uint64_t n)
{
	const uint64_t ones = 0x0101010101010101ull * PF_FAST;
	uint64_t i = 0, w;

	for (; i + 8 <= n; i += 8) {
		memcpy(&w, pf + pg + i, 8);
		if (w & ones)
			break;
	}
	for (; i < n; i++)
		if (pf[pg + i] & PF_FAST)
			return i;
	return n;
}

static void rebuild_cold(struct hpp *h);

/*
 * Next fast page of the coldest non-hot range part, if that range is colder than the
 * incoming run's by the hysteresis margin, or is the incoming run's own range (the
 * classifier chose which part of it is hot); -1 otherwise.
 */
static long victim(struct sim *s, struct hpp *h, const struct hrun *in)
{
	struct runq *q = &h->cold;
	double margin = 1.0 + h->par.hysteresis / 100.0;

	if (h->cold_stale) {
		rebuild_cold(h);
		h->cold_stale = 0;
	}
	while (q->head < q->n) {
		struct hrun *r = &q->v[q->head];

		if (r->density * margin >= in->density &&
		    (r->pid != in->pid || r->range != in->range))
			return -1;
		while (r->start < r->end) {
			uint64_t n, i, pg = span(s, r->pid, r->start, r->end, &n);

			i = pg == UINT64_MAX ? n : find_fast(s->pf, pg, n);
			r->start += (i < n ? i + 1 : n) << s->tr->shift;
			if (i < n)
				return (long)(pg + i);
		}
		q->head++;
	}
	return -1;
}

/* Move pages of queued hot parts to the fast tier until the budget runs out. */
static void migrate(struct sim *s, struct hpp *h)
{
	struct runq *q = &h->prom;
	uint64_t budget = sim_budget_pages(s);

	while (q->head < q->n && budget) {
		struct hrun *r = &q->v[q->head];

		while (r->start < r->end) {
			uint64_t n, pg = span(s, r->pid, r->start, r->end, &n);

			for (uint64_t i = 0; i < n; i++, pg++) {
				long v;

				if (!budget)
					return;
				if (pg == UINT64_MAX || !(s->pf[pg] & PF_SLOW)) {
					r->start += s->tr->page_size;
					continue;
				}
				if (sim_free_fast(s)) {
					if (sim_promote(s, (uint32_t)pg) < 0)
						return;
					budget--;
					r->start += s->tr->page_size;
					continue;
				}
				if (budget < 2)
					return;
				v = victim(s, h, r);
				/* nothing colder enough: less dense runs find nothing either */
				if (v < 0 || sim_exchange(s, (uint32_t)pg, (uint32_t)v) < 0)
					return;
				budget -= 2;
				r->start += s->tr->page_size;
			}
		}
		if (r->start >= r->end)
			q->head++;
	}
}

/* density and start of the range holding addr */
static double density_at(struct hp_space *sp, unsigned long addr, uint64_t *start)
{
	struct hp_range *r = hp_space_lookup(sp, addr);

	*start = r ? r->start : 0;
	return r ? (double)hp_range_density(r) : 0.0;
}

/* The non-hot parts of every range, coldest first: the victims until the next epoch. */
static void rebuild_cold(struct hpp *h)
{
	h->cold.head = h->cold.n = 0;
	for (size_t i = 0; i < h->n; i++) {
		for (struct hp_range *r = hp_space_first(h->s[i].sp); r; r = hp_range_next(r)) {
			double d = (double)hp_range_density(r);
			uint32_t pid = h->s[i].pid;

			/* no samples yet and young: unknown, not cold (a new mapping) */
			if (!d && r->age < h->par.min_age)
				continue;
			if (r->hot_start == r->hot_end) {
				rq_push(&h->cold, pid, r->start, r->end, d, r->start);
				continue;
			}
			rq_push(&h->cold, pid, r->start, r->hot_start, d, r->start);
			rq_push(&h->cold, pid, r->hot_end, r->end, d, r->start);
		}
	}
	rq_sort(&h->cold, colder_first);
}

/* first range that ends above addr */
static struct hp_range *range_from(struct hp_space *sp, uint64_t addr)
{
	struct hp_range *r = hp_space_lookup(sp, (unsigned long)addr);

	if (r)
		return r;
	for (r = hp_space_first(sp); r && r->end <= addr; r = hp_range_next(r))
		;
	return r;
}

/*
 * Ranges split, merge and change their hot parts at each epoch: cut what is still
 * queued to the current hot parts, with current densities.
 */
static void requeue(struct hpp *h)
{
	size_t head = h->prom.head, n = h->prom.n;

	for (size_t i = head; i < n; i++) {
		struct hrun run = h->prom.v[i];
		struct hspace *hs = space_of(h, run.pid, 0);

		for (struct hp_range *r = hs ? range_from(hs->sp, run.start) : NULL;
		     r && r->start < run.end; r = hp_range_next(r)) {
			uint64_t a = run.start > r->hot_start ? run.start : r->hot_start;
			uint64_t b = run.end < r->hot_end ? run.end : r->hot_end;

			rq_push(&h->prom, run.pid, a, b, (double)hp_range_density(r), r->start);
		}
	}
	if (!n)
		return;
	/* drop the old entries, keep the cut ones */
	memmove(h->prom.v, h->prom.v + n, (h->prom.n - n) * sizeof(*h->prom.v));
	h->prom.n -= n;
	h->prom.head = 0;
}

static void classify(struct sim *s, struct hpp *h)
{
	struct hp_rank_result res;
	int nd;

	for (size_t i = 0; i < h->n; i++) {
		hp_space_epoch(h->s[i].sp);
		h->arr[i] = h->s[i].sp;
	}
	nd = hp_rank(h->arr, (unsigned int)h->n, (unsigned long)s->fast_cap, &h->par,
		     h->dec, HPP_MAX_DEC, &res);
	if (nd < 0)
		return;
	if (res.nr_decisions > (unsigned int)nd || h->prom.n - h->prom.head > HPP_MAX_DEC) {
		/* too many changes to list, or a long backlog: queue every hot part again */
		h->prom.head = h->prom.n = 0;
		for (size_t i = 0; i < h->n; i++)
			for (struct hp_range *r = hp_space_first(h->s[i].sp); r;
			     r = hp_range_next(r))
				rq_push(&h->prom, h->s[i].pid, r->hot_start, r->hot_end,
					(double)hp_range_density(r), r->start);
	}
	requeue(h);
	for (int i = 0; i < nd && res.nr_decisions <= (unsigned int)nd; i++) {
		const struct hp_decision *d = &h->dec[i];
		uint32_t pid = 0;
		uint64_t rs;
		double dens = density_at(d->space, d->start, &rs);

		for (size_t j = 0; j < h->n; j++)
			if (h->s[j].sp == d->space)
				pid = h->s[j].pid;
		rq_push(&h->prom, pid, d->hot_start, d->hot_end, dens, rs);
	}
	rq_sort(&h->prom, denser_first);
	h->cold_stale = 1;	/* rebuilt when a victim is needed */
}

static void hpp_epoch(struct sim *s)
{
	struct hpp *h = s->pd;

	if (++h->tick >= h->epoch_ticks && h->n) {
		h->tick = 0;
		classify(s, h);
	}
	migrate(s, h);
}

const struct policy pol_hyperplace = {
	.name = "hyperplace",
	.init = hpp_init,
	.fini = hpp_fini,
	.samples = hpp_samples,
	.epoch = hpp_epoch,
	.ctl = hpp_ctl,
	.faults = pol_no_faults,
};
