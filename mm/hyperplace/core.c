// SPDX-License-Identifier: GPL-2.0-only
/*
 * HyperPlace core: per-mm state, the khyperplaced thread that files
 * samples from the channel into each mm's ranges and ends epochs, and
 * the choice of sample source.
 */
#define pr_fmt(fmt) "hyperplace: " fmt

#include <linux/capability.h>
#include <linux/export.h>
#include <linux/freezer.h>
#include <linux/kthread.h>
#include <linux/mm.h>
#include <linux/mm_types.h>
#include <linux/prctl.h>
#include <linux/sched/coredump.h>
#include <linux/sched/mm.h>
#include <linux/sched/signal.h>
#include <linux/slab.h>
#include <linux/wait.h>

#include "internal.h"

#include <trace/events/hyperplace.h>

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

const char *const hp_source_names[HP_NR_SOURCES] = {
	[HP_SRC_PEBS] = "pebs",
	[HP_SRC_ABIT] = "abit",
	[HP_SRC_INJECT] = "inject",
};

/*
 * Serializes every space.  Only khyperplaced changes spaces, so one lock
 * costs nothing, and ranking, which needs all of them stable at once,
 * takes just this one.
 */
DEFINE_MUTEX(hp_spaces_lock);

/*
 * Held by khyperplaced while it moves pages.  A write that turns moving
 * off takes it once, so that no move is under way when the write
 * returns.  Order: hp_config_lock -> hp_migrate_lock.
 */
static DEFINE_MUTEX(hp_migrate_lock);

/* Managed mms; an hp_mm on this list has a live mm_struct. */
DEFINE_MUTEX(hp_mms_lock);
LIST_HEAD(hp_mms);
static unsigned int hp_mms_count;

/* What became of the samples of the system channel. */
static struct hp_sink_stats hp_sink_stats;

static struct hp_channel *hp_channel;	/* NULL if init failed */
static struct task_struct *hp_thread;
static DECLARE_WAIT_QUEUE_HEAD(hp_wait);
static int hp_kicked;	/* an int: xchg() of one byte is not portable */
/* Which sources run; written under hp_config_lock. */
static bool hp_pebs_on, hp_abit_on;

void hyperplace_mm_init(struct mm_struct *mm)
{
	mm->hyperplace = NULL;
}

/*
 * Called from __mmput().  The state is attached only by holders of an
 * mm_users reference, so nothing attaches it concurrently.
 */
void hyperplace_mm_exit(struct mm_struct *mm)
{
	struct hp_mm *hpm = READ_ONCE(mm->hyperplace);

	if (!hpm)
		return;
	mutex_lock(&hp_mms_lock);
	list_del(&hpm->node);
	hp_mms_count--;
	WRITE_ONCE(mm->hyperplace, NULL);
	mutex_unlock(&hp_mms_lock);
	hp_space_destroy(hpm->space);
	kfree(hpm);
}

/**
 * hyperplace_set_policy() - PR_SET_HYPERPLACE: opt a process out or in
 * @mm: the caller's mm
 * @policy: PR_HYPERPLACE_DEFAULT, PR_HYPERPLACE_EXCLUDE or
 *	PR_HYPERPLACE_INCLUDE
 *
 * The policy is an mm flag, inherited across fork and exec.  Pages that
 * were placed before an exclusion stay where they are.  Opting in takes
 * CAP_SYS_NICE: under scope=opted_in the fast node is shared among the
 * processes the administrator chose, and a process may claim more of it
 * only with the privilege migrate_pages(2) wants for moving pages it
 * does not own alone.
 *
 * Return: 0, -EINVAL for an unknown policy or -EPERM for an opt-in
 * without CAP_SYS_NICE (nothing changed).
 */
int hyperplace_set_policy(struct mm_struct *mm, unsigned long policy)
{
	/* The two flags change together: concurrent callers take turns. */
	static DEFINE_SPINLOCK(policy_lock);

	if (policy > PR_HYPERPLACE_INCLUDE)
		return -EINVAL;
	if (policy == PR_HYPERPLACE_INCLUDE && !capable(CAP_SYS_NICE))
		return -EPERM;
	spin_lock(&policy_lock);
	switch (policy) {
	case PR_HYPERPLACE_DEFAULT:
		clear_bit(MMF_HYPERPLACE_EXCLUDE, &mm->flags);
		clear_bit(MMF_HYPERPLACE_INCLUDE, &mm->flags);
		break;
	case PR_HYPERPLACE_EXCLUDE:
		clear_bit(MMF_HYPERPLACE_INCLUDE, &mm->flags);
		set_bit(MMF_HYPERPLACE_EXCLUDE, &mm->flags);
		break;
	case PR_HYPERPLACE_INCLUDE:
		clear_bit(MMF_HYPERPLACE_EXCLUDE, &mm->flags);
		set_bit(MMF_HYPERPLACE_INCLUDE, &mm->flags);
		break;
	}
	spin_unlock(&policy_lock);
	return 0;
}

