/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * What a guest may ask of adaptive PEBS, as pure functions of the vCPU's
 * PERF_CAPABILITIES, so that the rules can be tested without a PMU
 * (arch/x86/kvm/pmu_pebs_test.c).
 *
 * Adaptive PEBS was hidden from guests because the LBR group of a record
 * (MSR_PEBS_DATA_CFG.LBRS) could carry host LBRs into the guest's buffer
 * (CVE-2024-26992).  With kvm_intel.adaptive_pebs=1 a guest gets it back
 * without the LBR group: the memory-info, GP-register and XMM groups are
 * written while the guest runs and hold only the guest's own state.
 */
#ifndef ARCH_X86_KVM_PMU_PEBS_H
#define ARCH_X86_KVM_PMU_PEBS_H

#include <linux/bitfield.h>
#include <linux/bits.h>
#include <linux/types.h>
#include <asm/msr-index.h>
#include <asm/perf_event.h>

/* The record groups a guest may select in MSR_PEBS_DATA_CFG. */
#define KVM_PEBS_DATA_CFG_ALLOWED	(PEBS_DATACFG_MEMINFO | PEBS_DATACFG_GP | \
					 PEBS_DATACFG_XMMS)

/* MSR_PEBS_LD_LAT_THRESHOLD: bits 15:0 hold the threshold in core cycles. */
#define KVM_PEBS_LD_LAT_MASK		GENMASK_ULL(15, 0)

/* Event select and unit mask of the events that read the threshold. */
#define KVM_PEBS_EVENT_MASK	(ARCH_PERFMON_EVENTSEL_EVENT | \
				 ARCH_PERFMON_EVENTSEL_UMASK)
#define KVM_PEBS_LOAD_LATENCY	0x01cd	/* MEM_TRANS_RETIRED.LOAD_LATENCY */
#define KVM_PEBS_LOAD_LATENCY_ATOM 0x05d0 /* MEM_UOPS_RETIRED.LOAD_LATENCY */

/**
 * kvm_pebs_is_adaptive() - whether PERF_CAPABILITIES announce adaptive PEBS
 * @perf_cap: a value of IA32_PERF_CAPABILITIES
 *
 * Adaptive PEBS is PEBS record format 4 or later with the baseline bit.
 *
 * Return: true if @perf_cap announces adaptive PEBS.
 */
static inline bool kvm_pebs_is_adaptive(u64 perf_cap)
{
	return (perf_cap & PERF_CAP_PEBS_BASELINE) &&
	       FIELD_GET(PERF_CAP_PEBS_FORMAT, perf_cap) >= 4;
}

/**
 * kvm_pebs_guest_perf_cap() - the PEBS part of PERF_CAPABILITIES for guests
 * @host_perf_cap: the host's IA32_PERF_CAPABILITIES
 * @allow_adaptive: kvm_intel.adaptive_pebs
 *
 * Return: the host's PEBS capability bits, without the baseline bit unless
 * adaptive PEBS is allowed and the host has it.
 */
static inline u64 kvm_pebs_guest_perf_cap(u64 host_perf_cap,
					  bool allow_adaptive)
{
	u64 cap = host_perf_cap & PERF_CAP_PEBS_MASK;

	if (!allow_adaptive || !kvm_pebs_is_adaptive(cap))
		cap &= ~PERF_CAP_PEBS_BASELINE;
	return cap;
}

/**
 * kvm_pebs_perf_cap_valid() - whether userspace may give a vCPU these PEBS bits
 * @perf_cap: the PERF_CAPABILITIES value userspace writes
 * @supported: what KVM supports (kvm_caps.supported_perf_cap)
 *
 * The PEBS format and the other PEBS bits must be the host's, since the
 * hardware writes the records.  The baseline bit may be left out, so that
 * one VM configuration runs on hosts with and without adaptive PEBS
 * offered, but it may not be added where KVM does not offer it.
 *
 * Return: true if the PEBS part of @perf_cap is acceptable.
 */
static inline bool kvm_pebs_perf_cap_valid(u64 perf_cap, u64 supported)
{
	u64 must_match = PERF_CAP_PEBS_MASK & ~PERF_CAP_PEBS_BASELINE;

	if ((perf_cap ^ supported) & must_match)
		return false;
	return !(perf_cap & ~supported & PERF_CAP_PEBS_BASELINE);
}

/**
 * kvm_pebs_data_cfg_rsvd() - reserved bits of the guest's MSR_PEBS_DATA_CFG
 * @perf_cap: the vCPU's PERF_CAPABILITIES
 *
 * The LBR group and the LBR entry count (bits 31:24) are reserved: the
 * LBR MSRs may hold the host's branch records at VM-entry.  Guests are
 * not offered virtual LBRs together with adaptive PEBS, so a well-behaved
 * guest never asks for them.  A guest write of a reserved bit takes #GP.
 *
 * Return: the reserved bits; all bits if @perf_cap has no adaptive PEBS.
 */
static inline u64 kvm_pebs_data_cfg_rsvd(u64 perf_cap)
{
	return kvm_pebs_is_adaptive(perf_cap) ? ~KVM_PEBS_DATA_CFG_ALLOWED :
						~0ull;
}

/**
 * kvm_pebs_ld_lat_rsvd() - reserved bits of MSR_PEBS_LD_LAT_THRESHOLD
 * @perf_cap: the vCPU's PERF_CAPABILITIES
 *
 * The threshold is offered together with adaptive PEBS, so that a
 * host without the module parameter behaves as before.
 *
 * Return: the reserved bits; all bits if @perf_cap has no adaptive PEBS.
 */
static inline u64 kvm_pebs_ld_lat_rsvd(u64 perf_cap)
{
	return kvm_pebs_is_adaptive(perf_cap) ? ~KVM_PEBS_LD_LAT_MASK : ~0ull;
}

/**
 * kvm_pebs_event_config1() - perf's config1 for a guest PEBS counter
 * @eventsel: the guest's event select MSR value
 * @ld_lat: the guest's MSR_PEBS_LD_LAT_THRESHOLD
 *
 * Perf programs the load-latency threshold from config1 of load-latency
 * events.  Other events must get 0: config1 of OFFCORE_RESPONSE selects
 * its response MSR, which the guest does not own.
 *
 * Return: @ld_lat for a load-latency event, 0 for any other.
 */
static inline u64 kvm_pebs_event_config1(u64 eventsel, u64 ld_lat)
{
	u64 event = eventsel & KVM_PEBS_EVENT_MASK;

	if (event != KVM_PEBS_LOAD_LATENCY &&
	    event != KVM_PEBS_LOAD_LATENCY_ATOM)
		return 0;
	return ld_lat & KVM_PEBS_LD_LAT_MASK;
}

#endif /* ARCH_X86_KVM_PMU_PEBS_H */
