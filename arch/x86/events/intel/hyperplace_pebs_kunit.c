// SPDX-License-Identifier: GPL-2.0-only
/*
 * KUnit tests of the HyperPlace PEBS decoder.  This file is #included at
 * the end of hyperplace_pebs.c to reach its static functions.
 *
 * The buffers are written quadword by quadword as the hardware lays out
 * adaptive PEBS records (Intel SDM vol. 3B, "Adaptive PEBS"), not through
 * struct pebs_basic and struct pebs_meminfo, so a wrong structure layout
 * fails these tests too.  Records are decoded by hp_pebs_consume_on()
 * into a private channel, which is drained into a sink that keeps every
 * sample with the mm it was tagged with.
 */
#include <kunit/test.h>
#include <linux/preempt.h>
#include <linux/sched/mm.h>

/* Quadwords of a record: basic group, then memory-info group. */
#define HPK_Q_FORMAT	0	/* groups 31:0, retire lat. 47:32, size 63:48 */
#define HPK_Q_IP	1
#define HPK_Q_COUNTERS	2	/* applicable counters */
#define HPK_Q_TSC	3
#define HPK_Q_ADDR	4	/* data linear address */
#define HPK_Q_AUX	5	/* data source */
#define HPK_Q_LATENCY	6
#define HPK_Q_TSX	7

/* Record sizes in bytes, as the hardware writes them in format_size. */
#define HPK_SZ_MEM	(32 + 32)		/* basic, memory info */
#define HPK_SZ_GP	(HPK_SZ_MEM + 18 * 8)	/* and 18 GP registers */
#define HPK_SZ_ALL	(HPK_SZ_GP + 16 * 16 + 32 * 24)	/* XMM, 32 LBRs */

#define HPK_G_MEM	PEBS_DATACFG_MEMINFO
#define HPK_G_GP	(PEBS_DATACFG_MEMINFO | PEBS_DATACFG_GP)
#define HPK_G_ALL	(HPK_G_GP | PEBS_DATACFG_XMMS | PEBS_DATACFG_LBRS | \
			 31ULL << PEBS_DATACFG_LBR_SHIFT)

/* Counters: a load counter, a store counter, fixed counter 0. */
#define HPK_LOADS	BIT_ULL(0)
#define HPK_STORES	BIT_ULL(1)
#define HPK_FIXED0	BIT_ULL(32)

/* A retire latency in the basic group, which the decoder must ignore. */
#define HPK_RETIRE	0x5a5aULL

#define HPK_ADDR(i)	(0x7f1234560000ULL + (u64)(i) * 0x1040)
/* The latency quadword on Alder Lake and later: two 16-bit halves. */
#define HPK_SPLIT(instr, cache)	((u64)(instr) | 0xbeefULL << 16 | \
				 (u64)(cache) << 32 | 0x4567ULL << 48)

/* What the sink keeps; more than any test drains at once. */
#define HPK_MAX		256

/**
 * struct hpk_rec - the fields of one record a test chooses
 * @group: format group, the PEBS_DATACFG_* groups the record holds
 * @size: format size in bytes
 * @counters: applicable counters
 * @addr: data linear address
 * @latency: the latency quadword of the memory-info group
 */
struct hpk_rec {
	u64 group;
	u64 size;
	u64 counters;
	u64 addr;
	u64 latency;
};

/* The counts a test expects, for hpk_expect_counts(). */
#define HPK_COUNTS(...)	(&(const struct hp_pebs_counts){ __VA_ARGS__ })

#define HPK_AT(a, cnt, lat)	{ HPK_G_MEM, HPK_SZ_MEM, (cnt), (a), (lat) }
#define HPK_LOAD(i, lat)	HPK_AT(HPK_ADDR(i), HPK_LOADS, (lat))

/**
 * struct hpk_sink - what hpk_collect() was given, in order
 * @total: samples passed to the sink, kept or not
 * @calls: calls of the sink
 * @n: samples kept
 * @mm: the mm each kept sample was passed with
 * @s: the kept samples
 */
struct hpk_sink {
	unsigned long total;
	unsigned int calls;
	unsigned int n;
	struct mm_struct *mm[HPK_MAX];
	struct hp_sample s[HPK_MAX];
};

