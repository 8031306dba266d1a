/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * libtandem-nf: write a tandem NF as an ordinary process.
 *
 * The chain hands the process its packets on an AF_XDP socket (libxdp's
 * xsk API, copy mode) on the NF's own veth end, each with the metadata
 * the entry program parsed; the process returns a verdict per packet;
 * packets it passes go back into the chain after it. The library does
 * the rings, batching, counting and publishing of the NF's queue
 * counters (struct tdm_nf_queue), and measures the handler's cost in
 * TSC cycles, which tandemd's scheduler reads. Documentation/
 * process-nfs.rst describes the whole path.
 *
 *	static int handle(struct tdm_nf_pkt *pkt, void *arg)
 *	{
 *		return looks_bad(pkt->data, pkt->len) ? TDM_NF_DROP
 *						      : TDM_NF_PASS;
 *	}
 *
 *	nf = tdm_nf_open(NULL, err, sizeof(err));   // $TANDEM_NF
 *	return tdm_nf_run(nf, handle, NULL);        // until SIGTERM
 */
#ifndef TANDEM_NF_H
#define TANDEM_NF_H

#include <stddef.h>
#include <tandem/tandem.h>

#ifdef __cplusplus
extern "C" {
#endif

enum tdm_nf_verdict {
	TDM_NF_PASS = 0,		/* on along the chain */
	TDM_NF_DROP = 1,		/* counted as the NF's drop */
};

/* One packet, as the chain handed it over. Valid during the call only. */
struct tdm_nf_pkt {
	__u8 *data;			/* the frame, from its Ethernet header */
	__u32 len;			/* bytes at data */
	const struct tdm_meta *meta;	/* parsed by the entry: offsets are
					 * from data, ports host order */
	__u32 chain_id;			/* the chain it runs */
	__u32 pos;			/* this NF's index in that chain */
};

/* The handler: TDM_NF_PASS or TDM_NF_DROP (anything else: drop). */
typedef int (*tdm_nf_handler_t)(struct tdm_nf_pkt *pkt, void *arg);

struct tdm_nf;

/*
 * Open process NF name (NULL: the environment's TANDEM_NF, which tandemd
 * sets), under the pins in $TANDEM_PIN_ROOT or /sys/fs/bpf/tandem: its
 * socket on its veth end, a UMEM of 2 x ring frames of 4096 bytes, its
 * queue counters. The chain hands it nothing until tdm_nf_run() starts.
 * NULL on error, with a one-line message in err: ENOENT (no such process
 * NF), EPERM (no CAP_NET_RAW/CAP_BPF), EBUSY (another process serves it).
 */
struct tdm_nf *tdm_nf_open(const char *name, char *err, size_t errlen);

/*
 * Serve packets until tdm_nf_stop(), or SIGTERM/SIGINT (the library
 * installs handlers that call it unless TDM_NF_NO_SIGNALS is set in the
 * environment): receive up to 64 frames, call fn on each, send the passed
 * back, recycle the rest; publish the counters after every batch. 0 when
 * stopped, -ENODEV once the NF is deleted (its device is gone), -errno on
 * a socket error.
 */
int tdm_nf_run(struct tdm_nf *nf, tdm_nf_handler_t fn, void *arg);

/* Ask tdm_nf_run() to return; async-signal-safe. */
void tdm_nf_stop(struct tdm_nf *nf);

/* Close the socket (the chain then follows the NF's fail setting). */
void tdm_nf_close(struct tdm_nf *nf);

/* The NF's name and id, and its counters (live: the published copy). */
const char *tdm_nf_name(const struct tdm_nf *nf);
__u32 tdm_nf_id(const struct tdm_nf *nf);
const struct tdm_nf_queue *tdm_nf_counters(const struct tdm_nf *nf);

#ifdef __cplusplus
}
#endif

#endif /* TANDEM_NF_H */
