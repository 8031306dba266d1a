/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * tandemd: the daemon. It applies the policy file, samples the counters
 * and serves them to Prometheus; every operation on the state goes
 * through libtandem. One concern per file:
 *
 *   main.c      options, signals, the main loop, config applies
 *   sampler.c   one round of counters (and rates against the last one)
 *   metrics.c   a sample as Prometheus text (exposition format 0.0.4)
 *   http.c      the HTTP server of GET /metrics (libmicrohttpd)
 *   textfile.c  the same text for node_exporter's textfile collector
 *   log.c       one line per message on stderr, for journald
 *   supervise.c the processes of process NFs: start, restart, stop
 *   cgroup.c    a cgroup per process NF: CPU weight and CPU time
 *   weights.c   CPU weights from load and cost (NFVNice's rule)
 *   kmod.c      module mode: tandem_sched.ko weighs the process NFs
 */
#ifndef TANDEMD_H
#define TANDEMD_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <syslog.h>
#include "libtandem.h"

/* the same as the CLI's TANDEM_VERSION (user/tandem/main.c) */
#define TANDEMD_VERSION		"0.1.0"

#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))

/* ---- log.c ---- */
/*
 * Log one line to stderr with a syslog priority prefix ("<3>" for
 * LOG_ERR, ...) that journald reads; control bytes in the message are
 * escaped so that one message stays one line.
 */
void tlog(int prio, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* ---- sampler.c ---- */
/* How a process NF is weighed, for the metrics */
struct nf_sched {
	bool module;			/* by tandem_sched.ko, else by tandemd */
	unsigned int weight;		/* the last written; 0: none yet */
	double cost_s;			/* CPU time per packet; 0: not known */
	__u64 reactions;		/* watermark crossings answered */
	double react_s_sum;		/* crossing -> weights written, s */
	double react_s_last;
};

struct nf_sample {
	__u32 id;
	char name[TDM_NAME_LEN];
	const char *type;		/* static, from the library */
	__u32 type_id;			/* enum tdm_nf_type_id */
	struct tdm_nf_stats st;
	double pps, bps;		/* bytes/s; 0 without a previous sample */
	/* process NFs only: their queue, and whether the process is up */
	bool process, up;
	struct tdm_nf_queue q;
	/* the CPU time of its cgroup (the check on the library's cycles) */
	bool has_cpu;
	__u64 cpu_ns;
	/* tandemd runs it: how it is weighed (procs.c) */
	bool has_sched;
	struct nf_sched sched;
};

struct chain_sample {
	__u32 id;
	char name[TDM_NAME_LEN];
	struct tdm_chain_stats st;
	double pps, bps;
};

struct dev_sample {
	__u32 slot;
	char name[16];			/* as taken, the name `tandem stats` uses */
	const char *mode;
	const char *state;
	struct tdm_dev_stats st;
	double pps, bps;
};

struct sample {
	bool ok;			/* the counters below were read */
	double time;			/* CLOCK_REALTIME, seconds */
	double mono;			/* CLOCK_MONOTONIC, seconds */
	double duration;		/* seconds the round took */
	unsigned long long errors;	/* failed rounds since start */
	int nnfs, nchains, ndevs;
	struct nf_sample nfs[TDM_MAX_NFS];
	struct chain_sample chains[TDM_MAX_CHAINS];
	struct dev_sample devs[TDM_MAX_DEVS];
	struct tdm_status status;	/* the daemon and the last apply */
};

/*
 * Read every counter into cur, with rates over the time since prev (NULL
 * or !prev->ok: rates 0). Takes the state lock (shared) for the round
 * only. 0, or a negative errno with the message in err; cur->ok says
 * which, and cur->errors counts the failures (carried over from prev).
 */
int sample_take(struct sample *cur, const struct sample *prev, char *err,
		size_t errlen);

/* ---- metrics.c ---- */
/*
 * The Prometheus text exposition (format 0.0.4) of sample s, in a new
 * malloc'ed buffer (*len bytes, NUL-terminated). 0 or -ENOMEM.
 */
int metrics_format(const struct sample *s, char **buf, size_t *len);
/* The Content-Type of that text */
#define METRICS_CONTENT_TYPE	"text/plain; version=0.0.4; charset=utf-8"

/* ---- http.c ---- */
/*
 * Serve GET/HEAD /metrics on addr (AF_INET or AF_INET6; what is its text,
 * for the log) from a thread of libmicrohttpd. 0, or a negative errno
 * (the address is in use, ...), logged.
 */
int http_start(const struct sockaddr *addr, const char *what);
void http_stop(void);
/* The body the server sends from now on (copied). 0 or -ENOMEM. */
int http_publish(const char *buf, size_t len);

/* ---- textfile.c ---- */
/*
 * Replace the file at path with buf atomically: PATH.tmp in the same
 * directory, fsync, rename. 0 or a negative errno, with the message
 * in err.
 */
int textfile_write(const char *path, const char *buf, size_t len,
		   char *err, size_t errlen);

/* ---- supervise.c ---- */
/*
 * The processes of process NFs, driven by the list of those wanted;
 * independent of BPF. One process per NF, in its own cgroup (when there
 * is a cpu controller), session and process group, pinned to its CPUs,
 * restarted with a backoff when it ends. Nothing here blocks for long:
 * kills and restarts that are due later are done by sup_tick().
 * The caller takes SIGCHLD (in its signalfd) and calls sup_reap().
 */
#define SUP_MAX			64
#define SUP_CMD_LEN		1024
#define SUP_STOP_WAIT		2.0	/* s from SIGTERM to SIGKILL */
#define SUP_BACKOFF_MIN		0.1	/* s before the first restart */
#define SUP_BACKOFF_MAX		30.0
#define SUP_RAN_OK		10.0	/* s of running that resets the backoff */

struct sup_spec {
	char name[TDM_NAME_LEN];
	char cmd[SUP_CMD_LEN];		/* argv joined by single spaces */
	__u64 cpus;			/* bit n: CPU n; 0: any */
};

enum sup_state {
	SUP_FREE,			/* slot unused */
	SUP_RUNNING,
	SUP_STOPPING,			/* SIGTERM sent, SIGKILL at kill_at */
	SUP_WAITING,			/* ended; restart at restart_at */
};

/* One NF's process; read it for status and metrics (times: sup->now()) */
struct sup_proc {
	enum sup_state state;
	struct sup_spec spec;		/* what runs, or ran */
	struct sup_spec next;		/* while stopping: start this after */
	bool restart;			/* while stopping: start next after */
	pid_t pid;			/* 0: none */
	unsigned int starts;		/* processes started (1 + restarts) */
	int last_status;		/* of waitpid(); -1: none ended yet */
	double since;			/* started at (running) */
	double restart_at;		/* waiting */
	double kill_at;			/* stopping */
	double backoff;			/* the next delay before a restart */
};

/* about 140 KiB: make it static */
struct sup {
	struct sup_proc procs[SUP_MAX];
	double (*now)(void);		/* seconds; CLOCK_MONOTONIC by default */
	bool cgroups;			/* put processes into cgroups */
};

/* cgroups: whether to use them (cg_detect() first) */
void sup_init(struct sup *sup, bool cgroups);
/*
 * Make the running processes those of specs[0..n-1]: start the new,
 * stop those gone, restart those whose cmd or cpus changed. 0, or
 * -EINVAL for a list with a name twice or too long (nothing done).
 */
int sup_sync(struct sup *sup, const struct sup_spec *specs, int n);
/* Collect ended processes (on SIGCHLD), log them, schedule restarts */
void sup_reap(struct sup *sup);
/* Restarts and SIGKILLs that are due at now */
void sup_tick(struct sup *sup, double now);
/* When sup_tick() has work next (sup->now() time), or -1: nothing planned */
double sup_next_deadline(const struct sup *sup);
/* At exit: SIGTERM all, SIGKILL after SUP_STOP_WAIT s; blocks until gone */
void sup_stop_all(struct sup *sup);
const struct sup_proc *sup_find(const struct sup *sup, const char *name);
/* "exited 3", "killed by SIGKILL", ... for status; buf of 64 is enough */
const char *sup_status_str(int status, char *buf, size_t len);

/* ---- procs.c: process NFs (the supervisor and the scheduler) ---- */
/* Start: find the cgroups, run what the NF table says; poll the queues
 * every sched_interval s for the CPU weights */
int procs_start(double sched_interval);
/* Run what the NF table says now (after an apply, each round) */
int procs_sync(void);
/* On SIGCHLD */
void procs_reap(void);
/* When procs_tick() has work next (mono_s() time) */
double procs_next_deadline(void);
void procs_tick(double now);
/* At exit: stop the processes (the datapath follows their fail setting) */
void procs_stop(void);
/* 0, or -ENOENT: NF id is no process NF that tandemd runs */
int procs_sched_get(__u32 id, struct nf_sched *out);
/* CLOCK_MONOTONIC in seconds (main.c) */
double mono_s(void);

/* ---- cgroup.c ---- */
enum cg_mode { CG_NONE, CG_V1, CG_V2 };

#define CG_WEIGHT_MIN		1	/* cpu.weight's range and default */
#define CG_WEIGHT_MAX		10000
#define CG_WEIGHT_DEFAULT	100

/*
 * Find the cpu (and cpuacct) controllers; NF groups are then
 * MOUNT/group/NAME (group NULL: "tandem"). Logs what it found, once.
 * Without a cpu controller cg_mode() is CG_NONE and the rest of this
 * API says -EOPNOTSUPP (cg_remove: 0).
 */
int cg_detect(const char *group);
enum cg_mode cg_mode(void);
/* The NF's directory in the cpu hierarchy */
int cg_dir(const char *name, char *buf, size_t len);
/* Make the NF's group (and GROUP, handing down +cpu on v2) */
int cg_make(const char *name);
/* Move pid (0: the caller) into the NF's group; safe in a forked child */
int cg_enter(const char *name, pid_t pid);
/* The pids in the NF's group (cpu hierarchy), up to max: how many */
int cg_procs(const char *name, pid_t *pids, int max);
/* weight in cpu.weight units, CG_WEIGHT_MIN..MAX; v1: as cpu.shares */
int cg_set_weight(const char *name, unsigned int weight);
/*
 * The NF's cpu.weight (v2) or cpu.shares (v1), open for writing, for
 * tandem_sched.ko to write to; *mode says which (CG_V1, CG_V2). An fd
 * or -errno.
 */
int cg_weight_open(const char *name, int *mode);
/* CPU time the NF's group used, ns */
int cg_cpu_usage_ns(const char *name, __u64 *ns);
/* rmdir the NF's group: -EBUSY while a process is in it */
int cg_remove(const char *name);
/* rmdir GROUP if no NF group is left in it */
void cg_cleanup(void);

/* ---- weights.c ---- */
/* One NF that shares a CPU with the others of the array */
struct wt_nf {
	double rate;			/* arrivals, drops included, per s */
	double cost;			/* cycles per packet; 0: not known */
	unsigned int pinned;		/* a manual weight; 0: auto */
	unsigned int weight;		/* out: the cpu.weight to set */
};

/* NFVNice's weights for the NFs of one CPU; no I/O */
void weights_compute(struct wt_nf *nfs, int n);

/* ---- kmod.c: module mode, tandem_sched.ko weighs the process NFs ---- */
/* A supervised process NF, as procs.c tells kmod.c */
struct km_nf {
	__u32 id;
	const char *name;
	__u64 cpus;			/* its CPU set; 0: all */
	unsigned int pinned;		/* manual weight; 0: auto */
	pid_t pid;			/* its running process; 0: none */
};

/*
 * Open the module's device if it is not open yet, or see it gone (then
 * close it). true: module mode. Logs a change of mode once.
 */
bool km_detect(void);
bool km_active(void);
/*
 * Make the module's NFs those of nfs[0..n-1]: register the new ones
 * (once their process runs: their cgroup is there), tell it their new
 * pids, unregister the others. A registration that failed is tried
 * again only with retry (a supervisor sync round).
 */
void km_sync(const struct km_nf *nfs, int n, bool retry);
/* Is NF id the module's to weigh? */
bool km_registered(__u32 id);
/* The module's view of NF id (TDM_SCHED_IOC_GET): 0 or -errno */
int km_get(__u32 id, struct tdm_sched_state *st);
/* Close the device: the module drops our NFs */
void km_stop(void);

#endif /* TANDEMD_H */
