/* SPDX-License-Identifier: MIT */
#include <config.h>

#include "provider-text.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "text-safe.h"
#include "xalloc.h"

#define MB_REDACT_MIN_TAIL 8
/* Distinct text offsets followed while matching one occurrence: each
 * byte of a secret has a few encodings of different lengths, and the
 * candidates converge after a byte or two. */
#define MB_REDACT_MAX_CAND 32
#define MB_REDACT_FORMS 8

/*
 * The ways one byte c of a secret can appear in a provider's text:
 * itself; form-encoded (RFC 3986 %XX, '+' for a space, %25XX when the
 * form was encoded twice); JSON-escaped (\/ \" \\ \b \f \n \r \t, and
 * \u00XX).  Fills forms[] and returns their number.
 */
static size_t
redact_forms(unsigned char c, char forms[MB_REDACT_FORMS][8])
{
	static const char json_short[] = "\"/\\\b\f\n\r\t";
	static const char json_letter[] = "\"/\\bfnrt";
	const char *j;
	size_t n = 0;

	forms[n][0] = (char)c;
	forms[n++][1] = '\0';
	if (c == ' ')
		memcpy(forms[n++], "+", 2);
	snprintf(forms[n++], 8, "%%%02X", c);
	snprintf(forms[n++], 8, "%%25%02X", c);
	if (c < 0x80)
		snprintf(forms[n++], 8, "\\u%04X", c);
	j = c != '\0' ? memchr(json_short, c, sizeof(json_short) - 1) : NULL;
	if (j != NULL) {
		forms[n][0] = '\\';
		forms[n][1] = json_letter[j - json_short];
		forms[n++][2] = '\0';
	}
	return n;
}

/* How form matches at t (hex digits and the 'u' of \u in any case): 0
 * not at all; 1 in full, *len_r bytes; 2 the text ends inside the form
 * (a truncated echo), *len_r bytes up to the end. */
static int
redact_form_at(const char *t, const char *form, size_t *len_r)
{
	size_t i;

	for (i = 0; form[i] != '\0'; i++) {
		if (t[i] == '\0') {
			*len_r = i;
			return i > 0 ? 2 : 0;
		}
		if (i == 0 ? t[i] != form[i] :
		    tolower((unsigned char)t[i]) !=
		    tolower((unsigned char)form[i]))
			return 0;
	}
	*len_r = i;
	return 1;
}

static void
redact_add(size_t *cand, size_t *n, size_t off)
{
	size_t i;

	for (i = 0; i < *n; i++) {
		if (cand[i] == off)
			return;
	}
	if (*n < MB_REDACT_MAX_CAND)
		cand[(*n)++] = off;
}

/* Length of an occurrence of the secret (n bytes, each in any of its
 * forms) starting at t: the whole secret, or at least its first
 * MB_REDACT_MIN_TAIL bytes when they run to the end of the text (a
 * truncated echo).  0 if none. */
static size_t
redact_match(const char *t, const unsigned char *secret, size_t n)
{
	size_t cur[MB_REDACT_MAX_CAND], next[MB_REDACT_MAX_CAND];
	size_t n_cur = 1, n_next, i, k, f, nf, len, best = 0;
	char forms[MB_REDACT_FORMS][8];
	int how;

	cur[0] = 0;
	for (i = 0; i < n && n_cur > 0; i++) {
		nf = redact_forms(secret[i], forms);
		n_next = 0;
		for (k = 0; k < n_cur; k++) {
			for (f = 0; f < nf; f++) {
				how = redact_form_at(t + cur[k], forms[f],
						     &len);
				if (how == 0)
					continue;
				if (t[cur[k] + len] == '\0' &&
				    i + 1 >= MB_REDACT_MIN_TAIL &&
				    cur[k] + len > best)
					best = cur[k] + len;
				if (how == 1)
					redact_add(next, &n_next,
						   cur[k] + len);
			}
		}
		memcpy(cur, next, n_next * sizeof(next[0]));
		n_cur = n_next;
	}
	for (k = 0; k < n_cur; k++) {
		if (cur[k] > best)
			best = cur[k];
	}
	return best;
}

void
mb_redact(char *text, const char *secret)
{
	size_t n, len;
	char *p;

	/* Shorter secrets are not real ones; masking them would garble
	 * the message. */
	if (text == NULL || secret == NULL ||
	    strlen(secret) < MB_REDACT_MIN_TAIL)
		return;
	n = strlen(secret);
	for (p = text; *p != '\0'; p++) {
		len = redact_match(p, (const unsigned char *)secret, n);
		if (len > 0) {
			memset(p, '*', len);
			p += len - 1;
		}
	}
}

void
mb_redact_secrets(char *text, const char *const *secrets, size_t n)
{
	size_t i;

	if (secrets == NULL)
		return;
	for (i = 0; i < n; i++)
		mb_redact(text, secrets[i]);
}

char *
mb_provider_text(const char *s, size_t max, const char *const *secrets,
		 size_t n)
{
	char *masked, *out;

	if (s == NULL)
		return NULL;
	/* Masked first, whole: a secret's prefix left at the end of a cut
	 * text is still found.  Escaping leaves visible ASCII, hence every
	 * token, as it is. */
	masked = mb_xstrdup(s);
	mb_redact_secrets(masked, secrets, n);
	out = mb_xmalloc(max + 1);
	mb_text_safe(out, max + 1, masked, strlen(masked), false);
	free(masked);
	return out;
}

void
mb_provider_text_set(char **field, size_t max, const char *const *secrets,
		     size_t n)
{
	char *clean = mb_provider_text(*field, max, secrets, n);

	free(*field);
	*field = clean;
}
