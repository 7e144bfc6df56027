/* SPDX-License-Identifier: MIT */
#include <config.h>

#include "ipc-proto.h"
#include "token-syntax.h"
#include "tap.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Table-driven tests of common/ipc-proto.c: validation, formatting and
 * parsing of both directions, bounds and hostile input. */

struct valid_case {
	const char *s;
	bool account;
	bool token;
};

static const struct valid_case valid_cases[] = {
	{ "alice", true, true },
	/* A token is any printable ASCII without space (token-syntax.h):
	 * what the helper stores, the socket carries it. */
	{ "alice@example.com", true, true },
	{ "a.b_c-d+e%f", true, true },
	{ "", false, false },
	{ ".hidden", false, true },
	{ "-opt", false, true },
	{ "../etc", false, true },
	{ "a/b", false, true },
	{ "a b", false, false },
	{ "a:b", false, true },
	{ "ya29.a0AfH6SM~x+/y", false, true },
	{ "abc==", false, true },
	{ "==", false, true },
	{ "ab=c", false, true },
	{ "a\001b", false, false },
	{ "a\177b", false, false },
	{ "tok\n", false, false },
	{ "caf\xc3\xa9", false, false },
};

static void
test_valid(void)
{
	char big[MB_TOKEN_MAX + 2];

	for (size_t i = 0; i < sizeof(valid_cases) / sizeof(valid_cases[0]);
	     i++) {
		const struct valid_case *c = &valid_cases[i];

		tap_ok(mb_ipc_valid_account(c->s, strlen(c->s)) == c->account,
		       "valid_account(\"%s\") is %d", c->s, c->account);
		tap_ok(mb_ipc_valid_token(c->s, strlen(c->s)) == c->token,
		       "valid_token(\"%s\") is %d", c->s, c->token);
	}
	memset(big, 'a', sizeof(big));
	tap_ok(mb_ipc_valid_account(big, MB_IPC_ACCOUNT_MAX), "account at max");
	tap_ok(!mb_ipc_valid_account(big, MB_IPC_ACCOUNT_MAX + 1),
	       "account over max");
	tap_ok(mb_ipc_valid_token(big, MB_TOKEN_MAX), "token at max");
	tap_ok(!mb_ipc_valid_token(big, MB_TOKEN_MAX + 1),
	       "token over max");
	tap_ok(!mb_ipc_valid_token(NULL, 3), "NULL token");
	memset(big, '!', sizeof(big));
	tap_ok(mb_ipc_valid_login(big, MB_IPC_LOGIN_MAX), "login at max");
	tap_ok(!mb_ipc_valid_login(big, MB_IPC_LOGIN_MAX + 1),
	       "login over max");
	tap_ok(!mb_ipc_valid_login(NULL, 3), "NULL login");
	tap_ok(!mb_ipc_valid_login("a b", 3), "login with a space");
	tap_ok(mb_ipc_valid_login("u\"s=r,@x", 8), "login with , = and \"");
}

