// SPDX-License-Identifier: GPL-2.0
/*
 * HyperPlace placement, end to end in the two-tier guest: a GUPS hot set
 * that starts on the slow node moves to the fast node while cold pages
 * make room; THP folios move whole with their data; nothing moves when
 * placement is disabled or the process opted out; fork, exit, munmap,
 * mremap and mprotect during migration leave no state behind; and every
 * placement knob refuses bad values.
 *
 * Where pages are is read with move_pages(2) queries.  The guest runs
 * under TCG, so nothing here is timed: waits poll for the outcome with a
 * generous deadline and fail only if it never comes.
 */

#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../kselftest_harness.h"
#include "hp_common.h"
#include "hp_placement.h"

/* The hot set of a 1.5 GiB GUPS run moves within this, with margin. */
#define CONVERGE_TIMEOUT_S	480
/* The rate limit test: its window, and what may move beyond the limit */
#define RATE_WINDOW_S		20
#define RATE_SLACK_PAGES	512	/* one huge folio isolated on credit */

/* Numeric placement knobs, their valid ranges and a valid value. */
static const struct num_knob {
	const char *name;
	unsigned long long min, max, good;
} num_knobs[] = {
	{ "rate_limit_mibps",	1,	65536,	512 },
	{ "headroom_pct",	0,	50,	3 },
	{ "split_ratio",	110,	10000,	300 },
	{ "split_min_samples",	1,	1048576, 48 },
	{ "merge_ratio",	100,	10000,	120 },
	{ "merge_floor_samples", 0,	1048576, 2 },
	{ "min_age",		0,	1000,	3 },
	{ "max_ranges",		16,	1048576, 4096 },
	{ "decay_shift",	1,	16,	2 },
	{ "hysteresis",		0,	1000,	30 },
};

/* AnonHugePages (kB) of the mapping of /proc/self/smaps that holds @addr. */
static long thp_kib_at(unsigned long addr)
{
	char line[256];
	bool in = false;
	long kib = -1;
	FILE *f = fopen("/proc/self/smaps", "r");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		unsigned long lo, hi;

		if (sscanf(line, "%lx-%lx ", &lo, &hi) == 2 &&
		    strchr(line, '-') < strchr(line, ' ')) {
			in = lo <= addr && addr < hi;
			continue;
		}
		if (in && sscanf(line, "AnonHugePages: %ld kB", &kib) == 1)
			break;
	}
	fclose(f);
	return kib;
}

/* ---- knobs ---- */

static void expect_refused(struct __test_metadata *_metadata,
			   const char *name, const char *val, int err)
{
	char before[64], after[64];

	ASSERT_EQ(0, knob_read(name, before, sizeof(before)));
	EXPECT_EQ(-err, knob_write(name, val))
		TH_LOG("%s <- '%s'", name, val);
	ASSERT_EQ(0, knob_read(name, after, sizeof(after)));
	EXPECT_STREQ(before, after)
		TH_LOG("%s changed by a refused write of '%s'", name, val);
}

/*
 * Out-of-range values give -ERANGE, garbage -EINVAL, values that
 * contradict another knob -EINVAL; none changes anything.  A valid value
 * is taken and read back.
 */
