// SPDX-License-Identifier: GPL-2.0-only
/*
 * Unit tests of tandemd's process NF supervisor (user/tandemd/
 * supervise.c) and CPU weights (weights.c), without BPF and without
 * cgroups (test_supervise.sh has those): real processes, a fake clock,
 * so that backoffs and SIGKILL deadlines are checked to the step.
 *
 * Run as "test_sup --ignore-term" it is the NF that will not stop.
 */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "tandemd.h"
#include <tandem/nfvnice.h>
#include "lib/ktap.h"

static double fake_t = 1000;
static char log_path[] = "/tmp/test_sup.XXXXXX";

static double fake_now(void)
{
	return fake_t;
}

static void msleep(int ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

static struct sup_spec spec(const char *name, const char *cmd, __u64 cpus)
{
	struct sup_spec s = { .cpus = cpus };

	snprintf(s.name, sizeof(s.name), "%s", name);
	snprintf(s.cmd, sizeof(s.cmd), "%s", cmd);
	return s;
}

/* sup_reap until p is in state st, up to 3 s of real time */
static bool reap_until(struct sup *sup, const char *name, enum sup_state st)
{
	const struct sup_proc *p;
	int i;

	for (i = 0; i < 300; i++) {
		sup_reap(sup);
		p = sup_find(sup, name);
		if ((!p && st == SUP_FREE) || (p && p->state == st))
			return true;
		msleep(10);
	}
	return false;
}

/* SIGKILL an NF's process; never pid 0 or -1, which would be us */
static bool kill_nf(pid_t pid)
{
	return pid > 0 && !kill(pid, SIGKILL);
}

static bool alive(pid_t pid)
{
	return pid > 0 && kill(pid, 0) == 0;
}

/* Does the log written since the start hold s? */
static bool logged(const char *s)
{
	char buf[65536];
	ssize_t n;
	int fd;

	fflush(stderr);
	fd = open(log_path, O_RDONLY);
	if (fd < 0)
		return false;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	buf[n > 0 ? n : 0] = '\0';
	return strstr(buf, s);
}

/* A line of /proc/PID/status, the value after "Key:\t" */
static bool proc_status(pid_t pid, const char *key, char *val, size_t len)
{
	char path[64], line[512];
	size_t kl = strlen(key);
	bool found = false;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", pid);
	f = fopen(path, "r");
	if (!f)
		return false;
	while (fgets(line, sizeof(line), f)) {
		if (!strncmp(line, key, kl) && line[kl] == ':') {
			snprintf(val, len, "%s", line + kl + 2);
			val[strcspn(val, "\n")] = '\0';
			found = true;
			break;
		}
	}
	fclose(f);
	return found;
}

static bool environ_has(pid_t pid, const char *var)
{
	char path[64], buf[8192];
	ssize_t n, i;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/environ", pid);
	fd = open(path, O_RDONLY);
	if (fd < 0)
		return false;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	for (i = 0; i < n; i += strlen(buf + i) + 1)
		if (!strcmp(buf + i, var))
			return true;
	return false;
}

static void test_weights(void)
{
	struct wt_nf two[2] = { { .rate = 1000, .cost = 500 },
				{ .rate = 1000, .cost = 500 } };
	struct wt_nf skew[2] = { { .rate = 2000, .cost = 100 },
				 { .rate = 1000, .cost = 100 } };
	struct wt_nf cost[2] = { { .rate = 1000, .cost = 300 },
				 { .rate = 1000, .cost = 100 } };
	struct wt_nf pin[3] = { { .rate = 1e6, .cost = 1e4, .pinned = 7 },
				{ .rate = 1000, .cost = 100 },
				{ .rate = 3000, .cost = 100 } };
	struct wt_nf idle[3] = { { .rate = 0, .cost = 100 },
				 { .rate = 1000, .cost = 100 },
				 { .rate = 1000, .cost = 100 } };
	struct wt_nf none[2] = { { .cost = 100 }, {} };
	struct wt_nf unknown[2] = { { .rate = 1000, .cost = 0 },
				    { .rate = 1000, .cost = 200 } };
	struct wt_nf tiny[2] = { { .rate = 1, .cost = 1 },
				 { .rate = 1e9, .cost = 1e4 } };

	weights_compute(two, 2);
	CHECK(two[0].weight == 100 && two[1].weight == 100, "%u %u",
	      two[0].weight, two[1].weight);
	weights_compute(skew, 2);
	CHECK(skew[0].weight == 133 && skew[1].weight == 67, "%u %u",
	      skew[0].weight, skew[1].weight);
	/* cost weighs as much as the rate: 3:1 */
	weights_compute(cost, 2);
	CHECK(cost[0].weight == 150 && cost[1].weight == 50, "%u %u",
	      cost[0].weight, cost[1].weight);
	/* the pinned one keeps 7 and is out of N and of the sum */
	weights_compute(pin, 3);
	CHECK(pin[0].weight == 7, "%u", pin[0].weight);
	CHECK(pin[1].weight == 50 && pin[2].weight == 150, "%u %u",
	      pin[1].weight, pin[2].weight);
	/* an idle NF: 1% of 300; the loaded share the 297 left */
	weights_compute(idle, 3);
	CHECK(idle[0].weight == 3, "%u", idle[0].weight);
	CHECK(idle[1].weight == 149 && idle[2].weight == 149, "%u %u",
	      idle[1].weight, idle[2].weight);
	/* no load anywhere: the default for all */
	weights_compute(none, 2);
	CHECK(none[0].weight == 100 && none[1].weight == 100, "%u %u",
	      none[0].weight, none[1].weight);
	/* a cost not measured yet is the mean of the known ones */
	weights_compute(unknown, 2);
	CHECK(unknown[0].weight == 100 && unknown[1].weight == 100, "%u %u",
	      unknown[0].weight, unknown[1].weight);
	/* clamped to cpu.weight's range */
	weights_compute(tiny, 2);
	CHECK(tiny[0].weight == 1 && tiny[1].weight == 200, "%u %u",
	      tiny[0].weight, tiny[1].weight);
	ktap_case_end("weights: NFVNice's rule, pinned, idle, unknown cost, clamps");
}

/*
 * Backpressure's hysteresis (include/tandem/nfvnice.h), which the
 * datapath and tandem_sched.ko both run: against a model written from
 * NFVNice's description, over random backlog walks.
 */
static void test_backpressure(void)
{
	unsigned int seed = 1, i, k;
	int c = 0, m = 0;
	__u64 b = 0;
	__u32 high, low;

	CHECK(tdm_bp_next(0, 51, 51, 38) == 1, "marked at the high watermark");
	CHECK(tdm_bp_next(0, 50, 51, 38) == 0, "not below it");
	CHECK(tdm_bp_next(1, 39, 51, 38) == 1, "held between the marks");
	CHECK(tdm_bp_next(1, 38, 51, 38) == 0, "cleared at the low watermark");
	for (k = 0; k < 100; k++) {
		high = 2 + rand_r(&seed) % 200;
		low = rand_r(&seed) % high;
		for (i = 0; i < 1000; i++) {
			/* a walk that crosses both marks now and then */
			b = rand_r(&seed) % 3 ? (b + rand_r(&seed) % 5) % (high + 20) :
			    b / 2;
			c = tdm_bp_next(c, b, high, low);
			if (!m && b >= high)
				m = 1;
			else if (m && b <= low)
				m = 0;
			if (c != m)
				break;
		}
		CHECK(c == m, "walk %u step %u: backlog %llu high %u low %u: %d, model %d",
		      k, i, (unsigned long long)b, high, low, c, m);
	}
	ktap_case_end("backpressure: marked at high, held, cleared at low");
}

/* A process starts with its name, environment, session and signals */
static void test_start(struct sup *sup)
{
	struct sup_spec s[2] = { spec("a", "sleep 1000", 0),
				 spec("a", "sleep 1", 0) };
	const struct sup_proc *p;
	char val[128];

	CHECK(sup_sync(sup, s, 2) == -EINVAL, "a name twice");
	CHECK(!sup_find(sup, "a"), "nothing started for a bad list");
	CHECK(sup_sync(sup, s, 1) == 0, "");
	p = sup_find(sup, "a");
	CHECK(p && p->state == SUP_RUNNING && alive(p->pid), "running");
	if (!p || !p->pid) {
		ktap_case_end("start: environment, session, signals");
		return;
	}
	CHECK(p->starts == 1 && p->since == fake_t, "%u %f", p->starts,
	      p->since);
	CHECK(environ_has(p->pid, "TANDEM_NF=a"), "TANDEM_NF");
	CHECK(environ_has(p->pid, "TANDEM_PIN_ROOT=/sys/fs/bpf/x"),
	      "TANDEM_PIN_ROOT kept");
	CHECK(!environ_has(p->pid, "NOTIFY_SOCKET=/run/x"),
	      "tandemd's environment is not the NF's");
	CHECK(getsid(p->pid) == p->pid, "a session of its own: %d",
	      getsid(p->pid));
	/* this test blocks SIGTERM and ignores SIGPIPE as tandemd does */
	CHECK(proc_status(p->pid, "SigBlk", val, sizeof(val)) &&
	      !strcmp(val, "0000000000000000"), "SigBlk %s", val);
	CHECK(proc_status(p->pid, "SigIgn", val, sizeof(val)) &&
	      !strcmp(val, "0000000000000000"), "SigIgn %s", val);
	ktap_case_end("start: environment, session, signals");
}

/* kill -9: restarts after 0.1, 0.2, 0.4 s; 10 s of running resets it */
static void test_backoff(struct sup *sup)
{
	static const double want[] = { 0.1, 0.2, 0.4, 0.8 };
	const struct sup_proc *p = sup_find(sup, "a");
	char how[64];
	pid_t old;
	int i;

	for (i = 0; p && i < (int)ARRAY_SIZE(want); i++) {
		old = p->pid;
		if (!kill_nf(old)) {
			CHECK(0, "no process to kill before restart %d", i);
			break;
		}
		CHECK(reap_until(sup, "a", SUP_WAITING), "restart %d", i);
		CHECK(!strcmp(sup_status_str(p->last_status, how, sizeof(how)),
			      "killed by SIGKILL"), "%s", how);
		CHECK(fabs(p->restart_at - fake_t - want[i]) < 1e-9,
		      "restart %d in %f s, not %f", i, p->restart_at - fake_t,
		      want[i]);
		CHECK(fabs(sup_next_deadline(sup) - p->restart_at) < 1e-9, "");
		sup_tick(sup, p->restart_at - 0.01);
		CHECK(p->state == SUP_WAITING, "restarted early");
		fake_t = p->restart_at;
		sup_tick(sup, fake_t);
		CHECK(p->state == SUP_RUNNING && p->pid != old &&
		      alive(p->pid), "restarted");
		CHECK(p->starts == (unsigned int)i + 2, "starts %u", p->starts);
	}
	CHECK(p && logged("nf a: pid ") && logged("killed by SIGKILL after"),
	      "the end logged");
	/* it ran 10 s: the next restart is quick again */
	fake_t += SUP_RAN_OK;
	CHECK(p && kill_nf(p->pid), "no process");
	CHECK(reap_until(sup, "a", SUP_WAITING), "");
	CHECK(p && fabs(p->restart_at - fake_t - SUP_BACKOFF_MIN) < 1e-9,
	      "after 10 s: %f", p ? p->restart_at - fake_t : -1);
	fake_t = p ? p->restart_at : fake_t;
	sup_tick(sup, fake_t);
	CHECK(p && p->state == SUP_RUNNING, "");
	ktap_case_end("restart: backoff 0.1 s doubling, reset after 10 s");
}

/* A command that cannot run is said and retried, up to 30 s apart */
static void test_exec_fails(struct sup *sup)
{
	struct sup_spec s[2] = { spec("a", "sleep 1000", 0),
				 spec("bad", "/nonexistent/nf --x", 0) };
	const struct sup_proc *p;
	double delay = 0;
	char how[64];
	int i;

	CHECK(sup_sync(sup, s, 2) == 0, "");
	p = sup_find(sup, "bad");
	CHECK(p && p->state == SUP_WAITING && !p->pid, "waiting");
	CHECK(logged("<3>tandemd: nf bad: cannot run '/nonexistent/nf --x': No such file or directory"),
	      "the reason logged");
	CHECK(p && !strcmp(sup_status_str(p->last_status, how, sizeof(how)),
			   "exited 127"), "%s", how);
	for (i = 0; p && i < 12; i++) {
		delay = p->restart_at - fake_t;
		fake_t = p->restart_at;
		sup_tick(sup, fake_t);
	}
	CHECK(delay == SUP_BACKOFF_MAX, "the last delay %f", delay);
	CHECK(p && p->starts == 13, "%u", p ? p->starts : 0);
	/* a new command is tried at once */
	s[1] = spec("bad", "sleep 1000", 0);
	CHECK(sup_sync(sup, s, 2) == 0, "");
	sup_tick(sup, fake_t);
	CHECK(p && p->state == SUP_RUNNING, "a new command runs now");
	ktap_case_end("exec failure: logged, retried up to 30 s apart");
}

/* A new command or CPU list: SIGTERM, then the new process */
static void test_change(struct sup *sup)
{
	struct sup_spec s[2] = { spec("a", "sleep 999", 0),
				 spec("bad", "sleep 1000", 1) };
	const struct sup_proc *a = sup_find(sup, "a"), *b = sup_find(sup, "bad");
	pid_t pa = a ? a->pid : 0, pb = b ? b->pid : 0;
	unsigned int sa = a ? a->starts : 0;
	char val[64];

	CHECK(sup_sync(sup, s, 2) == 0, "");
	CHECK(a && a->state == SUP_STOPPING, "stopping");
	CHECK(reap_until(sup, "a", SUP_RUNNING), "");
	CHECK(reap_until(sup, "bad", SUP_RUNNING), "");
	CHECK(a && a->pid != pa && !alive(pa) && a->starts == sa + 1, "a new a");
	CHECK(a && !strcmp(a->spec.cmd, "sleep 999"), "");
	CHECK(b && b->pid != pb && !alive(pb), "a new bad");
	CHECK(b && proc_status(b->pid, "Cpus_allowed_list", val, sizeof(val)) &&
	      !strcmp(val, "0"), "CPUs %s", val);
	/* the same list again: nothing happens */
	pa = a ? a->pid : 0;
	CHECK(sup_sync(sup, s, 2) == 0 && a && a->pid == pa &&
	      a->state == SUP_RUNNING, "");
	ktap_case_end("change: a new command or CPU list restarts");
}

/* Gone: SIGTERM, SIGKILL 2 s later from sup_tick, never waited for */
static void test_stop(struct sup *sup, const char *self)
{
	char cmd[512];
	struct sup_spec s[2];
	const struct sup_proc *p;
	pid_t pid;
	int i;

	snprintf(cmd, sizeof(cmd), "%s --ignore-term", self);
	s[0] = spec("a", "sleep 999", 0);
	s[1] = spec("stubborn", cmd, 0);
	CHECK(sup_sync(sup, s, 2) == 0, "");
	p = sup_find(sup, "stubborn");
	pid = p ? p->pid : 0;
	/* let it set SIGTERM to ignored */
	for (i = 0; i < 300 && pid; i++) {
		char val[64];

		if (proc_status(pid, "SigIgn", val, sizeof(val)) &&
		    strcmp(val, "0000000000000000"))
			break;
		msleep(10);
	}
	CHECK(sup_sync(sup, s, 1) == 0, "");
	CHECK(p && p->state == SUP_STOPPING, "");
	CHECK(fabs(sup_next_deadline(sup) - fake_t - SUP_STOP_WAIT) < 1e-9,
	      "deadline %f", sup_next_deadline(sup) - fake_t);
	msleep(200);
	sup_reap(sup);
	sup_tick(sup, fake_t + SUP_STOP_WAIT - 0.01);
	CHECK(p && p->state == SUP_STOPPING && alive(pid), "killed early");
	sup_tick(sup, fake_t + SUP_STOP_WAIT);
	CHECK(reap_until(sup, "stubborn", SUP_FREE), "gone");
	CHECK(!alive(pid), "");
	CHECK(logged("nf stubborn: pid") && logged("SIGTERM: SIGKILL"), "");
	CHECK(sup_find(sup, "a") && sup_find(sup, "a")->state == SUP_RUNNING,
	      "the other one runs on");
	ktap_case_end("stop: SIGTERM, then SIGKILL from sup_tick after 2 s");
}

/* At exit: all stopped, the stubborn one killed after 2 s */
static void test_stop_all(struct sup *sup, const char *self)
{
	char cmd[512];
	struct sup_spec s[2];
	struct timespec a, b;
	pid_t pa, ps;
	double t;
	int i;

	snprintf(cmd, sizeof(cmd), "%s --ignore-term", self);
	s[0] = spec("a", "sleep 999", 0);
	s[1] = spec("stubborn", cmd, 0);
	CHECK(sup_sync(sup, s, 2) == 0, "");
	pa = sup_find(sup, "a") ? sup_find(sup, "a")->pid : 0;
	ps = sup_find(sup, "stubborn") ? sup_find(sup, "stubborn")->pid : 0;
	for (i = 0; i < 300 && ps; i++) {
		char val[64];

		if (proc_status(ps, "SigIgn", val, sizeof(val)) &&
		    strcmp(val, "0000000000000000"))
			break;
		msleep(10);
	}
	/* the fake clock stands still: the 2 s are real ones */
	clock_gettime(CLOCK_MONOTONIC, &a);
	sup_stop_all(sup);
	clock_gettime(CLOCK_MONOTONIC, &b);
	t = b.tv_sec - a.tv_sec + (b.tv_nsec - a.tv_nsec) / 1e9;
	CHECK(!sup_find(sup, "a") && !sup_find(sup, "stubborn"), "all gone");
	CHECK(pa && !alive(pa) && ps && !alive(ps), "");
	CHECK(t >= SUP_STOP_WAIT - 0.1 && t < SUP_STOP_WAIT + 1.5,
	      "took %f s", t);
	CHECK(sup_next_deadline(sup) < 0, "");
	ktap_case_end("stop_all: SIGTERM, SIGKILL after 2 s, all reaped");
}

int main(int argc, char **argv)
{
	static struct sup sup;
	sigset_t set;
	int fd;

	if (argc == 2 && !strcmp(argv[1], "--ignore-term")) {
		signal(SIGTERM, SIG_IGN);
		for (;;)
			pause();
	}
	ktap_plan(8);
	/* the log goes to a file the cases read */
	fd = mkstemp(log_path);
	if (fd < 0 || dup2(fd, 2) < 0) {
		printf("# mkstemp: %s\n", strerror(errno));
		return KSFT_FAIL;
	}
	close(fd);
	/* what tandemd does: SIGTERM blocked, SIGPIPE ignored */
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGHUP);
	sigprocmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);
	setenv("TANDEM_PIN_ROOT", "/sys/fs/bpf/x", 1);
	setenv("NOTIFY_SOCKET", "/run/x", 1);

	test_weights();
	test_backpressure();
	sup_init(&sup, false);
	sup.now = fake_now;
	test_start(&sup);
	test_backoff(&sup);
	test_exec_fails(&sup);
	test_change(&sup);
	test_stop(&sup, argv[0]);
	test_stop_all(&sup, argv[0]);
	unlink(log_path);
	return ktap_finish();
}
