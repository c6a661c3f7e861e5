// SPDX-License-Identifier: GPL-2.0
/*
 * libFuzzer target for mm/hyperplace/range.c.  The input is a byte code of
 * operations on three spaces: map, unmap, mremap-like moves, samples,
 * epochs, rankings, parameter changes, process exits and allocation
 * failures.  Each operation goes through the reference model (model.c,
 * snap.c, rankref.c), which checks every invariant after every call; a
 * failed check aborts, so libFuzzer keeps the input as a crash.
 *
 * Samples carry no load/store type: hp_space_record() takes none (mms.c
 * records every PEBS or A-bit sample with weight 1), so the byte code
 * varies the address and the weight instead.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "bits.h"
#include "tests.h"

#define FZ_NSP		3
/* Bounds the work of one input; libFuzzer's -max_len bounds it too. */
#define FZ_MAX_OPS	512
/* rankref.c is O(R^2): skip rankings that would take seconds. */
#define FZ_RANK_MAX_R	3000
#define FZ_MAX_DEC	4096

/* FZ_TRACE=1 in the environment prints each operation, to read a crash. */
static bool fz_tracing;
#define FZ_LOG(...)							\
	do {								\
		if (fz_tracing)						\
			fprintf(stderr, __VA_ARGS__);			\
	} while (0)

/* The spaces of one input, static: each holds 12 KiB of bitmaps. */
static struct hpt_space fz_sp[FZ_NSP];
#define FZ_ID(t)	((int)((t) - fz_sp))

struct fz_in {
	const u8 *p;
	size_t n;
};

/* @k bytes, little endian; zeros once the input is used up. */
static unsigned long fz_get(struct fz_in *in, unsigned int k)
{
	unsigned long v = 0;
	unsigned int i;

	for (i = 0; i < k && in->n; i++, in->p++, in->n--)
		v |= (unsigned long)*in->p << (8 * i);
	return v;
}

static unsigned int fz_u8(struct fz_in *in)
{
	return fz_get(in, 1);
}

static unsigned int fz_u16(struct fz_in *in)
{
	return fz_get(in, 2);
}

static unsigned int fz_u32(struct fz_in *in)
{
	return fz_get(in, 4);
}

static unsigned long fz_min(unsigned long a, unsigned long b)
{
	return a < b ? a : b;
}

/* The model counts failed checks; the fuzzer needs a crash. */
static void fz_check(void)
{
	if (hpt_failures())
		abort();
}

/* A check of the fuzzer's own; the model reports which one failed. */
#define FZ_REQUIRE(cond)						\
	do {								\
		CHECK(cond);						\
		fz_check();						\
	} while (0)

/*
 * An interval of the window in pages.  Sizes come in classes so that
 * both single pages and whole windows are likely; the high bits align
 * it to 64 KiB or 2 MiB, the granularities the splits use.
 */
static void fz_interval(struct fz_in *in, unsigned long *pg, unsigned long *n)
{
	static const unsigned long max[] = { 1, 16, 512, 4096, HPT_PAGES };
	static const unsigned long align[] = { 1, 1, 16, HPT_MIB(2) };
	unsigned int c = fz_u8(in);
	unsigned long a = align[c >> 6], m;

	*pg = fz_u16(in) % HPT_PAGES / a * a;
	m = fz_min(max[c % ARRAY_SIZE(max)], HPT_PAGES - *pg);
	*n = 1 + fz_u16(in) % m;
	if (*n >= a)
		*n = *n / a * a;
}

/* The first mapped page at or after @pg, wrapping; @pg if none is. */
static unsigned long fz_mapped_page(const struct hpt_space *t,
				    unsigned long pg)
{
	unsigned long i, w, first = pg / 64;
	u64 v;

	for (i = 0; i <= HPT_WORDS; i++) {
		w = (first + i) % HPT_WORDS;
		v = t->mapped[w];
		if (!i)
			v &= ~0ULL << (pg % 64);
		if (v)
			return w * 64 + __builtin_ctzll(v);
	}
	return pg;
}

