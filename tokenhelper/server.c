#include <config.h>	/* autoconf; "config.h" here is ours */

#include "server.h"

#include "ipc-proto.h"
#include "log.h"
#include "token.h"
#include "wipe.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

/* Locking, outermost first:
 *   srv->cfg_lock (rwlock): readers for a whole request or refresher
 *     pass; the writer (reload) swaps cfg and entries.
 *   entry->lock: held during mb_token_get() for that account, which is
 *     the single-flight: whoever waited finds the fresh token cached.
 *   srv->mu: counters, the refresher's wake-up condition.
 * Nobody takes an outer lock while holding an inner one. */

#define MB_WRITE_TIMEOUT_MS	5000
#define MB_BACKOFF_MIN		30
#define MB_BACKOFF_MAX		3600
#define MB_REFRESHER_MAX_SLEEP	60

struct srv_entry {
	char *name;
	pthread_mutex_t lock;
	char *token;		/* cached access token (secret) or NULL */
	time_t expires_at;
	char *rejected;		/* a token a server rejected, or NULL */
	time_t last_refresh;	/* when a new token was last seen */
	bool used;		/* asked for since the token was obtained */
	bool warmed;		/* the refresher looked at it once */
	time_t retry_at;	/* refresher backoff after a failure */
	long backoff;
};

struct mb_server {
	struct mb_server_options opt;
	pthread_rwlock_t cfg_lock;
	struct mb_config *cfg;
	struct srv_entry *entries;
	size_t n_entries;

	pthread_mutex_t mu;
	pthread_cond_t cond;	/* refresher wake-up, active == 0 */
	int active;
	bool stopping;
	pthread_t refresher;
	bool refresher_started;
};

struct srv_conn {
	struct mb_server *srv;
	int fd;
};

static char *
dup_secret(const char *s)
{
	size_t n = strlen(s) + 1;
	char *p = malloc(n);

	if (p != NULL)
		memcpy(p, s, n);
	return p;
}

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
entries_free(struct srv_entry **entries, size_t n)
{
	if (*entries == NULL)
		return;
	for (size_t i = 0; i < n; i++) {
		struct srv_entry *e = &(*entries)[i];

		free(e->name);
		free_secret(&e->token);
		free_secret(&e->rejected);
		pthread_mutex_destroy(&e->lock);
	}
	free(*entries);
	*entries = NULL;
}

/* Builds one entry per account; returns -1 on allocation failure. */
static int
entries_new(const struct mb_config *cfg, struct srv_entry **entries_r)
{
	struct srv_entry *e;
	size_t n = cfg->n_accounts;

	e = calloc(n > 0 ? n : 1, sizeof(*e));
	if (e == NULL)
		return -1;
	for (size_t i = 0; i < n; i++) {
		pthread_mutex_init(&e[i].lock, NULL);
		e[i].name = strdup(cfg->accounts[i].name);
		if (e[i].name == NULL) {
			entries_free(&e, i + 1);
			return -1;
		}
	}
	*entries_r = e;
	return 0;
}

static struct srv_entry *
entry_find(struct mb_server *srv, const char *name)
{
	for (size_t i = 0; i < srv->n_entries; i++) {
		if (strcmp(srv->entries[i].name, name) == 0)
			return &srv->entries[i];
	}
	return NULL;
}

void
mb_server_options_default(struct mb_server_options *opts)
{
	opts->keepalive = 7L * 24 * 3600;
	opts->max_clients = 64;
	opts->request_timeout_ms = 10000;
	opts->lead = 60;
}

static bool
uid_allowed(const struct mb_account *acct, uid_t uid)
{
	if (uid == 0 || uid == geteuid())
		return true;
	for (size_t i = 0; i < acct->n_allow_uids; i++) {
		if (acct->allow_uids[i] == uid)
			return true;
	}
	return false;
}

/* Stores a token mb_token_get() returned; e->lock held. */
static void
entry_store(struct srv_entry *e, struct mb_access *a, time_t now)
{
	if (e->token == NULL || strcmp(e->token, a->token) != 0) {
		e->last_refresh = now;
		e->used = false;
	}
	free_secret(&e->token);
	e->token = a->token;
	e->expires_at = a->expires_at;
	a->token = NULL;
	free_secret(&e->rejected);
	e->retry_at = 0;
	e->backoff = 0;
}

