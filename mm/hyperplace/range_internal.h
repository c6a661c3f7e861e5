/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Every kernel facility range.c uses, in one place.  The userspace harness
 * (tools/testing/hyperplace/shim/range_internal.h) provides the same names
 * under the same include guard and is included first, so range.c compiles
 * unchanged in both worlds.  Add a kernel dependency here and to the shim,
 * never directly to range.c.
 *
 * Used: kzalloc, kfree, kvmalloc_array, kvfree, GFP_KERNEL, rb_*, sort,
 * div64_u64, mul_u64_u64_div_u64, int_sqrt, min, max, min_t, clamp,
 * ALIGN_DOWN, BIT_ULL, check_add_overflow, INT_MAX,
 * IS_ALIGNED, PAGE_SHIFT, PAGE_SIZE, ERR_PTR, EINVAL, ERANGE, ENOMEM,
 * EXPORT_SYMBOL_IF_KUNIT.
 */
#ifndef __MM_HYPERPLACE_RANGE_INTERNAL_H
#define __MM_HYPERPLACE_RANGE_INTERNAL_H

#include <linux/align.h>
#include <linux/bits.h>
#include <linux/err.h>
#include <linux/errno.h>
#include <linux/export.h>
#include <linux/limits.h>
#include <linux/math.h>
#include <linux/math64.h>
#include <linux/minmax.h>
#include <linux/mm.h>
#include <linux/overflow.h>
#include <linux/rbtree.h>
#include <linux/slab.h>
#include <linux/sort.h>
#include <kunit/visibility.h>

#endif /* __MM_HYPERPLACE_RANGE_INTERNAL_H */
