/* SPDX-License-Identifier: MIT */
#include <config.h>

#include "fleet.h"

#include <stdlib.h>
#include <time.h>
#include <string.h>

#include "account-name.h"
#include "log.h"
#include "xalloc.h"

struct mb_fleet *
mb_fleet_new(const struct mb_etcd_conf *conf, char **error_r)
{
	struct mb_fleet *f = mb_xcalloc(1, sizeof(*f));
	if (mb_seal_key_load(conf->state_key_file, &f->key, error_r) < 0) {
		free(f);
		return NULL;
	}
	f->conf = conf;
	f->etcd = mb_etcd_new(conf);
	pthread_mutex_init(&f->mu, NULL);
	pthread_cond_init(&f->cv, NULL);
	return f;
}

void
mb_fleet_free(struct mb_fleet **fp)
{
	struct mb_fleet *f = *fp;

	if (f == NULL)
		return;
	if (f->keeping) {
		pthread_mutex_lock(&f->mu);
		f->stop = true;
		pthread_cond_signal(&f->cv);
		pthread_mutex_unlock(&f->mu);
		pthread_join(f->keeper, NULL);
	}
	if (f->lease != 0) {
		/* the locks on it end now rather than in up to a TTL */
		char *err = NULL;

		if (mb_etcd_lease_revoke(f->etcd, f->lease, &err) !=
		    MB_ETCD_OK)
			free(err);
	}
	pthread_mutex_destroy(&f->mu);
	pthread_cond_destroy(&f->cv);
	mb_seal_key_clear(&f->key);
	mb_etcd_free(&f->etcd);
	free(f);
	*fp = NULL;
}

static void *
fleet_keeper(void *arg)
{
	struct mb_fleet *f = arg;
	struct timespec until;
	long long lease;
	char *err = NULL;
	long ttl;

	pthread_mutex_lock(&f->mu);
	while (!f->stop) {
		clock_gettime(CLOCK_REALTIME, &until);
		until.tv_sec += MB_FLEET_LEASE_TTL / 3;
		if (pthread_cond_timedwait(&f->cv, &f->mu, &until) == 0 ||
		    f->stop || f->lease == 0)
			continue;
		lease = f->lease;
		pthread_mutex_unlock(&f->mu);
		ttl = -1;
		if (mb_etcd_lease_keepalive(f->etcd, lease, &ttl, &err) !=
		    MB_ETCD_OK) {
			mb_log(LOG_WARNING, "etcd: cannot keep this host's "
			       "lease alive: %s", err);
			free(err);
			err = NULL;
		}
		pthread_mutex_lock(&f->mu);
		if (ttl == 0 && f->lease == lease) {
			/* it ended: the locks on it are gone; the next lock
			 * asks for a new one */
			mb_log(LOG_WARNING, "etcd: this host's lease ended "
			       "(cut off from etcd for more than %d s): its "
			       "locks are released, a new lease is taken",
			       MB_FLEET_LEASE_TTL);
			f->lease = 0;
		}
	}
	pthread_mutex_unlock(&f->mu);
	return NULL;
}

int
mb_fleet_lease(struct mb_fleet *f, long long *lease_r, char **error_r)
{
	long long id = 0;
	char *err = NULL;

	pthread_mutex_lock(&f->mu);
	if (f->lease == 0) {
		if (mb_etcd_lease_grant(f->etcd, MB_FLEET_LEASE_TTL, &id,
					&err) != MB_ETCD_OK) {
			pthread_mutex_unlock(&f->mu);
			*error_r = err;
			return -1;
		}
		f->lease = id;
		if (!f->keeping &&
		    pthread_create(&f->keeper, NULL, fleet_keeper, f) == 0)
			f->keeping = true;
	}
	*lease_r = f->lease;
	pthread_mutex_unlock(&f->mu);
	return 0;
}

bool
mb_fleet_lease_alive(struct mb_fleet *f, long long lease)
{
	bool alive;

	pthread_mutex_lock(&f->mu);
	alive = f->lease == lease && lease != 0;
	pthread_mutex_unlock(&f->mu);
	return alive;
}

char *
mb_fleet_key(const struct mb_fleet *f, const char *account, const char *what)
{
	return mb_xasprintf("%saccounts/%s/%s", f->conf->prefix, account,
			    what);
}

char *
mb_fleet_accounts_prefix(const struct mb_fleet *f)
{
	return mb_xasprintf("%saccounts/", f->conf->prefix);
}

bool
mb_fleet_split_key(const struct mb_fleet *f, const char *key,
		   char **account_r, char **what_r)
{
	char *prefix = mb_fleet_accounts_prefix(f);
	size_t n = strlen(prefix);
	const char *rest, *slash;
	bool ok = false;

	*account_r = *what_r = NULL;
	if (strncmp(key, prefix, n) == 0) {
		rest = key + n;
		slash = strchr(rest, '/');
		if (slash != NULL && slash > rest &&
		    mb_account_name_valid(rest, (size_t)(slash - rest)) &&
		    slash[1] != '\0' && strchr(slash + 1, '/') == NULL) {
			*account_r = mb_xstrndup(rest, (size_t)(slash - rest));
			*what_r = mb_xstrdup(slash + 1);
			ok = true;
		}
	}
	free(prefix);
	return ok;
}