static void hpk_collect(void *arg, struct mm_struct *mm,
			const struct hp_sample *s, unsigned int n)
{
	struct hpk_sink *k = arg;
	unsigned int i;

	k->calls++;
	k->total += n;
	for (i = 0; i < n && k->n < HPK_MAX; i++) {
		k->mm[k->n] = mm;
		k->s[k->n++] = s[i];
	}
}

static struct hpk_sink *hpk_sink(struct kunit *test)
{
	struct hpk_sink *k = kunit_kzalloc(test, sizeof(*k), GFP_KERNEL);

	KUNIT_ASSERT_NOT_NULL(test, k);
	return k;
}

KUNIT_DEFINE_ACTION_WRAPPER(hpk_mmput, mmput, struct mm_struct *);
KUNIT_DEFINE_ACTION_WRAPPER(hpk_destroy, hp_channel_destroy,
			    struct hp_channel *);

/* A fresh mm to tag samples with, put when the test ends. */
static struct mm_struct *hpk_mm(struct kunit *test)
{
	struct mm_struct *mm = mm_alloc();

	KUNIT_ASSERT_NOT_NULL(test, mm);
	KUNIT_ASSERT_EQ(test, kunit_add_action_or_reset(test, hpk_mmput, mm),
			0);
	return mm;
}

/* A private channel; made after the mm, so it is destroyed first. */
static struct hp_channel *hpk_channel(struct kunit *test,
				      unsigned int entries)
{
	struct hp_channel *ch = hp_channel_create(entries);

	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, ch);
	KUNIT_ASSERT_EQ(test, kunit_add_action_or_reset(test, hpk_destroy, ch),
			0);
	return ch;
}

/*
 * A buffer of @n records @stride bytes apart.  Every quadword that @r
 * does not set holds another plausible user address, so a decoder that
 * reads the address from the wrong place makes a wrong sample, which
 * the tests see, rather than a dropped one.
 */
static void *hpk_buf(struct kunit *test, const struct hpk_rec *r,
		     unsigned int n, unsigned int stride)
{
	void *buf = kunit_kzalloc(test, n * stride, GFP_KERNEL);
	unsigned int i, j;

	KUNIT_ASSERT_NOT_NULL(test, buf);
	for (i = 0; i < n; i++) {
		u64 *q = buf + i * stride;

		for (j = 0; j < stride / 8; j++)
			q[j] = 0x7e0000000000ULL + i * 0x10000ULL + j * 8;
		q[HPK_Q_FORMAT] = r[i].group | HPK_RETIRE << 32 |
				  r[i].size << 48;
		q[HPK_Q_IP] = 0x401000 + i;
		q[HPK_Q_COUNTERS] = r[i].counters;
		q[HPK_Q_TSC] = 0x100000000ULL + i;
		q[HPK_Q_ADDR] = r[i].addr;
		q[HPK_Q_AUX] = 0x1c2;
		q[HPK_Q_LATENCY] = r[i].latency;
		q[HPK_Q_TSX] = 0x7e0000000000ULL;
	}
	return buf;
}

static bool hpk_is(const struct hpk_sink *k, unsigned int pos,
		   struct mm_struct *mm, u64 addr, u32 weight,
		   enum hp_access access)
{
	const struct hp_sample *s = &k->s[pos];

	return k->mm[pos] == mm && s->addr == addr && s->weight == weight &&
	       s->access == access && s->source == HP_SRC_PEBS;
}

/* Kept sample @pos must be a PEBS sample of @mm with these fields. */
static void hpk_expect(struct kunit *test, const struct hpk_sink *k,
		       unsigned int pos, struct mm_struct *mm, u64 addr,
		       u32 weight, enum hp_access access)
{
	const struct hp_sample *s;

	KUNIT_ASSERT_LT(test, pos, k->n);
	if (hpk_is(k, pos, mm, addr, weight, access))
		return;
	s = &k->s[pos];
	KUNIT_FAIL(test,
		   "sample %u: mm %s addr %#llx weight %u access %u source %u; want addr %#llx weight %u access %u",
		   pos, k->mm[pos] == mm ? "ok" : "WRONG", s->addr, s->weight,
		   s->access, s->source, addr, weight, access);
}

