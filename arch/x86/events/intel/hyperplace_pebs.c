// SPDX-License-Identifier: GPL-2.0-only
/*
 * HyperPlace PEBS source: system-wide per-CPU load-latency and all-stores
 * counters whose adaptive PEBS records perf hands over raw (see
 * <asm/pebs_consumer.h>) at sched-out to a task of another process and
 * from the PMI.  The records are decoded here, in that context, into
 * {address, latency, load/store} samples written to the HyperPlace
 * channel, tagged with the mm of the task being switched out (or
 * interrupted).  Nothing else happens here.
 */
#define pr_fmt(fmt) "hyperplace: " fmt

#include <linux/cpuhotplug.h>
#include <linux/hyperplace.h>
#include <linux/mutex.h>
#include <linux/perf_event.h>
#include <linux/printk.h>
#include <linux/sched.h>
#include <linux/sched/signal.h>
#include <asm/cpu_device_id.h>
#include <asm/intel-family.h>
#include <asm/pebs_consumer.h>
#include <asm/perf_event.h>

#include <trace/events/hyperplace.h>

#include "../perf_event.h"

/* MEM_TRANS_RETIRED.LOAD_LATENCY and MEM_INST_RETIRED.ALL_STORES. */
#define HP_EVENT_LOAD_LATENCY	0x01cd
#define HP_EVENT_ALL_STORES	0x82d0

/* Groups of an adaptive record the decoder can step over. */
#define HP_PEBS_KNOWN_GROUPS	(PEBS_DATACFG_MEMINFO | PEBS_DATACFG_GP | \
				 PEBS_DATACFG_XMMS | PEBS_DATACFG_LBRS | \
				 (0xffULL << PEBS_DATACFG_LBR_SHIFT))

/**
 * struct hp_pebs_counts - what the decoder made of the records it saw
 * @records: records of the consumer's counters
 * @samples: samples written to the channel (even if it had no room)
 * @zero_addr: records without a data address
 * @kernel_addr: records with an address outside user space
 * @bad_format: records in a layout the decoder does not know
 */
struct hp_pebs_counts {
	u64 records;
	u64 samples;
	u64 zero_addr;
	u64 kernel_addr;
	u64 bad_format;
};

/**
 * struct hp_pebs_cpu - the PEBS source on one CPU
 * @load: the load-latency counter
 * @store: the all-stores counter
 * @counts: decoder counts; written only with this CPU's PMU disabled
 */
struct hp_pebs_cpu {
	struct perf_event *load;
	struct perf_event *store;
	struct hp_pebs_counts counts;
};

static DEFINE_PER_CPU(struct hp_pebs_cpu, hp_pebs_cpu);
static DEFINE_MUTEX(hp_pebs_lock);
static struct hp_pebs_config hp_pebs_cfg;
static int hp_pebs_hp_state = -1;

/*
 * A large-PEBS counter asks perf for context-switch callbacks, and perf
 * turns those on for the first such event with static_branch_enable(),
 * which takes cpus_read_lock().  The CPU-online callback runs under the
 * hotplug lock, where that is recursive locking (lockdep says so, and a
 * pending hotplug writer would deadlock it).  This event, created
 * outside the callbacks and never enabled, keeps the callbacks on while
 * the counters run, so the callbacks never turn them on themselves.
 */
static struct perf_event *hp_pebs_keeper;
/* CPUs whose counters were created; none means no PEBS after all. */
static atomic_t hp_pebs_cpus = ATOMIC_INIT(0);

/*
 * Runs at sched-out with the rq lock held: printk must only queue the
 * message, not wake the console owner.
 */
static void hp_pebs_warn_layout(u64 group, unsigned int size,
				unsigned int record_size)
{
	unsigned long flags;

	/* Already off when perf drains; the KUnit suite calls with them on. */
	local_irq_save(flags);
	printk_deferred_enter();
	pr_warn_ratelimited("PEBS record layout %#llx size %u (record size %u) not understood; such records are dropped\n",
			    group, size, record_size);
	printk_deferred_exit();
	local_irq_restore(flags);
}

