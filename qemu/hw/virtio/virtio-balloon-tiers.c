/*
 * Virtio balloon: per-tier balloons (VIRTIO_BALLOON_F_TIERS)
 *
 * Each tier is one guest NUMA node backed by one host memory backend.
 * The driver inflates a tier's balloon with pages of that node only and
 * deflates it with pages it holds there.  The device checks every page
 * against the tier's backend and its own bitmap of ballooned pages, and
 * discards the host pages behind inflated ranges in the thread pool.
 * The bitmaps, not the guest's "actual", are what the management layer
 * sees.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qemu/bitmap.h"
#include "qemu/error-report.h"
#include "qemu/host-utils.h"
#include "qemu/iov.h"
#include "qemu/log.h"
#include "qemu/main-loop.h"
#include "qemu/timer.h"
#include "qemu/units.h"
#include "qapi/error.h"
#include "qapi/qapi-events-machine.h"
#include "qapi/util.h"
#include "block/aio-wait.h"
#include "block/thread-pool.h"
#include "exec/address-spaces.h"
#include "exec/memory.h"
#include "hw/boards.h"
#include "hw/virtio/virtio-balloon.h"
#include "hw/virtio/virtio-balloon-tiers.h"
#include "system/balloon.h"
#include "system/hostmem.h"
#include "system/numa.h"
#include "trace.h"

#define TIER_PAGE_SHIFT         VIRTIO_BALLOON_PFN_SHIFT
#define TIER_PAGE_SIZE          (1ULL << TIER_PAGE_SHIFT)
/* First page frame whose address does not fit in 64 bits */
#define TIER_PFN_END            (1ULL << (64 - TIER_PAGE_SHIFT))

#define TIER_HDR_SIZE           sizeof(struct virtio_balloon_tier_req)
#define TIER_RANGE_SIZE         sizeof(struct virtio_balloon_tier_range)
#define TIER_STAT_SIZE          sizeof(struct virtio_balloon_tier_stat)
/* Room for every tier and tag, and for tags a newer driver may add */
#define TIER_STATS_MAX_SIZE     (64 * TIER_STAT_SIZE)

/* Rate limit: budgets refill per 100 ms slot, in tenths of a request */
#define TIER_SLOT_MS            100
#define TIER_TOKENS_PER_REQ     10
#define TIER_RATE_MAX           1000000

#define TIER_STATUS_PERIOD_MS   1000

QEMU_BUILD_BUG_ON(TIER_HDR_SIZE != 8);
QEMU_BUILD_BUG_ON(TIER_RANGE_SIZE != 16);
QEMU_BUILD_BUG_ON(TIER_STAT_SIZE != 16);
QEMU_BUILD_BUG_ON(offsetof(struct virtio_balloon_config, tiers) != 16);
QEMU_BUILD_BUG_ON(sizeof(struct virtio_balloon_config) != 48);
QEMU_BUILD_BUG_ON(BALLOON_TIER_FAST != VIRTIO_BALLOON_TIER_FAST);
QEMU_BUILD_BUG_ON(BALLOON_TIER_SLOW != VIRTIO_BALLOON_TIER_SLOW);
QEMU_BUILD_BUG_ON(BALLOON_TIER__MAX != VIRTIO_BALLOON_NR_TIERS);

typedef enum TierQueueKind {
    TIER_VQ_INFLATE,
    TIER_VQ_DEFLATE,
    TIER_VQ_STATS,
    TIER_VQ_NR,
} TierQueueKind;

typedef enum TierReject {
    TIER_REJECT_MALFORMED,
    TIER_REJECT_OUTSIDE,
    TIER_REJECT_DUPLICATE,
    TIER_REJECT_NOT_BALLOONED,
    TIER_REJECT_THROTTLED,
    TIER_REJECT_NR,
} TierReject;

static const char *const tier_reject_names[TIER_REJECT_NR] = {
    [TIER_REJECT_MALFORMED] = "malformed",
    [TIER_REJECT_OUTSIDE] = "outside the tier",
    [TIER_REJECT_DUPLICATE] = "already in the balloon",
    [TIER_REJECT_NOT_BALLOONED] = "not in the balloon",
    [TIER_REJECT_THROTTLED] = "throttled",
};

typedef struct VirtIOBalloonTier {
    uint32_t node;
    MemoryRegion *mr;           /* the node's memdev: where its pages live */
    RAMBlock *rb;
    uint64_t host_page_size;
    uint32_t size_pages;
    int32_t nr_bits;            /* size_pages, as VMSTATE_BITMAP wants it */
    unsigned long *ballooned;   /* by page offset in mr */
    uint64_t nr_ballooned;      /* bits set in ballooned */
    uint32_t target_pages;      /* the config's num_pages */
    uint32_t guest_actual;      /* the config's actual, as the guest wrote it */
    uint64_t inflated;          /* pages accepted, cumulative */
    uint64_t deflated;
    uint64_t discard_skipped;   /* pages accepted while discards were off */
    bool has_guest_stats;
    uint64_t guest_stats[VIRTIO_BALLOON_TIER_S_NR];
    BalloonTierStatus status;
    uint64_t best_distance;     /* pages to the target, at best so far */
    int64_t progress_ms;        /* when best_distance last shrank */
} VirtIOBalloonTier;

typedef struct VirtIOBalloonTierQueue {
    VirtIOBalloonTiers *tiers;
    TierQueueKind kind;
    VirtQueue *vq;
    QEMUTimer *slot_timer;      /* resumes the queue when it was throttled */
    int64_t slot_ms;            /* start of the current slot */
    uint64_t tokens;
} VirtIOBalloonTierQueue;

struct VirtIOBalloonTiers {
    VirtIOBalloon *dev;
    VirtIOBalloonTier tier[VIRTIO_BALLOON_NR_TIERS];
    VirtIOBalloonTierQueue queue[TIER_VQ_NR];
    uint64_t rejects[TIER_REJECT_NR];
    uint64_t guest_errors;      /* to log only some of them */
    unsigned int inflight;      /* inflate requests whose discard runs */
    bool active;                /* driver ready and VM running */
    QEMUBH *kick_bh;
    QEMUTimer *status_timer;
};

