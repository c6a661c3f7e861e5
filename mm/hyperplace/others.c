// SPDX-License-Identifier: GPL-2.0-only
/*
 * HyperPlace and the kernel's other tiering mechanisms.  NUMA balancing's
 * memory tiering mode (numa_balancing=2) promotes pages on hinting faults
 * and leaves demotion to reclaim; DAMON's migrate_hot and migrate_cold
 * schemes move pages from their own monitoring.  Two placers that judge
 * the same pages differently move them back and forth, each paying for
 * the other's moves, so HyperPlace hands over: while another one runs,
 * it goes on sampling and classifying but moves nothing, and a balloon
 * gets no room made.  DAMON's schemes cannot be read from outside DAMON,
 * so any running DAMON context counts, even one that only monitors.
 */
#define pr_fmt(fmt) "hyperplace: " fmt

#include <linux/damon.h>
#include <linux/sched/sysctl.h>

#include "internal.h"

/* What HyperPlace last handed over to (NULL: nothing), for sysfs. */
static const char *hp_yielded;

/*
 * The mechanism that moves pages between tiers besides HyperPlace, or
 * NULL.
 */
static const char *hp_other_placer(void)
{
#ifdef CONFIG_NUMA_BALANCING
	if (READ_ONCE(sysctl_numa_balancing_mode) &
	    NUMA_BALANCING_MEMORY_TIERING)
		return "numa_balancing";
#endif
#ifdef CONFIG_DAMON
	if (damon_nr_running_ctxs())
		return "damon";
#endif
	return NULL;
}

/**
 * hp_yield_check() - whether another mechanism places pages now
 *
 * Called by khyperplaced before it moves pages.  Logs each hand-over and
 * each return.  May sleep (DAMON's lock).
 *
 * Return: true if HyperPlace must not move pages now.
 */
bool hp_yield_check(void)
{
	const char *other = hp_other_placer();
	const char *was = READ_ONCE(hp_yielded);

	if (other != was) {
		if (other)
			pr_info("%s places pages: not moving any while it does\n",
				other);
		else
			pr_info("%s stopped: moving pages again\n", was);
		WRITE_ONCE(hp_yielded, other);
	}
	return !!other;
}

/**
 * hp_yielded_to() - what HyperPlace last handed over to
 *
 * Return: "numa_balancing", "damon", or NULL.
 */
const char *hp_yielded_to(void)
{
	return READ_ONCE(hp_yielded);
}
