/* SPDX-License-Identifier: MIT */
#ifndef MB_REFRESH_H
#define MB_REFRESH_H

/* The refresh-token grant (RFC 6749 section 6) and expiry math. */

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "advice.h"
#include "conf.h"
#include "expiry.h"
#include "provider-text.h"	/* mb_redact(), once here */

enum mb_refresh_result {
	MB_REFRESH_OK = 0,
	MB_REFRESH_TRANSIENT,	/* retry later; nothing is lost */
	MB_REFRESH_GRANT,	/* the refresh token is dead: authorize */
	MB_REFRESH_CLIENT,	/* the client configuration is wrong */
	MB_REFRESH_LOCAL,	/* refused URL, TLS verification... */
};

struct mb_refresh_out {
	char *access_token;	/* secret */
	/* secret; NULL: keep the old one.  Also set on failure when a 2xx
	 * reply carried one: it must be saved, the old one may be spent
	 * (mb_refresh() then makes no further attempt). */
	char *refresh_token;
	char *scope;		/* NULL if not returned */
	long expires_in;	/* seconds; 3600 assumed if not returned */
	long retry_after;	/* from a 429/503, -1 if none */
	/* On failure: a secret-free sentence (provider's error, advice). */
	char *message;
	/* On MB_REFRESH_TRANSIENT: the last request was sent in full and
	 * no reply came (timeout after reply_timeout, reset, cancellation):
	 * the provider may have carried it out and spent the token. */
	bool unanswered;
};

/* One request to the account's token endpoint.  Fills *out (release
 * with mb_refresh_out_clear()). */
enum mb_refresh_result mb_refresh_once(const struct mb_account *acct,
				       const char *refresh_token,
				       struct mb_refresh_out *out);
/* Up to max_tries requests while the failure is transient, sleeping 1 s,
 * 2 s, 4 s... between them, or the server's Retry-After when it is at
 * most max_wait seconds (a longer Retry-After ends the attempts).  A
 * request sent and left unanswered ends the attempts when the account
 * rotates strictly (acct->rotation_strict, flow refresh_token): out->
 * unanswered is then set, and the token must not be sent again.  After
 * mb_cancel_all() (cancel.h) the transfer is aborted and the sleep ends
 * at once: MB_REFRESH_TRANSIENT with the message MB_HTTP_CANCELLED_TEXT,
 * "cancelled (mailbearer is shutting down)" (unless a reply carried a new
 * refresh token, whose message is kept). */
enum mb_refresh_result mb_refresh(const struct mb_account *acct,
				  const char *refresh_token, int max_tries,
				  long max_wait, struct mb_refresh_out *out);
void mb_refresh_out_clear(struct mb_refresh_out *out);
#endif
