// SPDX-License-Identifier: GPL-2.0
/*
 * nodeof: where the pages of a virtual address range of a process are.
 *
 *   nodeof PID START END      (hexadecimal addresses, END excluded)
 *   nodeof PID -f FILE        (FILE holds "START END" lines, as gups
 *                              --hot-addr-file and -p write them; the
 *                              counts of all its ranges are added up)
 *
 * Prints one TSV line:  pages<TAB>present<TAB>node0<TAB>node1...
 * with the pages of the range, those with a page behind them, and of
 * those the pages on each node (up to the highest node that has any).
 *
 *   nodeof -p PID [-x FILE]
 *
 * Prints the runs of present pages of PID's private writable mappings as
 * "START END" lines, leaving out the pages in FILE's ranges (a list -p
 * printed before): the memory a program wrote between the two calls.
 *
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

struct range {
	unsigned long start, end;
};

static long page;

static void usage(void)
{
	fprintf(stderr, "usage: nodeof PID START END | nodeof PID -f FILE | nodeof -p PID [-x FILE]\n");
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

/* The "START END" lines of @name, in *@r; returns how many, exits if none. */
static size_t read_ranges(const char *name, struct range **r)
{
	FILE *f = fopen(name, "r");
	size_t n = 0, cap = 0;
	unsigned long s, e;

	*r = NULL;
	while (f && fscanf(f, "%lx %lx", &s, &e) == 2) {
		if (s >= e || s % page || e % page) {
			fprintf(stderr, "nodeof: %s: bad range %#lx-%#lx\n", name, s, e);
			exit(2);
		}
		if (n == cap) {
			cap = cap ? 2 * cap : 64;
			*r = realloc(*r, cap * sizeof(**r));
			if (!*r) {
				perror("nodeof");
				exit(1);
			}
		}
		(*r)[n].start = s;
		(*r)[n++].end = e;
	}
	if (f)
		fclose(f);
	if (!n) {
		fprintf(stderr, "nodeof: %s: no \"START END\"\n", name);
		exit(2);
	}
	return n;
}

/*
 * Where each page of [start, end) is: calls @fn(addr, node) for each page,
 * node < 0 for a page with nothing behind it.
 */
static void query(int pid, unsigned long start, unsigned long end,
		  void (*fn)(unsigned long addr, int node, void *arg), void *arg)
{
	static void *pages[BATCH];
	static int status[BATCH];
	unsigned long addr, n, k;

	for (addr = start; addr < end; ) {
		for (n = 0; addr < end && n < BATCH; addr += page)
			pages[n++] = (void *)addr;
		if (syscall(SYS_move_pages, pid, n, pages, NULL, status, 0)) {
			fprintf(stderr, "nodeof: move_pages: %s\n", strerror(errno));
			exit(1);
		}
		for (k = 0; k < n; k++)
			fn((unsigned long)pages[k], status[k], arg);
	}
}

struct counts {
	unsigned long total, present, node[MAX_NODES];
	int top;
};

static void count(unsigned long addr, int node, void *arg)
{
	struct counts *c = arg;

	(void)addr;
	c->total++;
	if (node < 0 || node >= MAX_NODES)
		return;
	c->present++;
	c->node[node]++;
	if (node > c->top)
		c->top = node;
}

/* -p: runs of present pages, without those in the sorted ranges @x. */
struct runs {
	const struct range *x;
	size_t nx, i;
	unsigned long start, end;	/* the run being built */
};

static void flush(struct runs *r)
{
	if (r->end > r->start)
		printf("%lx %lx\n", r->start, r->end);
	r->start = r->end = 0;
}

static void run(unsigned long addr, int node, void *arg)
{
	struct runs *r = arg;

	while (r->i < r->nx && r->x[r->i].end <= addr)
		r->i++;
	if (node < 0 || (r->i < r->nx && r->x[r->i].start <= addr)) {
		flush(r);
		return;
	}
	if (addr != r->end) {
		flush(r);
		r->start = addr;
	}
	r->end = addr + page;
}

static int by_start(const void *a, const void *b)
{
	const struct range *x = a, *y = b;

	return x->start < y->start ? -1 : x->start > y->start;
}

static int present_runs(int pid, const char *xfile)
{
	struct runs r = { 0 };
	struct range *x = NULL;
	char path[64], line[512], perm[8];
	unsigned long s, e;
	FILE *maps;

	if (xfile) {
		r.nx = read_ranges(xfile, &x);
		qsort(x, r.nx, sizeof(*x), by_start);
		r.x = x;
	}
	snprintf(path, sizeof(path), "/proc/%d/maps", pid);
	maps = fopen(path, "r");
	if (!maps) {
		perror(path);
		return 1;
	}
	/* Maps are in address order, so the ranges of @x are passed once. */
	while (fgets(line, sizeof(line), maps)) {
		if (sscanf(line, "%lx-%lx %7s", &s, &e, perm) != 3 ||
		    perm[1] != 'w' || perm[3] != 'p')
			continue;
		query(pid, s, e, run, &r);
		flush(&r);
	}
	fclose(maps);
	free(x);
	return 0;
}

int main(int argc, char **argv)
{
	struct counts c = { 0 };
	struct range one, *r = &one;
	size_t n = 1, i;
	int pid, node;

	page = sysconf(_SC_PAGESIZE);
	if (argc >= 3 && !strcmp(argv[1], "-p")) {
		if (argc != 3 && (argc != 5 || strcmp(argv[3], "-x")))
			usage();
		return present_runs(parse(argv[2], 10), argc == 5 ? argv[4] : NULL);
	}
	if (argc != 4)
		usage();
	pid = parse(argv[1], 10);
	if (!strcmp(argv[2], "-f")) {
		n = read_ranges(argv[3], &r);
	} else {
		one.start = parse(argv[2], 16);
		one.end = parse(argv[3], 16);
		if (one.start >= one.end || one.start % page || one.end % page) {
			fprintf(stderr, "nodeof: bad range %#lx-%#lx\n", one.start, one.end);
			return 2;
		}
	}
	for (i = 0; i < n; i++)
		query(pid, r[i].start, r[i].end, count, &c);
	printf("%lu\t%lu", c.total, c.present);
	for (node = 0; node <= c.top; node++)
		printf("\t%lu", c.node[node]);
	printf("\n");
	return 0;
}
