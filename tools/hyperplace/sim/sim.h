/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Simulator core: two tiers, first-touch placement, per-access hit accounting,
 * PEBS-like sampling, epochs on trace time and a rate-limited migration budget.
 * A policy sees the world only through the calls below.
 */
#ifndef HPSIM_SIM_H
#define HPSIM_SIM_H

#include <stddef.h>
#include <stdint.h>

#include "trace.h"
#include "vmap.h"

/* per-page flags */
#define PF_FAST		0x01	/* on the fast tier */
#define PF_SLOW		0x02	/* on the slow tier */
#define PF_ACC		0x04	/* "PTE Accessed": set on every access, cleared by scanners */
#define PF_HINT		0x08	/* NUMA hint armed: the next access faults (TPP) */
#define PF_DEAD		0x10	/* unmapped */

struct sample {
	uint64_t va;		/* page address */
	uint64_t t;		/* trace ns */
	uint32_t pid;
	uint32_t page;
	uint32_t write;
};

struct sim_opts {
	uint32_t sample_period;	/* mean accesses per sample, loads and stores each */
	double rate_mibs;	/* migration budget, MiB per second of trace time */
	uint64_t interval_ns;	/* accounting interval (timeline, oracle, t90) */
	uint64_t seed;
	const char *hp_params;	/* --hp: range.c parameter overrides */
	uint32_t hp_epoch_ms;	/* --hp-epoch-ms: hyperplace classification period */
};

struct sim;

struct policy {
	const char *name;
	void (*init)(struct sim *s);
	void (*fini)(struct sim *s);
	void (*samples)(struct sim *s, const struct sample *v, size_t n);
	void (*epoch)(struct sim *s);
	/* a mapping changed ('m', 'u', 'x'); the sim has already freed dead pages */
	void (*ctl)(struct sim *s, const struct ctl *c);
	/* hint faults (pages whose PF_HINT was armed), in access order */
	void (*faults)(struct sim *s, const uint32_t *pages, const uint64_t *t, size_t n);
};

#define SBUF 1024

struct sim {
	const struct trace *tr;
	const struct sim_opts *o;
	const struct policy *pol;
	void *pd;			/* policy state */
	uint64_t epoch_ns;		/* set by the policy's init; 0 = no epochs */

	uint8_t *pf;
	uint64_t fast_cap, fast_used;
	struct vmap vm;			/* live mappings as of now */
	uint64_t now;
	uint64_t rng;

	double tokens, tok_max, bytes_per_ns;
	uint64_t tok_t;
	uint64_t promoted, demoted;	/* pages */

	uint64_t acc, hits;
	uint64_t *iacc, *ihit;
	size_t nival;

	uint32_t cnt[2];
	struct sample sb[SBUF];
	size_t nsb;
	uint32_t fb[SBUF];
	uint64_t fbt[SBUF];
	size_t nfb;
	uint64_t nsamples;		/* samples (or scanner checks) fed to the policy */
	uint64_t pol_ns;		/* thread CPU time inside the policy */
	double replay_s;		/* wall time of the replay */
};

size_t sim_nival(const struct trace *tr, uint64_t interval_ns);
void sim_run(struct sim *s, const struct trace *tr, const struct sim_opts *o,
	     const struct policy *pol);
void sim_done(struct sim *s);

/* Migration, charged to the budget. 1 = moved, 0 = not applicable, -1 = out of budget
 * (or, for a promotion, no free fast page). */
int sim_promote(struct sim *s, uint32_t page);
int sim_demote(struct sim *s, uint32_t page);
int sim_exchange(struct sim *s, uint32_t slow_page, uint32_t fast_page);
/* pages that the budget allows to move right now */
uint64_t sim_budget_pages(struct sim *s);

static inline uint64_t sim_free_fast(const struct sim *s)
{
	return s->fast_cap - s->fast_used;
}

/* Call fn(ctx, first_page, n) for each run of live page ids inside [start, end). */
void sim_for_range(struct sim *s, uint32_t pid, uint64_t start, uint64_t end,
		   void (*fn)(void *ctx, uint64_t first, uint64_t n), void *ctx);

#endif