TEST_F(hp, placement_knobs_validate)
{
	unsigned long long v;
	char buf[32];
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(num_knobs); i++) {
		const struct num_knob *k = &num_knobs[i];
		unsigned long long old;

		ASSERT_EQ(0, knob_read_u64(k->name, &old));
		if (k->min > 0) {
			snprintf(buf, sizeof(buf), "%llu", k->min - 1);
			expect_refused(_metadata, k->name, buf, ERANGE);
		}
		snprintf(buf, sizeof(buf), "%llu", k->max + 1);
		expect_refused(_metadata, k->name, buf, ERANGE);
		expect_refused(_metadata, k->name, "99999999999999999999",
			       ERANGE);
		expect_refused(_metadata, k->name, "-1", EINVAL);
		expect_refused(_metadata, k->name, "12abc", EINVAL);
		expect_refused(_metadata, k->name, "\n", EINVAL);
		ASSERT_EQ(0, knob_write_u64(k->name, k->good))
			TH_LOG("%s <- %llu", k->name, k->good);
		ASSERT_EQ(0, knob_read_u64(k->name, &v));
		EXPECT_EQ(k->good, v);
		ASSERT_EQ(0, knob_write_u64(k->name, old));
	}
	/* merge_ratio must stay below split_ratio ... */
	ASSERT_EQ(0, knob_read_u64("split_ratio", &v));
	snprintf(buf, sizeof(buf), "%llu", v);
	expect_refused(_metadata, "merge_ratio", buf, EINVAL);
	/* ... and merge_floor_samples at most split_min_samples. */
	ASSERT_EQ(0, knob_read_u64("split_min_samples", &v));
	snprintf(buf, sizeof(buf), "%llu", v + 1);
	expect_refused(_metadata, "merge_floor_samples", buf, EINVAL);

	expect_refused(_metadata, "migrate", "2", EINVAL);
	expect_refused(_metadata, "migrate", "on", EINVAL);
	expect_refused(_metadata, "scope", "some", EINVAL);
	expect_refused(_metadata, "scope", "\n", EINVAL);
	ASSERT_EQ(0, knob_write("scope", "opted_in"));
	ASSERT_EQ(0, choice_selected("scope", buf, sizeof(buf)));
	EXPECT_STREQ("opted_in", buf);
	ASSERT_EQ(0, knob_write("scope", "all"));
	EXPECT_EQ(-EACCES, knob_write("fast_node", "1"));
	EXPECT_EQ(-EACCES, knob_write("stats/promoted", "0"));
}

/* ---- the GUPS hot set ---- */

/* Start gups with @argv; its stdout goes to @out. */
static pid_t spawn(char *const argv[], const char *out)
{
	pid_t pid = fork();

	if (pid == 0) {
		int fd = open(out, O_WRONLY | O_CREAT | O_TRUNC, 0644);
		int nul = open("/dev/null", O_RDONLY);

		/* gups --pause-after-init also starts on a newline on stdin. */
		if (nul >= 0)
			dup2(nul, 0);
		if (fd >= 0) {
			dup2(fd, 1);
			dup2(fd, 2);
		}
		execvp(argv[0], argv);
		_exit(127);
	}
	return pid;
}

/* The "START END" the gups --hot-addr-file wrote, once it is there. */
static bool read_hot_file(const char *path, unsigned long *start,
			  unsigned long *end, int timeout_s)
{
	double stop = now_s() + timeout_s;

	do {
		FILE *f = fopen(path, "r");
		int n = 0;

		if (f) {
			n = fscanf(f, "%lx %lx", start, end);
			fclose(f);
		}
		if (n == 2 && *end > *start)
			return true;
		usleep(POLL_US);
	} while (now_s() < stop);
	return false;
}

/* The mapping of @pid that contains @addr. */
static bool vma_of(pid_t pid, unsigned long addr, unsigned long *lo,
		   unsigned long *hi)
{
	char path[64], line[256];
	bool found = false;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/maps", pid);
	f = fopen(path, "r");
	if (!f)
		return false;
	while (!found && fgets(line, sizeof(line), f))
		found = sscanf(line, "%lx-%lx", lo, hi) == 2 &&
			*lo <= addr && addr < *hi;
	fclose(f);
	return found;
}

/*
 * GUPS with an array larger than the fast node: the array is filled from
 * its low end, with migration off, so the fast node fills with what
 * becomes cold data and the hot region, near the high end, lands on the
 * slow node.  Then migration is turned on and the updates start.
 * HyperPlace must bring >= 90% of the hot region to the fast node,
 * demoting cold pages to make room, and the GUPS checksum must match at
 * the end.
 */
