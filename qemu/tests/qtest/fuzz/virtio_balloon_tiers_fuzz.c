/*
 * virtio-balloon per-tier balloons (VIRTIO_BALLOON_F_TIERS) fuzz target
 *
 * The guest is untrusted: this drives the tier queues with arbitrary
 * requests, interleaved with what the host does at the same time (new
 * targets over QMP, queries, VM stop and continue, virtual time passing)
 * and with the stock balloon's queues, on a two-node machine whose nodes
 * are the fast and the slow tier.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"

#include "tests/qtest/libqtest.h"
#include "tests/qtest/libqos/virtio-balloon.h"
#include "tests/qtest/libqos/virtio-pci.h"
#include "tests/qtest/libqos/virtio.h"
#include "standard-headers/linux/virtio_balloon.h"
#include "standard-headers/linux/virtio_config.h"
#include "standard-headers/linux/virtio_ring.h"
#include "qapi/error.h"
#include "qapi/qapi-commands-machine.h"
#include "qapi/qapi-commands-misc.h"
#include "qemu/bswap.h"
#include "qemu/timer.h"
#include "qemu/units.h"
#include "fuzz.h"
#include "qos_fuzz.h"

/*
 * The fuzzer's input is a sequence of actions, each a TierFuzzAction and,
 * for requests, the payload that follows it.
 */
enum {
    TIER_FUZZ_REQUEST,          /* a buffer on a queue */
    TIER_FUZZ_CONFIG,           /* the driver writes a tier's actual */
    TIER_FUZZ_TARGET,           /* the host asks for new tier sizes */
    TIER_FUZZ_QUERY,            /* the host reads query-balloon-tiers */
    TIER_FUZZ_STOP_CONT,        /* the VM stops and continues */
    TIER_FUZZ_CLOCK,            /* virtual time passes: rate slots, stalls */
    TIER_FUZZ_NR,
};

/* Request flags, in TierFuzzAction.arg */
#define TIER_FUZZ_SPLIT     0x01    /* two descriptors, cut at cut */
#define TIER_FUZZ_WRITABLE  0x02    /* plus a device-writable descriptor */
#define TIER_FUZZ_NOKICK    0x04    /* leave it for a later kick */

typedef struct TierFuzzAction {
    uint8_t op;
    uint8_t queue;              /* requests: index in tier_fuzz_queues */
    uint8_t arg;
    uint8_t cut;
    uint16_t len;               /* payload bytes (requests) */
    uint16_t value;             /* targets in MiB, actual, clock in ms */
} QEMU_PACKED TierFuzzAction;

/* The stock inflate and deflate queues share the tiers' pages */
static const uint16_t tier_fuzz_queues[] = {
    0, 1,
    VIRTIO_BALLOON_TIER_VQ_INFLATE,
    VIRTIO_BALLOON_TIER_VQ_DEFLATE,
    VIRTIO_BALLOON_TIER_VQ_STATS,
};
#define TIER_FUZZ_NR_QUEUES ARRAY_SIZE(tier_fuzz_queues)

/* Each tier's node */
#define TIER_FUZZ_NODE_MIB  32

/* The largest valid request, and a little more */
#define TIER_FUZZ_MAX_LEN   (sizeof(struct virtio_balloon_tier_req) + \
                             (VIRTIO_BALLOON_TIER_MAX_RANGES + 1) * \
                             sizeof(struct virtio_balloon_tier_range))

typedef struct TierFuzzQueue {
    QVirtQueue *vq;
    uint32_t head;              /* of the chain not yet kicked */
    bool pending;
} TierFuzzQueue;

typedef struct TierFuzz {
    QTestState *qts;
    QVirtioDevice *vdev;
    QGuestAllocator *alloc;
    TierFuzzQueue queue[TIER_FUZZ_NR_QUEUES];
    GSList *buffers;            /* guest addresses, freed after the input */
} TierFuzz;

static void tier_fuzz_start(TierFuzz *f)
{
    uint64_t features;

    qvirtio_start_device(f->vdev);
    features = qvirtio_get_features(f->vdev);
    features &= (1ull << VIRTIO_F_VERSION_1) |
                (1ull << VIRTIO_BALLOON_F_TIERS);
    /* libqos drives a modern device: tier_fuzz_config() relies on it */
    g_assert(features & (1ull << VIRTIO_F_VERSION_1));
    g_assert(features & (1ull << VIRTIO_BALLOON_F_TIERS));
    qvirtio_set_features(f->vdev, features);

    /* The queues are set up when an input first uses them: it is faster */
    qvirtio_set_driver_ok(f->vdev);
}

