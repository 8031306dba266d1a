// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Maglev hashing: the lookup table of an lb NF. Eisenbud et al.,
 * "Maglev: A Fast and Reliable Software Network Load Balancer", NSDI
 * 2016, section 3.4: each backend walks its own permutation of the
 * table's m slots (offset + j * skip, mod m; m prime, so every skip
 * reaches every slot) and, in turns, takes the next slot of it nobody
 * took. Every backend gets m / n slots to within one, and when one
 * backend goes, the slots of the others mostly stay theirs: about 1/n of
 * flows move (measured by `make bench`, Documentation/benchmarks.md).
 *
 * Weights as Katran's Maglev V2 gives them: in each round of turns a
 * backend of weight w takes w slots, so its share is w / (sum of
 * weights).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

/* splitmix64's finaliser (Steele et al., OOPSLA 2014): a 64-bit mix */
static __u64 mix64(__u64 x)
{
	x ^= x >> 30;
	x *= 0xbf58476d1ce4e5b9ULL;
	x ^= x >> 27;
	x *= 0x94d049bb133111ebULL;
	x ^= x >> 31;
	return x;
}

bool tdm_is_prime(__u32 m)
{
	__u32 d;

	if (m < 2)
		return false;
	for (d = 2; (__u64)d * d <= m; d++)
		if (m % d == 0)
			return false;
	return true;
}

int tdm_maglev_fill(__u32 *table, __u32 m,
		    const struct tdm_maglev_backend *b, __u32 n)
{
	__u32 *next, *offset, *skip, i, filled = 0;
	__u64 total = 0;

	if (!tdm_is_prime(m) || m < 3)
		return -EINVAL;
	for (i = 0; i < n; i++)
		total += b[i].weight;
	for (i = 0; i < m; i++)
		table[i] = TDM_MAGLEV_NONE;
	if (!total)
		return 0;
	next = calloc(n, sizeof(*next));
	offset = calloc(n, sizeof(*offset));
	skip = calloc(n, sizeof(*skip));
	if (!next || !offset || !skip) {
		free(next);
		free(offset);
		free(skip);
		return -ENOMEM;
	}
	for (i = 0; i < n; i++) {
		offset[i] = mix64(b[i].key) % m;
		skip[i] = mix64(b[i].key ^ 0x9e3779b97f4a7c15ULL) % (m - 1) + 1;
	}
	while (filled < m) {
		for (i = 0; i < n && filled < m; i++) {
			__u32 w;

			for (w = 0; w < b[i].weight && filled < m; w++) {
				__u32 c;

				/* the next slot of i's permutation still free */
				do {
					c = (offset[i] +
					     (__u64)next[i] * skip[i]) % m;
					next[i]++;
				} while (table[c] != TDM_MAGLEV_NONE);
				table[c] = i;
				filled++;
			}
		}
	}
	free(next);
	free(offset);
	free(skip);
	return 0;
}
