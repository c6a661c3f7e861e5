// SPDX-License-Identifier: GPL-2.0-only
/*
 * HyperPlace sample sources: the table they plug into, the choice among
 * them that the source knob makes, and their periods.
 *
 * A source registers a &struct hp_source_ops (as DAMON's operations
 * do); khyperplaced reaches it only through this table.  The source knob
 * names the sources that may run, in the order of &enum hp_source; the
 * first that starts runs, the others are stopped.  A source that no mode
 * names (debugfs injection) is passive: it writes when it is used.
 */
#include <linux/bitops.h>
#include <linux/bug.h>
#include <linux/cache.h>
#include <linux/init.h>
#include <linux/jiffies.h>
#include <linux/lockdep.h>

#include "internal.h"

#include <trace/events/hyperplace.h>

/* The sources each mode allows, best first (in enum hp_source order). */
static const unsigned long hp_mode_sources[HP_NR_MODES] = {
	[HP_MODE_AUTO] = BIT(HP_SRC_PEBS) | BIT(HP_SRC_ABIT),
	[HP_MODE_PEBS] = BIT(HP_SRC_PEBS),
	[HP_MODE_ABIT] = BIT(HP_SRC_ABIT),
};

static const struct hp_source_ops *hp_sources[HP_NR_SOURCES] __ro_after_init;
/*
 * Which sources run, and which the knobs chose but khyperplaced parked
 * because no process is placed (hp_sources_park()), in one word so that
 * a reader without the lock sees both at once: bit src if it runs, bit
 * HP_NR_SOURCES + src if parked.  Written under hp_config_lock.
 */
static unsigned long hp_sources_state;

#define HP_RUNNING(state)	((state) & (BIT(HP_NR_SOURCES) - 1))
#define HP_PARKED(state)	((state) >> HP_NR_SOURCES)
/* When each sampler last sampled, and whether ever; khyperplaced only. */
static unsigned long hp_sampled_at[HP_NR_SOURCES];
static unsigned long hp_sampled_once;

/**
 * hp_source_register() - plug a source into HyperPlace
 * @ops: its operations, which must outlive HyperPlace
 *
 * Called from an initcall earlier than late, before HyperPlace starts.
 */
void __init hp_source_register(const struct hp_source_ops *ops)
{
	if (WARN_ON(ops->id >= HP_NR_SOURCES || hp_sources[ops->id] ||
		    (ops->sample && !ops->period_ms)))
		return;
	hp_sources[ops->id] = ops;
}

/**
 * hp_source_name() - the name of a source, for reports
 * @src: the source
 *
 * Return: its name, or "none" if no such source is registered.
 */
const char *hp_source_name(enum hp_source src)
{
	if (src >= HP_NR_SOURCES || !hp_sources[src])
		return "none";
	return hp_sources[src]->name;
}

/**
 * hp_source_desc() - what a source is called in the kernel log
 * @src: a registered source
 *
 * Return: the description.
 */
const char *hp_source_desc(enum hp_source src)
{
	return hp_sources[src]->desc;
}

/*
 * Start source @src with @cfg.  Return: 0 or the error of starting,
 * after which it does not run.
 */
static int hp_source_start(unsigned int src, const struct hp_config *cfg)
{
	const struct hp_source_ops *ops = hp_sources[src];

	if (!ops)
		return -EOPNOTSUPP;
	return ops->start ? ops->start(cfg) : 0;
}

/*
 * Publish which sources run, @on, and which are parked, @parked, at once
 * (no reader sees none between two), and trace each change in source
 * order; @err[src] says why one that stopped does not run (0 if on
 * request).
 */
static void hp_sources_set(unsigned long on, unsigned long parked,
			   const int *err)
{
	unsigned long changed = HP_RUNNING(hp_sources_state) ^ on;
	unsigned int src;

	changed |= HP_PARKED(hp_sources_state) ^ parked;

	for_each_set_bit(src, &changed, HP_NR_SOURCES)
		trace_hyperplace_source_state(src, on & BIT(src),
					      parked & BIT(src), err[src]);
	WRITE_ONCE(hp_sources_state, on | parked << HP_NR_SOURCES);
}

