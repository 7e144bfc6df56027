/* SPDX-License-Identifier: MIT */
#ifndef MB_STORE_FILES_H
#define MB_STORE_FILES_H

/* store = files: the state in <state_dir>/<account>.json (store.h says
 * what each call does; these are its file versions, called by store.c). */

#include "store.h"

enum mb_store_read_result mb_files_read(const struct mb_account *acct,
					bool move_corrupt,
					struct mb_state *st, char **error_r);
enum mb_store_read_result mb_files_read_seen(const struct mb_account *acct,
					     struct mb_state *st,
					     struct mb_store_seen *seen,
					     char **error_r);
bool mb_files_seen_current(const struct mb_account *acct,
			   const struct mb_store_seen *seen);
int mb_files_reserve(const struct mb_account *acct,
		     const struct mb_state *cur, struct mb_store_tmp *t,
		     char **error_r);
int mb_files_commit(const struct mb_account *acct, struct mb_store_tmp *t,
		    struct mb_state *st, char **error_r);
int mb_files_write(const struct mb_account *acct, struct mb_state *st,
		   char **error_r);
int mb_files_recover(const struct mb_account *acct, char **error_r);
int mb_files_lock(const struct mb_account *acct, int *fd_r, char **error_r);
void mb_files_unlock(int *fd);
/* The state file and its leftovers (temporary files, corrupt files moved
 * aside: they may hold tokens) removed, the directory synced: how many,
 * or -1 with *error_r. */
int mb_files_remove(const struct mb_account *acct, char **error_r);

#endif
