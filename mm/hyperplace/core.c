// SPDX-License-Identifier: GPL-2.0-only
/*
 * HyperPlace core: the khyperplaced thread, which files the samples of
 * the channel into the ranges, lets the sources sample, ends epochs and
 * moves pages; and the application of new knob values.
 *
 * It reaches the sources only through their operations (source.c).
 */
#define pr_fmt(fmt) "hyperplace: " fmt

#include <linux/export.h>
#include <linux/freezer.h>
#include <linux/kthread.h>
#include <linux/mm.h>
#include <linux/workqueue.h>

#include "internal.h"

/* How often khyperplaced empties the channel and works on the plan. */
#define HP_DRAIN_MS	20
/*
 * Once placement is settled, sampling and epochs slow down: the factor
 * doubles after every settled epoch (hp_migrate_epoch()) up to this, and
 * drops back to 1 at the first epoch that changes the hot set and at any
 * kick (a knob write, a memory hotplug, a balloon asking for room, a
 * debugfs injection), as NUMA balancing's scan period backs off while a
 * task's memory stays local.  Both slow down together, so an
 * Accessed-bit epoch still checks as many pages (each page is checked
 * less often, so a warm page looks more like a hot one); a PEBS epoch
 * holds more samples.  The price is that a new hot set is seen up to
 * HP_BACKOFF_MAX epochs late after a long quiet time.  Without moves
 * (migrate=0, or yielded to another placer) nothing settles.
 */
#define HP_BACKOFF_MAX	16

/*
 * Held by khyperplaced while it moves pages.  A write that turns moving
 * off takes it once, so that no move is under way when the write
 * returns.  Order: hp_config_lock -> hp_migrate_lock.
 */
static DEFINE_MUTEX(hp_migrate_lock);

static struct task_struct *hp_thread;

/*
 * Park the sources while no process is placed, start them again when
 * one is (hp_idle says which).  Not in khyperplaced: starting or
 * stopping PEBS takes the CPU hotplug lock, which khyperplaced must
 * never wait for (see hp_thread_fn()).
 */
static void hp_park_fn(struct work_struct *work)
{
	static bool warned;
	bool idle;
	int ret;

	mutex_lock(&hp_config_lock);
	/* hp_idle may change meanwhile: end as it says. */
	do {
		ret = 0;
		idle = READ_ONCE(hp_idle);
		if (idle)
			hp_sources_park();
		else
			ret = hp_sources_unpark(&hp_config);
	} while (READ_ONCE(hp_idle) != idle);
	mutex_unlock(&hp_config_lock);
	/* Still parked: khyperplaced tries again at its next look. */
	if (ret && !warned)
		pr_warn("cannot start sampling again (%d); will retry every epoch\n",
			ret);
	warned = ret;
}

static DECLARE_WORK(hp_park_work, hp_park_fn);

/*
 * Whether any process is placed.  If none is, khyperplaced sleeps until
 * one opts in (hp_mm_included() kicks it) and the sources are parked
 * meanwhile: PEBS costs every context switch even with nothing to place.
 */
static void hp_idle_update(bool enabled)
{
	bool was_idle = READ_ONCE(hp_idle);
	bool idle = enabled && !hp_mms_any_wanted();

	if (idle && !was_idle) {
		/*
		 * Count again once a process that opts in sees hp_idle set
		 * and kicks us (see hp_mm_included()).
		 */
		WRITE_ONCE(hp_idle, true);
		idle = !hp_mms_any_wanted();
	}
	if (idle != READ_ONCE(hp_idle))
		WRITE_ONCE(hp_idle, idle);
	/*
	 * On a change even if the sources look right: a park or unpark
	 * under way publishes its state only when done.
	 */
	if (idle != was_idle || hp_sources_parking(idle))
		queue_work(system_unbound_wq, &hp_park_work);
}

/*
 * End the epoch of every placed mm, then rank them all and plan the
 * moves.
 * Return: true if the rank found placement settled.
 */
static bool hp_epoch_all(const struct hp_config *cfg)
{
	struct mm_struct **mms;
	bool settled = false;
	unsigned int nr;

	mms = hp_mms_get(&nr);
	hp_mms_epoch(mms, nr, &cfg->range);
	if (cfg->migrate && !hp_yielded_to())
		settled = hp_migrate_epoch(mms, nr, cfg);
	hp_mms_put(mms, nr);
	return settled;
}

