// SPDX-License-Identifier: GPL-2.0
/* Minimal TAP reporting: one "ok"/"not ok" per test, "# " diagnostics. */
#include <stdarg.h>
#include <stdio.h>
#include "tap.h"

/* A broken invariant inside a long loop must not flood the log. */
#define HPT_MAX_DIAG	20

static unsigned long failures;

void hpt_diag(const char *fmt, ...)
{
	va_list ap;

	fputs("# ", stdout);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	fflush(stdout);
}

void hpt_fail(const char *file, int line, const char *fmt, ...)
{
	va_list ap;

	if (failures++ >= HPT_MAX_DIAG)
		return;
	printf("# FAIL %s:%d: ", file, line);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	fflush(stdout);
}

unsigned long hpt_failures(void)
{
	return failures;
}

int hpt_run(const struct hpt_test *tests, int n)
{
	int i, bad = 0;

	printf("1..%d\n", n);
	for (i = 0; i < n; i++) {
		failures = 0;
		tests[i].fn();
		if (failures > HPT_MAX_DIAG)
			hpt_diag("%lu more failures not shown",
				 failures - HPT_MAX_DIAG);
		printf("%sok %d - %s\n", failures ? "not " : "", i + 1,
		       tests[i].name);
		fflush(stdout);
		bad += !!failures;
	}
	return bad;
}
