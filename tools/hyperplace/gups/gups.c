// SPDX-License-Identifier: GPL-2.0
/*
 * gups: giga-updates per second.  Random read-modify-write updates of a large
 * array of u64, by N threads, with a uniform, hot-set or zipf index pattern,
 * and an exact check afterwards that no update was lost.  Built static, runs
 * in the busybox test guest.  Options: gups --help.
 *
 * Work: update g (0, 1, 2, ...) belongs to chunk g / CHUNK.  A chunk's indices
 * come from its own PRNG, seeded from (seed, chunk index) only, and update g
 * adds value(g) to its element.  Threads claim chunks from one shared atomic
 * counter, so a thread that is fast (or less disturbed) simply claims more:
 * the simplest form of work stealing, a single shared queue of chunks.  The
 * set of updates and their values does not depend on which thread ran what.
 *
 * Verification: addition commutes, so the final array is a[j] = j + the sum
 * of value(g) over the updates g that hit j, whatever the interleaving.  With
 * an odd weight w(j) per element, S = sum_j a[j] * w(j) (mod 2^64) must equal
 * sum_j j * w(j) + sum_g value(g) * w(idx(g)), and the latter is computed by
 * replaying the index streams of all chunks without touching the array.
 * value(g) and w(j) are odd, so one lost update changes S by an odd amount,
 * and any odd number of them does too: that is always detected.  An even
 * number escapes only if odd 64-bit hashes cancel exactly.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#define CHUNK_SHIFT	16
#define CHUNK		(1ull << CHUNK_SHIFT)	/* updates per chunk */
#define ZIPF_BUCKETS	4096
#define MAX_THREADS	1024
#define MAX_SIZE_MIB	(1ull << 30)		/* 1 PiB: keeps bytes in 64 bits */
#define PF_MAX		64			/* largest prefetch distance */
#define ALIGN		(2ull << 20)		/* array alignment: a huge page */
#define P53		(1ull << 53)		/* probabilities are 53-bit fixed point */

typedef unsigned __int128 u128;

enum pattern { PAT_UNIFORM, PAT_HOTSET, PAT_ZIPF };
static const char *const pattern_name[] = { "uniform", "hotset", "zipf" };

struct opts {
	uint64_t size_mib, updates, seed, hot_mib, hot_offset_mib, report_ms;
	uint64_t threads, element, prefetch;
	double duration, hot_frac, zipf_s;
	enum pattern pattern;
	const char *hot_addr_file;
	bool has_updates, has_hot_mib, pause, verify, count_hot, corrupt;
	bool hot_opts, zipf_opts;	/* options of one pattern were given */
};

/* How an index is drawn: read-only once set up, shared by all threads. */
struct gen {
	enum pattern pattern;
	uint64_t nelem, salt;
	uint64_t hot_lo, hot_n;		/* the hot region, elements */
	uint64_t hot_thresh;		/* P(hot) in 53-bit fixed point */
	unsigned int nbuckets;
	uint64_t *cdf;			/* zipf: P(rank <= r), 53-bit, by rank */
	uint64_t *blo, *blen;		/* zipf: the bucket of each rank */
};

/* One run's shared state. */
struct run {
	_Atomic uint64_t *a;
	const struct gen *gen;
	const struct opts *o;
	uint64_t nchunks, last_len;	/* chunk count cap, last chunk's length */
	double deadline;		/* 0: none */
	atomic_uint_fast64_t next_chunk;
	atomic_uint_fast64_t done;	/* updates finished, for progress */
	pthread_mutex_t lock;
	pthread_cond_t cond;
	unsigned int finished;		/* under lock */
	uint64_t chunks_run;		/* chunks [0, chunks_run) were done */
	/* replay */
	atomic_uint_fast64_t replay_chunk;
	uint64_t watch_lo, watch_hi;	/* --count-hot: element range counted */
};

struct worker {
	pthread_t tid;
	unsigned int id;
	struct run *run;
	uint64_t updates, chunks;
	double end;
	uint64_t sum, hot;		/* replay and checksum results */
};

static void usage(FILE *f)
{
	fprintf(f,
"usage: gups [options]\n"
"  -s, --size MIB          array size (default 64)\n"
"  -t, --threads N         threads (default: online CPUs)\n"
"  -n, --updates N         total updates (default 4 x elements)\n"
"  -d, --duration SEC      run until SEC have passed (whole chunks; with -n,\n"
"                          whichever ends first)\n"
"  -p, --pattern P         uniform | hotset | zipf (default uniform)\n"
"      --hot-mib MIB       hotset: hot region size (default 10%% of --size)\n"
"      --hot-frac PCT      hotset: %% of updates sent to the hot region (90);\n"
"                          the rest are uniform over the whole array\n"
"      --hot-offset MIB    hotset: where the hot region starts (0)\n"
"      --zipf-s S          zipf: exponent over %d buckets (0.99)\n"
"      --seed N            seed of every random choice (1)\n"
"      --element 8         element size in bytes (only 8: u64)\n"
"      --prefetch D        prefetch the element D updates ahead (16; 0 off)\n"
"      --report-ms MS      print a progress line every MS ms\n"
"      --hot-addr-file F   write \"START END\" (hex virtual addresses, END\n"
"                          excluded) of the hot region to F (zipf: the\n"
"                          hottest bucket; uniform: the whole array)\n"
"      --pause-after-init  after init, wait for SIGUSR1 or a newline on stdin\n"
"  SIGUSR2 ends the update phase after the chunks under way; the run is then\n"
"  verified and reported as usual (for tests that stop when they have seen\n"
"  what they wait for).\n"
"      --verify, --no-verify  check that no update was lost (default on)\n"
"      --count-hot         debug: count the updates in the hot region\n"
"  -h, --help\n"
"Output: a summary, then one TSV line\n"
"  gups<TAB>pattern<TAB>size_mib<TAB>threads<TAB>updates<TAB>seconds<TAB>mups<TAB>verify\n"
"and with --report-ms, lines progress<TAB>elapsed_s<TAB>updates<TAB>mups_interval.\n"
"Exit: 0 ok, 1 verification failed or runtime error, 2 bad arguments.\n",
		ZIPF_BUCKETS);
}