typedef struct TierDiscard {
    uint64_t offset;            /* in the RAMBlock */
    uint64_t length;
} TierDiscard;

typedef struct TierInflateReq {
    VirtQueueElement elem;      /* first: virtqueue_pop() allocates us */
    VirtIOBalloonTiers *tiers;
    VirtQueue *vq;
    unsigned int idx;           /* the tier */
    RAMBlock *rb;
    unsigned int nr_discards;
    TierDiscard *discards;
    uint64_t skipped;           /* pages the worker found it must keep */
} TierInflateReq;

static int64_t tier_now_ms(void)
{
    return qemu_clock_get_ms(QEMU_CLOCK_VIRTUAL);
}

static uint64_t tier_pages_to_bytes(uint64_t pages)
{
    return pages << TIER_PAGE_SHIFT;
}

/* Bytes the guest keeps in the tier with @balloon_pages in its balloon */
static uint64_t tier_kept_bytes(VirtIOBalloonTier *tier,
                                uint64_t balloon_pages)
{
    return tier_pages_to_bytes(tier->size_pages -
                               MIN(balloon_pages, tier->size_pages));
}

/*
 * Count and trace what the guest got wrong; log it the 1st, 2nd, 4th, ...
 * time only, as the guest decides how often.
 */
static void tier_reject(VirtIOBalloonTiers *t, TierReject reason,
                        unsigned int tier, uint64_t pfn, uint32_t nr_pages)
{
    t->rejects[reason]++;
    trace_virtio_balloon_tier_reject(tier, tier_reject_names[reason],
                                     pfn, nr_pages);

    t->guest_errors++;
    if (is_power_of_2(t->guest_errors)) {
        qemu_log_mask(LOG_GUEST_ERROR, "virtio-balloon: tier request or"
                      " range rejected (%s), %" PRIu64 " so far\n",
                      tier_reject_names[reason], t->guest_errors);
    }
}

/* Status, progress and events */

static uint64_t tier_distance(VirtIOBalloonTier *tier)
{
    if (tier->nr_ballooned > tier->target_pages) {
        return tier->nr_ballooned - tier->target_pages;
    }
    return tier->target_pages - tier->nr_ballooned;
}

static void tier_arm_status_timer(VirtIOBalloonTiers *t)
{
    if (!timer_pending(t->status_timer)) {
        timer_mod(t->status_timer, tier_now_ms() + TIER_STATUS_PERIOD_MS);
    }
}

static void tier_set_status(VirtIOBalloonTiers *t, unsigned int idx,
                            BalloonTierStatus status)
{
    VirtIOBalloonTier *tier = &t->tier[idx];

    if (tier->status == status) {
        return;
    }
    tier->status = status;
    trace_virtio_balloon_tier_status(idx, BalloonTierStatus_str(status),
                                     tier->target_pages, tier->nr_ballooned);
    if (status != BALLOON_TIER_STATUS_MOVING) {
        qapi_event_send_balloon_tier_change(idx, status,
            tier_kept_bytes(tier, tier->target_pages),
            tier_kept_bytes(tier, tier->nr_ballooned));
    }
}

/* Start judging progress from here: after a new target or a reset */
static void tier_restart_progress(VirtIOBalloonTiers *t, unsigned int idx)
{
    VirtIOBalloonTier *tier = &t->tier[idx];

    tier->best_distance = tier_distance(tier);
    tier->progress_ms = tier_now_ms();
    if (!tier->best_distance) {
        tier_set_status(t, idx, BALLOON_TIER_STATUS_SETTLED);
        return;
    }
    tier_set_status(t, idx, BALLOON_TIER_STATUS_MOVING);
    tier_arm_status_timer(t);
}

/* After the tier's balloon changed */
static void tier_update_status(VirtIOBalloonTiers *t, unsigned int idx)
{
    VirtIOBalloonTier *tier = &t->tier[idx];
    uint64_t distance = tier_distance(tier);

    if (!distance) {
        /* Settled means given back: not before every discard is done */
        if (!t->inflight) {
            tier_set_status(t, idx, BALLOON_TIER_STATUS_SETTLED);
        }
    } else if (tier->status == BALLOON_TIER_STATUS_SETTLED ||
               distance < tier->best_distance) {
        tier_restart_progress(t, idx);
    }
}

static void tier_status_tick(void *opaque)
{
    VirtIOBalloonTiers *t = opaque;
    int64_t now = tier_now_ms();
    bool unsettled = false;
    unsigned int idx;

    for (idx = 0; idx < VIRTIO_BALLOON_NR_TIERS; idx++) {
        VirtIOBalloonTier *tier = &t->tier[idx];

        if (tier->status == BALLOON_TIER_STATUS_MOVING &&
            now - tier->progress_ms >= t->dev->tier_stall_ms) {
            tier_set_status(t, idx, BALLOON_TIER_STATUS_STALLED);
        }
        unsettled |= tier->status != BALLOON_TIER_STATUS_SETTLED;
    }
    if (unsettled) {
        timer_mod(t->status_timer, now + TIER_STATUS_PERIOD_MS);
    }
}

/* Guest request parsing */

static void tier_push(VirtIOBalloonTiers *t, VirtQueue *vq,
                      VirtQueueElement *elem)
{
    VirtIODevice *vdev = VIRTIO_DEVICE(t->dev);

    virtqueue_push(vq, elem, 0);
    virtio_notify(vdev, vq);
}

/*
 * Check an inflate or deflate request's header and length, and that its
 * ranges add up to at most VIRTIO_BALLOON_TIER_MAX_REQ_PAGES: checking a
 * range costs time in proportion to its pages.  Returns the tier and sets
 * *nr_ranges, or returns -1 after counting the request as malformed.
 */