static void hpk_expect_counts(struct kunit *test,
			      const struct hp_pebs_counts *c,
			      const struct hp_pebs_counts *want)
{
	KUNIT_EXPECT_EQ_MSG(test, c->records, want->records, "records");
	KUNIT_EXPECT_EQ_MSG(test, c->samples, want->samples, "samples");
	KUNIT_EXPECT_EQ_MSG(test, c->zero_addr, want->zero_addr, "zero_addr");
	KUNIT_EXPECT_EQ_MSG(test, c->kernel_addr, want->kernel_addr,
			    "kernel_addr");
	KUNIT_EXPECT_EQ_MSG(test, c->bad_format, want->bad_format,
			    "bad_format");
}

static void hpk_expect_channel(struct kunit *test, struct hp_channel *ch,
			       u64 received, u64 dropped)
{
	u64 rx, drop;

	hp_channel_counts(ch, HP_SRC_PEBS, &rx, &drop);
	KUNIT_EXPECT_EQ_MSG(test, rx, received, "channel received");
	KUNIT_EXPECT_EQ_MSG(test, drop, dropped, "channel dropped");
}

/* Record sizes follow the groups; unknown groups give 0. */
static void hpk_pebs_record_size(struct kunit *test)
{
	KUNIT_EXPECT_EQ(test, hp_pebs_record_size(0), 32U);
	KUNIT_EXPECT_EQ(test, hp_pebs_record_size(HPK_G_MEM), HPK_SZ_MEM);
	KUNIT_EXPECT_EQ(test, hp_pebs_record_size(HPK_G_GP), HPK_SZ_GP);
	KUNIT_EXPECT_EQ(test, hp_pebs_record_size(HPK_G_GP |
						  PEBS_DATACFG_XMMS),
			HPK_SZ_GP + 256);
	/* Bits 31:24 hold the number of LBR entries minus one. */
	KUNIT_EXPECT_EQ(test, hp_pebs_record_size(HPK_G_MEM |
						  PEBS_DATACFG_LBRS),
			HPK_SZ_MEM + 24);
	KUNIT_EXPECT_EQ(test, hp_pebs_record_size(HPK_G_ALL), HPK_SZ_ALL);
	KUNIT_EXPECT_EQ(test, hp_pebs_record_size(HPK_G_MEM | BIT_ULL(4)), 0U);
	KUNIT_EXPECT_EQ(test, hp_pebs_record_size(HPK_G_MEM | BIT_ULL(23)),
			0U);
}

/*
 * Load records give samples with their address and load latency, in
 * order; latencies beyond 32 bits saturate.  A partial record at the
 * end of the buffer is not read.
 */
static void hpk_pebs_loads(struct kunit *test)
{
	static const struct hpk_rec r[] = {
		HPK_LOAD(0, 64),
		HPK_LOAD(1, 100),
		HPK_LOAD(2, 65535),
		HPK_LOAD(3, 70000),
		HPK_LOAD(4, 0x100000005ULL),
		HPK_LOAD(5, 77),
	};
	static const u32 weight[] = { 64, 100, 65535, 70000, U32_MAX };
	struct mm_struct *mm = hpk_mm(test);
	struct hp_channel *ch = hpk_channel(test, 256);
	struct hpk_sink *k = hpk_sink(test);
	void *buf = hpk_buf(test, r, ARRAY_SIZE(r), HPK_SZ_MEM);
	int base = atomic_read(&mm->mm_count);
	struct hp_pebs_counts c = {};
	unsigned int i;

	preempt_disable();
	hp_pebs_consume_on(ch, mm, buf, buf + 5 * HPK_SZ_MEM + 32, HPK_SZ_MEM,
			   0, HP_ACCESS_LOAD, false, &c);
	preempt_enable();

	hpk_expect_counts(test, &c,
			  HPK_COUNTS(.records = 5, .samples = 5));
	hpk_expect_channel(test, ch, 5, 0);
	/* The samples in flight hold a reference on their mm. */
	KUNIT_EXPECT_GT(test, atomic_read(&mm->mm_count), base);
	KUNIT_EXPECT_EQ(test, hp_channel_drain(ch, hpk_collect, k), 5UL);
	KUNIT_ASSERT_EQ(test, k->n, 5U);
	for (i = 0; i < 5; i++)
		hpk_expect(test, k, i, mm, HPK_ADDR(i), weight[i],
			   HP_ACCESS_LOAD);
	KUNIT_EXPECT_EQ(test, atomic_read(&mm->mm_count), base);
}

