/* SPDX-License-Identifier: MIT */
#include <config.h>

#include "token-rule.h"

#include <stdbool.h>
#include <string.h>

#include "token-syntax.h"

size_t
mb_ts_trim(const char *s, size_t len)
{
	while (len > 0 && (s[len - 1] == '\n' || s[len - 1] == '\r' ||
			   s[len - 1] == ' ' || s[len - 1] == '\t'))
		len--;
	return len;
}

/* s[0..len) starts with the NUL-terminated prefix p. */
static bool
tr_prefixed(const char *s, size_t len, const char *p)
{
	size_t plen = strlen(p);

	return len >= plen && memcmp(s, p, plen) == 0;
}

enum mb_ts_kind
mb_ts_classify(const char *password, size_t len, const char **value_r,
	       size_t *value_len_r)
{
	bool b64token;

	return mb_ts_classify_ex(password, len, value_r, value_len_r,
				 &b64token);
}

enum mb_ts_kind
mb_ts_classify_ex(const char *password, size_t len, const char **value_r,
		  size_t *value_len_r, bool *b64token_r)
{
	size_t plen;

	*b64token_r = false;
	*value_r = NULL;
	*value_len_r = 0;
	len = password == NULL ? 0 : mb_ts_trim(password, len);
	if (len == 0)
		return MB_TS_HELPER;
	if (tr_prefixed(password, len, MB_TS_HELPER_PREFIX)) {
		plen = strlen(MB_TS_HELPER_PREFIX);
		*value_r = password + plen;
		*value_len_r = len - plen;
		return MB_TS_HELPER;
	}
	if (tr_prefixed(password, len, MB_TS_BEARER_PREFIX)) {
		plen = strlen(MB_TS_BEARER_PREFIX);
		*value_r = password + plen;
		*value_len_r = len - plen;
		return MB_TS_TOKEN;
	}
	/* Longer than any token: the token check says so, in those words. */
	if (len > MB_TOKEN_MAX || (len >= MB_TS_SHAPE_MIN &&
	    mb_token_syntax(password, len) == MB_TOKEN_B64TOKEN)) {
		*b64token_r = len <= MB_TOKEN_MAX;
		*value_r = password;
		*value_len_r = len;
		return MB_TS_TOKEN;
	}
	return MB_TS_PASSWORD;
}
