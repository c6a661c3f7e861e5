// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * HyperFlex: per-tier balloons for virtio-balloon (VIRTIO_BALLOON_F_TIERS).
 *
 * The device names two guest NUMA nodes, the fast and the slow tier, and
 * asks in the config space for a balloon size on each.  A worker per tier
 * allocates pages on the tier's node only, 2 MiB blocks where it can, and
 * hands them to the device as page ranges on the tier inflate queue, with
 * up to VB_TIER_REQS requests in flight; it gives the newest pages back on
 * the tier deflate queue.  The queues' callbacks retire the requests the
 * device used: inflated pages join the balloon and count in the tier's
 * actual, deflated ones go back to the page allocator (the callbacks only
 * set them aside: the tier's worker frees them).  Ballooned pages leave
 * their node's managed pages, so the node's MemTotal shrinks with its
 * balloon.  Statistics per tier go to the device on the tier statistics
 * queue.
 *
 * The legacy balloon of virtio_balloon.c works as before, beside these.
 */

#include <linux/acpi.h>
#include <linux/bitops.h>
#include <linux/delay.h>
#include <linux/device.h>
#include <linux/err.h>
#include <linux/export.h>
#include <linux/gfp.h>
#include <linux/hyperplace.h>
#include <linux/jiffies.h>
#include <linux/lockdep.h>
#include <linux/minmax.h>
#include <linux/mm.h>
#include <linux/nodemask.h>
#include <linux/numa.h>
#include <linux/overflow.h>
#include <linux/page-flags.h>
#include <linux/scatterlist.h>
#include <linux/sched.h>
#include <linux/sizes.h>
#include <linux/slab.h>
#include <linux/virtio.h>
#include <linux/virtio_config.h>

#include "virtio_balloon_tiers.h"
#include "virtio_balloon_tiers_internal.h"

/* Pages per worker step, and per hyperplace_make_room() call: 64 MiB */
#define VB_TIER_CHUNK_PAGES	(SZ_64M / PAGE_SIZE)

/* Blocks of 2 MiB first: the host backs guest memory with such pages */
#define VB_TIER_BLOCK_ORDER	min_t(unsigned int, get_order(SZ_2M), \
				      MAX_PAGE_ORDER)

/* After a failed allocation, give reclaim time before the next try */
#define VB_TIER_RETRY_DELAY	(HZ / 5)

/* OOM: how long to wait for a worker step (one chunk) to end, at most */
#define VB_TIER_OOM_LOCK_TRIES		50
#define VB_TIER_OOM_LOCK_WAIT_MS	10

/* Statistics while a balloon moves, at most this often */
#define VB_TIER_STATS_INTERVAL	HZ

#define VB_TIER_REQ_SIZE	struct_size_t(struct virtio_balloon_tier_req, \
					      ranges, \
					      VIRTIO_BALLOON_TIER_MAX_RANGES)

static const char *const vb_tier_names[VIRTIO_BALLOON_NR_TIERS] = {
	[VIRTIO_BALLOON_TIER_FAST] = "fast",
	[VIRTIO_BALLOON_TIER_SLOW] = "slow",
};

static bool vb_tiers_broken(struct vb_tiers *t)
{
	return virtqueue_is_broken(t->inflate.vq) ||
	       virtqueue_is_broken(t->deflate.vq);
}

/* Callers hold a tier's lock, which orders this with vb_tiers_stop() */
bool vb_tiers_running(struct vb_tiers *t)
{
	return READ_ONCE(t->running) && !vb_tiers_broken(t);
}

/* Takes a freshly allocated block of 2^@order pages away from the guest. */
static void vb_block_take(struct page *page, unsigned int order)
{
	unsigned long i;

	set_page_private(page, order);
	/* Dumps, /proc/kcore and hibernation skip offline pages */
	for (i = 0; i < 1UL << order; i++)
		__SetPageOffline(page + i);
	adjust_managed_page_count(page, -(1L << order));
}

/* Gives a block taken by vb_block_take() back to the page allocator. */
static void vb_block_release(struct page *page)
{
	unsigned int order = page_private(page);
	unsigned long i;

	adjust_managed_page_count(page, 1L << order);
	for (i = 0; i < 1UL << order; i++)
		__ClearPageOffline(page + i);
	set_page_private(page, 0);
	__free_pages(page, order);
}

/*
 * Gives the ballooned blocks of @list back.  Returns the pages freed.
 * Context: process, sleeps.
 */
static unsigned long vb_blocks_free(struct list_head *list)
{
	struct page *page, *next;
	unsigned long nr = 0;

	list_for_each_entry_safe(page, next, list, lru) {
		list_del(&page->lru);
		nr += 1UL << page_private(page);
		vb_block_release(page);
		cond_resched();
	}
	return nr;
}

/**
 * vb_tier_free_deflated - give the tier's deflated pages back
 * @tier: the tier, its lock held
 *
 * Frees the blocks the queues' callbacks put on &vb_tier.to_free.  Only
 * the holder of the tier's lock empties that list, so once this returns,
 * every deflate the holder saw complete has its pages in the page
 * allocator: no other task may be still freeing them.
 *
 * Return: the pages freed.
 */
static unsigned long vb_tier_free_deflated(struct vb_tier *tier)
{
	struct vb_tiers *t = tier->tiers;
	LIST_HEAD(pages);

	lockdep_assert_held(&tier->lock);

	spin_lock_irq(&t->lock);
	list_splice_init(&tier->to_free, &pages);
	spin_unlock_irq(&t->lock);

	return vb_blocks_free(&pages);
}

