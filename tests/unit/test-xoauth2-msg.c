/* SPDX-License-Identifier: MIT */
/* Table-driven tests of plugin/xoauth2-msg.c: the initial responses of
 * both mechanisms, the checks on user and token, the port of
 * ipremoteport, the error-challenge parser (valid provider JSON,
 * truncated, oversized, non-JSON, nested, unicode, NUL bytes, binary),
 * the error sentence and the sanitiser. */
#include <config.h>

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "initial-response.h"
#include "tap.h"
#include "token-rule.h"
#include "token-syntax.h"
#include "xoauth2-msg.h"

#define S(x) x, sizeof(x) - 1

/* ---- initial responses (common/initial-response.c) ---- */

static void
test_build(void)
{
	static const struct {
		const char *user;
		const char *token;
		const char *want;
	} xo[] = {
		{ "alice@example.com", "ya29.abc",
		  "user=alice@example.com\001auth=Bearer ya29.abc\001\001" },
		{ "a", "t", "user=a\001auth=Bearer t\001\001" },
		/* Nothing is escaped in XOAUTH2. */
		{ "a,b=c", "t=", "user=a,b=c\001auth=Bearer t=\001\001" },
	};
	static const struct {
		const char *user;
		const char *host;
		unsigned port;
		const char *want;
	} ob[] = {
		/* RFC 7628 section 4.1 example shape. */
		{ "user@example.com", "server.example.com", 143,
		  "n,a=user@example.com,\001host=server.example.com\001"
		  "port=143\001auth=Bearer tok\001\001" },
		{ "u", NULL, 0, "n,a=u,\001auth=Bearer tok\001\001" },
		{ "u", "h", 0, "n,a=u,\001host=h\001auth=Bearer tok\001\001" },
		{ "u", NULL, 587, "n,a=u,\001port=587\001auth=Bearer tok"
		  "\001\001" },
		/* RFC 5801 saslname: ',' -> =2C, '=' -> =3D */
		{ "a,b=c", "h", 25, "n,a=a=2Cb=3Dc,\001host=h\001port=25\001"
		  "auth=Bearer tok\001\001" },
		{ "u", "", 70000, "n,a=u,\001auth=Bearer tok\001\001" },
		{ "u", NULL, 65535, "n,a=u,\001port=65535\001auth=Bearer tok"
		  "\001\001" },
		{ "u", NULL, 1, "n,a=u,\001port=1\001auth=Bearer tok\001\001" },
		/* the digit counts' boundaries */
		{ "u", NULL, 9, "n,a=u,\001port=9\001auth=Bearer tok\001\001" },
		{ "u", NULL, 10, "n,a=u,\001port=10\001auth=Bearer tok"
		  "\001\001" },
		{ "u", NULL, 99, "n,a=u,\001port=99\001auth=Bearer tok"
		  "\001\001" },
		{ "u", NULL, 100, "n,a=u,\001port=100\001auth=Bearer tok"
		  "\001\001" },
		{ "u", NULL, 1000, "n,a=u,\001port=1000\001auth=Bearer tok"
		  "\001\001" },
		{ "u", NULL, 9999, "n,a=u,\001port=9999\001auth=Bearer tok"
		  "\001\001" },
		{ "u", NULL, 10000, "n,a=u,\001port=10000\001auth=Bearer tok"
		  "\001\001" },
		{ ",", NULL, 0, "n,a==2C,\001auth=Bearer tok\001\001" },
		{ "==", NULL, 0, "n,a==3D=3D,\001auth=Bearer tok\001\001" },
		{ "", NULL, 0, "n,a=,\001auth=Bearer tok\001\001" },
	};
	char buf[256], small[8];
	size_t i, n;

	for (i = 0; i < sizeof(xo) / sizeof(xo[0]); i++) {
		n = mb_ir_xoauth2(buf, sizeof(buf), xo[i].user,
					strlen(xo[i].user), xo[i].token,
					strlen(xo[i].token));
		tap_is_mem(buf, n, xo[i].want, strlen(xo[i].want),
			   "XOAUTH2 initial response");
		tap_is_int((long long)mb_ir_xoauth2(NULL, 0, xo[i].user,
			   strlen(xo[i].user), xo[i].token,
			   strlen(xo[i].token)), (long long)n,
			   "XOAUTH2 size query");
	}
	for (i = 0; i < sizeof(ob) / sizeof(ob[0]); i++) {
		n = mb_ir_oauthbearer(buf, sizeof(buf), ob[i].user,
					    strlen(ob[i].user), ob[i].host,
					    ob[i].port, "tok", 3);
		tap_is_mem(buf, n, ob[i].want, strlen(ob[i].want),
			   "OAUTHBEARER initial response");
		tap_is_int((long long)mb_ir_oauthbearer_len(ob[i].user,
			   strlen(ob[i].user), ob[i].host, ob[i].port, 3),
			   (long long)n, "OAUTHBEARER length without building");
	}
	for (i = 0; i < sizeof(xo) / sizeof(xo[0]); i++)
		tap_is_int((long long)mb_ir_xoauth2_len(strlen(xo[i].user),
			   strlen(xo[i].token)), (long long)strlen(xo[i].want),
			   "XOAUTH2 length without building");
	/* A short buffer gets a NUL-terminated prefix, the full length is
	 * still returned. */
	memset(small, 'x', sizeof(small));
	n = mb_ir_xoauth2(small, sizeof(small), "alice", 5, "tok", 3);
	tap_is_int((long long)n, 28, "short buffer: full length returned");
	tap_is_str(small, "user=al", "short buffer: NUL-terminated prefix");
}

