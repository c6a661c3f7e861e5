// SPDX-License-Identifier: GPL-2.0-only
/*
 * HyperPlace migration: turn the hot set that hp_rank() chooses into page
 * placement.
 *
 * At the end of every epoch the ranges of all placed processes are ranked
 * together against the capacity of the fast nodes (tiers.c), and a plan
 * is made for each fast node: the hot parts, densest first, of the
 * processes whose pages belong on it, and the cold parts, coldest first,
 * whose pages may be demoted from it.  Between epochs khyperplaced works
 * through the plans every tick, within a rate limit: it promotes pages of
 * hot parts that sit on a slow node, demotes cold pages while a fast node
 * has less free memory than its headroom, and when a promotion finds no
 * room it first demotes as many cold pages (an exchange).  The plan is
 * walked again from the start after every epoch, so pages that were busy
 * or newly faulted in are found again.
 *
 * Pages move with isolate_folio_to_list() and migrate_pages(); a page
 * that cannot be isolated or moved stays where it was and is counted.
 * The kernel's rules bind every move: a page goes only to a node its
 * owner's cpuset and mempolicy allow (owner.c), VMAs with their own
 * policy are left alone, and folios that other processes may map (after
 * fork, or merged by KSM) are not moved, as migrate_pages(2) moves them
 * only for MPOL_MF_MOVE_ALL.
 */
#define pr_fmt(fmt) "hyperplace: " fmt

#include <linux/gfp.h>
#include <linux/kthread.h>
#include <linux/math64.h>
#include <linux/memcontrol.h>
#include <linux/migrate.h>
#include <linux/mm.h>
#include <linux/mmzone.h>
#include <linux/nodemask.h>
#include <linux/sched/mm.h>
#include <linux/slab.h>
#include <linux/sort.h>
#include <linux/vmstat.h>

#include "../internal.h"
#include "internal.h"

#include <trace/events/hyperplace.h>

/* Largest batch of pages isolated and moved at once (8 MiB). */
#define HP_MIGRATE_BATCH	2048
/* Pages looked at per tick, so a long plan never hogs the thread. */
#define HP_SCAN_PER_TICK	65536
/*
 * Promotions into free memory stop this many pages above the point where
 * demotions start.  Pages move in whole folios, so without this band a
 * huge page promoted into the last free pages would push the node below
 * its headroom, a huge page would be demoted to restore it, and so on
 * for ever.  (PMD_SIZE, not HPAGE_PMD_NR, which is a build error
 * without THP.)
 */
#define HP_PROMOTE_BAND		(4 * (PMD_SIZE >> PAGE_SHIFT))
/* Decisions traced per epoch. */
#define HP_TRACED_DECISIONS	64
/*
 * An epoch is settled when no more than this many pages were promoted or
 * exchanged since the previous rank (2 MiB with 4 KiB pages), and its
 * rank changed the place of no more than this many pages or
 * 1/HP_SETTLED_SHARE of the fast node's capacity, whichever is more.
 * Where several ranges are as lukewarm as one another, the capacity
 * boundary moves between them with the noise of their counts (a rank
 * under GUPS flipped 482 pages in and 482 out nearly every epoch) while
 * the noise test of exchanges lets none of it move: that is no change.
 * While the classifier still learns a hot set, the rank moves far more
 * (tens of thousands of pages) before anything can move: backing off
 * then would slow the learning down 16 times.  Demotions count only as
 * part of an exchange: the others keep the headroom when something else
 * (page cache, the kernel, a balloon) takes fast memory.
 */
#define HP_SETTLED_PAGES	512
#define HP_SETTLED_SHARE	32
/* The longest a balloon waits for khyperplaced to make room. */
#define HP_ROOM_WAIT_MS		1000

/**
 * struct hp_interval - part of a range in the plan
 * @mm: the process's mm; the plan holds an mm_count reference
 * @pid: the process, for reports
 * @start: first byte
 * @end: one past the last byte
 * @density: the range's access density when the plan was made
 * @low: @density less two standard deviations of its sampling noise
 * @high: @density plus two standard deviations of its sampling noise
 */
struct hp_interval {
	struct mm_struct *mm;
	pid_t pid;
	unsigned long start;
	unsigned long end;
	u64 density;
	u64 low;
	u64 high;
};

/**
 * struct hp_plan_list - intervals to work through, and how far we are
 * @iv: the intervals, in the order they are worked on
 * @nr: number of intervals
 * @pos: index of the interval being worked on
 * @addr: next address to look at in @iv[@pos]
 */
struct hp_plan_list {
	struct hp_interval *iv;
	unsigned int nr;
	unsigned int pos;
	unsigned long addr;
};

