/* SPDX-License-Identifier: GPL-2.0 */
#ifndef HPSIM_OUT_H
#define HPSIM_OUT_H

#include <stdio.h>

#include "oracle.h"
#include "sim.h"

/* What one policy achieved on one trace. */
struct result {
	const char *policy;
	uint64_t acc, hits;
	const uint64_t *iacc, *ihit;	/* per interval */
	size_t nival;
	uint64_t moved_pages, promoted, demoted;
	uint64_t samples;
	double ns_per_sample;		/* < 0: not applicable */
	double replay_s;
};

void out_header(FILE *f);
void out_row(FILE *f, const char *trace, const struct trace *tr, const struct result *r,
	     const struct oracle *o, uint64_t interval_ns);
/* one row per interval: t_s, then oracle and each policy's hit ratio */
void out_timeline(FILE *f, const struct result *r, size_t n, const struct oracle *o,
		  uint64_t interval_ns);
/* first interval start (s) where the policy reaches 90% of the oracle; < 0 = never */
double out_t90(const struct result *r, const struct oracle *o, uint64_t interval_ns);

#endif
