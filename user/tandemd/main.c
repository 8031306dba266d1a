// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * tandemd: applies the policy file, samples the counters and serves them
 * to Prometheus (and node_exporter's textfile collector); a thin front
 * end of libtandem like the CLI. It runs in the foreground under
 * systemd (Type=notify). It never detaches anything: the datapath lives
 * in pinned maps and links and runs on when tandemd stops or dies; a new
 * tandemd adopts it as it is.
 *
 * Signals are read from a signalfd in the main loop, so no work is done
 * in a signal handler: SIGHUP reloads the config, SIGTERM and SIGINT
 * end the daemon.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <systemd/sd-daemon.h>

#include "tandemd.h"

#define EXIT_RUNTIME	1	/* could not start */
#define EXIT_USAGE	2	/* the command line is wrong */

#define CONFIG_DEFAULT		"/etc/tandem/tandem.conf"
#define METRICS_DEFAULT		"127.0.0.1:9469"
#define INTERVAL_MIN_MS		100
#define INTERVAL_MAX_MS		3600000

struct options {
	const char *config;
	bool config_given;
	const char *metrics;		/* NULL: --no-metrics */
	const char *textfile;
	__u64 interval_ms;
	__u64 sched_us;			/* the scheduler's polling interval */
	struct sockaddr_storage addr;	/* of metrics */
};

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: tandemd [OPTIONS]\n"
		"\n"
		"Applies the policy file, then samples tandem's counters and serves\n"
		"them in the Prometheus text format. Runs in the foreground.\n"
		"\n"
		"  --config FILE        the policy file (default %s)\n"
		"  --metrics ADDR:PORT  serve GET /metrics there (default %s;\n"
		"                       IPv6 as [ADDR]:PORT)\n"
		"  --no-metrics         no HTTP server\n"
		"  --textfile PATH      also write the metrics to PATH each interval\n"
		"                       (node_exporter's textfile collector)\n"
		"  --interval SECONDS   sampling interval, 0.1 to 3600 (default 1)\n"
		"  --sched-interval SECONDS\n"
		"                       how often the process NFs' CPU weights are\n"
		"                       recomputed, 0.001 to 1 (default 0.001)\n"
		"  -V, --version        print the version\n"
		"  -h, --help           this help\n"
		"\n"
		"SIGHUP reloads the policy file; SIGTERM stops tandemd, the datapath\n"
		"keeps running. Exit status: 0 stopped, 1 could not start, 2 the\n"
		"command line is wrong. See tandemd(8).\n",
		CONFIG_DEFAULT, METRICS_DEFAULT);
}

static int usage_error(const char *fmt, const char *arg)
{
	char msg[512];

	snprintf(msg, sizeof(msg), fmt, arg);
	tlog(LOG_ERR, "%s (see 'tandemd --help')", msg);
	return EXIT_USAGE;
}

/*
 * "A.B.C.D:PORT" or "[IPV6]:PORT", numeric only: a daemon that listens
 * says exactly where, and no name lookup can change it. 0 or -EINVAL.
 */
static int parse_addr(const char *s, struct options *o)
{
	struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&o->addr;
	struct sockaddr_in *in4 = (struct sockaddr_in *)&o->addr;
	char host[64];
	bool v6 = s[0] == '[';
	const char *colon;
	size_t hlen;
	__u64 port;

	memset(&o->addr, 0, sizeof(o->addr));
	if (v6) {
		colon = strstr(s, "]:");
		if (!colon)
			return -EINVAL;
		hlen = colon - s - 1;
		colon++;
		s++;
	} else {
		colon = strrchr(s, ':');
		if (!colon)
			return -EINVAL;
		hlen = colon - s;
	}
	if (hlen >= sizeof(host))
		return -EINVAL;
	memcpy(host, s, hlen);
	host[hlen] = '\0';
	if (tdm_parse_uint(colon + 1, 1, 65535, &port))
		return -EINVAL;
	if (v6) {
		if (inet_pton(AF_INET6, host, &in6->sin6_addr) != 1)
			return -EINVAL;
		in6->sin6_family = AF_INET6;
		in6->sin6_port = htons(port);
	} else {
		if (inet_pton(AF_INET, host, &in4->sin_addr) != 1)
			return -EINVAL;
		in4->sin_family = AF_INET;
		in4->sin_port = htons(port);
	}
	return 0;
}

