#ifndef MB_STORE_H
#define MB_STORE_H

/* The per-account state file: <state_dir>/<account>.json, 0600 in a 0700
 * directory owned by the user running the helper, replaced atomically
 * (temporary file in the same directory, fsync, rename, fsync of the
 * directory), plus <account>.lock for the per-account flock(2). */

#include <stdbool.h>
#include <time.h>

#include "config.h"

struct mb_state {
	char *refresh_token;	/* secret; NULL if none */
	char *access_token;	/* secret; NULL if none */
	time_t expires_at;	/* of access_token, unix seconds; 0 unknown */
	char *scope;		/* as granted, NULL if unknown */
	bool rejected;		/* a server rejected access_token */
	bool needs_authorize;	/* a permanent refresh failure happened */
	/* true when that failure is the client's configuration (wrong
	 * client_id/secret...): retried on the next call because the fix
	 * is in the config and the refresh token may still be good. */
	bool client_problem;
	char *reason;		/* why needs_authorize, with advice */
	time_t last_refresh;	/* when access_token was obtained */
	char *last_error;	/* last refresh failure (secret-free) */
	time_t updated;		/* last write */
};

/* Wipes the secrets and frees every field; the struct is zeroed. */
void mb_state_clear(struct mb_state *st);

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
/* Replaces the state file atomically; sets st->updated first.  Returns 0,
 * or -1 with *error_r malloc'd; the previous file is then untouched. */
int mb_store_write(const struct mb_account *acct, struct mb_state *st,
		   char **error_r);
/* Creates the state directory (0700) if needed and refuses one that
 * group or others can access or that another user owns.  0 or -1. */
int mb_store_prepare_dir(const char *dir, char **error_r);
/* Takes the account's exclusive lock, waiting for it.  Returns 0 and an
 * fd for mb_store_unlock(), or -1 with *error_r malloc'd. */
int mb_store_lock(const struct mb_account *acct, int *fd_r, char **error_r);
/* Releases the lock; *fd becomes -1.  Safe on -1. */
void mb_store_unlock(int *fd);
/* <state_dir>/<account><suffix>, malloc'd. */
char *mb_store_path(const struct mb_account *acct, const char *suffix);

#endif
