/* SPDX-License-Identifier: MIT */
#include <config.h>

/* `mailbearer store migrate --to etcd|files [--force] [--keep-source]
 * [ACCOUNT...]` and `mailbearer store rekey --new-key FILE`: the fleet's
 * store moved between the state files and etcd, verified, and its states
 * re-sealed under a new key (doc/fleet.md).  Each change is made holding
 * the account's lock, through the store API (store.h); a source is only
 * removed once its copy was read back equal. */

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <sys/types.h>

#include "cli.h"
#include "cmd.h"
#include "fleet.h"
#include "log.h"
#include "store-etcd.h"
#include "store.h"
#include "wipe.h"
#include "xalloc.h"

static struct {
	const char *to;
	const char *new_key;
	bool force;
	bool keep_source;
} store_opts;

static int
store_opt(int opt, const char *arg)
{
	switch (opt) {
	case 't':
		store_opts.to = arg;
		return 0;
	case 'f':
		store_opts.force = true;
		return 0;
	case 'k':
		store_opts.keep_source = true;
		return 0;
	case 'n':
		store_opts.new_key = arg;
		return 0;
	default:
		return -1;
	}
}

/* The fleet of cfg's etcd keys: the loaded one, or a new one (*own_r
 * then owns it).  NULL after saying why. */
static struct mb_fleet *
store_fleet(const struct mb_config *cfg, const char *cmd,
	    struct mb_fleet **own_r)
{
	char *err = NULL;

	*own_r = NULL;
	if (cfg->etcd == NULL) {
		mb_log(LOG_ERR, "store %s needs the etcd keys in %s "
		       "(etcd_endpoints, etcd_ca_file..., state_key_file; "
		       "see doc/fleet.md) whatever store says", cmd,
		       cfg->path);
		return NULL;
	}
	if (cfg->fleet != NULL)
		return cfg->fleet;
	*own_r = mb_fleet_new(cfg->etcd, &err);
	if (*own_r == NULL) {
		mb_log(LOG_ERR, "%s", err);
		free(err);
	}
	return *own_r;
}

/* Whether b, read back, says all that a says (the time of the write
 * and the generation aside: each store sets its own). */
static bool
store_same(const struct mb_state *a, struct mb_state *b)
{
	char *ta, *tb;
	bool same;

	b->updated = a->updated;
	b->generation = a->generation;
	ta = mb_state_encode(a);
	tb = mb_state_encode(b);
	same = ta != NULL && tb != NULL && strcmp(ta, tb) == 0;
	if (ta != NULL)
		mb_wipe(ta, strlen(ta));
	if (tb != NULL)
		mb_wipe(tb, strlen(tb));
	free(ta);
	free(tb);
	return same;
}

enum store_outcome { MOVED, SKIPPED, FAILED };

/* Copies src's state to dst holding both locks (lk[0] the files', lk[1]
 * etcd's: always taken in that order), reads it back, then removes the
 * source.  Prints the account's line. */
static enum store_outcome
store_move(const struct mb_account *src, const struct mb_account *dst,
	   struct mb_store_lock *slk, struct mb_store_lock *dlk)
{
	struct mb_state st, have, back;
	char *sname = mb_store_name(src), *dname = mb_store_name(dst);
	char *err = NULL;
	enum store_outcome out = FAILED;
	enum mb_store_read_result r;

