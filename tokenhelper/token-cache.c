#include <config.h>

#include "token-cache.h"

#include "cancel.h"
#include "expiry.h"
#include "ipc-proto.h"
#include "errtext.h"
#include "log.h"
#include "notify.h"
#include "store.h"
#include "token.h"
#include "wipe.h"

#include <errno.h>
#include <sys/stat.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

/* Locks, outermost first; none is held across I/O, a sleep or a file
 * lock, and nobody takes an outer one while holding an inner one:
 *   e->mu     one account's cached token and refresh bookkeeping;
 *   c->mu     the current generation, the scheduler's wake-up, the
 *             worker count, stopping.
 * Generations and entries are reference-counted with atomics. */

#define MB_BACKOFF_MIN		30
#define MB_BACKOFF_MAX		3600
#define MB_SCHED_MAX_SLEEP	60
#define MB_FLUSH_RETRY		30

enum job_kind {
	JOB_LOAD,	/* no valid token in memory: read (and refresh) */
	JOB_REJECTED,	/* a server refused e->rejected */
	JOB_PROACTIVE,	/* the freshness rule says: refresh now */
	JOB_KEEPALIVE,	/* nobody asked for a long time */
};

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
	atomic_uint refs;
	char *name;
	char *state_dir;
	pthread_mutex_t mu;
	pthread_cond_t cond;	/* a refresh ended (CLOCK_MONOTONIC) */
	char *token;		/* cached access token (secret) or NULL */
	time_t expires_at;
	time_t obtained_at;
	char *rejected;		/* reported by a plugin, not yet handled */
	bool refreshing;	/* a worker runs for this entry */
	unsigned long done;	/* refreshes ended */
	enum mb_token_status status;	/* of the last one */
	char *error;		/* its secret-free message, or NULL */
	time_t failed_at;	/* when the last one failed, 0 if it did not */
	struct state_stamp fail_stamp;	/* the state file at that time */
	time_t retry_at;	/* scheduler back-off */
	long backoff;
	time_t last_refresh;	/* a new token was last seen (keep-alive) */
	bool used;		/* asked for since the token was obtained */
	bool warmed;		/* loaded once at start-up */
	bool pending_write;	/* a refreshed state awaits its write */
};

struct mb_cache_gen {
	atomic_uint refs;
	struct mb_config *cfg;
	struct mb_cache_entry **entries;	/* parallel to cfg->accounts */
};

struct mb_cache {
	struct mb_cache_options opt;
	pthread_mutex_t mu;
	pthread_cond_t cond;	/* scheduler wake-up; workers == 0 */
	struct mb_cache_gen *gen;
	unsigned workers;
	bool stopping;
	bool kicked;		/* the scheduler should look again */
	pthread_t scheduler;
	bool scheduler_started;
};

struct job {
	struct mb_cache *c;
	struct mb_cache_gen *g;
	const struct mb_account *acct;
	struct mb_cache_entry *e;
	enum job_kind kind;
	time_t prev_obtained;	/* of the cached token when it started */
	struct state_stamp stamp;	/* the state file when it ended */
};

static void
state_stamp_read(const struct mb_account *acct, struct state_stamp *st)
{
	char *path = mb_store_path(acct, ".json");
	struct stat sb;

	memset(st, 0, sizeof(*st));
	if (path != NULL && stat(path, &sb) == 0) {
		st->dev = sb.st_dev;
		st->ino = sb.st_ino;
		st->size = sb.st_size;
		st->mtime = sb.st_mtim;
	}
	free(path);
}

static bool
state_stamp_same(const struct state_stamp *a, const struct state_stamp *b)
{
	return a->dev == b->dev && a->ino == b->ino && a->size == b->size &&
	       a->mtime.tv_sec == b->mtime.tv_sec &&
	       a->mtime.tv_nsec == b->mtime.tv_nsec;
}

static const char *const job_names[] = {
	[JOB_LOAD] = "token check",
	[JOB_REJECTED] = "refresh after a rejection",
	[JOB_PROACTIVE] = "proactive refresh",
	[JOB_KEEPALIVE] = "keep-alive refresh",
};