/**
 * struct hp_node_plan - the work of one fast node
 * @nid: the fast node
 * @room: while the plan is made, the node's capacity not yet given to a
 *	process's hot parts (see hp_pick_home())
 * @promote: hot parts of the processes whose pages belong on @nid,
 *	densest first (a slice of &hp_plan.hot)
 * @demote: every cold part (&hp_plan.cold), with this node's own place
 *	in it: their pages on @nid are the ones demoted
 * @blocked: the last tick found no room for the next hot part and
 *	nothing cold enough to make room with
 */
struct hp_node_plan {
	int nid;
	unsigned long room;
	struct hp_plan_list promote;
	struct hp_plan_list demote;
	bool blocked;
};

/**
 * struct hp_plan - what the last epoch decided
 * @nodes: one plan per fast node
 * @nr_nodes: number of @nodes
 * @first: the node plan the next tick starts with, so that the nodes
 *	take turns at the rate limit
 * @hot: the hot parts, grouped by node
 * @cold: the cold parts, coldest first
 * @mms: the mms the intervals point to (mm_count held)
 * @nr_mms: number of @mms
 */
struct hp_plan {
	struct hp_node_plan *nodes;
	unsigned int nr_nodes;
	unsigned int first;
	struct hp_interval *hot;
	struct hp_interval *cold;
	struct mm_struct **mms;
	unsigned int nr_mms;
};

/* Owned by khyperplaced: only it makes, walks and frees the plan. */
static struct hp_plan hp_plan;
/*
 * Pages the rate limit allows to move now.  A whole folio is charged even
 * when it is larger than what is left, so this can go below zero: the
 * debt is paid before anything moves again.
 */
static long hp_tokens;
/* What the last refill earned below one page, in pages * ms. */
static unsigned long hp_token_rem;
/*
 * Pages of each fast node a balloon is about to take
 * (hyperplace_make_room()): kept free on top of the headroom, so that
 * cold pages are demoted to make room for them instead of the balloon's
 * allocation reclaiming.
 */
static atomic_long_t hp_room_wanted[MAX_NUMNODES];
/* Set by khyperplaced when the room is there or nothing is left to demote. */
static bool hp_room_settled;
static DECLARE_WAIT_QUEUE_HEAD(hp_room_wait);

struct hp_migrate_stats hp_migrate_stats;

static unsigned long hp_node_free(int nid)
{
	return sum_zone_node_page_state(nid, NR_FREE_PAGES);
}

static void hp_node_sizes(int nid, unsigned long *managed,
			  unsigned long *high_wmark)
{
	struct zone *z;

	*managed = 0;
	*high_wmark = 0;
	for (z = NODE_DATA(nid)->node_zones;
	     z < NODE_DATA(nid)->node_zones + MAX_NR_ZONES; z++) {
		if (!managed_zone(z))
			continue;
		*managed += zone_managed_pages(z);
		*high_wmark += high_wmark_pages(z);
	}
}

/*
 * Free pages HyperPlace keeps on fast node @nid: the high watermarks +
 * headroom, plus the room a balloon asked for.
 */
static unsigned long hp_free_target(const struct hp_config *cfg, int nid,
				    unsigned long managed, unsigned long high)
{
	return high + managed / 100 * cfg->headroom_pct +
	       atomic_long_read(&hp_room_wanted[nid]);
}

/* The capacity of one fast node: see hp_fast_capacity(). */
static unsigned long hp_node_capacity(const struct hp_config *cfg, int nid)
{
	unsigned long managed, high, usable, target;

	hp_node_sizes(nid, &managed, &high);
	usable = hp_node_free(nid) +
		 node_page_state(NODE_DATA(nid), NR_ANON_MAPPED);
	usable = min(usable, managed);
	target = hp_free_target(cfg, nid, managed, high);
	return usable > target ? usable - target : 0;
}

/**
 * hp_fast_capacity() - fast-node pages the hot set may use
 * @cfg: the configuration (headroom)
 * @t: the fast and slow nodes
 *
 * Over the fast nodes: each one's managed pages, but no more than what is
 * free plus what anonymous memory already uses there (the kernel, page
 * cache and balloons hold the rest), minus the free pages kept as
 * headroom.  Nothing without a slow node.
 *
 * Return: the capacity in pages.
 */
unsigned long hp_fast_capacity(const struct hp_config *cfg,
			       const struct hp_tiers *t)
{
	unsigned long capacity = 0;
	int nid;

	if (nodes_empty(t->slow))
		return 0;
	for_each_node_mask(nid, t->fast)
		capacity += hp_node_capacity(cfg, nid);
	return capacity;
}

static void hp_plan_free(struct hp_plan *p)
{
	while (p->nr_mms)
		mmdrop(p->mms[--p->nr_mms]);
	kvfree(p->mms);
	kvfree(p->hot);
	kvfree(p->cold);
	kvfree(p->nodes);
	memset(p, 0, sizeof(*p));
}