/* Every buffer size from 0 to the length + 2, for both builders: the
 * one-pass path (room for the whole message) and the truncating one
 * agree: a NUL-terminated prefix of the message, its full length
 * returned, nothing written beyond size. */
static void
test_build_sizes(void)
{
	static const char user[] = "a,b=c,=";
	static const char token[] = "eyJ0eXAi.abc-_~+/==";
	static const char *hosts[] = { NULL, "", "imap.example.com" };
	static const unsigned ports[] = { 0, 7, 993, 65535, 65536 };
	char full[256], buf[260];
	size_t h, p, n, size, bad = 0, cases = 0;
	int mech;

	for (mech = 0; mech < 2; mech++) {
		for (h = 0; h < 3; h++) {
			for (p = 0; p < 5; p++) {
				if (mech == 0 && (h > 0 || p > 0))
					continue;
				n = mech == 0 ?
				    mb_ir_xoauth2(full, sizeof(full), S(user),
						  S(token)) :
				    mb_ir_oauthbearer(full, sizeof(full),
						      S(user), hosts[h],
						      ports[p], S(token));
				for (size = 0; size <= n + 2; size++) {
					size_t got, keep = size > 0 ?
						(size - 1 < n ? size - 1 : n) :
						0;

					memset(buf, 'x', sizeof(buf));
					got = mech == 0 ?
					    mb_ir_xoauth2(size ? buf : NULL,
							  size, S(user),
							  S(token)) :
					    mb_ir_oauthbearer(
						    size ? buf : NULL, size,
						    S(user), hosts[h],
						    ports[p], S(token));
					cases++;
					if (got != n ||
					    (size > 0 &&
					     (memcmp(buf, full, keep) != 0 ||
					      buf[keep] != '\0')) ||
					    buf[size] != 'x')
						bad++;
				}
			}
		}
	}
	tap_ok(bad == 0, "every buffer size: one-pass and truncating "
	       "builders agree (%zu of %zu differ)", bad, cases);
}

/* ---- checks ---- */

/* Every byte value at every position of 9-byte names, alone and with a
 * ^A later on: mb_xo_check_user_ascii gives the reasons of the two-pass
 * reference (^A anywhere first, then any control) and says whether the
 * name is printable ASCII. */