/*
 * One buffer holds the records of several counters, as perf hands it to
 * each of them: each counter decodes its own records only, a record of
 * both counters counts for both, and stores weigh 1.
 */
static void hpk_pebs_mixed(struct kunit *test)
{
	static const struct hpk_rec r[] = {
		HPK_AT(HPK_ADDR(0), HPK_LOADS, 10),
		HPK_AT(HPK_ADDR(1), HPK_STORES, 11),
		HPK_AT(HPK_ADDR(2), HPK_LOADS, 12),
		HPK_AT(HPK_ADDR(3), HPK_LOADS | HPK_STORES, 13),
		HPK_AT(HPK_ADDR(4), BIT_ULL(2) | HPK_FIXED0, 14),
		HPK_AT(HPK_ADDR(5), HPK_STORES, 15),
		HPK_AT(HPK_ADDR(6), HPK_LOADS, 16),
	};
	struct mm_struct *mm = hpk_mm(test);
	struct hp_channel *ch = hpk_channel(test, 256);
	struct hpk_sink *k = hpk_sink(test);
	void *buf = hpk_buf(test, r, ARRAY_SIZE(r), HPK_SZ_MEM);
	void *top = buf + ARRAY_SIZE(r) * HPK_SZ_MEM;
	struct hp_pebs_counts cl = {}, cs = {}, cf = {};

	/* One CPU, so the batches come out in this order. */
	preempt_disable();
	hp_pebs_consume_on(ch, mm, buf, top, HPK_SZ_MEM, 0, HP_ACCESS_LOAD,
			   false, &cl);
	hp_pebs_consume_on(ch, mm, buf, top, HPK_SZ_MEM, 1, HP_ACCESS_STORE,
			   false, &cs);
	hp_pebs_consume_on(ch, mm, buf, top, HPK_SZ_MEM, 32, HP_ACCESS_LOAD,
			   false, &cf);
	preempt_enable();

	hpk_expect_counts(test, &cl,
			  HPK_COUNTS(.records = 4, .samples = 4));
	hpk_expect_counts(test, &cs,
			  HPK_COUNTS(.records = 3, .samples = 3));
	hpk_expect_counts(test, &cf,
			  HPK_COUNTS(.records = 1, .samples = 1));
	hpk_expect_channel(test, ch, 8, 0);
	KUNIT_EXPECT_EQ(test, hp_channel_drain(ch, hpk_collect, k), 8UL);
	KUNIT_ASSERT_EQ(test, k->n, 8U);
	hpk_expect(test, k, 0, mm, HPK_ADDR(0), 10, HP_ACCESS_LOAD);
	hpk_expect(test, k, 1, mm, HPK_ADDR(2), 12, HP_ACCESS_LOAD);
	hpk_expect(test, k, 2, mm, HPK_ADDR(3), 13, HP_ACCESS_LOAD);
	hpk_expect(test, k, 3, mm, HPK_ADDR(6), 16, HP_ACCESS_LOAD);
	hpk_expect(test, k, 4, mm, HPK_ADDR(1), 1, HP_ACCESS_STORE);
	hpk_expect(test, k, 5, mm, HPK_ADDR(3), 1, HP_ACCESS_STORE);
	hpk_expect(test, k, 6, mm, HPK_ADDR(5), 1, HP_ACCESS_STORE);
	/* A fixed counter's bit is above 31. */
	hpk_expect(test, k, 7, mm, HPK_ADDR(4), 14, HP_ACCESS_LOAD);
}

