/*
 * x86 TCG: PEBS records for the Intel PMU model (x-tcg-pmu)
 *
 * Adaptive PEBS as an Ice Lake server writes it (record format 4 with
 * baseline): when a counter enabled in PEBS_ENABLE overflows, pmu.c asks
 * for a record here; it goes into the PEBS buffer the guest's DS area
 * describes, with the groups PEBS_DATA_CFG selects if the counter is
 * adaptive (basic, memory info, GPRs, XMM registers, and LBR entries,
 * all zero as there is no LBR), the basic group alone if not.
 *
 * The DS area and the buffer are reached by their linear addresses
 * through the current page tables, as a supervisor access exempt from
 * SMAP, from any CPL: Linux maps them in the cpu_entry_area, which user
 * page tables map too.  They are probed without faulting; a record
 * that would not land in RAM, or would pass the buffer's absolute
 * maximum, is dropped and counted as such.
 *
 * Load latency is the memory backend's: DRAM_NS for ordinary RAM, plus
 * the backend's x-access-delay-ns for slow RAM (accel/tcg/access-delay.c)
 * unless the access delay's cache model holds the line, in core cycles
 * of a CORE_MHZ clock.  Ordinary RAM has no cache model, so its loads
 * always report DRAM latency.
 *
 * Copyright (c) 2026 HyperPlace developers
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qemu/bitops.h"
#include "cpu.h"
#include "exec/access-delay.h"
#include "exec/exec-all.h"
#include "exec/helper-proto.h"
#include "exec/page-protection.h"
#include "pebs.h"

/* The DS area (Linux: struct debug_store): the PEBS half. */
#define DS_PEBS_INDEX           0x28
#define DS_PEBS_ABS_MAX         0x30
#define DS_PEBS_THRESHOLD       0x38
#define DS_PEBS_RESET           0x40

/* PEBS_DATA_CFG: the groups of an adaptive record. */
#define PEBS_CFG_MEMINFO        BIT(0)
#define PEBS_CFG_GPRS           BIT(1)
#define PEBS_CFG_XMMS           BIT(2)
#define PEBS_CFG_LBRS           BIT(3)
#define PEBS_CFG_LBR_SHIFT      24

#define PEBS_BASIC_SIZE         32
#define PEBS_MEMINFO_SIZE       32
#define PEBS_GPRS_SIZE          (18 * 8)
#define PEBS_XMMS_SIZE          (16 * 16)
#define PEBS_LBR_SIZE           24
#define PEBS_MAX_SIZE           (PEBS_BASIC_SIZE + PEBS_MEMINFO_SIZE + \
                                 PEBS_GPRS_SIZE + PEBS_XMMS_SIZE + \
                                 256 * PEBS_LBR_SIZE)

/* Memory-info data sources, as Linux decodes them for Ice Lake server. */
#define PEBS_SRC_UNKNOWN        0x00
#define PEBS_SRC_L2             0x03
#define PEBS_SRC_PMEM           0x08
#define PEBS_SRC_DRAM           0x0a
#define PEBS_SRC_IO             0x0e

/* Latencies: a nominal core clock, DRAM, and a hit in the cache model. */
#define CORE_MHZ                2000
#define DRAM_NS                 80
#define CACHE_HIT_CYCLES        14

static int pebs_mmu_idx(CPUX86State *env)
{
    return env->hflags & HF_LMA_MASK ? MMU_KNOSMAP64_IDX : MMU_KNOSMAP32_IDX;
}

/*
 * The host address of @size bytes at @va, which must not cross a page,
 * or NULL if they are not RAM the access may be made to.
 */
static void *pebs_host(CPUX86State *env, vaddr va, int size,
                       MMUAccessType type)
{
    CPUTLBEntryFull *full;
    void *host;
    int flags;

    if ((va & ~TARGET_PAGE_MASK) + size > TARGET_PAGE_SIZE) {
        return NULL;
    }
    /* Not probe_access_full(): plugins' memory callbacks make it MMIO. */
    flags = probe_access_full_mmu(env, va, size, type, pebs_mmu_idx(env),
                                  &host, &full);
    return flags & ~TLB_WATCHPOINT ? NULL : host;
}

