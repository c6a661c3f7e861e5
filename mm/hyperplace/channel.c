// SPDX-License-Identifier: GPL-2.0-only
/*
 * HyperPlace sample channel: per-CPU bounded rings between the sample
 * sources (PEBS drain at sched-out or in NMI, Accessed-bit sampler,
 * debugfs injection) and the thread that files samples into ranges.
 *
 * Each CPU has one ring per context level (task, softirq, hardirq, NMI),
 * allocated when the CPU first comes online (a possible CPU that never
 * does costs no ring) and kept when it goes offline, so that samples it
 * wrote are still drained.
 * A level cannot interrupt itself on one CPU, so every ring has exactly
 * one producer at a time and kfifo's lockless single-producer,
 * single-consumer protocol is enough, in any context, NMI included.
 * Producers never block: a sample that does not fit is counted and
 * dropped.  Consumers are serialized by a mutex.
 *
 * Samples are staged per ring and committed in chunks, each led by a
 * header that holds a reference (mm_count) on the mm the samples belong
 * to, so a consumer never sees a sample without its mm and the mm
 * cannot be freed while its samples are in flight.
 */
#include <linux/cpuhotplug.h>
#include <linux/cpumask.h>
#include <linux/hyperplace.h>
#include <linux/kfifo.h>
#include <linux/mutex.h>
#include <linux/percpu.h>
#include <linux/preempt.h>
#include <linux/sched/mm.h>
#include <linux/slab.h>

#include "internal.h"

#define CREATE_TRACE_POINTS
#include <trace/events/hyperplace.h>

/* Samples committed together behind one header. */
#define HP_STAGE	32
/* A header entry: @source is HP_CHAN_HEADER, @addr the mm. */
#define HP_CHAN_HEADER	0xff
/* Context levels: task, softirq, hardirq, NMI. */
#define HP_LEVELS	4

/**
 * struct hp_ring - one producer's ring
 * @fifo: committed entries
 * @stage: header and samples not committed yet; producer only
 * @nr_staged: samples in @stage after the header
 * @received: samples offered, per source; written by the producer only
 * @dropped: samples lost for lack of room or of an mm, per source
 * @cons_mm: the mm of the entries the consumer is reading, when it had
 *	to stop inside a chunk; consumer only, holds a reference
 */
struct hp_ring {
	DECLARE_KFIFO_PTR(fifo, struct hp_sample);
	struct hp_sample stage[HP_STAGE + 1];
	unsigned int nr_staged;
	u64 received[HP_NR_SOURCES];
	u64 dropped[HP_NR_SOURCES];
	struct mm_struct *cons_mm;
};

struct hp_cpu_rings {
	struct hp_ring level[HP_LEVELS];
};

/**
 * struct hp_channel - a set of per-CPU rings
 * @rings: the counters and staging areas of each possible CPU, and the
 *	rings of the CPUs in @ringed
 * @ringed: CPUs whose rings are allocated; a CPU is added, after its
 *	rings, before it first runs, and never removed
 * @entries: capacity of each ring
 * @drain_lock: serializes consumers (kfifo allows only one reader)
 * @cpuhp: link in the CPU hotplug state's instances
 * @cpuhp_added: @cpuhp is linked
 */
struct hp_channel {
	struct hp_cpu_rings __percpu *rings;
	struct cpumask ringed;
	unsigned int entries;
	struct mutex drain_lock;	/* one reader at a time */
	struct hlist_node cpuhp;
	bool cpuhp_added;
};

/* The channel of the running system, NULL until HyperPlace starts. */
static struct hp_channel *hp_system_channel;

/* The CPU hotplug state that gives CPUs their rings, once set up. */
static DEFINE_MUTEX(hp_channel_cpuhp_lock);
static int hp_channel_cpuhp_state;

/*
 * Before @cpu runs (and at hp_channel_create() for every CPU online
 * then): allocate its rings unless it had them already.  Readers look only at
 * CPUs in &hp_channel.ringed, and no producer runs on @cpu yet.
 */
