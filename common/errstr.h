/* SPDX-License-Identifier: MIT */
#ifndef MB_ERRSTR_H
#define MB_ERRSTR_H

/* strerror() for threads, whichever strerror_r the C library has: GNU
 * (returns a string, glibc with _GNU_SOURCE) or XSI/POSIX (fills the
 * buffer, returns 0; musl, the BSDs).  configure's AC_FUNC_STRERROR_R
 * picks the branch (STRERROR_R_CHAR_P). */

#include <stddef.h>

/* The text for err: buf (size bytes, always NUL-terminated when size > 0)
 * or a static string of the C library.  Never NULL; "unknown error" when
 * the C library has no text or the buffer is too small for it. */
const char *mb_strerror(int err, char *buf, size_t size);

#endif
