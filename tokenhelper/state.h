/* SPDX-License-Identifier: MIT */
#ifndef MB_STATE_H
#define MB_STATE_H

/* An account's persistent state and its text: the only place that knows
 * the state file's fields (store.c only moves the text to and from the
 * disk).  The format is a JSON object, "version": 1, written by json-c;
 * unknown members are ignored, missing ones are zero, except version. */

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#define MB_STATE_VERSION 1
/* A state file larger than this is corrupt. */
#define MB_STATE_MAX_SIZE (1024 * 1024)
/* Room reserved for a new state beyond the current one: two tokens of
 * the largest size accepted (MB_TOKEN_MAX, 16 KiB), each
 * JSON-escaped at worst to twice that, and the other fields. */
#define MB_STATE_RESERVE (5 * 16384)

struct mb_state {
	char *refresh_token;	/* secret; NULL if none */
	char *access_token;	/* secret; NULL if none */
	time_t expires_at;	/* of access_token, unix seconds; 0 unknown */
	/* as granted, NULL if unknown; provider text, safe to show
	 * (provider-text.h) when a reply of this version stored it */
	char *scope;
	bool rejected;		/* a server rejected access_token */
	bool needs_authorize;	/* a permanent refresh failure happened */
	/* true when that failure is the client's configuration (wrong
	 * client_id/secret...): retried on the next call because the fix
	 * is in the config and the refresh token may still be good. */
	bool client_problem;
	char *reason;		/* why needs_authorize, with advice */
	time_t last_refresh;	/* when access_token was obtained */
	char *last_error;	/* last refresh failure (secret-free) */
	time_t updated;		/* last write */
	/* the last automatic forced refresh (a server rejected the token:
	 * serve, or `mailbearer token` honouring a recorded rejection):
	 * rate-limited across processes; 0 none */
	time_t last_forced;
	/* the last `mailbearer token --refresh` (asked for by a person or
	 * a script): limited on its own, so that serve's attempt never
	 * delays that recovery; 0 none */
	time_t last_asked;
	/* when the current refresh token was obtained (import, authorize,
	 * rotation); 0 unknown.  Google's "Testing" consent screens kill it
	 * after 7 days, Microsoft's after 90 idle days. */
	time_t refresh_since;
	/* when a request with this refresh token was sent to a provider
	 * that rotates strictly and got no answer (0 none): the provider
	 * may have spent the token, so no refresh is made with it until
	 * `mailbearer token --refresh` tries it once more knowingly;
	 * needs_authorize is set with it */
	time_t unanswered_at;
	/* +1 on every write: a leftover temporary file is adopted only when
	 * it is newer than the state file (0 in files that predate it) */
	long long generation;
	/* who obtained access_token: "HOST pid PID" (a fleet's status
	 * shows which host refreshed last); NULL unknown */
	char *refreshed_by;
};

/* Wipes the secrets and frees every field; the struct is zeroed. */
void mb_state_clear(struct mb_state *st);
/* *dst (overwritten, not cleared) becomes a deep copy of *src. */
void mb_state_copy(struct mb_state *dst, const struct mb_state *src);

/* The tokens are tokens (common/token-syntax.h) or NULL.
 * The state file's text (malloc'd; the caller wipes and frees it), or
 * NULL when out of memory. */
char *mb_state_encode(const struct mb_state *st);
/* Fills *st (zeroed first) from the text; 0, or -1 with *error_r
 * malloc'd ("field \"x\" is missing or has the wrong type", "not valid
 * JSON (...)") when it is not a valid state. */
int mb_state_decode(const char *text, size_t len, struct mb_state *st,
		    char **error_r);

#endif
