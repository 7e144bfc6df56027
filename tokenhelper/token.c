/* SPDX-License-Identifier: MIT */
#include <config.h>

#include "token.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base64.h"
#include "initial-response.h"
#include "isotime.h"
#include "log.h"
#include "owner.h"
#include "refresh.h"
#include "store.h"
#include "wipe.h"
#include "xalloc.h"

/* Transient failures: attempts within one call, longest Retry-After
 * honoured (longer ones end the call; the next call tries again). */
#define MB_TOKEN_TRIES 3
#define MB_TOKEN_MAX_WAIT 10L

void
mb_access_clear(struct mb_access *a)
{
	if (a == NULL)
		return;
	mb_free_secret(&a->token);
	a->expires_at = 0;
	a->obtained_at = 0;
	a->attention = false;
}

static void
token_hand_out(const struct mb_account *acct, const struct mb_state *st,
	       struct mb_access *out)
{
	out->token = mb_xstrdup(st->access_token);
	out->expires_at = st->expires_at;
	out->obtained_at = st->last_refresh;
	out->attention = st->needs_authorize ||
			 (st->refresh_token == NULL &&
			  !mb_flow_app_only(acct->flow));
}

/*
 * Refreshed states whose write failed, one per account (keyed by the
 * state file's path): the only copy of a rotated refresh token may be in
 * one.  Later calls in this process prefer it and write it first.  The
 * mutex guards the list only; an entry is taken out while it is worked
 * on, under the account's flock.
 */
struct token_pending {
	struct token_pending *next;
	char *key;
	struct mb_state st;
	char *spent;		/* the refresh token that refresh used */
};

static pthread_mutex_t pending_mutex = PTHREAD_MUTEX_INITIALIZER;
static struct token_pending *pending_head;

static void
pending_free(struct token_pending *p)
{
	if (p == NULL)
		return;
	mb_state_clear(&p->st);
	mb_free_secret(&p->spent);
	free(p->key);
	free(p);
}

/* Unlinks the entry for key and returns it, or NULL; mutex held. */
static struct token_pending *
pending_unlink(const char *key)
{
	struct token_pending **pp, *p;

	for (pp = &pending_head; *pp != NULL; pp = &(*pp)->next) {
		if (strcmp((*pp)->key, key) == 0) {
			p = *pp;
			*pp = p->next;
			p->next = NULL;
			return p;
		}
	}
	return NULL;
}

static struct token_pending *
pending_take(const struct mb_account *acct)
{
	char *key = mb_store_name(acct);
	struct token_pending *p;

	pthread_mutex_lock(&pending_mutex);
	p = pending_unlink(key);
	pthread_mutex_unlock(&pending_mutex);
	free(key);
	return p;
}

static bool
pending_has(const struct mb_account *acct)
{
	char *key = mb_store_name(acct);
	struct token_pending *p;

	pthread_mutex_lock(&pending_mutex);
	for (p = pending_head; p != NULL; p = p->next) {
		if (strcmp(p->key, key) == 0)
			break;
	}
	pthread_mutex_unlock(&pending_mutex);
	free(key);
	return p != NULL;
}

/* When acct has a pending state: *st (cleared first) becomes a copy. */
static void
pending_copy(const struct mb_account *acct, struct mb_state *st)
{
	char *key = mb_store_name(acct);
	struct token_pending *p;

	pthread_mutex_lock(&pending_mutex);
	for (p = pending_head; p != NULL; p = p->next) {
		if (strcmp(p->key, key) == 0) {
			mb_state_clear(st);
			mb_state_copy(st, &p->st);
			break;
		}
	}
	pthread_mutex_unlock(&pending_mutex);
	free(key);
}

/* Makes p acct's pending state; an older one is wiped. */
static void
pending_put(struct token_pending *p)
{
	struct token_pending *old;

	pthread_mutex_lock(&pending_mutex);
	old = pending_unlink(p->key);
	p->next = pending_head;
	pending_head = p;
	pthread_mutex_unlock(&pending_mutex);
	pending_free(old);
}

/* Keeps a copy of st (refreshed with spent) as acct's pending state. */
static void
pending_keep(const struct mb_account *acct, const struct mb_state *st,
	     const char *spent)
{
	struct token_pending *p = mb_xmalloc(sizeof(*p));

	memset(p, 0, sizeof(*p));
	p->key = mb_store_name(acct);
	mb_state_copy(&p->st, st);
	p->spent = mb_xstrdup_or_null(spent);
	pending_put(p);
}

/*
 * Under the account's lock, with the state file just read (*rr, *st):
 * brings this process's pending state for acct into play.  It is written
 * and becomes *st when the file still holds the refresh token it spent,
 * or holds no state (missing, or corrupt and moved aside); it is dropped
 * when the file holds its refresh token already or another one (an
 * import, another process's refresh).  0: none, or written; -1: still
 * pending (*st is a copy of it), *error_r says why.
 */
