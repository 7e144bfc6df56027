/* SPDX-License-Identifier: MIT */
#include <config.h>

#include <ctype.h>

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "account-name.h"
#include "base64.h"
#include "initial-response.h"
#include "ipc-proto.h"
#include "tap.h"
#include "text-safe.h"
#include "token-syntax.h"

/* Table-driven tests of what the plugin and the helper share in common/:
 * base64, the initial responses, the account-name rule, the token
 * syntax and the escaping of text others wrote. */

#define S(x) x, sizeof(x) - 1

/* base64url decoding accepts one text per byte string and nothing that
 * is not one. */
static void
test_base64url_decode_strict(void)
{
	static const char *const bad[] = {
		"Z",		/* a length no encoding has */
		"Zh",		/* "f" with its unused bits set */
		"Zm9=",		/* "fo" with padding */
		"Zg==",
		"+/+/",		/* the standard alphabet */
		"Zm 9v",	/* white space */
		"Zm9v\n",
	};
	char buf[8];
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		tap_ok(mb_base64url_decode(buf, sizeof(buf), bad[i],
					   strlen(bad[i])) == (size_t)-1,
		       "base64url decode refuses bad text %zu", i);
	tap_ok(mb_base64url_decode(buf, 2, "Zm9v", 4) == (size_t)-1,
	       "base64url decode: a short buffer is refused");
	tap_ok(mb_base64url_decode(buf, 3, "Zm9v", 4) == 3 &&
	       memcmp(buf, "foo", 3) == 0,
	       "base64url decode: an exact buffer is enough");
	tap_ok(mb_base64url_decode(buf, 0, "", 0) == 0,
	       "base64url decode: empty in, empty out");
	tap_is_int((long long)mb_base64url_decoded_len(6), 4,
		   "mb_base64url_decoded_len(6)");
	tap_ok(mb_base64url_decoded_len(5) == (size_t)-1,
	       "mb_base64url_decoded_len(5): no such encoding");
}

/* RFC 4648 section 10 test vectors, and base64url without padding. */
static void
test_base64(void)
{
	static const struct {
		const char *in;
		const char *std;
		const char *url;
	} v[] = {
		{ "", "", "" },
		{ "f", "Zg==", "Zg" },
		{ "fo", "Zm8=", "Zm8" },
		{ "foo", "Zm9v", "Zm9v" },
		{ "foob", "Zm9vYg==", "Zm9vYg" },
		{ "fooba", "Zm9vYmE=", "Zm9vYmE" },
		{ "foobar", "Zm9vYmFy", "Zm9vYmFy" },
		{ "\xfb\xff\xbf", "+/+/", "-_-_" },
	};
	char buf[64], small[4], name[64];
	size_t i, n;

	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		size_t len = strlen(v[i].in);

		snprintf(name, sizeof(name), "base64 vector %zu", i);
		n = mb_base64_encode(buf, sizeof(buf), v[i].in, len);
		tap_is_str(buf, v[i].std, name);
		tap_is_int((long long)n, (long long)strlen(v[i].std),
			   "  its length");
		tap_is_int((long long)mb_base64_len(len), (long long)n,
			   "  mb_base64_len");
		n = mb_base64url_encode(buf, sizeof(buf), v[i].in, len);
		tap_is_str(buf, v[i].url, "  base64url");
		tap_is_int((long long)mb_base64url_len(len),
			   (long long)strlen(v[i].url), "  mb_base64url_len");
		tap_is_int((long long)n, (long long)strlen(v[i].url),
			   "  its length");
		n = mb_base64url_decode(buf, sizeof(buf), v[i].url,
					strlen(v[i].url));
		tap_is_mem(buf, n == (size_t)-1 ? 0 : n, v[i].in, len,
			   "  base64url decoded back");
	}
	test_base64url_decode_strict();
	/* Too small: nothing encoded, "" and the length still returned. */
	memset(small, 'x', sizeof(small));
	n = mb_base64_encode(small, sizeof(small), "foo", 3);
	tap_is_int((long long)n, 4, "short buffer: length returned");
	tap_is_str(small, "", "short buffer: empty string");
	tap_is_int((long long)mb_base64_encode(NULL, 0, "foob", 4), 8,
		   "size query");
}