static void
test_check_user_ascii(void)
{
	char u[9];
	size_t pos, k, bad = 0, n = 0;
	int c, variant;

	for (pos = 0; pos < sizeof(u); pos++) {
		for (c = 0; c < 256; c++) {
			for (variant = 0; variant < 2; variant++) {
				const char *want = NULL, *got;
				bool ascii, want_ascii = true;

				memset(u, 'u', sizeof(u));
				u[pos] = (char)c;
				if (variant == 1 && pos + 1 < sizeof(u))
					u[sizeof(u) - 1] = '\001';
				for (k = 0; k < sizeof(u); k++) {
					unsigned char b = (unsigned char)u[k];

					if (b < 0x20 || b == 0x7f)
						want = "a control character";
					if (b < 0x20 || b >= 0x7f)
						want_ascii = false;
				}
				if (memchr(u, '\001', sizeof(u)) != NULL)
					want = "^A (0x01)";
				got = mb_xo_check_user_ascii(u, sizeof(u),
							     &ascii);
				n++;
				if ((want == NULL) != (got == NULL) ||
				    (want != NULL &&
				     strstr(got, want) == NULL) ||
				    (got == NULL && ascii != want_ascii) ||
				    got != mb_xo_check_user(u, sizeof(u)))
					bad++;
			}
		}
	}
	tap_ok(bad == 0, "user check in one pass agrees with the reference "
	       "(%zu of %zu differ)", bad, n);
}

static void
test_checks(void)
{
	static const struct {
		const char *s;
		size_t len;
		const char *why;	/* substring, NULL = accepted */
		int strict;
	} tok[] = {
		{ S("ya29.a0AfH6SMC-x_y~z+/="), NULL, 1 },
		{ S("eyJhbGciOi.eyJhdWQiOi.c2lnbmF0dXJl"), NULL, 1 },
		{ S("abc=="), NULL, 1 },
		{ S("abc=d"), NULL, 0 },	/* '=' only at the end */
		{ S("=abc"), NULL, 0 },
		{ S("opaque!token#"), NULL, 0 },
		{ S(""), "is empty", 0 },
		{ S("ab\001cd"), "^A (0x01)", 0 },
		{ S("hunter 2"), "space or a control", 0 },
		{ S("ab\ncd"), "space or a control", 0 },
		{ S("ab\0cd"), "space or a control", 0 },
		{ S("p\xc3\xa4ssword"), "non-ASCII", 0 },
	};
	static const struct {
		const char *s;
		size_t len;
		const char *why;
	} user[] = {
		{ S("alice@example.com"), NULL },
		{ S("j\xc3\xb6rg@example.de"), NULL },
		{ S(""), "is empty" },
		{ S("al\001ice"), "^A (0x01)" },
		{ S("al\rice"), "control character" },
	};
	static const struct {
		const char *s;
		size_t len;
		size_t want;
	} trim[] = {
		{ S("tok\n"), 3 }, { S("tok\r\n"), 3 }, { S("tok \t\n"), 3 },
		{ S("tok"), 3 }, { S("\n"), 0 }, { S("t o"), 3 },
	};
	char *big;
	bool strict;
	size_t i;

	for (i = 0; i < sizeof(tok) / sizeof(tok[0]); i++) {
		const char *why = mb_xo_check_token(tok[i].s, tok[i].len,
						    &strict);

		if (tok[i].why == NULL) {
			tap_ok(why == NULL, "token %zu accepted", i);
			tap_is_int(strict, tok[i].strict, "b64token or not");
		} else {
			tap_ok(why != NULL && strstr(why, tok[i].why) != NULL,
			       "token %zu refused: %s", i, tok[i].why);
		}
	}
	big = malloc(MB_TOKEN_MAX + 1);
	if (big != NULL) {
		memset(big, 'a', MB_TOKEN_MAX + 1);
		tap_ok(mb_xo_check_token(big, MB_TOKEN_MAX, &strict) ==
		       NULL, "a token of the maximum size is accepted");
		tap_ok(mb_xo_check_token(big, MB_TOKEN_MAX + 1, &strict) !=
		       NULL, "a larger token is refused");
		tap_ok(mb_xo_check_token(big, 16385, &strict) != NULL,
		       "a token of 16385 bytes is refused, as by the socket "
		       "and the helper");
		free(big);
	}
	for (i = 0; i < sizeof(user) / sizeof(user[0]); i++) {
		const char *why = mb_xo_check_user(user[i].s, user[i].len);

		if (user[i].why == NULL)
			tap_ok(why == NULL, "user %zu accepted", i);
		else
			tap_ok(why != NULL &&
			       strstr(why, user[i].why) != NULL,
			       "user %zu refused: %s", i, user[i].why);
	}
	for (i = 0; i < sizeof(trim) / sizeof(trim[0]); i++)
		tap_is_int((long long)mb_ts_trim(trim[i].s, trim[i].len),
			   (long long)trim[i].want, "token trim");
	test_check_user_ascii();
	tap_ok(mb_xo_host_ok(S("imap.gmail.com")), "host name accepted");
	tap_ok(mb_xo_host_ok(S("[::1]")), "IPv6 literal accepted");
	tap_ok(!mb_xo_host_ok(S("evil\001host")), "host with ^A refused");
	tap_ok(!mb_xo_host_ok(S("")), "empty host refused");
}

