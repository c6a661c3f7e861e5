/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * HyperPlace internals shared by the files of mm/hyperplace/.
 */
#ifndef __MM_HYPERPLACE_INTERNAL_H
#define __MM_HYPERPLACE_INTERNAL_H

#include <linux/hyperplace.h>
#include <linux/atomic.h>
#include <linux/compiler.h>
#include <linux/jiffies.h>
#include <linux/list.h>
#include <linux/mutex.h>
#include <linux/nodemask.h>
#include <linux/types.h>

#include "range.h"

struct mem_cgroup;
struct mm_struct;
struct vm_area_struct;

/**
 * struct hp_mm - HyperPlace state of one mm (mm->hyperplace)
 * @mm: the mm; valid while @node is on the list of managed mms
 * @space: its ranges, serialized by hp_spaces_lock
 * @node: link in the list of managed mms
 * @pid: thread group id of the task it was first seen in (for reports)
 * @samples: samples filed into @space, per source
 *
 * Attached by the HyperPlace thread while it holds an mm_users
 * reference; freed by hyperplace_mm_exit().
 */
struct hp_mm {
	struct mm_struct *mm;
	struct hp_space *space;
	struct list_head node;
	pid_t pid;
	u64 samples[HP_NR_SOURCES];
};

/**
 * struct hp_source_stats - what became of the samples of one source
 * @attributed: filed into a range
 * @outside: no range covered the address (or the mm's state could not
 *	be allocated)
 * @exited: the mm had exited by the time the samples were filed
 */
struct hp_source_stats {
	u64 attributed;
	u64 outside;
	u64 exited;
};

/**
 * struct hp_sink_stats - what hp_file_samples() did with the samples of
 *	one channel, per source
 * @attributed: see &struct hp_source_stats
 * @outside: see &struct hp_source_stats
 * @exited: see &struct hp_source_stats
 */
struct hp_sink_stats {
	atomic64_t attributed[HP_NR_SOURCES];
	atomic64_t outside[HP_NR_SOURCES];
	atomic64_t exited[HP_NR_SOURCES];
};

/**
 * enum hp_source_mode - which source the administrator asked for
 * @HP_MODE_AUTO: PEBS if the CPU has it, else the Accessed-bit sampler
 * @HP_MODE_PEBS: PEBS only
 * @HP_MODE_ABIT: the Accessed-bit sampler only
 * @HP_NR_MODES: number of modes
 */
enum hp_source_mode {
	HP_MODE_AUTO,
	HP_MODE_PEBS,
	HP_MODE_ABIT,
	HP_NR_MODES,
};

/**
 * enum hp_scope - which processes HyperPlace places
 * @HP_SCOPE_ALL: every process that did not opt out (PR_SET_HYPERPLACE)
 * @HP_SCOPE_OPTED_IN: only processes that opted in
 * @HP_NR_SCOPES: number of scopes
 */
enum hp_scope {
	HP_SCOPE_ALL,
	HP_SCOPE_OPTED_IN,
	HP_NR_SCOPES,
};

/**
 * struct hp_config - the knobs of /sys/kernel/mm/hyperplace/
 * @enabled: sampling and classification run
 * @mode: the requested source
 * @pebs: events of the PEBS source
 * @abit_interval_ms: period of the Accessed-bit sampler
 * @abit_pages: pages the Accessed-bit sampler checks per period, over all
 *	processes (its CPU budget)
 * @epoch_ms: period of the classifier's epochs
 * @scope: which processes are placed
 * @migrate: pages are moved (else ranges are only classified)
 * @rate_limit_mib: MiB per second that may move between the tiers
 * @headroom_pct: percent of the fast node kept free, on top of its high
 *	watermarks
 * @range: parameters of the range classifier, applied to every process
 */
struct hp_config {
	bool enabled;
	enum hp_source_mode mode;
	enum hp_scope scope;
	bool migrate;
	unsigned int rate_limit_mib;
	unsigned int headroom_pct;
	struct hp_range_params range;
	struct hp_pebs_config pebs;
	unsigned int abit_interval_ms;
	unsigned int abit_pages;
	unsigned int epoch_ms;
};

#define HP_ABIT_INTERVAL_DEF	200
#define HP_ABIT_INTERVAL_MIN	10
#define HP_ABIT_INTERVAL_MAX	60000
#define HP_ABIT_PAGES_DEF	512
#define HP_ABIT_PAGES_MIN	1
#define HP_ABIT_PAGES_MAX	65536
#define HP_EPOCH_DEF		1000
#define HP_EPOCH_MIN		10
#define HP_EPOCH_MAX		600000
#define HP_CHANNEL_ENTRIES	2048
#define HP_RATE_LIMIT_DEF	256
#define HP_RATE_LIMIT_MIN	1
#define HP_RATE_LIMIT_MAX	65536
#define HP_HEADROOM_DEF		2
#define HP_HEADROOM_MAX		50

