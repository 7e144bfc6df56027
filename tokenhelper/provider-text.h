/* SPDX-License-Identifier: MIT */
#ifndef MB_PROVIDER_TEXT_H
#define MB_PROVIDER_TEXT_H

/* Text a provider (or anyone but us) wrote, on its way to the state
 * file, `status`, a log line, a notification or a client: every form of
 * the secrets in play masked, then made safe to show by the one rule of
 * common/text-safe.h, and bounded. */

#include <stddef.h>

/* Masks with '*', in place, every occurrence of secret in text, and a tail
 * of text that is the start of secret (8 bytes or more of it): a provider
 * may echo what it received in its (truncated) error_description.  Each
 * byte of the secret is found in any of its forms, mixed: raw,
 * form-encoded (%XX in either case, '+' for a space, %25XX when encoded
 * twice) and JSON-escaped (\/, \", \\, \n..., \u00XX).  Secrets
 * shorter than 8 bytes are left alone.  NULL-safe. */
void mb_redact(char *text, const char *secret);
/* mb_redact() for each of the n secrets (NULL entries are skipped):
 * every message that may carry a provider's text goes through this with
 * the refresh token, the client secret and any access token in play
 * before it reaches a log, the state file, `status` or a client. */
void mb_redact_secrets(char *text, const char *const *secrets, size_t n);

/* s with the n secrets (NULL entries skipped) masked, then escaped by
 * mb_text_safe() and cut (silently) to at most max bytes: a malloc'd
 * string, or NULL when s is NULL. */
char *mb_provider_text(const char *s, size_t max, const char *const *secrets,
		       size_t n);
/* mb_provider_text() of *field, in place of it. */
void mb_provider_text_set(char **field, size_t max,
			  const char *const *secrets, size_t n);

#endif
