// SPDX-License-Identifier: GPL-2.0
/*
 * Binary cache of a parsed trace: the in-memory arrays written as they are, so a
 * trace replayed many times is parsed once. Same machine and build only (native
 * byte order and struct layout); a cache older than its trace is ignored.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cache.h"
#include "util.h"

#define MAGIC "HPSIMC02"

struct chdr {
	char magic[8];
	uint64_t page_size, fast_pages, n, nctl, npages, t0, t_end, accesses, unmapped, lines;
	uint32_t cpus, shift, ctl_size, pad;
};

static int rd(FILE *f, void *p, size_t n)
{
	return fread(p, 1, n, f) == n;
}

int cache_load(struct trace *t, const char *trace_path, const char *cache_path)
{
	struct stat st, sc;
	struct chdr h;
	FILE *f;
	int ok;

	if (!strcmp(trace_path, "-") || stat(trace_path, &st) || stat(cache_path, &sc) ||
	    sc.st_mtime < st.st_mtime)
		return 0;
	f = fopen(cache_path, "rb");
	if (!f)
		return 0;
	if (!rd(f, &h, sizeof(h)) || memcmp(h.magic, MAGIC, 8) ||
	    h.ctl_size != sizeof(struct ctl)) {
		fclose(f);
		return 0;
	}
	memset(t, 0, sizeof(*t));
	t->name = trace_path;
	t->page_size = h.page_size;
	t->fast_pages = h.fast_pages;
	t->cpus = h.cpus;
	t->shift = h.shift;
	t->n = t->cap = h.n;
	t->nctl = t->ctlcap = h.nctl;
	t->npages = t->pcap = h.npages;
	t->t0 = h.t0;
	t->t_end = h.t_end;
	t->accesses = h.accesses;
	t->unmapped = h.unmapped;
	t->lines = h.lines;
	t->ev = xmalloc(h.n * sizeof(*t->ev));
	t->dt = xmalloc(h.n * sizeof(*t->dt));
	t->ctl = xmalloc(h.nctl * sizeof(*t->ctl));
	t->page_pid = xmalloc(h.npages * sizeof(*t->page_pid));
	t->page_va = xmalloc(h.npages * sizeof(*t->page_va));
	ok = rd(f, t->ev, h.n * sizeof(*t->ev)) && rd(f, t->dt, h.n * sizeof(*t->dt)) &&
	     rd(f, t->ctl, h.nctl * sizeof(*t->ctl)) &&
	     rd(f, t->page_pid, h.npages * sizeof(*t->page_pid)) &&
	     rd(f, t->page_va, h.npages * sizeof(*t->page_va));
	fclose(f);
	if (!ok)
		trace_free(t);
	return ok;
}

void cache_save(const struct trace *t, const char *cache_path)
{
	struct chdr h = {
		.page_size = t->page_size, .fast_pages = t->fast_pages, .n = t->n,
		.nctl = t->nctl, .npages = t->npages, .t0 = t->t0, .t_end = t->t_end,
		.accesses = t->accesses, .unmapped = t->unmapped, .lines = t->lines,
		.cpus = t->cpus, .shift = t->shift, .ctl_size = sizeof(struct ctl),
	};
	FILE *f = fopen(cache_path, "wb");
	int ok;

	if (!f) {
		fprintf(stderr, "hpsim: cannot write cache %s\n", cache_path);
		return;
	}
	memcpy(h.magic, MAGIC, 8);
	ok = fwrite(&h, sizeof(h), 1, f) == 1 &&
	     fwrite(t->ev, sizeof(*t->ev), t->n, f) == t->n &&
	     fwrite(t->dt, sizeof(*t->dt), t->n, f) == t->n &&
	     fwrite(t->ctl, sizeof(*t->ctl), t->nctl, f) == t->nctl &&
	     fwrite(t->page_pid, sizeof(*t->page_pid), t->npages, f) == t->npages &&
	     fwrite(t->page_va, sizeof(*t->page_va), t->npages, f) == t->npages;
	if (fclose(f) || !ok) {
		fprintf(stderr, "hpsim: writing cache %s failed\n", cache_path);
		remove(cache_path);
	}
}
