#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# tandemd: the metrics it serves and writes are the counters `tandem -j
# stats` reads (checked by a real Prometheus parser), the datapath does
# not notice the daemon dying (kill -9) or stopping (SIGTERM), a new
# daemon adopts the state as it is, SIGHUP applies the config all or
# nothing, its command line is strict, its HTTP server answers /metrics
# only and survives nonsense, it talks sd_notify, and it builds a state
# from its config alone.
source "$(dirname "$0")/lib.sh"
require ip nsenter python3 curl setpriv
# Debian's python3-prometheus-client is for /usr/bin/python3, which need
# not be the python3 first in PATH
for PROM_PY in python3 /usr/bin/python3 ""; do
	[ -n "$PROM_PY" ] && $PROM_PY -c 'import prometheus_client' 2>/dev/null && break
done
[ -n "$PROM_PY" ] ||
	{ echo "1..0 # SKIP python3-prometheus-client is not installed"; exit $KSFT_SKIP; }
TANDEMD=${TANDEMD:-$TOP/build/tandemd}

ktap_plan 8
# what a failed case left running goes with the test
TDM_PID= taker= p6= notifier=
trap 'kill -9 $TDM_PID $taker $p6 $notifier 2>/dev/null; cleanup' EXIT
setup_pair || { echo "# netns setup failed"; exit $KSFT_FAIL; }

# in ns B, keeping our bpffs (see tdm in lib.sh)
in_bn()
{
	nsenter --net=/run/netns/"$NS_B" "$@"
}

# bg_b CMD... &: CMD in ns B in the background, $! its own pid
bg_b()
{
	exec nsenter --net=/run/netns/"$NS_B" "$@" > /dev/null
}

