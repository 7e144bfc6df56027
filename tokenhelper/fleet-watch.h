/* SPDX-License-Identifier: MIT */
#ifndef MB_FLEET_WATCH_H
#define MB_FLEET_WATCH_H

/* serve on a fleet (store = etcd): one thread that follows every
 * account's state in the cluster, so that a token another host obtained
 * is served here without a refresh of our own, and that says when the
 * cluster stops and starts answering.  It reads every state under
 * PREFIX "accounts/" (a linearizable range: it also tells whether the
 * cluster has a quorum), then watches from the revision after; when the
 * stream ends (at the latest after 5 minutes) it reads and watches again
 * (a failed stream: the next endpoint, a bounded back-off).  Each
 * state put is opened (sealed for its account and "state") and decoded
 * here; the loop gets the access tokens, never the rest.  A value that
 * does not open is logged once per account and never handed on.  The
 * loop thread owns the object; the thread touches only what it posts. */

#include <stdbool.h>

#include "conf.h"
#include "token.h"

/* While the cluster does not answer, it is asked again this often at
 * most (seconds): the back-off doubles from 1 s up to it. */
#define MB_FLEET_WATCH_RETRY_MAX 10

enum mb_fleet_event_kind {
	MB_FLEET_STATE,		/* account's state holds access */
	MB_FLEET_DOWN,		/* no quorum or no endpoint: error says */
	MB_FLEET_UP,		/* a linearizable read succeeded */
};

struct mb_fleet_event {
	struct mb_fleet_event *next;
	enum mb_fleet_event_kind kind;
	char *account;		/* STATE */
	struct mb_access access;	/* STATE: the token (secret) */
	char *error;		/* DOWN: secret-free */
};

struct mb_fleet_watch;

/* Starts the thread for cfg's fleet (cfg->fleet, which must outlive the
 * object: the caller keeps the configuration until
 * mb_fleet_watch_free()).  NULL (logged) if the thread cannot start. */
struct mb_fleet_watch *mb_fleet_watch_start(const struct mb_config *cfg);
/* Readable when events wait, or the thread ended. */
int mb_fleet_watch_fd(const struct mb_fleet_watch *w);
/* The events, oldest first (a list; mb_fleet_events_free()); clears
 * the fd.  *ended_r: the thread has ended (after mb_fleet_watch_stop()
 * or mb_cancel_all()). */
struct mb_fleet_event *mb_fleet_watch_take(struct mb_fleet_watch *w,
					   bool *ended_r);
void mb_fleet_events_free(struct mb_fleet_event *list);
/* Asks for a fresh look at the cluster now (a refresh failed: is it the
 * cluster?): the stream is left, the states read again (DOWN or UP). */
void mb_fleet_watch_probe(struct mb_fleet_watch *w);
/* Asks the thread to end (within about a second); does not wait. */
void mb_fleet_watch_stop(struct mb_fleet_watch *w);
/* Stops, joins the thread, frees; *w becomes NULL.  NULL-safe. */
void mb_fleet_watch_free(struct mb_fleet_watch **w);

#endif
