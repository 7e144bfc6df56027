/* SPDX-License-Identifier: MIT */
#ifndef MB_ADVICE_H
#define MB_ADVICE_H

#include <stdbool.h>

/* Pure classification of a failed refresh, and the advice to give.
 * No I/O; table-tested in tests/unit/test-advice.c. */

enum mb_fail_kind {
	/* Network, timeouts, 5xx, 429, garbage, unknown errors: retry
	 * later; the refresh token is kept and a valid access token is
	 * still served. */
	MB_FAIL_TRANSIENT,
	/* The grant is dead (invalid_grant, AADSTS700082...): the user must
	 * run `mailbearer authorize`.  Not retried automatically. */
	MB_FAIL_GRANT,
	/* The client's configuration is wrong (invalid_client, wrong or
	 * missing secret...): the account needs attention, but the refresh
	 * is retried on the next call since the fix is in the config. */
	MB_FAIL_CLIENT,
};

struct mb_fail_input {
	long http_status;	/* 0 when no HTTP response was received */
	const char *error;	/* OAuth2 "error" code, NULL if none */
	long aadsts;		/* Microsoft AADSTS code, 0 if none */
	const char *provider;	/* "google" | "microsoft" | "generic" */
	/* The client authenticates with a certificate (RFC 7523 client
	 * assertion), not a secret: advice about the client's credentials
	 * names the certificate. */
	bool certificate;
	/* flow = service_account (Google's JWT-bearer grant): there is no
	 * refresh token, and unauthorized_client / invalid_grant mean the
	 * delegation, the user or the clock. */
	bool service_account;
};

/* Returns the kind and points *advice_r at a static sentence (never
 * NULL) telling the administrator what happened and what to do.  A reply
 * with HTTP status 5xx or 429 is always MB_FAIL_TRANSIENT, whatever error
 * code it carries. */
enum mb_fail_kind mb_advice_classify(const struct mb_fail_input *in,
				     const char **advice_r);
/* "transient", "grant", "client". */
const char *mb_fail_kind_name(enum mb_fail_kind kind);

/* Advice for a failed `mailbearer authorize` (the provider's redirect
 * error, the code exchange, the device flow): invalid_client,
 * unauthorized_client, invalid_scope, access_denied, AADSTS7000218,
 * AADSTS700025...  A static sentence, never NULL; aadsts 0 if none. */
const char *mb_advice_authorize(const char *provider, const char *error,
				long aadsts);

#endif
