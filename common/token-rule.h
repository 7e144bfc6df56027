/* SPDX-License-Identifier: MIT */
#ifndef MB_TOKEN_RULE_H
#define MB_TOKEN_RULE_H

/* The token-source rule (doc/plugin.md, "Token source"): what the
 * password a mail client hands to libsasl2 means to XOAUTH2 and
 * OAUTHBEARER.  One rule for the plugin (plugin/token-source.c) and for
 * `mailbearer doctor` (which reads Postfix's password tables):
 *
 *   ""  (or absent)            ask the token helper for the login's account
 *   "mailbearer:"              the same
 *   "mailbearer:<account>"     ask the token helper for <account>
 *   "bearer:<token>"           <token> is the access token, whatever it
 *                              looks like (checked later against the
 *                              token syntax, common/token-syntax.h)
 *   an RFC 6750 b64token of at least MB_TS_SHAPE_MIN characters
 *                              the access token itself (Google's ya29.,
 *                              JWTs, Microsoft's opaque tokens: hundreds
 *                              of characters or more)
 *   anything else              a password: not for these mechanisms
 *                              (a string longer than MB_TOKEN_MAX is
 *                              taken as a token, for the token check
 *                              to refuse in its own words)
 *
 * Trailing CR, LF, spaces and tabs (what a PassCmd or a password file
 * leaves behind) are dropped first, in every case.  The prefixes are
 * matched exactly (lower case, at the very start).
 *
 * Why MB_TS_SHAPE_MIN = 32: no provider's app password reaches it
 * (Google, Microsoft, Yahoo, Fastmail: 16 letters; Apple: 19 with
 * hyphens; Zoho: 12), while every access token we know of does.  A
 * shorter token is given as "bearer:<token>".
 *
 * Pure code: no allocation, no I/O. */

#include <stdbool.h>
#include <stddef.h>

#define MB_TS_HELPER_PREFIX "mailbearer:"
#define MB_TS_BEARER_PREFIX "bearer:"
#define MB_TS_SHAPE_MIN 32

/* The rule in words, for messages. */
#define MB_TS_SHAPE_RULE \
	"an RFC 6750 b64token of at least 32 characters"

enum mb_ts_kind {
	MB_TS_TOKEN,	/* the password is the access token */
	MB_TS_HELPER,	/* ask the token helper */
	MB_TS_PASSWORD,	/* a password, not a token */
};

/* Applies the rule to password[0..len) (password may be NULL when len is
 * 0).  *value_r, *value_len_r: for MB_TS_TOKEN the token, for
 * MB_TS_HELPER the account (length 0: the login's), both inside password
 * and trimmed; NULL and 0 for MB_TS_PASSWORD. */
enum mb_ts_kind mb_ts_classify(const char *password, size_t len,
			       const char **value_r, size_t *value_len_r);

/* The same, and *b64token_r true when the rule's own scan found the
 * token (MB_TS_TOKEN) to be an RFC 6750 b64token within MB_TOKEN_MAX, so
 * that the caller need not scan it again (the plugin's password path). */
enum mb_ts_kind mb_ts_classify_ex(const char *password, size_t len,
				  const char **value_r, size_t *value_len_r,
				  bool *b64token_r);

/* Length of s[0..len) once trailing CR, LF, spaces and tabs are
 * dropped. */
size_t mb_ts_trim(const char *s, size_t len);

#endif
