/* SPDX-License-Identifier: MIT */
#include <config.h>

#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "tap.h"
#include "tokenhelper/http.h"
#include "tokenhelper/json.h"
#include "tokenhelper/refresh.h"
#include "tokenhelper/store.h"
#include "tokenhelper/token.h"

/* Expiry math: now, expires_at, obtained_at, margin -> needs refresh. */
static const struct {
	long long now, exp, got;
	long margin;
	bool refresh, usable;
} expiry[] = {
	{ 1000, 0, 0, 600, true, false },	/* unknown expiry */
	{ 1000, 5000, 0, 600, false, true },	/* plenty left */
	{ 1000, 1600, 0, 600, true, true },	/* exactly the margin */
	{ 1000, 1601, 0, 600, false, true },
	{ 1000, 1200, 0, 600, true, true },	/* inside the margin */
	{ 1000, 1000, 0, 600, true, false },	/* expiring now */
	{ 1000, 900, 0, 600, true, false },	/* expired */
	{ 1000, 1101, 901, 600, false, true },	/* 200 s token: margin 100 */
	{ 1000, 1050, 900, 600, true, true },
	{ 1000, 1001, 0, 0, false, true },	/* margin 0 */
	{ 1000, 4600, 1000, 600, false, true },	/* fresh 1 h token */
	{ 4000, 4600, 1000, 600, true, true },	/* 10 min left */
};

static void
test_expiry(void)
{
	size_t i;

	for (i = 0; i < sizeof(expiry) / sizeof(expiry[0]); i++) {
		tap_ok(mb_expiry_needs_refresh(expiry[i].now, expiry[i].exp,
					       expiry[i].got,
					       expiry[i].margin) ==
		       expiry[i].refresh, "expiry case %zu: refresh=%d", i,
		       expiry[i].refresh);
		tap_ok(mb_expiry_usable(expiry[i].now, expiry[i].exp) ==
		       expiry[i].usable, "expiry case %zu: usable=%d", i,
		       expiry[i].usable);
	}
	tap_is_int(mb_expiry_at(1000, 3599), 4599, "expires_at");
}

static const struct {
	const char *body;
	int ret;
	const char *at, *rt, *err, *why;
	long expires_in, aadsts;
} replies[] = {
	{ "{\"access_token\":\"ya29.a-b_c~d+e/f=\",\"token_type\":\"Bearer\","
	  "\"expires_in\":3599,\"scope\":\"https://mail.google.com/\"}",
	  0, "ya29.a-b_c~d+e/f=", NULL, NULL, NULL, 3599, 0 },
	{ "{\"access_token\":\"A\",\"token_type\":\"bearer\",\"expires_in\":"
	  "\"3600\",\"refresh_token\":\"R2\"}  \n",
	  0, "A", "R2", NULL, NULL, 3600, 0 },
	{ "{\"access_token\":\"A\"}", 0, "A", NULL, NULL, NULL, -1, 0 },
	{ "{\"error\":\"invalid_grant\",\"error_description\":\"Token has "
	  "been expired or revoked.\"}", 0, NULL, NULL, "invalid_grant",
	  NULL, -1, 0 },
	{ "{\"error\":\"invalid_grant\",\"error_description\":\"AADSTS700082:"
	  " The refresh token has expired due to inactivity.\\r\\nTrace ID: "
	  "x\",\"error_codes\":[700082],\"suberror\":\"token_expired\"}",
	  0, NULL, NULL, "invalid_grant", NULL, -1, 700082 },
	{ "{\"error\":\"invalid_client\",\"error_description\":\"AADSTS7000215"
	  ": Invalid client secret provided.\"}", 0, NULL, NULL,
	  "invalid_client", NULL, -1, 7000215 },
	{ "not json", -1, NULL, NULL, NULL, "not valid JSON", -1, 0 },
	{ "", -1, NULL, NULL, NULL, "truncated", -1, 0 },
	{ "{\"access_token\":\"A\"} trailing", -1, NULL, NULL, NULL,
	  "JSON", -1, 0 },
	{ "[\"access_token\"]", -1, NULL, NULL, NULL, "not a JSON object",
	  -1, 0 },
	{ "{\"token_type\":\"Bearer\"}", -1, NULL, NULL, NULL,
	  "no access_token", -1, 0 },
	{ "{\"access_token\":42}", -1, NULL, NULL, NULL, "access_token", -1,
	  0 },
	{ "{\"access_token\":\"\"}", -1, NULL, NULL, NULL, "access_token", -1,
	  0 },
	{ "{\"access_token\":\"a b\"}", -1, NULL, NULL, NULL, "access_token",
	  -1, 0 },
	{ "{\"access_token\":\"a\\u0001b\"}", -1, NULL, NULL, NULL,
	  "access_token", -1, 0 },
	{ "{\"access_token\":\"a\\u0000b\"}", -1, NULL, NULL, NULL,
	  "access_token", -1, 0 },
	{ "{\"access_token\":\"A\",\"token_type\":\"mac\"}", -1, NULL, NULL,
	  NULL, "token_type", -1, 0 },
	{ "{\"access_token\":\"A\",\"expires_in\":-5}", -1, NULL, NULL, NULL,
	  "expires_in", -1, 0 },
	{ "{\"access_token\":\"A\",\"expires_in\":[1]}", -1, NULL, NULL, NULL,
	  "expires_in", -1, 0 },
	{ "{\"access_token\":\"A\",\"expires_in\":\"soon\"}", -1, NULL, NULL,
	  NULL, "expires_in", -1, 0 },
	{ "{\"access_token\":\"A\",\"refresh_token\":{}}", -1, NULL, NULL,
	  NULL, "refresh_token", -1, 0 },
	{ "{\"error\":7}", -1, NULL, NULL, NULL, "error", -1, 0 },
	{ "{\"a\":[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]]]]]]"
	  "]]]]]]]]]]}", -1, NULL, NULL, NULL, "JSON", -1, 0 },
};