TEST_F_TIMEOUT(hp, gups_hot_set_moves_to_fast_node, CONVERGE_TIMEOUT_S + 240)
{
	unsigned long fast_mib = node_mib(self->fast, "MemTotal");
	unsigned long slow_free = node_mib(self->slow, "MemFree");
	unsigned long size, hot_mib = 128, hs, he, lo, hi;
	unsigned long long promoted0, demoted0, promoted, demoted;
	unsigned long long exchanged0, exchanged, failed0, failed;
	long long fast_pro0, fast_de0, slow_pro0, slow_de0, success0;
	long long fast_pro, fast_de, slow_pro, slow_de, success;
	unsigned long long nb = 1;
	char size_s[24], hot_s[24], off_s[24];
	const char *hot_file = "/tmp/placement-hot";
	const char *out = "/tmp/placement-gups.out";
	double start, end, pct = 0, hot_fast0, cold_fast0, cold_fast;
	double last_log = 0;
	char *const argv[] = {
		"gups", "-s", size_s, "-t", "1", "-d", "3600", "-p", "hotset",
		"--hot-mib", hot_s, "--hot-offset", off_s, "--hot-frac", "95",
		"--hot-addr-file", (char *)hot_file, "--pause-after-init", NULL,
	};
	int status;
	pid_t pid;

	size = fast_mib + 512;
	if (slow_free < size - fast_mib / 2 + 256)
		SKIP(return, "slow node too small (%lu MiB free)", slow_free);
	snprintf(size_s, sizeof(size_s), "%lu", size);
	snprintf(hot_s, sizeof(hot_s), "%lu", hot_mib);
	snprintf(off_s, sizeof(off_s), "%lu", size - 2 * hot_mib);
	unlink(hot_file);
	/* Let the array fill by first touch; the fixture turns it back on. */
	ASSERT_EQ(0, knob_write("migrate", "0"));
	pid = spawn(argv, out);
	ASSERT_GT(pid, 0);
	if (!read_hot_file(hot_file, &hs, &he, 300)) {
		kill(pid, SIGKILL);
		waitpid(pid, &status, 0);
		if (WIFEXITED(status) && WEXITSTATUS(status) == 127)
			SKIP(return, "no gups in PATH");
		ASSERT_TRUE(false) TH_LOG("gups never wrote %s", hot_file);
	}
	ASSERT_TRUE(vma_of(pid, hs, &lo, &hi));
	hot_fast0 = pct_on(pid, hs, he, self->fast);
	cold_fast0 = pct_on(pid, lo, hs, self->fast);
	TH_LOG("array %lu MiB, hot %#lx-%#lx", size, hs, he);
	TH_LOG("on the fast node: %.1f%% of the hot set, %.1f%% of the cold part below it",
	       hot_fast0, cold_fast0);
	ASSERT_LT(hot_fast0, 50.0) TH_LOG("the hot set did not start on the slow node");
	ASSERT_EQ(0, stat_read("promoted", &promoted0));
	ASSERT_EQ(0, stat_read("demoted", &demoted0));
	ASSERT_EQ(0, stat_read("exchanged", &exchanged0));
	ASSERT_EQ(0, stat_read("failed", &failed0));
	node_moves(self->fast, &fast_pro0, &fast_de0);
	node_moves(self->slow, &slow_pro0, &slow_de0);
	success0 = keyed_value("/proc/vmstat", "pgpromote_success");
	ASSERT_EQ(0, knob_write("migrate", "1"));
	ASSERT_EQ(0, kill(pid, SIGUSR1));

	start = now_s();
	end = start + CONVERGE_TIMEOUT_S;
	while (now_s() < end) {
		pct = pct_on(pid, hs, he, self->fast);
		if (pct >= 90)
			break;
		if (now_s() - last_log >= 30) {
			last_log = now_s();
			TH_LOG("hot set on the fast node: %.1f%%", pct);
		}
		sleep(1);
	}
	TH_LOG("%.1f%% of the hot set on the fast node after %.0f s", pct,
	       now_s() - start);
	cold_fast = pct_on(pid, lo, hs, self->fast);
	kill(pid, SIGUSR2);
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_EQ(0, stat_read("promoted", &promoted));
	ASSERT_EQ(0, stat_read("demoted", &demoted));
	ASSERT_EQ(0, stat_read("exchanged", &exchanged));
	ASSERT_EQ(0, stat_read("failed", &failed));
	node_moves(self->fast, &fast_pro, &fast_de);
	node_moves(self->slow, &slow_pro, &slow_de);
	success = keyed_value("/proc/vmstat", "pgpromote_success");
	read_u64("/proc/sys/kernel/numa_balancing", &nb);
	TH_LOG("cold part on the fast node %.1f%% -> %.1f%%", cold_fast0, cold_fast);
	TH_LOG("pages promoted %llu, demoted %llu (exchanged %llu), failed %llu",
	       promoted - promoted0, demoted - demoted0,
	       exchanged - exchanged0, failed - failed0);

	EXPECT_GE(pct, 90.0);
	EXPECT_LT(cold_fast, cold_fast0) TH_LOG("no cold page left the fast node");
	EXPECT_GT(demoted, demoted0);
	EXPECT_GT(promoted, promoted0);
	/*
	 * Node vmstat: promotions count on the node they reach, demotions
	 * on the node they leave, so both on the fast node.
	 */
	TH_LOG("fast node vmstat: +%lld promoted, +%lld demoted; slow node: +%lld, +%lld",
	       fast_pro - fast_pro0, fast_de - fast_de0, slow_pro - slow_pro0,
	       slow_de - slow_de0);
	EXPECT_GT(fast_pro, fast_pro0);
	EXPECT_GT(fast_de, fast_de0);
	EXPECT_EQ(slow_pro, slow_pro0);
	EXPECT_EQ(slow_de, slow_de0);
	/* pgpromote_success is NUMA balancing's, and that is off here. */
	if (!nb && success0 >= 0) {
		EXPECT_EQ(success0, success)
			TH_LOG("pgpromote_success counted HyperPlace's promotions");
	}
	EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0)
		TH_LOG("gups failed (verification?), status %#x; see %s",
		       status, out);
}