static int hp_channel_cpu_prepare(unsigned int cpu, struct hlist_node *node)
{
	struct hp_channel *ch = hlist_entry(node, struct hp_channel, cpuhp);
	struct hp_cpu_rings *cr = per_cpu_ptr(ch->rings, cpu);
	int l;

	if (cpumask_test_cpu(cpu, &ch->ringed))
		return 0;
	for (l = 0; l < HP_LEVELS; l++) {
		if (kfifo_alloc(&cr->level[l].fifo, ch->entries, GFP_KERNEL)) {
			/*
			 * A CPU without samples is better than one that stays
			 * offline: producers drop into a ring never allocated
			 * (it has room for nothing), and readers skip it.
			 */
			while (l--)
				kfifo_free(&cr->level[l].fifo);
			pr_warn_ratelimited("hyperplace: no sample rings on CPU %u\n",
					    cpu);
			return 0;
		}
	}
	/* The rings before the bit: pairs with hp_channel_ringed(). */
	smp_mb__before_atomic();
	cpumask_set_cpu(cpu, &ch->ringed);
	return 0;
}

/* Whether @cpu's rings can be read. */
static bool hp_channel_ringed(const struct hp_channel *ch, int cpu)
{
	bool ringed = cpumask_test_cpu(cpu, &ch->ringed);

	smp_rmb();	/* the bit before the rings */
	return ringed;
}

static int hp_channel_cpuhp_get(void)
{
	int ret = 0;

	mutex_lock(&hp_channel_cpuhp_lock);
	if (!hp_channel_cpuhp_state) {
		ret = cpuhp_setup_state_multi(CPUHP_BP_PREPARE_DYN,
					      "mm/hyperplace/channel:prepare",
					      hp_channel_cpu_prepare, NULL);
		if (ret > 0) {
			hp_channel_cpuhp_state = ret;
			ret = 0;
		}
	}
	mutex_unlock(&hp_channel_cpuhp_lock);
	return ret;
}

/**
 * hp_channel_create() - a channel with rings of @entries samples
 * @entries: capacity of each ring, at least two chunks with their headers
 *
 * Allocates the rings of the CPUs online now and, through a CPU hotplug
 * state, of every CPU when it first comes online.  Sleeps and takes the
 * CPU hotplug lock: not for CPU hotplug callbacks or holders of
 * cpus_read_lock().
 *
 * Return: the channel, or an ERR_PTR() (-EINVAL for too few entries).
 */
struct hp_channel *hp_channel_create(unsigned int entries)
{
	struct hp_channel *ch;
	int ret = -ENOMEM;

	if (entries < 2 * (HP_STAGE + 1))
		return ERR_PTR(-EINVAL);
	ch = kzalloc(sizeof(*ch), GFP_KERNEL);
	if (!ch)
		return ERR_PTR(-ENOMEM);
	ch->entries = roundup_pow_of_two(entries);
	mutex_init(&ch->drain_lock);
	ch->rings = alloc_percpu(struct hp_cpu_rings);
	if (!ch->rings)
		goto fail;
	ret = hp_channel_cpuhp_get();
	if (ret)
		goto fail;
	/* Rings for the online CPUs now, for the others when they come. */
	ret = cpuhp_state_add_instance(hp_channel_cpuhp_state, &ch->cpuhp);
	if (ret)
		goto fail;
	ch->cpuhp_added = true;
	return ch;
fail:
	hp_channel_destroy(ch);
	return ERR_PTR(ret);
}

/* Drop the references that committed headers still hold. */
static void hp_ring_release(struct hp_ring *r)
{
	struct hp_sample e;

	if (r->cons_mm)
		mmdrop(r->cons_mm);
	r->cons_mm = NULL;
	while (kfifo_get(&r->fifo, &e))
		if (e.source == HP_CHAN_HEADER)
			mmdrop((struct mm_struct *)(unsigned long)e.addr);
	kfifo_free(&r->fifo);
}