/**
 * hyperplace_get_policy() - PR_GET_HYPERPLACE
 * @mm: the caller's mm
 *
 * Return: the policy set by hyperplace_set_policy().
 */
int hyperplace_get_policy(struct mm_struct *mm)
{
	if (test_bit(MMF_HYPERPLACE_EXCLUDE, &mm->flags))
		return PR_HYPERPLACE_EXCLUDE;
	if (test_bit(MMF_HYPERPLACE_INCLUDE, &mm->flags))
		return PR_HYPERPLACE_INCLUDE;
	return PR_HYPERPLACE_DEFAULT;
}

/**
 * hp_mm_wanted() - whether HyperPlace places @mm now
 * @mm: an mm
 *
 * Return: false if the process opted out, or if only opted-in processes
 * are placed and it did not opt in.
 */
bool hp_mm_wanted(struct mm_struct *mm)
{
	if (test_bit(MMF_HYPERPLACE_EXCLUDE, &mm->flags))
		return false;
	return READ_ONCE(hp_config.scope) == HP_SCOPE_ALL ||
	       test_bit(MMF_HYPERPLACE_INCLUDE, &mm->flags);
}

/*
 * Memory HyperPlace places: private anonymous memory, for now, and not
 * PROT_NONE reservations, which would take samples' budget for nothing.
 */
bool hp_vma_managed(struct vm_area_struct *vma)
{
	return vma_is_anonymous(vma) &&
	       (vma->vm_flags & (VM_READ | VM_WRITE)) &&
	       !(vma->vm_flags & (VM_SPECIAL | VM_HUGETLB));
}

#define HP_STALE_MAX	32

/*
 * Add the parts of [@start, @end) not covered by managed VMAs to @stale.
 * Return: the new number of intervals in @stale.
 */
static unsigned int hp_find_stale(struct mm_struct *mm, unsigned long start,
				  unsigned long end, unsigned long (*stale)[2],
				  unsigned int n)
{
	unsigned long cur = start;

	while (cur < end && n < HP_STALE_MAX) {
		struct vm_area_struct *vma = find_vma(mm, cur);
		unsigned long stop;

		if (!vma || vma->vm_start >= end) {
			stale[n][0] = cur;
			stale[n++][1] = end;
			break;
		}
		if (vma->vm_start > cur) {
			stale[n][0] = cur;
			stale[n++][1] = vma->vm_start;
			cur = vma->vm_start;
			continue;
		}
		stop = min(vma->vm_end, end);
		if (!hp_vma_managed(vma)) {
			stale[n][0] = cur;
			stale[n++][1] = stop;
		}
		cur = stop;
	}
	return n;
}

/*
 * Make the ranges of @hpm cover its managed VMAs and nothing else.
 * Caller holds mmap_lock for reading.
 */
static void hp_mm_sync_locked(struct hp_mm *hpm)
{
	unsigned long stale[HP_STALE_MAX][2];
	struct mm_struct *mm = hpm->mm;
	struct vm_area_struct *vma;
	struct hp_range *r;
	unsigned int n = 0, i;

	VMA_ITERATOR(vmi, mm, 0);

	mutex_lock(&hp_spaces_lock);
	for (r = hp_space_first(hpm->space); r && n < HP_STALE_MAX;
	     r = hp_range_next(r))
		n = hp_find_stale(mm, r->start, r->end, stale, n);
	for (i = 0; i < n; i++)
		hp_space_unmap(hpm->space, stale[i][0], stale[i][1]);
	for_each_vma(vmi, vma)
		if (hp_vma_managed(vma))
			hp_space_map(hpm->space, vma->vm_start, vma->vm_end);
	mutex_unlock(&hp_spaces_lock);
}