static struct vb_tier_req *vb_tier_req_try_get(struct vb_tiers *t,
					       struct vb_tier_queue *q)
{
	struct vb_tier_req *req = NULL;
	unsigned int i;

	spin_lock_irq(&t->lock);
	i = find_first_zero_bit(&q->busy, q->nr_reqs);
	if (i < q->nr_reqs) {
		__set_bit(i, &q->busy);
		req = &q->reqs[i];
	}
	spin_unlock_irq(&t->lock);
	return req;
}

/**
 * vb_tier_req_get - claim an empty request of a queue
 * @t: the device
 * @q: the queue
 * @tier: the tier the request will be for
 * @kind: an &enum vb_tier_req_kind
 * @state: the task state to wait in while the device holds them all
 *
 * Return: the request, or NULL if the device broke or, when @state
 * allows, a fatal signal came.
 */
struct vb_tier_req *vb_tier_req_get(struct vb_tiers *t,
				    struct vb_tier_queue *q,
				    struct vb_tier *tier,
				    enum vb_tier_req_kind kind,
				    unsigned int state)
{
	struct vb_tier_req *req = NULL;
	int err;

	err = wait_event_state(t->wait, (req = vb_tier_req_try_get(t, q)) ||
			       virtqueue_is_broken(q->vq), state);
	if (err || !req)
		return NULL;

	INIT_LIST_HEAD(&req->pages);
	req->nr_pages = 0;
	req->nr_ranges = 0;
	req->len = 0;
	req->tier = tier;
	req->kind = kind;
	req->pinned = false;
	return req;
}

/* Releases a request claimed by vb_tier_req_get() that was not queued. */
void vb_tier_req_put(struct vb_tiers *t, struct vb_tier_queue *q,
		     struct vb_tier_req *req)
{
	spin_lock_irq(&t->lock);
	__clear_bit(req - q->reqs, &q->busy);
	spin_unlock_irq(&t->lock);
	wake_up(&t->wait);
}

/* Hands the first @req->len bytes of the request to the device. */
int vb_tier_req_queue(struct vb_tiers *t, struct vb_tier_queue *q,
		      struct vb_tier_req *req)
{
	struct scatterlist sg;
	bool notify = false;
	int err;

	sg_init_one(&sg, req->buf, req->len);

	spin_lock_irq(&t->lock);
	/* One descriptor and no indirect ones: nothing to allocate */
	err = virtqueue_add_outbuf(q->vq, &sg, 1, req, GFP_ATOMIC);
	if (!err) {
		req->queued = true;
		req->tier->in_flight++;
		if (req->kind == VB_TIER_REQ_DEFLATE)
			req->tier->deflating++;
		notify = virtqueue_kick_prepare(q->vq);
	}
	spin_unlock_irq(&t->lock);

	if (notify)
		virtqueue_notify(q->vq);
	return err;
}

/* Grows @range by the run [@pfn, @pfn + @nr) if the two touch. */
static bool vb_range_extend(struct virtio_balloon_tier_range *range,
			    u64 pfn, u32 nr)
{
	u64 start = le64_to_cpu(range->pfn);
	u32 len = le32_to_cpu(range->nr_pages);

	if (pfn + nr == start)
		range->pfn = cpu_to_le64(pfn);
	else if (pfn != start + len)
		return false;
	range->nr_pages = cpu_to_le32(len + nr);
	return true;
}

/*
 * Adds a block to @req, into its last range if they touch.  Returns false
 * if @req would then cover more than the device takes in one request, or
 * needs a new range and has no room for one.
 */
static bool vb_tier_req_add_block(struct vb_tier_req *req, struct page *page)
{
	unsigned int order = page_private(page);
	u32 nr = 1U << (order + VB_TIER_PFN_SHIFT);
	u64 pfn = vb_tier_page_pfn(page);
	struct virtio_balloon_tier_range *ranges = req->buf->ranges;

	/* An empty request always takes a block */
	BUILD_BUG_ON((1UL << (VB_TIER_BLOCK_ORDER + VB_TIER_PFN_SHIFT)) >
		     VIRTIO_BALLOON_TIER_MAX_REQ_PAGES);
	if ((req->nr_pages << VB_TIER_PFN_SHIFT) + nr >
	    VIRTIO_BALLOON_TIER_MAX_REQ_PAGES)
		return false;
	if (!req->nr_ranges ||
	    !vb_range_extend(&ranges[req->nr_ranges - 1], pfn, nr)) {
		if (req->nr_ranges == VIRTIO_BALLOON_TIER_MAX_RANGES)
			return false;
		vb_tier_range_set(&ranges[req->nr_ranges++], pfn, nr);
	}
	list_add(&page->lru, &req->pages);
	req->nr_pages += 1UL << order;
	return true;
}

/*
 * Sends an inflate or deflate request built by vb_tier_req_add_block().
 * Returns the pages it carries, or 0 if it is empty or the device refused
 * it; its pages then stay where they were before the request.
 */
static unsigned long vb_tier_send(struct vb_tier *tier,
				  struct vb_tier_queue *q,
				  struct vb_tier_req *req)
{
	struct vb_tiers *t = tier->tiers;
	unsigned long nr = req->nr_pages;

	if (nr) {
		req->buf->tier = cpu_to_le16(tier->index);
		req->buf->flags = 0;
		req->buf->nr_ranges = cpu_to_le32(req->nr_ranges);
		req->len = struct_size(req->buf, ranges, req->nr_ranges);
		if (!vb_tier_req_queue(t, q, req))
			return nr;

		dev_warn_ratelimited(&t->vdev->dev,
				     "%s tier: cannot queue a request\n",
				     vb_tier_names[tier->index]);
		if (req->kind == VB_TIER_REQ_DEFLATE) {
			spin_lock_irq(&t->lock);
			list_splice_init(&req->pages, &tier->pages);
			spin_unlock_irq(&t->lock);
		} else {
			vb_blocks_free(&req->pages);
		}
	}
	vb_tier_req_put(t, q, req);
	return 0;
}

