// SPDX-License-Identifier: GPL-2.0
/*
 * HyperPlace obeys the kernel's placement rules: a process confined to the
 * slow node by its cpuset or by set_mempolicy(MPOL_BIND) is never
 * promoted, while one bound to both nodes is; the copy-on-write pages an
 * opted-out parent shares with a placed child stay put; the moves are
 * counted in the memory cgroup's memory.stat; opting in needs
 * CAP_SYS_NICE; and it moves nothing while NUMA balancing's tiering mode
 * or DAMON runs.
 *
 * Every case runs in a worker process of its own, all at once, so that
 * one positive control (regions that are allowed to move, and do) sets
 * how long the confined ones are watched.  Nothing here is timed.
 */

#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../kselftest_harness.h"
#include "hp_common.h"
#include "hp_placement.h"

#define CGROOT		"/sys/fs/cgroup"
#define CG_COUNTED	CGROOT "/hp-rules-counted"
#define CG_CONFINED	CGROOT "/hp-rules-confined"

/* What each worker process does; see worker_run(). */
enum worker_kind {
	W_COUNTED,	/* free to move, in its own memory cgroup */
	W_BOUND_BOTH,	/* MPOL_BIND to both nodes: free to move */
	W_BOUND_SLOW,	/* MPOL_BIND to the slow node */
	W_CPUSET,	/* cpuset.mems is the slow node */
	W_COW,		/* excluded parent; its placed child reads its pages */
	NR_WORKERS,
};

static const char * const worker_names[NR_WORKERS] = {
	[W_COUNTED] = "memcg-counted region",
	[W_BOUND_BOTH] = "MPOL_BIND to both nodes",
	[W_BOUND_SLOW] = "MPOL_BIND to the slow node",
	[W_CPUSET] = "cpuset.mems = slow node",
	[W_COW] = "COW pages of an excluded parent",
};

/**
 * struct report - a region a worker reports: "KIND PID START END ROLE"
 * @kind: the worker's &enum worker_kind
 * @pid: the process whose pages to look at
 * @start: first byte
 * @end: one past the last byte
 * @role: 'm' must move, 's' must stay where it is
 */
struct report {
	int kind;
	pid_t pid;
	unsigned long start, end;
	char role;
};

static int cg_write(const char *dir, const char *file, const char *val)
{
	char path[256];

	snprintf(path, sizeof(path), "%s/%s", dir, file);
	return write_str(path, val);
}

static int cg_join(const char *dir)
{
	char pid[32];

	snprintf(pid, sizeof(pid), "%d", getpid());
	return cg_write(dir, "cgroup.procs", pid);
}

/* Whether something is mounted on @dir (a line of /proc/self/mounts). */
static bool mounted(const char *dir)
{
	char *all = read_all("/proc/self/mounts"), pat[128];
	bool found;

	snprintf(pat, sizeof(pat), " %s ", dir);
	found = all && strstr(all, pat);
	free(all);
	return found;
}

/*
 * Mount cgroup2 where nothing is mounted yet (as in the test guest) and
 * enable cpuset and memory for children.  A host with cgroup v1 there
 * is left alone: the test skips.
 */
static const char *cgroups_setup(int slow)
{
	char *ctl, mems[16];

	if (!mounted(CGROOT)) {
		mkdir(CGROOT, 0755);
		if (mount("cgroup2", CGROOT, "cgroup2", 0, NULL))
			return "cannot mount cgroup2";
	}
	if (access(CGROOT "/cgroup.controllers", F_OK))
		return "no cgroup v2 at " CGROOT;
	ctl = read_all(CGROOT "/cgroup.controllers");
	if (!ctl || !strstr(ctl, "cpuset") || !strstr(ctl, "memory")) {
		free(ctl);
		return "no cpuset or memory controller";
	}
	free(ctl);
	if (cg_write(CGROOT, "cgroup.subtree_control", "+cpuset +memory"))
		return "cannot enable cpuset and memory";
	rmdir(CG_COUNTED);
	rmdir(CG_CONFINED);
	if (mkdir(CG_COUNTED, 0755) || mkdir(CG_CONFINED, 0755))
		return "cannot create the test cgroups";
	snprintf(mems, sizeof(mems), "%d", slow);
	if (cg_write(CG_CONFINED, "cpuset.mems", mems))
		return "cannot set cpuset.mems";
	return NULL;
}

