/* SPDX-License-Identifier: MIT */
#ifndef MB_ID_TOKEN_H
#define MB_ID_TOKEN_H

/* Who signed in at the browser, from the OpenID Connect id_token of a
 * token-endpoint reply: `mailbearer authorize` stores nothing unless it
 * names the account's user (a login CSRF would otherwise store someone
 * else's grant under the account).  The token came straight from the
 * token endpoint over verified TLS, so its signature need not be checked
 * (OpenID Connect Core 1.0, 3.1.3.7 step 6); its issuer (where known),
 * audience, expiry and nonce are. */

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

/* What the id_token must say. */
struct mb_id_expect {
	const char *provider;	/* google | microsoft | generic */
	const char *client_id;	/* aud */
	/* Microsoft: the token endpoint's URL; the issuer is
	 * https://ITS-HOST/TID/v2.0 (TID: the token's tid claim) */
	const char *token_endpoint;
	/* Microsoft: the account's tenant; when it is a GUID, the token's
	 * tid must be it (common, a domain name...: any tid) */
	const char *tenant;
	const char *nonce;	/* sent in the request; NULL: none sent */
	const char *user;	/* the account's user */
	time_t now;
};

enum mb_id_result {
	MB_ID_OK,		/* names user: *who_r */
	MB_ID_MISMATCH,		/* names someone else: *who_r */
	MB_ID_INVALID,		/* not a usable id_token: *error_r */
};

/* The id_token of a token-endpoint reply (a JSON object), malloc'd, or
 * NULL when it has none.  Treated as a secret (mb_free_secret()). */
char *mb_id_token_from_reply(const char *body, size_t len);

/* Checks jwt against x.  *who_r (MB_ID_OK, MB_ID_MISMATCH) is the
 * identity the token names; *error_r (MB_ID_INVALID) says what is wrong,
 * without the token.  Both malloc'd, and provider text: make them
 * printable before showing them. */
enum mb_id_result mb_id_token_check(const char *jwt,
				    const struct mb_id_expect *x,
				    char **who_r, char **error_r);

#endif