static void
free_secret(char **s)
{
	if (*s == NULL)
		return;
	mb_wipe(*s, strlen(*s));
	free(*s);
	*s = NULL;
}

static void
cond_init_monotonic(pthread_cond_t *cond)
{
	pthread_condattr_t a;

	pthread_condattr_init(&a);
	pthread_condattr_setclock(&a, CLOCK_MONOTONIC);
	pthread_cond_init(cond, &a);
	pthread_condattr_destroy(&a);
}

static void
deadline_in(struct timespec *ts, long ms)
{
	clock_gettime(CLOCK_MONOTONIC, ts);
	ts->tv_sec += ms / 1000;
	ts->tv_nsec += (ms % 1000) * 1000000L;
	if (ts->tv_nsec >= 1000000000L) {
		ts->tv_sec++;
		ts->tv_nsec -= 1000000000L;
	}
}

/* --- entries and generations -------------------------------------------- */

static struct mb_cache_entry *
entry_new(const struct mb_account *acct)
{
	struct mb_cache_entry *e = calloc(1, sizeof(*e));

	if (e == NULL)
		return NULL;
	e->name = strdup(acct->name);
	e->state_dir = strdup(acct->state_dir != NULL ? acct->state_dir : "");
	if (e->name == NULL || e->state_dir == NULL) {
		free(e->name);
		free(e->state_dir);
		free(e);
		return NULL;
	}
	atomic_init(&e->refs, 1);
	pthread_mutex_init(&e->mu, NULL);
	cond_init_monotonic(&e->cond);
	return e;
}

static void
entry_put(struct mb_cache_entry *e)
{
	if (e == NULL || atomic_fetch_sub(&e->refs, 1) != 1)
		return;
	free_secret(&e->token);
	free_secret(&e->rejected);
	free(e->error);
	free(e->name);
	free(e->state_dir);
	pthread_mutex_destroy(&e->mu);
	pthread_cond_destroy(&e->cond);
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
	mb_config_free(&g->cfg);
	free(g);
}

void
mb_cache_release(struct mb_cache_gen *g)
{
	if (g != NULL && atomic_fetch_sub(&g->refs, 1) == 1)
		gen_free(g);
}

static struct mb_cache_entry *
gen_entry_named(const struct mb_cache_gen *g, const char *name,
		const char *state_dir)
{
	if (g == NULL)
		return NULL;
	for (size_t i = 0; i < g->cfg->n_accounts; i++) {
		struct mb_cache_entry *e = g->entries[i];

		if (strcmp(e->name, name) == 0 &&
		    strcmp(e->state_dir, state_dir) == 0)
			return e;
	}
	return NULL;
}

/* A generation for cfg (taken), reusing the entries of old where the
 * account's name and state directory are the same. */
static struct mb_cache_gen *
gen_new(struct mb_config **cfg, const struct mb_cache_gen *old)
{
	struct mb_cache_gen *g = calloc(1, sizeof(*g));
	size_t n = (*cfg)->n_accounts;

	if (g == NULL)
		return NULL;
	atomic_init(&g->refs, 1);
	g->cfg = *cfg;
	g->entries = calloc(n > 0 ? n : 1, sizeof(*g->entries));
	if (g->entries == NULL) {
		free(g);
		return NULL;
	}
	for (size_t i = 0; i < n; i++) {
		const struct mb_account *a = &g->cfg->accounts[i];
		struct mb_cache_entry *e;

		e = gen_entry_named(old, a->name,
				    a->state_dir != NULL ? a->state_dir : "");
		if (e != NULL)
			atomic_fetch_add(&e->refs, 1);
		else
			e = entry_new(a);
		if (e == NULL) {
			g->cfg = NULL;
			for (size_t j = 0; j < i; j++)
				entry_put(g->entries[j]);
			free(g->entries);
			free(g);
			return NULL;
		}
		g->entries[i] = e;
	}
	*cfg = NULL;
	return g;
}

