// SPDX-License-Identifier: GPL-2.0
/*
 * pebs-test: checks, through perf_event_open(2), that the guest's PEBS
 * records say what the code it runs did: which buffer it loaded from or
 * stored to, which memory tier served the loads and how slowly, and
 * which instructions ran.  Meant for a TCG guest with QEMU's x-tcg-pmu
 * whose node 1 is slow RAM (x-access-delay-ns); TAP on stdout.
 *
 *   pebs-test
 *   pebs-test --soak ROUNDS
 *
 * --soak samples loads of a slow-node buffer for ROUNDS rounds (printing
 * "# soak round N" after each) while the host migrates the VM, then
 * checks that every round was sampled, that the buffer's data is intact
 * and that a counter counted through (scripts/pmu-migrate-test.py).
 *
 * Exit: 0 if every check passed, 1 otherwise.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <inttypes.h>
#include <linux/perf_event.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "tap.h"

/* Intel raw events (Ice Lake server). */
#define LOAD_LATENCY	0x01cd	/* MEM_TRANS_RETIRED.LOAD_LATENCY */
#define ALL_STORES	0x82d0	/* MEM_INST_RETIRED.ALL_STORES */

/* 16 MiB: far more than the slow tier's 1 MiB cache model holds. */
#define BUF_BYTES	(16UL << 20)
#define BUF_WORDS	(BUF_BYTES / sizeof(uint64_t))
#define ACCESSES	(2UL * 1000 * 1000)
#define PERIOD		997
#define RING_PAGES	256

#define MPOL_BIND	2

/*
 * HyperPlace's own PEBS counters hold two GP counters and LD_LAT; the
 * checks want the PMU to themselves.
 */
#define HP_ENABLED	"/sys/kernel/mm/hyperplace/enabled"

/* What the samples of one run said. */
struct tally {
	long samples;
	long in_buffer;		/* data address inside the buffer */
	long pmem, ram;		/* data source: slow node, DRAM */
	uint64_t weight;	/* sum of the load latencies */
	const char *lo, *hi;	/* the buffer */
};

/* The body of a sample of PERF_SAMPLE_ADDR | WEIGHT | DATA_SRC. */
static void tally_sample(const uint64_t *body, void *arg)
{
	struct tally *t = arg;
	union perf_mem_data_src src = { .val = body[2] };
	const char *addr = (const char *)(uintptr_t)body[0];

	t->in_buffer += addr >= t->lo && addr < t->hi;
	t->weight += body[1];
	t->pmem += src.mem_lvl_num == PERF_MEM_LVLNUM_PMEM;
	t->ram += src.mem_lvl_num == PERF_MEM_LVLNUM_RAM;
}

static int open_raw(uint64_t config, uint64_t ldlat)
{
	struct perf_event_attr a = {
		.type = PERF_TYPE_RAW,
		.size = sizeof(a),
		.config = config,
		.config1 = ldlat,
		.disabled = 1,
		.exclude_kernel = 1,
		.exclude_hv = 1,
		.precise_ip = 2,
		.sample_period = PERIOD,
		.sample_type = PERF_SAMPLE_ADDR | PERF_SAMPLE_WEIGHT |
			       PERF_SAMPLE_DATA_SRC,
	};

	return syscall(SYS_perf_event_open, &a, 0, -1, -1, 0);
}

