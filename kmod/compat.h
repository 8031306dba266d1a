/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * What differs between the kernels tandem_sched.ko is built for
 * (Debian's 6.1 and 6.12), in one place.
 */
#ifndef TDM_KMOD_COMPAT_H
#define TDM_KMOD_COMPAT_H

#include <linux/version.h>
#include <linux/btf.h>
#include <linux/btf_ids.h>
#include <linux/cache.h>

/* 6.9 made kfunc sets say they are kfunc sets (BTF_SET8_KFUNCS) */
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 9, 0)
#define TDM_KFUNCS_START(name)	BTF_KFUNCS_START(name)
#define TDM_KFUNCS_END(name)	BTF_KFUNCS_END(name)
#else
#define TDM_KFUNCS_START(name)	BTF_SET8_START(name)
#define TDM_KFUNCS_END(name)	BTF_SET8_END(name)
#endif

/*
 * bpf_map_get() moved to the BPF_INTERNAL symbol namespace (6.12 has it,
 * 6.1 not); 6.13 then wants the namespace as a string.
 */
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 13, 0)
#define TDM_IMPORT_NS()		MODULE_IMPORT_NS("BPF_INTERNAL")
#elif LINUX_VERSION_CODE >= KERNEL_VERSION(6, 2, 0)
#define TDM_IMPORT_NS()		MODULE_IMPORT_NS(BPF_INTERNAL)
#else
#define TDM_IMPORT_NS()
#endif

/* 6.3 named what a kfunc needs: kept, not inlined, not cloned */
#ifndef __bpf_kfunc
#define __bpf_kfunc		__used noinline
#endif

/*
 * The head of net/xdp/xsk_queue.h's struct xsk_queue and struct
 * xdp_ring, private to the kernel (not in the headers package): the
 * same from 5.11 through 6.12 (6.9 appended ring_vmalloc_size, which
 * is not read here). The offsets of producer and consumer are the ones
 * XDP_MMAP_OFFSETS gives userspace; TDM_SCHED_IOC_INFO reports them so
 * that the selftest compares (selftests/test_kmod.sh).
 */
struct tdm_xdp_ring {
	u32 producer ____cacheline_aligned_in_smp;
	u32 pad1 ____cacheline_aligned_in_smp;
	u32 consumer ____cacheline_aligned_in_smp;
	u32 pad2 ____cacheline_aligned_in_smp;
	u32 flags;
	u32 pad3 ____cacheline_aligned_in_smp;
};

struct tdm_xsk_queue {
	u32 ring_mask;
	u32 nentries;
	u32 cached_prod;		/* the kernel's, ahead of producer */
	u32 cached_cons;
	struct tdm_xdp_ring *ring;
};

#endif /* TDM_KMOD_COMPAT_H */
