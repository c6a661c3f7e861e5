// SPDX-License-Identifier: GPL-2.0
/*
 * HyperPlace's work follows the memory in use, not the address space:
 * a hot set next to a terabyte MAP_NORESERVE reservation is still found
 * and promoted, and cold pages at the far end of the reservation are
 * still demoted; khyperplaced does not wake up at all while HyperPlace
 * is disabled; and once placement is settled, it samples less.
 *
 * Nothing here is timed: waits poll for the outcome with a generous
 * deadline and fail only if it never comes.
 */

#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "../kselftest_harness.h"
#include "hp_common.h"
#include "hp_placement.h"

#define GiB			(1024 * MiB)
#define RESERVATION		(1024 * GiB)
#define HOT_MIB			32UL
/* Where in the reservation the hot set and the cold pages are. */
#define HOT_OFFSET		(RESERVATION / 2)
/* How long a disabled khyperplaced is watched, and the enabled control. */
#define WATCH_S			3
/* Seconds given to a disabled khyperplaced to finish its pass. */
#define SETTLE_TRIES		60

/* The pid of khyperplaced, or -1. */
static pid_t khyperplaced_pid(void)
{
	struct dirent *d;
	pid_t pid = -1;
	DIR *dir = opendir("/proc");

	if (!dir)
		return -1;
	while (pid < 0 && (d = readdir(dir))) {
		char path[300], comm[32];

		if (d->d_name[0] < '1' || d->d_name[0] > '9')
			continue;
		snprintf(path, sizeof(path), "/proc/%s/comm", d->d_name);
		if (!read_line(path, comm, sizeof(comm)) &&
		    !strcmp(comm, "khyperplaced"))
			pid = atoi(d->d_name);
	}
	closedir(dir);
	return pid;
}

/* Times the task was switched out, voluntarily or not (each a wakeup). */
static long long switches(pid_t pid)
{
	char path[64], *all, *p;
	long long n = 0;
	int found = 0;

	snprintf(path, sizeof(path), "/proc/%d/status", pid);
	all = read_all(path);
	for (p = all; p && (p = strstr(p, "ctxt_switches:")); p++) {
		n += atoll(p + strlen("ctxt_switches:"));
		found++;
	}
	free(all);
	return found == 2 ? n : -1;
}

/* Switches of @pid over WATCH_S seconds. */
static long long switches_over_watch(pid_t pid)
{
	long long before = switches(pid), after;

	sleep(WATCH_S);
	after = switches(pid);
	return before < 0 || after < 0 ? -1 : after - before;
}

/*
 * Disabled, khyperplaced sleeps until a knob changes: it is not switched
 * in once while it is watched.  Enabled, it is (the control: the count
 * can see its wakeups).  Before watching, the pass it was in when it was
 * disabled must end: the count must first stand still for a second,
 * which it does only if the thread sleeps.
 */
TEST_F_TIMEOUT(hp, disabled_thread_sleeps, SETTLE_TRIES + 2 * WATCH_S + 30)
{
	long long enabled_n, disabled_n, n;
	pid_t pid = khyperplaced_pid();
	int tries = 0;

	ASSERT_GT(pid, 0) TH_LOG("no khyperplaced thread");
	enabled_n = switches_over_watch(pid);
	ASSERT_EQ(0, knob_write("enabled", "0"));
	do {
		n = switches(pid);
		sleep(1);
	} while (n != switches(pid) && ++tries < SETTLE_TRIES);
	disabled_n = switches_over_watch(pid);
	TH_LOG("khyperplaced switched out %lld times in %d s enabled, %lld disabled",
	       enabled_n, WATCH_S, disabled_n);
	ASSERT_GE(enabled_n, 0);
	EXPECT_GT(enabled_n, 0);
	EXPECT_LT(tries, SETTLE_TRIES) TH_LOG("it never stood still");
	EXPECT_EQ(0, disabled_n);
}

/*
 * A reservation of RESERVATION bytes with MAP_NORESERVE, nearly all of
 * it never touched: a busy hot set in its middle starts on the slow
 * node, and cold pages at its far end fill the fast node below its
 * headroom.  The sampler must find the hot set among the holes and
 * demotion must reach the cold pages across them: the hot set moves to
 * the fast node, some cold pages leave it, and no data changes.
 */
static double region_pct_on(const struct region *r, int nid)
{
	return pct_on(getpid(), region_start_addr(r), region_end_addr(r), nid);
}

