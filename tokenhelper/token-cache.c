/* SPDX-License-Identifier: MIT */
#include <config.h>

#include "token-cache.h"

#include "expiry.h"
#include "ipc-proto.h"
#include "isotime.h"
#include "log.h"
#include "notify.h"
#include "store.h"
#include "test-hooks.h"
#include "wipe.h"
#include "xalloc.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

/* The scheduler looks at least this often (seconds). */
#define MB_SCHED_MAX_SLEEP	60

/* Which state file a refresh saw: a new one (`mailbearer authorize`,
 * `import`, another process's refresh) lets a request try again at once
 * instead of waiting out MB_CACHE_REQUEST_RETRY after a failure. */
struct state_stamp {
	dev_t dev;
	ino_t ino;
	off_t size;
	struct timespec mtime;
};

struct mb_cache_entry {
	unsigned refs;		/* generations and jobs holding it */
	char *name;
	char *state_dir;
	char *token;		/* cached access token (secret) or NULL */
	time_t expires_at;
	time_t obtained_at;
	char *rejected;		/* reported by a plugin (secret) or NULL */
	bool refreshing;	/* a job runs for this entry */
	enum mb_token_status status;	/* of the last refresh */
	char *error;		/* its secret-free message, or NULL */
	time_t failed_at;	/* when the last one failed, 0 if it did not */
	struct state_stamp fail_stamp;	/* the state file at that time */
	time_t retry_at;	/* scheduler back-off */
	bool short_lived;	/* the last token came too short to serve:
				 * requests wait for retry_at too */
	long backoff;
	time_t forced_at;	/* last refresh after a rejection started */
	time_t last_refresh;	/* a new token was last seen (keep-alive) */
	bool used;		/* asked for since the token was obtained */
	bool warmed;		/* loaded once */
	bool pending_write;	/* a refreshed state awaits its write */
	struct mb_cache_waiter *waiters;
};

struct mb_cache_gen {
	unsigned refs;		/* the cache's, and one per job */
	struct mb_config *cfg;
	struct mb_cache_entry **entries;	/* parallel to cfg->accounts */
	size_t *index;		/* open addressing: account i + 1, 0 free */
	size_t index_mask;
	uid_t *uids;		/* every allowed uid, sorted */
	size_t n_uids;
};

struct mb_cache {
	struct mb_cache_options opt;
	struct mb_cache_runner runner;
	struct mb_cache_gen *gen;
	unsigned jobs;
	bool stopping;
	time_t next_tick;
	long flush_retry;	/* MB_CACHE_FLUSH_RETRY */
	/* store = etcd: the cluster did not answer (logged once) */
	bool fleet_down;
};

struct mb_cache_job {
	struct mb_cache_gen *g;
	const struct mb_account *acct;
	struct mb_cache_entry *e;
	enum mb_cache_job_kind kind;
	/* secret: the token it is meant to replace (the rejected one, or
	 * the cached one), or NULL */
	char *copy;
	struct state_stamp stamp;	/* the state file when it ended */
	bool stale;		/* came back with the token it replaces */
	bool fleet_down;	/* started while etcd did not answer */
	struct mb_cache_result r;
};

static const char *const job_names[] = {
	[MB_JOB_LOAD] = "token check",
	[MB_JOB_REJECTED] = "refresh after a rejection",
	[MB_JOB_PROACTIVE] = "proactive refresh",
	[MB_JOB_KEEPALIVE] = "keep-alive refresh",
};

static void
state_stamp_read(const char *state_dir, const char *name,
		 struct state_stamp *st)
{
	char path[4096];
	struct stat sb;

	memset(st, 0, sizeof(*st));
	if (snprintf(path, sizeof(path), "%s/%s.json", state_dir, name) <
	    (int)sizeof(path) && stat(path, &sb) == 0) {
		st->dev = sb.st_dev;
		st->ino = sb.st_ino;
		st->size = sb.st_size;
		st->mtime = sb.st_mtim;
	}
}

static bool
state_stamp_same(const struct state_stamp *a, const struct state_stamp *b)
{
	return a->dev == b->dev && a->ino == b->ino && a->size == b->size &&
	       a->mtime.tv_sec == b->mtime.tv_sec &&
	       a->mtime.tv_nsec == b->mtime.tv_nsec;
}

/* --- entries and generations -------------------------------------------- */

static struct mb_cache_entry *
entry_new(const struct mb_account *acct)
{
	struct mb_cache_entry *e = mb_xcalloc(1, sizeof(*e));

	e->name = mb_xstrdup(acct->name);
	e->state_dir = mb_xstrdup(acct->state_dir != NULL ? acct->state_dir :
				  "");
	e->refs = 1;
	return e;
}

