/* SPDX-License-Identifier: MIT */
#ifndef MB_XALLOC_H
#define MB_XALLOC_H

/*
 * Never-failing allocation for the helper (not the plugin).  The one
 * out-of-memory policy, for every command and every thread of `serve`
 * (its event loop, token cache and refresh workers too: no caller checks
 * for NULL, and tests/lint/test-style.sh fails on any other allocation
 * call in tokenhelper/):
 * one line (mb_log_fatal: write(2) to stderr, and syslog when serving),
 * then _exit(EX_OSERR) (71).  Never exit(): atexit handlers and stdio
 * flushing would run while other threads still use what they tear down.
 * Nothing is lost by dying there: state files are replaced atomically
 * (a refresh whose new state was not yet renamed into place is redone;
 * its reserved temporary file is recovered or removed at the next run),
 * and systemd's Restart=on-failure starts serve again.  Trying to carry
 * on in a process that cannot allocate would only fail later, elsewhere,
 * with less said.
 */

#include <stddef.h>

/* All results are malloc'd and owned by the caller (free()). */
void *mb_xmalloc(size_t n);
void *mb_xcalloc(size_t n, size_t size);
void *mb_xrealloc(void *p, size_t n);
char *mb_xstrdup(const char *s);
/* NULL in, NULL out. */
char *mb_xstrdup_or_null(const char *s);
char *mb_xstrndup(const char *s, size_t n);
char *mb_xasprintf(const char *fmt, ...)
	__attribute__((format(printf, 1, 2)));
/* Wipes the string (strlen bytes) then frees it and sets *s to NULL.
 * NULL-safe. */
void mb_free_secret(char **s);

#endif