/* What `mailbearer token --format` prints: the base64 of the initial
 * response the plugin sends (pinned by tests/integration/test-token.sh too). */
static void
test_formatted(void)
{
	char msg[128], out[192];
	size_t n;

	n = mb_ir_xoauth2(msg, sizeof(msg), S("alice@example.com"),
			  S("ya29.tok"));
	mb_base64_encode(out, sizeof(out), msg, n);
	tap_is_str(out, "dXNlcj1hbGljZUBleGFtcGxlLmNvbQFhdXRoPUJlYXJlciB5YT"
		   "I5LnRvawEB", "XOAUTH2 initial response, base64");
	n = mb_ir_oauthbearer(msg, sizeof(msg), S("a,b=c"), NULL, 0,
			      S("tok"));
	tap_is_mem(msg, n, S("n,a=a=2Cb=3Dc,\001auth=Bearer tok\001\001"),
		   "OAUTHBEARER without host and port");
}

static void
test_account_name(void)
{
	static const struct {
		const char *s;
		size_t len;
		bool ok;
	} v[] = {
		{ S("work"), true },
		{ S("alice@example.com"), true },
		{ S("a.b_c-d+e%f"), true },
		{ S("_x"), true },
		{ S("@x"), true },
		{ S("-work"), false },	/* an option on a command line */
		{ S(".hidden"), false },
		{ S(".."), false },
		{ S("a/b"), false },
		{ S("a b"), false },
		{ S("a:b"), false },
		{ S("caf\xc3\xa9"), false },
		{ S("a\0b"), false },
		{ S(""), false },
	};
	char big[MB_ACCOUNT_NAME_MAX + 2];
	size_t i;

	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		tap_ok(mb_account_name_valid(v[i].s, v[i].len) == v[i].ok,
		       "account name %zu (\"%s\") %s", i, v[i].s,
		       v[i].ok ? "accepted" : "refused");
		tap_ok(mb_ipc_valid_account(v[i].s, v[i].len) == v[i].ok,
		       "  the socket agrees");
	}
	memset(big, 'a', sizeof(big));
	tap_ok(mb_account_name_valid(big, MB_ACCOUNT_NAME_MAX),
	       "128 bytes accepted");
	tap_ok(!mb_account_name_valid(big, MB_ACCOUNT_NAME_MAX + 1),
	       "129 bytes refused");
	tap_ok(!mb_ipc_valid_account(big, MB_ACCOUNT_NAME_MAX + 1),
	       "129 bytes refused by the socket too");
	tap_ok(!mb_account_name_valid(NULL, 0), "NULL refused");
}

/* The classification before the one-pass scan (byte by byte), kept as
 * the reference that the vectorised mb_token_syntax must agree with. */
static enum mb_token_syntax
ref_token_syntax(const char *s, size_t len)
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
		else if (padding || !(isalnum(c) || strchr("-._~+/", c)))
			strict = false;
	}
	if (s[0] == '=')
		strict = false;
	return strict ? MB_TOKEN_B64TOKEN : MB_TOKEN_VCHAR;
}

/* Every byte value at every position of tokens of 40, 64, 97, 130 and
 * 300 bytes (the 16-, 32- and 128-byte blocks of the fast paths, their
 * boundaries, the overlapping last block and the tail), alone, with '='
 * padding after it, and with a ^A later on. */