	memset(&st, 0, sizeof(st));
	memset(&have, 0, sizeof(have));
	memset(&back, 0, sizeof(back));
	if (src->fleet == NULL && mb_store_recover(slk, &err) < 0) {
		printf("%s: NOT moved: %s\n", src->name, err);
		goto out;
	}
	r = mb_store_read_locked(slk, &st, &err);
	if (r == MB_STORE_MISSING) {
		printf("%s: skipped: no state in %s\n", src->name, sname);
		out = SKIPPED;
		goto out;
	}
	if (r != MB_STORE_FOUND) {
		printf("%s: NOT moved: %s\n", src->name, err);
		goto out;
	}
	r = mb_store_read_locked(dlk, &have, &err);
	if (r != MB_STORE_MISSING && !store_opts.force) {
		printf("%s: NOT moved: %s already holds a state%s%s; "
		       "--force replaces it (%s is untouched)\n", src->name,
		       dname, err != NULL ? ": " : "", err != NULL ? err : "",
		       sname);
		goto out;
	}
	free(err);
	err = NULL;
	mb_state_clear(&have);
	mb_state_copy(&have, &st);
	if (mb_store_write(dlk, &have, &err) < 0) {
		printf("%s: NOT moved: cannot write %s: %s (%s is "
		       "untouched)\n", src->name, dname, err, sname);
		goto out;
	}
	if (mb_store_read(dst, false, &back, &err) != MB_STORE_FOUND ||
	    !store_same(&have, &back)) {
		printf("%s: NOT moved: the copy read back from %s %s (%s is "
		       "untouched)\n", src->name, dname, err != NULL ? err :
		       "differs from the source", sname);
		goto out;
	}
	if (store_opts.keep_source) {
		printf("%s: copied from %s to %s, verified; the source is "
		       "kept (--keep-source)\n", src->name, sname, dname);
		out = MOVED;
	} else if (mb_store_remove(slk, &err) < 0) {
		printf("%s: copied to %s and verified, but the source %s was "
		       "not removed: %s\n", src->name, dname, sname, err);
	} else {
		printf("%s: moved from %s to %s, verified; the source is "
		       "removed\n", src->name, sname, dname);
		out = MOVED;
	}
out:
	mb_state_clear(&st);
	mb_state_clear(&have);
	mb_state_clear(&back);
	free(err);
	free(sname);
	free(dname);
	return out;
}

/* One account: both locks, the move. */
static enum store_outcome
store_migrate_one(const struct mb_account *acct, struct mb_fleet *f,
		  bool to_etcd)
{
	struct mb_account files = *acct, etcd = *acct;
	struct mb_store_lock lk[2] = { MB_STORE_LOCK_INIT,
				       MB_STORE_LOCK_INIT };
	enum store_outcome out = FAILED;
	char *err = NULL;

	files.fleet = NULL;
	etcd.fleet = f;
	if (mb_store_lock(&files, NULL, &lk[0], &err) != 0 ||
	    mb_store_lock(&etcd, NULL, &lk[1], &err) != 0)
		printf("%s: NOT moved: %s (nothing was changed)\n",
		       acct->name, err != NULL ? err : "the lock was not "
		       "taken");
	else
		out = to_etcd ? store_move(&files, &etcd, &lk[0], &lk[1]) :
				store_move(&etcd, &files, &lk[1], &lk[0]);
	mb_store_unlock(&lk[1]);
	mb_store_unlock(&lk[0]);
	free(err);
	return out;
}

static int
store_migrate(const struct mb_config *cfg, int argc, char **argv)
{
	struct mb_fleet *own = NULL, *f;
	const struct mb_account *a;
	size_t counts[3] = { 0, 0, 0 }, i, n;
	bool to_etcd;
	int k;

	if (store_opts.to == NULL || (strcmp(store_opts.to, "etcd") != 0 &&
				      strcmp(store_opts.to, "files") != 0)) {
		mb_log(LOG_ERR, "usage: mailbearer store migrate --to "
		       "etcd|files [--force] [--keep-source] [ACCOUNT...]");
		return EX_USAGE;
	}
	to_etcd = strcmp(store_opts.to, "etcd") == 0;
	for (k = optind; k < argc; k++)
		if (mb_cli_find_account(cfg, argv[k]) == NULL)
			return EX_NOUSER;
	f = store_fleet(cfg, "migrate", &own);
	if (f == NULL)
		return EX_CONFIG;
	n = optind < argc ? (size_t)(argc - optind) : cfg->n_accounts;
	for (i = 0; i < n; i++) {
		a = optind < argc ? mb_config_account(cfg, argv[optind + i]) :
		    &cfg->accounts[i];
		counts[store_migrate_one(a, f, to_etcd)]++;
	}
	printf("%zu moved, %zu skipped (no state), %zu not moved\n",
	       counts[MOVED], counts[SKIPPED], counts[FAILED]);
	if (counts[FAILED] > 0)
		printf("the accounts not moved keep their state in the %s "
		       "store, untouched; correct the cause above and run "
		       "the command again\n", to_etcd ? "files" : "etcd");
	else
		printf("next: set `store = %s` in %s on every host and "
		       "restart `mailbearer serve` there\n", store_opts.to,
		       cfg->path);
	mb_fleet_free(&own);
	return counts[FAILED] > 0 ? EX_TEMPFAIL : EX_OK;
}

