/*
 * x86 TCG: an Intel PMU model (x-tcg-pmu)
 *
 * An architectural version 5 PMU as an Ice Lake server has it: four
 * general-purpose and three fixed counters, 48 bits wide, with
 * full-width writes and adaptive PEBS (pebs.c).  Linux's perf driver
 * runs on it unmodified.
 *
 * What counts: retired instructions; core cycles and the fixed
 * reference-cycles counter, taken as one per instruction (TCG has no
 * notion of a cycle, nor a reference clock); instructions that load
 * (MEM_INST_RETIRED.ALL_LOADS, and MEM_TRANS_RETIRED.LOAD_LATENCY) and
 * instructions that store (MEM_INST_RETIRED.ALL_STORES).  Other events,
 * reference cycles on a GP counter among them (leaf 0xA marks it
 * unavailable), can be programmed and read back but do not count.
 *
 * Generated code counts into one countdown per kind of event and CPL
 * class: 0 for CPL 0, 1 for CPL 1-3, as a counter's OS and USR bits
 * select.  Instructions are counted a translation block at a time, at
 * its start (translate.c); loads and stores before each access, once
 * per instruction, through TCG's guest access hook.  A countdown is
 * armed with the distance to the nearest overflow of a counter of its
 * kind counting in its class, half of it for a counter counting in both,
 * so that no overflow can pass unseen.  When one runs out, a helper
 * folds it into the counters.  An overflow sets the counter's
 * GLOBAL_STATUS bit and, if the counter asks for it, raises a PMI
 * through the local APIC's LVTPC entry, which is then masked as on
 * hardware.  A counter enabled for PEBS instead writes a record (with
 * the access's address, for loads and stores), reloads from the DS
 * area's reset value, and raises the PMI when the buffer reaches its
 * threshold.
 *
 * Translation blocks count only what some counter counts in their
 * class: the TB flags (HF_PMU_*) come from env->tcg_pmu_tb_flags[] at
 * lookup, not from env->hflags, so arming needs no tb_flush.  Counting
 * instructions at the start of a block means such an overflow is seen,
 * and its PMI taken, at most a block early or late, and a block left
 * part-way (a fault, an exception, an I/O recompile) counts whole,
 * including the instruction that faulted.  RDMSR ends the block while
 * it counts, so that a counter read by RDMSR or RDPMC counts nothing
 * after the read.  A load or store is counted before it is made, so one
 * that faults counts, and may have written a record, before the
 * instruction is retried.  Accesses QEMU makes in helpers (XSAVE,
 * FXSAVE, gathers, interrupt and far-call frames) are not counted.
 *
 * Load latency: unlike hardware's, MEM_TRANS_RETIRED.LOAD_LATENCY here
 * counts every load.  At its overflow, a load no slower than the LD_LAT
 * threshold (or one about to fault) is passed over, the counter staying
 * one short of overflow, until a slower one comes, which gets the
 * record.  So the count includes faster loads, and a period means
 * "that many loads, then the next slow one", but every record is of a
 * load slower than the threshold.
 *
 * Copyright (c) 2026 HyperPlace developers
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qemu/bitops.h"
#include "qemu/main-loop.h"
#include "cpu.h"
#include "exec/cpu-common.h"
#include "accel/tcg/getpc.h"
#include "exec/exec-all.h"
#include "exec/helper-proto.h"
#include "exec/translation-block.h"
#include "tcg/insn-start-words.h"
#include "hw/i386/apic.h"
#include "pebs.h"
#include "pmu.h"

#define PMU_CTR_MASK        MAKE_64BIT_MASK(0, X86_TCG_PMU_WIDTH)
#define PMU_FIXED_BIT(j)    BIT_ULL(32 + (j))
#define PMU_GLOBAL_MASK     (MAKE_64BIT_MASK(0, X86_TCG_PMU_NUM_GP) | \
                             MAKE_64BIT_MASK(32, X86_TCG_PMU_NUM_FIXED))
#define PMU_NR_COUNTERS     (X86_TCG_PMU_NUM_GP + X86_TCG_PMU_NUM_FIXED)

/* GLOBAL_STATUS: the DS buffer reached its interrupt threshold. */
#define PMU_STATUS_BUFFER_OVF   BIT_ULL(62)
#define PMU_STATUS_COND_CHG     BIT_ULL(63)
/* What GLOBAL_STATUS_SET may name (#GP otherwise): no CondChgd. */
#define PMU_STATUS_SET_VALID    (PMU_GLOBAL_MASK | PMU_STATUS_BUFFER_OVF)
/* What GLOBAL_STATUS_RESET may name, as KVM allows. */
#define PMU_STATUS_RESET_VALID  (PMU_STATUS_SET_VALID | PMU_STATUS_COND_CHG)

