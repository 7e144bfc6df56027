/* SPDX-License-Identifier: MIT */
#ifndef MB_TEXT_SAFE_H
#define MB_TEXT_SAFE_H

/* The one rule for showing text that someone else wrote (a provider's
 * reply, a server's challenge, a user name): what reaches a terminal, a
 * log line, a notification or a JSON document goes through this. */

#include <stdbool.h>
#include <stddef.h>

/* Copies src[0..len) into buf (size > 0, always NUL-terminated) so that
 * it is safe to show: printable ASCII and valid UTF-8 are kept; every
 * other byte becomes "\xNN".  Escaped are the control characters (C0,
 * DEL, and C1: U+0080..U+009F), the bidirectional controls (U+061C,
 * U+200E, U+200F, U+202A..U+202E, U+2066..U+2069), the line and
 * paragraph separators U+2028 and U+2029, and bytes that are not UTF-8
 * (overlong forms, surrogates, beyond U+10FFFF, a cut sequence).  What
 * does not fit is cut between two characters, and "..." ends the text
 * when ellipsis is set (otherwise the cut is silent, so that a secret's
 * prefix at the end can still be found and masked).  Returns the length
 * written. */
size_t mb_text_safe(char *buf, size_t size, const char *src, size_t len,
		    bool ellipsis);

#endif
