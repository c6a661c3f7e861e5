// SPDX-License-Identifier: GPL-2.0
/*
 * HyperPlace's nodes come from the kernel's memory tiers, in any number:
 * fast_nodes are the memory nodes of the top tiers (up to the lowest tier
 * that has a node with CPUs, as the kernel decides promotion), slow_nodes
 * the other memory nodes; and a process's hot pages go to the fast node
 * nearest the CPU it runs on, whichever slow node they start on.
 *
 * Both hold in any guest with a fast and a slow node: with one fast node
 * the second test has one case, with two (vm.py --topology 2+2) two, each
 * starting from the slow node farthest from it.
 */

#define _GNU_SOURCE
#include <dirent.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../kselftest_harness.h"
#include "hp_common.h"
#include "hp_placement.h"

#define NODE_SYSFS	"/sys/devices/system/node"
#define TIERS_SYSFS	"/sys/devices/virtual/memory_tiering"

static long long node_list(const char *state)
{
	char path[128];

	snprintf(path, sizeof(path), NODE_SYSFS "/%s", state);
	return list_read(path);
}

/*
 * The memory nodes the kernel counts as top tier: those of the tiers up
 * to the lowest one with a node that has CPUs (mm/memory-tiers.c,
 * top_tier_adistance).  All of them where there are no tiers.
 */
static long long top_tier_nodes(long long memory, long long cpu)
{
	long long tiers[64] = { 0 }, top = 0;
	int id, last_cpu_tier = -1;
	struct dirent *d;
	DIR *dir;

	dir = opendir(TIERS_SYSFS);
	if (!dir)
		return memory;
	while ((d = readdir(dir))) {
		char path[320];

		if (sscanf(d->d_name, "memory_tier%d", &id) != 1 || id < 0 ||
		    id >= 64)
			continue;
		snprintf(path, sizeof(path), TIERS_SYSFS "/%s/nodelist",
			 d->d_name);
		tiers[id] = list_read(path);
		if (tiers[id] > 0 && (tiers[id] & cpu) && id > last_cpu_tier)
			last_cpu_tier = id;
	}
	closedir(dir);
	for (id = 0; id <= last_cpu_tier; id++)
		if (tiers[id] > 0)
			top |= tiers[id];
	return top & memory;
}

/*
 * fast_nodes and slow_nodes are the split the memory tiers make (read a
 * few times: khyperplaced may be about to read the tiers again).
 */
TEST_F(hp, nodes_follow_memory_tiers)
{
	long long memory = node_list("has_memory");
	long long cpu = node_list("has_cpu");
	long long fast, slow, want_fast, want_slow;
	double end = now_s() + 5;

	ASSERT_GT(memory, 0);
	ASSERT_GT(cpu, 0);
	want_fast = top_tier_nodes(memory, cpu);
	want_slow = memory & ~want_fast;
	if (!want_fast || !want_slow) {
		/* One tier: the CPU-less nodes are the slow ones. */
		want_fast = memory & cpu;
		want_slow = memory & ~cpu;
		if (!want_fast) {
			want_fast = want_slow;
			want_slow = 0;
		}
	}
	do {
		fast = list_read(HP_SYSFS "/fast_nodes");
		slow = list_read(HP_SYSFS "/slow_nodes");
		if (fast == want_fast && slow == want_slow)
			break;
		usleep(POLL_US);
	} while (now_s() < end);
	TH_LOG("memory nodes %#llx, CPUs %#llx: fast %#llx (want %#llx), slow %#llx (want %#llx)",
	       memory, cpu, fast, want_fast, slow, want_slow);
	EXPECT_EQ(want_fast, fast);
	EXPECT_EQ(want_slow, slow);
	/* The single-node files name the lowest of each. */
	EXPECT_EQ(__builtin_ctzll(fast), self->fast);
	EXPECT_EQ(__builtin_ctzll(slow), self->slow);
}

/*
 * Node distance from @a to @b, or 255: NODE_SYSFS/nodeA/distance has a
 * column per online node, in order.
 */
static int distance(int a, int b)
{
	long long online = node_list("online");
	char path[128], buf[256], *p = buf;
	int i, col, d = 255;

	if (online < 0 || !(online & 1ULL << b))
		return d;
	col = __builtin_popcountll(online & ((1ULL << b) - 1));
	snprintf(path, sizeof(path), NODE_SYSFS "/node%d/%s", a, "distance");
	if (read_line(path, buf, sizeof(buf)))
		return d;
	for (i = 0; i <= col; i++)
		d = strtol(p, &p, 10);
	return d;
}

/*
 * In a child pinned to the CPUs of fast node @fast: fill a region on slow
 * node @slow, keep it busy and wait until it is on @fast.
 * Return: 0 if it got there with its data, 1 if not, 2+ on setup errors.
 */
static int pinned_region_moves(int fast, int slow)
{
	long long cpus;
	char path[128];
	struct region r;
	cpu_set_t set;
	double pct;
	int cpu;

	snprintf(path, sizeof(path), NODE_SYSFS "/node%d/cpulist", fast);
	cpus = list_read(path);
	if (cpus <= 0)
		return 2;
	CPU_ZERO(&set);
	for (cpu = 0; cpu < 64; cpu++)
		if (cpus & 1ULL << cpu)
			CPU_SET(cpu, &set);
	if (sched_setaffinity(0, sizeof(set), &set))
		return 3;
	if (region_create(&r, REGION_MIB, false, slow) || region_start(&r))
		return 4;
	pct = wait_region_on(&r, fast, 90, MOVE_TIMEOUT_S);
	region_stop(&r);
	printf("# pinned to node %d, filled on node %d: %.1f%% on node %d\n",
	       fast, slow, pct, fast);
	fflush(stdout);
	return pct >= 90 && r.sum == region_checksum(&r) ? 0 : 1;
}

/*
 * For each fast node with CPUs: a process pinned to its CPUs, with a busy
 * region filled on the slow node farthest from it, gets the region moved
 * to that fast node, not to the fast node nearest the slow one.
 */
TEST_F_TIMEOUT(hp, hot_pages_go_to_the_fast_node_near_the_task,
	       4 * (MOVE_TIMEOUT_S + 30))
{
	long long fast = list_read(HP_SYSFS "/fast_nodes");
	long long slow = list_read(HP_SYSFS "/slow_nodes");
	long long cpu = node_list("has_cpu");
	int f, s, far, status, cases = 0;
	pid_t pid;

	ASSERT_GT(fast, 0);
	ASSERT_GT(slow, 0);
	for (f = 0; f < 63; f++) {
		if (!(fast & cpu & 1ULL << f))
			continue;
		for (far = -1, s = 0; s < 63; s++)
			if (slow & 1ULL << s &&
			    (far < 0 || distance(f, s) > distance(f, far)))
				far = s;
		pid = fork();
		ASSERT_GE(pid, 0);
		if (pid == 0)
			_exit(pinned_region_moves(f, far));
		ASSERT_EQ(pid, waitpid(pid, &status, 0));
		EXPECT_TRUE(WIFEXITED(status) && !WEXITSTATUS(status))
			TH_LOG("fast node %d, pages from node %d: status %#x",
			       f, far, status);
		cases++;
	}
	EXPECT_GT(cases, 0) TH_LOG("no fast node has CPUs");
}

TEST_HARNESS_MAIN