static int hp_iv_denser_first(const void *a, const void *b)
{
	const struct hp_interval *x = a, *y = b;

	return x->density < y->density ? 1 : x->density > y->density ? -1 : 0;
}

/*
 * Cold parts go by their upper bound, lowest first: coldest beyond doubt
 * first, which is also the order in which hp_work_list() stops at the
 * first one that may be too dense (a small range with no samples has a
 * high bound, and must not stop the walk before larger, surely colder
 * ones).  Then by density.
 */
static int hp_iv_colder_first(const void *a, const void *b)
{
	const struct hp_interval *x = a, *y = b;

	if (x->high != y->high)
		return x->high < y->high ? -1 : 1;
	return -hp_iv_denser_first(a, b);
}

/*
 * A count of no samples does not make a range certainly cold: at the two
 * standard deviations used below, a Poisson count of 0 allows a mean up
 * to about 3.7 samples.  Without this, a range the sampler happened to
 * miss this epoch (as most of a uniformly lukewarm area is, at PEBS's
 * sample periods) would be demoted to make room for a neighbour that
 * differs from it only by sampling noise, and the two would trade places
 * epoch after epoch.
 */
#define HP_ZERO_COUNT_BOUND	4

/*
 * Add [@start, @end) of range @r to @l, with the range's density and its
 * bounds: a count of n samples is known to about sqrt(n), so the density
 * is taken to lie between (n - 2 sqrt(n)) and (n + 2 sqrt(n) +
 * HP_ZERO_COUNT_BOUND) samples' worth.
 */
static void hp_plan_add(struct hp_plan_list *l, struct hp_mm *hpm,
			const struct hp_range *r, unsigned long start,
			unsigned long end)
{
	u64 n = hp_range_count(r) >> HP_COUNT_SHIFT, d;
	u32 root;

	if (start >= end)
		return;
	/* Rounded down, so the bounds below lean wide of the count. */
	root = int_sqrt64(n);
	d = hp_range_density(r);
	l->iv[l->nr++] = (struct hp_interval) {
		.mm = hpm->mm, .pid = hpm->pid,
		.start = start, .end = end, .density = d,
		.low = root > 2 ? mul_u64_u32_div(d, root - 2, root) : 0,
		.high = hp_range_density_of(r, (n + 2 * (u64)(root + 1) +
						HP_ZERO_COUNT_BOUND) <<
					       HP_COUNT_SHIFT),
	};
}

/* The plan of fast node @nid, or NULL. */
static struct hp_node_plan *hp_node_plan_of(struct hp_plan *p, int nid)
{
	unsigned int i;

	for (i = 0; i < p->nr_nodes; i++)
		if (p->nodes[i].nid == nid)
			return &p->nodes[i];
	return NULL;
}

/* Allocate a plan for the fast nodes of @t, for @nr_ranges ranges. */
static int hp_plan_alloc(struct hp_plan *p, const struct hp_config *cfg,
			 const struct hp_tiers *t, unsigned int nr_ranges,
			 unsigned int nr_mms)
{
	int nid;

	p->nodes = kvcalloc(nodes_weight(t->fast) ?: 1, sizeof(*p->nodes),
			    GFP_KERNEL);
	p->hot = kvmalloc_array(nr_ranges ?: 1, sizeof(*p->hot), GFP_KERNEL);
	/* A range has at most two cold parts, around the hot one. */
	p->cold = kvmalloc_array(2 * (size_t)nr_ranges ?: 1, sizeof(*p->cold),
				 GFP_KERNEL);
	p->mms = kvmalloc_array(nr_mms ?: 1, sizeof(*p->mms), GFP_KERNEL);
	if (!p->nodes || !p->hot || !p->cold || !p->mms)
		return -ENOMEM;
	for_each_node_mask(nid, t->fast) {
		struct hp_node_plan *np = &p->nodes[p->nr_nodes++];

		np->nid = nid;
		np->room = hp_node_capacity(cfg, nid);
	}
	return 0;
}

/* Pages in the hot parts of @hpm's ranges. */
static unsigned long hp_hot_pages(struct hp_mm *hpm)
{
	unsigned long pages = 0;
	struct hp_range *r;

	for (r = hp_space_first(hpm->space); r; r = hp_range_next(r))
		pages += (r->hot_end - r->hot_start) >> PAGE_SHIFT;
	return pages;
}

/*
 * The fast node a process's hot parts go to: of the fast nodes it may
 * use, the one nearest the node of its CPU (@cpu_nid) that still has
 * room for @hot pages, else the one with the most room left; its room is
 * charged.  So hot data sits near where its process runs while that node
 * has room, and goes to another fast node before it stays slow.
 * Return: the node's plan, or NULL if no fast node is allowed.
 */