static void
entry_put(struct mb_cache_entry *e)
{
	if (e == NULL || --e->refs > 0)
		return;
	mb_free_secret(&e->token);
	mb_free_secret(&e->rejected);
	free(e->error);
	free(e->name);
	free(e->state_dir);
	free(e);
}

static void
gen_free(struct mb_cache_gen *g)
{
	if (g->entries != NULL) {
		for (size_t i = 0; i < g->cfg->n_accounts; i++)
			entry_put(g->entries[i]);
	}
	free(g->entries);
	free(g->index);
	free(g->uids);
	mb_config_free(&g->cfg);
	free(g);
}

static void
gen_put(struct mb_cache_gen *g)
{
	if (g != NULL && --g->refs == 0)
		gen_free(g);
}

/* FNV-1a: account names are short and chosen by the administrator. */
static size_t
name_hash(const char *s)
{
	uint64_t h = 14695981039346656037ULL;

	for (; *s != '\0'; s++) {
		h ^= (unsigned char)*s;
		h *= 1099511628211ULL;
	}
	return (size_t)h;
}

/* The slot of name in g's index: holding it, or the free one where it
 * would go. */
static size_t
gen_slot(const struct mb_cache_gen *g, const char *name)
{
	size_t i = name_hash(name) & g->index_mask;

	while (g->index[i] != 0 &&
	       strcmp(g->cfg->accounts[g->index[i] - 1].name, name) != 0)
		i = (i + 1) & g->index_mask;
	return i;
}

static int
uid_cmp(const void *a, const void *b)
{
	uid_t x = *(const uid_t *)a, y = *(const uid_t *)b;

	return x < y ? -1 : x > y;
}

static void
gen_index(struct mb_cache_gen *g)
{
	size_t n = g->cfg->n_accounts, size = 16, n_uids = 0;

	while (size < 2 * n)
		size *= 2;
	g->index = mb_xcalloc(size, sizeof(*g->index));
	g->index_mask = size - 1;
	for (size_t i = 0; i < n; i++) {
		g->index[gen_slot(g, g->cfg->accounts[i].name)] = i + 1;
		n_uids += g->cfg->accounts[i].n_allow_uids;
	}
	g->uids = mb_xcalloc(n_uids > 0 ? n_uids : 1, sizeof(*g->uids));
	for (size_t i = 0; i < n; i++) {
		const struct mb_account *a = &g->cfg->accounts[i];

		for (size_t j = 0; j < a->n_allow_uids; j++)
			g->uids[g->n_uids++] = a->allow_uids[j];
	}
	qsort(g->uids, g->n_uids, sizeof(*g->uids), uid_cmp);
}

static struct mb_cache_entry *
gen_entry_named(const struct mb_cache_gen *g, const char *name,
		const char *state_dir)
{
	size_t i;

	if (g == NULL)
		return NULL;
	i = g->index[gen_slot(g, name)];
	if (i == 0 || strcmp(g->entries[i - 1]->state_dir, state_dir) != 0)
		return NULL;
	return g->entries[i - 1];
}

/* A generation for cfg (taken), reusing the entries of old where the
 * account's name and state directory are the same. */
static struct mb_cache_gen *
gen_new(struct mb_config **cfg, const struct mb_cache_gen *old)
{
	struct mb_cache_gen *g = mb_xcalloc(1, sizeof(*g));
	size_t n = (*cfg)->n_accounts;

	g->refs = 1;
	g->cfg = *cfg;
	g->entries = mb_xcalloc(n > 0 ? n : 1, sizeof(*g->entries));
	gen_index(g);
	for (size_t i = 0; i < n; i++) {
		const struct mb_account *a = &g->cfg->accounts[i];
		struct mb_cache_entry *e;

		e = gen_entry_named(old, a->name,
				    a->state_dir != NULL ? a->state_dir : "");
		if (e != NULL)
			e->refs++;
		else
			e = entry_new(a);
		g->entries[i] = e;
	}
	*cfg = NULL;
	return g;
}

const struct mb_config *
mb_cache_config(const struct mb_cache *c)
{
	return c->gen->cfg;
}

bool
mb_cache_uid_known(const struct mb_cache *c, uid_t uid)
{
	const struct mb_cache_gen *g = c->gen;

	if (uid == 0 || uid == geteuid())
		return true;
	return bsearch(&uid, g->uids, g->n_uids, sizeof(uid), uid_cmp) !=
	       NULL;
}

const struct mb_account *
mb_cache_find(const struct mb_cache *c, const char *name,
	      struct mb_cache_entry **e_r)
{
	const struct mb_cache_gen *g = c->gen;
	size_t i = g->index[gen_slot(g, name)];

