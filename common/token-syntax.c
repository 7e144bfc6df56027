/* SPDX-License-Identifier: MIT */
#include <config.h>

#include "token-syntax.h"

#include <string.h>

#ifdef __SSE2__
#include <emmintrin.h>
#endif
/* x86-64 with GCC or Clang: an AVX2 path chosen at run time (the build
 * targets baseline x86-64, so SSE2 is all the compiler may assume).
 * -DMB_TS_NO_AVX2 leaves it out, to test the SSE2 path on any machine. */
#if defined(__x86_64__) && defined(__GNUC__) && !defined(MB_TS_NO_AVX2)
#define TS_AVX2 1
#include <immintrin.h>
#endif

/* The grammar and the reasons for the limit are in token-syntax.h. */

static bool
ts_b64char(unsigned char c)
{
	return (unsigned char)((c | 0x20) - 'a') < 26 ||
	       (unsigned char)(c - '-') <= '9' - '-' ||	/* - . / 0-9 */
	       c == '_' || c == '~' || c == '+';
}

#ifdef __SSE2__
/* 0xff in each byte of s[0..16) that is a b64token character other than
 * '='.  A range [lo, hi] is one add and one signed compare: adding
 * 0x80 - lo moves lo to -128, so the range is what stays below
 * -128 + (hi - lo + 1). */
static inline __m128i
ts_range(__m128i v, char lo, char hi)
{
	return _mm_cmplt_epi8(_mm_add_epi8(v, _mm_set1_epi8(
				      (char)(0x80 - lo))),
			      _mm_set1_epi8((char)(-128 + (hi - lo + 1))));
}

static inline __m128i
ts_b64_block(const char *s)
{
	__m128i v = _mm_loadu_si128((const __m128i *)s);
	/* | 0x20 folds 'A'-'Z' onto 'a'-'z' and nothing else onto it */
	__m128i ok = ts_range(_mm_or_si128(v, _mm_set1_epi8(0x20)), 'a',
			      'z');

	ok = _mm_or_si128(ok, ts_range(v, '-', '9'));	/* - . / 0-9 */
	ok = _mm_or_si128(ok, _mm_cmpeq_epi8(v, _mm_set1_epi8('_')));
	ok = _mm_or_si128(ok, _mm_cmpeq_epi8(v, _mm_set1_epi8('~')));
	return _mm_or_si128(ok, _mm_cmpeq_epi8(v, _mm_set1_epi8('+')));
}
#endif

#ifdef TS_AVX2
/* Nibble tables of the b64token characters other than '=': byte c is one
 * when lo[c & 15] & hi[c >> 4] is not 0.  hi gives each high nibble 2..7
 * a bit of its own (0 for the rest: controls, space, non-ASCII); lo[l]
 * has the bits of the high nibbles h for which (h << 4 | l) is one. */
#define TS_LO_NIBBLES 0x2a, 0x3e, 0x3e, 0x3e, 0x3e, 0x3e, 0x3e, 0x3e, \
	0x3e, 0x3e, 0x3c, 0x15, 0x14, 0x15, 0x35, 0x1d
#define TS_HI_NIBBLES 0, 0, 0x01, 0x02, 0x04, 0x08, 0x10, 0x20, \
	0, 0, 0, 0, 0, 0, 0, 0

/* Not 0 in each byte of s[0..32) that is a b64token character other
 * than '=', 0 in the others: two table look-ups (vpshufb). */
__attribute__((target("avx2"))) static inline __m256i
ts_b64_avx2(const char *s)
{
	const __m256i lo = _mm256_setr_epi8(TS_LO_NIBBLES, TS_LO_NIBBLES);
	const __m256i hi = _mm256_setr_epi8(TS_HI_NIBBLES, TS_HI_NIBBLES);
	const __m256i nib = _mm256_set1_epi8(0x0f);
	__m256i v = _mm256_loadu_si256((const __m256i *)s);

	return _mm256_and_si256(
		_mm256_shuffle_epi8(lo, _mm256_and_si256(v, nib)),
		_mm256_shuffle_epi8(hi, _mm256_and_si256(
					    _mm256_srli_epi16(v, 4), nib)));
}

/* Bit k set when s[k] (k < 32) is not a b64token character. */
__attribute__((target("avx2"))) static inline unsigned
ts_bad_avx2(const char *s)
{
	return (unsigned)_mm256_movemask_epi8(_mm256_cmpeq_epi8(
		ts_b64_avx2(s), _mm256_setzero_si256()));
}

/* mb_token_b64_prefix for len >= 32: 128 bytes a step (one test of the
 * bytewise minimum of four blocks), then 32, then the last 32 bytes,
 * which may overlap bytes already known to be b64 characters. */
__attribute__((target("avx2"))) static size_t
ts_b64_prefix_avx2(const char *s, size_t len)
{
	size_t i = 0;
	unsigned bad;

	for (; len - i >= 128; i += 128) {
		__m256i m = _mm256_min_epu8(
			_mm256_min_epu8(ts_b64_avx2(s + i),
					ts_b64_avx2(s + i + 32)),
			_mm256_min_epu8(ts_b64_avx2(s + i + 64),
					ts_b64_avx2(s + i + 96)));

		if (_mm256_movemask_epi8(_mm256_cmpeq_epi8(
			    m, _mm256_setzero_si256())) != 0)
			break;
	}
	for (; len - i >= 32; i += 32) {
		bad = ts_bad_avx2(s + i);
		if (bad != 0)
			return i + (size_t)__builtin_ctz(bad);
	}
	if (i == len)
		return len;
	bad = ts_bad_avx2(s + len - 32);
	return bad != 0 ? len - 32 + (size_t)__builtin_ctz(bad) : len;
}
#endif

/* The length of the longest prefix of s[0..len) made of b64token
 * characters (without '=').  The one per-byte pass over a token: with
 * AVX2 (chosen at run time) 32 bytes at a time by table look-ups, else
 * with SSE2 (every x86-64) 16 bytes at a time, the rest byte by byte. */
size_t
mb_token_b64_prefix(const char *s, size_t len)
{
	size_t i = 0;

#ifdef TS_AVX2
	if (len >= 32 && __builtin_cpu_supports("avx2"))
		return ts_b64_prefix_avx2(s, len);
#endif
#ifdef __SSE2__
	for (; len - i >= 32; i += 32) {
		__m128i ok = _mm_and_si128(ts_b64_block(s + i),
					   ts_b64_block(s + i + 16));

		if (_mm_movemask_epi8(ok) != 0xffff)
			break;
	}
	for (; len - i >= 16; i += 16) {
		unsigned mask = (unsigned)_mm_movemask_epi8(
			ts_b64_block(s + i));

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