static struct hp_node_plan *hp_pick_home(struct hp_plan *p,
					 const nodemask_t *allowed,
					 int cpu_nid, unsigned long hot)
{
	struct hp_node_plan *best = NULL;
	bool best_fits = false;
	unsigned int i;

	for (i = 0; i < p->nr_nodes; i++) {
		struct hp_node_plan *np = &p->nodes[i];
		bool fits = np->room >= hot, better;

		if (!node_isset(np->nid, *allowed))
			continue;
		if (!best || fits != best_fits)
			better = !best || fits;
		else if (fits)
			better = node_distance(cpu_nid, np->nid) <
				 node_distance(cpu_nid, best->nid);
		else
			better = np->room > best->room;
		if (better) {
			best = np;
			best_fits = fits;
		}
	}
	if (best)
		best->room -= min(best->room, hot);
	return best;
}

/* Add the cold parts of @r to @l. */
static void hp_plan_add_cold(struct hp_plan_list *l, struct hp_mm *hpm,
			     const struct hp_range *r)
{
	if (r->hot_start == r->hot_end) {
		hp_plan_add(l, hpm, r, r->start, r->end);
		return;
	}
	hp_plan_add(l, hpm, r, r->start, r->hot_start);
	hp_plan_add(l, hpm, r, r->hot_end, r->end);
}

/*
 * Make a plan from the ranges of @hpms for the nodes of @t.  A process's
 * hot parts go to the plan of its home node (hp_pick_home()), its cold
 * parts to the list every fast node walks.  What the owner's rules forbid
 * is left out, so that no cold page is demoted to make room for a
 * promotion that cannot happen; hp_work_list() checks again before it
 * moves.  Caller holds hp_spaces_lock.
 * Return: 0 or -ENOMEM (then @p is left empty).
 */
static int hp_plan_make(struct hp_plan *p, struct hp_mm **hpms,
			unsigned int n, const struct hp_config *cfg,
			const struct hp_tiers *t)
{
	struct hp_node_plan **home;
	struct hp_plan_list cold = {};
	unsigned int i, j, nr_ranges = 0, off = 0;
	struct hp_range *r;

	for (i = 0; i < n; i++)
		nr_ranges += hp_space_nr_ranges(hpms[i]->space);
	home = kvcalloc(n ?: 1, sizeof(*home), GFP_KERNEL);
	if (!home || hp_plan_alloc(p, cfg, t, nr_ranges, n)) {
		kvfree(home);
		hp_plan_free(p);
		return -ENOMEM;
	}
	cold.iv = p->cold;
	for (i = 0; i < n; i++) {
		struct hp_mm *hpm = hpms[i];
		nodemask_t allowed;
		int cpu_nid;

		mmgrab(hpm->mm);
		p->mms[p->nr_mms++] = hpm->mm;
		hp_owner_nodes(hpm->mm, hpm->pid, &allowed, &cpu_nid);
		if (cpu_nid != NUMA_NO_NODE)
			home[i] = hp_pick_home(p, &allowed, cpu_nid,
					       hp_hot_pages(hpm));
		if (!nodes_intersects(allowed, t->slow))
			continue;
		for (r = hp_space_first(hpm->space); r; r = hp_range_next(r))
			hp_plan_add_cold(&cold, hpm, r);
	}
	/* The hot parts, node by node, each node's densest first. */
	for (j = 0; j < p->nr_nodes; j++) {
		struct hp_node_plan *np = &p->nodes[j];

		np->promote.iv = p->hot + off;
		for (i = 0; i < n; i++) {
			if (home[i] != np)
				continue;
			for (r = hp_space_first(hpms[i]->space); r;
			     r = hp_range_next(r))
				hp_plan_add(&np->promote, hpms[i], r,
					    r->hot_start, r->hot_end);
		}
		off += np->promote.nr;
		sort(np->promote.iv, np->promote.nr, sizeof(*np->promote.iv),
		     hp_iv_denser_first, NULL);
	}
	sort(cold.iv, cold.nr, sizeof(*cold.iv), hp_iv_colder_first, NULL);
	for (j = 0; j < p->nr_nodes; j++)
		p->nodes[j].demote = cold;
	kvfree(home);
	return 0;
}

static void hp_trace_decisions(const struct hp_decision *dec, int nr,
			       struct hp_mm **hpms, unsigned int n)
{
	unsigned int j = 0;
	int i;

	/* Decisions come grouped by space, in the order of @hpms. */
	for (i = 0; i < nr; i++) {
		while (j < n && hpms[j]->space != dec[i].space)
			j++;
		if (j == n)
			return;
		trace_hyperplace_decision(hpms[j]->pid, dec[i].start,
					  dec[i].end, dec[i].hot_start,
					  dec[i].hot_end, dec[i].promote_pages,
					  dec[i].demote_pages);
	}
}

