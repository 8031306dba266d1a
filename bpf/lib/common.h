/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* Includes and constants every tandem BPF program needs. */
#ifndef TANDEM_BPF_COMMON_H
#define TANDEM_BPF_COMMON_H

/*
 * No CO-RE relocations for vmlinux.h's types: tandem reads only wire
 * formats (Ethernet, VLAN, IPv4, IPv6 and its extension headers, TCP,
 * UDP, ICMP) and UAPI structs (xdp_md, __sk_buff, bpf_fib_lookup),
 * whose layouts no kernel changes. Relocating them bought nothing and
 * made every program load read and parse the kernel's BTF (5 MiB: 10 ms
 * here, 300 ms in a TCG guest, on every attach and rule change). A
 * program that reads a kernel-internal struct must use
 * BPF_CORE_READ() or __attribute__((preserve_access_index)) itself.
 */
#define BPF_NO_PRESERVE_ACCESS_INDEX
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include <tandem/tandem.h>

/* UAPI macros that vmlinux.h (types only) does not carry. */
#define ETH_P_IP	0x0800
#define ETH_P_IPV6	0x86DD
#define ETH_P_8021Q	0x8100
#define ETH_P_8021AD	0x88A8
#define IP_MF		0x2000
#define IP_OFFSET	0x1FFF
#define IP6_OFFSET	0xFFF8

/* IPv6 extension headers and ICMPv6: not in vmlinux's enum of IPPROTO_* */
#define IPPROTO_HOPOPTS		0
#define IPPROTO_ROUTING		43
#define IPPROTO_FRAGMENT	44
#define IPPROTO_ICMPV6		58
#define IPPROTO_NONE		59
#define IPPROTO_DSTOPTS		60

#ifndef likely
#define likely(x)	__builtin_expect(!!(x), 1)
#define unlikely(x)	__builtin_expect(!!(x), 0)
#endif

/* A field another CPU or a process (mmapped map) writes: read it once. */
#ifndef READ_ONCE
#define READ_ONCE(x)	(*(const volatile typeof(x) *)&(x))
#endif

/* linux/if_link.h: struct tdm_dev.mode */
#define XDP_FLAGS_SKB_MODE	(1U << 1)

/* Return codes of TC programs (linux/pkt_cls.h, not in vmlinux.h) */
#define TC_ACT_SHOT	2

/* Echo request or reply: the flows connection tracking follows. */
static __always_inline bool tdm_icmp_is_echo(__u8 proto, __u8 type)
{
	if (proto == IPPROTO_ICMP)
		return type == 8 || type == 0;
	return type == 128 || type == 129;
}

/* An echo reply (of tdm_icmp_is_echo()'s two, the answer). */
static __always_inline bool tdm_icmp_is_echo_reply(__u8 proto, __u8 type)
{
	return proto == IPPROTO_ICMP ? type == 0 : type == 129;
}

/*
 * The errors that quote the packet that caused them (RFC 792, RFC 4443
 * section 3; the kernel's icmp_error_message() and
 * icmpv6_error_message() take the same).
 */
static __always_inline bool tdm_icmp_is_error(__u8 proto, __u8 type)
{
	if (proto == IPPROTO_ICMP)
		return type == 3 || type == 4 || type == 5 || type == 11 ||
		       type == 12;
	return type >= 1 && type <= 4;
}

#endif /* TANDEM_BPF_COMMON_H */
