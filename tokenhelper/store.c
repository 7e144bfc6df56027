/* SPDX-License-Identifier: MIT */
#include <config.h>

#include "store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fleet.h"
#include "store-etcd.h"
#include "store-files.h"
#include "xalloc.h"

/* The store of each account: files (store-files.c) or the fleet's etcd
 * (store-etcd.c). */

enum mb_store_read_result
mb_store_read(const struct mb_account *acct, bool move_corrupt,
	      struct mb_state *st, char **error_r)
{
	if (acct->fleet != NULL)
		return mb_fleet_read(acct, st, NULL, error_r);
	return mb_files_read(acct, move_corrupt, st, error_r);
}

enum mb_store_read_result
mb_store_read_seen(const struct mb_account *acct, struct mb_state *st,
		   struct mb_store_seen *seen, char **error_r)
{
	seen->revision = 0;
	if (acct->fleet != NULL)
		return mb_fleet_read(acct, st, &seen->revision, error_r);
	return mb_files_read_seen(acct, st, seen, error_r);
}

bool
mb_store_seen_current(const struct mb_store_lock *lk,
		      const struct mb_store_seen *seen)
{
	if (!lk->held)
		return false;
	if (lk->fleet != NULL)
		return seen->revision != 0 &&
		       seen->revision == mb_fleet_lock_revision(lk->fleet);
	return mb_files_seen_current(lk->acct, seen);
}

enum mb_store_read_result
mb_store_read_locked(struct mb_store_lock *lk, struct mb_state *st,
		     char **error_r)
{
	if (lk->fleet != NULL)
		return mb_fleet_read_locked(lk->fleet, st, error_r);
	return mb_files_read(lk->acct, true, st, error_r);
}

/* A lock this process does not hold: nothing may be written. */
static int
store_not_held(const struct mb_store_lock *lk, char **error_r)
{
	if (lk->held)
		return 0;
	*error_r = mb_xstrdup("the account's lock could not be taken (etcd "
			      "unavailable): the state is not written");
	return -1;
}

int
mb_store_reserve(const struct mb_store_lock *lk, const struct mb_state *cur,
		 struct mb_store_tmp *t, char **error_r)
{
	if (!lk->held && lk->acct != NULL && lk->acct->fleet != NULL)
		return 0;
	if (store_not_held(lk, error_r) < 0)
		return -1;
	if (lk->fleet != NULL) {
		/* etcd has nothing to reserve; a lock that ended can no
		 * longer write: the refresh token is not spent */
		if (mb_fleet_lock_lost(lk->fleet)) {
			*error_r = mb_xasprintf("this host's etcd lock ended "
				"(its lease expired)");
			return -1;
		}
		return 0;
	}
	return mb_files_reserve(lk->acct, cur, t, error_r);
}

int
mb_store_commit(struct mb_store_lock *lk, struct mb_store_tmp *t,
		struct mb_state *st, char **error_r)
{
	if (store_not_held(lk, error_r) < 0)
		return -1;
	if (lk->fleet != NULL)
		return mb_fleet_commit(lk->fleet, st, error_r);
	return mb_files_commit(lk->acct, t, st, error_r);
}

int
mb_store_write(struct mb_store_lock *lk, struct mb_state *st, char **error_r)
{
	if (store_not_held(lk, error_r) < 0)
		return -1;
	if (lk->fleet != NULL)
		return mb_fleet_commit(lk->fleet, st, error_r);
	return mb_files_write(lk->acct, st, error_r);
}

int
mb_store_remove(struct mb_store_lock *lk, char **error_r)
{
	if (store_not_held(lk, error_r) < 0)
		return -1;
	if (lk->fleet != NULL)
		return mb_fleet_remove(lk->fleet, error_r);
	return mb_files_remove(lk->acct, error_r);
}

int
mb_store_recover(const struct mb_store_lock *lk, char **error_r)
{
	/* etcd: a dead holder's intent is reported by mb_fleet_lock() */
	if (lk->fleet != NULL || !lk->held)
		return 0;
	return mb_files_recover(lk->acct, error_r);
}

int
mb_store_lock(const struct mb_account *acct,
	      const struct mb_store_seen *follow,
	      struct mb_store_lock *lk, char **error_r)
{
	int r;

	*lk = (struct mb_store_lock)MB_STORE_LOCK_INIT;
	*error_r = NULL;
	if (acct->fleet != NULL)
		r = mb_fleet_lock(acct, follow != NULL,
				  follow != NULL ? follow->revision : 0,
				  &lk->fleet, error_r);
	else
		r = mb_files_lock(acct, &lk->fd, error_r);
	lk->acct = acct;
	lk->held = r == 0;
	return r;
}

void
mb_store_unlock(struct mb_store_lock *lk)
{
	if (lk == NULL)
		return;
	mb_fleet_unlock(&lk->fleet);
	mb_files_unlock(&lk->fd);
	lk->held = false;
}

void
mb_store_spread(const struct mb_account *acct)
{
	if (acct->fleet != NULL)
		mb_fleet_spread(acct);
}

char *
mb_store_name(const struct mb_account *acct)
{
	char *key, *name;

	if (acct->fleet == NULL)
		return mb_store_path(acct, ".json");
	key = mb_fleet_key(acct->fleet, acct->name, "state");
	name = mb_xasprintf("etcd:%s", key);
	free(key);
	return name;
}

char *
mb_store_host(void)
{
	char name[256];

	if (gethostname(name, sizeof(name)) < 0)
		snprintf(name, sizeof(name), "unknown-host");
	name[sizeof(name) - 1] = '\0';
	return mb_xasprintf("%s pid %ld", name, (long)getpid());
}
