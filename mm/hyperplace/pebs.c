// SPDX-License-Identifier: GPL-2.0-only
/*
 * The PEBS source's operations.  Its sampler lives with the PMU driver
 * (arch/x86/events/intel/hyperplace_pebs.c) and writes into the channel
 * from the context switch and the PMI; HyperPlace only starts, restarts
 * and stops it.
 */
#include <linux/init.h>
#include <linux/string.h>

#include "internal.h"

static int hp_pebs_source_start(const struct hp_config *cfg)
{
	return hp_pebs_start(&cfg->pebs);
}

static bool hp_pebs_source_changed(const struct hp_config *new,
				   const struct hp_config *old)
{
	return memcmp(&new->pebs, &old->pebs, sizeof(new->pebs));
}

static const struct hp_source_ops hp_pebs_source = {
	.id = HP_SRC_PEBS,
	.name = "pebs",
	.desc = "PEBS",
	.supported = hp_pebs_supported,
	.start = hp_pebs_source_start,
	.stop = hp_pebs_stop,
	.changed = hp_pebs_source_changed,
};

static int __init hp_pebs_source_init(void)
{
	hp_source_register(&hp_pebs_source);
	return 0;
}
subsys_initcall(hp_pebs_source_init);