/**
 * hp_config_apply() - validate and apply new knob values
 * @new: the complete new configuration
 *
 * Caller holds hp_config_lock.  Starts, restarts or stops the sources
 * (hp_sources_apply()).
 *
 * Return: 0; -ERANGE or -EINVAL for a bad value, or the error of
 * starting the only source the mode allows (-EOPNOTSUPP for PEBS on a
 * CPU without it).  On error the knobs are unchanged, and the sources
 * run as before, unless restarting that source with the old knobs
 * failed too: then none runs until the next successful write.
 */
int hp_config_apply(const struct hp_config *new)
{
	int ret = hp_config_valid(new);

	lockdep_assert_held(&hp_config_lock);
	if (!ret)
		ret = hp_sources_apply(new, &hp_config);
	if (ret)
		return ret;
	hp_config = *new;
	if (!new->enabled || !new->migrate) {
		/* Wait for a move under way: none starts after this. */
		mutex_lock(&hp_migrate_lock);
		mutex_unlock(&hp_migrate_lock);
	}
	hp_kick();
	return 0;
}

/**
 * hp_core_running() - whether khyperplaced started
 *
 * Return: true once HyperPlace is up, false if it failed to start.
 */
bool hp_core_running(void)
{
	return !IS_ERR_OR_NULL(READ_ONCE(hp_thread));
}

/**
 * hyperplace_make_room() - demote cold pages before a balloon takes memory
 * @nid: the node the balloon takes pages from
 * @nr_pages: how many pages it is about to take
 *
 * A balloon shrinking the fast node calls this first, so that cold data
 * moves to the slow node instead of the balloon's allocation reclaiming
 * (or failing).  Waits up to a second for khyperplaced; may sleep.
 *
 * Return: true if HyperPlace places pages and @nid is a fast node: the
 * caller may then allocate without direct reclaim.
 */
bool hyperplace_make_room(int nid, unsigned long nr_pages)
{
	struct hp_tiers t;

	if (!hp_core_running())
		return false;
	hp_tiers_get(&t);
	if (nid < 0 || nid >= MAX_NUMNODES || !node_isset(nid, t.fast) ||
	    nodes_empty(t.slow) || !READ_ONCE(hp_config.enabled) ||
	    !READ_ONCE(hp_config.migrate) || hp_yielded_to())
		return false;
	if (nr_pages)
		hp_migrate_make_room(nid, nr_pages);
	return READ_ONCE(hp_config.enabled) && READ_ONCE(hp_config.migrate);
}
EXPORT_SYMBOL_GPL(hyperplace_make_room);

/* Set the back-off factor and the gauge that shows it. */
static void hp_backoff_set(unsigned int *backoff, unsigned int v)
{
	*backoff = v;
	WRITE_ONCE(hp_migrate_stats.backoff, v);
}

/*
 * How long khyperplaced may sleep.  Disabled, nothing samples, ranks or
 * moves: until a knob, a memory hotplug or a debugfs injection kicks it.
 * While a source fills the rings by itself (PEBS), or the plan has moves
 * left that there is room for, one tick.
 * Otherwise until the next sampler period or epoch, whichever is due
 * first; a fast node that falls below its headroom meanwhile waits for
 * that (reclaim's demotion still guards its watermarks).
 */
static long hp_sleep(const struct hp_config *cfg, bool cfg_stale,
		     unsigned int backoff, unsigned long last_epoch,
		     unsigned long last_sync)
{
	unsigned long next, sync, now = jiffies;
	unsigned long tick = msecs_to_jiffies(HP_DRAIN_MS);

	if (!READ_ONCE(hp_config.enabled))
		return MAX_SCHEDULE_TIMEOUT;
	/*
	 * A knob writer that held the lock has kicked us already; a memory
	 * offline may be waiting for our demotions.
	 */
	if (cfg_stale || hp_tiers_changing() || !hp_migrate_idle())
		return tick;
	/* Nothing is placed: until a process that is appears. */
	if (READ_ONCE(hp_idle))
		return MAX_SCHEDULE_TIMEOUT;
	next = hp_due(last_epoch, cfg->epoch_ms, backoff);
	if (!hp_sources_next_due(cfg, backoff, &next))
		return tick;
	/* The VMAs are followed at the knobs' period (hp_mms_sync()). */
	sync = hp_due(last_sync, cfg->epoch_ms, 1);
	if (time_before(sync, next))
		next = sync;
	if (time_before_eq(next, now + tick))
		return tick;
	return next - now;
}