/* Size of a record with the groups of @format_group, 0 if unknown. */
static unsigned int hp_pebs_record_size(u64 format_group)
{
	unsigned int size = sizeof(struct pebs_basic);

	if (format_group & ~HP_PEBS_KNOWN_GROUPS)
		return 0;
	if (format_group & PEBS_DATACFG_MEMINFO)
		size += sizeof(struct pebs_meminfo);
	if (format_group & PEBS_DATACFG_GP)
		size += sizeof(struct pebs_gprs);
	if (format_group & PEBS_DATACFG_XMMS)
		size += sizeof(struct pebs_xmm);
	if (format_group & PEBS_DATACFG_LBRS)
		size += ((format_group >> PEBS_DATACFG_LBR_SHIFT) + 1) *
			sizeof(struct lbr_entry);
	return size;
}

/**
 * hp_pebs_decode() - turn the records of one counter into samples
 * @b: channel batch the samples go to
 * @base: first record of the buffer
 * @top: end of the last record
 * @record_size: distance between records
 * @bit: index of the counter; other counters' records are skipped
 * @access: HP_ACCESS_LOAD or HP_ACCESS_STORE
 * @split_latency: the memory-info latency field holds the instruction and
 *	cache latencies in 16-bit halves (Alder Lake and later); otherwise
 *	it holds the load latency
 * @c: counts to add to
 *
 * Each record holds the basic group, then the memory-info group; the
 * layout (format_group, format_size) is checked record by record.
 */
static void hp_pebs_decode(struct hp_channel_batch *b, const void *base,
			   const void *top, unsigned int record_size, int bit,
			   enum hp_access access, bool split_latency,
			   struct hp_pebs_counts *c)
{
	const void *at;

	/* perf's stride; a bad one must not loop or read past @top. */
	if (unlikely(record_size < sizeof(struct pebs_basic) +
		     sizeof(struct pebs_meminfo))) {
		c->bad_format++;
		return;
	}
	for (at = base; at + record_size <= top; at += record_size) {
		const struct pebs_basic *basic = at;
		const struct pebs_meminfo *mi = at + sizeof(*basic);
		u64 group = basic->format_group;
		unsigned int size;
		u32 weight = 1;

		if (!(basic->applicable_counters & BIT_ULL(bit)))
			continue;
		c->records++;
		size = hp_pebs_record_size(group);
		if (!(group & PEBS_DATACFG_MEMINFO) || !size ||
		    size != basic->format_size || size > record_size) {
			hp_pebs_warn_layout(group, basic->format_size,
					    record_size);
			c->bad_format++;
			continue;
		}
		if (!mi->address) {
			c->zero_addr++;
			continue;
		}
		if (mi->address >= TASK_SIZE_MAX) {
			c->kernel_addr++;
			continue;
		}
		if (access == HP_ACCESS_LOAD)
			weight = split_latency ? mi->cache_latency :
				 min_t(u64, mi->mem_latency, U32_MAX);
		hp_channel_add(b, mi->address, weight, access);
		c->samples++;
	}
}

/* Decode one counter's records into @ch, as samples of @mm. */
static void hp_pebs_consume_on(struct hp_channel *ch, struct mm_struct *mm,
			       const void *base, const void *top,
			       unsigned int record_size, int bit,
			       enum hp_access access, bool split_latency,
			       struct hp_pebs_counts *c)
{
	struct hp_pebs_counts before = *c;
	struct hp_channel_batch b;

	hp_channel_begin_on(ch, &b, mm, HP_SRC_PEBS);
	hp_pebs_decode(&b, base, top, record_size, bit, access, split_latency,
		       c);
	hp_channel_end(&b);
	trace_hyperplace_pebs_drain(c->records - before.records,
				    c->samples - before.samples,
				    c->zero_addr - before.zero_addr,
				    c->kernel_addr - before.kernel_addr,
				    c->bad_format - before.bad_format,
				    access == HP_ACCESS_STORE);
}

