/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Demeter's exchange of hot and cold pages between the tiers, given its ranges
 * ranked hottest first.
 */
#ifndef HPSIM_PLACE_H
#define HPSIM_PLACE_H

#include "sim.h"

struct prange {
	uint64_t start, end;
	uint64_t count;		/* samples; a range without any is never hot */
	uint32_t pid;
};

struct place_stats {
	uint64_t hot_ranges;	/* ranges chosen as hot */
	uint64_t wanted;	/* their pages on the slow tier */
	uint64_t left;		/* of those, pages the budget left unexchanged */
};

/*
 * r is ranked hottest first. Whole ranges join the hot set, hottest first, while
 * their slow-tier pages together stay below the fast tier's capacity; their slow
 * pages are exchanged, hottest range first, with fast pages of the coldest ranges
 * (never of a hot one). Exchange pairs only; stops when the budget or the cold
 * pages run out.
 */
struct place_stats place_ranges(struct sim *s, const struct prange *r, size_t n);

#endif