/* Mostly mapped addresses, some anywhere, some far outside the window. */
static unsigned long fz_addr(struct fz_in *in, const struct hpt_space *t)
{
	unsigned int c = fz_u8(in);
	unsigned long pg = fz_u16(in) % HPT_PAGES;
	unsigned long off = fz_u16(in) % PAGE_SIZE;

	switch (c % 8) {
	case 0 ... 3:
		return HPT_ADDR(fz_mapped_page(t, pg)) + off;
	case 4:
		return HPT_ADDR(pg) + off;
	case 5:
		return HPT_BASE - 1 - (pg << PAGE_SHIFT) - off;
	case 6:
		return HPT_ADDR(HPT_PAGES) + (pg << PAGE_SHIFT) + off;
	default:
		return fz_get(in, 8);
	}
}

/* 1 as the kernel records, else a small or any 32-bit weight. */
static u32 fz_weight(struct fz_in *in)
{
	unsigned int c = fz_u8(in);

	switch (c % 4) {
	case 0:
	case 1:
		return 1;
	case 2:
		return c >> 2;
	default:
		return fz_u32(in);
	}
}

/* A burst of samples, @stride pages apart, to make ranges busy. */
static void fz_record(struct fz_in *in, struct hpt_space *t)
{
	unsigned long addr = fz_addr(in, t);
	unsigned int i, n = 1 + fz_u8(in) % 64, stride = fz_u8(in) % 32;
	u32 weight = fz_weight(in);

	FZ_LOG("record sp%d addr %#lx n %u stride %u weight %u\n",
	       FZ_ID(t), addr, n, stride, weight);
	for (i = 0; i < n; i++)
		hpt_record(t, addr + ((unsigned long)i * stride << PAGE_SHIFT),
			   weight);
}

static void fz_sweep(struct fz_in *in, struct hpt_space *t)
{
	unsigned long pg, n, k;
	u32 weight;

	fz_interval(in, &pg, &n);
	weight = fz_weight(in);
	k = 1 + fz_u16(in) % 1024;
	FZ_LOG("sweep sp%d pg %#lx n %#lx samples %lu weight %u\n", FZ_ID(t),
	       pg, n, k, weight);
	hpt_sweep(t, HPT_ADDR(pg), HPT_ADDR(pg + n), k, weight);
}

/* mremap(): unmap the old place, map the new one of the same size. */
static void fz_move(struct fz_in *in, struct hpt_space *t)
{
	unsigned long pg, n, to = fz_u16(in) % HPT_PAGES;

	fz_interval(in, &pg, &n);
	FZ_LOG("move sp%d pg %#lx n %#lx to %#lx\n", FZ_ID(t), pg, n, to);
	if (hpt_unmap(t, pg, n))
		return;
	hpt_map(t, to, fz_min(n, HPT_PAGES - to));
}

/* Small mappings apart: more intervals than a cap, gaps for one map. */
static void fz_scatter(struct fz_in *in, struct hpt_space *t)
{
	unsigned long pg = fz_u16(in) % HPT_PAGES, len = 1 + fz_u8(in) % 16;
	unsigned long gap = 1 + fz_u8(in) % 64, n = 1 + fz_u8(in) % 64, i;

	FZ_LOG("scatter sp%d pg %#lx len %#lx gap %#lx n %lu\n", FZ_ID(t), pg,
	       len, gap, n);
	for (i = 0; i < n && pg + len <= HPT_PAGES; i++, pg += len + gap)
		hpt_map(t, pg, len);
}

