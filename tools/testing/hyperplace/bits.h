/* SPDX-License-Identifier: GPL-2.0 */
/* Word-at-a-time page bitmaps for the reference model. */
#ifndef HPT_BITS_H
#define HPT_BITS_H

#include <linux/types.h>

static inline u64 hpt_word_mask(unsigned long a, unsigned long b,
				unsigned long w)
{
	unsigned long lo = a > w * 64 ? a - w * 64 : 0;
	unsigned long hi = b < (w + 1) * 64 ? b - w * 64 : 64;
	u64 m = hi == 64 ? ~0ULL : (1ULL << hi) - 1;

	return m & ~((1ULL << lo) - 1);
}

/* Set (@on) or clear the bits [@a, @b). */
static inline void hpt_bits_set(u64 *map, unsigned long a, unsigned long b,
				bool on)
{
	unsigned long w;

	for (w = a / 64; a < b && w <= (b - 1) / 64; w++) {
		if (on)
			map[w] |= hpt_word_mask(a, b, w);
		else
			map[w] &= ~hpt_word_mask(a, b, w);
	}
}

/* Number of bits set in @map & ~@not (if @not) within [@a, @b). */
static inline unsigned long hpt_bits_count(const u64 *map, const u64 *not,
					   unsigned long a, unsigned long b)
{
	unsigned long w, n = 0;
	u64 v;

	for (w = a / 64; a < b && w <= (b - 1) / 64; w++) {
		v = map[w] & hpt_word_mask(a, b, w);
		if (not)
			v &= ~not[w];
		n += __builtin_popcountll(v);
	}
	return n;
}

static inline bool hpt_bit(const u64 *map, unsigned long i)
{
	return map[i / 64] >> (i % 64) & 1;
}

#endif
