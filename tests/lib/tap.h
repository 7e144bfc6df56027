/* SPDX-License-Identifier: MIT */
#ifndef MB_TAP_H
#define MB_TAP_H

#include <stddef.h>

/* A small TAP (Test Anything Protocol) emitter for automake's tap-driver.
 * Output goes to stdout; diagnostics are "# " lines. */

void tap_plan(int n);
/* Records one result; returns ok so callers can add diagnostics. */
int tap_ok(int ok, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
int tap_is_int(long long got, long long want, const char *name);
int tap_is_str(const char *got, const char *want, const char *name);
/* Compares got[0..got_len) with want[0..want_len), binary-safe. */
int tap_is_mem(const void *got, size_t got_len, const void *want,
	       size_t want_len, const char *name);
/* ok if hay contains (tap_has_str) or does not contain (tap_lacks_str)
 * needle; the diagnostic shows both. */
int tap_has_str(const char *hay, const char *needle, const char *name);
int tap_lacks_str(const char *hay, const char *needle, const char *name);
void tap_skip(int n, const char *reason);
/* "1..0 # SKIP reason" then exit(0): the whole file is skipped. */
void tap_skip_all(const char *reason) __attribute__((noreturn));
void tap_diag(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Prints the plan if tap_plan was not called, returns the exit status. */
int tap_done(void);

#endif