static int
token_reconcile(struct mb_store_lock *lk, enum mb_store_read_result *rr,
		struct mb_state *st, char **error_r)
{
	const struct mb_account *acct = lk->acct;
	struct token_pending *p = pending_take(acct);
	bool wins;

	*error_r = NULL;
	if (p == NULL)
		return 0;
	if (*rr == MB_STORE_ERROR) {
		pending_put(p);
		*error_r = mb_xstrdup("the state file cannot be read");
		return -1;
	}
	wins = *rr != MB_STORE_FOUND || st->refresh_token == NULL ||
	       (p->spent != NULL &&
		strcmp(st->refresh_token, p->spent) == 0);
	if (*rr == MB_STORE_FOUND && st->refresh_token != NULL &&
	    p->st.refresh_token != NULL &&
	    strcmp(st->refresh_token, p->st.refresh_token) == 0)
		wins = false;
	if (!wins) {
		pending_free(p);
		return 0;
	}
	mb_state_clear(st);
	*rr = MB_STORE_FOUND;
	if (mb_store_write(lk, &p->st, error_r) < 0) {
		mb_state_copy(st, &p->st);
		pending_put(p);
		return -1;
	}
	mb_log(LOG_NOTICE, "%s: the refreshed state kept in memory is "
	       "saved now", acct->name);
	mb_state_copy(st, &p->st);
	pending_free(p);
	return 0;
}

/* The access token in st can be handed out without refreshing. */
static bool
token_fresh(const struct mb_state *st, const char *rejected, time_t now,
	    long margin)
{
	if (st->access_token == NULL || st->rejected)
		return false;
	if (rejected != NULL && strcmp(rejected, st->access_token) == 0)
		return false;
	return !mb_expiry_needs_refresh(now, st->expires_at,
					st->last_refresh, margin);
}

/* The access token in st still works (maybe inside the margin). */
static bool
token_usable(const struct mb_state *st, time_t now)
{
	return st->access_token != NULL && !st->rejected &&
	       mb_expiry_usable(now, st->expires_at);
}

static void
token_set(char **field, const char *value)
{
	char *copy = mb_xstrdup_or_null(value);

	free(*field);
	*field = copy;
}

/* Without the lock: the state file is only ever replaced atomically, so
 * this sees a whole old or new file.  true if *out was filled; else the
 * state read, if any, is left in *st with its file in *seen, for the
 * caller to use once it holds the lock if the file is still the same. */
static bool
token_fast(const struct mb_account *acct, const char *rejected,
	   struct mb_access *out, struct mb_state *st,
	   struct mb_store_seen *seen)
{
	char *err = NULL;
	bool ok;

	if (pending_has(acct))
		return false;
	if (mb_store_read_seen(acct, st, seen, &err) != MB_STORE_FOUND) {
		free(err);
		mb_state_clear(st);
		return false;
	}
	ok = token_fresh(st, rejected, time(NULL), acct->refresh_margin);
	if (ok) {
		token_hand_out(acct, st, out);
		mb_state_clear(st);
		mb_store_seen_close(seen);
	}
	return ok;
}

/* Under the account's lock: recovers leftovers of a crash, reads the
 * state (unless *st was read from the file seen holds, and that is still
 * the state file: the state is then read once), brings in a pending one.
 * seen is closed.  MB_TOKEN_OK with *st filled. */
static enum mb_token_status
token_load(struct mb_store_lock *lk, struct mb_state *st,
	   struct mb_store_seen *seen, char **error_r)
{
	const struct mb_account *acct = lk->acct;
	enum mb_store_read_result rr = MB_STORE_FOUND;
	char *err = NULL;

	if (mb_store_recover(lk, &err) < 0) {
		mb_log(LOG_WARNING, "%s: %s", acct->name, err);
		free(err);
		err = NULL;
	}
	if (!mb_store_seen_current(lk, seen)) {
		mb_state_clear(st);
		rr = mb_store_read_locked(lk, st, error_r);
	}
	mb_store_seen_close(seen);
	if (token_reconcile(lk, &rr, st, &err) < 0) {
		mb_log(LOG_ERR, "%s: the refreshed state is still not saved: "
		       "%s", acct->name, err);
		free(err);
	}
	switch (rr) {
	case MB_STORE_FOUND:
		free(*error_r);
		*error_r = NULL;
		return MB_TOKEN_OK;
	case MB_STORE_MISSING:
		if (mb_flow_app_only(acct->flow)) {
			/* Nothing to authorize: the first request makes
			 * the state. */
			free(*error_r);
			*error_r = NULL;
			return MB_TOKEN_OK;
		}
		*error_r = mb_xasprintf("account %s has no tokens yet: run "
			"`mailbearer authorize %s` (or `mailbearer import %s` "
			"with a refresh token on standard input)", acct->name,
			acct->name, acct->name);
		return MB_TOKEN_NEEDS_AUTHORIZE;
	case MB_STORE_CORRUPT:
		return MB_TOKEN_NEEDS_AUTHORIZE;
	case MB_STORE_ERROR:
	default:
		return MB_TOKEN_ERROR;
	}
}