/* Resync if the mmap lock is free; skipped ones are done next epoch. */
static void hp_mm_sync(struct hp_mm *hpm)
{
	if (!mmap_read_trylock(hpm->mm))
		return;
	hp_mm_sync_locked(hpm);
	mmap_read_unlock(hpm->mm);
}

/**
 * hp_mm_attach() - the HyperPlace state of @mm, created if needed
 * @mm: an mm whose mm_users reference the caller holds
 * @pid: the process it was found in, for reports (0 if unknown)
 *
 * Return: the state, or an ERR_PTR().
 */
struct hp_mm *hp_mm_attach(struct mm_struct *mm, pid_t pid)
{
	struct hp_mm *hpm = READ_ONCE(mm->hyperplace);

	if (hpm)
		return hpm;
	hpm = kzalloc(sizeof(*hpm), GFP_KERNEL);
	if (!hpm)
		return ERR_PTR(-ENOMEM);
	hpm->space = hp_space_create(NULL);
	if (IS_ERR(hpm->space)) {
		long err = PTR_ERR(hpm->space);

		kfree(hpm);
		return ERR_PTR(err);
	}
	hpm->mm = mm;
	hpm->pid = pid;
	/* Never wait for mmap_lock here: the channel's drain is waiting. */
	hp_mm_sync(hpm);

	mutex_lock(&hp_mms_lock);
	if (mm->hyperplace) {
		/* Attached by someone else meanwhile. */
		mutex_unlock(&hp_mms_lock);
		hp_space_destroy(hpm->space);
		kfree(hpm);
		return mm->hyperplace;
	}
	list_add_tail(&hpm->node, &hp_mms);
	hp_mms_count++;
	WRITE_ONCE(mm->hyperplace, hpm);
	mutex_unlock(&hp_mms_lock);
	return hpm;
}

/*
 * A process of @mm, for reports: its memcg owner, or else the first
 * process found using it (a walk of every process, done once per mm, as
 * samples of a new mm come from where no task is known: a PEBS drain is
 * filed by khyperplaced).  0 if none is found.
 */
static pid_t hp_mm_pid(struct mm_struct *mm)
{
	struct task_struct *p;
	pid_t pid = 0;

	rcu_read_lock();
#ifdef CONFIG_MEMCG
	p = rcu_dereference(mm->owner);
	if (p)
		pid = p->tgid;
#endif
	if (!pid) {
		for_each_process(p) {
			if (READ_ONCE(p->mm) == mm) {
				pid = p->tgid;
				break;
			}
		}
	}
	rcu_read_unlock();
	return pid;
}

/**
 * hp_file_samples() - channel sink: file samples into their mm's ranges
 * @arg: the &struct hp_sink_stats to count in
 * @mm: the mm the samples were tagged with (mm_count held)
 * @s: samples of one source
 * @n: how many
 *
 * Samples of an mm that has exited are counted and discarded.
 */
void hp_file_samples(void *arg, struct mm_struct *mm,
		     const struct hp_sample *s, unsigned int n)
{
	enum hp_source src = s[0].source;
	struct hp_sink_stats *ss = arg;
	unsigned int i, attributed = 0;
	struct hp_mm *hpm;

	if (src >= HP_NR_SOURCES)
		return;
	if (!mmget_not_zero(mm)) {
		atomic64_add(n, &ss->exited[src]);
		trace_hyperplace_drop(src, n, "mm exited");
		return;
	}
	if (!hp_mm_wanted(mm)) {
		atomic64_add(n, &ss->outside[src]);
		trace_hyperplace_drop(src, n, "process not placed");
		goto out;
	}
	hpm = READ_ONCE(mm->hyperplace);
	if (!hpm)
		hpm = hp_mm_attach(mm, hp_mm_pid(mm));
	if (IS_ERR(hpm)) {
		atomic64_add(n, &ss->outside[src]);
		goto out;
	}
	mutex_lock(&hp_spaces_lock);
	for (i = 0; i < n; i++) {
		bool in = hp_space_record(hpm->space, s[i].addr, 1);

		attributed += in;
		trace_hyperplace_sample(src, hpm->pid, s[i].addr, s[i].access,
					s[i].weight, in);
	}
	hpm->samples[src] += attributed;
	mutex_unlock(&hp_spaces_lock);
	atomic64_add(attributed, &ss->attributed[src]);
	atomic64_add(n - attributed, &ss->outside[src]);
	trace_hyperplace_batch(src, hpm->pid, n, attributed);
out:
	/* If the process exited meanwhile, do not tear it down here. */
	mmput_async(mm);
}