	if (i == 0) {
		*e_r = NULL;
		return NULL;
	}
	*e_r = g->entries[i - 1];
	return &g->cfg->accounts[i - 1];
}

/* --- the state of one entry ------------------------------------------- */

static bool
entry_servable(const struct mb_cache_entry *e, time_t now)
{
	return e->token != NULL && e->expires_at > 0 &&
	       e->expires_at - now >= MB_CACHE_MIN_LEFT;
}

static enum mb_ipc_err
status_code(enum mb_token_status st)
{
	switch (st) {
	case MB_TOKEN_TRANSIENT:
		return MB_IPC_ERR_UNAVAILABLE;
	case MB_TOKEN_NEEDS_AUTHORIZE:
		return MB_IPC_ERR_NEEDS_AUTHORIZE;
	case MB_TOKEN_OK:
	case MB_TOKEN_ERROR:
	default:
		return MB_IPC_ERR_INTERNAL;
	}
}

/* Takes a's token as the one to serve. */
static void
entry_store(struct mb_cache_entry *e, struct mb_access *a, time_t now)
{
	if (e->token == NULL || strcmp(e->token, a->token) != 0)
		e->used = false;
	mb_free_secret(&e->token);
	e->token = a->token;
	a->token = NULL;
	e->expires_at = a->expires_at;
	e->obtained_at = a->obtained_at;
	if (a->obtained_at > e->last_refresh)
		e->last_refresh = a->obtained_at;
	if (e->last_refresh == 0)
		e->last_refresh = now;
	/* a report is about the token it named, not about a newer one */
	if (e->rejected != NULL && strcmp(e->rejected, e->token) != 0)
		mb_free_secret(&e->rejected);
}

/* A new token came: no failure stands, no back-off. */
static void
entry_ok(struct mb_cache_entry *e)
{
	free(e->error);
	e->error = NULL;
	e->status = MB_TOKEN_OK;
	e->failed_at = 0;
	e->retry_at = 0;
	e->backoff = 0;
}

static void
entry_back_off(struct mb_cache_entry *e, enum mb_token_status st, time_t now)
{
	e->backoff = e->backoff == 0 ? MB_CACHE_BACKOFF_MIN : e->backoff * 2;
	if (e->backoff > MB_CACHE_BACKOFF_MAX ||
	    st == MB_TOKEN_NEEDS_AUTHORIZE)
		e->backoff = MB_CACHE_BACKOFF_MAX;
	e->retry_at = now + e->backoff;
}

/* The answer when no valid token can be served. */
static void
answer_no_token(const struct mb_cache *c, const struct mb_cache_entry *e,
		char *out, size_t out_size)
{
	char msg[MB_IPC_TEXT_MAX + 1];

	if (c->stopping) {
		mb_ipc_format_err(out, out_size, MB_IPC_ERR_UNAVAILABLE,
				  "mailbearer serve is shutting down");
	} else if (e->refreshing) {
		snprintf(msg, sizeof(msg), "account %s has no valid access "
			 "token yet: the token endpoint has not answered in "
			 "time; the refresh goes on in the background, try "
			 "again shortly", e->name);
		mb_ipc_format_err(out, out_size, MB_IPC_ERR_UNAVAILABLE, msg);
	} else if (e->error != NULL) {
		mb_ipc_format_err(out, out_size, status_code(e->status),
				  e->error);
	} else if (e->token != NULL && e->expires_at > 0 &&
		   e->obtained_at > 0) {
		snprintf(msg, sizeof(msg), "account %s: the token endpoint's "
			 "access token expires %lld s after it was issued; serve "
			 "hands out no token with less than %d s left, since a "
			 "login could outlast it", e->name,
			 (long long)(e->expires_at - e->obtained_at),
			 MB_CACHE_MIN_LEFT);
		mb_ipc_format_err(out, out_size, MB_IPC_ERR_UNAVAILABLE, msg);
	} else if (e->token != NULL && e->expires_at > 0) {
		snprintf(msg, sizeof(msg), "account %s: the access token has "
			 "less than %d s left and no new one came yet; serve "
			 "hands out none that a login could outlast", e->name,
			 MB_CACHE_MIN_LEFT);
		mb_ipc_format_err(out, out_size, MB_IPC_ERR_UNAVAILABLE, msg);
	} else {
		snprintf(msg, sizeof(msg), "account %s: cannot get a token",
			 e->name);
		mb_ipc_format_err(out, out_size, MB_IPC_ERR_INTERNAL, msg);
	}
}

/* The OK answer with e's token; when it cannot be formatted (an expiry
 * beyond what the protocol carries, from a state file written by hand
 * or by an older import), ERR internal and a log line: a client is
 * never left without an answer. */
