// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Fault injection for the HyperFlex tier balloons, to test how the device
 * checks requests (CONFIG_HYPERPLACE_DEBUG only).
 *
 * /sys/kernel/debug/virtio_balloon_tiers/inject takes one command a write:
 *   outside        fast-tier inflates outside the tier: one range at a
 *                  frame beyond the CPU's physical address width, and one
 *                  from the last page of the newest fast-tier block across
 *                  the end of its node (only if that block ends the node)
 *   other-tier     a fast-tier inflate of a page of the slow node
 *   duplicate      an inflate of a page already in the balloon
 *   not-ballooned  a fast-tier deflate of a page not in the balloon
 *   malformed      a request with flags set, and one whose header claims
 *                  more ranges than its buffer holds
 *   flood N        N one-page inflates of a page already in the balloon,
 *                  as fast as the queue takes them; a fatal signal stops it
 *   pause 0|1      resume or stop the tier workers
 * A write returns once its requests are queued.
 *
 * No command hands over a page the guest uses.  They name frames outside
 * the tier, pages the driver allocated and holds until the device used
 * the request, or ballooned pages, kept from being deflated until every
 * request naming them completed (vb_tier_pin()).  A page the driver
 * allocated is filled with a pattern and checked when the device gives
 * the request back: a device that discarded it anyway (its contents are
 * gone) gets a warning, which fails the test run.
 */

#include <linux/debugfs.h>
#include <linux/fs.h>
#include <linux/gfp.h>
#include <linux/highmem.h>
#include <linux/kstrtox.h>
#include <linux/memory_hotplug.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/overflow.h>
#include <linux/processor.h>
#include <linux/sched.h>
#include <linux/sched/signal.h>
#include <linux/string.h>
#include <linux/uaccess.h>
#include <linux/virtio.h>

#include "virtio_balloon_tiers_internal.h"

/* Requests one flood may send: minutes at the device's default rate */
#define VB_INJECT_FLOOD_MAX	1000000U

/* What a borrowed page holds while the device has its frame number */
#define VB_INJECT_PATTERN	0x5a

/**
 * struct vb_inject_req - a crafted request
 * @ranges: the ranges the buffer holds
 * @nr_ranges: how many of @ranges the buffer holds
 * @claimed_ranges: how many ranges the header claims
 * @flags: the header's flags
 * @borrowed: a page the driver allocated for its frame number, freed once
 *	the device used the request; or NULL
 * @pinned: the request names the tier's pinned block
 */
struct vb_inject_req {
	struct virtio_balloon_tier_range ranges[2];
	unsigned int nr_ranges;
	u32 claimed_ranges;
	u16 flags;
	struct page *borrowed;
	bool pinned;
};

/**
 * struct vb_inject_cmd - a command of the inject file
 * @name: what to write
 * @has_arg: the command takes an argument
 * @run: runs the command, with the fast tier's lock held (flood drops it
 *	between requests, and returns with it held)
 */
struct vb_inject_cmd {
	const char *name;
	bool has_arg;
	int (*run)(struct vb_tiers *t, const char *arg);
};

static int vb_inject_send(struct vb_tier *tier, struct vb_tier_queue *q,
			  const struct vb_inject_req *r)
{
	struct vb_tiers *t = tier->tiers;
	struct vb_tier_req *req;
	int err;

	req = vb_tier_req_get(t, q, tier, VB_TIER_REQ_PROBE, TASK_KILLABLE);
	if (!req)
		return fatal_signal_pending(current) ? -EINTR : -EIO;

	req->buf->tier = cpu_to_le16(tier->index);
	req->buf->flags = cpu_to_le16(r->flags);
	req->buf->nr_ranges = cpu_to_le32(r->claimed_ranges);
	memcpy(req->buf->ranges, r->ranges,
	       r->nr_ranges * sizeof(r->ranges[0]));
	req->len = struct_size(req->buf, ranges, r->nr_ranges);
	req->pinned = r->pinned;
	if (r->borrowed) {
		list_add(&r->borrowed->lru, &req->pages);
		req->nr_pages = 1;
	}

	err = vb_tier_req_queue(t, q, req);
	if (err) {
		if (r->borrowed)
			list_del(&r->borrowed->lru);
		vb_tier_req_put(t, q, req);
	}
	return err;
}

/*
 * Sends @r as a request of @tier on @q.  The request owns @r's borrowed
 * page and pin from here on, also when it cannot be sent.
 */
static int vb_inject(struct vb_tier *tier, struct vb_tier_queue *q,
		     const struct vb_inject_req *r)
{
	int err = vb_inject_send(tier, q, r);

	if (err) {
		if (r->borrowed)
			__free_page(r->borrowed);
		if (r->pinned)
			vb_tier_unpin(tier);
	}
	return err;
}

/* A free page of node @nid, for its frame number, filled with a pattern. */
static struct page *vb_inject_borrow(int nid)
{
	struct page *page;

