/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Userspace stand-in for mm/hyperplace/range_internal.h.  It uses the same
 * include guard and is force-included (-include) before range.c, so the
 * kernel header becomes a no-op and range.c compiles unchanged.  Needs
 * -I$(KSRC)/tools/include and $(KSRC)/tools/lib/rbtree.c.
 *
 * Define HP_SHIM_FAULT_INJECT and provide hp_shim_alloc_fails() to make
 * allocations fail on demand (the harness does; hpsim need not).
 */
#ifndef __MM_HYPERPLACE_RANGE_INTERNAL_H
#define __MM_HYPERPLACE_RANGE_INTERNAL_H

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <linux/align.h>
#include <linux/bits.h>
#include <linux/err.h>
#include <linux/kernel.h>
#include <linux/overflow.h>
#include <linux/rbtree.h>
#include <linux/types.h>

#ifndef PAGE_SHIFT
#define PAGE_SHIFT	12
#endif
#ifndef PAGE_SIZE
#define PAGE_SIZE	(1UL << PAGE_SHIFT)
#endif
#ifndef GFP_KERNEL
#define GFP_KERNEL	0
#endif

#define EXPORT_SYMBOL_IF_KUNIT(sym)	extern int hp_shim_export_##sym

#ifdef HP_SHIM_FAULT_INJECT
bool hp_shim_alloc_fails(void);
#else
static inline bool hp_shim_alloc_fails(void)
{
	return false;
}
#endif

static inline void *kzalloc(size_t size, int gfp)
{
	(void)gfp;
	return hp_shim_alloc_fails() ? NULL : calloc(1, size);
}

static inline void kfree(const void *p)
{
	free((void *)p);
}

static inline void *kvmalloc_array(size_t n, size_t size, int gfp)
{
	size_t bytes;

	(void)gfp;
	if (hp_shim_alloc_fails() || (size && n > SIZE_MAX / size))
		return NULL;
	bytes = n * size;
	return malloc(bytes ? bytes : 1);
}

static inline void kvfree(const void *p)
{
	free((void *)p);
}

static inline u64 div64_u64(u64 dividend, u64 divisor)
{
	return dividend / divisor;
}

static inline u64 mul_u64_u64_div_u64(u64 a, u64 mul, u64 div)
{
	return (u64)((unsigned __int128)a * mul / div);
}

static inline unsigned long int_sqrt(unsigned long x)
{
	unsigned long r = 0, bit = 1UL << (sizeof(long) * 8 - 2);

	while (bit > x)
		bit >>= 2;
	while (bit) {
		if (x >= r + bit) {
			x -= r + bit;
			r = (r >> 1) + bit;
		} else {
			r >>= 1;
		}
		bit >>= 2;
	}
	return r;
}

/* The kernel's sort() is a heapsort; qsort gives the same order here
 * because the comparator never returns 0 for different ranges.
 */
#define sort(base, num, size, cmp, swap)	qsort(base, num, size, cmp)

#endif /* __MM_HYPERPLACE_RANGE_INTERNAL_H */