/* Writes st into the reserved file t; if that fails, st (refreshed with
 * spent) stays in memory as acct's pending state.  0 or -1. */
static int
token_save(struct mb_store_lock *lk, const struct mb_account *acct,
	   struct mb_store_tmp *t, struct mb_state *st, const char *spent,
	   char **error_r)
{
	if (mb_store_commit(lk, t, st, error_r) == 0)
		return 0;
	pending_keep(acct, st, spent);
	return -1;
}

/* Best effort, for a state change that no refresh will write. */
static void
token_record(struct mb_store_lock *lk, const struct mb_account *acct,
	     struct mb_state *st)
{
	char *err = NULL;

	if (mb_store_write(lk, st, &err) < 0) {
		mb_log(LOG_WARNING, "%s: cannot record the state: %s",
		       acct->name, err);
		free(err);
	}
}

/* A forced refresh too soon after the previous one of its kind: true
 * with *error_r.  asked: `mailbearer token --refresh`, limited by the
 * previous one (last_asked) only, never by serve's automatic attempts
 * (last_forced): that is the documented recovery, and serve has just
 * tried when a server refused the token. */
static bool
token_rate_limited(const struct mb_account *acct, const struct mb_state *st,
		   bool asked, time_t now, char **error_r)
{
	time_t last = asked ? st->last_asked : st->last_forced;
	time_t next = last + MB_TOKEN_FORCE_INTERVAL;
	char when[MB_ISO_TIME_SIZE];

	if (last <= 0 || now < last || now >= next)
		return false;
	mb_iso_time(next, when, sizeof(when), "a moment");
	if (asked)
		*error_r = mb_xasprintf("account %s: `mailbearer token "
			"--refresh` was run %lld s ago; run it again after %s "
			"(in %lld s; at most one per %d s)", acct->name,
			(long long)(now - last), when, (long long)(next - now),
			MB_TOKEN_FORCE_INTERVAL);
	else
		*error_r = mb_xasprintf("account %s: %s; a forced refresh "
			"was made %lld s ago and the next one is allowed at %s "
			"(in %lld s; at most one per %d s; `mailbearer token "
			"--refresh %s` is not limited by it)", acct->name,
			st->rejected ? "the current access token was rejected" :
			"a refresh was asked for", (long long)(now - last),
			when, (long long)(next - now), MB_TOKEN_FORCE_INTERVAL,
			acct->name);
	return true;
}

/* The refresh succeeded: the new state replaces *st, on disk (or, if that
 * fails, in memory) before the access token is handed out. */
static enum mb_token_status
token_refreshed(struct mb_store_lock *lk, const struct mb_account *acct,
		struct mb_state *st, struct mb_refresh_out *ro,
		struct mb_store_tmp *t, time_t now, struct mb_access *out)
{
	char *spent = mb_xstrdup_or_null(st->refresh_token), *err = NULL;
	bool cc = mb_flow_app_only(acct->flow);
	/* App-only tokens come alone; a refresh token would be unused. */
	bool rotated = !cc && ro->refresh_token != NULL;

	mb_free_secret(&st->access_token);
	st->access_token = ro->access_token;
	ro->access_token = NULL;
	if (rotated) {
		mb_free_secret(&st->refresh_token);
		st->refresh_token = ro->refresh_token;
		ro->refresh_token = NULL;
		st->refresh_since = now;
	}
	if (ro->scope != NULL)
		token_set(&st->scope, ro->scope);
	st->expires_at = mb_expiry_at(now, ro->expires_in);
	st->last_refresh = now;
	st->rejected = false;
	st->needs_authorize = false;
	st->client_problem = false;
	st->unanswered_at = 0;
	token_set(&st->reason, NULL);
	token_set(&st->last_error, NULL);
	free(st->refreshed_by);
	st->refreshed_by = mb_store_host();
	if (token_save(lk, acct, t, st, spent, &err) < 0) {
		mb_log(LOG_ERR, "%s: refreshed, but the new state could not "
		       "be saved: %s; it is kept in memory and saved as soon "
		       "as possible", acct->name, err);
		free(err);
	}
	mb_free_secret(&spent);
	mb_log(LOG_INFO, "%s: access token %s (valid %ld s%s)",
	       acct->name, acct->flow == MB_FLOW_SERVICE_ACCOUNT ?
	       "obtained with the service account" : cc ?
	       "obtained with the client credentials" : "refreshed", ro->expires_in,
	       rotated ? ", refresh token rotated" : "");
	token_hand_out(acct, st, out);
	return MB_TOKEN_OK;
}

