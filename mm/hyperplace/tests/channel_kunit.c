// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit tests of the HyperPlace sample channel (mm/hyperplace/channel.c):
 * order and attribution of samples across chunk headers, overflow
 * accounting, and the mm references that samples in flight hold, also
 * when their mm exits before they are filed.  Each test writes into a
 * private channel, so the running system's channel is not disturbed.
 */
#include <kunit/test.h>
#include <linux/err.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/preempt.h>
#include <linux/sched/mm.h>

#include "../internal.h"

/* Samples behind one header: HP_STAGE of channel.c. */
#define HPK_STAGE	32
/* What the sink keeps; more than any test drains at once. */
#define HPK_MAX		512

#define HPK_BASE_A	0x7f0000000000ULL
#define HPK_BASE_B	0x550000000000ULL

/* Sample @i of a test: its address, weight and kind depend on @i. */
static u64 hpk_addr(u64 base, unsigned int i)
{
	return base + (u64)i * PAGE_SIZE + (i & 0xff) * 8;
}

static u32 hpk_weight(unsigned int i)
{
	return 1000 + i;
}

static enum hp_access hpk_access(unsigned int i)
{
	return i % HP_NR_ACCESS;
}

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

static void hpk_sink_reset(struct hpk_sink *k)
{
	memset(k, 0, sizeof(*k));
}

KUNIT_DEFINE_ACTION_WRAPPER(hpk_mmput, mmput, struct mm_struct *);
KUNIT_DEFINE_ACTION_WRAPPER(hpk_destroy, hp_channel_destroy,
			    struct hp_channel *);

/* A fresh mm (mm_users 1), put when the test ends. */
static struct mm_struct *hpk_mm(struct kunit *test)
{
	struct mm_struct *mm = mm_alloc();

	KUNIT_ASSERT_NOT_NULL(test, mm);
	KUNIT_ASSERT_EQ(test, kunit_add_action_or_reset(test, hpk_mmput, mm),
			0);
	return mm;
}

/*
 * A private channel, destroyed when the test ends.  Create it after the
 * mms: actions run in reverse, so it drops its references first.
 */
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
 * Write samples @first to @first + @n - 1 as one batch of @mm.  The
 * caller disables preemption: the batch must stay on one CPU's ring.
 */
static void hpk_push(struct hp_channel *ch, struct mm_struct *mm, u64 base,
		     enum hp_source src, unsigned int first, unsigned int n)
{
	struct hp_channel_batch b;
	unsigned int i;

	hp_channel_begin_on(ch, &b, mm, src);
	for (i = first; i < first + n; i++)
		hp_channel_add(&b, hpk_addr(base, i), hpk_weight(i),
			       hpk_access(i));
	hp_channel_end(&b);
}

/* Whether kept sample @pos is sample @i of @mm as hpk_push() wrote it. */
static bool hpk_is(const struct hpk_sink *k, unsigned int pos,
		   struct mm_struct *mm, u64 base, enum hp_source src,
		   unsigned int i)
{
	const struct hp_sample *s = &k->s[pos];

	return k->mm[pos] == mm && s->addr == hpk_addr(base, i) &&
	       s->weight == hpk_weight(i) && s->access == hpk_access(i) &&
	       s->source == src;
}

/* Kept samples @pos.. must be samples @first.. of @mm, @n of them. */
static void hpk_expect(struct kunit *test, const struct hpk_sink *k,
		       unsigned int pos, struct mm_struct *mm, u64 base,
		       enum hp_source src, unsigned int first, unsigned int n)
{
	unsigned int i;

	KUNIT_ASSERT_LE(test, pos + n, k->n);
	for (i = 0; i < n; i++) {
		const struct hp_sample *s = &k->s[pos + i];

		if (hpk_is(k, pos + i, mm, base, src, first + i))
			continue;
		KUNIT_FAIL(test,
			   "sample %u: mm %s addr %#llx weight %u access %u source %u; want sample %u",
			   pos + i, k->mm[pos + i] == mm ? "ok" : "WRONG",
			   s->addr, s->weight, s->access, s->source,
			   first + i);
		return;
	}
}