/* Event select bits (IA32_PERFEVTSELx). */
#define EVTSEL_USR          BIT_ULL(16)
#define EVTSEL_OS           BIT_ULL(17)
#define EVTSEL_EDGE         BIT_ULL(18)
#define EVTSEL_INT          BIT_ULL(20)
#define EVTSEL_ANY          BIT_ULL(21)
#define EVTSEL_EN           BIT_ULL(22)
#define EVTSEL_INV          BIT_ULL(23)
#define EVTSEL_CMASK        MAKE_64BIT_MASK(24, 8)
#define EVTSEL_ADAPTIVE     BIT_ULL(34)
/* AnyThread is reserved: CPUID 0xA says it is deprecated. */
#define EVTSEL_VALID        (MAKE_64BIT_MASK(0, 32) & ~EVTSEL_ANY)

/*
 * FIXED_CTR_CTRL: 4 bits per counter (the AnyThread one reserved), and
 * an adaptive-PEBS bit each at 32 + 4 * j.
 */
#define FIXED_CTRL_OS       1
#define FIXED_CTRL_USR      2
#define FIXED_CTRL_PMI      8
#define FIXED_CTRL_FIELD    (FIXED_CTRL_OS | FIXED_CTRL_USR | FIXED_CTRL_PMI)
#define FIXED_CTRL_ADAPTIVE(j)  BIT_ULL(32 + 4 * (j))

#define PEBS_DATA_CFG_VALID (MAKE_64BIT_MASK(0, 4) | MAKE_64BIT_MASK(24, 8))
#define PEBS_LD_LAT_VALID   MAKE_64BIT_MASK(0, 16)

/* Counters are numbered 0-3 for the GP ones, 4-6 for the fixed ones. */
static bool pmu_is_fixed(int c)
{
    return c >= X86_TCG_PMU_NUM_GP;
}

static uint64_t *pmu_counter(CPUX86State *env, int c)
{
    return pmu_is_fixed(c) ?
        &env->msr_fixed_counters[c - X86_TCG_PMU_NUM_GP] :
        &env->msr_gp_counters[c];
}

/* The counter's bit in GLOBAL_CTRL, GLOBAL_STATUS and PEBS_ENABLE. */
static uint64_t pmu_bit(int c)
{
    return pmu_is_fixed(c) ? PMU_FIXED_BIT(c - X86_TCG_PMU_NUM_GP) : BIT_ULL(c);
}

static unsigned int pmu_fixed_field(CPUX86State *env, int c)
{
    return (env->msr_fixed_ctr_ctrl >> (4 * (c - X86_TCG_PMU_NUM_GP))) & 0xf;
}

/* The kind of event (X86TCGPMUKind) an event select counts, or -1. */
static int pmu_event_kind(uint64_t evtsel)
{
    switch (evtsel & 0xffff) {
    case 0x00c0:            /* INST_RETIRED.ANY_P */
    case 0x01c0:            /* INST_RETIRED.PREC_DIST */
    case 0x003c:            /* CPU_CLK_UNHALTED.THREAD_P, one per insn */
        return X86_TCG_PMU_INSNS;
    case 0x81d0:            /* MEM_INST_RETIRED.ALL_LOADS */
    case 0x01cd:            /* MEM_TRANS_RETIRED.LOAD_LATENCY */
        return X86_TCG_PMU_LOADS;
    case 0x82d0:            /* MEM_INST_RETIRED.ALL_STORES */
        return X86_TCG_PMU_STORES;
    default:
        return -1;
    }
}

/* Fixed counters count instructions, or cycles taken as instructions. */
static int pmu_counter_kind(CPUX86State *env, int c)
{
    return pmu_is_fixed(c) ? X86_TCG_PMU_INSNS :
           pmu_event_kind(env->msr_gp_evtsel[c]);
}

static bool pmu_is_load_latency(CPUX86State *env, int c)
{
    return !pmu_is_fixed(c) && (env->msr_gp_evtsel[c] & 0xffff) == 0x01cd;
}

