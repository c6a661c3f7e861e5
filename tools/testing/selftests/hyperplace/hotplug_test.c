// SPDX-License-Identifier: GPL-2.0
/*
 * HyperPlace follows memory hotplug: when every memory block of a slow
 * node goes offline, as when a CXL device is removed, the node leaves
 * slow_nodes; when the blocks come online again, as when it is added, the
 * node is back and its pages are placed.
 *
 * Needs a CPU-less node whose memory is all in ZONE_MOVABLE, so that all
 * of it can go offline: vm.py --topology 2+2 hot-adds node 3's, a DIMM
 * onlined as movable, once the guest is up.  While the node goes and
 * comes back, epochs are ten minutes long: only the memory hotplug
 * notifier can make HyperPlace follow.  Not in the default run list
 * (TEST_GEN_PROGS_EXTENDED): `make check` runs it in that guest, where it
 * must not skip.
 */

#define _GNU_SOURCE
#include <dirent.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../kselftest_harness.h"
#include "hp_common.h"
#include "hp_placement.h"

#define NODE_SYSFS	"/sys/devices/system/node"
#define MEM_SYSFS	"/sys/devices/system/memory"
#define MAX_BLOCKS	4096
/*
 * The node list follows within this.  Epochs are made longer than the
 * test meanwhile, so only the memory hotplug notifier can make it follow.
 */
#define FOLLOW_TIMEOUT_S	10
#define LONG_EPOCH_MS		"600000"
#define OFFLINE_TRIES		20

/* The memory blocks of node @nid ("memoryN" links); their number. */
static int node_blocks(int nid, int *blocks)
{
	char path[128];
	struct dirent *d;
	int n = 0, b;
	DIR *dir;

	snprintf(path, sizeof(path), NODE_SYSFS "/node%d", nid);
	dir = opendir(path);
	if (!dir)
		return 0;
	while ((d = readdir(dir)) && n < MAX_BLOCKS)
		if (sscanf(d->d_name, "memory%d", &b) == 1)
			blocks[n++] = b;
	closedir(dir);
	return n;
}

static int block_read(int block, const char *file, char *buf, size_t len)
{
	char path[128];

	snprintf(path, sizeof(path), MEM_SYSFS "/memory%d/%s", block, file);
	return read_line(path, buf, len);
}

static int block_write(int block, const char *val)
{
	char path[128];

	snprintf(path, sizeof(path), MEM_SYSFS "/memory%d/state", block);
	return write_str(path, val);
}

/* Whether every block of @blocks is online in ZONE_MOVABLE. */
static bool all_movable(const int *blocks, int n)
{
	char state[32], zones[64];
	int i;

	for (i = 0; i < n; i++) {
		if (block_read(blocks[i], "state", state, sizeof(state)) ||
		    block_read(blocks[i], "valid_zones", zones, sizeof(zones)) ||
		    strcmp(state, "online") || strcmp(zones, "Movable"))
			return false;
	}
	return n > 0;
}

/* Poll until slow_nodes has node @nid (@want) or not; its last value. */
static long long wait_slow_nodes(int nid, bool want)
{
	double end = now_s() + FOLLOW_TIMEOUT_S;
	long long slow;

	do {
		slow = list_read(HP_SYSFS "/slow_nodes");
		if (slow >= 0 && !!(slow & 1ULL << nid) == want)
			break;
		usleep(POLL_US);
	} while (now_s() < end);
	return slow;
}

/* Offline (or online movable) every block of @blocks; 0 or -errno. */
static int set_blocks(const int *blocks, int n, bool online)
{
	int i, t, ret = 0;

	for (i = 0; i < n; i++) {
		/* Offlining migrates the pages away and may need retries. */
		for (t = 0; t < OFFLINE_TRIES; t++) {
			ret = block_write(blocks[i], online ? "online_movable" :
							      "offline");
			if (ret != -EBUSY && ret != -EAGAIN)
				break;
			usleep(POLL_US);
		}
		if (ret)
			return ret;
	}
	return 0;
}

