/* SPDX-License-Identifier: GPL-2.0 */
/* The harness's test cases and the helpers they share. */
#ifndef HPT_TESTS_H
#define HPT_TESTS_H

#include "model.h"
#include "tap.h"

/* Record @n samples of @weight spread evenly over [@start, @end). */
void hpt_sweep(struct hpt_space *t, unsigned long start, unsigned long end,
	       unsigned long n, u32 weight);
/* xorshift64*: the harness's only source of randomness. */
u64 hpt_rand(u64 *state);
/* Seed of the property test: $HPT_SEED or a fixed default. */
u64 hpt_seed(void);

void test_params_defaults(void);
void test_params_validate(void);
void test_params_create_set(void);
void test_map_basic(void);
void test_unmap_churn(void);
void test_record_basic(void);
void test_record_cache_alias(void);
void test_decay_arith(void);
void test_split_converges(void);
void test_split_conserves(void);
void test_merge_roundtrip(void);
void test_merge_min_age(void);
void test_merge_noise(void);
void test_refine_quarters(void);
void test_cap(void);
void test_cap_merge_hot(void);
void test_cap_unreachable_cost(void);
void test_cap_merge_unsettles(void);
void test_set_params_reshape(void);
void test_enomem(void);
void test_rank_capacity_fit(void);
void test_rank_hysteresis(void);
void test_rank_zero_density(void);
void test_rank_cross_mm(void);
void test_rank_truncated(void);
void test_rank_place_dense_end(void);
void test_rank_refine_floor(void);
void test_rank_overflow(void);
void test_stable_no_churn(void);
void test_refine_scatter(void);
void test_property(void);

#endif