static void
test_replies(void)
{
	size_t i;

	for (i = 0; i < sizeof(replies) / sizeof(replies[0]); i++) {
		struct mb_token_reply r;
		char *err = NULL;
		int ret = mb_json_parse_token_reply(replies[i].body,
			strlen(replies[i].body), &r, &err);

		if (!tap_ok(ret == replies[i].ret, "reply %zu: result %d", i,
			    replies[i].ret))
			tap_diag("%s", err ? err : "-");
		if (replies[i].ret == 0) {
			tap_ok((replies[i].at == NULL) == (r.access_token ==
			       NULL) && (!replies[i].at ||
			       strcmp(replies[i].at, r.access_token) == 0),
			       "reply %zu: access_token", i);
			tap_ok((replies[i].rt == NULL) == (r.refresh_token ==
			       NULL) && (!replies[i].rt ||
			       strcmp(replies[i].rt, r.refresh_token) == 0),
			       "reply %zu: refresh_token", i);
			tap_ok((replies[i].err == NULL) == (r.error == NULL) &&
			       (!replies[i].err ||
				strcmp(replies[i].err, r.error) == 0),
			       "reply %zu: error", i);
			tap_is_int(r.expires_in, replies[i].expires_in,
				   "expires_in");
			tap_is_int(r.aadsts, replies[i].aadsts, "aadsts");
		} else {
			if (!tap_ok(err && strstr(err, replies[i].why),
				    "reply %zu: error mentions %s", i,
				    replies[i].why))
				tap_diag("%s", err ? err : "-");
		}
		if (r.error_description != NULL)
			tap_ok(strchr(r.error_description, '\r') == NULL &&
			       strchr(r.error_description, '\n') == NULL,
			       "description is one line");
		mb_token_reply_clear(&r);
		free(err);
	}
}

/* A reply's texts are made safe (provider-text.h) whatever the provider
 * put in them, and the reply's own tokens echoed there are masked. */
static void
test_reply_texts(void)
{
	static const char err_body[] =
		"{\"error\": \"invalid_grant\\u001b[2J\","
		" \"error_description\": \"bad\\r\\nfake: ok \xe2\x80\xae"
		"evil \xff\\u0007\", \"suberror\": \"x\\u2028y\"}";
	static const char ok_body[] =
		"{\"access_token\": \"at-0123456789\", \"token_type\": "
		"\"Bearer\", \"refresh_token\": \"rt-0123456789\", "
		"\"scope\": \"mail \\u001b]0;t\\u0007 \xc2\x9b rt-0123456789 "
		"at-0123456789\"}";
	struct mb_token_reply r;
	char *err = NULL;

	tap_is_int(mb_json_parse_token_reply(err_body, strlen(err_body), &r,
					     &err), 0, "hostile error reply");
	tap_is_str(r.error, "invalid_grant\\x1B[2J", "  error escaped");
	tap_is_str(r.error_description, "bad\\x0D\\x0Afake: ok "
		   "\\xE2\\x80\\xAEevil \\xFF\\x07",
		   "  description escaped: one line, no U+202E");
	tap_is_str(r.suberror, "x\\xE2\\x80\\xA8y", "  suberror: no U+2028");
	mb_token_reply_clear(&r);
	tap_is_int(mb_json_parse_token_reply(ok_body, strlen(ok_body), &r,
					     &err), 0, "hostile scope");
	tap_is_str(r.scope, "mail \\x1B]0;t\\x07 \\xC2\\x9B "
		   "************* *************",
		   "  scope escaped, the reply's tokens masked");
	mb_token_reply_clear(&r);
	free(err);
}