static void hp_pebs_consume(struct perf_event *event, const void *base,
			    const void *top, unsigned int record_size, int bit)
{
	struct hp_pebs_cpu *pc = this_cpu_ptr(&hp_pebs_cpu);
	enum hp_access access;

	/* By event code: the counter may run before pc->store is set. */
	access = event->attr.config == HP_EVENT_ALL_STORES ?
		 HP_ACCESS_STORE : HP_ACCESS_LOAD;
	/*
	 * The counters count user space only and the buffer is drained at
	 * every switch to another process (perf skips switches between
	 * threads of one, which share the mm), so the records are those of
	 * the current task's mm.
	 */
	hp_pebs_consume_on(hp_channel_system(), current->mm, base, top,
			   record_size, bit, access,
			   x86_pmu.flags & PMU_FL_INSTR_LATENCY, &pc->counts);
}

static const struct x86_pebs_consumer hp_pebs_consumer = {
	.consume = hp_pebs_consume,
};

/* Never called for records perf hands over; required by perf. */
static void hp_pebs_overflow(struct perf_event *event,
			     struct perf_sample_data *data,
			     struct pt_regs *regs)
{
}

static struct perf_event *hp_pebs_event(int cpu, u64 config, u64 ldlat,
					u64 period, bool disabled)
{
	struct perf_event_attr attr = {
		.type		= PERF_TYPE_RAW,
		.size		= sizeof(attr),
		.config		= config,
		.config1	= ldlat,
		.sample_period	= period,
		.sample_type	= PERF_SAMPLE_ADDR | PERF_SAMPLE_WEIGHT_STRUCT,
		.precise_ip	= 2,
		.pinned		= 1,
		.disabled	= disabled,
		.exclude_kernel	= 1,
		.exclude_hv	= 1,
	};

	return perf_event_create_kernel_counter(&attr, cpu, NULL,
						hp_pebs_overflow,
						(void *)&hp_pebs_consumer);
}

static void hp_pebs_release(struct perf_event **event)
{
	if (*event) {
		perf_event_release_kernel(*event);
		*event = NULL;
	}
}

static int hp_pebs_cpu_online(unsigned int cpu)
{
	struct hp_pebs_cpu *pc = per_cpu_ptr(&hp_pebs_cpu, cpu);
	struct perf_event *load, *store;

	load = hp_pebs_event(cpu, HP_EVENT_LOAD_LATENCY, hp_pebs_cfg.ldlat,
			     hp_pebs_cfg.load_period, false);
	store = hp_pebs_event(cpu, HP_EVENT_ALL_STORES, 0,
			      hp_pebs_cfg.store_period, false);
	/* A CPU without samples is better than a CPU that stays offline. */
	if (IS_ERR(load) || IS_ERR(store)) {
		pr_warn("no PEBS counters on CPU %u: %ld\n", cpu,
			PTR_ERR(IS_ERR(load) ? load : store));
		if (!IS_ERR(load))
			perf_event_release_kernel(load);
		if (!IS_ERR(store))
			perf_event_release_kernel(store);
		return 0;
	}
	WRITE_ONCE(pc->load, load);
	WRITE_ONCE(pc->store, store);
	atomic_inc(&hp_pebs_cpus);
	return 0;
}

static int hp_pebs_cpu_offline(unsigned int cpu)
{
	struct hp_pebs_cpu *pc = per_cpu_ptr(&hp_pebs_cpu, cpu);

	if (pc->load)
		atomic_dec(&hp_pebs_cpus);
	hp_pebs_release(&pc->load);
	hp_pebs_release(&pc->store);
	return 0;
}

/**
 * hp_pebs_decoder_counts() - what the decoder made of the records so far
 * @c: filled with the sums over all CPUs
 */
void hp_pebs_decoder_counts(struct hp_pebs_decoder_counts *c)
{
	int cpu;

	memset(c, 0, sizeof(*c));
	for_each_possible_cpu(cpu) {
		const struct hp_pebs_counts *pc =
			&per_cpu_ptr(&hp_pebs_cpu, cpu)->counts;

		c->records += READ_ONCE(pc->records);
		c->zero_addr += READ_ONCE(pc->zero_addr);
		c->kernel_addr += READ_ONCE(pc->kernel_addr);
		c->bad_format += READ_ONCE(pc->bad_format);
	}
}

