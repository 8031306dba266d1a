#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# kmod_react.sh [-k KVER] [-n CYCLES] [-o FILE.md]: reaction time, from a
# process NF's queue crossing a watermark to its CPU weights written,
# with tandem_sched.ko (event-driven, Documentation/kmod.rst) and
# without it (tandemd polling every millisecond), measured in one VM
# run, on one chain, with the same traffic and the same crossings.
# Writes (or replaces) the "Reaction time" section of FILE.md
# (Documentation/benchmarks.md; tdm-bench keeps it). `make bench-kmod`.
#
# Under TCG the absolute times mean little (an emulated CPU, and the
# guest's timers are coarse); the ratio is the result.
#
# Inside the VM (--in-vm OUT): two burn NFs share CPU 0 under tandemd;
# datagrams flow; the first NF is stopped (SIGSTOP) until its queue
# crosses the high watermark and resumed until it crosses the low one,
# CYCLES times; the reactions tandemd reports (tandem_nf_sched_reaction_*
# on its Prometheus endpoint: the module's, or its own) are summed. Then
# the same with the module loaded.
set -u
TOP=$(cd "$(dirname "$0")/../.." && pwd)

if [ "${1:-}" != --in-vm ]; then
	kver=6.12 cycles=20 out=$TOP/Documentation/benchmarks.md
	while getopts k:n:o: o; do
		case $o in
		k) kver=$OPTARG ;;
		n) cycles=$OPTARG ;;
		o) out=$OPTARG ;;
		*) echo "usage: kmod_react.sh [-k KVER] [-n CYCLES] [-o FILE.md]" >&2; exit 2 ;;
		esac
	done
	cd "$TOP" || exit 1
	make -s kmod-vm || exit 1
	res=$TOP/build/kmod-react.txt
	rm -f "$res"
	VMTEST_ENV="CYCLES" CYCLES=$cycles tools/vmtest -k "$kver" -t 1800 -- \
		tools/bench/kmod_react.sh --in-vm "$res" || exit 1
	[ -s "$res" ] || { echo "kmod_react: no result" >&2; exit 1; }
	cat "$res"
	python3 - "$res" "$out" <<'PY'
import sys, time
res = dict(l.split(None, 1) for l in open(sys.argv[1]).read().splitlines())
mark = "<!-- kept by tdm-bench: reaction time (tools/bench/kmod_react.sh) -->"
pm, mm = float(res["polling_mean_us"]), float(res["module_mean_us"])
sec = f"""{mark}
## Reaction time: tandem_sched.ko against polling

From a process NF's queue crossing a watermark (the datapath's
`crossed_ns`, or the module's kfunc) to the new CPU weights written into
the NFs' cgroups (Documentation/kmod.rst). Two `tandem-nf-burn` NFs share
CPU 0 under tandemd, datagrams flow through both, and the first is stopped
until its queue crosses the high watermark, then resumed until it crosses
the low one: {res['cycles'].strip()} times, so about twice as many crossings, in each mode.
Measured {time.strftime('%Y-%m-%d')} in one VM run on Linux {res['kernel'].strip()} under
TCG (emulated: only the ratio means something), `make bench-kmod`.

| mode | reactions | mean | last |
|---|---:|---:|---:|
| tandemd polling every {res['interval_us'].strip()} us | {res['polling_n'].strip()} | {pm:.0f} us | {float(res['polling_last_us']):.0f} us |
| tandem_sched.ko, event-driven | {res['module_n'].strip()} | {mm:.0f} us | {float(res['module_last_us']):.0f} us |

**The module reacts {pm / mm:.1f} times faster** than polling, in the same run
(means). The machine is saturated on purpose, as when scheduling matters:
two NFs burn CPU 0, the sender and the softirqs CPU 1. tandemd's scheduler
is an ordinary task that shares its thread with sampling and supervision,
so besides the poll interval it waits for a CPU, now and then for long
(the means carry those outliers; the last reaction of each run is nearer
the usual). The module's answer is a work item on `system_highpri_wq`
(nice -20 kworkers) queued from the kfunc at the crossing, then the cgroup
writes.
"""
try:
    doc = open(sys.argv[2]).read()
except FileNotFoundError:
    doc = ""
i = doc.find(mark)
doc = (doc[:i] if i >= 0 else doc.rstrip("\n") + "\n\n") + sec
open(sys.argv[2], "w").write(doc)
PY
	exit $?