/* A buffer of BUF_BYTES on @node, every page present; NULL on error. */
static uint64_t *node_buffer(int node)
{
	unsigned long mask = 1UL << node;
	uint64_t *buf = mmap(NULL, BUF_BYTES, PROT_READ | PROT_WRITE,
			     MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (buf == MAP_FAILED)
		return NULL;
	if (syscall(SYS_mbind, buf, BUF_BYTES, MPOL_BIND, &mask,
		    sizeof(mask) * 8, 0)) {
		munmap(buf, BUF_BYTES);
		return NULL;
	}
	memset(buf, 1, BUF_BYTES);
	return buf;
}

/* Loads from random words of @buf; the sum keeps them from going away. */
static uint64_t random_loads(const uint64_t *buf)
{
	uint64_t x = 88172645463325252ULL, sum = 0;
	unsigned long i;

	for (i = 0; i < ACCESSES; i++) {
		x = x * 6364136223846793005ULL + 1442695040888963407ULL;
		sum += buf[(x >> 24) % BUF_WORDS];
	}
	return sum;
}

static void random_stores(uint64_t *buf)
{
	uint64_t x = 88172645463325252ULL;
	unsigned long i;

	for (i = 0; i < ACCESSES; i++) {
		x = x * 6364136223846793005ULL + 1442695040888963407ULL;
		buf[(x >> 24) % BUF_WORDS] = i;
	}
}

static volatile uint64_t sink;

/*
 * Count @config (loads with latency above @ldlat, or stores) in @buf's
 * accesses and tally the samples; false if perf refused the event.
 */
static bool sample_run(uint64_t config, uint64_t ldlat, uint64_t *buf,
		       struct tally *t)
{
	size_t len = (1 + RING_PAGES) * getpagesize();
	void *ring;
	int fd;

	memset(t, 0, sizeof(*t));
	t->lo = (const char *)buf;
	t->hi = t->lo + BUF_BYTES;
	fd = open_raw(config, ldlat);
	if (fd < 0)
		return false;
	ring = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (ring == MAP_FAILED) {
		close(fd);
		return false;
	}
	ioctl(fd, PERF_EVENT_IOC_ENABLE, 0);
	if (config == ALL_STORES)
		random_stores(buf);
	else
		sink = random_loads(buf);
	ioctl(fd, PERF_EVENT_IOC_DISABLE, 0);
	t->samples = for_each_sample(ring, tally_sample, t);
	munmap(ring, len);
	close(fd);
	return true;
}

/* Nearly one sample per period, nearly all of them in the buffer. */
static bool from_buffer(const struct tally *t)
{
	long want = ACCESSES / PERIOD;

	return t->samples >= want * 9 / 10 && t->in_buffer >= t->samples * 99 / 100;
}

static void check_buffer(const char *name, uint64_t config, uint64_t *buf)
{
	struct tally t = { 0 };
	bool ran = sample_run(config, 64, buf, &t);

	result(ran && from_buffer(&t), name,
	       "%ld samples, %ld in the buffer, of %lu accesses at period %d%s%s",
	       t.samples, t.in_buffer, ACCESSES, PERIOD,
	       ran ? "" : ": ", ran ? "" : strerror(errno));
}

/* The slow node's loads: slower, and said to come from PMEM. */
static void check_tiers(uint64_t *fast, uint64_t *slow)
{
	struct tally f = { 0 }, s = { 0 };
	bool ran = sample_run(LOAD_LATENCY, 64, fast, &f) &&
		   sample_run(LOAD_LATENCY, 64, slow, &s);
	uint64_t fast_lat = f.samples ? f.weight / f.samples : 0;
	uint64_t slow_lat = s.samples ? s.weight / s.samples : 0;

	result(ran && from_buffer(&f) && from_buffer(&s) &&
	       slow_lat > 2 * fast_lat && f.ram >= f.samples * 99 / 100 &&
	       s.pmem >= s.samples * 9 / 10,
	       "slow-node loads report more latency, from PMEM",
	       "node 0: %ld samples, mean latency %" PRIu64 ", %ld from RAM; "
	       "node 1: %ld samples, mean latency %" PRIu64 ", %ld from PMEM",
	       f.samples, fast_lat, f.ram, s.samples, slow_lat, s.pmem);
}

/* A threshold above DRAM's latency keeps only the slow node's loads. */
static void check_threshold(uint64_t *fast, uint64_t *slow)
{
	struct tally f = { 0 }, s = { 0 };
	uint64_t ldlat = 2 * 80 * 2;	/* twice DRAM's 80 ns at 2 GHz */
	bool ran = sample_run(LOAD_LATENCY, ldlat, fast, &f) &&
		   sample_run(LOAD_LATENCY, ldlat, slow, &s);

	result(ran && f.samples == 0 && from_buffer(&s),
	       "the ldlat threshold keeps only loads slower than it",
	       "ldlat=%" PRIu64 ": %ld samples from node 0, %ld from node 1",
	       ldlat, f.samples, s.samples);
}

/* The loop that precise instruction samples must point into. */
extern const char pebs_spin[], pebs_spin_end[];
asm(".text\n"
    "pebs_spin:\n"
    "1:	dec %rdi\n"
    "	jnz 1b\n"
    "	ret\n"
    "pebs_spin_end:\n");

static void ip_sample(const uint64_t *body, void *arg)
{
	long *in_loop = arg;

	*in_loop += body[0] >= (uintptr_t)pebs_spin &&
		    body[0] < (uintptr_t)pebs_spin_end;
}

/* User instructions: counted, or sampled precisely every @period. */
static int open_user_insns(uint64_t period)
{
	struct perf_event_attr a = {
		.type = PERF_TYPE_HARDWARE,
		.size = sizeof(a),
		.config = PERF_COUNT_HW_INSTRUCTIONS,
		.disabled = !!period,
		.exclude_kernel = 1,
		.exclude_hv = 1,
		.precise_ip = period ? 2 : 0,
		.sample_period = period,
		.sample_type = period ? PERF_SAMPLE_IP : 0,
	};

	return syscall(SYS_perf_event_open, &a, 0, -1, -1, 0);
}

static void check_precise_insns(void)
{
	size_t len = (1 + RING_PAGES) * getpagesize();
	long n = 10 * 1000 * 1000, want = 2 * n / 100003;
	long samples = -1, in_loop = 0;
	void (*spin)(long) = (void (*)(long))(uintptr_t)pebs_spin;
	int fd = open_user_insns(100003);
	void *ring = MAP_FAILED;

	if (fd >= 0)
		ring = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd,
			    0);
	if (ring != MAP_FAILED) {
		ioctl(fd, PERF_EVENT_IOC_ENABLE, 0);
		spin(n);
		ioctl(fd, PERF_EVENT_IOC_DISABLE, 0);
		samples = for_each_sample(ring, ip_sample, &in_loop);
		munmap(ring, len);
	}
	if (fd >= 0)
		close(fd);
	result(samples >= want - 1 && samples <= want + 1 &&
	       in_loop >= samples - 1,
	       "precise instruction samples point into the loop",
	       "%ld samples (want %ld), %ld in the loop", samples, want,
	       in_loop);
}

