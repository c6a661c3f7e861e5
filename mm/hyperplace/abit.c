// SPDX-License-Identifier: GPL-2.0-only
/*
 * HyperPlace fallback source: page-table Accessed bits, for guests
 * without a vPMU.
 *
 * Each period the sampler spends a budget of page checks on pages chosen
 * uniformly among the PMDs in use (tables of PTEs or huge pages) of the
 * managed VMAs of all managed processes.  So the samples per page of a range estimate the
 * share of its pages that were accessed, whatever its size, and a large
 * reservation that is mostly never touched (MAP_NORESERVE) draws no
 * checks to its holes.
 * A check tests and clears the Accessed bit of one random page (as DAMON
 * does); an accessed page becomes one sample, written to the same
 * channel as PEBS samples.
 */
#include <linux/hyperplace.h>
#include <linux/init.h>
#include <linux/ktime.h>
#include <linux/math64.h>
#include <linux/mm.h>
#include <linux/mmu_notifier.h>
#include <linux/oom.h>
#include <linux/page_idle.h>
#include <linux/pagewalk.h>
#include <linux/random.h>
#include <linux/sched/mm.h>
#include <linux/sched/signal.h>
#include <linux/slab.h>
#include <linux/sort.h>

#include "internal.h"

#include <trace/events/hyperplace.h>

/* Samples written before the channel is drained: well under a ring. */
#define HP_ABIT_PIECE		1024
/* Checks between looks at whether mmap_lock is wanted by others. */
#define HP_ABIT_YIELD		64
/* Processes attached per discovery pass, so a pass stays short. */
#define HP_DISCOVER_BATCH	64
/* Page-table steps between looks at the mmap lock and at rescheduling. */
#define HP_ABIT_WALK_YIELD	512

struct hp_abit_stats hp_abit_stats;

/* Keep reclaim's view: an Accessed bit we clear becomes the young flag. */
static void hp_abit_keep_young(struct folio *folio)
{
	if (folio)
		folio_set_young(folio);
}

static int hp_abit_pmd_entry(pmd_t *pmd, unsigned long addr,
			     unsigned long next, struct mm_walk *walk)
{
	bool *young = walk->private;
	spinlock_t *ptl;	/* the page table lock of @pmd */
	pte_t *pte;

	ptl = pmd_trans_huge_lock(pmd, walk->vma);
	if (ptl) {
		pmd_t pmde = pmdp_get(pmd);

		/* For sparse: a lock is returned held. */
		__acquire(ptl);
		if (pmd_present(pmde) &&
		    pmdp_clear_young_notify(walk->vma, addr & PMD_MASK, pmd)) {
			*young = true;
			hp_abit_keep_young(vm_normal_folio_pmd(walk->vma, addr,
							       pmde));
		}
		spin_unlock(ptl);
		return 0;
	}
	pte = pte_offset_map_lock(walk->mm, pmd, addr, &ptl);
	if (!pte)
		return 0;
	if (pte_present(ptep_get(pte)) &&
	    ptep_clear_young_notify(walk->vma, addr, pte)) {
		*young = true;
		hp_abit_keep_young(vm_normal_folio(walk->vma, addr,
						   ptep_get(pte)));
	}
	pte_unmap_unlock(pte, ptl);
	return 0;
}

static const struct mm_walk_ops hp_abit_ops = {
	.pmd_entry = hp_abit_pmd_entry,
	.walk_lock = PGWALK_RDLOCK,
};

/* Test and clear the Accessed bit of the page at @addr. */
static bool hp_abit_check(struct mm_struct *mm, unsigned long addr)
{
	bool young = false;

	walk_page_range(mm, addr, addr + PAGE_SIZE, &hp_abit_ops, &young);
	return young;
}

/**
 * hp_abit_discover() - attach processes that HyperPlace has not seen yet
 *
 * The Accessed-bit sampler only visits managed mms; without PEBS no
 * sample attaches a new process, so look for them here.
 */
static void hp_abit_discover(void)
{
	struct task_struct *found[HP_DISCOVER_BATCH], *p;
	unsigned int n = 0, i;

	rcu_read_lock();
	for_each_process(p) {
		struct task_struct *t;
		bool known;

		if (p->flags & PF_KTHREAD)
			continue;
		/*
		 * Any thread with an mm (the leader may have exited); its
		 * task_lock keeps the mm from being freed under us.
		 */
		t = find_lock_task_mm(p);
		if (!t)
			continue;
		/* For sparse: a task is returned locked. */
		__acquire(&t->alloc_lock);
		known = READ_ONCE(t->mm->hyperplace) || !hp_mm_wanted(t->mm);
		task_unlock(t);
		if (known)
			continue;
		get_task_struct(t);
		found[n++] = t;
		if (n == HP_DISCOVER_BATCH)
			break;
	}
	rcu_read_unlock();

	for (i = 0; i < n; i++) {
		struct mm_struct *mm = get_task_mm(found[i]);

		if (mm) {
			hp_mm_attach(mm, found[i]->tgid);
			mmput_async(mm);
		}
		put_task_struct(found[i]);
	}
}

