/* SPDX-License-Identifier: MIT */
#include <config.h>

#include "xalloc.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <unistd.h>

#include "log.h"
#include "wipe.h"

/* The one out-of-memory policy (xalloc.h): one line, then _exit. */
static void __attribute__((noreturn))
mb_oom(void)
{
	mb_log_fatal("out of memory; exiting at once");
	_exit(EX_OSERR);
}

void *
mb_xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);

	if (p == NULL)
		mb_oom();
	return p;
}

void *
mb_xcalloc(size_t n, size_t size)
{
	void *p = calloc(n ? n : 1, size ? size : 1);

	if (p == NULL)
		mb_oom();
	return p;
}

void *
mb_xrealloc(void *p, size_t n)
{
	void *q = realloc(p, n ? n : 1);

	if (q == NULL)
		mb_oom();
	return q;
}

char *
mb_xstrdup(const char *s)
{
	char *d = strdup(s);

	if (d == NULL)
		mb_oom();
	return d;
}

char *
mb_xstrdup_or_null(const char *s)
{
	return s == NULL ? NULL : mb_xstrdup(s);
}

char *
mb_xstrndup(const char *s, size_t n)
{
	char *d = strndup(s, n);

	if (d == NULL)
		mb_oom();
	return d;
}

char *
mb_xasprintf(const char *fmt, ...)
{
	va_list ap;
	char *s;
	int n;

	va_start(ap, fmt);
	n = vasprintf(&s, fmt, ap);
	va_end(ap);
	if (n < 0)
		mb_oom();
	return s;
}

void
mb_free_secret(char **s)
{
	if (s == NULL || *s == NULL)
		return;
	mb_wipe(*s, strlen(*s));
	free(*s);
	*s = NULL;
}
