/* SPDX-License-Identifier: GPL-2.0 */
/*
 * TAP output, perf ring walking and sysfs knobs shared by the pmutest
 * programs; the helpers are inline so that each program takes what it uses.
 */
#ifndef PMUTEST_TAP_H
#define PMUTEST_TAP_H

#include <linux/perf_event.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <unistd.h>

static int failed, tests;

static void result(bool ok, const char *name, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void result(bool ok, const char *name, const char *fmt, ...)
{
	va_list ap;

	printf("%sok %d %s\n# ", ok ? "" : "not ", ++tests, name);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	failed += !ok;
}

/*
 * Call @fn on each sample in the perf ring buffer whose header page is
 * @meta, with the sample's body; returns the samples seen.
 */
static inline long for_each_sample(struct perf_event_mmap_page *meta,
			    void (*fn)(const uint64_t *body, void *arg),
			    void *arg)
{
	char *data = (char *)meta + getpagesize();
	uint64_t head = __atomic_load_n(&meta->data_head, __ATOMIC_ACQUIRE);
	uint64_t size = meta->data_size, at;
	long samples = 0;

	for (at = meta->data_tail; at < head;) {
		struct perf_event_header *h = (void *)(data + at % size);

		if (!h->size)
			break;
		if (h->type == PERF_RECORD_SAMPLE) {
			samples++;
			if (fn)
				fn((const uint64_t *)(h + 1), arg);
		}
		at += h->size;
	}
	return samples;
}

/* Write @val to the file @path if it exists; its old value in @old. */
static inline void sysfs_swap(const char *path, const char *val, char *old, int len)
{
	FILE *f = fopen(path, "r+");

	if (!f)
		return;
	if (old && !fgets(old, len, f))
		old[0] = 0;
	rewind(f);
	fputs(val, f);
	fclose(f);
}

/*
 * Under TCG a PMI takes milliseconds, so perf lowers its maximum sample
 * rate after a few, and then throttles the events the checks count
 * samples of.  The checks are of the PMU, not of that policy: turn it
 * off and restore the default rate.
 */
static inline void perf_unthrottle(void)
{
	sysfs_swap("/proc/sys/kernel/perf_cpu_time_max_percent", "0", NULL, 0);
	sysfs_swap("/proc/sys/kernel/perf_event_max_sample_rate", "100000",
		   NULL, 0);
}

#endif /* PMUTEST_TAP_H */