/* Atom cores with adaptive PEBS number their memory events differently. */
static const struct x86_cpu_id hp_pebs_atom_cpus[] = {
	X86_MATCH_VFM(INTEL_ATOM_TREMONT_D, NULL),
	X86_MATCH_VFM(INTEL_ATOM_TREMONT, NULL),
	X86_MATCH_VFM(INTEL_ATOM_TREMONT_L, NULL),
	X86_MATCH_VFM(INTEL_ATOM_GRACEMONT, NULL),
	X86_MATCH_VFM(INTEL_ATOM_CRESTMONT_X, NULL),
	X86_MATCH_VFM(INTEL_ATOM_CRESTMONT, NULL),
	X86_MATCH_VFM(INTEL_ATOM_DARKMONT_X, NULL),
	{}
};

/* Why this CPU cannot feed HyperPlace, or NULL if it can. */
static const char *hp_pebs_missing(void)
{
	if (boot_cpu_data.x86_vendor != X86_VENDOR_INTEL || !x86_pmu.version)
		return "no Intel PMU";
	if (!x86_pmu.pebs)
		return "no PEBS";
	if (x86_pmu.intel_cap.pebs_format < 4 ||
	    !x86_pmu.intel_cap.pebs_baseline)
		return "no adaptive PEBS (format 4 with baseline)";
	if (is_hybrid())
		return "hybrid PMU not supported";
	if (x86_match_cpu(hp_pebs_atom_cpus))
		return "Atom core events not supported";
	/* Sapphire and Emerald Rapids pair load latency with event 0x8203. */
	if (x86_pmu.flags & PMU_FL_MEM_LOADS_AUX)
		return "load latency needs an auxiliary event (not supported)";
	return NULL;
}

/**
 * hp_pebs_supported() - whether the CPU gives PEBS data addresses
 *
 * Return: true on Ice Lake and later non-hybrid Intel CPUs with PEBS.
 */
bool hp_pebs_supported(void)
{
	return !hp_pebs_missing();
}

/* Stop what hp_pebs_start() started; hp_pebs_lock held. */
static void hp_pebs_teardown(void)
{
	if (hp_pebs_hp_state >= 0) {
		cpuhp_remove_state(hp_pebs_hp_state);
		hp_pebs_hp_state = -1;
	}
	hp_pebs_release(&hp_pebs_keeper);
	x86_pebs_consumer_unregister(&hp_pebs_consumer);
}

/**
 * hp_pebs_start() - start the counters on every online CPU
 * @cfg: periods and load-latency threshold, already validated
 *
 * Restarts the counters if they run.  Says once in the kernel log why
 * PEBS cannot be used on this CPU.
 *
 * Return: 0, -EOPNOTSUPP without usable PEBS, -ENODEV if no CPU got its
 * counters, or another error of the CPU hotplug setup; on error nothing
 * runs.
 */
int hp_pebs_start(const struct hp_pebs_config *cfg)
{
	const char *missing = hp_pebs_missing();
	int ret;

	if (missing) {
		pr_info_once("PEBS source unavailable: %s\n", missing);
		return -EOPNOTSUPP;
	}
	mutex_lock(&hp_pebs_lock);
	if (hp_pebs_hp_state >= 0)
		hp_pebs_teardown();
	hp_pebs_cfg = *cfg;
	ret = x86_pebs_consumer_register(&hp_pebs_consumer);
	if (ret)
		goto out;
	hp_pebs_keeper = hp_pebs_event(raw_smp_processor_id(),
				       HP_EVENT_ALL_STORES, 0,
				       hp_pebs_cfg.store_period, true);
	if (IS_ERR(hp_pebs_keeper)) {
		ret = PTR_ERR(hp_pebs_keeper);
		hp_pebs_keeper = NULL;
		hp_pebs_teardown();
		goto out;
	}
	ret = cpuhp_setup_state(CPUHP_AP_ONLINE_DYN, "hyperplace/pebs:online",
				hp_pebs_cpu_online, hp_pebs_cpu_offline);
	if (ret < 0) {
		hp_pebs_teardown();
		goto out;
	}
	hp_pebs_hp_state = ret;
	ret = 0;
	if (!atomic_read(&hp_pebs_cpus)) {
		pr_info_once("PEBS source unavailable: no CPU accepted the counters\n");
		hp_pebs_teardown();
		ret = -ENODEV;
	}
out:
	mutex_unlock(&hp_pebs_lock);
	return ret;
}

