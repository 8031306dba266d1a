/* SPDX-License-Identifier: GPL-2.0-only */
/* Minimal KTAP output for C selftests (kselftest conventions). */
#ifndef TANDEM_KTAP_H
#define TANDEM_KTAP_H

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#define KSFT_PASS	0
#define KSFT_FAIL	1
#define KSFT_SKIP	4

static int ktap_n, ktap_failed, ktap_case_failed;

static inline void ktap_plan(int n)
{
	printf("KTAP version 1\n1..%d\n", n);
	fflush(stdout);
}

/* Record a failed check inside the current case; the case then fails. */
#define CHECK(cond, fmt, ...) do {					\
	if (!(cond)) {							\
		printf("# %s:%d: check failed: %s: " fmt "\n",		\
		       __func__, __LINE__, #cond, ##__VA_ARGS__);	\
		ktap_case_failed = 1;					\
	}								\
} while (0)

static inline void ktap_case_end(const char *name)
{
	ktap_n++;
	if (ktap_case_failed)
		ktap_failed++;
	printf("%sok %d %s\n", ktap_case_failed ? "not " : "", ktap_n, name);
	fflush(stdout);
	ktap_case_failed = 0;
}

static inline void ktap_skip(const char *name, const char *why)
{
	printf("ok %d %s # SKIP %s\n", ++ktap_n, name, why);
	fflush(stdout);
}

static inline int ktap_finish(void)
{
	printf("# %d passed, %d failed\n", ktap_n - ktap_failed, ktap_failed);
	return ktap_failed ? KSFT_FAIL : KSFT_PASS;
}

#endif