/*
 * Parked because nothing is placed: park the first source of @allowed
 * that can run here instead, and start nothing.  A start would only be
 * undone, and could fail for want of counters another perf user took
 * meanwhile; the first process placed starts the choice
 * (hp_sources_unpark()).
 */
static void hp_sources_choose_parked(unsigned long allowed)
{
	int err[HP_NR_SOURCES] = { 0 };
	unsigned int src;

	for_each_set_bit(src, &allowed, HP_NR_SOURCES) {
		const struct hp_source_ops *ops = hp_sources[src];

		if (ops && (!ops->supported || ops->supported()))
			break;
	}
	hp_sources_set(0, src < HP_NR_SOURCES ? BIT(src) : 0, err);
}

/**
 * hp_sources_apply() - start the source the knobs choose, stop the others
 * @new: the knobs to apply, validated by hp_config_valid()
 * @old: the knobs the sources run with now
 *
 * Caller holds hp_config_lock.  A running source is restarted only if
 * its ->changed says knobs it reads changed.  A parked one is started,
 * unless no process is placed still: then only the choice changes.
 * When the mode allows several sources, one that fails to start leaves
 * the next one running; when it names one, its failure is returned.
 *
 * Return: 0; -EOPNOTSUPP if the mode names one source and it cannot run
 * on this machine (even while disabled); or the error of starting the
 * only source the mode allows, after which the sources run as before
 * (if restarting that one with @old failed too, no source runs until
 * the next successful write; if it was parked, it stays parked).
 */
int hp_sources_apply(const struct hp_config *new, const struct hp_config *old)
{
	unsigned long named = hp_mode_sources[new->mode];
	unsigned long allowed = new->enabled ? named : 0;
	unsigned long on = HP_RUNNING(hp_sources_state), others;
	unsigned long parked = HP_PARKED(hp_sources_state);
	int err[HP_NR_SOURCES] = { 0 };
	unsigned int src;

	lockdep_assert_held(&hp_config_lock);
	if (hweight_long(named) == 1) {
		const struct hp_source_ops *ops = hp_sources[__ffs(named)];

		if (!ops || (ops->supported && !ops->supported()))
			return -EOPNOTSUPP;
	}
	if (READ_ONCE(hp_idle) && !on && parked && allowed) {
		hp_sources_choose_parked(allowed);
		return 0;
	}
	for_each_set_bit(src, &allowed, HP_NR_SOURCES) {
		const struct hp_source_ops *ops = hp_sources[src];

		if ((on & BIT(src)) && !(ops->changed && ops->changed(new, old)))
			break;
		err[src] = hp_source_start(src, new);
		if (!err[src]) {
			on |= BIT(src);
			break;
		}
		/* Not running now: the next source may. */
		on &= ~BIT(src);
		if (allowed == BIT(src)) {
			if ((HP_RUNNING(hp_sources_state) & BIT(src)) &&
			    !hp_source_start(src, old))
				on |= BIT(src);
			hp_sources_set(on, parked, err);
			return err[src];
		}
	}
	/* @src runs now (HP_NR_SOURCES if none does): stop the others. */
	others = on & ~BIT(src);
	for_each_set_bit(src, &others, HP_NR_SOURCES) {
		if (hp_sources[src]->stop)
			hp_sources[src]->stop();
		on &= ~BIT(src);
	}
	hp_sources_set(on, 0, err);
	return 0;
}

/**
 * hp_sources_park() - stop the running sources while no process is placed
 *
 * Caller holds hp_config_lock.  Nothing is there to sample, and a source
 * costs even then: the PEBS counters make every context switch drain
 * them, the Accessed-bit sampler wakes up to look for processes.  The
 * knobs still choose the parked sources: hp_sources_unpark() starts them
 * again, as does any knob write.
 */
