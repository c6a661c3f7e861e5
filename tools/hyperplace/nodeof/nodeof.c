// SPDX-License-Identifier: GPL-2.0
/*
 * nodeof: where the pages of a virtual address range of a process are.
 *
 *   nodeof PID START END      (hexadecimal addresses, END excluded)
 *   nodeof PID -f FILE        (FILE holds "START END", as gups
 *                              --hot-addr-file writes it)
 *
 * Prints one TSV line:  pages<TAB>present<TAB>node0<TAB>node1...
 * with the pages of the range, those with a page behind them, and of
 * those the pages on each node (up to the highest node that has any).
 * It asks move_pages(2) with no target nodes, which moves nothing.
 * Static and dependency-free so that it runs in the busybox test guest.
 * Exit: 0, 1 if the query failed, 2 for bad arguments.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#define MAX_NODES	64
#define BATCH		4096

static void usage(void)
{
	fprintf(stderr, "usage: nodeof PID START END | nodeof PID -f FILE\n");
	exit(2);
}

static unsigned long parse(const char *s, int base)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, base);
	if (errno || end == s || *end)
		usage();
	return v;
}

int main(int argc, char **argv)
{
	static void *pages[BATCH];
	static int status[BATCH];
	unsigned long count[MAX_NODES] = { 0 };
	unsigned long start, end, addr, total = 0, present = 0;
	int pid, top = 0, i;
	long page = sysconf(_SC_PAGESIZE);

	if (argc != 4)
		usage();
	pid = parse(argv[1], 10);
	if (!strcmp(argv[2], "-f")) {
		FILE *f = fopen(argv[3], "r");

		if (!f || fscanf(f, "%lx %lx", &start, &end) != 2) {
			fprintf(stderr, "nodeof: %s: no \"START END\"\n", argv[3]);
			return 2;
		}
		fclose(f);
	} else {
		start = parse(argv[2], 16);
		end = parse(argv[3], 16);
	}
	if (start >= end || start % page || end % page) {
		fprintf(stderr, "nodeof: bad range %#lx-%#lx\n", start, end);
		return 2;
	}
	for (addr = start; addr < end; ) {
		unsigned long n = 0, k;

		for (; addr < end && n < BATCH; addr += page)
			pages[n++] = (void *)addr;
		if (syscall(SYS_move_pages, pid, n, pages, NULL, status, 0)) {
			fprintf(stderr, "nodeof: move_pages: %s\n", strerror(errno));
			return 1;
		}
		total += n;
		for (k = 0; k < n; k++) {
			if (status[k] < 0 || status[k] >= MAX_NODES)
				continue;
			present++;
			count[status[k]]++;
			if (status[k] > top)
				top = status[k];
		}
	}
	printf("%lu\t%lu", total, present);
	for (i = 0; i <= top; i++)
		printf("\t%lu", count[i]);
	printf("\n");
	return 0;
}
