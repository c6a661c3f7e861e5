// SPDX-License-Identifier: GPL-2.0
/*
 * pmu-msr-test: checks the PMU MSRs' architectural rules on CPU 0, through
 * /dev/cpu/0/msr and the local APIC page in /dev/mem: reserved and
 * read-only bits take #GP and change nothing, a counter overflow sets its
 * GLOBAL_STATUS bit, GLOBAL_STATUS_RESET and _SET clear and set it, the
 * legacy counter alias sign-extends, a masked LVTPC entry keeps an
 * overflow from interrupting, and reference cycles count on the fixed
 * counter only, as leaf 0xA says.  Meant for a TCG guest with QEMU's
 * x-tcg-pmu (Ice Lake server, PMU version 5); TAP on stdout.
 *
 *   pmu-msr-test
 *
 * It takes the last general-purpose counter, which must be unused, and
 * briefly fixed counter 2.  It switches HyperPlace to the Accessed-bit
 * source for its run, so that no PEBS counter is programmed, and puts
 * everything back at the end.
 * Exit: 0 if every check passed, 1 otherwise.
 */
#define _GNU_SOURCE
#include <cpuid.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <sched.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "tap.h"

#define MSR_APIC_BASE		0x1b
#define MSR_PERFCTR(i)		(0xc1 + (i))
#define MSR_EVTSEL(i)		(0x186 + (i))
#define MSR_MISC_ENABLE		0x1a0
#define MSR_PERF_CAPABILITIES	0x345
#define MSR_FIXED_CTR(j)	(0x309 + (j))
#define MSR_FIXED_CTR_CTRL	0x38d
#define MSR_GLOBAL_STATUS	0x38e
#define MSR_GLOBAL_CTRL		0x38f
#define MSR_GLOBAL_STATUS_RESET	0x390
#define MSR_GLOBAL_STATUS_SET	0x391
#define MSR_PEBS_ENABLE		0x3f1
#define MSR_PEBS_DATA_CFG	0x3f2
#define MSR_PEBS_LD_LAT		0x3f6
#define MSR_PMC(i)		(0x4c1 + (i))
#define MSR_DS_AREA		0x600

/* The counter this test owns: the last of Ice Lake's four. */
#define CTR			3
#define CTR_BIT			(1ULL << CTR)
#define CTR_WIDTH_MASK		((1ULL << 48) - 1)

#define EVTSEL_INST_RETIRED	0xc0
#define EVTSEL_REF_CYCLES	0x013c	/* CPU_CLK_UNHALTED.REF_XCLK */
#define EVTSEL_USR		(1ULL << 16)
#define EVTSEL_INT		(1ULL << 20)
#define EVTSEL_ANY		(1ULL << 21)
#define EVTSEL_EN		(1ULL << 22)
#define EVTSEL_ADAPTIVE		(1ULL << 34)

#define APIC_LVTPC		0x340
#define APIC_LVT_MASKED		(1U << 16)

#define MISC_ENABLE_EMON	(1ULL << 7)
#define GLOBAL_STATUS_COND_CHG	(1ULL << 63)
#define FIXED_CTRL_USR		2

#define HP_SOURCE		"/sys/kernel/mm/hyperplace/source"

static int msr_fd = -1;

static int rdmsr(uint32_t index, uint64_t *val)
{
	return pread(msr_fd, val, sizeof(*val), index) == sizeof(*val) ?
	       0 : -errno;
}

/* 0, or -EIO if the write took #GP. */
static int wrmsr(uint32_t index, uint64_t val)
{
	return pwrite(msr_fd, &val, sizeof(val), index) == sizeof(val) ?
	       0 : -errno;
}

static uint64_t rdmsr_or_0(uint32_t index)
{
	uint64_t v = 0;

	rdmsr(index, &v);
	return v;
}

static void spin(unsigned long n)
{
	asm volatile("1: dec %0\n\tjnz 1b" : "+r"(n) : : "cc");
}