static void vb_tier_unpin_locked(struct vb_tier *tier)
{
	if (--tier->pin_users)
		return;
	list_add(&tier->pinned->lru, &tier->pages);
	tier->pinned = NULL;
	/* The worker may have found nothing to deflate meanwhile */
	queue_delayed_work(system_freezable_wq, &tier->work, 0);
}

/**
 * vb_tier_pin - keep a ballooned block from being deflated
 * @tier: the tier
 *
 * Crafted requests may name a page of the balloon only while it stays in
 * the balloon: were it deflated and reused first, a request still queued
 * could make the device discard a page the guest uses.  The newest block
 * (or the one already pinned) is kept out of the balloon's list until
 * every request made with it completed; each vb_tier_pin() is undone by
 * the completion of a request queued with &vb_tier_req.pinned set, or by
 * vb_tier_unpin() if none was queued.
 *
 * Return: the pinned block, or NULL if the balloon is empty.
 */
struct page *vb_tier_pin(struct vb_tier *tier)
{
	struct vb_tiers *t = tier->tiers;
	struct page *page;

	spin_lock_irq(&t->lock);
	if (!tier->pinned) {
		page = list_first_entry_or_null(&tier->pages, struct page, lru);
		if (page) {
			list_del(&page->lru);
			tier->pinned = page;
		}
	}
	if (tier->pinned)
		tier->pin_users++;
	page = tier->pinned;
	spin_unlock_irq(&t->lock);
	return page;
}

void vb_tier_unpin(struct vb_tier *tier)
{
	struct vb_tiers *t = tier->tiers;

	spin_lock_irq(&t->lock);
	vb_tier_unpin_locked(tier);
	spin_unlock_irq(&t->lock);
}

/*
 * Retires a queued request: the device used it (@used) or never will.
 * Called under &vb_tiers.lock, from the queues' callbacks with interrupts
 * off: ballooned pages that go back to the guest only move to the tier's
 * to_free list, vb_tier_free_deflated() frees them.
 */
static void vb_tier_req_finish(struct vb_tier_queue *q,
			       struct vb_tier_req *req, bool used)
{
	struct vb_tier *tier = req->tier;
	struct page *page;

	switch (req->kind) {
	case VB_TIER_REQ_INFLATE:
		if (used) {
			list_splice_init(&req->pages, &tier->pages);
			tier->actual += req->nr_pages;
			tier->inflated += req->nr_pages;
		} else {
			list_splice_init(&req->pages, &tier->to_free);
		}
		break;
	case VB_TIER_REQ_DEFLATE:
		list_splice_init(&req->pages, &tier->to_free);
		tier->actual -= req->nr_pages;
		if (used)
			tier->deflated += req->nr_pages;
		tier->deflating--;
		break;
	case VB_TIER_REQ_PROBE:
		/* At most one borrowed page, never ballooned: freed here */
		page = list_first_entry_or_null(&req->pages, struct page, lru);
		if (page) {
			list_del(&page->lru);
			vb_tiers_debug_returned(tier->tiers, page);
			__free_page(page);
		}
		if (req->pinned)
			vb_tier_unpin_locked(tier);
		break;
	}
	tier->in_flight--;
	req->queued = false;
	__clear_bit(req - q->reqs, &q->busy);
}

static void vb_tier_queue_done(struct vb_tiers *t, struct vb_tier_queue *q)
{
	unsigned long deflated = 0;	/* tiers with pages to free */
	struct vb_tier_req *req;
	unsigned long flags;
	unsigned int len, i;
	bool retired = false;

	spin_lock_irqsave(&t->lock, flags);
	while ((req = virtqueue_get_buf(q->vq, &len))) {
		if (req->kind == VB_TIER_REQ_DEFLATE)
			__set_bit(req->tier->index, &deflated);
		vb_tier_req_finish(q, req, true);
		retired = true;
	}
	spin_unlock_irqrestore(&t->lock, flags);

	/* Their workers free the pages, now rather than after a retry delay */
	for_each_set_bit(i, &deflated, VIRTIO_BALLOON_NR_TIERS)
		mod_delayed_work(system_freezable_wq, &t->tier[i].work, 0);
	if (retired) {
		wake_up(&t->wait);
		queue_work(system_freezable_wq, &t->report_work);
	}
}

static void vb_tiers_stats_done(struct vb_tiers *t)
{
	unsigned long flags;
	unsigned int len;
	bool resend;

	spin_lock_irqsave(&t->lock, flags);
	while (virtqueue_get_buf(t->stats_vq, &len))
		t->stats_busy = false;
	resend = !t->stats_busy && t->stats_pending;
	spin_unlock_irqrestore(&t->lock, flags);

	if (resend)
		queue_work(system_freezable_wq, &t->report_work);
}

/* The tier's num_pages: what the device wants in the balloon, 4 KiB pages */
static u32 vb_tier_read_num_pages(struct vb_tier *tier)
{
	u32 num_pages;

	virtio_cread_le(tier->tiers->vdev, struct virtio_balloon_config,
			tiers[tier->index].num_pages, &num_pages);
	return num_pages;
}

static void vb_tier_write_actual(struct vb_tier *tier, unsigned long actual)
{
	u32 val = actual << VB_TIER_PFN_SHIFT;

	virtio_cwrite_le(tier->tiers->vdev, struct virtio_balloon_config,
			 tiers[tier->index].actual, &val);
	tier->reported_actual = val;
}