static void
answer_ok(const struct mb_cache_entry *e, char *out, size_t out_size)
{
	char msg[MB_IPC_TEXT_MAX + 1];

	if (mb_ipc_format_ok_checked(out, out_size, (long long)e->expires_at,
				     e->token) >= 0)
		return;
	snprintf(msg, sizeof(msg), "account %s: its access token cannot be "
		 "sent (expiry %lld is beyond what the protocol carries); "
		 "`mailbearer token --refresh %s` replaces it", e->name,
		 (long long)e->expires_at, e->name);
	mb_log(LOG_ERR, "%s", msg);
	mb_ipc_format_err(out, out_size, MB_IPC_ERR_INTERNAL, msg);
}

static void
answer_entry(const struct mb_cache *c, const struct mb_cache_entry *e,
	     time_t now, char *out, size_t out_size)
{
	if (entry_servable(e, now))
		answer_ok(e, out, out_size);
	else
		answer_no_token(c, e, out, out_size);
}

/* Answers every client waiting on e, and wipes the line after. */
static void
entry_wake(const struct mb_cache *c, struct mb_cache_entry *e, time_t now)
{
	char line[MB_IPC_LINE_MAX + 1];

	if (e->waiters == NULL)
		return;
	answer_entry(c, e, now, line, sizeof(line));
	while (e->waiters != NULL) {
		struct mb_cache_waiter *w = e->waiters;

		e->waiters = w->next;
		if (w->next != NULL)
			w->next->pprev = &e->waiters;
		w->next = NULL;
		w->pprev = NULL;
		w->e = NULL;
		entry_put(e);
		w->answer(w, line);
	}
	mb_wipe(line, strlen(line));
}

/* --- jobs ------------------------------------------------------------- */

const struct mb_account *
mb_cache_job_account(const struct mb_cache_job *j)
{
	return j->acct;
}

enum mb_cache_job_kind
mb_cache_job_kind(const struct mb_cache_job *j)
{
	return j->kind;
}

struct mb_cache_result *
mb_cache_job_result(struct mb_cache_job *j)
{
	return &j->r;
}

static void
job_free(struct mb_cache_job *j)
{
	mb_free_secret(&j->copy);
	mb_access_clear(&j->r.a);
	free(j->r.error);
	entry_put(j->e);
	gen_put(j->g);
	free(j);
}

/* Starts a job for e unless one runs.  false if none could be started
 * (then e->error says why). */
static bool
entry_kick(struct mb_cache *c, const struct mb_account *acct,
	   struct mb_cache_entry *e, enum mb_cache_job_kind kind, time_t now)
{
	struct mb_cache_job *j;
	const char *copy = NULL;

	if (e->refreshing)
		return true;
	if (c->stopping)
		return false;
	j = mb_xcalloc(1, sizeof(*j));
	if (kind == MB_JOB_REJECTED)
		copy = e->rejected;
	else
		copy = e->token;
	j->copy = mb_xstrdup_or_null(copy);
	j->g = c->gen;
	j->g->refs++;
	j->acct = acct;
	j->e = e;
	e->refs++;
	j->kind = kind;
	j->fleet_down = c->fleet_down && acct->fleet != NULL;
	j->r.st = MB_TOKEN_TRANSIENT;
	if (kind == MB_JOB_REJECTED)
		e->forced_at = now;
	e->refreshing = true;
	c->jobs++;
	if (c->runner.start(c->runner.ctx, j))
		return true;
	c->jobs--;
	e->refreshing = false;
	free(e->error);
	e->error = mb_xstrdup("cannot start a refresh (serve's log says why)");
	e->status = MB_TOKEN_ERROR;
	job_free(j);
	return false;
}

/* notify hears why: a fleet's refresh that the cluster held back says
 * so first (token.c's words follow, if any). */
static void
job_notify(const struct mb_cache_job *j)
{
	const struct mb_cache_result *r = &j->r;
	char *why = NULL;

	if (j->fleet_down && (r->st == MB_TOKEN_TRANSIENT || j->stale))
		why = mb_xasprintf("etcd has no quorum (or no endpoint "
				   "answers): %s", r->error != NULL ? r->error :
				   "no refresh is made without the cluster; "
				   "the current token is served until it "
				   "expires");
	mb_notify_observe(j->acct, r->st, j->stale,
			  why != NULL ? why : r->error, false);
	free(why);
}