/*
 * The CPL classes in which counter @c counts now: bit 0 for CPL 0, bit 1
 * for CPL 1-3.
 */
static unsigned int pmu_classes(CPUX86State *env, int c)
{
    uint64_t sel;

    if (!(env->msr_global_ctrl & pmu_bit(c))) {
        return 0;
    }
    if (pmu_is_fixed(c)) {
        return pmu_fixed_field(env, c) & (FIXED_CTRL_OS | FIXED_CTRL_USR);
    }
    sel = env->msr_gp_evtsel[c];
    /* A threshold, inverted or edge-counted event: none modelled. */
    if (!(sel & EVTSEL_EN) ||
        (sel & (EVTSEL_EDGE | EVTSEL_INV | EVTSEL_CMASK)) ||
        pmu_event_kind(sel) < 0) {
        return 0;
    }
    return (sel & EVTSEL_OS ? 1 : 0) | (sel & EVTSEL_USR ? 2 : 0);
}

static bool pmu_interrupts(CPUX86State *env, int c)
{
    if (pmu_is_fixed(c)) {
        return pmu_fixed_field(env, c) & FIXED_CTRL_PMI;
    }
    return env->msr_gp_evtsel[c] & EVTSEL_INT;
}

static void pmu_raise_pmi(CPUX86State *env)
{
    X86CPU *cpu = env_archcpu(env);

    /* A CPU without a local APIC has no LVTPC to deliver through. */
    if (cpu->apic_state) {
        BQL_LOCK_GUARD();
        apic_deliver_pmi(cpu->apic_state);
    }
}

/* The event that ran a countdown out: what a PEBS record would hold. */
typedef struct PMUTrigger {
    X86TCGPMUKind kind;
    uintptr_t ra;               /* host address of its access in the TB */
    vaddr addr;                 /* its data access, for loads and stores */
    int mmu_idx;                /* the access's MMU index */
} PMUTrigger;

/*
 * The instruction of @t: its linear address and CC_OP.  Without an
 * access, the instruction env->eip was last synced to (a TB's first).
 */
static void pmu_trigger_insn(CPUX86State *env, const PMUTrigger *t,
                             vaddr *ip, int *cc_op)
{
    CPUState *cs = env_cpu(env);
    uint64_t data[TARGET_INSN_START_WORDS];

    /* 64-bit code ignores the CS base, as TBs' cs_base does. */
    *ip = env->eip +
          (env->hflags & HF_CS64_MASK ? 0 : env->segs[R_CS].base);
    *cc_op = CC_OP_DYNAMIC;
    /* As x86_restore_state_to_opc() finds the instruction's address. */
    if (t->ra && cpu_unwind_state_data(cs, t->ra, data)) {
        *ip = cs->tcg_cflags & CF_PCREL ?
              (*ip & TARGET_PAGE_MASK) | data[0] : data[0];
        *cc_op = data[1];
    }
}

static bool pmu_is_adaptive(CPUX86State *env, int c)
{
    if (pmu_is_fixed(c)) {
        return env->msr_fixed_ctr_ctrl &
               FIXED_CTRL_ADAPTIVE(c - X86_TCG_PMU_NUM_GP);
    }
    return env->msr_gp_evtsel[c] & EVTSEL_ADAPTIVE;
}

/*
 * The PEBS counters in @counters overflowed on @t: write their records
 * and reload them.  Returns true if a PMI is due: the buffer reached its
 * interrupt threshold.
 */