static bool pebs_read_ds(CPUX86State *env, int offset, uint64_t *val)
{
    void *host = pebs_host(env, env->msr_ds_area + offset, 8, MMU_DATA_LOAD);

    if (!host) {
        return false;
    }
    *val = ldq_le_p(host);
    return true;
}

/* Copy @len bytes to @va, all or nothing. */
static bool pebs_copy_out(CPUX86State *env, vaddr va, const uint8_t *buf,
                          size_t len)
{
    void *host[2];
    size_t first = MIN(len, TARGET_PAGE_SIZE - (va & ~TARGET_PAGE_MASK));

    host[0] = pebs_host(env, va, first, MMU_DATA_STORE);
    host[1] = first == len ? NULL :
              pebs_host(env, va + first, len - first, MMU_DATA_STORE);
    if (!host[0] || (first < len && !host[1])) {
        return false;
    }
    memcpy(host[0], buf, first);
    if (first < len) {
        memcpy(host[1], buf + first, len - first);
    }
    return true;
}

void x86_tcg_pebs_load_source(CPUX86State *env, vaddr addr, int mmu_idx,
                              X86PEBSEvent *ev)
{
    CPUState *cs = env_cpu(env);
    CPUTLBEntryFull *full;
    AccessDelay *ad;
    void *host;
    int flags;

    flags = probe_access_full_mmu(env, addr, 1, MMU_DATA_LOAD, mmu_idx,
                                  &host, &full);
    if (flags & TLB_INVALID_MASK) {
        /* Not mapped: the load will fault, and be retried; no latency. */
        ev->data_src = PEBS_SRC_UNKNOWN;
        ev->latency = 0;
        return;
    }
    ev->latency = DRAM_NS * CORE_MHZ / 1000;
    if (flags & TLB_MMIO) {
        ev->data_src = PEBS_SRC_IO;
        return;
    }
    ad = full->access_delay;
    if (!ad) {
        ev->data_src = PEBS_SRC_DRAM;
        return;
    }
    /* A page taken as cached as a whole takes the fast path, undelayed. */
    if (!(full->slow_flags[MMU_DATA_LOAD] & TLB_ACCESS_DELAY) ||
        access_delay_line_cached(cs, ad, host)) {
        ev->data_src = PEBS_SRC_L2;
        ev->latency = CACHE_HIT_CYCLES;
        return;
    }
    ev->data_src = PEBS_SRC_PMEM;
    ev->latency = (uint64_t)(DRAM_NS + ad->ns) * CORE_MHZ / 1000;
}

/* The GPR group: RFLAGS, RIP, then RAX to R15 in encoding order. */
static size_t pebs_put_gprs(CPUX86State *env, const X86PEBSEvent *ev,
                            uint8_t *p)
{
    uint32_t eflags = env->eflags | (env->df & DF_MASK);
    int i;

    if (ev->cc_op != CC_OP_DYNAMIC) {
        eflags |= helper_cc_compute_all(CC_DST, CC_SRC, CC_SRC2, ev->cc_op);
    } else {
        eflags |= cpu_cc_compute_all(env);
    }
    stq_le_p(p, eflags);
    stq_le_p(p + 8, ev->ip);
    for (i = 0; i < 16; i++) {
        stq_le_p(p + 16 + 8 * i, i < CPU_NB_REGS ? env->regs[i] : 0);
    }
    return PEBS_GPRS_SIZE;
}