/* A record without a data address is counted, not sampled. */
static void hpk_pebs_zero_addr(struct kunit *test)
{
	static const struct hpk_rec r[] = {
		HPK_LOAD(0, 20),
		HPK_AT(0, HPK_LOADS, 21),
		HPK_LOAD(2, 22),
	};
	struct mm_struct *mm = hpk_mm(test);
	struct hp_channel *ch = hpk_channel(test, 256);
	struct hpk_sink *k = hpk_sink(test);
	void *buf = hpk_buf(test, r, ARRAY_SIZE(r), HPK_SZ_MEM);
	struct hp_pebs_counts c = {};

	preempt_disable();
	hp_pebs_consume_on(ch, mm, buf, buf + ARRAY_SIZE(r) * HPK_SZ_MEM,
			   HPK_SZ_MEM, 0, HP_ACCESS_LOAD, false, &c);
	preempt_enable();

	hpk_expect_counts(test, &c, HPK_COUNTS(.records = 3, .samples = 2,
					       .zero_addr = 1));
	hpk_expect_channel(test, ch, 2, 0);
	KUNIT_EXPECT_EQ(test, hp_channel_drain(ch, hpk_collect, k), 2UL);
	KUNIT_ASSERT_EQ(test, k->n, 2U);
	hpk_expect(test, k, 0, mm, HPK_ADDR(0), 20, HP_ACCESS_LOAD);
	hpk_expect(test, k, 1, mm, HPK_ADDR(2), 22, HP_ACCESS_LOAD);
}

/* Addresses from TASK_SIZE_MAX up are not user space: counted only. */
static void hpk_pebs_kernel_addr(struct kunit *test)
{
	const struct hpk_rec r[] = {
		HPK_AT(TASK_SIZE_MAX, HPK_LOADS, 30),
		HPK_LOAD(1, 31),
		HPK_AT(0xffff888000001000ULL, HPK_LOADS, 32),
		HPK_AT(TASK_SIZE_MAX - 1, HPK_LOADS, 33),
		HPK_AT(~0ULL, HPK_LOADS, 34),
		HPK_AT(PAGE_SIZE, HPK_LOADS, 35),
	};
	struct mm_struct *mm = hpk_mm(test);
	struct hp_channel *ch = hpk_channel(test, 256);
	struct hpk_sink *k = hpk_sink(test);
	void *buf = hpk_buf(test, r, ARRAY_SIZE(r), HPK_SZ_MEM);
	struct hp_pebs_counts c = {};

	preempt_disable();
	hp_pebs_consume_on(ch, mm, buf, buf + ARRAY_SIZE(r) * HPK_SZ_MEM,
			   HPK_SZ_MEM, 0, HP_ACCESS_LOAD, false, &c);
	preempt_enable();

	hpk_expect_counts(test, &c, HPK_COUNTS(.records = 6, .samples = 3,
					       .kernel_addr = 3));
	hpk_expect_channel(test, ch, 3, 0);
	KUNIT_EXPECT_EQ(test, hp_channel_drain(ch, hpk_collect, k), 3UL);
	KUNIT_ASSERT_EQ(test, k->n, 3U);
	hpk_expect(test, k, 0, mm, HPK_ADDR(1), 31, HP_ACCESS_LOAD);
	hpk_expect(test, k, 1, mm, TASK_SIZE_MAX - 1, 33, HP_ACCESS_LOAD);
	hpk_expect(test, k, 2, mm, PAGE_SIZE, 35, HP_ACCESS_LOAD);
}

/*
 * Records in a layout the decoder does not know are counted and
 * skipped, and do not stop it: the next good record still decodes.
 */