/**
 * hp_migrate_epoch() - rank every placed process and make a new plan
 * @mms: the managed mms, mm_users held by the caller
 * @nr: how many
 * @cfg: the configuration
 *
 * Called by khyperplaced after the epoch of every space has ended.
 *
 * Return: true if placement is settled (see HP_SETTLED_PAGES):
 * khyperplaced then samples and ranks less often.
 */
bool hp_migrate_epoch(struct mm_struct **mms, unsigned int nr,
		      const struct hp_config *cfg)
{
	static u64 promoted_before;
	bool settled = false;
	u64 promoted;
	struct hp_decision *dec = NULL;
	struct hp_space **spaces;
	struct hp_rank_result res = {};
	struct hp_plan plan = {};
	unsigned long capacity;
	struct hp_tiers t;
	struct hp_mm **hpms;
	unsigned int i, n = 0;
	int nr_dec = 0;

	hpms = kvmalloc_array(nr ?: 1, sizeof(*hpms), GFP_KERNEL);
	spaces = kvmalloc_array(nr ?: 1, sizeof(*spaces), GFP_KERNEL);
	if (trace_hyperplace_decision_enabled())
		dec = kmalloc_array(HP_TRACED_DECISIONS, sizeof(*dec),
				    GFP_KERNEL);
	if (!hpms || !spaces) {
		hp_stat_add(&hp_migrate_stats.alloc_failures, 1);
		goto out;
	}
	for (i = 0; i < nr; i++) {
		struct hp_mm *hpm = READ_ONCE(mms[i]->hyperplace);

		if (hpm && hp_mm_wanted(mms[i])) {
			hpms[n] = hpm;
			spaces[n++] = hpm->space;
		}
	}
	hp_tiers_get(&t);
	capacity = hp_fast_capacity(cfg, &t);

	mutex_lock(&hp_spaces_lock);
	nr_dec = hp_rank(spaces, n, capacity, &cfg->range, dec,
			 dec ? HP_TRACED_DECISIONS : 0, &res);
	if (nr_dec >= 0 && hp_plan_make(&plan, hpms, n, cfg, &t))
		hp_stat_add(&hp_migrate_stats.alloc_failures, 1);
	mutex_unlock(&hp_spaces_lock);

	if (nr_dec < 0) {
		hp_stat_add(&hp_migrate_stats.alloc_failures, 1);
		goto out;
	}
	hp_trace_decisions(dec, nr_dec, hpms, n);
	trace_hyperplace_rank(n, res.nr_ranges, capacity, res.hot_pages,
			      res.promote_pages, res.demote_pages);
	WRITE_ONCE(hp_migrate_stats.capacity, capacity);
	WRITE_ONCE(hp_migrate_stats.hot_pages, res.hot_pages);
	WRITE_ONCE(hp_migrate_stats.ranges, res.nr_ranges);
	hp_stat_add(&hp_migrate_stats.ranks, 1);
	hp_plan_free(&hp_plan);
	hp_plan = plan;
	/* An exchange's demotions count: it promotes at half the rate. */
	promoted = READ_ONCE(hp_migrate_stats.promoted) +
		   READ_ONCE(hp_migrate_stats.exchanged);
	settled = promoted - promoted_before <= HP_SETTLED_PAGES &&
		  res.promote_pages + res.demote_pages <=
		  max_t(unsigned long, HP_SETTLED_PAGES,
			capacity / HP_SETTLED_SHARE);
	promoted_before = promoted;
out:
	kfree(dec);
	kvfree(spaces);
	kvfree(hpms);
	return settled;
}

/**
 * hp_migrate_idle() - whether the plan has no work left for the ticks
 *
 * Return: true when every fast node's hot parts have been walked, or
 * wait for room that no cold part can make, and no balloon waits for
 * room: until the next rank only the headroom (or memory freed by
 * others) can call for a move, and khyperplaced may sleep longer than a
 * tick.
 */
bool hp_migrate_idle(void)
{
	unsigned int i;
	int nid;

	for (i = 0; i < hp_plan.nr_nodes; i++) {
		const struct hp_node_plan *np = &hp_plan.nodes[i];

		if (np->promote.pos < np->promote.nr && !np->blocked)
			return false;
	}
	for (nid = 0; nid < nr_node_ids; nid++)
		if (atomic_long_read(&hp_room_wanted[nid]))
			return false;
	return true;
}

/* Wake a balloon waiting in hp_migrate_make_room(). */
static void hp_room_answer(void)
{
	WRITE_ONCE(hp_room_settled, true);
	wake_up_all(&hp_room_wait);
}

