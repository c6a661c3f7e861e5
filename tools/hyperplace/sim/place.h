/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Shared by the range-based policies: given ranges and their densities, move pages so
 * that the densest prefix that fits the fast tier is on it.
 */
#ifndef HPSIM_PLACE_H
#define HPSIM_PLACE_H

#include "sim.h"

struct prange {
	uint64_t start, end;
	double density;		/* the policy's score, higher = hotter */
	uint32_t pid;
};

enum place_mode {
	PLACE_EXCHANGE,		/* only hot/cold pairs (Demeter) */
	PLACE_PROMOTE,		/* fill free fast pages first, then demote+promote */
};

struct place_stats {
	uint64_t hot_pages;	/* pages in the ranges that should be fast */
	uint64_t wanted;	/* of those, pages still on the slow tier */
};

/* r is sorted in place (densest first). Stops when the budget runs out. */
struct place_stats place_ranges(struct sim *s, struct prange *r, size_t n,
				enum place_mode mode);

#endif
