#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# In a tools/vmtest guest, what the tests do all the time patches no
# kernel text: attaching and detaching XDP programs in driver and
# generic mode and on a bond, a clsact qdisc, probes on the scheduler's
# tracepoints, ping (receive timestamps), and BPF_PROG_TEST_RUN with
# repeat. Under TCG, patching code that the other vCPU runs crashed and
# hung guests; run_all's vm_hold keeps that code still first
# (selftests/vm_hold.c), and the module's tests hold its tracepoints
# (kmod_hold). Counted by kprobes on the kernel's two ways to patch text
# that other CPUs may run (text_poke_bp() and text_poke_queue(),
# arch/x86/kernel/alternative.c).
source "$(dirname "$0")/lib.sh"
require ip bpftool tc

if ! grep -qw vmtest.guest=1 /proc/cmdline; then
	echo "1..0 # SKIP runs only in the tools/vmtest guest"
	exit $KSFT_SKIP
fi
if [ ! -e /run/netns/tdm-vmhold ]; then
	echo "1..0 # SKIP the XDP dispatcher is not held (run from selftests/run_all)"
	exit $KSFT_SKIP
fi
source "$TOP/selftests/lib/pokes.sh"
if ! pokes_on vm_quiet; then
	echo "1..0 # SKIP no kprobe events in tracefs"
	exit $KSFT_SKIP
fi
trap 'pokes_off vm_quiet; cleanup' EXIT

ktap_plan 2

setup_pair || exit 1
"$TANDEM" nf add cnt counter > /dev/null
"$TANDEM" chain add quiet cnt > /dev/null
pokes_report vm_quiet > /dev/null
for mode in native generic; do
	tdm dev attach veth1 chain quiet mode $mode > /dev/null ||
		echo "# attach in $mode mode failed"
	in_a ping -c 2 -i 0.2 -W 1 10.10.0.2 > /dev/null
	tdm dev detach veth1 > /dev/null || echo "# detach ($mode) failed"
done
in_a ip link set veth0 xdpdrv obj "$TOP/build/selftests/xdp_pass.bpf.o" sec xdp ||
	echo "# ip link set xdpdrv failed"
in_a ip link set veth0 xdpdrv off
# XDP on a bond (bpf_master_redirect_enabled_key), a clsact qdisc
# (ingress_needed_key, egress_needed_key)
in_a ip link add qbond type bond || echo "# ip link add bond failed"
in_a ip link set qbond xdpdrv obj "$TOP/build/selftests/xdp_pass.bpf.o" sec xdp ||
	echo "# XDP on a bond failed"
in_a ip link set qbond xdpdrv off
in_a ip link del qbond
in_a tc qdisc add dev veth0 clsact || echo "# tc qdisc add clsact failed"
in_a tc qdisc del dev veth0 clsact
# probes on the module's tracepoints come and go (kmod_hold's)
sleep 1 &
"$TOP/build/selftests/kmod_probe" hold $! | grep -q '^held$' ||
	echo "# kmod_probe hold failed"
check "XDP attach and detach, on a bond too, clsact, probes and ping patch no kernel text" \
	pokes_report vm_quiet
case_end "xdp_attach_detach_patch_nothing"

bpftool prog load "$TOP/build/selftests/xdp_pass.bpf.o" /sys/fs/bpf/tdm_quiet_pass ||
	echo "# bpftool prog load failed"
head -c 64 /dev/zero > "$TMP/pkt"
bpftool prog run pinned /sys/fs/bpf/tdm_quiet_pass data_in "$TMP/pkt" repeat 100 > /dev/null ||
	echo "# bpftool prog run failed"
check "BPF_PROG_TEST_RUN with repeat patches no kernel text" pokes_report vm_quiet
case_end "test_run_patches_nothing"

ktap_finish
