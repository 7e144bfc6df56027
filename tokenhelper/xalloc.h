#ifndef MB_XALLOC_H
#define MB_XALLOC_H

/* Never-failing allocation for the helper (not the plugin): on exhaustion
 * the helper prints one line and exits with EX_OSERR (71); a half-done
 * refresh never loses anything because state is replaced atomically. */

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
