// SPDX-License-Identifier: GPL-2.0
#include <stdlib.h>

#include "place.h"
#include "util.h"

struct pvec {
	uint32_t *v;
	size_t n, cap;
	uint64_t limit;		/* stop collecting after this many (hot side) */
	uint64_t seen;		/* pages walked */
	struct sim *s;
	uint8_t want;		/* which tier's pages to collect */
};

static void push(struct pvec *p, uint32_t x)
{
	if (p->n == p->cap) {
		p->cap = p->cap ? 2 * p->cap : 1024;
		p->v = xrealloc(p->v, p->cap * sizeof(*p->v));
	}
	p->v[p->n++] = x;
}

/* hot side: walk pages in order until the fast capacity is used up */
static void walk_hot(void *ctx, uint64_t first, uint64_t n)
{
	struct pvec *p = ctx;

	for (uint64_t i = first; i < first + n && p->seen < p->limit; i++) {
		uint8_t f = p->s->pf[i];

		p->seen += !!(f & (PF_FAST | PF_SLOW));	/* untouched pages take no room */
		if (f & PF_SLOW)
			push(p, (uint32_t)i);
	}
}

static void walk_cold(void *ctx, uint64_t first, uint64_t n)
{
	struct pvec *p = ctx;

	for (uint64_t i = first; i < first + n; i++)
		if (p->s->pf[i] & PF_FAST)
			push(p, (uint32_t)i);
}

static int by_density(const void *a, const void *b)
{
	const struct prange *x = a, *y = b;

	if (x->density != y->density)
		return x->density < y->density ? 1 : -1;
	if (x->pid != y->pid)
		return x->pid < y->pid ? -1 : 1;
	return x->start < y->start ? -1 : x->start > y->start;
}

struct place_stats place_ranges(struct sim *s, struct prange *r, size_t n)
{
	struct pvec hot = { .s = s, .limit = s->fast_cap };
	struct pvec cold = { .s = s };
	struct place_stats st = { 0 };
	size_t i, boundary, ci = 0;
	uint64_t budget;

	qsort(r, n, sizeof(*r), by_density);
	for (i = 0; i < n && hot.seen < hot.limit; i++)
		sim_for_range(s, r[i].pid, r[i].start, r[i].end, walk_hot, &hot);
	boundary = i;
	st.hot_pages = hot.seen;
	st.wanted = hot.n;
	if (!hot.n)
		goto out;
	/* victims: fast pages of the coldest ranges first (boundary range excluded) */
	for (i = n; i-- > boundary && cold.n < hot.n;)
		sim_for_range(s, r[i].pid, r[i].start, r[i].end, walk_cold, &cold);

	budget = sim_budget_pages(s);
	for (i = 0; i < hot.n; i++) {
		if (ci == cold.n || budget < 2)
			break;
		if (sim_exchange(s, hot.v[i], cold.v[ci++]) < 0)
			break;
		budget -= 2;
	}
out:
	free(hot.v);
	free(cold.v);
	return st;
}
