// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * The supervisor of process NFs: it keeps one process per wanted NF
 * running, and knows nothing of BPF; the caller hands it the list of
 * what is wanted (sup_sync), and calls sup_reap on SIGCHLD and sup_tick
 * at sup_next_deadline.
 *
 * A process starts with
 *   - its cgroup (cgroup.c), joined by the child before exec, so that
 *     nothing of the NF ever runs outside it;
 *   - its CPUs (sched_setaffinity), when the spec names some;
 *   - an environment of its own: PATH, TANDEM_NF=<name>, and
 *     TANDEM_PIN_ROOT if tandemd has it. Not tandemd's: NOTIFY_SOCKET
 *     or WATCHDOG_USEC would let an NF speak to systemd for tandemd;
 *   - stdin from /dev/null, stdout and stderr tandemd's (journald);
 *   - a session and process group of its own: a stop reaches what the
 *     NF started, and a terminal's signals do not reach the NF;
 *   - no other file descriptor, no blocked or ignored signal (tandemd
 *     blocks SIGTERM for its signalfd; exec would keep that).
 * An exec that fails is told to the parent through a close-on-exec pipe,
 * so the log says why ("cannot run 'x': No such file or directory").
 *
 * A process that ends is started again after a backoff: 0.1 s, doubled
 * at each restart up to 30 s, back to 0.1 s after a process that ran
 * 10 s. A stop is SIGTERM to the process group, and SIGKILL 2 s later if
 * it is still there; sup_tick sends it, nobody waits for it.
 *
 * When tandemd stops, sup_stop_all stops the NFs the same way and waits
 * for them: they are tandemd's children, systemd would kill them with
 * the unit anyway (in its cgroup or not, an NF left without its daemon
 * would not be restarted by anyone), and the datapath does not depend on
 * them: a process NF that is down is passed over or dropped at, as its
 * fail policy says. The next tandemd starts them again, and first kills
 * what a tandemd killed with -9 left running in the NFs' cgroups.
 */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "tandemd.h"

/* every word of the longest command: one letter and a blank each */
#define SUP_MAX_ARGS	(SUP_CMD_LEN / 2 + 1)
#define DEFAULT_PATH	"/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

extern char **environ;

/* what the child tells the parent through the pipe before exec */
enum { STEP_CGROUP = 1, STEP_AFFINITY, STEP_EXEC, STEP_SETUP };

struct child_err {
	int step;
	int err;
};

static double mono_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

void sup_init(struct sup *sup, bool cgroups)
{
	memset(sup, 0, sizeof(*sup));
	sup->now = mono_now;
	sup->cgroups = cgroups && cg_mode() != CG_NONE;
}

const char *sup_status_str(int status, char *buf, size_t len)
{
	if (status < 0)
		snprintf(buf, len, "none");
	else if (WIFEXITED(status))
		snprintf(buf, len, "exited %d", WEXITSTATUS(status));
	else if (WIFSIGNALED(status))
		snprintf(buf, len, "killed by SIG%s%s",
			 sigabbrev_np(WTERMSIG(status)) ?: "?",
			 WCOREDUMP(status) ? " (core dumped)" : "");
	else
		snprintf(buf, len, "status 0x%x", status);
	return buf;
}

const struct sup_proc *sup_find(const struct sup *sup, const char *name)
{
	int i;

	for (i = 0; i < SUP_MAX; i++)
		if (sup->procs[i].state != SUP_FREE &&
		    !strcmp(sup->procs[i].spec.name, name))
			return &sup->procs[i];
	return NULL;
}

static struct sup_proc *find(struct sup *sup, const char *name)
{
	return (struct sup_proc *)sup_find(sup, name);
}

/* Write all of a struct to the pipe; in the child: no stdio, no malloc */
static void child_fail(int fd, int step, int err)
{
	struct child_err ce = { .step = step, .err = err };

	if (write(fd, &ce, sizeof(ce)) < 0)
		_exit(127);
}