static enum mb_token_status token_dead_grant(const struct mb_account *acct,
					     const struct mb_state *st,
					     bool refused, time_t now,
					     struct mb_access *out,
					     char **error_r);

/* The state's reason after a request to a strictly rotating provider went
 * unanswered: what happened, why nothing retries, what to do. */
static char *
token_unanswered_reason(const struct mb_account *acct, time_t when,
			const char *msg)
{
	char at[32];

	mb_iso_time(when, at, sizeof(at), "an unknown time");
	return mb_xasprintf("a refresh request got no reply (given up at "
		"%s: %s); the provider rotates refresh tokens strictly "
		"(%s), so it may have carried the request out and spent the "
		"refresh token, and sending the token again could lose the "
		"grant: nothing sends it automatically.  Run `mailbearer "
		"token --refresh %s` to try it once more (it works if the "
		"provider did not carry the request out; otherwise the "
		"provider refuses it and the account needs `mailbearer "
		"authorize %s`), or run `mailbearer authorize %s`", at, msg,
		strcmp(acct->provider, "microsoft") == 0 ?
		"provider = microsoft" : "rotation = strict", acct->name,
		acct->name, acct->name);
}

/* The reason once the knowing retry was refused: the unanswered request
 * had spent the refresh token. */
static char *
token_spent_reason(const struct mb_account *acct, const struct mb_state *st,
		   const char *msg)
{
	char at[32];

	mb_iso_time(st->unanswered_at, at, sizeof(at), "an unknown time");
	(void)acct;
	return mb_xasprintf("%s; the refresh request that got no reply (given "
		"up at %s) had used the refresh token: the provider rotates "
		"refresh tokens strictly", msg, at);
}

/* token_fail_status() for the app-only flows: nothing is kept,
 * nobody needs to authorize; a refusal is the client's configuration. */
static enum mb_token_status
token_cc_fail_status(const struct mb_account *acct,
		     enum mb_refresh_result fr, const char *msg,
		     char **error_r)
{
	switch (fr) {
	case MB_REFRESH_GRANT:
	case MB_REFRESH_CLIENT:
		*error_r = mb_xasprintf("account %s: the provider refused the "
			"%s, fix %s or the configuration: %s", acct->name,
			acct->flow == MB_FLOW_SERVICE_ACCOUNT ?
			"service account's assertion" : "client credentials",
			acct->flow == MB_FLOW_SERVICE_ACCOUNT ?
			"the delegation" : "the app registration", msg);
		return MB_TOKEN_NEEDS_AUTHORIZE;
	case MB_REFRESH_LOCAL:
		*error_r = mb_xasprintf("account %s: cannot request a token: "
					"%s", acct->name, msg);
		return MB_TOKEN_ERROR;
	case MB_REFRESH_TRANSIENT:
	case MB_REFRESH_OK:
	default:
		*error_r = mb_xasprintf("account %s: token request failed "
			"temporarily: %s", acct->name, msg);
		return MB_TOKEN_TRANSIENT;
	}
}

static enum mb_token_status
token_fail_status(const struct mb_account *acct, enum mb_refresh_result fr,
		  const char *msg, char **error_r)
{
	if (mb_flow_app_only(acct->flow))
		return token_cc_fail_status(acct, fr, msg, error_r);
	switch (fr) {
	case MB_REFRESH_GRANT:
		/* The refresh token itself is dead: only a new grant helps. */
		*error_r = mb_xasprintf("account %s needs a new refresh token "
			"(`mailbearer authorize %s`, or `mailbearer import "
			"%s`): %s", acct->name, acct->name, acct->name, msg);
		return MB_TOKEN_NEEDS_AUTHORIZE;
	case MB_REFRESH_CLIENT:
		/* The client registration or its configuration is refused;
		 * the refresh token may still be good once that is fixed. */
		*error_r = mb_xasprintf("account %s: the provider refused the "
			"OAuth client, fix its configuration (the refresh "
			"token is kept): %s", acct->name, msg);
		return MB_TOKEN_NEEDS_AUTHORIZE;
	case MB_REFRESH_LOCAL:
		*error_r = mb_xasprintf("account %s: cannot refresh: %s",
					acct->name, msg);
		return MB_TOKEN_ERROR;
	case MB_REFRESH_TRANSIENT:
	case MB_REFRESH_OK:
	default:
		*error_r = mb_xasprintf("account %s: refresh failed "
			"temporarily, the refresh token is kept: %s",
			acct->name, msg);
		return MB_TOKEN_TRANSIENT;
	}
}

/* The refresh failed: record why.  A new refresh token that came in a
 * 2xx reply judged unusable is the grant now: it is saved, and the
 * failure is transient (the next attempt uses it). */