/* ---- THP and data integrity ---- */

/*
 * A THP-backed region filled on the slow node and kept busy moves to the
 * fast node in whole huge pages, with its contents intact.
 */
TEST_F_TIMEOUT(hp, thp_moves_whole_with_its_data, MOVE_TIMEOUT_S + 60)
{
	struct region r;
	long thp0, thp;
	double pct;

	/* Fill with migration off: a slow kernel would move it meanwhile. */
	ASSERT_EQ(0, knob_write("migrate", "0"));
	ASSERT_EQ(0, region_create(&r, REGION_MIB, true, self->slow));
	thp0 = thp_kib_at(region_start_addr(&r));
	if (thp0 < (long)(REGION_MIB * 1024 / 2))
		SKIP(return, "THP unavailable (%ld kB of huge pages)", thp0);
	ASSERT_EQ(0.0, pct_on(getpid(), region_start_addr(&r),
			      region_end_addr(&r), self->fast));
	ASSERT_EQ(0, knob_write("migrate", "1"));
	ASSERT_EQ(0, region_start(&r));
	pct = wait_region_on(&r, self->fast, 90, MOVE_TIMEOUT_S);
	region_stop(&r);
	thp = thp_kib_at(region_start_addr(&r));
	TH_LOG("%.1f%% on the fast node; AnonHugePages %ld -> %ld kB", pct,
	       thp0, thp);
	EXPECT_GE(pct, 90.0);
	EXPECT_EQ(thp0, thp) TH_LOG("huge pages were split on the way");
	EXPECT_EQ(r.sum, region_checksum(&r)) TH_LOG("data changed");
}

/* ---- nothing moves when it must not ---- */

static unsigned long long moved_pages(void)
{
	unsigned long long p = 0, d = 0;

	stat_read("promoted", &p);
	stat_read("demoted", &d);
	return p + d;
}

/*
 * Fill a region on node @slow, keep it busy and wait until @pct percent of
 * it is on node @fast; return the seconds that took, or -1.
 */