/* A write that must take #GP and leave the MSR as it was. */
static void check_refused(const char *name, uint32_t index, uint64_t val)
{
	uint64_t before = rdmsr_or_0(index), after;
	int err = wrmsr(index, val);

	after = rdmsr_or_0(index);
	if (!err)
		wrmsr(index, before);
	result(err == -EIO && after == before, name,
	       "wrmsr(%#x, %#" PRIx64 "): %s; %#" PRIx64 " before, %#" PRIx64
	       " after", index, val, err ? strerror(-err) : "accepted",
	       before, after);
}

/* A write that must be taken, and read back as @want. */
static void check_taken(const char *name, uint32_t index, uint64_t val,
			uint64_t want)
{
	int err = wrmsr(index, val);
	uint64_t got = rdmsr_or_0(index);

	result(!err && got == want, name,
	       "wrmsr(%#x, %#" PRIx64 "): %s; reads %#" PRIx64 " (want %#"
	       PRIx64 ")", index, val, err ? strerror(-err) : "taken",
	       got, want);
}

static void check_reserved_bits(void)
{
	uint64_t misc = rdmsr_or_0(MSR_MISC_ENABLE);

	check_refused("EVTSEL AnyThread is reserved (deprecated in leaf 0xA)",
		      MSR_EVTSEL(CTR), EVTSEL_INST_RETIRED | EVTSEL_ANY);
	check_refused("EVTSEL bit 33 is reserved", MSR_EVTSEL(CTR), 1ULL << 33);
	check_taken("EVTSEL takes the adaptive-PEBS bit", MSR_EVTSEL(CTR),
		    EVTSEL_ADAPTIVE | EVTSEL_INST_RETIRED,
		    EVTSEL_ADAPTIVE | EVTSEL_INST_RETIRED);
	wrmsr(MSR_EVTSEL(CTR), 0);
	check_refused("FIXED_CTR_CTRL AnyThread is reserved",
		      MSR_FIXED_CTR_CTRL,
		      rdmsr_or_0(MSR_FIXED_CTR_CTRL) | 1ULL << 6);
	check_refused("GLOBAL_CTRL has no fifth GP counter", MSR_GLOBAL_CTRL,
		      rdmsr_or_0(MSR_GLOBAL_CTRL) | 1ULL << 4);
	check_refused("PEBS_ENABLE has no fourth fixed counter",
		      MSR_PEBS_ENABLE, rdmsr_or_0(MSR_PEBS_ENABLE) | 1ULL << 35);
	check_refused("PEBS_DATA_CFG bit 4 is reserved", MSR_PEBS_DATA_CFG,
		      rdmsr_or_0(MSR_PEBS_DATA_CFG) | 1ULL << 4);
	check_refused("PEBS_LD_LAT has 16 bits", MSR_PEBS_LD_LAT, 1ULL << 16);
	/* Not canonical with 5-level paging either (Ice Lake has LA57). */
	check_refused("DS_AREA must be canonical", MSR_DS_AREA,
		      0x0100000000000000ULL);
	check_refused("a full-width counter has 48 bits", MSR_PMC(CTR),
		      1ULL << 48);
	check_refused("GLOBAL_STATUS_RESET bit 40 is reserved",
		      MSR_GLOBAL_STATUS_RESET, 1ULL << 40);
	check_refused("GLOBAL_STATUS_SET has no CondChgd bit",
		      MSR_GLOBAL_STATUS_SET, GLOBAL_STATUS_COND_CHG);
	check_refused("GLOBAL_STATUS is read-only", MSR_GLOBAL_STATUS, CTR_BIT);
	check_refused("PERF_CAPABILITIES is read-only", MSR_PERF_CAPABILITIES,
		      rdmsr_or_0(MSR_PERF_CAPABILITIES) ^ 1);
	check_refused("MISC_ENABLE's PEBS-unavailable bit is read-only",
		      MSR_MISC_ENABLE, misc ^ 1ULL << 12);
	check_taken("MISC_ENABLE ignores a write to its performance-monitoring bit",
		    MSR_MISC_ENABLE, misc ^ MISC_ENABLE_EMON, misc);
	wrmsr(MSR_MISC_ENABLE, misc);
	check_taken("the legacy counter alias sign-extends 32 bits",
		    MSR_PERFCTR(CTR), 0x80000000ULL, 0xffff80000000ULL);
	wrmsr(MSR_PMC(CTR), 0);
}