static bool pmu_pebs(CPUX86State *env, uint64_t counters, const PMUTrigger *t)
{
    X86CPU *cpu = env_archcpu(env);
    bool pmi = false, have_insn = false;
    int cc_op = CC_OP_DYNAMIC, c;
    vaddr ip = 0;

    for (c = 0; c < PMU_NR_COUNTERS; c++) {
        X86PEBSEvent ev = { .counters = pmu_bit(c) };
        int kind = pmu_counter_kind(env, c);
        uint64_t *ctr = pmu_counter(env, c);
        bool threshold;
        int slot;

        if (!(counters & BIT(c))) {
            continue;
        }
        if (kind == t->kind && kind != X86_TCG_PMU_INSNS) {
            ev.addr = t->addr;
        }
        if (pmu_is_load_latency(env, c)) {
            if (t->kind == X86_TCG_PMU_LOADS) {
                x86_tcg_pebs_load_source(env, t->addr, t->mmu_idx, &ev);
            }
            if (ev.latency <= env->msr_pebs_ld_lat) {
                /* Not slower than the threshold: the next load may be. */
                *ctr = PMU_CTR_MASK;
                continue;
            }
        }
        /*
         * Unwind only for a record: a load-latency counter parked short
         * of overflow calls us on every load, and most are passed over.
         */
        if (!have_insn) {
            pmu_trigger_insn(env, t, &ip, &cc_op);
            have_insn = true;
        }
        ev.ip = ip;
        ev.cc_op = cc_op;
        if (x86_tcg_pebs_write(env, &ev, pmu_is_adaptive(env, c),
                               &threshold)) {
            stat64_add(&cpu->tcg_pmu_pebs_records, 1);
        } else {
            stat64_add(&cpu->tcg_pmu_pebs_dropped, 1);
        }
        /* Reload, keeping what was counted past the overflow. */
        slot = pmu_is_fixed(c) ?
               X86_PEBS_RESET_FIXED_SLOT + c - X86_TCG_PMU_NUM_GP : c;
        *ctr = (x86_tcg_pebs_reset(env, slot) + *ctr) & PMU_CTR_MASK;
        if (threshold) {
            env->msr_global_status |= PMU_STATUS_BUFFER_OVF;
            pmi = true;
        }
    }
    return pmi;
}

/*
 * Fold what generated code counted into the counters; @t is the event
 * that ran a countdown out, if one did.
 */
static void pmu_sync(CPUX86State *env, const PMUTrigger *t)
{
    int64_t ran[2][X86_TCG_PMU_KINDS];
    uint64_t pebs = 0;
    bool pmi = false;
    int cls, kind, c;

    for (cls = 0; cls < 2; cls++) {
        for (kind = 0; kind < X86_TCG_PMU_KINDS; kind++) {
            ran[cls][kind] = (int64_t)env->tcg_pmu_armed[cls][kind] -
                             env->tcg_pmu_left[cls][kind];
            env->tcg_pmu_armed[cls][kind] = env->tcg_pmu_left[cls][kind];
        }
    }
    for (c = 0; c < PMU_NR_COUNTERS; c++) {
        unsigned int classes = pmu_classes(env, c);
        uint64_t *ctr = pmu_counter(env, c);
        uint64_t n;

        if (!classes) {
            continue;
        }
        kind = pmu_counter_kind(env, c);
        n = (classes & 1 ? ran[0][kind] : 0) + (classes & 2 ? ran[1][kind] : 0);
        if (!n) {
            continue;
        }
        *ctr += n;
        if (*ctr > PMU_CTR_MASK) {
            *ctr &= PMU_CTR_MASK;
            if (env->msr_pebs_enable & pmu_bit(c)) {
                pebs |= BIT(c);
                continue;
            }
            env->msr_global_status |= pmu_bit(c);
            pmi |= pmu_interrupts(env, c);
        }
    }
    if (pebs) {
        pmi |= pmu_pebs(env, pebs, t);
    }
    if (pmi) {
        pmu_raise_pmi(env);
    }
}

void x86_tcg_pmu_sync(CPUX86State *env)
{
    PMUTrigger t = { .kind = X86_TCG_PMU_INSNS };

    pmu_sync(env, &t);
}

void x86_tcg_pmu_rearm(CPUX86State *env)
{
    static const uint32_t tb_flag[X86_TCG_PMU_KINDS] = {
        [X86_TCG_PMU_INSNS] = HF_PMU_INSN_MASK,
        [X86_TCG_PMU_LOADS] = HF_PMU_LOAD_MASK,
        [X86_TCG_PMU_STORES] = HF_PMU_STORE_MASK,
    };
    int cls, kind, c;

    for (cls = 0; cls < 2; cls++) {
        env->tcg_pmu_tb_flags[cls] = 0;
        for (kind = 0; kind < X86_TCG_PMU_KINDS; kind++) {
            /* Events until the first counter of the kind and class wraps. */
            uint64_t left = INT32_MAX;
            bool counting = false;

            for (c = 0; c < PMU_NR_COUNTERS; c++) {
                unsigned int classes = pmu_classes(env, c);
                uint64_t distance = PMU_CTR_MASK - *pmu_counter(env, c);

                if (!(classes & (1 << cls)) ||
                    pmu_counter_kind(env, c) != kind) {
                    continue;
                }
                counting = true;
                /* Counting in both classes: either may run out first. */
                left = MIN(left, classes == 3 ? distance / 2 : distance);
            }
            env->tcg_pmu_left[cls][kind] = counting ? left : 0;
            env->tcg_pmu_armed[cls][kind] = env->tcg_pmu_left[cls][kind];
            if (counting) {
                env->tcg_pmu_tb_flags[cls] |= tb_flag[kind];
            }
        }
    }
}

