/* SPDX-License-Identifier: MIT */
#ifndef MB_STORE_H
#define MB_STORE_H

/* Where an account's state lives, and its lock.  Two stores, chosen by
 * the global key store (conf.h):
 *   files (store-files.c): <state_dir>/<account>.json, 0600 in a 0700
 *     directory owned by the user running the helper, replaced atomically
 *     (temporary file in the same directory, fsync, rename, fsync of the
 *     directory), plus <account>.lock for the per-account flock(2);
 *   etcd (store-etcd.c, doc/fleet.md): one sealed key per account in the
 *     cluster a fleet of hosts shares, a lease lock, writes that succeed
 *     only while the lock's lease lives and the state is the one read.
 * Every change of a state is made holding its lock (struct mb_store_lock),
 * through the calls that take the lock.  What a state says is state.h's. */

#include <stdbool.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <time.h>

#include "conf.h"
#include "state.h"

enum mb_store_read_result {
	MB_STORE_FOUND = 0,
	MB_STORE_MISSING,	/* no state file: never authorized/imported */
	MB_STORE_ERROR,		/* unreadable, bad modes: *error_r says */
	MB_STORE_CORRUPT,	/* not a valid state file: *error_r says */
};

/* Reads the account's state into *st (zeroed first).  With move_corrupt
 * (only while holding the account's lock) a corrupt file is renamed to
 * <account>.json.corrupt-<time> and the message names both.  On
 * MB_STORE_ERROR/CORRUPT *error_r is a malloc'd sentence (caller frees). */
enum mb_store_read_result mb_store_read(const struct mb_account *acct,
					bool move_corrupt,
					struct mb_state *st, char **error_r);
/* The state file one read saw, kept open: the file is only ever
 * replaced whole (rename), so while it is open no other file can take
 * its place unnoticed. */
struct mb_store_seen {
	int fd;			/* -1 when none */
	struct stat sb;		/* the file as it was when read */
	long long revision;	/* etcd: the state's mod_revision, 0 none */
};
#define MB_STORE_SEEN_INIT { .fd = -1 }

struct mb_fleet_lock;
/* An account's lock, held. */
struct mb_store_lock {
	const struct mb_account *acct;	/* whose, once asked for */
	bool held;
	int fd;				/* files: the flock(2)ed file */
	struct mb_fleet_lock *fleet;	/* etcd: the lease lock */
};
#define MB_STORE_LOCK_INIT { NULL, false, -1, NULL }

/* mb_store_read() without moving a corrupt file, keeping the file read
 * open in *seen when MB_STORE_FOUND (else seen->fd is -1). */
enum mb_store_read_result mb_store_read_seen(const struct mb_account *acct,
					     struct mb_state *st,
					     struct mb_store_seen *seen,
					     char **error_r);
/* Holding lk: true when the account's state is still the one *seen
 * holds, unchanged: what was read is the current state, and need not be
 * read again. */
bool mb_store_seen_current(const struct mb_store_lock *lk,
			   const struct mb_store_seen *seen);
/* Holding lk: mb_store_read() with move_corrupt (etcd: the state the lock
 * was taken with, read in the same transaction). */
enum mb_store_read_result mb_store_read_locked(struct mb_store_lock *lk,
					       struct mb_state *st,
					       char **error_r);
/* Closes it; safe on MB_STORE_SEEN_INIT and twice. */
void mb_store_seen_close(struct mb_store_seen *seen);

/* A temporary file reserved in the state directory for the next state:
 * created <account>.json.tmp-XXXXXX (0600, O_EXCL) and allocated, so that
 * writing into it cannot run out of space.  Made before a refresh token
 * is spent: a full disk or a read-only directory then means "refresh not
 * attempted" rather than a new refresh token with nowhere to go. */
struct mb_store_tmp {
	int fd;			/* -1 when none */
	char *path;
	bool keep;	/* complete but not renamed: left for recovery */
};
#define MB_STORE_TMP_INIT { -1, NULL, false }

/* Reserves room for a state of up to the largest size we write (cur:
 * the current state, for its free-text fields; may be NULL).  0, or -1
 * with *error_r naming the directory and the cause. */
int mb_store_reserve(const struct mb_store_lock *lk,
		     const struct mb_state *cur, struct mb_store_tmp *t,
		     char **error_r);
/* Writes st into the reserved file (st->updated and st->generation set
 * first), fsyncs, renames it over the state file, fsyncs the directory.
 * 0, or -1 with *error_r: the previous state file is then untouched; if
 * the new state was completely written but not renamed, the temporary
 * file is kept (t->keep) and the next mb_store_recover() adopts it. */