/* Percent of @r on the fast nodes, polled until @pct or the deadline. */
static double wait_region_fast(const struct region *r, double pct)
{
	double end = now_s() + MOVE_TIMEOUT_S, got;
	long long fast;
	int nid;

	do {
		fast = list_read(HP_SYSFS "/fast_nodes");
		for (got = 0, nid = 0; fast > 0 && nid < 63; nid++)
			if (fast & 1ULL << nid)
				got += pct_on(getpid(), region_start_addr(r),
					      region_end_addr(r), nid);
		if (got >= pct)
			break;
		usleep(POLL_US);
	} while (now_s() < end);
	return got;
}

/*
 * A CPU-less node whose memory is all movable (hot-added: vm.py's 2+2
 * guest adds it after boot) is in slow_nodes.  When all of that memory
 * goes offline the node leaves slow_nodes and has no memory; back online,
 * it is in slow_nodes again, and a busy region filled on it moves to the
 * fast nodes.
 */
TEST_F_TIMEOUT(hp, slow_node_removed_is_dropped_and_added_is_used,
	       3 * FOLLOW_TIMEOUT_S + MOVE_TIMEOUT_S + 120)
{
	static int blocks[MAX_BLOCKS];
	long long memory = list_read(NODE_SYSFS "/has_memory");
	long long cpu = list_read(NODE_SYSFS "/has_cpu"), now;
	int nid, n = 0, hot = -1;
	struct region r;
	double pct;

	ASSERT_GT(memory, 0);
	for (nid = 0; nid < 63 && hot < 0; nid++) {
		if (!(memory & ~cpu & 1ULL << nid))
			continue;
		n = node_blocks(nid, blocks);
		if (all_movable(blocks, n))
			hot = nid;
	}
	if (hot < 0)
		SKIP(return, "no CPU-less node with all memory movable (see vm.py --topology 2+2)");
	TH_LOG("node %d: %d movable memory blocks", hot, n);
	now = wait_slow_nodes(hot, true);
	ASSERT_GE(now, 0);
	ASSERT_TRUE(now & 1ULL << hot)
		TH_LOG("node %d, with memory and no CPU, not in slow_nodes %#llx",
		       hot, now);

	ASSERT_EQ(0, knob_write("epoch_ms", LONG_EPOCH_MS));
	/* Let an epoch that was due go by. */
	sleep(1);
	ASSERT_EQ(0, set_blocks(blocks, n, false));
	now = wait_slow_nodes(hot, false);
	ASSERT_GE(now, 0);
	TH_LOG("offline: slow_nodes %#llx, has_memory %#llx", now,
	       list_read(NODE_SYSFS "/has_memory"));
	EXPECT_FALSE(now & 1ULL << hot) TH_LOG("removed node %d still used", hot);
	EXPECT_FALSE(list_read(NODE_SYSFS "/has_memory") & 1ULL << hot);

	ASSERT_EQ(0, set_blocks(blocks, n, true));
	now = wait_slow_nodes(hot, true);
	TH_LOG("online: slow_nodes %#llx", now);
	ASSERT_GE(now, 0);
	ASSERT_TRUE(now & 1ULL << hot) TH_LOG("added node %d not used", hot);
	/* Epochs as the fixture set them: the region below must be ranked. */
	ASSERT_EQ(0, knob_write("epoch_ms", "500"));

	ASSERT_EQ(0, region_create(&r, REGION_MIB, false, hot));
	ASSERT_EQ(0, region_start(&r));
	pct = wait_region_fast(&r, 90);
	region_stop(&r);
	TH_LOG("a region filled on node %d: %.1f%% on the fast nodes", hot,
	       pct);
	EXPECT_GE(pct, 90.0);
	EXPECT_EQ(r.sum, region_checksum(&r));
}

TEST_HARNESS_MAIN