/* 0 to run, or the exit code: help and version are done here. */
static int parse_options(int argc, char **argv, struct options *o, int *done)
{
	enum { OPT_CONFIG = 256, OPT_METRICS, OPT_NO_METRICS, OPT_TEXTFILE,
	       OPT_INTERVAL, OPT_SCHED_INTERVAL };
	static const struct option opts[] = {
		{ "config", required_argument, NULL, OPT_CONFIG },
		{ "metrics", required_argument, NULL, OPT_METRICS },
		{ "no-metrics", no_argument, NULL, OPT_NO_METRICS },
		{ "textfile", required_argument, NULL, OPT_TEXTFILE },
		{ "interval", required_argument, NULL, OPT_INTERVAL },
		{ "sched-interval", required_argument, NULL, OPT_SCHED_INTERVAL },
		{ "version", no_argument, NULL, 'V' },
		{ "help", no_argument, NULL, 'h' },
		{}
	};
	bool no_metrics = false, metrics_given = false;
	int c, act = 0;

	*done = 0;
	o->config = CONFIG_DEFAULT;
	o->metrics = METRICS_DEFAULT;
	o->interval_ms = 1000;
	o->sched_us = 1000;
	opterr = 0;		/* our one line is the only error line */
	while ((c = getopt_long(argc, argv, ":Vh", opts, NULL)) != -1) {
		switch (c) {
		case OPT_CONFIG:
			if (!optarg[0])
				return usage_error("--config: empty file name%s", "");
			o->config = optarg;
			o->config_given = true;
			break;
		case OPT_METRICS:
			o->metrics = optarg;
			metrics_given = true;
			break;
		case OPT_NO_METRICS:
			no_metrics = true;
			break;
		case OPT_TEXTFILE:
			if (!optarg[0])
				return usage_error("--textfile: empty file name%s", "");
			o->textfile = optarg;
			break;
		case OPT_INTERVAL:
			if (tdm_parse_millis(optarg, INTERVAL_MAX_MS,
					     &o->interval_ms) ||
			    o->interval_ms < INTERVAL_MIN_MS)
				return usage_error("--interval: '%s' is not a number of seconds from 0.1 to 3600",
						   optarg);
			break;
		case OPT_SCHED_INTERVAL: {
			__u64 ms;

			if (tdm_parse_millis(optarg, 1000, &ms) || !ms)
				return usage_error("--sched-interval: '%s' is not a number of seconds from 0.001 to 1",
						   optarg);
			o->sched_us = ms * 1000;
			break;
		}
		case 'V':
		case 'h':
			act = c;
			break;
		case ':':
			return usage_error("%s needs a value", argv[optind - 1]);
		default:
			return usage_error("unknown option '%s'", argv[optind - 1]);
		}
	}
	if (optind < argc)
		return usage_error("unexpected argument '%s'", argv[optind]);
	if (act == 'h') {
		usage(stdout);
		*done = 1;
		return 0;
	}
	if (act == 'V') {
		printf("tandemd %s (datapath ABI %d)\n", TANDEMD_VERSION,
		       TDM_ABI_VERSION);
		*done = 1;
		return 0;
	}
	if (no_metrics && metrics_given)
		return usage_error("--metrics and --no-metrics%s: give one", "");
	if (no_metrics) {
		o->metrics = NULL;
	} else if (parse_addr(o->metrics, o)) {
		return usage_error("--metrics: '%s' is not ADDR:PORT (a numeric IPv4 address, or [IPv6], and a port 1-65535)",
				   o->metrics);
	}
	return 0;
}

