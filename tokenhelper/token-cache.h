/* SPDX-License-Identifier: MIT */
#ifndef MB_TOKEN_CACHE_H
#define MB_TOKEN_CACHE_H

/* serve's per-account token cache: what is served from memory, when a
 * refresh starts, and what a client is told.  Owned by serve's event loop
 * (serve-loop.h) and touched by its thread only, so it holds no lock.
 * Nothing here reads the clock: every entry point takes `now`, which is
 * how the unit tests drive it (tests/unit/test-token-cache.c).  Refreshes
 * leave the loop as jobs handed to a runner (the refresh pool in serve, a
 * fake in the tests) and come back through mb_cache_job_done().
 *
 * A token valid by the clock is served: at start-up (mb_cache_warm()
 * reads every state file before the first request), while a refresh
 * runs, and after a REJECTED report, which starts at most one forced
 * refresh and withholds nothing.  Only a refresh token the provider
 * refused (needs-authorize) stops a still-valid token from being served.
 *
 * A configuration and its entries form a generation; a reload builds a
 * new one in O(accounts) and carries entries (cached token, refresh in
 * flight, waiting clients) over to accounts of the same name and state
 * directory.  An old generation lives until its last job ends. */

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>
#include <time.h>

#include "conf.h"
#include "token.h"

/* A client with no valid token to be given waits at most this long (or
 * the account's timeout, if shorter) for a refresh; below the plugin's
 * 30 s default (mailbearer_timeout). */
#define MB_CACHE_WAIT_MS	20000
/* A cached token is served only while it has this many seconds left. */
#define MB_CACHE_MIN_LEFT	10
/* After a failed refresh, a request may start another one after this
 * many seconds (the scheduler backs off from 30 s to 1 h). */
#define MB_CACHE_REQUEST_RETRY	10
#define MB_CACHE_BACKOFF_MIN	30
#define MB_CACHE_BACKOFF_MAX	3600
/* A refreshed state that could not be written is retried this often. */
#define MB_CACHE_FLUSH_RETRY	30
/* store = etcd: while the cluster does not answer, a failed refresh of
 * an account of the fleet is tried again after at most this long (the
 * back-off stops here), and at once when it answers again. */
#define MB_CACHE_FLEET_RETRY	30

enum mb_cache_job_kind {
	MB_JOB_LOAD,		/* no valid token in memory: read, refresh */
	MB_JOB_REJECTED,	/* a server refused the current token */
	MB_JOB_PROACTIVE,	/* the freshness rule says: refresh now */
	MB_JOB_KEEPALIVE,	/* nobody asked for a long time */
};

/* What a job brings back: filled by mb_cache_job_run() (or a test). */
struct mb_cache_result {
	enum mb_token_status st;
	struct mb_access a;	/* st == MB_TOKEN_OK */
	char *error;		/* malloc'd, secret-free, or NULL */
	bool pending;		/* the new state is not written yet */
};

struct mb_cache;
struct mb_cache_gen;
struct mb_cache_entry;
struct mb_cache_job;

struct mb_cache_runner {
	/* Starts job in the background; its result comes back through
	 * mb_cache_job_done().  false if it cannot (the job is freed by the
	 * cache and the account's error says so). */
	bool (*start)(void *ctx, struct mb_cache_job *job);
	/* The account's access token as the state file holds it, without
	 * refreshing or waiting for a lock; true if *out was filled. */
	bool (*peek)(void *ctx, const struct mb_account *acct,
		     struct mb_access *out);
	void *ctx;
};

/* A client waiting for an account's refresh (the loop embeds one in its
 * connection).  answer() is called once, with the response line, when
 * the refresh ends or serve stops; mb_cache_unwait() takes it off
 * earlier (the client's deadline). */
struct mb_cache_waiter {
	struct mb_cache_waiter *next, **pprev;
	struct mb_cache_entry *e;
	void (*answer)(struct mb_cache_waiter *w, const char *line);
};

struct mb_cache_options {
	/* Refresh every account at least this often (seconds), even when
	 * nobody asks for it (Microsoft's 90-day idle rule).  0: never. */
	long keepalive;
};

/* Takes ownership of *cfg (sets it to NULL).  Never NULL (allocation
 * failure ends the process: tokenhelper/xalloc.h). */
struct mb_cache *mb_cache_new(struct mb_config **cfg,
			      const struct mb_cache_options *opts,
			      const struct mb_cache_runner *runner);
/* Reads every account's state through runner->peek: the tokens valid by
 * the clock are served from the first request on. */