/**
 * hp_migrate_make_room() - demote cold pages to free fast-node memory
 * @nid: the fast node a balloon is about to take pages from
 * @nr_pages: how many
 *
 * Raises the free memory khyperplaced keeps on @nid by @nr_pages and
 * waits, at most HP_ROOM_WAIT_MS, until it has demoted enough cold pages
 * (within the rate limit) or has nothing cold left to demote there.
 * May sleep.
 */
void hp_migrate_make_room(int nid, unsigned long nr_pages)
{
	WRITE_ONCE(hp_room_settled, false);
	atomic_long_add(nr_pages, &hp_room_wanted[nid]);
	hp_kick();
	wait_event_timeout(hp_room_wait, READ_ONCE(hp_room_settled),
			   msecs_to_jiffies(HP_ROOM_WAIT_MS));
	atomic_long_sub(nr_pages, &hp_room_wanted[nid]);
}

/**
 * hp_migrate_forget() - drop the plan (placement disabled)
 */
void hp_migrate_forget(void)
{
	hp_plan_free(&hp_plan);
	hp_room_answer();
}

/*
 * New folio for @src on node @nid, as NUMA balancing allocates one: no
 * reclaim and no compaction on the target, for huge pages too, so a
 * full node fails the move instead of stalling khyperplaced or waking
 * kswapd to demote what was just promoted.
 */
static struct folio *hp_alloc_target(struct folio *src, unsigned long nid)
{
	int order = folio_order(src);
	gfp_t gfp = __GFP_THISNODE;

	if (order > 0) {
		gfp |= GFP_TRANSHUGE_LIGHT;
	} else {
		gfp |= GFP_HIGHUSER_MOVABLE | __GFP_NOMEMALLOC |
		       __GFP_NORETRY | __GFP_NOWARN;
		gfp &= ~__GFP_RECLAIM;
	}
	return __folio_alloc_node(gfp, order, nid);
}

/*
 * Count @moved pages in the node and memcg statistics: a demotion on the
 * node the pages left, as reclaim counts its demotions, a promotion on
 * the node they reached (@fast, either way).  Not in pgpromote_success,
 * which counts NUMA balancing's promotions.
 */
static void hp_count_moved(struct hp_collect *c, int fast, bool promote,
			   unsigned int moved)
{
	struct lruvec *lruvec;

	if (!moved)
		return;
	lruvec = mem_cgroup_lruvec(c->memcg, NODE_DATA(fast));
	mod_lruvec_state(lruvec, promote ? PGPROMOTE_HYPERPLACE :
			 PGDEMOTE_HYPERPLACE, moved);
}

/*
 * Move the isolated folios to @nid, to or from fast node @fast; those
 * that do not move go back.
 */
static unsigned int hp_move(struct hp_collect *c, int nid, int fast,
			    bool promote, bool exchange, pid_t pid)
{
	unsigned int moved = 0;

	c->last = NULL;
	c->full = false;
	if (!c->isolated)
		return 0;
	/*
	 * MR_HYPERPLACE: a huge page that finds no room is not split, and
	 * NR_ISOLATED_* is given back as isolate_folio_to_list() took it
	 * (MR_DEMOTION assumes reclaim's own isolation accounting).
	 */
	migrate_pages(&c->folios, hp_alloc_target, NULL, nid, MIGRATE_ASYNC,
		      MR_HYPERPLACE, &moved);
	if (!list_empty(&c->folios))
		putback_movable_pages(&c->folios);
	moved = min(moved, c->isolated);

	hp_count_moved(c, fast, promote, moved);
	if (promote) {
		hp_stat_add(&hp_migrate_stats.promoted, moved);
	} else {
		hp_stat_add(&hp_migrate_stats.demoted, moved);
		if (exchange)
			hp_stat_add(&hp_migrate_stats.exchanged, moved);
	}
	hp_stat_add(&hp_migrate_stats.failed, c->isolated - moved);
	trace_hyperplace_migrate(promote, exchange, pid, nid, c->isolated,
				 moved);
	mem_cgroup_put(c->memcg);
	c->memcg = NULL;
	c->isolated = 0;
	return moved;
}

/**
 * struct hp_work - one call's worth of moves from a plan list
 * @isolated: pages isolated (moved or not): what the rate limit is charged
 * @moved: of those, pages that moved
 */
struct hp_work {
	unsigned int isolated;
	unsigned int moved;
};

/*
 * The node pages of @mm go to in a move to or from fast node @fast
 * (promoting: @fast itself), if its owner's rules allow one.
 */
static int hp_move_target(const struct hp_interval *iv,
			  const struct hp_tiers *t, int fast, bool promote)
{
	nodemask_t allowed;
	int cpu_nid;

	hp_owner_nodes(iv->mm, iv->pid, &allowed, &cpu_nid);
	if (promote)
		return node_isset(fast, allowed) ? fast : NUMA_NO_NODE;
	return hp_demote_target(t, &allowed, fast);
}