/* Calls mb_token_get() for e (e->lock held).  force: refresh even if the
 * current token looks valid (keep-alive, proactive).  On success the
 * token is cached in e. */
static enum mb_token_status
entry_fetch(struct srv_entry *e, const struct mb_account *acct, bool force,
	    char **error_r)
{
	struct mb_access a = { NULL, 0, 0 };
	const char *rejected = e->rejected;
	enum mb_token_status st;

	if (force && e->token != NULL)
		rejected = e->token;
	*error_r = NULL;
	st = mb_token_get(acct, rejected, &a, error_r);
	if (st == MB_TOKEN_OK) {
		if (a.token == NULL ||
		    !mb_ipc_valid_token(a.token, strlen(a.token))) {
			mb_access_clear(&a);
			free(*error_r);
			*error_r = strdup("the token endpoint returned an "
					  "access token that cannot be sent "
					  "over the socket");
			return MB_TOKEN_ERROR;
		}
		entry_store(e, &a, time(NULL));
	}
	mb_access_clear(&a);
	return st;
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

/* Handles one parsed request; writes the response line into out.
 * cfg_lock is held for reading. */
static void
handle_request(struct mb_server *srv, const struct mb_ipc_request *req,
	       uid_t uid, char *out, size_t out_size)
{
	const struct mb_account *acct;
	struct srv_entry *e;
	char msg[MB_IPC_TEXT_MAX + 1];
	char *error = NULL;
	enum mb_token_status st;
	time_t now;

	acct = mb_config_account(srv->cfg, req->account);
	e = entry_find(srv, req->account);
	if (acct == NULL || e == NULL) {
		snprintf(msg, sizeof(msg), "no account \"%s\" in %s",
			 req->account, srv->cfg->path);
		mb_log(LOG_NOTICE, "uid %u asked for unknown account \"%s\"",
		       (unsigned)uid, req->account);
		mb_ipc_format_err(out, out_size, MB_IPC_ERR_UNKNOWN_ACCOUNT,
				  msg);
		return;
	}
	if (!uid_allowed(acct, uid)) {
		snprintf(msg, sizeof(msg),
			 "uid %u may not use account \"%s\"; add it to "
			 "\"allow\" in [%s] of %s", (unsigned)uid,
			 req->account, req->account, srv->cfg->path);
		mb_log(LOG_WARNING, "%s", msg);
		mb_ipc_format_err(out, out_size, MB_IPC_ERR_DENIED, msg);
		return;
	}

	pthread_mutex_lock(&e->lock);
	if (req->type == MB_IPC_REQ_REJECTED) {
		free_secret(&e->rejected);
		e->rejected = dup_secret(req->token);
		if (e->token != NULL && strcmp(e->token, req->token) == 0) {
			free_secret(&e->token);
			mb_log(LOG_NOTICE, "account %s: a server rejected the "
			       "current token (reported by uid %u); the next "
			       "request refreshes it", e->name,
			       (unsigned)uid);
		} else {
			mb_log(LOG_INFO, "account %s: uid %u reported a "
			       "rejected token that is not the cached one",
			       e->name, (unsigned)uid);
		}
		pthread_mutex_unlock(&e->lock);
		mb_ipc_format_done(out, out_size);
		return;
	}

	now = time(NULL);
	e->used = true;
	if (e->token != NULL && e->expires_at > 0 &&
	    e->expires_at - acct->refresh_margin > now) {
		mb_ipc_format_ok(out, out_size, (long long)e->expires_at,
				 e->token);
		pthread_mutex_unlock(&e->lock);
		mb_log(LOG_DEBUG, "account %s: cached token to uid %u",
		       e->name, (unsigned)uid);
		return;
	}
	st = entry_fetch(e, acct, false, &error);
	e->used = true;
	if (st == MB_TOKEN_OK) {
		mb_ipc_format_ok(out, out_size, (long long)e->expires_at,
				 e->token);
		/* expires_at 0 (unknown): never served from the cache */
		if (e->expires_at == 0)
			free_secret(&e->token);
		pthread_mutex_unlock(&e->lock);
		mb_log(LOG_DEBUG, "account %s: token to uid %u", req->account,
		       (unsigned)uid);
		goto out;
	}
	pthread_mutex_unlock(&e->lock);
	mb_log(st == MB_TOKEN_TRANSIENT ? LOG_WARNING : LOG_ERR,
	       "account %s: %s", req->account,
	       error != NULL ? error : "cannot get a token");
	mb_ipc_format_err(out, out_size, status_code(st),
			  error != NULL ? error : "cannot get a token");
out:
	free(error);
}

/* Reads one line with a deadline for the whole request.  Returns its
 * length (LF included), 0 on EOF/timeout/error, -1 when the limit was
 * reached without a LF. */
static long
read_request(int fd, char *buf, size_t size, int timeout_ms)
{
	struct timespec start, now;
	size_t len = 0;

	clock_gettime(CLOCK_MONOTONIC, &start);
	while (len < size) {
		struct pollfd p = { fd, POLLIN, 0 };
		long elapsed;
		ssize_t n;
		char *lf;

		clock_gettime(CLOCK_MONOTONIC, &now);
		elapsed = (now.tv_sec - start.tv_sec) * 1000 +
			(now.tv_nsec - start.tv_nsec) / 1000000;
		if (elapsed >= timeout_ms)
			return 0;
		if (poll(&p, 1, (int)(timeout_ms - elapsed)) <= 0) {
			if (errno == EINTR)
				continue;
			return 0;
		}
		n = recv(fd, buf + len, size - len, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return 0;
		lf = memchr(buf + len, '\n', (size_t)n);
		len += (size_t)n;
		if (lf != NULL)
			return (long)(lf - buf + 1);
	}
	return -1;
}

static void
write_all(int fd, const char *buf, size_t len)
{
	size_t off = 0;

	while (off < len) {
		struct pollfd p = { fd, POLLOUT, 0 };
		ssize_t n;

		if (poll(&p, 1, MB_WRITE_TIMEOUT_MS) <= 0)
			return;
		n = send(fd, buf + off, len - off, MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return;
		off += (size_t)n;
	}
}

static void
serve_connection(struct mb_server *srv, int fd)
{
	char *in = malloc(MB_IPC_LINE_MAX);
	char *out = malloc(MB_IPC_LINE_MAX + 1);
	struct ucred cred;
	socklen_t cl = sizeof(cred);
	struct mb_ipc_request req;
	const char *why = NULL;
	long len;

	if (in == NULL || out == NULL)
		goto out;
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &cl) < 0) {
		mb_log(LOG_ERR, "SO_PEERCRED: %s", strerror(errno));
		goto out;
	}
	len = read_request(fd, in, MB_IPC_LINE_MAX, srv->opt.request_timeout_ms);
	if (len == 0) {
		mb_log(LOG_DEBUG, "uid %u: no complete request",
		       (unsigned)cred.uid);
		goto out;
	}
	if (len < 0) {
		why = "request longer than 32768 bytes";
	} else if (mb_ipc_parse_request(in, (size_t)len, &req, &why) == 0) {
		pthread_rwlock_rdlock(&srv->cfg_lock);
		handle_request(srv, &req, cred.uid, out, MB_IPC_LINE_MAX + 1);
		pthread_rwlock_unlock(&srv->cfg_lock);
		why = NULL;
	}
	if (why != NULL) {
		mb_log(LOG_NOTICE, "uid %u (pid %ld): bad request: %s",
		       (unsigned)cred.uid, (long)cred.pid, why);
		mb_ipc_format_err(out, MB_IPC_LINE_MAX + 1,
				  MB_IPC_ERR_BAD_REQUEST, why);
	}
	write_all(fd, out, strlen(out));
out:
	if (in != NULL) {
		mb_wipe(in, MB_IPC_LINE_MAX);
		free(in);
	}
	if (out != NULL) {
		mb_wipe(out, MB_IPC_LINE_MAX + 1);
		free(out);
	}
	close(fd);
}

static void *
conn_thread(void *arg)
{
	struct srv_conn *c = arg;
	struct mb_server *srv = c->srv;

	serve_connection(srv, c->fd);
	free(c);
	pthread_mutex_lock(&srv->mu);
	srv->active--;
	pthread_cond_broadcast(&srv->cond);
	pthread_mutex_unlock(&srv->mu);
	return NULL;
}

bool
mb_server_busy(struct mb_server *srv)
{
	bool busy;

	pthread_mutex_lock(&srv->mu);
	busy = srv->active >= srv->opt.max_clients;
	pthread_mutex_unlock(&srv->mu);
	return busy;
}

void
mb_server_dispatch(struct mb_server *srv, int fd)
{
	struct srv_conn *c = malloc(sizeof(*c));
	pthread_attr_t attr;
	pthread_t t;
	int rc;

	if (c == NULL) {
		close(fd);
		return;
	}
	c->srv = srv;
	c->fd = fd;
	pthread_mutex_lock(&srv->mu);
	srv->active++;
	pthread_mutex_unlock(&srv->mu);
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	pthread_attr_setstacksize(&attr, 256 * 1024);
	rc = pthread_create(&t, &attr, conn_thread, c);
	pthread_attr_destroy(&attr);
	if (rc != 0) {
		mb_log(LOG_ERR, "cannot start a thread: %s", strerror(rc));
		close(fd);
		free(c);
		pthread_mutex_lock(&srv->mu);
		srv->active--;
		pthread_mutex_unlock(&srv->mu);
	}
}

/* One pass of the background refresher over every account; returns the
 * number of seconds until something is due.  cfg_lock held for reading. */
static long
refresher_pass(struct mb_server *srv)
{
	long next = MB_REFRESHER_MAX_SLEEP;

	for (size_t i = 0; i < srv->n_entries; i++) {
		struct srv_entry *e = &srv->entries[i];
		const struct mb_account *acct;
		enum mb_token_status st = MB_TOKEN_OK;
		char *error = NULL;
		const char *why = NULL;
		time_t now = time(NULL);
		long due = MB_REFRESHER_MAX_SLEEP;
		bool force = false;

		acct = mb_config_account(srv->cfg, e->name);
		if (acct == NULL)
			continue;
		pthread_mutex_lock(&e->lock);
		if (now < e->retry_at) {
			due = (long)(e->retry_at - now);
		} else if (!e->warmed) {
			why = "start-up";
		} else if (srv->opt.keepalive > 0 &&
			   now >= e->last_refresh + srv->opt.keepalive) {
			why = "keep-alive";
			force = true;
		} else if (e->token != NULL && e->used && e->expires_at > 0 &&
			   now >= e->expires_at - acct->refresh_margin -
			   srv->opt.lead) {
			why = "proactive";
			force = true;
		} else {
			if (e->token != NULL && e->used && e->expires_at > 0)
				due = (long)(e->expires_at -
					     acct->refresh_margin -
					     srv->opt.lead - now);
			if (srv->opt.keepalive > 0 &&
			    e->last_refresh + srv->opt.keepalive - now < due)
				due = (long)(e->last_refresh +
					     srv->opt.keepalive - now);
		}
		if (why != NULL) {
			e->warmed = true;
			/* keep-alive without a cached token: load it first */
			if (force && e->token == NULL)
				st = entry_fetch(e, acct, false, &error);
			if (st == MB_TOKEN_OK && error == NULL)
				st = entry_fetch(e, acct, force, &error);
			if (st == MB_TOKEN_OK) {
				mb_log(force ? LOG_NOTICE : LOG_INFO,
				       "account %s: %s %s, valid until %lld",
				       e->name, why,
				       force ? "refresh" : "check",
				       (long long)e->expires_at);
				/* a start-up check counts as a refresh for
				 * keep-alive: the stored token is at most
				 * one token lifetime old */
				if (e->last_refresh == 0)
					e->last_refresh = now;
				due = 0;
				/* a provider whose tokens live shorter than
				 * margin + lead must not make us spin */
				if (e->expires_at > 0 && e->expires_at -
				    acct->refresh_margin - srv->opt.lead <=
				    now + MB_BACKOFF_MIN) {
					e->retry_at = now + MB_BACKOFF_MIN;
					due = MB_BACKOFF_MIN;
				}
			} else {
				e->backoff = e->backoff == 0 ? MB_BACKOFF_MIN :
					e->backoff * 2;
				if (e->backoff > MB_BACKOFF_MAX ||
				    st == MB_TOKEN_NEEDS_AUTHORIZE)
					e->backoff = MB_BACKOFF_MAX;
				e->retry_at = now + e->backoff;
				mb_log(st == MB_TOKEN_TRANSIENT ? LOG_WARNING :
				       LOG_ERR, "account %s: %s refresh "
				       "failed (retry in %ld s): %s", e->name,
				       why, e->backoff,
				       error != NULL ? error : "unknown error");
				due = e->backoff;
			}
		}
		pthread_mutex_unlock(&e->lock);
		free(error);
		if (due < next)
			next = due;
	}
	return next < 0 ? 0 : next;
}

static void *
refresher_thread(void *arg)
{
	struct mb_server *srv = arg;

	pthread_mutex_lock(&srv->mu);
	while (!srv->stopping) {
		struct timespec until;
		long next;

		pthread_mutex_unlock(&srv->mu);
		pthread_rwlock_rdlock(&srv->cfg_lock);
		next = refresher_pass(srv);
		pthread_rwlock_unlock(&srv->cfg_lock);
		pthread_mutex_lock(&srv->mu);
		if (srv->stopping)
			break;
		clock_gettime(CLOCK_REALTIME, &until);
		until.tv_sec += next > 0 ? next : 1;
		pthread_cond_timedwait(&srv->cond, &srv->mu, &until);
	}
	pthread_mutex_unlock(&srv->mu);
	return NULL;
}

struct mb_server *
mb_server_new(struct mb_config **cfg, const struct mb_server_options *opts)
{
	struct mb_server *srv = calloc(1, sizeof(*srv));
	pthread_rwlockattr_t ra;
	int rc;

	if (srv == NULL)
		return NULL;
	srv->opt = *opts;
	pthread_rwlockattr_init(&ra);
	/* a pending reload must not starve behind a stream of requests */
	pthread_rwlockattr_setkind_np(&ra,
		PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
	pthread_rwlock_init(&srv->cfg_lock, &ra);
	pthread_rwlockattr_destroy(&ra);
	pthread_mutex_init(&srv->mu, NULL);
	pthread_cond_init(&srv->cond, NULL);
	srv->cfg = *cfg;
	*cfg = NULL;
	if (entries_new(srv->cfg, &srv->entries) < 0) {
		mb_log(LOG_ERR, "out of memory");
		mb_server_free(&srv);
		return NULL;
	}
	srv->n_entries = srv->cfg->n_accounts;
	rc = pthread_create(&srv->refresher, NULL, refresher_thread, srv);
	if (rc != 0) {
		mb_log(LOG_ERR, "cannot start the refresher: %s",
		       strerror(rc));
		mb_server_free(&srv);
		return NULL;
	}
	srv->refresher_started = true;
	return srv;
}

void
mb_server_reload(struct mb_server *srv, struct mb_config **cfg)
{
	struct srv_entry *entries;
	struct srv_entry *old;
	size_t n_old;

	if (entries_new(*cfg, &entries) < 0) {
		mb_log(LOG_ERR, "reload: out of memory; keeping the old "
		       "configuration");
		mb_config_free(cfg);
		return;
	}
	pthread_rwlock_wrlock(&srv->cfg_lock);
	/* keep pending rejections: they name tokens still in the state */
	for (size_t i = 0; i < (*cfg)->n_accounts; i++) {
		struct srv_entry *prev = entry_find(srv, entries[i].name);

		if (prev != NULL) {
			entries[i].rejected = prev->rejected;
			prev->rejected = NULL;
			entries[i].last_refresh = prev->last_refresh;
			entries[i].warmed = prev->warmed;
		}
	}
	old = srv->entries;
	n_old = srv->n_entries;
	mb_config_free(&srv->cfg);
	srv->cfg = *cfg;
	*cfg = NULL;
	srv->entries = entries;
	srv->n_entries = srv->cfg->n_accounts;
	pthread_rwlock_unlock(&srv->cfg_lock);
	entries_free(&old, n_old);
	pthread_mutex_lock(&srv->mu);
	pthread_cond_broadcast(&srv->cond);
	pthread_mutex_unlock(&srv->mu);
}

void
mb_server_free(struct mb_server **srvp)
{
	struct mb_server *srv = *srvp;

	if (srv == NULL)
		return;
	pthread_mutex_lock(&srv->mu);
	srv->stopping = true;
	pthread_cond_broadcast(&srv->cond);
	pthread_mutex_unlock(&srv->mu);
	if (srv->refresher_started)
		pthread_join(srv->refresher, NULL);
	pthread_mutex_lock(&srv->mu);
	while (srv->active > 0)
		pthread_cond_wait(&srv->cond, &srv->mu);
	pthread_mutex_unlock(&srv->mu);
	entries_free(&srv->entries, srv->n_entries);
	mb_config_free(&srv->cfg);
	pthread_rwlock_destroy(&srv->cfg_lock);
	pthread_mutex_destroy(&srv->mu);
	pthread_cond_destroy(&srv->cond);
	free(srv);
	*srvp = NULL;
}