/*
 * Count @n user loop iterations (2 instructions each) on the counter,
 * started @before_overflow short of overflowing; returns its value.
 */
static uint64_t run_to_overflow(uint64_t before_overflow, uint64_t extra,
				unsigned long n)
{
	uint64_t v = 0;

	wrmsr(MSR_PMC(CTR), (CTR_WIDTH_MASK + 1 - before_overflow) &
	      CTR_WIDTH_MASK);
	wrmsr(MSR_EVTSEL(CTR), EVTSEL_INST_RETIRED | EVTSEL_USR | EVTSEL_EN |
	      extra);
	spin(n);
	wrmsr(MSR_EVTSEL(CTR), 0);
	rdmsr(MSR_PMC(CTR), &v);
	return v;
}

static void check_overflow_status(void)
{
	unsigned long n = 100000;
	uint64_t v, status;

	wrmsr(MSR_GLOBAL_STATUS_RESET, CTR_BIT);
	v = run_to_overflow(1000, 0, n);
	status = rdmsr_or_0(MSR_GLOBAL_STATUS);
	/* The loop's 2n instructions, plus a few around it. */
	result(v >= 2 * n - 1000 && v <= 2 * n - 1000 + 10000,
	       "the counter wraps at 48 bits",
	       "%" PRIu64 " after %lu instructions from 1000 short of overflow",
	       v, 2 * n);
	result(status & CTR_BIT, "an overflow sets its GLOBAL_STATUS bit",
	       "GLOBAL_STATUS %#" PRIx64, status);
	wrmsr(MSR_GLOBAL_STATUS_RESET, CTR_BIT);
	status = rdmsr_or_0(MSR_GLOBAL_STATUS);
	result(!(status & CTR_BIT), "GLOBAL_STATUS_RESET acknowledges it",
	       "GLOBAL_STATUS %#" PRIx64 " after the reset", status);
	wrmsr(MSR_GLOBAL_STATUS_SET, CTR_BIT);
	status = rdmsr_or_0(MSR_GLOBAL_STATUS);
	wrmsr(MSR_GLOBAL_STATUS_RESET, CTR_BIT);
	result(status & CTR_BIT, "GLOBAL_STATUS_SET sets it",
	       "GLOBAL_STATUS %#" PRIx64 " after the set", status);
}

/* CPU 0's count on the /proc/interrupts line that starts with @name. */
static long interrupts(const char *name)
{
	FILE *f = fopen("/proc/interrupts", "r");
	char line[4096];
	long n = -1;

	while (f && fgets(line, sizeof(line), f)) {
		char *p = line + strspn(line, " ");

		if (!strncmp(p, name, strlen(name))) {
			n = strtol(p + strlen(name), NULL, 10);
			break;
		}
	}
	if (f)
		fclose(f);
	return n;
}

/* The local APIC's register page, through /dev/mem; NULL on error. */
static volatile uint32_t *map_apic(void)
{
	int fd = open("/dev/mem", O_RDWR | O_SYNC);
	void *p;

	if (fd < 0)
		return NULL;
	p = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd,
		 rdmsr_or_0(MSR_APIC_BASE) & ~0xfffULL);
	close(fd);
	return p == MAP_FAILED ? NULL : p;
}

static void check_masked_lvtpc(void)
{
	volatile uint32_t *apic = map_apic();
	uint32_t lvtpc = 0;
	long pmi_before = 0, pmi_after = 0;
	uint64_t status = 0;

	if (apic) {
		lvtpc = apic[APIC_LVTPC / 4];
		apic[APIC_LVTPC / 4] = lvtpc | APIC_LVT_MASKED;
		pmi_before = interrupts("PMI:");
		run_to_overflow(1000, EVTSEL_INT, 10000);
		pmi_after = interrupts("PMI:");
		status = rdmsr_or_0(MSR_GLOBAL_STATUS);
		wrmsr(MSR_GLOBAL_STATUS_RESET, CTR_BIT);
		apic[APIC_LVTPC / 4] = lvtpc;
		munmap((void *)apic, 4096);
	}
	result(apic && (status & CTR_BIT) && pmi_after == pmi_before &&
	       pmi_before >= 0, "a masked LVTPC keeps an overflow from interrupting",
	       "%s; LVTPC %#x; GLOBAL_STATUS %#" PRIx64 "; PMIs %ld -> %ld",
	       apic ? "APIC mapped" : strerror(errno), lvtpc, status,
	       pmi_before, pmi_after);
}