struct mb_cache_gen *
mb_cache_acquire(struct mb_cache *c)
{
	struct mb_cache_gen *g;

	pthread_mutex_lock(&c->mu);
	g = c->gen;
	atomic_fetch_add(&g->refs, 1);
	pthread_mutex_unlock(&c->mu);
	return g;
}

const struct mb_config *
mb_cache_config(const struct mb_cache_gen *g)
{
	return g->cfg;
}

bool
mb_cache_uid_known(const struct mb_cache_gen *g, uid_t uid)
{
	if (uid == 0 || uid == geteuid())
		return true;
	for (size_t i = 0; i < g->cfg->n_accounts; i++) {
		const struct mb_account *a = &g->cfg->accounts[i];

		for (size_t j = 0; j < a->n_allow_uids; j++) {
			if (a->allow_uids[j] == uid)
				return true;
		}
	}
	return false;
}

const struct mb_account *
mb_cache_find(const struct mb_cache_gen *g, const char *name,
	      struct mb_cache_entry **e_r)
{
	for (size_t i = 0; i < g->cfg->n_accounts; i++) {
		if (strcmp(g->cfg->accounts[i].name, name) == 0) {
			*e_r = g->entries[i];
			return &g->cfg->accounts[i];
		}
	}
	*e_r = NULL;
	return NULL;
}

/* --- refresh workers ------------------------------------------------------ */

/* At most this many workers started by the scheduler at once (start-up of
 * many accounts); a request's own refresh is never held back by it. */
#define MB_SCHED_MAX_WORKERS	8

static bool
entry_servable(const struct mb_cache_entry *e, time_t now)
{
	return e->token != NULL && e->expires_at > 0 &&
	       e->expires_at - now >= MB_CACHE_MIN_LEFT;
}