static double region_move_time(struct __test_metadata *_metadata,
			       int slow, int fast, double pct)
{
	struct region r;
	double t0, got, took;

	if (region_create(&r, REGION_MIB, false, slow) || region_start(&r))
		return -1;
	t0 = now_s();
	got = wait_region_on(&r, fast, pct, MOVE_TIMEOUT_S);
	took = now_s() - t0;
	region_stop(&r);
	EXPECT_EQ(r.sum, region_checksum(&r));
	munmap(r.p, r.len);
	TH_LOG("a busy region moved (%.1f%%) in %.1f s", got, took);
	return got >= pct ? took : -1;
}

/*
 * With HyperPlace disabled, with migration off, with the process opted
 * out, or with only opted-in processes placed, a busy region filled on
 * the slow node stays there (and with the first two, no page of any
 * process moves).  First a region moves with placement allowed: that
 * shows the setup would show a move, and how long one takes here; each
 * case is then watched several times that long.
 */
TEST_F_TIMEOUT(hp, nothing_moves_when_not_allowed,
	       (4 * QUIET_TIMES + 1) * MOVE_TIMEOUT_S + 4 * QUIET_MIN_S + 120)
{
	static const struct {
		const char *what, *knob, *val;
		int prctl;
		bool system_wide;
	} cases[] = {
		{ "enabled=0", "enabled", "0", -1, true },
		{ "migrate=0", "migrate", "0", -1, true },
		{ "PR_HYPERPLACE_EXCLUDE", NULL, NULL, PR_HYPERPLACE_EXCLUDE },
		{ "scope=opted_in", "scope", "opted_in", -1 },
	};
	unsigned long long moved0, moved;
	double pct, move_s, quiet_s;
	struct region r;
	unsigned int i;

	move_s = region_move_time(_metadata, self->slow, self->fast, 90);
	ASSERT_GE(move_s, 0) TH_LOG("the region never moved while allowed: no control");
	quiet_s = QUIET_TIMES * move_s;
	if (quiet_s < QUIET_MIN_S)
		quiet_s = QUIET_MIN_S;
	TH_LOG("each case is watched for %.0f s", quiet_s);

	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		if (cases[i].knob) {
			ASSERT_EQ(0, knob_write(cases[i].knob, cases[i].val));
		} else {
			ASSERT_EQ(0, prctl(PR_SET_HYPERPLACE, cases[i].prctl,
					   0, 0, 0));
		}
		moved0 = moved_pages();
		ASSERT_EQ(0, region_create(&r, REGION_MIB, false, self->slow));
		ASSERT_EQ(0, region_start(&r));
		usleep(quiet_s * 1e6);
		region_stop(&r);
		pct = pct_on(getpid(), region_start_addr(&r),
			     region_end_addr(&r), self->fast);
		EXPECT_EQ(0.0, pct) TH_LOG("%s: %.1f%% moved", cases[i].what, pct);
		if (cases[i].system_wide) {
			moved = moved_pages();
			EXPECT_EQ(moved0, moved) TH_LOG("%s", cases[i].what);
		}
		EXPECT_EQ(r.sum, region_checksum(&r));
		munmap(r.p, r.len);
		ASSERT_EQ(0, knob_write("enabled", "1"));
		ASSERT_EQ(0, knob_write("migrate", "1"));
		ASSERT_EQ(0, knob_write("scope", "all"));
		ASSERT_EQ(0, prctl(PR_SET_HYPERPLACE, PR_HYPERPLACE_DEFAULT,
				   0, 0, 0));
	}
}

/*
 * rate_limit_mibps bounds what khyperplaced moves.  At 1 MiB/s, once a
 * busy region on the slow node starts to move, no more pages move in a
 * window than the limit earns in it, plus the one second's worth it may
 * have saved up and one huge folio isolated on credit; and some do move,
 * or the bound would say nothing.
 */