/*
 * TCG has no reference clock: leaf 0xA marks the GP counters' reference
 * cycles event unavailable, and only the fixed counter counts them (one
 * per instruction, as it does cycles).
 */
static void check_reference_cycles(void)
{
	unsigned int eax, ebx, ecx, edx;
	uint64_t ctrl = rdmsr_or_0(MSR_FIXED_CTR_CTRL);
	uint64_t global = rdmsr_or_0(MSR_GLOBAL_CTRL), gp = 0, fixed = 0;
	bool free = !(ctrl & 0xf00);

	__cpuid(0xa, eax, ebx, ecx, edx);
	result(ebx & 1U << 2, "leaf 0xA marks GP reference cycles unavailable",
	       "CPUID.0AH: EAX %#x EBX %#x", eax, ebx);

	if (free) {
		wrmsr(MSR_GLOBAL_CTRL, global | CTR_BIT | 1ULL << 34);
		wrmsr(MSR_PMC(CTR), 0);
		wrmsr(MSR_FIXED_CTR(2), 0);
		wrmsr(MSR_EVTSEL(CTR),
		      EVTSEL_REF_CYCLES | EVTSEL_USR | EVTSEL_EN);
		wrmsr(MSR_FIXED_CTR_CTRL,
		      ctrl | (uint64_t)FIXED_CTRL_USR << 8);
		spin(100000);
		wrmsr(MSR_FIXED_CTR_CTRL, ctrl);
		wrmsr(MSR_EVTSEL(CTR), 0);
		wrmsr(MSR_GLOBAL_CTRL, global);
		rdmsr(MSR_PMC(CTR), &gp);
		rdmsr(MSR_FIXED_CTR(2), &fixed);
	}
	/* The loop's 200000 instructions, plus a few around it. */
	result(free && gp == 0 && fixed >= 200000 && fixed <= 210000,
	       "reference cycles count on the fixed counter only",
	       "fixed counter 2 %s; GP counter %" PRIu64 ", fixed counter 2 %"
	       PRIu64 " over 200000 instructions", free ? "free" : "in use",
	       gp, fixed);
}

/* The word in brackets of a HyperPlace choice file ("[auto] pebs abit"). */
static void chosen(const char *line, char *word, size_t len)
{
	const char *open = strchr(line, '['), *close = strchr(line, ']');

	word[0] = 0;
	if (open && close > open && (size_t)(close - open) <= len)
		snprintf(word, close - open, "%s", open + 1);
}

int main(void)
{
	char line[64] = "", source[16] = "";
	cpu_set_t cpu0;
	uint64_t sel = 0;

	printf("TAP version 13\n1..25\n");
	CPU_ZERO(&cpu0);
	CPU_SET(0, &cpu0);
	if (sched_setaffinity(0, sizeof(cpu0), &cpu0))
		perror("sched_setaffinity");
	msr_fd = open("/dev/cpu/0/msr", O_RDWR);
	if (msr_fd < 0)
		perror("/dev/cpu/0/msr");
	/* No PEBS counters while the test holds one (and masks the LVT). */
	sysfs_swap(HP_SOURCE, "abit", line, sizeof(line));
	chosen(line, source, sizeof(source));
	rdmsr(MSR_EVTSEL(CTR), &sel);
	result(msr_fd >= 0 && !sel, "the test's counter is free",
	       "EVTSEL%d %#" PRIx64 "%s%s", CTR, sel, msr_fd < 0 ? ": " : "",
	       msr_fd < 0 ? strerror(errno) : "");
	if (msr_fd < 0 || sel) {
		printf("Bail out! no MSR access or counter %d in use\n", CTR);
		if (source[0])
			sysfs_swap(HP_SOURCE, source, NULL, 0);
		return 1;
	}
	check_reserved_bits();
	check_overflow_status();
	check_masked_lvtpc();
	check_reference_cycles();
	if (source[0])
		sysfs_swap(HP_SOURCE, source, NULL, 0);
	return failed ? 1 : 0;
}