/**
 * struct hp_pick_walk - state of a walk over the mapped parts of an mm
 * @pages: pages mapped so far (a PMD in use counts whole, clipped to its
 *	VMA)
 * @picks: while placing, sorted page offsets into the mapped parts, each
 *	replaced by its address as the walk reaches it; NULL while counting
 * @nr: entries of @picks
 * @placed: entries of @picks replaced so far
 * @steps: PMDs visited, for the looks at the mmap lock
 * @busy: the walk stopped for a waiter on the mmap lock
 */
struct hp_pick_walk {
	unsigned long pages;
	unsigned long *picks;
	unsigned int nr;
	unsigned int placed;
	unsigned int steps;
	bool busy;
};

/*
 * One PMD in use, a table of PTEs or a huge page: count its pages, and
 * turn the picks that fall in it into addresses.  Its entries are not
 * read: a table with one present page counts whole.
 */
static int hp_pick_pmd(pmd_t *pmd, unsigned long addr, unsigned long next,
		       struct mm_walk *walk)
{
	struct hp_pick_walk *pw = walk->private;
	unsigned long first = pw->pages;

	walk->action = ACTION_CONTINUE;
	pw->pages += (next - addr) >> PAGE_SHIFT;
	while (pw->picks && pw->placed < pw->nr &&
	       pw->picks[pw->placed] < pw->pages) {
		pw->picks[pw->placed] = addr +
			((pw->picks[pw->placed] - first) << PAGE_SHIFT);
		pw->placed++;
	}
	if (++pw->steps % HP_ABIT_WALK_YIELD)
		return 0;
	if (mmap_lock_is_contended(walk->mm)) {
		pw->busy = true;
		return 1;
	}
	cond_resched();
	return 0;
}

static int hp_pick_test_walk(unsigned long start, unsigned long end,
			     struct mm_walk *walk)
{
	return !hp_vma_managed(walk->vma);
}

static const struct mm_walk_ops hp_pick_ops = {
	.pmd_entry = hp_pick_pmd,
	.test_walk = hp_pick_test_walk,
	.walk_lock = PGWALK_RDLOCK,
};

static int hp_cmp_ulong(const void *a, const void *b)
{
	unsigned long x = *(const unsigned long *)a;
	unsigned long y = *(const unsigned long *)b;

	return x < y ? -1 : x > y;
}

/*
 * The pages of the PMDs in use of @mm's managed VMAs: what it is
 * weighed by, and what its checks are spread over.  The walk skips holes
 * at the highest empty level of the page tables, so it costs one step
 * per PMD in use, not per page of the mappings.
 * Return: the pages, 0 if the mmap lock was busy (*@busy set).
 */
static unsigned long hp_abit_weigh(struct mm_struct *mm, bool *busy)
{
	struct hp_pick_walk pw = {};

	*busy = !mmap_read_trylock(mm);
	if (*busy)
		return 0;
	/* Not mm->task_size: a compat task can map above it. */
	walk_page_range(mm, 0, ULONG_MAX, &hp_pick_ops, &pw);
	mmap_read_unlock(mm);
	*busy = pw.busy;
	return pw.busy ? 0 : pw.pages;
}

/*
 * Choose @k pages of @mm uniformly among the @pages pages of its PMDs
 * in use (hp_abit_weigh()), into @addrs: sorted random offsets turned
 * into addresses by a second walk.  Caller holds the mmap lock.
 * Return: how many were chosen (fewer if the mappings shrank since they
 * were weighed, none if a waiter on the mmap lock stopped the walk, and
 * then *@busy is set).
 */
static unsigned int hp_abit_pick(struct mm_struct *mm, unsigned int k,
				 unsigned long pages, unsigned long *addrs,
				 bool *busy)
{
	struct hp_pick_walk pw = { .picks = addrs, .nr = k };
	unsigned int i;

	for (i = 0; i < k; i++)
		addrs[i] = get_random_u64() % pages;
	sort(addrs, k, sizeof(*addrs), hp_cmp_ulong, NULL);
	walk_page_range(mm, 0, ULONG_MAX, &hp_pick_ops, &pw);
	*busy = pw.busy;
	return pw.busy ? 0 : pw.placed;
}

/*
 * Write @n samples of @mm to the channel, filing what is there first
 * whenever the ring could run out of room; @staged counts the samples
 * written since the last filing, over all mms of the pass.
 */