static enum mb_token_status
token_failed(struct mb_store_lock *lk, const struct mb_account *acct,
	     struct mb_state *st, enum mb_refresh_result fr,
	     struct mb_refresh_out *ro, struct mb_store_tmp *t, bool refused,
	     time_t now, struct mb_access *out, char **error_r)
{
	const char *msg = ro->message != NULL ? ro->message : "unknown";
	char *spent = NULL, *err = NULL;
	bool lost = false;

	token_set(&st->last_error, ro->message);
	if (mb_flow_app_only(acct->flow)) {
		/* No grant to lose: the fix is in the configuration, and
		 * every call tries again. */
		mb_free_secret(&ro->refresh_token);
		if (fr == MB_REFRESH_GRANT)
			fr = MB_REFRESH_CLIENT;
	}
	if (ro->refresh_token != NULL) {
		spent = st->refresh_token;
		st->refresh_token = ro->refresh_token;
		ro->refresh_token = NULL;
		st->refresh_since = time(NULL);
		fr = MB_REFRESH_TRANSIENT;
	} else if (fr == MB_REFRESH_GRANT && st->unanswered_at > 0) {
		/* The knowing retry: the unanswered request had spent it. */
		char *r = token_spent_reason(acct, st, msg);

		st->needs_authorize = true;
		st->client_problem = false;
		st->unanswered_at = 0;
		free(st->reason);
		st->reason = r;
	} else if (fr == MB_REFRESH_GRANT || fr == MB_REFRESH_CLIENT) {
		st->needs_authorize = true;
		st->client_problem = fr == MB_REFRESH_CLIENT;
		token_set(&st->reason, ro->message);
	} else if (fr == MB_REFRESH_TRANSIENT && ro->unanswered &&
		   acct->rotation_strict &&
		   !mb_flow_app_only(acct->flow)) {
		/* Never sent again automatically, by anyone. */
		st->needs_authorize = true;
		st->client_problem = false;
		st->unanswered_at = now;
		free(st->reason);
		st->reason = token_unanswered_reason(acct, now, msg);
		lost = true;
	}
	if (token_save(lk, acct, t, st, spent, &err) < 0) {
		mb_log(spent != NULL ? LOG_ERR : LOG_WARNING, "%s: cannot "
		       "record the failure: %s%s", acct->name, err,
		       spent != NULL ? "; the new refresh token is kept in "
		       "memory and saved as soon as possible" : "");
		free(err);
	}
	if (spent != NULL)
		mb_log(LOG_WARNING, "%s: the token endpoint's reply was "
		       "unusable, but the new refresh token it carried was "
		       "kept: %s", acct->name, msg);
	mb_free_secret(&spent);
	if (!lost && st->needs_authorize && st->unanswered_at > 0 &&
	    (refused || !token_usable(st, now))) {
		/* The knowing retry was answered with a temporary error:
		 * the earlier request may still have spent the token. */
		*error_r = mb_xasprintf("account %s: the retry failed "
			"temporarily (%s); the earlier request is still "
			"unanswered: %s", acct->name, msg, st->reason ?
			st->reason : "see `mailbearer status`");
		return MB_TOKEN_NEEDS_AUTHORIZE;
	}
	if (lost || (st->needs_authorize && st->unanswered_at > 0))
		/* Nothing may send this refresh token: the dead-grant
		 * rules, with the unanswered request's story. */
		return token_dead_grant(acct, st, refused, now, out, error_r);
	if (!refused && token_usable(st, now)) {
		mb_log(LOG_WARNING, "%s: refresh failed: %s; the current "
		       "access token is still valid and is served",
		       acct->name, msg);
		token_hand_out(acct, st, out);
		return MB_TOKEN_OK;
	}
	if (fr == MB_REFRESH_GRANT && st->needs_authorize &&
	    st->reason != NULL) {
		*error_r = mb_xasprintf("account %s needs `mailbearer "
			"authorize %s`: %s", acct->name, acct->name,
			st->reason);
		return MB_TOKEN_NEEDS_AUTHORIZE;
	}
	return token_fail_status(acct, fr, msg, error_r);
}

/* Reserves room for the new state, then spends the refresh token.
 * stamp: for a forced refresh, the state's field that records it
 * (last_forced or last_asked), else NULL. */
static enum mb_token_status
token_refresh(struct mb_store_lock *lk, const struct mb_account *acct,
	      struct mb_state *st, time_t *stamp, bool refused,
	      struct mb_access *out, char **error_r)
{
	struct mb_store_tmp t = MB_STORE_TMP_INIT;
	struct mb_refresh_out ro;
	enum mb_refresh_result fr;
	enum mb_token_status ret;
	char *err = NULL;
	time_t now = time(NULL);

