/* syslog-shim.c: an LD_PRELOAD module for the end-to-end tests.
 *
 * It records two things to the file named by $MB_SYSLOG_FILE:
 *  - "<errdetail> TEXT" for every sasl_seterror() call (what
 *    sasl_errdetail() then returns to the application: our plugin's decoded
 *    reason; Postfix logs it, imtest does not print it), before forwarding
 *    the call to libsasl2;
 *  - "<PRI> TEXT" for syslog(3) calls.
 *
 * libsasl2 hands log messages of an application that registers no
 * SASL_CB_LOG callback (imtest, pop3test, smtptest) to syslog(3).  The test
 * machine may have no syslog daemon, and the tests want to read what our
 * plugin logged (the decoded reason of a rejected token), so this module
 * replaces syslog() and friends with appends to the file named by
 * $MB_SYSLOG_FILE ("<priority> message" per line).  Without that variable
 * the messages are dropped.  Test code only: never installed. */

#include <config.h>

#include <dlfcn.h>
#include <string.h>
#include <sasl/sasl.h>

/* The fortified syslog() is an inline wrapper: we define the real names. */
#undef _FORTIFY_SOURCE

#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <syslog.h>
#include <unistd.h>

/* The prototypes come from <syslog.h> (fortified names declared here). */
void __syslog_chk(int pri, int flag, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
void __vsyslog_chk(int pri, int flag, const char *fmt, va_list ap)
	__attribute__((format(printf, 3, 0)));

static void
shim_vlog(int pri, const char *fmt, va_list ap)
	__attribute__((format(printf, 2, 0)));

static void
shim_vlog(int pri, const char *fmt, va_list ap)
{
	const char *path = getenv("MB_SYSLOG_FILE");
	char line[4096];
	int fd;
	int n;
	int m;

	if (path == NULL || *path == '\0')
		return;
	n = snprintf(line, sizeof(line), "<%d> ", pri & LOG_PRIMASK);
	if (n < 0)
		return;
	m = vsnprintf(line + n, sizeof(line) - (size_t)n - 1, fmt, ap);
	if (m < 0)
		return;
	n += m;
	if (n > (int)sizeof(line) - 2)
		n = (int)sizeof(line) - 2;
	line[n++] = '\n';
	fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0)
		return;
	/* One write per line, O_APPEND: lines of processes do not mix. */
	if (write(fd, line, (size_t)n) < 0)
		n = 0;
	close(fd);
}

void
syslog(int pri, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	shim_vlog(pri, fmt, ap);
	va_end(ap);
}

void
vsyslog(int pri, const char *fmt, va_list ap)
{
	shim_vlog(pri, fmt, ap);
}

void
__syslog_chk(int pri, int flag, const char *fmt, ...)
{
	va_list ap;

	(void)flag;
	va_start(ap, fmt);
	shim_vlog(pri, fmt, ap);
	va_end(ap);
}

void
__vsyslog_chk(int pri, int flag, const char *fmt, va_list ap)
{
	(void)flag;
	shim_vlog(pri, fmt, ap);
}

/* True when fmt uses only conversions vsnprintf understands the way
 * libsasl2 does (libsasl2 adds %m and %z of its own). */
static int
shim_printf_compatible(const char *fmt)
{
	const char *p;

	for (p = strchr(fmt, '%'); p != NULL; p = strchr(p + 2, '%')) {
		if (p[1] == '\0' || strchr("sdiuxc%", p[1]) == NULL)
			return 0;
	}
	return 1;
}

typedef void (*shim_seterror_fn)(sasl_conn_t *, unsigned, const char *, ...);

void
sasl_seterror(sasl_conn_t *conn, unsigned flags, const char *fmt, ...)
{
	static const char tag[] = "<errdetail> %s";
	shim_seterror_fn real;
	char msg[2048];
	va_list ap;

	if (fmt == NULL)
		return;
	if (shim_printf_compatible(fmt)) {
		va_start(ap, fmt);
		vsnprintf(msg, sizeof(msg), fmt, ap);
		va_end(ap);
	} else {
		snprintf(msg, sizeof(msg), "%s", fmt);
	}
	syslog(LOG_NOTICE, tag, msg);
	*(void **)&real = dlsym(RTLD_NEXT, "sasl_seterror");
	if (real != NULL)
		real(conn, flags, "%s", msg);
}

/* openlog/closelog would open /dev/log: keep them away from it. */
void
openlog(const char *ident, int option, int facility)
{
	(void)ident;
	(void)option;
	(void)facility;
}

void
closelog(void)
{
}