static void hp_abit_push(struct mm_struct *mm, const unsigned long *young,
			 unsigned int n, unsigned int *staged)
{
	struct hp_channel_batch b;
	unsigned int i = 0, piece;

	while (i < n) {
		if (*staged >= HP_ABIT_PIECE) {
			hp_drain();
			*staged = 0;
		}
		piece = min(n - i, HP_ABIT_PIECE - *staged);
		preempt_disable();
		hp_channel_begin(&b, mm, HP_SRC_ABIT);
		for (*staged += piece; piece--; i++)
			hp_channel_add(&b, young[i], 1, HP_ACCESS_ANY);
		hp_channel_end(&b);
		preempt_enable();
	}
}

/*
 * Check @k random pages of @mm among its @pages (hp_abit_pick()) and
 * write the accessed ones to the channel; @addrs and @young have room
 * for @k.  Stops early if someone waits for the mmap lock: the checks
 * go in address order from a random pick, wrapping around, so that a
 * process whose mmap lock is often wanted does not have only its lowest
 * addresses checked.
 * Return: the pages checked (none if the mmap lock was taken).
 */
static unsigned int hp_abit_sample(struct mm_struct *mm, unsigned int k,
				   unsigned long pages, unsigned long *addrs,
				   unsigned long *young, unsigned int *nr_found,
				   unsigned int *staged)
{
	unsigned int i, n, first, nr_young = 0;
	bool busy;

	if (!mmap_read_trylock(mm)) {
		hp_abit_stats.busy++;
		return 0;
	}
	n = hp_abit_pick(mm, k, pages, addrs, &busy);
	hp_abit_stats.busy += busy;
	first = n ? get_random_u32_below(n) : 0;
	for (i = 0; i < n; i++) {
		unsigned long addr = addrs[(first + i) % n];

		if (!(i % HP_ABIT_YIELD) && i && mmap_lock_is_contended(mm)) {
			hp_abit_stats.busy++;
			break;
		}
		if (hp_abit_check(mm, addr))
			young[nr_young++] = addr;
	}
	mmap_read_unlock(mm);
	hp_abit_push(mm, young, nr_young, staged);
	*nr_found += nr_young;
	return i;
}

/*
 * Of @total, the share @part / @whole (@part <= @whole), rounded up or
 * down at random so that its expectation is exact.
 */
static u64 hp_share(u64 total, u64 part, u64 whole)
{
	u64 rem, k = div64_u64_rem(total * part, whole, &rem);

	if (get_random_u64() % whole < rem)
		k++;
	return k;
}

/**
 * hp_abit_scan() - one period of the Accessed-bit sampler
 * @budget: pages to check over all managed mms
 *
 * Each mm gets a share of @budget in proportion to the pages of its PMDs
 * in use (hp_abit_weigh()), the same pages its checks are spread over,
 * so that every such page is equally likely to be checked.
 */
static void hp_abit_scan(unsigned int budget)
{
	unsigned int nr, i, checked = 0, young = 0, staged = 0;
	unsigned long *addrs = NULL, *hits, *pages = NULL;
	struct mm_struct **mms;
	u64 t0 = ktime_get_ns();
	u64 total = 0;

	mms = hp_mms_get(&nr);
	if (!nr)
		goto out;
	pages = kvmalloc_array(nr, sizeof(*pages), GFP_KERNEL);
	addrs = kvmalloc_array(budget, 2 * sizeof(*addrs), GFP_KERNEL);
	if (!pages || !addrs)
		goto out;
	hits = addrs + budget;
	for (i = 0; i < nr; i++) {
		bool busy;

		pages[i] = hp_abit_weigh(mms[i], &busy);
		hp_abit_stats.busy += busy;
		total += pages[i];
		cond_resched();
	}
	for (i = 0; i < nr && total && checked < budget; i++) {
		unsigned int k = min_t(u64, hp_share(budget, pages[i], total),
				       budget - checked);

		if (k)
			checked += hp_abit_sample(mms[i], k, pages[i], addrs,
						  hits, &young, &staged);
		cond_resched();
	}
out:
	kvfree(addrs);
	kvfree(pages);
	hp_mms_put(mms, nr);
	hp_abit_stats.scans++;
	hp_abit_stats.checked += checked;
	hp_abit_stats.young += young;
	hp_abit_stats.ns += ktime_get_ns() - t0;
	trace_hyperplace_abit_scan(nr, checked, young, ktime_get_ns() - t0);
}

/* One period: look for new processes, then check their pages. */
static void hp_abit_pass(const struct hp_config *cfg)
{
	hp_abit_discover();
	hp_abit_scan(cfg->abit_pages);
}

static unsigned int hp_abit_period_ms(const struct hp_config *cfg)
{
	return cfg->abit_interval_ms;
}

static const struct hp_source_ops hp_abit_source = {
	.id = HP_SRC_ABIT,
	.name = "abit",
	.desc = "Accessed-bit",
	.sample = hp_abit_pass,
	.period_ms = hp_abit_period_ms,
};

static int __init hp_abit_init(void)
{
	hp_source_register(&hp_abit_source);
	return 0;
}
subsys_initcall(hp_abit_init);
