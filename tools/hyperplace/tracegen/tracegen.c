// SPDX-License-Identifier: GPL-2.0
/*
 * tracegen: synthetic memory-access traces in the hpsim format (see ../README).
 * Every process maps its area, writes it once in address order (so first-touch
 * placement fills the fast tier with the low addresses, as an initialising program
 * would), then runs the chosen access pattern. Deterministic for a given seed.
 */
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../sim/util.h"

#define BASE_VA		0x7f0000000000ull
#define MAX_PROCS	64
#define MAX_REGIONS	4096

enum wl { UNIFORM, HOTSET, ZIPF, SCATTER, MULTI };

struct opts {
	enum wl wl;
	uint64_t area_mib, fast_mib, hot_mib, accesses, rate;
	double hot_frac, theta, writes, move_at;
	unsigned int regions, region_kib, procs, cpus;
	uint64_t seed;
	int init, shuffle;
};

/* A process: its hot set is a list of page runs inside its area. */
struct proc {
	uint32_t pid;
	uint64_t pages;
	uint64_t run_start[MAX_REGIONS], run_len;	/* hot runs of equal length */
	unsigned int nruns;
	uint64_t hot_pages;
};

static struct {
	char *buf;
	size_t n;
	FILE *f;
	uint64_t t;
} out;

static void flush_out(void)
{
	if (out.n && fwrite(out.buf, 1, out.n, out.f) != out.n)
		die("tracegen: write failed");
	out.n = 0;
}

static char *put_u(char *p, uint64_t v, int hex)
{
	char tmp[24];
	int n = 0;

	do {
		unsigned d = (unsigned)(hex ? v & 15 : v % 10);

		tmp[n++] = (char)(d < 10 ? '0' + d : 'a' + d - 10);
		v = hex ? v >> 4 : v / 10;
	} while (v);
	while (n)
		*p++ = tmp[--n];
	return p;
}

static void ev(uint32_t pid, char op, uint64_t a, uint64_t len, int nargs)
{
	char *p;

	if (out.n > (1u << 20) - 128)
		flush_out();
	p = out.buf + out.n;
	p = put_u(p, out.t, 0);
	*p++ = ' ';
	p = put_u(p, pid, 0);
	*p++ = ' ';
	*p++ = op;
	if (nargs > 0) {
		*p++ = ' ';
		p = put_u(p, a, 1);
	}
	if (nargs > 1) {
		*p++ = ' ';
		p = put_u(p, len, 1);
	}
	*p++ = '\n';
	out.n = (size_t)(p - out.buf);
}

/* Non-overlapping hot runs at random page offsets, kept off the first-touch prefix. */
static void place_hot(struct proc *pr, uint64_t *rng, uint64_t avoid_pages,
		      unsigned int nruns, uint64_t run_len)
{
	uint64_t slots, lo = avoid_pages;

	if (lo + (uint64_t)nruns * run_len > pr->pages)
		lo = 0;
	slots = (pr->pages - lo) / run_len;
	if (nruns > slots)
		die("tracegen: hot set does not fit the area");
	pr->nruns = nruns;
	pr->run_len = run_len;
	pr->hot_pages = (uint64_t)nruns * run_len;
	if (nruns == 1) {	/* one run: any page offset, not slot aligned */
		pr->run_start[0] = lo + rng_below(rng, pr->pages - lo - run_len + 1);
		return;
	}
	/* distinct slots, then a random shift inside each slot's slack */
	for (unsigned int i = 0; i < nruns; i++) {
		uint64_t s;
		unsigned int j;

		do {
			s = rng_below(rng, slots);
			for (j = 0; j < i && pr->run_start[j] != s; j++)
				;
		} while (j < i);
		pr->run_start[i] = s;
	}
	for (unsigned int i = 0; i < nruns; i++)
		pr->run_start[i] = lo + pr->run_start[i] * run_len;
}

static uint64_t hot_page(const struct proc *pr, uint64_t *rng)
{
	uint64_t k = rng_below(rng, pr->hot_pages);

	return pr->run_start[k / pr->run_len] + k % pr->run_len;
}

/* a page outside the hot runs, uniformly */
static uint64_t cold_page(const struct proc *pr, uint64_t *rng)
{
	for (;;) {
		uint64_t p = rng_below(rng, pr->pages);
		unsigned int i;

		for (i = 0; i < pr->nruns; i++)
			if (p >= pr->run_start[i] && p < pr->run_start[i] + pr->run_len)
				break;
		if (i == pr->nruns || pr->hot_pages >= pr->pages)
			return p;
	}
}

/* Zipf by inverse CDF: cdf[r] = P(rank <= r). */
static double *zipf_cdf(uint64_t n, double theta)
{
	double *cdf = xmalloc(n * sizeof(*cdf)), sum = 0;

	for (uint64_t r = 0; r < n; r++)
		cdf[r] = (sum += pow((double)(r + 1), -theta));
	for (uint64_t r = 0; r < n; r++)
		cdf[r] /= sum;
	return cdf;
}

