// SPDX-License-Identifier: GPL-2.0-only
/*
 * KUnit tests of the rules in pmu_pebs.h: which PEBS capabilities a guest
 * sees, which MSR_PEBS_DATA_CFG and MSR_PEBS_LD_LAT_THRESHOLD values it
 * may write, and which of its events carry the load-latency threshold.
 * They need no PMU, so they also run where KVM cannot (a TCG guest).
 */
#include <kunit/test.h>
#include <linux/module.h>

#include "pmu_pebs.h"

/* Ice Lake server: LBR format 5, PEBS format 4, full-width writes (13). */
#define ICX_PERF_CAP	(0x5ull | PERF_CAP_PEBS_TRAP | PERF_CAP_ARCH_REG | \
			 (4ull << 8) | BIT_ULL(13) | PERF_CAP_PEBS_BASELINE)
/* Skylake: PEBS format 3, no baseline. */
#define SKX_PERF_CAP	(0x5ull | PERF_CAP_PEBS_TRAP | PERF_CAP_ARCH_REG | \
			 (3ull << 8) | BIT_ULL(13))
/* The event select of a counter counting in user and kernel mode. */
#define EVENTSEL(ev)	((u64)(ev) | ARCH_PERFMON_EVENTSEL_USR | \
			 ARCH_PERFMON_EVENTSEL_OS | ARCH_PERFMON_EVENTSEL_ENABLE)

static void pebs_adaptive_needs_format4_and_baseline(struct kunit *test)
{
	KUNIT_EXPECT_TRUE(test, kvm_pebs_is_adaptive(ICX_PERF_CAP));
	KUNIT_EXPECT_TRUE(test, kvm_pebs_is_adaptive((5ull << 8) |
						     PERF_CAP_PEBS_BASELINE));
	KUNIT_EXPECT_FALSE(test, kvm_pebs_is_adaptive(SKX_PERF_CAP));
	KUNIT_EXPECT_FALSE(test, kvm_pebs_is_adaptive((3ull << 8) |
						      PERF_CAP_PEBS_BASELINE));
	KUNIT_EXPECT_FALSE(test, kvm_pebs_is_adaptive(ICX_PERF_CAP &
						      ~PERF_CAP_PEBS_BASELINE));
	KUNIT_EXPECT_FALSE(test, kvm_pebs_is_adaptive(0));
}

static void pebs_guest_cap_follows_parameter(struct kunit *test)
{
	u64 off = kvm_pebs_guest_perf_cap(ICX_PERF_CAP, false);
	u64 on = kvm_pebs_guest_perf_cap(ICX_PERF_CAP, true);

	/* Off: what upstream offers since CVE-2024-26992, format kept. */
	KUNIT_EXPECT_EQ(test, off & PERF_CAP_PEBS_BASELINE, 0ull);
	KUNIT_EXPECT_EQ(test, off & PERF_CAP_PEBS_FORMAT, 4ull << 8);
	KUNIT_EXPECT_FALSE(test, kvm_pebs_is_adaptive(off));

	KUNIT_EXPECT_EQ(test, on, ICX_PERF_CAP & PERF_CAP_PEBS_MASK);
	KUNIT_EXPECT_TRUE(test, kvm_pebs_is_adaptive(on));

	/* Only PEBS bits: LBR format and full-width writes are not ours. */
	KUNIT_EXPECT_EQ(test, on & ~PERF_CAP_PEBS_MASK, 0ull);

	/* A host without adaptive PEBS cannot give it, parameter or not. */
	on = kvm_pebs_guest_perf_cap(SKX_PERF_CAP, true);
	KUNIT_EXPECT_FALSE(test, kvm_pebs_is_adaptive(on));
	on = kvm_pebs_guest_perf_cap((3ull << 8) | PERF_CAP_PEBS_BASELINE, true);
	KUNIT_EXPECT_FALSE(test, kvm_pebs_is_adaptive(on));
}

