/* SPDX-License-Identifier: MIT */
#ifndef MB_NOTIFY_H
#define MB_NOTIFY_H

/* `notify = COMMAND` (mailbearer.conf(5)): run through /bin/sh -c when an
 * account starts or stops needing attention, with MAILBEARER_ACCOUNT,
 * MAILBEARER_EVENT and MAILBEARER_REASON in an environment that holds
 * nothing else but PATH and HOME.  Events:
 *   needs-authorize  the provider refused the refresh token;
 *   client-refused   the provider refused the OAuth client (config);
 *   failing          refreshes have failed for notify_after seconds;
 *   recovered        a token was obtained again after one of those.
 * The transition is found against <state_dir>/<account>.notify (the last
 * event sent, since when refreshes fail, when each event was last sent),
 * under a lock of that file, so that serve and one-shot commands notify
 * once between them; an event is recorded there only once its command
 * has started.  One notification per account and event per hour at most:
 * a transition held back by that rule is not consumed, the account's
 * state is sent when the hour is over if it still differs from the last
 * word sent (serve: a timer; one-shot commands: the first run after it).
 * The command gets MB_NOTIFY_TIMEOUT seconds, then its process group is
 * killed; its failure is logged and changes nothing else.
 *
 * serve runs NOTIFY_MAX_RUNNING commands at once; the other accounts
 * wait their turn, each with its latest state only (so the queue is no
 * longer than the account list). */

#include <stdbool.h>

#include "conf.h"
#include "token.h"

#define MB_NOTIFY_TIMEOUT 30
#define MB_NOTIFY_RATE 3600
/* serve: how long running commands get when serve stops (ms). */
#define MB_NOTIFY_STOP_GRACE_MS 2000

/* After a token attempt for a: status and error as the token core
 * returned them (stale: the refresh failed but a still-valid token was
 * served).  Reads the state file for needs_authorize.  Does nothing when
 * the account has no notify command.  With detach (one-shot commands),
 * the command runs in a process of its own that outlives the caller and
 * logs to syslog; otherwise (serve) in a thread of this process, queued
 * behind the running ones or until the hourly rule lets it go.  Never
 * waits for the command.  Thread-safe; serve calls it from its refresh
 * workers. */
void mb_notify_observe(const struct mb_account *a, enum mb_token_status st,
		       bool stale, const char *error, bool detach);

/* serve, once, when it stops, after its refresh workers: no command
 * starts any more (what waits is not recorded as sent, so the next run
 * sends it; later mb_notify_observe calls without detach are ignored);
 * the commands still running after grace_ms have their process groups
 * killed, and are reaped.  Returns after that (at most grace_ms + 5 s). */
void mb_notify_stop(int grace_ms);

#endif
