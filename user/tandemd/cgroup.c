// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * One cgroup per process NF, for its CPU weight and its CPU time.
 *
 * The cpu controller is looked for in /proc/self/mountinfo: a cgroup2
 * mount whose cgroup.controllers offers "cpu" (cpu.weight, 1..10000),
 * else a cgroup v1 mount with the cpu option (cpu.shares, 2..262144).
 * CPU time comes from cpu.stat's usage_usec on v2, and on v1 from
 * cpuacct.usage in the cpuacct hierarchy, which may be a mount of its
 * own (then a process joins its group there too).
 *
 * A group is MOUNT/GROUP/NAME: GROUP is "tandem" (tests pass another),
 * absolute in the hierarchy rather than below tandemd's own cgroup: on
 * cgroup2 a cgroup with processes of its own cannot hand the cpu
 * controller down, and the daemon lives in its cgroup. So systemd's
 * stop of tandemd does not reach the NFs: sup_stop_all() does.
 *
 * Without a cpu controller everything but the weights still works: the
 * processes run where tandemd runs, and that is said once.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tandemd.h"

static struct {
	bool detected;
	enum cg_mode mode;
	char cpu[PATH_MAX];		/* where the cpu controller is mounted */
	char acct[PATH_MAX];		/* v1: of cpuacct; "" none or = cpu */
	char group[64];
	unsigned long netns;		/* our network namespace's inode */
	bool said_no_weight;
} cg;

/*
 * An NF's group is named "NETNS-NAME" (the inode of tandemd's network
 * namespace, where the NF's devices are): two tandems of two namespaces
 * on one host never share a group (each would kill the other's process
 * as one left behind), and no NF name can be a control file (cpu.shares)
 * or leave the directory (".."). Single-threaded callers only.
 */
static const char *leaf(const char *name)
{
	static char buf[TDM_NAME_LEN + 24];

	snprintf(buf, sizeof(buf), "%lu-%s", cg.netns, name);
	return buf;
}

/* Undo mountinfo's octal escapes (\040 for a space) in place. */
static void unescape(char *s)
{
	char *d = s;

	for (; *s; s++) {
		if (s[0] == '\\' && s[1] >= '0' && s[1] <= '3' &&
		    s[2] >= '0' && s[2] <= '7' && s[3] >= '0' && s[3] <= '7') {
			*d++ = (s[1] - '0') * 64 + (s[2] - '0') * 8 +
			       (s[3] - '0');
			s += 3;
		} else {
			*d++ = *s;
		}
	}
	*d = '\0';
}

/* Is word one of the comma separated words of list? */
static bool has_word(const char *list, const char *word)
{
	size_t n = strlen(word);
	const char *p = list;

	while (p && *p) {
		if (!strncmp(p, word, n) && (p[n] == ',' || p[n] == '\0'))
			return true;
		p = strchr(p, ',');
		if (p)
			p++;
	}
	return false;
}

/* Does the cgroup2 mount at dir offer the cpu controller? */
static bool v2_has_cpu(const char *dir)
{
	char path[PATH_MAX + 32], buf[512], *tok, *save;
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "%s/cgroup.controllers", dir);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return false;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return false;
	buf[n] = '\0';
	for (tok = strtok_r(buf, " \n", &save); tok;
	     tok = strtok_r(NULL, " \n", &save))
		if (!strcmp(tok, "cpu"))
			return true;
	return false;
}

static int write_str(const char *path, const char *s)
{
	ssize_t n;
	int fd, ret = 0;

	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = write(fd, s, strlen(s));
	if (n < 0)
		ret = -errno;
	else if ((size_t)n != strlen(s))
		ret = -EIO;
	close(fd);
	return ret;
}