/* The accounts whose state etcd holds (a malloc'd array of malloc'd
 * names), or -1 after saying why. */
static ssize_t
store_states(struct mb_fleet *f, char ***names_r)
{
	char *prefix = mb_fleet_accounts_prefix(f), *err = NULL;
	char *account, *what, **names;
	struct mb_etcd_kv *kvs = NULL;
	size_t n = 0, i, m = 0;

	if (mb_etcd_list(f->etcd, prefix, false, true, &kvs, &n, NULL,
			 &err) != MB_ETCD_OK) {
		mb_log(LOG_ERR, "cannot list the states under %s: %s", prefix,
		       err);
		free(err);
		free(prefix);
		return -1;
	}
	free(prefix);
	names = mb_xcalloc(n + 1, sizeof(*names));
	for (i = 0; i < n; i++) {
		if (!mb_fleet_split_key(f, kvs[i].key, &account, &what))
			continue;
		if (strcmp(what, "state") == 0)
			names[m++] = account;
		else
			free(account);
		free(what);
	}
	mb_etcd_kvs_free(kvs, n);
	*names_r = names;
	return (ssize_t)m;
}

/* Re-seals one account's state under fnew's key, holding its lock, and
 * opens it with that key.  true when done (or already done). */
static bool
store_rekey_one(const struct mb_config *cfg, char *name,
		struct mb_fleet *fold, struct mb_fleet *fnew)
{
	const struct mb_account *conf = mb_config_account(cfg, name);
	struct mb_account old, nacct;
	struct mb_store_lock lk = MB_STORE_LOCK_INIT;
	struct mb_state st, back;
	enum mb_store_read_result r;
	char *err = NULL, *err2 = NULL;
	bool ok = false;

	memset(&old, 0, sizeof(old));
	if (conf != NULL)
		old = *conf;
	old.name = name;
	old.reply_timeout = conf != NULL ? conf->reply_timeout :
			    MB_REPLY_TIMEOUT_DEFAULT;
	old.fleet = fold;
	nacct = old;
	nacct.fleet = fnew;
	memset(&st, 0, sizeof(st));
	memset(&back, 0, sizeof(back));
	if (mb_store_lock(&old, NULL, &lk, &err) != 0) {
		printf("%s: NOT re-sealed: %s\n", name, err);
		goto out;
	}
	r = mb_store_read_locked(&lk, &st, &err);
	if (r == MB_STORE_MISSING) {
		printf("%s: skipped: its state was removed meanwhile\n", name);
		ok = true;
	} else if (r != MB_STORE_FOUND) {
		if (mb_store_read(&nacct, false, &back, &err2) ==
		    MB_STORE_FOUND) {
			printf("%s: already sealed under the new key\n", name);
			ok = true;
		} else {
			printf("%s: NOT re-sealed (left as it is): %s\n",
			       name, err);
		}
	} else if (mb_fleet_commit_key(lk.fleet, &fnew->key, &st,
				       &err) < 0) {
		printf("%s: NOT re-sealed (left as it is): %s\n", name, err);
	} else if (mb_store_read(&nacct, false, &back, &err2) !=
		   MB_STORE_FOUND || !store_same(&st, &back)) {
		printf("%s: re-sealed, but it does not read back under the "
		       "new key: %s\n", name, err2 != NULL ? err2 :
		       "it differs");
	} else {
		printf("%s: re-sealed under key %s, verified\n", name,
		       fnew->key.id);
		ok = true;
	}
out:
	mb_store_unlock(&lk);
	mb_state_clear(&st);
	mb_state_clear(&back);
	free(err);
	free(err2);
	return ok;
}