TEST_F_TIMEOUT(hp, rate_limit_bounds_moves,
	       MOVE_TIMEOUT_S + RATE_WINDOW_S + 60)
{
	const unsigned long long mibps = 1, rate = mibps * MiB / PAGE;
	unsigned long long base, moved0, moved;
	double t0, t1, allowed;
	struct region r;

	ASSERT_EQ(0, knob_write_u64("rate_limit_mibps", mibps));
	ASSERT_EQ(0, region_create(&r, REGION_MIB, false, self->slow));
	base = moved_pages();
	ASSERT_EQ(0, region_start(&r));
	/* The window opens at the first move: sampling has found the region. */
	t0 = now_s() + MOVE_TIMEOUT_S;
	while ((moved0 = moved_pages()) == base && now_s() < t0)
		usleep(POLL_US);
	ASSERT_GT(moved0, base) TH_LOG("nothing moved in %d s", MOVE_TIMEOUT_S);
	t0 = now_s();
	sleep(RATE_WINDOW_S);
	moved = moved_pages();
	t1 = now_s();
	region_stop(&r);
	allowed = rate * (t1 - t0 + 1) + RATE_SLACK_PAGES;
	TH_LOG("%llu pages moved in %.1f s at %llu MiB/s (at most %.0f allowed)",
	       moved - moved0, t1 - t0, mibps, allowed);
	EXPECT_GT(moved, moved0);
	EXPECT_LE(moved - moved0, allowed);
	EXPECT_EQ(r.sum, region_checksum(&r));
	munmap(r.p, r.len);
}

/* ---- the prctl policy ---- */

#define HP_DEBUGFS	"/sys/kernel/debug/hyperplace"

/*
 * Make HyperPlace hold state for this process now (a sample at @addr
 * through debugfs "inject" attaches it) and check that "ranges" lists it.
 */
static bool attach_self(void *addr)
{
	char buf[64], *all, *hit;
	pid_t pid = getpid();

	snprintf(buf, sizeof(buf), "%d %#lx any\n", pid, (unsigned long)addr);
	if (write_str(HP_DEBUGFS "/inject", buf))
		return false;
	all = read_all(HP_DEBUGFS "/ranges");
	if (!all)
		return false;
	snprintf(buf, sizeof(buf), "pid %d ", pid);
	hit = strstr(all, buf);
	/* At the start of a line, not the tail of a longer pid */
	while (hit && hit != all && hit[-1] != '\n')
		hit = strstr(hit + 1, buf);
	free(all);
	return hit;
}

#define EXEC_PROBE_ENV		"HP_PLACEMENT_EXEC_PROBE"
/* What exec_probe() exits with: the policy, and 8 if it got state */
#define EXEC_PROBE(policy, managed)	((policy) | ((managed) ? 8 : 0))

/*
 * In a process that prctl_policy_survives_exec started: report the policy
 * this image inherited and whether a sample makes it managed, before the
 * harness runs any test.
 */
__attribute__((constructor)) static void exec_probe(void)
{
	static char page[PAGE];
	int policy;

	if (!getenv(EXEC_PROBE_ENV))
		return;
	policy = prctl(PR_GET_HYPERPLACE, 0, 0, 0, 0);
	page[0] = 1;
	if (policy < 0)
		_exit(100);
	_exit(EXEC_PROBE(policy, attach_self(page)));
}

/* The prctl policy: validated, readable, inherited across fork. */
TEST_F(hp, prctl_policy)
{
	int status;
	pid_t pid;

	EXPECT_EQ(PR_HYPERPLACE_DEFAULT, prctl(PR_GET_HYPERPLACE, 0, 0, 0, 0));
	EXPECT_EQ(-1, prctl(PR_SET_HYPERPLACE, 3, 0, 0, 0));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(-1, prctl(PR_SET_HYPERPLACE, PR_HYPERPLACE_EXCLUDE, 1, 0, 0));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(-1, prctl(PR_GET_HYPERPLACE, 1, 0, 0, 0));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(PR_HYPERPLACE_DEFAULT, prctl(PR_GET_HYPERPLACE, 0, 0, 0, 0));

	ASSERT_EQ(0, prctl(PR_SET_HYPERPLACE, PR_HYPERPLACE_EXCLUDE, 0, 0, 0));
	EXPECT_EQ(PR_HYPERPLACE_EXCLUDE, prctl(PR_GET_HYPERPLACE, 0, 0, 0, 0));
	pid = fork();
	if (pid == 0)
		_exit(prctl(PR_GET_HYPERPLACE, 0, 0, 0, 0));
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	EXPECT_EQ(PR_HYPERPLACE_EXCLUDE, WEXITSTATUS(status));
	ASSERT_EQ(0, prctl(PR_SET_HYPERPLACE, PR_HYPERPLACE_INCLUDE, 0, 0, 0));
	EXPECT_EQ(PR_HYPERPLACE_INCLUDE, prctl(PR_GET_HYPERPLACE, 0, 0, 0, 0));
	ASSERT_EQ(0, prctl(PR_SET_HYPERPLACE, PR_HYPERPLACE_DEFAULT, 0, 0, 0));
}