/* Empty, reversed, unaligned or wrapping intervals change nothing. */
static void fz_bad_interval(struct fz_in *in, struct hpt_space *t)
{
	unsigned int c = fz_u8(in);
	unsigned long start = HPT_ADDR(fz_u16(in) % HPT_PAGES), end;
	struct hpt_snap sn;
	int err;

	switch (c % 5) {
	case 0:
		end = start;
		break;
	case 1:
		end = start - PAGE_SIZE;
		break;
	case 2:
		end = start + PAGE_SIZE;
		start += 1 + fz_u16(in) % (PAGE_SIZE - 1);
		break;
	case 3:
		end = start + PAGE_SIZE + 1 + fz_u16(in) % (PAGE_SIZE - 1);
		break;
	default:
		start = -PAGE_SIZE;
		end = PAGE_SIZE * (fz_u8(in) % 2);
		break;
	}
	FZ_LOG("bad %s sp%d %#lx-%#lx\n", c & 0x80 ? "unmap" : "map",
	       FZ_ID(t), start, end);
	hpt_snap_take(&sn, t->s);
	err = c & 0x80 ? hp_space_unmap(t->s, start, end) :
			 hp_space_map(t->s, start, end);
	FZ_REQUIRE(err == -EINVAL && hpt_snap_same(&sn, t->s));
	hpt_snap_free(&sn);
}

/* Unmapping what was never mapped (outside the window) changes nothing. */
static void fz_unmap_outside(struct fz_in *in, struct hpt_space *t)
{
	unsigned long n = 1 + fz_u16(in), start, end;
	struct hpt_snap sn;

	if (fz_u8(in) & 1) {
		start = HPT_ADDR(HPT_PAGES);
		end = start + (n << PAGE_SHIFT);
	} else {
		end = HPT_BASE;
		start = end - (n << PAGE_SHIFT);
	}
	FZ_LOG("unmap outside sp%d %#lx-%#lx\n", FZ_ID(t), start, end);
	hpt_snap_take(&sn, t->s);
	FZ_REQUIRE(!hp_space_unmap(t->s, start, end) &&
		   hpt_snap_same(&sn, t->s));
	hpt_snap_free(&sn);
}

/* Lookups (and the cache they fill) agree with the model's pages. */
static void fz_lookup(struct fz_in *in, struct hpt_space *t)
{
	unsigned long addr = fz_addr(in, t), pg = HPT_PG(addr);
	bool in_win = addr >= HPT_BASE && addr < HPT_ADDR(HPT_PAGES);
	struct hp_range *r = hp_space_lookup(t->s, addr);

	FZ_LOG("lookup sp%d %#lx\n", FZ_ID(t), addr);
	FZ_REQUIRE(!r == !(in_win && hpt_bit(t->mapped, pg)));
	FZ_REQUIRE(!r || (addr >= r->start && addr < r->end));
	FZ_REQUIRE(hp_space_is_hot(t->s, addr) ==
		   (in_win && hpt_bit(t->placed, pg)));
}

static void fz_epoch(struct fz_in *in, struct hpt_space *t)
{
	unsigned int i, n = 1 + fz_u8(in) % 4;

	FZ_LOG("epoch sp%d x%u\n", FZ_ID(t), n);
	for (i = 0; i < n; i++)
		hpt_epoch(t);
}

static void fz_rank(struct fz_in *in)
{
	unsigned int c = fz_u8(in), d = fz_u8(in), i, n = 0, nr = 0;
	struct hpt_space *ts[FZ_NSP];
	struct hp_range_params p, *pp = NULL;
	unsigned long pages = 0, fast, max_dec;

	/* Any subset of the spaces, in one of two orders. */
	for (i = 0; i < FZ_NSP; i++) {
		struct hpt_space *t = &fz_sp[c & 8 ? FZ_NSP - 1 - i : i];

		if (!(c >> i & 1))
			continue;
		ts[n++] = t;
		pages += hpt_mapped_pages(t);
		nr += hp_space_nr_ranges(t->s);
	}
	if (nr > FZ_RANK_MAX_R)
		return;
	switch (c >> 4 & 7) {
	case 0:
		fast = 0;
		break;
	case 1:
		fast = pages;
		break;
	case 2:
		fast = pages ? pages - 1 : 0;
		break;
	case 3:
		fast = ~0UL;
		break;
	default:
		fast = fz_u16(in) % (pages + 2);
		break;
	}
	/* NULL means the defaults; else hysteresis off, maximal or any. */
	if (d & 3) {
		hp_range_params_init(&p);
		p.hysteresis = (d & 3) == 1 ? 0 : HP_HYSTERESIS_MAX;
		if ((d & 3) == 3)
			p.hysteresis = fz_u16(in) % (HP_HYSTERESIS_MAX + 1);
		pp = &p;
	}
	max_dec = d >> 4 < 12 ? d >> 4 : fz_u16(in) % FZ_MAX_DEC;
	FZ_LOG("rank spaces %#x%s fast %#lx hyst %d max_dec %lu\n", c & 7,
	       c & 8 ? " reversed" : "", fast, pp ? (int)pp->hysteresis : -1,
	       max_dec);
	hpt_rank(ts, n, fast, pp, max_dec, NULL);
}

