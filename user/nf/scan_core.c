// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * tandem-nf-scan's payload location, pattern files and Hyperscan set;
 * scan.c's header comment describes what is scanned and why.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>
#include <hs/hs.h>

#include "scan.h"

#define IPV6_HLEN	40

/*
 * Where the IP datagram ends: its length field, if the frame holds it and
 * it is sane, bounds it; else the frame. Ethernet padding after a short
 * datagram is not payload: a pattern anchored at the end would miss.
 */
static __u32 dgram_end(const struct tdm_meta *m, const __u8 *data, __u32 len)
{
	__u32 l3 = m->l3_off, end;

	if (m->flags & TDM_F_IPV4) {
		if (l3 + 4 > len)
			return len;
		end = l3 + ((__u32)data[l3 + 2] << 8 | data[l3 + 3]);
	} else if (m->flags & TDM_F_IPV6) {
		if (l3 + 6 > len)
			return len;
		end = (__u32)data[l3 + 4] << 8 | data[l3 + 5];
		/* 0 before a hop-by-hop header: the kernel keeps the frame */
		if (!end)
			return len;
		end += l3 + IPV6_HLEN;
	} else {
		return len;
	}
	return end < len ? end : len;
}

/*
 * Bytes of the L4 header before its payload: 0 if the header is broken
 * (no payload reaches anyone), -1 if the protocol is not one we know.
 */
static int l4_hlen(const struct tdm_meta *m, const __u8 *data, __u32 end)
{
	__u32 l4 = m->l4_off;
	__u32 doff;

	switch (m->l4_proto) {
	case IPPROTO_UDP:
	case IPPROTO_ICMP:
	case IPPROTO_ICMPV6:
		return 8;
	case IPPROTO_SCTP:
		/* the common header; the chunks, headers and all, are scanned */
		return 12;
	case IPPROTO_TCP:
		/* the data offset, byte 12's high nibble */
		if (l4 + 13 > end)
			return 0;
		doff = data[l4 + 12] >> 4;
		/* the stack drops doff < 5 */
		return doff < 5 ? 0 : doff * 4;
	}
	return -1;
}

bool scan_payload(const struct tdm_meta *m, const __u8 *data, __u32 len,
		  __u32 *off, __u32 *plen)
{
	__u32 end, start, hl, l3 = m->l3_off;
	int l4;

	if (!(m->flags & (TDM_F_IPV4 | TDM_F_IPV6)))
		return false;
	end = dgram_end(m, data, len);

	if ((m->flags & TDM_F_L4) && !(m->flags & TDM_F_FRAG_LATER)) {
		l4 = l4_hlen(m, data, end);
		if (!l4)
			return false;
		if (l4 > 0) {
			start = (__u32)m->l4_off + l4;
			goto found;
		}
		/* an L4 header the parser knows and we do not: L3 payload */
	}

	/* no L4 header located: the L3 payload */
	if (m->flags & TDM_F_IPV4) {
		if (l3 >= len)
			return false;
		hl = (data[l3] & 0xf) * 4;
		if (hl < 20)
			return false;
	} else {
		/* extension headers, fragment header too, are scanned */
		hl = IPV6_HLEN;
	}
	start = l3 + hl;
found:
	if (start > end)
		return false;
	*off = start;
	*plen = end - start;
	return true;
}

int scan_pats_add(struct scan_pats *ps, const char *pat, const char *file,
		  unsigned int line)
{
	char *p, *f = NULL;

	if (ps->n == ps->cap) {
		unsigned int cap = ps->cap ? ps->cap * 2 : 16;
		char **np, **nf;
		unsigned int *nl;

		np = realloc(ps->pat, cap * sizeof(*np));
		if (!np)
			return -ENOMEM;
		ps->pat = np;
		nf = realloc(ps->file, cap * sizeof(*nf));
		if (!nf)
			return -ENOMEM;
		ps->file = nf;
		nl = realloc(ps->line, cap * sizeof(*nl));
		if (!nl)
			return -ENOMEM;
		ps->line = nl;
		ps->cap = cap;
	}
	p = strdup(pat);
	if (file)
		f = strdup(file);
	if (!p || (file && !f)) {
		free(p);
		free(f);
		return -ENOMEM;
	}
	ps->pat[ps->n] = p;
	ps->file[ps->n] = f;
	ps->line[ps->n] = line;
	ps->n++;
	return 0;
}