static int
store_rekey(const struct mb_config *cfg)
{
	struct mb_fleet *own = NULL, *fold, fnew;
	char *err = NULL, **names = NULL;
	size_t i, failed = 0;
	ssize_t n;
	int ret = EX_OK;

	if (store_opts.new_key == NULL) {
		mb_log(LOG_ERR, "usage: mailbearer store rekey --new-key "
		       "FILE");
		return EX_USAGE;
	}
	fold = store_fleet(cfg, "rekey", &own);
	if (fold == NULL)
		return EX_CONFIG;
	fnew = *fold;
	if (mb_seal_key_load(store_opts.new_key, &fnew.key, &err) < 0) {
		mb_log(LOG_ERR, "%s", err);
		free(err);
		mb_fleet_free(&own);
		return EX_CONFIG;
	}
	if (strcmp(fnew.key.id, fold->key.id) == 0) {
		mb_log(LOG_ERR, "%s holds the key already in use (key id %s, "
		       "state_key_file %s): make a new one with `head -c 32 "
		       "/dev/urandom > FILE`", store_opts.new_key,
		       fold->key.id, cfg->etcd->state_key_file);
		ret = EX_USAGE;
		goto out;
	}
	n = store_states(fold, &names);
	if (n < 0) {
		ret = EX_TEMPFAIL;
		goto out;
	}
	for (i = 0; i < (size_t)n; i++)
		if (!store_rekey_one(cfg, names[i], fold, &fnew))
			failed++;
	printf("old key id %s (%s), new key id %s (%s): %zu state(s) "
	       "re-sealed, %zu not\n", fold->key.id,
	       cfg->etcd->state_key_file, fnew.key.id, store_opts.new_key,
	       (size_t)n - failed, failed);
	if (failed > 0) {
		printf("the states not re-sealed are still under key %s; "
		       "correct the cause above and run the command again\n",
		       fold->key.id);
		ret = EX_TEMPFAIL;
	}
	printf("next: install %s as state_key_file (mode 0600) on every "
	       "host and restart `mailbearer serve` there; until then a host "
	       "with the old key serves the tokens it holds in memory but "
	       "cannot read the re-sealed states\n", store_opts.new_key);
out:
	for (i = 0; names != NULL && names[i] != NULL; i++)
		free(names[i]);
	free(names);
	mb_seal_key_clear(&fnew.key);
	mb_fleet_free(&own);
	return ret;
}

int
mb_cmd_store(int argc, char **argv)
{
	static const struct option extra[] = {
		{ "to", required_argument, NULL, 't' },
		{ "force", no_argument, NULL, 'f' },
		{ "keep-source", no_argument, NULL, 'k' },
		{ "new-key", required_argument, NULL, 'n' },
	};
	struct mb_config *cfg;
	const char *sub;
	int r;

	memset(&store_opts, 0, sizeof(store_opts));
	if (argc < 2 || (strcmp(argv[1], "migrate") != 0 &&
			 strcmp(argv[1], "rekey") != 0)) {
		if (argc >= 2 && (strcmp(argv[1], "--help") == 0 ||
				  strcmp(argv[1], "-h") == 0))
			return mb_cli_parse(argc, argv, false, "", extra, 4,
					    store_opt) > 0 ? EX_OK : EX_USAGE;
		mb_log(LOG_ERR, "usage: mailbearer store migrate --to "
		       "etcd|files [ACCOUNT...] | store rekey --new-key FILE");
		return EX_USAGE;
	}
	sub = argv[1];
	r = mb_cli_parse(argc - 1, argv + 1, false, "", extra, 4, store_opt);
	if (r != 0)
		return r > 0 ? EX_OK : EX_USAGE;
	/* optind counts from argv + 1 */
	argc--;
	argv++;
	if (strcmp(sub, "rekey") == 0 && optind < argc) {
		mb_log(LOG_ERR, "usage: mailbearer store rekey --new-key "
		       "FILE");
		return EX_USAGE;
	}
	cfg = mb_cli_load_config();
	if (cfg == NULL)
		return EX_CONFIG;
	r = strcmp(sub, "rekey") == 0 ? store_rekey(cfg) :
	    store_migrate(cfg, argc, argv);
	mb_config_free(&cfg);
	if (fflush(stdout) != 0)
		return EX_IOERR;
	return r;
}
