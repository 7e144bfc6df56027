#include <config.h>

#include "token-syntax.h"

#include <string.h>

#ifdef __SSE2__
#include <emmintrin.h>
#endif

/* The grammar and the reasons for the limit are in token-syntax.h. */

static bool
ts_b64char(unsigned char c)
{
	return (unsigned char)((c | 0x20) - 'a') < 26 ||
	       (unsigned char)(c - '-') <= '9' - '-' ||	/* - . / 0-9 */
	       c == '_' || c == '~' || c == '+';
}

/* The length of the longest prefix of s[0..len) made of b64token
 * characters (without '=').  The one per-byte pass over a token: with
 * SSE2 (every x86-64) 16 bytes at a time, the rest byte by byte. */
size_t
mb_token_b64_prefix(const char *s, size_t len)
{
	size_t i = 0;

#ifdef __SSE2__
	const __m128i x20 = _mm_set1_epi8(0x20);
	const __m128i a1 = _mm_set1_epi8('a' - 1), z1 = _mm_set1_epi8('z' + 1);
	const __m128i d1 = _mm_set1_epi8('-' - 1), n1 = _mm_set1_epi8('9' + 1);
	const __m128i us = _mm_set1_epi8('_'), ti = _mm_set1_epi8('~');
	const __m128i pl = _mm_set1_epi8('+');

	for (; len - i >= 16; i += 16) {
		__m128i v = _mm_loadu_si128((const __m128i *)(s + i));
		__m128i f = _mm_or_si128(v, x20);
		/* signed compares: a byte >= 0x80 is below every range */
		__m128i ok = _mm_and_si128(_mm_cmpgt_epi8(f, a1),
					   _mm_cmplt_epi8(f, z1));
		unsigned mask;

		ok = _mm_or_si128(ok, _mm_and_si128(_mm_cmpgt_epi8(v, d1),
						    _mm_cmplt_epi8(v, n1)));
		ok = _mm_or_si128(ok, _mm_cmpeq_epi8(v, us));
		ok = _mm_or_si128(ok, _mm_cmpeq_epi8(v, ti));
		ok = _mm_or_si128(ok, _mm_cmpeq_epi8(v, pl));
		mask = (unsigned)_mm_movemask_epi8(ok);
		if (mask != 0xffff)
			return i + (size_t)__builtin_ctz(~mask);
	}
#endif
	while (i < len && ts_b64char((unsigned char)s[i]))
		i++;
	return i;
}

/* One pass: the b64token prefix, its '=' padding, and only when
 * something else follows, the rest byte by byte (not a b64token). */
enum mb_token_syntax
mb_token_syntax(const char *s, size_t len)
{
	size_t i, j;

	if (s == NULL || len == 0)
		return MB_TOKEN_EMPTY;
	if (len > MB_TOKEN_MAX)
		return MB_TOKEN_TOO_LONG;
	i = mb_token_b64_prefix(s, len);
	for (j = i; j < len && s[j] == '='; j++)
		;
	if (j == len)
		return i > 0 ? MB_TOKEN_B64TOKEN : MB_TOKEN_VCHAR;
	/* s[0..i) holds no ^A: the separator wins over the other
	 * faults wherever it is, so look for it from the first fault. */
	for (j = i; j < len; j++) {
		unsigned char c = (unsigned char)s[j];

		if (c > 0x20 && c < 0x7f)
			continue;
		if (memchr(s + j, '\001', len - j) != NULL)
			return MB_TOKEN_SEPARATOR;
		return c >= 0x80 ? MB_TOKEN_NON_ASCII : MB_TOKEN_CONTROL;
	}
	return MB_TOKEN_VCHAR;
}

bool
mb_token_valid(const char *s, size_t len)
{
	enum mb_token_syntax syn = mb_token_syntax(s, len);

	return syn == MB_TOKEN_B64TOKEN || syn == MB_TOKEN_VCHAR;
}

bool
mb_token_valid_str(const char *s)
{
	size_t len = 0;

	if (s == NULL)
		return false;
	while (len <= MB_TOKEN_MAX && s[len] != '\0')
		len++;
	return mb_token_valid(s, len);
}

const char *
mb_token_syntax_why(enum mb_token_syntax syn)
{
	switch (syn) {
	case MB_TOKEN_B64TOKEN:
	case MB_TOKEN_VCHAR:
		return NULL;
	case MB_TOKEN_EMPTY:
		return "is empty";
	case MB_TOKEN_TOO_LONG:
		return "is longer than 16384 bytes";
	case MB_TOKEN_SEPARATOR:
		return "contains the ^A (0x01) separator of the protocol";
	case MB_TOKEN_CONTROL:
		return "contains a space or a control character, so it is "
		       "not an OAuth2 access token";
	case MB_TOKEN_NON_ASCII:
	default:
		return "contains a non-ASCII byte, so it is not an OAuth2 "
		       "access token";
	}
}