/*
 * Tell the test where @r is.  A process closes its end of the pipe once
 * it reported all it will, so that the test sees EOF if one failed.
 */
static void report(int fd, enum worker_kind kind, const struct region *r,
		   char role)
{
	char line[96];
	int n;

	n = snprintf(line, sizeof(line), "%d %d %lx %lx %c\n", kind, getpid(),
		     region_start_addr(r), region_end_addr(r), role);
	if (write(fd, line, n) != n)
		_exit(10);
}

/* Block until the test closes the pipe, then check @r's data. */
static int wait_and_check(int in, struct region *r, int nr)
{
	char c;
	int i, bad = 0;

	while (read(in, &c, 1) > 0)
		;
	for (i = 0; i < nr; i++) {
		region_stop(&r[i]);
		bad += r[i].sum != region_checksum(&r[i]);
	}
	return bad ? 2 : 0;
}

/*
 * The child of the W_COW worker: placed, it reads the region it shares
 * with its excluded parent (@shared) and keeps a region of its own busy,
 * which must move: that shows the child is placed.
 */
static int cow_child(int out, int in, struct region *shared, int slow)
{
	struct region r[2];

	if (prctl(PR_SET_HYPERPLACE, PR_HYPERPLACE_DEFAULT, 0, 0, 0))
		return 3;
	r[0] = *shared;
	if (region_create(&r[1], REGION_MIB, false, slow) ||
	    region_start(&r[0]) || region_start(&r[1]))
		return 4;
	report(out, W_COW, &r[1], 'm');
	close(out);
	return wait_and_check(in, r, 2);
}

/*
 * A worker: set up its case, report its regions, wait, check its data.
 * The region is filled and checksummed while the process is excluded,
 * so that nothing moves before the case's own rule is in place.
 */
static int worker_run(enum worker_kind kind, int out, int in, int fast,
		      int slow)
{
	struct region r;
	int status, ret;
	pid_t child;

	if (prctl(PR_SET_HYPERPLACE, PR_HYPERPLACE_EXCLUDE, 0, 0, 0))
		return 3;
	if (kind == W_COUNTED && cg_join(CG_COUNTED))
		return 5;
	if (kind == W_CPUSET && cg_join(CG_CONFINED))
		return 5;
	if (region_create(&r, REGION_MIB, false, slow))
		return 6;
	/* region_create() left the default policy: set the case's own. */
	if (kind == W_BOUND_BOTH &&
	    set_policy_mask(MPOL_BIND, 1UL << fast | 1UL << slow))
		return 7;
	if (kind == W_BOUND_SLOW && set_policy(MPOL_BIND, slow))
		return 7;
	if (kind != W_COW) {
		/* The toucher thread inherits the thread's policy. */
		if (region_start(&r) ||
		    prctl(PR_SET_HYPERPLACE, PR_HYPERPLACE_DEFAULT, 0, 0, 0))
			return 8;
		report(out, kind, &r, kind == W_BOUND_SLOW || kind == W_CPUSET ?
				      's' : 'm');
		close(out);
		return wait_and_check(in, &r, 1);
	}
	report(out, kind, &r, 's');
	child = fork();
	if (child < 0)
		return 9;
	if (child == 0)
		_exit(cow_child(out, in, &r, slow));
	close(out);
	ret = wait_and_check(in, &r, 0);
	if (waitpid(child, &status, 0) != child || !WIFEXITED(status))
		return 11;
	if (WEXITSTATUS(status))
		return 20 + WEXITSTATUS(status);
	return ret ?: (r.sum == region_checksum(&r) ? 0 : 2);
}

/* Read "KIND PID START END ROLE" lines until @want of them came. */
static int read_reports(FILE *f, struct report *rep, int want)
{
	int n = 0;

	while (n < want && fscanf(f, "%d %d %lx %lx %c", &rep[n].kind,
				  &rep[n].pid, &rep[n].start, &rep[n].end,
				  &rep[n].role) == 5 &&
	       rep[n].kind >= 0 && rep[n].kind < NR_WORKERS)
		n++;
	return n;
}

