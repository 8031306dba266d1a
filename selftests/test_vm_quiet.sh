#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# In a tools/vmtest guest, what the tests do all the time patches no
# kernel text: attaching and detaching XDP programs in driver and
# generic mode, ping (receive timestamps), and BPF_PROG_TEST_RUN with
# repeat. Under TCG, patching code that the other vCPU runs crashed and
# hung guests; run_all's vm_hold keeps that code still first
# (selftests/vm_hold.c), and the module's tests hold its tracepoints
# (kmod_hold). Counted by kprobes on the kernel's two ways to patch text
# that other CPUs may run (text_poke_bp() and text_poke_queue(),
# arch/x86/kernel/alternative.c).
source "$(dirname "$0")/lib.sh"
require ip bpftool

if ! grep -qw vmtest.guest=1 /proc/cmdline; then
	echo "1..0 # SKIP runs only in the tools/vmtest guest"
	exit $KSFT_SKIP
fi
if [ ! -e /run/netns/tdm-vmhold ]; then
	echo "1..0 # SKIP the XDP dispatcher is not held (run from selftests/run_all)"
	exit $KSFT_SKIP
fi
TR=/sys/kernel/tracing
if [ ! -w $TR/kprobe_events ]; then
	echo "1..0 # SKIP no kprobe events in tracefs"
	exit $KSFT_SKIP
fi

ktap_plan 3

probes_off()
{
	echo 0 > $TR/events/tdm_quiet/enable 2>/dev/null
	echo '-:tdm_quiet/poke_bp' >> $TR/kprobe_events 2>/dev/null
	echo '-:tdm_quiet/poke_queue' >> $TR/kprobe_events 2>/dev/null
}
trap 'probes_off; cleanup' EXIT

# pokes: how many times the kernel patched text since probes_on, and
# their callers on stderr
probes_on()
{
	probes_off
	echo 'p:tdm_quiet/poke_bp text_poke_bp' >> $TR/kprobe_events &&
	echo 'p:tdm_quiet/poke_queue text_poke_queue' >> $TR/kprobe_events &&
	echo stacktrace > $TR/events/tdm_quiet/poke_bp/trigger &&
	echo stacktrace > $TR/events/tdm_quiet/poke_queue/trigger &&
	echo 1 > $TR/events/tdm_quiet/enable &&
	echo > $TR/trace
}

pokes()
{
	local n

	n=$(grep -c ' poke_\(bp\|queue\):' $TR/trace)
	echo "# kernel text patched $n times"
	# each patch's call chain on one line, counted
	[ "$n" -eq 0 ] || grep -v '^#' $TR/trace | awk '
		/ poke_(bp|queue):/ { if (c != "") print c; c = $NF; next }
		/=>/ && $2 !~ /^(kprobe_|0x)/ { c = c " < " $2 }
		END { if (c != "") print c }' | sort | uniq -c | sort -rn |
		head -20 | sed 's/^/#   /'
	echo > $TR/trace
	[ "$n" -eq 0 ]
}

check "kprobes on text_poke_bp and text_poke_queue" probes_on
case_end "probes_on"

setup_pair || exit 1
"$TANDEM" nf add cnt counter > /dev/null
"$TANDEM" chain add quiet cnt > /dev/null
echo > $TR/trace
for mode in native generic; do
	tdm dev attach veth1 chain quiet mode $mode > /dev/null ||
		echo "# attach in $mode mode failed"
	in_a ping -c 2 -i 0.2 -W 1 10.10.0.2 > /dev/null
	tdm dev detach veth1 > /dev/null || echo "# detach ($mode) failed"
done
in_a ip link set veth0 xdpdrv obj "$TOP/build/selftests/xdp_pass.bpf.o" sec xdp ||
	echo "# ip link set xdpdrv failed"
in_a ip link set veth0 xdpdrv off
check "XDP attach and detach, and ping, patch no kernel text" pokes
case_end "xdp_attach_detach_patch_nothing"

bpftool prog load "$TOP/build/selftests/xdp_pass.bpf.o" /sys/fs/bpf/tdm_quiet_pass ||
	echo "# bpftool prog load failed"
head -c 64 /dev/zero > "$TMP/pkt"
bpftool prog run pinned /sys/fs/bpf/tdm_quiet_pass data_in "$TMP/pkt" repeat 100 > /dev/null ||
	echo "# bpftool prog run failed"
check "BPF_PROG_TEST_RUN with repeat patches no kernel text" pokes
case_end "test_run_patches_nothing"

ktap_finish
