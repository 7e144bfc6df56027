/* SPDX-License-Identifier: MIT */
#ifndef MB_FLEET_H
#define MB_FLEET_H

/* store = etcd: what every host of a fleet shares (doc/fleet.md).  Under
 * etcd_prefix, for each account:
 *   accounts/ACCOUNT/state   the state (state.h), sealed (seal.h) for
 *                            ACCOUNT and "state": only this account's
 *                            key opens it
 *   accounts/ACCOUNT/lock    "HOST pid PID", on the lock holder's lease
 *   accounts/ACCOUNT/intent  "HOST pid PID since TIME": a lock was
 *                            taken to refresh, and the state is not
 *                            written yet; left behind only by a holder
 *                            that died (its lease then ended the lock)
 * and check (doctor's write test).  Nothing outside the prefix is read
 * or written.  The lock, the read and the write: store-etcd.c. */

#include <pthread.h>
#include <stdbool.h>
#include <time.h>

#include "conf.h"
#include "etcd.h"
#include "seal.h"

/* Seconds the process's lease lives without a keep-alive: a host killed
 * while holding a lock holds it at most this long.  Kept alive every
 * third of it by a thread, from the first lock on. */
#define MB_FLEET_LEASE_TTL 15

struct mb_fleet {
	const struct mb_etcd_conf *conf;
	struct mb_etcd *etcd;
	struct mb_seal_key key;
	/* the process's session lease, which every lock it takes is on:
	 * granted once, not once per lock (a lease is a write) */
	pthread_mutex_t mu;
	pthread_cond_t cv;
	long long lease;	/* 0: none (not yet, or it ended) */
	pthread_t keeper;
	bool keeping, stop;
};

/* The fleet of conf: its client and the key of state_key_file, loaded
 * now.  NULL with *error_r when the key cannot be used. */
struct mb_fleet *mb_fleet_new(const struct mb_etcd_conf *conf,
			      char **error_r);
/* Wipes the key, frees everything; *f becomes NULL.  NULL-safe. */
void mb_fleet_free(struct mb_fleet **f);
/* The session lease, granted if there is none (and its keep-alive
 * thread started): 0 with *lease_r, or -1 with *error_r. */
int mb_fleet_lease(struct mb_fleet *f, long long *lease_r, char **error_r);
/* The lease is alive as far as this process knows (the keep-alive has
 * not seen it end). */
bool mb_fleet_lease_alive(struct mb_fleet *f, long long lease);
/* PREFIX "accounts/" account "/" what, malloc'd. */
char *mb_fleet_key(const struct mb_fleet *f, const char *account,
		   const char *what);
/* PREFIX "accounts/", malloc'd: every account's keys start so. */
char *mb_fleet_accounts_prefix(const struct mb_fleet *f);
/* The account of a key under mb_fleet_accounts_prefix() and the part
 * after it ("state", "lock"...), both malloc'd; false if key is not an
 * account's. */
bool mb_fleet_split_key(const struct mb_fleet *f, const char *key,
			char **account_r, char **what_r);

#endif
