// SPDX-License-Identifier: GPL-2.0
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sim.h"
#include "util.h"

size_t sim_nival(const struct trace *tr, uint64_t interval_ns)
{
	return (size_t)((tr->t_end - tr->t0) / interval_ns) + 1;
}

static void refill(struct sim *s)
{
	if (s->now > s->tok_t) {
		s->tokens += (double)(s->now - s->tok_t) * s->bytes_per_ns;
		if (s->tokens > s->tok_max)
			s->tokens = s->tok_max;
		s->tok_t = s->now;
	}
}

uint64_t sim_budget_pages(struct sim *s)
{
	refill(s);
	return s->tokens <= 0 ? 0 : (uint64_t)(s->tokens / (double)s->tr->page_size);
}

static int charge(struct sim *s, unsigned int pages)
{
	double b = (double)pages * (double)s->tr->page_size;

	refill(s);
	if (s->tokens < b)
		return 0;
	s->tokens -= b;
	return 1;
}

int sim_promote(struct sim *s, uint32_t page)
{
	if ((s->pf[page] & ~(PF_ACC | PF_HINT)) != PF_SLOW)
		return 0;
	if (!sim_free_fast(s) || !charge(s, 1))
		return -1;
	s->pf[page] = (uint8_t)((s->pf[page] & ~PF_SLOW) | PF_FAST);
	s->fast_used++;
	s->promoted++;
	return 1;
}

int sim_demote(struct sim *s, uint32_t page)
{
	if ((s->pf[page] & ~(PF_ACC | PF_HINT)) != PF_FAST)
		return 0;
	if (!charge(s, 1))
		return -1;
	s->pf[page] = (uint8_t)((s->pf[page] & ~PF_FAST) | PF_SLOW);
	s->fast_used--;
	s->demoted++;
	return 1;
}

int sim_exchange(struct sim *s, uint32_t slow_page, uint32_t fast_page)
{
	if ((s->pf[slow_page] & ~(PF_ACC | PF_HINT)) != PF_SLOW ||
	    (s->pf[fast_page] & ~(PF_ACC | PF_HINT)) != PF_FAST)
		return 0;
	if (!charge(s, 2))
		return -1;
	s->pf[slow_page] = (uint8_t)((s->pf[slow_page] & ~PF_SLOW) | PF_FAST);
	s->pf[fast_page] = (uint8_t)((s->pf[fast_page] & ~PF_FAST) | PF_SLOW);
	s->promoted++;
	s->demoted++;
	return 1;
}

struct range_walk {
	void (*fn)(void *ctx, uint64_t first, uint64_t n);
	void *ctx;
};

void sim_for_range(struct sim *s, uint32_t pid, uint64_t start, uint64_t end,
		   void (*fn)(void *ctx, uint64_t first, uint64_t n), void *ctx)
{
	struct vpid *p = vmap_pid(&s->vm, pid, 0);
	unsigned int sh = s->tr->shift;

	if (!p)
		return;
	for (size_t i = 0; i < p->n; i++) {
		const struct vma *v = &p->v[i];
		uint64_t a = v->start > start ? v->start : start;
		uint64_t b = v->end < end ? v->end : end;

		if (v->start >= end)
			break;
		if (a < b)
			fn(ctx, v->base + ((a - v->start) >> sh), (b - a) >> sh);
	}
}

static void kill_pages(void *ctx, uint64_t first, uint64_t n)
{
	struct sim *s = ctx;

	for (uint64_t p = first; p < first + n; p++) {
		if (s->pf[p] & PF_FAST)
			s->fast_used--;
		s->pf[p] = PF_DEAD;
	}
}

static void flush(struct sim *s)
{
	uint64_t t0;

	if (s->nsb) {
		t0 = thread_ns();
		s->pol->samples(s, s->sb, s->nsb);
		s->pol_ns += thread_ns() - t0;
		s->nsamples += s->nsb;
		s->nsb = 0;
	}
	if (s->nfb) {
		t0 = thread_ns();
		s->pol->faults(s, s->fb, s->fbt, s->nfb);
		s->pol_ns += thread_ns() - t0;
		s->nsamples += s->nfb;
		s->nfb = 0;
	}
}

static void do_ctl(struct sim *s, const struct ctl *c)
{
	uint64_t t0;

	flush(s);
	s->now = c->t;
	switch (c->op) {
	case 'm':
		vmap_map(&s->vm, c->pid, c->start, c->end, c->base, kill_pages, s);
		break;
	case 'u':
		vmap_unmap(&s->vm, c->pid, c->start, c->end, kill_pages, s);
		break;
	case 'x':
		vmap_exit(&s->vm, c->pid, kill_pages, s);
		break;
	default:
		return;		/* 't': only a time step */
	}
	t0 = thread_ns();
	s->pol->ctl(s, c);
	s->pol_ns += thread_ns() - t0;
}

/* Next sampling distance: the mean period, jittered so strided traces do not alias. */
static uint32_t next_period(struct sim *s)
{
	uint32_t p = s->o->sample_period;

	return p < 2 ? 1 : p / 2 + (uint32_t)rng_below(&s->rng, p + 1);
}

