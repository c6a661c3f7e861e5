// SPDX-License-Identifier: GPL-2.0
/*
 * hpsim: replay a memory-access trace against two memory tiers under one or more
 * placement policies and print one TSV row per policy. See ../README.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cache.h"
#include "oracle.h"
#include "out.h"
#include "policy.h"
#include "util.h"

static const struct policy *const policies[] = {
	&pol_static, &pol_tpp, &pol_damon, &pol_memtis, &pol_demeter, &pol_hyperplace,
};
#define NPOL (sizeof(policies) / sizeof(policies[0]))
#define ALL "oracle,static,tpp,damon,memtis,demeter,hyperplace"

static void usage(FILE *f)
{
	fprintf(f,
		"usage: hpsim [options] TRACE      (TRACE: a file, or - for stdin)\n"
		"  -p, --policy LIST       comma list of oracle,static,tpp,damon,memtis,\n"
		"                          demeter,hyperplace, or all (default all)\n"
		"  -s, --sample-period N   mean accesses per sample (default 100)\n"
		"  -r, --rate MIB          migration budget, MiB per trace second (default 256)\n"
		"  -i, --interval-ms N     accounting interval (default 1000)\n"
		"  -S, --seed N            seed of the sampling jitter and DAMON (default 1)\n"
		"  -t, --timeline FILE     per-interval hit ratios (TSV)\n"
		"  -n, --name NAME         trace column (default: file name)\n"
		"  -P, --hp K=V[,K=V]      hyperplace: override struct hp_range_params fields\n"
		"                          (split_shift, decay_shift, split_ratio, hysteresis...)\n"
		"  -C, --cache FILE        binary cache of the parsed trace: used if newer than\n"
		"                          TRACE, else written (not with stdin)\n"
		"  -E, --hp-epoch-ms N     hyperplace: classification period (default 100)\n"
		"  -H, --no-header         do not print the TSV header line\n");
}

static const struct policy *find(const char *name, size_t len)
{
	for (size_t i = 0; i < NPOL; i++)
		if (strlen(policies[i]->name) == len && !strncmp(policies[i]->name, name, len))
			return policies[i];
	return NULL;
}

static const char *base_name(const char *path)
{
	const char *b = strrchr(path, '/');

	return strcmp(path, "-") ? (b ? b + 1 : path) : "stdin";
}

static double wall(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "policy", 1, 0, 'p' }, { "sample-period", 1, 0, 's' }, { "rate", 1, 0, 'r' },
		{ "interval-ms", 1, 0, 'i' }, { "seed", 1, 0, 'S' }, { "timeline", 1, 0, 't' },
		{ "name", 1, 0, 'n' }, { "hp", 1, 0, 'P' },
		{ "cache", 1, 0, 'C' }, { "hp-epoch-ms", 1, 0, 'E' }, { "no-header", 0, 0, 'H' }, { "help", 0, 0, 'h' },
		{ 0, 0, 0, 0 },
	};
	struct sim_opts o = { .sample_period = 100, .rate_mibs = 256,
			      .interval_ns = 1000000000ull, .seed = 1, .hp_epoch_ms = 100 };
	const char *list = ALL, *timeline = NULL, *name = NULL, *cache = NULL;
	struct result res[NPOL + 1];
	struct sim *sims = xcalloc(NPOL, sizeof(*sims));
	struct trace tr;
	struct oracle orc;
	size_t nres = 0, nsim = 0;
	int header = 1, c;
	double t0;
	uint64_t c0;
	char *end;

	while ((c = getopt_long(argc, argv, "p:s:r:i:S:t:n:P:C:E:Hh", lo, NULL)) != -1) {
		switch (c) {
		case 'p':
			list = strcmp(optarg, "all") ? optarg : ALL;
			break;
		case 's':
			o.sample_period = (uint32_t)strtoul(optarg, &end, 10);
			if (*end || !o.sample_period)
				die("--sample-period wants a positive integer");
			break;
		case 'r':
			o.rate_mibs = strtod(optarg, &end);
			if (*end || o.rate_mibs < 0)
				die("--rate wants MiB/s >= 0");
			break;
		case 'i':
			o.interval_ns = strtoull(optarg, &end, 10);
			if (*end || !o.interval_ns || o.interval_ns > UINT64_MAX / 1000000)
				die("--interval-ms wants a positive integer < 1.8e13");
			o.interval_ns *= 1000000ull;
			break;
		case 'S':
			o.seed = strtoull(optarg, &end, 0);
			break;
		case 't':
			timeline = optarg;
			break;
		case 'n':
			name = optarg;
			break;
		case 'E':
			o.hp_epoch_ms = (uint32_t)strtoul(optarg, &end, 10);
			if (*end || o.hp_epoch_ms < 50 || o.hp_epoch_ms > 60000)
				die("--hp-epoch-ms wants 50..60000 (multiples of the 50 ms tick)");
			break;
		case 'C':
			cache = optarg;
			break;
		case 'P':
			o.hp_params = optarg;
			break;
		case 'H':
			header = 0;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind + 1 != argc) {
		usage(stderr);
		return 2;
	}
	/* check the list before the (possibly long) parse */
	for (const char *p = list; *p;) {
		size_t len = strcspn(p, ",");

		if (!(len == 6 && !strncmp(p, "oracle", 6)) && !find(p, len))
			die("unknown policy '%.*s' (want " ALL ")", (int)len, p);
		p += len + (p[len] == ',');
	}
	t0 = wall();
	c0 = thread_ns();
	if (cache && cache_load(&tr, argv[optind], cache)) {
		fprintf(stderr, "hpsim: %s: loaded from the cache %s\n", tr.name, cache);
	} else {
		if (trace_load(&tr, argv[optind], stderr))
			return 1;
		if (cache)
			cache_save(&tr, cache);
	}
	fprintf(stderr, "hpsim: %s: %llu lines, %llu accesses, %llu pages, parsed in %.2f s "
		"(%.2f s CPU, %.1f M lines/s of CPU)\n",
		tr.name, (unsigned long long)tr.lines, (unsigned long long)tr.accesses,
		(unsigned long long)tr.npages, wall() - t0, (double)(thread_ns() - c0) / 1e9,
		(double)tr.lines / ((double)(thread_ns() - c0) / 1e3));
	if (tr.unmapped)
		fprintf(stderr, "hpsim: %s: %llu accesses outside any mapping ignored\n",
			tr.name, (unsigned long long)tr.unmapped);
	/* per-interval arrays: a trace with a huge time span needs a longer interval */
	if ((tr.t_end - tr.t0) / o.interval_ns >= 10000000)
		die("hpsim: %s spans %.0f s: more than 10^7 intervals; raise --interval-ms",
		    tr.name, (double)(tr.t_end - tr.t0) / 1e9);
	oracle_run(&orc, &tr, o.interval_ns);
	if (!name)
		name = base_name(argv[optind]);

	for (const char *p = list; *p;) {
		size_t len = strcspn(p, ",");
		const struct policy *pol = find(p, len);
		struct result *r = &res[nres++];

		memset(r, 0, sizeof(*r));
		if (!pol) {
			r->policy = "oracle";
			r->acc = orc.acc;
			r->hits = orc.hits;
			r->iacc = orc.iacc;
			r->ihit = orc.ihit;
			r->nival = orc.nival;
			r->moved_pages = orc.moved;
			r->ns_per_sample = -1;
			r->replay_s = orc.cpu_s;
		} else {
			struct sim *s = &sims[nsim++];

			sim_run(s, &tr, &o, pol);
			r->policy = pol->name;
			r->acc = s->acc;
			r->hits = s->hits;
			r->iacc = s->iacc;
			r->ihit = s->ihit;
			r->nival = s->nival;
			r->promoted = s->promoted;
			r->demoted = s->demoted;
			r->moved_pages = s->promoted + s->demoted;
			r->samples = s->nsamples;
			r->ns_per_sample = s->nsamples ? (double)s->pol_ns / (double)s->nsamples : -1;
			r->replay_s = s->replay_s;
		}
		if (header && nres == 1)
			out_header(stdout);
		out_row(stdout, name, &tr, r, &orc, o.interval_ns);
		fflush(stdout);
		p += len + (p[len] == ',');
	}
	if (timeline) {
		FILE *f = fopen(timeline, "w");

		if (!f)
			die("%s: cannot write", timeline);
		out_timeline(f, res, nres, &orc, o.interval_ns);
		fclose(f);
	}
	for (size_t i = 0; i < nsim; i++)
		sim_done(&sims[i]);
	free(sims);
	oracle_free(&orc);
	trace_free(&tr);
	return 0;
}