static void
test_port(void)
{
	static const struct {
		const char *s;
		unsigned want;
	} port[] = {
		{ "127.0.0.1;143", 143 }, { "[::1];993", 993 },
		{ "::1;993", 993 }, { "[::1]:993", 993 },
		{ "10.0.0.1:25", 25 }, { "10.0.0.1", 0 }, { "::1", 0 },
		{ "1.2.3.4;0", 0 }, { "1.2.3.4;65536", 0 },
		{ "1.2.3.4;65535", 65535 }, { "1.2.3.4;", 0 },
		{ "1.2.3.4;14x", 0 }, { "", 0 }, { "1.2.3.4;123456", 0 },
	};
	size_t i;

	for (i = 0; i < sizeof(port) / sizeof(port[0]); i++) {
		char name[64];

		snprintf(name, sizeof(name), "port of \"%s\"", port[i].s);
		tap_is_int(mb_xo_parse_port(port[i].s, strlen(port[i].s)),
			   port[i].want, name);
	}
	tap_is_int(mb_xo_parse_port(NULL, 0), 0, "port of NULL");
}

/* ---- the error challenge ---- */

struct pe_case {
	const char *name;
	const char *in;
	size_t len;
	int is_json;
	const char *status;
	const char *schemes;
	const char *scope;
	const char *openid;
	const char *raw;	/* exact raw copy when !is_json */
};

