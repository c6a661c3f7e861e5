// SPDX-License-Identifier: GPL-2.0
/*
 * The two-tier guest that HyperPlace is tested in: node 0 is the fast tier
 * and has every CPU, node 1 is the slow tier, has no CPU and sits in a
 * lower memory tier (its HMAT latency/bandwidth are worse), and a
 * virtio-balloon device is bound to its driver.  Every other HyperPlace
 * test relies on this layout, so check it explicitly.
 *
 * On a kernel without HyperPlace, or on a machine with one memory node,
 * the tests skip: such a machine is not a HyperPlace test guest.  A test
 * guest's runner sets HP_SELFTEST_TWO_TIERS=1, and then the layout must be
 * there: a guest started without its second node fails instead of
 * skipping every test that needs it.
 */

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../kselftest_harness.h"
#include "hp_common.h"

#define NODE_SYSFS	"/sys/devices/system/node"
#define TIER_SYSFS	"/sys/devices/virtual/memory_tiering"
#define VIRTIO_SYSFS	"/sys/bus/virtio/devices"
#define VIRTIO_ID_BALLOON 5

/* Does the kernel's node list @list ("0", "0-1", "0,2-3") contain @node? */
static int nodelist_has(const char *list, int node)
{
	const char *p = list;

	while (*p) {
		char *end;
		long lo = strtol(p, &end, 10), hi = lo;

		if (end == p)
			return 0;
		if (*end == '-')
			hi = strtol(end + 1, &end, 10);
		if (node >= lo && node <= hi)
			return 1;
		p = *end == ',' ? end + 1 : end;
	}
	return 0;
}

/*
 * The memory tier id holding @node (or, for @node -1, the smallest id of
 * any tier with a node: the top tier), or -1.  A larger id is a slower tier.
 */
static int tier_of_node(int node)
{
	DIR *dir = opendir(TIER_SYSFS);
	struct dirent *de;
	int tier = -1;

	if (!dir)
		return -1;
	while ((de = readdir(dir))) {
		char path[PATH_MAX], list[256];
		int id;

		if (sscanf(de->d_name, "memory_tier%d", &id) != 1)
			continue;
		snprintf(path, sizeof(path), TIER_SYSFS "/%s/nodelist", de->d_name);
		if (read_line(path, list, sizeof(list)) || !list[0])
			continue;
		if (node >= 0 ? nodelist_has(list, node) : tier < 0 || id < tier)
			tier = id;
	}
	closedir(dir);
	return tier;
}

FIXTURE(guest) {
};

FIXTURE_SETUP(guest)
{
	const char *required = getenv("HP_SELFTEST_TWO_TIERS");
	char list[64];

	if (required && !strcmp(required, "1"))
		return;
	if (access(HP_SYSFS, F_OK))
		SKIP(return, "kernel without HyperPlace (no %s)", HP_SYSFS);
	if (read_line(NODE_SYSFS "/has_memory", list, sizeof(list)) ||
	    !nodelist_has(list, 1))
		SKIP(return, "one memory node: not a two-tier machine");
}

FIXTURE_TEARDOWN(guest)
{
}

TEST_F(guest, two_memory_nodes_online)
{
	char list[64];

	ASSERT_EQ(0, read_line(NODE_SYSFS "/has_memory", list, sizeof(list)));
	EXPECT_STREQ("0-1", list);
}

TEST_F(guest, node0_has_every_cpu)
{
	char cpus[256], online[256];

	ASSERT_EQ(0, read_line(NODE_SYSFS "/node0/cpulist", cpus, sizeof(cpus)));
	ASSERT_EQ(0, read_line("/sys/devices/system/cpu/online", online, sizeof(online)));
	EXPECT_STREQ(online, cpus);
}

TEST_F(guest, node1_is_cpuless)
{
	char cpus[256];

	ASSERT_EQ(0, read_line(NODE_SYSFS "/node1/cpulist", cpus, sizeof(cpus)));
	EXPECT_STREQ("", cpus);
	ASSERT_EQ(0, read_line(NODE_SYSFS "/has_cpu", cpus, sizeof(cpus)));
	EXPECT_FALSE(nodelist_has(cpus, 1));
}

TEST_F(guest, node1_in_lower_memory_tier)
{
	int fast = tier_of_node(0), slow = tier_of_node(1);

	TH_LOG("node 0 in memory_tier%d, node 1 in memory_tier%d", fast, slow);
	ASSERT_GE(fast, 0);
	ASSERT_GE(slow, 0);
	EXPECT_GT(slow, fast);
}

/*
 * HyperPlace promotes to the node it calls fast: that must be a node of the
 * top memory tier, and the node it demotes to one of a lower tier.
 */
TEST_F(guest, fast_node_is_top_tier)
{
	unsigned long long fast, slow;
	int top = tier_of_node(-1);

	ASSERT_EQ(0, knob_read_u64("fast_node", &fast));
	ASSERT_EQ(0, knob_read_u64("slow_node", &slow));
	TH_LOG("fast_node %llu in memory_tier%d, slow_node %llu in memory_tier%d, top tier %d",
	       fast, tier_of_node(fast), slow, tier_of_node(slow), top);
	ASSERT_GE(top, 0);
	EXPECT_EQ(top, tier_of_node(fast));
	EXPECT_GT(tier_of_node(slow), top);
}

TEST_F(guest, balloon_device_bound)
{
	DIR *dir = opendir(VIRTIO_SYSFS);
	struct dirent *de;
	int found = 0;

	ASSERT_NE(NULL, dir);
	while ((de = readdir(dir))) {
		char path[PATH_MAX], id[32], drv[PATH_MAX];
		ssize_t n;

		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), VIRTIO_SYSFS "/%s/device", de->d_name);
		if (read_line(path, id, sizeof(id)) || strtol(id, NULL, 0) != VIRTIO_ID_BALLOON)
			continue;
		snprintf(path, sizeof(path), VIRTIO_SYSFS "/%s/driver", de->d_name);
		n = readlink(path, drv, sizeof(drv) - 1);
		ASSERT_GT(n, 0);
		drv[n] = '\0';
		TH_LOG("%s: balloon bound to %s", de->d_name, drv);
		EXPECT_NE(NULL, strstr(drv, "virtio_balloon"));
		found++;
	}
	closedir(dir);
	EXPECT_EQ(1, found);
}

TEST_HARNESS_MAIN
