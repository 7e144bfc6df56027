/* SPDX-License-Identifier: MIT */
#include <config.h>

#include "store-etcd.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "fleet.h"
#include "isotime.h"
#include "log.h"
#include "text-safe.h"
#include "wipe.h"
#include "xalloc.h"

/* A waiting host looks at a lock held by another this often (ms). */
#define FLEET_LOCK_POLL_MS 100

struct mb_fleet_lock {
	const struct mb_account *acct;
	struct mb_fleet *f;
	long long lease;		/* the session lease the lock is on */
	char *lock_key, *state_key, *intent_key;
	struct mb_etcd_kv state;	/* as the lock's transaction read it */
	bool held;			/* the lock key is ours */
};

/* Who a lock or intent value names ("HOST pid PID ..."), as etcd gave
 * it: safe to show and bounded (malloc'd). */
static char *
fleet_holder_text(const struct mb_etcd_kv *kv)
{
	char buf[256];

	mb_text_safe(buf, sizeof(buf), (const char *)kv->value,
		     kv->value != NULL ? kv->value_len : 0, true);
	return mb_xstrdup(buf);
}

/* The sealed text of kv opened and decoded into *st. */
static enum mb_store_read_result
fleet_decode(const struct mb_account *acct, const struct mb_etcd_kv *kv,
	     struct mb_state *st, char **error_r)
{
	const struct mb_fleet *f = acct->fleet;
	enum mb_store_read_result r = MB_STORE_CORRUPT;
	char *plain = NULL, *err = NULL, *why = NULL;
	size_t len = 0;

	memset(st, 0, sizeof(*st));
	if (kv->create_revision == 0)
		return MB_STORE_MISSING;
	if (mb_seal_open(&f->key, acct->name, "state", (const char *)kv->value,
			 kv->value_len, &plain, &len, &err) < 0) {
		/* another key is the configuration's problem, not the
		 * value's: nothing is ever rewritten over it.  The key
		 * named is ours: etcd's copy of it could say anything. */
		char *key = mb_fleet_key(f, acct->name, "state");

		r = strstr(err, "key id") != NULL ? MB_STORE_ERROR :
		    MB_STORE_CORRUPT;
		*error_r = mb_xasprintf("account %s: the state in etcd (%s) "
			"cannot be opened: %s", acct->name, key, err);
		free(key);
		free(err);
		return r;
	}
	if (mb_state_decode(plain, len, st, &why) == 0) {
		r = MB_STORE_FOUND;
	} else {
		char *key = mb_fleet_key(f, acct->name, "state");

		*error_r = mb_xasprintf("account %s: the state in etcd (%s) is "
			"not a valid state: %s; run `mailbearer authorize "
			"%s` or `mailbearer import %s`", acct->name, key,
			why, acct->name, acct->name);
		free(key);
		free(why);
		mb_state_clear(st);
	}
	mb_wipe(plain, len);
	free(plain);
	return r;
}

enum mb_store_read_result
mb_fleet_read(const struct mb_account *acct, struct mb_state *st,
	      long long *rev_r, char **error_r)
{
	struct mb_fleet *f = acct->fleet;
	enum mb_store_read_result r;
	enum mb_etcd_result er;
	struct mb_etcd_kv kv;
	char *key = mb_fleet_key(f, acct->name, "state"), *err = NULL;
	bool quorum = true;

	memset(st, 0, sizeof(*st));
	if (rev_r != NULL)
		*rev_r = 0;
	er = mb_etcd_get(f->etcd, key, false, &kv, NULL, &err);
	if (er == MB_ETCD_UNAVAILABLE) {
		/* No quorum: a node's own copy still serves a valid token;
		 * nothing is written from it. */
		free(err);
		err = NULL;
		quorum = false;
		er = mb_etcd_get(f->etcd, key, true, &kv, NULL, &err);
	}
	free(key);
	if (er != MB_ETCD_OK) {
		*error_r = mb_xasprintf("account %s: cannot read the state: %s",
					acct->name, err);
		free(err);
		return MB_STORE_ERROR;
	}
	r = fleet_decode(acct, &kv, st, error_r);
	if (r == MB_STORE_FOUND && rev_r != NULL && quorum)
		*rev_r = kv.mod_revision;
	mb_etcd_kv_clear(&kv);
	return r;
}

static void
fleet_lock_free(struct mb_fleet_lock *lk)
{
	mb_etcd_kv_clear(&lk->state);
	free(lk->lock_key);
	free(lk->state_key);
	free(lk->intent_key);
	free(lk);
}

/* One try: the lock taken (1), held by another (0, *holder_r and
 * *state_rev_r say by whom and which state it saw), or -1. */
