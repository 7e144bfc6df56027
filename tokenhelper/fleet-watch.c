/* SPDX-License-Identifier: MIT */
#include <config.h>

#include "fleet-watch.h"

#include "cancel.h"
#include "errtext.h"
#include "etcd.h"
#include "fleet.h"
#include "log.h"
#include "seal.h"
#include "state.h"
#include "wipe.h"
#include "xalloc.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

/* A stream is left this often (seconds) even when all is well, and the
 * states read again: a node that lost its quorum keeps a stream open
 * without events, and the read says so. */
#define WATCH_STREAM_SECONDS 300

/* An account whose last state did not open (logged once). */
struct bad_account {
	struct bad_account *next;
	char *name;
};

struct mb_fleet_watch {
	const struct mb_fleet *fleet;
	char *prefix;
	int efd;
	pthread_t thread;
	bool started;
	atomic_bool stop;	/* end the thread */
	atomic_bool leave;	/* leave the stream: stop, or probe */
	pthread_mutex_t mu;	/* guards what follows, and the waits */
	pthread_cond_t cond;
	bool probe;
	bool ended;
	struct mb_fleet_event *events, **tail;
	/* the thread's own */
	struct bad_account *bad;
};

static void
post(struct mb_fleet_watch *w, struct mb_fleet_event *ev)
{
	uint64_t one = 1;

	pthread_mutex_lock(&w->mu);
	if (ev != NULL) {
		*w->tail = ev;
		w->tail = &ev->next;
	} else {
		w->ended = true;
	}
	pthread_mutex_unlock(&w->mu);
	if (write(w->efd, &one, sizeof(one)) < 0 && errno != EAGAIN)
		mb_log(LOG_ERR, "etcd watch: eventfd: %s", mb_errstr(errno));
}

static void
post_status(struct mb_fleet_watch *w, enum mb_fleet_event_kind kind,
	    const char *error)
{
	struct mb_fleet_event *ev = mb_xcalloc(1, sizeof(*ev));

	ev->kind = kind;
	ev->error = mb_xstrdup_or_null(error);
	post(w, ev);
}

/* Whether account's bad value was logged; forgets it when !bad. */
static bool
bad_seen(struct mb_fleet_watch *w, const char *account, bool bad)
{
	struct bad_account **p, *b;

	for (p = &w->bad; *p != NULL; p = &(*p)->next) {
		if (strcmp((*p)->name, account) != 0)
			continue;
		if (!bad) {
			b = *p;
			*p = b->next;
			free(b->name);
			free(b);
		}
		return true;
	}
	if (bad) {
		b = mb_xcalloc(1, sizeof(*b));
		b->name = mb_xstrdup(account);
		b->next = w->bad;
		w->bad = b;
	}
	return false;
}

/* One account's state as etcd holds it: opened, decoded, its access
 * token posted. */
static void
take_state(struct mb_fleet_watch *w, const char *account,
	   const struct mb_etcd_kv *kv)
{
	struct mb_fleet_event *ev;
	struct mb_state st;
	char *plain = NULL, *err = NULL;
	size_t len = 0;

	memset(&st, 0, sizeof(st));
	if (mb_seal_open(&w->fleet->key, account, "state",
			 (const char *)kv->value, kv->value_len, &plain, &len,
			 &err) < 0 ||
	    mb_state_decode(plain, len, &st, &err) < 0) {
		if (!bad_seen(w, account, true))
			mb_log(LOG_ERR, "account %s: the state under %s in "
			       "etcd (revision %lld) is not served: %s; the "
			       "next good state replaces it", account,
			       kv->key, kv->mod_revision,
			       err != NULL ? err : "it does not open");
		goto out;
	}
	bad_seen(w, account, false);
	/* a token a server refused is not another host's new one */
	if (st.access_token == NULL || st.rejected)
		goto out;
	ev = mb_xcalloc(1, sizeof(*ev));
	ev->kind = MB_FLEET_STATE;
	ev->account = mb_xstrdup(account);
	ev->access.token = st.access_token;
	st.access_token = NULL;
	ev->access.expires_at = st.expires_at;
	ev->access.obtained_at = st.last_refresh;
	post(w, ev);
out:
	mb_state_clear(&st);
	if (plain != NULL) {
		mb_wipe(plain, len);
		free(plain);
	}
	free(err);
}