static int hp_thread_fn(void *unused)
{
	/*
	 * When the epoch and the VMA sync last ran: each is due one period
	 * (as the knobs say now, times @backoff for the epoch) later, so a
	 * shorter period set meanwhile takes effect at once.  The epoch
	 * runs at the first pass, as the samplers do (hp_sources_sample()).
	 */
	unsigned long last_epoch, last_sync, last_tick = jiffies;
	unsigned int backoff;
	struct hp_config cfg;
	bool kicked = true;

	last_epoch = jiffies - msecs_to_jiffies(HP_EPOCH_MAX);
	last_sync = last_epoch;
	mutex_lock(&hp_config_lock);
	cfg = hp_config;
	mutex_unlock(&hp_config_lock);
	hp_backoff_set(&backoff, 1);

	set_freezable();
	while (!kthread_should_stop()) {
		bool yield, cfg_stale;
		unsigned int ms;
		long timeout;

		/*
		 * Never wait for a knob write: one that starts or stops PEBS
		 * waits for the CPU hotplug lock, which a memory offline
		 * holds while it waits for the room our demotions make.  A
		 * busy lock leaves the knobs as they were until the next
		 * tick (the writer kicked us before it let the lock go).
		 */
		cfg_stale = !mutex_trylock(&hp_config_lock);
		if (!cfg_stale) {
			cfg = hp_config;
			mutex_unlock(&hp_config_lock);
		}

		/*
		 * Whether any process is placed, looked at as often as the
		 * VMAs are followed, and at every kick.
		 */
		if (kicked || !cfg.enabled ||
		    time_after_eq(jiffies, hp_due(last_sync, cfg.epoch_ms, 1)))
			hp_idle_update(cfg.enabled);
		hp_drain();
		/* Not with the sources about to park. */
		if (!READ_ONCE(hp_idle))
			hp_sources_sample(&cfg, backoff);
		/* Memory came or went: new nodes take effect at once. */
		hp_tiers_update(false);
		if (cfg.enabled &&
		    time_after_eq(jiffies, hp_due(last_epoch, cfg.epoch_ms,
						  backoff))) {
			/* Tier changes do not notify: read them every epoch. */
			hp_tiers_update(true);
			hp_backoff_set(&backoff, hp_epoch_all(&cfg) ?
				       min(2 * backoff, HP_BACKOFF_MAX) : 1);
			last_epoch = jiffies;
			last_sync = last_epoch;
		} else if (cfg.enabled &&
			   time_after_eq(jiffies, hp_due(last_sync, cfg.epoch_ms,
							 1))) {
			/* A new or removed mapping is a change: full speed. */
			if (hp_mms_sync())
				hp_backoff_set(&backoff, 1);
			last_sync = jiffies;
		}
		ms = jiffies_to_msecs(jiffies - last_tick);
		last_tick = jiffies;
		yield = hp_yield_check();
		mutex_lock(&hp_migrate_lock);
		/* Read again: the knobs may have changed since @cfg. */
		if (READ_ONCE(hp_config.enabled) && READ_ONCE(hp_config.migrate) &&
		    !yield)
			hp_migrate_step(&cfg, ms);
		else
			hp_migrate_forget();
		mutex_unlock(&hp_migrate_lock);
		timeout = hp_sleep(&cfg, cfg_stale, backoff, last_epoch,
				   last_sync);
		/* A kick is a change: sample and rank at full speed again. */
		kicked = hp_wait_kick(timeout);
		if (kicked)
			hp_backoff_set(&backoff, 1);
	}
	return 0;
}

static int __init hp_init(void)
{
	struct task_struct *thread;
	struct hp_config cfg;
	enum hp_source src;
	bool running;
	int ret;

	hp_range_params_init(&hp_config.range);
	hp_tiers_init();
	ret = hp_mms_init();
	if (ret)
		return ret;
	thread = kthread_run(hp_thread_fn, NULL, "khyperplaced");
	if (IS_ERR(thread)) {
		pr_err("cannot start khyperplaced: %ld\n", PTR_ERR(thread));
		hp_mms_exit();
		return PTR_ERR(thread);
	}
	WRITE_ONCE(hp_thread, thread);
	mutex_lock(&hp_config_lock);
	cfg = hp_config;
	ret = hp_config_apply(&cfg);
	mutex_unlock(&hp_config_lock);
	if (ret)
		pr_err("cannot start sampling: %d\n", ret);
	src = hp_active_source(&running);
	if (running)
		pr_info("sampling with the %s source\n", hp_source_desc(src));
	else
		pr_info("no sample source runs\n");
	return 0;
}
late_initcall(hp_init);