static int tier_parse_header(VirtIOBalloonTiers *t, VirtQueueElement *elem,
                             uint32_t *nr_ranges)
{
    struct virtio_balloon_tier_req hdr = {};
    size_t len = iov_size(elem->out_sg, elem->out_num);
    uint64_t pages = 0;
    uint32_t nr, i, nr_pages;
    uint16_t tier;

    if (elem->in_num || len < TIER_HDR_SIZE) {
        goto malformed;
    }
    iov_to_buf(elem->out_sg, elem->out_num, 0, &hdr, TIER_HDR_SIZE);
    tier = le16_to_cpu(hdr.tier);
    nr = le32_to_cpu(hdr.nr_ranges);
    if (tier >= VIRTIO_BALLOON_NR_TIERS || hdr.flags ||
        nr < 1 || nr > VIRTIO_BALLOON_TIER_MAX_RANGES ||
        len != TIER_HDR_SIZE + nr * TIER_RANGE_SIZE) {
        goto malformed;
    }
    for (i = 0; i < nr; i++) {
        iov_to_buf(elem->out_sg, elem->out_num,
                   TIER_HDR_SIZE + i * TIER_RANGE_SIZE +
                   offsetof(struct virtio_balloon_tier_range, nr_pages),
                   &nr_pages, sizeof(nr_pages));
        /* At most the cap plus UINT32_MAX: no overflow */
        pages += le32_to_cpu(nr_pages);
        if (pages > VIRTIO_BALLOON_TIER_MAX_REQ_PAGES) {
            goto malformed;
        }
    }
    *nr_ranges = nr;
    return tier;

malformed:
    tier_reject(t, TIER_REJECT_MALFORMED, le16_to_cpu(hdr.tier), 0,
                le32_to_cpu(hdr.nr_ranges));
    return -1;
}

/*
 * Find [pfn, pfn + nr_pages) in the tier's backend: it must be one RAM
 * section of exactly that backend.  Sets *first to its first page there.
 */
static bool tier_find_range(VirtIOBalloonTier *tier, uint64_t pfn,
                            uint32_t nr_pages, uint64_t *first)
{
    MemoryRegionSection section;
    hwaddr gpa;
    uint64_t len;
    bool found;

    if (pfn >= TIER_PFN_END || nr_pages > TIER_PFN_END - pfn ||
        nr_pages > tier->size_pages) {
        return false;
    }
    gpa = pfn << TIER_PAGE_SHIFT;
    len = tier_pages_to_bytes(nr_pages);

    section = memory_region_find(get_system_memory(), gpa, len);
    if (!section.mr) {
        return false;
    }
    *first = section.offset_within_region >> TIER_PAGE_SHIFT;
    found = section.mr == tier->mr && memory_region_is_ram(section.mr) &&
            section.offset_within_address_space == gpa &&
            int128_eq(section.size, int128_make64(len)) &&
            QEMU_IS_ALIGNED(section.offset_within_region, TIER_PAGE_SIZE) &&
            *first + nr_pages <= tier->size_pages;
    memory_region_unref(section.mr);
    return found;
}

/*
 * Read range @i of a request of tier @idx and check its format and place.
 * Returns false after counting a bad range.
 */
static bool tier_read_range(VirtIOBalloonTiers *t, VirtQueueElement *elem,
                            unsigned int idx, uint32_t i, uint64_t *pfn,
                            uint32_t *nr_pages, uint64_t *first)
{
    struct virtio_balloon_tier_range range;

    iov_to_buf(elem->out_sg, elem->out_num, TIER_HDR_SIZE + i * TIER_RANGE_SIZE,
               &range, TIER_RANGE_SIZE);
    *pfn = le64_to_cpu(range.pfn);
    *nr_pages = le32_to_cpu(range.nr_pages);

    if (!*nr_pages || range.reserved) {
        tier_reject(t, TIER_REJECT_MALFORMED, idx, *pfn, *nr_pages);
        return false;
    }
    if (!tier_find_range(&t->tier[idx], *pfn, *nr_pages, first)) {
        tier_reject(t, TIER_REJECT_OUTSIDE, idx, *pfn, *nr_pages);
        return false;
    }
    return true;
}

static bool tier_any_ballooned(VirtIOBalloonTier *tier, uint64_t first,
                               uint64_t nr_pages)
{
    return find_next_bit(tier->ballooned, first + nr_pages, first) <
           first + nr_pages;
}

static bool tier_all_ballooned(VirtIOBalloonTier *tier, uint64_t first,
                               uint64_t nr_pages)
{
    return find_next_zero_bit(tier->ballooned, first + nr_pages, first) >=
           first + nr_pages;
}

/* Inflate */

/*
 * Queue the discard of the host pages that pages [first, first + nr_pages),
 * just ballooned, complete: a host page larger than 4 KiB goes only once
 * all of it is in the balloon, whichever request brought the rest.
 */
static void tier_add_discard(TierInflateReq *req, VirtIOBalloonTier *tier,
                             uint64_t first, uint64_t nr_pages)
{
    uint64_t hps = tier->host_page_size;
    uint64_t start = tier_pages_to_bytes(first);
    uint64_t end = tier_pages_to_bytes(first + nr_pages);
    uint64_t from = QEMU_ALIGN_DOWN(start, hps);
    uint64_t to = QEMU_ALIGN_UP(end, hps);
    TierDiscard *last;

    if (from < start &&
        !tier_all_ballooned(tier, from >> TIER_PAGE_SHIFT,
                            hps >> TIER_PAGE_SHIFT)) {
        from += hps;
    }
    if (to > end &&
        !tier_all_ballooned(tier, (to - hps) >> TIER_PAGE_SHIFT,
                            hps >> TIER_PAGE_SHIFT)) {
        to -= hps;
    }
    if (to <= from) {
        return;
    }

    last = req->nr_discards ? &req->discards[req->nr_discards - 1] : NULL;
    if (last && last->offset + last->length == from) {
        last->length += to - from;
        return;
    }
    req->discards[req->nr_discards++] = (TierDiscard) {
        .offset = from,
        .length = to - from,
    };
}

/* Like the legacy balloon: take the pages, keep their memory */
static void tier_count_skipped(VirtIOBalloonTiers *t, unsigned int idx,
                               uint64_t pages)
{
    VirtIOBalloonTier *tier = &t->tier[idx];

    tier->discard_skipped += pages;
    trace_virtio_balloon_tier_discard_skipped(idx, pages,
                                              tier->discard_skipped);
    warn_report_once("virtio-balloon: RAM discards are disabled, tier"
                     " balloons do not free host memory");
}