/*
 * All cases at once.  The regions free to move must reach the fast node
 * (the control); then, for three times as long as that took, the
 * confined ones and the parent's copy-on-write pages must not get there.
 * The counted region's promotions show in its cgroup's memory.stat, and
 * the shared folios left alone in stats/skipped_shared.
 */
TEST_F_TIMEOUT(hp, placement_obeys_owner_rules,
	       (QUIET_TIMES + 1) * MOVE_TIMEOUT_S + QUIET_MIN_S + 120)
{
	/* W_COW reports twice: the parent's region and the child's own. */
	enum { NR_REPORTS = NR_WORKERS + 1 };
	struct report rep[NR_REPORTS];
	unsigned long long policy0, shared0, policy, shared;
	int to_test[2], to_workers[2], i, n, status, failed;
	double t0, took, quiet_s, pct;
	pid_t pids[NR_WORKERS];
	long long promoted;
	const char *why;
	struct where w;
	FILE *in;

	why = cgroups_setup(self->slow);
	if (why)
		SKIP(return, "%s", why);
	ASSERT_EQ(0, knob_write("scope", "all"));
	ASSERT_EQ(0, stat_read("skipped_policy", &policy0));
	ASSERT_EQ(0, stat_read("skipped_shared", &shared0));
	ASSERT_EQ(0, pipe(to_test));
	ASSERT_EQ(0, pipe(to_workers));
	for (i = 0; i < NR_WORKERS; i++) {
		pids[i] = fork();
		ASSERT_GE(pids[i], 0);
		if (pids[i] == 0) {
			close(to_test[0]);
			close(to_workers[1]);
			_exit(worker_run(i, to_test[1], to_workers[0],
					 self->fast, self->slow));
		}
	}
	close(to_test[1]);
	close(to_workers[0]);
	in = fdopen(to_test[0], "r");
	ASSERT_NE(NULL, in);
	n = read_reports(in, rep, NR_REPORTS);
	ASSERT_EQ(NR_REPORTS, n) TH_LOG("a worker failed to set up");

	/* The control: every region free to move gets to the fast node. */
	t0 = now_s();
	for (i = 0; i < n; i++) {
		if (rep[i].role != 'm')
			continue;
		pct = wait_pct_on(rep[i].pid, rep[i].start, rep[i].end,
				  self->fast, 90, t0 + MOVE_TIMEOUT_S);
		EXPECT_GE(pct, 90.0)
			TH_LOG("%s (pid %d): a region free to move did not",
			       worker_names[rep[i].kind], rep[i].pid);
	}
	took = now_s() - t0;
	quiet_s = QUIET_TIMES * took;
	if (quiet_s < QUIET_MIN_S)
		quiet_s = QUIET_MIN_S;
	TH_LOG("the free regions moved in %.0f s; the confined ones are watched %.0f s more",
	       took, quiet_s);
	usleep(quiet_s * 1e6);

	for (i = 0; i < n; i++) {
		if (rep[i].role != 's')
			continue;
		ASSERT_EQ(0, where_pages(rep[i].pid, rep[i].start, rep[i].end,
					 self->fast, &w));
		EXPECT_EQ(0, w.on_node)
			TH_LOG("%s (pid %d): %lu of %lu pages on the fast node",
			       worker_names[rep[i].kind], rep[i].pid,
			       w.on_node, w.present);
		/* All there: a region that vanished moved nothing either. */
		EXPECT_EQ((rep[i].end - rep[i].start) / PAGE, w.present);
	}
	/* The counted worker's pages, and what its cgroup counted. */
	for (i = 0; i < n && rep[i].kind != W_COUNTED; i++)
		;
	ASSERT_LT(i, n);
	ASSERT_EQ(0, where_pages(rep[i].pid, rep[i].start, rep[i].end,
				 self->fast, &w));
	/* memory.stat may lag its counters by up to 2 s (FLUSH_TIME). */
	sleep(3);
	promoted = keyed_value(CG_COUNTED "/memory.stat",
			       "pgpromote_hyperplace");
	TH_LOG("counted cgroup: %lu pages on the fast node, memory.stat pgpromote_hyperplace %lld",
	       w.on_node, promoted);
	EXPECT_GE(promoted, (long long)w.on_node);
	EXPECT_GT(w.on_node, 0);
	ASSERT_EQ(0, stat_read("skipped_policy", &policy));
	ASSERT_EQ(0, stat_read("skipped_shared", &shared));
	TH_LOG("skipped_policy +%llu, skipped_shared +%llu", policy - policy0,
	       shared - shared0);
	/*
	 * The confined processes' parts are left out of the plan, so
	 * skipped_policy counts only a rule that changed after a plan; the
	 * child's reads of its parent's pages must have met shared folios.
	 */
	EXPECT_GT(shared, shared0);

	fclose(in);
	close(to_workers[1]);
	for (i = 0, failed = 0; i < NR_WORKERS; i++) {
		ASSERT_EQ(pids[i], waitpid(pids[i], &status, 0));
		if (WIFEXITED(status) && !WEXITSTATUS(status))
			continue;
		failed++;
		TH_LOG("%s: worker status %#x (2: data changed)",
		       worker_names[i], status);
	}
	EXPECT_EQ(0, failed);
	rmdir(CG_COUNTED);
	rmdir(CG_CONFINED);
}

