// SPDX-License-Identifier: GPL-2.0
#include "out.h"

static double ratio(uint64_t a, uint64_t b)
{
	return b ? (double)a / (double)b : 0.0;
}

void out_header(FILE *f)
{
	fprintf(f, "trace\tpolicy\taccesses\thit_ratio\toracle_hit_ratio\tt90_s\tmigrated_mib"
		"\tns_per_sample\tsamples\tpromoted_pages\tdemoted_pages\treplay_s"
		"\tmaccess_per_s\tunmapped\n");
}

double out_t90(const struct result *r, const struct oracle *o, uint64_t ival)
{
	for (size_t k = 0; k < r->nival && k < o->nival; k++) {
		if (!r->iacc[k])
			continue;
		if (ratio(r->ihit[k], r->iacc[k]) >= 0.9 * ratio(o->ihit[k], o->iacc[k]))
			return (double)k * (double)ival / 1e9;
	}
	return -1;
}

void out_row(FILE *f, const char *trace, const struct trace *tr, const struct result *r,
	     const struct oracle *o, uint64_t ival)
{
	double t90 = out_t90(r, o, ival);
	double mib = (double)r->moved_pages * (double)tr->page_size / 1048576.0;

	fprintf(f, "%s\t%s\t%llu\t%.4f\t%.4f\t", trace, r->policy, (unsigned long long)r->acc,
		ratio(r->hits, r->acc), ratio(o->hits, o->acc));
	if (t90 < 0)
		fprintf(f, "-\t");
	else
		fprintf(f, "%g\t", t90);
	fprintf(f, "%.1f\t", mib);
	if (r->ns_per_sample < 0)
		fprintf(f, "-\t");
	else
		fprintf(f, "%.1f\t", r->ns_per_sample);
	fprintf(f, "%llu\t%llu\t%llu\t%.3f\t%.1f\t%llu\n", (unsigned long long)r->samples,
		(unsigned long long)r->promoted, (unsigned long long)r->demoted, r->replay_s,
		r->replay_s > 0 ? (double)r->acc / r->replay_s / 1e6 : 0.0,
		(unsigned long long)tr->unmapped);
}

void out_timeline(FILE *f, const struct result *r, size_t n, const struct oracle *o,
		  uint64_t ival)
{
	fprintf(f, "t_s");
	for (size_t j = 0; j < n; j++)
		fprintf(f, "\t%s", r[j].policy);
	fputc('\n', f);
	for (size_t k = 0; k < o->nival; k++) {
		fprintf(f, "%g", (double)k * (double)ival / 1e9);
		for (size_t j = 0; j < n; j++) {
			if (k < r[j].nival && r[j].iacc[k])
				fprintf(f, "\t%.4f", ratio(r[j].ihit[k], r[j].iacc[k]));
			else
				fprintf(f, "\t-");
		}
		fputc('\n', f);
	}
}