/**
 * hp_mms_get() - take an mm_users reference on every placed mm
 *
 * Processes that opted out (or did not opt in, see hp_mm_wanted()) after
 * they were attached keep their state but are left out.
 * @nr: set to the number of mms returned
 *
 * Return: an array to give back to hp_mms_put(), or NULL if there is
 * none or no memory.
 */
struct mm_struct **hp_mms_get(unsigned int *nr)
{
	struct mm_struct **mms;
	unsigned int max;
	struct hp_mm *hpm;

	*nr = 0;
	/* Allocate without hp_mms_lock: every exiting process takes it. */
	max = READ_ONCE(hp_mms_count);
	if (!max)
		return NULL;
	mms = kvmalloc_array(max, sizeof(*mms), GFP_KERNEL);
	if (!mms)
		return NULL;
	mutex_lock(&hp_mms_lock);
	list_for_each_entry(hpm, &hp_mms, node) {
		if (*nr == max)
			break;
		if (hp_mm_wanted(hpm->mm) && mmget_not_zero(hpm->mm))
			mms[(*nr)++] = hpm->mm;
	}
	mutex_unlock(&hp_mms_lock);
	return mms;
}

/**
 * hp_mms_put() - drop the references of hp_mms_get()
 * @mms: the array, or NULL
 * @nr: its length
 */
void hp_mms_put(struct mm_struct **mms, unsigned int nr)
{
	while (nr--)
		mmput_async(mms[nr]);
	kvfree(mms);
}

/**
 * hp_nr_mms() - number of managed mms
 *
 * Return: the number.
 */
unsigned int hp_nr_mms(void)
{
	return READ_ONCE(hp_mms_count);
}

/*
 * End the epoch of every placed mm, after following its VMAs, then rank
 * them all and plan the moves.
 * Return: true if the rank found placement settled.
 */
static bool hp_epoch_all(const struct hp_config *cfg)
{
	struct mm_struct **mms;
	unsigned int nr, i;
	bool settled = false;

	mms = hp_mms_get(&nr);
	for (i = 0; i < nr; i++) {
		struct hp_mm *hpm = mms[i]->hyperplace;

		hp_mm_sync(hpm);
		mutex_lock(&hp_spaces_lock);
		/* Validated by hp_config_apply(); cheap when unchanged. */
		hp_space_set_params(hpm->space, &cfg->range);
		hp_space_epoch(hpm->space);
		mutex_unlock(&hp_spaces_lock);
	}
	if (cfg->migrate && !hp_yielded_to())
		settled = hp_migrate_epoch(mms, nr, cfg);
	hp_mms_put(mms, nr);
	return settled;
}

/*
 * Follow the VMAs of every placed mm, as an epoch does first.  While
 * epochs are backed off this runs at the knobs' epoch period all the
 * same, so that a new mapping is not left out of the ranges for up to
 * HP_BACKOFF_MAX epochs.
 * Return: true if the number of ranges of some mm changed (a new or
 * removed mapping): a change, so sample and rank at full speed again.
 */
static bool hp_sync_all(void)
{
	struct mm_struct **mms;
	bool changed = false;
	unsigned int nr, i;

	mms = hp_mms_get(&nr);
	for (i = 0; i < nr; i++) {
		struct hp_mm *hpm = mms[i]->hyperplace;
		unsigned int before = hp_space_nr_ranges(hpm->space);

		hp_mm_sync(hpm);
		changed |= hp_space_nr_ranges(hpm->space) != before;
	}
	hp_mms_put(mms, nr);
	return changed;
}

/**
 * hp_source_counts() - the counters of one source
 * @src: the source
 * @received: samples the source offered to the channel
 * @dropped: of those, samples the channel lost
 * @st: what became of the others
 */
void hp_source_counts(enum hp_source src, u64 *received, u64 *dropped,
		      struct hp_source_stats *st)
{
	*received = 0;
	*dropped = 0;
	if (hp_channel)
		hp_channel_counts(hp_channel, src, received, dropped);
	hp_sink_stats_read(&hp_sink_stats, src, st);
}

/**
 * hp_sink_stats_read() - the counts of one source
 * @ss: counts kept by hp_file_samples()
 * @src: the source
 * @st: filled with the counts
 */
