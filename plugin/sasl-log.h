/* SPDX-License-Identifier: MIT */
#ifndef MB_SASL_LOG_H
#define MB_SASL_LOG_H

/* Logging and error details for the plugin.  libsasl2's log and seterror
 * use a formatter of their own that is not printf (no length modifiers, no
 * precision): these wrappers format with vsnprintf into a bounded buffer
 * and hand the result over as "%s".  Nothing here writes to stdio.
 *
 * Callers never pass a secret (token, password) as an argument: messages
 * name the user and describe the token ("is empty", "contains ^A"). */

#include <sasl/sasl.h>
#include <sasl/saslplug.h>

/* Longest message; longer ones are cut. */
#define MB_SASL_LOG_MAX 1024

/* utils->log(utils->conn, level, "%s", formatted). */
void mb_sasl_log(const sasl_utils_t *utils, int level, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* What mb_sasl_log(utils, level, "%s%s%s", a, b, c) logs (cut at
 * MB_SASL_LOG_MAX - 1 bytes), without a formatter: for a message sent on
 * every login. */
void mb_sasl_log3(const sasl_utils_t *utils, int level, const char *a,
		  const char *b, const char *c);

/* Records the text sasl_errdetail() returns (seterror with SASL_NOLOG)
 * and logs it once at SASL_LOG_ERR.  Every detail set here ends a login
 * and names its cause; libsasl2 would log it at SASL_LOG_FAIL, which its
 * default syslog output (log_level 1) and Postfix (verbose only) drop, so
 * the administrator would never see why.  At SASL_LOG_ERR it reaches
 * syslog for imtest/mbsync and Postfix's maillog as a warning. */
void mb_sasl_seterror(const sasl_utils_t *utils, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

#endif