double mono_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* A file that could not be read or parsed is the last apply, failed:
 * for `tandem status` and tandem_last_apply_success. */
static void record_refused(const char *file, int err, const char *msg)
{
	struct tdm_ctx *ctx;

	if (tdm_open(&ctx, 0)) {
		tlog(LOG_WARNING, "%s", tdm_open_errmsg());
		return;
	}
	if (tdm_status_apply_failed(ctx, file, err, msg))
		tlog(LOG_WARNING, "%s", tdm_errmsg(ctx));
	tdm_close(ctx);
}

/*
 * Read the config into *p (NULL: nothing to apply). at_start, a missing
 * --config or a config that is there and bad is fatal (a negative
 * errno); later it is logged, and the running state stays. A missing
 * default config means: adopt the pinned state as it is.
 */
static int config_load(const struct options *o, bool at_start,
		       struct tdm_policy **p)
{
	struct stat st;
	char err[512];
	int ret;

	*p = NULL;
	if (stat(o->config, &st)) {
		ret = -errno;
		if (ret == -ENOENT && !o->config_given) {
			tlog(LOG_NOTICE, "no config %s: running the pinned state as it is",
			     o->config);
			return 0;
		}
		snprintf(err, sizeof(err), "%s: %s", o->config, strerror(-ret));
		tlog(LOG_ERR, "%s%s", err, at_start ? "" :
		     "; nothing changed, the running state stays");
		record_refused(o->config, ret, err);
		return at_start ? ret : 0;
	}
	ret = tdm_policy_load(o->config, p, err, sizeof(err));
	if (!ret && tdm_policy_empty(*p)) {
		/* a file truncated by an editor or a half-done copy would
		 * delete everything, the firewall too */
		tdm_policy_free(*p);
		ret = -ENODATA;
		snprintf(err, sizeof(err),
			 "%s holds no command: tandemd does not apply an empty policy (it would delete everything; 'tandem apply' of an empty file does)",
			 o->config);
	}
	if (ret) {
		*p = NULL;
		tlog(LOG_ERR, "%s%s", err, at_start ? "" :
		     "; nothing changed, the running state stays");
		record_refused(o->config, ret, err);
		return at_start ? ret : 0;
	}
	return 0;
}

/*
 * Make the running state p (NULL: nothing to do), all or nothing, with
 * the lock held for the apply only (tdm_policy_apply() records its
 * result in the status record). A failure is fatal at_start (a negative
 * errno); later it is logged, and the library has taken the state back.
 */
static int config_apply(const struct options *o, bool at_start,
			const struct tdm_policy *p)
{
	struct tdm_apply_result res = {};
	struct tdm_ctx *ctx;
	int ret;

	if (!p)
		return 0;
	ret = tdm_open(&ctx, 0);
	if (ret) {
		tlog(LOG_ERR, "%s", tdm_open_errmsg());
		return at_start ? ret : 0;
	}
	ret = tdm_policy_apply(ctx, p, 0, &res);
	if (ret) {
		tlog(LOG_ERR, "applying %s: %s%s", o->config, tdm_errmsg(ctx),
		     at_start ? "" : "; nothing changed, the running state stays");
	} else {
		/* the words of tandem apply (res.kept counts steering only) */
		tlog(LOG_INFO, "applied %s: %u added, %u changed, %u deleted",
		     o->config, res.added, res.changed, res.deleted);
	}
	tdm_close(ctx);
	return at_start ? ret : 0;
}

/* Register as the daemon, refusing to run beside another tandemd. */
static int daemon_register(void)
{
	struct tdm_status st;
	struct tdm_ctx *ctx;
	bool running;
	int ret;

	ret = tdm_open(&ctx, 0);
	if (ret) {
		tlog(LOG_ERR, "%s", tdm_open_errmsg());
		return ret;
	}
	ret = tdm_status_get(ctx, &st, &running);
	if (!ret && running && st.daemon_pid != (__u32)getpid()) {
		tlog(LOG_ERR, "another tandemd runs (pid %u): one at a time",
		     st.daemon_pid);
		ret = -EBUSY;
		goto out;
	}
	if (!ret)
		ret = tdm_daemon_register(ctx, getpid());
	if (ret && ret != -EBUSY)
		tlog(LOG_ERR, "%s", tdm_errmsg(ctx));
out:
	tdm_close(ctx);
	return ret;
}

