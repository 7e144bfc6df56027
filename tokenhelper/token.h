#ifndef MB_TOKEN_H
#define MB_TOKEN_H

/* Getting a valid access token for an account: read the state file,
 * refresh under the account's lock when needed (single-flight across
 * processes: whoever waited for the lock re-reads the state and does not
 * refresh again), persist rotated refresh tokens before handing out the
 * new access token.  Shared by `mailbearer token` and `mailbearer serve`. */

#include <time.h>

#include "config.h"

struct mb_access {
	char *token;		/* malloc'd; release with mb_access_clear() */
	time_t expires_at;	/* unix seconds, 0 if unknown */
	time_t obtained_at;	/* when the provider issued it, 0 if unknown */
};

enum mb_token_status {
	MB_TOKEN_OK = 0,
	/* Network/5xx/timeout/429 and no still-valid token to serve; the
	 * refresh token is kept, a later call may succeed. */
	MB_TOKEN_TRANSIENT,
	/* invalid_grant & co: the account needs `mailbearer authorize`. */
	MB_TOKEN_NEEDS_AUTHORIZE,
	/* Configuration or local problem (unreadable state, bad modes...). */
	MB_TOKEN_ERROR,
};

/* Fills *out with an access token valid for at least the account's
 * refresh_margin (refreshing if needed).  rejected: NULL, or a token a
 * server has just rejected: if the state still holds exactly that token
 * it is refreshed even though it looks valid.  On failure *error_r is a
 * malloc'd, secret-free sentence naming the cause and the fix (caller
 * frees).  Thread-safe for different accounts; callers serialise calls
 * for the same account within one process. */
enum mb_token_status mb_token_get(const struct mb_account *acct,
				  const char *rejected,
				  struct mb_access *out, char **error_r);
/* Wipes and frees the token, zeroes the struct.  NULL-safe. */
void mb_access_clear(struct mb_access *a);

/* The SASL initial response for user and token, base64-encoded, as a
 * malloc'd string (caller wipes and frees):
 *   "xoauth2":     user=<user>^Aauth=Bearer <token>^A^A
 *   "oauthbearer": n,a=<user>,^Aauth=Bearer <token>^A^A  (RFC 7628)
 *   "raw":         the token itself.
 * NULL for an unknown format. */
char *mb_token_format(const char *format, const char *user,
		      const char *token);

#endif
