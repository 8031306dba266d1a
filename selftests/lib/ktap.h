/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Minimal KTAP output for C selftests (kselftest conventions), checks
 * in the style of the kernel's test_progs (ASSERT_EQ and friends: what
 * was expected and what came, both printed), and a runner that gives
 * each case a process of its own.
 */
#ifndef TANDEM_KTAP_H
#define TANDEM_KTAP_H

#include <errno.h>
#include <fnmatch.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/wait.h>

#define KSFT_PASS	0
#define KSFT_FAIL	1
#define KSFT_SKIP	4

static int ktap_n, ktap_failed, ktap_case_failed;

/* CLOCK_MONOTONIC in ms: the runner prints what setup and a case took. */
static inline double ktap_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

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

/* actual == expected (integers), else both are printed, in hex too. */
#define ASSERT_EQ(actual, expected, fmt, ...) ({			\
	long long a_ = (long long)(actual);				\
	long long e_ = (long long)(expected);				\
	if (a_ != e_) {							\
		printf("# %s:%d: %s: " fmt ": expected %lld (%#llx), got %lld (%#llx)\n", \
		       __func__, __LINE__, #actual, ##__VA_ARGS__,	\
		       e_, e_, a_, a_);					\
		ktap_case_failed = 1;					\
	}								\
	a_ == e_;							\
})

/*
 * The bytes [0, alen) of actual are those of expected: else the lengths
 * or the first byte that differs, and 16 bytes of each from the row of
 * that byte, are printed.
 */
#define ASSERT_MEMEQ(actual, alen, expected, elen, fmt, ...) ({	\
	char w_[160];							\
	snprintf(w_, sizeof(w_), fmt, ##__VA_ARGS__);			\
	ktap_memeq(__func__, __LINE__, w_, (const void *)(actual),	\
		   (alen), (const void *)(expected), (elen));		\
})

static inline void ktap_hexrow(const char *who, const unsigned char *p,
			       size_t len, size_t from, size_t mark)
{
	size_t i;

	printf("#   %-8s %04zx:", who, from);
	for (i = from; i < from + 16 && i < len; i++)
		printf(i == mark ? " [%02x]" : " %02x", p[i]);
	printf("\n");
}

static inline bool ktap_memeq(const char *func, int line, const char *what,
			      const void *a, size_t alen, const void *e,
			      size_t elen)
{
	const unsigned char *pa = a, *pe = e;
	size_t i, n = alen < elen ? alen : elen;

	for (i = 0; i < n && pa[i] == pe[i]; i++)
		;
	if (i == n && alen == elen)
		return true;
	if (i == n)
		printf("# %s:%d: %s: expected %zu bytes, got %zu (the first %zu agree)\n",
		       func, line, what, elen, alen, n);
	else
		printf("# %s:%d: %s: byte %zu (%#zx) differs: expected %02x, got %02x\n",
		       func, line, what, i, i, pe[i], pa[i]);
	ktap_hexrow("expected", pe, elen, i & ~(size_t)15, i);
	ktap_hexrow("got", pa, alen, i & ~(size_t)15, i);
	ktap_case_failed = 1;
	return false;
}

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

/*
 * A case of ktap_run(): its name (the KTAP line's) and its code. A pure
 * case (text, numbers, arithmetic) needs no state: ktap_run() calls
 * neither setup() nor after() for it.
 */
struct ktap_case {
	const char *name;
	void (*fn)(void);
	bool pure;
};

/*
 * Run the cases that argv selects (glob patterns on their names; none:
 * all; "-l": list the names, run none), each in a child process of its
 * own: setup() makes its state from nothing (0, or -errno: -EPERM
 * skips), fn runs, then after() (may be NULL) checks what every case
 * must leave true. A case passes only if the child says, through a
 * pipe, that fn and after() returned; one that crashes or exits before
 * fails alone. The plan is the number selected. Returns the exit
 * status: KSFT_PASS, KSFT_FAIL or KSFT_SKIP (all skipped).
 */
static inline int ktap_run(const struct ktap_case *cases, int n, int argc,
			   char **argv, int (*setup)(void), void (*after)(void))
{
	int i, j, planned = 0, passed = 0, failed = 0, skipped = 0;
	bool sel[n], hit[argc];

	if (argc > 1 && !strcmp(argv[1], "-l")) {
		for (i = 0; i < n; i++)
			printf("%s\n", cases[i].name);
		return KSFT_PASS;
	}
	memset(hit, 0, sizeof(hit));
	for (i = 0; i < n; i++) {
		sel[i] = argc < 2;
		for (j = 1; j < argc; j++)
			if (!fnmatch(argv[j], cases[i].name, 0))
				sel[i] = hit[j] = true;
		planned += sel[i];
	}
	for (j = 1; j < argc; j++) {
		if (!hit[j]) {
			fprintf(stderr, "no case matches '%s' (-l lists them)\n",
				argv[j]);
			return KSFT_FAIL;
		}
	}
	ktap_plan(planned);
	for (i = 0; i < n; i++) {
		int status = 0, rc, done[2];
		char end = 0;
		pid_t pid;

		if (!sel[i])
			continue;
		fflush(stdout);
		if (pipe(done))
			return KSFT_FAIL;
		pid = fork();
		if (pid == 0) {
			double t0 = ktap_ms(), t1;

			close(done[0]);
			rc = cases[i].pure ? 0 : setup();
			t1 = ktap_ms();
			if (rc) {
				printf("# setup failed: %s\n", strerror(-rc));
				fflush(stdout);
				_exit(rc == -EPERM ? KSFT_SKIP : KSFT_FAIL);
			}
			cases[i].fn();
			if (after && !cases[i].pure)
				after();
			printf("# setup %.0f ms, case %.0f ms\n", t1 - t0,
			       ktap_ms() - t1);
			fflush(stdout);
			if (write(done[1], "e", 1) != 1)
				_exit(KSFT_FAIL);
			_exit(ktap_case_failed ? KSFT_FAIL : KSFT_PASS);
		}
		close(done[1]);
		if (pid < 0 || waitpid(pid, &status, 0) != pid)
			status = -1;
		rc = status != -1 && WIFEXITED(status) ? WEXITSTATUS(status) : -1;
		if (status != -1 && WIFSIGNALED(status))
			printf("# killed by signal %d\n", WTERMSIG(status));
		if (pid > 0 && read(done[0], &end, 1) != 1 && rc == KSFT_PASS) {
			printf("# the case exited before its end\n");
			rc = KSFT_FAIL;
		}
		close(done[0]);
		if (rc == KSFT_SKIP) {
			skipped++;
			printf("ok %d %s # SKIP\n", ++ktap_n, cases[i].name);
		} else {
			rc == KSFT_PASS ? passed++ : failed++;
			printf("%sok %d %s\n", rc == KSFT_PASS ? "" : "not ",
			       ++ktap_n, cases[i].name);
		}
		fflush(stdout);
	}
	printf("# %d passed, %d failed, %d skipped\n", passed, failed, skipped);
	if (failed)
		return KSFT_FAIL;
	return skipped == planned && planned ? KSFT_SKIP : KSFT_PASS;
}

#endif
