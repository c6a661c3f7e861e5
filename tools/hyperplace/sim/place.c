// SPDX-License-Identifier: GPL-2.0
#include <stdlib.h>

#include "place.h"
#include "util.h"

struct pvec {
	uint32_t *v;
	size_t n, cap;
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

static void collect(void *ctx, uint64_t first, uint64_t n)
{
	struct pvec *p = ctx;

	for (uint64_t i = first; i < first + n; i++)
		if (p->s->pf[i] & p->want)
			push(p, (uint32_t)i);
}

struct place_stats place_ranges(struct sim *s, const struct prange *r, size_t n)
{
	struct pvec hot = { .s = s, .want = PF_SLOW };
	struct pvec cold = { .s = s, .want = PF_FAST };
	struct place_stats st = { 0 };
	size_t i, boundary, ci = 0;
	uint64_t budget;

	for (i = 0; i < n && r[i].count; i++) {
		size_t before = hot.n;

		sim_for_range(s, r[i].pid, r[i].start, r[i].end, collect, &hot);
		/* the range whose slow pages reach the capacity stays out */
		if (hot.n >= s->fast_cap) {
			hot.n = before;
			break;
		}
	}
	boundary = i;
	st.hot_ranges = boundary;
	st.wanted = hot.n;
	if (!hot.n)
		goto out;
	/* victims: fast pages of the coldest ranges first, never of a hot one */
	for (i = n; i-- > boundary && cold.n < hot.n;)
		sim_for_range(s, r[i].pid, r[i].start, r[i].end, collect, &cold);

	budget = sim_budget_pages(s);
	for (i = 0; i < hot.n && ci < cold.n; i++) {
		if (budget < 2 || sim_exchange(s, hot.v[i], cold.v[ci++]) < 0) {
			st.left = hot.n - i;
			break;
		}
		budget -= 2;
	}
out:
	free(hot.v);
	free(cold.v);
	return st;
}