/* Generated code's instruction countdown ran out: some counter may wrap. */
void helper_pmu_insns_expired(CPUX86State *env)
{
    x86_tcg_pmu_sync(env);
    x86_tcg_pmu_rearm(env);
}

/*
 * Generated code's load or store countdown ran out, on an access to
 * @addr about to be made by the instruction that called us.
 */
void helper_pmu_access_expired(CPUX86State *env, uint64_t addr,
                               uint32_t mmu_idx, uint32_t kind)
{
    PMUTrigger t = {
        .kind = kind, .ra = GETPC(), .addr = addr, .mmu_idx = mmu_idx,
    };

    pmu_sync(env, &t);
    x86_tcg_pmu_rearm(env);
}

/* The counter an MSR index names, or -1; *@legacy for 0xc1+i. */
static int pmu_counter_msr(uint32_t index, bool *legacy)
{
    *legacy = false;
    if (index >= MSR_IA32_PMC0 && index < MSR_IA32_PMC0 + X86_TCG_PMU_NUM_GP) {
        return index - MSR_IA32_PMC0;
    }
    if (index >= MSR_P6_PERFCTR0 &&
        index < MSR_P6_PERFCTR0 + X86_TCG_PMU_NUM_GP) {
        *legacy = true;
        return index - MSR_P6_PERFCTR0;
    }
    if (index >= MSR_CORE_PERF_FIXED_CTR0 &&
        index < MSR_CORE_PERF_FIXED_CTR0 + X86_TCG_PMU_NUM_FIXED) {
        return X86_TCG_PMU_NUM_GP + index - MSR_CORE_PERF_FIXED_CTR0;
    }
    return -1;
}

/* The PEBS MSRs, which exist only if the CPU advertises PEBS. */
static bool pmu_pebs_msr(uint32_t index)
{
    return index == MSR_IA32_PEBS_ENABLE || index == MSR_PEBS_DATA_CFG ||
           index == MSR_PEBS_LD_LAT_THRESHOLD || index == MSR_IA32_DS_AREA;
}

/*
 * The MSRs that hold what was written to them, less reserved bits:
 * their field, and in *@valid the bits a write may set (#GP otherwise).
 */
static uint64_t *pmu_plain_msr(CPUX86State *env, uint32_t index,
                               uint64_t *valid)
{
    bool adaptive = x86_cpu_has_adaptive_pebs(env);
    int j;

    if (index >= MSR_P6_EVNTSEL0 &&
        index < MSR_P6_EVNTSEL0 + X86_TCG_PMU_NUM_GP) {
        *valid = EVTSEL_VALID | (adaptive ? EVTSEL_ADAPTIVE : 0);
        return &env->msr_gp_evtsel[index - MSR_P6_EVNTSEL0];
    }
    switch (index) {
    case MSR_CORE_PERF_FIXED_CTR_CTRL:
        *valid = 0;
        for (j = 0; j < X86_TCG_PMU_NUM_FIXED; j++) {
            *valid |= (uint64_t)FIXED_CTRL_FIELD << (4 * j) |
                      (adaptive ? FIXED_CTRL_ADAPTIVE(j) : 0);
        }
        return &env->msr_fixed_ctr_ctrl;
    case MSR_CORE_PERF_GLOBAL_CTRL:
        *valid = PMU_GLOBAL_MASK;
        return &env->msr_global_ctrl;
    case MSR_IA32_PEBS_ENABLE:
        *valid = PMU_GLOBAL_MASK;
        return &env->msr_pebs_enable;
    case MSR_PEBS_DATA_CFG:
        *valid = PEBS_DATA_CFG_VALID;
        return &env->msr_pebs_data_cfg;
    case MSR_PEBS_LD_LAT_THRESHOLD:
        *valid = PEBS_LD_LAT_VALID;
        return &env->msr_pebs_ld_lat;
    default:
        return NULL;
    }
}

