/*
 * Slow memory for TCG guests: extra latency on vCPU accesses to one
 * memory backend's RAM (memory-backend-*,x-access-delay-ns=N)
 *
 * Pages of such RAM get TLB_ACCESS_DELAY in their data load and store
 * TLB entries, so generated code takes the softmmu slow path for them,
 * which calls access_delay_charge().  Each vCPU keeps a small
 * direct-mapped model of the cache lines of slow RAM it touched: a hit
 * costs nothing extra, a miss adds the backend's delay to the vCPU's
 * debt.  The debt is paid by spinning on the host clock once it passes
 * ACCESS_DELAY_SPIN_NS, so short delays do not each pay the cost of
 * reading the clock.
 *
 * A miss on the line after one of the last few missed lines is part of
 * a sequential stream, which a real CPU prefetches and overlaps: the
 * rest of the page is charged at once, 1/ACCESS_DELAY_STREAM_DIV of the
 * delay per line, and the page is taken as cached (below), so that the
 * stream's other accesses need not take the slow path.  Without this,
 * page clearing and copying on slow RAM would be far slower than its
 * bandwidth allows.
 *
 * The slow path itself costs far more than a cache hit does on hardware,
 * so a page whose accesses hit the cache model ACCESS_DELAY_HOT_HITS
 * times in a row (a stack, a lock, a small hot structure) is taken as
 * cached as a whole: cputlb.c drops TLB_ACCESS_DELAY from its TLB entry
 * and its accesses take the fast path.  So does a prefetched page.  At
 * most ACCESS_DELAY_DROPPED pages, about what the model holds, are let
 * on at once: the one let on longest ago is put back on the slow path
 * when another is let on, unless a TLB flush or eviction did it first.
 * Pages accessed at random keep missing, so they keep the flag.
 *
 * What this models is latency as seen by one vCPU.  Bandwidth limits,
 * queueing between vCPUs and the eviction of slow lines by accesses to
 * other RAM are not modelled; an access that straddles two lines is
 * looked up by its first, and streams are detected ascending only.
 * Instruction fetches, page table walks, accesses made through
 * probe_access() (for x86: FXSAVE, XSAVE, the task-switch TSS), stores
 * to read-only memory (discarded) and every access by a device or by
 * QEMU itself (DMA, virtio) are not delayed.  On other targets
 * too, whatever helpers access through probe_access() or
 * tlb_vaddr_to_host() is not delayed.  With -icount the spin is not
 * visible to the guest's clocks.  With x-access-delay-cache=off there
 * is no model at all: every access pays the full delay.
 *
 * The debt is not paid while the BQL is held (an interrupt being
 * delivered, say): the vCPU would stall the main loop.  It is paid by
 * the next access made without it.
 *
 * Copyright (c) 2026 HyperPlace developers
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qemu/main-loop.h"
#include "qemu/processor.h"
#include "qemu/timer.h"
#include "hw/core/cpu.h"
#include "exec/target_page.h"
#include "access-delay.h"

/* Cache model: 1 MiB of 64-byte lines per vCPU, direct-mapped. */
#define ACCESS_DELAY_LINE_BITS  6
#define ACCESS_DELAY_CACHE_LINES (1 << 14)

/* Pay the debt once it reaches 1 us: a clock read costs ~20-50 ns. */
#define ACCESS_DELAY_SPIN_NS    1000

/* Stream detection: recent misses remembered, and the stream discount. */
#define ACCESS_DELAY_STREAMS    4
#define ACCESS_DELAY_STREAM_DIV 8

/* Hot pages: pages tracked (direct-mapped), hits in a row that make one. */
#define ACCESS_DELAY_PAGES      64
#define ACCESS_DELAY_HOT_HITS   64

/* Pages let onto the fast path at once: 1 MiB of 4 KiB pages. */
#define ACCESS_DELAY_DROPPED    256

/**
 * struct AccessDelayCPU: the per-vCPU state of the access delay
 *
 * @debt_ns: delay owed and not yet spent spinning; negative after a
 *      spin that overshot, so the overshoot is credited
 * @recent: the last lines that missed, for stream detection
 * @next_recent: the slot of @recent to overwrite next
 * @page_bits: log2 of the target page size
 * @pages: host page number held in each hot-page slot
 * @page_hits: cache hits in a row of the page in each slot
 * @dropped: the pages let onto the fast path, oldest at @next_dropped
 * @next_dropped: the slot of @dropped to reuse next
 * @tags: cache model, the host line address held in each slot (0: none)
 */
struct AccessDelayCPU {
    int64_t debt_ns;
    uintptr_t recent[ACCESS_DELAY_STREAMS];
    unsigned int next_recent;
    int page_bits;
    uintptr_t pages[ACCESS_DELAY_PAGES];
    unsigned int page_hits[ACCESS_DELAY_PAGES];
    struct {
        vaddr addr;
        int mmu_idx;
        bool used;
    } dropped[ACCESS_DELAY_DROPPED];
    unsigned int next_dropped;
    uintptr_t tags[ACCESS_DELAY_CACHE_LINES];
};

