/* SPDX-License-Identifier: MIT */
#ifndef MB_STORE_ETCD_H
#define MB_STORE_ETCD_H

/* store = etcd: the state of an account in the fleet's cluster (fleet.h
 * has the keys, doc/fleet.md the design).  Called by store.c.
 *
 * The lock is a key on the process's session lease (fleet.h:
 * MB_FLEET_LEASE_TTL s, granted once and kept alive by a thread), taken
 * by a transaction that also marks the intent and reads the state: one
 * write.  A state is written by a transaction that succeeds only while
 * the lock's key is still on this lease and the state's revision is the
 * one read, and that removes the intent: one write.  A transaction that
 * deletes the lock key (if it is still on this lease) releases it: one
 * write.  A refresh costs three writes, and no lease grant. */

#include <stdbool.h>

#include "conf.h"
#include "state.h"
#include "store.h"

/* A read without the lock: linearizable, or, when the cluster has no
 * quorum, any node's own copy (a valid token is served from it).
 * *rev_r (may be NULL): the state's mod_revision, 0 when read without
 * quorum or missing. */
enum mb_store_read_result mb_fleet_read(const struct mb_account *acct,
					struct mb_state *st, long long *rev_r,
					char **error_r);
/* mb_store_spread() for the fleet. */
void mb_fleet_spread(const struct mb_account *acct);
/* mb_store_lock() for the fleet; follow, with the state's revision as
 * the caller read it (seen_rev, 0 unknown). */
int mb_fleet_lock(const struct mb_account *acct, bool follow,
		  long long seen_rev,
		  struct mb_fleet_lock **lk_r, char **error_r);
/* The state's revision when the lock was taken (0: none). */
long long mb_fleet_lock_revision(const struct mb_fleet_lock *lk);
enum mb_store_read_result mb_fleet_read_locked(struct mb_fleet_lock *lk,
					       struct mb_state *st,
					       char **error_r);
/* Writes st (st->updated, st->generation set first) if the lock is still
 * this one's and the state is the one read; the lock then holds the
 * revision written.  0, or -1 with *error_r (nothing was written). */
int mb_fleet_commit(struct mb_fleet_lock *lk, struct mb_state *st,
		    char **error_r);
/* mb_fleet_commit() sealed with key instead of the fleet's: `store
 * rekey` re-seals each state under the new key, holding its lock. */
struct mb_seal_key;
int mb_fleet_commit_key(struct mb_fleet_lock *lk,
			const struct mb_seal_key *key, struct mb_state *st,
			char **error_r);
/* Deletes the state (and a leftover intent): the number of keys deleted,
 * or -1 with *error_r. */
int mb_fleet_remove(struct mb_fleet_lock *lk, char **error_r);
/* Whether the lock's lease was seen to end while held. */
bool mb_fleet_lock_lost(struct mb_fleet_lock *lk);
void mb_fleet_unlock(struct mb_fleet_lock **lk);

/* Who holds the account's lock ("HOST pid PID", malloc'd) and the
 * seconds its lease has left, or NULL when nobody does or it cannot be
 * read (for status). */
char *mb_fleet_lock_holder(const struct mb_account *acct);

#endif
