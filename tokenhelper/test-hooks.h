/* SPDX-License-Identifier: MIT */
#ifndef MB_TEST_HOOKS_H
#define MB_TEST_HOOKS_H

/* Knobs of the test suite, compiled only into a build configured with
 * --enable-test-hooks (tests/run; never a package): a product constant
 * the tests would otherwise wait out in real time, read once from the
 * environment.  In any other build, mb_test_hook_long() is the
 * constant itself. */

#include <config.h>

#ifdef MB_TEST_HOOKS
#include <signal.h>
#include <stdlib.h>
#include <string.h>

/* MB_TEST_CRASH_AT=POINT: SIGKILL at the named point (the durability and
 * daemon tests crash there). */
static inline void
mb_test_crash_point(const char *point)
{
	const char *want = getenv("MB_TEST_CRASH_AT");

	if (want != NULL && strcmp(want, point) == 0)
		raise(SIGKILL);
}

static inline long
mb_test_hook_long(const char *name, long value)
{
	const char *v = getenv(name);
	char *end = NULL;
	long n;

	if (v == NULL || *v == '\0')
		return value;
	n = strtol(v, &end, 10);
	return *end == '\0' && n > 0 ? n : value;
}
#else
#define mb_test_hook_long(name, value) (value)
#define mb_test_crash_point(point) ((void)(point))
#endif

#endif
