// SPDX-License-Identifier: GPL-2.0-only
/*
 * HyperPlace's fast and slow nodes, from the kernel's memory tiers: the
 * memory nodes of the top tier are fast, every other memory node is
 * slow.  khyperplaced reads them again at every epoch and as soon as
 * memory goes online or offline, so a CXL node onlined later is used and
 * a node whose memory went away is dropped.  Also where a page goes: a
 * promotion to the fast node nearest the CPU of the page's process, a
 * demotion to the kernel's demotion target of the node it leaves.
 */
#define pr_fmt(fmt) "hyperplace: " fmt

#include <linux/memory.h>
#include <linux/memory-tiers.h>
#include <linux/nodemask.h>
#include <linux/seqlock.h>
#include <linux/topology.h>

#include "internal.h"

static DEFINE_SEQLOCK(hp_tiers_lock);
/* Written by hp_tiers_update() only, read through hp_tiers_get(). */
static struct hp_tiers hp_tiers_now = {
	.fast = NODE_MASK_NONE,
	.slow = NODE_MASK_NONE,
};

/* Memory went online or offline: hp_tiers_update() is due. */
static int hp_tiers_stale = 1;
/*
 * Odd while a memory block is going online or offline (memory hotplug
 * operations are serialized, so there is at most one), when N_MEMORY and
 * the tiers may disagree; it moves on at the start and at the end of
 * each, so a reader can tell that one began or ended under it.
 */
static unsigned int hp_tiers_changes;

/**
 * hp_tiers_get() - the current fast and slow nodes
 * @t: filled with them
 */
void hp_tiers_get(struct hp_tiers *t)
{
	unsigned int seq;

	do {
		seq = read_seqbegin(&hp_tiers_lock);
		*t = hp_tiers_now;
	} while (read_seqretry(&hp_tiers_lock, seq));
}

/*
 * Split the memory nodes as the memory tiers do.  With one tier only (no
 * HMAT, or nodes that perform alike), or no top tier (no memory node has
 * CPUs), CPU-less nodes are taken as the slow ones, as CXL.mem and PMEM
 * nodes are, and if that leaves no fast node, every node is fast.
 *
 * Without get_online_mems(): offlining a block holds the hotplug lock
 * while it migrates the block's pages away, and when their only room is
 * on a fast node that needs demotions to free it, a khyperplaced waiting
 * for the lock would never make that room.  Instead, nothing is read
 * while a block is going online or offline (a node that comes online is
 * in N_MEMORY before the memory tiers' callback has given it a tier, and
 * node_is_toptier() takes a node without a tier for a top-tier one), and
 * a read that such a change overlapped, even in part, is thrown away.
 *
 * Return: false if the nodes were changing: try again after the change.
 */
static bool hp_tiers_read(struct hp_tiers *t)
{
	unsigned int changes = READ_ONCE(hp_tiers_changes);
	int nid;

	if (changes & 1)
		return false;
	/* Pairs with the barriers in hp_tiers_memory_event(). */
	smp_rmb();
	nodes_clear(t->fast);
	nodes_clear(t->slow);
	for_each_node_state(nid, N_MEMORY) {
		if (node_is_toptier(nid))
			node_set(nid, t->fast);
		else
			node_set(nid, t->slow);
	}
	if (nodes_empty(t->fast) || nodes_empty(t->slow)) {
		nodes_and(t->fast, node_states[N_MEMORY], node_states[N_CPU]);
		nodes_andnot(t->slow, node_states[N_MEMORY], t->fast);
		if (nodes_empty(t->fast)) {
			t->fast = t->slow;
			nodes_clear(t->slow);
		}
	}
	/* A change that began (or began and ended) during the read shows. */
	smp_rmb();
	return READ_ONCE(hp_tiers_changes) == changes;
}

/**
 * hp_tiers_changing() - whether a memory block is going online or offline
 *
 * Return: true from MEM_GOING_ONLINE or MEM_GOING_OFFLINE until the
 * change is done or given up.
 */
bool hp_tiers_changing(void)
{
	return READ_ONCE(hp_tiers_changes) & 1;
}