/* Runs in a thread pool worker */
static int tier_discard_worker(void *opaque)
{
    TierInflateReq *req = opaque;
    unsigned int i;
    int failed = 0;

    for (i = 0; i < req->nr_discards; i++) {
        /* Discards may have been disabled since the request was checked */
        if (virtio_balloon_inhibited()) {
            req->skipped += req->discards[i].length >> TIER_PAGE_SHIFT;
            continue;
        }
        /* ram_block_discard_range() reports its own errors */
        if (ram_block_discard_range(req->rb, req->discards[i].offset,
                                    req->discards[i].length)) {
            failed++;
        }
    }
    return failed;
}

static void tier_inflate_req_complete(TierInflateReq *req)
{
    tier_push(req->tiers, req->vq, &req->elem);
    g_free(req->discards);
    g_free(req);
}

static void tier_inflate_done(void *opaque, int failed)
{
    TierInflateReq *req = opaque;
    VirtIOBalloonTiers *t = req->tiers;
    unsigned int idx = req->idx;

    trace_virtio_balloon_tier_discard(req, req->nr_discards, failed);
    if (req->skipped) {
        tier_count_skipped(t, idx, req->skipped);
    }
    tier_inflate_req_complete(req);

    t->inflight--;
    if (t->inflight) {
        tier_update_status(t, idx);
    } else {
        /* A tier that reached its target waited for every discard */
        for (idx = 0; idx < VIRTIO_BALLOON_NR_TIERS; idx++) {
            tier_update_status(t, idx);
        }
        aio_wait_kick();
        /* Deflates wait for this */
        qemu_bh_schedule(t->kick_bh);
    }
}

static void tier_discard_and_complete(VirtIOBalloonTiers *t,
                                      TierInflateReq *req, unsigned int idx)
{
    uint64_t skipped = 0;
    unsigned int i;

    if (req->nr_discards && virtio_balloon_inhibited()) {
        for (i = 0; i < req->nr_discards; i++) {
            skipped += req->discards[i].length >> TIER_PAGE_SHIFT;
        }
        tier_count_skipped(t, idx, skipped);
        req->nr_discards = 0;
    }
    if (!req->nr_discards) {
        tier_inflate_req_complete(req);
        tier_update_status(t, idx);
        return;
    }

    req->idx = idx;
    req->rb = t->tier[idx].rb;
    t->inflight++;
    thread_pool_submit_aio(tier_discard_worker, req, tier_inflate_done, req);
}

static void tier_handle_inflate(VirtIOBalloonTiers *t, VirtQueue *vq,
                                TierInflateReq *req)
{
    VirtQueueElement *elem = &req->elem;
    VirtIOBalloonTier *tier;
    uint32_t nr_ranges, i, nr_pages;
    uint64_t pfn, first;
    int idx;

    /* virtqueue_pop() left all but the element uninitialized */
    req->tiers = t;
    req->vq = vq;
    req->idx = 0;
    req->rb = NULL;
    req->nr_discards = 0;
    req->discards = NULL;
    req->skipped = 0;

    idx = tier_parse_header(t, elem, &nr_ranges);
    if (idx < 0) {
        tier_inflate_req_complete(req);
        return;
    }
    tier = &t->tier[idx];
    req->discards = g_new(TierDiscard, nr_ranges);

    for (i = 0; i < nr_ranges; i++) {
        if (!tier_read_range(t, elem, idx, i, &pfn, &nr_pages, &first)) {
            continue;
        }
        /* Marking as we go also catches pages repeated in this request */
        if (tier_any_ballooned(tier, first, nr_pages)) {
            tier_reject(t, TIER_REJECT_DUPLICATE, idx, pfn, nr_pages);
            continue;
        }
        bitmap_set(tier->ballooned, first, nr_pages);
        tier->nr_ballooned += nr_pages;
        tier->inflated += nr_pages;
        trace_virtio_balloon_tier_inflate(idx, pfn, nr_pages);
        tier_add_discard(req, tier, first, nr_pages);
    }

    tier_discard_and_complete(t, req, idx);
}

/* Deflate */

static void tier_handle_deflate(VirtIOBalloonTiers *t, VirtQueue *vq,
                                VirtQueueElement *elem)
{
    VirtIOBalloonTier *tier;
    uint32_t nr_ranges, i, nr_pages;
    uint64_t pfn, first;
    int idx;

    idx = tier_parse_header(t, elem, &nr_ranges);
    if (idx >= 0) {
        tier = &t->tier[idx];
        for (i = 0; i < nr_ranges; i++) {
            if (!tier_read_range(t, elem, idx, i, &pfn, &nr_pages, &first)) {
                continue;
            }
            /* Clearing as we go also catches pages repeated in it */
            if (!tier_all_ballooned(tier, first, nr_pages)) {
                tier_reject(t, TIER_REJECT_NOT_BALLOONED, idx, pfn, nr_pages);
                continue;
            }
            bitmap_clear(tier->ballooned, first, nr_pages);
            tier->nr_ballooned -= nr_pages;
            tier->deflated += nr_pages;
            trace_virtio_balloon_tier_deflate(idx, pfn, nr_pages);
        }
        tier_update_status(t, idx);
    }

    tier_push(t, vq, elem);
    g_free(elem);
}

/* Statistics */

static void tier_handle_stats(VirtIOBalloonTiers *t, VirtQueue *vq,
                              VirtQueueElement *elem)
{
    size_t len = iov_size(elem->out_sg, elem->out_num);
    struct virtio_balloon_tier_stat stat;
    bool bad_tier = false;
    size_t offset;

    if (elem->in_num || !len || len > TIER_STATS_MAX_SIZE ||
        len % TIER_STAT_SIZE) {
        tier_reject(t, TIER_REJECT_MALFORMED, VIRTIO_BALLOON_NR_TIERS, 0, 0);
        goto out;
    }

    for (offset = 0; offset < len; offset += TIER_STAT_SIZE) {
        uint16_t idx, tag;
        uint64_t val;

        iov_to_buf(elem->out_sg, elem->out_num, offset, &stat,
                   TIER_STAT_SIZE);
        idx = le16_to_cpu(stat.tier);
        tag = le16_to_cpu(stat.tag);
        val = le64_to_cpu(stat.val);
        if (idx >= VIRTIO_BALLOON_NR_TIERS) {
            bad_tier = true;
            continue;
        }
        if (tag >= VIRTIO_BALLOON_TIER_S_NR) {
            /* A newer driver's */
            continue;
        }
        t->tier[idx].guest_stats[tag] = val;
        t->tier[idx].has_guest_stats = true;
        trace_virtio_balloon_tier_stats(idx, tag, val);
    }
    if (bad_tier) {
        tier_reject(t, TIER_REJECT_MALFORMED, VIRTIO_BALLOON_NR_TIERS, 0, 0);
    }

out:
    tier_push(t, vq, elem);
    g_free(elem);
}