static void
iso_time(time_t t, char *buf, size_t size)
{
	struct tm tm;

	if (t <= 0 || gmtime_r(&t, &tm) == NULL ||
	    strftime(buf, size, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		snprintf(buf, size, "an unknown time");
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

/* Stores a worker's new token; e->mu held. */
static void
entry_store(struct mb_cache_entry *e, struct mb_access *a, time_t now)
{
	if (e->token == NULL || strcmp(e->token, a->token) != 0)
		e->used = false;
	free_secret(&e->token);
	e->token = a->token;
	a->token = NULL;
	e->expires_at = a->expires_at;
	e->obtained_at = a->obtained_at;
	if (a->obtained_at > e->last_refresh)
		e->last_refresh = a->obtained_at;
	if (e->last_refresh == 0)
		e->last_refresh = now;
	if (e->rejected != NULL) {
		/* the core never hands out the refused token as valid; if it
		 * did, do not serve it from memory */
		if (strcmp(e->rejected, e->token) == 0)
			free_secret(&e->token);
		else
			free_secret(&e->rejected);
	}
	free(e->error);
	e->error = NULL;
	e->status = MB_TOKEN_OK;
	e->failed_at = 0;
	e->retry_at = 0;
	e->backoff = 0;
}

/* Records a failed refresh; e->mu held.  Takes error. */
static void
entry_failed(struct mb_cache_entry *e, enum mb_token_status st,
	     char *error, time_t now)
{
	free(e->error);
	e->error = error;
	e->status = st;
	e->failed_at = now;
	e->backoff = e->backoff == 0 ? MB_BACKOFF_MIN : e->backoff * 2;
	if (e->backoff > MB_BACKOFF_MAX || st == MB_TOKEN_NEEDS_AUTHORIZE)
		e->backoff = MB_BACKOFF_MAX;
	e->retry_at = now + e->backoff;
}

static void
job_log(const struct job *j, enum mb_token_status st, const char *error,
	time_t expires_at, long backoff)
{
	char when[32];

	if (st == MB_TOKEN_OK) {
		iso_time(expires_at, when, sizeof(when));
		mb_log(j->kind == JOB_LOAD ? LOG_INFO : LOG_NOTICE,
		       "account %s: %s, valid until %s", j->e->name,
		       job_names[j->kind], when);
		return;
	}
	mb_log(st == MB_TOKEN_TRANSIENT ? LOG_WARNING : LOG_ERR,
	       "account %s: %s failed (next automatic attempt in %ld s): %s",
	       j->e->name, job_names[j->kind], backoff,
	       error != NULL ? error : "unknown error");
}

/* What the worker asks the token core for; e->mu held.  *copy_r is a
 * secret the caller wipes. */
static void
job_request(struct job *j, struct mb_token_req *req, char **copy_r)
{
	struct mb_cache_entry *e = j->e;

	memset(req, 0, sizeof(*req));
	*copy_r = NULL;
	j->prev_obtained = e->token != NULL ? e->obtained_at : 0;
	switch (j->kind) {
	case JOB_REJECTED:
		if (e->rejected != NULL)
			*copy_r = strdup(e->rejected);
		req->rejected = *copy_r;
		break;
	case JOB_PROACTIVE:
		if (e->token != NULL)
			*copy_r = strdup(e->token);
		req->rejected = *copy_r;
		req->proactive = true;
		break;
	case JOB_KEEPALIVE:
		req->force = true;
		req->proactive = true;
		break;
	case JOB_LOAD:
	default:
		break;
	}
}

/* A forced refresh (proactive, keep-alive, after a rejection) that came
 * back with the token it was meant to replace. */
static bool
stale_refresh(const struct job *j, const struct mb_access *a)
{
	return j->kind != JOB_LOAD && j->prev_obtained != 0 &&
	       a->obtained_at <= j->prev_obtained;
}

static void
job_finish(struct job *j, enum mb_token_status st, struct mb_access *a,
	   char *error, bool pending)
{
	struct mb_cache_entry *e = j->e;
	struct mb_cache *c = j->c;
	time_t now = time(NULL);
	time_t expires_at;
	long backoff;
	bool stale = false;
	char *why;

	if (st == MB_TOKEN_OK && (a->token == NULL ||
	    !mb_ipc_valid_token(a->token, strlen(a->token)))) {
		st = MB_TOKEN_ERROR;
		free(error);
		error = strdup("the token endpoint returned an access token "
			       "that cannot be sent over the socket");
	}
	pthread_mutex_lock(&e->mu);
	if (st == MB_TOKEN_OK && stale_refresh(j, a)) {
		/* the core served the still-valid token because the refresh
		 * failed (it logged why): keep it, and back off */
		long prev = e->backoff;

		entry_store(e, a, now);
		free(error);
		e->backoff = prev == 0 ? MB_BACKOFF_MIN : prev * 2;
		if (e->backoff > MB_BACKOFF_MAX)
			e->backoff = MB_BACKOFF_MAX;
		e->retry_at = now + e->backoff;
		st = MB_TOKEN_TRANSIENT;
		error = strdup("no new token (the line before says why); the "
			       "current one is still valid");
		stale = true;
	} else if (st == MB_TOKEN_OK) {
		entry_store(e, a, now);
		free(error);
		error = NULL;
		/* tokens that are due as soon as they arrive must not make
		 * the scheduler spin */
		if (mb_expiry_refresh_at(e->expires_at, e->obtained_at,
					 j->acct->refresh_margin) <= now)
			e->retry_at = now + MB_BACKOFF_MIN;
	} else {
		entry_failed(e, st, error, now);
		e->fail_stamp = j->stamp;
	}
	e->pending_write = pending;
	if (stale) {
		job_log(j, st, error, e->expires_at, e->backoff);
		free(error);
		error = NULL;
		st = MB_TOKEN_OK;
	}
	if (pending && e->retry_at < now + MB_FLUSH_RETRY)
		e->retry_at = now + MB_FLUSH_RETRY;
	e->warmed = true;
	e->refreshing = false;
	e->done++;
	expires_at = e->expires_at;
	backoff = e->backoff;
	if (!stale)
		job_log(j, st, e->error, expires_at, backoff);
	why = e->error != NULL ? strdup(e->error) : NULL;
	pthread_cond_broadcast(&e->cond);
	pthread_mutex_unlock(&e->mu);
	/* after the entry's lock: it may wait for the notify file's */
	mb_notify_observe(j->acct, st, stale, why, false);
	free(why);

	pthread_mutex_lock(&c->mu);
	c->workers--;
	c->kicked = true;
	pthread_cond_broadcast(&c->cond);
	pthread_mutex_unlock(&c->mu);
}

static void *
job_run(void *arg)
{
	struct job *j = arg;
	struct mb_token_req req;
	struct mb_access a = { NULL, 0, 0 };
	char *copy = NULL, *error = NULL, *ferr = NULL;
	enum mb_token_status st;
	bool pending;

	pthread_mutex_lock(&j->e->mu);
	job_request(j, &req, &copy);
	pthread_mutex_unlock(&j->e->mu);
	st = mb_token_get_ex(j->acct, &req, &a, &error);
	state_stamp_read(j->acct, &j->stamp);
	pending = mb_token_flush_pending(j->acct, &ferr) < 0;
	if (pending)
		mb_log(LOG_ERR, "account %s: %s", j->e->name,
		       ferr != NULL ? ferr : "the new state is not saved yet");
	free(ferr);
	free_secret(&copy);
	job_finish(j, st, &a, error, pending);
	mb_access_clear(&a);
	entry_put(j->e);
	mb_cache_release(j->g);
	free(j);
	return NULL;
}

/* Starts a worker for e unless one runs; e->mu held.  false if none could
 * be started (then e->error says why). */
static bool
entry_kick(struct mb_cache *c, struct mb_cache_gen *g,
	   const struct mb_account *acct, struct mb_cache_entry *e,
	   enum job_kind kind)
{
	struct job *j;
	pthread_attr_t attr;
	pthread_t t;
	int rc;

	if (e->refreshing)
		return true;
	j = malloc(sizeof(*j));
	if (j == NULL)
		return false;
	pthread_mutex_lock(&c->mu);
	if (c->stopping) {
		pthread_mutex_unlock(&c->mu);
		free(j);
		return false;
	}
	c->workers++;
	pthread_mutex_unlock(&c->mu);
	j->c = c;
	j->g = g;
	j->acct = acct;
	j->e = e;
	j->kind = kind;
	atomic_fetch_add(&g->refs, 1);
	atomic_fetch_add(&e->refs, 1);
	e->refreshing = true;
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	pthread_attr_setstacksize(&attr, 512 * 1024);
	rc = pthread_create(&t, &attr, job_run, j);
	pthread_attr_destroy(&attr);
	if (rc == 0)
		return true;
	e->refreshing = false;
	free(e->error);
	e->error = strdup("cannot start a refresh thread");
	e->status = MB_TOKEN_ERROR;
	mb_log(LOG_ERR, "account %s: cannot start a refresh thread: %s",
	       e->name, mb_errstr(rc));
	atomic_fetch_sub(&e->refs, 1);
	atomic_fetch_sub(&g->refs, 1);
	free(j);
	pthread_mutex_lock(&c->mu);
	c->workers--;
	pthread_cond_broadcast(&c->cond);
	pthread_mutex_unlock(&c->mu);
	return false;
}

/* --- requests ------------------------------------------------------------- */

static bool
cache_stopping(struct mb_cache *c)
{
	bool s;

	pthread_mutex_lock(&c->mu);
	s = c->stopping;
	pthread_mutex_unlock(&c->mu);
	return s;
}

/* Waits (e->mu held) until e's refresh ends, the deadline passes or serve
 * stops. */
static void
entry_wait(struct mb_cache *c, struct mb_cache_entry *e)
{
	struct timespec dl;

	deadline_in(&dl, MB_CACHE_WAIT_MS);
	while (e->refreshing && !cache_stopping(c)) {
		if (pthread_cond_timedwait(&e->cond, &e->mu, &dl) ==
		    ETIMEDOUT)
			break;
	}
}

/* The answer when no valid token could be served; e->mu held. */
static void
answer_no_token(struct mb_cache *c, struct mb_cache_entry *e, char *out,
		size_t out_size)
{
	char msg[MB_IPC_TEXT_MAX + 1];

	if (e->refreshing && !cache_stopping(c)) {
		snprintf(msg, sizeof(msg), "account %s has no valid access "
			 "token yet: the token endpoint has not answered "
			 "within %d s; the refresh goes on in the background, "
			 "try again shortly", e->name,
			 MB_CACHE_WAIT_MS / 1000);
		mb_ipc_format_err(out, out_size, MB_IPC_ERR_UNAVAILABLE, msg);
	} else if (cache_stopping(c)) {
		mb_ipc_format_err(out, out_size, MB_IPC_ERR_UNAVAILABLE,
				  "mailbearer serve is shutting down");
	} else if (e->error != NULL) {
		mb_ipc_format_err(out, out_size, status_code(e->status),
				  e->error);
	} else if (e->token != NULL && e->expires_at > 0) {
		snprintf(msg, sizeof(msg), "account %s: the token endpoint's "
			 "access token expires %lld s after it was issued; serve "
			 "hands out no token with less than %d s left, since a "
			 "login could outlast it", e->name,
			 (long long)(e->expires_at - e->obtained_at),
			 MB_CACHE_MIN_LEFT);
		mb_ipc_format_err(out, out_size, MB_IPC_ERR_UNAVAILABLE, msg);
	} else {
		snprintf(msg, sizeof(msg), "account %s: cannot get a token",
			 e->name);
		mb_ipc_format_err(out, out_size, MB_IPC_ERR_INTERNAL, msg);
	}
}

/* e->mu held: whether the state file changed since e's last failure.
 * The lock is let go for the stat(2), so the caller looks again at what
 * it decided before. */
static bool
state_changed(const struct mb_account *acct, struct mb_cache_entry *e)
{
	struct state_stamp then = e->fail_stamp, now;

	pthread_mutex_unlock(&e->mu);
	state_stamp_read(acct, &now);
	pthread_mutex_lock(&e->mu);
	return !e->refreshing && !state_stamp_same(&then, &now);
}

void
mb_cache_answer_token(struct mb_cache *c, struct mb_cache_gen *g,
		      const struct mb_account *acct,
		      struct mb_cache_entry *e, char *out, size_t out_size)
{
	time_t now = time(NULL);

	pthread_mutex_lock(&e->mu);
	e->used = true;
	if (entry_servable(e, now)) {
		if (now >= e->retry_at &&
		    now >= mb_expiry_refresh_at(e->expires_at, e->obtained_at,
						acct->refresh_margin))
			entry_kick(c, g, acct, e, JOB_PROACTIVE);
		mb_ipc_format_ok(out, out_size, (long long)e->expires_at,
				 e->token);
		pthread_mutex_unlock(&e->mu);
		return;
	}
	/* a token too short-lived to hand out is not asked for again on
	 * every request: job_finish() set retry_at for it */
	if (!e->refreshing && !(e->token != NULL && now < e->retry_at) &&
	    (e->failed_at == 0 ||
	     now >= e->failed_at + MB_CACHE_REQUEST_RETRY ||
	     state_changed(acct, e)))
		entry_kick(c, g, acct, e,
			   e->rejected != NULL ? JOB_REJECTED : JOB_LOAD);
	entry_wait(c, e);
	e->used = true;
	if (entry_servable(e, time(NULL)))
		mb_ipc_format_ok(out, out_size, (long long)e->expires_at,
				 e->token);
	else
		answer_no_token(c, e, out, out_size);
	pthread_mutex_unlock(&e->mu);
}

static bool
login_matches(const struct mb_account *acct, const char *login)
{
	const char *user = acct->user != NULL ? acct->user : acct->name;

	return login == NULL || strcasecmp(login, user) == 0;
}

void
mb_cache_answer_rejected(struct mb_cache *c, struct mb_cache_gen *g,
			 const struct mb_account *acct,
			 struct mb_cache_entry *e, const char *token,
			 const char *login, uid_t uid, char *out,
			 size_t out_size)
{
	char msg[MB_IPC_TEXT_MAX + 1];
	const char *user = acct->user != NULL ? acct->user : acct->name;

	if (!login_matches(acct, login)) {
		snprintf(msg, sizeof(msg), "account %s: the server refused "
			 "the token sent with the login name \"%.255s\", but "
			 "the account's tokens are for \"%.255s\": use that "
			 "login name (Postfix: sasl_passwd; mbsync: User); "
			 "not refreshing, a new token would be refused too",
			 acct->name, login, user);
		mb_log(LOG_WARNING, "%s (reported by uid %u)", msg,
		       (unsigned)uid);
		mb_ipc_format_err(out, out_size, MB_IPC_ERR_LOGIN_MISMATCH,
				  msg);
		return;
	}
	pthread_mutex_lock(&e->mu);
	if (e->token != NULL && strcmp(e->token, token) != 0) {
		pthread_mutex_unlock(&e->mu);
		mb_log(LOG_INFO, "account %s: uid %u reported a rejected token "
		       "that is no longer the current one", acct->name,
		       (unsigned)uid);
		mb_ipc_format_done(out, out_size);
		return;
	}
	free_secret(&e->rejected);
	e->rejected = strdup(token);
	if (e->token != NULL) {
		free_secret(&e->token);
		mb_log(LOG_NOTICE, "account %s: a server rejected the current "
		       "token (reported by uid %u); refreshing it", acct->name,
		       (unsigned)uid);
	}
	if (e->rejected != NULL)
		entry_kick(c, g, acct, e, JOB_REJECTED);
	pthread_mutex_unlock(&e->mu);
	mb_ipc_format_done(out, out_size);
}

/* --- the scheduler -------------------------------------------------------- */

static long
min_due(long a, long b)
{
	return b < a ? b : a;
}

/* What e needs now; e->mu held.  Returns seconds until it needs
 * something again. */
static long
sched_entry(struct mb_cache *c, struct mb_cache_gen *g,
	    const struct mb_account *acct, struct mb_cache_entry *e,
	    time_t now, bool may_start)
{
	long due = MB_SCHED_MAX_SLEEP;
	/* An app-only account has no grant to keep alive. */
	long keepalive = acct->flow == MB_FLOW_CLIENT_CREDENTIALS ? 0 :
			 c->opt.keepalive;
	enum job_kind kind;

	if (e->refreshing)
		return due;
	if (now < e->retry_at)
		return (long)(e->retry_at - now);
	if (!e->warmed || e->pending_write)
		kind = JOB_LOAD;
	else if (keepalive > 0 && now >= e->last_refresh + keepalive)
		kind = JOB_KEEPALIVE;
	else if (e->token != NULL && e->used &&
		 now >= mb_expiry_refresh_at(e->expires_at, e->obtained_at,
					     acct->refresh_margin))
		kind = JOB_PROACTIVE;
	else {
		if (e->token != NULL && e->used)
			due = min_due(due, (long)(mb_expiry_refresh_at(
				e->expires_at, e->obtained_at,
				acct->refresh_margin) - now));
		if (keepalive > 0)
			due = min_due(due, (long)(e->last_refresh +
						  keepalive - now));
		return due;
	}
	if (!may_start)
		return 1;
	entry_kick(c, g, acct, e, kind);
	return due;
}

static long
sched_pass(struct mb_cache *c, struct mb_cache_gen *g)
{
	long next = MB_SCHED_MAX_SLEEP;

	for (size_t i = 0; i < g->cfg->n_accounts; i++) {
		struct mb_cache_entry *e = g->entries[i];
		bool may_start;

		pthread_mutex_lock(&c->mu);
		may_start = c->workers < MB_SCHED_MAX_WORKERS;
		pthread_mutex_unlock(&c->mu);
		pthread_mutex_lock(&e->mu);
		next = min_due(next, sched_entry(c, g, &g->cfg->accounts[i], e,
						 time(NULL), may_start));
		pthread_mutex_unlock(&e->mu);
	}
	return next < 1 ? 1 : next;
}

static void *
sched_thread(void *arg)
{
	struct mb_cache *c = arg;

	pthread_mutex_lock(&c->mu);
	while (!c->stopping) {
		struct mb_cache_gen *g = c->gen;
		struct timespec dl;
		long next;

		atomic_fetch_add(&g->refs, 1);
		c->kicked = false;
		pthread_mutex_unlock(&c->mu);
		next = sched_pass(c, g);
		mb_cache_release(g);
		pthread_mutex_lock(&c->mu);
		if (c->stopping || c->kicked)
			continue;
		deadline_in(&dl, next * 1000);
		pthread_cond_timedwait(&c->cond, &c->mu, &dl);
	}
	pthread_mutex_unlock(&c->mu);
	return NULL;
}

/* --- life cycle ----------------------------------------------------------- */

struct mb_cache *
mb_cache_new(struct mb_config **cfg, const struct mb_cache_options *opts)
{
	struct mb_cache *c = calloc(1, sizeof(*c));
	int rc;

	if (c == NULL)
		goto nomem;
	c->opt = *opts;
	pthread_mutex_init(&c->mu, NULL);
	cond_init_monotonic(&c->cond);
	c->gen = gen_new(cfg, NULL);
	if (c->gen == NULL)
		goto nomem;
	rc = pthread_create(&c->scheduler, NULL, sched_thread, c);
	if (rc != 0) {
		mb_log(LOG_ERR, "cannot start the refresh scheduler: %s",
		       mb_errstr(rc));
		mb_cache_free(&c);
		return NULL;
	}
	c->scheduler_started = true;
	return c;
nomem:
	mb_log(LOG_ERR, "out of memory");
	mb_cache_free(&c);
	return NULL;
}

int
mb_cache_reload(struct mb_cache *c, struct mb_config **cfg)
{
	struct mb_cache_gen *old = mb_cache_acquire(c);
	struct mb_cache_gen *g = gen_new(cfg, old);

	if (g == NULL) {
		mb_cache_release(old);
		mb_log(LOG_ERR, "reload: out of memory; keeping the old "
		       "configuration");
		mb_config_free(cfg);
		return -1;
	}
	pthread_mutex_lock(&c->mu);
	c->gen = g;
	c->kicked = true;
	pthread_cond_broadcast(&c->cond);
	pthread_mutex_unlock(&c->mu);
	mb_cache_release(old);	/* ours */
	mb_cache_release(old);	/* the cache's */
	return 0;
}

bool
mb_cache_stop(struct mb_cache *c, int grace_ms)
{
	struct mb_cache_gen *g;
	struct timespec dl;
	bool clean;

	pthread_mutex_lock(&c->mu);
	c->stopping = true;
	pthread_cond_broadcast(&c->cond);
	pthread_mutex_unlock(&c->mu);
	mb_cancel_all();
	if (c->scheduler_started) {
		pthread_join(c->scheduler, NULL);
		c->scheduler_started = false;
	}
	g = mb_cache_acquire(c);
	for (size_t i = 0; i < g->cfg->n_accounts; i++) {
		pthread_mutex_lock(&g->entries[i]->mu);
		pthread_cond_broadcast(&g->entries[i]->cond);
		pthread_mutex_unlock(&g->entries[i]->mu);
	}
	mb_cache_release(g);
	deadline_in(&dl, grace_ms);
	pthread_mutex_lock(&c->mu);
	while (c->workers > 0) {
		if (pthread_cond_timedwait(&c->cond, &c->mu, &dl) == ETIMEDOUT)
			break;
	}
	clean = c->workers == 0;
	pthread_mutex_unlock(&c->mu);
	return clean;
}

void
mb_cache_free(struct mb_cache **cp)
{
	struct mb_cache *c = *cp;

	if (c == NULL)
		return;
	if (c->scheduler_started)
		(void)mb_cache_stop(c, 0);
	if (c->gen != NULL)
		mb_cache_release(c->gen);
	pthread_mutex_destroy(&c->mu);
	pthread_cond_destroy(&c->cond);
	free(c);
	*cp = NULL;
}
