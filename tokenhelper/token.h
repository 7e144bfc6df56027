/* SPDX-License-Identifier: MIT */
#ifndef MB_TOKEN_H
#define MB_TOKEN_H

/* Getting a valid access token for an account: read the state file,
 * refresh under the account's lock when needed (single-flight across
 * processes: whoever waited for the lock re-reads the state and does not
 * refresh again), persist rotated refresh tokens before handing out the
 * new access token.  Shared by `mailbearer token` and `mailbearer serve`. */

#include <stdbool.h>
#include <time.h>

#include "conf.h"

struct mb_access {
	char *token;		/* malloc'd; release with mb_access_clear() */
	time_t expires_at;	/* unix seconds, 0 if unknown */
	time_t obtained_at;	/* when the provider issued it, 0 if unknown */
	/* the state it came from needs attention (needs authorize, or no
	 * refresh token for an account that needs one): the token works
	 * only until it expires */
	bool attention;
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

/* Forced refreshes of one account: at most one per this many seconds,
 * across processes, for each of two kinds counted apart: the automatic
 * ones (a rejected current token; the state's last_forced) and
 * `mailbearer token --refresh` (last_asked).  A server that keeps
 * refusing fresh tokens (wrong user name, missing scope), or --refresh
 * in a PassCmd, would otherwise make every login cost a token-endpoint
 * request; apart, so that serve's automatic attempt never delays the
 * recovery a person runs. */
#define MB_TOKEN_FORCE_INTERVAL 60

/* What a caller of mb_token_get_ex() wants beyond "a valid token". */
struct mb_token_req {
	/* A token a server refused, or NULL.  If the state still holds
	 * exactly this token it is refreshed even though it looks valid;
	 * unless proactive, the refusal is recorded in the state (so that
	 * `mailbearer token` honours it) and the refresh is a forced one. */
	const char *rejected;
	/* Refresh even if the token looks valid; unless proactive, this is
	 * a forced refresh. */
	bool force;
	/* serve's proactive and keep-alive refreshes: the refresh asked for
	 * by force or rejected is not rate-limited and marks nothing. */
	bool proactive;
};

/* Fills *out with an access token valid for at least the account's
 * refresh_margin (refreshing if needed, under the account's lock).  A
 * forced refresh within MB_TOKEN_FORCE_INTERVAL of the previous one is
 * not made: MB_TOKEN_TRANSIENT, and the message says when the next one
 * is allowed.  On failure *error_r is a malloc'd, secret-free sentence
 * naming the cause and the fix (caller frees).  req may be NULL.
 * Thread-safe, for different accounts and for the same account (the
 * account's flock serialises, one open file description per call). */
enum mb_token_status mb_token_get_ex(const struct mb_account *acct,
				     const struct mb_token_req *req,
				     struct mb_access *out, char **error_r);
/* mb_token_get_ex() with { .rejected = rejected, .proactive = true }:
 * the rejected token, if still current, is refreshed without being
 * recorded or rate-limited. */
enum mb_token_status mb_token_get(const struct mb_account *acct,
				  const char *rejected,
				  struct mb_access *out, char **error_r);
/* mb_token_get_ex() with { .force = true }: `mailbearer token
 * --refresh`.  Never hands out the current access token (it is run
 * because a server refused it): no new token is a failure, and a dead
 * grant MB_TOKEN_NEEDS_AUTHORIZE.  Rate-limited by its own previous call
 * only (last_asked).  Only this call sends, once more and knowingly, a refresh
 * token whose last request went unanswered at a strictly rotating
 * provider (the state's unanswered_at): the provider may have spent it,
 * and nothing else ever sends it again. */
enum mb_token_status mb_token_get_forced(const struct mb_account *acct,
					 struct mb_access *out,
					 char **error_r);
/* Records, under the account's lock, that a server refused token: if the
 * state's access token is exactly token it is marked rejected (so the
 * next mb_token_get, in any process, refreshes it); otherwise nothing
 * changes.  MB_TOKEN_OK, or another status with *error_r malloc'd. */
enum mb_token_status mb_token_report_rejected(const struct mb_account *acct,
					      const char *token,
					      char **error_r);
/* A refresh succeeded but its state could not be written: the new state
 * (holding the only copy of a rotated refresh token) is kept in memory,
 * preferred by later calls in this process, which retry the write first.
 * This retries the write now.  0: nothing pending, or written; -1: still
 * pending, *error_r malloc'd.  serve calls it periodically. */
int mb_token_flush_pending(const struct mb_account *acct, char **error_r);
/* The access token the state file holds, as it is: no refresh, no lock
 * (the file is only ever replaced whole), no crash recovery.  true if
 * *out was filled with a token that is usable by the clock, even one a
 * server reported as refused (serve keeps serving it until a refresh
 * replaces it).  serve reads every account with it at start-up. */
bool mb_token_peek(const struct mb_account *acct, struct mb_access *out);
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