/* Queues */

/*
 * Refill the queue's budget for the slots that passed and take one
 * request's worth: at most tier-rate requests a second, in slots.
 */
static bool tier_queue_take_token(VirtIOBalloonTiers *t,
                                  VirtIOBalloonTierQueue *q)
{
    uint64_t rate = t->dev->tier_rate;
    uint64_t capacity = MAX(rate, TIER_TOKENS_PER_REQ);
    int64_t slots = (tier_now_ms() - q->slot_ms) / TIER_SLOT_MS;

    if (slots > 0) {
        /* A second's worth of slots fills any budget */
        q->tokens = MIN(capacity, q->tokens +
                        MIN(slots, TIER_TOKENS_PER_REQ) * rate);
        q->slot_ms += slots * TIER_SLOT_MS;
    }
    if (q->tokens < TIER_TOKENS_PER_REQ) {
        return false;
    }
    q->tokens -= TIER_TOKENS_PER_REQ;
    return true;
}

static void tier_queue_reset_budget(VirtIOBalloonTiers *t,
                                    VirtIOBalloonTierQueue *q)
{
    timer_del(q->slot_timer);
    q->slot_ms = tier_now_ms();
    q->tokens = MAX(t->dev->tier_rate, TIER_TOKENS_PER_REQ);
}

static void tier_handle_element(VirtIOBalloonTiers *t,
                                VirtIOBalloonTierQueue *q,
                                VirtQueueElement *elem)
{
    switch (q->kind) {
    case TIER_VQ_INFLATE:
        tier_handle_inflate(t, q->vq, (TierInflateReq *)elem);
        break;
    case TIER_VQ_DEFLATE:
        tier_handle_deflate(t, q->vq, elem);
        break;
    case TIER_VQ_STATS:
        tier_handle_stats(t, q->vq, elem);
        break;
    default:
        g_assert_not_reached();
    }
}

/* Handle the queue's requests as far as its rate allows */
static void tier_pop_requests(VirtIOBalloonTiers *t, TierQueueKind kind)
{
    VirtIOBalloonTierQueue *q = &t->queue[kind];
    size_t size = kind == TIER_VQ_INFLATE ? sizeof(TierInflateReq) :
                                            sizeof(VirtQueueElement);
    VirtQueueElement *elem;

    while (t->active && !timer_pending(q->slot_timer) &&
           !virtio_queue_empty(q->vq)) {
        if (!tier_queue_take_token(t, q)) {
            t->rejects[TIER_REJECT_THROTTLED]++;
            trace_virtio_balloon_tier_throttle(virtio_get_queue_index(q->vq));
            timer_mod(q->slot_timer, q->slot_ms + TIER_SLOT_MS);
            return;
        }
        elem = virtqueue_pop(q->vq, size);
        if (!elem) {
            return;
        }
        tier_handle_element(t, q, elem);
    }
}

/*
 * Deflates go first, and only with no discard in flight: the guest may
 * reuse a deflated page at once, and a discard of its host page may still
 * be running for another page of it.  No inflate starts while deflates
 * wait, or they could wait forever.
 */
static void tier_run_balloon_queues(VirtIOBalloonTiers *t)
{
    VirtQueue *deflate_vq = t->queue[TIER_VQ_DEFLATE].vq;

    if (!t->active) {
        return;
    }
    if (!virtio_queue_empty(deflate_vq)) {
        if (t->inflight) {
            /* tier_inflate_done() runs us again */
            return;
        }
        tier_pop_requests(t, TIER_VQ_DEFLATE);
        if (!virtio_queue_empty(deflate_vq)) {
            /* Throttled: the slot timer runs us again */
            return;
        }
    }
    tier_pop_requests(t, TIER_VQ_INFLATE);
}

static void tier_run_queue(VirtIOBalloonTiers *t, TierQueueKind kind)
{
    if (kind == TIER_VQ_STATS) {
        tier_pop_requests(t, kind);
    } else {
        tier_run_balloon_queues(t);
    }
}

static void tier_slot_timer_cb(void *opaque)
{
    VirtIOBalloonTierQueue *q = opaque;

    tier_run_queue(q->tiers, q->kind);
}

static void tier_kick_bh(void *opaque)
{
    VirtIOBalloonTiers *t = opaque;

    tier_run_balloon_queues(t);
    tier_pop_requests(t, TIER_VQ_STATS);
}

static void tier_handle_inflate_vq(VirtIODevice *vdev, VirtQueue *vq)
{
    tier_run_queue(VIRTIO_BALLOON(vdev)->tiers, TIER_VQ_INFLATE);
}

static void tier_handle_deflate_vq(VirtIODevice *vdev, VirtQueue *vq)
{
    tier_run_queue(VIRTIO_BALLOON(vdev)->tiers, TIER_VQ_DEFLATE);
}

static void tier_handle_stats_vq(VirtIODevice *vdev, VirtQueue *vq)
{
    tier_run_queue(VIRTIO_BALLOON(vdev)->tiers, TIER_VQ_STATS);
}

/* Wait for the discards in flight; their requests complete meanwhile */
static void tier_drain(VirtIOBalloonTiers *t)
{
    if (t->inflight) {
        AIO_WAIT_WHILE(NULL, t->inflight > 0);
    }
}

/* QMP */

