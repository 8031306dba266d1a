// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * The HTTP server of /metrics: libmicrohttpd, in a thread of its own.
 * That thread never touches the maps: it sends the text the main loop
 * last published, copied under a mutex, so a scrape costs no map reads
 * and cannot see half a sample.
 */
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <microhttpd.h>

#include "tandemd.h"

static struct MHD_Daemon *mhd;
static pthread_mutex_t body_lock = PTHREAD_MUTEX_INITIALIZER;
static char *body;
static size_t body_len;

int http_publish(const char *buf, size_t len)
{
	char *copy = malloc(len + 1);

	if (!copy)
		return -ENOMEM;
	memcpy(copy, buf, len);
	copy[len] = '\0';
	pthread_mutex_lock(&body_lock);
	free(body);
	body = copy;
	body_len = len;
	pthread_mutex_unlock(&body_lock);
	return 0;
}

static enum MHD_Result reply(struct MHD_Connection *conn, unsigned int code,
			     const char *text, size_t len, const char *type,
			     bool allow)
{
	struct MHD_Response *r;
	enum MHD_Result ret;

	r = MHD_create_response_from_buffer(len, (void *)text,
					    MHD_RESPMEM_MUST_COPY);
	if (!r)
		return MHD_NO;	/* out of memory: libmicrohttpd closes it */
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, type);
	if (allow)
		MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, "GET, HEAD");
	ret = MHD_queue_response(conn, code, r);
	MHD_destroy_response(r);
	return ret;
}

static enum MHD_Result plain(struct MHD_Connection *conn, unsigned int code,
			     const char *text, bool allow)
{
	return reply(conn, code, text, strlen(text),
		     "text/plain; charset=utf-8", allow);
}

static enum MHD_Result handle(void *cls, struct MHD_Connection *conn,
			      const char *url, const char *method,
			      const char *version, const char *upload_data,
			      size_t *upload_size, void **con_cls)
{
	enum MHD_Result ret;

	/*
	 * The first call comes with the headers; a request with a body
	 * (which no GET here has) calls again for each part, and these
	 * are acknowledged without an answer until the last.
	 */
	if (!*con_cls) {
		*con_cls = conn;
		return MHD_YES;
	}
	if (*upload_size) {
		*upload_size = 0;
		return MHD_YES;
	}
	if (strcmp(method, MHD_HTTP_METHOD_GET) &&
	    strcmp(method, MHD_HTTP_METHOD_HEAD))
		return plain(conn, MHD_HTTP_METHOD_NOT_ALLOWED,
			     "only GET and HEAD\n", true);
	if (strcmp(url, "/metrics"))
		return plain(conn, MHD_HTTP_NOT_FOUND,
			     "not found: tandemd serves /metrics\n", false);
	pthread_mutex_lock(&body_lock);
	if (body)
		ret = reply(conn, MHD_HTTP_OK, body, body_len,
			    METRICS_CONTENT_TYPE, false);
	else
		ret = plain(conn, MHD_HTTP_SERVICE_UNAVAILABLE,
			    "no sample yet\n", false);
	pthread_mutex_unlock(&body_lock);
	return ret;
}

/* libmicrohttpd's own messages, through our log (one line each) */
static void mhd_log(void *cls, const char *fmt, va_list ap)
{
	char msg[512];
	size_t n;

	vsnprintf(msg, sizeof(msg), fmt, ap);
	n = strlen(msg);
	while (n && msg[n - 1] == '\n')
		msg[--n] = '\0';
	tlog(LOG_WARNING, "http: %s", msg);
}

int http_start(const struct sockaddr *addr, const char *what)
{
	/* AUTO: epoll or poll, whichever there is, not select's FD_SETSIZE */
	unsigned int flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_AUTO |
			     MHD_USE_ERROR_LOG;

	if (addr->sa_family == AF_INET6)
		flags |= MHD_USE_IPv6;
	/*
	 * A few connections at a time, and none kept idle for long: a
	 * Prometheus scrapes once in a while; anything else waiting on
	 * the socket must not hold the thread.
	 */
	/* the logger first: it only takes messages of later options */
	mhd = MHD_start_daemon(flags, 0, NULL, NULL, handle, NULL,
			       MHD_OPTION_EXTERNAL_LOGGER, mhd_log, NULL,
			       MHD_OPTION_SOCK_ADDR, addr,
			       MHD_OPTION_CONNECTION_LIMIT, 32u,
			       MHD_OPTION_PER_IP_CONNECTION_LIMIT, 8u,
			       MHD_OPTION_CONNECTION_TIMEOUT, 10u,
			       MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)65536,
			       MHD_OPTION_END);
	if (!mhd) {
		int err = errno ? errno : EADDRINUSE;

		tlog(LOG_ERR, "cannot serve metrics on %s: %s", what,
		     strerror(err));
		return -err;
	}
	return 0;
}

void http_stop(void)
{
	if (mhd)
		MHD_stop_daemon(mhd);
	mhd = NULL;
	pthread_mutex_lock(&body_lock);
	free(body);
	body = NULL;
	body_len = 0;
	pthread_mutex_unlock(&body_lock);
}
