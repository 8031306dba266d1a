// SPDX-License-Identifier: GPL-2.0-only
/*
 * Unit tests of tandem-nf-scan without a socket (user/nf/scan_core.c):
 * where the payload of crafted packets is, Hyperscan matching, pattern
 * files, and generated hostile metadata and lengths, which must never
 * make it read outside the frame. Built with ASan and UBSan
 * (user/nf/build.mk): each frame is a malloc of exactly its length, so a
 * read past it aborts the test.
 *
 * Needs no privileges; skips (exit 4) where Hyperscan cannot run.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <linux/if_ether.h>
#include <hs/hs.h>

#include "scan.h"
#include "lib/ktap.h"
#include "lib/pkt.h"

/* The metadata the entry would give p, its L4 header at l4_off. */
static struct tdm_meta meta_of(const struct pkt *p, __u8 proto, __u32 flags,
			       __u16 l4_off)
{
	struct tdm_meta m = {
		.flags = flags | (p->l3 == 4 ? TDM_F_IPV4 : TDM_F_IPV6),
		.l3_off = p->l3_off,
		.l4_off = l4_off,
		.l3_proto = p->l3 == 4 ? ETH_P_IP : ETH_P_IPV6,
		.l4_proto = proto,
		.pkt_len = p->len,
	};
	return m;
}

/* scan_payload on a copy of p's first len bytes, in a buffer that size. */
static bool payload_n(const struct pkt *p, __u32 len, const struct tdm_meta *m,
		      __u32 *off, __u32 *plen)
{
	__u8 *buf = malloc(len ? len : 1);
	bool ok;

	memcpy(buf, p->buf, len);
	*off = *plen = 0xdead;
	ok = scan_payload(m, buf, len, off, plen);
	free(buf);
	return ok;
}

static bool payload(const struct pkt *p, const struct tdm_meta *m,
		    __u32 *off, __u32 *plen)
{
	return payload_n(p, p->len, m, off, plen);
}

static void pkt_data(struct pkt *p, const char *s)
{
	size_t n = strlen(s);

	memcpy(pkt_put(p, n), s, n);
}

static struct tcphdr *tcp_at(struct pkt *p, __u32 l4)
{
	return (struct tcphdr *)(p->buf + l4);
}

static void payload_udp_ipv4_ipv6(void)
{
	struct tdm_meta m;
	struct pkt p;
	__u32 off, len;

	pkt_udp4(&p, "10.0.0.1", "10.0.0.2", 1, 2, 0);
	pkt_data(&p, "hello");
	m = meta_of(&p, IPPROTO_UDP, TDM_F_L4, 14 + 20);
	CHECK(payload(&p, &m, &off, &len), "ipv4 udp");
	CHECK(off == 14 + 20 + 8 && len == 5, "off %u len %u", off, len);
	CHECK(!memcmp(p.buf + off, "hello", 5), "the bytes");

	/* Ethernet padding past the datagram is not payload */
	memset(p.buf + p.len, 0, 20);
	m.pkt_len = p.len + 20;
	CHECK(payload_n(&p, p.len + 20, &m, &off, &len), "padded");
	CHECK(off == 42 && len == 5, "padded: off %u len %u", off, len);

	/* a total length beyond the frame: the frame bounds it */
	CHECK(payload_n(&p, p.len - 2, &m, &off, &len), "cut");
	CHECK(off == 42 && len == 3, "cut: off %u len %u", off, len);

	/* behind a VLAN tag and IPv4 options */
	p.len = 0;
	pkt_eth(&p, ETH_P_8021Q);
	pkt_vlan(&p, 7, ETH_P_IP);
	pkt_ip4(&p, "10.0.0.1", "10.0.0.2", IPPROTO_UDP, 8);
	pkt_udp(&p, 1, 2, 0);
	pkt_data(&p, "xyz");
	m = meta_of(&p, IPPROTO_UDP, TDM_F_L4 | TDM_F_VLAN | TDM_F_IP_OPTS,
		    18 + 28);
	CHECK(payload(&p, &m, &off, &len) && off == 18 + 28 + 8 && len == 3,
	      "vlan, options: off %u len %u", off, len);

	pkt_udp6(&p, "fd00::1", "fd00::2", 1, 2, 0);
	pkt_data(&p, "hello6");
	m = meta_of(&p, IPPROTO_UDP, TDM_F_L4, 14 + 40);
	CHECK(payload(&p, &m, &off, &len), "ipv6 udp");
	CHECK(off == 14 + 40 + 8 && len == 6, "off %u len %u", off, len);

	/* a payload length of 0 (jumbo, no option): the frame */
	((struct ipv6hdr *)(p.buf + 14))->payload_len = 0;
	CHECK(payload(&p, &m, &off, &len) && off == 62 && len == 6,
	      "plen 0: off %u len %u", off, len);

	/* a UDP header cut short: nothing */
	pkt_udp4(&p, "10.0.0.1", "10.0.0.2", 1, 2, 0);
	m = meta_of(&p, IPPROTO_UDP, TDM_F_L4 | TDM_F_TRUNC, 34);
	CHECK(!payload_n(&p, 34 + 6, &m, &off, &len), "udp header of 6");
	CHECK(payload(&p, &m, &off, &len) && off == 42 && len == 0,
	      "no payload: off %u len %u", off, len);
	ktap_case_end("payload_udp_ipv4_ipv6");
}