static uint64_t zipf_rank(const double *cdf, uint64_t n, uint64_t *rng)
{
	double u = rng_unit(rng);
	uint64_t lo = 0, hi = n - 1;

	while (lo < hi) {
		uint64_t mid = (lo + hi) / 2;

		if (cdf[mid] < u)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static void usage(FILE *f)
{
	fprintf(f,
		"usage: tracegen -w WORKLOAD [options] [-o FILE]\n"
		"  -w, --workload W     uniform | hotset | zipf | scatter | multi\n"
		"  -N, --area-mib N     mapped area per process (default 256)\n"
		"  -F, --fast-mib N     fast tier size, the fast_pages header (default 64)\n"
		"  -H, --hot-mib N      hot set size (hotset, multi: largest) (default 32)\n"
		"      --hot-frac F     share of accesses to the hot set (default 0.9)\n"
		"      --move-at S      hotset: move the hot set at S seconds (default never)\n"
		"      --theta T        zipf exponent (default 0.99)\n"
		"      --shuffle        zipf: scatter ranks over pages (default: contiguous)\n"
		"      --regions K      scatter: hot regions (default 32)\n"
		"      --region-kib K   scatter: size of each (default 1024)\n"
		"      --procs P        multi: processes (default 4)\n"
		"  -a, --accesses N     accesses after initialisation (default 20000000)\n"
		"      --rate N         accesses per second of trace time (default 1000000)\n"
		"      --writes F       share of writes (default 0.3)\n"
		"      --cpus N         cpus header (default 1)\n"
		"      --no-init        skip the first-touch pass\n"
		"  -s, --seed N         seed (default 1)\n"
		"  -o, --output FILE    default stdout\n");
}

static void parse(int argc, char **argv, struct opts *o, const char **path)
{
	static const struct option lo[] = {
		{ "workload", 1, 0, 'w' }, { "area-mib", 1, 0, 'N' }, { "fast-mib", 1, 0, 'F' },
		{ "hot-mib", 1, 0, 'H' }, { "hot-frac", 1, 0, 1 }, { "move-at", 1, 0, 2 },
		{ "theta", 1, 0, 3 }, { "regions", 1, 0, 4 }, { "region-kib", 1, 0, 5 },
		{ "procs", 1, 0, 6 }, { "accesses", 1, 0, 'a' }, { "rate", 1, 0, 7 },
		{ "writes", 1, 0, 8 }, { "cpus", 1, 0, 9 }, { "no-init", 0, 0, 10 },
		{ "shuffle", 0, 0, 11 }, { "seed", 1, 0, 's' }, { "output", 1, 0, 'o' },
		{ "help", 0, 0, 'h' }, { 0, 0, 0, 0 },
	};
	static const char *const names[] = { "uniform", "hotset", "zipf", "scatter", "multi" };
	int c, i;

	while ((c = getopt_long(argc, argv, "w:N:F:H:a:s:o:h", lo, NULL)) != -1) {
		switch (c) {
		case 'w':
			for (i = 0; i < 5 && strcmp(optarg, names[i]); i++)
				;
			if (i == 5)
				die("tracegen: unknown workload '%s'", optarg);
			o->wl = (enum wl)i;
			break;
		case 'N': o->area_mib = strtoull(optarg, NULL, 0); break;
		case 'F': o->fast_mib = strtoull(optarg, NULL, 0); break;
		case 'H': o->hot_mib = strtoull(optarg, NULL, 0); break;
		case 1: o->hot_frac = atof(optarg); break;
		case 2: o->move_at = atof(optarg); break;
		case 3: o->theta = atof(optarg); break;
		case 4: o->regions = (unsigned int)atoi(optarg); break;
		case 5: o->region_kib = (unsigned int)atoi(optarg); break;
		case 6: o->procs = (unsigned int)atoi(optarg); break;
		case 'a': o->accesses = strtoull(optarg, NULL, 0); break;
		case 7: o->rate = strtoull(optarg, NULL, 0); break;
		case 8: o->writes = atof(optarg); break;
		case 9: o->cpus = (unsigned int)atoi(optarg); break;
		case 10: o->init = 0; break;
		case 11: o->shuffle = 1; break;
		case 's': o->seed = strtoull(optarg, NULL, 0); break;
		case 'o': *path = optarg; break;
		case 'h': usage(stdout); exit(0);
		default: usage(stderr); exit(2);
		}
	}
	if (optind != argc || !o->area_mib || !o->fast_mib || !o->rate || !o->cpus ||
	    o->procs < 1 || o->procs > MAX_PROCS || o->regions < 1 ||
	    o->regions > MAX_REGIONS || !o->region_kib || o->region_kib % 4)
		die("tracegen: bad arguments (see --help)");
}

int main(int argc, char **argv)
{
	struct opts o = { .wl = HOTSET, .area_mib = 256, .fast_mib = 64, .hot_mib = 32,
			  .accesses = 20000000, .rate = 1000000, .hot_frac = 0.9,
			  .theta = 0.99, .writes = 0.3, .move_at = -1, .regions = 32,
			  .region_kib = 1024, .procs = 1, .cpus = 1, .seed = 1, .init = 1 };
	static struct proc pr[MAX_PROCS];
	const char *path = NULL;
	uint64_t rng, ppg = 4096, np, *perm = NULL, zoff = 0;
	double *cdf = NULL;
	int moved = 0;

	parse(argc, argv, &o, &path);
	if (o.wl == MULTI && o.procs == 1)
		o.procs = 4;
	if (o.wl != MULTI)
		o.procs = 1;
	rng = o.seed * 0x9e3779b97f4a7c15ull + 12345;
	out.f = path ? fopen(path, "w") : stdout;
	if (!out.f)
		die("tracegen: cannot write %s", path);
	out.buf = xmalloc(1u << 20);
	np = (o.area_mib << 20) / ppg;

	fprintf(out.f, "# hpsim trace from tracegen, workload %d, seed %llu\n", (int)o.wl,
		(unsigned long long)o.seed);
	fprintf(out.f, "# page_size=%llu\n# fast_pages=%llu\n# cpus=%u\n",
		(unsigned long long)ppg, (unsigned long long)((o.fast_mib << 20) / ppg), o.cpus);
	for (unsigned int i = 0; i < o.procs; i++) {
		uint64_t hot = (o.hot_mib << 20) / ppg;

		pr[i].pid = 100 + i;
		pr[i].pages = np;
		ev(pr[i].pid, 'm', BASE_VA, np * ppg, 2);
		switch (o.wl) {
		case HOTSET:
			place_hot(&pr[i], &rng, (o.fast_mib << 20) / ppg, 1, hot);
			break;
		case MULTI:	/* process i: hot set of (i + 1) / P of -H */
			place_hot(&pr[i], &rng, 0, 1, hot * (i + 1) / o.procs);
			break;
		case SCATTER:
			place_hot(&pr[i], &rng, 0, o.regions, ((uint64_t)o.region_kib << 10) / ppg);
			break;
		default:
			break;
		}
	}
	if (o.wl == ZIPF) {
		cdf = zipf_cdf(np, o.theta);
		zoff = rng_below(&rng, np);
		if (o.shuffle) {
			perm = xmalloc(np * sizeof(*perm));
			for (uint64_t i = 0; i < np; i++)
				perm[i] = i;
			for (uint64_t i = np - 1; i > 0; i--) {
				uint64_t j = rng_below(&rng, i + 1), x = perm[i];

				perm[i] = perm[j];
				perm[j] = x;
			}
		}
	}
	if (o.init)
		for (unsigned int i = 0; i < o.procs; i++)
			for (uint64_t p = 0; p < np; p++) {
				ev(pr[i].pid, 'w', BASE_VA + p * ppg, 0, 1);
				out.t += 1000000000ull / o.rate;
			}

	uint64_t tstart = out.t;

	for (uint64_t a = 0; a < o.accesses; a++) {
		struct proc *p = &pr[o.procs > 1 ? rng_below(&rng, o.procs) : 0];
		uint64_t page;

		out.t = tstart + (uint64_t)((double)a * 1e9 / (double)o.rate);
		if (o.wl == HOTSET && o.move_at >= 0 && !moved &&
		    out.t >= (uint64_t)(o.move_at * 1e9)) {
			uint64_t old = p->run_start[0];

			do	/* a new place that does not overlap the old one */
				place_hot(p, &rng, 0, 1, p->hot_pages);
			while (p->run_start[0] + p->hot_pages > old &&
			       old + p->hot_pages > p->run_start[0]);
			moved = 1;
		}
		switch (o.wl) {
		case UNIFORM:
			page = rng_below(&rng, np);
			break;
		case ZIPF:
			page = zipf_rank(cdf, np, &rng);
			page = perm ? perm[page] : (page + zoff) % np;
			break;
		default:
			page = rng_unit(&rng) < o.hot_frac ? hot_page(p, &rng) : cold_page(p, &rng);
			break;
		}
		ev(p->pid, rng_unit(&rng) < o.writes ? 'w' : 'r',
		   BASE_VA + page * ppg + (rng_below(&rng, ppg) & ~7ull), 0, 1);
	}
	for (unsigned int i = 0; i < o.procs; i++)
		ev(pr[i].pid, 'x', 0, 0, 0);
	flush_out();
	if (out.f != stdout)
		fclose(out.f);
	else
		fflush(stdout);
	free(out.buf);
	free(cdf);
	free(perm);
	return 0;
}