struct fz_field {
	size_t off;
	unsigned int lo, hi;
};

#define FZ_F(name, lo, hi) { offsetof(struct hp_range_params, name), lo, hi }

/* The valid ranges documented in range.h. */
static const struct fz_field fz_fields[] = {
	FZ_F(split_shift, PAGE_SHIFT, HP_SPLIT_SHIFT_MAX),
	FZ_F(decay_shift, HP_DECAY_SHIFT_MIN, HP_DECAY_SHIFT_MAX),
	FZ_F(split_ratio, HP_SPLIT_RATIO_MIN, HP_SPLIT_RATIO_MAX),
	FZ_F(split_min_samples, HP_SPLIT_MIN_MIN, HP_SPLIT_MIN_MAX),
	FZ_F(merge_ratio, HP_MERGE_RATIO_MIN, HP_SPLIT_RATIO_MAX),
	FZ_F(merge_floor_samples, 0, HP_SPLIT_MIN_MAX),
	FZ_F(min_age, 0, HP_MIN_AGE_MAX),
	FZ_F(max_ranges, HP_MAX_RANGES_MIN, HP_MAX_RANGES_MAX),
	FZ_F(hysteresis, 0, HP_HYSTERESIS_MAX),
};

/* Change one field to a boundary, a value just outside, or any value. */
static void fz_mutate_params(struct fz_in *in, struct hp_range_params *p)
{
	unsigned int c = fz_u8(in), v;
	const struct fz_field *f = &fz_fields[c % ARRAY_SIZE(fz_fields)];

	switch (c / ARRAY_SIZE(fz_fields) % 6) {
	case 0:
		v = f->lo;
		break;
	case 1:
		v = f->hi;
		break;
	case 2:
		v = f->lo - 1;
		break;
	case 3:
		v = f->hi + 1;
		break;
	case 4:
		v = f->lo + fz_u32(in) % (f->hi - f->lo + 1);
		break;
	default:
		v = fz_u32(in);
		break;
	}
	FZ_LOG("  param %zu = %u\n", f->off / sizeof(v), v);
	memcpy((char *)p + f->off, &v, sizeof(v));
}

static void fz_params(struct fz_in *in, struct hpt_space *t)
{
	struct hp_range_params p = t->s->params;
	unsigned int i, n = 1 + fz_u8(in) % 3;

	FZ_LOG("params sp%d\n", FZ_ID(t));
	for (i = 0; i < n; i++)
		fz_mutate_params(in, &p);
	hpt_set_params(t, &p);
}

/*
 * The process exits, with or without unmapping first; creating the space
 * of the next one checks the parameters (and may meet a failed
 * allocation), and the slot gets them if they are valid.
 */
static void fz_exit(struct fz_in *in, struct hpt_space *t)
{
	struct hp_range_params old = t->s->params, p = old;
	struct hp_space *s;
	int err;

	FZ_LOG("exit sp%d\n", FZ_ID(t));
	if (fz_u8(in) & 1)
		hpt_unmap(t, 0, HPT_PAGES);
	fz_check();
	hpt_fini(t);
	fz_mutate_params(in, &p);
	err = hp_range_params_validate(&p);
	s = hp_space_create(&p);
	FZ_REQUIRE(err ? PTR_ERR(s) == err :
			 !IS_ERR(s) || PTR_ERR(s) == -ENOMEM);
	if (!IS_ERR(s))
		hp_space_destroy(s);
	/* The slot must hold a space whatever failure is pending. */
	hpt_fail_alloc(0);
	hpt_init(t, err ? &old : &p);
}