	page = alloc_pages_node(nid, GFP_HIGHUSER_MOVABLE | __GFP_THISNODE |
				__GFP_NORETRY | __GFP_NOWARN, 0);
	if (page)
		memset_page(page, 0, VB_INJECT_PATTERN, PAGE_SIZE);
	return page;
}

/**
 * vb_tiers_debug_returned() - check a borrowed page the device gave back
 * @t: the device
 * @page: the page, still filled with the pattern unless the device
 *	discarded it
 *
 * Called with &vb_tiers.lock held and interrupts off.
 */
void vb_tiers_debug_returned(struct vb_tiers *t, struct page *page)
{
	void *addr = kmap_local_page(page);

	WARN(memchr_inv(addr, VB_INJECT_PATTERN, PAGE_SIZE),
	     "virtio_balloon_tiers: %s changed page %#lx of a request it had to refuse\n",
	     dev_name(&t->vdev->dev), page_to_pfn(page));
	kunmap_local(addr);
}

/*
 * Pins a block of the fast tier's balloon or, if that is empty, of the
 * slow tier's.  Returns the tier, or NULL if both balloons are empty.
 */
static struct vb_tier *vb_inject_pin(struct vb_tiers *t, struct page **page)
{
	struct vb_tier *tier;
	unsigned int i;

	for (i = 0; i < VIRTIO_BALLOON_NR_TIERS; i++) {
		tier = &t->tier[i];
		if (!tier->enabled)
			continue;
		*page = vb_tier_pin(tier);
		if (*page)
			return tier;
	}
	return NULL;
}

static bool vb_pfn_on_node(unsigned long pfn, int nid)
{
	struct page *page = pfn_to_online_page(pfn);

	return page && page_to_nid(page) == nid;
}

/*
 * A range of one frame past the end of guest memory: beyond the CPU's
 * physical address width, where no RAM can be (max_pfn may still be RAM,
 * with mem= or a reserved tail).
 */
static void vb_inject_range_past_memory(struct vb_inject_req *r)
{
#ifdef CONFIG_X86
	u64 pfn = 1ULL << (boot_cpu_data.x86_phys_bits - PAGE_SHIFT);
#else
	u64 pfn = 1ULL << (52 - PAGE_SHIFT);
#endif

	vb_tier_range_set(&r->ranges[0], pfn << VB_TIER_PFN_SHIFT, 1);
	r->nr_ranges = 1;
	r->claimed_ranges = 1;
}

static int vb_inject_outside(struct vb_tiers *t, const char *arg)
{
	struct vb_tier *fast = &t->tier[VIRTIO_BALLOON_TIER_FAST];
	struct vb_inject_req r = { };
	unsigned long end;
	struct page *page;
	int err;

	vb_inject_range_past_memory(&r);
	err = vb_inject(fast, &t->inflate, &r);
	if (err)
		return err;

	page = vb_tier_pin(fast);
	if (!page)
		return 0;
	end = page_to_pfn(page) + (1UL << page_private(page));
	if (vb_pfn_on_node(end, fast->nid)) {
		vb_tier_unpin(fast);
		dev_info(&t->vdev->dev,
			 "inject outside: newest fast-tier block does not end its node, no range across the end\n");
		return 0;
	}
	/* The block's last page, and the first one after the node */
	vb_tier_range_set(&r.ranges[0], ((u64)end << VB_TIER_PFN_SHIFT) - 1, 2);
	r.pinned = true;
	return vb_inject(fast, &t->inflate, &r);
}

static int vb_inject_other_tier(struct vb_tiers *t, const char *arg)
{
	struct vb_tier *slow = &t->tier[VIRTIO_BALLOON_TIER_SLOW];
	struct vb_inject_req r = { .nr_ranges = 1, .claimed_ranges = 1 };

	if (!slow->enabled)
		return -ENODEV;
	r.borrowed = vb_inject_borrow(slow->nid);
	if (!r.borrowed)
		return -ENOMEM;
	vb_tier_range_set(&r.ranges[0], vb_tier_page_pfn(r.borrowed),
			  1U << VB_TIER_PFN_SHIFT);
	return vb_inject(&t->tier[VIRTIO_BALLOON_TIER_FAST], &t->inflate, &r);
}

static int vb_inject_duplicate(struct vb_tiers *t, const char *arg)
{
	struct vb_inject_req r = {
		.nr_ranges = 1, .claimed_ranges = 1, .pinned = true,
	};
	struct vb_tier *tier;
	struct page *page;

	tier = vb_inject_pin(t, &page);
	if (!tier)
		return -ENOENT;
	vb_tier_range_set(&r.ranges[0], vb_tier_page_pfn(page), 1);
	return vb_inject(tier, &t->inflate, &r);
}

static int vb_inject_not_ballooned(struct vb_tiers *t, const char *arg)
{
	struct vb_tier *fast = &t->tier[VIRTIO_BALLOON_TIER_FAST];
	struct vb_inject_req r = { .nr_ranges = 1, .claimed_ranges = 1 };

	r.borrowed = vb_inject_borrow(fast->nid);
	if (!r.borrowed)
		return -ENOMEM;
	vb_tier_range_set(&r.ranges[0], vb_tier_page_pfn(r.borrowed),
			  1U << VB_TIER_PFN_SHIFT);
	return vb_inject(fast, &t->deflate, &r);
}

