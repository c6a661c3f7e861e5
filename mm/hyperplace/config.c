// SPDX-License-Identifier: GPL-2.0-only
/*
 * HyperPlace knobs and khyperplaced's doorbell.
 *
 * Every part of HyperPlace reads the knobs and rings the doorbell
 * (hp_kick()) when it has work for khyperplaced; only core.c changes the
 * knobs and answers the doorbell.  Keeping both here, below every other
 * part, lets the samples' way stay one-directional: source -> channel ->
 * ranges -> decision -> migration, with nothing calling back up.
 */
#include <linux/freezer.h>
#include <linux/kthread.h>
#include <linux/wait.h>

#include "internal.h"

/* Serializes knob changes and starting or stopping the sources. */
DEFINE_MUTEX(hp_config_lock);
struct hp_config hp_config = {
	.enabled = true,
	.mode = HP_MODE_AUTO,
	.pebs = {
		.load_period = HP_PEBS_LOAD_PERIOD_DEF,
		.store_period = HP_PEBS_STORE_PERIOD_DEF,
		.ldlat = HP_PEBS_LDLAT_DEF,
	},
	.abit_interval_ms = HP_ABIT_INTERVAL_DEF,
	.abit_pages = HP_ABIT_PAGES_DEF,
	.epoch_ms = HP_EPOCH_DEF,
	.scope = HP_SCOPE_ALL,
	.migrate = true,
	.rate_limit_mib = HP_RATE_LIMIT_DEF,
	.headroom_pct = HP_HEADROOM_DEF,
};

const char *const hp_mode_names[HP_NR_MODES] = {
	[HP_MODE_AUTO] = "auto",
	[HP_MODE_PEBS] = "pebs",
	[HP_MODE_ABIT] = "abit",
};

static DECLARE_WAIT_QUEUE_HEAD(hp_wait);
static int hp_kicked;	/* an int: xchg() of one byte is not portable */

/*
 * No process is placed: khyperplaced parked the sources and sleeps until
 * kicked.  A process that opts in kicks it (mms.c).
 */
bool hp_idle __read_mostly;

/**
 * hp_config_valid() - check knob values before anything changes
 * @c: the complete new configuration
 *
 * Whether the source asked for can run is known only when it starts
 * (hp_sources_apply()).
 *
 * Return: 0, -EINVAL for an unknown choice or -ERANGE for a value out of
 * its bounds.
 */
int hp_config_valid(const struct hp_config *c)
{
	if (c->mode >= HP_NR_MODES || c->scope >= HP_NR_SCOPES)
		return -EINVAL;
	if (c->pebs.load_period < HP_PEBS_PERIOD_MIN ||
	    c->pebs.load_period > HP_PEBS_PERIOD_MAX ||
	    c->pebs.store_period < HP_PEBS_PERIOD_MIN ||
	    c->pebs.store_period > HP_PEBS_PERIOD_MAX ||
	    c->pebs.ldlat < HP_PEBS_LDLAT_MIN ||
	    c->pebs.ldlat > HP_PEBS_LDLAT_MAX ||
	    c->abit_interval_ms < HP_ABIT_INTERVAL_MIN ||
	    c->abit_interval_ms > HP_ABIT_INTERVAL_MAX ||
	    c->abit_pages < HP_ABIT_PAGES_MIN ||
	    c->abit_pages > HP_ABIT_PAGES_MAX ||
	    c->epoch_ms < HP_EPOCH_MIN || c->epoch_ms > HP_EPOCH_MAX ||
	    c->rate_limit_mib < HP_RATE_LIMIT_MIN ||
	    c->rate_limit_mib > HP_RATE_LIMIT_MAX ||
	    c->headroom_pct > HP_HEADROOM_MAX)
		return -ERANGE;
	return hp_range_params_validate(&c->range);
}

/**
 * hp_kick() - make khyperplaced look at its work now
 */
void hp_kick(void)
{
	/* Pairs with the barrier of the xchg() in hp_wait_kick(). */
	smp_mb();
	WRITE_ONCE(hp_kicked, 1);
	wake_up_interruptible(&hp_wait);
}

/**
 * hp_wait_kick() - khyperplaced's wait for a kick, a stop or a timeout
 * @timeout: jiffies to wait at most, or MAX_SCHEDULE_TIMEOUT
 *
 * The flag is cleared before the caller looks at its work: a kick after
 * this is seen by the next wait, and the work it announced by the next
 * pass (hp_kick() orders it before the flag).
 *
 * Return: whether there was a kick.
 */
bool hp_wait_kick(long timeout)
{
	wait_event_freezable_timeout(hp_wait,
				     kthread_should_stop() ||
				     READ_ONCE(hp_kicked), timeout);
	return xchg(&hp_kicked, 0);
}