static unsigned int vb_tier_fill_stats(struct vb_tier *tier,
				       struct virtio_balloon_tier_stat *stat)
{
	struct vb_tiers *t = tier->tiers;
	u64 val[VIRTIO_BALLOON_TIER_S_NR];
	struct sysinfo node;
	unsigned int tag;

	si_meminfo_node(&node, tier->nid);
	val[VIRTIO_BALLOON_TIER_S_MEMFREE] = (u64)node.freeram << PAGE_SHIFT;
	val[VIRTIO_BALLOON_TIER_S_MEMTOT] = (u64)node.totalram << PAGE_SHIFT;

	spin_lock_irq(&t->lock);
	val[VIRTIO_BALLOON_TIER_S_INFLATED] =
		tier->inflated << VB_TIER_PFN_SHIFT;
	val[VIRTIO_BALLOON_TIER_S_DEFLATED] =
		tier->deflated << VB_TIER_PFN_SHIFT;
	val[VIRTIO_BALLOON_TIER_S_OOM] =
		tier->oom_deflated << VB_TIER_PFN_SHIFT;
	val[VIRTIO_BALLOON_TIER_S_ALLOC_FAIL] = tier->alloc_failures;
	spin_unlock_irq(&t->lock);

	for (tag = 0; tag < VIRTIO_BALLOON_TIER_S_NR; tag++) {
		stat[tag].tier = cpu_to_le16(tier->index);
		stat[tag].tag = cpu_to_le16(tag);
		stat[tag].reserved = 0;
		stat[tag].val = cpu_to_le64(val[tag]);
	}
	return VIRTIO_BALLOON_TIER_S_NR;
}

static void vb_tiers_send_stats(struct vb_tiers *t)
{
	struct scatterlist sg;
	bool notify = false;
	unsigned int i, n = 0;
	int err;

	spin_lock_irq(&t->lock);
	if (t->stats_busy) {
		/* One buffer: send again when the device gives it back */
		t->stats_pending = true;
		spin_unlock_irq(&t->lock);
		return;
	}
	t->stats_busy = true;
	t->stats_pending = false;
	spin_unlock_irq(&t->lock);

	for (i = 0; i < VIRTIO_BALLOON_NR_TIERS; i++)
		if (t->tier[i].enabled)
			n += vb_tier_fill_stats(&t->tier[i], &t->stats[n]);
	sg_init_one(&sg, t->stats, n * sizeof(t->stats[0]));

	spin_lock_irq(&t->lock);
	err = n ? virtqueue_add_outbuf(t->stats_vq, &sg, 1, t, GFP_ATOMIC) :
		  -ENODATA;
	if (err)
		t->stats_busy = false;
	else
		notify = virtqueue_kick_prepare(t->stats_vq);
	spin_unlock_irq(&t->lock);

	if (notify)
		virtqueue_notify(t->stats_vq);
	t->last_stats = jiffies;
}

/*
 * Writes the tier's actual to the device if it changed.  Returns true if
 * statistics are due: the balloon reached its target, or an OOM deflate
 * or a stall happened; sets *@moving if the balloon is not at its target.
 */
static bool vb_tier_report(struct vb_tier *tier, bool *moving)
{
	struct vb_tiers *t = tier->tiers;
	unsigned long actual;
	bool settled, due;

	spin_lock_irq(&t->lock);
	actual = tier->actual;
	/* Settled once the pages are back too: statistics show MemTotal */
	settled = actual == tier->target && !tier->in_flight &&
		  list_empty(&tier->to_free);
	due = tier->stats_event || (settled && !tier->settled);
	tier->settled = settled;
	tier->stats_event = false;
	spin_unlock_irq(&t->lock);

	if ((u32)(actual << VB_TIER_PFN_SHIFT) != tier->reported_actual)
		vb_tier_write_actual(tier, actual);
	*moving |= !settled;
	return due;
}

/* Runs after completions, OOM deflates and failed allocations. */
static void vb_tiers_report_work(struct work_struct *work)
{
	struct vb_tiers *t = container_of(work, struct vb_tiers, report_work);
	bool due = READ_ONCE(t->stats_pending);
	bool moving = false;
	unsigned int i;

	for (i = 0; i < VIRTIO_BALLOON_NR_TIERS; i++)
		if (t->tier[i].enabled)
			due |= vb_tier_report(&t->tier[i], &moving);

	if (due || (moving && time_after_eq(jiffies, t->last_stats +
					    VB_TIER_STATS_INTERVAL)))
		vb_tiers_send_stats(t);
}

/*
 * The allocation flags for the next @nr pages of the tier.
 *
 * Not movable: ballooned pages have no movable_ops, so in movable
 * pageblocks they would stop compaction, CMA and memory offlining there
 * (the legacy balloon, too, uses GFP_HIGHUSER without BALLOON_COMPACTION).
 * A slow node onlined as ZONE_MOVABLE only would need ballooned pages to
 * be migratable; that is future work.
 */
static gfp_t vb_tier_gfp(struct vb_tier *tier, unsigned long nr)
{
	/*
	 * On the fast node HyperPlace makes room by demoting cold pages to
	 * the slow node; reclaim would only evict what it is about to move.
	 */
	if (tier->index == VIRTIO_BALLOON_TIER_FAST &&
	    hyperplace_make_room(tier->nid, nr))
		return GFP_HIGHUSER & ~__GFP_DIRECT_RECLAIM;
	/* As the legacy balloon: light reclaim, never the OOM killer */
	return GFP_HIGHUSER | __GFP_NORETRY;
}