static void hpk_pebs_bad_format(struct kunit *test)
{
	static const struct hpk_rec r[] = {
		HPK_LOAD(0, 40),
		/* A group the decoder does not know. */
		{ HPK_G_MEM | BIT_ULL(4), HPK_SZ_MEM, HPK_LOADS, HPK_ADDR(1),
		  41 },
		/* A size that does not match the groups... */
		{ HPK_G_MEM, HPK_SZ_MEM + 8, HPK_LOADS, HPK_ADDR(2), 42 },
		/* ...or no size at all. */
		{ HPK_G_MEM, 0, HPK_LOADS, HPK_ADDR(3), 43 },
		/* No memory-info group: the address is not there. */
		{ 0, 32, HPK_LOADS, HPK_ADDR(4), 44 },
		/* Consistent, but longer than the distance between records. */
		{ HPK_G_GP, HPK_SZ_GP, HPK_LOADS, HPK_ADDR(5), 45 },
		/* Another counter's record is not even looked at. */
		{ HPK_G_MEM | BIT_ULL(4), HPK_SZ_MEM, HPK_STORES, HPK_ADDR(6),
		  46 },
		HPK_LOAD(7, 47),
	};
	struct mm_struct *mm = hpk_mm(test);
	struct hp_channel *ch = hpk_channel(test, 256);
	struct hpk_sink *k = hpk_sink(test);
	void *buf = hpk_buf(test, r, ARRAY_SIZE(r), HPK_SZ_MEM);
	struct hp_pebs_counts c = {};

	preempt_disable();
	hp_pebs_consume_on(ch, mm, buf, buf + ARRAY_SIZE(r) * HPK_SZ_MEM,
			   HPK_SZ_MEM, 0, HP_ACCESS_LOAD, false, &c);
	preempt_enable();

	hpk_expect_counts(test, &c, HPK_COUNTS(.records = 7, .samples = 2,
					       .bad_format = 5));
	hpk_expect_channel(test, ch, 2, 0);
	KUNIT_EXPECT_EQ(test, hp_channel_drain(ch, hpk_collect, k), 2UL);
	KUNIT_ASSERT_EQ(test, k->n, 2U);
	hpk_expect(test, k, 0, mm, HPK_ADDR(0), 40, HP_ACCESS_LOAD);
	hpk_expect(test, k, 1, mm, HPK_ADDR(7), 47, HP_ACCESS_LOAD);
}

/*
 * With the GP group the records are 64 + 144 bytes apart; the memory
 * info still comes first, before the registers.
 */
static void hpk_pebs_gp(struct kunit *test)
{
	static const struct hpk_rec r[] = {
		{ HPK_G_GP, HPK_SZ_GP, HPK_LOADS, HPK_ADDR(0), 50 },
		{ HPK_G_GP, HPK_SZ_GP, HPK_STORES, HPK_ADDR(1), 51 },
		{ HPK_G_GP, HPK_SZ_GP, HPK_LOADS, HPK_ADDR(2), 52 },
		{ HPK_G_GP, HPK_SZ_GP, HPK_LOADS, HPK_ADDR(3), 53 },
	};
	struct mm_struct *mm = hpk_mm(test);
	struct hp_channel *ch = hpk_channel(test, 256);
	struct hpk_sink *k = hpk_sink(test);
	void *buf = hpk_buf(test, r, ARRAY_SIZE(r), HPK_SZ_GP);
	struct hp_pebs_counts c = {};

	preempt_disable();
	hp_pebs_consume_on(ch, mm, buf, buf + ARRAY_SIZE(r) * HPK_SZ_GP,
			   HPK_SZ_GP, 0, HP_ACCESS_LOAD, false, &c);
	preempt_enable();

	hpk_expect_counts(test, &c,
			  HPK_COUNTS(.records = 3, .samples = 3));
	hpk_expect_channel(test, ch, 3, 0);
	KUNIT_EXPECT_EQ(test, hp_channel_drain(ch, hpk_collect, k), 3UL);
	KUNIT_ASSERT_EQ(test, k->n, 3U);
	hpk_expect(test, k, 0, mm, HPK_ADDR(0), 50, HP_ACCESS_LOAD);
	hpk_expect(test, k, 1, mm, HPK_ADDR(2), 52, HP_ACCESS_LOAD);
	hpk_expect(test, k, 2, mm, HPK_ADDR(3), 53, HP_ACCESS_LOAD);
}