static const struct pe_case pe_cases[] = {
	{ "Gmail documentation",
	  S("{\"status\":\"401\",\"schemes\":\"bearer mac\","
	    "\"scope\":\"https://mail.google.com/\"}"),
	  1, "401", "bearer mac", "https://mail.google.com/", "", NULL },
	{ "Gmail observed 400",
	  S("{\"status\":\"400\",\"schemes\":\"Bearer\","
	    "\"scope\":\"https://mail.google.com/\"}"),
	  1, "400", "Bearer", "https://mail.google.com/", "", NULL },
	{ "Dovecot XOAUTH2",
	  S("{\"status\":\"401\",\"schemes\":\"bearer\",\"scope\":\"mail\"}"),
	  1, "401", "bearer", "mail", "", NULL },
	{ "Dovecot OAUTHBEARER", S("{\"status\":\"invalid_token\"}"),
	  1, "invalid_token", "", "", "", NULL },
	{ "RFC 7628 example",
	  S("{\n  \"status\":\"invalid_token\",\n  \"scope\":\"example_scope"
	    "\",\n  \"openid-configuration\":\"https://example.com/.well-"
	    "known/openid-configuration\"\n}"),
	  1, "invalid_token", "", "example_scope",
	  "https://example.com/.well-known/openid-configuration", NULL },
	{ "Microsoft-ish, nested objects and arrays",
	  S("{\"error\":{\"code\":\"AADSTS50173\",\"details\":[1,-2.5e3,"
	    "{\"a\":null,\"b\":[true,false,[]]},\"x\"]},\"status\":\"401\","
	    "\"schemes\":\"bearer\",\"scope\":\"https://outlook.office365.com"
	    "/.default\",\"empty\":{}}"),
	  1, "401", "bearer", "https://outlook.office365.com/.default", "",
	  NULL },
	{ "numeric status", S("{\"status\":401}"), 1, "401", "", "", "",
	  NULL },
	{ "blanks everywhere, trailing newline and NULs",
	  S(" \t{ \"status\" : \"401\" , \"scope\" : \"s\" }\r\n\0\0"),
	  1, "401", "", "s", "", NULL },
	{ "unicode escapes",
	  S("{\"status\":\"40\\u0031\",\"scope\":\"https:\\/\\/mail.google."
	    "com\\/\\u00e9\\ud83d\\ude00\"}"),
	  1, "401", "", "https://mail.google.com/\xc3\xa9\xf0\x9f\x98\x80",
	  "", NULL },
	{ "lone surrogate becomes U+FFFD",
	  S("{\"status\":\"\\ud800x\\udc00\"}"),
	  1, "\xef\xbf\xbdx\xef\xbf\xbd", "", "", "", NULL },
	{ "escaped NUL and controls are shown, not passed",
	  S("{\"status\":\"4\\u00000\\n1\\u001b[0m\"}"),
	  1, "4\\x000\\x0A1\\x1B[0m", "", "", "", NULL },
	{ "raw UTF-8 kept, invalid UTF-8 escaped",
	  S("{\"scope\":\"caf\xc3\xa9 \xc3\x28 \xc0\xaf\"}"),
	  1, "", "", "caf\xc3\xa9 \\xC3( \\xC0\\xAF", "", NULL },
	{ "duplicate key: last wins",
	  S("{\"status\":\"400\",\"status\":\"401\"}"),
	  1, "401", "", "", "", NULL },
	{ "empty object", S("{}"), 1, "", "", "", "", NULL },
	{ "truncated", S("{\"status\":\"401\",\"sco"), 0, "", "", "", "",
	  "{\"status\":\"401\",\"sco" },
	{ "truncated in an escape", S("{\"status\":\"40\\u00"), 0, "", "",
	  "", "", "{\"status\":\"40\\u00" },
	{ "non-JSON text", S("Invalid credentials"), 0, "", "", "", "",
	  "Invalid credentials" },
	{ "empty challenge", "", 0, 0, "", "", "", "", "" },
	{ "raw NUL inside a string",
	  S("{\"status\":\"4\0" "01\"}"), 0, "", "", "", "",
	  "{\"status\":\"4\\x0001\"}" },
	{ "raw newline inside a string", S("{\"status\":\"4\n01\"}"), 0, "",
	  "", "", "", "{\"status\":\"4\\x0A01\"}" },
	{ "binary", S("\x89PNG\r\n\x1a\n\x00\xff"), 0, "", "", "", "",
	  "\\x89PNG\\x0D\\x0A\\x1A\\x0A\\x00\\xFF" },
	{ "top-level array", S("[\"status\",\"401\"]"), 0, "", "", "", "",
	  "[\"status\",\"401\"]" },
	{ "trailing garbage", S("{\"status\":\"401\"}x"), 0, "", "", "", "",
	  "{\"status\":\"401\"}x" },
	{ "bad escape", S("{\"status\":\"\\x41\"}"), 0, "", "", "", "",
	  "{\"status\":\"\\x41\"}" },
	{ "bad literal", S("{\"a\":tru,\"status\":\"401\"}"), 0, "", "", "",
	  "", "{\"a\":tru,\"status\":\"401\"}" },
	{ "missing colon", S("{\"status\" \"401\"}"), 0, "", "", "", "",
	  "{\"status\" \"401\"}" },
	{ "trailing comma", S("{\"status\":\"401\",}"), 0, "", "", "", "",
	  "{\"status\":\"401\",}" },
	{ "unquoted key", S("{status:\"401\"}"), 0, "", "", "", "",
	  "{status:\"401\"}" },
};

static void
check_pe(const char *name, const struct mb_xo_error *e,
	 const struct pe_case *c)
{
	char n[160];

	snprintf(n, sizeof(n), "%s: is_json", name);
	tap_is_int(e->is_json, c->is_json, n);
	snprintf(n, sizeof(n), "%s: status", name);
	tap_is_str(e->status, c->status, n);
	snprintf(n, sizeof(n), "%s: schemes", name);
	tap_is_str(e->schemes, c->schemes, n);
	snprintf(n, sizeof(n), "%s: scope", name);
	tap_is_str(e->scope, c->scope, n);
	snprintf(n, sizeof(n), "%s: openid-configuration", name);
	tap_is_str(e->openid_configuration, c->openid, n);
	if (c->raw != NULL) {
		snprintf(n, sizeof(n), "%s: sanitised copy", name);
		tap_is_str(e->raw, c->raw, n);
	}
	snprintf(n, sizeof(n), "%s: length", name);
	tap_is_int((long long)e->raw_len, (long long)c->len, n);
}