void mb_cache_warm(struct mb_cache *c, time_t now);
/* Swaps in *cfg (ownership taken, set to NULL). */
void mb_cache_reload(struct mb_cache *c, struct mb_config **cfg, time_t now);
/* Starts what is due (proactive, keep-alive, retries, start-up loads).
 * Returns the time at which it wants to be called again. */
time_t mb_cache_tick(struct mb_cache *c, time_t now);
/* From now on no job starts; every client waiting on an account of the
 * current configuration is answered (a token valid at now, else
 * "shutting down"). */
void mb_cache_stop(struct mb_cache *c, time_t now);
/* Jobs started and not yet back. */
unsigned mb_cache_jobs(const struct mb_cache *c);
/* Wipes every cached token and frees everything (after the last job came
 * back, or was given back with mb_cache_job_done()); *c becomes NULL.
 * NULL-safe. */
void mb_cache_free(struct mb_cache **c);

const struct mb_config *mb_cache_config(const struct mb_cache *c);
/* uid may use at least one account (root and our own uid always may). */
bool mb_cache_uid_known(const struct mb_cache *c, uid_t uid);
/* The account named name and its entry, or NULL (O(1)). */
const struct mb_account *mb_cache_find(const struct mb_cache *c,
				       const char *name,
				       struct mb_cache_entry **e_r);

/* The answer to a TOKEN request.  Writes the response line into out and
 * returns true; or returns false after putting w on the entry's waiters
 * (nothing valid yet, a refresh is running): w->answer() follows.
 * *wait_ms_r is how long the client may wait. */
bool mb_cache_answer_token(struct mb_cache *c,
			   const struct mb_account *acct,
			   struct mb_cache_entry *e, time_t now,
			   struct mb_cache_waiter *w, long *wait_ms_r,
			   char *out, size_t out_size);
/* w's deadline passed: takes it off and writes the answer for a client
 * that waited in vain into out. */
void mb_cache_unwait(struct mb_cache *c, struct mb_cache_waiter *w,
		     char *out, size_t out_size);
/* A server refused token, sent with login (NULL if the plugin did not
 * say).  Writes DONE, or ERR login-mismatch when login is not the
 * account's user (then nothing is refreshed: a new token would be
 * refused just the same).  act: false when the reporting uid is over its
 * limit of reports (serve-loop.c): answered, nothing started. */
void mb_cache_answer_rejected(struct mb_cache *c,
			      const struct mb_account *acct,
			      struct mb_cache_entry *e, const char *token,
			      const char *login, uid_t uid, bool act,
			      time_t now, char *out, size_t out_size);

/* --- jobs ---------------------------------------------------------------- */

const struct mb_account *mb_cache_job_account(const struct mb_cache_job *j);
enum mb_cache_job_kind mb_cache_job_kind(const struct mb_cache_job *j);
struct mb_cache_result *mb_cache_job_result(struct mb_cache_job *j);
/* The blocking part, in a worker thread: asks the token core, reads the
 * state file's stamp, retries a pending write, runs notify.  Touches only
 * the job's own data. */
void mb_cache_job_run(struct mb_cache_job *j);
/* Back on the loop: records the result, answers the waiters, frees the
 * job.  Also for a job that never ran (serve stopping): then its result
 * is left as it was made (a transient "shutting down").  true when an
 * account of a fleet got no new token from it (the cluster may be what
 * failed: serve asks its watch to look). */
bool mb_cache_job_done(struct mb_cache *c, struct mb_cache_job *j,
		       time_t now);

/* --- the fleet (store = etcd) ---------------------------------------- */

/* The access token the fleet's state of account name holds now (another
 * host refreshed; fleet-watch.h): taken, and served from now on, if it is
 * valid by the clock and newer than the one held (another token that
 * expires no earlier, or none servable held); then the clients waiting are
 * answered and the proactive refresh it makes unneeded is not made.
 * true if taken (*a emptied). */
bool mb_cache_offer(struct mb_cache *c, const char *name,
		    struct mb_access *a, time_t now);
/* The cluster answers (up) or not (why: secret-free).  Logged once per
 * change.  While it does not, a failed refresh of a fleet account backs
 * off at most MB_CACHE_FLEET_RETRY s; once it answers again, every fleet
 * account whose refresh failed is tried again at once. */
void mb_cache_fleet(struct mb_cache *c, bool up, const char *why,
		    time_t now);
/* The current generation (its configuration: cfg->fleet), held until
 * mb_cache_release(), beyond a reload (serve's watch uses it). */
struct mb_cache_gen *mb_cache_hold(struct mb_cache *c);
const struct mb_config *mb_cache_gen_config(const struct mb_cache_gen *g);
void mb_cache_release(struct mb_cache_gen *g);

#endif
