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
 * event, since when refreshes fail, when each event was last sent), under
 * a lock of that file, so that serve and one-shot commands notify once
 * between them.  One notification per account and event per hour at most;
 * the command gets MB_NOTIFY_TIMEOUT seconds, then its process group is
 * killed; its failure is logged and changes nothing else. */

#include <stdbool.h>

#include "conf.h"
#include "token.h"

#define MB_NOTIFY_TIMEOUT 30
#define MB_NOTIFY_RATE 3600

/* After a token attempt for a: status and error as the token core
 * returned them (stale: the refresh failed but a still-valid token was
 * served).  Reads the state file for needs_authorize.  Does nothing when
 * the account has no notify command.  With detach (one-shot commands),
 * the command runs in a process of its own that outlives the caller and
 * logs to syslog; otherwise (serve) in a thread of this process.  Never
 * waits for the command. */
void mb_notify_observe(const struct mb_account *a, enum mb_token_status st,
		       bool stale, const char *error, bool detach);

#endif