static void
test_format(void)
{
	char buf[128];
	char tiny[8];
	char *huge;
	int n;

	n = mb_ipc_format_token_request(buf, sizeof(buf), "alice@x.org");
	tap_is_str(buf, "MAILBEARER1 TOKEN alice@x.org\n", "TOKEN request");
	tap_is_int(n, (long long)strlen(buf), "returns the length");
	mb_ipc_format_rejected_request(buf, sizeof(buf), "a", "t0k=", NULL);
	tap_is_str(buf, "MAILBEARER1 REJECTED a t0k=\n",
		   "REJECTED request without login");
	mb_ipc_format_rejected_request(buf, sizeof(buf), "a", "t0k=",
				       "Bob.Smith@Example.COM");
	tap_is_str(buf, "MAILBEARER1 REJECTED a t0k= Bob.Smith@Example.COM\n",
		   "REJECTED request with login");
	mb_ipc_format_ok(buf, sizeof(buf), 1700000000, "abc.def");
	tap_is_str(buf, "MAILBEARER1 OK 1700000000 abc.def\n", "OK response");
	mb_ipc_format_ok(buf, sizeof(buf), 0, "x");
	tap_is_str(buf, "MAILBEARER1 OK 0 x\n", "OK with unknown expiry");
	mb_ipc_format_ok_checked(buf, sizeof(buf), 1700000000, "abc.def");
	tap_is_str(buf, "MAILBEARER1 OK 1700000000 abc.def\n",
		   "OK response of a checked token: the same line");
	tap_is_int(mb_ipc_format_ok_checked(buf, 8, 1, "abc.def"), -1,
		   "... and a line that does not fit fails");
	tap_is_int(mb_ipc_format_ok_checked(buf, sizeof(buf), -1, "x"), -1,
		   "... as does a negative expiry");
	mb_ipc_format_done(buf, sizeof(buf));
	tap_is_str(buf, "MAILBEARER1 DONE\n", "DONE response");
	mb_ipc_format_err(buf, sizeof(buf), MB_IPC_ERR_DENIED,
			  "uid 65534 may not\nuse \"a\"\x01\xff");
	tap_is_str(buf,
		   "MAILBEARER1 ERR denied uid 65534 may not?use \"a\"??\n",
		   "ERR text sanitised");
	mb_ipc_format_err(buf, sizeof(buf), MB_IPC_ERR_UNAVAILABLE, NULL);
	tap_is_str(buf, "MAILBEARER1 ERR unavailable unavailable\n",
		   "ERR without text uses the code name");

	tap_is_int(mb_ipc_format_token_request(buf, sizeof(buf), "a b"), -1,
		   "invalid account refused");
	tap_is_str(buf, "", "buffer emptied on failure");
	tap_is_int(mb_ipc_format_rejected_request(buf, sizeof(buf), "a",
						  "bad token", NULL), -1,
		   "invalid token refused");
	tap_is_int(mb_ipc_format_rejected_request(buf, sizeof(buf), "a",
						  "tok", "bob smith"), -1,
		   "login with a space refused");
	tap_is_int(mb_ipc_format_rejected_request(buf, sizeof(buf), "a",
						  "tok", ""), -1,
		   "empty login refused");
	tap_is_int(mb_ipc_format_rejected_request(buf, sizeof(buf), "a",
						  "tok", "b\xc3\xb6" "b"), -1,
		   "non-ASCII login refused");
	tap_is_int(mb_ipc_format_ok(buf, sizeof(buf), -1, "x"), -1,
		   "negative expiry refused");
	tap_is_int(mb_ipc_format_token_request(tiny, sizeof(tiny), "alice"),
		   -1, "too small buffer refused");
	tap_is_str(tiny, "", "small buffer left empty");
	tap_is_int(mb_ipc_format_done(NULL, 0), -1, "NULL buffer");

	/* Longest text is cut, the line stays within bounds. */
	huge = malloc(MB_IPC_LINE_MAX + 1);
	if (huge == NULL)
		return;
	{
		char text[MB_IPC_TEXT_MAX * 2 + 1];

		memset(text, 'x', sizeof(text) - 1);
		text[sizeof(text) - 1] = '\0';
		n = mb_ipc_format_err(huge, MB_IPC_LINE_MAX + 1,
				      MB_IPC_ERR_INTERNAL, text);
		tap_is_int(n, (long long)strlen("MAILBEARER1 ERR internal \n") +
			   MB_IPC_TEXT_MAX, "ERR text cut at the limit");
	}
	{
		char tok[MB_TOKEN_MAX + 1];
		char acct[MB_IPC_ACCOUNT_MAX + 1];
		char login[MB_IPC_LOGIN_MAX + 1];

		memset(tok, 'T', sizeof(tok) - 1);
		tok[sizeof(tok) - 1] = '\0';
		memset(acct, 'a', sizeof(acct) - 1);
		acct[sizeof(acct) - 1] = '\0';
		memset(login, '~', sizeof(login) - 1);
		login[sizeof(login) - 1] = '\0';
		n = mb_ipc_format_rejected_request(huge, MB_IPC_LINE_MAX + 1,
						   acct, tok, login);
		tap_ok(n > 0 && n <= MB_IPC_LINE_MAX,
		       "largest REJECTED fits in a line (%d)", n);
	}
	free(huge);
}

struct req_case {
	const char *line;
	int rc;
	enum mb_ipc_req_type type;
	const char *account;
	const char *token;
	const char *login;
};