static void pebs_userspace_may_drop_baseline(struct kunit *test)
{
	u64 on = kvm_pebs_guest_perf_cap(ICX_PERF_CAP, true);
	u64 off = kvm_pebs_guest_perf_cap(ICX_PERF_CAP, false);

	KUNIT_EXPECT_TRUE(test, kvm_pebs_perf_cap_valid(on, on));
	/* The same VM on a host with and one without adaptive_pebs. */
	KUNIT_EXPECT_TRUE(test, kvm_pebs_perf_cap_valid(off, on));
	KUNIT_EXPECT_TRUE(test, kvm_pebs_perf_cap_valid(off, off));
	/* Baseline where KVM does not offer it. */
	KUNIT_EXPECT_FALSE(test, kvm_pebs_perf_cap_valid(on, off));
	/* Another record format than the hardware writes. */
	KUNIT_EXPECT_FALSE(test, kvm_pebs_perf_cap_valid((on & ~PERF_CAP_PEBS_FORMAT) |
							 (5ull << 8), on));
	KUNIT_EXPECT_FALSE(test, kvm_pebs_perf_cap_valid(on & ~PERF_CAP_PEBS_TRAP, on));
}

static bool data_cfg_ok(u64 perf_cap, u64 val)
{
	return !(val & kvm_pebs_data_cfg_rsvd(perf_cap));
}

static void pebs_data_cfg_allows_meminfo_and_gp(struct kunit *test)
{
	KUNIT_EXPECT_TRUE(test, data_cfg_ok(ICX_PERF_CAP, 0));
	KUNIT_EXPECT_TRUE(test, data_cfg_ok(ICX_PERF_CAP, PEBS_DATACFG_MEMINFO));
	KUNIT_EXPECT_TRUE(test, data_cfg_ok(ICX_PERF_CAP, PEBS_DATACFG_GP));
	KUNIT_EXPECT_TRUE(test, data_cfg_ok(ICX_PERF_CAP, PEBS_DATACFG_XMMS));
	KUNIT_EXPECT_TRUE(test, data_cfg_ok(ICX_PERF_CAP, PEBS_DATACFG_MEMINFO |
					    PEBS_DATACFG_GP | PEBS_DATACFG_XMMS));
}

static void pebs_data_cfg_refuses_lbr(struct kunit *test)
{
	int bit;

	KUNIT_EXPECT_FALSE(test, data_cfg_ok(ICX_PERF_CAP, PEBS_DATACFG_LBRS));
	KUNIT_EXPECT_FALSE(test, data_cfg_ok(ICX_PERF_CAP, PEBS_DATACFG_MEMINFO |
					     PEBS_DATACFG_LBRS));
	/* Every bit of the LBR entry count, alone or with the LBR group. */
	for (bit = PEBS_DATACFG_LBR_SHIFT; bit < PEBS_DATACFG_LBR_SHIFT + 8; bit++) {
		KUNIT_EXPECT_FALSE(test, data_cfg_ok(ICX_PERF_CAP, BIT_ULL(bit)));
		KUNIT_EXPECT_FALSE(test, data_cfg_ok(ICX_PERF_CAP, BIT_ULL(bit) |
						     PEBS_DATACFG_LBRS));
	}
	/* What the pre-CVE mask let through: all groups and 32 LBRs. */
	KUNIT_EXPECT_FALSE(test, data_cfg_ok(ICX_PERF_CAP, 0x1f00000full));
	/* Bits no group uses. */
	for (bit = 4; bit < 64; bit++)
		if (bit < PEBS_DATACFG_LBR_SHIFT || bit >= PEBS_DATACFG_LBR_SHIFT + 8)
			KUNIT_EXPECT_FALSE(test, data_cfg_ok(ICX_PERF_CAP, BIT_ULL(bit)));
}