/**
 * hp_channel_destroy() - free a channel and what is left in it
 * @ch: the channel, no longer written to, or NULL
 */
void hp_channel_destroy(struct hp_channel *ch)
{
	int cpu, l;

	if (IS_ERR_OR_NULL(ch))
		return;
	if (ch->cpuhp_added)
		cpuhp_state_remove_instance_nocalls(hp_channel_cpuhp_state,
						    &ch->cpuhp);
	if (ch->rings) {
		for_each_cpu(cpu, &ch->ringed) {
			struct hp_cpu_rings *cr = per_cpu_ptr(ch->rings, cpu);

			for (l = 0; l < HP_LEVELS; l++)
				hp_ring_release(&cr->level[l]);
		}
		free_percpu(ch->rings);
	}
	kfree(ch);
}

/**
 * hp_channel_begin_on() - start a batch of samples of one mm
 * @ch: the channel, or NULL to count nothing and drop everything
 * @b: the batch to fill
 * @mm: the mm the samples belong to, or NULL (the batch is dropped)
 * @source: where the samples come from
 *
 * Any context, NMI included; preemption must stay disabled until
 * hp_channel_end().
 */
void hp_channel_begin_on(struct hp_channel *ch, struct hp_channel_batch *b,
			 struct mm_struct *mm, enum hp_source source)
{
	b->ring = NULL;
	if (ch)
		b->ring = &this_cpu_ptr(ch->rings)->level[interrupt_context_level()];
	b->mm = mm;
	b->source = source;
	b->offered = 0;
	b->dropped = 0;
}

/**
 * hp_channel_system() - the channel sample sources write to
 *
 * Return: the channel, or NULL while HyperPlace is not running.  Only
 * valid until preemption is enabled again.
 */
struct hp_channel *hp_channel_system(void)
{
	return READ_ONCE(hp_system_channel);
}

/**
 * hp_channel_begin() - start a batch in the system channel
 * @b: the batch to fill
 * @mm: the mm the samples belong to, or NULL (the batch is dropped)
 * @source: where the samples come from
 */
void hp_channel_begin(struct hp_channel_batch *b, struct mm_struct *mm,
		      enum hp_source source)
{
	hp_channel_begin_on(READ_ONCE(hp_system_channel), b, mm, source);
}

/* Commit the staged samples with their header, or drop them all. */
static void hp_ring_commit(struct hp_channel_batch *b)
{
	struct hp_ring *r = b->ring;
	unsigned int n = r->nr_staged;

	if (!n)
		return;
	r->nr_staged = 0;
	if (kfifo_avail(&r->fifo) < n + 1) {
		b->dropped += n;
		return;
	}
	mmgrab(b->mm);
	r->stage[0].addr = (unsigned long)b->mm;
	r->stage[0].source = HP_CHAN_HEADER;
	kfifo_in(&r->fifo, r->stage, n + 1);
}

/**
 * hp_channel_add() - add one sample to a batch
 * @b: a batch begun on this CPU
 * @addr: user virtual address
 * @weight: load latency, or 1
 * @access: kind of access
 */
void hp_channel_add(struct hp_channel_batch *b, u64 addr, u32 weight,
		    enum hp_access access)
{
	struct hp_ring *r = b->ring;
	struct hp_sample *s;

	b->offered++;
	if (!r || !b->mm) {
		b->dropped++;
		return;
	}
	s = &r->stage[++r->nr_staged];
	s->addr = addr;
	s->weight = weight;
	s->access = access;
	s->source = b->source;
	if (r->nr_staged == HP_STAGE)
		hp_ring_commit(b);
}

/**
 * hp_channel_end() - commit what is left of a batch and count it
 * @b: the batch
 */
