#include <config.h>

#include "log.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;
static char log_ident[64] = "mailbearer";
/* Read without the lock by mb_log_fatal(). */
static atomic_bool log_syslog;
static bool log_verbose;

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

void
mb_log(int level, const char *fmt, ...)
{
	char buf[2048];
	va_list ap;

	if (level == LOG_DEBUG && !log_verbose)
		return;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	pthread_mutex_lock(&log_lock);
	if (log_syslog)
		syslog(level, "%s", buf);
	else
		fprintf(stderr, "%s: %s%s\n", log_ident,
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
