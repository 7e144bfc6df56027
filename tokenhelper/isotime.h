/* SPDX-License-Identifier: MIT */
#ifndef MB_ISOTIME_H
#define MB_ISOTIME_H

/* The one time format of mailbearer's output, logs and messages: ISO 8601
 * in UTC, "2026-11-28T19:37:31Z".  Pure, thread-safe (gmtime_r). */

#include <stddef.h>
#include <time.h>

/* Room for any of these strings, the NUL included. */
#define MB_ISO_TIME_SIZE 40

/* tm (UTC) into buf; ms >= 0 adds milliseconds ("...:31.042Z").  Returns
 * the length, or 0 with buf "" when it does not fit. */
size_t mb_iso_tm(const struct tm *tm, long ms, char *buf, size_t size);
/* t (unix seconds) into buf, or none ("never", "an unknown time"...) when
 * t <= 0 or cannot be converted.  Returns buf. */
const char *mb_iso_time(time_t t, char *buf, size_t size, const char *none);

#endif