/* A block on the tier's node, of *@order pages or, failing that, one page. */
static struct page *vb_tier_alloc(struct vb_tier *tier, gfp_t gfp,
				  unsigned int *order)
{
	struct page *page;

	gfp |= __GFP_THISNODE | __GFP_NOWARN | __GFP_NOMEMALLOC;
	if (*order) {
		page = alloc_pages_node(tier->nid, gfp, *order);
		if (page)
			return page;
		/* Fragmented: the rest of this chunk goes page by page */
		*order = 0;
	}
	return alloc_pages_node(tier->nid, gfp, 0);
}

static void vb_tier_alloc_failed(struct vb_tier *tier, unsigned long missing)
{
	struct vb_tiers *t = tier->tiers;
	bool new_stall = !tier->stuck;

	tier->stuck = true;
	if (new_stall)
		dev_info_ratelimited(&t->vdev->dev,
				     "%s tier: node %d out of free pages, %lu short\n",
				     vb_tier_names[tier->index], tier->nid,
				     missing);

	spin_lock_irq(&t->lock);
	tier->alloc_failures++;
	/* No progress is possible: the device hears of it once a stall */
	tier->stats_event |= new_stall;
	spin_unlock_irq(&t->lock);
	queue_work(system_freezable_wq, &t->report_work);
}

/*
 * Inflates the balloon by one chunk of at most @want pages.  Returns false
 * if the node ran out of free pages.
 */
static bool vb_tier_inflate(struct vb_tier *tier, unsigned long want)
{
	struct vb_tiers *t = tier->tiers;
	unsigned long chunk = min(want, VB_TIER_CHUNK_PAGES);
	unsigned int order = VB_TIER_BLOCK_ORDER;
	gfp_t gfp = vb_tier_gfp(tier, chunk);
	struct vb_tier_req *req = NULL;
	unsigned long allocated = 0;
	unsigned long sent;
	struct page *page;
	bool ok = true;

	while (allocated < chunk) {
		cond_resched();
		if (chunk - allocated < 1UL << order)
			order = 0;
		page = vb_tier_alloc(tier, gfp, &order);
		if (!page) {
			vb_tier_alloc_failed(tier, want - allocated);
			ok = false;
			break;
		}
		vb_block_take(page, order);
		allocated += 1UL << order;

		if (req && !vb_tier_req_add_block(req, page)) {
			sent = vb_tier_send(tier, &t->inflate, req);
			req = NULL;
			if (!sent) {
				vb_block_release(page);
				break;
			}
			tier->held += sent;
		}
		if (!req) {
			req = vb_tier_req_get(t, &t->inflate, tier,
					      VB_TIER_REQ_INFLATE,
					      TASK_UNINTERRUPTIBLE);
			if (!req) {
				vb_block_release(page);
				break;
			}
			vb_tier_req_add_block(req, page);
		}
	}
	if (req)
		tier->held += vb_tier_send(tier, &t->inflate, req);

	if (ok)
		tier->stuck = false;
	return ok;
}

/* Replaces a ballooned block at the head of the list by its pages. */
static void vb_block_split(struct vb_tier *tier, struct page *page)
{
	unsigned int order = page_private(page);
	unsigned long i;

	list_del(&page->lru);
	split_page(page, order);
	/* Highest first, so that the list runs upward: one range later */
	for (i = 1UL << order; i-- > 0; ) {
		set_page_private(page + i, 0);
		list_add(&page[i].lru, &tier->pages);
	}
}

/*
 * Moves the newest ballooned blocks, up to @want pages, into @req.  With
 * @exact, a block larger than what is left to take is split first;
 * without, the last block may take more.
 */
static void vb_tier_fill_deflate(struct vb_tier *tier, struct vb_tier_req *req,
				 unsigned long want, bool exact)
{
	struct vb_tiers *t = tier->tiers;
	struct page *page;

	spin_lock_irq(&t->lock);
	while (req->nr_pages < want) {
		page = list_first_entry_or_null(&tier->pages, struct page, lru);
		if (!page)
			break;
		if (exact && (1UL << page_private(page)) > want - req->nr_pages) {
			vb_block_split(tier, page);
			continue;
		}
		list_del(&page->lru);
		if (!vb_tier_req_add_block(req, page)) {
			list_add(&page->lru, &tier->pages);
			break;
		}
	}
	spin_unlock_irq(&t->lock);
}

/*
 * Sends deflate requests for up to @want pages (see vb_tier_fill_deflate()
 * for @exact), one chunk per request.  Returns the pages sent.
 */
static unsigned long vb_tier_deflate(struct vb_tier *tier, unsigned long want,
				     bool exact)
{
	struct vb_tiers *t = tier->tiers;
	struct vb_tier_req *req;
	unsigned long sent = 0;
	unsigned long nr;

	while (sent < want) {
		req = vb_tier_req_get(t, &t->deflate, tier, VB_TIER_REQ_DEFLATE,
				      TASK_UNINTERRUPTIBLE);
		if (!req)
			break;
		/* What a request carries is freed at once: bound it */
		vb_tier_fill_deflate(tier, req,
				     min(want - sent, VB_TIER_CHUNK_PAGES),
				     exact);
		nr = vb_tier_send(tier, &t->deflate, req);
		if (!nr)
			break;
		sent += nr;
	}
	tier->held -= sent;
	return sent;
}

/* Waits for the tier's requests to complete; false if there were none. */
static bool vb_tier_wait_in_flight(struct vb_tier *tier)
{
	struct vb_tiers *t = tier->tiers;

	if (!READ_ONCE(tier->in_flight))
		return false;
	wait_event(t->wait, !READ_ONCE(tier->in_flight) || vb_tiers_broken(t));
	return true;
}