void hp_sources_park(void)
{
	unsigned long on = HP_RUNNING(hp_sources_state);
	int err[HP_NR_SOURCES] = { 0 };
	unsigned int src;

	lockdep_assert_held(&hp_config_lock);
	for_each_set_bit(src, &on, HP_NR_SOURCES)
		if (hp_sources[src]->stop)
			hp_sources[src]->stop();
	hp_sources_set(0, HP_PARKED(hp_sources_state) | on, err);
}

/**
 * hp_sources_unpark() - start the parked sources again
 * @cfg: the knobs, hp_config
 *
 * Caller holds hp_config_lock.  As a knob write would, with the same
 * fallback: a parked PEBS source that cannot get its counters back
 * leaves the Accessed-bit sampler running if the mode allows both.
 *
 * Return: 0, or the error of starting the only source the mode allows
 * (it then stays parked).
 */
int hp_sources_unpark(const struct hp_config *cfg)
{
	lockdep_assert_held(&hp_config_lock);
	if (!HP_PARKED(hp_sources_state))
		return 0;
	return hp_sources_apply(cfg, cfg);
}

/**
 * hp_sources_parking() - whether hp_sources_park() has work to do
 * @idle: whether no process is placed
 *
 * Return: true if @idle and a source runs, or if !@idle and one is
 * parked.
 */
bool hp_sources_parking(bool idle)
{
	unsigned long state = READ_ONCE(hp_sources_state);

	return idle ? HP_RUNNING(state) : HP_PARKED(state);
}

/**
 * hp_active_source() - the source that feeds HyperPlace
 * @running: set to whether any source runs, or is parked while no
 *	process is placed
 *
 * A parked source counts while nothing is placed: it is the one that
 * runs as soon as a process is.  One that failed to start again then
 * does not.
 *
 * Return: the source (meaningful only if @running).
 */
enum hp_source hp_active_source(bool *running)
{
	unsigned long state = READ_ONCE(hp_sources_state);
	unsigned long on = HP_RUNNING(state);

	if (READ_ONCE(hp_idle))
		on |= HP_PARKED(state);

	*running = on;
	return on ? __ffs(on) : HP_NR_SOURCES;
}

/* When the running sampler @src is next due. */
static unsigned long hp_sample_due(unsigned int src,
				   const struct hp_config *cfg,
				   unsigned int backoff)
{
	if (!(hp_sampled_once & BIT(src)))
		return jiffies;
	return hp_due(hp_sampled_at[src], hp_sources[src]->period_ms(cfg),
		      backoff);
}

/**
 * hp_sources_sample() - let every running sampler that is due sample
 * @cfg: the knobs khyperplaced works with
 * @backoff: how many times longer than the knobs say periods are now
 *
 * Called by khyperplaced only.  Each sampler's samples are filed into
 * the ranges before the next one runs.
 */
void hp_sources_sample(const struct hp_config *cfg, unsigned int backoff)
{
	unsigned long on = HP_RUNNING(READ_ONCE(hp_sources_state));
	unsigned int src;

	for_each_set_bit(src, &on, HP_NR_SOURCES) {
		if (!hp_sources[src]->sample ||
		    time_before(jiffies, hp_sample_due(src, cfg, backoff)))
			continue;
		hp_sources[src]->sample(cfg);
		hp_drain();
		hp_sampled_at[src] = jiffies;
		hp_sampled_once |= BIT(src);
	}
}

/**
 * hp_sources_next_due() - when khyperplaced must sample next
 * @cfg: the knobs khyperplaced works with
 * @backoff: see hp_sources_sample()
 * @next: moved earlier if a running sampler is due before it
 *
 * Return: false if a running source writes samples by itself (its rings
 * want draining at every tick), else true.
 */
bool hp_sources_next_due(const struct hp_config *cfg, unsigned int backoff,
			 unsigned long *next)
{
	unsigned long on = HP_RUNNING(READ_ONCE(hp_sources_state));
	unsigned int src;

	for_each_set_bit(src, &on, HP_NR_SOURCES) {
		unsigned long due;

		if (!hp_sources[src]->sample)
			return false;
		due = hp_sample_due(src, cfg, backoff);
		if (time_before(due, *next))
			*next = due;
	}
	return true;
}