/* The forked child: set itself up, exec. Never returns. */
static void child_run(const struct sup *sup, const struct sup_spec *s,
		      char **argv, char **envp, int efd)
{
	sigset_t none;
	cpu_set_t set;
	int fd, i;

	if (sup->cgroups) {
		/* without it the NF runs, only not weighted: say so, go on */
		i = cg_enter(s->name, 0);
		if (i)
			child_fail(efd, STEP_CGROUP, -i);
	}
	if (s->cpus) {
		CPU_ZERO(&set);
		for (i = 0; i < 64; i++)
			if (s->cpus & (1ULL << i))
				CPU_SET(i, &set);
		if (sched_setaffinity(0, sizeof(set), &set)) {
			child_fail(efd, STEP_AFFINITY, errno);
			_exit(127);
		}
	}
	if (setsid() < 0) {
		child_fail(efd, STEP_SETUP, errno);
		_exit(127);
	}
	/*
	 * SIG_IGN and the mask survive exec; handlers do not. The raw
	 * system call: glibc refuses its own signals (32, 33), which a
	 * parent may still have ignored (make does).
	 */
	for (i = 1; i < 65; i++) {
		struct {
			void *handler;
			unsigned long flags;
			void *restorer;
			unsigned long mask;
		} dfl = { .handler = SIG_DFL };

		if (i != SIGKILL && i != SIGSTOP)
			syscall(SYS_rt_sigaction, i, &dfl, NULL, sizeof(dfl.mask));
	}
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	fd = open("/dev/null", O_RDONLY);
	if (fd < 0 || dup2(fd, 0) < 0) {
		child_fail(efd, STEP_SETUP, errno);
		_exit(127);
	}
	/* everything but 0-2 and the pipe, which exec closes */
	if (efd > 3)
		close_range(3, efd - 1, 0);
	close_range(efd + 1, ~0U, 0);
	execvpe(argv[0], argv, envp);
	child_fail(efd, STEP_EXEC, errno);
	_exit(127);
}

/* Split cmd on spaces into argv (pointers into buf); the count */
static int split(const char *cmd, char *buf, size_t len, char **argv)
{
	char *tok, *save;
	int n = 0;

	snprintf(buf, len, "%s", cmd);
	for (tok = strtok_r(buf, " ", &save); tok && n < SUP_MAX_ARGS;
	     tok = strtok_r(NULL, " ", &save))
		argv[n++] = tok;
	argv[n] = NULL;
	return n;
}

/* Schedule the next start of p after it ended at now */
static void plan_restart(struct sup_proc *p, double now)
{
	/* a process that ran long enough was fine: restart quickly */
	if (p->since && now - p->since >= SUP_RAN_OK)
		p->backoff = SUP_BACKOFF_MIN;
	if (p->backoff < SUP_BACKOFF_MIN)
		p->backoff = SUP_BACKOFF_MIN;
	p->state = SUP_WAITING;
	p->pid = 0;
	p->restart_at = now + p->backoff;
	p->backoff *= 2;
	if (p->backoff > SUP_BACKOFF_MAX)
		p->backoff = SUP_BACKOFF_MAX;
}

/*
 * Processes in the NF's cgroup before we start one are an earlier
 * tandemd's, killed with it (kill -9 spares children): nobody supervises
 * them, and they hold what the new one needs (an AF_XDP socket binds a
 * queue once). SIGKILL, then a short wait for the group to empty.
 */
static void kill_strays(const struct sup_proc *p, const char *why)
{
	struct timespec ts = { .tv_nsec = 10 * 1000 * 1000 };
	pid_t pids[64];
	int i, n, tries;

	for (tries = 0; tries < 100; tries++) {
		n = cg_procs(p->spec.name, pids, ARRAY_SIZE(pids));
		if (n <= 0)
			return;
		for (i = 0; i < n; i++) {
			if (!tries)
				tlog(LOG_WARNING, "nf %s: killing pid %d, %s",
				     p->spec.name, pids[i], why);
			kill(pids[i], SIGKILL);
		}
		nanosleep(&ts, NULL);
	}
	tlog(LOG_WARNING, "nf %s: processes of an earlier tandemd are still in its cgroup",
	     p->spec.name);
}

