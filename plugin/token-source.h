/* SPDX-License-Identifier: MIT */
#ifndef MB_TOKEN_SOURCE_H
#define MB_TOKEN_SOURCE_H

/* Where the access token comes from: the one place that decides, by the
 * rule of common/token-rule.h (doc/plugin.md, "Token source"): the
 * password is the token (an RFC 6750 b64token of at least 32 characters,
 * or "bearer:<token>"), or it asks the token helper (empty,
 * "mailbearer:", "mailbearer:<account>"), or it is a password, which
 * these mechanisms refuse before anything is sent, naming the setting of
 * the client in use that restores its PLAIN/LOGIN login
 * (plugin/password-advice.h).
 *
 * The helper branch (ts_from_helper() and mb_token_source_rejected())
 * is the UNIX-socket client of `mailbearer serve`, plugin/helper-client.c. */

#include <stdbool.h>
#include <stddef.h>

#include <sasl/sasl.h>
#include <sasl/saslplug.h>

#include "options.h"

/* The token of one login.  From the helper it is the plugin's (allocated
 * with utils->malloc, NUL-terminated, erased and freed by
 * mb_token_clear); from the password it is the password itself, used in
 * place: data points into the application's secret (not NUL-terminated
 * at len once trailing blanks are dropped) and is valid only as long as
 * that secret, i.e. during the step that resolved it. */
struct mb_token {
	const char *data;	/* or NULL */
	size_t len;
	char *owned;	/* data when it is the plugin's copy, else NULL */
	/* helper source: the account asked for (for the REJECTED report);
	 * "" for the password source */
	char account[256];
	const char *mech_name;	/* static; for the report's options */
	/* the token rule's scan found data a b64token (password source):
	 * the syntax check need not scan it again */
	bool b64token;
};

/* Fills *tok with the token for authid according to the rule.  Returns
 * SASL_OK (release tok with mb_token_clear), or a SASL error after
 * setting a secret-free error detail with seterror: SASL_NOMECH for a
 * password (not a token), whose detail names the setting that restores
 * the client's password login.  The password belongs
 * to the caller (application or prompt) and is only read: when it is the
 * token, tok->data points into it (no copy) and tok->owned is NULL. */
int mb_token_source_resolve(const sasl_utils_t *utils,
			    const struct mb_options *opts,
			    const char *mech_name, const char *authid,
			    size_t authid_len, const char *password,
			    size_t password_len, struct mb_token *tok);

/* The server has rejected tok (error challenge): lets the source drop or
 * refresh it so that the next login gets a new one.  No-op for the
 * password source. */
void mb_token_source_rejected(const sasl_utils_t *utils,
			      const struct mb_options *opts,
			      const char *authid, size_t authid_len,
			      const struct mb_token *tok);

/* Erases and frees the plugin's copy (tok->owned), if any; a borrowed
 * password is left alone (it is the application's).  tok is left empty.
 * NULL-safe. */
void mb_token_clear(const sasl_utils_t *utils, struct mb_token *tok);

#endif
