// SPDX-License-Identifier: GPL-2.0
/*
 * hp-inject: feed HyperPlace PEBS-like samples of a process through
 * /sys/kernel/debug/hyperplace/inject (CONFIG_HYPERPLACE_DEBUG).
 *
 *   hp-inject PID START END HOT_START HOT_END RATE HOT_PCT
 *
 * Every 50 ms it writes RATE/20 samples of PID: HOT_PCT percent at
 * uniformly random addresses of [HOT_START, HOT_END), the rest uniformly
 * over [START, END) (hexadecimal addresses).  That is what a PEBS sampler
 * would see of a GUPS hotset run, so it stands in for PEBS on machines
 * without it, for benchmarks only.  It stops when PID exits.
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

int main(int argc, char **argv)
{
	unsigned long start, end, hs, he, rate, hot, per;
	static char buf[MAX_LINES * 40];
	struct timespec next;
	bool written = false;
	int pid, fd;

	if (argc != 8) {
		fprintf(stderr, "usage: hp-inject PID START END HOT_START HOT_END RATE HOT_PCT\n");
		return 2;
	}
	pid = arg(argv[1], 10);
	start = arg(argv[2], 16);
	end = arg(argv[3], 16);
	hs = arg(argv[4], 16);
	he = arg(argv[5], 16);
	rate = arg(argv[6], 10);
	hot = arg(argv[7], 10);
	per = rate * PERIOD_MS / 1000;
	if (start >= end || hs >= he || hs < start || he > end || hot > 100 ||
	    !per || per > MAX_LINES) {
		fprintf(stderr, "hp-inject: bad ranges, rate (20..%d) or percentage\n",
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
					  pick(hs, he) : pick(start, end);

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