/* The balloon size, in pages, the worker moves toward now. */
static unsigned long vb_tier_target(struct vb_tier *tier)
{
	struct vb_tiers *t = tier->tiers;
	u32 num_pages = vb_tier_read_num_pages(tier);
	unsigned long target = DIV_ROUND_UP((unsigned long)num_pages,
					    1UL << VB_TIER_PFN_SHIFT);

	spin_lock_irq(&t->lock);
	/* After an OOM deflate, only a new target inflates the tier again */
	if (tier->oom_hold && num_pages != tier->oom_hold_target)
		tier->oom_hold = false;
	if (tier->oom_hold)
		target = min(target, tier->held);
	tier->target = target;
	spin_unlock_irq(&t->lock);
	return target;
}

/*
 * Moves the balloon one chunk toward its target.  Returns true if the
 * worker should run again, after *@delay jiffies.
 */
static bool vb_tier_step(struct vb_tier *tier, unsigned long *delay)
{
	unsigned long target, excess;

	*delay = 0;
	if (tier->paused || !vb_tiers_running(tier->tiers))
		return false;

	target = vb_tier_target(tier);
	if (target > tier->held) {
		if (!vb_tier_inflate(tier, target - tier->held)) {
			*delay = VB_TIER_RETRY_DELAY;
			return true;
		}
	} else if (target < tier->held) {
		excess = min(tier->held - target, VB_TIER_CHUNK_PAGES);
		/* Nothing to take until the pages on their way in arrive */
		if (!vb_tier_deflate(tier, excess, true) &&
		    !vb_tier_wait_in_flight(tier))
			return false;
	}
	return tier->held != target;
}

static void vb_tier_work(struct work_struct *work)
{
	struct vb_tier *tier = container_of(to_delayed_work(work),
					    struct vb_tier, work);
	unsigned long delay;
	bool again;

	mutex_lock(&tier->lock);
	/* Also when paused: the pages the device let go since the last run */
	if (vb_tier_free_deflated(tier))
		queue_work(system_freezable_wq, &tier->tiers->report_work);
	again = vb_tier_step(tier, &delay);
	mutex_unlock(&tier->lock);

	if (again)
		queue_delayed_work(system_freezable_wq, &tier->work, delay);
}

void vb_tier_set_paused(struct vb_tier *tier, bool paused)
{
	WRITE_ONCE(tier->paused, paused);
	if (!paused)
		queue_delayed_work(system_freezable_wq, &tier->work, 0);
}

/*
 * The worker holds the lock one step at a time: wait a little for it
 * rather than skip the tier (and deflate the fast tier while the slow one
 * still has pages).  Never block: the holder may be waiting on this OOM.
 */
static bool vb_tier_oom_lock(struct vb_tier *tier)
{
	unsigned int i;

	for (i = 0; i < VB_TIER_OOM_LOCK_TRIES; i++) {
		if (mutex_trylock(&tier->lock))
			return true;
		msleep(VB_TIER_OOM_LOCK_WAIT_MS);
	}
	return false;
}

static unsigned long vb_tier_oom_deflate(struct vb_tier *tier,
					 unsigned long nr)
{
	struct vb_tiers *t = tier->tiers;
	unsigned long freed;
	u32 num_pages;

	/* The worker may be allocating, even be the reason for this OOM */
	if (!vb_tier_oom_lock(tier))
		return 0;
	if (vb_tiers_running(t)) {
		vb_tier_deflate(tier, nr, false);
		/* The pages can be freed once the device let them go */
		wait_event(t->wait, !READ_ONCE(tier->deflating) ||
			   vb_tiers_broken(t));
	}
	/* With the lock held: what is counted here is really free */
	freed = vb_tier_free_deflated(tier);

	if (freed) {
		num_pages = vb_tier_read_num_pages(tier);
		spin_lock_irq(&t->lock);
		/* Set before the worker can run again: it inflates no more */
		tier->oom_hold = true;
		tier->oom_hold_target = num_pages;
		tier->oom_deflated += freed;
		tier->stats_event = true;
		spin_unlock_irq(&t->lock);
		queue_work(system_freezable_wq, &t->report_work);
	}
	mutex_unlock(&tier->lock);
	return freed;
}

/**
 * vb_tiers_oom_deflate - give tier balloon pages back on OOM
 * @t: the device's tiers, or NULL
 * @nr: pages wanted, in PAGE_SIZE units
 *
 * Deflates the slow tier's balloon first, then the fast tier's, and waits
 * until the device let the pages go, then frees them.  Whole blocks go,
 * so more than @nr pages may be freed.  A tier that freed pages here is
 * not inflated again until the device asks for a new size.  A tier whose
 * worker stays busy for half a second is skipped: the worker may be the
 * allocating task.
 *
 * Context: the OOM notifier chain; sleeps.
 * Return: the pages freed.
 */
unsigned long vb_tiers_oom_deflate(struct vb_tiers *t, unsigned long nr)
{
	static const unsigned int slow_first[] = {
		VIRTIO_BALLOON_TIER_SLOW, VIRTIO_BALLOON_TIER_FAST,
	};
	unsigned long freed = 0;
	struct vb_tier *tier;
	unsigned int i;

	if (!t || !virtio_has_feature(t->vdev, VIRTIO_BALLOON_F_DEFLATE_ON_OOM))
		return 0;
	/* Frozen or being removed: the balloons are empty */
	if (!READ_ONCE(t->running))
		return 0;

	for (i = 0; i < ARRAY_SIZE(slow_first) && freed < nr; i++) {
		tier = &t->tier[slow_first[i]];
		if (tier->enabled)
			freed += vb_tier_oom_deflate(tier, nr - freed);
	}
	return freed;
}
EXPORT_SYMBOL_GPL(vb_tiers_oom_deflate);