X86TCGPMUAccess x86_tcg_pmu_rdmsr(CPUX86State *env, uint32_t index,
                                  uint64_t *val)
{
    bool legacy;
    int c = pmu_counter_msr(index, &legacy);
    uint64_t valid, *plain = pmu_plain_msr(env, index, &valid);

    if (pmu_pebs_msr(index) && !x86_cpu_has_pebs(env)) {
        return X86_TCG_PMU_NOT_PMU;
    }
    x86_tcg_pmu_sync(env);
    if (c >= 0) {
        *val = *pmu_counter(env, c);
        return X86_TCG_PMU_DONE;
    }
    if (plain) {
        *val = *plain;
        return X86_TCG_PMU_DONE;
    }
    switch (index) {
    case MSR_IA32_PERF_CAPABILITIES:
        *val = env->features[FEAT_PERF_CAPABILITIES];
        break;
    case MSR_CORE_PERF_GLOBAL_STATUS:
        *val = env->msr_global_status;
        break;
    case MSR_CORE_PERF_GLOBAL_OVF_CTRL:
    case MSR_CORE_PERF_GLOBAL_STATUS_SET:
        *val = 0;
        break;
    case MSR_IA32_DS_AREA:
        *val = env->msr_ds_area;
        break;
    default:
        return X86_TCG_PMU_NOT_PMU;
    }
    return X86_TCG_PMU_DONE;
}

/* Whether @addr is canonical, for 4- or 5-level paging as the CPU has. */
static bool pmu_canonical(CPUX86State *env, uint64_t addr)
{
    int bits = env->features[FEAT_7_0_ECX] & CPUID_7_0_ECX_LA57 ? 57 : 48;

    return sextract64(addr, 0, bits) == (int64_t)addr;
}

/*
 * Write @val to the PMU MSR @index; false if it takes #GP, as a write to
 * a read-only one (PERF_CAPABILITIES, GLOBAL_STATUS) does.
 */
static bool pmu_write(CPUX86State *env, uint32_t index, uint64_t val)
{
    bool legacy;
    int c = pmu_counter_msr(index, &legacy);
    uint64_t valid, *plain = pmu_plain_msr(env, index, &valid);

    if (c >= 0) {
        if (legacy) {
            /* The legacy alias writes 32 bits, sign-extended. */
            val = (int64_t)(int32_t)val;
        } else if (val & ~PMU_CTR_MASK) {
            return false;
        }
        *pmu_counter(env, c) = val & PMU_CTR_MASK;
        return true;
    }
    if (plain) {
        if (val & ~valid) {
            return false;
        }
        *plain = val;
        return true;
    }
    switch (index) {
    case MSR_CORE_PERF_GLOBAL_OVF_CTRL:
        /* GLOBAL_STATUS_RESET since version 4: write 1 to clear. */
        if (val & ~PMU_STATUS_RESET_VALID) {
            return false;
        }
        env->msr_global_status &= ~val;
        return true;
    case MSR_CORE_PERF_GLOBAL_STATUS_SET:
        if (val & ~PMU_STATUS_SET_VALID) {
            return false;
        }
        env->msr_global_status |= val;
        return true;
    case MSR_IA32_DS_AREA:
        if (!pmu_canonical(env, val)) {
            return false;
        }
        env->msr_ds_area = val;
        return true;
    default:
        return false;
    }
}

X86TCGPMUAccess x86_tcg_pmu_wrmsr(CPUX86State *env, uint32_t index,
                                  uint64_t val)
{
    uint64_t old;

    /* Reading first tells a PMU MSR (syncing the counters) from another. */
    if (x86_tcg_pmu_rdmsr(env, index, &old) == X86_TCG_PMU_NOT_PMU) {
        return X86_TCG_PMU_NOT_PMU;
    }
    if (!pmu_write(env, index, val)) {
        return X86_TCG_PMU_GP;
    }
    x86_tcg_pmu_rearm(env);
    return X86_TCG_PMU_DONE;
}

bool x86_tcg_pmu_rdpmc(CPUX86State *env, uint32_t ecx, uint64_t *val)
{
    uint32_t index = ecx & ~BIT(30);
    int c;

    if (ecx & BIT(30)) {
        if (index >= X86_TCG_PMU_NUM_FIXED) {
            return false;
        }
        c = X86_TCG_PMU_NUM_GP + index;
    } else {
        if (index >= X86_TCG_PMU_NUM_GP) {
            return false;
        }
        c = index;
    }
    x86_tcg_pmu_sync(env);
    *val = *pmu_counter(env, c);
    return true;
}
