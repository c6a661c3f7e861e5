// SPDX-License-Identifier: GPL-2.0
/*
 * pingpong: what a context switch between two processes costs.
 *
 *   pingpong [ROUND_TRIPS [CPU]]
 *
 * A parent and a child, both pinned to CPU (default 0), pass one byte
 * back and forth through two pipes ROUND_TRIPS times (default 20000):
 * each round trip is two switches from one mm to the other, so the
 * PEBS drain at sched-out and anything else on the switch path is in
 * the figure.  Prints "round_trips N ns_per_switch X".  Built static, runs
 * in the test guest.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static long parse(const char *s, const char *what, long min)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 0);
	if (errno || *end || v < min) {
		fprintf(stderr, "pingpong: bad %s '%s'\n", what, s);
		exit(2);
	}
	return v;
}

/* Pass the byte on @n times: read from @in, write to @out. */
static int relay(int in, int out, long n, int first)
{
	char c = 0;

	while (n--) {
		if (first && write(out, &c, 1) != 1)
			return -1;
		if (read(in, &c, 1) != 1)
			return -1;
		if (!first && write(out, &c, 1) != 1)
			return -1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	long trips = argc > 1 ? parse(argv[1], "round trip count", 1) : 20000;
	long cpu = argc > 2 ? parse(argv[2], "CPU", 0) : 0;
	int ping[2], pong[2], status;
	cpu_set_t set;
	double t0, t1;
	pid_t child;

	if (argc > 3) {
		fprintf(stderr, "usage: pingpong [ROUND_TRIPS [CPU]]\n");
		return 2;
	}
	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	if (sched_setaffinity(0, sizeof(set), &set)) {
		perror("pingpong: sched_setaffinity");
		return 1;
	}
	if (pipe(ping) || pipe(pong)) {
		perror("pingpong: pipe");
		return 1;
	}
	child = fork();
	if (child < 0) {
		perror("pingpong: fork");
		return 1;
	}
	if (!child)
		_exit(relay(ping[0], pong[1], trips, 0) ? 1 : 0);
	t0 = now();
	if (relay(pong[0], ping[1], trips, 1)) {
		perror("pingpong: pipe i/o");
		return 1;
	}
	t1 = now();
	if (waitpid(child, &status, 0) != child || !WIFEXITED(status) ||
	    WEXITSTATUS(status)) {
		fprintf(stderr, "pingpong: the child failed\n");
		return 1;
	}
	printf("round_trips %ld ns_per_switch %.0f\n", trips,
	       (t1 - t0) * 1e9 / (2.0 * trips));
	return 0;
}
