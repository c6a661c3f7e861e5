// SPDX-License-Identifier: GPL-2.0
#include <stdlib.h>
#include <string.h>

#include "util.h"
#include "vmap.h"

void vmap_init(struct vmap *m, unsigned int shift)
{
	memset(m, 0, sizeof(*m));
	m->shift = shift;
	m->cap = 16;
	m->tab = xcalloc(m->cap, sizeof(*m->tab));
}

void vmap_free(struct vmap *m)
{
	for (size_t i = 0; i < m->cap; i++)
		free(m->tab[i].v);
	free(m->tab);
	memset(m, 0, sizeof(*m));
}

static size_t slot(uint32_t pid, size_t cap)
{
	return (pid * 2654435761u) & (cap - 1);
}

static void grow(struct vmap *m)
{
	struct vpid *old = m->tab;
	size_t ocap = m->cap;

	m->cap *= 2;
	m->tab = xcalloc(m->cap, sizeof(*m->tab));
	for (size_t i = 0; i < ocap; i++) {
		size_t j;

		if (!old[i].used)
			continue;
		for (j = slot(old[i].pid, m->cap); m->tab[j].used; j = (j + 1) & (m->cap - 1))
			;
		m->tab[j] = old[i];
	}
	free(old);
}

struct vpid *vmap_pid(struct vmap *m, uint32_t pid, int create)
{
	size_t j;

	for (j = slot(pid, m->cap); m->tab[j].used; j = (j + 1) & (m->cap - 1))
		if (m->tab[j].pid == pid)
			return &m->tab[j];
	if (!create)
		return NULL;
	if (2 * (m->n + 1) > m->cap) {
		grow(m);
		return vmap_pid(m, pid, create);
	}
	m->n++;
	m->tab[j].used = 1;
	m->tab[j].pid = pid;
	return &m->tab[j];
}

long vmap_find(struct vpid *p, uint64_t addr)
{
	size_t lo = 0, hi = p->n;

	if (p->last < p->n && addr >= p->v[p->last].start && addr < p->v[p->last].end)
		return (long)p->last;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;

		if (addr < p->v[mid].start)
			hi = mid;
		else if (addr >= p->v[mid].end)
			lo = mid + 1;
		else
			return (long)(p->last = mid);
	}
	return -1;
}

uint64_t vmap_page(struct vmap *m, uint32_t pid, uint64_t addr)
{
	struct vpid *p = vmap_pid(m, pid, 0);
	long i;

	if (!p)
		return UINT64_MAX;
	i = vmap_find(p, addr);
	if (i < 0)
		return UINT64_MAX;
	return p->v[i].base + ((addr - p->v[i].start) >> m->shift);
}

static void insert_at(struct vpid *p, size_t i, struct vma v)
{
	if (p->n == p->cap) {
		p->cap = p->cap ? 2 * p->cap : 4;
		p->v = xrealloc(p->v, p->cap * sizeof(*p->v));
	}
	memmove(&p->v[i + 1], &p->v[i], (p->n - i) * sizeof(*p->v));
	p->v[i] = v;
	p->n++;
}

void vmap_unmap(struct vmap *m, uint32_t pid, uint64_t start, uint64_t end,
		vmap_kill_fn kill, void *ctx)
{
	struct vpid *p = vmap_pid(m, pid, 0);
	size_t i = 0;

	if (!p)
		return;
	while (i < p->n) {
		struct vma *v = &p->v[i];
		uint64_t s = v->start > start ? v->start : start;
		uint64_t e = v->end < end ? v->end : end;

		if (s >= e) {
			i++;
			continue;
		}
		if (kill)
			kill(ctx, v->base + ((s - v->start) >> m->shift), (e - s) >> m->shift);
		if (s > v->start && e < v->end) {
			/* hole in the middle: keep both sides */
			struct vma tail = { e, v->end, v->base + ((e - v->start) >> m->shift) };

			v->end = s;
			insert_at(p, i + 1, tail);
			i += 2;
		} else if (s > v->start) {
			v->end = s;
			i++;
		} else if (e < v->end) {
			v->base += (e - v->start) >> m->shift;
			v->start = e;
			i++;
		} else {
			memmove(v, v + 1, (p->n - i - 1) * sizeof(*v));
			p->n--;
		}
	}
	p->last = 0;
}

void vmap_map(struct vmap *m, uint32_t pid, uint64_t start, uint64_t end, uint64_t base,
	      vmap_kill_fn kill, void *ctx)
{
	struct vpid *p;
	struct vma v = { start, end, base };
	size_t i = 0;

	vmap_unmap(m, pid, start, end, kill, ctx);
	p = vmap_pid(m, pid, 1);
	while (i < p->n && p->v[i].start < start)
		i++;
	insert_at(p, i, v);
}

void vmap_exit(struct vmap *m, uint32_t pid, vmap_kill_fn kill, void *ctx)
{
	vmap_unmap(m, pid, 0, UINT64_MAX, kill, ctx);
}
