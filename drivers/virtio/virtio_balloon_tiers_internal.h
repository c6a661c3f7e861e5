/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * HyperFlex per-tier balloons: the state shared by virtio_balloon_tiers.c
 * and its debugfs fault injection, virtio_balloon_tiers_debug.c.
 */
#ifndef _VIRTIO_BALLOON_TIERS_INTERNAL_H
#define _VIRTIO_BALLOON_TIERS_INTERNAL_H

#include <linux/list.h>
#include <linux/mm.h>
#include <linux/mutex.h>
#include <linux/spinlock.h>
#include <linux/types.h>
#include <linux/virtio_balloon.h>
#include <linux/wait.h>
#include <linux/workqueue.h>

struct dentry;
struct virtio_device;
struct virtqueue;
struct vb_tier;

/* Requests in flight per queue: the host discards several at once */
#define VB_TIER_REQS		8U

/* From PAGE_SIZE pages to the device's 4 KiB pages */
#define VB_TIER_PFN_SHIFT	(PAGE_SHIFT - VIRTIO_BALLOON_PFN_SHIFT)

/**
 * enum vb_tier_req_kind - what happens to a request's pages once the
 *	device used it
 * @VB_TIER_REQ_INFLATE: they join the tier's balloon
 * @VB_TIER_REQ_DEFLATE: they go back to the page allocator, through the
 *	&vb_tier.to_free list
 * @VB_TIER_REQ_PROBE: a crafted request (debugfs); the pages it carries
 *	were only allocated for their frame numbers and are freed
 */
enum vb_tier_req_kind {
	VB_TIER_REQ_INFLATE,
	VB_TIER_REQ_DEFLATE,
	VB_TIER_REQ_PROBE,
};

/**
 * struct vb_tier_req - one request buffer and the pages it carries
 * @pages: the pages (blocks of 2^page_private() pages), by page->lru
 * @nr_pages: pages in @pages, in PAGE_SIZE units
 * @nr_ranges: ranges filled in @buf
 * @len: bytes of @buf the device reads
 * @tier: the tier the request is for
 * @kind: an &enum vb_tier_req_kind
 * @queued: the device holds the request
 * @pinned: the request names the tier's pinned block (see vb_tier_pin())
 * @buf: the request as the device reads it
 *
 * A request is claimed by one builder at a time (vb_tier_req_get()); once
 * queued, only the queue's callback touches it, under &vb_tiers.lock.
 */
struct vb_tier_req {
	struct list_head pages;
	unsigned long nr_pages;
	unsigned int nr_ranges;
	size_t len;
	struct vb_tier *tier;
	enum vb_tier_req_kind kind;
	bool queued;
	bool pinned;
	struct virtio_balloon_tier_req *buf;
};

/**
 * struct vb_tier_queue - a tier request queue (inflate or deflate)
 * @vq: the virtqueue
 * @busy: bitmap of the claimed requests, under &vb_tiers.lock
 * @nr_reqs: requests in use, at most the ring size
 * @reqs: the requests, shared by both tiers
 */
struct vb_tier_queue {
	struct virtqueue *vq;
	unsigned long busy;
	unsigned int nr_reqs;
	struct vb_tier_req reqs[VB_TIER_REQS];
};

/**
 * struct vb_tier - the balloon of one tier
 * @tiers: the device the tier belongs to
 * @index: %VIRTIO_BALLOON_TIER_FAST or %VIRTIO_BALLOON_TIER_SLOW
 * @nid: the tier's NUMA node
 * @enabled: the node is usable; a disabled tier never sends anything
 * @paused: debugfs stopped the worker
 * @stuck: the last allocation failed
 * @lock: serializes the worker, the OOM deflate, stop and debugfs
 *	injections of this tier; only its holder empties @to_free
 * @work: moves the balloon toward the device's target
 * @held: pages in the balloon once every queued request completed, in
 *	PAGE_SIZE units, under @lock
 * @reported_actual: the actual last written to the config space
 * @pages: blocks the device accepted, newest first, by page->lru
 * @to_free: ballooned blocks the device let go (deflated, or never
 *	accepted), by page->lru.  The queues' callbacks, which run with
 *	interrupts off, only put them here; vb_tier_free_deflated() gives
 *	them back to the page allocator, in process context
 * @actual: pages in the balloon that the device accepted
 * @target: the balloon size the worker last moved toward
 * @in_flight: requests of the tier the device holds
 * @deflating: deflate requests of the tier the device holds
 * @pinned: a ballooned block named by crafted requests in flight, kept out
 *	of @pages so that it cannot be deflated meanwhile
 * @pin_users: requests that name @pinned
 * @oom_hold: an OOM deflate happened: no inflation while the device asks
 *	for @oom_hold_target
 * @oom_hold_target: num_pages when the OOM deflate happened
 * @settled: @actual was at @target with nothing in flight and nothing
 *	left to free, last looked
 * @stats_event: the device should get statistics soon
 * @inflated: pages the device accepted, cumulative
 * @deflated: pages given back, cumulative
 * @oom_deflated: pages given back on OOM, cumulative
 * @alloc_failures: failed allocations, cumulative
 *
 * The fields from @pages on are under &vb_tiers.lock.
 */
