// SPDX-License-Identifier: GPL-2.0
/*
 * membind: run a program with its memory bound to one NUMA node.
 *
 *   membind NODE PROGRAM [ARG...]
 *
 * Sets MPOL_BIND to NODE with set_mempolicy(2), which fork and exec
 * inherit, then execs PROGRAM.  numactl --membind does the same; the
 * busybox test guest has no numactl.  Static and dependency-free.
 * Exit: PROGRAM's status, 1 if the policy or the exec failed, 2 for bad
 * arguments.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#define MAX_NODES	64
#define MPOL_BIND_MODE	2

int main(int argc, char **argv)
{
	unsigned long mask[MAX_NODES / 64] = { 0 };
	unsigned long node;
	char *end;

	if (argc < 3) {
		fprintf(stderr, "usage: membind NODE PROGRAM [ARG...]\n");
		return 2;
	}
	errno = 0;
	node = strtoul(argv[1], &end, 10);
	if (errno || *end || end == argv[1] || node >= MAX_NODES) {
		fprintf(stderr, "membind: bad node '%s' (0..%d)\n", argv[1],
			MAX_NODES - 1);
		return 2;
	}
	mask[node / 64] = 1UL << (node % 64);
	if (syscall(SYS_set_mempolicy, MPOL_BIND_MODE, mask,
		    (unsigned long)MAX_NODES + 1)) {
		fprintf(stderr, "membind: set_mempolicy(MPOL_BIND, node %lu): %s\n",
			node, strerror(errno));
		return 1;
	}
	execvp(argv[2], argv + 2);
	fprintf(stderr, "membind: %s: %s\n", argv[2], strerror(errno));
	return 1;
}
