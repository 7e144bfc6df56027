/* SPDX-License-Identifier: MIT */
#include <config.h>

#include "fleet.h"

#include <stdlib.h>
#include <string.h>

#include "account-name.h"
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
	return f;
}

void
mb_fleet_free(struct mb_fleet **fp)
{
	struct mb_fleet *f = *fp;

	if (f == NULL)
		return;
	mb_seal_key_clear(&f->key);
	mb_etcd_free(&f->etcd);
	free(f);
	*fp = NULL;
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