static void
test_token_scan(void)
{
	static const size_t lens[] = { 40, 64, 97, 130, 300 };
	char t[301];
	size_t k, len, pos, bad_syn = 0, bad_prefix = 0, n = 0;
	int c, variant;

	for (k = 0; k < sizeof(lens) / sizeof(lens[0]); k++) {
		len = lens[k];
		for (pos = 0; pos < len; pos++) {
			for (c = 0; c < 256; c++) {
				for (variant = 0; variant < 3; variant++) {
					size_t want_prefix;

					memset(t, 'Q', len);
					t[pos] = (char)c;
					if (variant == 1 && pos + 2 < len)
						memset(t + pos + 1, '=',
						       len - 1 - pos);
					if (variant == 2 && pos + 1 < len)
						t[len - 1] = '\001';
					n++;
					if (mb_token_syntax(t, len) !=
					    ref_token_syntax(t, len))
						bad_syn++;
					want_prefix = 0;
					while (want_prefix < len &&
					       t[want_prefix] != '=' &&
					       ref_token_syntax(
						       t + want_prefix, 1) ==
					       MB_TOKEN_B64TOKEN)
						want_prefix++;
					if (mb_token_b64_prefix(t, len) !=
					    want_prefix)
						bad_prefix++;
				}
			}
		}
	}
	tap_ok(bad_syn == 0, "one-pass scan agrees with the byte-by-byte "
	       "reference (%zu of %zu differ)", bad_syn, n);
	tap_ok(bad_prefix == 0, "b64 prefix length right (%zu of %zu "
	       "differ)", bad_prefix, n);
	tap_ok(mb_token_b64_prefix("", 0) == 0, "empty: prefix 0");
	tap_ok(mb_token_b64_prefix("ab=", 3) == 2, "prefix stops at '='");
	tap_ok(mb_token_syntax("====", 4) == MB_TOKEN_VCHAR,
	       "padding alone is not a b64token");
	tap_ok(mb_token_syntax("a \001", 3) == MB_TOKEN_SEPARATOR,
	       "the separator wins over an earlier space");
}

static void
test_token_syntax(void)
{
	static const struct {
		const char *s;
		size_t len;
		enum mb_token_syntax want;
	} v[] = {
		{ S("ya29.a0AfH6SM~x+/y"), MB_TOKEN_B64TOKEN },
		{ S("abc=="), MB_TOKEN_B64TOKEN },
		{ S("eyJ0.eyJz.c2ln"), MB_TOKEN_B64TOKEN },
		{ S("=abc"), MB_TOKEN_VCHAR },
		{ S("ab=c"), MB_TOKEN_VCHAR },
		{ S("tok!en$"), MB_TOKEN_VCHAR },
		{ S("\"quoted\""), MB_TOKEN_VCHAR },
		{ S(""), MB_TOKEN_EMPTY },
		{ S("a\001b"), MB_TOKEN_SEPARATOR },
		{ S("a b"), MB_TOKEN_CONTROL },
		{ S("a\tb"), MB_TOKEN_CONTROL },
		{ S("a\nb"), MB_TOKEN_CONTROL },
		{ S("a\0b"), MB_TOKEN_CONTROL },
		{ S("a\177b"), MB_TOKEN_CONTROL },
		{ S("caf\xc3\xa9"), MB_TOKEN_NON_ASCII },
	};
	char *big;
	size_t i;

	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		enum mb_token_syntax syn = mb_token_syntax(v[i].s, v[i].len);
		bool valid = v[i].want == MB_TOKEN_B64TOKEN ||
			     v[i].want == MB_TOKEN_VCHAR;

		tap_ok(syn == v[i].want, "token %zu classified as %d", i,
		       (int)v[i].want);
		tap_ok(mb_token_valid(v[i].s, v[i].len) == valid,
		       "  valid: %d", valid);
		tap_ok(mb_ipc_valid_token(v[i].s, v[i].len) == valid,
		       "  the socket agrees");
		tap_ok((mb_token_syntax_why(syn) == NULL) == valid,
		       "  a reason exactly when refused");
	}
	big = malloc(MB_TOKEN_MAX + 2);
	if (big == NULL)
		tap_skip_all("out of memory");
	memset(big, 'a', MB_TOKEN_MAX + 1);
	big[MB_TOKEN_MAX + 1] = '\0';
	tap_ok(mb_token_valid(big, MB_TOKEN_MAX), "16384 bytes accepted");
	tap_is_int(mb_token_syntax(big, MB_TOKEN_MAX + 1), MB_TOKEN_TOO_LONG,
		   "16385 bytes refused");
	tap_ok(!mb_token_valid_str(big), "16385 bytes refused (string)");
	big[MB_TOKEN_MAX] = '\0';
	tap_ok(mb_token_valid_str(big), "16384 bytes accepted (string)");
	tap_ok(!mb_token_valid_str(NULL), "NULL refused");
	free(big);
}

