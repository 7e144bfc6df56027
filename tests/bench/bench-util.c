/* SPDX-License-Identifier: MIT */
#include <config.h>

#include "bench-util.h"

#include <errno.h>
#include <stdlib.h>

long
bench_parse_count(const char *s, long max)
{
	char *end = NULL;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || v < 1 || v > max)
		return -1;
	return v;
}