static struct AccessDelayCPU *access_delay_cpu(CPUState *cpu)
{
    if (unlikely(!cpu->access_delay)) {
        cpu->access_delay = g_new0(struct AccessDelayCPU, 1);
        cpu->access_delay->page_bits = qemu_target_page_bits();
    }
    return cpu->access_delay;
}

/* True if the line of @haddr was in the cache model; now it is. */
static bool access_delay_cache_hit(struct AccessDelayCPU *s,
                                   const void *haddr)
{
    uintptr_t line = (uintptr_t)haddr >> ACCESS_DELAY_LINE_BITS;
    uintptr_t *slot = &s->tags[line & (ACCESS_DELAY_CACHE_LINES - 1)];

    if (*slot == line) {
        return true;
    }
    *slot = line;
    return false;
}

bool access_delay_line_cached(CPUState *cpu, const AccessDelay *ad,
                              const void *haddr)
{
    uintptr_t line = (uintptr_t)haddr >> ACCESS_DELAY_LINE_BITS;

    if (!ad->cached || !cpu->access_delay) {
        return false;
    }
    return cpu->access_delay->tags[line & (ACCESS_DELAY_CACHE_LINES - 1)] ==
           line;
}

/* Lines from @haddr's to the end of its page. */
static unsigned int access_delay_lines_left(struct AccessDelayCPU *s,
                                            const void *haddr)
{
    unsigned int lines = 1u << (s->page_bits - ACCESS_DELAY_LINE_BITS);
    uintptr_t line = (uintptr_t)haddr >> ACCESS_DELAY_LINE_BITS;

    return lines - (line & (lines - 1));
}

/* True if @haddr's line follows a recent miss; remember it either way. */
static bool access_delay_streaming(struct AccessDelayCPU *s, const void *haddr)
{
    uintptr_t line = (uintptr_t)haddr >> ACCESS_DELAY_LINE_BITS;
    int i;

    for (i = 0; i < ACCESS_DELAY_STREAMS; i++) {
        if (s->recent[i] + 1 == line) {
            s->recent[i] = line;
            return true;
        }
    }
    s->recent[s->next_recent++ % ACCESS_DELAY_STREAMS] = line;
    return false;
}

/* Count a hit (or reset on a miss) of @haddr's page; true: it is hot. */
static bool access_delay_page_hot(struct AccessDelayCPU *s, const void *haddr,
                                  bool hit)
{
    uintptr_t page = (uintptr_t)haddr >> s->page_bits;
    unsigned int slot = page & (ACCESS_DELAY_PAGES - 1);

    if (s->pages[slot] != page || !hit) {
        s->pages[slot] = page;
        s->page_hits[slot] = 0;
        return false;
    }
    if (++s->page_hits[slot] < ACCESS_DELAY_HOT_HITS) {
        return false;
    }
    s->page_hits[slot] = 0;
    return true;
}

/*
 * Spin off the debt.  An overshoot is credited to the next payment, but
 * at most one slice: a host that descheduled the spinning thread must
 * not let the next milliseconds of delay through for free.
 */
static void access_delay_pay(struct AccessDelayCPU *s)
{
    int64_t now = get_clock();
    int64_t end = now + s->debt_ns;

    while (now < end) {
        cpu_relax();
        now = get_clock();
    }
    s->debt_ns = MAX(end - now, -ACCESS_DELAY_SPIN_NS);
}

bool access_delay_charge(CPUState *cpu, AccessDelay *ad, const void *haddr)
{
    struct AccessDelayCPU *s = access_delay_cpu(cpu);
    bool prefetched = false;

    if (!ad->cached) {
        /* No cache model: every access is a miss, and none streams. */
        s->debt_ns += ad->ns;
    } else {
        bool hit = access_delay_cache_hit(s, haddr);

        if (access_delay_page_hot(s, haddr, hit)) {
            return true;
        }
        if (hit) {
            return false;
        }
        prefetched = access_delay_streaming(s, haddr);
        if (prefetched) {
            /* The rest of the page, overlapped: done with the slow path */
            s->debt_ns += (int64_t)access_delay_lines_left(s, haddr) *
                          ad->ns / ACCESS_DELAY_STREAM_DIV;
        } else {
            s->debt_ns += ad->ns;
        }
    }
    stat64_add(&ad->misses, 1);
    if (s->debt_ns >= ACCESS_DELAY_SPIN_NS && !bql_locked()) {
        access_delay_pay(s);
    }
    return prefetched;
}

bool access_delay_note_dropped(CPUState *cpu, int mmu_idx, vaddr addr,
                               int *old_mmu_idx, vaddr *old_addr)
{
    struct AccessDelayCPU *s = access_delay_cpu(cpu);
    unsigned int slot = s->next_dropped++ % ACCESS_DELAY_DROPPED;
    bool evict = s->dropped[slot].used;

    *old_mmu_idx = s->dropped[slot].mmu_idx;
    *old_addr = s->dropped[slot].addr;
    s->dropped[slot].mmu_idx = mmu_idx;
    s->dropped[slot].addr = addr;
    s->dropped[slot].used = true;
    return evict;
}

void access_delay_cpu_destroy(CPUState *cpu)
{
    g_free(cpu->access_delay);
    cpu->access_delay = NULL;
}