static void hpk_expect_counts(struct kunit *test, struct hp_channel *ch,
			      enum hp_source src, u64 received, u64 dropped)
{
	u64 rx, drop;

	hp_channel_counts(ch, src, &rx, &drop);
	KUNIT_EXPECT_EQ_MSG(test, rx, received, "received, source %d", src);
	KUNIT_EXPECT_EQ_MSG(test, drop, dropped, "dropped, source %d", src);
}

/*
 * Samples come out in the order they went in, with their mm, across
 * chunk headers (every HPK_STAGE samples) and across the consumer's
 * 64-entry read buffer, which a chunk of 100 samples straddles.
 */
static void hpk_chan_order(struct kunit *test)
{
	struct mm_struct *mm = hpk_mm(test);
	struct hp_channel *ch = hpk_channel(test, 256);
	struct hpk_sink *k = hpk_sink(test);
	int base = atomic_read(&mm->mm_count);

	preempt_disable();
	hpk_push(ch, mm, HPK_BASE_A, HP_SRC_INJECT, 0, 100);
	hpk_push(ch, mm, HPK_BASE_A, HP_SRC_INJECT, 100, HPK_STAGE);
	hpk_push(ch, mm, HPK_BASE_A, HP_SRC_ABIT, 132, HPK_STAGE + 1);
	/* An empty batch commits nothing and takes no reference. */
	hpk_push(ch, mm, HPK_BASE_A, HP_SRC_ABIT, 165, 0);
	preempt_enable();

	/* One reference per chunk: 100 = 3 * 32 + 4, 32, 33 = 32 + 1. */
	KUNIT_EXPECT_EQ(test, atomic_read(&mm->mm_count), base + 4 + 1 + 2);
	hpk_expect_counts(test, ch, HP_SRC_INJECT, 132, 0);
	hpk_expect_counts(test, ch, HP_SRC_ABIT, 33, 0);
	hpk_expect_counts(test, ch, HP_SRC_PEBS, 0, 0);

	KUNIT_EXPECT_EQ(test, hp_channel_drain(ch, hpk_collect, k), 165UL);
	KUNIT_EXPECT_EQ(test, k->total, 165UL);
	KUNIT_ASSERT_EQ(test, k->n, 165U);
	hpk_expect(test, k, 0, mm, HPK_BASE_A, HP_SRC_INJECT, 0, 132);
	hpk_expect(test, k, 132, mm, HPK_BASE_A, HP_SRC_ABIT, 132, 33);
	/* Every reference is dropped once its samples are out. */
	KUNIT_EXPECT_EQ(test, atomic_read(&mm->mm_count), base);

	hpk_sink_reset(k);
	KUNIT_EXPECT_EQ(test, hp_channel_drain(ch, hpk_collect, k), 0UL);
	KUNIT_EXPECT_EQ(test, k->calls, 0U);
}

/*
 * A full ring counts what it refuses and loses nothing else: what is
 * not counted dropped comes out intact and in order.  The channel has
 * the minimum size, 66 entries, rounded up to 128 per ring.
 */