/*
 * Start p's process. A process that could not be started counts as one
 * that ended at once: it is retried after the backoff.
 */
static void start(struct sup *sup, struct sup_proc *p)
{
	static const char *steps[] = {
		[STEP_CGROUP] = "cannot join its cgroup",
		[STEP_AFFINITY] = "cannot run on its CPUs",
		[STEP_EXEC] = "cannot run",
		[STEP_SETUP] = "cannot set up the process of",
	};
	char buf[SUP_CMD_LEN], *argv[SUP_MAX_ARGS + 1], *envp[4];
	char env_nf[TDM_NAME_LEN + 16], env_root[4096], env_path[4096];
	const char *v;
	struct child_err ce;
	double now = sup->now();
	int pfd[2], n = 0, ret, st = -1;
	bool failed = false;
	pid_t pid;

	p->starts++;
	p->since = 0;
	if (!split(p->spec.cmd, buf, sizeof(buf), argv)) {
		tlog(LOG_ERR, "nf %s: no command to run", p->spec.name);
		plan_restart(p, now);
		return;
	}
	snprintf(env_path, sizeof(env_path), "PATH=%s",
		 (v = getenv("PATH")) ? v : DEFAULT_PATH);
	envp[n++] = env_path;
	snprintf(env_nf, sizeof(env_nf), "TANDEM_NF=%s", p->spec.name);
	envp[n++] = env_nf;
	v = getenv("TANDEM_PIN_ROOT");
	if (v) {
		snprintf(env_root, sizeof(env_root), "TANDEM_PIN_ROOT=%s", v);
		envp[n++] = env_root;
	}
	envp[n] = NULL;

	if (sup->cgroups) {
		ret = cg_make(p->spec.name);
		if (ret)
			tlog(LOG_WARNING, "nf %s: cannot make its cgroup: %s; it runs without a CPU weight",
			     p->spec.name, strerror(-ret));
		else
			kill_strays(p, "left in its cgroup by an earlier tandemd");
	}
	if (pipe2(pfd, O_CLOEXEC)) {
		tlog(LOG_ERR, "nf %s: pipe: %s", p->spec.name, strerror(errno));
		plan_restart(p, now);
		return;
	}
	pid = fork();
	if (pid < 0) {
		tlog(LOG_ERR, "nf %s: fork: %s", p->spec.name, strerror(errno));
		close(pfd[0]);
		close(pfd[1]);
		plan_restart(p, now);
		return;
	}
	if (!pid) {
		close(pfd[0]);
		child_run(sup, &p->spec, argv, envp, pfd[1]);
	}
	close(pfd[1]);
	/* EOF: exec worked. The child does little before: not a long wait */
	while ((ret = read(pfd[0], &ce, sizeof(ce))) != 0) {
		if (ret < 0 && errno == EINTR)
			continue;
		if (ret != sizeof(ce))
			break;
		tlog(ce.step == STEP_CGROUP ? LOG_WARNING : LOG_ERR,
		     "nf %s: %s '%s': %s", p->spec.name, steps[ce.step],
		     p->spec.cmd, strerror(ce.err));
		if (ce.step != STEP_CGROUP)
			failed = true;
	}
	close(pfd[0]);
	if (failed) {
		/* it exits 127 now; collect it here, not as a crash */
		while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
			;
		p->last_status = st;
		plan_restart(p, now);
		return;
	}
	p->pid = pid;
	p->state = SUP_RUNNING;
	p->since = now;
	tlog(LOG_INFO, "nf %s: started '%s', pid %d", p->spec.name,
	     p->spec.cmd, pid);
}

/* Signal p's process group; the process alone if it has none yet */
static void signal_proc(struct sup_proc *p, int sig)
{
	/* kill(0) or kill(-0) would be our own process group */
	if (p->pid <= 0)
		return;
	if (kill(-p->pid, sig) && errno == ESRCH)
		kill(p->pid, sig);
}

