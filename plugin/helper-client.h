/* SPDX-License-Identifier: MIT */
#ifndef MB_HELPER_CLIENT_H
#define MB_HELPER_CLIENT_H

/* The plugin's client of `mailbearer serve` (doc/protocol.md).  Runs in
 * the mail client's process: no stdio, no exit, allocation through utils,
 * every wait bounded by a deadline (connect + request + response).
 *
 * The socket: common/serve-socket.h's rule, the SASL option
 * mailbearer_socket (utils->getopt) being the explicit one.
 * Timeout: the SASL option mailbearer_timeout (seconds, 1-600), default 30.
 * Both options are read once per login by the options module.
 *
 * There is deliberately no process-wide token cache: the helper answers
 * from memory over a local socket, and a cache would be shared mutable
 * state inside someone else's process that a rejection must invalidate.
 * The token lives in the connection context for the one login. */

#include <stddef.h>

#include <sasl/sasl.h>
#include <sasl/saslplug.h>

#include "options.h"

/* Asks the helper for account's access token.  On SASL_OK *token_r is a
 * NUL-terminated, utils->malloc'd token of *len_r bytes that the caller
 * erases and frees.  Otherwise a secret-free error detail naming the
 * socket and the cure is set with seterror and SASL_FAIL (or SASL_NOMEM)
 * is returned; *token_r is NULL. */
int mb_helper_get_token(const sasl_utils_t *utils,
			const struct mb_options *opts, const char *mech_name,
			const char *account, char **token_r, size_t *len_r);

/* Best effort, bounded: tells the helper that a server rejected token
 * for account, so that the next request refreshes it.  login is the
 * authentication name sent with the token (NULL: not sent), so that the
 * helper can name a login that differs from the account's user.  Failures
 * are only logged (the login fails anyway). */
void mb_helper_report_rejected(const sasl_utils_t *utils,
			       const struct mb_options *opts,
			       const char *mech_name, const char *account,
			       const char *token, const char *login);

#endif
