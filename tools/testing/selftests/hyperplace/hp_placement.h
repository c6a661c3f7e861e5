/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What the HyperPlace placement kselftests share: where a process's pages
 * are (move_pages(2) queries), a busy region filled on a given node, and
 * the fixture that saves the placement knobs, speeds sampling up for the
 * TCG guest and restores the knobs.  Include after kselftest_harness.h.
 */
#ifndef HP_PLACEMENT_H
#define HP_PLACEMENT_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/mman.h>
#include <sys/syscall.h>

#include "hp_common.h"

#ifndef MPOL_DEFAULT
#define MPOL_DEFAULT		0
#define MPOL_BIND		2
#endif

#define MiB			(1024UL * 1024)
#define PAGE			4096UL
#define POLL_US			200000
/* Small regions move within this. */
#define MOVE_TIMEOUT_S		240
/*
 * A test that watches that nothing moves watches QUIET_TIMES as long as a
 * move just took (its positive control), and at least QUIET_MIN_S.
 */
#define QUIET_TIMES		3
#define QUIET_MIN_S		10
#define REGION_MIB		32UL

/* Knobs the tests change, restored by the fixture. */
static const char * const saved_knobs[] = {
	"enabled", "migrate", "rate_limit_mibps", "headroom_pct",
	"abit_interval_ms", "abit_pages", "epoch_ms",
};

/* ---- where pages are ---- */

struct where {
	unsigned long on_node;	/* pages on the node asked about */
	unsigned long present;	/* pages with a page behind them */
};

/* Count the pages of [@start, @end) of @pid that are on @nid. */
static inline int where_pages(pid_t pid, unsigned long start,
			      unsigned long end, int nid, struct where *w)
{
	enum { BATCH = 4096 };
	static void *pages[BATCH];
	static int status[BATCH];
	unsigned long addr = start;

	w->on_node = 0;
	w->present = 0;
	while (addr < end) {
		unsigned long i, n = 0;

		for (; addr < end && n < BATCH; addr += PAGE)
			pages[n++] = (void *)addr;
		if (syscall(SYS_move_pages, pid, n, pages, NULL, status, 0))
			return -errno;
		for (i = 0; i < n; i++) {
			if (status[i] < 0)
				continue;
			w->present++;
			w->on_node += status[i] == nid;
		}
	}
	return 0;
}

/* Percent of the present pages of [@start, @end) that are on @nid. */
static inline double pct_on(pid_t pid, unsigned long start,
			    unsigned long end, int nid)
{
	struct where w;

	if (where_pages(pid, start, end, nid, &w) || !w.present)
		return -1;
	return 100.0 * w.on_node / w.present;
}

/* MemTotal or MemFree of node @nid, in MiB (0 if unknown). */
static inline unsigned long node_mib(int nid, const char *what)
{
	char path[64], line[128], key[32];
	unsigned long kib = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/sys/devices/system/node/node%d/meminfo",
		 nid);
	snprintf(key, sizeof(key), "%s:", what);
	f = fopen(path, "r");
	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f)) {
		char *p = strstr(line, key);

		if (p)
			kib = strtoul(p + strlen(key), NULL, 10);
	}
	fclose(f);
	return kib >> 10;
}

/* What vmstat of node @nid says HyperPlace moved (-1: no such item). */
static inline void node_moves(int nid, long long *promoted,
			      long long *demoted)
{
	char path[64];

	snprintf(path, sizeof(path), "/sys/devices/system/node/node%d/vmstat",
		 nid);
	*promoted = keyed_value(path, "pgpromote_hyperplace");
	*demoted = keyed_value(path, "pgdemote_hyperplace");
}

static inline int node_knob(const char *name)
{
	unsigned long long v;

	if (knob_read_u64(name, &v))
		return -1;
	return v;
}

/* set_mempolicy(2) of the calling thread; @mask is ignored for MPOL_DEFAULT. */
static inline long set_policy_mask(int mode, unsigned long mask)
{
	return syscall(SYS_set_mempolicy, mode, mode ? &mask : NULL,
		       mode ? 64 : 0);
}

static inline long set_policy(int mode, int nid)
{
	return set_policy_mask(mode, 1UL << nid);
}

/* ---- a region to place: filled on the slow node, kept busy ---- */

/**
 * struct region - memory of the test process that HyperPlace should move
 * @p: start, 2 MiB aligned
 * @len: bytes
 * @sum: checksum of the contents as written
 * @stop: tells the toucher thread to end
 * @toucher: thread that keeps every page of the region accessed
 */
struct region {
	uint64_t *p;
	size_t len;
	uint64_t sum;
	bool stop;
	pthread_t toucher;
};

static inline uint64_t region_checksum(const struct region *r)
{
	uint64_t s = 0;
	size_t i;

	for (i = 0; i < r->len / 8; i++)
		s = s * 31 + r->p[i];
	return s;
}

/*
 * Fill @mib MiB at @p, inside a mapping the caller made, on node @nid;
 * the mapping's VMA is left as it is.
 */