PORT=$(in_bn python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
URL=http://127.0.0.1:$PORT/metrics
LOG=$TMP/tandemd.log
PROM=$TMP/tandem.prom


# tandemd_start: in ns B, every 0.2 s; waits for its first answer
tandemd_start()
{
	local i

	bg_b "$TANDEMD" --config "$TMP/tandem.conf" \
		--metrics 127.0.0.1:$PORT --textfile "$PROM" --interval 0.2 \
		2>> "$LOG" &
	TDM_PID=$!
	for i in $(seq 100); do
		sleep 0.05
		# until nsenter has exec'd it (comm: 15 bytes of the name)
		[ "$(cat /proc/$TDM_PID/comm 2>/dev/null)" = \
		  "$(basename "$TANDEMD" | cut -c1-15)" ] || continue
		in_bn curl -sf -o /dev/null "$URL" && return 0
		kill -0 $TDM_PID 2>/dev/null || break
	done
	echo "# tandemd did not answer on $URL:"
	sed 's/^/#   /' "$LOG" | tail -5
	return 1
}

# scrape_after T OUT: scrape into OUT until the sample is newer than T
# (seconds since the epoch): the counters are then those after T.
scrape_after()
{
	local i ts

	for i in $(seq 50); do
		# (a tandemd starting may not listen yet)
		in_bn curl -sf "$URL" > "$2" || { sleep 0.1; continue; }
		ts=$(awk '$1 == "tandem_sample_timestamp_seconds" { print $2 }' "$2")
		python3 -c "import sys; sys.exit(not $ts > $1)" && return 0
		sleep 0.1
	done
	echo "# no sample newer than $1"
	return 1
}

# metric FILE NAME LABELS: one sample's value (LABELS as a{x="y"} has)
metric()
{
	$PROM_PY - "$@" <<'PY'
import sys
from prometheus_client.parser import text_string_to_metric_families
f, name, labels = sys.argv[1:]
want = dict(kv.split("=", 1) for kv in labels.split(",")) if labels else {}
for fam in text_string_to_metric_families(open(f).read()):
    for s in fam.samples:
        if s.name == name and s.labels == want:
            print(int(s.value))
            sys.exit(0)
print("-1")
PY
}

# metrics_agree FILE STATS: every NF, chain and device counter of the
# `tandem -j stats` output in STATS has its value in the metrics text
# FILE, which a Prometheus parser reads without error, and nothing more.
metrics_agree()
{
	$PROM_PY - "$@" <<'PY'
import json, sys
from prometheus_client.parser import text_string_to_metric_families
text, stats = open(sys.argv[1]).read(), json.load(open(sys.argv[2]))
types, got = {}, {}
for fam in text_string_to_metric_families(text):
    types[fam.name] = fam.type
    for s in fam.samples:
        got[(s.name, tuple(sorted(s.labels.items())))] = s.value
# what the format requires of the families, beyond what the parser checks
for line in text.splitlines():
    if line.startswith("# TYPE "):
        continue
    assert not line.startswith("#") or line.startswith("# HELP "), line
bad, n = [], 0
def want(name, labels, v):
    global n
    n += 1
    key = (name, tuple(sorted(labels.items())))
    if key not in got:
        bad.append("missing %s%s (want %d)" % (name, labels, v))
    elif got[key] != v:
        bad.append("%s%s = %d, tandem stats says %d" % (name, labels, got[key], v))
    got.pop(key, None)
for r in stats["nf"]:
    l = {"nf": r["name"], "type": r["type"]}
    want("tandem_nf_packets_total", l, r["packets"])
    want("tandem_nf_bytes_total", l, r["bytes"])
    for reason, v in r["drop_reasons"].items():
        want("tandem_nf_drops_total", dict(l, reason=reason), v)
for r in stats["chain"]:
    for k in ("packets", "bytes", "passed", "dropped", "txed", "redirected",
              "missed", "backpressure"):
        want("tandem_chain_%s_total" % k, {"chain": r["name"]}, r[k])
devs = {d["taken_as"]: d for d in json.load(open(sys.argv[2] + ".dev"))}
for r in stats["dev"]:
    d = devs[r["name"]]
    l = {"dev": r["name"], "mode": d["mode"], "state": d["state"]}
    for k in ("packets", "bytes", "steer_flow", "steer_rule", "steer_default",
              "no_chain", "missed", "truncated", "malformed", "fragments",
              "unparsed"):
        want("tandem_dev_%s_total" % k, l, r[k])
for key in got:
    if key[0].startswith(("tandem_nf_", "tandem_chain_", "tandem_dev_")) and \
       key[0].endswith("_total"):
        bad.append("extra sample %s%s" % key)
for name, t in (("tandem_nf_packets", "counter"), ("tandem_up", "gauge"),
                ("tandem_nf_packets_per_second", "gauge")):
    if types.get(name) != t:
        bad.append("%s is %s, not %s" % (name, types.get(name), t))
if got.get(("tandem_up", ())) != 1:
    bad.append("tandem_up is not 1")
for b in bad:
    print(b)
print("%d counters compared, %d wrong" % (n, len(bad)))
sys.exit(1 if bad else 0)
PY
}

stats_now()
{
	tdm -j stats > "$TMP/stats.json" && tdm -j dev show > "$TMP/stats.json.dev"
}

# quiet_sample OUT: at a quiet moment, a scrape into OUT, the textfile
# into OUT.tf and `tandem -j stats` into $TMP/stats.json (and `dev show`
# into .dev). Quiet: stats read before and after the scrape are the
# same (the kernel's own IPv6 chatter may cross the link any time).
quiet_sample()
{
	local i

	for i in $(seq 10); do
		tdm -j stats > "$TMP/stats.before" || return 1
		scrape_after "$(date +%s.%N)" "$1" || return 1
		cp "$PROM" "$1.tf" || return 1
		stats_now || return 1
		cmp -s "$TMP/stats.before" "$TMP/stats.json" && return 0
	done
	echo "# no quiet moment in 10 tries"
	return 1
}

fw_stat()
{
	json_get "$(tdm -j stats nf fw)" "$1"
}

fw_rule_drops()
{
	python3 -c 'import json,sys; print(json.loads(sys.argv[1])["drop_reasons"]["rule"])' \
		"$(tdm -j stats nf fw)"
}

prog_ids()
{
	tdm -j dev show | python3 -c 'import json,sys; print(" ".join("%s:%s:%s" % (d["dev"], d["prog_id"], d["link_id"]) for d in json.load(sys.stdin)))'
}

snmp_udp()
{
	in_b cat /proc/net/snmp | awk -v k="$1" '
		/^Udp:/ && !h { for (i = 2; i <= NF; i++) col[$i] = i; h = 1; next }
		/^Udp:/ { print $col[k] }'
}

# ---- 1: the chain, and tandemd serving it
check "nf add fw" tdm nf add fw firewall default pass
check "rule" tdm rule add fw proto udp dport 7001 action drop
check "nf add cnt" tdm nf add cnt counter
check "chain" tdm chain add edge fw cnt then pass
check "attach" tdm dev attach veth1 chain edge
# a device whose name needs escaping in a label value: " and \ (a
# backslash before n: unescaped, a parser would read a newline)
QDEV='q"x\n'
check "odd device" ip -n "$NS_B" link add "$QDEV" type veth peer name qpeer
ip -n "$NS_B" link set qpeer up
ip -n "$NS_B" link set "$QDEV" up
check "attach the odd device" tdm dev attach "$QDEV" mode generic
# the config: what the CLI built, which tandemd applies to no change
check "dump" eval 'tdm dump > "$TMP/tandem.conf"'
check "tandemd starts" tandemd_start
# log_has PATTERN: the log says it within 2 s (it may come just after
# the first answer)
log_has()
{
	local i

	for i in $(seq 40); do
		grep -q -- "$1" "$LOG" && return 0
		sleep 0.05
	done
	echo "log lacks '$1'"
	return 1
}
check "it says READY in its log" log_has "running: metrics on 127.0.0.1:$PORT"
check "it applied the config to no change" grep -q "applied $TMP/tandem.conf: 0 added, 0 changed, 0 deleted" "$LOG"
# daemon_is PID RUNNING: what `tandem -j status` says of the daemon
daemon_is()
{
	python3 -c 'import json,sys
d = json.loads(sys.argv[1])["daemon"]
got = "none" if d is None else "%d %s" % (d["pid"], str(d["running"]).lower())
sys.exit(0 if got == sys.argv[2] else print("daemon: %s, want %s" % (got, sys.argv[2])) or 1)' \
		"$(tdm -j status)" "$1"
}
check "tandem status: it runs" daemon_is "$TDM_PID true"
check "tandem status: its device" output_has "veth1: attached" tdm status
# it holds the state lock for a round only: writers wait at most 1 s
for i in 1 2 3 4 5 6 7 8; do
	check "a write beside it ($i)" env TANDEM_LOCK_TIMEOUT=1 \
		nsenter --net=/run/netns/"$NS_B" "$TANDEM" nf add "tmp$i" counter || break
	check "a delete beside it ($i)" env TANDEM_LOCK_TIMEOUT=1 \
		nsenter --net=/run/netns/"$NS_B" "$TANDEM" nf del "tmp$i" || break
done
case_end "tandemd_starts_on_the_cli_state"

# ---- 2: the counters it serves are tandem stats' at a quiet moment
in_a $UDP send 10.10.0.2 7000 --count 300 --size 100 > /dev/null
in_a $UDP send 10.10.0.2 7001 --count 120 > /dev/null
check "quiet sample" quiet_sample "$TMP/scrape.prom"
check "scrape = tandem -j stats" metrics_agree "$TMP/scrape.prom" "$TMP/stats.json"
# at least: IPv6 chatter of the kernel (MLD) crosses the chain too
expect "fw saw the traffic" "$(metric "$TMP/scrape.prom" tandem_nf_packets_total nf=fw,type=firewall)" -ge 420
expect "fw dropped port 7001" "$(metric "$TMP/scrape.prom" tandem_nf_drops_total nf=fw,type=firewall,reason=rule)" -eq 120
expect "cnt saw what fw passed" "$(metric "$TMP/scrape.prom" tandem_nf_packets_total nf=cnt,type=counter)" -ge 300
# the rate of the interval after that sample: none but IPv6 chatter
check "a later sample" scrape_after "$(awk '$1 == "tandem_sample_timestamp_seconds" { print $2 }' "$TMP/scrape.prom")" "$TMP/scrape.later"
expect "(almost) no packets per second when quiet" "$(metric "$TMP/scrape.later" tandem_nf_packets_per_second nf=fw,type=firewall)" -lt 20
expect "the odd device's label read back" "$(metric "$TMP/scrape.prom" tandem_dev_packets_total "dev=$QDEV,mode=generic,state=attached")" -ge 0
check "HELP and TYPE of each family" grep -q '^# TYPE tandem_nf_drops_total counter$' "$TMP/scrape.prom"
check "content type 0.0.4" output_has "text/plain; version=0.0.4" in_bn curl -sI "$URL"
case_end "scrape_agrees_with_tandem_stats"

# ---- 3: the textfile too: a later sample, the same counters
check "textfile written" test -s "$PROM"
check "textfile = tandem -j stats" metrics_agree "$TMP/scrape.prom.tf" "$TMP/stats.json"
case_end "textfile_agrees_with_tandem_stats"

# ---- 4: kill -9 under traffic: nothing lost, the verdicts hold, a new
# tandemd adopts the state with its ids and counters
ids0=$(prog_ids)
p0=$(fw_stat packets)
d0=$(fw_rule_drops)
in0=$(udp_arrived_b)
np0=$(snmp_udp NoPorts)
udp_recv_start 7000 rk; rp=$!
in_a $UDP send 10.10.0.2 7000 --rate 1500 --duration 1.6 > "$TMP/s7000.json" &
s1=$!
in_a $UDP send 10.10.0.2 7001 --rate 500 --duration 1.6 > "$TMP/s7001.json" &
s2=$!
# kill it once it has seen the traffic (python may start slowly)
for i in $(seq 30); do
	pps=$(metric <(in_bn curl -sf "$URL") tandem_nf_packets_per_second nf=fw,type=firewall)
	[ "$pps" -gt 100 ] && break
	sleep 0.1
done
{ kill -9 $TDM_PID; wait $TDM_PID; } 2>/dev/null
wait $s1 $s2
udp_recv_wait $rp rk
sent=$(json_get "$(cat "$TMP/s7000.json")" sent)
sent1=$(json_get "$(cat "$TMP/s7001.json")" sent)
echo "# sent $sent to 7000 and $sent1 to 7001; tandemd killed as it saw $pps pps"
expect "packets per second while traffic flows" "$pps" -gt 100
expect "every datagram to 7000 arrived" "$(($(udp_arrived_b) - in0))" -eq "$sent"
expect "the receiver got them all" "$(udp_count rk)" -eq "$sent"
expect "the firewall dropped every one to 7001" "$(($(fw_rule_drops) - d0))" -eq "$sent1"
expect "none to 7001 reached the stack" "$(($(snmp_udp NoPorts) - np0))" -eq 0
expect "fw counted every packet" "$(fw_stat packets)" -ge $((p0 + sent + sent1))
check "entry programs and links unchanged" test "$(prog_ids)" = "$ids0"
check "tandem status: registered and gone" daemon_is "$TDM_PID false"
check "a new tandemd starts" tandemd_start
check "tandem status: the new one runs" daemon_is "$TDM_PID true"
check "quiet sample" quiet_sample "$TMP/scrape2.prom"
check "its scrape = tandem -j stats" metrics_agree "$TMP/scrape2.prom" "$TMP/stats.json"
# not reset: counting on from p0 (IPv6 chatter may add a few packets)
expect "counters go on from where they were" \
	"$(metric "$TMP/scrape2.prom" tandem_nf_packets_total nf=fw,type=firewall)" -ge $((p0 + sent + sent1))
check "entry programs and links still unchanged" test "$(prog_ids)" = "$ids0"
case_end "kill_9_under_traffic_loses_nothing_and_is_adopted"

# ---- 5: SIGHUP reloads: a bad file changes nothing and is logged with
# its line; a good one applies. SIGTERM: exit 0, the datapath runs on
cp "$TMP/tandem.conf" "$TMP/good.conf"
echo "nf add bad nosuchtype" >> "$TMP/tandem.conf"
bad_line=$(wc -l < "$TMP/tandem.conf")
t=$(date +%s.%N)
kill -HUP $TDM_PID
check "serves after a bad SIGHUP" scrape_after "$t" "$TMP/scrape3.prom"
check "logged the reload" grep -q "SIGHUP: reloading" "$LOG"
check "logged the bad line" grep -q "^<3>tandemd: $TMP/tandem.conf:$bad_line:.*nothing changed" "$LOG"
expect "tandem_last_apply_success after a bad file" "$(metric "$TMP/scrape3.prom" tandem_last_apply_success "")" -eq 0
check "no NF added" bash -c "! nsenter --net=/run/netns/$NS_B $TANDEM nf show bad"
check "entry programs and links unchanged" test "$(prog_ids)" = "$ids0"
cp "$TMP/good.conf" "$TMP/tandem.conf"
echo "nf add extra counter" >> "$TMP/tandem.conf"
t=$(date +%s.%N)
kill -HUP $TDM_PID
check "serves after a good SIGHUP" scrape_after "$t" "$TMP/scrape3.prom"
expect "tandem_last_apply_success after a good file" "$(metric "$TMP/scrape3.prom" tandem_last_apply_success "")" -eq 1
check "the NF it added is there" tdm nf show extra
check "and served" grep -q '^tandem_nf_packets_total{nf="extra",type="counter"} 0$' "$TMP/scrape3.prom"
check "entry programs and links still unchanged" test "$(prog_ids)" = "$ids0"
kill -TERM $TDM_PID
wait $TDM_PID
rc=$?
expect "exit status after SIGTERM" "$rc" -eq 0
check "logged the stop" grep -q "stopping; the datapath keeps running" "$LOG"
# (while it runs, PATH.tmp exists for a moment in every round)
check "textfile: no temporary file left" test ! -e "$PROM.tmp"
expect "textfile: the last one is whole" "$(metric "$PROM" tandem_up "")" -eq 1
check "tandem status: no daemon" daemon_is none
check "no longer serving" bash -c "! nsenter --net=/run/netns/$NS_B curl -sf -o /dev/null $URL"
in0=$(udp_arrived_b)
d0=$(fw_rule_drops)
udp_recv_start 7000 rt; rp=$!
in_a $UDP send 10.10.0.2 7000 --count 200 > /dev/null
in_a $UDP send 10.10.0.2 7001 --count 100 > /dev/null
udp_recv_wait $rp rt
expect "passed after SIGTERM" "$(($(udp_arrived_b) - in0))" -eq 200
expect "dropped after SIGTERM" "$(($(fw_rule_drops) - d0))" -eq 100
check "entry programs and links unchanged" test "$(prog_ids)" = "$ids0"
check "every log line has a priority" bash -c "! grep -v '^<[0-7]>tandemd: ' '$LOG'"
case_end "sighup_reloads_sigterm_exits_0_datapath_stays"

# ---- 6: the command line: usage errors exit 2 with one line; no
# privileges or a missing --config: exit 1 with one line
usage_fails()
{
	local out rc

	out=$("$TANDEMD" "$@" 2>&1 >/dev/null)
	rc=$?
	if [ $rc -ne 2 ] || [ "$(wc -l <<< "$out")" -ne 1 ]; then
		echo "# check failed: tandemd $*: exit $rc, want 2 and one line:"
		sed 's/^/#   /' <<< "$out"
		case_failed=1
	fi
}
usage_fails --interval 0
usage_fails --interval 0.05
usage_fails --interval 3601
usage_fails --interval 1s
usage_fails --interval ""
usage_fails --metrics 127.0.0.1
usage_fails --metrics 127.0.0.1:0
usage_fails --metrics 127.0.0.1:65536
usage_fails --metrics localhost:9469
usage_fails --metrics "[::1]:x"
usage_fails --metrics "::1:9469"
usage_fails --metrics 127.0.0.1:9469 --no-metrics
usage_fails --bogus
usage_fails extra
usage_fails --config
check "--help" output_has "Usage: tandemd" "$TANDEMD" --help
check "--version" output_has "tandemd " "$TANDEMD" --version
out=$(setpriv --reuid=65534 --regid=65534 --clear-groups --inh-caps=-all \
	"$TANDEMD" --no-metrics 2>&1)
rc=$?
expect "unprivileged: exit 1" "$rc" -eq 1
expect "unprivileged: one line" "$(wc -l <<< "$out")" -eq 1
check "unprivileged: says what it lacks" grep -q "tandem needs root" <<< "$out"
out=$(in_bn "$TANDEMD" --no-metrics --config "$TMP/none.conf" 2>&1)
rc=$?
expect "missing --config: exit 1" "$rc" -eq 1
check "missing --config: named" grep -q "none.conf" <<< "$out"
# the metrics port taken by another: exit 1, and no daemon left registered
bg_b python3 -c 'import socket, sys, time
s = socket.socket(); s.bind(("127.0.0.1", int(sys.argv[1]))); s.listen()
open(sys.argv[2], "w").close(); time.sleep(30)' $PORT "$TMP/taken" &
taker=$!
for i in $(seq 100); do [ -e "$TMP/taken" ] && break; sleep 0.05; done
out=$(in_bn "$TANDEMD" --metrics 127.0.0.1:$PORT --config "$TMP/tandem.conf" 2>&1)
rc=$?
kill $taker; wait $taker 2>/dev/null
expect "port in use: exit 1" "$rc" -eq 1
check "port in use: named" grep -q "cannot serve metrics on 127.0.0.1:$PORT" <<< "$out"
check "port in use: unregistered" daemon_is none
# IPv6 loopback
bg_b "$TANDEMD" --metrics "[::1]:$PORT" --config "$TMP/tandem.conf" 2>> "$LOG" &
p6=$!
for i in $(seq 100); do
	in_bn curl -sf -o /dev/null "http://[::1]:$PORT/metrics" && break
	sleep 0.05
done
check "serves on [::1]" output_has "^tandem_up 1" in_bn curl -sf "http://[::1]:$PORT/metrics"
kill -TERM $p6
wait $p6
expect "[::1]: exit 0" "$?" -eq 0
case_end "command_line_errors"

# ---- 7: HTTP: /metrics only, GET and HEAD, nonsense survived
# systemd's side of sd_notify: a datagram socket, each message a line
bg_b python3 -c 'import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM); s.bind(sys.argv[1])
f = open(sys.argv[2], "a")
while True:
    f.write(s.recv(4096).decode().replace("\n", " ") + "\n"); f.flush()' \
	"$TMP/notify.sock" "$TMP/notify.log" &
notifier=$!
for i in $(seq 100); do [ -S "$TMP/notify.sock" ] && break; sleep 0.05; done
export NOTIFY_SOCKET=$TMP/notify.sock WATCHDOG_USEC=400000
check "tandemd starts again" tandemd_start
unset NOTIFY_SOCKET WATCHDOG_USEC
code()
{
	in_bn curl -s -o /dev/null -w '%{http_code}' "$@"
}
expect "GET / is 404" "$(code http://127.0.0.1:$PORT/)" -eq 404
expect "GET /metricsx is 404" "$(code http://127.0.0.1:$PORT/metricsx)" -eq 404
expect "POST is 405" "$(code -X POST -d x "$URL")" -eq 405
expect "HEAD is 200" "$(code -I "$URL")" -eq 200
check "HEAD has no body" test -z "$(in_bn curl -s -I "$URL" | sed '1,/^\r$/d')"
in_bn python3 - "$PORT" <<'PY'
import socket, sys
port = int(sys.argv[1])
for junk in (b"\x00\xff garbage\r\n\r\n", b"GET /metrics HTTP/9.9\r\n\r\n",
             b"GET " + b"A" * 100000 + b" HTTP/1.1\r\n\r\n",
             b"GET /metrics HTTP/1.1\r\nHost: x\r\n", b""):
    s = socket.create_connection(("127.0.0.1", port))
    try:
        s.sendall(junk)
        s.settimeout(1)
        s.recv(100)
    except Exception:
        pass
    s.close()
PY
check "still alive after nonsense" kill -0 $TDM_PID
expect "still serving after nonsense" "$(code "$URL")" -eq 200
check "a second tandemd is refused" output_has "another tandemd runs" \
	bash -c "nsenter --net=/run/netns/$NS_B $TANDEMD --no-metrics 2>&1; test \$? -eq 1"
sleep 0.5
kill -HUP $TDM_PID
sleep 0.5
kill -TERM $TDM_PID
wait $TDM_PID
sleep 0.2
kill $notifier; wait $notifier 2>/dev/null
# READY after the first sample (STATUS says what it read), WATCHDOG at
# half of WATCHDOG_USEC, RELOADING then READY on SIGHUP, STOPPING
check "sd_notify: in order" python3 - "$TMP/notify.log" <<'PY'
import sys
msgs = [l.strip() for l in open(sys.argv[1])]
print(msgs)
seq = [m for m in msgs if not m.startswith(("WATCHDOG", "STATUS"))]
assert [m.split()[0] for m in seq] == ["READY=1", "RELOADING=1", "READY=1",
                                       "STOPPING=1"], seq
status = "STATUS=3 NFs, 1 chains, 2 devices"	# fw, cnt, extra
assert status in msgs, msgs
assert msgs.index(status) < msgs.index("READY=1"), msgs
assert sum(m == "WATCHDOG=1" for m in msgs) >= 3, msgs
assert seq[1].startswith("RELOADING=1 MONOTONIC_USEC="), seq
PY
case_end "http_serves_metrics_only_and_survives_nonsense"

# ---- 8: from a config file alone, in another pin directory (an empty
# state): tandemd builds it; a bad --config at start: exit 1, its line
export TANDEM_PIN_ROOT=/sys/fs/bpf/tandemd-test
printf 'nf add c2 counter\nchain add ch2 c2\n' > "$TMP/fresh.conf"
printf 'nf add c2 counter\nchain add ch2 c2 c3\n' > "$TMP/bad.conf"
out=$(in_bn "$TANDEMD" --no-metrics --config "$TMP/bad.conf" 2>&1)
rc=$?
expect "bad --config at start: exit 1" "$rc" -eq 1
check "bad --config at start: its line" grep -q "bad.conf:2:" <<< "$out"
check "bad --config at start: nothing made" bash -c "! nsenter --net=/run/netns/$NS_B $TANDEM nf show c2"
# an empty file would delete everything: refused, at start and reload
: > "$TMP/empty.conf"
out=$(in_bn timeout 10 "$TANDEMD" --no-metrics --config "$TMP/empty.conf" 2>&1)
expect "empty --config at start: exit 1" "$?" -eq 1
check "empty --config: says so" grep -q "holds no command" <<< "$out"
# an address it cannot bind: found before anything changes
out=$(in_bn timeout 10 "$TANDEMD" --config "$TMP/fresh.conf" --metrics 10.99.99.99:$PORT 2>&1)
expect "an address not ours: exit 1" "$?" -eq 1
check "an address not ours: nothing made" bash -c "! nsenter --net=/run/netns/$NS_B $TANDEM nf show c2"
bg_b "$TANDEMD" --config "$TMP/fresh.conf" --metrics 127.0.0.1:$PORT \
	--interval 0.2 2>> "$LOG" &
TDM_PID=$!
check "fresh: serves" scrape_after "$(date +%s.%N)" "$TMP/fresh.prom"
check "fresh: the NF" grep -q '^tandem_nf_packets_total{nf="c2",type="counter"} 0$' "$TMP/fresh.prom"
check "fresh: the chain" grep -q '^tandem_chain_packets_total{chain="ch2"} 0$' "$TMP/fresh.prom"
expect "fresh: tandem_last_apply_success" "$(metric "$TMP/fresh.prom" tandem_last_apply_success "")" -eq 1
check "fresh: tandem status names the file" output_has "fresh.conf" tdm status
cp "$TMP/fresh.conf" "$TMP/fresh.keep"
: > "$TMP/fresh.conf"
kill -HUP $TDM_PID
sleep 0.5
check "an emptied file on reload: logged" grep -q "fresh.conf holds no command" "$LOG"
check "an emptied file on reload: the NF stays" tdm nf show c2
check "an emptied file on reload: still running" kill -0 $TDM_PID
kill -TERM $TDM_PID
wait $TDM_PID
expect "fresh: exit 0" "$?" -eq 0
# a tandemd killed and not reaped (a zombie: its parent does not wait)
# runs no more: status says so, and a new one may start
check "a zombie tandemd is gone" nsenter --net=/run/netns/"$NS_B" python3 - \
	"$TANDEMD" "$TANDEM" "$TMP/fresh.keep" <<'PY'
import json, os, signal, subprocess, sys, time
tandemd, tandem, conf = sys.argv[1:4]
p = subprocess.Popen([tandemd, "--no-metrics", "--config", conf],
                     stderr=subprocess.DEVNULL)
for i in range(100):
    st = json.loads(subprocess.run([tandem, "-j", "status"],
                                   capture_output=True).stdout)
    d = st["daemon"] or {}
    if d.get("pid") == p.pid and d.get("running"):
        break
    time.sleep(0.1)
else:
    sys.exit("tandemd did not register")
os.kill(p.pid, signal.SIGKILL)
time.sleep(0.5)                 # not waited for: a zombie now
state = open("/proc/%d/stat" % p.pid).read().rsplit(")", 1)[1].split()[0]
if state != "Z":
    sys.exit("not a zombie: %s" % state)
st = json.loads(subprocess.run([tandem, "-j", "status"],
                               capture_output=True).stdout)
if (st["daemon"] or {}).get("running"):
    sys.exit("status: a zombie runs: %s" % st["daemon"])
p.wait()
PY
unset TANDEM_PIN_ROOT
case_end "tandemd_builds_the_state_from_its_config"

# on failure, what tandemd said
[ "$ktap_failed" -eq 0 ] || sed "s|^|# log: |" "$LOG"
ktap_finish