static void payload_tcp(void)
{
	struct tdm_meta m;
	struct pkt p;
	__u32 off, len, doff;

	p.len = 0;
	pkt_eth(&p, ETH_P_IP);
	pkt_ip4(&p, "10.0.0.1", "10.0.0.2", IPPROTO_TCP, 0);
	pkt_tcp(&p, 1, 80);
	pkt_data(&p, "GET / HTTP/1.0");
	m = meta_of(&p, IPPROTO_TCP, TDM_F_L4, 34);
	CHECK(payload(&p, &m, &off, &len) && off == 54 && len == 14,
	      "ipv4 tcp: off %u len %u", off, len);

	/* options: the data offset says where the payload is */
	tcp_at(&p, 34)->doff = 8;
	CHECK(payload(&p, &m, &off, &len) && off == 34 + 32 && len == 2,
	      "doff 8: off %u len %u", off, len);
	/* a data offset past the datagram: nothing */
	tcp_at(&p, 34)->doff = 15;
	CHECK(!payload(&p, &m, &off, &len), "doff 15 past the end");
	for (doff = 0; doff < 5; doff++) {
		tcp_at(&p, 34)->doff = doff;
		CHECK(!payload(&p, &m, &off, &len), "doff %u", doff);
	}
	tcp_at(&p, 34)->doff = 5;

	/* a TCP header cut short: up to and past the data offset's byte */
	for (len = 34; len < 54; len++)
		CHECK(!payload_n(&p, len, &m, &off, &doff), "frame of %u", len);
	CHECK(payload_n(&p, 54, &m, &off, &len) && off == 54 && len == 0,
	      "header only: off %u len %u", off, len);

	/* a frame shorter than l4_off */
	for (len = 0; len < 34; len++)
		CHECK(!payload_n(&p, len, &m, &off, &doff), "frame of %u", len);

	p.len = 0;
	pkt_eth(&p, ETH_P_IPV6);
	pkt_ip6(&p, "fd00::1", "fd00::2", IPPROTO_DSTOPTS);
	pkt_ip6_opt(&p, IPPROTO_TCP, 0);
	pkt_tcp(&p, 1, 80);
	pkt_data(&p, "data6");
	m = meta_of(&p, IPPROTO_TCP, TDM_F_L4 | TDM_F_EXTHDR, 14 + 40 + 8);
	CHECK(payload(&p, &m, &off, &len) && off == 82 && len == 5,
	      "ipv6 tcp: off %u len %u", off, len);
	tcp_at(&p, 62)->doff = 4;
	CHECK(!payload(&p, &m, &off, &len), "ipv6 doff 4");
	ktap_case_end("payload_tcp_options_truncated_bad_doff");
}

