/*
 * x86 TCG: an Intel PMU model (x-tcg-pmu)
 *
 * Copyright (c) 2026 HyperPlace developers
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#ifndef I386_TCG_SYSTEM_PMU_H
#define I386_TCG_SYSTEM_PMU_H

/* What x86_tcg_pmu_rdmsr() and x86_tcg_pmu_wrmsr() found. */
typedef enum X86TCGPMUAccess {
    X86_TCG_PMU_DONE,           /* a PMU MSR, accessed */
    X86_TCG_PMU_GP,             /* a PMU MSR, but the access takes #GP */
    X86_TCG_PMU_NOT_PMU,        /* not a PMU MSR */
} X86TCGPMUAccess;

/**
 * x86_tcg_pmu_rdmsr: read a PMU MSR of a vCPU with x-tcg-pmu
 * @env: the vCPU
 * @index: the MSR
 * @val: set to the value read
 */
X86TCGPMUAccess x86_tcg_pmu_rdmsr(CPUX86State *env, uint32_t index,
                                  uint64_t *val);

/**
 * x86_tcg_pmu_wrmsr: write a PMU MSR of a vCPU with x-tcg-pmu
 * @env: the vCPU
 * @index: the MSR
 * @val: the value to write
 */
X86TCGPMUAccess x86_tcg_pmu_wrmsr(CPUX86State *env, uint32_t index,
                                  uint64_t val);

/**
 * x86_tcg_pmu_rdpmc: the counter RDPMC reads
 * @env: the vCPU
 * @ecx: the counter selector (bit 30: a fixed counter)
 * @val: set to the counter's value
 *
 * Returns: false if @ecx names no counter (#GP).
 */
bool x86_tcg_pmu_rdpmc(CPUX86State *env, uint32_t ecx, uint64_t *val);

/**
 * x86_tcg_pmu_sync: fold the instructions counted by generated code
 * into the counters, before they are read or saved
 * @env: the vCPU
 */
void x86_tcg_pmu_sync(CPUX86State *env);

/**
 * x86_tcg_pmu_rearm: recompute what generated code counts, after the
 * PMU MSRs changed (a write, a reset, an incoming migration)
 * @env: the vCPU
 */
void x86_tcg_pmu_rearm(CPUX86State *env);

#endif /* I386_TCG_SYSTEM_PMU_H */
