// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * tandem-nf-burn: a process NF that spends a fixed number of TSC cycles
 * on every packet, then passes it. For experiments with tandemd's CPU
 * scheduling: an NF whose cost is known and steady.
 *
 *	tandem-nf-burn [--nf NAME] CYCLES
 *
 * CYCLES is 0 to 10^9 (0 burns nothing: the library's own cost).
 *
 * x86 only. libtandem-nf measures a handler's cost in TSC cycles and
 * the scheduler reads that measure; this NF exists to make the measure
 * a known number, so it burns in the same unit. A loop calibrated
 * against another clock would give the scheduler a guess instead.
 *
 * Exit status: 0 when stopped (SIGTERM, SIGINT), 1 on a runtime error
 * (the NF cannot be opened, a socket error), 2 on a usage error.
 */
#if !defined(__x86_64__) && !defined(__i386__)
#error "tandem-nf-burn counts TSC cycles (__rdtsc), which only x86 has"
#endif

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <x86intrin.h>

#include <tandem/nf.h>

#define BURN_MAX	1000000000ULL

static void usage(FILE *f)
{
	fprintf(f, "Usage: tandem-nf-burn [--nf NAME] CYCLES\n"
		   "Spend CYCLES TSC cycles (0 to 1000000000) on each packet, then pass it.\n"
		   "NAME defaults to $TANDEM_NF, which tandemd sets.\n");
}

/*
 * Digits only, at most BURN_MAX: strtoull would take a sign, spaces and
 * hex, and wrap "-1" to a huge count.
 */
static int parse_cycles(const char *s, unsigned long long *out)
{
	unsigned long long v = 0;

	if (!*s)
		return -1;
	for (; *s; s++) {
		if (*s < '0' || *s > '9')
			return -1;
		v = v * 10 + (*s - '0');
		if (v > BURN_MAX)
			return -1;
	}
	*out = v;
	return 0;
}

static int burn(struct tdm_nf_pkt *pkt, void *arg)
{
	unsigned long long cycles = *(unsigned long long *)arg;
	unsigned long long start = __rdtsc();

	/* no pause: the point is to keep the core busy */
	while (__rdtsc() - start < cycles)
		;
	return TDM_NF_PASS;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "nf", required_argument, NULL, 'n' },
		{ "help", no_argument, NULL, 'h' },
		{}
	};
	unsigned long long cycles;
	const char *name = NULL;
	struct tdm_nf *nf;
	char err[256];
	int c, ret;

	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'n':
			name = optarg;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (argc - optind != 1) {
		fprintf(stderr, "tandem-nf-burn: %s\n", argc == optind ?
			"CYCLES is missing" : "one CYCLES only");
		usage(stderr);
		return 2;
	}
	if (parse_cycles(argv[optind], &cycles)) {
		fprintf(stderr, "tandem-nf-burn: CYCLES '%s' is not a number from 0 to %llu\n",
			argv[optind], BURN_MAX);
		return 2;
	}
	if (name && !*name) {
		fprintf(stderr, "tandem-nf-burn: --nf needs a name\n");
		return 2;
	}

	nf = tdm_nf_open(name, err, sizeof(err));
	if (!nf) {
		fprintf(stderr, "tandem-nf-burn: %s\n", err);
		return 1;
	}
	ret = tdm_nf_run(nf, burn, &cycles);
	if (ret < 0)
		fprintf(stderr, "tandem-nf-burn: %s: %s\n", tdm_nf_name(nf),
			strerror(-ret));
	tdm_nf_close(nf);
	return ret < 0 ? 1 : 0;
}