static TierFuzzQueue *tier_fuzz_queue(TierFuzz *f, unsigned int i)
{
    TierFuzzQueue *q = &f->queue[i % TIER_FUZZ_NR_QUEUES];

    if (!q->vq) {
        q->vq = qvirtqueue_setup(f->vdev, f->alloc,
                                 tier_fuzz_queues[i % TIER_FUZZ_NR_QUEUES]);
        q->pending = false;
    }
    return q;
}

static void tier_fuzz_stop(TierFuzz *f)
{
    unsigned int i;
    GSList *l;

    for (i = 0; i < TIER_FUZZ_NR_QUEUES; i++) {
        if (f->queue[i].vq) {
            qvirtqueue_cleanup(f->vdev->bus, f->queue[i].vq, f->alloc);
            f->queue[i].vq = NULL;
        }
    }
    for (l = f->buffers; l; l = l->next) {
        guest_free(f->alloc, GPOINTER_TO_SIZE(l->data));
    }
    g_slist_free(f->buffers);
    f->buffers = NULL;
}

/* A guest buffer with @len bytes of @data */
static uint64_t tier_fuzz_buffer(TierFuzz *f, const void *data, size_t len)
{
    uint64_t addr = guest_alloc(f->alloc, MAX(len, 1));

    f->buffers = g_slist_prepend(f->buffers, GSIZE_TO_POINTER(addr));
    qtest_memwrite(f->qts, addr, data, len);
    return addr;
}

static void tier_fuzz_kick(TierFuzz *f, TierFuzzQueue *q)
{
    if (q->pending) {
        qvirtqueue_kick(f->qts, f->vdev, q->vq, q->head);
        q->pending = false;
    }
}

/* Put one request of one to three descriptors on a queue */
static void tier_fuzz_request(TierFuzz *f, const TierFuzzAction *a,
                              const uint8_t *data, size_t len)
{
    TierFuzzQueue *q = tier_fuzz_queue(f, a->queue);
    bool split = (a->arg & TIER_FUZZ_SPLIT) && len > 1;
    bool writable = a->arg & TIER_FUZZ_WRITABLE;
    size_t cut = split ? 1 + a->cut % (len - 1) : len;
    unsigned int descs = 1 + split + writable;
    uint32_t head;

    /* The ring is set up afresh for each input: do not wrap it */
    if (q->vq->free_head + descs > q->vq->size) {
        return;
    }
    if (q->pending) {
        /* Each chain is its own request: kick the one before */
        tier_fuzz_kick(f, q);
    }
    head = qvirtqueue_add(f->qts, q->vq, tier_fuzz_buffer(f, data, cut), cut,
                          false, split || writable);
    if (split) {
        qvirtqueue_add(f->qts, q->vq,
                       tier_fuzz_buffer(f, data + cut, len - cut),
                       len - cut, false, writable);
    }
    if (writable) {
        static const uint8_t zeroes[8];

        qvirtqueue_add(f->qts, q->vq,
                       tier_fuzz_buffer(f, zeroes, sizeof(zeroes)),
                       sizeof(zeroes), true, false);
    }
    q->head = head;
    q->pending = true;
    if (!(a->arg & TIER_FUZZ_NOKICK)) {
        tier_fuzz_kick(f, q);
    }
}

/*
 * What a driver would write: the actual of tier arg % 3, the third past
 * the tiers.  Through the virtio-pci BAR: meson builds this target only
 * for machines whose balloon is a PCI device.
 */
static void tier_fuzz_config(TierFuzz *f, const TierFuzzAction *a)
{
    QVirtioPCIDevice *pci = container_of(f->vdev, QVirtioPCIDevice, vdev);
    uint64_t offset = offsetof(struct virtio_balloon_config, tiers) +
                      (a->arg % (VIRTIO_BALLOON_NR_TIERS + 1)) *
                      sizeof(struct virtio_balloon_tier_config) +
                      offsetof(struct virtio_balloon_tier_config, actual);

    qpci_io_writel(pci->pdev, pci->bar, pci->device_cfg_offset + offset,
                   le16_to_cpu(a->value) | (uint32_t)a->cut << 16);
}

static void tier_fuzz_target(const TierFuzzAction *a)
{
    /*
     * arg's low bits choose the tiers; the size is in 4 KiB pages, so
     * that most values fall inside a tier and some past it.
     */
    uint64_t size = (uint64_t)le16_to_cpu(a->value) * 4096 + a->cut;

    qmp_balloon_tiers(a->arg & 1, size, a->arg & 2, size / 2, NULL);
}

