/*
 * x86 TCG: PEBS records for the Intel PMU model (x-tcg-pmu)
 *
 * Copyright (c) 2026 HyperPlace developers
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#ifndef I386_TCG_SYSTEM_PEBS_H
#define I386_TCG_SYSTEM_PEBS_H

/* Slots of the DS area's counter reset values: GP counters, then fixed. */
#define X86_PEBS_RESET_FIXED_SLOT   8

/**
 * struct X86PEBSEvent: what one PEBS record says
 * @counters: the record's applicable counters (GLOBAL_STATUS bits)
 * @ip: linear address of the instruction that caused the event
 * @addr: linear address of its data access; 0 if it made none
 * @data_src: the memory-info group's data source (Intel's encoding)
 * @latency: its load latency, in core cycles; 0 if not a load
 * @cc_op: the instruction's CC_OP, for the flags in the GPR group
 */
typedef struct X86PEBSEvent {
    uint64_t counters;
    vaddr ip;
    vaddr addr;
    uint64_t data_src;
    uint64_t latency;
    int cc_op;
} X86PEBSEvent;

/**
 * x86_tcg_pebs_load_source: where a load about to be made is served from
 * @env: the vCPU
 * @addr: the load's linear address
 * @mmu_idx: the load's MMU index
 * @ev: its @data_src and @latency are set
 *
 * The latency comes from the memory backend: DRAM for ordinary RAM, and
 * DRAM plus the backend's x-access-delay-ns for slow RAM, unless the
 * access delay's cache model holds the line.
 */
void x86_tcg_pebs_load_source(CPUX86State *env, vaddr addr, int mmu_idx,
                              X86PEBSEvent *ev);

/**
 * x86_tcg_pebs_write: write a record into the DS area's PEBS buffer
 * @env: the vCPU
 * @ev: the record's contents
 * @adaptive: whether the counter asked for PEBS_DATA_CFG's groups; if
 *            not, the record holds the basic group only
 * @threshold: set if the buffer reached its interrupt threshold
 *
 * Never faults the guest: a DS area or buffer that is not mapped to RAM,
 * or a buffer without room, drops the record.
 *
 * Returns: true if the record was written.
 */
bool x86_tcg_pebs_write(CPUX86State *env, const X86PEBSEvent *ev,
                        bool adaptive, bool *threshold);

/**
 * x86_tcg_pebs_reset: the value a PEBS counter reloads after a record
 * @env: the vCPU
 * @slot: the counter's reset slot: i for GP counter i,
 *        X86_PEBS_RESET_FIXED_SLOT + j for fixed counter j
 *
 * Returns: the DS area's reset value, or 0 if it cannot be read.
 */
uint64_t x86_tcg_pebs_reset(CPUX86State *env, int slot);

#endif /* I386_TCG_SYSTEM_PEBS_H */
