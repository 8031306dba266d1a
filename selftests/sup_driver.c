// SPDX-License-Identifier: GPL-2.0-only
/*
 * test_supervise.sh's stand-in for tandemd: the supervisor and the
 * cgroups of user/tandemd, driven by one command a line on stdin, with
 * one answer line on stdout ("ok ...", or "err ...") each:
 *
 *   want NAME CPUS CMD...  run CMD as NF NAME (CPUS a hex mask, 0 any)
 *   drop NAME              stop it; its cgroup goes when it is gone
 *   show NAME              "ok PID STARTS STATE" (pid 0 when not running)
 *   weight NAME W          cpu.weight W (cpu.shares on v1)
 *   dir NAME               its cgroup directory (cpu hierarchy)
 *   usage NAME             CPU time of its cgroup, ns
 *   mode                   "ok none", "ok v1" or "ok v2"
 *   quit                   stop all (as at tandemd's exit) and end
 *
 *   sup_driver GROUP       NF cgroups are MOUNT/GROUP/NAME
 *
 * Restarts and SIGKILLs happen between commands, from the poll loop, as
 * they would in tandemd. The log (tlog) goes to stderr.
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <time.h>
#include <unistd.h>

#include "tandemd.h"

static struct sup sup;
static struct sup_spec specs[SUP_MAX];
static int nspecs;

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int spec_index(const char *name)
{
	int i;

	for (i = 0; i < nspecs; i++)
		if (!strcmp(specs[i].name, name))
			return i;
	return -1;
}

static void answer_err(int err)
{
	printf("err %s\n", strerror(-err));
}

static void command(char *line)
{
	static const char *states[] = { "free", "running", "stopping", "waiting" };
	char *verb, *name, *arg, *save;
	const struct sup_proc *p;
	char dir[4096];
	__u64 ns;
	int i, ret;

	line[strcspn(line, "\n")] = '\0';
	verb = strtok_r(line, " ", &save);
	name = strtok_r(NULL, " ", &save);
	if (!verb) {
		printf("err empty\n");
		return;
	}
	if (!strcmp(verb, "mode")) {
		printf("ok %s\n", cg_mode() == CG_V2 ? "v2" :
		       cg_mode() == CG_V1 ? "v1" : "none");
		return;
	}
	if (!name || strlen(name) >= TDM_NAME_LEN) {
		printf("err no name\n");
		return;
	}
	if (!strcmp(verb, "want")) {
		arg = strtok_r(NULL, " ", &save);
		if (!arg || !save || !*save) {
			printf("err want NAME CPUS CMD\n");
			return;
		}
		i = spec_index(name);
		if (i < 0)
			i = nspecs++;
		snprintf(specs[i].name, sizeof(specs[i].name), "%s", name);
		specs[i].cpus = strtoull(arg, NULL, 16);
		snprintf(specs[i].cmd, sizeof(specs[i].cmd), "%s", save);
		ret = sup_sync(&sup, specs, nspecs);
		ret ? answer_err(ret) : (void)printf("ok\n");
	} else if (!strcmp(verb, "drop")) {
		i = spec_index(name);
		if (i >= 0)
			specs[i] = specs[--nspecs];
		ret = sup_sync(&sup, specs, nspecs);
		ret ? answer_err(ret) : (void)printf("ok\n");
	} else if (!strcmp(verb, "show")) {
		p = sup_find(&sup, name);
		if (!p)
			printf("ok 0 0 free\n");
		else
			printf("ok %d %u %s\n", p->pid, p->starts,
			       states[p->state]);
	} else if (!strcmp(verb, "weight")) {
		arg = strtok_r(NULL, " ", &save);
		ret = cg_set_weight(name, arg ? atoi(arg) : 0);
		ret ? answer_err(ret) : (void)printf("ok\n");
	} else if (!strcmp(verb, "dir")) {
		ret = cg_dir(name, dir, sizeof(dir));
		ret ? answer_err(ret) : (void)printf("ok %s\n", dir);
	} else if (!strcmp(verb, "usage")) {
		ret = cg_cpu_usage_ns(name, &ns);
		ret ? answer_err(ret) : (void)printf("ok %llu\n",
						     (unsigned long long)ns);
	} else {
		printf("err unknown command %s\n", verb);
	}
}

int main(int argc, char **argv)
{
	struct pollfd pfd[2];
	struct signalfd_siginfo si;
	char line[2048];
	double next;
	sigset_t set;
	int timeout;

	if (argc != 2) {
		fprintf(stderr, "usage: sup_driver GROUP\n");
		return 2;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	/* as tandemd: SIGCHLD (and SIGTERM) in a signalfd */
	sigemptyset(&set);
	sigaddset(&set, SIGCHLD);
	sigaddset(&set, SIGTERM);
	sigprocmask(SIG_BLOCK, &set, NULL);
	pfd[0].fd = 0;
	pfd[0].events = POLLIN;
	pfd[1].fd = signalfd(-1, &set, SFD_CLOEXEC);
	pfd[1].events = POLLIN;
	if (pfd[1].fd < 0) {
		perror("signalfd");
		return 1;
	}
	cg_detect(argv[1]);
	sup_init(&sup, true);

	for (;;) {
		next = sup_next_deadline(&sup);
		timeout = next < 0 ? -1 : next <= now_s() ? 0 :
			  (int)((next - now_s()) * 1000) + 1;
		if (poll(pfd, 2, timeout) < 0 && errno != EINTR)
			break;
		if (pfd[1].revents & POLLIN &&
		    read(pfd[1].fd, &si, sizeof(si)) == sizeof(si)) {
			if (si.ssi_signo == SIGTERM)
				break;
			sup_reap(&sup);
		}
		sup_tick(&sup, now_s());
		if (pfd[0].revents & (POLLIN | POLLHUP)) {
			/* one line at a time: stdin is a pipe of whole lines */
			ssize_t n = 0;
			char c;

			while (n < (ssize_t)sizeof(line) - 1 &&
			       read(0, &c, 1) == 1 && c != '\n')
				line[n++] = c;
			line[n] = '\0';
			if (!n && !(pfd[0].revents & POLLIN))
				break;
			if (!strcmp(line, "quit"))
				break;
			command(line);
		}
	}
	sup_stop_all(&sup);
	cg_cleanup();
	printf("ok bye\n");
	return 0;
}