static int vb_inject_malformed(struct vb_tiers *t, const char *arg)
{
	struct vb_tier *fast = &t->tier[VIRTIO_BALLOON_TIER_FAST];
	struct vb_inject_req r = { };
	int err;

	vb_inject_range_past_memory(&r);
	r.flags = 1;
	err = vb_inject(fast, &t->inflate, &r);
	if (err)
		return err;

	r.flags = 0;
	r.claimed_ranges = r.nr_ranges + 1;
	return vb_inject(fast, &t->inflate, &r);
}

static int vb_inject_flood(struct vb_tiers *t, const char *arg)
{
	struct vb_tier *fast = &t->tier[VIRTIO_BALLOON_TIER_FAST];
	struct vb_inject_req r = {
		.nr_ranges = 1, .claimed_ranges = 1, .pinned = true,
	};
	struct vb_tier *tier;
	struct page *page;
	unsigned int i, n;
	int err;

	err = kstrtouint(arg, 0, &n);
	if (err)
		return err;
	if (!n || n > VB_INJECT_FLOOD_MAX)
		return -EINVAL;

	for (i = 0; i < n; i++) {
		if (i) {
			/* Let the worker, an OOM deflate or stop in between */
			mutex_unlock(&fast->lock);
			cond_resched();
			mutex_lock(&fast->lock);
			if (!vb_tiers_running(t))
				return -ESHUTDOWN;
		}
		if (fatal_signal_pending(current))
			return -EINTR;
		tier = vb_inject_pin(t, &page);
		if (!tier)
			return -ENOENT;
		vb_tier_range_set(&r.ranges[0], vb_tier_page_pfn(page), 1);
		err = vb_inject(tier, &t->inflate, &r);
		if (err)
			return err;
	}
	return 0;
}

static int vb_inject_pause(struct vb_tiers *t, const char *arg)
{
	unsigned int i;
	bool pause;
	int err;

	err = kstrtobool(arg, &pause);
	if (err)
		return err;

	for (i = 0; i < VIRTIO_BALLOON_NR_TIERS; i++)
		if (t->tier[i].enabled)
			vb_tier_set_paused(&t->tier[i], pause);
	return 0;
}

static const struct vb_inject_cmd vb_inject_cmds[] = {
	{ "outside", false, vb_inject_outside },
	{ "other-tier", false, vb_inject_other_tier },
	{ "duplicate", false, vb_inject_duplicate },
	{ "not-ballooned", false, vb_inject_not_ballooned },
	{ "malformed", false, vb_inject_malformed },
	{ "flood", true, vb_inject_flood },
	{ "pause", true, vb_inject_pause },
};

static const struct vb_inject_cmd *vb_inject_find(const char *name)
{
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(vb_inject_cmds); i++)
		if (!strcmp(name, vb_inject_cmds[i].name))
			return &vb_inject_cmds[i];
	return NULL;
}

static ssize_t vb_inject_write(struct file *file, const char __user *ubuf,
			       size_t count, loff_t *ppos)
{
	struct vb_tiers *t = file->private_data;
	struct vb_tier *fast = &t->tier[VIRTIO_BALLOON_TIER_FAST];
	const struct vb_inject_cmd *cmd;
	char line[32], *name, *arg;
	int err;

	if (count >= sizeof(line))
		return -EINVAL;
	if (copy_from_user(line, ubuf, count))
		return -EFAULT;
	line[count] = '\0';

	arg = strim(line);
	name = strsep(&arg, " \t");
	if (arg)
		arg = skip_spaces(arg);
	cmd = vb_inject_find(name);
	if (!cmd || cmd->has_arg != (arg && *arg))
		return -EINVAL;
	if (!fast->enabled)
		return -ENODEV;

	/* vb_tiers_stop() takes this lock before it empties any tier */
	mutex_lock(&fast->lock);
	err = vb_tiers_running(t) ? cmd->run(t, arg) : -ESHUTDOWN;
	mutex_unlock(&fast->lock);

	return err ? err : count;
}

static const struct file_operations vb_inject_fops = {
	.owner = THIS_MODULE,
	.open = simple_open,
	.write = vb_inject_write,
	.llseek = noop_llseek,
};

void vb_tiers_debug_init(struct vb_tiers *t)
{
	struct dentry *dir;

	/* One device has the file: a second one gets -EEXIST */
	dir = debugfs_create_dir("virtio_balloon_tiers", NULL);
	if (IS_ERR(dir))
		return;
	debugfs_create_file("inject", 0200, dir, t, &vb_inject_fops);
	t->debugfs = dir;
}

void vb_tiers_debug_exit(struct vb_tiers *t)
{
	/* Waits for writes in progress */
	debugfs_remove(t->debugfs);
	t->debugfs = NULL;
}