static int
fleet_try_lock(struct mb_fleet_lock *lk, char **holder_r,
	       long long *state_rev_r, char **error_r)
{
	struct mb_etcd_cmp cmp = { lk->lock_key, MB_ETCD_CMP_CREATE, 0 };
	char *intent, *err = NULL, *host = mb_store_host();
	char since[MB_ISO_TIME_SIZE];
	struct mb_etcd_op ok[4], fail[2];
	struct mb_etcd_kv *kvs = NULL;
	size_t n = 0;
	bool won;
	int ret;

	mb_iso_time(time(NULL), since, sizeof(since), "now");
	intent = mb_xasprintf("%s since %s", host, since);
	ok[0] = (struct mb_etcd_op){ MB_ETCD_OP_GET, lk->intent_key, NULL, 0,
				     0 };
	ok[1] = (struct mb_etcd_op){ MB_ETCD_OP_PUT, lk->lock_key, host,
				     strlen(host), lk->lease };
	ok[2] = (struct mb_etcd_op){ MB_ETCD_OP_PUT, lk->intent_key, intent,
				     strlen(intent), 0 };
	ok[3] = (struct mb_etcd_op){ MB_ETCD_OP_GET, lk->state_key, NULL, 0,
				     0 };
	fail[0] = (struct mb_etcd_op){ MB_ETCD_OP_GET, lk->lock_key, NULL, 0,
				       0 };
	fail[1] = (struct mb_etcd_op){ MB_ETCD_OP_GET, lk->state_key, NULL, 0,
				       0 };
	if (mb_etcd_txn(lk->f->etcd, &cmp, 1, ok, 4, fail, 2, &won, &kvs, &n,
			NULL, &err) != MB_ETCD_OK) {
		*error_r = mb_xasprintf("account %s: cannot take the lock: %s",
					lk->acct->name, err);
		free(err);
		free(intent);
		free(host);
		return -1;
	}
	free(intent);
	free(host);
	if (won) {
		if (kvs[0].create_revision != 0) {
			char *who = fleet_holder_text(&kvs[0]);

			/* its holder died before writing: its lease ended
			 * the lock, the intent stayed */
			mb_log(LOG_WARNING, "%s: the previous holder of the "
			       "lock (%s) stopped without releasing it; if it "
			       "had sent a refresh request, the provider's "
			       "answer is lost (the one window no store can "
			       "close), and a strictly rotating provider may "
			       "now refuse the refresh token", lk->acct->name,
			       who);
			free(who);
		}
		lk->state = kvs[1];
		memset(&kvs[1], 0, sizeof(kvs[1]));
		ret = 1;
	} else if (kvs[0].create_revision == 0) {
		/* the compare failed, so the lock exists at that revision:
		 * a reply without it is not etcd's (and waiting on it would
		 * spin until the deadline) */
		*error_r = mb_xasprintf("account %s: cannot take the lock: "
			"etcd said the lock is held but showed no holder (a "
			"reply that is not etcd's)", lk->acct->name);
		ret = -1;
	} else {
		*holder_r = fleet_holder_text(&kvs[0]);
		*state_rev_r = kvs[1].mod_revision;
		ret = 0;
	}
	mb_etcd_kvs_free(kvs, n);
	return ret;
}