static size_t pebs_put_xmms(CPUX86State *env, uint8_t *p)
{
    int i;

    for (i = 0; i < 16; i++) {
        stq_le_p(p + 16 * i, i < CPU_NB_REGS ? env->xmm_regs[i].ZMM_Q(0) : 0);
        stq_le_p(p + 16 * i + 8,
                 i < CPU_NB_REGS ? env->xmm_regs[i].ZMM_Q(1) : 0);
    }
    return PEBS_XMMS_SIZE;
}

/* The size of a record with the groups of @cfg (PEBS_DATA_CFG). */
static size_t pebs_record_size(uint64_t cfg)
{
    return PEBS_BASIC_SIZE +
           (cfg & PEBS_CFG_MEMINFO ? PEBS_MEMINFO_SIZE : 0) +
           (cfg & PEBS_CFG_GPRS ? PEBS_GPRS_SIZE : 0) +
           (cfg & PEBS_CFG_XMMS ? PEBS_XMMS_SIZE : 0) +
           (cfg & PEBS_CFG_LBRS ?
            (extract64(cfg, PEBS_CFG_LBR_SHIFT, 8) + 1) * PEBS_LBR_SIZE : 0);
}

/* Build the record in @p; returns its size. */
static size_t pebs_build(CPUX86State *env, const X86PEBSEvent *ev,
                         bool adaptive, uint8_t *p)
{
    uint64_t cfg = adaptive ? env->msr_pebs_data_cfg : 0;
    size_t size = PEBS_BASIC_SIZE, total = pebs_record_size(cfg);

    /* The groups present, and the size, so that readers can walk on. */
    memset(p, 0, total);
    stq_le_p(p, (cfg & MAKE_64BIT_MASK(0, 32)) | (uint64_t)total << 48);
    stq_le_p(p + 8, ev->ip);
    stq_le_p(p + 16, ev->counters);
    stq_le_p(p + 24, cpu_get_tsc(env) + env->tsc_offset);
    if (cfg & PEBS_CFG_MEMINFO) {
        stq_le_p(p + size, ev->addr);
        stq_le_p(p + size + 8, ev->data_src);
        stq_le_p(p + size + 16, ev->latency);
        size += PEBS_MEMINFO_SIZE;
    }
    if (cfg & PEBS_CFG_GPRS) {
        size += pebs_put_gprs(env, ev, p + size);
    }
    if (cfg & PEBS_CFG_XMMS) {
        pebs_put_xmms(env, p + size);
    }
    /* No LBR: the entries asked for stay all zero. */
    return total;
}

bool x86_tcg_pebs_write(CPUX86State *env, const X86PEBSEvent *ev,
                        bool adaptive, bool *threshold)
{
    uint8_t record[PEBS_MAX_SIZE];
    uint64_t index, abs_max, thresh;
    void *index_host;
    size_t size;

    *threshold = false;
    index_host = pebs_host(env, env->msr_ds_area + DS_PEBS_INDEX, 8,
                           MMU_DATA_STORE);
    if (!index_host || !pebs_read_ds(env, DS_PEBS_ABS_MAX, &abs_max) ||
        !pebs_read_ds(env, DS_PEBS_THRESHOLD, &thresh)) {
        return false;
    }
    /* Re-read every time: the guest rewinds it when it drains. */
    index = ldq_le_p(index_host);
    size = pebs_build(env, ev, adaptive, record);
    if (index > abs_max || abs_max - index < size ||
        !pebs_copy_out(env, index, record, size)) {
        return false;
    }
    /* The copy may have refilled the TLB: look the index up again. */
    index_host = pebs_host(env, env->msr_ds_area + DS_PEBS_INDEX, 8,
                           MMU_DATA_STORE);
    if (!index_host) {
        return false;
    }
    stq_le_p(index_host, index + size);
    *threshold = index + size >= thresh;
    return true;
}

uint64_t x86_tcg_pebs_reset(CPUX86State *env, int slot)
{
    uint64_t val;

    if (!pebs_read_ds(env, DS_PEBS_RESET + 8 * slot, &val)) {
        return 0;
    }
    return val;
}
