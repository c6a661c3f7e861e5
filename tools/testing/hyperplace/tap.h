/* SPDX-License-Identifier: GPL-2.0 */
/* Minimal TAP reporting for the range classifier harness. */
#ifndef HPT_TAP_H
#define HPT_TAP_H

#include <stdbool.h>

/* Record a failed check of the running test; prints a "# " diagnostic. */
void hpt_fail(const char *file, int line, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* Print a "# " diagnostic line. */
void hpt_diag(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Failures recorded since the running test started. */
unsigned long hpt_failures(void);

#define CHECK(cond)							\
	do {								\
		if (!(cond))						\
			hpt_fail(__FILE__, __LINE__, "%s", #cond);	\
	} while (0)

#define CHECK_EQ(a, b)							\
	do {								\
		unsigned long long _a = (a), _b = (b);			\
		if (_a != _b)						\
			hpt_fail(__FILE__, __LINE__,			\
				 "%s == %s: %llu != %llu (0x%llx 0x%llx)",\
				 #a, #b, _a, _b, _a, _b);		\
	} while (0)

struct hpt_test {
	const char *name;
	void (*fn)(void);
};

/* Run @n tests, print TAP; return the number that failed. */
int hpt_run(const struct hpt_test *tests, int n);

#endif