struct vb_tier {
	struct vb_tiers *tiers;
	unsigned int index;
	int nid;
	bool enabled;
	bool paused;
	bool stuck;
	struct mutex lock;	/* see above */
	struct delayed_work work;
	unsigned long held;
	u32 reported_actual;

	struct list_head pages;
	struct list_head to_free;
	unsigned long actual;
	unsigned long target;
	unsigned int in_flight;
	unsigned int deflating;
	struct page *pinned;
	unsigned int pin_users;
	bool oom_hold;
	u32 oom_hold_target;
	bool settled;
	bool stats_event;
	u64 inflated;
	u64 deflated;
	u64 oom_deflated;
	u64 alloc_failures;
};

/**
 * struct vb_tiers - the per-tier balloons of one virtio-balloon device
 * @vdev: the device
 * @lock: protects the queues' requests, the tiers' page lists and counts
 *	and the statistics buffer; taken in the queues' callbacks
 * @wait: woken when the device used a request
 * @running: requests may be sent (between vb_tiers_start() and
 *	vb_tiers_stop())
 * @works_disabled: vb_tiers_stop() disabled the work items
 * @inflate: the tier inflate queue
 * @deflate: the tier deflate queue
 * @stats_vq: the tier statistics queue
 * @stats_busy: the device holds @stats
 * @stats_pending: statistics became due while @stats was busy
 * @last_stats: when statistics were last sent, in jiffies
 * @report_work: writes the tiers' actual and sends statistics
 * @debugfs: the fault injection directory, if this device has it
 * @stats: the statistics buffer
 * @tier: the tiers, by index
 */
struct vb_tiers {
	struct virtio_device *vdev;
	spinlock_t lock;	/* see above */
	wait_queue_head_t wait;
	bool running;
	bool works_disabled;
	struct vb_tier_queue inflate;
	struct vb_tier_queue deflate;
	struct virtqueue *stats_vq;
	bool stats_busy;
	bool stats_pending;
	unsigned long last_stats;
	struct work_struct report_work;
#ifdef CONFIG_HYPERPLACE_DEBUG
	struct dentry *debugfs;
#endif
	struct virtio_balloon_tier_stat stats[VIRTIO_BALLOON_NR_TIERS *
					      VIRTIO_BALLOON_TIER_S_NR];
	struct vb_tier tier[VIRTIO_BALLOON_NR_TIERS];
};

/* The device's 4 KiB frame number of @page */
static inline u64 vb_tier_page_pfn(struct page *page)
{
	return (u64)page_to_pfn(page) << VB_TIER_PFN_SHIFT;
}

static inline void vb_tier_range_set(struct virtio_balloon_tier_range *range,
				     u64 pfn, u32 nr_pages)
{
	range->pfn = cpu_to_le64(pfn);
	range->nr_pages = cpu_to_le32(nr_pages);
	range->reserved = 0;
}

bool vb_tiers_running(struct vb_tiers *t);
struct vb_tier_req *vb_tier_req_get(struct vb_tiers *t,
				    struct vb_tier_queue *q,
				    struct vb_tier *tier,
				    enum vb_tier_req_kind kind,
				    unsigned int state);
void vb_tier_req_put(struct vb_tiers *t, struct vb_tier_queue *q,
		     struct vb_tier_req *req);
int vb_tier_req_queue(struct vb_tiers *t, struct vb_tier_queue *q,
		      struct vb_tier_req *req);
struct page *vb_tier_pin(struct vb_tier *tier);
void vb_tier_unpin(struct vb_tier *tier);
void vb_tier_set_paused(struct vb_tier *tier, bool paused);

#ifdef CONFIG_HYPERPLACE_DEBUG
void vb_tiers_debug_init(struct vb_tiers *t);
void vb_tiers_debug_exit(struct vb_tiers *t);
void vb_tiers_debug_returned(struct vb_tiers *t, struct page *page);
#else
static inline void vb_tiers_debug_init(struct vb_tiers *t) { }
static inline void vb_tiers_debug_exit(struct vb_tiers *t) { }
static inline void vb_tiers_debug_returned(struct vb_tiers *t,
					   struct page *page) { }
#endif

#endif /* _VIRTIO_BALLOON_TIERS_INTERNAL_H */