static void
take_kv(struct mb_fleet_watch *w, const struct mb_etcd_kv *kv)
{
	char *account, *what;

	if (kv->value == NULL ||
	    !mb_fleet_split_key(w->fleet, kv->key, &account, &what))
		return;
	if (strcmp(what, "state") == 0)
		take_state(w, account, kv);
	free(account);
	free(what);
}

static int
on_event(void *ctx, const struct mb_etcd_kv *kv)
{
	struct mb_fleet_watch *w = ctx;

	take_kv(w, kv);
	return atomic_load(&w->leave) ? 1 : 0;
}

static bool
ending(struct mb_fleet_watch *w)
{
	return atomic_load(&w->stop) || mb_cancelled();
}

/* Waits up to seconds, or until a stop or a probe; true if a probe came
 * (it is then consumed). */
static bool
pause_for(struct mb_fleet_watch *w, long seconds)
{
	struct timespec until;
	bool probe;

	pthread_mutex_lock(&w->mu);
	for (long i = 0; i < seconds && !w->probe && !ending(w); i++) {
		/* a slice of a second: mb_cancel_all() signals no one */
		clock_gettime(CLOCK_REALTIME, &until);
		until.tv_sec++;
		pthread_cond_timedwait(&w->cond, &w->mu, &until);
	}
	probe = w->probe;
	w->probe = false;
	pthread_mutex_unlock(&w->mu);
	if (!atomic_load(&w->stop))
		atomic_store(&w->leave, false);
	return probe;
}

/* Every state now, linearizable: the revision to watch from after it. */
static enum mb_etcd_result
read_all(struct mb_fleet_watch *w, long long *rev_r, char **error_r)
{
	struct mb_etcd_kv *kvs = NULL;
	enum mb_etcd_result r;
	size_t n = 0;

	r = mb_etcd_list(w->fleet->etcd, w->prefix, false, false, &kvs, &n,
			 rev_r, error_r);
	if (r != MB_ETCD_OK)
		return r;
	for (size_t i = 0; i < n; i++)
		take_kv(w, &kvs[i]);
	mb_etcd_kvs_free(kvs, n);
	return r;
}

static long
mono_seconds(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long)ts.tv_sec;
}

/* Read every state, then one stream from the revision after; again, at
 * once when the stream lasted its time or a probe asked, else after the
 * back-off (a stream that fails, or that the server keeps ending, never
 * makes the thread spin). */
static void *
watch_thread(void *arg)
{
	struct mb_fleet_watch *w = arg;
	long backoff = 1, began;
	long long rev = 0, last = 0;
	enum mb_etcd_result r;
	char *err = NULL;

	while (!ending(w)) {
		r = read_all(w, &rev, &err);
		if (r != MB_ETCD_OK) {
			post_status(w, MB_FLEET_DOWN, err);
		} else {
			post_status(w, MB_FLEET_UP, NULL);
			free(err);
			err = NULL;
			began = mono_seconds();
			/* a probe asked while reading: read again first */
			if (!atomic_load(&w->leave))
				r = mb_etcd_watch(w->fleet->etcd, w->prefix,
						  rev + 1, WATCH_STREAM_SECONDS,
						  on_event, w, &w->leave,
						  &last, &err);
			if (atomic_load(&w->leave) ||
			    (r == MB_ETCD_OK && mono_seconds() - began >=
			     WATCH_STREAM_SECONDS - 1)) {
				backoff = 1;
				pause_for(w, 0);
				free(err);
				err = NULL;
				continue;
			}
			mb_log(LOG_INFO, "etcd watch: %s; reading again",
			       err != NULL ? err : "the stream ended early");
		}
		free(err);
		err = NULL;
		if (pause_for(w, backoff))
			continue;
		backoff = backoff * 2 > MB_FLEET_WATCH_RETRY_MAX ?
			  MB_FLEET_WATCH_RETRY_MAX : backoff * 2;
	}
	free(err);
	post(w, NULL);
	return NULL;
}

