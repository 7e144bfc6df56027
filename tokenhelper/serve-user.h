/* SPDX-License-Identifier: MIT */
#ifndef MB_SERVE_USER_H
#define MB_SERVE_USER_H

/*
 * `mailbearer serve --user NAME`: started as root (an init script, runit,
 * a container's entry point), serve binds its sockets, gives them their
 * group (postfix) and writes its pid file as root, then runs as NAME for
 * good, like Postfix's master and Dovecot: supplementary groups of NAME
 * (initgroups), then setgid, then setuid, and a check that root cannot
 * be regained.  Only then is the configuration read and the state touched.
 */

#include <stdbool.h>
#include <sys/types.h>

#include "conf.h"

struct mb_serve_user {
	uid_t uid;
	gid_t gid;
	char name[64];
	bool drop;	/* root now: drop to uid/gid */
};

/* Looks NAME up before anything is opened.  As root: NAME may not be
 * root.  Not root: NAME must be the user running serve (nothing to drop).
 * 0, or -1 (logged). */
int mb_serve_user_lookup(const char *name, struct mb_serve_user *u);
/* Drops root for good when u->drop (nothing otherwise).  0 or -1
 * (logged): serve must then stop. */
int mb_serve_user_drop(const struct mb_serve_user *u);
/* Serve runs as root without --user: the first account whose state
 * directory belongs to another user makes it refuse to start (0 when
 * none, or not root; -1 logged, naming the --user to give). */
int mb_serve_user_check_root(const struct mb_config *cfg);

#endif