/**
 * hp_pebs_stop() - release the counters of every CPU
 */
void hp_pebs_stop(void)
{
	mutex_lock(&hp_pebs_lock);
	if (hp_pebs_hp_state >= 0)
		hp_pebs_teardown();
	mutex_unlock(&hp_pebs_lock);
}

#ifdef CONFIG_HYPERPLACE_DEBUG
#include <linux/slab.h>
#include <linux/timekeeping.h>

static void hp_pebs_bench_sink(void *arg, struct mm_struct *mm,
			       const struct hp_sample *s, unsigned int n)
{
	*(unsigned long *)arg += n;
}

/* Fill @buf with @n load records of counter 0 (basic + memory info). */
static void hp_pebs_fill(void *buf, unsigned int n)
{
	unsigned int i;

	for (i = 0; i < n; i++) {
		struct pebs_basic *basic = buf + i * 64;
		struct pebs_meminfo *mi = (void *)(basic + 1);

		basic->format_group = PEBS_DATACFG_MEMINFO;
		basic->format_size = 64;
		basic->applicable_counters = 1;
		basic->ip = 0x401000;
		mi->address = 0x7f0000000000ULL + i * 4096ULL;
		mi->mem_latency = 100 + i;
	}
}

/**
 * hp_pebs_bench() - cost of the consumer per record, synthetic records
 * @records: records per drained buffer, 1..4096
 * @rounds: buffers to decode
 * @ns: time spent in the consumer, in total
 *
 * Runs the real decoder and channel code on buffers laid out as the
 * hardware writes them, into a private channel drained (untimed) after
 * each buffer, with interrupts off while timing.
 *
 * Return: 0, -EINVAL for bad counts, -ENOMEM, or -EIO if samples were
 * lost.
 */
int hp_pebs_bench(unsigned int records, unsigned int rounds, u64 *ns)
{
	struct hp_pebs_counts c = {};
	unsigned long drained = 0;
	struct hp_channel *ch;
	unsigned int i;
	void *buf;
	int ret = 0;

	if (!records || records > 4096 || !rounds || rounds > 100000)
		return -EINVAL;
	buf = kvzalloc(records * 64, GFP_KERNEL);
	ch = hp_channel_create(2 * records + 128);
	if (!buf || IS_ERR(ch)) {
		ret = -ENOMEM;
		goto out;
	}
	hp_pebs_fill(buf, records);
	*ns = 0;
	for (i = 0; i < rounds; i++) {
		unsigned long flags;
		u64 t0;

		local_irq_save(flags);
		t0 = ktime_get_ns();
		hp_pebs_consume_on(ch, current->mm, buf, buf + records * 64,
				   64, 0, HP_ACCESS_LOAD, false, &c);
		*ns += ktime_get_ns() - t0;
		local_irq_restore(flags);
		hp_channel_drain(ch, hp_pebs_bench_sink, &drained);
		if (fatal_signal_pending(current)) {
			ret = -EINTR;
			goto out;
		}
		cond_resched();
	}
	if (drained != (unsigned long)records * rounds)
		ret = -EIO;
out:
	if (!IS_ERR(ch))
		hp_channel_destroy(ch);
	kvfree(buf);
	return ret;
}
#endif

#ifdef CONFIG_HYPERPLACE_KUNIT_TEST
#include "hyperplace_pebs_kunit.c"
#endif