/* The device is gone: take back what it held of the tier, untold. */
static void vb_tier_abandon(struct vb_tier *tier)
{
	struct vb_tier_queue *queues[] = { &tier->tiers->inflate,
					   &tier->tiers->deflate };
	struct vb_tiers *t = tier->tiers;
	struct vb_tier_req *req;
	unsigned int i, j;

	spin_lock_irq(&t->lock);
	for (i = 0; i < ARRAY_SIZE(queues); i++) {
		for (j = 0; j < queues[i]->nr_reqs; j++) {
			req = &queues[i]->reqs[j];
			if (req->queued && req->tier == tier)
				vb_tier_req_finish(queues[i], req, false);
		}
	}
	list_splice_init(&tier->pages, &tier->to_free);
	tier->actual = 0;
	spin_unlock_irq(&t->lock);

	vb_tier_free_deflated(tier);
	tier->held = 0;
	wake_up(&t->wait);
}

/* Gives every page of the tier back, telling the device if it works. */
static void vb_tier_empty(struct vb_tier *tier)
{
	struct vb_tiers *t = tier->tiers;
	unsigned long sent;

	while (tier->held || READ_ONCE(tier->in_flight)) {
		if (vb_tiers_broken(t)) {
			vb_tier_abandon(tier);
			break;
		}
		sent = vb_tier_deflate(tier, ULONG_MAX, false);
		if (WARN_ON_ONCE(!vb_tier_wait_in_flight(tier) && !sent))
			break;
		vb_tier_free_deflated(tier);
	}
	vb_tier_free_deflated(tier);
}

/**
 * vb_tiers_stop - stop the tier balloons and give all their pages back
 * @t: the device's tiers, or NULL
 *
 * For removal and freezing, before the device is reset: the workers stop,
 * every tier page goes back to the guest (through deflate requests while
 * the device works) and the tiers' actual is written as 0.
 *
 * Context: sleeps until the device used every request.
 */
void vb_tiers_stop(struct vb_tiers *t)
{
	struct vb_tier *tier;
	unsigned int i;

	if (!t || t->works_disabled)
		return;

	spin_lock_irq(&t->lock);
	t->running = false;
	spin_unlock_irq(&t->lock);

	for (i = 0; i < VIRTIO_BALLOON_NR_TIERS; i++)
		disable_delayed_work_sync(&t->tier[i].work);
	for (i = 0; i < VIRTIO_BALLOON_NR_TIERS; i++) {
		tier = &t->tier[i];
		if (!tier->enabled)
			continue;
		mutex_lock(&tier->lock);
		vb_tier_empty(tier);
		mutex_unlock(&tier->lock);
	}
	disable_work_sync(&t->report_work);
	t->works_disabled = true;

	for (i = 0; i < VIRTIO_BALLOON_NR_TIERS; i++)
		if (t->tier[i].enabled)
			vb_tier_write_actual(&t->tier[i], t->tier[i].actual);
}
EXPORT_SYMBOL_GPL(vb_tiers_stop);

/* The device names nodes by ACPI proximity domain, as the firmware does */
static int vb_node_to_nid(u32 node)
{
	if (node > INT_MAX)
		return NUMA_NO_NODE;
	if (IS_ENABLED(CONFIG_ACPI_NUMA) && !acpi_disabled)
		return pxm_to_node(node);
	return node;
}

static void vb_tier_init(struct vb_tiers *t, unsigned int index)
{
	struct vb_tier *fast = &t->tier[VIRTIO_BALLOON_TIER_FAST];
	struct vb_tier *tier = &t->tier[index];
	struct device *dev = &t->vdev->dev;
	const char *name = vb_tier_names[index];
	u32 node, size;

	tier->tiers = t;
	tier->index = index;
	mutex_init(&tier->lock);
	INIT_DELAYED_WORK(&tier->work, vb_tier_work);
	INIT_LIST_HEAD(&tier->pages);
	INIT_LIST_HEAD(&tier->to_free);
	tier->settled = true;

	virtio_cread_le(t->vdev, struct virtio_balloon_config,
			tiers[index].node, &node);
	virtio_cread_le(t->vdev, struct virtio_balloon_config,
			tiers[index].size_pages, &size);
	tier->nid = vb_node_to_nid(node);

	if (tier->nid < 0 || tier->nid >= MAX_NUMNODES ||
	    !node_state(tier->nid, N_MEMORY)) {
		dev_warn(dev, "%s tier: node %u is not an online node with memory, tier disabled\n",
			 name, node);
		return;
	}
	if (tier != fast && fast->enabled && tier->nid == fast->nid) {
		dev_warn(dev, "%s tier: node %u is the fast tier's node, tier disabled\n",
			 name, node);
		return;
	}
	tier->enabled = true;
	dev_info(dev, "%s tier: node %u (nid %d), %u MiB\n", name, node,
		 tier->nid, size >> (20 - VIRTIO_BALLOON_PFN_SHIFT));
}

static int vb_tier_queue_init(struct vb_tier_queue *q)
{
	unsigned int i;

	for (i = 0; i < VB_TIER_REQS; i++) {
		q->reqs[i].buf = kmalloc(VB_TIER_REQ_SIZE, GFP_KERNEL);
		if (!q->reqs[i].buf)
			return -ENOMEM;
		INIT_LIST_HEAD(&q->reqs[i].pages);
	}
	return 0;
}