#define DAMON_SYSFS	"/sys/kernel/mm/damon/admin/kdamonds"
#define NUMA_BALANCING	"/proc/sys/kernel/numa_balancing"

/* Start (or stop) a DAMON context that only monitors physical memory. */
static int damon_monitor(bool on)
{
	static const char * const start[][2] = {
		{ "nr_kdamonds", "1" },
		{ "0/contexts/nr_contexts", "1" },
		{ "0/contexts/0/operations", "paddr" },
		{ "0/contexts/0/targets/nr_targets", "1" },
		{ "0/state", "on" },
	};
	char path[256];
	unsigned int i;
	int ret;

	if (!on) {
		ret = write_str(DAMON_SYSFS "/0/state", "off");
		return ret ?: write_str(DAMON_SYSFS "/nr_kdamonds", "0");
	}
	for (i = 0; i < ARRAY_SIZE(start); i++) {
		snprintf(path, sizeof(path), DAMON_SYSFS "/%s", start[i][0]);
		ret = write_str(path, start[i][1]);
		if (ret)
			return ret;
	}
	return 0;
}

static int numa_balancing_tiering(bool on)
{
	return write_str(NUMA_BALANCING, on ? "2" : "0");
}

/* Poll until yielded_to reads @want; what it read last. */
static const char *wait_yielded_to(const char *want, char *buf, size_t len)
{
	double end = now_s() + MOVE_TIMEOUT_S;

	do {
		if (!knob_read("yielded_to", buf, len) && !strcmp(buf, want))
			break;
		usleep(POLL_US);
	} while (now_s() < end);
	return buf;
}

/*
 * While NUMA balancing's tiering mode or a DAMON context runs, HyperPlace
 * says so in yielded_to and moves no page, though a busy region waits on
 * the slow node, for three times as long as such a region took to move
 * just before; once the other one stops, yielded_to is "none" again and a
 * region moves.  (The other mechanism may move the region itself: only
 * HyperPlace's own counts are checked.)
 */
