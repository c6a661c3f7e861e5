// SPDX-License-Identifier: GPL-2.0
/*
 * hp-inject: feed HyperPlace PEBS-like samples of a process through
 * /sys/kernel/debug/hyperplace/inject (CONFIG_HYPERPLACE_DEBUG).
 *
 *   hp-inject PID START END HOT_START HOT_END RATE HOT_PCT
 *   hp-inject PID START END -f FILE RATE HOT_PCT
 *
 * Every 50 ms it writes RATE/20 samples of PID: HOT_PCT percent at
 * uniformly random addresses of [HOT_START, HOT_END), the rest uniformly
 * over [START, END) (hexadecimal addresses).  That is what a PEBS sampler
 * would see of a GUPS hotset run, so it stands in for PEBS on machines
 * without it, for benchmarks only.  With -f the hot data is the ranges
 * of FILE ("START END" lines, as nodeof -p prints them), each sampled in
 * proportion to its size.  It stops when PID exits.
 * Exit: 0 when PID is gone, 1 on a write error, 2 for bad arguments.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define INJECT		"/sys/kernel/debug/hyperplace/inject"
#define PERIOD_MS	50
#define MAX_LINES	1024	/* the most one write may carry */

static uint64_t rng = 0x9e3779b97f4a7c15ULL;

static uint64_t next_rand(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

static unsigned long arg(const char *s, int base)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, base);
	if (errno || end == s || *end) {
		fprintf(stderr, "hp-inject: bad number '%s'\n", s);
		exit(2);
	}
	return v;
}

static unsigned long pick(unsigned long lo, unsigned long hi)
{
	return (lo + next_rand() % (hi - lo)) & ~7UL;
}

/* The hot data: ranges, and how many bytes they hold in all. */
#define MAX_HOT		4096
static struct { unsigned long start, end; } hot_r[MAX_HOT];
static unsigned int nr_hot;
static unsigned long hot_bytes;

static bool read_hot(const char *name, unsigned long start, unsigned long end)
{
	FILE *f = fopen(name, "r");
	unsigned long s, e;
	bool ok = f;

	while (ok && fscanf(f, "%lx %lx", &s, &e) == 2) {
		ok = nr_hot < MAX_HOT && s < e && s >= start && e <= end;
		if (!ok)
			break;
		hot_r[nr_hot].start = s;
		hot_r[nr_hot++].end = e;
		hot_bytes += e - s;
	}
	if (f)
		fclose(f);
	return ok && nr_hot;
}

/* A random address of the hot data, any byte as likely as any other. */
static unsigned long pick_hot(void)
{
	unsigned long off = next_rand() % hot_bytes;
	unsigned int i;

	for (i = 0; off >= hot_r[i].end - hot_r[i].start; i++)
		off -= hot_r[i].end - hot_r[i].start;
	return (hot_r[i].start + off) & ~7UL;
}

int main(int argc, char **argv)
{
	unsigned long start, end, hs, he, rate, hot, per;
	static char buf[MAX_LINES * 40];
	struct timespec next;
	bool written = false;
	int pid, fd;

	if (argc != 8) {
		fprintf(stderr, "usage: hp-inject PID START END {HOT_START HOT_END | -f FILE} RATE HOT_PCT\n");
		return 2;
	}
	pid = arg(argv[1], 10);
	start = arg(argv[2], 16);
	end = arg(argv[3], 16);
	rate = arg(argv[6], 10);
	hot = arg(argv[7], 10);
	per = rate * PERIOD_MS / 1000;
	if (!strcmp(argv[4], "-f")) {
		if (start >= end || !read_hot(argv[5], start, end)) {
			fprintf(stderr, "hp-inject: %s: no ranges, or not all in START-END\n",
				argv[5]);
			return 2;
		}
	} else {
		hs = arg(argv[4], 16);
		he = arg(argv[5], 16);
		if (start >= end || hs >= he || hs < start || he > end) {
			fprintf(stderr, "hp-inject: bad ranges\n");
			return 2;
		}
		hot_r[0].start = hs;
		hot_r[0].end = he;
		nr_hot = 1;
		hot_bytes = he - hs;
	}
	if (hot > 100 || !per || per > MAX_LINES) {
		fprintf(stderr, "hp-inject: bad rate (20..%d) or percentage\n",
			MAX_LINES * 1000 / PERIOD_MS);
		return 2;
	}
	fd = open(INJECT, O_WRONLY);
	if (fd < 0) {
		fprintf(stderr, "hp-inject: %s: %s\n", INJECT, strerror(errno));
		return 1;
	}
	rng ^= (uint64_t)pid << 32;
	clock_gettime(CLOCK_MONOTONIC, &next);
	while (kill(pid, 0) == 0) {
		size_t len = 0;
		unsigned long i;

		for (i = 0; i < per; i++) {
			unsigned long a = next_rand() % 100 < hot ?
					  pick_hot() : pick(start, end);

			len += sprintf(buf + len, "%d %#lx any\n", pid, a);
		}
		if (write(fd, buf, len) != (ssize_t)len) {
			/* The process is gone, or exiting (it has no mm). */
			if (errno == ESRCH || (errno == EINVAL && written))
				break;
			fprintf(stderr, "hp-inject: write: %s\n", strerror(errno));
			return 1;
		}
		written = true;
		next.tv_nsec += PERIOD_MS * 1000000L;
		if (next.tv_nsec >= 1000000000L) {
			next.tv_sec++;
			next.tv_nsec -= 1000000000L;
		}
		clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &next, NULL);
	}
	return 0;
}
