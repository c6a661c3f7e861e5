// SPDX-License-Identifier: GPL-2.0
/* static: first-touch placement and nothing else; the floor every policy must beat. */
#include "policy.h"

void pol_no_samples(struct sim *s, const struct sample *v, size_t n)
{
	(void)s; (void)v; (void)n;
}

void pol_no_epoch(struct sim *s)
{
	(void)s;
}

void pol_no_ctl(struct sim *s, const struct ctl *c)
{
	(void)s; (void)c;
}

void pol_no_faults(struct sim *s, const uint32_t *pages, const uint64_t *t, size_t n)
{
	(void)s; (void)pages; (void)t; (void)n;
}

void pol_no_fini(struct sim *s)
{
	(void)s;
}

static void static_init(struct sim *s)
{
	(void)s;
}

const struct policy pol_static = {
	.name = "static",
	.init = static_init,
	.fini = pol_no_fini,
	.samples = pol_no_samples,
	.epoch = pol_no_epoch,
	.ctl = pol_no_ctl,
	.faults = pol_no_faults,
};
