// SPDX-License-Identifier: GPL-2.0
/*
 * pmu-test: checks, through perf_event_open(2), that the guest's PMU
 * counts and interrupts as the code it runs says it must.  Meant for a
 * TCG guest with QEMU's x-tcg-pmu, where instructions are counted
 * exactly and a cycle is an instruction; TAP on stdout.
 *
 *   pmu-test
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
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "tap.h"

/* The loop retires this many instructions an iteration: dec, jnz. */
#define LOOP_INSNS	2
/* User instructions around the loop between enabling and disabling. */
#define SLACK		10000

static void spin(unsigned long n)
{
	asm volatile("1: dec %0\n\tjnz 1b" : "+r"(n) : : "cc");
}

/* Where a counter counts. */
enum ring { KERNEL = 1, USER = 2 };

static int open_counter(uint64_t config, enum ring ring, uint64_t period)
{
	struct perf_event_attr a = {
		.type = PERF_TYPE_HARDWARE,
		.size = sizeof(a),
		.config = config,
		.disabled = 1,
		.exclude_kernel = !(ring & KERNEL),
		.exclude_user = !(ring & USER),
		.exclude_hv = 1,
		.sample_period = period,
		.sample_type = period ? PERF_SAMPLE_IP : 0,
		.wakeup_events = 1,
	};

	return syscall(SYS_perf_event_open, &a, 0, -1, -1, 0);
}

/* Count @config in user mode over @n loop iterations; -1 on error. */
static int64_t count_loop(uint64_t config, unsigned long n)
{
	int fd = open_counter(config, USER, 0);
	uint64_t v;

	if (fd < 0)
		return -1;
	ioctl(fd, PERF_EVENT_IOC_ENABLE, 0);
	spin(n);
	ioctl(fd, PERF_EVENT_IOC_DISABLE, 0);
	if (read(fd, &v, sizeof(v)) != sizeof(v))
		v = -1;
	close(fd);
	return v;
}

static void check_exact(const char *name, uint64_t config)
{
	unsigned long n = 10 * 1000 * 1000;
	int64_t want = (int64_t)n * LOOP_INSNS;
	int64_t got = count_loop(config, n);

	result(got >= want && got <= want + SLACK, name,
	       "%" PRId64 " counted for %" PRId64 " instructions retired "
	       "(want up to %d more)%s%s", got, want, SLACK,
	       got < 0 ? ": " : "", got < 0 ? strerror(errno) : "");
}

static void check_sampling(void)
{
	unsigned long n = 2 * 1000 * 1000, period = 100 * 1000;
	long want = n * LOOP_INSNS / period, got = -1;
	size_t len = (1 + 8) * getpagesize();
	int fd = open_counter(PERF_COUNT_HW_INSTRUCTIONS, USER, period);
	void *ring = MAP_FAILED;

	if (fd >= 0)
		ring = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (ring != MAP_FAILED) {
		ioctl(fd, PERF_EVENT_IOC_ENABLE, 0);
		spin(n);
		ioctl(fd, PERF_EVENT_IOC_DISABLE, 0);
		got = for_each_sample(ring, NULL, NULL);
		munmap(ring, len);
	}
	if (fd >= 0)
		close(fd);
	/* One sample per overflow; the last period may not have ended. */
	result(got >= want - 1 && got <= want + 1,
	       "instruction overflows interrupt, one sample each",
	       "%ld samples of every %lu of %lu user instructions (want %ld)",
	       got, period, n * LOOP_INSNS, want);
}

static void check_kernel(void)
{
	int fd = open_counter(PERF_COUNT_HW_INSTRUCTIONS, KERNEL, 0);
	uint64_t v = 0;
	int i;

	if (fd >= 0) {
		ioctl(fd, PERF_EVENT_IOC_ENABLE, 0);
		for (i = 0; i < 1000; i++)
			syscall(SYS_getppid);
		ioctl(fd, PERF_EVENT_IOC_DISABLE, 0);
		if (read(fd, &v, sizeof(v)) != sizeof(v))
			v = 0;
		close(fd);
	}
	/* Each system call runs far more than 10 kernel instructions. */
	result(v >= 10 * 1000, "kernel instructions are counted apart",
	       "%" PRIu64 " kernel instructions in 1000 getppid() calls", v);
}

int main(void)
{
	perf_unthrottle();
	printf("TAP version 13\n1..4\n");
	check_exact("user instructions counted exactly",
		    PERF_COUNT_HW_INSTRUCTIONS);
	check_exact("user cycles counted, one per instruction",
		    PERF_COUNT_HW_CPU_CYCLES);
	check_sampling();
	check_kernel();
	return failed ? 1 : 0;
}