/*
 * Move up to about @max pages of the intervals of @l, from where the last
 * call stopped: promoting, pages on the slow nodes of @t to fast node
 * @fast; demoting, pages on @fast to the slow node hp_demote_target()
 * picks for their process.  Stops at the first interval that may be
 * denser than @max_density (see &hp_interval.high).  Uses up *@scan page
 * lookups at most.  A process that opted out since the plan was made is
 * skipped, and so is one whose cpuset or mempolicy allows no target
 * (checked once per call for each process); until the next plan, so is
 * one whose mmap lock is taken.
 */
static struct hp_work hp_work_list(struct hp_plan_list *l,
				   const struct hp_tiers *t, int fast,
				   bool promote, bool exchange, u64 max_density,
				   unsigned int max, unsigned int *scan)
{
	struct hp_collect c = {
		.folios = LIST_HEAD_INIT(c.folios),
		.from = promote ? t->slow : nodemask_of_node(fast),
		.scan = *scan,
	};
	/* The last process the rules were checked for, and its target. */
	struct mm_struct *checked = NULL;
	int target = NUMA_NO_NODE;
	struct hp_work w = {};

	while (l->pos < l->nr && w.isolated < max && c.scan &&
	       !kthread_should_stop()) {
		struct hp_interval *iv = &l->iv[l->pos];
		unsigned long addr = max(l->addr, iv->start);
		unsigned int isolated;
		bool wanted;

		if (iv->high > max_density)
			break;
		if (addr >= iv->end || !mmget_not_zero(iv->mm)) {
			l->pos++;
			l->addr = 0;
			continue;
		}
		wanted = hp_mm_wanted(iv->mm);
		if (wanted && iv->mm != checked) {
			checked = iv->mm;
			target = hp_move_target(iv, t, fast, promote);
		}
		if (wanted && target == NUMA_NO_NODE) {
			hp_stat_add(&hp_migrate_stats.skipped_policy, 1);
			wanted = false;
		}
		if (!wanted || !mmap_read_trylock(iv->mm)) {
			if (wanted)
				hp_stat_add(&hp_migrate_stats.skipped_mm_busy, 1);
			mmput_async(iv->mm);
			l->pos++;
			l->addr = 0;
			continue;
		}
		c.max = min(max - w.isolated, HP_MIGRATE_BATCH);
		l->addr = hp_collect_range(iv->mm, addr, iv->end, &c);
		mmap_read_unlock(iv->mm);
		isolated = c.isolated;
		w.moved += hp_move(&c, target, fast, promote, exchange,
				   iv->pid);
		mmput_async(iv->mm);
		w.isolated += isolated;
		if (l->addr >= iv->end) {
			l->pos++;
			l->addr = 0;
		} else if (!isolated && w.isolated < max && c.scan) {
			/* Stopped for a waiter on the mmap lock: next one. */
			l->pos++;
			l->addr = 0;
		}
	}
	*scan = c.scan;
	return w;
}

static void hp_charge(unsigned int pages)
{
	hp_tokens -= pages;
}

/* Earn tokens for @ms milliseconds at @rate pages per second. */
static void hp_refill(unsigned long rate, unsigned int ms)
{
	unsigned long earned = rate * ms + hp_token_rem;

	hp_token_rem = earned % MSEC_PER_SEC;
	/* At most one second's worth is saved up while idle. */
	hp_tokens = min_t(long, hp_tokens + earned / MSEC_PER_SEC, rate);
}

/*
 * The densest cold data worth evicting for the next hot interval.  An
 * exchange costs two moves, so the hot data must be denser beyond doubt,
 * in the sense in which a range splits: its density, less its noise, at
 * least split_ratio percent of the cold data's, plus its noise.  Ranges
 * that only sampling noise tells apart would otherwise trade places
 * between the nodes at every epoch.
 */
static u64 hp_exchange_ceiling(const struct hp_plan_list *hot,
			       const struct hp_config *cfg)
{
	return mul_u64_u32_div(hot->iv[hot->pos].low, 100,
			       cfg->range.split_ratio);
}

/* Tell a waiting balloon when its room is free or cannot be made. */
static void hp_room_check(const struct hp_config *cfg, int nid,
			  const struct hp_plan_list *cold)
{
	unsigned long managed, high;

	if (!atomic_long_read(&hp_room_wanted[nid]))
		return;
	hp_node_sizes(nid, &managed, &high);
	if (hp_node_free(nid) >= hp_free_target(cfg, nid, managed, high) ||
	    cold->pos >= cold->nr)
		hp_room_answer();
}