/* Slow path of an access: first touch, or an armed hint fault. */
static void touch(struct sim *s, uint32_t page)
{
	uint8_t f = s->pf[page];

	if (!(f & (PF_FAST | PF_SLOW))) {
		if (s->fast_used < s->fast_cap) {
			f = PF_FAST;
			s->fast_used++;
		} else {
			f = PF_SLOW;
		}
	}
	if (f & PF_HINT) {
		f &= (uint8_t)~PF_HINT;
		s->fbt[s->nfb] = s->now;
		s->fb[s->nfb++] = page;
	}
	s->pf[page] = f;
	if (s->nfb == SBUF)
		flush(s);
}

static void sample(struct sim *s, uint32_t page, uint32_t write)
{
	struct sample *x = &s->sb[s->nsb++];

	x->page = page;
	x->pid = s->tr->page_pid[page];
	x->va = s->tr->page_va[page];
	x->t = s->now;
	x->write = write;
	s->cnt[write] = next_period(s);
	if (s->nsb == SBUF)
		flush(s);
}

static void epoch(struct sim *s)
{
	uint64_t t0;

	flush(s);
	t0 = thread_ns();
	s->pol->epoch(s);
	s->pol_ns += thread_ns() - t0;
}

void sim_run(struct sim *s, const struct trace *tr, const struct sim_opts *o,
	     const struct policy *pol)
{
	const uint32_t *ev = tr->ev, *dt = tr->dt;
	uint64_t t, rel, next_epoch, next_ival, ival = o->interval_ns;
	uint64_t iacc = 0, ihit = 0, ek = 0;
	size_t k = 0;
	struct timespec w0, w1;

	memset(s, 0, sizeof(*s));
	s->tr = tr;
	s->o = o;
	s->pol = pol;
	s->rng = o->seed ^ 0x5eedf00dull;
	s->pf = xcalloc(tr->npages ? tr->npages : 1, 1);
	s->fast_cap = tr->fast_pages;
	vmap_init(&s->vm, tr->shift);
	s->bytes_per_ns = o->rate_mibs * 1048576.0 / 1e9;
	s->tok_max = o->rate_mibs * 1048576.0;	/* at most one second of budget banked */
	s->tok_t = s->now = t = tr->t0;
	s->nival = sim_nival(tr, ival);
	s->iacc = xcalloc(s->nival, sizeof(*s->iacc));
	s->ihit = xcalloc(s->nival, sizeof(*s->ihit));
	s->cnt[0] = next_period(s);
	s->cnt[1] = next_period(s);
	pol->init(s);
	/* deadlines are relative to the first event */
	next_epoch = s->epoch_ns ? s->epoch_ns : UINT64_MAX;
	next_ival = ival;

	clock_gettime(CLOCK_MONOTONIC, &w0);
	for (size_t i = 0; i < tr->n; i++) {
		uint32_t w = ev[i], page, kind;
		uint8_t f;

		t += dt[i];
		kind = w >> EV_SHIFT;
		if (unlikely(kind == EV_CTL))
			t = tr->ctl[w & EV_ARG].t;
		rel = t - tr->t0;
		/* no access lies between two events: closing intervals first is exact */
		if (unlikely(rel >= next_ival)) {
			while (k + 1 < s->nival && sat_mul(k + 1, ival) <= rel) {
				s->iacc[k] = iacc;
				s->ihit[k++] = ihit;
				iacc = ihit = 0;
			}
			next_ival = sat_mul(k + 1, ival);
		}
		if (unlikely(rel >= next_epoch) && s->epoch_ns) {
			uint64_t target = rel / s->epoch_ns;

			/* after a long idle gap, 64 epochs have decayed everything anyway */
			if (target - ek > 64)
				ek = target - 64;
			while (ek < target) {
				s->now = tr->t0 + ++ek * s->epoch_ns;
				epoch(s);
			}
			next_epoch = sat_mul(ek + 1, s->epoch_ns);
		}
		s->now = t;
		if (unlikely(kind == EV_CTL)) {
			do_ctl(s, &tr->ctl[w & EV_ARG]);
			continue;
		}
		page = w & EV_ARG;
		f = s->pf[page];
		if (unlikely(!(f & (PF_FAST | PF_SLOW)) || (f & PF_HINT))) {
			touch(s, page);
			f = s->pf[page];
		}
		s->pf[page] = f | PF_ACC;
		iacc++;
		ihit += f & PF_FAST;
		if (unlikely(--s->cnt[kind] == 0))
			sample(s, page, kind);
	}
	flush(s);
	clock_gettime(CLOCK_MONOTONIC, &w1);
	s->replay_s = (double)(w1.tv_sec - w0.tv_sec) + (double)(w1.tv_nsec - w0.tv_nsec) / 1e9;
	if (k < s->nival) {
		s->iacc[k] = iacc;
		s->ihit[k] = ihit;
	}
	for (k = 0; k < s->nival; k++) {
		s->acc += s->iacc[k];
		s->hits += s->ihit[k];
	}
	pol->fini(s);
}

void sim_done(struct sim *s)
{
	free(s->pf);
	free(s->iacc);
	free(s->ihit);
	vmap_free(&s->vm);
}
