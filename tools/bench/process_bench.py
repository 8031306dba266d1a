#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""The process NF experiments; run by tools/bench/process_bench.sh, which
makes the namespaces (NS_A sends, NS_B runs tandem) and a private bpffs.

  detour   the cost of one process NF (tandem-nf-burn 0) in a chain
  wasted   XDP work spent on packets a process NF then drops, with and
           without backpressure, the NF overloaded 2x
  weights  three burn NFs of costs 1:2:4 on one CPU, in one chain and in
           three chains, CFS's equal weights against tandemd's rate x cost

The NFs run on CPU 0, udp-blast on CPU 1: a veth's receive side (its XDP
program, the redirect into a process NF's pair, the copy into the NF's
socket) runs in the sender's softirq, on CPU 1; the NF's process and the
return path after it (run by its sendto) on CPU 0. CPU time is taken
per task (/proc/PID/schedstat, the sender's CLOCK_PROCESS_CPUTIME_ID,
the cgroups' cpuacct.usage), never per CPU: the machine is shared.
"""
import json
import os
import subprocess
import sys
import time

ROOT = os.environ["ROOT"]
NS_A = os.environ["NS_A"]
NS_B = os.environ["NS_B"]
TMP = os.environ["TMP"]
B = os.path.join(ROOT, "build")
TANDEM = os.path.join(B, "tandem")
TANDEMD = os.path.join(B, "tandemd")
BURN = os.path.join(B, "tandem-nf-burn")
BLAST = os.path.join(B, "udp-blast")
NSB = ["nsenter", "--net=/run/netns/" + NS_B]
DST = "10.10.0.2"
SECS = 2.0		# one measured run
REPS = int(os.environ.get("REPS", 3))	# runs of each case, interleaved
RULES = 16		# the firewall's rules (none matches the traffic)


def log(*a):
	print("#", *a, file=sys.stderr, flush=True)


def tdm(*args, j=False):
	cmd = NSB + [TANDEM] + (["-j"] if j else []) + [str(a) for a in args]
	r = subprocess.run(cmd, capture_output=True, text=True)
	if r.returncode:
		raise RuntimeError("tandem %s: %s" % (" ".join(map(str, args)), r.stderr.strip()))
	return json.loads(r.stdout) if j else r.stdout


def by_name(lst):
	if isinstance(lst, dict):
		lst = [lst]
	return {x["name"]: x for x in lst}


def nf_show(name):
	return tdm("nf", "show", name, j=True)[0]


def nf_packets(name):
	return tdm("stats", "nf", name, j=True)["packets"]


def chain_stats(name):
	return tdm("stats", "chain", name, j=True)


def xdp_prog(dev):
	"""the id of the XDP program on DEV in ns B"""
	out = subprocess.run(["ip", "-j", "-d", "-n", NS_B, "link", "show", dev],
			     capture_output=True, text=True, check=True).stdout
	x = json.loads(out)[0]["xdp"]
	if "prog" in x:
		return x["prog"]["id"]
	return x["attached"][0]["prog"]["id"]


def prog_stats(pid):
	out = subprocess.run(["bpftool", "-j", "prog", "show", "id", str(pid)],
			     capture_output=True, text=True, check=True).stdout
	p = json.loads(out)
	return p.get("run_time_ns", 0), p.get("run_cnt", 0)


def task_ns(pid):
	with open("/proc/%d/schedstat" % pid) as f:
		return int(f.read().split()[0])


def ksoftirqd(cpu):
	for p in os.listdir("/proc"):
		if p.isdigit():
			try:
				with open("/proc/%s/comm" % p) as f:
					if f.read().strip() == "ksoftirqd/%d" % cpu:
						return int(p)
			except OSError:
				pass
	raise RuntimeError("no ksoftirqd/%d" % cpu)


KSOFT = {0: ksoftirqd(0), 1: ksoftirqd(1)}


def cg_usage(name):
	for d in ("/sys/fs/cgroup/cpuacct/tandem", "/sys/fs/cgroup/tandem"):
		p = os.path.join(d, name)
		if os.path.exists(os.path.join(p, "cpuacct.usage")):
			with open(os.path.join(p, "cpuacct.usage")) as f:
				return int(f.read())
		if os.path.exists(os.path.join(p, "cpu.stat")):
			with open(os.path.join(p, "cpu.stat")) as f:
				for line in f:
					k, v = line.split()
					if k == "usage_usec":
						return int(v) * 1000
	raise RuntimeError("no cgroup CPU time for " + name)


def blast(rate, secs, ports):
	cmd = ["taskset", "-c", "1", "ip", "netns", "exec", NS_A, BLAST,
	       "-r", str(int(rate)), "-t", str(secs), DST] + [str(p) for p in ports]
	return json.loads(subprocess.run(cmd, capture_output=True, text=True,
					 check=True).stdout)


def wait_for(what, fn, timeout=20):
	end = time.time() + timeout
	while time.time() < end:
		try:
			if fn():
				return
		except (RuntimeError, IndexError, KeyError):
			pass
		time.sleep(0.05)
	raise RuntimeError("timed out waiting for " + what)


class Burn:
	"""tandem-nf-burn serving NF NAME, run by hand on CPU 0"""

	def __init__(self, name, cycles):
		self.name = name
		self.p = subprocess.Popen(["taskset", "-c", "0"] + NSB +
					  [BURN, "--nf", name, str(int(cycles))])
		wait_for(name + " up", lambda: nf_show(name)["up"] and
			 nf_show(name)["pid"] == self.p.pid)

	def ns(self):
		return task_ns(self.p.pid)

	def stop(self):
		self.p.terminate()
		self.p.wait()
		wait_for(self.name + " down", lambda: not nf_show(self.name)["up"])


def drain(name):
	wait_for(name + " drained", lambda: nf_show(name)["backlog"] == 0)


def pick(runs, key):
	"""the run whose KEY is the median of REPS interleaved runs, with the
	range of KEY over all of them"""
	runs = sorted(runs, key=key)
	m = dict(runs[len(runs) // 2])
	m["range"] = (key(runs[0]), key(runs[-1]))
	return m


def rng(m, nd=0):
	return "%s-%s" % (fmt(m["range"][0], nd), fmt(m["range"][1], nd))


def fmt(x, nd=0):
	if isinstance(x, str):
		return x
	return "{:,.{}f}".format(x, nd)


def table(head, rows):
	out = ["| " + " | ".join(head) + " |",
	       "|" + "|".join("---" if i == 0 else "---:" for i in range(len(head))) + "|"]
	for r in rows:
		out.append("| " + " | ".join(fmt(c) if not isinstance(c, str) else c for c in r) + " |")
	return "\n".join(out)


def common_setup():
	"""fw (RULES rules, none matching) and c1, the XDP NFs in front"""
	tdm("nf", "add", "fw", "firewall")
	for i in range(RULES):
		tdm("rule", "add", "fw", "proto", "udp", "dport", 6000 + i, "action", "drop")
	tdm("nf", "add", "c1", "counter")
	tdm("nf", "add", "cnt0", "counter")
	tdm("chain", "add", "d", "cnt0", "then", "drop")
	tdm("dev", "attach", "veth1")
	tdm("steer", "add", "veth1", "prio", 100, "proto", "udp", "dport", 5000, "chain", "d")


SETUP_DONE = False


def setup_once():
	global SETUP_DONE
	if not SETUP_DONE:
		common_setup()
		SETUP_DONE = True


def measure(rate, ports, counters=(), procs=(), burns=(), cgroups=(), devs=(), chains=(),
	    secs=SECS, warm=0.5):
	"""the deltas of everything asked for over SECS of steady traffic:
	udp-blast runs WARM s before the first snapshot and on past the
	second; rates are over the wall time between the two"""
	def snap():
		t0 = time.monotonic()
		s = {}
		# one call for each kind, all NFs or chains: the counters are
		# read close together (a CLI call takes ms on a busy machine)
		nfs = by_name(tdm("stats", "nf", j=True)) if counters else {}
		chs = by_name(tdm("stats", "chain", j=True)) if chains else {}
		shows = by_name(tdm("nf", "show", j=True)) if procs else {}
		for c in counters:
			s["n." + c] = nfs[c]["packets"]
		for c in chains:
			s["c." + c] = chs[c]["packets"]
		for p in procs:
			q = shows[p]
			for k in ("handed", "consumed", "ring_drops", "bp_drops", "passed"):
				s["p.%s.%s" % (p, k)] = q[k]
			# levels, not counters: kept as the second snapshot saw them
			s["w." + p] = q["weight"]
			s["cc." + p] = q["cost_cycles"]
		for b in burns:
			s["t." + b.name] = b.ns()
		for c in cgroups:
			s["cg." + c] = cg_usage(c)
		for d in devs:
			s["prog.%s.ns" % d], s["prog.%s.cnt" % d] = prog_stats(xdp_prog(d))
		for cpu, pid in KSOFT.items():
			s["ksoft%d" % cpu] = task_ns(pid)
		s["sender"] = task_ns(sender.pid)
		with open("/proc/stat") as f:
			for line in f:
				if line.startswith("cpu0 "):
					v = [int(x) for x in line.split()[1:]]
					# user nice system (idle iowait) irq softirq steal
					s["cpu0.busy"] = (v[0] + v[1] + v[2] + v[5] + v[6] + v[7]) * 10000000
		s["wall"] = (t0 + time.monotonic()) / 2
		return s
	cmd = ["taskset", "-c", "1", "ip", "netns", "exec", NS_A, BLAST,
	       "-r", str(int(rate)), "-t", str(warm + secs + 0.3), DST] + [str(p) for p in ports]
	# 'ip netns exec' execs: the pid is udp-blast's
	sender = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True)
	time.sleep(warm)
	a = snap()
	time.sleep(secs)
	b = snap()
	sender.communicate()
	d = {k: b[k] if k.startswith(("w.", "cc.")) else b[k] - a[k] for k in a}
	d["secs"] = d["wall"]
	d["sent"] = sum(d["c." + c] for c in chains)
	d["sender_ns"] = d["sender"]
	d["cpu1_ns"] = d["sender"] + d["ksoft1"]
	return d


# ---- 3: the detour ---------------------------------------------------
DETOUR_RATE = 50000


def exp_detour(res):
	setup_once()
	tdm("nf", "add", "outx", "counter")
	tdm("nf", "add", "outy", "counter")
	tdm("nf", "add", "p", "process", "cpu", 0)
	tdm("chain", "add", "x", "fw", "c1", "outx", "then", "drop")
	tdm("chain", "add", "y", "fw", "c1", "p", "outy", "then", "drop")
	tdm("steer", "add", "veth1", "prio", 101, "proto", "udp", "dport", 5001, "chain", "x")
	tdm("steer", "add", "veth1", "prio", 102, "proto", "udp", "dport", 5002, "chain", "y")
	pid = nf_show("p")["id"]
	rx, ret = "tdmnf%db" % pid, "tdmnf%da" % pid
	burn = Burn("p", 0)
	runs = {}
	for r in range(REPS):
		# as fast as the sender goes: packets out of the chain per second
		for ch, port, ctr in (("x", 5001, "outx"), ("y", 5002, "outy")):
			procs = ("p",) if ch == "y" else ()
			m = measure(0, [port], counters=(ctr,), procs=procs, burns=(burn,), chains=(ch,))
			m["out"] = m["n." + ctr]
			runs.setdefault(ch + "_max", []).append(m)
			log("detour max %s: in %d, out %d in %.2f s" % (ch, m["sent"], m["out"], m["secs"]))
		# at a fixed rate below both: CPU time per packet
		for ch, port, ctr in (("d", 5000, "cnt0"), ("x", 5001, "outx"), ("y", 5002, "outy")):
			procs = ("p",) if ch == "y" else ()
			devs = ("veth1", rx, ret) if ch == "y" else ("veth1",)
			m = measure(DETOUR_RATE, [port], counters=(ctr,), procs=procs,
				    burns=(burn,), devs=devs, chains=(ch,))
			m["out"] = m["n." + ctr]
			runs.setdefault(ch, []).append(m)
			log("detour %s: in %d, out %d, cpu1 %.0f ns/pkt, burn %.0f ns/pkt" %
			    (ch, m["sent"], m["out"], m["cpu1_ns"] / max(m["out"], 1),
			     m["t.p"] / max(m["out"], 1)))
	burn.stop()
	out = {}
	for k, v in runs.items():
		if k.endswith("_max"):
			out[k] = pick(v, lambda m: m["out"] / m["secs"])
		else:
			out[k] = pick(v, lambda m: (m["cpu1_ns"] + m["t.p"] + m["ksoft0"]) / max(m["out"], 1))
	res["detour"] = out
	res["detour_devs"] = (rx, ret)


def report_detour(res):
	o = res["detour"]
	rx, ret = res["detour_devs"]
	L = []
	mx, my = o["x_max"], o["y_max"]
	px = mx["n.outx"] / mx["secs"]
	py = my["n.outy"] / my["secs"]

	def per(m, k):
		return m[k] / max(m["out"], 1)

	def cpu0(m):
		return (m["t.p"] + m["ksoft0"]) / max(m["out"], 1) if "t.p" in m else 0

	rows = []
	for ch, label in (("d", "entry + 1 counter, then drop (the source's own cost)"),
			  ("x", "fw + c1 + out, all XDP"),
			  ("y", "fw + c1 + **p (process, burn 0)** + out")):
		m = o[ch]
		cpu1 = per(m, "cpu1_ns")
		c0 = per(m, "t.p") + per(m, "ksoft0") if ch == "y" else per(m, "ksoft0")
		rows.append([label, m["sent"], m["out"], cpu1, c0, cpu1 + c0, rng(m),
			     m["prog.veth1.ns"] / max(m["prog.veth1.cnt"], 1),
			     (m["prog.%s.ns" % rx] / max(m["prog.%s.cnt" % rx], 1)) if ch == "y" else "-",
			     (m["prog.%s.ns" % ret] / max(m["prog.%s.cnt" % ret], 1)) if ch == "y" else "-"])
	x, y = o["x"], o["y"]
	tot = lambda m, c0: (m["cpu1_ns"] + c0) / max(m["out"], 1)
	tx = tot(x, x["ksoft0"])
	ty = tot(y, y["t.p"] + y["ksoft0"])
	res["detour_ns"] = ty - tx
	res["detour_pps"] = (px, py)
	L.append("Chains on veth1 (ns B), traffic from udp-blast in ns A on CPU 1, the")
	L.append("process NF `p` (`tandem-nf-burn 0`: the library's own cost) on CPU 0.")
	L.append("`fw` is a firewall with %d rules, none matching; `c1`, `out` counters;" % RULES)
	L.append("every chain ends `then drop`.")
	L.append("")
	L.append("Each case ran %d times, interleaved; a table row is the median run (by the" % REPS)
	L.append("first table's pps, the second's total ns), *range* the lowest and highest of all runs.")
	L.append("")
	L.append("**As fast as the sender goes** (%.0f s each): packets out of the chain per second." % SECS)
	L.append("")
	L.append(table(["chain", "in", "out of the chain", "pps out", "pps out, range", "NF process CPU, ns / pkt"],
		       [["fw c1 out (XDP)", mx["sent"], mx["n.outx"], px, rng(mx), "-"],
			["fw c1 p out (process NF)", my["sent"], my["n.outy"], py, rng(my),
			 my["t.p"] / max(my["n.outy"], 1)]]))
	L.append("")
	L.append("**At %s packets/s** (below both capacities; %.0f s each): CPU time per packet out, ns." %
		 (fmt(DETOUR_RATE), SECS))
	L.append("CPU 1 = udp-blast's CPU time + ksoftirqd/1's; CPU 0 = the NF process's + ksoftirqd/0's.")
	L.append("The programs' columns are the kernel's BPF stats (run_time_ns / run_cnt): `entry`")
	L.append("is tdm_entry on veth1 with the chain's hop 0 it tail-calls; `proc_rx` on the NF's")
	L.append("`b` end hands the frame to the socket; `proc_return` on its `a` end takes it back and runs hop 1.")
	L.append("")
	L.append(table(["chain", "in", "out", "CPU 1", "CPU 0", "total", "total, range", "entry+hop0", "proc_rx", "proc_return+hop1"], rows))
	L.append("")
	L.append("- **The detour costs %.0f ns of CPU per packet** (total, process NF chain minus all-XDP chain);" % (ty - tx))
	L.append("  %.0f ns of it on CPU 1 (redirect into the pair, its NAPI, the copy into the socket)"
		 % (per(y, "cpu1_ns") - per(x, "cpu1_ns")))
	L.append("  and %.0f ns on CPU 0 (the process: poll, the library, sendto, the return path's XDP)."
		 % (per(y, "t.p") + per(y, "ksoft0") - per(x, "ksoft0")))
	L.append("- Throughput: %s pps all in XDP, %s pps with the process NF (%.2fx)." %
		 (fmt(px), fmt(py), py / px if px else 0))
	return "\n".join(L)


# ---- 1: wasted work --------------------------------------------------
WASTED_CYCLES = int(os.environ.get("WASTED_CYCLES", 20000))
CAL_RATE = int(os.environ.get("CAL_RATE", 100000))


def exp_wasted(res):
	setup_once()
	for n in ("on", "off"):
		tdm("nf", "add", "out" + n, "counter")
	tdm("nf", "add", "pon", "process", "cpu", 0)
	tdm("nf", "add", "poff", "process", "cpu", 0, "backpressure", "off")
	tdm("chain", "add", "won", "fw", "c1", "pon", "outon", "then", "drop")
	tdm("chain", "add", "woff", "fw", "c1", "poff", "outoff", "then", "drop")
	tdm("steer", "add", "veth1", "prio", 110, "proto", "udp", "dport", 5010, "chain", "won")
	tdm("steer", "add", "veth1", "prio", 111, "proto", "udp", "dport", 5011, "chain", "woff")
	ids = {n: nf_show(n)["id"] for n in ("pon", "poff")}

	# the NF's capacity at WASTED_CYCLES: overloaded (CAL_RATE), with
	# backpressure (no ring drops), consumed per second, the median of
	# 3 runs; then offer twice that
	b = Burn("pon", WASTED_CYCLES)
	# The NF's capacity falls as the offered load rises (the machine's
	# other tenants): offer R, measure what it consumes, offer twice
	# that, three times; the last is the run's capacity.
	rate = CAL_RATE
	caps = []
	for i in range(3):
		m = measure(rate, [5010], procs=("pon",), chains=("won",), burns=(b,), secs=1)
		caps.append(m["p.pon.consumed"] / m["secs"])
		log("cal: offered %d, in %d consumed %d, NF CPU %.2f, %.0f ns/pkt" %
		    (rate, m["sent"], m["p.pon.consumed"], m["t.pon"] / 1e9 / m["secs"],
		     m["t.pon"] / max(m["p.pon.consumed"], 1)))
		rate = 2 * caps[-1]
	b.stop()
	cap = caps[-1]
	rate = 2 * cap
	log("wasted: capacity %s pps at %d cycles; offering %.0f" % (caps, WASTED_CYCLES, rate))
	res["wasted_cal"] = dict(cycles=WASTED_CYCLES, cap=cap, rate=rate, caps=caps)
	cycles = WASTED_CYCLES
	runs = {}
	for r, mode in [(r, mode) for r in range(REPS) for mode in ("on", "off")]:
		p = "p" + mode
		b = Burn(p, cycles)
		rx = "tdmnf%db" % ids[p]
		m = measure(rate, [5010 if mode == "on" else 5011],
			    counters=("out" + mode,), procs=(p,), burns=(b,),
			    devs=("veth1", rx), chains=("w" + mode,))
		m["entry_ns"] = m["prog.veth1.ns"]
		m["entry_cnt"] = m["prog.veth1.cnt"]
		m["rx_ns"] = m["prog.%s.ns" % rx]
		m["rx_cnt"] = m["prog.%s.cnt" % rx]
		for k in ("handed", "consumed", "ring_drops", "bp_drops", "passed"):
			m[k] = m["p.%s.%s" % (p, k)]
		m["out"] = m["n.out" + mode]
		m["burn_ns"] = m["t." + p]
		runs.setdefault(mode, []).append(m)
		b.stop()
		log("wasted %s: sent %d handed %d consumed %d ring_drops %d bp_drops %d out %d" %
		    (mode, m["sent"], m["handed"], m["consumed"], m["ring_drops"], m["bp_drops"], m["out"]))
	res["wasted"] = {k: pick(v, lambda m: m["ring_drops"] / max(m["sent"], 1))
			 for k, v in runs.items()}


def report_wasted(res):
	o = res["wasted"]
	cal = res["wasted_cal"]
	on, off = o["on"], o["off"]
	# a handed packet's XDP cost: bp off runs every packet through the NFs
	full_xdp = off["entry_ns"] / max(off["entry_cnt"], 1) + off["rx_ns"] / max(off["rx_cnt"], 1)
	# CPU 1's cost of handing a packet to the NF, beyond what a packet
	# dropped at the entry costs (the source's and the entry's):
	# the detour experiment's chains at a rate nobody drops at
	handoff_cpu = None
	if "detour" in res:
		d = res["detour"]
		handoff_cpu = d["y"]["cpu1_ns"] / max(d["y"]["out"], 1) - d["d"]["cpu1_ns"] / max(d["d"]["out"], 1)
	rows = []
	w = {}
	for mode, m in (("on", on), ("off", off)):
		wx = m["ring_drops"] * full_xdp
		wc = m["ring_drops"] * handoff_cpu if handoff_cpu is not None else None
		w[mode] = (wx, wc)
		rows.append(["backpressure " + mode, m["sent"], "%.2fx" % (m["sent"] / max(m["consumed"], 1)),
			     m["handed"], m["consumed"],
			     m["ring_drops"], "%.0f-%.0f" % (1000 * m["range"][0], 1000 * m["range"][1]),
			     m["bp_drops"], m["out"] / m["secs"],
			     wx / 1e6, (wc / 1e6) if wc is not None else "-",
			     m["cpu1_ns"] / max(m["sent"], 1)])
	red_x = 1 - w["on"][0] / w["off"][0] if w["off"][0] else 0
	red_c = (1 - w["on"][1] / w["off"][1]) if handoff_cpu and w["off"][1] else None
	res["wasted_red"] = (red_x, red_c)
	L = []
	L.append("Chain `fw c1 P out then drop`, P a `tandem-nf-burn` process NF on CPU 0,")
	L.append("ring 1024, watermarks 80%%/60%%, burning %d cycles a packet. Its capacity, measured" % cal["cycles"])
	L.append("first in this run (backpressure on, consumed per second, 1 s runs offering %s pps," % fmt(CAL_RATE))
	L.append("then twice what the run before consumed: %s) was %s pps; each run offers twice" %
		 (" / ".join(fmt(c) for c in cal["caps"]), fmt(cal["cap"])))
	L.append("that, %s pps, for %.0f s. The CPU it gets moves with" % (fmt(cal["rate"]), SECS))
	L.append("the machine's other tenants: *overload* is what entered the chain over what the NF")
	L.append("consumed, in that run. Median of %d interleaved runs by wasted work (ring drops per" % REPS)
	L.append("packet in); *ring drops, range*: ring drops per 1000 packets in, over all runs.")
	L.append("")
	L.append(table(["", "in", "overload", "handed", "consumed", "ring drops", "ring drops, range", "bp drops", "pps out",
			"wasted, XDP ms", "wasted, CPU ms", "CPU 1 ns / in"], rows))
	L.append("")
	L.append("- *handed*: frames the chain redirected to the NF; *ring drops*: those its full")
	L.append("  ring lost (XDP_STATISTICS); *bp drops*: packets hop 0 dropped before any NF ran.")
	L.append("- *wasted, XDP*: ring drops x the XDP cost of a handed packet, %.0f ns" % full_xdp)
	L.append("  (tdm_entry with hop 0 per run + tdm_proc_rx per run, BPF stats of the `off` run,")
	L.append("  where every packet runs the NFs). The programs only: a lower bound.")
	if handoff_cpu is not None:
		L.append("- *wasted, CPU*: ring drops x %.0f ns, CPU 1's time for a packet handed to a" % handoff_cpu)
		L.append("  process NF beyond a packet dropped at the entry (the detour table: chain `fw c1 p out`")
		L.append("  minus `cnt0`): the NFs, the redirect, the pair's NAPI, the socket. An upper")
		L.append("  bound: a frame the full ring refuses is not copied.")
	L.append("- **Backpressure cuts the wasted work by %.1f%%** (XDP measure)%s." %
		 (100 * red_x, (", %.1f%% (CPU measure)" % (100 * red_c)) if red_c is not None else ""))
	return "\n".join(L)


# ---- 2: CPU weights --------------------------------------------------
WEIGHT_COSTS = (8000, 16000, 32000)
WEIGHT_RATE = 240000
WARM = 1.5
# (layout, backpressure): the chain without backpressure too, where the
# NFs before the bottleneck work for its ring drops
WEIGHT_CASES = (("chain", "on"), ("chain", "off"), ("parallel", "on"))
WEIGHT_MODES = {"chain": ("100", "auto"), "parallel": ("100", "auto", "t")}


def tandemd_run(conf_text, tag):
	path = os.path.join(TMP, "w-%s.conf" % tag)
	with open(path, "w") as f:
		f.write(conf_text)
	logf = open(os.path.join(TMP, "tandemd-%s.log" % tag), "w")
	p = subprocess.Popen(["taskset", "-c", "1"] + NSB +
			     [TANDEMD, "--config", path, "--no-metrics"],
			     stdout=logf, stderr=logf)
	return p


def exp_weights(res):
	runs = {}
	# three chains, a third case: weights set by hand in proportion to
	# each NF's CPU time per packet, measured in this round's equal run:
	# what weights that get the cost right would do
	tw = None
	for r, (layout, bp), wmode in [(r, c, w) for r in range(REPS) for c in WEIGHT_CASES
				       for w in WEIGHT_MODES[c[0]]]:
		if True:
			tag = "%s-%s-%s" % (layout[0], bp, wmode)
			sfx = "%s%s%s" % (layout[0], bp, {"100": "e", "auto": "a", "t": "t"}[wmode])
			ws = tw if wmode == "t" else (wmode,) * 3
			names = ["b%d%s" % (i + 1, sfx) for i in range(3)]
			lines = []
			for n, c, w in zip(names, WEIGHT_COSTS, ws):
				lines.append("nf add %s process cpu 0 weight %s backpressure %s -- %s %d" %
					     (n, w, bp, BURN, c))
			if layout == "chain":
				lines.append("nf add o%s counter" % sfx)
				lines.append("chain add s%s %s o%s then drop" % (sfx, " ".join(names), sfx))
				lines.append("dev attach veth1")
				lines.append("steer add veth1 prio 50 proto udp dport 5101-5103 chain s%s" % sfx)
				outs = ["o" + sfx]
			else:
				outs = []
				lines.append("dev attach veth1")
				for i, n in enumerate(names):
					lines.append("nf add o%d%s counter" % (i + 1, sfx))
					lines.append("chain add s%d%s %s o%d%s then drop" % (i + 1, sfx, n, i + 1, sfx))
					lines.append("steer add veth1 prio %d proto udp dport %d chain s%d%s" %
						     (50 + i, 5101 + i, i + 1, sfx))
					outs.append("o%d%s" % (i + 1, sfx))
			d = tandemd_run("\n".join(lines) + "\n", tag)
			try:
				for n in names:
					wait_for(n + " up", lambda n=n: nf_show(n)["up"])
				chains = ["s" + sfx] if layout == "chain" else \
					["s%d%s" % (i + 1, sfx) for i in range(3)]
				m = measure(WEIGHT_RATE, [5101, 5102, 5103], counters=outs,
					    procs=names, cgroups=names, chains=chains, warm=WARM)
				m["weights"] = [m["w." + n] for n in names]
				m["costs"] = [m["cc." + n] for n in names]
				m["names"] = names
				m["outs"] = outs
			finally:
				d.terminate()
				d.wait()
			runs.setdefault((layout, bp, wmode), []).append(m)
			if layout == "parallel" and wmode == "100":
				t = [m["cg." + n] / max(m["p.%s.consumed" % n], 1) for n in names]
				tw = [max(1, round(300 * x / sum(t))) for x in t]
			log("weights %s: out %s, cpu %s, weights %s" %
			    (tag, [m["n." + o] for o in outs], [m["cg." + n] // 1000000 for n in names],
			     m["weights"]))
	# leave an empty state for whatever runs next
	tdm("apply", "/dev/null")
	res["weights"] = {k: pick(v, lambda m: sum(m["n." + x] for x in m["outs"]) / m["secs"])
			  for k, v in runs.items()}


def report_weights(res):
	o = res["weights"]
	L = []
	L.append("Three `tandem-nf-burn` process NFs of %d, %d and %d cycles a packet (1:2:4), all" % WEIGHT_COSTS)
	L.append("`cpu 0`, run by tandemd (pinned to CPU 1) in their cgroups. %s packets/s" % fmt(WEIGHT_RATE))
	L.append("offered from CPU 1 (*in*: what entered the chains), spread evenly over UDP ports")
	L.append("5101-5103; %.1f s of warm-up, then %.0f s measured. *equal*: `weight 100` on each" % (WARM, SECS))
	L.append("(CFS's equal shares); *rate x cost*: `weight auto`, tandemd setting the cgroups'")
	L.append("weights every 1 ms (*weights set*: as they were at the end of the window); three")
	L.append("chains also *by hand, ~ t* (below). *CPUs*: each NF's cgroup")
	L.append("`cpuacct.usage` per second; *others*: the rest of CPU 0's busy time (/proc/stat), other")
	L.append("tenants of this shared machine included; *t*: an NF's CPU time per packet it consumed")
	L.append("(library, syscalls and the return path included). Each case ran %d times," % REPS)
	L.append("interleaved; a row is the median run by pps out, *range* the lowest and highest.")
	L.append("")
	thr = {}
	for layout, bp in WEIGHT_CASES:
		rows = []
		for wmode, label in (("100", "equal"), ("auto", "rate x cost"), ("t", "by hand, ~ t")):
			if (layout, bp, wmode) not in o:
				continue
			m = o[(layout, bp, wmode)]
			cpu = [m["cg." + n] for n in m["names"]]
			tot = sum(cpu)
			cons = [m["p.%s.consumed" % n] for n in m["names"]]
			t = [c / max(k, 1) for c, k in zip(cpu, cons)]
			outs = [m["n." + x] / m["secs"] for x in m["outs"]]
			total_out = sum(outs)
			thr[(layout, bp, wmode)] = total_out
			bpd = sum(m["p.%s.bp_drops" % n] for n in m["names"])
			rd = sum(m["p.%s.ring_drops" % n] for n in m["names"])
			others = max(0, m["cpu0.busy"] - tot) / 1e9 / m["secs"]
			row = [label, m["sent"], total_out, rng(m),
			       " / ".join("%.0f%%" % (100 * c / tot) if tot else "-" for c in cpu),
			       " / ".join("%.2f" % (c / 1e9 / m["secs"]) for c in cpu),
			       "%.2f" % others,
			       " / ".join("%.1f" % (x / 1000) for x in t),
			       " / ".join(str(w) for w in m["weights"]),
			       bpd, rd]
			# what the CPU they got allows: a chain's packet costs sum(t)
			cap = (tot / 1e9 / m["secs"]) / (sum(t) / 1e9) if sum(t) else 0
			if layout == "parallel":
				# fair: the same throughput T for each (equal offered
				# load), with the CPU they got: T * sum(t) = CPU
				fair = cap
				row.insert(4, " / ".join(fmt(x) for x in outs))
				row.insert(5, fmt(fair))
				row.insert(6, " / ".join("%+.0f%%" % (100 * (x / fair - 1)) if fair else "-" for x in outs))
				m["dev"] = [x / fair - 1 for x in outs] if fair else []
			else:
				row.insert(4, "%.0f%%" % (100 * total_out / cap) if cap else "-")
			rows.append(row)
		if layout == "chain":
			L.append("**(a) One chain** `b1 b2 b3 out then drop`, backpressure **%s**: throughput =" % bp)
			L.append("`out` per second; *of max*: against the CPU they got over t1 + t2 + t3.")
			head = ["weights", "in", "pps out", "range", "of max", "CPU share b1/b2/b3", "CPUs",
				"others", "t, us", "weights set", "bp drops", "ring drops"]
		else:
			L.append("**(b) Three chains** `bN oN then drop`, one per port, backpressure %s. Fair" % bp)
			L.append("share: NFVNice's rate-proportional fairness. Equal offered load, so each NF")
			L.append("should get the same throughput T; with the CPU time U (CPU-seconds per second)")
			L.append("the three got in all, T = U / (t1 + t2 + t3). *vs T*: each NF's throughput against T.")
			head = ["weights", "in", "pps out", "range", "pps b1/b2/b3", "fair T", "vs T", "CPU share b1/b2/b3",
				"CPUs", "others", "t, us", "weights set", "bp drops", "ring drops"]
		L.append("")
		L.append(table(head, rows))
		L.append("")

	def ratio(k):
		e = thr[k + ("100",)]
		return thr[k + ("auto",)] / e if e else 0
	devs = o[("parallel", "on", "auto")].get("dev", [])
	deve = o[("parallel", "on", "100")].get("dev", [])
	res["weights_sum"] = (ratio(("chain", "on")), ratio(("chain", "off")),
			      ratio(("parallel", "on")), devs)
	L.append("- One chain: rate x cost weights give **%.2fx** the throughput of equal weights with"
		 % ratio(("chain", "on")))
	L.append("  backpressure, **%.2fx** without." % ratio(("chain", "off")))
	L.append("- Three chains: %.2fx the total throughput; each NF within **%s** of the fair share"
		 % (ratio(("parallel", "on")), ("%.0f%%" % (100 * max(abs(x) for x in devs))) if devs else "-"))
	L.append("  with rate x cost weights, %s with equal ones." %
		 (("%.0f%%" % (100 * max(abs(x) for x in deve))) if deve else "-"))
	devt = o.get(("parallel", "on", "t"), {}).get("dev", [])
	if devt:
		L.append("- Weights set by hand in proportion to each NF's CPU time per packet (*by hand,")
		L.append("  ~ t*: `weight N`, N = 300 t_i / (t1 + t2 + t3), t from the equal run just before")
		L.append("  it): each NF within **%.0f%%** of the fair share." % (100 * max(abs(x) for x in devt)))
	return "\n".join(L)


EXPS = {"detour": (exp_detour, report_detour),
	"wasted": (exp_wasted, report_wasted),
	"weights": (exp_weights, report_weights)}


def main():
	args = sys.argv[1:]
	outfile = None
	if args[:1] == ["-o"]:
		outfile = args[1]
		args = args[2:]
	which = args or ["detour", "wasted", "weights"]
	res = {}
	started = time.time()
	for e in which:
		log("experiment", e)
		t = time.time()
		try:
			EXPS[e][0](res)
		except Exception as ex:		# report what ran
			log("experiment %s failed: %s" % (e, ex))
			res.setdefault("failed", []).append("%s: %s" % (e, ex))
		log("%s took %.0f s" % (e, time.time() - t))
	uname = os.uname()
	L = ["<!-- written by tools/bench/process_bench.sh (make bench-process); edit it instead -->",
	     "# Process NFs: benchmarks", "",
	     "Measured %s on Linux %s, %s, %d CPUs, with `make bench-process` (%.0f s)." %
	     (time.strftime("%Y-%m-%d"), uname.release, cpu_model(), os.cpu_count(),
	      time.time() - started),
	     "Every number here comes from the same run."]
	sections = (("detour", "The cost of the detour", report_detour),
		    ("wasted", "Wasted work and backpressure", report_wasted),
		    ("weights", "CPU weights: throughput and fairness", report_weights))
	for key, title, fn in sections:
		if key in res:
			L += ["", "## " + title, "", fn(res)]
	if "failed" in res:
		L += ["", "## Failed", ""] + ["- " + f for f in res["failed"]]
	text = "\n".join(L) + "\n"
	if outfile:
		try:
			with open(outfile) as f:
				old = f.read()
		except FileNotFoundError:
			old = ""
		marker = "<!-- results end -->"
		tail = old[old.index(marker):] if marker in old else ""
		with open(outfile, "w") as f:
			f.write(text + ("\n" + tail if tail else ""))
		plot(res, os.path.splitext(outfile)[0] + ".png")
	print(text)


def plot(res, path):
	"""one figure of the runs reported, if matplotlib is there"""
	try:
		import matplotlib
		matplotlib.use("Agg")
		import matplotlib.pyplot as plt
	except ImportError:
		log("no matplotlib: no plot")
		return
	panels = [k for k in ("wasted", "weights") if k in res]
	if not panels:
		return
	fig, axes = plt.subplots(1, 1 + ("weights" in res), figsize=(11, 4))
	axes = list(axes) if hasattr(axes, "__len__") else [axes]
	ax = iter(axes)
	if "wasted" in res:
		a = next(ax)
		modes = ("on", "off")
		ms = [res["wasted"][m] for m in modes]
		cons = [m["consumed"] / m["secs"] for m in ms]
		ring = [m["ring_drops"] / m["secs"] for m in ms]
		bp = [m["bp_drops"] / m["secs"] for m in ms]
		x = range(len(modes))
		a.bar(x, cons, label="consumed by the NF")
		a.bar(x, ring, bottom=cons, label="ring drops (after the XDP NFs ran)")
		a.bar(x, bp, bottom=[c + r for c, r in zip(cons, ring)],
		      label="backpressure drops (before any NF)")
		a.set_xticks(list(x), ["backpressure " + m for m in modes])
		a.set_ylabel("packets/s")
		a.set_title("Wasted work: a process NF overloaded")
		a.set_ylim(0, 1.4 * max(c + r + b for c, r, b in zip(cons, ring, bp)))
		a.legend(fontsize=8, loc="upper center")
	if "weights" in res:
		a = next(ax)
		w = res["weights"]
		labels, eq, au = [], [], []
		for c in WEIGHT_CASES:
			labels.append("%s, bp %s" % c)
			for wm, lst in (("100", eq), ("auto", au)):
				m = w[c + (wm,)]
				lst.append(sum(m["n." + o] for o in m["outs"]) / m["secs"])
		x = range(len(labels))
		a.bar([i - 0.2 for i in x], eq, 0.4, label="weight 100 (equal)")
		a.bar([i + 0.2 for i in x], au, 0.4, label="weight auto (rate x cost)")
		a.set_xticks(list(x), labels)
		a.set_ylabel("packets/s out of the chains")
		a.set_title("Three burn NFs (1:2:4) on CPU 0")
		a.legend(fontsize=8)
	fig.tight_layout()
	fig.savefig(path, dpi=80)
	log("plot:", path)


def cpu_model():
	with open("/proc/cpuinfo") as f:
		for line in f:
			if line.startswith("model name"):
				return line.split(":", 1)[1].strip()
	return "?"


if __name__ == "__main__":
	main()