/*
 * The work of fast node @np->nid in one tick: demote its coldest pages
 * while it has less free memory than its headroom, then promote the
 * densest hot pages that belong on it, demoting cold ones first where a
 * promotion would eat into the headroom (an exchange).  Promotions stop
 * HP_PROMOTE_BAND pages above the point where demotions start.  When
 * nothing cold is left to demote, that point drops to the node's high
 * watermarks.
 */
static void hp_node_step(const struct hp_config *cfg,
			 const struct hp_tiers *t, struct hp_node_plan *np,
			 unsigned int *scan)
{
	struct hp_plan_list *hot = &np->promote, *cold = &np->demote;
	int fast = np->nid;

	np->blocked = false;
	while (hp_tokens > 0 && *scan && hot->pos < hot->nr &&
	       !kthread_should_stop()) {
		unsigned long managed, high, free, floor, want;
		struct hp_work w;

		hp_node_sizes(fast, &managed, &high);
		floor = hp_free_target(cfg, fast, managed, high);
		free = hp_node_free(fast);
		if (free < floor) {
			w = hp_work_list(cold, t, fast, false, false, U64_MAX,
					 min_t(long, hp_tokens, floor - free),
					 scan);
			hp_charge(w.isolated);
			if (w.isolated)
				continue;
			floor = high;	/* nothing cold left */
		}
		floor += HP_PROMOTE_BAND;
		want = min_t(long, hp_tokens, HP_MIGRATE_BATCH);
		if (free < floor + want) {
			unsigned long asked = floor + want - free;

			w = hp_work_list(cold, t, fast, false, true,
					 hp_exchange_ceiling(hot, cfg), asked,
					 scan);
			hp_charge(w.isolated);
			free += w.moved;
			want = free > floor ? free - floor : 0;
			want = min_t(long, want, max(hp_tokens, 0L));
			if (!want) {
				/*
				 * Out of tokens or lookups for this tick, or
				 * moves that failed: try again next tick.
				 * Nothing cold enough left: out of room until
				 * something changes.
				 */
				np->blocked = hp_tokens > 0 && *scan &&
					      w.isolated < asked;
				break;
			}
		}
		w = hp_work_list(hot, t, fast, true, false, U64_MAX, want,
				 scan);
		hp_charge(w.isolated);
		if (!w.isolated && hot->pos < hot->nr)
			break;	/* out of lookups for this tick */
	}
	/* With nothing hot left to move, keep the headroom all the same. */
	if (hp_tokens > 0 && *scan && hot->pos >= hot->nr) {
		unsigned long managed, high, floor, free;

		hp_node_sizes(fast, &managed, &high);
		floor = hp_free_target(cfg, fast, managed, high);
		free = hp_node_free(fast);

		if (free < floor)
			hp_charge(hp_work_list(cold, t, fast, false, false,
					       U64_MAX, min_t(long, hp_tokens,
							      floor - free),
					       scan).isolated);
	}
	hp_room_check(cfg, fast, cold);
}

/*
 * Answer a balloon waiting for room on a node no plan works on: one that
 * is no longer fast, that became fast after the plan was made, or any
 * when there is no plan or no slow node.
 */
static void hp_room_unplanned(const struct hp_tiers *t)
{
	int nid;

	for (nid = 0; nid < nr_node_ids; nid++) {
		if (!atomic_long_read(&hp_room_wanted[nid]))
			continue;
		if (nodes_empty(t->slow) || !node_isset(nid, t->fast) ||
		    !hp_node_plan_of(&hp_plan, nid))
			hp_room_answer();
	}
}

/**
 * hp_migrate_step() - one tick of placement work
 * @cfg: the configuration
 * @ms: milliseconds since the last tick, to refill the rate limit
 *
 * Does the work of each fast node that is still fast (hp_node_step()),
 * starting with a different one each tick, so that they share the rate
 * limit.  Moves no more pages than the rate limit has earned.
 */
void hp_migrate_step(const struct hp_config *cfg, unsigned int ms)
{
	unsigned long rate = (unsigned long)cfg->rate_limit_mib <<
			     (20 - PAGE_SHIFT);
	unsigned int scan = HP_SCAN_PER_TICK, i;
	struct hp_tiers t;

	hp_tiers_get(&t);
	hp_room_unplanned(&t);
	if (nodes_empty(t.slow) || !hp_plan.nr_nodes)
		return;
	hp_refill(rate, ms);
	for (i = 0; i < hp_plan.nr_nodes; i++) {
		struct hp_node_plan *np;

		np = &hp_plan.nodes[(hp_plan.first + i) % hp_plan.nr_nodes];
		if (node_isset(np->nid, t.fast))
			hp_node_step(cfg, &t, np, &scan);
	}
	hp_plan.first = (hp_plan.first + 1) % hp_plan.nr_nodes;
}