enum {
	FZ_MAP, FZ_UNMAP, FZ_MOVE, FZ_RECORD, FZ_SWEEP, FZ_EPOCH, FZ_RANK,
	FZ_PARAMS, FZ_FAULT, FZ_EXIT, FZ_BAD, FZ_OUTSIDE, FZ_LOOKUP,
	FZ_SCATTER, FZ_NR_OPS
};

static void fz_op(struct fz_in *in, unsigned int op);

/* Make the nth allocation of the next operation fail. */
static void fz_fault(struct fz_in *in)
{
	static const unsigned int ops[] = {
		FZ_MAP, FZ_UNMAP, FZ_MOVE, FZ_EPOCH, FZ_RANK, FZ_EXIT
	};
	unsigned int c = fz_u8(in);
	struct hp_space *s;

	FZ_LOG("fail allocation %u of:\n", 1 + c % 4);
	hpt_fail_alloc(1 + c % 4);
	if (c >> 2 < ARRAY_SIZE(ops)) {
		fz_op(in, ops[c >> 2]);
	} else {
		s = hp_space_create(NULL);
		FZ_REQUIRE(PTR_ERR(s) == -ENOMEM || !IS_ERR(s));
		if (!IS_ERR(s))
			hp_space_destroy(s);
	}
	hpt_fail_alloc(0);
}

static void fz_op(struct fz_in *in, unsigned int op)
{
	struct hpt_space *t = &fz_sp[fz_u8(in) % FZ_NSP];
	unsigned long pg, n;

	switch (op) {
	case FZ_MAP:
	case FZ_UNMAP:
		fz_interval(in, &pg, &n);
		FZ_LOG("%s sp%d pg %#lx n %#lx\n", op == FZ_MAP ? "map" : "unmap",
		       FZ_ID(t), pg, n);
		if (op == FZ_MAP)
			hpt_map(t, pg, n);
		else
			hpt_unmap(t, pg, n);
		break;
	case FZ_MOVE:
		fz_move(in, t);
		break;
	case FZ_RECORD:
		fz_record(in, t);
		break;
	case FZ_SWEEP:
		fz_sweep(in, t);
		break;
	case FZ_EPOCH:
		fz_epoch(in, t);
		break;
	case FZ_RANK:
		fz_rank(in);
		break;
	case FZ_PARAMS:
		fz_params(in, t);
		break;
	case FZ_FAULT:
		fz_fault(in);
		break;
	case FZ_EXIT:
		fz_exit(in, t);
		break;
	case FZ_BAD:
		fz_bad_interval(in, t);
		break;
	case FZ_OUTSIDE:
		fz_unmap_outside(in, t);
		break;
	case FZ_SCATTER:
		fz_scatter(in, t);
		break;
	default:
		fz_lookup(in, t);
		break;
	}
	fz_check();
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fz_tracing = getenv("FZ_TRACE");
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fz_in in = { data, size };
	struct hp_range_params p;
	unsigned int i, ops;

	hpt_fail_alloc(0);
	/* Each space starts from the defaults with one field changed. */
	for (i = 0; i < FZ_NSP; i++) {
		hp_range_params_init(&p);
		fz_mutate_params(&in, &p);
		hpt_init(&fz_sp[i], hp_range_params_validate(&p) ? NULL : &p);
	}
	for (ops = 0; in.n && ops < FZ_MAX_OPS; ops++)
		fz_op(&in, fz_u8(&in) % FZ_NR_OPS);
	/* Teardown: an empty space has no ranges; LSan finds any leak. */
	for (i = 0; i < FZ_NSP; i++) {
		hpt_unmap(&fz_sp[i], 0, HPT_PAGES);
		FZ_REQUIRE(!hp_space_nr_ranges(fz_sp[i].s));
		hpt_fini(&fz_sp[i]);
	}
	return 0;
}
