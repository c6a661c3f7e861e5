// SPDX-License-Identifier: GPL-2.0-only
/*
 * HyperPlace's placed processes: the state kept per mm, which processes
 * and mappings are placed, and the sink that files the samples of the
 * system channel into each mm's ranges.
 */
#include <linux/capability.h>
#include <linux/mm.h>
#include <linux/mm_types.h>
#include <linux/prctl.h>
#include <linux/sched/coredump.h>
#include <linux/sched/mm.h>
#include <linux/sched/signal.h>
#include <linux/slab.h>

#include "internal.h"

#include <trace/events/hyperplace.h>

/*
 * Serializes every space.  Only khyperplaced changes spaces, so one lock
 * costs nothing, and ranking, which needs all of them stable at once,
 * takes just this one.
 */
DEFINE_MUTEX(hp_spaces_lock);

/* Managed mms; an hp_mm on this list has a live mm_struct. */
DEFINE_MUTEX(hp_mms_lock);
LIST_HEAD(hp_mms);
static unsigned int hp_mms_count;

/*
 * Live mms that opted in, from mm_init() (their flags are inherited) to
 * __mmput(): whether any is placed under scope opted_in is known without
 * a walk of every process, and one that appears is never missed
 * (hp_mms_any_wanted()).  Under scope all, some process always is (the
 * kernel's own text-poking mm counts as one), so the others are not
 * counted and their fork and exit cost a test_bit().
 */
static atomic_long_t hp_mms_included ____cacheline_aligned_in_smp;

/* What became of the samples of the system channel. */
static struct hp_sink_stats hp_sink_stats;

static struct hp_channel *hp_channel;	/* NULL if init failed */

/*
 * An mm that opted in appeared, or one opted in: count it and wake a
 * khyperplaced that sleeps because none was placed.  Counted first:
 * khyperplaced sets hp_idle before it counts (hp_mms_any_wanted()), so
 * one of the two sees the other.
 */
static void hp_mm_included(void)
{
	atomic_long_inc(&hp_mms_included);
	/* The count before hp_idle; pairs with hp_mms_any_wanted(). */
	smp_mb__after_atomic();
	if (READ_ONCE(hp_idle))
		hp_kick();
}

/* Called last in mm_init(), with the flags inherited. */
void hyperplace_mm_init(struct mm_struct *mm)
{
	mm->hyperplace = NULL;
	if (unlikely(test_bit(MMF_HYPERPLACE_INCLUDE, &mm->flags)))
		hp_mm_included();
}

/*
 * Called from __mmput().  The state is attached only by holders of an
 * mm_users reference, so nothing attaches it concurrently.
 */
void hyperplace_mm_exit(struct mm_struct *mm)
{
	struct hp_mm *hpm = READ_ONCE(mm->hyperplace);

	if (unlikely(test_bit(MMF_HYPERPLACE_INCLUDE, &mm->flags)))
		atomic_long_dec(&hp_mms_included);
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
	/*
	 * The two flags change together, and with the count: concurrent
	 * callers take turns.
	 */
	static DEFINE_SPINLOCK(policy_lock);
	bool was_in, in = policy == PR_HYPERPLACE_INCLUDE;

	if (policy > PR_HYPERPLACE_INCLUDE)
		return -EINVAL;
	if (policy == PR_HYPERPLACE_INCLUDE && !capable(CAP_SYS_NICE))
		return -EPERM;
	spin_lock(&policy_lock);
	was_in = test_bit(MMF_HYPERPLACE_INCLUDE, &mm->flags);
	/* Only a change counts: setting a policy again is no dip. */
	if (in && !was_in)
		hp_mm_included();
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
	if (was_in && !in)
		atomic_long_dec(&hp_mms_included);
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

/**
 * hp_mms_any_wanted() - whether any live process may be placed now
 *
 * Called by khyperplaced after it set hp_idle (see hp_mm_included()).
 *
 * Return: false only under scope opted_in with no process opted in.
 */
bool hp_mms_any_wanted(void)
{
	/* hp_idle before the count; pairs with hp_mm_included(). */
	smp_mb();
	return READ_ONCE(hp_config.scope) == HP_SCOPE_ALL ||
	       atomic_long_read(&hp_mms_included) > 0;
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
 * @nr: set to the number of mms returned
 *
 * Processes that opted out (or did not opt in, see hp_mm_wanted()) after
 * they were attached keep their state but are left out.
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

/**
 * hp_mms_epoch() - follow the VMAs of @mms and end their epochs
 * @mms: mms from hp_mms_get()
 * @nr: how many
 * @params: the classifier's parameters, validated by hp_config_valid()
 */
void hp_mms_epoch(struct mm_struct **mms, unsigned int nr,
		  const struct hp_range_params *params)
{
	unsigned int i;

	for (i = 0; i < nr; i++) {
		struct hp_mm *hpm = mms[i]->hyperplace;

		hp_mm_sync(hpm);
		mutex_lock(&hp_spaces_lock);
		/* Cheap when unchanged. */
		hp_space_set_params(hpm->space, params);
		hp_space_epoch(hpm->space);
		mutex_unlock(&hp_spaces_lock);
	}
}

/**
 * hp_mms_sync() - follow the VMAs of every placed mm
 *
 * As an epoch does first (hp_mms_epoch()), for when epochs are backed
 * off: a new mapping then need not wait for the next epoch to be
 * sampled.
 *
 * Return: true if the number of ranges of some mm changed (a new or
 * removed mapping).
 */
bool hp_mms_sync(void)
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
 * hp_drain() - file the samples waiting in the channel into their ranges
 *
 * khyperplaced calls it at every pass, and a source in khyperplaced
 * itself between pieces of more samples than a ring holds.
 */
void hp_drain(void)
{
	if (hp_channel)
		hp_channel_drain(hp_channel, hp_file_samples, &hp_sink_stats);
}

/**
 * hp_mms_init() - create the system channel that every source writes to
 *
 * Return: 0 or a negative errno.
 */
int hp_mms_init(void)
{
	struct hp_channel *ch = hp_channel_create(HP_CHANNEL_ENTRIES);

	if (IS_ERR(ch))
		return PTR_ERR(ch);
	hp_channel = ch;
	hp_channel_set_system(ch);
	return 0;
}

/**
 * hp_mms_exit() - undo hp_mms_init()
 */
void hp_mms_exit(void)
{
	struct hp_channel *ch = hp_channel;

	hp_channel_set_system(NULL);
	hp_channel = NULL;
	hp_channel_destroy(ch);
}