static const struct req_case req_cases[] = {
	{ "MAILBEARER1 TOKEN alice\n", 0, MB_IPC_REQ_TOKEN, "alice", NULL,
	  NULL },
	{ "MAILBEARER1 REJECTED bob@x t.k/=\n", 0, MB_IPC_REQ_REJECTED,
	  "bob@x", "t.k/=", NULL },
	{ "MAILBEARER1 REJECTED bob@x t.k/= Bob@X.example\n", 0,
	  MB_IPC_REQ_REJECTED, "bob@x", "t.k/=", "Bob@X.example" },
	{ "MAILBEARER1 REJECTED bob tok \"q\\:!~\n", 0,
	  MB_IPC_REQ_REJECTED, "bob", "tok", "\"q\\:!~" },
	{ "MAILBEARER1 REJECTED bob tok b c\n", -1, 0, NULL, NULL, NULL },
	{ "MAILBEARER1 REJECTED bob tok \n", -1, 0, NULL, NULL, NULL },
	{ "MAILBEARER1 REJECTED bob tok  b\n", -1, 0, NULL, NULL, NULL },
	{ "MAILBEARER1 REJECTED bob tok b\tc\n", -1, 0, NULL, NULL, NULL },
	{ "MAILBEARER1 REJECTED bob tok b\x7f\n", -1, 0, NULL, NULL, NULL },
	{ "MAILBEARER1 REJECTED bob tok caf\xc3\xa9\n", -1, 0, NULL, NULL,
	  NULL },
	{ "MAILBEARER1 TOKEN alice bob\n", -1, 0, NULL, NULL, NULL },
	{ "MAILBEARER1 TOKEN alice", -1, 0, NULL, NULL, NULL },
	{ "MAILBEARER1 TOKEN alice\r\n", -1, 0, NULL, NULL, NULL },
	{ "MAILBEARER1 TOKEN alice extra\n", -1, 0, NULL, NULL, NULL },
	{ "MAILBEARER1 TOKEN  alice\n", -1, 0, NULL, NULL, NULL },
	{ "MAILBEARER1 TOKEN\n", -1, 0, NULL, NULL, NULL },
	{ "MAILBEARER1 TOKEN ../../etc/passwd\n", -1, 0, NULL, NULL, NULL },
	{ "MAILBEARER1 REJECTED bob\n", -1, 0, NULL, NULL, NULL },
	{ "MAILBEARER1 REJECTED bob a=b c\n", 0, MB_IPC_REQ_REJECTED,
	  "bob", "a=b", "c" },
	{ "MAILBEARER1 REJECTED bob a\001b c\n", -1, 0, NULL, NULL, NULL },
	{ "MAILBEARER2 TOKEN alice\n", -1, 0, NULL, NULL, NULL },
	{ "MAILBEARER1 DELETE alice\n", -1, 0, NULL, NULL, NULL },
	{ "mailbearer1 TOKEN alice\n", -1, 0, NULL, NULL, NULL },
	{ "GET / HTTP/1.0\n", -1, 0, NULL, NULL, NULL },
	{ "\n", -1, 0, NULL, NULL, NULL },
	{ "", -1, 0, NULL, NULL, NULL },
};

