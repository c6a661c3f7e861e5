// SPDX-License-Identifier: GPL-2.0
/*
 * hyperplace: the real classifier, mm/hyperplace/range.c, compiled unchanged with the
 * userspace shim of tools/testing/hyperplace. One hp_space per process follows the
 * process's mappings; samples go to hp_space_record(); every epoch runs
 * hp_space_epoch() on each space and hp_rank() across all of them. This file is only
 * the migration engine of the model: it moves pages so that the hot parts of the
 * ranges are on the fast tier, continuously (every tick, not only when ranges split),
 * promoting into free fast pages first and exchanging with non-hot fast pages after.
 */
#include <stdlib.h>
#include <stddef.h>
#include <string.h>

#include "range.h"

#include "policy.h"
#include "util.h"

#define HPP_TICK_NS		50000000ull	/* migration engine */
#define HPP_EPOCH_TICKS		4		/* classification every 200 ms */
#define HPP_MAX_DEC		4096

struct hspace {
	uint32_t pid;
	struct hp_space *sp;
};

/* a run of addresses whose pages should be fast (promote) or were hot (victims) */
struct hrun {
	uint32_t pid;
	uint64_t start, end;
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
	struct runq prom, victims;
	uint64_t clock_hand;		/* fallback victim search over page ids */
	uint32_t tick;
	int rescan;			/* decisions overflowed: rebuild the queue */
};

static void rq_push(struct runq *q, uint32_t pid, uint64_t start, uint64_t end)
{
	if (start >= end)
		return;
	if (q->head && q->head == q->n)
		q->head = q->n = 0;
	if (q->n == q->cap) {
		q->cap = q->cap ? 2 * q->cap : 256;
		q->v = xrealloc(q->v, q->cap * sizeof(*q->v));
	}
	q->v[q->n++] = (struct hrun){ pid, start, end };
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
	free(h->victims.v);
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

static int page_is_hot(struct hpp *h, uint32_t pid, uint64_t va)
{
	struct hspace *hs = space_of(h, pid, 0);

	return hs && hp_space_is_hot(hs->sp, (unsigned long)va);
}

/* Next fast page that is not in a hot part: decision victims first, then a clock. */
static long victim(struct sim *s, struct hpp *h)
{
	const struct trace *tr = s->tr;
	struct runq *q = &h->victims;

	while (q->head < q->n) {
		struct hrun *r = &q->v[q->head];

		while (r->start < r->end) {
			uint64_t va = r->start, pg = vmap_page(&s->vm, r->pid, va);

			r->start += tr->page_size;
			if (pg != UINT64_MAX && (s->pf[pg] & PF_FAST) && !page_is_hot(h, r->pid, va))
				return (long)pg;
		}
		q->head++;
	}
	for (uint64_t i = 0; i < tr->npages; i++) {
		uint64_t pg = h->clock_hand++ % tr->npages;

		if ((s->pf[pg] & PF_FAST) && !page_is_hot(h, tr->page_pid[pg], tr->page_va[pg]))
			return (long)pg;
	}
	return -1;
}

/* Move pages of queued hot runs to the fast tier until the budget runs out. */
static void migrate(struct sim *s, struct hpp *h)
{
	struct runq *q = &h->prom;
	uint64_t budget = sim_budget_pages(s);

	while (q->head < q->n && budget) {
		struct hrun *r = &q->v[q->head];

		for (; r->start < r->end && budget; r->start += s->tr->page_size) {
			uint64_t pg = vmap_page(&s->vm, r->pid, r->start);
			long v;

			if (pg == UINT64_MAX || !(s->pf[pg] & PF_SLOW) ||
			    !page_is_hot(h, r->pid, r->start))
				continue;
			if (sim_free_fast(s)) {
				if (sim_promote(s, (uint32_t)pg) < 0)
					return;
				budget--;
				continue;
			}
			v = budget >= 2 ? victim(s, h) : -1;
			if (v < 0 || sim_exchange(s, (uint32_t)pg, (uint32_t)v) < 0)
				return;
			budget -= 2;
		}
		if (r->start >= r->end)
			q->head++;
	}
}

/* Queue every hot part again (after a decision overflow). */
static void requeue_all(struct hpp *h)
{
	h->prom.head = h->prom.n = 0;
	for (size_t i = 0; i < h->n; i++)
		for (struct hp_range *r = hp_space_first(h->s[i].sp); r; r = hp_range_next(r))
			rq_push(&h->prom, h->s[i].pid, r->hot_start, r->hot_end);
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
	if (res.nr_decisions > (unsigned int)nd) {
		requeue_all(h);
		return;
	}
	for (int i = 0; i < nd; i++) {
		const struct hp_decision *d = &h->dec[i];
		uint32_t pid = 0;

		for (size_t j = 0; j < h->n; j++)
			if (h->s[j].sp == d->space)
				pid = h->s[j].pid;
		rq_push(&h->prom, pid, d->hot_start, d->hot_end);
		rq_push(&h->victims, pid, d->old_hot_start, d->old_hot_end);
	}
}

static void hpp_epoch(struct sim *s)
{
	struct hpp *h = s->pd;

	if (++h->tick >= HPP_EPOCH_TICKS && h->n) {
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