void hp_channel_end(struct hp_channel_batch *b)
{
	struct hp_ring *r = b->ring;

	if (!r || !b->offered)
		return;
	if (b->mm)
		hp_ring_commit(b);
	/* One writer per ring: plain adds, torn-free 64-bit stores. */
	WRITE_ONCE(r->received[b->source], r->received[b->source] + b->offered);
	if (b->dropped) {
		WRITE_ONCE(r->dropped[b->source],
			   r->dropped[b->source] + b->dropped);
		trace_hyperplace_drop(b->source, b->dropped,
				      b->mm ? "channel full" : "no mm");
	}
}

/* Hand a run of samples to the sink, skipping headers. */
static unsigned long hp_ring_drain(struct hp_ring *r, unsigned int budget,
				   hp_channel_sink_t sink, void *arg)
{
	struct hp_sample buf[64];
	unsigned long done = 0;
	unsigned int n, i, run;

	while (budget && (n = kfifo_out(&r->fifo, buf,
					min_t(unsigned int, budget,
					      ARRAY_SIZE(buf))))) {
		budget -= n;
		for (i = 0; i < n; i += run) {
			if (buf[i].source == HP_CHAN_HEADER) {
				if (r->cons_mm)
					mmdrop(r->cons_mm);
				r->cons_mm = (void *)(unsigned long)buf[i].addr;
				run = 1;
				continue;
			}
			for (run = 1; i + run < n &&
			     buf[i + run].source != HP_CHAN_HEADER; run++)
				;
			/* A chunk always starts with its header. */
			if (!WARN_ON_ONCE(!r->cons_mm))
				sink(arg, r->cons_mm, &buf[i], run);
			done += run;
		}
	}
	/* Keep the mm only if we stopped inside a chunk. */
	if (r->cons_mm && kfifo_is_empty(&r->fifo)) {
		mmdrop(r->cons_mm);
		r->cons_mm = NULL;
	}
	return done;
}

/**
 * hp_channel_drain() - pass the committed samples of every ring to @sink
 * @ch: the channel
 * @sink: called for each run of samples of one mm; may sleep
 * @arg: passed to @sink
 *
 * Reads at most one ring's capacity from each ring, so a flooding
 * producer cannot keep the caller here.
 *
 * Return: the number of samples passed to @sink.
 */
unsigned long hp_channel_drain(struct hp_channel *ch, hp_channel_sink_t sink,
			       void *arg)
{
	unsigned long done = 0;
	int cpu, l;

	mutex_lock(&ch->drain_lock);
	for_each_possible_cpu(cpu) {
		struct hp_cpu_rings *cr = per_cpu_ptr(ch->rings, cpu);

		if (!hp_channel_ringed(ch, cpu))
			continue;
		for (l = 0; l < HP_LEVELS; l++)
			done += hp_ring_drain(&cr->level[l], ch->entries,
					      sink, arg);
	}
	mutex_unlock(&ch->drain_lock);
	return done;
}

/**
 * hp_channel_counts() - samples offered to and lost by a channel
 * @ch: the channel
 * @source: which source
 * @received: samples offered, summed over CPUs and levels
 * @dropped: of those, samples lost (no room, or no mm)
 */
void hp_channel_counts(struct hp_channel *ch, enum hp_source source,
		       u64 *received, u64 *dropped)
{
	int cpu, l;

	*received = 0;
	*dropped = 0;
	for_each_possible_cpu(cpu) {
		struct hp_cpu_rings *cr = per_cpu_ptr(ch->rings, cpu);

		for (l = 0; l < HP_LEVELS; l++) {
			*received += READ_ONCE(cr->level[l].received[source]);
			*dropped += READ_ONCE(cr->level[l].dropped[source]);
		}
	}
}

/**
 * hp_channel_set_system() - make @ch the channel that sources write to
 * @ch: the channel, or NULL to stop writes
 *
 * After it returns, no producer still writes to the previous channel.
 *
 * Return: the previous channel.
 */
struct hp_channel *hp_channel_set_system(struct hp_channel *ch)
{
	struct hp_channel *old = xchg(&hp_system_channel, ch);

	/* Producers run with preemption or interrupts off. */
	synchronize_rcu();
	return old;
}