static void
test_parse_table(void)
{
	struct mb_xo_error e;
	size_t i;

	for (i = 0; i < sizeof(pe_cases) / sizeof(pe_cases[0]); i++) {
		mb_xo_parse_error(pe_cases[i].in, pe_cases[i].len, &e);
		check_pe(pe_cases[i].name, &e, &pe_cases[i]);
	}
	mb_xo_parse_error(NULL, 0, &e);
	tap_ok(!e.is_json && e.raw[0] == '\0', "NULL challenge");
}

static void
test_parse_limits(void)
{
	struct mb_xo_error e;
	char *buf;
	size_t n, i;

	buf = malloc(MB_XO_CHALLENGE_MAX * 2);
	if (buf == NULL)
		tap_skip_all("out of memory");

	/* 20 levels of nesting are fine, 40 are not. */
	n = (size_t)snprintf(buf, 64, "{\"status\":\"401\",\"x\":");
	for (i = 0; i < 20; i++)
		buf[n++] = '[';
	for (i = 0; i < 20; i++)
		buf[n++] = ']';
	buf[n++] = '}';
	mb_xo_parse_error(buf, n, &e);
	tap_ok(e.is_json && strcmp(e.status, "401") == 0,
	       "20 nested arrays parse");
	n = (size_t)snprintf(buf, 64, "{\"status\":\"401\",\"x\":");
	for (i = 0; i < 40; i++)
		buf[n++] = '{', buf[n++] = '"', buf[n++] = 'a',
		buf[n++] = '"', buf[n++] = ':';
	buf[n++] = '1';
	for (i = 0; i < 41; i++)
		buf[n++] = '}';
	mb_xo_parse_error(buf, n, &e);
	tap_ok(!e.is_json, "41 nested objects are refused");
	tap_ok(strlen(e.raw) < sizeof(e.raw) &&
	       strcmp(e.raw + strlen(e.raw) - 3, "...") == 0,
	       "its copy is cut and says so");

	/* Oversized: a valid object larger than the limit is not parsed. */
	n = (size_t)snprintf(buf, 64, "{\"status\":\"401\",\"pad\":\"");
	memset(buf + n, 'p', MB_XO_CHALLENGE_MAX);
	n += MB_XO_CHALLENGE_MAX;
	memcpy(buf + n, "\"}", 2);
	n += 2;
	mb_xo_parse_error(buf, n, &e);
	tap_ok(!e.is_json && e.oversized, "oversized challenge not parsed");
	tap_is_int((long long)e.raw_len, (long long)n, "oversized: length");
	tap_ok(strncmp(e.raw, "{\"status\":\"401\"", 15) == 0,
	       "oversized: starts with its prefix");

	/* A long value is cut to its field with "...". */
	n = (size_t)snprintf(buf, 64, "{\"status\":\"401\",\"scope\":\"");
	memset(buf + n, 's', 1000);
	n += 1000;
	memcpy(buf + n, "\"}", 2);
	n += 2;
	mb_xo_parse_error(buf, n, &e);
	tap_ok(e.is_json && strlen(e.scope) == sizeof(e.scope) - 1 &&
	       strcmp(e.scope + strlen(e.scope) - 3, "...") == 0,
	       "a 1000-byte scope is cut with ...");
	tap_is_str(e.status, "401", "status beside the long scope");

	/* Binary noise of every byte value never crashes and stays
	 * printable. */
	for (i = 0; i < 4096; i++)
		buf[i] = (char)(i * 37 + 11);
	mb_xo_parse_error(buf, 4096, &e);
	for (i = 0; e.raw[i] != '\0'; i++) {
		if ((unsigned char)e.raw[i] < 0x20 ||
		    (unsigned char)e.raw[i] == 0x7f)
			break;
	}
	tap_ok(!e.is_json && e.raw[i] == '\0',
	       "binary noise: copy without control characters");
	free(buf);
}

/* ---- the error sentence ---- */