static void hpk_chan_overflow(struct kunit *test)
{
	struct mm_struct *mm = hpk_mm(test);
	struct hp_channel *ch = hpk_channel(test, 2 * (HPK_STAGE + 1));
	struct hpk_sink *k = hpk_sink(test);
	int base = atomic_read(&mm->mm_count);
	unsigned long done, done2;
	unsigned int i, last;
	u64 rx, drop, drop2;

	/* One batch of 300 samples into a ring of 128 entries. */
	preempt_disable();
	hpk_push(ch, mm, HPK_BASE_A, HP_SRC_INJECT, 0, 300);
	preempt_enable();

	hp_channel_counts(ch, HP_SRC_INJECT, &rx, &drop);
	KUNIT_EXPECT_EQ(test, rx, 300ULL);
	KUNIT_EXPECT_GT(test, drop, 0ULL);
	hpk_expect_counts(test, ch, HP_SRC_ABIT, 0, 0);
	done = hp_channel_drain(ch, hpk_collect, k);
	KUNIT_EXPECT_EQ(test, done + drop, 300ULL);
	KUNIT_EXPECT_EQ(test, k->total, done);
	/* An empty ring of 128 takes three full chunks with headers... */
	KUNIT_EXPECT_GE(test, done, 3UL * HPK_STAGE);
	/* ...and never 128 samples, since each chunk needs a header. */
	KUNIT_EXPECT_LT(test, done, 128UL);
	KUNIT_ASSERT_EQ(test, (unsigned long)k->n, done);
	hpk_expect(test, k, 0, mm, HPK_BASE_A, HP_SRC_INJECT, 0,
		   3 * HPK_STAGE);
	/* The rest that got in is intact and in order. */
	for (i = 3 * HPK_STAGE, last = i - 1; i < k->n; i++) {
		unsigned int idx = (k->s[i].addr - HPK_BASE_A) >> PAGE_SHIFT;

		if (idx <= last || idx >= 300 ||
		    !hpk_is(k, i, mm, HPK_BASE_A, HP_SRC_INJECT, idx)) {
			KUNIT_FAIL(test, "sample %u: addr %#llx after %u", i,
				   k->s[i].addr, last);
			break;
		}
		last = idx;
	}
	KUNIT_EXPECT_EQ(test, atomic_read(&mm->mm_count), base);

	/*
	 * Batches of one sample commit a header each at hp_channel_end():
	 * 64 fill the 128 entries, the other 136 are refused.
	 */
	hpk_sink_reset(k);
	preempt_disable();
	for (i = 300; i < 500; i++)
		hpk_push(ch, mm, HPK_BASE_A, HP_SRC_INJECT, i, 1);
	preempt_enable();
	hp_channel_counts(ch, HP_SRC_INJECT, &rx, &drop2);
	KUNIT_EXPECT_EQ(test, rx, 500ULL);
	done2 = hp_channel_drain(ch, hpk_collect, k);
	KUNIT_EXPECT_EQ(test, done2, 64UL);
	KUNIT_EXPECT_EQ(test, drop2 - drop, 200ULL - done2);
	KUNIT_ASSERT_EQ(test, (unsigned long)k->n, done2);
	hpk_expect(test, k, 0, mm, HPK_BASE_A, HP_SRC_INJECT, 300, done2);
	KUNIT_EXPECT_EQ(test, atomic_read(&mm->mm_count), base);

	/* Once drained, the ring takes samples again. */
	hpk_sink_reset(k);
	preempt_disable();
	hpk_push(ch, mm, HPK_BASE_A, HP_SRC_INJECT, 500, 50);
	preempt_enable();
	hpk_expect_counts(test, ch, HP_SRC_INJECT, 550, drop2);
	KUNIT_EXPECT_EQ(test, hp_channel_drain(ch, hpk_collect, k), 50UL);
	hpk_expect(test, k, 0, mm, HPK_BASE_A, HP_SRC_INJECT, 500, 50);
	KUNIT_EXPECT_EQ(test, atomic_read(&mm->mm_count), base);
}