static void payload_l3(void)
{
	struct tdm_meta m;
	struct iphdr *ip;
	struct pkt p;
	__u32 off, len;

	/* a later IPv4 fragment: the IP payload, after IHL * 4 */
	p.len = 0;
	pkt_eth(&p, ETH_P_IP);
	ip = pkt_ip4(&p, "10.0.0.1", "10.0.0.2", IPPROTO_UDP, 4);
	ip->frag_off = htons(185);
	pkt_data(&p, "later bytes");
	m = meta_of(&p, IPPROTO_UDP, TDM_F_FRAG | TDM_F_FRAG_LATER, 0);
	CHECK(payload(&p, &m, &off, &len) && off == 14 + 24 && len == 11,
	      "ipv4 later fragment: off %u len %u", off, len);
	/* a bad IHL: nothing (the parser would not have set IPV4) */
	ip->ihl = 3;
	CHECK(!payload(&p, &m, &off, &len), "ihl 3");
	ip->ihl = 15;
	CHECK(!payload(&p, &m, &off, &len), "ihl 15 past the end");

	/* GRE: no L4 header the parser knows */
	p.len = 0;
	pkt_eth(&p, ETH_P_IP);
	pkt_ip4(&p, "10.0.0.1", "10.0.0.2", IPPROTO_GRE, 0);
	pkt_data(&p, "gre!");
	m = meta_of(&p, IPPROTO_GRE, 0, 34);
	CHECK(payload(&p, &m, &off, &len) && off == 34 && len == 4,
	      "gre: off %u len %u", off, len);

	/* a later IPv6 fragment: from after the fixed header */
	p.len = 0;
	pkt_eth(&p, ETH_P_IPV6);
	pkt_ip6(&p, "fd00::1", "fd00::2", IPPROTO_FRAGMENT);
	pkt_ip6_frag(&p, IPPROTO_UDP, 100, 0);
	pkt_data(&p, "frag6");
	m = meta_of(&p, IPPROTO_UDP, TDM_F_FRAG | TDM_F_FRAG_LATER |
		    TDM_F_EXTHDR, 0);
	CHECK(payload(&p, &m, &off, &len) && off == 54 && len == 13,
	      "ipv6 later fragment: off %u len %u", off, len);

	/* ICMP: 8 bytes of header */
	p.len = 0;
	pkt_eth(&p, ETH_P_IP);
	pkt_ip4(&p, "10.0.0.1", "10.0.0.2", IPPROTO_ICMP, 0);
	pkt_icmp(&p, 8);
	pkt_data(&p, "ping");
	m = meta_of(&p, IPPROTO_ICMP, TDM_F_L4, 34);
	CHECK(payload(&p, &m, &off, &len) && off == 42 && len == 4,
	      "icmp: off %u len %u", off, len);

	/* no IP header the parser accepted: nothing */
	m.flags = TDM_F_UNPARSED | TDM_F_TRUNC;
	CHECK(!payload(&p, &m, &off, &len), "not ip");
	ktap_case_end("payload_l3_later_fragments_other_protocols");
}

static int compile(struct scan_set *set, bool nocase, const char *const *pats,
		   char *err, size_t errlen)
{
	struct scan_pats ps = {};
	int ret;

	for (; *pats; pats++)
		if (scan_pats_add(&ps, *pats, NULL, ps.n + 1))
			return -1;
	ret = scan_compile(set, &ps, nocase, err, errlen);
	scan_pats_free(&ps);
	return ret;
}

static int match(struct scan_set *set, const char *s, size_t n)
{
	__u8 *buf = malloc(n ? n : 1);
	int ret;

	if (n)
		memcpy(buf, s, n);
	ret = scan_match(set, buf, n);
	free(buf);
	return ret;
}

#define MATCH(set, lit)	match(set, lit, sizeof(lit) - 1)

static void matching(void)
{
	static const char *const pats[] = {
		"attack", "^GET /index\\.html$", "a.b", "\\x00\\xff", NULL,
	};
	struct scan_set set, ci;
	char err[512];

	if (compile(&set, false, pats, err, sizeof(err))) {
		CHECK(0, "compile: %s", err);
		ktap_case_end("matching_hit_miss_whole_empty_caseless");
		return;
	}
	CHECK(MATCH(&set, "an attack!") == 0, "hit");
	CHECK(MATCH(&set, "attack") == 0, "the whole payload");
	CHECK(MATCH(&set, "peace") == -1, "miss");
	CHECK(MATCH(&set, "attac") == -1, "a prefix is a miss");
	CHECK(MATCH(&set, "GET /index.html") == 1, "anchored at both ends");
	CHECK(MATCH(&set, "GET /index.html ") == -1, "one byte more");
	CHECK(MATCH(&set, " GET /index.html") == -1, "one byte before");
	CHECK(MATCH(&set, "a\nb") == 2, "dot matches a newline (DOTALL)");
	CHECK(MATCH(&set, "x\x00\xffy") == 3, "binary");
	CHECK(MATCH(&set, "") == -1, "empty payload");
	CHECK(match(&set, NULL, 0) == -1, "no buffer");
	CHECK(MATCH(&set, "ATTACK") == -1, "case counts by default");
	CHECK(set.hits[0] == 2 && set.hits[1] == 1 && set.hits[2] == 1 &&
	      set.hits[3] == 1, "hits %llu %llu %llu %llu", set.hits[0],
	      set.hits[1], set.hits[2], set.hits[3]);
	CHECK(set.errors == 0, "errors %llu", set.errors);

	if (!compile(&ci, true, pats, err, sizeof(err))) {
		CHECK(MATCH(&ci, "AtTaCk") == 0, "caseless");
		CHECK(MATCH(&ci, "get /INDEX.HTML") == 1, "caseless anchored");
		scan_free(&ci);
	} else {
		CHECK(0, "compile --nocase: %s", err);
	}
	scan_free(&set);
	ktap_case_end("matching_hit_miss_whole_empty_caseless");
}

