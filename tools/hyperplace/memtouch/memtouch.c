// SPDX-License-Identifier: GPL-2.0
/*
 * memtouch: hold an anonymous mapping and keep writing to a hot part of
 * it, so that the sampling pipeline has a known access pattern to find.
 *
 *   memtouch SIZE_MIB HOT_MIB SECONDS
 *
 * Every page is written once, then the first HOT_MIB are written page by
 * page, over and over, for SECONDS.  Prints "addr 0x... size ... hot ...
 * passes N" when done.  Built static, runs in the test guest.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static unsigned long parse(const char *s, const char *what)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || *end || end == s) {
		fprintf(stderr, "memtouch: bad %s '%s'\n", what, s);
		exit(2);
	}
	return v;
}

int main(int argc, char **argv)
{
	unsigned long size, hot, secs, passes = 0, page, off;
	volatile char *buf;
	double end;

	if (argc != 4) {
		fprintf(stderr, "usage: memtouch SIZE_MIB HOT_MIB SECONDS\n");
		return 2;
	}
	size = parse(argv[1], "size") << 20;
	hot = parse(argv[2], "hot size") << 20;
	secs = parse(argv[3], "seconds");
	if (!size || hot > size) {
		fprintf(stderr, "memtouch: need 0 < HOT_MIB <= SIZE_MIB\n");
		return 2;
	}
	page = sysconf(_SC_PAGESIZE);
	buf = mmap(NULL, size, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (buf == MAP_FAILED) {
		perror("memtouch: mmap");
		return 1;
	}
	for (off = 0; off < size; off += page)
		buf[off] = 1;
	end = now() + secs;
	while (hot && now() < end) {
		for (off = 0; off < hot; off += page)
			buf[off]++;
		passes++;
	}
	printf("addr %p size %lu hot %lu passes %lu\n", (void *)buf, size, hot,
	       passes);
	return 0;
}
