/* SPDX-License-Identifier: MIT */
#ifndef MB_BOUNDED_WRITER_H
#define MB_BOUNDED_WRITER_H

/* A bounded writer with snprintf semantics, for pure code that builds
 * text in a caller's buffer (the plugin allocates through libsasl2, so
 * nothing here allocates): len counts every byte asked for, buf receives
 * what fits, and is always NUL-terminated when size > 0. */

#include <stddef.h>

struct mb_bw {
	char *buf;
	size_t size;
	size_t len;
};

void mb_bw_put(struct mb_bw *w, const char *s, size_t n);
void mb_bw_puts(struct mb_bw *w, const char *s);
/* NUL-terminates and returns the length asked for (which may exceed what
 * fitted, as snprintf's does). */
size_t mb_bw_finish(struct mb_bw *w);

#endif
