#ifndef MB_TOKEN_CACHE_H
#define MB_TOKEN_CACHE_H

/* serve's per-account token cache and its refresh workers.
 *
 * A request is answered from memory whenever the account holds an access
 * token that is still valid by the clock: no lock is ever held across
 * network I/O, a sleep or a file-lock wait.  Each account has one entry
 * with a small mutex that guards only memory.  Refreshes run in a worker
 * thread per account (single-flight: at most one at a time), beside the
 * request path; a request waits for one only when no valid token exists,
 * and then at most MB_CACHE_WAIT_MS.  A scheduler thread starts the
 * proactive (one freshness rule: mb_expiry_refresh_at()), keep-alive and
 * retry refreshes; it does no I/O itself.
 *
 * A configuration and its entries form a generation; a reload swaps the
 * generation in O(accounts) under one short lock, and entries (with their
 * cached tokens and any refresh in flight) carry over to accounts of the
 * same name and state directory.  Old generations are freed when the
 * last request or worker using them lets go. */

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "conf.h"

/* A request with no valid token waits this long for a refresh; safely
 * below the plugin's 30 s default (mailbearer_timeout). */
#define MB_CACHE_WAIT_MS	20000
/* A cached token is served only while it has this many seconds left. */
#define MB_CACHE_MIN_LEFT	10
/* After a failed refresh, a request may start another one after this
 * many seconds (the scheduler backs off from 30 s to 1 h). */
#define MB_CACHE_REQUEST_RETRY	10

struct mb_cache_options {
	/* Refresh every account at least this often (seconds), even when
	 * nobody asks for it (Microsoft's 90-day idle rule).  0: never. */
	long keepalive;
};

struct mb_cache;
struct mb_cache_gen;
struct mb_cache_entry;

/* Takes ownership of *cfg (sets it to NULL) and starts the scheduler.
 * NULL (logged) if out of memory or a thread cannot be started. */
struct mb_cache *mb_cache_new(struct mb_config **cfg,
			      const struct mb_cache_options *opts);
/* Swaps in *cfg (ownership taken, set to NULL).  Never waits for a
 * request or a refresh.  0, or -1 (logged) keeping the old one. */
int mb_cache_reload(struct mb_cache *c, struct mb_config **cfg);
/* Stops the scheduler, cancels the refreshes (mb_cancel_all()), wakes
 * every waiting request, and waits up to grace_ms for the workers.
 * Returns true if every worker ended (then mb_cache_free() is safe). */
bool mb_cache_stop(struct mb_cache *c, int grace_ms);
/* Wipes every cached token and frees everything; *c becomes NULL.  Only
 * after mb_cache_stop() returned true and every generation was
 * released.  NULL-safe. */
void mb_cache_free(struct mb_cache **c);

/* The current generation, held until mb_cache_release(). */
struct mb_cache_gen *mb_cache_acquire(struct mb_cache *c);
void mb_cache_release(struct mb_cache_gen *g);
const struct mb_config *mb_cache_config(const struct mb_cache_gen *g);
/* uid may use at least one account (root and our own uid always may). */
bool mb_cache_uid_known(const struct mb_cache_gen *g, uid_t uid);
/* The account and its entry, or NULL. */
const struct mb_account *mb_cache_find(const struct mb_cache_gen *g,
				       const char *name,
				       struct mb_cache_entry **e_r);

/* The answer to a TOKEN request: writes one response line into out. */
void mb_cache_answer_token(struct mb_cache *c, struct mb_cache_gen *g,
			   const struct mb_account *acct,
			   struct mb_cache_entry *e, char *out,
			   size_t out_size);
/* A server refused token, sent with login (NULL if the plugin did not
 * say).  Writes DONE, or ERR login-mismatch when login is not the
 * account's user (then nothing is refreshed: a new token would be
 * refused just the same). */
void mb_cache_answer_rejected(struct mb_cache *c, struct mb_cache_gen *g,
			      const struct mb_account *acct,
			      struct mb_cache_entry *e, const char *token,
			      const char *login, uid_t uid, char *out,
			      size_t out_size);

#endif