/* Every group the decoder can step over: GP, XMM and 32 LBR entries. */
static void hpk_pebs_all_groups(struct kunit *test)
{
	static const struct hpk_rec r[] = {
		{ HPK_G_ALL, HPK_SZ_ALL, HPK_STORES, HPK_ADDR(0), 60 },
		{ HPK_G_ALL, HPK_SZ_ALL, HPK_STORES, HPK_ADDR(1), 61 },
		{ HPK_G_ALL, HPK_SZ_ALL, HPK_STORES, HPK_ADDR(2), 62 },
	};
	struct mm_struct *mm = hpk_mm(test);
	struct hp_channel *ch = hpk_channel(test, 256);
	struct hpk_sink *k = hpk_sink(test);
	void *buf = hpk_buf(test, r, ARRAY_SIZE(r), HPK_SZ_ALL);
	struct hp_pebs_counts c = {};
	unsigned int i;

	preempt_disable();
	hp_pebs_consume_on(ch, mm, buf, buf + ARRAY_SIZE(r) * HPK_SZ_ALL,
			   HPK_SZ_ALL, 1, HP_ACCESS_STORE, true, &c);
	preempt_enable();

	hpk_expect_counts(test, &c,
			  HPK_COUNTS(.records = 3, .samples = 3));
	hpk_expect_channel(test, ch, 3, 0);
	KUNIT_EXPECT_EQ(test, hp_channel_drain(ch, hpk_collect, k), 3UL);
	KUNIT_ASSERT_EQ(test, k->n, 3U);
	for (i = 0; i < 3; i++)
		hpk_expect(test, k, i, mm, HPK_ADDR(i), 1, HP_ACCESS_STORE);
}

/*
 * Alder Lake and later split the latency quadword: the load latency is
 * the cache latency, bits 47:32.  Read whole, as on earlier CPUs, the
 * same quadword saturates.
 */
static void hpk_pebs_split_latency(struct kunit *test)
{
	static const struct hpk_rec r[] = {
		HPK_LOAD(0, HPK_SPLIT(0x0fed, 0x0123)),
		HPK_LOAD(1, HPK_SPLIT(0x0003, 0x0040)),
		HPK_LOAD(2, HPK_SPLIT(0xffff, 0xffff)),
	};
	static const u32 weight[] = { 0x0123, 0x0040, 0xffff };
	struct mm_struct *mm = hpk_mm(test);
	struct hp_channel *ch = hpk_channel(test, 256);
	struct hpk_sink *k = hpk_sink(test);
	void *buf = hpk_buf(test, r, ARRAY_SIZE(r), HPK_SZ_MEM);
	void *top = buf + ARRAY_SIZE(r) * HPK_SZ_MEM;
	struct hp_pebs_counts c = {};
	unsigned int i;

	preempt_disable();
	hp_pebs_consume_on(ch, mm, buf, top, HPK_SZ_MEM, 0, HP_ACCESS_LOAD,
			   true, &c);
	hp_pebs_consume_on(ch, mm, buf, top, HPK_SZ_MEM, 0, HP_ACCESS_LOAD,
			   false, &c);
	preempt_enable();

	hpk_expect_counts(test, &c,
			  HPK_COUNTS(.records = 6, .samples = 6));
	hpk_expect_channel(test, ch, 6, 0);
	KUNIT_EXPECT_EQ(test, hp_channel_drain(ch, hpk_collect, k), 6UL);
	KUNIT_ASSERT_EQ(test, k->n, 6U);
	for (i = 0; i < 3; i++) {
		hpk_expect(test, k, i, mm, HPK_ADDR(i), weight[i],
			   HP_ACCESS_LOAD);
		hpk_expect(test, k, 3 + i, mm, HPK_ADDR(i), U32_MAX,
			   HP_ACCESS_LOAD);
	}
}

/*
 * Without an mm (a kernel thread) the samples are decoded and counted,
 * and the channel counts them dropped without storing any.
 */
static void hpk_pebs_no_mm(struct kunit *test)
{
	static const struct hpk_rec r[] = {
		HPK_LOAD(0, 70), HPK_LOAD(1, 71), HPK_LOAD(2, 72),
		HPK_LOAD(3, 73), HPK_LOAD(4, 74),
	};
	struct hp_channel *ch = hpk_channel(test, 256);
	struct hpk_sink *k = hpk_sink(test);
	void *buf = hpk_buf(test, r, ARRAY_SIZE(r), HPK_SZ_MEM);
	struct hp_pebs_counts c = {};

	preempt_disable();
	hp_pebs_consume_on(ch, NULL, buf, buf + ARRAY_SIZE(r) * HPK_SZ_MEM,
			   HPK_SZ_MEM, 0, HP_ACCESS_LOAD, false, &c);
	preempt_enable();

	hpk_expect_counts(test, &c,
			  HPK_COUNTS(.records = 5, .samples = 5));
	hpk_expect_channel(test, ch, 5, 5);
	KUNIT_EXPECT_EQ(test, hp_channel_drain(ch, hpk_collect, k), 0UL);
	KUNIT_EXPECT_EQ(test, k->calls, 0U);
}