TEST_F_TIMEOUT(hp, hands_over_to_numa_balancing_and_damon,
	       (2 * QUIET_TIMES + 4) * MOVE_TIMEOUT_S + 120)
{
	static const struct {
		const char *name;
		int (*run)(bool on);
	} others[] = {
		{ "numa_balancing", numa_balancing_tiering },
		{ "damon", damon_monitor },
	};
	unsigned long long p0, d0, p = 0, d = 0;
	double quiet_s, t0, pct;
	struct region r;
	unsigned int i;
	char buf[32];

	ASSERT_EQ(0, access(NUMA_BALANCING, W_OK)) TH_LOG("no NUMA balancing");
	ASSERT_EQ(0, access(DAMON_SYSFS, F_OK)) TH_LOG("no DAMON sysfs");
	ASSERT_EQ(0, knob_write("scope", "all"));
	ASSERT_STREQ("none", wait_yielded_to("none", buf, sizeof(buf)));
	ASSERT_EQ(0, region_create(&r, REGION_MIB, false, self->slow));
	ASSERT_EQ(0, region_start(&r));
	t0 = now_s();
	pct = wait_region_on(&r, self->fast, 90, MOVE_TIMEOUT_S);
	region_stop(&r);
	munmap(r.p, r.len);
	ASSERT_GE(pct, 90.0) TH_LOG("no control: a region did not move");
	quiet_s = QUIET_TIMES * (now_s() - t0);
	if (quiet_s < QUIET_MIN_S)
		quiet_s = QUIET_MIN_S;

	/* EXPECT, not ASSERT, in here: the other one must be stopped. */
	for (i = 0; i < ARRAY_SIZE(others); i++) {
		bool ok;

		EXPECT_EQ(0, others[i].run(true))
			TH_LOG("starting %s", others[i].name);
		EXPECT_STREQ(others[i].name,
			     wait_yielded_to(others[i].name, buf, sizeof(buf)));
		ok = !stat_read("promoted", &p0) && !stat_read("demoted", &d0) &&
		     !region_create(&r, REGION_MIB, false, self->slow) &&
		     !region_start(&r);
		EXPECT_TRUE(ok);
		if (ok) {
			usleep(quiet_s * 1e6);
			region_stop(&r);
			EXPECT_EQ(0, stat_read("promoted", &p));
			EXPECT_EQ(0, stat_read("demoted", &d));
			TH_LOG("%s ran %.0f s: HyperPlace promoted %llu, demoted %llu",
			       others[i].name, quiet_s, p - p0, d - d0);
			EXPECT_EQ(p0, p);
			EXPECT_EQ(d0, d);
			EXPECT_EQ(r.sum, region_checksum(&r));
			munmap(r.p, r.len);
		}
		EXPECT_EQ(0, others[i].run(false));
		EXPECT_STREQ("none", wait_yielded_to("none", buf, sizeof(buf)));
	}
	/* Back at work. */
	ASSERT_EQ(0, region_create(&r, REGION_MIB, false, self->slow));
	ASSERT_EQ(0, region_start(&r));
	pct = wait_region_on(&r, self->fast, 90, MOVE_TIMEOUT_S);
	region_stop(&r);
	EXPECT_GE(pct, 90.0) TH_LOG("nothing moved after the others stopped");
}

/*
 * PR_HYPERPLACE_INCLUDE needs CAP_SYS_NICE: without it the call fails
 * with EPERM and the policy stays; opting out and back to the default
 * need no privilege.
 */
TEST_F(hp, include_needs_cap_sys_nice)
{
	int status;
	pid_t pid;

	pid = fork();
	ASSERT_GE(pid, 0);
	if (pid == 0) {
		/* Leaving uid 0 drops every capability. */
		if (setgid(65534) || setuid(65534))
			_exit(1);
		if (prctl(PR_SET_HYPERPLACE, PR_HYPERPLACE_INCLUDE, 0, 0, 0) != -1 ||
		    errno != EPERM)
			_exit(2);
		if (prctl(PR_GET_HYPERPLACE, 0, 0, 0, 0) != PR_HYPERPLACE_DEFAULT)
			_exit(3);
		if (prctl(PR_SET_HYPERPLACE, PR_HYPERPLACE_EXCLUDE, 0, 0, 0) ||
		    prctl(PR_SET_HYPERPLACE, PR_HYPERPLACE_DEFAULT, 0, 0, 0))
			_exit(4);
		_exit(0);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	EXPECT_TRUE(WIFEXITED(status));
	EXPECT_EQ(0, WEXITSTATUS(status))
		TH_LOG("1: no setuid, 2: INCLUDE not EPERM, 3: policy changed, 4: EXCLUDE refused");
	/* With the privilege (uid 0) it is taken. */
	ASSERT_EQ(0, prctl(PR_SET_HYPERPLACE, PR_HYPERPLACE_INCLUDE, 0, 0, 0));
	EXPECT_EQ(PR_HYPERPLACE_INCLUDE, prctl(PR_GET_HYPERPLACE, 0, 0, 0, 0));
	ASSERT_EQ(0, prctl(PR_SET_HYPERPLACE, PR_HYPERPLACE_DEFAULT, 0, 0, 0));
}

TEST_HARNESS_MAIN
