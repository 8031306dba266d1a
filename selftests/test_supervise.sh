#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# tandemd's process NF supervisor with real cgroups (v1 cpu.shares on
# the host, v2 cpu.weight in the VMs), through sup_driver, a stand-in for
# tandemd: a process starts in its cgroup on its CPUs, comes back in
# them after kill -9, takes a weight and is charged CPU time there,
# moves to new CPUs, says why it cannot run, and is gone with its cgroup
# when it is removed or the daemon stops; one a killed daemon left behind
# is killed by the next; without cgroups NFs still run.
# The groups are
# MOUNT/tandem-test-PID/NAME, never tandem's own.
source "$(dirname "$0")/lib.sh"
require md5sum
DRIVER=${SUP_DRIVER:-$TOP/build/selftests/sup_driver}
GROUP=tandem-test-$$
# an NF's group is NETNS-NAME (cgroup.c): our network namespace's inode
LEAF_A=$(stat -L -c %i /proc/self/ns/net)-a

[ -x "$DRIVER" ] || { echo "# $DRIVER is not built"; exit $KSFT_FAIL; }

# drv CMD...: one command to the driver; its answer in REPLY, 0 if "ok"
drv()
{
	REPLY=
	echo "$*" >&"${DRV[1]}" || return 1
	read -t 10 -r -u "${DRV[0]}" REPLY || { echo "# no answer to '$*'"; return 1; }
	[ "${REPLY%% *}" = ok ] && return 0
	echo "# driver: $*: $REPLY"
	return 1
}

# show NAME: PID STARTS STATE of the NF's process; a pid is kept for
# the cleanup (its process group), never 0: kill -- -0 would be us
show()
{
	drv show "$1" && set -- $REPLY && PID=$2 STARTS=$3 STATE=$4
	[ "$PID" -gt 1 ] 2>/dev/null && ALL_PIDS="$ALL_PIDS $PID"
	return 0
}

# wait_running NAME NOT_PID: until NAME runs a process other than NOT_PID
wait_running()
{
	local i
	for i in $(seq 200); do
		show "$1" && [ "$STATE" = running ] && [ "$PID" != "$2" ] &&
			[ "$PID" != 0 ] && return 0
		sleep 0.05
	done
	echo "# $1 is not running a new process: $REPLY"
	return 1
}

# wait_gone PID
wait_gone()
{
	local i
	for i in $(seq 200); do
		[ -d /proc/"$1" ] || return 0
		sleep 0.05
	done
	return 1
}

# cg_of PID: the process' cgroup in the cpu hierarchy
cg_of()
{
	if [ "$MODE" = v2 ]; then
		sed -n 's/^0:://p' /proc/"$1"/cgroup
	else
		sed -nE 's/^[0-9]+:([^:]*,)?cpu(,[^:]*)?:(.*)/\3/p' /proc/"$1"/cgroup
	fi 2>/dev/null
}

# cpus_of PID: its Cpus_allowed_list
cpus_of()
{
	sed -n 's/^Cpus_allowed_list:\t*//p' /proc/"$1"/status 2>/dev/null
}

# start_driver: a new driver, DRV its pipes, DRV_PID its pid
start_driver()
{
	coproc DRV { exec "$DRIVER" "$GROUP" 2>> "$TMP/driver.log"; }
	DRV_PID=$DRV_PID
}

start_driver
# a failed case must not leave processes or groups behind
trap 'kill -9 $DRV_PID 2>/dev/null; for p in $ALL_PIDS; do kill -9 -- -$p; done 2>/dev/null
	for d in /sys/fs/cgroup/*/"$GROUP"/* /sys/fs/cgroup/"$GROUP"/* \
		/sys/fs/cgroup/*/"$GROUP" /sys/fs/cgroup/"$GROUP"; do
		[ -d "$d" ] && rmdir "$d"; done 2>/dev/null; cleanup' EXIT
ALL_PIDS=