static void tier_fuzz_query(void)
{
    qapi_free_BalloonTiersInfo(qmp_query_balloon_tiers(NULL));
}

static void tier_fuzz_stop_cont(TierFuzz *f)
{
    qmp_stop(NULL);
    flush_events(f->qts);
    qmp_cont(NULL);
}

static void tier_fuzz_actions(TierFuzz *f, const uint8_t *data, size_t size)
{
    TierFuzzAction a;
    size_t len;
    unsigned int i;

    while (size >= sizeof(a)) {
        memcpy(&a, data, sizeof(a));
        data += sizeof(a);
        size -= sizeof(a);

        switch (a.op % TIER_FUZZ_NR) {
        case TIER_FUZZ_REQUEST:
            len = MIN(MIN(le16_to_cpu(a.len), size), TIER_FUZZ_MAX_LEN);
            tier_fuzz_request(f, &a, data, len);
            data += len;
            size -= len;
            break;
        case TIER_FUZZ_CONFIG:
            tier_fuzz_config(f, &a);
            break;
        case TIER_FUZZ_TARGET:
            tier_fuzz_target(&a);
            break;
        case TIER_FUZZ_QUERY:
            tier_fuzz_query();
            break;
        case TIER_FUZZ_STOP_CONT:
            tier_fuzz_stop_cont(f);
            break;
        case TIER_FUZZ_CLOCK:
            qtest_clock_step(f->qts,
                             (le16_to_cpu(a.value) % 2048 + 1) * SCALE_MS);
            break;
        }
        flush_events(f->qts);
    }
    for (i = 0; i < TIER_FUZZ_NR_QUEUES; i++) {
        if (f->queue[i].vq) {
            tier_fuzz_kick(f, &f->queue[i]);
        }
    }
    flush_events(f->qts);
}

static void virtio_balloon_tiers_fuzz(QTestState *s, const unsigned char *data,
                                      size_t size)
{
    QVirtioBalloon *balloon = fuzz_qos_obj;
    TierFuzz f = {
        .qts = s,
        .vdev = balloon->vdev,
        .alloc = fuzz_qos_alloc,
    };

    /* Every input starts with nothing ballooned and nothing asked for */
    qmp_balloon_tiers(true, TIER_FUZZ_NODE_MIB * MiB,
                      true, TIER_FUZZ_NODE_MIB * MiB, &error_abort);
    tier_fuzz_start(&f);
    tier_fuzz_actions(&f, data, size);
    /*
     * A device reset, which must drain the discards still in flight.  Not
     * fuzz_reset(): a system reset unmaps the device's BARs, and libqos
     * maps them only once.
     */
    qvirtio_reset(f.vdev);
    flush_events(s);
    tier_fuzz_stop(&f);
}

static void virtio_balloon_tiers_pre_fuzz(QTestState *s)
{
    qos_init_path(s);
}

/*
 * Two nodes that make up the 64 MiB qos_fuzz gives the machine, one per
 * tier, and a request rate (20 per 100 ms slot) that bursts reach.
 */
static void *virtio_balloon_tiers_setup(GString *cmd_line, void *arg)
{
    g_string_append_printf(cmd_line,
                    " -object memory-backend-ram,id=fast,size=%dM"
                    " -object memory-backend-ram,id=slow,size=%dM",
                    TIER_FUZZ_NODE_MIB, TIER_FUZZ_NODE_MIB);
    g_string_append(cmd_line,
                    " -numa node,nodeid=0,memdev=fast"
                    " -numa node,nodeid=1,memdev=slow"
                    " -global virtio-balloon-device.tiers=on"
                    " -global virtio-balloon-device.tier-rate=200 ");
    return arg;
}

static void register_virtio_balloon_tiers_fuzz_targets(void)
{
    fuzz_add_qos_target(&(FuzzTarget){
                .name = "virtio-balloon-tiers-fuzz",
                .description = "Fuzz the virtio-balloon tier queues, with "
                "host-side tier targets, queries and VM stop/cont",
                .pre_fuzz = virtio_balloon_tiers_pre_fuzz,
                .fuzz = virtio_balloon_tiers_fuzz,},
                "virtio-balloon",
                &(QOSGraphTestOptions){.before = virtio_balloon_tiers_setup}
                );
}

fuzz_target_init(register_virtio_balloon_tiers_fuzz_targets);