	if (mb_store_reserve(lk, st, &t, &err) < 0) {
		bool cc = mb_flow_app_only(acct->flow);

		*error_r = mb_xasprintf("account %s: %s not attempted%s: the "
			"new state could not be saved: %s", acct->name,
			cc ? "token request" : "refresh",
			cc ? "" : " (the refresh token is kept unused)", err);
		free(err);
		if (refused || !token_usable(st, now))
			return MB_TOKEN_ERROR;
		mb_log(LOG_WARNING, "%s; the current access token is still "
		       "valid and is served", *error_r);
		free(*error_r);
		*error_r = NULL;
		token_hand_out(acct, st, out);
		return MB_TOKEN_OK;
	}
	if (stamp != NULL)
		*stamp = now;
	mb_log(LOG_DEBUG, "%s: refreshing at %s%s", acct->name,
	       acct->token_endpoint, stamp != NULL ? " (forced)" : "");
	memset(&ro, 0, sizeof(ro));
	fr = mb_refresh(acct, st->refresh_token, MB_TOKEN_TRIES,
			MB_TOKEN_MAX_WAIT, &ro);
	mb_store_crash_point("after-reply");
	now = time(NULL);
	if (fr == MB_REFRESH_OK)
		ret = token_refreshed(lk, acct, st, &ro, &t, now, out);
	else
		ret = token_failed(lk, acct, st, fr, &ro, &t, refused, now,
				   out, error_r);
	mb_store_release(&t);
	mb_refresh_out_clear(&ro);
	return ret;
}

/* The grant is dead: serve the current token while it lasts. */
static enum mb_token_status
token_dead_grant(const struct mb_account *acct, const struct mb_state *st,
		 bool refused, time_t now, struct mb_access *out,
		 char **error_r)
{
	if (!refused && token_usable(st, now)) {
		mb_log(LOG_WARNING, "%s: %s; serving the current access token "
		       "until it expires", acct->name,
		       st->reason ? st->reason : "needs authorize");
		token_hand_out(acct, st, out);
		return MB_TOKEN_OK;
	}
	if (st->unanswered_at > 0)
		*error_r = mb_xasprintf("account %s: %s", acct->name,
			st->reason ? st->reason : "a refresh request got no "
			"reply; see `mailbearer status`");
	else
		*error_r = mb_xasprintf("account %s needs `mailbearer "
			"authorize %s`: %s", acct->name, acct->name,
			st->reason ? st->reason : "see `mailbearer status`");
	return MB_TOKEN_NEEDS_AUTHORIZE;
}

/* A fleet's account refreshes alone, without the cluster, only where no
 * other host's grant can fork: Google never rotates refresh tokens, and
 * the app-only flows keep none (doc/fleet.md). */
static bool
token_alone_ok(const struct mb_account *acct)
{
	return mb_flow_app_only(acct->flow) ||
	       (strcmp(acct->provider, "google") == 0 &&
		!acct->rotation_strict);
}

/* The fleet's lock could not be taken (etcd down or without quorum;
 * *error_r says so): the state read without the lock, or this process's
 * pending one, serves a token valid by the clock; an account that may
 * refresh alone does so, keeping the state in memory until etcd takes
 * it; any other waits for the cluster. */
static enum mb_token_status
token_without_lock(struct mb_store_lock *lk, const struct mb_token_req *req,
		   bool asked, struct mb_state *st, struct mb_access *out,
		   char **error_r)
{
	const struct mb_account *acct = lk->acct;
	static const char waits[] = "no refresh is made without the cluster "
		"(the provider rotates refresh tokens: two hosts refreshing "
		"apart would fork the grant and lose it)";
	char *why = *error_r;
	time_t now = time(NULL);
	bool refused, usable, alone, due;

	*error_r = NULL;
	pending_copy(acct, st);
	/* a proactive refresh names the current token only to say "this
	 * one": it is not refused, and is served while valid */
	refused = asked || (!req->proactive && req->rejected != NULL &&
			    st->access_token != NULL &&
			    strcmp(req->rejected, st->access_token) == 0);
	usable = !req->force && !refused && token_usable(st, now);
	alone = token_alone_ok(acct) && !st->needs_authorize &&
		(st->refresh_token != NULL || mb_flow_app_only(acct->flow));
	due = st->access_token == NULL || req->force || refused ||
	      mb_expiry_needs_refresh(now, st->expires_at, st->last_refresh,
				      acct->refresh_margin);
	if (alone && due) {
		mb_log(LOG_WARNING, "%s; refreshing on this host alone (%s), "
		       "the state is kept in memory until etcd takes it",
		       why, mb_flow_app_only(acct->flow) ? "an app-only "
		       "account has no grant to fork" : "Google does not "
		       "rotate refresh tokens");
		free(why);
		return token_refresh(lk, acct, st, NULL, refused, out,
				     error_r);
	}
	if (usable) {
		mb_log(LOG_WARNING, "%s; %s; serving the current access token "
		       "until it expires", why, alone ? "it is not due yet" :
		       waits);
		token_hand_out(acct, st, out);
		free(why);
		return MB_TOKEN_OK;
	}
	*error_r = mb_xasprintf("%s; %s; tokens valid by the clock are still "
		"served, and refreshing resumes by itself once etcd answers",
		why, waits);
	free(why);
	return MB_TOKEN_TRANSIENT;
}