struct mb_fleet_watch *
mb_fleet_watch_start(const struct mb_config *cfg)
{
	struct mb_fleet_watch *w;
	int rc;

	if (cfg->fleet == NULL)
		return NULL;
	w = mb_xcalloc(1, sizeof(*w));
	w->fleet = cfg->fleet;
	w->prefix = mb_fleet_accounts_prefix(cfg->fleet);
	w->tail = &w->events;
	pthread_mutex_init(&w->mu, NULL);
	pthread_cond_init(&w->cond, NULL);
	w->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (w->efd < 0) {
		mb_log(LOG_ERR, "etcd watch: eventfd: %s", mb_errstr(errno));
		mb_fleet_watch_free(&w);
		return NULL;
	}
	rc = pthread_create(&w->thread, NULL, watch_thread, w);
	if (rc != 0) {
		mb_log(LOG_ERR, "etcd watch: cannot start its thread: %s; "
		       "tokens other hosts obtain are served after a refresh "
		       "of our own", mb_errstr(rc));
		mb_fleet_watch_free(&w);
		return NULL;
	}
	w->started = true;
	return w;
}

int
mb_fleet_watch_fd(const struct mb_fleet_watch *w)
{
	return w->efd;
}

struct mb_fleet_event *
mb_fleet_watch_take(struct mb_fleet_watch *w, bool *ended_r)
{
	struct mb_fleet_event *list;
	uint64_t n;

	if (read(w->efd, &n, sizeof(n)) < 0 && errno != EAGAIN)
		mb_log(LOG_ERR, "etcd watch: eventfd: %s", mb_errstr(errno));
	pthread_mutex_lock(&w->mu);
	list = w->events;
	w->events = NULL;
	w->tail = &w->events;
	*ended_r = w->ended;
	pthread_mutex_unlock(&w->mu);
	return list;
}

void
mb_fleet_events_free(struct mb_fleet_event *list)
{
	while (list != NULL) {
		struct mb_fleet_event *next = list->next;

		free(list->account);
		mb_access_clear(&list->access);
		free(list->error);
		free(list);
		list = next;
	}
}

static void
wake(struct mb_fleet_watch *w, bool probe)
{
	pthread_mutex_lock(&w->mu);
	if (probe)
		w->probe = true;
	else
		atomic_store(&w->stop, true);
	atomic_store(&w->leave, true);
	pthread_cond_signal(&w->cond);
	pthread_mutex_unlock(&w->mu);
}

void
mb_fleet_watch_probe(struct mb_fleet_watch *w)
{
	wake(w, true);
}

void
mb_fleet_watch_stop(struct mb_fleet_watch *w)
{
	wake(w, false);
}

void
mb_fleet_watch_free(struct mb_fleet_watch **wp)
{
	struct mb_fleet_watch *w = *wp;

	if (w == NULL)
		return;
	if (w->started) {
		mb_fleet_watch_stop(w);
		pthread_join(w->thread, NULL);
	}
	while (w->bad != NULL) {
		struct bad_account *b = w->bad;

		w->bad = b->next;
		free(b->name);
		free(b);
	}
	mb_fleet_events_free(w->events);
	if (w->efd >= 0)
		close(w->efd);
	pthread_mutex_destroy(&w->mu);
	pthread_cond_destroy(&w->cond);
	free(w->prefix);
	free(w);
	*wp = NULL;
}
