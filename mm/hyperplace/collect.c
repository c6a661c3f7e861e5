// SPDX-License-Identifier: GPL-2.0-only
/*
 * HyperPlace collection: isolate the folios of part of a process that
 * may move, for migrate.c to move in one batch.
 *
 * The part is walked with walk_page_range(), one page table at a time,
 * so that the cost is the memory the process uses, not the size of its
 * mappings: holes are skipped at the highest empty level of the page
 * tables, a table of PTEs is locked once, and each PMD in use and each
 * present entry is charged to the tick's lookup budget.  One
 * MAP_NORESERVE reservation of a terabyte costs a few lookups, not 2^28.
 */
#include <linux/memcontrol.h>
#include <linux/mempolicy.h>
#include <linux/migrate.h>
#include <linux/mm.h>
#include <linux/pagewalk.h>

#include "internal.h"

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
 * Isolate @folio, mapped at @addr, if it is on @c->from.  A folio of
 * another memory cgroup than those already isolated ends the batch; it
 * is looked at again first in the next one.  Caller holds the page
 * table lock.
 * Return: true if the batch is complete (@c->next says where to go on).
 */
static bool hp_collect_folio(struct folio *folio, unsigned long addr,
			     unsigned long next, struct hp_collect *c)
{
	u64 *skipped = NULL;

	c->next = next;
	c->scan--;
	/* A PTE-mapped large folio is met once per page: look once. */
	if (folio == c->last)
		goto out;
	c->last = folio;
	if (!node_isset(folio_nid(folio), c->from) ||
	    folio_is_zone_device(folio) || folio_test_hugetlb(folio))
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
		c->next = addr;
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
	return c->full || c->isolated >= c->max || !c->scan;
}

/*
 * Look at the folios of one PMD: a huge page, or a table of PTEs.
 * Return: true if the batch is complete.
 */
static bool hp_collect_pmd_folios(pmd_t *pmd, unsigned long addr,
				  unsigned long end, struct mm_walk *walk)
{
	struct vm_area_struct *vma = walk->vma;
	struct hp_collect *c = walk->private;
	spinlock_t *ptl;	/* the page table lock of @pmd */
	bool done = false;
	pte_t *pte;
	int i;

	ptl = pmd_trans_huge_lock(pmd, vma);
	if (ptl) {
		pmd_t pmde = pmdp_get(pmd);
		struct folio *folio = NULL;

		/* For sparse: a lock is returned held. */
		__acquire(ptl);
		if (pmd_present(pmde))
			folio = vm_normal_folio_pmd(vma, addr, pmde);
		if (folio)
			done = hp_collect_folio(folio, addr, end, c);
		spin_unlock(ptl);
		return done;
	}
	pte = pte_offset_map_lock(walk->mm, pmd, addr, &ptl);
	if (!pte) {
		/* The table went away (a THP collapse): look again. */
		walk->action = ACTION_AGAIN;
		return false;
	}
	for (i = 0; addr < end && !done; i++, addr += PAGE_SIZE) {
		pte_t ptent = ptep_get(pte + i);
		struct folio *folio;

		if (!pte_present(ptent))
			continue;
		folio = vm_normal_folio(vma, addr, ptent);
		if (folio)
			done = hp_collect_folio(folio, addr, addr + PAGE_SIZE,
						c);
	}
	pte_unmap_unlock(pte, ptl);
	return done;
}

static int hp_collect_pmd(pmd_t *pmd, unsigned long addr, unsigned long end,
			  struct mm_walk *walk)
{
	struct hp_collect *c = walk->private;

	if (hp_collect_pmd_folios(pmd, addr, end, walk))
		return 1;
	if (walk->action == ACTION_AGAIN)
		return 0;
	/*
	 * The PMD itself costs a lookup, so that tables of absent pages and
	 * huge zero pages are not free either.  Stop if that was the last
	 * one, or if someone waits for the mmap lock.
	 */
	if (c->scan)
		c->scan--;
	c->next = end;
	if (!c->scan || mmap_lock_is_contended(walk->mm))
		return 1;
	cond_resched();
	return 0;
}

/* Walk only what HyperPlace places; a VMA with its own policy is its owner's. */
static int hp_collect_test_walk(unsigned long start, unsigned long end,
				struct mm_walk *walk)
{
	struct vm_area_struct *vma = walk->vma;

	return !hp_vma_managed(vma) || vma_policy(vma);
}

static const struct mm_walk_ops hp_collect_ops = {
	.pmd_entry = hp_collect_pmd,
	.test_walk = hp_collect_test_walk,
	.walk_lock = PGWALK_RDLOCK,
};

/**
 * hp_collect_range() - isolate the folios of [@addr, @end) that may move
 * @mm: the process, whose mmap lock the caller holds for reading
 * @addr: where to start
 * @end: where to stop
 * @c: what to isolate, and where the folios go
 *
 * Stops when @c is full, its lookup budget is spent, or another task
 * waits for the mmap lock.
 *
 * Return: where to go on next time (@end when all was looked at).
 */
unsigned long hp_collect_range(struct mm_struct *mm, unsigned long addr,
			       unsigned long end, struct hp_collect *c)
{
	if (addr >= end || !c->scan || c->isolated >= c->max)
		return addr;
	c->next = end;
	if (walk_page_range(mm, addr, end, &hp_collect_ops, c) > 0)
		return clamp(c->next, addr, end);
	return end;
}