static void
test_parse_request(void)
{
	char line[256];

	for (size_t i = 0; i < sizeof(req_cases) / sizeof(req_cases[0]);
	     i++) {
		const struct req_case *c = &req_cases[i];
		struct mb_ipc_request req;
		const char *why = NULL;
		size_t len = strlen(c->line);
		int rc;

		memcpy(line, c->line, len + 1);
		rc = mb_ipc_parse_request(line, len, &req, &why);
		tap_ok(rc == c->rc, "parse request %zu -> %d (%s)", i, c->rc,
		       rc < 0 ? why : "ok");
		if (rc != 0 || c->rc != 0)
			continue;
		tap_is_int(req.type, c->type, "  type");
		tap_is_str(req.account, c->account, "  account");
		if (c->token == NULL)
			tap_ok(req.token == NULL, "  no token");
		else
			tap_is_str(req.token, c->token, "  token");
		if (c->login == NULL)
			tap_ok(req.login == NULL, "  no login");
		else
			tap_is_str(req.login, c->login, "  login");
	}

	/* An embedded NUL must not hide the rest of the line. */
	{
		char nul[] = "MAILBEARER1 TOKEN a\0b\n";
		struct mb_ipc_request req;
		const char *why = NULL;

		tap_is_int(mb_ipc_parse_request(nul, sizeof(nul) - 1, &req,
						&why), -1, "embedded NUL");
	}
	/* A login over 255 bytes. */
	{
		char line2[MB_IPC_LOGIN_MAX + 64];
		struct mb_ipc_request req;
		const char *why = NULL;
		int n = snprintf(line2, sizeof(line2),
				 "MAILBEARER1 REJECTED a t ");

		memset(line2 + n, 'L', MB_IPC_LOGIN_MAX + 1);
		line2[n + MB_IPC_LOGIN_MAX + 1] = '\n';
		tap_is_int(mb_ipc_parse_request(line2,
						(size_t)n + MB_IPC_LOGIN_MAX +
						2, &req, &why), -1,
			   "login over 255 bytes");
		tap_is_str(why, "invalid login name", "  reason");
	}
	/* Two lines in one buffer. */
	{
		char two[] = "MAILBEARER1 TOKEN a\nMAILBEARER1 TOKEN b\n";
		struct mb_ipc_request req;
		const char *why = NULL;

		tap_is_int(mb_ipc_parse_request(two, sizeof(two) - 1, &req,
						&why), -1, "two lines");
	}
	/* Over the line limit. */
	{
		char *big = malloc(MB_IPC_LINE_MAX + 2);
		struct mb_ipc_request req;
		const char *why = NULL;

		if (big != NULL) {
			memset(big, 'a', MB_IPC_LINE_MAX + 1);
			memcpy(big, "MAILBEARER1 TOKEN ", 18);
			big[MB_IPC_LINE_MAX] = '\n';
			tap_is_int(mb_ipc_parse_request(big,
							MB_IPC_LINE_MAX + 1,
							&req, &why), -1,
				   "line over the limit");
			tap_is_str(why, "line too long", "  reason");
			free(big);
		}
	}
}

struct resp_case {
	const char *line;
	int rc;
	enum mb_ipc_resp_type type;
	long long expires_at;
	const char *token;
	enum mb_ipc_err code;
	const char *text;
};

static const struct resp_case resp_cases[] = {
	{ "MAILBEARER1 OK 1700000000 ya29.x\n", 0, MB_IPC_RESP_OK,
	  1700000000, "ya29.x", 0, NULL },
	{ "MAILBEARER1 OK 0 x\n", 0, MB_IPC_RESP_OK, 0, "x", 0, NULL },
	{ "MAILBEARER1 DONE\n", 0, MB_IPC_RESP_DONE, 0, NULL, 0, NULL },
	{ "MAILBEARER1 ERR denied uid 1 may not use a\n", 0, MB_IPC_RESP_ERR,
	  0, NULL, MB_IPC_ERR_DENIED, "uid 1 may not use a" },
	{ "MAILBEARER1 ERR needs-authorize run mailbearer authorize a\n", 0,
	  MB_IPC_RESP_ERR, 0, NULL, MB_IPC_ERR_NEEDS_AUTHORIZE,
	  "run mailbearer authorize a" },
	{ "MAILBEARER1 ERR unknown-account no such account\n", 0,
	  MB_IPC_RESP_ERR, 0, NULL, MB_IPC_ERR_UNKNOWN_ACCOUNT,
	  "no such account" },
	{ "MAILBEARER1 ERR unavailable x\n", 0, MB_IPC_RESP_ERR, 0, NULL,
	  MB_IPC_ERR_UNAVAILABLE, "x" },
	{ "MAILBEARER1 ERR bad-request x\n", 0, MB_IPC_RESP_ERR, 0, NULL,
	  MB_IPC_ERR_BAD_REQUEST, "x" },
	{ "MAILBEARER1 ERR internal x\n", 0, MB_IPC_RESP_ERR, 0, NULL,
	  MB_IPC_ERR_INTERNAL, "x" },
	{ "MAILBEARER1 ERR future-code x\n", 0, MB_IPC_RESP_ERR, 0, NULL,
	  MB_IPC_ERR_OTHER, "x" },
	{ "MAILBEARER1 ERR BAD x\n", -1, 0, 0, NULL, 0, NULL },
	{ "MAILBEARER1 ERR denied\n", -1, 0, 0, NULL, 0, NULL },
	{ "MAILBEARER1 ERR denied \x1b[31m\n", -1, 0, 0, NULL, 0, NULL },
	{ "MAILBEARER1 OK -5 x\n", -1, 0, 0, NULL, 0, NULL },
	{ "MAILBEARER1 OK 12a x\n", -1, 0, 0, NULL, 0, NULL },
	{ "MAILBEARER1 OK 9999999999999 x\n", -1, 0, 0, NULL, 0, NULL },
	{ "MAILBEARER1 OK 1 two words\n", -1, 0, 0, NULL, 0, NULL },
	{ "MAILBEARER1 OK 1\n", -1, 0, 0, NULL, 0, NULL },
	{ "MAILBEARER1 DONE x\n", -1, 0, 0, NULL, 0, NULL },
	{ "MAILBEARER0 DONE\n", -1, 0, 0, NULL, 0, NULL },
	{ "MAILBEARER1 DONE", -1, 0, 0, NULL, 0, NULL },
};

