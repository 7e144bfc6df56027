#ifndef MB_LOG_H
#define MB_LOG_H

/* The helper's logging: stderr for one-shot commands, syslog (facility
 * mail) for `mailbearer serve`.  Levels are syslog's (LOG_ERR, LOG_WARNING,
 * LOG_NOTICE, LOG_INFO, LOG_DEBUG); LOG_DEBUG is shown only when verbose.
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
/* For a fatal error in any thread, before _exit(): "IDENT: error: MSG" on
 * standard error with one write(2), and to syslog when serving.  Takes no
 * lock and allocates nothing of its own. */
void mb_log_fatal(const char *msg);

#endif
