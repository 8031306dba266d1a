// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * node_exporter's textfile collector reads *.prom files of a directory
 * at each of its scrapes: a file it reads while we write it must be the
 * old one or the new one, never half of either. So the text goes to
 * PATH.tmp in the same directory (a rename does not cross file systems),
 * is synced, and renamed over PATH. node_exporter ignores the .tmp name
 * (it reads *.prom only).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tandemd.h"

int textfile_write(const char *path, const char *buf, size_t len,
		   char *err, size_t errlen)
{
	char tmp[4096];
	size_t done = 0;
	ssize_t n;
	int fd, ret = 0;

	if ((size_t)snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= sizeof(tmp)) {
		snprintf(err, errlen, "textfile %s: name too long", path);
		return -ENAMETOOLONG;
	}
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW,
		  0644);
	if (fd < 0) {
		ret = -errno;
		snprintf(err, errlen, "textfile %s: %s", tmp, strerror(errno));
		return ret;
	}
	/* node_exporter runs as another user: readable whatever the umask */
	if (fchmod(fd, 0644)) {
		ret = -errno;
		snprintf(err, errlen, "textfile %s: chmod: %s", tmp,
			 strerror(errno));
		goto err_unlink;
	}
	while (done < len) {
		n = write(fd, buf + done, len - done);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			ret = -errno;
			snprintf(err, errlen, "textfile %s: writing: %s", tmp,
				 strerror(errno));
			goto err_unlink;
		}
		done += n;
	}
	if (fsync(fd)) {
		ret = -errno;
		snprintf(err, errlen, "textfile %s: fsync: %s", tmp,
			 strerror(errno));
		goto err_unlink;
	}
	if (close(fd)) {
		fd = -1;
		ret = -errno;
		snprintf(err, errlen, "textfile %s: close: %s", tmp,
			 strerror(errno));
		goto err_unlink;
	}
	fd = -1;
	if (rename(tmp, path)) {
		ret = -errno;
		snprintf(err, errlen, "textfile %s: rename: %s", path,
			 strerror(errno));
		goto err_unlink;
	}
	return 0;

err_unlink:
	if (fd >= 0)
		close(fd);
	unlink(tmp);
	return ret;
}
