/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Given ranges and their densities, exchange pages so that the densest prefix that
 * fits the fast tier is on it.
 */
#ifndef HPSIM_PLACE_H
#define HPSIM_PLACE_H

#include "sim.h"

struct prange {
	uint64_t start, end;
	double density;		/* the policy's score, higher = hotter */
	uint32_t pid;
};

struct place_stats {
	uint64_t hot_pages;	/* pages in the ranges that should be fast */
	uint64_t wanted;	/* of those, pages still on the slow tier */
};

/*
 * r is sorted in place (densest first). Moves hot/cold exchange pairs only, as
 * Demeter does; stops when the budget or the cold pages run out.
 */
struct place_stats place_ranges(struct sim *s, struct prange *r, size_t n);

#endif
