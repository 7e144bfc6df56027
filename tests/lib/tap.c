/* SPDX-License-Identifier: MIT */
#include <config.h>

#include "tap.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int tap_count;
static int tap_failed;
static int tap_planned = -1;

void
tap_plan(int n)
{
	tap_planned = n;
	printf("1..%d\n", n);
	fflush(stdout);
}

static int
tap_vok(int ok, const char *fmt, va_list ap)
{
	tap_count++;
	if (!ok)
		tap_failed++;
	printf("%sok %d - ", ok ? "" : "not ", tap_count);
	vprintf(fmt, ap);
	printf("\n");
	fflush(stdout);
	return ok;
}

int
tap_ok(int ok, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	tap_vok(ok, fmt, ap);
	va_end(ap);
	return ok;
}

int
tap_is_int(long long got, long long want, const char *name)
{
	int ok = got == want;

	tap_ok(ok, "%s", name);
	if (!ok)
		tap_diag("got %lld, want %lld", got, want);
	return ok;
}

int
tap_is_str(const char *got, const char *want, const char *name)
{
	int ok;

	if (got == NULL || want == NULL)
		ok = got == want;
	else
		ok = strcmp(got, want) == 0;
	tap_ok(ok, "%s", name);
	if (!ok)
		tap_diag("got \"%s\", want \"%s\"", got ? got : "(null)",
			 want ? want : "(null)");
	return ok;
}

int
tap_is_mem(const void *got, size_t got_len, const void *want,
	   size_t want_len, const char *name)
{
	int ok = got_len == want_len &&
		 (got_len == 0 || memcmp(got, want, got_len) == 0);

	tap_ok(ok, "%s", name);
	if (!ok)
		tap_diag("got %zu bytes, want %zu bytes (content differs)",
			 got_len, want_len);
	return ok;
}

int
tap_has_str(const char *hay, const char *needle, const char *name)
{
	int ok = strstr(hay, needle) != NULL;

	tap_ok(ok, "%s", name);
	if (!ok)
		tap_diag("no \"%s\" in \"%s\"", needle, hay);
	return ok;
}

int
tap_lacks_str(const char *hay, const char *needle, const char *name)
{
	int ok = strstr(hay, needle) == NULL;

	tap_ok(ok, "%s", name);
	if (!ok)
		tap_diag("unexpected \"%s\" in \"%s\"", needle, hay);
	return ok;
}

void
tap_skip(int n, const char *reason)
{
	for (int i = 0; i < n; i++) {
		tap_count++;
		printf("ok %d # SKIP %s\n", tap_count, reason);
	}
	fflush(stdout);
}

void
tap_skip_all(const char *reason)
{
	printf("1..0 # SKIP %s\n", reason);
	fflush(stdout);
	exit(0);
}

void
tap_diag(const char *fmt, ...)
{
	va_list ap;

	printf("# ");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	fflush(stdout);
}

int
tap_done(void)
{
	if (tap_planned < 0)
		printf("1..%d\n", tap_count);
	else if (tap_planned != tap_count)
		tap_diag("planned %d tests but ran %d", tap_planned,
			 tap_count);
	fflush(stdout);
	return tap_failed > 0 || (tap_planned >= 0 && tap_planned != tap_count);
}