void hp_sink_stats_read(struct hp_sink_stats *ss, enum hp_source src,
			struct hp_source_stats *st)
{
	st->attributed = atomic64_read(&ss->attributed[src]);
	st->outside = atomic64_read(&ss->outside[src]);
	st->exited = atomic64_read(&ss->exited[src]);
}

/**
 * hp_active_source() - the source that feeds HyperPlace now
 * @running: set to whether any source runs
 *
 * Return: HP_SRC_PEBS or HP_SRC_ABIT (meaningful only if @running).
 */
enum hp_source hp_active_source(bool *running)
{
	*running = READ_ONCE(hp_pebs_on) || READ_ONCE(hp_abit_on);
	return READ_ONCE(hp_pebs_on) ? HP_SRC_PEBS : HP_SRC_ABIT;
}

/**
 * hp_kick() - make khyperplaced look at its work now
 */
void hp_kick(void)
{
	/* Pairs with the barrier after khyperplaced clears the flag. */
	smp_mb();
	WRITE_ONCE(hp_kicked, 1);
	wake_up_interruptible(&hp_wait);
}

/**
 * hp_drain() - file the samples waiting in the channel now
 *
 * For producers in khyperplaced itself that write more than a ring holds.
 */
void hp_drain(void)
{
	if (hp_channel)
		hp_channel_drain(hp_channel, hp_file_samples, &hp_sink_stats);
}

static int hp_config_check(const struct hp_config *c)
{
	int ret;

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
	ret = hp_range_params_validate(&c->range);
	if (ret)
		return ret;
	if (c->mode == HP_MODE_PEBS && !hp_pebs_supported())
		return -EOPNOTSUPP;
	return 0;
}

static void hp_set_source(bool pebs, bool abit, int err)
{
	if (pebs != hp_pebs_on)
		trace_hyperplace_source_state(HP_SRC_PEBS, pebs, err);
	if (abit != hp_abit_on)
		trace_hyperplace_source_state(HP_SRC_ABIT, abit, 0);
	WRITE_ONCE(hp_pebs_on, pebs);
	WRITE_ONCE(hp_abit_on, abit);
}

/**
 * hp_config_apply() - validate and apply new knob values
 * @new: the complete new configuration
 *
 * Caller holds hp_config_lock.  Starts, restarts or stops the sources.
 * In auto mode a PEBS source that fails to start leaves the Accessed-bit
 * sampler running.
 *
 * Return: 0; -ERANGE or -EINVAL for a bad value, -EOPNOTSUPP for PEBS
 * on a CPU without it, or the error of starting PEBS; on error the knobs
 * are unchanged (and PEBS runs with the old values, unless restarting it
 * failed too: then no source runs until the next successful write).
 */