static void stop(struct sup *sup, struct sup_proc *p)
{
	if (p->state != SUP_RUNNING)
		return;
	signal_proc(p, SIGTERM);
	p->state = SUP_STOPPING;
	p->kill_at = sup->now() + SUP_STOP_WAIT;
}

/* p is not wanted and its process is gone: free the slot and the cgroup */
static void release(struct sup *sup, struct sup_proc *p)
{
	int ret;

	if (sup->cgroups) {
		/* what its process left behind (a setsid'd child) goes too */
		kill_strays(p, "left in its cgroup by its stopped process");
		ret = cg_remove(p->spec.name);
		if (ret)
			tlog(LOG_WARNING, "nf %s: cannot remove its cgroup: %s",
			     p->spec.name, strerror(-ret));
	}
	memset(p, 0, sizeof(*p));
}

static bool same_spec(const struct sup_spec *a, const struct sup_spec *b)
{
	return !strcmp(a->cmd, b->cmd) && a->cpus == b->cpus;
}

int sup_sync(struct sup *sup, const struct sup_spec *specs, int n)
{
	struct sup_proc *p;
	int i, j;

	if (n < 0 || n > SUP_MAX)
		return -EINVAL;
	for (i = 0; i < n; i++) {
		if (!specs[i].name[0] ||
		    !memchr(specs[i].name, 0, sizeof(specs[i].name)) ||
		    !memchr(specs[i].cmd, 0, sizeof(specs[i].cmd)))
			return -EINVAL;
		for (j = 0; j < i; j++)
			if (!strcmp(specs[i].name, specs[j].name))
				return -EINVAL;
	}

	/* first the ones that go or change: their slots and CPUs free up */
	for (i = 0; i < SUP_MAX; i++) {
		p = &sup->procs[i];
		if (p->state == SUP_FREE)
			continue;
		for (j = 0; j < n; j++)
			if (!strcmp(p->spec.name, specs[j].name))
				break;
		if (j == n) {
			/* gone */
			p->restart = false;
			if (p->state == SUP_WAITING) {
				tlog(LOG_INFO, "nf %s: not restarted, it is gone",
				     p->spec.name);
				release(sup, p);
			} else if (p->state == SUP_RUNNING) {
				tlog(LOG_INFO, "nf %s: stopping pid %d, it is gone",
				     p->spec.name, p->pid);
				stop(sup, p);
			}
			continue;
		}
		if (p->state == SUP_STOPPING) {
			/* stopped for whatever reason: start what is wanted now */
			p->next = specs[j];
			p->restart = true;
			continue;
		}
		if (same_spec(&p->spec, &specs[j]))
			continue;
		if (p->state == SUP_WAITING) {
			/* a new command is tried now, not after a backoff */
			p->spec = specs[j];
			p->backoff = 0;
			p->restart_at = sup->now();
			continue;
		}
		tlog(LOG_INFO, "nf %s: restarting pid %d with a new %s",
		     p->spec.name, p->pid,
		     strcmp(p->spec.cmd, specs[j].cmd) ? "command" : "CPU list");
		p->next = specs[j];
		p->restart = true;
		stop(sup, p);
	}

	/* then the new ones */
	for (j = 0; j < n; j++) {
		if (find(sup, specs[j].name))
			continue;
		for (i = 0; i < SUP_MAX; i++)
			if (sup->procs[i].state == SUP_FREE)
				break;
		if (i == SUP_MAX) {
			tlog(LOG_ERR, "nf %s: more than %d process NFs",
			     specs[j].name, SUP_MAX);
			continue;
		}
		p = &sup->procs[i];
		memset(p, 0, sizeof(*p));
		p->spec = specs[j];
		p->last_status = -1;
		p->backoff = SUP_BACKOFF_MIN;
		start(sup, p);
	}
	return 0;
}