/* channel.c */
struct hp_channel *hp_channel_set_system(struct hp_channel *ch);

/* config.c */
extern struct mutex hp_config_lock;
extern struct hp_config hp_config;
extern const char *const hp_mode_names[HP_NR_MODES];
int hp_config_valid(const struct hp_config *c);
extern bool hp_idle;
void hp_kick(void);
bool hp_wait_kick(long timeout);

/* When a period of @ms milliseconds, backed off @backoff times, ends. */
static inline unsigned long hp_due(unsigned long last, unsigned int ms,
				   unsigned int backoff)
{
	return last + msecs_to_jiffies(ms * backoff);
}

/* mms.c */
extern struct mutex hp_mms_lock;
extern struct mutex hp_spaces_lock;
extern struct list_head hp_mms;
int hp_mms_init(void);
void hp_mms_exit(void);
unsigned int hp_nr_mms(void);
bool hp_mm_wanted(struct mm_struct *mm);
bool hp_mms_any_wanted(void);
bool hp_vma_managed(struct vm_area_struct *vma);
struct hp_mm *hp_mm_attach(struct mm_struct *mm, pid_t pid);
struct mm_struct **hp_mms_get(unsigned int *nr);
void hp_mms_put(struct mm_struct **mms, unsigned int nr);
void hp_mms_epoch(struct mm_struct **mms, unsigned int nr,
		  const struct hp_range_params *params);
bool hp_mms_sync(void);
void hp_file_samples(void *arg, struct mm_struct *mm,
		     const struct hp_sample *s, unsigned int n);
void hp_sink_stats_read(struct hp_sink_stats *ss, enum hp_source src,
			struct hp_source_stats *st);
void hp_source_counts(enum hp_source src, u64 *received, u64 *dropped,
		      struct hp_source_stats *st);
void hp_drain(void);

/* source.c */
/**
 * struct hp_source_ops - a sample source, as HyperPlace drives it
 * @id: the &enum hp_source its samples carry
 * @name: its name in active_source
 * @desc: what it is called in the kernel log
 * @supported: whether it can run on this machine; a mode that names it
 *	alone is refused if not.  NULL: always.
 * @start: start it with @cfg, or restart it with @cfg if it runs; on
 *	error it does not run.  Called under hp_config_lock.  NULL: there
 *	is nothing to start.
 * @stop: stop it; called under hp_config_lock.  NULL: nothing to stop.
 * @changed: whether knobs it reads differ between @new and @old, so that
 *	a running source must restart.  NULL: it reads the knobs at every
 *	@sample.
 * @sample: take one period's samples into the system channel; called
 *	by khyperplaced.  NULL: the source writes by itself at any time,
 *	and khyperplaced drains the channel at every tick while it runs.
 * @period_ms: the period of @sample under @cfg, before any back-off
 *
 * Sources named by a mode (see hp_sources_apply()) run one at a time;
 * the others are passive and need only @id and @name.
 */
struct hp_source_ops {
	enum hp_source id;
	const char *name;
	const char *desc;
	bool (*supported)(void);
	int (*start)(const struct hp_config *cfg);
	void (*stop)(void);
	bool (*changed)(const struct hp_config *new,
			const struct hp_config *old);
	void (*sample)(const struct hp_config *cfg);
	unsigned int (*period_ms)(const struct hp_config *cfg);
};

void hp_source_register(const struct hp_source_ops *ops);
const char *hp_source_name(enum hp_source src);
const char *hp_source_desc(enum hp_source src);
int hp_sources_apply(const struct hp_config *new, const struct hp_config *old);
void hp_sources_park(void);
int hp_sources_unpark(const struct hp_config *cfg);
bool hp_sources_parking(bool idle);
enum hp_source hp_active_source(bool *running);
void hp_sources_sample(const struct hp_config *cfg, unsigned int backoff);
bool hp_sources_next_due(const struct hp_config *cfg, unsigned int backoff,
			 unsigned long *next);

/* core.c */
int hp_config_apply(const struct hp_config *new);
bool hp_core_running(void);

/* owner.c */
void hp_owner_nodes(struct mm_struct *mm, pid_t pid, nodemask_t *allowed,
		    int *cpu_nid);

