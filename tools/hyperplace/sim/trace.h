/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Trace parser. The text trace (format in ../README) is read once into a compact
 * in-memory log of 8 bytes per event, with addresses already turned into page ids, so
 * that each policy's replay is a tight loop over two arrays.
 */
#ifndef HPSIM_TRACE_H
#define HPSIM_TRACE_H

#include <stdint.h>
#include <stdio.h>

/* ev[i]: 2-bit kind above a 30-bit argument (page id or control index) */
#define EV_SHIFT	30
#define EV_ARG		((1u << EV_SHIFT) - 1)
#define EV_READ		0u
#define EV_WRITE	1u
#define EV_CTL		2u
#define EV_MAX_ARG	EV_ARG

struct ctl {
	uint64_t t;		/* absolute trace time, ns */
	uint64_t start, end;	/* m, u: page-aligned [start, end) */
	uint64_t base;		/* m: first page id of the new mapping */
	uint32_t pid;
	char op;		/* 'm', 'u', 'x' or 't' (time step too large for dt) */
};

struct trace {
	const char *name;
	uint64_t page_size, fast_pages;
	uint32_t cpus;
	unsigned int shift;		/* log2(page_size) */

	uint32_t *ev, *dt;		/* event word and ns since the previous event */
	size_t n, cap;
	struct ctl *ctl;
	size_t nctl, ctlcap;

	uint64_t npages;		/* page ids handed out (never reused) */
	uint32_t *page_pid;		/* reverse map of page ids */
	uint64_t *page_va;
	size_t pcap;

	uint64_t t0, t_end;		/* first and last event time */
	uint64_t accesses, unmapped;	/* unmapped accesses are dropped */
	uint64_t lines;
};

/*
 * Load path ("-" = stdin). Malformed lines are reported on err as "name:line: why";
 * returns 0 on success, the number of errors otherwise.
 */
int trace_load(struct trace *t, const char *path, FILE *err);
void trace_free(struct trace *t);

#endif