void
mb_cache_job_run(struct mb_cache_job *j)
{
	struct mb_token_req req;
	struct mb_cache_result *r = &j->r;
	char *ferr = NULL;

	memset(&req, 0, sizeof(req));
	switch (j->kind) {
	case MB_JOB_REJECTED:
		req.rejected = j->copy;
		break;
	case MB_JOB_PROACTIVE:
		req.rejected = j->copy;
		req.proactive = true;
		break;
	case MB_JOB_KEEPALIVE:
		req.force = true;
		req.proactive = true;
		break;
	case MB_JOB_LOAD:
	default:
		break;
	}
	r->st = mb_token_get_ex(j->acct, &req, &r->a, &r->error);
	/* judged here too, so that notify hears the same verdict */
	if (r->st == MB_TOKEN_OK && (r->a.token == NULL ||
	    !mb_ipc_valid_token(r->a.token, strlen(r->a.token)))) {
		r->st = MB_TOKEN_ERROR;
		free(r->error);
		r->error = mb_xstrdup("the token endpoint returned an access "
				      "token that cannot be sent over the "
				      "socket");
	}
	/* a forced refresh that came back with the token it was meant to
	 * replace: the core served the still-valid one (it logged why) */
	j->stale = r->st == MB_TOKEN_OK && j->kind != MB_JOB_LOAD &&
		   j->copy != NULL && r->a.token != NULL &&
		   strcmp(r->a.token, j->copy) == 0;
	state_stamp_read(j->e->state_dir, j->e->name, &j->stamp);
	r->pending = mb_token_flush_pending(j->acct, &ferr) < 0;
	if (r->pending)
		mb_log(LOG_ERR, "account %s: %s", j->e->name,
		       ferr != NULL ? ferr : "the new state is not saved yet");
	free(ferr);
	job_notify(j);
}

static void
job_log(const struct mb_cache_job *j, enum mb_token_status st,
	const char *error, time_t expires_at, long backoff)
{
	char when[32];

	if (st == MB_TOKEN_OK) {
		mb_iso_time(expires_at, when, sizeof(when),
			    "an unknown time");
		mb_log(j->kind == MB_JOB_LOAD ? LOG_INFO : LOG_NOTICE,
		       "account %s: %s, valid until %s", j->e->name,
		       job_names[j->kind], when);
		return;
	}
	mb_log(st == MB_TOKEN_TRANSIENT ? LOG_WARNING : LOG_ERR,
	       "account %s: %s failed (next automatic attempt in %ld s): %s",
	       j->e->name, job_names[j->kind], backoff,
	       error != NULL ? error : "unknown error");
}

/* A failed refresh of a fleet's account while the cluster is down is
 * tried again soon: nothing but the cluster holds it back. */
static void
entry_fleet_cap(const struct mb_cache *c, const struct mb_account *acct,
		struct mb_cache_entry *e, time_t now)
{
	if (c->fleet_down && acct->fleet != NULL &&
	    e->backoff > MB_CACHE_FLEET_RETRY) {
		e->backoff = MB_CACHE_FLEET_RETRY;
		if (e->retry_at > now + MB_CACHE_FLEET_RETRY)
			e->retry_at = now + MB_CACHE_FLEET_RETRY;
	}
}

bool
mb_cache_job_done(struct mb_cache *c, struct mb_cache_job *j, time_t now)
{
	struct mb_cache_entry *e = j->e;
	struct mb_cache_result *r = &j->r;
	bool no_new;

	/* every token served is checked once, here (and at start-up): the
	 * answers do not look at it again */
	if (r->st == MB_TOKEN_OK && (r->a.token == NULL ||
	    !mb_ipc_valid_token(r->a.token, strlen(r->a.token)))) {
		r->st = MB_TOKEN_ERROR;
		j->stale = false;
		free(r->error);
		r->error = mb_xstrdup("the token endpoint returned an access "
				      "token that cannot be sent over the "
				      "socket");
	}
	if (r->st == MB_TOKEN_OK && j->stale) {
		/* keep serving it, and back off */
		entry_store(e, &r->a, now);
		entry_back_off(e, MB_TOKEN_TRANSIENT, now);
		if (e->status != MB_TOKEN_NEEDS_AUTHORIZE)
			entry_fleet_cap(c, j->acct, e, now);
		job_log(j, MB_TOKEN_TRANSIENT, "no new token (the line before "
			"says why); the current one is still valid",
			e->expires_at, e->backoff);
	} else if (r->st == MB_TOKEN_OK) {
		entry_store(e, &r->a, now);
		entry_ok(e);
		/* a token due as soon as it arrives must not make the
		 * scheduler spin, nor one too short to serve every request
		 * ask again */
		e->short_lived = !entry_servable(e, now);
		if (e->short_lived ||
		    mb_expiry_refresh_at(e->expires_at, e->obtained_at,
					 j->acct->refresh_margin) <= now)
			e->retry_at = now + MB_CACHE_BACKOFF_MIN;
		job_log(j, MB_TOKEN_OK, NULL, e->expires_at, 0);
	} else {
		free(e->error);
		e->error = r->error;
		r->error = NULL;
		e->status = r->st;
		e->failed_at = now;
		e->fail_stamp = j->stamp;
		e->short_lived = false;
		entry_back_off(e, r->st, now);
		if (r->st == MB_TOKEN_TRANSIENT)
			entry_fleet_cap(c, j->acct, e, now);
		/* the provider refused the refresh token: what it granted
		 * before is not served any more */
		if (r->st == MB_TOKEN_NEEDS_AUTHORIZE)
			mb_free_secret(&e->token);
		job_log(j, r->st, e->error, e->expires_at, e->backoff);
	}
	no_new = j->acct->fleet != NULL && (r->st != MB_TOKEN_OK || j->stale);
	e->pending_write = r->pending;
	if (r->pending && e->retry_at < now + c->flush_retry)
		e->retry_at = now + c->flush_retry;
	e->warmed = true;
	e->refreshing = false;
	c->jobs--;
	c->next_tick = now;
	entry_wake(c, e, now);
	job_free(j);
	return no_new;
}

