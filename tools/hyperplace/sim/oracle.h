/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The oracle: for each interval, the placement that maximises that interval's hits
 * given its true per-page access counts (the fast_pages most accessed pages), with no
 * migration limit. It is the yardstick for hit_ratio and t90.
 */
#ifndef HPSIM_ORACLE_H
#define HPSIM_ORACLE_H

#include <stddef.h>
#include <stdint.h>

#include "trace.h"

struct oracle {
	size_t nival;
	uint64_t *iacc, *ihit;
	uint64_t acc, hits;
	uint64_t moved;		/* pages that enter or leave the fast set */
	double cpu_s;
};

void oracle_run(struct oracle *o, const struct trace *tr, uint64_t interval_ns);
void oracle_free(struct oracle *o);

#endif
