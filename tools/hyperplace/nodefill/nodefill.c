// SPDX-License-Identifier: GPL-2.0
/*
 * nodefill: write MIB mebibytes of anonymous memory bound to one NUMA
 * node, then give it back (or hold it).
 *
 *   nodefill NODE|any MIB [SECONDS|wait]
 *
 * Used by the HyperFlex tests: a page the guest never wrote is not
 * resident on the host, so a balloon taking it frees nothing there.
 * Writing the node's free memory first makes the host's RSS show what a
 * balloon gives back.  "any" binds to no node.  With SECONDS, holds the
 * memory that long before exiting (a workload that needs memory).  With
 * "wait", prints "holding MIB" once the memory is written and holds it
 * until SIGUSR1 (data kept across what a test does meanwhile).  Prints
 * "filled MIB node NODE sum CHECKSUM" after checking every page still
 * holds what was written.
 * Static and dependency-free so that it runs in the busybox test guest.
 * Exit: 0, 1 if mmap/mbind failed or the data changed, 2 for bad arguments.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#define MPOL_BIND_MODE	2	/* MPOL_BIND, without <numaif.h> */

static unsigned long parse(const char *s)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || end == s || *end) {
		fprintf(stderr, "nodefill: bad number '%s'\n", s);
		exit(2);
	}
	return v;
}

/* A value per page that depends on its index, so a lost page shows. */
static uint64_t pattern(size_t page)
{
	return (page + 1) * 0x9e3779b97f4a7c15ULL;
}

/* Block until SIGUSR1 arrives; it was blocked before the fill. */
static int wait_for_usr1(unsigned long mib)
{
	sigset_t set;
	int sig;

	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	printf("holding %lu\n", mib);
	fflush(stdout);
	if (sigwait(&set, &sig)) {
		fprintf(stderr, "nodefill: sigwait failed\n");
		return -1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	unsigned long node, mib, secs = 0, mask[16] = { 0 };
	size_t len, pages, page, psz = sysconf(_SC_PAGESIZE);
	bool any, hold = false;
	uint64_t sum = 0;
	sigset_t usr1;
	char *p;

	if (argc < 3 || argc > 4) {
		fprintf(stderr, "usage: nodefill NODE|any MIB [SECONDS|wait]\n");
		return 2;
	}
	any = !strcmp(argv[1], "any");
	node = any ? 0 : parse(argv[1]);
	mib = parse(argv[2]);
	if (argc == 4 && !strcmp(argv[3], "wait"))
		hold = true;
	else if (argc == 4)
		secs = parse(argv[3]);
	/* Blocked from the start, so an early SIGUSR1 waits for sigwait(). */
	sigemptyset(&usr1);
	sigaddset(&usr1, SIGUSR1);
	sigprocmask(SIG_BLOCK, &usr1, NULL);
	if (node >= sizeof(mask) * 8 || !mib) {
		fprintf(stderr, "nodefill: node or size out of range\n");
		return 2;
	}
	len = mib << 20;
	pages = len / psz;
	p = mmap(NULL, len, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED) {
		perror("nodefill: mmap");
		return 1;
	}
	mask[node / 64] = 1UL << (node % 64);
	if (!any && syscall(SYS_mbind, p, len, MPOL_BIND_MODE, mask,
			    sizeof(mask) * 8, 0)) {
		perror("nodefill: mbind");
		return 1;
	}
	for (page = 0; page < pages; page++)
		*(uint64_t *)(p + page * psz) = pattern(page);
	if (secs)
		sleep(secs);
	if (hold && wait_for_usr1(mib))
		return 1;
	for (page = 0; page < pages; page++) {
		uint64_t v = *(uint64_t *)(p + page * psz);

		if (v != pattern(page)) {
			fprintf(stderr, "nodefill: page %zu changed\n", page);
			return 1;
		}
		sum += v;
	}
	printf("filled %lu node %s sum %016llx\n", mib, argv[1],
	       (unsigned long long)sum);
	munmap(p, len);
	return 0;
}