void sup_reap(struct sup *sup)
{
	struct sup_proc *p;
	char how[64];
	double now;
	pid_t r;
	int i, st;

	for (i = 0; i < SUP_MAX; i++) {
		p = &sup->procs[i];
		if (!p->pid)
			continue;
		/* our children only: waitpid(-1) would take others' */
		r = waitpid(p->pid, &st, WNOHANG);
		if (r == 0 || (r < 0 && errno != ECHILD))
			continue;
		if (r < 0) {
			/* someone else reaped it: gone, status unknown */
			st = -1;
			r = p->pid;
		}
		now = sup->now();
		p->last_status = st;
		sup_status_str(st, how, sizeof(how));
		/* and whatever it started and left behind */
		if (p->pid > 0)
			kill(-p->pid, SIGKILL);
		if (p->state == SUP_STOPPING) {
			tlog(LOG_INFO, "nf %s: pid %d stopped (%s)", p->spec.name,
			     p->pid, how);
			p->pid = 0;
			if (!p->restart) {
				release(sup, p);
				continue;
			}
			p->spec = p->next;
			p->restart = false;
			p->backoff = SUP_BACKOFF_MIN;
			start(sup, p);
			continue;
		}
		plan_restart(p, now);
		tlog(LOG_WARNING, "nf %s: pid %d %s after %.1f s; restart in %.1f s",
		     p->spec.name, r, how, now - p->since, p->restart_at - now);
	}
}

void sup_tick(struct sup *sup, double now)
{
	struct sup_proc *p;
	int i;

	for (i = 0; i < SUP_MAX; i++) {
		p = &sup->procs[i];
		if (p->state == SUP_WAITING && now >= p->restart_at) {
			start(sup, p);
		} else if (p->state == SUP_STOPPING && p->kill_at &&
			   now >= p->kill_at) {
			tlog(LOG_WARNING, "nf %s: pid %d still there %.0f s after SIGTERM: SIGKILL",
			     p->spec.name, p->pid, SUP_STOP_WAIT);
			signal_proc(p, SIGKILL);
			p->kill_at = 0;
		}
	}
}

double sup_next_deadline(const struct sup *sup)
{
	const struct sup_proc *p;
	double t, next = -1;
	int i;

	for (i = 0; i < SUP_MAX; i++) {
		p = &sup->procs[i];
		if (p->state == SUP_WAITING)
			t = p->restart_at;
		else if (p->state == SUP_STOPPING && p->kill_at)
			t = p->kill_at;
		else
			continue;
		if (next < 0 || t < next)
			next = t;
	}
	return next;
}

void sup_stop_all(struct sup *sup)
{
	struct timespec ts = { .tv_nsec = 10 * 1000 * 1000 };
	struct sup_proc *p;
	double end;
	int i, left;

	for (i = 0; i < SUP_MAX; i++) {
		p = &sup->procs[i];
		p->restart = false;
		if (p->state == SUP_WAITING)
			release(sup, p);
		else if (p->state == SUP_RUNNING)
			stop(sup, p);
	}
	/* real time here, whatever clock the tests gave us */
	end = mono_now() + SUP_STOP_WAIT;
	for (;;) {
		sup_reap(sup);
		left = 0;
		for (i = 0; i < SUP_MAX; i++)
			left += sup->procs[i].state == SUP_STOPPING;
		if (!left)
			return;
		if (mono_now() >= end)
			break;
		nanosleep(&ts, NULL);
	}
	for (i = 0; i < SUP_MAX; i++) {
		p = &sup->procs[i];
		if (p->state != SUP_STOPPING)
			continue;
		tlog(LOG_WARNING, "nf %s: pid %d still there %.0f s after SIGTERM: SIGKILL",
		     p->spec.name, p->pid, SUP_STOP_WAIT);
		signal_proc(p, SIGKILL);
		p->kill_at = 0;
		while (waitpid(p->pid, NULL, 0) < 0 && errno == EINTR)
			;
		tlog(LOG_INFO, "nf %s: pid %d stopped (killed by SIGKILL)",
		     p->spec.name, p->pid);
		release(sup, p);
	}
}
