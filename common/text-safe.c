/* SPDX-License-Identifier: MIT */
#include <config.h>

#include "text-safe.h"

#include <string.h>

/* The code point of the UTF-8 sequence at s (n bytes, 2..4), if shown as
 * it is; -1 when it must be escaped. */
static long
ts_code_point(const unsigned char *s, size_t n)
{
	unsigned long cp = s[0] & (n == 2 ? 0x1f : n == 3 ? 0x0f : 0x07);
	size_t i;

	for (i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return -1;
		cp = (cp << 6) | (s[i] & 0x3f);
	}
	if ((n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) ||
	    cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return -1;
	return (long)cp;
}

/* Characters that are valid but change how the rest of a line looks or
 * where it ends: C1 controls, bidirectional controls, U+2028/U+2029. */
static bool
ts_unsafe(long cp)
{
	return (cp >= 0x80 && cp <= 0x9f) || cp == 0x061c ||
	       cp == 0x200e || cp == 0x200f ||
	       (cp >= 0x2028 && cp <= 0x202e) ||
	       (cp >= 0x2066 && cp <= 0x2069);
}

/* Length of the UTF-8 character at s shown as it is (2..4), or 0. */
static size_t
ts_utf8_len(const unsigned char *s, size_t len)
{
	size_t n;
	long cp;

	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		n = 2;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		n = 3;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		n = 4;
	else
		return 0;
	if (len < n)
		return 0;
	cp = ts_code_point(s, n);
	return cp < 0 || ts_unsafe(cp) ? 0 : n;
}

/* One displayable piece of src at *i: copies it to piece, advances *i. */
static size_t
ts_piece(const char *src, size_t len, size_t *i, char piece[5])
{
	static const char hex[] = "0123456789ABCDEF";
	const unsigned char *s = (const unsigned char *)src + *i;
	size_t n;

	if (s[0] >= 0x20 && s[0] < 0x7f) {
		piece[0] = (char)s[0];
		*i += 1;
		return 1;
	}
	n = ts_utf8_len(s, len - *i);
	if (n > 0) {
		memcpy(piece, s, n);
		*i += n;
		return n;
	}
	piece[0] = '\\';
	piece[1] = 'x';
	piece[2] = hex[s[0] >> 4];
	piece[3] = hex[s[0] & 0xf];
	*i += 1;
	return 4;
}

size_t
mb_text_safe(char *buf, size_t size, const char *src, size_t len,
	     bool ellipsis)
{
	size_t i = 0, o = 0, mark = ellipsis ? 3 : 0;
	char piece[5];

	if (size == 0)
		return 0;
	while (i < len) {
		size_t at = i, n = ts_piece(src, len, &i, piece);

		if (o + n + mark > size - 1) {
			/* Does the rest fit without the ellipsis? */
			size_t j = at, need = 0;

			while (j < len && o + need <= size - 1)
				need += ts_piece(src, len, &j, piece);
			if (o + need <= size - 1) {
				i = at;
				while (i < len) {
					n = ts_piece(src, len, &i, piece);
					memcpy(buf + o, piece, n);
					o += n;
				}
			} else if (o + mark <= size - 1) {
				memcpy(buf + o, "...", mark);
				o += mark;
			}
			break;
		}
		memcpy(buf + o, piece, n);
		o += n;
	}
	buf[o] = '\0';
	return o;
}