static void compile_errors(void)
{
	static const char *const bad[] = { "fine", "(unclosed", NULL };
	static const char *const empty[] = { "a*", NULL };
	static const char *const none[] = { NULL };
	struct scan_set set;
	char err[512];

	CHECK(compile(&set, false, bad, err, sizeof(err)) == -1, "bad regex");
	printf("# %s\n", err);
	CHECK(strstr(err, "pattern 2 '(unclosed': "), "names it: %s", err);
	CHECK(set.db == NULL && set.hits == NULL, "nothing left");
	/* Hyperscan refuses what matches an empty payload */
	CHECK(compile(&set, false, empty, err, sizeof(err)) == -1, "a*");
	CHECK(strstr(err, "pattern 1 'a*'"), "%s", err);
	CHECK(compile(&set, false, none, err, sizeof(err)) == -1, "none");
	ktap_case_end("compile_errors_name_the_pattern");
}

static char *tmpfile_with(const char *text, size_t n)
{
	static char path[64];
	int fd;

	strcpy(path, "/tmp/test_nf_scan.XXXXXX");
	fd = mkstemp(path);
	if (fd < 0 || write(fd, text, n) != (ssize_t)n) {
		printf("# cannot write %s\n", path);
		exit(KSFT_FAIL);
	}
	close(fd);
	return path;
}

static void pattern_files(void)
{
	static const char good[] =
		"# a comment\n"
		"\n"
		"foo\r\n"
		"   \n"
		"  # an indented comment\n"
		"ba+r\n"
		"\t\r\n"
		"with spaces \n"
		"last";
	static const char bad[] = "a\n#c\n\nb(c\nd\n";
	static const char nul[] = "a\nb\0c\n";
	struct scan_pats ps = {};
	struct scan_set set;
	char err[512], want[600];
	char *path;

	path = tmpfile_with(good, sizeof(good) - 1);
	CHECK(!scan_pats_read(&ps, path, err, sizeof(err)), "%s", err);
	CHECK(ps.n == 4, "%u patterns", ps.n);
	if (ps.n == 4) {
		CHECK(!strcmp(ps.pat[0], "foo") && ps.line[0] == 3,
		      "'%s' line %u", ps.pat[0], ps.line[0]);
		CHECK(!strcmp(ps.pat[1], "ba+r") && ps.line[1] == 6,
		      "'%s' line %u", ps.pat[1], ps.line[1]);
		CHECK(!strcmp(ps.pat[2], "with spaces ") && ps.line[2] == 8,
		      "'%s' line %u", ps.pat[2], ps.line[2]);
		CHECK(!strcmp(ps.pat[3], "last") && ps.line[3] == 9,
		      "'%s' line %u", ps.pat[3], ps.line[3]);
		CHECK(!strcmp(ps.file[0], path), "file %s", ps.file[0]);
	}
	if (!scan_compile(&set, &ps, false, err, sizeof(err))) {
		CHECK(MATCH(&set, "..baaar..") == 1, "ba+r");
		CHECK(MATCH(&set, "foo\r") == 0, "foo");
		CHECK(MATCH(&set, "with spaces") == -1, "the space counts");
		scan_free(&set);
	} else {
		CHECK(0, "compile: %s", err);
	}
	scan_pats_free(&ps);
	unlink(path);

	/* a bad regex: FILE:LINE, after the patterns of another source */
	path = tmpfile_with(bad, sizeof(bad) - 1);
	scan_pats_add(&ps, "cmdline", NULL, 1);
	CHECK(!scan_pats_read(&ps, path, err, sizeof(err)), "%s", err);
	CHECK(scan_compile(&set, &ps, false, err, sizeof(err)) == -1, "b(c");
	printf("# %s\n", err);
	snprintf(want, sizeof(want), "%s:4: pattern 'b(c': ", path);
	CHECK(!strncmp(err, want, strlen(want)), "%s", err);
	scan_pats_free(&ps);
	unlink(path);

	path = tmpfile_with(nul, sizeof(nul) - 1);
	CHECK(scan_pats_read(&ps, path, err, sizeof(err)) == -1, "a NUL");
	snprintf(want, sizeof(want), "%s:2: ", path);
	CHECK(!strncmp(err, want, strlen(want)), "%s", err);
	scan_pats_free(&ps);
	unlink(path);

	CHECK(scan_pats_read(&ps, "/nonexistent/pats", err, sizeof(err)) == -1,
	      "no file");
	CHECK(!strcmp(err, "/nonexistent/pats: No such file or directory"),
	      "%s", err);
	CHECK(ps.n == 0, "%u", ps.n);
	ktap_case_end("pattern_files_comments_blank_crlf_errors");
}

