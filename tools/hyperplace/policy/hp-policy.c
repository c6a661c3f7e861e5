// SPDX-License-Identifier: GPL-2.0
/*
 * hp-policy: run a program under a HyperPlace placement policy, or churn
 * the policy of a process that holds data (for the stress test).
 *
 *   hp-policy default|exclude|include PROG [ARG...]
 *	set this process's policy (PR_SET_HYPERPLACE; kept across exec)
 *	and exec PROG
 *   hp-policy flip ROUNDS MIB
 *	fill MIB MiB, then ROUNDS times, 2 ms apart, set each policy in
 *	turn and read it back (PR_GET_HYPERPLACE), touching the memory
 *	between, so that sampling and placement run meanwhile; finally
 *	check every page
 *
 * Exit: PROG's status; for flip 0, or 1 if a policy did not read back or
 * a page changed; 2 on bad arguments or a refused prctl.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>	/* PR_*_HYPERPLACE: this kernel's uapi headers */
#include <unistd.h>

static const char *const policy_names[] = {
	[PR_HYPERPLACE_DEFAULT] = "default",
	[PR_HYPERPLACE_EXCLUDE] = "exclude",
	[PR_HYPERPLACE_INCLUDE] = "include",
};

#define NR_POLICIES	(sizeof(policy_names) / sizeof(policy_names[0]))
#define PAGE_WORDS	(4096 / sizeof(uint64_t))

static int policy_of(const char *name)
{
	unsigned int i;

	for (i = 0; i < NR_POLICIES; i++)
		if (!strcmp(name, policy_names[i]))
			return i;
	return -1;
}

/* A word per page that names the page: any move that loses data shows. */
static uint64_t page_word(size_t page)
{
	return page * 0x9e3779b97f4a7c15ULL + 1;
}

static int flip(unsigned long rounds, unsigned long mib)
{
	size_t pages = (mib << 20) / 4096, i;
	unsigned long r;
	uint64_t *buf;
	long got;
	int bad = 0;

	buf = mmap(NULL, mib << 20, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (buf == MAP_FAILED) {
		perror("mmap");
		return 2;
	}
	for (i = 0; i < pages; i++)
		buf[i * PAGE_WORDS] = page_word(i);
	for (r = 0; r < rounds; r++) {
		int want = r % NR_POLICIES;

		if (prctl(PR_SET_HYPERPLACE, want, 0, 0, 0)) {
			perror("PR_SET_HYPERPLACE");
			return 2;
		}
		got = prctl(PR_GET_HYPERPLACE, 0, 0, 0, 0);
		if (got != want) {
			fprintf(stderr, "round %lu: set %s, read back %ld\n",
				r, policy_names[want], got);
			bad = 1;
		}
		/* Touch pages, so that samples keep coming. */
		for (i = 0; i < pages; i += 1 + r % 7)
			buf[i * PAGE_WORDS + 1]++;
		usleep(2000);
	}
	for (i = 0; i < pages; i++)
		if (buf[i * PAGE_WORDS] != page_word(i)) {
			fprintf(stderr, "page %zu changed\n", i);
			bad = 1;
		}
	return bad;
}

int main(int argc, char **argv)
{
	int policy;

	if (argc == 4 && !strcmp(argv[1], "flip"))
		return flip(strtoul(argv[2], NULL, 0),
			    strtoul(argv[3], NULL, 0));
	policy = argc >= 3 ? policy_of(argv[1]) : -1;
	if (policy < 0) {
		fprintf(stderr, "usage: hp-policy default|exclude|include PROG [ARG...]\n"
			"       hp-policy flip ROUNDS MIB\n");
		return 2;
	}
	if (prctl(PR_SET_HYPERPLACE, policy, 0, 0, 0)) {
		fprintf(stderr, "hp-policy: PR_SET_HYPERPLACE %s: %s\n",
			argv[1], strerror(errno));
		return 2;
	}
	execvp(argv[2], argv + 2);
	fprintf(stderr, "hp-policy: %s: %s\n", argv[2], strerror(errno));
	return 127;
}
