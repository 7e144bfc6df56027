/* SPDX-License-Identifier: MIT */
#include <config.h>

#include "isotime.h"

#include <stdio.h>

size_t
mb_iso_tm(const struct tm *tm, long ms, char *buf, size_t size)
{
	size_t n;
	int m;

	if (size == 0)
		return 0;
	n = strftime(buf, size, "%Y-%m-%dT%H:%M:%S", tm);
	if (n == 0)
		goto fail;
	if (ms >= 0)
		m = snprintf(buf + n, size - n, ".%03ldZ", ms % 1000);
	else
		m = snprintf(buf + n, size - n, "Z");
	if (m < 0 || (size_t)m >= size - n)
		goto fail;
	return n + (size_t)m;
fail:
	buf[0] = '\0';
	return 0;
}

const char *
mb_iso_time(time_t t, char *buf, size_t size, const char *none)
{
	struct tm tm;

	if (size == 0)
		return buf;
	if (t <= 0 || gmtime_r(&t, &tm) == NULL ||
	    mb_iso_tm(&tm, -1, buf, size) == 0)
		snprintf(buf, size, "%s", none);
	return buf;
}