int mb_store_commit(struct mb_store_lock *lk, struct mb_store_tmp *t,
		    struct mb_state *st, char **error_r);
/* Closes the reserved file and removes it unless kept.  Safe twice. */
void mb_store_release(struct mb_store_tmp *t);
/* mb_store_reserve() + mb_store_commit() + mb_store_release(). */
int mb_store_write(struct mb_store_lock *lk, struct mb_state *st,
		   char **error_r);
/* Holding lk: removes the account's state (revoke).  0 (also when there
 * was none) or -1 with *error_r. */
int mb_store_remove(struct mb_store_lock *lk, char **error_r);
/* Only while holding the account's lock: temporary files left by a
 * crash (regular files of ours named <account>.json.tmp-XXXXXX; nothing
 * else is touched) are adopted as the state file when one holds a
 * complete state newer than the state file (it may hold a rotated
 * refresh token the state file lacks), else removed.  Returns the number
 * adopted (0 or 1), or -1 with *error_r when the directory cannot be
 * read or a newer state cannot be put in place (that file is kept). */
int mb_store_recover(const struct mb_store_lock *lk, char **error_r);
/* Creates the state directory (0700) if needed and refuses one that
 * group or others can access or that another user owns.  0 or -1. */
int mb_store_prepare_dir(const char *dir, char **error_r);
/* Takes the account's exclusive lock, waiting for it: 0 with *lk held,
 * or -1 with *error_r malloc'd (lk->acct is set either way; a lock not
 * held writes nothing, and reserves nothing but for a fleet's account,
 * whose state then stays in memory: token.c's refresh without quorum).
 * follow (etcd only; NULL: just take it): the state as the caller read
 * it without the lock.  If it is no longer the state (another host
 * refreshed), or another host holds the lock and changes it meanwhile,
 * 1 without the lock and without a write: the caller reads the state
 * again.  Waiting for another host's lock asks for nothing. */
int mb_store_lock(const struct mb_account *acct,
		  const struct mb_store_seen *follow,
		  struct mb_store_lock *lk, char **error_r);
/* Releases the lock.  Safe on MB_STORE_LOCK_INIT and twice. */
void mb_store_unlock(struct mb_store_lock *lk);
/* A fleet's account (etcd only; files: nothing): waits a random 0 to
 * 1 s, so that hosts due at the same second (serve's refreshes ahead of
 * expiry, which no client waits for) do not all take the lock: the
 * first one's new state is what the others then read. */
void mb_store_spread(const struct mb_account *acct);
/* A name for the account's state, for messages and as a key: the state
 * file's path, or "etcd:KEY".  malloc'd. */
char *mb_store_name(const struct mb_account *acct);
/* Who this process is, for a fleet's status: "HOST pid PID" (malloc'd,
 * asked anew: serve forks after reading its configuration). */
char *mb_store_host(void);
/* <state_dir>/<account><suffix>, malloc'd. */
char *mb_store_path(const struct mb_account *acct, const char *suffix);
/* Opens path without blocking on a FIFO or a device and without following
 * a symbolic link (O_NONBLOCK|O_NOFOLLOW|O_CLOEXEC|O_NOCTTY added, then
 * O_NONBLOCK cleared) and refuses anything but a regular file.  what
 * names the file in messages ("state file").  The fd, or -1 with
 * *error_r; errno is that of open(2) (ENOENT: missing, no message). */
int mb_store_open_regular(const char *path, int flags, mode_t mode,
			  const char *what, char **error_r);

/*
 * Test hook: when the environment variable MB_TEST_CRASH_AT equals point,
 * the process kills itself with SIGKILL right there (points: after-reply,
 * when a refresh reply has arrived and nothing is written yet;
 * after-tmp-write, when the new state is in its temporary file;
 * after-rename, when it replaced the state file but the directory is not
 * synced).  The durability tests use it to crash at each step of a
 * refresh.  Compiled only with --enable-test-hooks (MB_TEST_HOOKS); in
 * any other build it does nothing and the variable is not read.
 */
#ifdef MB_TEST_HOOKS
void mb_store_crash_point(const char *point);
#else
static inline void
mb_store_crash_point(const char *point)
{
	(void)point;
}
#endif

/*
 * Test hook: when the environment variable MB_TEST_READ_LOG names a file,
 * every read of a state file (not of a leftover temporary file) appends
 * the line "read PATH" to it.  The tests count them: a refresh reads the
 * state file once.  Compiled only with --enable-test-hooks.
 */
#ifdef MB_TEST_HOOKS
void mb_store_note_read(const char *path);
#else
static inline void
mb_store_note_read(const char *path)
{
	(void)path;
}
#endif

#endif