static uint64_t buffer_sum(const uint64_t *buf)
{
	uint64_t sum = 0;
	unsigned long i;

	for (i = 0; i < BUF_WORDS; i++)
		sum = sum * 31 + buf[i];
	return sum;
}

/* User instructions one soak round retires, measured by @fd. */
static uint64_t soak_round(int fd, int round, uint64_t *buf, bool *good)
{
	uint64_t before = 0, after = 0;
	struct tally t;
	bool ran;

	*good = false;
	if (read(fd, &before, sizeof(before)) != sizeof(before))
		return 0;
	ran = sample_run(LOAD_LATENCY, 64, buf, &t);
	*good = ran && from_buffer(&t);
	printf("# soak round %d: %ld samples, %ld in the buffer\n", round,
	       t.samples, t.in_buffer);
	if (read(fd, &after, sizeof(after)) != sizeof(after))
		return 0;
	return after - before;
}

static int soak(int rounds)
{
	uint64_t *buf = node_buffer(1);
	uint64_t sum0, one, min = UINT64_MAX, max = 0, total = 0;
	int fd, i, good = 0;
	bool ok;

	printf("TAP version 13\n1..3\n");
	fd = open_user_insns(0);
	if (!buf || fd < 0) {
		printf("Bail out! no node 1 buffer or no counter: %s\n",
		       strerror(errno));
		return 1;
	}
	sum0 = buffer_sum(buf);
	for (i = 0; i < rounds; i++) {
		one = soak_round(fd, i, buf, &ok);
		good += ok;
		total += one;
		min = one < min ? one : min;
		max = one > max ? one : max;
	}
	result(good == rounds, "every soak round's load samples are of the buffer",
	       "%d of %d rounds", good, rounds);
	result(buffer_sum(buf) == sum0, "the buffer's data is intact",
	       "checksum %#" PRIx64 " before the soak", sum0);
	/* Every round runs the same code: counts within 1% of each other. */
	result(min && max - min <= max / 100,
	       "an instruction counter counted every round alike",
	       "%" PRIu64 " instructions in all, %" PRIu64 "-%" PRIu64
	       " a round", total, min, max);
	close(fd);
	return failed ? 1 : 0;
}

int main(int argc, char **argv)
{
	uint64_t *fast, *slow;
	char hp_enabled[8] = "";

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc == 3 && !strcmp(argv[1], "--soak")) {
		sysfs_swap(HP_ENABLED, "0", NULL, 0);
		perf_unthrottle();
		return soak(atoi(argv[2]));
	}
	fast = node_buffer(0);
	slow = node_buffer(1);

	printf("TAP version 13\n1..5\n");
	sysfs_swap(HP_ENABLED, "0", hp_enabled, sizeof(hp_enabled));
	perf_unthrottle();
	if (!fast || !slow) {
		printf("Bail out! cannot bind a buffer to node 0 and 1: %s\n",
		       strerror(errno));
		return 1;
	}
	check_buffer("load-latency samples are of the loaded buffer",
		     LOAD_LATENCY, fast);
	check_buffer("store samples are of the stored buffer", ALL_STORES,
		     slow);
	check_tiers(fast, slow);
	check_threshold(fast, slow);
	check_precise_insns();
	if (hp_enabled[0])
		sysfs_swap(HP_ENABLED, hp_enabled, NULL, 0);
	return failed ? 1 : 0;
}
