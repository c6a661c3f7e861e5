// SPDX-License-Identifier: GPL-2.0-only
/*
 * HyperPlace migration: turn the hot set that hp_rank() chooses into page
 * placement.
 *
 * At the end of every epoch the ranges of all placed processes are ranked
 * together against the fast node's capacity, and a plan is made: the hot
 * parts of the ranges, densest first, whose pages belong on the fast node,
 * and the cold parts, coldest first, whose pages may be demoted.  Between
 * epochs khyperplaced works through the plan every tick, within a rate
 * limit: it promotes pages of hot parts that sit elsewhere, demotes cold
 * pages while the fast node has less free memory than its headroom, and
 * when a promotion finds no room it first demotes as many cold pages
 * (an exchange).  The plan is walked again from the start after every
 * epoch, so pages that were busy or newly faulted in are found again.
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
#include <linux/mempolicy.h>
#include <linux/migrate.h>
#include <linux/mm.h>
#include <linux/mmzone.h>
#include <linux/nodemask.h>
#include <linux/pagewalk.h>
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
 * struct hp_plan - what the last epoch decided
 * @promote: hot parts, densest first
 * @demote: cold parts, coldest first
 * @mms: the mms the intervals point to (mm_count held)
 * @nr_mms: number of @mms
 */
struct hp_plan {
	struct hp_plan_list promote;
	struct hp_plan_list demote;
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
 * Fast-node pages a balloon is about to take (hyperplace_make_room()):
 * kept free on top of the headroom, so that cold pages are demoted to
 * make room for them instead of the balloon's allocation reclaiming.
 */
static atomic_long_t hp_room_wanted = ATOMIC_LONG_INIT(0);
/* Set by khyperplaced when the room is there or nothing is left to demote. */
static bool hp_room_settled;
static DECLARE_WAIT_QUEUE_HEAD(hp_room_wait);

struct hp_migrate_stats hp_migrate_stats;
int hp_fast_nid = NUMA_NO_NODE;
int hp_slow_nid = NUMA_NO_NODE;

/* Only khyperplaced writes the counters; sysfs reads them racily. */
static void hp_stat_add(u64 *counter, u64 n)
{
	WRITE_ONCE(*counter, *counter + n);
}

/**
 * hp_migrate_init() - pick the fast and the slow node
 *
 * The fast node is the lowest memory node with CPUs; the slow node the
 * lowest other memory node, preferring one without CPUs (CXL.mem and
 * PMEM nodes have none).  Without two memory nodes nothing is moved.
 */
void hp_migrate_init(void)
{
	int nid;

	for_each_node_state(nid, N_MEMORY) {
		if (hp_fast_nid == NUMA_NO_NODE && node_state(nid, N_CPU))
			hp_fast_nid = nid;
	}
	if (hp_fast_nid == NUMA_NO_NODE)
		hp_fast_nid = first_memory_node;
	for_each_node_state(nid, N_MEMORY) {
		if (nid == hp_fast_nid)
			continue;
		if (hp_slow_nid == NUMA_NO_NODE || !node_state(nid, N_CPU)) {
			hp_slow_nid = nid;
			if (!node_state(nid, N_CPU))
				break;
		}
	}
	if (hp_slow_nid == NUMA_NO_NODE)
		pr_info("one memory node only: pages are classified, not moved\n");
	else
		pr_info("fast node %d, slow node %d\n", hp_fast_nid, hp_slow_nid);
}

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
 * Free fast-node pages HyperPlace keeps: the high watermarks + headroom,
 * plus the room a balloon asked for.
 */
static unsigned long hp_free_target(const struct hp_config *cfg,
				    unsigned long managed, unsigned long high)
{
	return high + managed / 100 * cfg->headroom_pct +
	       atomic_long_read(&hp_room_wanted);
}

/**
 * hp_fast_capacity() - fast-node pages the hot set may use
 * @cfg: the configuration (headroom)
 *
 * The node's managed pages, but no more than what is free plus what
 * anonymous memory already uses there (the kernel, page cache and
 * balloons hold the rest), minus the free pages kept as headroom.
 *
 * Return: the capacity in pages.
 */
unsigned long hp_fast_capacity(const struct hp_config *cfg)
{
	unsigned long managed, high, usable, target;

	if (hp_slow_nid == NUMA_NO_NODE)
		return 0;
	hp_node_sizes(hp_fast_nid, &managed, &high);
	usable = hp_node_free(hp_fast_nid) +
		 node_page_state(NODE_DATA(hp_fast_nid), NR_ANON_MAPPED);
	usable = min(usable, managed);
	target = hp_free_target(cfg, managed, high);
	return usable > target ? usable - target : 0;
}

static void hp_plan_free(struct hp_plan *p)
{
	while (p->nr_mms)
		mmdrop(p->mms[--p->nr_mms]);
	kvfree(p->mms);
	kvfree(p->promote.iv);
	kvfree(p->demote.iv);
	memset(p, 0, sizeof(*p));
}

static int hp_iv_denser_first(const void *a, const void *b)
{
	const struct hp_interval *x = a, *y = b;

	return x->density < y->density ? 1 : x->density > y->density ? -1 : 0;
}

static int hp_iv_colder_first(const void *a, const void *b)
{
	return -hp_iv_denser_first(a, b);
}

/*
 * Add [@start, @end) of range @r to @l, with the range's density and its
 * bounds: a count of n samples is known to about sqrt(n), so the density
 * is taken to lie within 2 / sqrt(n) of itself.
 */
static void hp_plan_add(struct hp_plan_list *l, struct hp_mm *hpm,
			const struct hp_range *r, unsigned long start,
			unsigned long end)
{
	u32 root;
	u64 d;

	if (start >= end)
		return;
	root = int_sqrt64(hp_range_count(r) >> HP_COUNT_SHIFT);
	d = hp_range_density(r);
	l->iv[l->nr++] = (struct hp_interval) {
		.mm = hpm->mm, .pid = hpm->pid,
		.start = start, .end = end, .density = d,
		.low = root > 2 ? mul_u64_u32_div(d, root - 2, root) : 0,
		.high = root ? mul_u64_u32_div(d, root + 2, root) : d,
	};
}

/*
 * Make a plan from the ranges of @hpms.  Caller holds hp_spaces_lock.
 * Return: 0 or -ENOMEM (then @p is left empty).
 */
static int hp_plan_make(struct hp_plan *p, struct hp_mm **hpms,
			unsigned int n)
{
	unsigned int i, nr_ranges = 0;
	struct hp_range *r;

	for (i = 0; i < n; i++)
		nr_ranges += hp_space_nr_ranges(hpms[i]->space);
	p->promote.iv = kvmalloc_array(nr_ranges ?: 1, sizeof(*p->promote.iv),
				       GFP_KERNEL);
	/* A range has at most two cold parts, on each side of the hot one. */
	p->demote.iv = kvmalloc_array(2 * nr_ranges ?: 1,
				      sizeof(*p->demote.iv), GFP_KERNEL);
	p->mms = kvmalloc_array(n ?: 1, sizeof(*p->mms), GFP_KERNEL);
	if (!p->promote.iv || !p->demote.iv || !p->mms) {
		hp_plan_free(p);
		return -ENOMEM;
	}
	for (i = 0; i < n; i++) {
		struct hp_mm *hpm = hpms[i];
		bool up, down;

		mmgrab(hpm->mm);
		p->mms[p->nr_mms++] = hpm->mm;
		/*
		 * Leave out what the owner's rules forbid, so that no cold
		 * page is demoted to make room for a promotion that cannot
		 * happen.  hp_work_list() checks again before it moves.
		 */
		up = hp_owner_allows(hpm->mm, hpm->pid, hp_fast_nid);
		down = hp_owner_allows(hpm->mm, hpm->pid, hp_slow_nid);
		for (r = hp_space_first(hpm->space); r; r = hp_range_next(r)) {
			if (up)
				hp_plan_add(&p->promote, hpm, r, r->hot_start,
					    r->hot_end);
			if (!down)
				continue;
			if (r->hot_start == r->hot_end) {
				hp_plan_add(&p->demote, hpm, r, r->start, r->end);
				continue;
			}
			hp_plan_add(&p->demote, hpm, r, r->start, r->hot_start);
			hp_plan_add(&p->demote, hpm, r, r->hot_end, r->end);
		}
	}
	sort(p->promote.iv, p->promote.nr, sizeof(*p->promote.iv),
	     hp_iv_denser_first, NULL);
	sort(p->demote.iv, p->demote.nr, sizeof(*p->demote.iv),
	     hp_iv_colder_first, NULL);
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
 */
void hp_migrate_epoch(struct mm_struct **mms, unsigned int nr,
		      const struct hp_config *cfg)
{
	struct hp_decision *dec = NULL;
	struct hp_space **spaces;
	struct hp_rank_result res = {};
	struct hp_plan plan = {};
	unsigned long capacity;
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
	capacity = hp_fast_capacity(cfg);

	mutex_lock(&hp_spaces_lock);
	nr_dec = hp_rank(spaces, n, capacity, &cfg->range, dec,
			 dec ? HP_TRACED_DECISIONS : 0, &res);
	if (nr_dec >= 0 && hp_plan_make(&plan, hpms, n))
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
out:
	kfree(dec);
	kvfree(spaces);
	kvfree(hpms);
}

/* Wake a balloon waiting in hp_migrate_make_room(). */
static void hp_room_answer(void)
{
	if (!atomic_long_read(&hp_room_wanted))
		return;
	WRITE_ONCE(hp_room_settled, true);
	wake_up_all(&hp_room_wait);
}

/**
 * hp_migrate_make_room() - demote cold pages to free fast-node memory
 * @nr_pages: pages a balloon is about to take from the fast node
 *
 * Raises the free memory khyperplaced keeps on the fast node by @nr_pages
 * and waits, at most HP_ROOM_WAIT_MS, until it has demoted enough cold
 * pages (within the rate limit) or has nothing cold left to demote.
 * May sleep.
 */
void hp_migrate_make_room(unsigned long nr_pages)
{
	WRITE_ONCE(hp_room_settled, false);
	atomic_long_add(nr_pages, &hp_room_wanted);
	hp_kick();
	wait_event_timeout(hp_room_wait, READ_ONCE(hp_room_settled),
			   msecs_to_jiffies(HP_ROOM_WAIT_MS));
	atomic_long_sub(nr_pages, &hp_room_wanted);
}

/**
 * hp_migrate_forget() - drop the plan (placement disabled)
 */
void hp_migrate_forget(void)
{
	hp_plan_free(&hp_plan);
	hp_room_answer();
}

/**
 * struct hp_collect - folios isolated for one move
 * @folios: the isolated folios
 * @last: the folio looked at last (compared only, never dereferenced)
 * @memcg: the memory cgroup all of @folios are charged to (a reference
 *	is held while @folios is not empty), so that the move is counted
 *	in it
 * @from: only folios on this node move
 * @isolated: pages in @folios
 * @max: isolate no more pages than this
 * @scan: page lookups left in this tick
 * @full: a folio of another memory cgroup ended the batch
 */
struct hp_collect {
	struct list_head folios;
	struct folio *last;
	struct mem_cgroup *memcg;
	int from;
	unsigned int isolated;
	unsigned int max;
	unsigned int scan;
	bool full;
};

/*
 * Whether the folio may be mapped by another process: a copy-on-write
 * page shared since fork, or a KSM page.  Another process's placement
 * rules would not be checked, and its pages would move with ours.
 */
static bool hp_folio_shared(struct folio *folio)
{
	return folio_test_ksm(folio) || folio_likely_mapped_shared(folio);
}

/*
 * Isolate the folio mapped at @addr if it is on @c->from.  A folio of
 * another memory cgroup than those already isolated ends the batch and
 * is looked at again first in the next one.
 * Return: the address to look at next.
 */
static unsigned long hp_collect_one(struct vm_area_struct *vma,
				    unsigned long addr, struct hp_collect *c)
{
	unsigned long next = addr + PAGE_SIZE;
	u64 *skipped = NULL;
	struct folio_walk fw;
	struct folio *folio;

	folio = folio_walk_start(&fw, vma, addr, 0);
	if (!folio)
		return next;
	if (fw.level == FW_LEVEL_PMD)
		next = ALIGN(addr + 1, PMD_SIZE);
	/* A PTE-mapped large folio is met once per page: look once. */
	if (folio == c->last)
		goto out;
	c->last = folio;
	if (folio_nid(folio) != c->from || folio_is_zone_device(folio) ||
	    folio_test_hugetlb(folio))
		goto out;
	if (folio_maybe_dma_pinned(folio)) {
		skipped = &hp_migrate_stats.skipped_pinned;
	} else if (folio_test_mlocked(folio)) {
		skipped = &hp_migrate_stats.skipped_mlocked;
	} else if (hp_folio_shared(folio)) {
		skipped = &hp_migrate_stats.skipped_shared;
	} else if (c->isolated && folio_memcg(folio) != c->memcg) {
		/* The page table lock keeps the folio's memcg stable. */
		c->full = true;
		c->last = NULL;
		next = addr;
	} else if (isolate_folio_to_list(folio, &c->folios)) {
		if (!c->isolated)
			c->memcg = get_mem_cgroup_from_folio(folio);
		c->isolated += folio_nr_pages(folio);
	} else {
		skipped = &hp_migrate_stats.skipped_busy;
	}
	if (skipped)
		hp_stat_add(skipped, folio_nr_pages(folio));
out:
	folio_walk_end(&fw, vma);
	return next;
}

/*
 * Isolate the folios of [@addr, @end) that are on @c->from, within the
 * limits of @c.  Caller holds the mmap lock; stops early if another task
 * waits for it.
 * Return: where to go on next time.
 */
static unsigned long hp_collect_range(struct mm_struct *mm,
				      unsigned long addr, unsigned long end,
				      struct hp_collect *c)
{
	while (addr < end && c->isolated < c->max && c->scan && !c->full &&
	       !mmap_lock_is_contended(mm)) {
		struct vm_area_struct *vma = find_vma(mm, addr);
		unsigned long stop;

		if (!vma || vma->vm_start >= end)
			return end;
		addr = max(addr, vma->vm_start);
		stop = min(vma->vm_end, end);
		/* A VMA with its own NUMA policy is placed by its owner. */
		if (!hp_vma_managed(vma) || vma_policy(vma)) {
			addr = stop;
			continue;
		}
		while (addr < stop && c->isolated < c->max && c->scan &&
		       !c->full) {
			addr = hp_collect_one(vma, addr, c);
			c->scan--;
		}
		cond_resched();
	}
	return min(addr, end);
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
 * the node they reached.  Not in pgpromote_success, which counts NUMA
 * balancing's promotions.
 */
static void hp_count_moved(struct hp_collect *c, int nid, bool promote,
			   unsigned int moved)
{
	struct lruvec *lruvec;

	if (!moved)
		return;
	lruvec = mem_cgroup_lruvec(c->memcg,
				   NODE_DATA(promote ? nid : c->from));
	mod_lruvec_state(lruvec, promote ? PGPROMOTE_HYPERPLACE :
			 PGDEMOTE_HYPERPLACE, moved);
}

/* Move the isolated folios to @nid; those that do not move go back. */
static unsigned int hp_move(struct hp_collect *c, int nid, bool promote,
			    bool exchange, pid_t pid)
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

	hp_count_moved(c, nid, promote, moved);
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
 * Move up to about @max pages of the intervals of @l, from where the last
 * call stopped, from node @from to node @nid, stopping at the first
 * interval that may be denser than @max_density (see &hp_interval.high).
 * Uses up *@scan page lookups at most.  A process that opted out since
 * the plan was made is skipped, and so is one whose cpuset or mempolicy
 * does not allow @nid (checked once per call for each process); until
 * the next plan, so is one whose mmap lock is taken.
 */
static struct hp_work hp_work_list(struct hp_plan_list *l, int from, int nid,
				   bool promote, bool exchange, u64 max_density,
				   unsigned int max, unsigned int *scan)
{
	struct hp_collect c = {
		.folios = LIST_HEAD_INIT(c.folios),
		.from = from,
		.scan = *scan,
	};
	/* The last process the rules were checked for, and the answer. */
	struct mm_struct *checked = NULL;
	bool allowed = false;
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
			allowed = hp_owner_allows(iv->mm, iv->pid, nid);
		}
		if (wanted && !allowed) {
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
		w.moved += hp_move(&c, nid, promote, exchange, iv->pid);
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
static void hp_room_check(const struct hp_config *cfg,
			  const struct hp_plan_list *cold)
{
	unsigned long managed, high;

	if (!atomic_long_read(&hp_room_wanted))
		return;
	hp_node_sizes(hp_fast_nid, &managed, &high);
	if (hp_node_free(hp_fast_nid) >= hp_free_target(cfg, managed, high) ||
	    cold->pos >= cold->nr)
		hp_room_answer();
}

/**
 * hp_migrate_step() - one tick of placement work
 * @cfg: the configuration
 * @ms: milliseconds since the last tick, to refill the rate limit
 *
 * Demotes the coldest pages while the fast node has less free memory
 * than its headroom, then promotes the densest hot pages, demoting cold
 * ones first where a promotion would eat into the headroom (an
 * exchange).  Promotions stop HP_PROMOTE_BAND pages above the point
 * where demotions start.  When nothing cold is left to demote, that
 * point drops to the fast node's high watermarks.  Moves no more pages
 * than the rate limit has earned.
 */
void hp_migrate_step(const struct hp_config *cfg, unsigned int ms)
{
	unsigned long rate = (unsigned long)cfg->rate_limit_mib <<
			     (20 - PAGE_SHIFT);
	unsigned int scan = HP_SCAN_PER_TICK;
	struct hp_plan_list *hot = &hp_plan.promote, *cold = &hp_plan.demote;
	int fast = hp_fast_nid, slow = hp_slow_nid;

	if (slow == NUMA_NO_NODE)
		return;
	hp_refill(rate, ms);

	while (hp_tokens > 0 && scan && hot->pos < hot->nr &&
	       !kthread_should_stop()) {
		unsigned long managed, high, free, floor, want;
		struct hp_work w;

		hp_node_sizes(fast, &managed, &high);
		floor = hp_free_target(cfg, managed, high);
		free = hp_node_free(fast);
		if (free < floor) {
			w = hp_work_list(cold, fast, slow, false, false,
					 U64_MAX, min_t(long, hp_tokens,
							floor - free), &scan);
			hp_charge(w.isolated);
			if (w.isolated)
				continue;
			floor = high;	/* nothing cold left */
		}
		floor += HP_PROMOTE_BAND;
		want = min_t(long, hp_tokens, HP_MIGRATE_BATCH);
		if (free < floor + want) {
			w = hp_work_list(cold, fast, slow, false, true,
					 hp_exchange_ceiling(hot, cfg),
					 floor + want - free, &scan);
			hp_charge(w.isolated);
			free += w.moved;
			want = free > floor ? free - floor : 0;
			want = min_t(long, want, max(hp_tokens, 0L));
			if (!want)
				break;
		}
		w = hp_work_list(hot, slow, fast, true, false, U64_MAX, want,
				 &scan);
		hp_charge(w.isolated);
		if (!w.isolated && hot->pos < hot->nr)
			break;	/* out of lookups for this tick */
	}
	/* With nothing hot left to move, keep the headroom all the same. */
	if (hp_tokens > 0 && scan && hot->pos >= hot->nr) {
		unsigned long managed, high, floor, free;

		hp_node_sizes(fast, &managed, &high);
		floor = hp_free_target(cfg, managed, high);
		free = hp_node_free(fast);

		if (free < floor)
			hp_charge(hp_work_list(cold, fast, slow, false, false,
					       U64_MAX, min_t(long, hp_tokens,
							      floor - free),
					       &scan).isolated);
	}
	hp_room_check(cfg, cold);
}
