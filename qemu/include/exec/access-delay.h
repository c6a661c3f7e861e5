/*
 * Slow memory for TCG guests: extra latency on vCPU accesses to one
 * memory backend's RAM
 *
 * Copyright (c) 2026 HyperPlace developers
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#ifndef EXEC_ACCESS_DELAY_H
#define EXEC_ACCESS_DELAY_H

#include "qemu/stats64.h"

/**
 * struct AccessDelay: the access delay of one RAMBlock
 *
 * @ns: extra host time, in nanoseconds, that a vCPU load or store to
 *      this RAM costs when it misses the vCPU's cache model; 0 means
 *      the RAM is ordinary and stays on TCG's fast path
 * @cached: whether lines of this RAM are kept in the per-vCPU cache
 *      model, so that only misses are delayed; if not, every access
 *      is delayed in full
 * @misses: number of delayed accesses so far
 *
 * Set once by the memory backend before the RAM is mapped; read by the
 * TCG softmmu slow path through CPUTLBEntryFull.access_delay.
 */
typedef struct AccessDelay {
    uint32_t ns;
    bool cached;
    Stat64 misses;
} AccessDelay;

/**
 * access_delay_line_cached: whether a vCPU's cache model holds a line
 * @cpu: the vCPU
 * @ad: the access delay of the RAM the line is in
 * @haddr: a host address in the line
 *
 * Changes nothing; an emulated PMU asks it for the latency of a load
 * about to be made.
 *
 * Returns: true if a load from @haddr made now would hit the model, so
 * that it would not be delayed.
 */
bool access_delay_line_cached(CPUState *cpu, const AccessDelay *ad,
                              const void *haddr);

#endif /* EXEC_ACCESS_DELAY_H */