int scan_pats_read(struct scan_pats *ps, const char *path, char *err,
		   size_t errlen)
{
	unsigned int lineno = 0;
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;
	int ret = 0;
	FILE *f;

	f = fopen(path, "re");
	if (!f) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	while ((n = getline(&line, &cap, f)) > 0) {
		const char *s = line;

		lineno++;
		if (line[n - 1] == '\n')
			line[--n] = '\0';
		if (n && line[n - 1] == '\r')
			line[--n] = '\0';
		while (*s == ' ' || *s == '\t')
			s++;
		if (*s == '#')
			continue;
		/* Hyperscan takes C strings: a NUL would cut the pattern */
		if (strlen(line) != (size_t)n) {
			snprintf(err, errlen, "%s:%u: a NUL byte in the pattern (write \\x00)",
				 path, lineno);
			ret = -1;
			break;
		}
		if (!*s)
			continue;
		if (scan_pats_add(ps, line, path, lineno)) {
			snprintf(err, errlen, "%s:%u: %s", path, lineno,
				 strerror(ENOMEM));
			ret = -1;
			break;
		}
	}
	if (!ret && ferror(f)) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		ret = -1;
	}
	free(line);
	fclose(f);
	return ret;
}

void scan_pats_free(struct scan_pats *ps)
{
	unsigned int i;

	for (i = 0; i < ps->n; i++) {
		free(ps->pat[i]);
		free(ps->file[i]);
	}
	free(ps->pat);
	free(ps->file);
	free(ps->line);
	memset(ps, 0, sizeof(*ps));
}

int scan_compile(struct scan_set *set, const struct scan_pats *ps,
		 bool nocase, char *err, size_t errlen)
{
	unsigned int flags = HS_FLAG_SINGLEMATCH | HS_FLAG_DOTALL;
	unsigned int *fl = NULL, *ids = NULL, i;
	hs_compile_error_t *cerr = NULL;
	hs_database_t *db = NULL;
	hs_scratch_t *scratch = NULL;
	hs_error_t e;

	memset(set, 0, sizeof(*set));
	if (!ps->n) {
		snprintf(err, errlen, "no patterns");
		return -1;
	}
	if (nocase)
		flags |= HS_FLAG_CASELESS;
	fl = calloc(ps->n, sizeof(*fl));
	ids = calloc(ps->n, sizeof(*ids));
	set->hits = calloc(ps->n, sizeof(*set->hits));
	if (!fl || !ids || !set->hits) {
		snprintf(err, errlen, "%s", strerror(ENOMEM));
		goto fail;
	}
	for (i = 0; i < ps->n; i++) {
		fl[i] = flags;
		ids[i] = i;
	}
	e = hs_compile_multi((const char *const *)ps->pat, fl, ids, ps->n,
			     HS_MODE_BLOCK, NULL, &db, &cerr);
	if (e != HS_SUCCESS) {
		int x = cerr ? cerr->expression : -1;
		const char *msg = cerr ? cerr->message : "compile failed";

		if (x < 0 || (unsigned int)x >= ps->n)
			snprintf(err, errlen, "the patterns: %s", msg);
		else if (ps->file[x])
			snprintf(err, errlen, "%s:%u: pattern '%s': %s",
				 ps->file[x], ps->line[x], ps->pat[x], msg);
		else
			snprintf(err, errlen, "pattern %u '%s': %s",
				 ps->line[x], ps->pat[x], msg);
		hs_free_compile_error(cerr);
		goto fail;
	}
	if (hs_alloc_scratch(db, &scratch) != HS_SUCCESS) {
		snprintf(err, errlen, "cannot allocate Hyperscan's scratch");
		goto fail;
	}
	free(fl);
	free(ids);
	set->db = db;
	set->scratch = scratch;
	set->n = ps->n;
	return 0;
fail:
	hs_free_database(db);
	free(fl);
	free(ids);
	free(set->hits);
	set->hits = NULL;
	return -1;
}

static int on_match(unsigned int id, unsigned long long from,
		    unsigned long long to, unsigned int flags, void *ctx)
{
	*(int *)ctx = id;
	/* one pattern is enough to drop: stop the scan */
	return 1;
}

int scan_match(struct scan_set *set, const __u8 *p, __u32 len)
{
	hs_error_t e;
	int id = -1;

	/* hs_scan refuses a NULL buffer; nothing matches no bytes anyway */
	if (!len)
		return -1;
	e = hs_scan(set->db, (const char *)p, len, 0, set->scratch,
		    on_match, &id);
	if (e != HS_SUCCESS && e != HS_SCAN_TERMINATED) {
		set->errors++;
		return -2;
	}
	if (id >= 0)
		set->hits[id]++;
	return id;
}

void scan_free(struct scan_set *set)
{
	hs_free_scratch(set->scratch);
	hs_free_database(set->db);
	free(set->hits);
	memset(set, 0, sizeof(*set));
}
