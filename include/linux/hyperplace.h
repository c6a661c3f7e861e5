/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * HyperPlace: sampled tiered-memory placement.
 *
 * Interfaces between HyperPlace (mm/hyperplace/) and the rest of the
 * kernel: the mm lifecycle hooks, the sample channel that every sample
 * source writes into, and the PEBS source of arch/x86/events/intel/.
 */
#ifndef _LINUX_HYPERPLACE_H
#define _LINUX_HYPERPLACE_H

#include <linux/errno.h>
#include <linux/types.h>

struct mm_struct;

/**
 * enum hp_source - where a sample comes from
 * @HP_SRC_PEBS: PEBS records drained at context switch or from the PMI
 * @HP_SRC_ABIT: the page-table Accessed-bit sampler
 * @HP_SRC_INJECT: debugfs injection (CONFIG_HYPERPLACE_DEBUG, tests only)
 * @HP_NR_SOURCES: number of sources
 */
enum hp_source {
	HP_SRC_PEBS,
	HP_SRC_ABIT,
	HP_SRC_INJECT,
	HP_NR_SOURCES,
};

/**
 * enum hp_access - what kind of access a sample saw
 * @HP_ACCESS_LOAD: a load (PEBS load-latency event)
 * @HP_ACCESS_STORE: a store (PEBS all-stores event)
 * @HP_ACCESS_ANY: an access of unknown kind (Accessed bit)
 * @HP_NR_ACCESS: number of kinds
 */
enum hp_access {
	HP_ACCESS_LOAD,
	HP_ACCESS_STORE,
	HP_ACCESS_ANY,
	HP_NR_ACCESS,
};

/**
 * struct hp_sample - one sampled access, as it travels in the channel
 * @addr: user virtual address of the access
 * @weight: load latency in core cycles for PEBS loads, else 1
 * @access: an &enum hp_access
 * @source: an &enum hp_source
 */
struct hp_sample {
	u64 addr;
	u32 weight;
	u8 access;
	u8 source;
};

struct hp_channel;
struct hp_ring;

/**
 * struct hp_channel_batch - a batch being written into a channel
 * @ring: the ring of this CPU and context level, NULL if the channel is
 *	not running (the batch is then only counted, by nobody)
 * @mm: the mm the samples belong to; NULL drops the batch (counted)
 * @source: an &enum hp_source
 * @offered: samples offered with hp_channel_add()
 * @dropped: samples that did not fit
 *
 * Opaque to its users: fill it with hp_channel_begin() and pass it to
 * hp_channel_add() and hp_channel_end() on the same CPU, in the same
 * context, without sleeping or enabling preemption in between.
 */
struct hp_channel_batch {
	struct hp_ring *ring;
	struct mm_struct *mm;
	u8 source;
	u32 offered;
	u32 dropped;
};

/**
 * typedef hp_channel_sink_t - receives drained samples
 * @arg: the argument given to hp_channel_drain()
 * @mm: the mm the samples were tagged with; only its mm_count is held,
 *	so it may have exited already (mm_users == 0)
 * @s: the samples, all of the same mm
 * @n: how many
 */
typedef void (*hp_channel_sink_t)(void *arg, struct mm_struct *mm,
				  const struct hp_sample *s, unsigned int n);

#ifdef CONFIG_HYPERPLACE
void hyperplace_mm_init(struct mm_struct *mm);
void hyperplace_mm_exit(struct mm_struct *mm);
int hyperplace_set_policy(struct mm_struct *mm, unsigned long policy);
int hyperplace_get_policy(struct mm_struct *mm);
bool hyperplace_make_room(int nid, unsigned long nr_pages);

void hp_channel_begin(struct hp_channel_batch *b, struct mm_struct *mm,
		      enum hp_source source);
struct hp_channel *hp_channel_system(void);
void hp_channel_begin_on(struct hp_channel *ch, struct hp_channel_batch *b,
			 struct mm_struct *mm, enum hp_source source);
void hp_channel_add(struct hp_channel_batch *b, u64 addr, u32 weight,
		    enum hp_access access);
void hp_channel_end(struct hp_channel_batch *b);

struct hp_channel *hp_channel_create(unsigned int entries);
void hp_channel_destroy(struct hp_channel *ch);
unsigned long hp_channel_drain(struct hp_channel *ch, hp_channel_sink_t sink,
			       void *arg);
void hp_channel_counts(struct hp_channel *ch, enum hp_source source,
		       u64 *received, u64 *dropped);
#else
static inline void hyperplace_mm_init(struct mm_struct *mm) { }
static inline void hyperplace_mm_exit(struct mm_struct *mm) { }

static inline int hyperplace_set_policy(struct mm_struct *mm,
					unsigned long policy)
{
	return -EINVAL;
}

static inline int hyperplace_get_policy(struct mm_struct *mm)
{
	return -EINVAL;
}

static inline bool hyperplace_make_room(int nid, unsigned long nr_pages)
{
	return false;
}
#endif

/**
 * struct hp_pebs_config - what the PEBS source counts
 * @load_period: load-latency events between two samples
 * @store_period: retired stores between two samples
 * @ldlat: minimum load latency in core cycles for a load to count
 */
struct hp_pebs_config {
	u64 load_period;
	u64 store_period;
	u32 ldlat;
};

#define HP_PEBS_PERIOD_MIN	1000ULL
#define HP_PEBS_PERIOD_MAX	100000000ULL
#define HP_PEBS_LOAD_PERIOD_DEF	10007ULL
#define HP_PEBS_STORE_PERIOD_DEF 100003ULL
#define HP_PEBS_LDLAT_MIN	3
#define HP_PEBS_LDLAT_MAX	65535
#define HP_PEBS_LDLAT_DEF	64

/**
 * struct hp_pebs_decoder_counts - what the PEBS decoder saw, all CPUs
 * @records: records of HyperPlace's counters
 * @zero_addr: of those, records without a data address
 * @kernel_addr: records with an address outside user space
 * @bad_format: records in a layout the decoder does not know
 */
struct hp_pebs_decoder_counts {
	u64 records;
	u64 zero_addr;
	u64 kernel_addr;
	u64 bad_format;
};

#ifdef CONFIG_HYPERPLACE_PEBS
void hp_pebs_decoder_counts(struct hp_pebs_decoder_counts *c);
int hp_pebs_start(const struct hp_pebs_config *cfg);
void hp_pebs_stop(void);
bool hp_pebs_supported(void);
int hp_pebs_bench(unsigned int records, unsigned int rounds, u64 *ns);
#else
static inline int hp_pebs_start(const struct hp_pebs_config *cfg)
{
	return -EOPNOTSUPP;
}

static inline void hp_pebs_stop(void) { }

static inline void hp_pebs_decoder_counts(struct hp_pebs_decoder_counts *c)
{
	*c = (struct hp_pebs_decoder_counts){};
}

static inline bool hp_pebs_supported(void) { return false; }

static inline int hp_pebs_bench(unsigned int records, unsigned int rounds,
				u64 *ns)
{
	return -EOPNOTSUPP;
}
#endif

#endif /* _LINUX_HYPERPLACE_H */
