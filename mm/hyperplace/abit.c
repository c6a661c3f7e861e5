// SPDX-License-Identifier: GPL-2.0-only
/*
 * HyperPlace fallback source: page-table Accessed bits, for guests
 * without a vPMU.
 *
 * Each period the sampler spends a budget of page checks over all
 * managed ranges, in proportion to their size, so that the samples per
 * page of a range estimate the share of its pages that were accessed,
 * whatever its size.  A check tests and clears the Accessed bit of one
 * random page (as DAMON does); an accessed page becomes one sample,
 * written to the same channel as PEBS samples.
 */
#include <linux/hyperplace.h>
#include <linux/ktime.h>
#include <linux/mm.h>
#include <linux/mmu_notifier.h>
#include <linux/oom.h>
#include <linux/page_idle.h>
#include <linux/pagewalk.h>
#include <linux/random.h>
#include <linux/sched/mm.h>
#include <linux/sched/signal.h>
#include <linux/slab.h>

#include "internal.h"

#include <trace/events/hyperplace.h>

/* Samples written before the channel is drained: well under a ring. */
#define HP_ABIT_PIECE		1024
/* Checks between looks at whether mmap_lock is wanted by others. */
#define HP_ABIT_YIELD		64
/* Processes attached per discovery pass, so a pass stays short. */
#define HP_DISCOVER_BATCH	64

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
		    pmdp_clear_young_notify(walk->vma, addr, pmd)) {
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
void hp_abit_discover(void)
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

static unsigned long hp_space_pages(struct hp_space *s)
{
	unsigned long pages = 0;
	struct hp_range *r;

	for (r = hp_space_first(s); r; r = hp_range_next(r))
		pages += (r->end - r->start) >> PAGE_SHIFT;
	return pages;
}

/*
 * Choose about @budget * (pages of @hpm) / @total addresses in the ranges
 * of @hpm, each range getting its share in expectation.
 */
static unsigned int hp_abit_pick(struct hp_mm *hpm, u64 budget, u64 total,
				 unsigned long *addrs, unsigned int max)
{
	struct hp_range *r;
	unsigned int n = 0;

	mutex_lock(&hp_spaces_lock);
	for (r = hp_space_first(hpm->space); r && n < max;
	     r = hp_range_next(r)) {
		u64 pages = (r->end - r->start) >> PAGE_SHIFT;
		u64 rem, k = div64_u64_rem(budget * pages, total, &rem);

		if (get_random_u64() % total < rem)
			k++;
		while (k-- && n < max)
			addrs[n++] = r->start +
				((get_random_u64() % pages) << PAGE_SHIFT);
	}
	mutex_unlock(&hp_spaces_lock);
	return n;
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
 * Check up to @n pages of @mm and write the accessed ones to the channel.
 * Stops early if someone waits for the mmap lock.
 * Return: the pages checked (none if the mmap lock was busy).
 */
static unsigned int hp_abit_sample(struct mm_struct *mm,
				   const unsigned long *addrs, unsigned int n,
				   unsigned long *young, unsigned int *nr_found,
				   unsigned int *staged)
{
	unsigned int i, nr_young = 0;

	if (!mmap_read_trylock(mm)) {
		hp_abit_stats.busy++;
		return 0;
	}
	for (i = 0; i < n; i++) {
		if (!(i % HP_ABIT_YIELD) && i && mmap_lock_is_contended(mm)) {
			hp_abit_stats.busy++;
			break;
		}
		if (hp_abit_check(mm, addrs[i]))
			young[nr_young++] = addrs[i];
	}
	mmap_read_unlock(mm);
	hp_abit_push(mm, young, nr_young, staged);
	*nr_found += nr_young;
	return i;
}

/**
 * hp_abit_scan() - one period of the Accessed-bit sampler
 * @budget: pages to check over all managed mms
 */
void hp_abit_scan(unsigned int budget)
{
	unsigned int nr, i, checked = 0, young = 0, staged = 0;
	unsigned long *addrs, *hits;
	struct mm_struct **mms;
	u64 t0 = ktime_get_ns();
	u64 total = 0;

	mms = hp_mms_get(&nr);
	for (i = 0; i < nr; i++) {
		struct hp_mm *hpm = mms[i]->hyperplace;

		mutex_lock(&hp_spaces_lock);
		total += hp_space_pages(hpm->space);
		mutex_unlock(&hp_spaces_lock);
	}
	/* A range can round up once: room for budget + ranges. */
	addrs = kvmalloc_array(2 * budget, 2 * sizeof(*addrs), GFP_KERNEL);
	if (!addrs || !total)
		goto out;
	hits = addrs + 2 * budget;
	for (i = 0; i < nr && checked < budget; i++) {
		struct hp_mm *hpm = mms[i]->hyperplace;
		unsigned int n;

		n = hp_abit_pick(hpm, budget, total, addrs,
				 2 * budget - checked);
		checked += hp_abit_sample(mms[i], addrs, n, hits, &young,
					  &staged);
		cond_resched();
	}
out:
	kvfree(addrs);
	hp_mms_put(mms, nr);
	hp_abit_stats.scans++;
	hp_abit_stats.checked += checked;
	hp_abit_stats.young += young;
	hp_abit_stats.ns += ktime_get_ns() - t0;
	trace_hyperplace_abit_scan(nr, checked, young, ktime_get_ns() - t0);
}
