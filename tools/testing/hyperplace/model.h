/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Reference model of a space: which pages are mapped, which page
 * boundaries were ever a map/unmap end, and the expected statistics.
 * Every hpt_* operation runs the real classifier, checks its result
 * against the model and then checks all invariants.
 */
#ifndef HPT_MODEL_H
#define HPT_MODEL_H

#include <linux/types.h>
#include "range.h"

#define HPT_BASE	0x7f0000000000UL
#define HPT_PAGES	32768UL		/* a 128 MiB window per space */
#define HPT_WORDS	(HPT_PAGES / 64)
#define HPT_ADDR(pg)	(HPT_BASE + ((unsigned long)(pg) << PAGE_SHIFT))
#define HPT_PG(addr)	(((addr) - HPT_BASE) >> PAGE_SHIFT)
#define HPT_MIB(x)	((unsigned long)(x) << (20 - PAGE_SHIFT))

struct hpt_space {
	struct hp_space *s;
	u64 mapped[HPT_WORDS];
	u64 edge[HPT_WORDS + 1];
	/*
	 * The migration engine's view: pages made hot by applying every
	 * decision hp_rank() returned (or by a walk of the hot parts when
	 * decisions were dropped).  Must always equal what
	 * hp_space_is_hot() reports.
	 */
	u64 placed[HPT_WORDS];
	unsigned int min_shift;
	u64 samples;
	u64 unmatched;
};

/* A copy of a space, to check that a failed call changed nothing. */
struct hpt_snap {
	unsigned int n;
	struct hp_range *r;
	struct hp_space_stats stats;
	struct hp_range_params params;
};

void hpt_init(struct hpt_space *t, const struct hp_range_params *p);
void hpt_fini(struct hpt_space *t);
int hpt_map(struct hpt_space *t, unsigned long pg, unsigned long n);
int hpt_unmap(struct hpt_space *t, unsigned long pg, unsigned long n);
bool hpt_record(struct hpt_space *t, unsigned long addr, u32 weight);
int hpt_epoch(struct hpt_space *t);
int hpt_set_params(struct hpt_space *t, const struct hp_range_params *p);
int hpt_rank(struct hpt_space **ts, unsigned int n, unsigned long fast,
	     const struct hp_range_params *p, unsigned int max_dec,
	     struct hp_rank_result *res);
void hpt_check(struct hpt_space *t);
/* Set t->placed to the hot parts of t's ranges (the engine's full walk). */
void hpt_placed_sync(struct hpt_space *t);

u64 hpt_total(const struct hp_space *s);
unsigned long hpt_intervals(const struct hpt_space *t);
unsigned long hpt_mapped_pages(const struct hpt_space *t);

void hpt_snap_take(struct hpt_snap *sn, const struct hp_space *s);
bool hpt_snap_same(const struct hpt_snap *sn, const struct hp_space *s);
void hpt_snap_free(struct hpt_snap *sn);
u64 hpt_total_snap(const struct hpt_snap *sn);

/* Make the @nth allocation from now fail (0: none). */
void hpt_fail_alloc(int nth);

#endif