/* Interleaved batches of two mms: each sample keeps its own mm. */
static void hpk_chan_two_mms(struct kunit *test)
{
	struct mm_struct *a = hpk_mm(test);
	struct mm_struct *b = hpk_mm(test);
	struct hp_channel *ch = hpk_channel(test, 256);
	struct hpk_sink *k = hpk_sink(test);
	int base_a = atomic_read(&a->mm_count);
	int base_b = atomic_read(&b->mm_count);

	preempt_disable();
	hpk_push(ch, a, HPK_BASE_A, HP_SRC_INJECT, 0, 5);
	hpk_push(ch, b, HPK_BASE_B, HP_SRC_INJECT, 0, 40);
	hpk_push(ch, a, HPK_BASE_A, HP_SRC_INJECT, 5, 33);
	hpk_push(ch, b, HPK_BASE_B, HP_SRC_INJECT, 40, 0);
	hpk_push(ch, b, HPK_BASE_B, HP_SRC_INJECT, 40, 1);
	hpk_push(ch, a, HPK_BASE_A, HP_SRC_ABIT, 38, 1);
	preempt_enable();

	KUNIT_EXPECT_EQ(test, atomic_read(&a->mm_count), base_a + 1 + 2 + 1);
	KUNIT_EXPECT_EQ(test, atomic_read(&b->mm_count), base_b + 2 + 1);
	hpk_expect_counts(test, ch, HP_SRC_INJECT, 79, 0);
	hpk_expect_counts(test, ch, HP_SRC_ABIT, 1, 0);

	KUNIT_EXPECT_EQ(test, hp_channel_drain(ch, hpk_collect, k), 80UL);
	KUNIT_ASSERT_EQ(test, k->n, 80U);
	hpk_expect(test, k, 0, a, HPK_BASE_A, HP_SRC_INJECT, 0, 5);
	hpk_expect(test, k, 5, b, HPK_BASE_B, HP_SRC_INJECT, 0, 40);
	hpk_expect(test, k, 45, a, HPK_BASE_A, HP_SRC_INJECT, 5, 33);
	hpk_expect(test, k, 78, b, HPK_BASE_B, HP_SRC_INJECT, 40, 1);
	hpk_expect(test, k, 79, a, HPK_BASE_A, HP_SRC_ABIT, 38, 1);
	KUNIT_EXPECT_EQ(test, atomic_read(&a->mm_count), base_a);
	KUNIT_EXPECT_EQ(test, atomic_read(&b->mm_count), base_b);
}

/*
 * Samples of an mm that exits while they are in flight: the channel's
 * mm_count references keep the mm_struct, and the real sink counts the
 * samples as exited instead of filing them.  Without those references
 * KASAN reports a use-after-free here.
 */
static void hpk_chan_mm_exit(struct kunit *test)
{
	struct mm_struct *mm = hpk_mm(test);
	struct hp_channel *ch = hpk_channel(test, 256);
	struct hp_sink_stats sink = {};
	struct hp_source_stats st0, st1, mine;
	u64 rx0, drop0, rx1, drop1;
	int base = atomic_read(&mm->mm_count);

	hp_source_counts(HP_SRC_INJECT, &rx0, &drop0, &st0);
	preempt_disable();
	hpk_push(ch, mm, HPK_BASE_A, HP_SRC_INJECT, 0, 40);
	preempt_enable();
	KUNIT_ASSERT_EQ(test, atomic_read(&mm->mm_count), base + 2);

	/* mm_users drops to 0: __mmput() tears the mm down. */
	kunit_release_action(test, hpk_mmput, mm);
	KUNIT_EXPECT_EQ(test, atomic_read(&mm->mm_users), 0);
	KUNIT_EXPECT_EQ(test, atomic_read(&mm->mm_count), base + 1);

	/* This frees the mm_struct after the last chunk is filed. */
	KUNIT_EXPECT_EQ(test, hp_channel_drain(ch, hp_file_samples, &sink),
			40UL);

	hp_sink_stats_read(&sink, HP_SRC_INJECT, &mine);
	KUNIT_EXPECT_EQ(test, mine.exited, 40ULL);
	KUNIT_EXPECT_EQ(test, mine.attributed, 0ULL);
	KUNIT_EXPECT_EQ(test, mine.outside, 0ULL);
	/* A private channel and sink do not count in the system's. */
	hp_source_counts(HP_SRC_INJECT, &rx1, &drop1, &st1);
	KUNIT_EXPECT_EQ(test, st1.exited, st0.exited);
	KUNIT_EXPECT_EQ(test, st1.attributed, st0.attributed);
	KUNIT_EXPECT_EQ(test, st1.outside, st0.outside);
	KUNIT_EXPECT_EQ(test, rx1, rx0);
	KUNIT_EXPECT_EQ(test, drop1, drop0);
}

/* Sizes below two chunks with their headers are refused. */
static void hpk_chan_create_limits(struct kunit *test)
{
	struct hp_channel *ch;

	ch = hp_channel_create(0);
	KUNIT_EXPECT_TRUE(test, IS_ERR(ch) && PTR_ERR(ch) == -EINVAL);
	ch = hp_channel_create(2 * (HPK_STAGE + 1) - 1);
	KUNIT_EXPECT_TRUE(test, IS_ERR(ch) && PTR_ERR(ch) == -EINVAL);
	ch = hp_channel_create(2 * (HPK_STAGE + 1));
	KUNIT_EXPECT_NOT_ERR_OR_NULL(test, ch);
	hp_channel_destroy(ch);
	/* Destroying nothing, or a failed create, is a no-op. */
	hp_channel_destroy(NULL);
	hp_channel_destroy(ERR_PTR(-EINVAL));
}