static void
test_describe(void)
{
	static const struct {
		enum mb_xo_mech mech;
		const char *user;
		const char *in;
		const char *want;
	} d[] = {
		{ MB_XO_XOAUTH2, "alice@example.com",
		  "{\"status\":\"401\",\"schemes\":\"bearer\","
		  "\"scope\":\"https://mail.google.com/\"}",
		  "XOAUTH2: server rejected the access token for "
		  "alice@example.com (status 401, scope "
		  "https://mail.google.com/): the token is expired or "
		  "revoked" },
		{ MB_XO_OAUTHBEARER, "bob", "{\"status\":\"invalid_token\","
		  "\"scope\":\"mail\",\"openid-configuration\":"
		  "\"https://i/c\"}",
		  "OAUTHBEARER: server rejected the access token for bob "
		  "(status invalid_token, scope mail, openid-configuration "
		  "https://i/c): the token is expired, revoked or invalid" },
		{ MB_XO_XOAUTH2, "bob", "{\"status\":\"400\"}",
		  "XOAUTH2: server rejected the access token for bob (status "
		  "400): the token is invalid, expired or revoked" },
		{ MB_XO_XOAUTH2, "bob", "{\"status\":\"insufficient_scope\"}",
		  "XOAUTH2: server rejected the access token for bob (status "
		  "insufficient_scope): the token does not carry the scope "
		  "the server requires" },
		{ MB_XO_XOAUTH2, "bob", "{\"status\":\"503\"}",
		  "XOAUTH2: server rejected the access token for bob (status "
		  "503): the server could not check the token (a temporary "
		  "failure on its side)" },
		{ MB_XO_XOAUTH2, "bob", "{\"schemes\":\"bearer\"}",
		  "XOAUTH2: server rejected the access token for bob (status "
		  "missing): the server gave no reason" },
		{ MB_XO_XOAUTH2, "bob", "{\"status\":\"teapot\"}",
		  "XOAUTH2: server rejected the access token for bob (status "
		  "teapot): the server gave an unrecognised status" },
		/* A server's scope with U+202E, U+2028 and U+200F (JSON
		 * escapes and raw UTF-8): escaped in the detail. */
		{ MB_XO_XOAUTH2, "bob", "{\"status\":\"401\",\"scope\":"
		  "\"a\\u202eb\\u2028c\xe2\x80\x8f" "d\"}",
		  "XOAUTH2: server rejected the access token for bob (status "
		  "401, scope a\\xE2\\x80\\xAEb\\xE2\\x80\\xA8c\\xE2\\x80\\x8Fd): "
		  "the token is expired or revoked" },
		{ MB_XO_XOAUTH2, "bob", "NO \xe2\x80\xae\xe2\x80\xa9",
		  "XOAUTH2: server rejected the access token for bob (its "
		  "error challenge is not JSON: 9 bytes, \"NO \\xE2\\x80\\xAE"
		  "\\xE2\\x80\\xA9\")" },
		{ MB_XO_XOAUTH2, "bo\033b", "NO go",
		  "XOAUTH2: server rejected the access token for bo\\x1Bb "
		  "(its error challenge is not JSON: 5 bytes, \"NO go\")" },
	};
	struct mb_xo_error e;
	char buf[1024];
	size_t i;

	for (i = 0; i < sizeof(d) / sizeof(d[0]); i++) {
		mb_xo_parse_error(d[i].in, strlen(d[i].in), &e);
		mb_xo_describe_error(buf, sizeof(buf), d[i].mech, d[i].user,
				     strlen(d[i].user), &e);
		tap_is_str(buf, d[i].want, "error sentence");
	}
	mb_xo_parse_error("{}", 2, &e);
	mb_xo_describe_error(buf, 40, MB_XO_XOAUTH2, "alice", 5, &e);
	tap_is_int((long long)strlen(buf), 39, "sentence cut to its buffer");
}

/* ---- the sanitiser ---- */