/*
 * Random metadata over random frames: a real packet's bytes or random
 * ones, cut to any length, flags and offsets anything. The payload must
 * lie in the frame; scanning it must read nothing else (ASan).
 */
static void hostile(void)
{
	static const __u8 protos[] = {
		IPPROTO_TCP, IPPROTO_UDP, IPPROTO_ICMP, IPPROTO_ICMPV6,
		IPPROTO_SCTP, IPPROTO_GRE, 0, 255,
	};
	static const char *const pats[] = { "\\x00{4}", "[\\x80-\\xff]{3}$",
					    NULL };
	unsigned int i, found = 0, runs = 20000;
	struct scan_set set;
	char err[512];
	struct pkt p;

	if (compile(&set, false, pats, err, sizeof(err))) {
		CHECK(0, "compile: %s", err);
		ktap_case_end("generated_hostile_metadata_stays_in_the_frame");
		return;
	}
	srandom(4242);
	for (i = 0; i < runs; i++) {
		struct tdm_meta m = {};
		__u32 len, off = 0, plen = 0, j;
		__u8 *buf;

		switch (random() % 3) {
		case 0:
			pkt_udp4(&p, "10.0.0.1", "10.0.0.2", 1, 2, random() % 64);
			break;
		case 1:
			p.len = 0;
			pkt_eth(&p, ETH_P_IPV6);
			pkt_ip6(&p, "fd00::1", "fd00::2", IPPROTO_TCP);
			pkt_tcp(&p, 1, 2);
			pkt_put(&p, random() % 64);
			break;
		default:
			p.len = random() % sizeof(p.buf);
			for (j = 0; j < p.len; j++)
				p.buf[j] = random();
		}
		/* fuzz a few header bytes, cut the frame anywhere */
		for (j = random() % 4; j && p.len; j--)
			p.buf[random() % p.len] = random();
		len = p.len ? random() % (p.len + 1) : 0;

		m.flags = random() & 0x7ff;
		m.l4_proto = protos[random() % sizeof(protos)];
		switch (random() % 3) {
		case 0:
			/* where the real packets' headers are */
			m.l3_off = 14;
			m.l4_off = random() % 2 ? 34 : 54;
			break;
		case 1:
			m.l3_off = random() % 80;
			m.l4_off = m.l3_off + random() % 80;
			break;
		default:
			m.l3_off = random();
			m.l4_off = random();
		}
		m.pkt_len = len;

		buf = malloc(len ? len : 1);
		memcpy(buf, p.buf, len);
		if (scan_payload(&m, buf, len, &off, &plen)) {
			found++;
			CHECK(off <= len && plen <= len - off,
			      "off %u plen %u len %u flags %#x l3 %u l4 %u",
			      off, plen, len, m.flags, m.l3_off, m.l4_off);
			if (off <= len && plen <= len - off)
				scan_match(&set, buf + off, plen);
		}
		free(buf);
	}
	printf("# %u of %u had a payload; %llu %llu matches, %llu errors\n",
	       found, runs, set.hits[0], set.hits[1], set.errors);
	CHECK(found > runs / 10, "the loop hardly found payloads");
	CHECK(set.errors == 0, "%llu", set.errors);
	scan_free(&set);
	ktap_case_end("generated_hostile_metadata_stays_in_the_frame");
}

int main(void)
{
	if (hs_valid_platform() != HS_SUCCESS) {
		printf("1..0 # SKIP Hyperscan does not run on this CPU\n");
		return KSFT_SKIP;
	}
	ktap_plan(7);
	payload_udp_ipv4_ipv6();
	payload_tcp();
	payload_l3();
	matching();
	compile_errors();
	pattern_files();
	hostile();
	return ktap_finish();
}