/* ---- errors, time ------------------------------------------------------ */

static void __attribute__((noreturn, format(printf, 1, 2))) bad_arg(const char *fmt, ...)
{
	va_list ap;

	fputs("gups: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputs(" (see gups --help)\n", stderr);
	exit(2);
}

static void __attribute__((noreturn, format(printf, 1, 2))) die(const char *fmt, ...)
{
	va_list ap;

	fputs("gups: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(1);
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* ---- random numbers ---------------------------------------------------- */

/* The splitmix64 finaliser: a bijection on 64 bits that mixes well. */
static inline uint64_t mix64(uint64_t x)
{
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
	return x ^ (x >> 31);
}

static inline uint64_t splitmix64(uint64_t *x)
{
	*x += 0x9e3779b97f4a7c15ull;
	return mix64(*x);
}

struct rng {
	uint64_t s[4];
};

static inline uint64_t rotl(uint64_t x, int k)
{
	return (x << k) | (x >> (64 - k));
}

/* xoshiro256** (Blackman and Vigna) */
static inline uint64_t rng_next(struct rng *r)
{
	uint64_t *s = r->s;
	uint64_t out = rotl(s[1] * 5, 7) * 9;
	uint64_t t = s[1] << 17;

	s[2] ^= s[0];
	s[3] ^= s[1];
	s[1] ^= s[2];
	s[0] ^= s[3];
	s[2] ^= t;
	s[3] = rotl(s[3], 45);
	return out;
}

/* A stream of its own for every (seed, stream): splitmix64 fills the state. */
static void rng_seed(struct rng *r, uint64_t salt, uint64_t stream)
{
	uint64_t x = salt ^ mix64(stream + 1);

	for (int k = 0; k < 4; k++)
		r->s[k] = splitmix64(&x);
}

/* Uniform in [0, n) by multiply-shift: no division, bias < n / 2^64. */
static inline uint64_t below(uint64_t x, uint64_t n)
{
	return (uint64_t)(((u128)x * n) >> 64);
}

/* What update g adds: odd, so that a lost update always shows (see top). */
static inline uint64_t value(uint64_t salt, uint64_t g)
{
	return mix64(g ^ salt) | 1;
}

/* The checksum weight of element j: odd, hence invertible mod 2^64. */
static inline uint64_t weight(uint64_t j)
{
	return mix64(j + 0x2545f4914f6cdd1dull) | 1;
}

/* ---- option parsing ---------------------------------------------------- */

static uint64_t parse_u64(const char *s, const char *what)
{
	unsigned long long v;
	char *end;

	errno = 0;
	if (*s < '0' || *s > '9')
		bad_arg("%s: '%s' is not a non-negative integer", what, s);
	v = strtoull(s, &end, 10);
	if (errno || *end)
		bad_arg("%s: '%s' is not a non-negative integer", what, s);
	return v;
}

static double parse_double(const char *s, const char *what)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (errno || *end || end == s || !isfinite(v))
		bad_arg("%s: '%s' is not a number", what, s);
	return v;
}

static enum pattern parse_pattern(const char *s)
{
	for (unsigned int i = 0; i < sizeof(pattern_name) / sizeof(*pattern_name); i++)
		if (!strcmp(s, pattern_name[i]))
			return i;
	bad_arg("unknown pattern '%s' (uniform, hotset or zipf)", s);
}

enum {
	OPT_HOT_MIB = 256, OPT_HOT_FRAC, OPT_HOT_OFFSET, OPT_ZIPF_S, OPT_SEED,
	OPT_ELEMENT, OPT_PREFETCH, OPT_REPORT_MS, OPT_HOT_ADDR_FILE, OPT_PAUSE,
	OPT_VERIFY, OPT_NO_VERIFY, OPT_COUNT_HOT, OPT_CORRUPT,
};

static const struct option long_opts[] = {
	{ "size",		required_argument, NULL, 's' },
	{ "threads",		required_argument, NULL, 't' },
	{ "updates",		required_argument, NULL, 'n' },
	{ "duration",		required_argument, NULL, 'd' },
	{ "pattern",		required_argument, NULL, 'p' },
	{ "hot-mib",		required_argument, NULL, OPT_HOT_MIB },
	{ "hot-frac",		required_argument, NULL, OPT_HOT_FRAC },
	{ "hot-offset",		required_argument, NULL, OPT_HOT_OFFSET },
	{ "zipf-s",		required_argument, NULL, OPT_ZIPF_S },
	{ "seed",		required_argument, NULL, OPT_SEED },
	{ "element",		required_argument, NULL, OPT_ELEMENT },
	{ "prefetch",		required_argument, NULL, OPT_PREFETCH },
	{ "report-ms",		required_argument, NULL, OPT_REPORT_MS },
	{ "hot-addr-file",	required_argument, NULL, OPT_HOT_ADDR_FILE },
	{ "pause-after-init",	no_argument,	   NULL, OPT_PAUSE },
	{ "verify",		no_argument,	   NULL, OPT_VERIFY },
	{ "no-verify",		no_argument,	   NULL, OPT_NO_VERIFY },
	{ "count-hot",		no_argument,	   NULL, OPT_COUNT_HOT },
	/* hidden: damage one element before the check, to prove it can fail */
	{ "corrupt",		no_argument,	   NULL, OPT_CORRUPT },
	{ "help",		no_argument,	   NULL, 'h' },
	{ NULL, 0, NULL, 0 }
};

/* The options of the hot set and of zipf; false if c is none of them. */
static bool set_pattern_opt(struct opts *o, int c, const char *arg)
{
	switch (c) {
	case OPT_HOT_MIB:
		o->hot_mib = parse_u64(arg, "--hot-mib");
		o->has_hot_mib = true;
		break;
	case OPT_HOT_FRAC:
		o->hot_frac = parse_double(arg, "--hot-frac");
		break;
	case OPT_HOT_OFFSET:
		o->hot_offset_mib = parse_u64(arg, "--hot-offset");
		break;
	case OPT_ZIPF_S:
		o->zipf_s = parse_double(arg, "--zipf-s");
		o->zipf_opts = true;
		return true;
	default:
		return false;
	}
	o->hot_opts = true;
	return true;
}

/* Options without an argument; false if c is none of them. */
static bool set_flag_opt(struct opts *o, int c)
{
	switch (c) {
	case OPT_PAUSE:
		o->pause = true;
		break;
	case OPT_VERIFY:
	case OPT_NO_VERIFY:
		o->verify = c == OPT_VERIFY;
		break;
	case OPT_COUNT_HOT:
		o->count_hot = true;
		break;
	case OPT_CORRUPT:
		o->corrupt = true;
		break;
	case 'h':
		usage(stdout);
		exit(0);
	default:
		return false;
	}
	return true;
}

static void set_opt(struct opts *o, int c, const char *arg)
{
	if (set_pattern_opt(o, c, arg) || set_flag_opt(o, c))
		return;
	switch (c) {
	case 's':
		o->size_mib = parse_u64(arg, "--size");
		break;
	case 't':
		o->threads = parse_u64(arg, "--threads");
		break;
	case 'n':
		o->updates = parse_u64(arg, "--updates");
		o->has_updates = true;
		break;
	case 'd':
		o->duration = parse_double(arg, "--duration");
		if (o->duration <= 0)
			bad_arg("--duration must be > 0");
		break;
	case 'p':
		o->pattern = parse_pattern(arg);
		break;
	case OPT_SEED:
		o->seed = parse_u64(arg, "--seed");
		break;
	case OPT_ELEMENT:
		o->element = parse_u64(arg, "--element");
		break;
	case OPT_PREFETCH:
		o->prefetch = parse_u64(arg, "--prefetch");
		break;
	case OPT_REPORT_MS:
		o->report_ms = parse_u64(arg, "--report-ms");
		if (!o->report_ms)
			bad_arg("--report-ms must be >= 1");
		break;
	case OPT_HOT_ADDR_FILE:
		o->hot_addr_file = arg;
		break;
	default:
		bad_arg("bad option");
	}
}

/* Options of one pattern are refused with the others: they would do nothing. */
static void check_pattern_opts(const struct opts *o)
{
	if (o->hot_opts && o->pattern != PAT_HOTSET)
		bad_arg("--hot-mib, --hot-frac and --hot-offset need -p hotset");
	if (o->zipf_opts && o->pattern != PAT_ZIPF)
		bad_arg("--zipf-s needs -p zipf");
}

static void check_opts(struct opts *o)
{
	if (!o->size_mib || o->size_mib > MAX_SIZE_MIB)
		bad_arg("--size must be 1..%llu MiB", MAX_SIZE_MIB);
	if (!o->threads || o->threads > MAX_THREADS)
		bad_arg("--threads must be 1..%d", MAX_THREADS);
	if (o->has_updates && !o->updates)
		bad_arg("--updates must be >= 1");
	if (o->element != 8)
		bad_arg("--element: only 8-byte (u64) elements are supported");
	if (o->prefetch > PF_MAX || (o->prefetch & (o->prefetch - 1)))
		bad_arg("--prefetch must be 0 or a power of two up to %d", PF_MAX);
	check_pattern_opts(o);
	if (o->hot_frac < 0 || o->hot_frac > 100)
		bad_arg("--hot-frac must be 0..100");
	if (o->zipf_s < 0 || o->zipf_s > 100)
		bad_arg("--zipf-s must be 0..100");
	if (o->has_hot_mib && !o->hot_mib)
		bad_arg("--hot-mib must be >= 1");
	if (o->has_hot_mib && o->hot_mib > o->size_mib)
		bad_arg("hot region (%llu MiB) larger than the array (%llu MiB)",
			(unsigned long long)o->hot_mib, (unsigned long long)o->size_mib);
	if (o->hot_offset_mib >= o->size_mib ||
	    (o->has_hot_mib && o->hot_offset_mib + o->hot_mib > o->size_mib))
		bad_arg("hot region at %llu MiB does not fit in the %llu MiB array",
			(unsigned long long)o->hot_offset_mib,
			(unsigned long long)o->size_mib);
}

static void parse_opts(struct opts *o, int argc, char **argv)
{
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);
	int c;

	*o = (struct opts){
		.size_mib = 64, .threads = cpus > 0 ? cpus : 1, .seed = 1,
		.element = 8, .prefetch = 16, .hot_frac = 90, .zipf_s = 0.99,
		.verify = true,
	};
	if (o->threads > MAX_THREADS)
		o->threads = MAX_THREADS;
	opterr = 0;	/* bad_arg says it, with the exit code we want */
	while ((c = getopt_long(argc, argv, ":s:t:n:d:p:h", long_opts, NULL)) != -1) {
		/* optopt names a bad short option; argv a long one */
		if (c == '?' && optopt)
			bad_arg("unknown option '-%c'", optopt);
		if (c == '?')
			bad_arg("unknown option '%s'", argv[optind - 1]);
		if (c == ':')
			bad_arg("option '%s' needs an argument", argv[optind - 1]);
		set_opt(o, c, optarg);
	}
	if (optind < argc)
		bad_arg("unexpected argument '%s'", argv[optind]);
	check_opts(o);
}

/* ---- the index generator ----------------------------------------------- */

/* Hot region bytes: --hot-mib, else 10% of the array rounded down to pages. */
static uint64_t hot_bytes(const struct opts *o)
{
	uint64_t size = o->size_mib << 20, off = o->hot_offset_mib << 20;
	uint64_t b = o->has_hot_mib ? o->hot_mib << 20 : (size / 10) & ~4095ull;

	if (!b)
		b = 4096;
	return b < size - off ? b : size - off;
}

static void setup_hotset(struct gen *g, const struct opts *o)
{
	g->hot_lo = (o->hot_offset_mib << 20) / 8;
	g->hot_n = hot_bytes(o) / 8;
	/* 100% gives 2^53, above every 53-bit draw: always hot */
	g->hot_thresh = (uint64_t)(o->hot_frac / 100 * (double)P53);
}

static void *xcalloc(size_t n, size_t size)
{
	void *p = calloc(n, size);

	if (!p)
		die("out of memory");
	return p;
}

/*
 * Zipf over buckets: the array is cut into nbuckets equal buckets; rank r
 * has weight 1 / (r + 1)^s, and ranks are given to buckets by a random
 * permutation (from the seed) so that the hot buckets are scattered over the
 * array rather than at its start.  An update draws a rank from the CDF and
 * then an element uniformly inside that rank's bucket.
 */
static void setup_zipf(struct gen *g, double s)
{
	unsigned int nb = g->nelem < ZIPF_BUCKETS ? g->nelem : ZIPF_BUCKETS;
	unsigned int *perm = xcalloc(nb, sizeof(*perm));
	double total = 0, acc = 0;
	struct rng r;

	g->nbuckets = nb;
	g->cdf = xcalloc(nb, sizeof(*g->cdf));
	g->blo = xcalloc(nb, sizeof(*g->blo));
	g->blen = xcalloc(nb, sizeof(*g->blen));
	for (unsigned int i = 0; i < nb; i++)
		total += pow(i + 1.0, -s);
	for (unsigned int i = 0; i < nb; i++) {
		acc += pow(i + 1.0, -s);
		g->cdf[i] = (uint64_t)(acc / total * (double)P53);
		perm[i] = i;
	}
	g->cdf[nb - 1] = P53;	/* rounding must not leave a gap at the top */
	rng_seed(&r, g->salt, UINT64_MAX);	/* a stream no chunk uses */
	for (unsigned int i = nb - 1; i > 0; i--) {
		unsigned int j = below(rng_next(&r), i + 1), t = perm[i];

		perm[i] = perm[j];
		perm[j] = t;
	}
	for (unsigned int i = 0; i < nb; i++) {
		uint64_t b = perm[i];

		g->blo[i] = (uint64_t)((u128)g->nelem * b / nb);
		g->blen[i] = (uint64_t)((u128)g->nelem * (b + 1) / nb) - g->blo[i];
	}
	free(perm);
}

static void setup_gen(struct gen *g, const struct opts *o)
{
	uint64_t x = o->seed;

	*g = (struct gen){ .pattern = o->pattern };
	g->nelem = (o->size_mib << 20) / 8;
	g->salt = splitmix64(&x);
	if (o->pattern == PAT_HOTSET)
		setup_hotset(g, o);
	if (o->pattern == PAT_ZIPF)
		setup_zipf(g, o->zipf_s);
}

static void free_gen(struct gen *g)
{
	free(g->cdf);
	free(g->blo);
	free(g->blen);
}

/* First rank whose cumulative probability is above u. */
static inline unsigned int zipf_rank(const struct gen *g, uint64_t u)
{
	unsigned int lo = 0, hi = g->nbuckets - 1;

	while (lo < hi) {
		unsigned int mid = (lo + hi) / 2;

		if (u < g->cdf[mid])
			hi = mid;
		else
			lo = mid + 1;
	}
	return lo;
}

/* The next index of a chunk's stream: the one place patterns differ. */
static inline uint64_t draw(const struct gen *g, struct rng *r)
{
	unsigned int k;

	switch (g->pattern) {
	case PAT_HOTSET:
		if ((rng_next(r) >> 11) < g->hot_thresh)
			return g->hot_lo + below(rng_next(r), g->hot_n);
		return below(rng_next(r), g->nelem);
	case PAT_ZIPF:
		k = zipf_rank(g, rng_next(r) >> 11);
		return g->blo[k] + below(rng_next(r), g->blen[k]);
	default:
		return below(rng_next(r), g->nelem);
	}
}

/* The element range that --hot-addr-file and --count-hot talk about. */
static void hot_range(const struct gen *g, uint64_t *lo, uint64_t *hi)
{
	switch (g->pattern) {
	case PAT_HOTSET:
		*lo = g->hot_lo;
		*hi = g->hot_lo + g->hot_n;
		break;
	case PAT_ZIPF:
		*lo = g->blo[0];
		*hi = g->blo[0] + g->blen[0];
		break;
	default:
		*lo = 0;
		*hi = g->nelem;
	}
}

/* ---- the array --------------------------------------------------------- */

/* Anonymous memory aligned to 2 MiB, so MiB offsets line up with huge pages. */
static _Atomic uint64_t *map_array(uint64_t bytes)
{
	uint8_t *p = mmap(NULL, bytes + ALIGN, PROT_READ | PROT_WRITE,
			  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	uintptr_t start, end;

	if (p == MAP_FAILED)
		die("mmap of %llu MiB: %s", (unsigned long long)(bytes >> 20),
		    strerror(errno));
	start = ((uintptr_t)p + ALIGN - 1) & ~(ALIGN - 1);
	end = start + bytes;
	if (start > (uintptr_t)p)
		munmap(p, start - (uintptr_t)p);
	if ((uintptr_t)p + bytes + ALIGN > end)
		munmap((void *)end, (uintptr_t)p + bytes + ALIGN - end);
	return (_Atomic uint64_t *)start;
}

/*
 * a[j] = j, by one thread in address order: touches every page, and makes
 * first-touch placement deterministic (the low addresses are placed first).
 */
static void init_array(_Atomic uint64_t *a, uint64_t n)
{
	for (uint64_t j = 0; j < n; j++)
		atomic_store_explicit(&a[j], j, memory_order_relaxed);
}

static void write_hot_addr_file(const char *path, _Atomic uint64_t *a,
				const struct gen *g)
{
	uint64_t lo, hi;
	FILE *f = fopen(path, "w");

	if (!f)
		die("%s: %s", path, strerror(errno));
	hot_range(g, &lo, &hi);
	fprintf(f, "%#lx %#lx\n", (unsigned long)(uintptr_t)&a[lo],
		(unsigned long)(uintptr_t)&a[hi]);
	if (fclose(f))
		die("%s: %s", path, strerror(errno));
}

/* ---- pausing after init, stopping early -------------------------------- */

static volatile sig_atomic_t got_usr1, got_usr2;

static void on_usr2(int sig)
{
	(void)sig;
	got_usr2 = 1;
}

/* SIGUSR2: stop claiming chunks (see claim()). */
static void arm_usr2(void)
{
	struct sigaction sa = { .sa_handler = on_usr2 };

	sigaction(SIGUSR2, &sa, NULL);
}

static void on_usr1(int sig)
{
	(void)sig;
	got_usr1 = 1;
}

/* True when stdin gave a newline; an EOF or a closed stdin stop watching it. */
static bool stdin_newline(struct pollfd *pfd)
{
	char c;
	ssize_t n;

	if (pfd->revents & POLLNVAL) {
		pfd->fd = -1;
		return false;
	}
	n = read(0, &c, 1);
	if (n <= 0)
		pfd->fd = -1;
	return n == 1 && c == '\n';
}

/*
 * Block SIGUSR1 and catch it, from the start: one sent early (during init)
 * stays pending instead of killing us, and is taken inside ppoll.  *old gets
 * the previous mask.
 */
static void arm_usr1(sigset_t *old)
{
	struct sigaction sa = { .sa_handler = on_usr1 };
	sigset_t block;

	sigemptyset(&block);
	sigaddset(&block, SIGUSR1);
	sigprocmask(SIG_BLOCK, &block, old);
	sigaction(SIGUSR1, &sa, NULL);
}

/*
 * Wait for SIGUSR1 or a newline on stdin.  SIGUSR1 is unblocked only inside
 * ppoll, so none is missed between the check of got_usr1 and the sleep.
 */
static void wait_for_go(const sigset_t *old)
{
	struct pollfd pfd = { .fd = 0, .events = POLLIN };
	sigset_t mask = *old;

	printf("paused\t%d\n", (int)getpid());
	fflush(stdout);
	sigdelset(&mask, SIGUSR1);
	while (!got_usr1) {
		if (ppoll(&pfd, 1, NULL, &mask) < 0) {
			if (errno != EINTR)
				die("ppoll: %s", strerror(errno));
			continue;
		}
		if (stdin_newline(&pfd))
			break;
	}
	sigprocmask(SIG_SETMASK, old, NULL);
}

/* ---- threads ----------------------------------------------------------- */

static void run_threads(struct worker *w, unsigned int n, struct run *run,
			void *(*fn)(void *))
{
	for (unsigned int i = 0; i < n; i++) {
		w[i] = (struct worker){ .id = i, .run = run };
		errno = pthread_create(&w[i].tid, NULL, fn, &w[i]);
		if (errno)
			die("pthread_create: %s", strerror(errno));
	}
}

static void join_threads(struct worker *w, unsigned int n)
{
	for (unsigned int i = 0; i < n; i++)
		pthread_join(w[i].tid, NULL);
}

static uint64_t chunk_len(const struct run *run, uint64_t c)
{
	return c == run->nchunks - 1 ? run->last_len : CHUNK;
}

/*
 * Claim the next chunk, or return false when there is none or time is up.
 * A claimed chunk is always run to its end, so the chunks done are exactly
 * [0, final counter), which the replay relies on.
 */
static bool claim(struct run *run, atomic_uint_fast64_t *ctr, uint64_t *c)
{
	if (got_usr2 || (run->deadline && now() >= run->deadline))
		return false;
	*c = atomic_fetch_add_explicit(ctr, 1, memory_order_relaxed);
	return *c < run->nchunks;
}

static inline void update(_Atomic uint64_t *a, uint64_t idx, uint64_t v)
{
	/* relaxed is enough: only the sum matters, and addition commutes */
	atomic_fetch_add_explicit(&a[idx], v, memory_order_relaxed);
}

/*
 * One chunk.  With prefetching, indices are drawn D updates ahead into a
 * ring and their lines prefetched: the locked add waits for its miss, the
 * prefetches let D misses overlap.  The stream drawn is the same either way.
 */
static void update_chunk(struct run *run, uint64_t c, uint64_t len)
{
	const struct gen *g = run->gen;
	unsigned int d = run->o->prefetch, m = d - 1;
	uint64_t base = c << CHUNK_SHIFT, ring[PF_MAX];
	struct rng r;

	rng_seed(&r, g->salt, c);
	if (!d) {
		for (uint64_t i = 0; i < len; i++)
			update(run->a, draw(g, &r), value(g->salt, base + i));
		return;
	}
	for (uint64_t i = 0; i < d && i < len; i++) {
		ring[i] = draw(g, &r);
		__builtin_prefetch((void *)&run->a[ring[i]], 1);
	}
	for (uint64_t i = 0; i < len; i++) {
		uint64_t idx = ring[i & m];

		if (i + d < len) {
			ring[i & m] = draw(g, &r);
			__builtin_prefetch((void *)&run->a[ring[i & m]], 1);
		}
		update(run->a, idx, value(g->salt, base + i));
	}
}

static void *update_worker(void *arg)
{
	struct worker *w = arg;
	struct run *run = w->run;
	uint64_t c;

	while (claim(run, &run->next_chunk, &c)) {
		uint64_t len = chunk_len(run, c);

		update_chunk(run, c, len);
		w->updates += len;
		w->chunks++;
		atomic_fetch_add_explicit(&run->done, len, memory_order_relaxed);
	}
	w->end = now();
	pthread_mutex_lock(&run->lock);
	run->finished++;
	pthread_cond_signal(&run->cond);
	pthread_mutex_unlock(&run->lock);
	return NULL;
}

/* ---- progress ---------------------------------------------------------- */

static void abs_time(struct timespec *ts, double t)
{
	ts->tv_sec = (time_t)t;
	ts->tv_nsec = (long)((t - ts->tv_sec) * 1e9);
	if (ts->tv_nsec >= 1000000000L) {
		ts->tv_sec++;
		ts->tv_nsec -= 1000000000L;
	}
}

/* Sleep until time t or until all workers are done; true if they are. */
static bool wait_workers(struct run *run, unsigned int n, double t)
{
	struct timespec ts;
	bool all;

	abs_time(&ts, t);
	pthread_mutex_lock(&run->lock);
	while (run->finished < n &&
	       pthread_cond_timedwait(&run->cond, &run->lock, &ts) != ETIMEDOUT)
		;
	all = run->finished == n;
	pthread_mutex_unlock(&run->lock);
	return all;
}

/* Print a progress line every --report-ms until the workers are done. */
static void report_progress(struct run *run, unsigned int n, double t0)
{
	double step = run->o->report_ms / 1e3, next = t0 + step, last_t = t0;
	uint64_t last = 0;

	while (!wait_workers(run, n, next)) {
		double t = now();
		uint64_t done = atomic_load_explicit(&run->done, memory_order_relaxed);

		printf("progress\t%.3f\t%llu\t%.2f\n", t - t0, (unsigned long long)done,
		       (done - last) / (t - last_t) / 1e6);
		fflush(stdout);
		last = done;
		last_t = t;
		next += step;
		if (next < t)	/* we overslept: do not print a burst */
			next = t + step;
	}
}

/* Run the update phase; returns its wall time, start to last worker's end. */
static double run_updates(struct run *run, struct worker *w, unsigned int n)
{
	pthread_condattr_t ca;
	double t0, end = 0;

	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&run->cond, &ca);
	pthread_condattr_destroy(&ca);
	pthread_mutex_init(&run->lock, NULL);
	t0 = now();
	if (run->o->duration)
		run->deadline = t0 + run->o->duration;
	run_threads(w, n, run, update_worker);
	if (run->o->report_ms)
		report_progress(run, n, t0);
	join_threads(w, n);
	for (unsigned int i = 0; i < n; i++)
		end = w[i].end > end ? w[i].end : end;
	run->chunks_run = atomic_load(&run->next_chunk);
	if (run->chunks_run > run->nchunks)
		run->chunks_run = run->nchunks;
	return end - t0;
}

/* ---- verification ------------------------------------------------------ */

/* This worker's slice [lo, hi) of n elements. */
static void slice(uint64_t n, unsigned int id, unsigned int nw, uint64_t *lo, uint64_t *hi)
{
	*lo = (uint64_t)((u128)n * id / nw);
	*hi = (uint64_t)((u128)n * (id + 1) / nw);
}

/* sum_j a[j] w(j) over this worker's slice: the checksum of the array. */
static void *checksum_worker(void *arg)
{
	struct worker *w = arg;
	uint64_t lo, hi, s = 0;

	slice(w->run->gen->nelem, w->id, w->run->o->threads, &lo, &hi);
	for (uint64_t j = lo; j < hi; j++)
		s += atomic_load_explicit(&w->run->a[j], memory_order_relaxed) * weight(j);
	w->sum = s;
	return NULL;
}

/* The expected checksum of one chunk's updates, replayed without the array. */
static void replay_chunk(struct worker *w, uint64_t c)
{
	const struct run *run = w->run;
	const struct gen *g = run->gen;
	uint64_t base = c << CHUNK_SHIFT, len = chunk_len(run, c);
	struct rng r;

	rng_seed(&r, g->salt, c);
	for (uint64_t i = 0; i < len; i++) {
		uint64_t idx = draw(g, &r);

		w->sum += value(g->salt, base + i) * weight(idx);
		w->hot += idx >= run->watch_lo && idx < run->watch_hi;
	}
}

/* Expected: the initial contents' share (a slice) plus the chunks it claims. */
static void *replay_worker(void *arg)
{
	struct worker *w = arg;
	struct run *run = w->run;
	uint64_t lo, hi, c;

	slice(run->gen->nelem, w->id, run->o->threads, &lo, &hi);
	for (uint64_t j = lo; j < hi; j++)
		w->sum += j * weight(j);
	while ((c = atomic_fetch_add_explicit(&run->replay_chunk, 1,
					      memory_order_relaxed)) < run->chunks_run)
		replay_chunk(w, c);
	return NULL;
}

/* Run fn on every thread and add up their sums (mod 2^64) and hot counts. */
static uint64_t sum_threads(struct run *run, struct worker *w, void *(*fn)(void *),
			    uint64_t *hot)
{
	unsigned int n = run->o->threads;
	uint64_t s = 0, h = 0;

	run_threads(w, n, run, fn);
	join_threads(w, n);
	for (unsigned int i = 0; i < n; i++) {
		s += w[i].sum;
		h += w[i].hot;
	}
	if (hot)
		*hot = h;
	return s;
}

/* ---- output ------------------------------------------------------------ */

static double mups(uint64_t n, double secs)
{
	return secs > 0 ? n / secs / 1e6 : 0;
}

static void print_setup(const struct opts *o, const struct run *run)
{
	const struct gen *g = run->gen;
	uint64_t lo, hi;

	printf("gups: %s, %llu MiB = %llu u64 elements, %u threads, seed %llu, "
	       "%llu updates per chunk\n", pattern_name[o->pattern],
	       (unsigned long long)o->size_mib, (unsigned long long)g->nelem,
	       (unsigned int)o->threads, (unsigned long long)o->seed, CHUNK);
	printf("gups: array %#lx %#lx\n", (unsigned long)(uintptr_t)run->a,
	       (unsigned long)(uintptr_t)(run->a + g->nelem));
	hot_range(g, &lo, &hi);
	if (o->pattern == PAT_HOTSET)
		printf("gups: hot region %#lx %#lx (%.2f MiB at %llu MiB), %.2f%% of updates\n",
		       (unsigned long)(uintptr_t)&run->a[lo],
		       (unsigned long)(uintptr_t)&run->a[hi], (hi - lo) * 8 / 1048576.0,
		       (unsigned long long)o->hot_offset_mib, o->hot_frac);
	if (o->pattern == PAT_ZIPF)
		printf("gups: zipf s=%.3f over %u buckets of %.1f KiB; hottest bucket %#lx %#lx\n",
		       o->zipf_s, g->nbuckets, g->nelem * 8.0 / g->nbuckets / 1024,
		       (unsigned long)(uintptr_t)&run->a[lo],
		       (unsigned long)(uintptr_t)&run->a[hi]);
}

static void print_threads(const struct worker *w, unsigned int n)
{
	printf("gups: per thread (updates/chunks):");
	for (unsigned int i = 0; i < n; i++)
		printf(" %llu/%llu", (unsigned long long)w[i].updates,
		       (unsigned long long)w[i].chunks);
	printf("\n");
}

static uint64_t total_updates(const struct worker *w, unsigned int n)
{
	uint64_t t = 0;

	for (unsigned int i = 0; i < n; i++)
		t += w[i].updates;
	return t;
}

/* ---- main -------------------------------------------------------------- */

/* How many chunks -n (or -d alone: no limit) allows, and the last one's length. */
static void plan_chunks(struct run *run, const struct opts *o, uint64_t nelem)
{
	uint64_t n = o->has_updates ? o->updates : 4 * nelem;

	if (o->duration && !o->has_updates) {
		run->nchunks = UINT64_MAX >> CHUNK_SHIFT;
		run->last_len = CHUNK;
		return;
	}
	run->nchunks = (n + CHUNK - 1) >> CHUNK_SHIFT;
	run->last_len = n - ((run->nchunks - 1) << CHUNK_SHIFT);
}

/* Map, describe and fill the array; the hot range is known from here on. */
static void prepare_array(struct run *run)
{
	const struct opts *o = run->o;
	double t;

	run->a = map_array(o->size_mib << 20);
	print_setup(o, run);
	t = now();
	init_array(run->a, run->gen->nelem);
	printf("gups: init %.3f s\n", now() - t);
	if (o->hot_addr_file)
		write_hot_addr_file(o->hot_addr_file, run->a, run->gen);
	fflush(stdout);
}

/* Check the array against the replay; returns the verify column's word. */
static const char *verify(struct run *run, struct worker *w)
{
	const struct opts *o = run->o;
	uint64_t got, want = 0, hot = 0, n = total_updates(w, o->threads);

	if (o->corrupt)	/* one bit of one element: the smallest damage */
		atomic_fetch_xor(&run->a[run->gen->nelem / 2], 1);
	got = sum_threads(run, w, checksum_worker, NULL);
	printf("gups: checksum %#llx\n", (unsigned long long)got);
	if (o->verify || o->count_hot)
		want = sum_threads(run, w, replay_worker, &hot);
	if (o->count_hot)
		printf("gups: hot: %llu of %llu updates (%.2f%%) in the hot range\n",
		       (unsigned long long)hot, (unsigned long long)n,
		       n ? 100.0 * hot / n : 0);
	if (!o->verify)
		return "off";
	if (got == want) {
		printf("verify: ok\n");
		return "ok";
	}
	printf("verify: FAILED expected %#llx got %#llx\n", (unsigned long long)want,
	       (unsigned long long)got);
	return "FAILED";
}

/* The machine-readable result: the last line of the output. */
static void print_tsv(const struct opts *o, uint64_t n, double secs, const char *ok)
{
	printf("gups\t%s\t%llu\t%u\t%llu\t%.6f\t%.3f\t%s\n", pattern_name[o->pattern],
	       (unsigned long long)o->size_mib, (unsigned int)o->threads,
	       (unsigned long long)n, secs, mups(n, secs), ok);
}

int main(int argc, char **argv)
{
	struct opts o;
	struct gen g;
	struct run run = { .o = &o, .gen = &g };
	struct worker *w;
	sigset_t mask;
	const char *ok;
	uint64_t n;
	double secs;

	parse_opts(&o, argc, argv);
	arm_usr2();
	if (o.pause)
		arm_usr1(&mask);
	setup_gen(&g, &o);
	plan_chunks(&run, &o, g.nelem);
	hot_range(&g, &run.watch_lo, &run.watch_hi);
	w = xcalloc(o.threads, sizeof(*w));
	prepare_array(&run);
	if (o.pause)
		wait_for_go(&mask);
	secs = run_updates(&run, w, o.threads);
	n = total_updates(w, o.threads);
	printf("gups: %llu updates in %.3f s: %.2f MUPS\n", (unsigned long long)n,
	       secs, mups(n, secs));
	print_threads(w, o.threads);
	ok = verify(&run, w);
	print_tsv(&o, n, secs, ok);
	munmap(run.a, o.size_mib << 20);
	free(w);
	free_gen(&g);
	return strcmp(ok, "FAILED") ? 0 : 1;
}