/* Each secret in every form a provider's text can carry it in. */
static const struct {
	const char *text, *secret, *want, *name;
} redact_cases[] = {
	{ "rt=1%2F%2F0abc%2Bdef%3D", "1//0abc+def=", "rt=****************"
	  "****", "form-encoded (upper-case hex)" },
	{ "rt=1%2f%2f0abc%2bdef%3d&x", "1//0abc+def=", "rt=***************"
	  "*****&x", "form-encoded (lower-case hex)" },
	{ "s=my+client+secret!", "my client secret!", "s=*****************",
	  "form-encoded space as '+'" },
	{ "s=my%20client%20secret%21", "my client secret!",
	  "s=***********************", "form-encoded space as %20" },
	{ "{\"refresh_token\":\"1\\/\\/0abcdefgh\"}", "1//0abcdefgh",
	  "{\"refresh_token\":\"**************\"}", "JSON \\/ escapes" },
	{ "got \\u0031\\u002f/0abcdefgh.", "1//0abcdefgh",
	  "got **********************.", "JSON \\u escapes, mixed" },
	{ "got \\u0031\\u002F/0abcdefgh.", "1//0abcdefgh",
	  "got **********************.", "JSON \\u, upper-case hex" },
	{ "twice: 1%252F%252F0abcdefgh", "1//0abcdefgh",
	  "twice: ********************", "form-encoded twice" },
	{ "a=b&refresh_token=1%2F%2F0abcdefghij", "1//0abcdefghijklmnopq",
	  "a=b&refresh_token=******************", "truncated encoded echo" },
	{ "a=b&refresh_token=1%2F%2F0abcdefghij%2", "1//0abcdefghij/klmno",
	  "a=b&refresh_token=********************", "truncated inside an "
	  "escape" },
	{ "1%2F%2F0abc and 1//0abc", "1//0abcdefgh", "1%2F%2F0abc and "
	  "1//0abc", "short prefixes inside the text are kept" },
	{ "a%25b%25c%25d%25e", "a%b%c%d%e", "*****************",
	  "a secret with %, encoded" },
	{ "a%b%c%d%e!", "a%b%c%d%e", "*********!", "a secret with %, raw" },
};

static void
test_redact_forms(void)
{
	const char *secrets[] = { "1//0abcdefgh", NULL, "s3cr3t-value" };
	char text[] = "rt=1%2F%2F0abcdefgh&client_secret=s3cr3t-value";
	size_t i;

	for (i = 0; i < sizeof(redact_cases) / sizeof(redact_cases[0]);
	     i++) {
		char *t = strdup(redact_cases[i].text);

		mb_redact(t, redact_cases[i].secret);
		tap_is_str(t, redact_cases[i].want, redact_cases[i].name);
		free(t);
	}
	mb_redact_secrets(text, secrets, 3);
	tap_is_str(text, "rt=****************&client_secret=************",
		   "redact: all secrets in play, NULL skipped");
}

static size_t
b64_decode(const char *in, unsigned char *out)
{
	static const char a[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnop"
				"qrstuvwxyz0123456789+/";
	unsigned v = 0, bits = 0;
	size_t n = 0;
	const char *p;

	for (; *in != '\0' && *in != '='; in++) {
		p = strchr(a, *in);
		if (p == NULL)
			return 0;
		v = (v << 6) | (unsigned)(p - a);
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			out[n++] = (unsigned char)(v >> bits);
			v &= (1u << bits) - 1;
		}
	}
	return n;
}

/*
 * The send phase is bounded by send_timeout, whatever reply_timeout says:
 * a listener that completes the TCP handshake (the kernel does, from the
 * backlog) but never the TLS one.  Nothing was sent, so the request is
 * not "unanswered" and the message says so.  (No timing assertion: a
 * broken bound would end at the 30-s limits.)
 */