/*
 * Run this program again with EXEC_PROBE_ENV set: exec_probe() reports
 * the policy the new image has and whether it could be made managed.
 */
static int exec_probe_status(void)
{
	int status;
	pid_t pid = fork();

	if (pid == 0) {
		char *const argv[] = { "placement_test", NULL };

		setenv(EXEC_PROBE_ENV, "1", 1);
		execv("/proc/self/exe", argv);
		_exit(127);
	}
	if (pid < 0 || waitpid(pid, &status, 0) != pid || !WIFEXITED(status))
		return -1;
	return WEXITSTATUS(status);
}

/*
 * The policy is an mm flag kept across exec: an excluded program that
 * execs another stays excluded, and the new image gets no state even
 * when a sample for it arrives; an included one stays included.
 */
TEST_F(hp, prctl_policy_survives_exec)
{
	if (access(HP_DEBUGFS "/inject", W_OK))
		SKIP(return, "no debugfs inject (CONFIG_HYPERPLACE_DEBUG)");
	ASSERT_EQ(0, prctl(PR_SET_HYPERPLACE, PR_HYPERPLACE_EXCLUDE, 0, 0, 0));
	EXPECT_EQ(EXEC_PROBE(PR_HYPERPLACE_EXCLUDE, false), exec_probe_status());
	ASSERT_EQ(0, prctl(PR_SET_HYPERPLACE, PR_HYPERPLACE_INCLUDE, 0, 0, 0));
	EXPECT_EQ(EXEC_PROBE(PR_HYPERPLACE_INCLUDE, true), exec_probe_status());
	ASSERT_EQ(0, prctl(PR_SET_HYPERPLACE, PR_HYPERPLACE_DEFAULT, 0, 0, 0));
}

/* ---- churn ---- */

/*
 * A child that attaches itself, maps, touches, remaps, protects and
 * unmaps, then exits.
 */
#define CHURN_CHILDREN	200

