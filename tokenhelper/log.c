/* SPDX-License-Identifier: MIT */
#include <config.h>

#include "log.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "isotime.h"
#include "text-safe.h"

static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;
static char log_ident[64] = "mailbearer";
/* Read without the lock by mb_log_fatal(). */
static atomic_bool log_syslog;
static bool log_verbose;
static bool log_stamps;

void
mb_log_init(const char *ident, bool to_syslog, bool verbose)
{
	pthread_mutex_lock(&log_lock);
	if (ident != NULL)
		snprintf(log_ident, sizeof(log_ident), "%s", ident);
	if (log_syslog && !to_syslog)
		closelog();
	log_syslog = to_syslog;
	log_verbose = verbose;
	if (to_syslog)
		openlog(log_ident, LOG_PID | LOG_NDELAY, LOG_MAIL);
	pthread_mutex_unlock(&log_lock);
}

/* Whether standard error is the journal's stream ($JOURNAL_STREAM is
 * "DEV:INO" of it): the journal stamps every line itself. */
static bool
mb_log_stderr_is_journal(void)
{
	const char *js = getenv("JOURNAL_STREAM");
	unsigned long long dev, ino;
	struct stat st;

	return js != NULL && sscanf(js, "%llu:%llu", &dev, &ino) == 2 &&
	       fstat(STDERR_FILENO, &st) == 0 &&
	       (unsigned long long)st.st_dev == dev &&
	       (unsigned long long)st.st_ino == ino;
}

void
mb_log_timestamps(bool on)
{
	pthread_mutex_lock(&log_lock);
	log_stamps = on && !mb_log_stderr_is_journal();
	pthread_mutex_unlock(&log_lock);
}

bool
mb_log_verbose(void)
{
	return log_verbose;
}

static const char *
mb_log_level_name(int level)
{
	switch (level) {
	case LOG_EMERG:
	case LOG_ALERT:
	case LOG_CRIT:
	case LOG_ERR:
		return "error: ";
	case LOG_WARNING:
		return "warning: ";
	case LOG_DEBUG:
		return "debug: ";
	default:
		return "";
	}
}

/* "account NAME: what failed: account NAME: why" and "...: account NAME
 * needs ...": the account is named once, at the start. */
static void
mb_log_drop_repeated_prefix(char *s)
{
	const char *colon;
	char *p;
	size_t n;

	if (strncmp(s, "account ", 8) != 0 ||
	    (colon = strstr(s + 8, ": ")) == NULL)
		return;
	n = (size_t)(colon - s) + 2;
	for (p = s + n; (p = strstr(p, ": ")) != NULL; p += 2) {
		if (strncmp(p + 2, s, n) == 0) {
			memmove(p + 2, p + 2 + n, strlen(p + 2 + n) + 1);
		} else if (n - 2 >= 11 && strncmp(p + 2, s, n - 2) == 0 &&
			   p[n] == ' ') {
			/* ": account NAME needs..." -> ": the account
			 * needs..." (not longer: NAME has 3 bytes or more) */
			memcpy(p + 2, "the account", 11);
			memmove(p + 13, p + n, strlen(p + n) + 1);
		}
	}
}

void
mb_log(int level, const char *fmt, ...)
{
	char raw[2048], buf[2048], when[40];
	struct timespec ts;
	struct tm tm;
	va_list ap;

	if (level == LOG_DEBUG && !log_verbose)
		return;
	va_start(ap, fmt);
	vsnprintf(raw, sizeof(raw), fmt, ap);
	va_end(ap);
	/* One event, one line, safe to show: the one rule for text others
	 * wrote (a line break is \x0A, never a line of its own). */
	mb_text_safe(buf, sizeof(buf), raw, strlen(raw), true);
	mb_log_drop_repeated_prefix(buf);
	when[0] = '\0';
	pthread_mutex_lock(&log_lock);
	if (!log_syslog && log_stamps &&
	    clock_gettime(CLOCK_REALTIME, &ts) == 0 &&
	    gmtime_r(&ts.tv_sec, &tm) != NULL) {
		size_t n = mb_iso_tm(&tm, ts.tv_nsec / 1000000, when,
				     sizeof(when) - 1);

		if (n > 0)
			snprintf(when + n, sizeof(when) - n, " ");
	}
	if (log_syslog)
		syslog(level, "%s", buf);
	else
		fprintf(stderr, "%s%s: %s%s\n", when, log_ident,
			mb_log_level_name(level), buf);
	pthread_mutex_unlock(&log_lock);
}

void
mb_log_fatal(const char *msg)
{
	char line[256];
	int n;

	/* log_ident only changes in mb_log_init(), before any thread. */
	n = snprintf(line, sizeof(line), "%s: error: %s\n", log_ident, msg);
	if (n > 0) {
		if ((size_t)n >= sizeof(line))
			n = (int)sizeof(line) - 1;
		/* Nothing more to do if this fails. */
		if (write(STDERR_FILENO, line, (size_t)n) < 0)
			n = 0;
	}
	if (atomic_load(&log_syslog))
		syslog(LOG_CRIT, "%s", msg);
}
