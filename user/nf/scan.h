/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * tandem-nf-scan's parts that need no socket: where a packet's payload
 * is, reading pattern files, and the Hyperscan pattern set. scan.c is the
 * NF around them; selftests/test_nf_scan.c tests them.
 */
#ifndef TANDEM_NF_SCAN_H
#define TANDEM_NF_SCAN_H

#include <stdbool.h>
#include <stddef.h>
#include <tandem/tandem.h>

/*
 * The bytes to scan in the frame data[0..len): true with [*off, *off +
 * *plen) inside the frame (plen may be 0: a TCP SYN), false if there is
 * nothing to scan. scan.c's header comment says which bytes these are.
 * Every offset in m is checked against len: m may say anything.
 */
bool scan_payload(const struct tdm_meta *m, const __u8 *data, __u32 len,
		  __u32 *off, __u32 *plen);

/* The patterns, in the order given, each with where it came from. */
struct scan_pats {
	char **pat;
	char **file;		/* NULL: the command line */
	unsigned int *line;	/* in file; on the command line, its index */
	unsigned int n, cap;
};

/* Add one pattern (copied); file NULL for the command line. 0 or -ENOMEM. */
int scan_pats_add(struct scan_pats *ps, const char *pat, const char *file,
		  unsigned int line);

/*
 * Add the patterns of file path: one a line, taken as it is but for the
 * line end (\n or \r\n); blank lines and lines whose first non-blank
 * character is '#' are skipped. 0, or -1 with "PATH: why" or "PATH:LINE:
 * why" in err.
 */
int scan_pats_read(struct scan_pats *ps, const char *path, char *err,
		   size_t errlen);

void scan_pats_free(struct scan_pats *ps);

struct hs_database;
struct hs_scratch;

struct scan_set {
	struct hs_database *db;
	struct hs_scratch *scratch;
	unsigned int n;
	unsigned long long *hits;	/* per pattern: packets it dropped */
	unsigned long long errors;	/* hs_scan failures (dropped) */
};

/*
 * Compile ps into one block-mode database and its scratch. 0, or -1 with
 * the pattern's origin, the pattern and Hyperscan's message in err.
 */
int scan_compile(struct scan_set *set, const struct scan_pats *ps,
		 bool nocase, char *err, size_t errlen);

/*
 * The index of a pattern that matches p[0..len), or -1 if none does;
 * -2 if Hyperscan failed (counted in errors). Counts the hit.
 */
int scan_match(struct scan_set *set, const __u8 *p, __u32 len);

void scan_free(struct scan_set *set);

#endif /* TANDEM_NF_SCAN_H */