static void
fleet_nap(void)
{
	struct timespec ts = { 0, FLEET_LOCK_POLL_MS * 1000000L };

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

/* key's create and mod revisions (0 and 0: absent), read linearizably:
 * 0, or -1 when etcd did not answer. */
static int
fleet_revs(struct mb_fleet_lock *lk, const char *key, long long *create_r,
	   long long *mod_r)
{
	struct mb_etcd_kv kv;
	char *err = NULL;

	if (mb_etcd_get(lk->f->etcd, key, false, &kv, NULL, &err) !=
	    MB_ETCD_OK) {
		free(err);
		return -1;
	}
	*create_r = kv.create_revision;
	*mod_r = kv.mod_revision;
	mb_etcd_kv_clear(&kv);
	return 0;
}

/* Looks at the lock key every FLEET_LOCK_POLL_MS until nobody holds it:
 * 1, or 0 at the deadline; a read etcd did not answer is tried again,
 * or with stop_on_error ends the wait (-1). */
static int
fleet_wait_free(struct mb_fleet_lock *lk, time_t deadline,
		bool stop_on_error)
{
	long long created, mod;

	while (time(NULL) < deadline) {
		fleet_nap();
		if (fleet_revs(lk, lk->lock_key, &created, &mod) < 0) {
			if (stop_on_error)
				return -1;
			continue;
		}
		if (created == 0)
			return 1;
	}
	return 0;
}

/* Waits while another holds the lock: 1 once it is free, 2 if the state
 * changed meanwhile (wait_changed), -1 at the deadline. */
static int
fleet_wait(struct mb_fleet_lock *lk, const char *holder, long long rev0,
	   bool wait_changed, time_t deadline, char **error_r)
{
	long long created, rev;

	if (fleet_wait_free(lk, deadline, false) != 1) {
		*error_r = mb_xasprintf("account %s: the lock is still held by "
			"%s; try again (a host that died holds it at most "
			"%d s)", lk->acct->name, holder, MB_FLEET_LEASE_TTL);
		return -1;
	}
	if (!wait_changed ||
	    fleet_revs(lk, lk->state_key, &created, &rev) < 0)
		return 1;
	return rev != rev0 ? 2 : 1;
}

static time_t
fleet_deadline(const struct mb_account *acct)
{
	return time(NULL) + acct->reply_timeout + 2 * MB_FLEET_LEASE_TTL;
}

void
mb_fleet_spread(const struct mb_account *acct)
{
	unsigned seed = (unsigned)time(NULL) ^ ((unsigned)getpid() << 16) ^
			(unsigned)(uintptr_t)acct;
	long ms = rand_r(&seed) % 1000;
	struct timespec ts = { 0, ms * 1000000L };

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

/* Following another host, before any write: 1 when the state is no
 * longer the one the caller read (seen_rev, 0 unknown), or another host
 * held the lock and changed the state meanwhile; else 0 (take the lock).
 * Reads only. */
static int
fleet_follow(struct mb_fleet_lock *lk, long long seen_rev, time_t deadline)
{
	long long held, created, mod, rev0, rev;

	if (fleet_revs(lk, lk->lock_key, &held, &mod) < 0 ||
	    fleet_revs(lk, lk->state_key, &created, &rev0) < 0)
		return 0;
	if (seen_rev != 0 && rev0 != seen_rev)
		return 1;
	if (held == 0 || fleet_wait_free(lk, deadline, true) != 1 ||
	    fleet_revs(lk, lk->state_key, &created, &rev) < 0)
		return 0;
	return rev != rev0 ? 1 : 0;
}

int
mb_fleet_lock(const struct mb_account *acct, bool follow, long long seen_rev,
	      struct mb_fleet_lock **lk_r, char **error_r)
{
	struct mb_fleet_lock *lk = mb_xcalloc(1, sizeof(*lk));
	char *err = NULL, *holder = NULL;
	time_t deadline;
	long long rev0 = -1;
	bool wait_changed = follow;
	int r;

	*lk_r = NULL;
	lk->acct = acct;
	lk->f = acct->fleet;
	lk->lock_key = mb_fleet_key(lk->f, acct->name, "lock");
	lk->state_key = mb_fleet_key(lk->f, acct->name, "state");
	lk->intent_key = mb_fleet_key(lk->f, acct->name, "intent");
	deadline = fleet_deadline(acct);
	/* a host that finds the lock taken waits without a lease: if the
	 * holder refreshed, nothing was written for this host at all */
	if (wait_changed && fleet_follow(lk, seen_rev, deadline) == 1) {
		fleet_lock_free(lk);
		return 1;
	}
	if (mb_fleet_lease(lk->f, &lk->lease, &err) < 0) {
		*error_r = mb_xasprintf("account %s: cannot take the lock: %s",
					acct->name, err);
		free(err);
		fleet_lock_free(lk);
		return -1;
	}
	for (;;) {
		long long rev = 0;

		free(holder);
		holder = NULL;
		r = fleet_try_lock(lk, &holder, &rev, error_r);
		if (r != 0)
			break;
		if (rev0 < 0)
			rev0 = rev;
		r = fleet_wait(lk, holder, rev0, wait_changed, deadline,
			       error_r);
		if (r != 1)
			break;
	}
	free(holder);
	if (r != 1) {
		fleet_lock_free(lk);
		return r == 2 ? 1 : -1;
	}
	lk->held = true;
	mb_store_crash_point("after-lock");
	*lk_r = lk;
	return 0;
}

long long
mb_fleet_lock_revision(const struct mb_fleet_lock *lk)
{
	return lk->state.mod_revision;
}

bool
mb_fleet_lock_lost(struct mb_fleet_lock *lk)
{
	return !mb_fleet_lease_alive(lk->f, lk->lease);
}

enum mb_store_read_result
mb_fleet_read_locked(struct mb_fleet_lock *lk, struct mb_state *st,
		     char **error_r)
{
	return fleet_decode(lk->acct, &lk->state, st, error_r);
}

int
mb_fleet_commit(struct mb_fleet_lock *lk, struct mb_state *st,
		char **error_r)
{
	return mb_fleet_commit_key(lk, &lk->f->key, st, error_r);
}

int
mb_fleet_commit_key(struct mb_fleet_lock *lk, const struct mb_seal_key *key,
		    struct mb_state *st, char **error_r)
{
	struct mb_etcd_cmp cmps[2] = {
		{ lk->lock_key, MB_ETCD_CMP_LEASE, lk->lease },
		{ lk->state_key, MB_ETCD_CMP_MOD, lk->state.mod_revision },
	};
	struct mb_etcd_op ops[2];
	char *text, *sealed, *err = NULL;
	long long rev = 0;
	bool won;

	st->updated = time(NULL);
	st->generation++;
	text = mb_state_encode(st);
	if (text == NULL) {
		*error_r = mb_xstrdup("out of memory");
		return -1;
	}
	sealed = mb_seal(key, lk->acct->name, "state", text,
			 strlen(text));
	mb_wipe(text, strlen(text));
	free(text);
	if (sealed == NULL) {
		*error_r = mb_xstrdup("cannot seal the state (libcrypto)");
		return -1;
	}
	ops[0] = (struct mb_etcd_op){ MB_ETCD_OP_PUT, lk->state_key, sealed,
				      strlen(sealed), 0 };
	ops[1] = (struct mb_etcd_op){ MB_ETCD_OP_DELETE, lk->intent_key, NULL,
				      0, 0 };
	if (mb_etcd_txn(lk->f->etcd, cmps, 2, ops, 2, NULL, 0, &won, NULL,
			NULL, &rev, &err) != MB_ETCD_OK) {
		*error_r = mb_xasprintf("the state was not written to etcd: "
					"%s", err);
		free(err);
		free(sealed);
		return -1;
	}
	if (!won) {
		*error_r = mb_xasprintf("the state was not written to etcd: "
			"this host's lock ended (its lease expired: the "
			"process was stopped or cut off from etcd for more "
			"than %d s) or another host changed the state",
			MB_FLEET_LEASE_TTL);
		free(sealed);
		return -1;
	}
	/* the lock now holds what was written */
	mb_etcd_kv_clear(&lk->state);
	lk->state.key = mb_xstrdup(lk->state_key);
	lk->state.value = (unsigned char *)sealed;
	lk->state.value_len = strlen(sealed);
	lk->state.create_revision = lk->state.create_revision ?
				    lk->state.create_revision : rev;
	lk->state.mod_revision = rev;
	mb_store_crash_point("after-commit");
	return 0;
}

int
mb_fleet_remove(struct mb_fleet_lock *lk, char **error_r)
{
	struct mb_etcd_cmp cmp = { lk->lock_key, MB_ETCD_CMP_LEASE,
				   lk->lease };
	struct mb_etcd_op ops[2] = {
		{ MB_ETCD_OP_DELETE, lk->state_key, NULL, 0, 0 },
		{ MB_ETCD_OP_DELETE, lk->intent_key, NULL, 0, 0 },
	};
	char *err = NULL;
	bool won;

	if (mb_etcd_txn(lk->f->etcd, &cmp, 1, ops, 2, NULL, 0, &won, NULL,
			NULL, NULL, &err) != MB_ETCD_OK || !won) {
		*error_r = mb_xasprintf("account %s: the state in etcd was not "
			"removed: %s", lk->acct->name, err != NULL ? err :
			"this host's lock ended");
		free(err);
		return -1;
	}
	return lk->state.create_revision != 0 ? 1 : 0;
}

void
mb_fleet_unlock(struct mb_fleet_lock **lkp)
{
	struct mb_fleet_lock *lk = *lkp;
	char *err = NULL;
	bool won;

	if (lk == NULL)
		return;
	if (lk->held) {
		/* one write: the lock, and the intent if nothing was
		 * written (the session lease lives on for the next lock) */
		struct mb_etcd_cmp cmp = { lk->lock_key, MB_ETCD_CMP_LEASE,
					   lk->lease };
		struct mb_etcd_op ops[2] = {
			{ MB_ETCD_OP_DELETE, lk->intent_key, NULL, 0, 0 },
			{ MB_ETCD_OP_DELETE, lk->lock_key, NULL, 0, 0 },
		};

		if (mb_etcd_txn(lk->f->etcd, &cmp, 1, ops, 2, NULL, 0, &won,
				NULL, NULL, NULL, &err) != MB_ETCD_OK) {
			mb_log(LOG_WARNING, "%s: cannot release the lock (it "
			       "ends with this host's lease): %s",
			       lk->acct->name, err);
			free(err);
		}
	}
	fleet_lock_free(lk);
	*lkp = NULL;
}

char *
mb_fleet_lock_holder(const struct mb_account *acct)
{
	struct mb_etcd_kv kv;
	char *key = mb_fleet_key(acct->fleet, acct->name, "lock");
	char *err = NULL, *who = NULL;

	if (mb_etcd_get(acct->fleet->etcd, key, true, &kv, NULL, &err) ==
	    MB_ETCD_OK && kv.create_revision != 0)
		who = fleet_holder_text(&kv);
	free(err);
	free(key);
	mb_etcd_kv_clear(&kv);
	return who;
}