/* tiers.c */
/**
 * struct hp_tiers - the nodes HyperPlace moves pages between
 * @fast: memory nodes of the top memory tier
 * @slow: the other memory nodes
 */
struct hp_tiers {
	nodemask_t fast;
	nodemask_t slow;
};

void hp_tiers_get(struct hp_tiers *t);
void hp_tiers_update(bool force);
bool hp_tiers_changing(void);
void hp_tiers_init(void);
int hp_demote_target(const struct hp_tiers *t, const nodemask_t *allowed,
		     int nid);

/* others.c */
bool hp_yield_check(void);
const char *hp_yielded_to(void);

/* abit.c */
/**
 * struct hp_abit_stats - work of the Accessed-bit sampler
 * @scans: passes done
 * @checked: pages tested
 * @young: pages found accessed
 * @ns: time spent in passes
 * @busy: processes skipped in a pass because their mmap lock was taken
 */
struct hp_abit_stats {
	u64 scans;
	u64 checked;
	u64 young;
	u64 ns;
	u64 busy;
};

extern struct hp_abit_stats hp_abit_stats;

/* migrate.c */
/**
 * struct hp_migrate_stats - placement work, monotonic unless noted
 * @promoted: pages moved to the fast node
 * @demoted: pages moved to the slow node
 * @exchanged: of @demoted, pages demoted to make room for promotions
 * @failed: pages isolated that migrate_pages() could not move (they
 *	stayed where they were)
 * @skipped_pinned: pages not moved because they were pinned for DMA
 * @skipped_mlocked: pages not moved because they were mlocked
 * @skipped_busy: pages not moved because they could not be isolated
 * @skipped_shared: pages not moved because another process may map them
 *	(shared since fork, or KSM)
 * @skipped_mm_busy: intervals skipped because their mmap lock was taken
 * @skipped_policy: intervals skipped because the owner's cpuset or
 *	mempolicy does not allow the target node
 * @alloc_failures: epochs whose ranking or plan found no memory
 * @ranks: epochs that ranked the processes
 * @capacity: fast-node pages the hot set could use at the last rank
 *	(a gauge)
 * @hot_pages: pages in the hot set at the last rank (a gauge)
 * @ranges: ranges ranked at the last rank (a gauge)
 * @backoff: how many times slower than their knobs say sampling and
 *	epochs run now, after settled epochs (a gauge, see core.c)
 */
struct hp_migrate_stats {
	u64 promoted;
	u64 demoted;
	u64 exchanged;
	u64 failed;
	u64 skipped_pinned;
	u64 skipped_mlocked;
	u64 skipped_busy;
	u64 skipped_shared;
	u64 skipped_mm_busy;
	u64 skipped_policy;
	u64 alloc_failures;
	u64 ranks;
	u64 capacity;
	u64 hot_pages;
	u64 ranges;
	u64 backoff;
};

extern struct hp_migrate_stats hp_migrate_stats;

/* Only khyperplaced writes the counters; sysfs reads them racily. */
static inline void hp_stat_add(u64 *counter, u64 n)
{
	WRITE_ONCE(*counter, *counter + n);
}

unsigned long hp_fast_capacity(const struct hp_config *cfg,
			       const struct hp_tiers *t);
bool hp_migrate_epoch(struct mm_struct **mms, unsigned int nr,
		      const struct hp_config *cfg);
bool hp_migrate_idle(void);
void hp_migrate_step(const struct hp_config *cfg, unsigned int ms);
void hp_migrate_forget(void);
void hp_migrate_make_room(int nid, unsigned long nr_pages);

/* collect.c */
/**
 * struct hp_collect - folios isolated for one move
 * @folios: the isolated folios
 * @last: the folio looked at last (compared only, never dereferenced)
 * @memcg: the memory cgroup all of @folios are charged to (a reference
 *	is held while @folios is not empty), so that the move is counted
 *	in it
 * @from: only folios on these nodes move
 * @isolated: pages in @folios
 * @max: isolate no more pages than this
 * @scan: page lookups left in this tick: one per present page and one
 *	per page table
 * @full: a folio of another memory cgroup ended the batch
 * @next: where the walk is to go on
 */
struct hp_collect {
	struct list_head folios;
	struct folio *last;
	struct mem_cgroup *memcg;
	nodemask_t from;
	unsigned int isolated;
	unsigned int max;
	unsigned int scan;
	bool full;
	unsigned long next;
};

unsigned long hp_collect_range(struct mm_struct *mm, unsigned long addr,
			       unsigned long end, struct hp_collect *c);

#endif /* __MM_HYPERPLACE_INTERNAL_H */