/* mb_token_get_ex(); asked: `mailbearer token --refresh`. */
static enum mb_token_status
token_get(const struct mb_account *acct, const struct mb_token_req *req,
	  bool asked, struct mb_access *out, char **error_r)
{
	static const struct mb_token_req plain;
	struct mb_store_seen seen = MB_STORE_SEEN_INIT;
	enum mb_token_status ret;
	struct mb_state st;
	struct mb_store_lock lock = MB_STORE_LOCK_INIT;
	bool refused, due, forced, marked = false;
	int r, tries;
	time_t now;

	if (req == NULL)
		req = &plain;
	memset(out, 0, sizeof(*out));
	memset(&st, 0, sizeof(st));
	*error_r = NULL;
	/* serve's refreshes ahead of expiry, due on every host of a fleet
	 * at the same second, are spread: the first host's new token is
	 * then what the others read */
	if (req->proactive && req->rejected != NULL)
		mb_store_spread(acct);
	if (!req->force && token_fast(acct, req->rejected, out, &st, &seen))
		return MB_TOKEN_OK;
	if (acct->unusable != NULL) {
		/* a file of this account's (config.h): nothing is spent */
		*error_r = mb_xasprintf("account %s: %s", acct->name,
					acct->unusable);
		mb_store_seen_close(&seen);
		mb_state_clear(&st);
		return MB_TOKEN_ERROR;
	}
	/* On a fleet, a host that waited while another refreshed reads
	 * the new state instead of taking the lock (a few times at most). */
	for (tries = 0;
	     (r = mb_store_lock(acct, !req->force && tries < 3 ? &seen :
				NULL, &lock, error_r)) == 1;
	     tries++) {
		mb_store_seen_close(&seen);
		mb_state_clear(&st);
		free(*error_r);
		*error_r = NULL;
		if (token_fast(acct, req->rejected, out, &st, &seen))
			return MB_TOKEN_OK;
	}
	if (r < 0) {
		ret = acct->fleet == NULL ? MB_TOKEN_ERROR :
		      token_without_lock(&lock, req, asked, &st, out,
					 error_r);
		mb_store_seen_close(&seen);
		mb_state_clear(&st);
		return ret;
	}
	/* Whoever held the lock may have refreshed: look again (a glance
	 * when the file is the one read above). */
	ret = token_load(&lock, &st, &seen, error_r);
	if (ret != MB_TOKEN_OK)
		goto out;
	now = time(NULL);
	refused = req->rejected != NULL && st.access_token != NULL &&
		  strcmp(req->rejected, st.access_token) == 0;
	/* A proactive or keep-alive refresh passes the current token only
	 * to say "this one": recording it as rejected would stop a valid
	 * token from being served if that refresh fails transiently. */
	if (refused && !req->proactive && !st.rejected)
		st.rejected = marked = true;
	due = st.access_token == NULL ||
	      mb_expiry_needs_refresh(now, st.expires_at, st.last_refresh,
				      acct->refresh_margin);
	if (!due && !st.rejected && !refused && !req->force) {
		token_hand_out(acct, &st, out);
		goto out;
	}
	/* `token --refresh` is run because the current token is refused:
	 * it never prints that token instead of a new one. */
	refused = refused || st.rejected || asked;
	forced = !due && !req->proactive;
	if (st.refresh_token == NULL &&
	    !mb_flow_app_only(acct->flow)) {
		*error_r = mb_xasprintf("account %s has no refresh token: run "
			"`mailbearer authorize %s`", acct->name, acct->name);
		ret = MB_TOKEN_NEEDS_AUTHORIZE;
	} else if (st.needs_authorize && st.unanswered_at > 0 && asked) {
		/* Asked for by a human who was told the risk. */
		mb_log(LOG_NOTICE, "%s: sending the refresh token whose last "
		       "request got no reply once more, as asked",
		       acct->name);
		ret = token_refresh(&lock, acct, &st, &st.last_asked, refused,
				    out, error_r);
		marked = false;
	} else if (st.needs_authorize && !st.client_problem) {
		/* The grant is dead, or may be (an unanswered request to a
		 * strictly rotating provider): asking again would fail, or
		 * lose it. */
		ret = token_dead_grant(acct, &st, refused, now, out, error_r);
	} else if (forced &&
		   token_rate_limited(acct, &st, asked, now, error_r)) {
		ret = MB_TOKEN_TRANSIENT;
	} else {
		ret = token_refresh(&lock, acct, &st, !forced ? NULL : asked ?
				    &st.last_asked : &st.last_forced, refused,
				    out, error_r);
		marked = false;
	}
	if (marked)
		token_record(&lock, acct, &st);
out:
	mb_store_unlock(&lock);
	mb_state_clear(&st);
	return ret;
}