static void pebs_data_cfg_without_adaptive(struct kunit *test)
{
	u64 off = kvm_pebs_guest_perf_cap(ICX_PERF_CAP, false);

	KUNIT_EXPECT_EQ(test, kvm_pebs_data_cfg_rsvd(off), ~0ull);
	KUNIT_EXPECT_FALSE(test, data_cfg_ok(off, PEBS_DATACFG_MEMINFO));
	KUNIT_EXPECT_EQ(test, kvm_pebs_data_cfg_rsvd(SKX_PERF_CAP), ~0ull);
}

static void pebs_ld_lat_threshold(struct kunit *test)
{
	u64 rsvd = kvm_pebs_ld_lat_rsvd(ICX_PERF_CAP);

	KUNIT_EXPECT_EQ(test, 3ull & rsvd, 0ull);
	KUNIT_EXPECT_EQ(test, 0xffffull & rsvd, 0ull);
	KUNIT_EXPECT_NE(test, 0x10000ull & rsvd, 0ull);
	KUNIT_EXPECT_NE(test, BIT_ULL(63) & rsvd, 0ull);
	KUNIT_EXPECT_EQ(test, kvm_pebs_ld_lat_rsvd(SKX_PERF_CAP), ~0ull);
	KUNIT_EXPECT_EQ(test,
			kvm_pebs_ld_lat_rsvd(kvm_pebs_guest_perf_cap(ICX_PERF_CAP, false)),
			~0ull);
}

static void pebs_config1_only_for_load_latency(struct kunit *test)
{
	KUNIT_EXPECT_EQ(test, kvm_pebs_event_config1(EVENTSEL(0x01cd), 30), 30ull);
	KUNIT_EXPECT_EQ(test, kvm_pebs_event_config1(EVENTSEL(0x05d0), 30), 30ull);
	/* Counter mask and invert do not change which event it is. */
	KUNIT_EXPECT_EQ(test,
			kvm_pebs_event_config1(EVENTSEL(0x01cd) |
					       ARCH_PERFMON_EVENTSEL_INV |
					       (1ull << 24), 100), 100ull);
	/* OFFCORE_RESPONSE reads config1 as its response mask: never. */
	KUNIT_EXPECT_EQ(test, kvm_pebs_event_config1(EVENTSEL(0x01b7), 30), 0ull);
	KUNIT_EXPECT_EQ(test, kvm_pebs_event_config1(EVENTSEL(0x01bb), 30), 0ull);
	/* Same event code, other unit mask (stores, 0x02cd): no threshold. */
	KUNIT_EXPECT_EQ(test, kvm_pebs_event_config1(EVENTSEL(0x02cd), 30), 0ull);
	KUNIT_EXPECT_EQ(test, kvm_pebs_event_config1(EVENTSEL(0x00c0), 30), 0ull);
	/* Bits above the threshold field never reach perf. */
	KUNIT_EXPECT_EQ(test, kvm_pebs_event_config1(EVENTSEL(0x01cd), 0x1ffff),
			0xffffull);
}

static struct kunit_case kvm_pebs_cases[] = {
	KUNIT_CASE(pebs_adaptive_needs_format4_and_baseline),
	KUNIT_CASE(pebs_guest_cap_follows_parameter),
	KUNIT_CASE(pebs_userspace_may_drop_baseline),
	KUNIT_CASE(pebs_data_cfg_allows_meminfo_and_gp),
	KUNIT_CASE(pebs_data_cfg_refuses_lbr),
	KUNIT_CASE(pebs_data_cfg_without_adaptive),
	KUNIT_CASE(pebs_ld_lat_threshold),
	KUNIT_CASE(pebs_config1_only_for_load_latency),
	{}
};

static struct kunit_suite kvm_pebs_suite = {
	.name = "kvm_x86_pebs",
	.test_cases = kvm_pebs_cases,
};

kunit_test_suite(kvm_pebs_suite);

MODULE_DESCRIPTION("KUnit tests for KVM's guest PEBS MSR rules");
MODULE_LICENSE("GPL");