/* --- requests ------------------------------------------------------------- */

/* Whether the state file changed since e's last failure. */
static bool
state_changed(const struct mb_cache_entry *e)
{
	struct state_stamp now;

	state_stamp_read(e->state_dir, e->name, &now);
	return !state_stamp_same(&e->fail_stamp, &now);
}

static long
wait_ms(const struct mb_account *acct)
{
	long ms = acct->timeout > 0 ? acct->timeout * 1000 : MB_CACHE_WAIT_MS;

	return ms < MB_CACHE_WAIT_MS ? ms : MB_CACHE_WAIT_MS;
}

bool
mb_cache_answer_token(struct mb_cache *c, const struct mb_account *acct,
		      struct mb_cache_entry *e, time_t now,
		      struct mb_cache_waiter *w, long *wait_ms_r, char *out,
		      size_t out_size)
{
	e->used = true;
	if (entry_servable(e, now)) {
		if (now >= e->retry_at &&
		    now >= mb_expiry_refresh_at(e->expires_at, e->obtained_at,
						acct->refresh_margin))
			entry_kick(c, acct, e, MB_JOB_PROACTIVE, now);
		answer_ok(e, out, out_size);
		return true;
	}
	/* a token too short-lived to hand out is not asked for again on
	 * every request: mb_cache_job_done() set retry_at for it */
	if (!e->refreshing && !(e->short_lived && now < e->retry_at) &&
	    (e->failed_at == 0 ||
	     now >= e->failed_at + MB_CACHE_REQUEST_RETRY ||
	     state_changed(e)))
		entry_kick(c, acct, e, MB_JOB_LOAD, now);
	if (!e->refreshing || c->stopping) {
		answer_no_token(c, e, out, out_size);
		return true;
	}
	w->e = e;
	e->refs++;
	w->next = e->waiters;
	if (w->next != NULL)
		w->next->pprev = &w->next;
	w->pprev = &e->waiters;
	e->waiters = w;
	*wait_ms_r = wait_ms(acct);
	return false;
}

void
mb_cache_unwait(struct mb_cache *c, struct mb_cache_waiter *w, char *out,
		size_t out_size)
{
	struct mb_cache_entry *e = w->e;

	if (e == NULL)
		return;
	*w->pprev = w->next;
	if (w->next != NULL)
		w->next->pprev = w->pprev;
	w->next = NULL;
	w->pprev = NULL;
	w->e = NULL;
	answer_no_token(c, e, out, out_size);
	entry_put(e);
}

/* A forced refresh (after a rejection) may start now. */
static bool
forced_due(const struct mb_cache_entry *e, time_t now)
{
	return e->forced_at == 0 || now >= e->forced_at +
	       MB_TOKEN_FORCE_INTERVAL;
}

/* The cached token is the one a server refused. */
static bool
entry_refused(const struct mb_cache_entry *e)
{
	return e->rejected != NULL && e->token != NULL &&
	       strcmp(e->rejected, e->token) == 0;
}

static bool
login_matches(const struct mb_account *acct, const char *login)
{
	const char *user = acct->user != NULL ? acct->user : acct->name;

	return login == NULL || strcasecmp(login, user) == 0;
}

