/*
 * Slow memory for TCG guests: the softmmu slow path's side
 *
 * Copyright (c) 2026 HyperPlace developers
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#ifndef ACCEL_TCG_ACCESS_DELAY_H
#define ACCEL_TCG_ACCESS_DELAY_H

#include "exec/access-delay.h"

/**
 * access_delay_charge: account one vCPU access to slow RAM
 * @cpu: the vCPU making the access
 * @ad: the access delay of the RAM accessed
 * @haddr: host address of the access
 *
 * Looks @haddr up in @cpu's cache model and, on a miss, adds @ad->ns
 * to the vCPU's debt, spinning once the debt is large enough.
 *
 * Returns: true if the page of @haddr is now taken as cached as a
 * whole, so that the caller may let its accesses take the fast path
 * until its TLB entry is refilled.
 */
bool access_delay_charge(CPUState *cpu, AccessDelay *ad, const void *haddr);

/**
 * access_delay_note_dropped: remember a page let onto the fast path
 * @cpu: the vCPU whose TLB entry no longer delays the page
 * @mmu_idx: the entry's MMU index
 * @addr: an address in the page
 * @old_mmu_idx: set to the MMU index of the page to put back, if any
 * @old_addr: set to an address in the page to put back, if any
 *
 * Returns: true if the model holds too many such pages and the one let
 * on longest ago (@old_mmu_idx, @old_addr) must be delayed again.
 */
bool access_delay_note_dropped(CPUState *cpu, int mmu_idx, vaddr addr,
                               int *old_mmu_idx, vaddr *old_addr);

/**
 * access_delay_cpu_destroy: free @cpu's cache model
 * @cpu: the vCPU being destroyed
 */
void access_delay_cpu_destroy(CPUState *cpu);

#endif /* ACCEL_TCG_ACCESS_DELAY_H */