static void daemon_unregister(void)
{
	struct tdm_ctx *ctx;

	if (tdm_open(&ctx, 0)) {
		tlog(LOG_WARNING, "%s", tdm_open_errmsg());
		return;
	}
	if (tdm_daemon_unregister(ctx, getpid()))
		tlog(LOG_WARNING, "%s", tdm_errmsg(ctx));
	tdm_close(ctx);
}

struct loop {
	const struct options *o;
	struct sample samples[2];
	int cur;			/* index of the newest in samples[] */
	char last_err[512];		/* logged once until it changes */
	char last_tf_err[512];
	char status[128];
};

/* Take a sample and hand its text to the HTTP thread and the textfile. */
static void round_run(struct loop *l, bool first)
{
	struct sample *prev = first ? NULL : &l->samples[l->cur];
	struct sample *cur = &l->samples[!l->cur];
	char err[512] = "", status[128];
	size_t len;
	char *buf;

	if (sample_take(cur, prev, err, sizeof(err))) {
		if (strcmp(err, l->last_err))
			tlog(LOG_ERR, "sampling: %s", err);
	} else if (l->last_err[0]) {
		tlog(LOG_NOTICE, "sampling works again");
	}
	snprintf(l->last_err, sizeof(l->last_err), "%s", err);
	l->cur = !l->cur;
	if (metrics_format(cur, &buf, &len)) {
		tlog(LOG_ERR, "formatting the metrics: out of memory");
		return;
	}
	if (l->o->metrics && http_publish(buf, len))
		tlog(LOG_ERR, "publishing the metrics: out of memory");
	if (l->o->textfile) {
		err[0] = '\0';
		if (textfile_write(l->o->textfile, buf, len, err, sizeof(err)) &&
		    strcmp(err, l->last_tf_err))
			tlog(LOG_WARNING, "%s", err);
		snprintf(l->last_tf_err, sizeof(l->last_tf_err), "%s", err);
	}
	free(buf);
	if (cur->ok)
		snprintf(status, sizeof(status),
			 "STATUS=%d NFs, %d chains, %d devices", cur->nnfs,
			 cur->nchains, cur->ndevs);
	else
		snprintf(status, sizeof(status), "STATUS=sampling fails");
	if (strcmp(status, l->status)) {
		sd_notify(0, status);
		snprintf(l->status, sizeof(l->status), "%s", status);
	}
}

static void reload(struct loop *l)
{
	struct tdm_policy *p;
	char msg[64];

	/* MONOTONIC_USEC: what Type=notify-reload wants with RELOADING=1 */
	snprintf(msg, sizeof(msg), "RELOADING=1\nMONOTONIC_USEC=%llu",
		 (unsigned long long)(mono_s() * 1e6));
	sd_notify(0, msg);
	tlog(LOG_INFO, "SIGHUP: reloading %s", l->o->config);
	config_load(l->o, false, &p);
	config_apply(l->o, false, p);
	tdm_policy_free(p);
	procs_sync();
	l->status[0] = '\0';		/* say it again after RELOADING */
	round_run(l, false);
	sd_notify(0, "READY=1");
}

/*
 * The main loop: a round every interval, signals as they come. Signals
 * are looked at before every round, even when rounds take longer than
 * the interval (a slow machine, a lock held long by a CLI command):
 * then rounds follow one another, and SIGTERM still ends them.
 */