static inline int region_fill(struct region *r, void *p, unsigned long mib,
			      int nid)
{
	size_t i;

	memset(r, 0, sizeof(*r));
	r->p = p;
	r->len = mib * MiB;
	if (set_policy(MPOL_BIND, nid))
		return -errno;
	for (i = 0; i < r->len / 8; i++)
		r->p[i] = i * 0x9e3779b97f4a7c15ULL;
	set_policy(MPOL_DEFAULT, 0);
	r->sum = region_checksum(r);
	return 0;
}

/* Map @mib MiB, 2 MiB aligned, with THP if @thp, filled on node @nid. */
static inline int region_create(struct region *r, unsigned long mib, bool thp,
				int nid)
{
	size_t len = mib * MiB;
	uint8_t *raw, *p;

	raw = mmap(NULL, len + 2 * MiB, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (raw == MAP_FAILED)
		return -errno;
	p = (uint8_t *)(((uintptr_t)raw + 2 * MiB - 1) & ~(2 * MiB - 1));
	madvise(p, len, thp ? MADV_HUGEPAGE : MADV_NOHUGEPAGE);
	return region_fill(r, p, mib, nid);
}

/* Read every page of the region, round and round, until told to stop. */
static inline void *region_touch(void *arg)
{
	struct region *r = arg;
	uint64_t sink = 0;
	size_t i;

	/* Atomic loads: neither the flag nor the reads may be optimized out. */
	while (!__atomic_load_n(&r->stop, __ATOMIC_RELAXED))
		for (i = 0; i < r->len / 8 &&
		     !__atomic_load_n(&r->stop, __ATOMIC_RELAXED); i += PAGE / 8)
			sink += __atomic_load_n(&r->p[i], __ATOMIC_RELAXED);
	return (void *)(uintptr_t)sink;
}

static inline int region_start(struct region *r)
{
	__atomic_store_n(&r->stop, false, __ATOMIC_RELAXED);
	return pthread_create(&r->toucher, NULL, region_touch, r);
}

static inline void region_stop(struct region *r)
{
	__atomic_store_n(&r->stop, true, __ATOMIC_RELAXED);
	pthread_join(r->toucher, NULL);
}

static inline unsigned long region_start_addr(const struct region *r)
{
	return (unsigned long)r->p;
}

static inline unsigned long region_end_addr(const struct region *r)
{
	return (unsigned long)r->p + r->len;
}

/* Poll until at least @pct percent of the region is on @nid. */
/*
 * Poll until at least @pct percent of [@start, @end) of @pid is on @nid,
 * or the monotonic clock passes @deadline (now_s()); the last percentage.
 */
static inline double wait_pct_on(pid_t pid, unsigned long start,
				 unsigned long end, int nid, double pct,
				 double deadline)
{
	double got;

	do {
		got = pct_on(pid, start, end, nid);
		if (got >= pct)
			break;
		usleep(POLL_US);
	} while (now_s() < deadline);
	return got;
}

static inline double wait_region_on(const struct region *r, int nid,
				    double pct, int timeout_s)
{
	return wait_pct_on(getpid(), region_start_addr(r), region_end_addr(r),
			   nid, pct, now_s() + timeout_s);
}

/* ---- the fixture ---- */

FIXTURE(hp) {
	unsigned long long knob[ARRAY_SIZE(saved_knobs)];
	char scope[32];
	int fast, slow;
};

FIXTURE_SETUP(hp)
{
	unsigned int i;

	if (access(HP_SYSFS "/migrate", F_OK))
		SKIP(return, "no " HP_SYSFS "/migrate: kernel without placement");
	self->fast = node_knob("fast_node");
	self->slow = node_knob("slow_node");
	if (self->fast < 0 || self->slow < 0)
		SKIP(return, "needs a fast and a slow memory node");
	for (i = 0; i < ARRAY_SIZE(saved_knobs); i++) {
		ASSERT_EQ(0, knob_read_u64(saved_knobs[i], &self->knob[i]))
			TH_LOG("reading %s", saved_knobs[i]);
	}
	ASSERT_EQ(0, choice_selected("scope", self->scope,
				     sizeof(self->scope)));
	/*
	 * Sample harder and end epochs sooner than the defaults so that the
	 * TCG guest gets there in minutes; placement itself is unchanged.
	 */
	ASSERT_EQ(0, knob_write("enabled", "1"));
	ASSERT_EQ(0, knob_write("migrate", "1"));
	ASSERT_EQ(0, knob_write("abit_pages", "4096"));
	ASSERT_EQ(0, knob_write("abit_interval_ms", "100"));
	ASSERT_EQ(0, knob_write("epoch_ms", "500"));
}

FIXTURE_TEARDOWN(hp)
{
	unsigned long long v;
	char cur[32];
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(saved_knobs); i++) {
		if (!knob_read_u64(saved_knobs[i], &v) && v == self->knob[i])
			continue;
		EXPECT_EQ(0, knob_write_u64(saved_knobs[i], self->knob[i]))
			TH_LOG("restoring %s", saved_knobs[i]);
	}
	if (choice_selected("scope", cur, sizeof(cur)) ||
	    strcmp(cur, self->scope)) {
		EXPECT_EQ(0, knob_write("scope", self->scope));
	}
}

#endif /* HP_PLACEMENT_H */
