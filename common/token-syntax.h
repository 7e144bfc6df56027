/* SPDX-License-Identifier: MIT */
#ifndef MB_TOKEN_SYNTAX_H
#define MB_TOKEN_SYNTAX_H

/* The one definition of what a token is, for the plugin, the socket
 * protocol and the helper (access and refresh tokens alike):
 *
 *   token    = 1*16384 VCHAR			; %x21-7E
 *   b64token = 1*( ALPHA / DIGIT /		; RFC 6750 section 2.1
 *                  "-" / "." / "_" / "~" / "+" / "/" ) *"="
 *
 * A token is sent, stored and carried over the socket when it matches
 * token.  It is "strict" when it also matches b64token: some providers'
 * opaque tokens do not, so that is only reported (a warning in the
 * plugin), unless mailbearer_strict_token asks the plugin to refuse them.
 * A space, a control character (^A is the separator of both SASL
 * messages) or a non-ASCII byte would change the message a token is put
 * in, so they are never accepted.
 *
 * MB_TOKEN_MAX: Google's access tokens are a few hundred bytes and
 * Microsoft's JWTs a few KB; 16 KB leaves room for the largest claim sets
 * while a socket line (MB_IPC_LINE_MAX) still carries the token twice.
 *
 * Pure code: no allocation, no I/O. */

#include <stdbool.h>
#include <stddef.h>

#define MB_TOKEN_MAX 16384

enum mb_token_syntax {
	MB_TOKEN_B64TOKEN = 0,	/* a token, and a b64token */
	MB_TOKEN_VCHAR,		/* a token, not a b64token */
	MB_TOKEN_EMPTY,
	MB_TOKEN_TOO_LONG,	/* more than MB_TOKEN_MAX bytes */
	MB_TOKEN_SEPARATOR,	/* contains ^A (0x01) */
	MB_TOKEN_CONTROL,	/* a space or another control character */
	MB_TOKEN_NON_ASCII,	/* a byte >= 0x80 */
};

/* Classifies s[0..len) (s may be NULL when len is 0) in one pass over
 * its bytes.  Reads at most MB_TOKEN_MAX + 1 bytes. */
enum mb_token_syntax mb_token_syntax(const char *s, size_t len);

/* The length of the longest prefix of s[0..len) made of b64token
 * characters other than '=' (ALPHA / DIGIT / "-" / "." / "_" / "~" /
 * "+" / "/"); mb_token_syntax's one pass over the bytes. */
size_t mb_token_b64_prefix(const char *s, size_t len);

/* True when s[0..len) is a token (MB_TOKEN_B64TOKEN or MB_TOKEN_VCHAR). */
bool mb_token_valid(const char *s, size_t len);

/* The same for a NUL-terminated string (NULL: false); never reads past
 * MB_TOKEN_MAX + 1 bytes. */
bool mb_token_valid_str(const char *s);

/* What is wrong, as a static, secret-free sentence fragment that follows
 * "the access token ..." ("is empty"); NULL for the two valid kinds. */
const char *mb_token_syntax_why(enum mb_token_syntax syn);

#endif