drv mode || { echo "# the driver does not answer: $(cat "$TMP/driver.log")"; exit $KSFT_FAIL; }
MODE=${REPLY#ok }
if [ "$MODE" = none ]; then
	drv quit
	echo "1..0 # SKIP no cgroup cpu controller mounted"
	exit $KSFT_SKIP
fi
if [ "$MODE" = v2 ]; then WFILE=cpu.weight; else WFILE=cpu.shares; fi
# a CPU other than the first when there is one: the pinning shows
if [ "$(nproc)" -ge 2 ]; then MASK=2 CPU=1; else MASK=1 CPU=0; fi

ktap_plan 9
echo "# cgroup $MODE, groups in $GROUP"

# 1: a process in its cgroup, on its CPUs
check "want a" drv want a $MASK sleep 1000
show a
A1=$PID
expect "a runs" "$STATE" = running
expect "a started once" "$STARTS" -eq 1
check "dir a" drv dir a
DIR_A=${REPLY#ok }
check "$DIR_A exists" test -d "$DIR_A"
expect "a's cgroup" "$(cg_of "$A1")" = "/$GROUP/$LEAF_A"
expect "a's CPUs" "$(cpus_of "$A1")" = "$CPU"
check "a's environment" grep -qz '^TANDEM_NF=a$' /proc/"$A1"/environ
if grep -qE '^[0-9]+:cpuacct:' /proc/"$A1"/cgroup; then
	# v1 with cpuacct a hierarchy of its own (the host): there too
	expect "a's cpuacct group" \
		"$(sed -n 's/^[0-9]*:cpuacct://p' /proc/"$A1"/cgroup)" = "/$GROUP/$LEAF_A"
fi
case_end "start: in $MODE cgroup /$GROUP/NETNS-a, on CPU $CPU"

# 2: kill -9: back, in the same cgroup and on the same CPUs
[ "$A1" -gt 1 ] && kill -9 "$A1"
check "a restarted" wait_running a "$A1"
A2=$PID
expect "started twice" "$STARTS" -eq 2
expect "a's cgroup" "$(cg_of "$A2")" = "/$GROUP/$LEAF_A"
expect "a's CPUs" "$(cpus_of "$A2")" = "$CPU"
check "the end logged" grep -q "nf a: pid $A1 killed by SIGKILL" "$TMP/driver.log"
case_end "kill -9: restarted in its cgroup on its CPUs"

# 3: weights in cpu.weight units; cpu.shares = weight * 1024 / 100 on v1
for w in 200:2048 1:10 10000:102400 100:1024; do
	check "weight ${w%:*}" drv weight a "${w%:*}"
	if [ "$MODE" = v2 ]; then want=${w%:*}; else want=${w#*:}; fi
	expect "$WFILE after weight ${w%:*}" "$(cat "$DIR_A/$WFILE")" -eq "$want"
done
check_fail "weight 0" "invalid" drv weight a 0
check_fail "weight 10001" "invalid" drv weight a 10001
case_end "weight: $WFILE written in its cgroup"

# 4: CPU time is charged to the NF's group
check "want b" drv want b 0 md5sum /dev/zero
show b
B=$PID
sleep 1
check "usage b" drv usage b
USAGE=${REPLY#ok }
expect "b used some CPU (ns)" "$USAGE" -gt 50000000
check "drop b" drv drop b
check "b stopped" wait_gone "$B"
case_end "CPU time: $((USAGE / 1000000)) ms in b's group"

# 5: a command that cannot run is said, with the reason
check "want c" drv want c 0 /nonexistent/nf --flag
check "the reason logged" grep -q \
	"^<3>tandemd: nf c: cannot run '/nonexistent/nf --flag': No such file or directory" \
	"$TMP/driver.log"
show c
expect "c waits to retry" "$STATE" = waiting
check "drop c" drv drop c
check "dir c" drv dir c
check "c's cgroup removed" test ! -d "${REPLY#ok }"
case_end "exec failure: logged with its reason"

# 6: new CPUs: a new process there, the old one gone
check "want a on CPU 0" drv want a 1 sleep 1000
check "a restarted" wait_running a "$A2"
A3=$PID
check "the old a is gone" wait_gone "$A2"
expect "a's CPUs" "$(cpus_of "$A3")" = 0
expect "a's cgroup" "$(cg_of "$A3")" = "/$GROUP/$LEAF_A"
case_end "new CPUs: restarted there"

# 7: removed: the process and its cgroup go; at the end all of them
check "drop a" drv drop a
check "a stopped" wait_gone "$A3"
for i in $(seq 200); do [ -d "$DIR_A" ] || break; sleep 0.05; done
check "a's cgroup removed" test ! -d "$DIR_A"
show a
expect "a is no more" "$STATE" = free
check "want d" drv want d 0 sleep 1000
show d
D=$PID
check "quit" drv quit
check "d stopped with the daemon" wait_gone "$D"
wait "$DRV_PID" 2>/dev/null
check "the group went with the last NF" test ! -d "${DIR_A%/$LEAF_A}"
check "the log says it" grep -q "nf d: pid $D stopped" "$TMP/driver.log"
case_end "remove and stop: process and cgroup gone"

# 8: a daemon killed with -9 leaves its NF behind, in the NF's cgroup;
# the next one kills it before it starts its own
start_driver
check "want f" drv want f 0 sleep 1000
show f
F1=$PID
# (the shell's "Killed" notice goes nowhere)
{ kill -9 "$DRV_PID"; wait "$DRV_PID"; } 2>/dev/null
check "f outlives its daemon" test -d /proc/"$F1"
expect "f in its cgroup" "$(cg_of "$F1")" = "/$GROUP/${LEAF_A%-a}-f"
start_driver
check "want f again" drv want f 0 sleep 1000
show f
F2=$PID
check "the orphan is gone" wait_gone "$F1"
expect "a new f" "$F2" -ne "$F1"
expect "f's cgroup" "$(cg_of "$F2")" = "/$GROUP/${LEAF_A%-a}-f"
check "said so" grep -q "nf f: killing pid $F1, left in its cgroup by an earlier tandemd" \
	"$TMP/driver.log"
check "quit" drv quit
check "f stopped" wait_gone "$F2"
wait "$DRV_PID" 2>/dev/null
case_end "an earlier daemon's NF: killed before a new start"

# 9: no cgroup mounted at all (a mount namespace of its own): the NF
# runs, a weight is refused, and that is said once
unshare -m --propagation private sh -c '
	for m in $(awk "\$3 ~ /^cgroup/ { print \$2 }" /proc/self/mounts); do
		umount "$m" || exit 1
	done
	printf "mode\nwant e 0 sleep 1000\nshow e\nweight e 200\nweight e 300\nquit\n" |
		exec "$0" tandem-test' "$DRIVER" > "$TMP/none.out" 2> "$TMP/none.log"
check "the driver without cgroups" test $? -eq 0
sed 's/^/# /' "$TMP/none.out"
check "mode none" grep -qx "ok none" "$TMP/none.out"
E=$(sed -n 's/^ok \([0-9]*\) 1 running$/\1/p' "$TMP/none.out")
expect "e ran" "${E:-0}" -gt 1
expect "weights refused" "$(grep -cx "err Operation not supported" "$TMP/none.out")" -eq 2
expect "said once" "$(grep -c "no cpu controller: CPU weights are not applied" "$TMP/none.log")" -eq 1
[ "${E:-0}" -gt 1 ] && check "e stopped" wait_gone "$E"
case_end "no cgroups: NFs run, weights refused"

ktap_finish
