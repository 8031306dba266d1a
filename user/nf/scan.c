// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * tandem-nf-scan: a process NF that drops packets whose payload matches
 * any of a set of regular expressions (PCRE syntax, as Hyperscan takes
 * it), and passes the rest.
 *
 *	tandem-nf-scan [--nf NAME] [-f FILE]... [--nocase] [--] PATTERN...
 *
 * The patterns are compiled once, at start, into one Hyperscan block-mode
 * database (HS_FLAG_SINGLEMATCH | HS_FLAG_DOTALL, and HS_FLAG_CASELESS
 * with --nocase); each packet is one block. -f FILE adds a file's
 * patterns, one a line (blank lines and '#' comments skipped). At exit
 * each pattern's count of dropped packets goes to stderr.
 *
 * What is scanned, from the metadata the entry parsed (scan_payload()):
 *
 * - TCP, UDP, ICMP, ICMPv6 and SCTP packets and first fragments: the L4
 *   payload, past the header: UDP, ICMP and ICMPv6 8 bytes, SCTP's
 *   common header 12 (its chunks are scanned with their headers), TCP
 *   its data offset * 4, read from the TCP header at l4_off. A TCP
 *   header cut short or with a data offset below 5 leaves nothing to
 *   scan: the stack drops such a packet, no application sees a byte.
 * - Later fragments, and IP packets of other protocols: the IP payload.
 *   IPv4's begins after IHL * 4 bytes, the one field read there; IPv6's
 *   after the fixed 40 bytes, so extension headers (the fragment header
 *   too) are scanned with it: walking them would be a second parser,
 *   and scanning more bytes can add a match but never hide one.
 * - Anything else (no IP header the parser accepted): nothing; passed.
 *
 * The end is the IP datagram's (total or payload length), never past the
 * frame: Ethernet padding of a short frame is no payload, and a pattern
 * anchored at the end ($) would not match with it.
 *
 * Each packet is scanned alone: a match split across TCP segments or IP
 * fragments is not seen (no reassembly). This NF suits experiments and
 * simple filters, not an IDS.
 *
 * Exit status: 0 when stopped (SIGTERM, SIGINT), 1 on a runtime error
 * (the NF cannot be opened, a socket error, no Hyperscan support on this
 * CPU), 2 on a usage error, an unreadable pattern file or a pattern that
 * does not compile.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <hs/hs.h>

#include <tandem/nf.h>
#include "scan.h"

static void usage(FILE *f)
{
	fprintf(f, "Usage: tandem-nf-scan [--nf NAME] [-f FILE]... [--nocase] [--] PATTERN...\n"
		   "Drop packets whose payload matches a PATTERN (PCRE syntax, Hyperscan).\n"
		   "  --nf NAME   the process NF to serve (default: $TANDEM_NF)\n"
		   "  -f FILE     patterns from FILE, one a line; '#' comments\n"
		   "  --nocase    match letters in either case\n");
}

static int handle(struct tdm_nf_pkt *pkt, void *arg)
{
	struct scan_set *set = arg;
	__u32 off, len;

	if (!scan_payload(pkt->meta, pkt->data, pkt->len, &off, &len))
		return TDM_NF_PASS;
	/* a Hyperscan failure (-2) drops: a filter that cannot look fails closed */
	return scan_match(set, pkt->data + off, len) == -1 ? TDM_NF_PASS
							   : TDM_NF_DROP;
}

static void report(const struct scan_set *set, const struct scan_pats *ps)
{
	unsigned int i;

	for (i = 0; i < set->n; i++) {
		if (ps->file[i])
			fprintf(stderr, "tandem-nf-scan: %s:%u '%s': %llu dropped\n",
				ps->file[i], ps->line[i], ps->pat[i],
				set->hits[i]);
		else
			fprintf(stderr, "tandem-nf-scan: pattern %u '%s': %llu dropped\n",
				ps->line[i], ps->pat[i], set->hits[i]);
	}
	if (set->errors)
		fprintf(stderr, "tandem-nf-scan: %llu packets dropped on scan errors\n",
			set->errors);
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "nf", required_argument, NULL, 'n' },
		{ "nocase", no_argument, NULL, 'i' },
		{ "help", no_argument, NULL, 'h' },
		{}
	};
	struct scan_pats ps = {};
	struct scan_set set = {};
	const char *name = NULL;
	bool nocase = false;
	struct tdm_nf *nf;
	char err[512];
	int c, ret = 2;

	while ((c = getopt_long(argc, argv, "f:h", opts, NULL)) != -1) {
		switch (c) {
		case 'n':
			name = optarg;
			break;
		case 'i':
			nocase = true;
			break;
		case 'f':
			if (scan_pats_read(&ps, optarg, err, sizeof(err))) {
				fprintf(stderr, "tandem-nf-scan: %s\n", err);
				goto out;
			}
			break;
		case 'h':
			usage(stdout);
			ret = 0;
			goto out;
		default:
			usage(stderr);
			goto out;
		}
	}
	if (name && !*name) {
		fprintf(stderr, "tandem-nf-scan: --nf needs a name\n");
		goto out;
	}
	for (; optind < argc; optind++) {
		if (!*argv[optind]) {
			fprintf(stderr, "tandem-nf-scan: pattern %u is empty\n",
				ps.n + 1);
			goto out;
		}
		if (scan_pats_add(&ps, argv[optind], NULL, ps.n + 1)) {
			fprintf(stderr, "tandem-nf-scan: out of memory\n");
			ret = 1;
			goto out;
		}
	}
	if (!ps.n) {
		fprintf(stderr, "tandem-nf-scan: no patterns\n");
		usage(stderr);
		goto out;
	}
	if (hs_valid_platform() != HS_SUCCESS) {
		fprintf(stderr, "tandem-nf-scan: Hyperscan does not run on this CPU (it needs SSSE3)\n");
		ret = 1;
		goto out;
	}
	if (scan_compile(&set, &ps, nocase, err, sizeof(err))) {
		fprintf(stderr, "tandem-nf-scan: %s\n", err);
		goto out;
	}

	nf = tdm_nf_open(name, err, sizeof(err));
	if (!nf) {
		fprintf(stderr, "tandem-nf-scan: %s\n", err);
		ret = 1;
		goto out;
	}
	c = tdm_nf_run(nf, handle, &set);
	if (c < 0)
		fprintf(stderr, "tandem-nf-scan: %s: %s\n", tdm_nf_name(nf),
			strerror(-c));
	ret = c < 0 ? 1 : 0;
	report(&set, &ps);
	tdm_nf_close(nf);
out:
	scan_free(&set);
	scan_pats_free(&ps);
	return ret;
}
