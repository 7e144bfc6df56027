#include <config.h>

#include "token-syntax.h"

#include <string.h>

/* The grammar and the reasons for the limit are in token-syntax.h. */

static bool
ts_b64char(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_' ||
	       c == '~' || c == '+' || c == '/';
}

enum mb_token_syntax
mb_token_syntax(const char *s, size_t len)
{
	bool strict = true, padding = false;
	size_t i;

	if (s == NULL || len == 0)
		return MB_TOKEN_EMPTY;
	if (len > MB_TOKEN_MAX)
		return MB_TOKEN_TOO_LONG;
	if (memchr(s, '\001', len) != NULL)
		return MB_TOKEN_SEPARATOR;
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c <= 0x20 || c == 0x7f)
			return MB_TOKEN_CONTROL;
		if (c >= 0x80)
			return MB_TOKEN_NON_ASCII;
		if (c == '=')
			padding = true;
		else if (padding || !ts_b64char(c))
			strict = false;
	}
	if (s[0] == '=')
		strict = false;
	return strict ? MB_TOKEN_B64TOKEN : MB_TOKEN_VCHAR;
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