int hp_config_apply(const struct hp_config *new)
{
	bool want_pebs, pebs_changed;
	int ret = hp_config_check(new);

	lockdep_assert_held(&hp_config_lock);
	if (ret)
		return ret;
	/* hp_pebs_start() says once why PEBS is unavailable, if it is. */
	want_pebs = new->enabled && new->mode != HP_MODE_ABIT;
	pebs_changed = memcmp(&new->pebs, &hp_config.pebs, sizeof(new->pebs));
	if (want_pebs && (!hp_pebs_on || pebs_changed)) {
		ret = hp_pebs_start(&new->pebs);
		if (ret && new->mode == HP_MODE_PEBS) {
			if (hp_pebs_on && hp_pebs_start(&hp_config.pebs))
				hp_set_source(false, false, ret);
			return ret;
		}
		if (ret)
			want_pebs = false;
	}
	if (!want_pebs && hp_pebs_on)
		hp_pebs_stop();
	hp_set_source(want_pebs, new->enabled && !want_pebs, ret);
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

/* When a period of @ms milliseconds, backed off @backoff times, ends. */
static unsigned long hp_due(unsigned long last, unsigned int ms,
			    unsigned int backoff)
{
	return last + msecs_to_jiffies(ms * backoff);
}

/* Set the back-off factor and the gauge that shows it. */
static void hp_backoff_set(unsigned int *backoff, unsigned int v)
{
	*backoff = v;
	WRITE_ONCE(hp_migrate_stats.backoff, v);
}

/*
 * How long khyperplaced may sleep.  Disabled, nothing samples, ranks or
 * moves: until a knob, a memory hotplug or a debugfs injection kicks it.
 * While PEBS fills the rings, or the plan has moves left that there is
 * room for, one tick.
 * Otherwise until the next Accessed-bit pass or epoch, whichever is due
 * first; a fast node that falls below its headroom meanwhile waits for
 * that (reclaim's demotion still guards its watermarks).
 */
static long hp_sleep(const struct hp_config *cfg, bool cfg_stale,
		     unsigned int backoff, unsigned long last_abit,
		     unsigned long last_epoch, unsigned long last_sync)
{
	unsigned long next, abit, sync, now = jiffies;
	unsigned long tick = msecs_to_jiffies(HP_DRAIN_MS);

	if (!READ_ONCE(hp_config.enabled))
		return MAX_SCHEDULE_TIMEOUT;
	/*
	 * A knob writer that held the lock has kicked us already; a memory
	 * offline may be waiting for our demotions.
	 */
	if (cfg_stale || hp_tiers_changing() || READ_ONCE(hp_pebs_on) ||
	    !hp_migrate_idle())
		return tick;
	next = hp_due(last_epoch, cfg->epoch_ms, backoff);
	abit = hp_due(last_abit, cfg->abit_interval_ms, backoff);
	if (READ_ONCE(hp_abit_on) && time_before(abit, next))
		next = abit;
	/* The VMAs are followed at the knobs' period (hp_sync_all()). */
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
	 * When the sampler and the epoch last ran: each is due one period
	 * (as the knobs say now, times @backoff) later, so a shorter period
	 * set meanwhile takes effect at once.  Both run at the first pass.
	 */
	unsigned long last_abit, last_epoch, last_sync, last_tick = jiffies;
	unsigned int backoff;
	struct hp_config cfg;

	last_abit = jiffies - msecs_to_jiffies(HP_ABIT_INTERVAL_MAX);
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

		hp_channel_drain(hp_channel, hp_file_samples, &hp_sink_stats);
		if (READ_ONCE(hp_abit_on) &&
		    time_after_eq(jiffies, hp_due(last_abit,
						  cfg.abit_interval_ms,
						  backoff))) {
			hp_abit_discover();
			hp_abit_scan(cfg.abit_pages);
			hp_channel_drain(hp_channel, hp_file_samples, &hp_sink_stats);
			last_abit = jiffies;
		}
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
			if (hp_sync_all())
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
		timeout = hp_sleep(&cfg, cfg_stale, backoff, last_abit,
				   last_epoch, last_sync);
		wait_event_freezable_timeout(hp_wait,
					     kthread_should_stop() ||
					     READ_ONCE(hp_kicked), timeout);
		/*
		 * Clear before looking at the work: a kick after this is
		 * seen by the next wait, and the work it announced by the
		 * next pass (hp_kick() orders it before the flag).  A kick
		 * is a change: sample and rank at full speed again.
		 */
		if (xchg(&hp_kicked, 0))
			hp_backoff_set(&backoff, 1);
	}
	return 0;
}

static int __init hp_init(void)
{
	struct hp_config cfg;
	int ret;

	struct hp_channel *ch;

	hp_range_params_init(&hp_config.range);
	hp_tiers_init();
	ch = hp_channel_create(HP_CHANNEL_ENTRIES);
	if (IS_ERR(ch))
		return PTR_ERR(ch);
	hp_channel = ch;
	hp_channel_set_system(ch);
	hp_thread = kthread_run(hp_thread_fn, NULL, "khyperplaced");
	if (IS_ERR(hp_thread)) {
		pr_err("cannot start khyperplaced: %ld\n", PTR_ERR(hp_thread));
		hp_channel_set_system(NULL);
		hp_channel = NULL;
		hp_channel_destroy(ch);
		return PTR_ERR(hp_thread);
	}
	mutex_lock(&hp_config_lock);
	cfg = hp_config;
	ret = hp_config_apply(&cfg);
	mutex_unlock(&hp_config_lock);
	if (ret)
		pr_err("cannot start sampling: %d\n", ret);
	ret = hp_sysfs_init();
	if (ret)
		pr_err("cannot create /sys/kernel/mm/hyperplace: %d\n", ret);
	pr_info("sampling with the %s source\n",
		hp_pebs_on ? "PEBS" : "Accessed-bit");
	return 0;
}
late_initcall(hp_init);