/* token_get(), its advice naming the user to run mailbearer as
 * (owner.h): for the administrator reading serve's log or `token`. */
static enum mb_token_status
token_get_advised(const struct mb_account *acct,
		  const struct mb_token_req *req, bool retry_unanswered,
		  struct mb_access *out, char **error_r)
{
	enum mb_token_status ret;
	char *said;

	ret = token_get(acct, req, retry_unanswered, out, error_r);
	if (*error_r != NULL) {
		said = mb_owner_advice(acct->state_dir, *error_r);
		free(*error_r);
		*error_r = said;
	}
	return ret;
}

enum mb_token_status
mb_token_get_ex(const struct mb_account *acct,
		const struct mb_token_req *req, struct mb_access *out,
		char **error_r)
{
	return token_get_advised(acct, req, false, out, error_r);
}

enum mb_token_status
mb_token_get(const struct mb_account *acct, const char *rejected,
	     struct mb_access *out, char **error_r)
{
	struct mb_token_req req = {
		.rejected = rejected,
		.proactive = rejected != NULL,
	};

	return mb_token_get_ex(acct, &req, out, error_r);
}

enum mb_token_status
mb_token_get_forced(const struct mb_account *acct, struct mb_access *out,
		    char **error_r)
{
	struct mb_token_req req = { .force = true };

	return token_get_advised(acct, &req, true, out, error_r);
}

enum mb_token_status
mb_token_report_rejected(const struct mb_account *acct, const char *token,
			 char **error_r)
{
	struct mb_store_seen none = MB_STORE_SEEN_INIT;
	enum mb_token_status ret;
	struct mb_store_lock lock = MB_STORE_LOCK_INIT;
	struct mb_state st;

	memset(&st, 0, sizeof(st));
	*error_r = NULL;
	if (token == NULL)
		return MB_TOKEN_OK;
	if (mb_store_lock(acct, NULL, &lock, error_r) < 0)
		return MB_TOKEN_ERROR;
	ret = token_load(&lock, &st, &none, error_r);
	if (ret == MB_TOKEN_OK && st.access_token != NULL && !st.rejected &&
	    strcmp(st.access_token, token) == 0) {
		st.rejected = true;
		if (mb_store_write(&lock, &st, error_r) < 0)
			ret = MB_TOKEN_ERROR;
	}
	mb_store_unlock(&lock);
	mb_state_clear(&st);
	return ret;
}

int
mb_token_flush_pending(const struct mb_account *acct, char **error_r)
{
	enum mb_store_read_result rr;
	struct mb_store_lock lock = MB_STORE_LOCK_INIT;
	struct mb_state st;
	char *err = NULL;
	int ret;

	*error_r = NULL;
	if (!pending_has(acct))
		return 0;
	if (mb_store_lock(acct, NULL, &lock, error_r) < 0)
		return -1;
	rr = mb_store_read_locked(&lock, &st, &err);
	free(err);
	ret = token_reconcile(&lock, &rr, &st, error_r);
	mb_store_unlock(&lock);
	mb_state_clear(&st);
	return ret;
}

/* The message is built and encoded by the code the plugin uses
 * (common/initial-response.h, common/base64.h). */
char *
mb_token_format(const char *format, const char *user, const char *token)
{
	size_t ulen = strlen(user), tlen = strlen(token), n, len;
	bool xoauth2 = strcmp(format, "xoauth2") == 0;
	char *msg, *out;

	if (strcmp(format, "raw") == 0)
		return mb_xstrdup(token);
	if (!xoauth2 && strcmp(format, "oauthbearer") != 0)
		return NULL;
	n = xoauth2 ? mb_ir_xoauth2(NULL, 0, user, ulen, token, tlen) :
	    mb_ir_oauthbearer(NULL, 0, user, ulen, NULL, 0, token, tlen);
	msg = mb_xmalloc(n + 1);
	if (xoauth2)
		mb_ir_xoauth2(msg, n + 1, user, ulen, token, tlen);
	else
		mb_ir_oauthbearer(msg, n + 1, user, ulen, NULL, 0, token,
				  tlen);
	len = mb_base64_len(n);
	out = mb_xmalloc(len + 1);
	mb_base64_encode(out, len + 1, msg, n);
	mb_wipe(msg, n);
	free(msg);
	return out;
}

bool
mb_token_peek(const struct mb_account *acct, struct mb_access *out)
{
	struct mb_state st;
	char *err = NULL;
	bool ok;

	memset(out, 0, sizeof(*out));
	ok = mb_store_read(acct, false, &st, &err) == MB_STORE_FOUND &&
	     st.access_token != NULL &&
	     mb_expiry_usable(time(NULL), st.expires_at);
	if (ok)
		token_hand_out(acct, &st, out);
	mb_state_clear(&st);
	free(err);
	return ok;
}