static void vb_tier_queue_free(struct vb_tier_queue *q)
{
	unsigned int i;

	for (i = 0; i < VB_TIER_REQS; i++)
		kfree(q->reqs[i].buf);
}

static void vb_tiers_free(struct vb_tiers *t)
{
	vb_tier_queue_free(&t->inflate);
	vb_tier_queue_free(&t->deflate);
	kfree(t);
}

/**
 * vb_tiers_probe - set up the tier balloons of a device
 * @vdev: the device, its features negotiated
 *
 * Reads which node each tier is; a tier whose node is not online with
 * memory is disabled.  Nothing is sent before vb_tiers_attach() and
 * vb_tiers_start().
 *
 * Return: the tier state, NULL if the device did not negotiate
 * %VIRTIO_BALLOON_F_TIERS, or an ERR_PTR().
 */
struct vb_tiers *vb_tiers_probe(struct virtio_device *vdev)
{
	struct vb_tiers *t;
	unsigned int i;

	if (!virtio_has_feature(vdev, VIRTIO_BALLOON_F_TIERS))
		return NULL;

	t = kzalloc(sizeof(*t), GFP_KERNEL);
	if (!t)
		return ERR_PTR(-ENOMEM);
	t->vdev = vdev;
	spin_lock_init(&t->lock);
	init_waitqueue_head(&t->wait);
	INIT_WORK(&t->report_work, vb_tiers_report_work);
	t->last_stats = jiffies - VB_TIER_STATS_INTERVAL;

	if (vb_tier_queue_init(&t->inflate) ||
	    vb_tier_queue_init(&t->deflate)) {
		vb_tiers_free(t);
		return ERR_PTR(-ENOMEM);
	}
	for (i = 0; i < VIRTIO_BALLOON_NR_TIERS; i++)
		vb_tier_init(t, i);

	vb_tiers_debug_init(t);
	return t;
}
EXPORT_SYMBOL_GPL(vb_tiers_probe);

static void vb_tier_queue_attach(struct vb_tier_queue *q, struct virtqueue *vq)
{
	q->vq = vq;
	q->busy = 0;
	q->nr_reqs = min(VB_TIER_REQS, virtqueue_get_vring_size(vq));
}

/**
 * vb_tiers_attach - hand the tier queues over
 * @t: the device's tiers, or NULL
 * @vqs: the device's virtqueues, indexed by queue number
 *
 * Called after every virtio_find_vqs(): at probe and on restore.
 */
void vb_tiers_attach(struct vb_tiers *t, struct virtqueue *const vqs[])
{
	unsigned int i;

	if (!t)
		return;

	vb_tier_queue_attach(&t->inflate, vqs[VIRTIO_BALLOON_TIER_VQ_INFLATE]);
	vb_tier_queue_attach(&t->deflate, vqs[VIRTIO_BALLOON_TIER_VQ_DEFLATE]);
	t->stats_vq = vqs[VIRTIO_BALLOON_TIER_VQ_STATS];
	t->stats_busy = false;
	t->stats_pending = false;

	if (t->works_disabled) {
		for (i = 0; i < VIRTIO_BALLOON_NR_TIERS; i++)
			enable_delayed_work(&t->tier[i].work);
		enable_work(&t->report_work);
		t->works_disabled = false;
	}
}
EXPORT_SYMBOL_GPL(vb_tiers_attach);

/**
 * vb_tiers_start - let the tier balloons move
 * @t: the device's tiers, or NULL
 *
 * Called once the device is ready, at probe and on restore.
 */
void vb_tiers_start(struct vb_tiers *t)
{
	if (!t)
		return;

	spin_lock_irq(&t->lock);
	t->running = true;
	spin_unlock_irq(&t->lock);
	vb_tiers_config_changed(t);
}
EXPORT_SYMBOL_GPL(vb_tiers_start);

/**
 * vb_tiers_vq_done - the callback of the tier queues
 * @t: the device's tiers, or NULL
 * @vq: the queue whose buffers the device used
 *
 * Context: any, usually hard interrupt.
 */
void vb_tiers_vq_done(struct vb_tiers *t, struct virtqueue *vq)
{
	if (!t)
		return;

	if (vq == t->inflate.vq)
		vb_tier_queue_done(t, &t->inflate);
	else if (vq == t->deflate.vq)
		vb_tier_queue_done(t, &t->deflate);
	else if (vq == t->stats_vq)
		vb_tiers_stats_done(t);
}
EXPORT_SYMBOL_GPL(vb_tiers_vq_done);

/**
 * vb_tiers_config_changed - the device may have set new tier sizes
 * @t: the device's tiers, or NULL
 *
 * Context: any, does not sleep.
 */
void vb_tiers_config_changed(struct vb_tiers *t)
{
	unsigned int i;

	if (!t)
		return;

	/* A worker waiting out a failed allocation keeps waiting */
	for (i = 0; i < VIRTIO_BALLOON_NR_TIERS; i++)
		if (t->tier[i].enabled)
			queue_delayed_work(system_freezable_wq,
					   &t->tier[i].work, 0);
}
EXPORT_SYMBOL_GPL(vb_tiers_config_changed);

/**
 * vb_tiers_remove - free the tier state
 * @t: the device's tiers, or NULL
 *
 * After vb_tiers_stop() and the deletion of the virtqueues, or on a failed
 * probe, when nothing was sent.
 */
void vb_tiers_remove(struct vb_tiers *t)
{
	if (!t)
		return;

	vb_tiers_debug_exit(t);
	vb_tiers_free(t);
}
EXPORT_SYMBOL_GPL(vb_tiers_remove);