/* The one rule for text others wrote (common/text-safe.h). */
static void
test_text_safe(void)
{
	static const struct {
		const char *in;
		size_t len, size;
		bool ellipsis;
		const char *out;
		const char *name;
	} v[] = {
		{ S("plain text ~"), 64, true, "plain text ~", "ASCII kept" },
		{ S("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80"), 64, true,
		  "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80",
		  "valid UTF-8 kept" },
		{ S("a\x1b[31mb\x07" "c\x7f"), 64, true,
		  "a\\x1B[31mb\\x07c\\x7F", "ESC, BEL, DEL escaped" },
		{ S("one\r\nfake line"), 64, true,
		  "one\\x0D\\x0Afake line", "CR/LF escaped: one line" },
		{ S("x\xc2\x85y\xc2\x9bz"), 64, true,
		  "x\\xC2\\x85y\\xC2\\x9Bz", "C1 (NEL, CSI) escaped" },
		{ S("\xe2\x80\xae" "evil"), 64, true, "\\xE2\\x80\\xAEevil",
		  "U+202E escaped" },
		{ S("\xe2\x80\xaa\xe2\x81\xa6\xe2\x81\xa9"), 64, true,
		  "\\xE2\\x80\\xAA\\xE2\\x81\\xA6\\xE2\\x81\\xA9",
		  "U+202A, U+2066, U+2069 escaped" },
		{ S("\xe2\x80\x8e\xe2\x80\x8f\xd8\x9c"), 64, true,
		  "\\xE2\\x80\\x8E\\xE2\\x80\\x8F\\xD8\\x9C",
		  "U+200E, U+200F, U+061C escaped" },
		{ S("a\xe2\x80\xa8" "b\xe2\x80\xa9" "c"), 64, true,
		  "a\\xE2\\x80\\xA8b\\xE2\\x80\\xA9c",
		  "U+2028, U+2029 escaped" },
		{ S("\xe2\x80\xa7\xe2\x81\xaa"), 64, true,
		  "\xe2\x80\xa7\xe2\x81\xaa", "their neighbours kept" },
		{ S("\xff\xfe\xc0\xaf\xed\xa0\x80\xf4\x90\x80\x80"), 64, true,
		  "\\xFF\\xFE\\xC0\\xAF\\xED\\xA0\\x80\\xF4\\x90\\x80\\x80",
		  "invalid, overlong, surrogate, > U+10FFFF escaped" },
		{ S("cut \xe2\x82"), 64, true, "cut \\xE2\\x82",
		  "a cut sequence escaped" },
		{ "n\0ul", 4, 64, true, "n\\x00ul", "NUL escaped" },
		{ S("abcdefghij"), 8, true, "abcd...", "cut with ..." },
		{ S("abcdefghij"), 8, false, "abcdefg", "cut silently" },
		{ S("ab\x01" "cdefgh"), 6, false, "ab",
		  "an escape is not split" },
		{ S("abc\xc3\xa9"), 5, false, "abc",
		  "a character is not split" },
		{ S("abcdefg"), 8, true, "abcdefg", "just fits: no ..." },
	};
	char buf[64];
	size_t i, n;

	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		n = mb_text_safe(buf, v[i].size, v[i].in, v[i].len,
				 v[i].ellipsis);
		tap_is_str(buf, v[i].out, v[i].name);
		tap_ok(n == strlen(buf), "  its length");
	}
	tap_ok(mb_text_safe(buf, 0, "x", 1, true) == 0, "size 0: nothing");
}

int
main(void)
{
	test_base64();
	test_formatted();
	test_account_name();
	test_token_syntax();
	test_token_scan();
	test_text_safe();
	return tap_done();
}