fi

# ---- inside the VM
out=$2
cycles=${CYCLES:-20}
source "$TOP/selftests/lib.sh"
# (lib.sh takes the directory above its caller's for the top)
TOP=$(cd "$(dirname "$0")/../.." && pwd)
TANDEM=$TOP/build/tandem
UDP="python3 $TOP/selftests/lib/udp.py"
BURN=$TOP/build/tandem-nf-burn
KO=$TOP/build/kmod/$(uname -r)/tandem_sched.ko
setup_pair || exit 1
in_a ethtool -K veth0 tx off > /dev/null
TDM_PID="" SEND_PID=""
trap 'kill -CONT $(pgrep -f tandem-nf-burn) 2>/dev/null; kill $TDM_PID $SEND_PID 2>/dev/null; wait; cleanup' EXIT

nf_get()
{
	tdm -j nf show "$1" 2>/dev/null | python3 -c 'import json,sys; v=json.load(sys.stdin)[0][sys.argv[1]]; print(str(v).lower())' "$2" 2>/dev/null
}

wait_for()
{
	local i
	for i in $(seq 600); do
		[ "$(nf_get "$1" "$2")" = "$3" ] && return 0
		sleep 0.05
	done
	echo "kmod_react: $1 $2 never became $3" >&2
	tail -20 "$TMP/tandemd.log" >&2
	tdm nf show >&2
	return 1
}

# metric NAME: tandemd's value of NAME{nf="a"}
metric()
{
	nsenter --net=/run/netns/"$NS_B" curl -s "http://127.0.0.1:$PORT/metrics" |
		awk -v m="$1" '$1 ~ "^"m"\\{" && $1 ~ /nf="a"/ {print $2}'
}

cat > "$TMP/tandem.conf" <<EOF
nf add a process cpu 0 ring 256 -- $BURN 20000
nf add b process cpu 0 ring 256 -- $BURN 20000
chain add web a b then pass
dev attach veth1
steer add veth1 prio 50 proto udp chain web
EOF

# run MODE: start tandemd, flow, CYCLES stop/resume cycles, stop tandemd
run()
{
	local mode=$1 pid i n0 s0 n1 s1
	PORT=$(nsenter --net=/run/netns/"$NS_B" python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
	nsenter --net=/run/netns/"$NS_B" "$TOP/build/tandemd" --config "$TMP/tandem.conf" \
		--metrics 127.0.0.1:$PORT 2>> "$TMP/tandemd.log" &
	TDM_PID=$!
	wait_for a up true && wait_for b up true || exit 1
	tdm status | grep -q "^scheduling *$mode" ||
		{ echo "kmod_react: tandemd is not in $mode mode" >&2; tdm status >&2; exit 1; }
	in_a $UDP send 10.10.0.2 7001 --count 100000000 --rate 3000 > /dev/null 2>&1 &
	SEND_PID=$!
	sleep 1
	n0=$(metric tandem_nf_sched_reactions_total); s0=$(metric tandem_nf_sched_reaction_seconds_total)
	for i in $(seq "$cycles"); do
		pid=$(nf_get a pid)
		kill -STOP "$pid"
		wait_for a congested true || break
		kill -CONT "$pid"
		wait_for a congested false || break
		sleep 0.2
	done
	sleep 1
	n1=$(metric tandem_nf_sched_reactions_total); s1=$(metric tandem_nf_sched_reaction_seconds_total)
	echo "${mode}_n $(( ${n1%.*} - ${n0%.*} ))" >> "$out"
	python3 -c 'import sys; n = float(sys.argv[1]) - float(sys.argv[2]); s = float(sys.argv[3]) - float(sys.argv[4]); print("%s_mean_us %.1f" % (sys.argv[5], s / n * 1e6 if n else -1))' \
		"$n1" "$n0" "$s1" "$s0" "$mode" >> "$out"
	echo "${mode}_last_us $(python3 -c "print($(metric tandem_nf_sched_reaction_last_seconds) * 1e6)")" >> "$out"
	kill $SEND_PID; wait $SEND_PID 2>/dev/null; SEND_PID=""
	kill $TDM_PID; wait $TDM_PID; TDM_PID=""
}

{
	echo "kernel $(uname -r)"
	echo "cycles $cycles"
	echo "interval_us 1000"
} > "$out"
run polling
insmod "$KO" || exit 1
run module
