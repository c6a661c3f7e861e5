// SPDX-License-Identifier: GPL-2.0
/*
 * Cost of the classifier per sample: hp_space_record() plus the epoch and
 * ranking amortized over the samples of an epoch.  Not a test (no
 * thresholds); "make bench" builds it optimized, without sanitizers.
 *
 *   range-bench [samples] [samples-per-epoch] [scatter]
 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include "range.h"

#define BASE	0x7f0000000000UL
#define SIZE	(256UL << 20)
#define HOT	(32UL << 20)

static unsigned long long now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

static u64 next(u64 *x)
{
	*x ^= *x >> 12;
	*x ^= *x << 25;
	*x ^= *x >> 27;
	return *x * 0x2545f4914f6cdd1dULL;
}

int main(int argc, char **argv)
{
	unsigned long n = argc > 1 ? strtoul(argv[1], NULL, 0) : 20000000;
	unsigned long per = argc > 2 ? strtoul(argv[2], NULL, 0) : 2000;
	int scatter = argc > 3 && atoi(argv[3]);
	struct hp_decision dec[256];
	struct hp_space *s = hp_space_create(NULL);
	unsigned long i, addr, *addrs;
	unsigned long long t0, t1, te, ep = 0;
	u64 x = 88172645463325252ULL;

	if (IS_ERR(s) || hp_space_map(s, BASE, BASE + SIZE))
		return 1;
	/* Pre-compute addresses so that only the classifier is timed. */
	addrs = malloc(n * sizeof(*addrs));
	if (!addrs)
		return 1;
	for (i = 0; i < n; i++) {
		u64 r = next(&x);

		if (r % 10 == 9)
			addr = BASE + (r >> 8) % SIZE;
		else if (scatter)	/* 32 hot MiB, one every 8 MiB */
			addr = BASE + ((r >> 8) % 32) * (8UL << 20) +
			       (r >> 24) % (1UL << 20);
		else
			addr = BASE + (96UL << 20) + (r >> 8) % HOT;
		addrs[i] = addr;
	}
	t0 = now_ns();
	for (i = 0; i < n; i++) {
		hp_space_record(s, addrs[i], 1);
		if (i % per == per - 1) {
			te = now_ns();
			hp_space_epoch(s);
			hp_rank(&s, 1, 16384, NULL, dec, 256, NULL);
			ep += now_ns() - te;
		}
	}
	t1 = now_ns();
	printf("%lu samples, epoch every %lu: %.1f ns/sample "
	       "(epoch+rank %.1f), R=%u splits=%llu merges=%llu\n",
	       n, per, (double)(t1 - t0) / n, (double)ep / n,
	       hp_space_nr_ranges(s),
	       (unsigned long long)hp_space_get_stats(s)->splits,
	       (unsigned long long)hp_space_get_stats(s)->merges);
	hp_space_destroy(s);
	free(addrs);
	return 0;
}