/* Destroying a channel drops the references of what is still in it. */
static void hpk_chan_destroy_refs(struct kunit *test)
{
	struct mm_struct *mm = hpk_mm(test);
	struct hp_channel *ch = hpk_channel(test, 256);
	int base = atomic_read(&mm->mm_count);

	preempt_disable();
	hpk_push(ch, mm, HPK_BASE_A, HP_SRC_INJECT, 0, 40);
	hpk_push(ch, mm, HPK_BASE_A, HP_SRC_ABIT, 40, 3);
	preempt_enable();
	KUNIT_EXPECT_GT(test, atomic_read(&mm->mm_count), base);
	KUNIT_EXPECT_EQ(test, atomic_read(&mm->mm_count), base + 3);

	kunit_release_action(test, hpk_destroy, ch);
	KUNIT_EXPECT_EQ(test, atomic_read(&mm->mm_count), base);
}

/*
 * A batch without an mm is counted received and dropped, and takes no
 * room; a batch without a channel is counted by nobody.
 */
static void hpk_chan_no_mm(struct kunit *test)
{
	struct mm_struct *mm = hpk_mm(test);
	struct hp_channel *ch = hpk_channel(test, 256);
	struct hpk_sink *k = hpk_sink(test);
	int base = atomic_read(&mm->mm_count);
	struct hp_channel_batch b;

	preempt_disable();
	hpk_push(ch, NULL, HPK_BASE_A, HP_SRC_ABIT, 0, 70);
	hp_channel_begin_on(NULL, &b, mm, HP_SRC_ABIT);
	hp_channel_add(&b, hpk_addr(HPK_BASE_A, 0), 1, HP_ACCESS_ANY);
	hp_channel_add(&b, hpk_addr(HPK_BASE_A, 1), 1, HP_ACCESS_ANY);
	hp_channel_end(&b);
	preempt_enable();

	KUNIT_EXPECT_EQ(test, b.offered, 2U);
	KUNIT_EXPECT_EQ(test, b.dropped, 2U);
	KUNIT_EXPECT_EQ(test, atomic_read(&mm->mm_count), base);
	hpk_expect_counts(test, ch, HP_SRC_ABIT, 70, 70);
	KUNIT_EXPECT_EQ(test, hp_channel_drain(ch, hpk_collect, k), 0UL);
	KUNIT_EXPECT_EQ(test, k->calls, 0U);

	/* The ring is still empty: a full batch of an mm gets through. */
	preempt_disable();
	hpk_push(ch, mm, HPK_BASE_A, HP_SRC_ABIT, 0, 100);
	preempt_enable();
	hpk_expect_counts(test, ch, HP_SRC_ABIT, 170, 70);
	KUNIT_EXPECT_EQ(test, hp_channel_drain(ch, hpk_collect, k), 100UL);
	hpk_expect(test, k, 0, mm, HPK_BASE_A, HP_SRC_ABIT, 0, 100);
}

static struct kunit_case hpk_cases[] = {
	KUNIT_CASE(hpk_chan_order),
	KUNIT_CASE(hpk_chan_overflow),
	KUNIT_CASE(hpk_chan_two_mms),
	KUNIT_CASE(hpk_chan_mm_exit),
	KUNIT_CASE(hpk_chan_create_limits),
	KUNIT_CASE(hpk_chan_destroy_refs),
	KUNIT_CASE(hpk_chan_no_mm),
	{}
};

static struct kunit_suite hpk_suite = {
	.name = "hyperplace_channel",
	.test_cases = hpk_cases,
};

kunit_test_suite(hpk_suite);

MODULE_IMPORT_NS(EXPORTED_FOR_KUNIT_TESTING);
MODULE_DESCRIPTION("KUnit tests for the HyperPlace sample channel");
MODULE_LICENSE("GPL");