/*
 * More records than a minimum-size channel (66 entries, 128 per ring)
 * holds: the drops are counted exactly, and every sample that got in
 * comes out intact and in order.
 */
static void hpk_pebs_overflow(struct kunit *test)
{
	const unsigned int n = 200;
	struct mm_struct *mm = hpk_mm(test);
	struct hp_channel *ch = hpk_channel(test, 66);
	struct hpk_sink *k = hpk_sink(test);
	int base = atomic_read(&mm->mm_count);
	struct hp_pebs_counts c = {};
	unsigned int i, last;
	struct hpk_rec *r;
	unsigned long done;
	u64 rx, drop;
	void *buf;

	r = kunit_kcalloc(test, n, sizeof(*r), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, r);
	for (i = 0; i < n; i++)
		r[i] = (struct hpk_rec)HPK_LOAD(i, 100 + i);
	buf = hpk_buf(test, r, n, HPK_SZ_MEM);

	preempt_disable();
	hp_pebs_consume_on(ch, mm, buf, buf + n * HPK_SZ_MEM, HPK_SZ_MEM, 0,
			   HP_ACCESS_LOAD, false, &c);
	preempt_enable();

	/* The decoder counts what it offered, whether it fit or not. */
	hpk_expect_counts(test, &c,
			  HPK_COUNTS(.records = n, .samples = n));
	hp_channel_counts(ch, HP_SRC_PEBS, &rx, &drop);
	KUNIT_EXPECT_EQ(test, rx, (u64)n);
	KUNIT_EXPECT_GT(test, drop, 0ULL);
	done = hp_channel_drain(ch, hpk_collect, k);
	KUNIT_EXPECT_EQ(test, done + drop, (u64)n);
	KUNIT_EXPECT_EQ(test, k->total, done);
	/* Three chunks of 32 and their headers fit in an empty ring. */
	KUNIT_EXPECT_GE(test, done, 96UL);
	KUNIT_EXPECT_LT(test, done, 128UL);
	KUNIT_ASSERT_EQ(test, (unsigned long)k->n, done);
	for (i = 0; i < 96; i++)
		hpk_expect(test, k, i, mm, HPK_ADDR(i), 100 + i,
			   HP_ACCESS_LOAD);
	for (last = 95; i < k->n; i++) {
		u64 off = k->s[i].addr - HPK_ADDR(0);
		unsigned int idx = div_u64(off, 0x1040);

		if (k->s[i].addr < HPK_ADDR(0) || idx <= last || idx >= n ||
		    !hpk_is(k, i, mm, HPK_ADDR(idx), 100 + idx,
			    HP_ACCESS_LOAD)) {
			KUNIT_FAIL(test,
				   "sample %u: addr %#llx after record %u", i,
				   k->s[i].addr, last);
			break;
		}
		last = idx;
	}
	KUNIT_EXPECT_EQ(test, atomic_read(&mm->mm_count), base);
}

static struct kunit_case hpk_cases[] = {
	KUNIT_CASE(hpk_pebs_record_size),
	KUNIT_CASE(hpk_pebs_loads),
	KUNIT_CASE(hpk_pebs_mixed),
	KUNIT_CASE(hpk_pebs_zero_addr),
	KUNIT_CASE(hpk_pebs_kernel_addr),
	KUNIT_CASE(hpk_pebs_bad_format),
	KUNIT_CASE(hpk_pebs_gp),
	KUNIT_CASE(hpk_pebs_all_groups),
	KUNIT_CASE(hpk_pebs_split_latency),
	KUNIT_CASE(hpk_pebs_no_mm),
	KUNIT_CASE(hpk_pebs_overflow),
	{}
};

static struct kunit_suite hpk_suite = {
	.name = "hyperplace_pebs",
	.test_cases = hpk_cases,
};

kunit_test_suite(hpk_suite);