static void
test_parse_response(void)
{
	char line[256];

	for (size_t i = 0; i < sizeof(resp_cases) / sizeof(resp_cases[0]);
	     i++) {
		const struct resp_case *c = &resp_cases[i];
		struct mb_ipc_response r;
		const char *why = NULL;
		size_t len = strlen(c->line);
		int rc;

		memcpy(line, c->line, len + 1);
		rc = mb_ipc_parse_response(line, len, &r, &why);
		tap_ok(rc == c->rc, "parse response %zu -> %d (%s)", i, c->rc,
		       rc < 0 ? why : "ok");
		if (rc != 0 || c->rc != 0)
			continue;
		tap_is_int(r.type, c->type, "  type");
		if (c->type == MB_IPC_RESP_OK) {
			tap_is_int(r.expires_at, c->expires_at, "  expiry");
			tap_is_str(r.token, c->token, "  token");
		} else if (c->type == MB_IPC_RESP_ERR) {
			tap_is_int(r.code, c->code, "  code");
			tap_is_str(r.text, c->text, "  text");
		}
	}
}

/* The reasons name the problem, not the direction: a response without
 * its LF is not a "request". */
static void
test_why(void)
{
	char line[] = "MAILBEARER1 DONE";
	struct mb_ipc_response r;
	const char *why = NULL;

	tap_is_int(mb_ipc_parse_response(line, sizeof(line) - 1, &r, &why),
		   -1, "response without LF");
	tap_is_str(why, "not one line ending with LF", "  reason");
}

/* Whatever the format functions produce, the parsers accept unchanged. */
static void
test_roundtrip(void)
{
	char buf[512];
	struct mb_ipc_request req;
	struct mb_ipc_response r;
	const char *why = NULL;
	int n;

	n = mb_ipc_format_rejected_request(buf, sizeof(buf), "x@y", "Ab+/=",
					   NULL);
	tap_ok(n > 0 && mb_ipc_parse_request(buf, (size_t)n, &req, &why) == 0 &&
	       strcmp(req.account, "x@y") == 0 &&
	       strcmp(req.token, "Ab+/=") == 0 && req.login == NULL,
	       "REJECTED round trip");
	n = mb_ipc_format_rejected_request(buf, sizeof(buf), "x@y", "Ab+/=",
					   "X@Y.example");
	tap_ok(n > 0 && mb_ipc_parse_request(buf, (size_t)n, &req, &why) == 0 &&
	       strcmp(req.token, "Ab+/=") == 0 && req.login != NULL &&
	       strcmp(req.login, "X@Y.example") == 0,
	       "REJECTED round trip with login");
	n = mb_ipc_format_ok(buf, sizeof(buf), MB_IPC_EXPIRES_MAX, "t");
	tap_ok(n > 0 && mb_ipc_parse_response(buf, (size_t)n, &r, &why) == 0 &&
	       r.expires_at == MB_IPC_EXPIRES_MAX, "OK round trip at max");
	for (int c = MB_IPC_ERR_UNKNOWN_ACCOUNT; c <= MB_IPC_ERR_INTERNAL;
	     c++) {
		n = mb_ipc_format_err(buf, sizeof(buf), (enum mb_ipc_err)c,
				      "some\ttext");
		tap_ok(n > 0 &&
		       mb_ipc_parse_response(buf, (size_t)n, &r, &why) == 0 &&
		       r.code == (enum mb_ipc_err)c &&
		       strcmp(r.text, "some?text") == 0,
		       "ERR %s round trip",
		       mb_ipc_err_name((enum mb_ipc_err)c));
	}
	tap_is_str(mb_ipc_err_name((enum mb_ipc_err)99), "internal",
		   "unknown code name");
}

int
main(void)
{
	test_valid();
	test_format();
	test_parse_request();
	test_parse_response();
	test_why();
	test_roundtrip();
	return tap_done();
}