static void
test_send_bound(const char *const *fields)
{
	struct mb_http_limits lim = { 30, 1, 30 };
	struct sockaddr_in sa;
	socklen_t len = sizeof(sa);
	struct mb_http_reply reply;
	bool unanswered = true;
	char url[64], *err = NULL;
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    listen(fd, 4) < 0 ||
	    getsockname(fd, (struct sockaddr *)&sa, &len) < 0) {
		tap_ok(false, "a listening socket");
		if (fd >= 0)
			close(fd);
		return;
	}
	snprintf(url, sizeof(url), "https://127.0.0.1:%u/token",
		 (unsigned)ntohs(sa.sin_port));
	tap_is_int(mb_http_post_form_ex(url, NULL, &lim, fields, &reply,
					&unanswered, &err),
		   MB_HTTP_TRANSIENT, "TLS never completes: transient");
	tap_ok(!unanswered, "... not sent, so not unanswered");
	if (!tap_ok(err && strstr(err, "could not be sent within 1 s"),
		    "... ended by send_timeout, and says nothing was sent"))
		tap_diag("%s", err ? err : "-");
	free(err);
	close(fd);
}

int
main(void)
{
	const char *fields[] = { "grant_type", "refresh_token",
				 "refresh_token", "a+b/c=d&e f%",
				 "client_secret", NULL,
				 "scope", "x y", NULL, NULL };
	struct mb_http_reply reply;
	unsigned char dec[256];
	char *s, *err = NULL;
	size_t n;

	test_expiry();
	test_replies();
	test_reply_texts();

	s = mb_http_form_encode(fields);
	tap_is_str(s, "grant_type=refresh_token&refresh_token=a%2Bb%2Fc%3Dd"
		   "%26e%20f%25&scope=x%20y", "form encoding, NULL skipped");
	free(s);
	tap_is_int(mb_http_post_form("http://127.0.0.1:1/token", NULL, 1, 1,
				     fields, &reply, &err), MB_HTTP_LOCAL,
		   "http:// refused");
	tap_ok(err && strstr(err, "only https://"), "says https only");
	free(err);
	err = NULL;
	tap_is_int(mb_http_post_form("https://127.0.0.1:1/token", NULL, 2, 2,
				     fields, &reply, &err), MB_HTTP_TRANSIENT,
		   "connection refused is transient");
	free(err);
	test_send_bound(fields);

	s = mb_token_format("raw", "u@x", "T0K");
	tap_is_str(s, "T0K", "raw format");
	free(s);
	s = mb_token_format("xoauth2", "u@x", "T0K");
	n = s ? b64_decode(s, dec) : 0;
	tap_is_mem(dec, n, "user=u@x\001auth=Bearer T0K\001\001", 26,
		   "xoauth2 format");
	free(s);
	s = mb_token_format("oauthbearer", "u,=x", "T0K");
	n = s ? b64_decode(s, dec) : 0;
	tap_is_mem(dec, n, "n,a=u=2C=3Dx,\001auth=Bearer T0K\001\001", 31,
		   "oauthbearer format, saslname escaped");
	free(s);
	tap_ok(mb_token_format("plain", "u", "t") == NULL, "unknown format");

	{
		char t1[] = "bad token 1//0abcdefgh, again 1//0abcdefgh.";
		char t2[] = "invalid refresh token: 1//0abcdefghij";
		char t3[] = "server_error s";

		mb_redact(t1, "1//0abcdefgh");
		tap_is_str(t1, "bad token ************, again ************.",
			   "redact: every echo of the secret masked");
		mb_redact(t2, "1//0abcdefghijklmnopqrstuvwxyz");
		tap_is_str(t2, "invalid refresh token: **************",
			   "redact: a truncated echo (secret's start) masked");
		mb_redact(t3, "s");
		tap_is_str(t3, "server_error s", "redact: too short to be a "
			   "secret, left alone");
		/* NULL text or secret: nothing to do (a crash fails the
		 * whole test); the text is left as it was. */
		mb_redact(NULL, "1//0abcdefgh");
		mb_redact(t3, NULL);
		tap_is_str(t3, "server_error s", "redact: NULL secret leaves "
			   "the text alone");
	}
	test_redact_forms();
	tap_ok(mb_json_token_sane("abc.DEF-_~+/="), "sane token");
	tap_ok(!mb_json_token_sane(""), "empty token");
	tap_ok(!mb_json_token_sane("a\001b"), "control char");
	tap_ok(!mb_json_token_sane("caf\xc3\xa9"), "non-ASCII");
	return tap_done();
}
