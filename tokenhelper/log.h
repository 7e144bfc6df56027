/* SPDX-License-Identifier: MIT */
#ifndef MB_LOG_H
#define MB_LOG_H

/* The helper's logging: stderr for one-shot commands, syslog (facility
 * mail) for `mailbearer serve`.  One line per event, made safe by
 * common/text-safe.h (control, bidirectional and line separator
 * characters and bytes that are not UTF-8 as \xNN, cut with "..." at
 * 2 KiB), and a message that starts "account NAME: " does not
 * repeat that prefix after a later ": ".  Levels are syslog's (LOG_ERR,
 * LOG_WARNING, LOG_NOTICE, LOG_INFO, LOG_DEBUG); LOG_DEBUG is shown only
 * when verbose.
 * Callers never pass tokens or secrets: messages name accounts, files,
 * URLs and provider error codes only. */

#include <stdbool.h>
#include <syslog.h>

/* ident: program name shown in each line (copied).  Safe to call again
 * (e.g. serve switching to syslog after parsing its options). */
void mb_log_init(const char *ident, bool to_syslog, bool verbose);
void mb_log(int level, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
bool mb_log_verbose(void);
/* Standard error lines start with an ISO 8601 UTC time
 * ("2026-11-28T19:57:53.123Z mailbearer: ...") from now on, unless
 * standard error is the systemd journal's stream (it stamps lines
 * itself).  `serve` turns this on; one-shot commands talk to a person. */
void mb_log_timestamps(bool on);
/* For a fatal error in any thread, before _exit(): "IDENT: error: MSG" on
 * standard error with one write(2), and to syslog when serving.  Takes no
 * lock and allocates nothing of its own. */
void mb_log_fatal(const char *msg);

#endif