int cg_detect(const char *group)
{
	char line[4096], v1cpu[PATH_MAX] = "", v1acct[PATH_MAX] = "";
	char v2[PATH_MAX] = "";
	FILE *f;

	struct stat st;

	memset(&cg, 0, sizeof(cg));
	cg.detected = true;
	if (!stat("/proc/self/ns/net", &st))
		cg.netns = st.st_ino;
	snprintf(cg.group, sizeof(cg.group), "%s", group ? group : "tandem");
	f = fopen("/proc/self/mountinfo", "re");
	if (!f) {
		tlog(LOG_WARNING, "cgroups: /proc/self/mountinfo: %s; no CPU weights for process NFs",
		     strerror(errno));
		return -errno;
	}
	while (fgets(line, sizeof(line), f)) {
		/* ID PARENT MAJ:MIN ROOT MNT OPTS [TAGS] - TYPE SRC SUPER */
		char *dash = strstr(line, " - "), *mnt, *type, *super, *save;

		if (!dash)
			continue;
		*dash = '\0';
		if (!strtok_r(line, " ", &save) || !strtok_r(NULL, " ", &save) ||
		    !strtok_r(NULL, " ", &save) || !strtok_r(NULL, " ", &save))
			continue;
		mnt = strtok_r(NULL, " ", &save);
		type = strtok_r(dash + 3, " ", &save);
		if (!mnt || !type || !strtok_r(NULL, " ", &save))
			continue;
		super = strtok_r(NULL, " \n", &save);
		unescape(mnt);
		if (!strcmp(type, "cgroup2") && !v2[0] && v2_has_cpu(mnt))
			snprintf(v2, sizeof(v2), "%s", mnt);
		else if (!strcmp(type, "cgroup") && super) {
			if (!v1cpu[0] && has_word(super, "cpu"))
				snprintf(v1cpu, sizeof(v1cpu), "%s", mnt);
			if (!v1acct[0] && has_word(super, "cpuacct"))
				snprintf(v1acct, sizeof(v1acct), "%s", mnt);
		}
	}
	fclose(f);
	/* a controller is in one hierarchy only: v2 if it offers cpu */
	if (v2[0]) {
		cg.mode = CG_V2;
		snprintf(cg.cpu, sizeof(cg.cpu), "%s", v2);
	} else if (v1cpu[0]) {
		cg.mode = CG_V1;
		snprintf(cg.cpu, sizeof(cg.cpu), "%s", v1cpu);
		if (v1acct[0] && strcmp(v1acct, v1cpu))
			snprintf(cg.acct, sizeof(cg.acct), "%s", v1acct);
	} else {
		cg.mode = CG_NONE;
		tlog(LOG_NOTICE, "cgroups: no cpu controller mounted; process NFs run without CPU weights");
		return 0;
	}
	tlog(LOG_INFO, "cgroups: %s, process NFs in %s/%s",
	     cg.mode == CG_V2 ? "v2 cpu.weight" : "v1 cpu.shares", cg.cpu,
	     cg.group);
	if (cg.acct[0])
		tlog(LOG_INFO, "cgroups: and for CPU time in %s/%s", cg.acct,
		     cg.group);
	return 0;
}

enum cg_mode cg_mode(void)
{
	return cg.detected ? cg.mode : CG_NONE;
}

int cg_dir(const char *name, char *buf, size_t len)
{
	name = leaf(name);
	if (cg_mode() == CG_NONE)
		return -EOPNOTSUPP;
	if ((size_t)snprintf(buf, len, "%s/%s/%s", cg.cpu, cg.group, name) >= len)
		return -ENAMETOOLONG;
	return 0;
}

/* mkdir that is happy with a directory already there */
static int mkdir_ok(const char *path)
{
	if (mkdir(path, 0755) && errno != EEXIST)
		return -errno;
	return 0;
}

int cg_make(const char *name)
{
	char path[PATH_MAX + 256];
	const char *roots[2] = { cg.cpu, cg.acct };
	int i, ret;

	name = leaf(name);

	if (cg_mode() == CG_NONE)
		return -EOPNOTSUPP;
	for (i = 0; i < 2 && roots[i][0]; i++) {
		if (cg.mode == CG_V2) {
			/* the root hands cpu to GROUP, GROUP to NAME */
			snprintf(path, sizeof(path), "%s/cgroup.subtree_control",
				 roots[i]);
			ret = write_str(path, "+cpu");
			if (ret)
				return ret;
		}
		snprintf(path, sizeof(path), "%s/%s", roots[i], cg.group);
		ret = mkdir_ok(path);
		if (ret)
			return ret;
		if (cg.mode == CG_V2) {
			snprintf(path, sizeof(path), "%s/%s/cgroup.subtree_control",
				 roots[i], cg.group);
			ret = write_str(path, "+cpu");
			if (ret)
				return ret;
		}
		snprintf(path, sizeof(path), "%s/%s/%s", roots[i], cg.group, name);
		ret = mkdir_ok(path);
		if (ret)
			return ret;
	}
	return 0;
}

/*
 * Called in a forked child before exec, too: open, write and close only
 * (no malloc, no stdio), with "0" for the writer itself.
 */
int cg_enter(const char *name, pid_t pid)
{
	char path[PATH_MAX + 256], num[24];
	const char *roots[2] = { cg.cpu, cg.acct };
	int i, ret;

	name = leaf(name);

	if (cg_mode() == CG_NONE)
		return -EOPNOTSUPP;
	snprintf(num, sizeof(num), "%d", (int)pid);
	for (i = 0; i < 2 && roots[i][0]; i++) {
		snprintf(path, sizeof(path), "%s/%s/%s/cgroup.procs", roots[i],
			 cg.group, name);
		ret = write_str(path, num);
		if (ret)
			return ret;
	}
	return 0;
}