/**
 * hp_tiers_update() - read the fast and slow nodes again if memory changed
 * @force: read them even if no memory went online or offline
 *
 * Called by khyperplaced.  Logs the nodes when they change.
 */
void hp_tiers_update(bool force)
{
	struct hp_tiers t;

	/* Cleared before the read: an event during it makes another one. */
	if (!xchg(&hp_tiers_stale, 0) && !force)
		return;
	if (!hp_tiers_read(&t)) {
		/* Read again once the block is done. */
		xchg(&hp_tiers_stale, 1);
		return;
	}
	if (nodes_equal(t.fast, hp_tiers_now.fast) &&
	    nodes_equal(t.slow, hp_tiers_now.slow))
		return;
	write_seqlock(&hp_tiers_lock);
	hp_tiers_now = t;
	write_sequnlock(&hp_tiers_lock);
	if (nodes_empty(t.slow))
		pr_info("fast nodes %*pbl, no slow node: pages are classified, not moved\n",
			nodemask_pr_args(&t.fast));
	else
		pr_info("fast nodes %*pbl, slow nodes %*pbl\n",
			nodemask_pr_args(&t.fast), nodemask_pr_args(&t.slow));
}

/*
 * A memory block is going online or offline, or is done (or gave up): the
 * nodes are changing, or may have changed.
 */
static int hp_tiers_memory_event(struct notifier_block *nb,
				 unsigned long action, void *arg)
{
	switch (action) {
	case MEM_GOING_ONLINE:
	case MEM_GOING_OFFLINE:
		WRITE_ONCE(hp_tiers_changes, hp_tiers_changes + 1);
		/* Before N_MEMORY or a tier changes. */
		smp_wmb();
		/* An offline may wait for the room our demotions make. */
		hp_kick();
		break;
	case MEM_ONLINE:
	case MEM_OFFLINE:
	case MEM_CANCEL_ONLINE:
	case MEM_CANCEL_OFFLINE:
		/*
		 * A cancel also comes to notifiers that never saw the
		 * change begin (an earlier one refused it).
		 */
		if (!(hp_tiers_changes & 1))
			break;
		/* After N_MEMORY and the tiers changed. */
		smp_wmb();
		WRITE_ONCE(hp_tiers_changes, hp_tiers_changes + 1);
		xchg(&hp_tiers_stale, 1);
		hp_kick();
		break;
	}
	return NOTIFY_OK;
}

/**
 * hp_tiers_init() - read the nodes and follow memory hotplug
 *
 * After the memory tiers' own hotplug callback, which moves a node to
 * its tier first.
 */
void __init hp_tiers_init(void)
{
	hotplug_memory_notifier(hp_tiers_memory_event, MEMTIER_HOTPLUG_PRI - 1);
	hp_tiers_update(true);
}

/*
 * The node of @nodes nearest @from (node_distance()), the lowest-numbered
 * of equally near ones, or NUMA_NO_NODE if @nodes is empty.
 */
static int hp_nearest(int from, const nodemask_t *nodes)
{
	int nid, best = NUMA_NO_NODE;

	for_each_node_mask(nid, *nodes) {
		if (best == NUMA_NO_NODE ||
		    node_distance(from, nid) < node_distance(from, best))
			best = nid;
	}
	return best;
}

/**
 * hp_demote_target() - the slow node pages of fast node @nid go to
 * @t: the nodes
 * @allowed: the nodes the process may use (hp_owner_nodes())
 * @nid: the fast node
 *
 * Return: the kernel's demotion target of @nid if it is allowed and
 * slow, else the allowed slow node nearest @nid, or NUMA_NO_NODE.
 */
int hp_demote_target(const struct hp_tiers *t, const nodemask_t *allowed,
		     int nid)
{
	int target = next_demotion_node(nid);
	nodemask_t slow;

	nodes_and(slow, t->slow, *allowed);
	if (target != NUMA_NO_NODE && node_isset(target, slow))
		return target;
	return hp_nearest(nid, &slow);
}
