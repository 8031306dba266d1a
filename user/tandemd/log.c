// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Logging: one line per message on stderr, which systemd hands to
 * journald. The "<N>" prefix (sd-daemon.h's SD_ERR etc.) gives journald
 * the priority; a message is escaped so it cannot spill onto a second
 * line that journald would file as another message of the default
 * priority.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "tandemd.h"

void tlog(int prio, const char *fmt, ...)
{
	char msg[1024], line[4096];
	const unsigned char *s;
	size_t n = 0;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	for (s = (const unsigned char *)msg; *s && n + 5 < sizeof(line); s++) {
		if (*s < 0x20 || *s == 0x7f)
			n += snprintf(line + n, sizeof(line) - n, "\\x%02x", *s);
		else
			line[n++] = *s;
	}
	line[n] = '\0';
	/* one write: lines of the HTTP thread and the main one do not mix */
	fprintf(stderr, "<%d>tandemd: %s\n", prio, line);
}
