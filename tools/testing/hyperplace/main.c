// SPDX-License-Identifier: GPL-2.0
/*
 * Userspace harness for the HyperPlace range classifier: compiles
 * mm/hyperplace/range.c unchanged against shim/range_internal.h and the
 * kernel's tools/lib/rbtree.c, runs every test, prints TAP and exits
 * non-zero if any test failed.
 */
#include "tests.h"

#define T(name)	{ #name, test_##name }

static const struct hpt_test tests[] = {
	T(params_defaults),
	T(params_validate),
	T(params_create_set),
	T(map_basic),
	T(unmap_churn),
	T(record_basic),
	T(record_cache_alias),
	T(decay_arith),
	T(split_converges),
	T(split_conserves),
	T(merge_roundtrip),
	T(merge_min_age),
	T(merge_noise),
	T(refine_quarters),
	T(cap),
	T(cap_merge_hot),
	T(cap_unreachable_cost),
	T(cap_merge_unsettles),
	T(set_params_reshape),
	T(enomem),
	T(rank_capacity_fit),
	T(rank_hysteresis),
	T(rank_zero_density),
	T(rank_cross_mm),
	T(rank_truncated),
	T(rank_place_dense_end),
	T(rank_refine_floor),
	T(rank_overflow),
	T(stable_no_churn),
	T(refine_scatter),
	T(property),
};

int main(void)
{
	return hpt_run(tests, ARRAY_SIZE(tests)) ? 1 : 0;
}