int cg_procs(const char *name, pid_t *pids, int max)
{
	char path[PATH_MAX + 256];
	int n = 0, pid;
	FILE *f;

	name = leaf(name);

	if (cg_mode() == CG_NONE)
		return -EOPNOTSUPP;
	snprintf(path, sizeof(path), "%s/%s/%s/cgroup.procs", cg.cpu, cg.group,
		 name);
	f = fopen(path, "re");
	if (!f)
		return errno == ENOENT ? 0 : -errno;
	while (n < max && fscanf(f, "%d", &pid) == 1)
		pids[n++] = pid;
	fclose(f);
	return n;
}

int cg_set_weight(const char *name, unsigned int weight)
{
	char path[PATH_MAX + 256], val[24];
	unsigned long long v = weight;

	name = leaf(name);

	if (cg_mode() == CG_NONE) {
		if (!cg.said_no_weight)
			tlog(LOG_NOTICE, "nf %s: no cpu controller: CPU weights are not applied",
			     name);
		cg.said_no_weight = true;
		return -EOPNOTSUPP;
	}
	if (weight < CG_WEIGHT_MIN || weight > CG_WEIGHT_MAX)
		return -EINVAL;
	if (cg.mode == CG_V1) {
		/* cpu.weight 100 is cpu.shares 1024, both the defaults */
		v = v * 1024 / 100;
		if (v < 2)
			v = 2;
		if (v > 262144)
			v = 262144;
	}
	snprintf(path, sizeof(path), "%s/%s/%s/%s", cg.cpu, cg.group, name,
		 cg.mode == CG_V2 ? "cpu.weight" : "cpu.shares");
	snprintf(val, sizeof(val), "%llu", v);
	return write_str(path, val);
}

int cg_weight_open(const char *name, int *mode)
{
	char path[PATH_MAX + 256];
	int fd;

	name = leaf(name);
	if (cg_mode() == CG_NONE)
		return -EOPNOTSUPP;
	snprintf(path, sizeof(path), "%s/%s/%s/%s", cg.cpu, cg.group, name,
		 cg.mode == CG_V2 ? "cpu.weight" : "cpu.shares");
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	*mode = cg.mode;
	return fd;
}

int cg_cpu_usage_ns(const char *name, __u64 *ns)
{
	char path[PATH_MAX + 256], buf[1024], *p;
	unsigned long long v;
	ssize_t n;
	int fd;

	name = leaf(name);

	if (cg_mode() == CG_NONE)
		return -EOPNOTSUPP;
	if (cg.mode == CG_V2)
		snprintf(path, sizeof(path), "%s/%s/%s/cpu.stat", cg.cpu,
			 cg.group, name);
	else
		/* no cpuacct mount apart: it is the cpu one (cpu,cpuacct) */
		snprintf(path, sizeof(path), "%s/%s/%s/cpuacct.usage",
			 cg.acct[0] ? cg.acct : cg.cpu, cg.group, name);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n < 0)
		return -errno;
	buf[n] = '\0';
	if (cg.mode == CG_V1) {
		if (sscanf(buf, "%llu", &v) != 1)
			return -EIO;
		*ns = v;
		return 0;
	}
	p = strstr(buf, "usage_usec ");
	if (!p || sscanf(p + 11, "%llu", &v) != 1)
		return -EIO;
	*ns = v * 1000;
	return 0;
}

int cg_remove(const char *name)
{
	char path[PATH_MAX + 256];
	const char *roots[2] = { cg.cpu, cg.acct };
	int i, ret = 0;

	name = leaf(name);

	if (cg_mode() == CG_NONE)
		return 0;
	for (i = 0; i < 2 && roots[i][0]; i++) {
		snprintf(path, sizeof(path), "%s/%s/%s", roots[i], cg.group, name);
		if (rmdir(path) && errno != ENOENT && !ret)
			ret = -errno;
	}
	return ret;
}

void cg_cleanup(void)
{
	char path[PATH_MAX + 256];
	const char *roots[2] = { cg.cpu, cg.acct };
	int i;

	if (cg_mode() == CG_NONE)
		return;
	/* GROUP goes only when no NF's group is left in it */
	for (i = 0; i < 2 && roots[i][0]; i++) {
		snprintf(path, sizeof(path), "%s/%s", roots[i], cg.group);
		rmdir(path);
	}
}