static void churn_child(unsigned int seed)
{
	size_t len = (4 + seed % 8) * MiB;
	char *p, *q;

	p = mmap(NULL, len, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		_exit(1);
	memset(p, seed, len);
	if (!attach_self(p))
		_exit(5);
	q = mremap(p, len, 2 * len, MREMAP_MAYMOVE);
	if (q == MAP_FAILED)
		_exit(2);
	memset(q + len, seed + 1, len);
	if (mprotect(q, len / 2, PROT_READ))
		_exit(3);
	if (q[len / 4] != (char)seed || q[len + 1] != (char)(seed + 1))
		_exit(4);
	usleep(50000 * (seed % 4));
	munmap(q + len / 2, len / 2);
	_exit(0);
}

/* Whether process @pid is alive and not a zombie. */
static bool alive(int pid)
{
	char path[64], buf[256], *p;

	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	if (read_line(path, buf, sizeof(buf)))
		return false;
	p = strrchr(buf, ')');
	return p && p[1] == ' ' && p[2] != 'Z' && p[2] != 'X';
}

/* The processes HyperPlace holds state for, from debugfs "ranges". */
struct hp_states {
	int listed;	/* processes listed */
	int dead;	/* of them, no longer alive */
	int children;	/* of them, a child of the churn */
};

/*
 * Read the states, counting the dead ones and those of @kids (@nr pids);
 * with @log, name each and its command.  -1 if the file cannot be read.
 */
static int read_states(struct __test_metadata *_metadata, struct hp_states *st,
		       const pid_t *kids, unsigned int nr, bool log)
{
	char *all = read_all(HP_DEBUGFS "/ranges"), *line, path[64], *comm;
	unsigned int i;
	int pid;

	memset(st, 0, sizeof(*st));
	if (!all) {
		st->dead = -1;
		return -1;
	}
	for (line = all; line && *line; line = strchr(line, '\n')) {
		if (*line == '\n')
			line++;
		if (sscanf(line, "pid %d ", &pid) != 1 || pid <= 0)
			continue;
		st->listed++;
		st->dead += !alive(pid);
		for (i = 0; i < nr && kids[i] != pid; i++)
			;
		st->children += i < nr;
		if (!log)
			continue;
		snprintf(path, sizeof(path), "/proc/%d/comm", pid);
		comm = read_all(path);
		if (comm)
			comm[strcspn(comm, "\n")] = 0;
		TH_LOG("state held for pid %d (%s)%s%s", pid,
		       comm ? comm : "gone", alive(pid) ? "" : ", not alive",
		       i < nr ? ", a churned child" : "");
		free(comm);
	}
	free(all);
	return 0;
}

/*
 * Processes come and go, and map, move, protect and unmap memory while
 * migration runs (a busy region is on the way to the fast node).  Every
 * child is managed (it attaches itself and checks it is listed) and sees
 * its own data, and the region's data stays intact.  Once the children
 * are gone, HyperPlace holds state for none of them and for no process
 * that is not alive, and its count of managed processes is the number of
 * processes it lists.  With scope=all a process outside the test can be
 * attached meanwhile, so the count is compared with the listing, not with
 * the count before the churn (which it also logs).
 */
TEST_F_TIMEOUT(hp, churn_leaves_no_state, MOVE_TIMEOUT_S + 180)
{
	unsigned int i, bad = 0, detached = 0;
	unsigned long long mms0, mms = 0;
	struct hp_states st = { .dead = -1 };
	pid_t kids[CHURN_CHILDREN];
	struct region r;
	double end;

	if (access(HP_DEBUGFS "/ranges", R_OK))
		SKIP(return, "no debugfs ranges (CONFIG_HYPERPLACE_DEBUG)");
	ASSERT_EQ(0, region_create(&r, REGION_MIB, false, self->slow));
	ASSERT_EQ(0, region_start(&r));
	/* This process is managed before the count is taken. */
	ASSERT_TRUE(attach_self(r.p));
	ASSERT_EQ(0, stat_read("mms", &mms0));
	for (i = 0; i < CHURN_CHILDREN; i++) {
		int status;
		pid_t pid = fork();

		ASSERT_GE(pid, 0);
		if (pid == 0)
			churn_child(i);
		kids[i] = pid;
		/* A few at once, so some exit while others are sampled. */
		if (i % 4 != 3)
			continue;
		while ((pid = wait(&status)) > 0) {
			detached += WIFEXITED(status) && WEXITSTATUS(status) == 5;
			bad += !WIFEXITED(status) || WEXITSTATUS(status);
		}
	}
	while (wait(NULL) > 0)
		;
	EXPECT_EQ(0, detached) TH_LOG("%u children were not managed", detached);
	EXPECT_EQ(0, bad) TH_LOG("%u children failed", bad);
	region_stop(&r);
	EXPECT_EQ(r.sum, region_checksum(&r));

	/* Teardown can be deferred to a workqueue: give it time. */
	end = now_s() + 60;
	do {
		if (!read_states(_metadata, &st, kids, i, false) &&
		    !st.dead && !st.children && !stat_read("mms", &mms) &&
		    mms == (unsigned long long)st.listed)
			break;
		usleep(POLL_US);
	} while (now_s() < end);
	TH_LOG("%llu processes managed before the churn, %llu after, %d listed",
	       mms0, mms, st.listed);
	if (st.dead || st.children || mms != mms0 ||
	    mms != (unsigned long long)st.listed)
		read_states(_metadata, &st, kids, i, true);
	EXPECT_EQ(0, st.dead);
	EXPECT_EQ(0, st.children);
	EXPECT_EQ((unsigned long long)st.listed, mms);
}

TEST_HARNESS_MAIN