TEST_F_TIMEOUT(hp, hot_set_found_next_to_noreserve_terabyte,
	       MOVE_TIMEOUT_S + 120)
{
	long long promoted0, demoted0, promoted, demoted;
	double hot_fast, cold_fast0, cold_fast;
	unsigned long fast_free, cold_mib;
	struct region hot, cold;
	uint8_t *raw, *res;

	raw = mmap(NULL, RESERVATION + 2 * MiB, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (raw == MAP_FAILED)
		SKIP(return, "cannot reserve 1 TiB (vm.overcommit_memory=2?)");
	res = (uint8_t *)(((uintptr_t)raw + 2 * MiB - 1) & ~(2 * MiB - 1));
	/* One VMA: the classifier, not the VMA layout, must find the hot set. */
	ASSERT_EQ(0, madvise(raw, RESERVATION + 2 * MiB, MADV_NOHUGEPAGE));

	ASSERT_EQ(0, knob_write("migrate", "0"));
	/*
	 * Leave the fast node about 64 MiB free, well under a 20% headroom,
	 * so that cold pages must be demoted.
	 */
	ASSERT_EQ(0, knob_write("headroom_pct", "20"));
	fast_free = node_mib(self->fast, "MemFree");
	ASSERT_GT(fast_free, 128UL) TH_LOG("fast node nearly full already");
	cold_mib = fast_free - 64;
	ASSERT_EQ(0, region_fill(&cold, res + RESERVATION - cold_mib * MiB,
				 cold_mib, self->fast));
	ASSERT_EQ(0, region_fill(&hot, res + HOT_OFFSET, HOT_MIB, self->slow));
	cold_fast0 = region_pct_on(&cold, self->fast);
	node_moves(self->fast, &promoted0, &demoted0);
	TH_LOG("cold: %lu MiB at %p, %.1f%% on the fast node; hot: %lu MiB at %p",
	       cold_mib, (void *)cold.p, cold_fast0, HOT_MIB, (void *)hot.p);
	ASSERT_EQ(0, region_start(&hot));
	ASSERT_EQ(0, knob_write("migrate", "1"));

	hot_fast = wait_region_on(&hot, self->fast, 90, MOVE_TIMEOUT_S);
	cold_fast = region_pct_on(&cold, self->fast);
	node_moves(self->fast, &promoted, &demoted);
	region_stop(&hot);
	TH_LOG("hot set on the fast node: %.1f%%; cold pages: %.1f%% -> %.1f%%",
	       hot_fast, cold_fast0, cold_fast);
	EXPECT_GE(hot_fast, 90.0) TH_LOG("the hot set was not promoted");
	TH_LOG("fast node vmstat: +%lld promoted, +%lld demoted by HyperPlace",
	       promoted - promoted0, demoted - demoted0);
	/* Reclaim may demote too: HyperPlace's own count must show it. */
	EXPECT_LT(cold_fast, cold_fast0) TH_LOG("no cold page left the fast node");
	EXPECT_GT(demoted, demoted0) TH_LOG("HyperPlace demoted nothing");
	EXPECT_GE(promoted - promoted0, (long long)(HOT_MIB * MiB / PAGE * 9 / 10));
	EXPECT_EQ(hot.sum, region_checksum(&hot));
	EXPECT_EQ(cold.sum, region_checksum(&cold));
	munmap(raw, RESERVATION + 2 * MiB);
}

/*
 * Once a hot set is placed and stays put, sampling and epochs slow down
 * (stats/backoff): the Accessed-bit sampler then makes fewer than half
 * the passes it makes at full speed, and a knob write brings it back.
 * Full speed is measured first, with moves off so that nothing can
 * settle.  Pass counts, not times, are compared, over equal windows.
 */
#define BACKOFF_WANTED		4
#define BACKOFF_WATCH_S		5
#define BACKOFF_TIMEOUT_S	120

static unsigned long long stat_now(const char *name)
{
	unsigned long long v = 0;

	return stat_read(name, &v) ? ~0ULL : v;
}

/* Accessed-bit sampler passes over BACKOFF_WATCH_S seconds. */
static unsigned long long passes_over_watch(void)
{
	unsigned long long before = stat_now("abit_scans");

	sleep(BACKOFF_WATCH_S);
	return stat_now("abit_scans") - before;
}

TEST_F_TIMEOUT(hp, settled_placement_backs_off,
	       MOVE_TIMEOUT_S + BACKOFF_TIMEOUT_S + 60)
{
	unsigned long long backoff, full_speed, backed_off, after;
	char source[32];
	struct region hot;
	double t0, hot_fast;

	ASSERT_EQ(0, choice_selected("source", source, sizeof(source)));
	/* The back-off is seen in the Accessed-bit sampler's passes. */
	ASSERT_EQ(0, knob_write("source", "abit"));
	ASSERT_EQ(0, knob_write("migrate", "0"));
	ASSERT_EQ(0, region_create(&hot, HOT_MIB, false, self->slow));
	ASSERT_EQ(0, region_start(&hot));
	full_speed = passes_over_watch();
	EXPECT_EQ(1ULL, stat_now("backoff")) TH_LOG("backed off with moves off");

	ASSERT_EQ(0, knob_write("migrate", "1"));
	hot_fast = wait_region_on(&hot, self->fast, 90, MOVE_TIMEOUT_S);
	ASSERT_GE(hot_fast, 90.0) TH_LOG("the hot set was not promoted");
	t0 = now_s();
	do {
		backoff = stat_now("backoff");
		if (backoff >= BACKOFF_WANTED && backoff != ~0ULL)
			break;
		usleep(200000);
	} while (now_s() - t0 < BACKOFF_TIMEOUT_S);
	TH_LOG("backoff %llu after %.0f s of settled placement", backoff,
	       now_s() - t0);
	ASSERT_NE(~0ULL, backoff) TH_LOG("no stats/backoff");
	ASSERT_GE(backoff, BACKOFF_WANTED) TH_LOG("placement never settled");
	backed_off = passes_over_watch();
	TH_LOG("sampler passes in %d s: %llu at full speed, %llu backed off",
	       BACKOFF_WATCH_S, full_speed, backed_off);
	EXPECT_GT(full_speed, 0ULL) TH_LOG("the sampler did not run");
	EXPECT_LT(backed_off, full_speed / 2);

	/* A knob write is a change: full speed again at once. */
	ASSERT_EQ(0, knob_write("epoch_ms", "500"));
	t0 = now_s();
	do {
		after = stat_now("backoff");
		if (after <= 2)
			break;
		usleep(20000);
	} while (now_s() - t0 < 10);
	TH_LOG("backoff %llu after a knob write", after);
	EXPECT_LE(after, 2ULL);
	region_stop(&hot);
	EXPECT_EQ(hot.sum, region_checksum(&hot));
	munmap(hot.p, hot.len);
	EXPECT_EQ(0, knob_write("source", source));
}

TEST_HARNESS_MAIN