static void tier_set_target(VirtIOBalloonTiers *t, unsigned int idx,
                            uint64_t keep_bytes)
{
    VirtIOBalloonTier *tier = &t->tier[idx];

    tier->target_pages = (tier_pages_to_bytes(tier->size_pages) - keep_bytes)
                         >> TIER_PAGE_SHIFT;
    trace_virtio_balloon_tier_target(idx, tier->target_pages);
    /* Report even a target the tier is at: the caller may wait for it */
    tier->status = BALLOON_TIER_STATUS_MOVING;
    tier_restart_progress(t, idx);
}

static void tiers_qmp_target(void *opaque, const bool *has_value,
                             const uint64_t *value, Error **errp)
{
    VirtIOBalloonTiers *t = opaque;
    unsigned int idx;

    for (idx = 0; idx < VIRTIO_BALLOON_NR_TIERS; idx++) {
        uint64_t size = tier_pages_to_bytes(t->tier[idx].size_pages);

        if (has_value[idx] && value[idx] > size) {
            error_setg(errp, "'%s' is larger than the tier (%" PRIu64 " MiB)",
                       BalloonTier_str(idx), size / MiB);
            return;
        }
    }
    for (idx = 0; idx < VIRTIO_BALLOON_NR_TIERS; idx++) {
        if (has_value[idx]) {
            tier_set_target(t, idx, value[idx]);
        }
    }
    virtio_notify_config(VIRTIO_DEVICE(t->dev));
}

static BalloonTierInfo *tier_info(VirtIOBalloonTiers *t, unsigned int idx)
{
    VirtIOBalloonTier *tier = &t->tier[idx];
    BalloonTierInfo *info = g_new0(BalloonTierInfo, 1);

    info->tier = idx;
    info->node = tier->node;
    info->size = tier_pages_to_bytes(tier->size_pages);
    info->target = tier_kept_bytes(tier, tier->target_pages);
    info->actual = tier_kept_bytes(tier, tier->nr_ballooned);
    info->guest_actual = tier_kept_bytes(tier, tier->guest_actual);
    info->status = tier->status;
    info->inflated = tier_pages_to_bytes(tier->inflated);
    info->deflated = tier_pages_to_bytes(tier->deflated);
    if (tier->has_guest_stats) {
        const uint64_t *s = tier->guest_stats;

        info->guest_stats = g_new0(BalloonTierGuestStats, 1);
        info->guest_stats->free = s[VIRTIO_BALLOON_TIER_S_MEMFREE];
        info->guest_stats->total = s[VIRTIO_BALLOON_TIER_S_MEMTOT];
        info->guest_stats->inflated = s[VIRTIO_BALLOON_TIER_S_INFLATED];
        info->guest_stats->deflated = s[VIRTIO_BALLOON_TIER_S_DEFLATED];
        info->guest_stats->oom_deflated = s[VIRTIO_BALLOON_TIER_S_OOM];
        info->guest_stats->alloc_failures =
            s[VIRTIO_BALLOON_TIER_S_ALLOC_FAIL];
    }
    return info;
}

static BalloonTiersInfo *tiers_qmp_query(void *opaque)
{
    VirtIOBalloonTiers *t = opaque;
    BalloonTiersInfo *info = g_new0(BalloonTiersInfo, 1);
    BalloonTierInfoList **tail = &info->tiers;
    BalloonTierRejects *rej = g_new0(BalloonTierRejects, 1);
    unsigned int idx;

    for (idx = 0; idx < VIRTIO_BALLOON_NR_TIERS; idx++) {
        QAPI_LIST_APPEND(tail, tier_info(t, idx));
    }
    rej->malformed = t->rejects[TIER_REJECT_MALFORMED];
    rej->outside_tier = t->rejects[TIER_REJECT_OUTSIDE];
    rej->duplicate = t->rejects[TIER_REJECT_DUPLICATE];
    rej->not_ballooned = t->rejects[TIER_REJECT_NOT_BALLOONED];
    rej->throttled = t->rejects[TIER_REJECT_THROTTLED];
    info->rejected = rej;
    return info;
}

/* Device hooks */

void virtio_balloon_tiers_get_config(VirtIOBalloon *s,
                                     VirtIOBalloonTierConfig *cfg)
{
    unsigned int idx;

    for (idx = 0; idx < VIRTIO_BALLOON_NR_TIERS; idx++) {
        VirtIOBalloonTier *tier = &s->tiers->tier[idx];

        cfg[idx].node = cpu_to_le32(tier->node);
        cfg[idx].size_pages = cpu_to_le32(tier->size_pages);
        cfg[idx].num_pages = cpu_to_le32(tier->target_pages);
        cfg[idx].actual = cpu_to_le32(tier->guest_actual);
    }
}

void virtio_balloon_tiers_set_config(VirtIOBalloon *s,
                                     const VirtIOBalloonTierConfig *cfg)
{
    unsigned int idx;

    for (idx = 0; idx < VIRTIO_BALLOON_NR_TIERS; idx++) {
        VirtIOBalloonTier *tier = &s->tiers->tier[idx];
        uint32_t actual = le32_to_cpu(cfg[idx].actual);

        if (actual != tier->guest_actual) {
            tier->guest_actual = actual;
            trace_virtio_balloon_tier_guest_actual(idx, actual);
        }
    }
}

void virtio_balloon_tiers_set_status(VirtIOBalloon *s, uint8_t status)
{
    VirtIODevice *vdev = VIRTIO_DEVICE(s);
    VirtIOBalloonTiers *t = s->tiers;
    bool active = vdev->vm_running &&
                  (status & VIRTIO_CONFIG_S_DRIVER_OK) &&
                  virtio_vdev_has_feature(vdev, VIRTIO_BALLOON_F_TIERS);

    if (active == t->active) {
        return;
    }
    t->active = active;
    if (active) {
        qemu_bh_schedule(t->kick_bh);
    } else {
        /* Before the VM stops for good or the queues reset */
        tier_drain(t);
    }
}

void virtio_balloon_tiers_queue_reset(VirtIOBalloon *s, uint32_t queue_index)
{
    /* Their completions would land in the new ring */
    if (queue_index == VIRTIO_BALLOON_TIER_VQ_INFLATE) {
        tier_drain(s->tiers);
    }
}