void
mb_cache_answer_rejected(struct mb_cache *c, const struct mb_account *acct,
			 struct mb_cache_entry *e, const char *token,
			 const char *login, uid_t uid, bool act, time_t now,
			 char *out, size_t out_size)
{
	char msg[MB_IPC_TEXT_MAX + 1];
	const char *user = acct->user != NULL ? acct->user : acct->name;
	bool may_force;

	if (!login_matches(acct, login)) {
		snprintf(msg, sizeof(msg), "account %s: the server refused "
			 "the token sent with the login name \"%.255s\", but "
			 "the account's tokens are for \"%.255s\": use that "
			 "login name (Postfix: sasl_passwd; mbsync: User); "
			 "not refreshing, a new token would be refused too",
			 acct->name, login, user);
		if (act)
			mb_log(LOG_WARNING, "%s (reported by uid %u)", msg,
			       (unsigned)uid);
		mb_ipc_format_err(out, out_size, MB_IPC_ERR_LOGIN_MISMATCH,
				  msg);
		return;
	}
	mb_ipc_format_done(out, out_size);
	if (!act)
		return;
	if (e->token != NULL && strcmp(e->token, token) != 0) {
		mb_log(LOG_INFO, "account %s: uid %u reported a rejected token "
		       "that is no longer the current one", acct->name,
		       (unsigned)uid);
		return;
	}
	/* one forced refresh at a time; the token core allows one per
	 * MB_TOKEN_FORCE_INTERVAL across processes (the state's
	 * last_forced), and the scheduler starts a deferred one */
	may_force = !e->refreshing;
	if (e->rejected == NULL || strcmp(e->rejected, token) != 0) {
		mb_free_secret(&e->rejected);
		e->rejected = mb_xstrdup(token);
		if (may_force)
			mb_log(LOG_NOTICE, "account %s: a server rejected the "
			       "current token (reported by uid %u); refreshing "
			       "it, and serving it until a new one replaces it",
			       acct->name, (unsigned)uid);
		else
			mb_log(LOG_NOTICE, "account %s: a server rejected the "
			       "current token (reported by uid %u); serving it "
			       "until a new one replaces it (a refresh is "
			       "running)", acct->name, (unsigned)uid);
	}
	if (e->rejected != NULL && may_force)
		entry_kick(c, acct, e, MB_JOB_REJECTED, now);
}

/* --- the scheduler -------------------------------------------------------- */

static time_t
min_time(time_t a, time_t b)
{
	return b < a ? b : a;
}

/* Starts what e needs now.  Returns when it needs something again. */
static time_t
sched_entry(struct mb_cache *c, const struct mb_account *acct,
	    struct mb_cache_entry *e, time_t now)
{
	time_t due = now + MB_SCHED_MAX_SLEEP;
	/* An app-only account has no grant to keep alive. */
	long keepalive = mb_flow_app_only(acct->flow) ? 0 :
			 c->opt.keepalive;
	enum mb_cache_job_kind kind;

	if (e->refreshing)
		return due;
	if (now < e->retry_at)
		return e->retry_at;
	if (!e->warmed || e->pending_write)
		kind = MB_JOB_LOAD;
	else if (entry_refused(e) && forced_due(e, now))
		kind = MB_JOB_REJECTED;
	else if (keepalive > 0 && now >= e->last_refresh + keepalive)
		kind = MB_JOB_KEEPALIVE;
	else if (e->token != NULL && e->used &&
		 now >= mb_expiry_refresh_at(e->expires_at, e->obtained_at,
					     acct->refresh_margin))
		kind = MB_JOB_PROACTIVE;
	else {
		if (e->token != NULL && e->used)
			due = min_time(due, mb_expiry_refresh_at(
				e->expires_at, e->obtained_at,
				acct->refresh_margin));
		if (keepalive > 0)
			due = min_time(due, e->last_refresh + keepalive);
		if (entry_refused(e))
			due = min_time(due, e->forced_at +
				       MB_TOKEN_FORCE_INTERVAL);
		return due;
	}
	entry_kick(c, acct, e, kind, now);
	return due;
}

time_t
mb_cache_tick(struct mb_cache *c, time_t now)
{
	struct mb_cache_gen *g = c->gen;
	time_t next = now + MB_SCHED_MAX_SLEEP;

	if (c->stopping)
		return next;
	if (now < c->next_tick)
		return c->next_tick;
	for (size_t i = 0; i < g->cfg->n_accounts; i++)
		next = min_time(next, sched_entry(c, &g->cfg->accounts[i],
						  g->entries[i], now));
	c->next_tick = next > now ? next : now + 1;
	return c->next_tick;
}

/* --- the fleet ----------------------------------------------------------- */

