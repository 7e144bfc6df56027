/* SPDX-License-Identifier: MIT */
#ifndef MB_BENCH_UTIL_H
#define MB_BENCH_UTIL_H

/* Helpers shared by the benchmark drivers. */

/* s as a whole decimal number from 1 to max, or -1. */
long bench_parse_count(const char *s, long max);

#endif
