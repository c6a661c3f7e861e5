/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Per-pid table of live anonymous mappings. Each mapping owns a contiguous run of
 * page ids, so an address turns into a page id with one subtraction and one shift.
 */
#ifndef HPSIM_VMAP_H
#define HPSIM_VMAP_H

#include <stddef.h>
#include <stdint.h>

struct vma {
	uint64_t start, end;	/* [start, end), page aligned */
	uint64_t base;		/* page id of the page at start */
};

struct vpid {
	uint32_t pid;
	int used;
	struct vma *v;		/* sorted by start, disjoint */
	size_t n, cap;
	size_t last;		/* last hit: accesses are local */
};

struct vmap {
	struct vpid *tab;	/* open addressing, power-of-two size */
	size_t cap, n;
	unsigned int shift;	/* log2(page_size) */
};

/* Called for each run of page ids that an unmap or exit kills. */
typedef void (*vmap_kill_fn)(void *ctx, uint64_t first, uint64_t n);

void vmap_init(struct vmap *m, unsigned int shift);
void vmap_free(struct vmap *m);
struct vpid *vmap_pid(struct vmap *m, uint32_t pid, int create);
/* Index of the mapping holding addr, or -1. */
long vmap_find(struct vpid *p, uint64_t addr);
/* Page id of addr, or UINT64_MAX when unmapped. */
uint64_t vmap_page(struct vmap *m, uint32_t pid, uint64_t addr);
void vmap_unmap(struct vmap *m, uint32_t pid, uint64_t start, uint64_t end,
		vmap_kill_fn kill, void *ctx);
/* Like mmap(MAP_FIXED): whatever overlapped is unmapped first. */
void vmap_map(struct vmap *m, uint32_t pid, uint64_t start, uint64_t end, uint64_t base,
	      vmap_kill_fn kill, void *ctx);
void vmap_exit(struct vmap *m, uint32_t pid, vmap_kill_fn kill, void *ctx);

#endif