/* The guest's balloons are gone; the targets stay, like num_pages */
void virtio_balloon_tiers_reset(VirtIOBalloon *s)
{
    VirtIODevice *vdev = VIRTIO_DEVICE(s);
    VirtIOBalloonTiers *t = s->tiers;
    unsigned int idx;

    t->active = false;
    tier_drain(t);

    for (idx = 0; idx < VIRTIO_BALLOON_NR_TIERS; idx++) {
        VirtIOBalloonTier *tier = &t->tier[idx];

        bitmap_zero(tier->ballooned, tier->nr_bits);
        tier->nr_ballooned = 0;
        tier->guest_actual = 0;
        tier->has_guest_stats = false;
        memset(tier->guest_stats, 0, sizeof(tier->guest_stats));
        tier_restart_progress(t, idx);
    }
    for (idx = 0; idx < TIER_VQ_NR; idx++) {
        tier_queue_reset_budget(t, &t->queue[idx]);
    }

    /* A config write rewrites all of it: drop the old driver's actual */
    virtio_balloon_tiers_get_config(s, (VirtIOBalloonTierConfig *)
                                    (vdev->config +
                                     offsetof(struct virtio_balloon_config,
                                              tiers)));
}

/* Setup */

static bool tier_check_properties(VirtIOBalloon *s, Error **errp)
{
    if (s->tier_fast_node == s->tier_slow_node) {
        error_setg(errp, "'fast-node' and 'slow-node' must differ");
        return false;
    }
    if (!s->tier_rate || s->tier_rate > TIER_RATE_MAX) {
        error_setg(errp, "'tier-rate' must be between 1 and %d",
                   TIER_RATE_MAX);
        return false;
    }
    if (!s->tier_stall_ms) {
        error_setg(errp, "'tier-stall-ms' must not be 0");
        return false;
    }
    return true;
}

static HostMemoryBackend *tier_node_memdev(uint32_t node, Error **errp)
{
    MachineState *ms = MACHINE(qdev_get_machine());
    NumaState *numa = ms->numa_state;

    if (!numa || node >= numa->num_nodes || !numa->nodes[node].present) {
        error_setg(errp, "NUMA node %" PRIu32 " does not exist", node);
        return NULL;
    }
    if (!numa->nodes[node].node_memdev) {
        error_setg(errp, "NUMA node %" PRIu32 " has no memdev", node);
        return NULL;
    }
    return numa->nodes[node].node_memdev;
}

static bool tier_setup(VirtIOBalloonTier *tier, uint32_t node,
                       HostMemoryBackend *memdev, Error **errp)
{
    MemoryRegion *mr = host_memory_backend_get_memory(memdev);
    uint64_t size = memory_region_size(mr);

    if (!mr->ram_block) {
        error_setg(errp, "the memdev of NUMA node %" PRIu32 " is not RAM",
                   node);
        return false;
    }
    tier->host_page_size = qemu_ram_pagesize(mr->ram_block);
    if (!QEMU_IS_ALIGNED(size, MAX(tier->host_page_size, TIER_PAGE_SIZE))) {
        error_setg(errp, "the memdev of NUMA node %" PRIu32 " is not a"
                   " multiple of its page size", node);
        return false;
    }
    if (size >> TIER_PAGE_SHIFT > INT32_MAX) {
        error_setg(errp, "NUMA node %" PRIu32 " is too large for a balloon"
                   " tier (at most %" PRIu64 " GiB)", node,
                   tier_pages_to_bytes(INT32_MAX) / GiB);
        return false;
    }

    tier->node = node;
    tier->mr = mr;
    tier->rb = mr->ram_block;
    tier->size_pages = size >> TIER_PAGE_SHIFT;
    tier->nr_bits = tier->size_pages;
    tier->ballooned = bitmap_new(tier->nr_bits);
    tier->status = BALLOON_TIER_STATUS_SETTLED;
    return true;
}

static void tiers_free(VirtIOBalloonTiers *t)
{
    unsigned int idx;

    for (idx = 0; idx < VIRTIO_BALLOON_NR_TIERS; idx++) {
        g_free(t->tier[idx].ballooned);
    }
    g_free(t);
}

bool virtio_balloon_tiers_init(VirtIOBalloon *s, Error **errp)
{
    const uint32_t nodes[VIRTIO_BALLOON_NR_TIERS] = {
        [VIRTIO_BALLOON_TIER_FAST] = s->tier_fast_node,
        [VIRTIO_BALLOON_TIER_SLOW] = s->tier_slow_node,
    };
    HostMemoryBackend *memdev[VIRTIO_BALLOON_NR_TIERS];
    Error *local_err = NULL;
    VirtIOBalloonTiers *t;
    unsigned int idx;

    s->host_features &= ~(1U << VIRTIO_BALLOON_F_TIERS);
    if (s->tiers_mode == ON_OFF_AUTO_OFF) {
        return true;
    }
    if (!tier_check_properties(s, errp)) {
        return false;
    }

    for (idx = 0; idx < VIRTIO_BALLOON_NR_TIERS; idx++) {
        memdev[idx] = tier_node_memdev(nodes[idx], &local_err);
        if (!memdev[idx]) {
            if (s->tiers_mode == ON_OFF_AUTO_AUTO) {
                /* Not a tiered machine */
                error_free(local_err);
                return true;
            }
            error_propagate_prepend(errp, local_err, "tiers=on: ");
            return false;
        }
    }

    t = g_new0(VirtIOBalloonTiers, 1);
    t->dev = s;
    for (idx = 0; idx < VIRTIO_BALLOON_NR_TIERS; idx++) {
        if (!tier_setup(&t->tier[idx], nodes[idx], memdev[idx], &local_err)) {
            tiers_free(t);
            if (s->tiers_mode == ON_OFF_AUTO_AUTO) {
                /* The machine looks tiered: say why it gets no tiers */
                error_prepend(&local_err, "virtio-balloon: no tiers: ");
                warn_report_err(local_err);
                return true;
            }
            error_propagate(errp, local_err);
            return false;
        }
    }
    if (qemu_add_balloon_tiers_handler(tiers_qmp_target, tiers_qmp_query,
                                       t) < 0) {
        error_setg(errp, "Only one balloon device with tiers is supported");
        tiers_free(t);
        return false;
    }

    s->tiers = t;
    s->host_features |= 1U << VIRTIO_BALLOON_F_TIERS;
    return true;
}