static int run(struct loop *l, int sfd)
{
	double interval = l->o->interval_ms / 1000.0, next, wd_next = 0;
	double wd_every = 0, now, wake;
	struct signalfd_siginfo si;
	struct pollfd pfd = { .fd = sfd, .events = POLLIN };
	struct timespec ts;
	uint64_t wd_usec;
	int n;

	/* WATCHDOG=1 at half the period systemd allows */
	if (sd_watchdog_enabled(0, &wd_usec) > 0)
		wd_every = wd_usec / 2e6;
	next = mono_s() + interval;
	for (;;) {
		now = mono_s();
		if (wd_every && now >= wd_next) {
			sd_notify(0, "WATCHDOG=1");
			wd_next = now + wd_every;
		}
		wake = wd_every && wd_next < next ? wd_next : next;
		if (procs_next_deadline() >= 0 && procs_next_deadline() < wake)
			wake = procs_next_deadline();
		wake = wake > now ? wake - now : 0;
		ts.tv_sec = (time_t)wake;
		ts.tv_nsec = (long)((wake - ts.tv_sec) * 1e9);
		n = ppoll(&pfd, 1, &ts, NULL);
		if (n < 0 && errno != EINTR) {
			tlog(LOG_ERR, "poll: %s", strerror(errno));
			return EXIT_RUNTIME;
		}
		procs_tick(mono_s());
		if (n > 0 && read(sfd, &si, sizeof(si)) == sizeof(si)) {
			if (si.ssi_signo == SIGCHLD) {
				procs_reap();
				continue;
			}
			if (si.ssi_signo != SIGHUP) {
				tlog(LOG_INFO, "%s: stopping; the datapath keeps running",
				     strsignal(si.ssi_signo));
				return 0;
			}
			reload(l);
			continue;
		}
		if (mono_s() < next)
			continue;
		round_run(l, false);
		procs_sync();		/* NFs added or deleted by the CLI */
		/* no catching up after a stall: one round, then on */
		next += interval;
		now = mono_s();
		if (next <= now)
			next = now + interval;
	}
}

int main(int argc, char **argv)
{
	static struct loop l;
	struct tdm_policy *policy;
	struct options o = {};
	sigset_t set;
	int ret, sfd, done;

	ret = parse_options(argc, argv, &o, &done);
	if (ret || done)
		return ret;
	l.o = &o;

	/* signals wait in the signalfd until the loop reads them */
	sigemptyset(&set);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGCHLD);	/* process NFs that end */
	sigprocmask(SIG_BLOCK, &set, NULL);
	sfd = signalfd(-1, &set, SFD_CLOEXEC);
	if (sfd < 0) {
		tlog(LOG_ERR, "signalfd: %s", strerror(errno));
		return EXIT_RUNTIME;
	}
	/* a scraper that hangs up early must not kill us */
	signal(SIGPIPE, SIG_IGN);

	/* first what needs privileges: without them, that is the one error */
	if (daemon_register()) {
		ret = EXIT_RUNTIME;
		goto err_close;
	}
	/* a metrics address that cannot be had stops us before any change */
	if (o.metrics && http_start((struct sockaddr *)&o.addr, o.metrics)) {
		ret = EXIT_RUNTIME;
		goto err_unregister;
	}
	ret = config_load(&o, true, &policy);
	if (!ret)
		ret = config_apply(&o, true, policy);
	tdm_policy_free(policy);
	if (ret) {
		ret = EXIT_RUNTIME;
		goto err_http;
	}
	procs_start(o.sched_us / 1e6);
	round_run(&l, true);
	sd_notify(0, "READY=1");
	tlog(LOG_INFO, "running: metrics %s%s, textfile %s, every %.3g s",
	     o.metrics ? "on " : "off", o.metrics ? o.metrics : "",
	     o.textfile ? o.textfile : "off", o.interval_ms / 1000.0);

	ret = run(&l, sfd);
	sd_notify(0, "STOPPING=1");
	procs_stop();
err_http:
	if (o.metrics)
		http_stop();
err_unregister:
	daemon_unregister();
err_close:
	close(sfd);
	return ret;
}
