// SPDX-License-Identifier: GPL-2.0
/* Copies of a space, to check that a failed call changed nothing. */
#include <stdlib.h>
#include <string.h>
#include "model.h"

void hpt_snap_take(struct hpt_snap *sn, const struct hp_space *s)
{
	const struct hp_range *r;
	unsigned int i = 0;

	sn->n = hp_space_nr_ranges(s);
	sn->r = calloc(sn->n + 1, sizeof(*sn->r));
	if (!sn->r)
		abort();
	for (r = hp_space_first(s); r && i < sn->n; r = hp_range_next(r))
		sn->r[i++] = *r;
	sn->stats = *hp_space_get_stats(s);
	sn->params = s->params;
}

static bool hpt_range_same(const struct hp_range *a, const struct hp_range *b)
{
	return a->start == b->start && a->end == b->end &&
	       a->hot_start == b->hot_start && a->hot_end == b->hot_end &&
	       !memcmp(a->cut, b->cut, sizeof(a->cut)) &&
	       !memcmp(a->sub, b->sub, sizeof(a->sub)) && a->age == b->age &&
	       a->settled == b->settled;
}

/* Same ranges, parameters and counters (allocation failures aside). */
bool hpt_snap_same(const struct hpt_snap *sn, const struct hp_space *s)
{
	struct hp_space_stats st = *hp_space_get_stats(s);
	const struct hp_range *r;
	unsigned int i = 0;

	if (hp_space_nr_ranges(s) != sn->n)
		return false;
	for (r = hp_space_first(s); r; r = hp_range_next(r))
		if (i >= sn->n || !hpt_range_same(r, &sn->r[i++]))
			return false;
	st.alloc_failures = sn->stats.alloc_failures;
	return !memcmp(&st, &sn->stats, sizeof(st)) &&
	       !memcmp(&s->params, &sn->params, sizeof(sn->params));
}

u64 hpt_total_snap(const struct hpt_snap *sn)
{
	unsigned int i;
	u64 sum = 0;

	for (i = 0; i < sn->n; i++)
		sum += hp_range_count(&sn->r[i]);
	return sum;
}

void hpt_snap_free(struct hpt_snap *sn)
{
	free(sn->r);
	sn->r = NULL;
}
