// SPDX-License-Identifier: GPL-2.0
/*
 * perf-target: code whose events are known, for scripts/guest/perf-test.sh
 * to run under Debian's perf.
 *
 *   perf-target spin N         retires 2 * N user instructions in a loop
 *   perf-target loads MIB N    reads a MIB MiB buffer N times, a load per
 *                              64-byte line; prints "buffer START END"
 *
 * Exit: 0, or 2 on bad arguments or no memory.
 */
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#define LINE_WORDS	(64 / sizeof(uint64_t))

static void spin(unsigned long n)
{
	asm volatile("1: dec %0\n\tjnz 1b" : "+r"(n) : : "cc");
}

/* Not inlined: perf report must find its samples in "loads". */
static __attribute__((noinline)) int loads(unsigned long mib,
					  unsigned long rounds)
{
	size_t words = (mib << 20) / sizeof(uint64_t), i;
	uint64_t *buf, sum = 0;

	buf = mmap(NULL, mib << 20, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
	if (buf == MAP_FAILED) {
		perror("mmap");
		return 2;
	}
	for (i = 0; i < words; i++)
		buf[i] = i;
	printf("buffer %p %p\n", (void *)buf, (void *)(buf + words));
	fflush(stdout);
	while (rounds--)
		for (i = 0; i < words; i += LINE_WORDS)
			sum += *(volatile uint64_t *)&buf[i];
	printf("sum %" PRIu64 "\n", sum);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc == 3 && !strcmp(argv[1], "spin")) {
		spin(strtoul(argv[2], NULL, 0));
		return 0;
	}
	if (argc == 4 && !strcmp(argv[1], "loads"))
		return loads(strtoul(argv[2], NULL, 0),
			     strtoul(argv[3], NULL, 0));
	fprintf(stderr, "usage: perf-target spin N | loads MIB N\n");
	return 2;
}