void virtio_balloon_tiers_realize(VirtIOBalloon *s)
{
    static const VirtIOHandleOutput handlers[TIER_VQ_NR] = {
        [TIER_VQ_INFLATE] = tier_handle_inflate_vq,
        [TIER_VQ_DEFLATE] = tier_handle_deflate_vq,
        [TIER_VQ_STATS] = tier_handle_stats_vq,
    };
    VirtIODevice *vdev = VIRTIO_DEVICE(s);
    VirtIOBalloonTiers *t = s->tiers;
    unsigned int i;

    assert(virtio_get_num_queues(vdev) == VIRTIO_BALLOON_TIER_VQ_INFLATE);
    for (i = 0; i < TIER_VQ_NR; i++) {
        VirtIOBalloonTierQueue *q = &t->queue[i];

        q->tiers = t;
        q->kind = i;
        q->vq = virtio_add_queue(vdev, 128, handlers[i]);
        q->slot_timer = timer_new_ms(QEMU_CLOCK_VIRTUAL, tier_slot_timer_cb,
                                     q);
        tier_queue_reset_budget(t, q);
    }
    t->kick_bh = qemu_bh_new_guarded(tier_kick_bh, t,
                                     &DEVICE(s)->mem_reentrancy_guard);
    t->status_timer = timer_new_ms(QEMU_CLOCK_VIRTUAL, tier_status_tick, t);
}

void virtio_balloon_tiers_unrealize(VirtIOBalloon *s)
{
    VirtIOBalloonTiers *t = s->tiers;
    unsigned int i;

    if (!t) {
        return;
    }
    qemu_remove_balloon_tiers_handler(t);
    t->active = false;
    tier_drain(t);

    for (i = 0; i < TIER_VQ_NR; i++) {
        VirtIOBalloonTierQueue *q = &t->queue[i];

        timer_free(q->slot_timer);
        if (q->vq) {
            virtio_delete_queue(q->vq);
        }
    }
    if (t->kick_bh) {
        qemu_bh_delete(t->kick_bh);
    }
    timer_free(t->status_timer);

    tiers_free(t);
    s->tiers = NULL;
    s->host_features &= ~(1U << VIRTIO_BALLOON_F_TIERS);
}

/* Migration */

static bool tiers_needed(void *opaque)
{
    VirtIOBalloon *s = opaque;

    return s->tiers != NULL;
}

static int tiers_pre_save(void *opaque)
{
    VirtIOBalloon *s = opaque;

    /* Normally done when the VM stopped */
    tier_drain(s->tiers);
    return 0;
}

static int tiers_pre_load(void *opaque)
{
    VirtIOBalloon *s = opaque;

    if (!s->tiers) {
        error_report("virtio-balloon: the source has tier balloons, this"
                     " device has none (tiers=off, or no NUMA nodes with a"
                     " memdev for them)");
        return -EINVAL;
    }
    return 0;
}

static int tiers_post_load(void *opaque, int version_id)
{
    VirtIOBalloon *s = opaque;
    VirtIOBalloonTiers *t = s->tiers;
    unsigned int idx;

    for (idx = 0; idx < VIRTIO_BALLOON_NR_TIERS; idx++) {
        VirtIOBalloonTier *tier = &t->tier[idx];

        if (tier->target_pages > tier->size_pages) {
            error_report("virtio-balloon: tier %u target of %" PRIu32
                         " pages is larger than the tier", idx,
                         tier->target_pages);
            return -EINVAL;
        }
        tier->nr_ballooned = bitmap_count_one(tier->ballooned, tier->nr_bits);
        tier->status = tier->nr_ballooned == tier->target_pages ?
                       BALLOON_TIER_STATUS_SETTLED :
                       BALLOON_TIER_STATUS_MOVING;
        tier_restart_progress(t, idx);
    }
    return 0;
}

static const VMStateDescription vmstate_tier = {
    .name = "virtio-balloon-tier",
    .version_id = 1,
    .minimum_version_id = 1,
    .fields = (const VMStateField[]) {
        VMSTATE_UINT32_EQUAL(node, VirtIOBalloonTier, NULL),
        VMSTATE_UINT32_EQUAL(size_pages, VirtIOBalloonTier, NULL),
        VMSTATE_UINT32(target_pages, VirtIOBalloonTier),
        VMSTATE_UINT32(guest_actual, VirtIOBalloonTier),
        VMSTATE_UINT64(inflated, VirtIOBalloonTier),
        VMSTATE_UINT64(deflated, VirtIOBalloonTier),
        VMSTATE_BOOL(has_guest_stats, VirtIOBalloonTier),
        VMSTATE_UINT64_ARRAY(guest_stats, VirtIOBalloonTier,
                             VIRTIO_BALLOON_TIER_S_NR),
        VMSTATE_BITMAP(ballooned, VirtIOBalloonTier, 0, nr_bits),
        VMSTATE_END_OF_LIST()
    },
};

static const VMStateDescription vmstate_tiers_state = {
    .name = "virtio-balloon-tiers-state",
    .version_id = 1,
    .minimum_version_id = 1,
    .fields = (const VMStateField[]) {
        VMSTATE_STRUCT_ARRAY(tier, VirtIOBalloonTiers,
                             VIRTIO_BALLOON_NR_TIERS, 0, vmstate_tier,
                             VirtIOBalloonTier),
        VMSTATE_UINT64_ARRAY(rejects, VirtIOBalloonTiers, TIER_REJECT_NR),
        VMSTATE_END_OF_LIST()
    },
};

const VMStateDescription vmstate_virtio_balloon_tiers = {
    .name = "virtio-balloon-device/tiers",
    .version_id = 1,
    .minimum_version_id = 1,
    .needed = tiers_needed,
    .pre_save = tiers_pre_save,
    .pre_load = tiers_pre_load,
    .post_load = tiers_post_load,
    .fields = (const VMStateField[]) {
        VMSTATE_STRUCT_POINTER(tiers, VirtIOBalloon, vmstate_tiers_state,
                               VirtIOBalloonTiers),
        VMSTATE_END_OF_LIST()
    },
};