bool
mb_cache_offer(struct mb_cache *c, const char *name, struct mb_access *a,
	       time_t now)
{
	struct mb_cache_entry *e;
	const struct mb_account *acct = mb_cache_find(c, name, &e);
	bool newer;

	if (acct == NULL || acct->fleet == NULL || a->token == NULL ||
	    !mb_ipc_valid_token(a->token, strlen(a->token)) ||
	    a->expires_at - now < MB_CACHE_MIN_LEFT)
		return false;
	/* the watch hands states over in the cluster's order: another
	 * token that expires no earlier is the later one (two tokens of
	 * one hour obtained within a second expire together) */
	newer = !entry_servable(e, now) ||
		(strcmp(e->token, a->token) != 0 &&
		 a->expires_at >= e->expires_at);
	if (!newer)
		return false;
	entry_store(e, a, now);
	if (!e->refreshing) {
		entry_ok(e);
		e->short_lived = false;
	}
	e->warmed = true;
	c->next_tick = now;
	mb_log(LOG_INFO, "account %s: a token obtained by another host of "
	       "the fleet, valid for %lld s", e->name,
	       (long long)(e->expires_at - now));
	entry_wake(c, e, now);
	return true;
}

void
mb_cache_fleet(struct mb_cache *c, bool up, const char *why, time_t now)
{
	struct mb_cache_gen *g = c->gen;

	if (!up && !c->fleet_down)
		mb_log(LOG_WARNING, "etcd: no quorum (%s); tokens valid by the "
		       "clock are still served, no refresh that rotates is "
		       "made until the cluster answers",
		       why != NULL ? why : "it does not answer");
	if (up && c->fleet_down)
		mb_log(LOG_NOTICE, "etcd: quorum back, refreshing resumes");
	if (up == !c->fleet_down)
		return;
	c->fleet_down = !up;
	for (size_t i = 0; i < g->cfg->n_accounts; i++) {
		struct mb_cache_entry *e = g->entries[i];

		if (g->cfg->accounts[i].fleet == NULL || e->refreshing ||
		    e->status == MB_TOKEN_NEEDS_AUTHORIZE)
			continue;
		if (!up) {
			entry_fleet_cap(c, &g->cfg->accounts[i], e, now);
		} else if (e->backoff > 0) {
			e->backoff = 0;
			e->retry_at = now;
		}
	}
	c->next_tick = now;
}

struct mb_cache_gen *
mb_cache_hold(struct mb_cache *c)
{
	c->gen->refs++;
	return c->gen;
}

const struct mb_config *
mb_cache_gen_config(const struct mb_cache_gen *g)
{
	return g->cfg;
}

void
mb_cache_release(struct mb_cache_gen *g)
{
	gen_put(g);
}

/* --- life cycle ----------------------------------------------------------- */

struct mb_cache *
mb_cache_new(struct mb_config **cfg, const struct mb_cache_options *opts,
	     const struct mb_cache_runner *runner)
{
	struct mb_cache *c = mb_xcalloc(1, sizeof(*c));

	c->opt = *opts;
	c->runner = *runner;
	c->flush_retry = mb_test_hook_long("MB_TEST_FLUSH_RETRY",
					   MB_CACHE_FLUSH_RETRY);
	c->gen = gen_new(cfg, NULL);
	return c;
}

void
mb_cache_warm(struct mb_cache *c, time_t now)
{
	struct mb_cache_gen *g = c->gen;
	size_t served = 0;

	for (size_t i = 0; i < g->cfg->n_accounts; i++) {
		struct mb_cache_entry *e = g->entries[i];
		struct mb_access a = { NULL, 0, 0, false };

		if (e->warmed || e->token != NULL ||
		    !c->runner.peek(c->runner.ctx, &g->cfg->accounts[i], &a))
			continue;
		if (mb_ipc_valid_token(a.token, strlen(a.token))) {
			entry_store(e, &a, now);
			if (entry_servable(e, now)) {
				e->warmed = true;
				served++;
			}
		}
		mb_access_clear(&a);
	}
	mb_log(LOG_INFO, "%zu of %zu account(s) have a valid token on disk",
	       served, g->cfg->n_accounts);
	c->next_tick = now;
}

void
mb_cache_reload(struct mb_cache *c, struct mb_config **cfg, time_t now)
{
	struct mb_cache_gen *g = gen_new(cfg, c->gen);

	gen_put(c->gen);
	c->gen = g;
	mb_cache_warm(c, now);
}

void
mb_cache_stop(struct mb_cache *c, time_t now)
{
	struct mb_cache_gen *g = c->gen;

	c->stopping = true;
	for (size_t i = 0; i < g->cfg->n_accounts; i++)
		entry_wake(c, g->entries[i], now);
}

unsigned
mb_cache_jobs(const struct mb_cache *c)
{
	return c->jobs;
}

void
mb_cache_free(struct mb_cache **cp)
{
	struct mb_cache *c = *cp;

	if (c == NULL)
		return;
	gen_put(c->gen);
	free(c);
	*cp = NULL;
}