static void
test_sanitize(void)
{
	static const struct {
		const char *in;
		size_t len;
		size_t size;
		const char *want;
	} s[] = {
		{ S("hello"), 16, "hello" },
		{ S("hello"), 6, "hello" },		/* exact fit */
		{ S("hello world"), 8, "hell..." },
		{ S("a\001b"), 16, "a\\x01b" },
		{ S("\x7f"), 16, "\\x7F" },
		{ S("\xc2\x85"), 16, "\\xC2\\x85" },	/* C1 control */
		{ S("\xe0\x80\xaf"), 16, "\\xE0\\x80\\xAF" },	/* overlong */
		{ S("\xed\xa0\x80"), 16, "\\xED\\xA0\\x80" },	/* surrogate */
		{ S("\xf4\x90\x80\x80"), 20, "\\xF4\\x90\\x80\\x80" },
		{ S("\xe2\x82\xac"), 16, "\xe2\x82\xac" },	/* euro sign */
		{ S("\xe2\x82"), 16, "\\xE2\\x82" },	/* cut sequence */
		{ S("ab\x01"), 6, "ab..." },	/* escape does not fit */
		{ S(""), 4, "" },
		/* Bidirectional controls and line/paragraph separators:
		 * escaped, byte by byte; their neighbours (U+2027, U+202F,
		 * U+2065, U+206A, U+200D) are kept. */
		{ S("a\xe2\x80\xae" "b"), 32, "a\\xE2\\x80\\xAEb" },
		{ S("\xe2\x80\xaa"), 16, "\\xE2\\x80\\xAA" },	/* U+202A */
		{ S("\xe2\x80\xa8"), 16, "\\xE2\\x80\\xA8" },	/* U+2028 */
		{ S("\xe2\x80\xa9"), 16, "\\xE2\\x80\\xA9" },	/* U+2029 */
		{ S("\xe2\x80\x8e"), 16, "\\xE2\\x80\\x8E" },	/* U+200E */
		{ S("\xe2\x80\x8f"), 16, "\\xE2\\x80\\x8F" },	/* U+200F */
		{ S("\xe2\x81\xa6"), 16, "\\xE2\\x81\\xA6" },	/* U+2066 */
		{ S("\xe2\x81\xa9"), 16, "\\xE2\\x81\\xA9" },	/* U+2069 */
		{ S("\xd8\x9c"), 16, "\\xD8\\x9C" },		/* U+061C */
		{ S("\xe2\x80\xa7"), 16, "\xe2\x80\xa7" },
		{ S("\xe2\x80\xaf"), 16, "\xe2\x80\xaf" },
		{ S("\xe2\x81\xa5"), 16, "\xe2\x81\xa5" },
		{ S("\xe2\x81\xaa"), 16, "\xe2\x81\xaa" },
		{ S("\xe2\x80\x8d"), 16, "\xe2\x80\x8d" },
	};
	char buf[64];
	size_t i;

	for (i = 0; i < sizeof(s) / sizeof(s[0]); i++) {
		mb_xo_sanitize(buf, s[i].size, s[i].in, s[i].len);
		tap_is_str(buf, s[i].want, "sanitise");
	}
}

/* Every byte value (one in three) at every position of names of 1 to 20
 * bytes and buffers of 1 to 22: a name mb_xo_check_user_ascii accepts as
 * printable ASCII is copied unchanged by the sanitiser when it fits; the
 * others are not (a lone byte above 0x7e is never valid UTF-8). */
static void
test_ascii_shows_as_is(void)
{
	char in[20], buf[64];
	size_t len, pos, size, bad = 0, n = 0;
	int c;

	for (len = 1; len <= sizeof(in); len++) {
		for (pos = 0; pos < len; pos++) {
			for (c = 0; c < 256; c += 3) {
				bool ascii, same;

				memset(in, 'u', len);
				in[pos] = (char)c;
				if (mb_xo_check_user_ascii(in, len, &ascii) !=
				    NULL)
					continue;
				for (size = 1; size <= len + 2; size++) {
					mb_xo_sanitize(buf, size, in, len);
					same = strlen(buf) == len &&
					       memcmp(buf, in, len) == 0;
					n++;
					if ((ascii && len < size) != same)
						bad++;
				}
			}
		}
	}
	tap_ok(bad == 0, "printable ASCII that fits is shown as is, the rest "
	       "is not (%zu of %zu differ)", bad, n);
}

int
main(void)
{
	test_build();
	test_build_sizes();
	test_checks();
	test_port();
	test_parse_table();
	test_parse_limits();
	test_describe();
	test_sanitize();
	test_ascii_shows_as_is();
	return tap_done();
}
