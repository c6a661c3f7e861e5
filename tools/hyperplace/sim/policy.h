/* SPDX-License-Identifier: GPL-2.0 */
#ifndef HPSIM_POLICY_H
#define HPSIM_POLICY_H

#include "sim.h"

extern const struct policy pol_static, pol_demeter, pol_memtis, pol_damon, pol_tpp,
	pol_hyperplace;

/* no-op hooks for policies that do not care */
void pol_no_samples(struct sim *s, const struct sample *v, size_t n);
void pol_no_epoch(struct sim *s);
void pol_no_ctl(struct sim *s, const struct ctl *c);
void pol_no_faults(struct sim *s, const uint32_t *pages, const uint64_t *t, size_t n);
void pol_no_fini(struct sim *s);

#endif
