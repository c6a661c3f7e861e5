/* SPDX-License-Identifier: GPL-2.0-only */
#ifndef _ASM_X86_PEBS_CONSUMER_H
#define _ASM_X86_PEBS_CONSUMER_H

struct perf_event;

/**
 * struct x86_pebs_consumer - in-kernel receiver of raw PEBS records
 * @consume: called with the PMU disabled, from the PMI or from the
 *	sched-out drain (interrupts off), for each counter owned by the
 *	consumer that has records in the drained buffer; @base and @top
 *	bound the whole buffer, records are @record_size apart, and only
 *	those whose applicable-counters field has @bit belong to @event.
 *	It must not sleep and must not touch the records after it returns.
 *
 * A counter is owned by the consumer when it was created with
 * perf_event_create_kernel_counter() with the consumer as the overflow
 * handler context.  Its records are handed over as they are: perf builds
 * no sample data for them, writes no ring buffer and translates no
 * address.  Only the adaptive PEBS drain (Ice Lake and later) hands over.
 */
struct x86_pebs_consumer {
	void (*consume)(struct perf_event *event, const void *base,
			const void *top, unsigned int record_size, int bit);
};

int x86_pebs_consumer_register(const struct x86_pebs_consumer *c);
void x86_pebs_consumer_unregister(const struct x86_pebs_consumer *c);

#endif /* _ASM_X86_PEBS_CONSUMER_H */
