/* SPDX-License-Identifier: MIT */
#include <config.h>

/* The pure parts of `mailbearer authorize` (tokenhelper/flow-code.c): the
 * S256 challenge (SHA-256, base64url) at every padding boundary, the
 * session's randomness and shape, the authorization URL, the redirect's
 * query parsing and judgement (state, error, code), and the advice for
 * the errors the issue names. */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "advice.h"
#include "flow-code.h"
#include "tap.h"

/* BASE64URL(SHA-256(first n bytes of the pattern)), from Python's
 * hashlib: 0 and 3 bytes, 43 (the shortest verifier), the SHA-256
 * padding edges 55/56 and 63/64, two blocks (119), 128 (the longest). */
static const struct {
	size_t n;
	const char *s256;
} vectors[] = {
	{ 0, "47DEQpj8HBSa-_TImW-5JCeuQeRkm5NMpJWZG3hSuFU" },
	{ 3, "ungWv48Bz-pBQUDeXa4iI7ADYaOWF3qctBD_YfIAFa0" },
	{ 43, "MDKeZnLUftaDNbKvEsEplWNFxhGIFS6CGMSFvX1sw1Y" },
	{ 55, "6e5T_mZCs2Ykmoerq5wbeNRRmHs43YHxuReIp2JqqnM" },
	{ 56, "YOVIVTaUsKD0_opfEq14iny3_-OO18BGCZb4YTFotNU" },
	{ 63, "eWuakZhDoaF0Z61i4cS9U5r8E545iI121NOZuoafen4" },
	{ 64, "qTExnsGXK1rSO6g72qytx260FN9Wgf5BGzwkv3yyYKU" },
	{ 119, "Y6C7NS9c5Q1ku14oP-JXoRWDSfer-9Qvr0ZYqUNgnLQ" },
	{ 128, "i39yZAWobQkihuSvvs2OKTZ_rH8fSOJe0vsa5PHJUPI" },
};

static void
test_s256(void)
{
	static const char pat[] = "abcdefghijklmnopqrstuvwxyz0123456789-_"
				  "ABCDEFGHIJKLMNOPQRSTUVWXYZ";
	char in[200], out[44];
	size_t i, k;

	for (i = 0; i < sizeof(vectors) / sizeof(vectors[0]); i++) {
		for (k = 0; k < vectors[i].n; k++)
			in[k] = pat[k % (sizeof(pat) - 1)];
		in[vectors[i].n] = '\0';
		mb_code_s256(in, out);
		tap_ok(strcmp(out, vectors[i].s256) == 0, "S256 of %zu bytes",
		   vectors[i].n);
	}
}

static bool
b64url_only(const char *s)
{
	return strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
		      "0123456789-_") == strlen(s);
}

static void
test_session(void)
{
	struct mb_code_session a, b;
	char *err = NULL, ch[44];

	tap_ok(mb_code_session_init(&a, "http://127.0.0.1:5/", &err) == 0 &&
	   mb_code_session_init(&b, "http://127.0.0.1:5/", &err) == 0,
	   "sessions from getrandom");
	tap_ok(strlen(a.verifier) == 64 && b64url_only(a.verifier),
	   "verifier: 64 unreserved characters (RFC 7636 4.1)");
	tap_ok(strlen(a.state) == 43 && b64url_only(a.state),
	   "state: 256 bits, base64url");
	mb_code_s256(a.verifier, ch);
	tap_ok(strcmp(ch, a.challenge) == 0, "the challenge is S256 of the "
	   "verifier");
	tap_ok(strlen(a.nonce) == 43 && b64url_only(a.nonce) &&
	   strcmp(a.nonce, a.state) != 0, "nonce: 256 bits of its own");
	tap_ok(strcmp(a.verifier, b.verifier) != 0 &&
	   strcmp(a.state, b.state) != 0 && strcmp(a.nonce, b.nonce) != 0,
	   "two sessions differ");
	mb_code_session_clear(&a);
	tap_ok(a.verifier[0] == '\0' && a.redirect_uri == NULL,
	   "clear wipes the verifier");
	mb_code_session_clear(&b);
}

static void
test_url(void)
{
	struct mb_account acct;
	struct mb_code_session s;
	char *err = NULL, *url;

	char name[] = "a", user[] = "u+1@example.com", google[] = "google";
	char ms[] = "microsoft", cid[] = "id 1";
	char gscope[] = "https://mail.google.com/";
	char mscope[] = "https://outlook.office.com/SMTP.Send offline_access";
	char ep1[] = "https://p.example/auth?x=1";
	char ep2[] = "https://p.example/auth";

	memset(&acct, 0, sizeof(acct));
	acct.name = name;
	acct.user = user;
	acct.provider = google;
	acct.client_id = cid;
	acct.scope = gscope;
	acct.authorize_endpoint = ep1;
	mb_code_session_init(&s, "http://127.0.0.1:8/", &err);
	url = mb_code_auth_url(&acct, &s);
	tap_ok(url != NULL && strncmp(url, "https://p.example/auth?x=1&"
	   "response_type=code&client_id=id%201&", 49) == 0,
	   "URL: an endpoint with a query gets '&'; values encoded");
	tap_ok(url != NULL && strstr(url, "&login_hint=u%2B1%40example.com") &&
	   strstr(url, "&access_type=offline&prompt=consent"),
	   "Google: login_hint, access_type=offline, prompt=consent");
	tap_ok(url != NULL && strstr(url, "&nonce=") == NULL &&
	   strstr(url, "openid") == NULL,
	   "check_identity off: no openid, no nonce");
	free(url);
	acct.check_identity = true;
	url = mb_code_auth_url(&acct, &s);
	tap_ok(url != NULL && strstr(url, "&scope=https%3A%2F%2Fmail.google."
	   "com%2F%20openid%20email&") && strstr(url, "&nonce=") &&
	   strstr(url, s.nonce), "check_identity: openid email, the nonce");
	free(url);
	acct.provider = ms;
	acct.authorize_endpoint = ep2;
	url = mb_code_auth_url(&acct, &s);
	tap_ok(url != NULL && strstr(url, "/auth?response_type") &&
	   strstr(url, "access_type") == NULL && strstr(url, "prompt") == NULL,
	   "Microsoft: no access_type, no prompt");
	free(url);
	acct.scope = mscope;
	url = mb_code_scope(&acct);
	tap_ok(strcmp(url, "https://outlook.office.com/SMTP.Send "
	   "offline_access openid email profile") == 0,
	   "Microsoft, check_identity: openid email profile added");
	free(url);
	acct.scope = gscope;
	tap_ok(mb_code_check_account(&acct, false, &err) < 0 &&
	   strstr(err, "offline_access") != NULL,
	   "Microsoft without offline_access is refused before any request");
	free(err);
	err = NULL;
	acct.scope = mscope;
	tap_ok(mb_code_check_account(&acct, false, &err) == 0,
	   "... and accepted with it");
	tap_ok(mb_code_check_account(&acct, true, &err) < 0 &&
	   strstr(err, "device_endpoint") != NULL,
	   "--device without a device_endpoint is refused");
	free(err);
	mb_code_session_clear(&s);
}

static void
test_redirect(void)
{
	struct mb_account acct;
	struct mb_code_session s;
	struct mb_code_redirect r;
	char q[256], *err = NULL, name[] = "a", generic[] = "generic";

	memset(&acct, 0, sizeof(acct));
	acct.name = name;
	acct.provider = generic;
	mb_code_session_init(&s, "http://127.0.0.1:8/", &err);
	tap_ok(mb_code_parse_query("code=a%2Fb+c&state=x&other=1#frag=2",
				   &r) == 0 && strcmp(r.code, "a/b c") == 0 &&
	       strcmp(r.state, "x") == 0,
	   "query: percent and '+' decoded, unknown names and fragment "
	   "ignored");
	mb_code_redirect_clear(&r);
	tap_ok(mb_code_parse_query("code=1&code=2", &r) < 0,
	   "a parameter given twice is refused (RFC 6749 3.1)");
	tap_ok(mb_code_parse_query("code=%4", &r) < 0 &&
	   mb_code_parse_query("code=%00x", &r) < 0,
	   "a bad escape or a NUL is refused");
	snprintf(q, sizeof(q), "code=abc&state=%s", s.state);
	mb_code_parse_query(q, &r);
	tap_ok(mb_code_check_redirect(&acct, &r, &s, &err) == MB_AUTH_OK,
	   "the right state and a code: accepted");
	mb_code_redirect_clear(&r);
	snprintf(q, sizeof(q), "code=abc&state=%.42s", s.state);
	mb_code_parse_query(q, &r);
	tap_ok(mb_code_check_redirect(&acct, &r, &s, &err) == MB_AUTH_DENIED &&
	   strstr(err, "does not match") != NULL,
	   "a state one character short: refused");
	free(err);
	err = NULL;
	mb_code_redirect_clear(&r);
	mb_code_parse_query("code=abc", &r);
	tap_ok(mb_code_check_redirect(&acct, &r, &s, &err) == MB_AUTH_DENIED &&
	   strstr(err, "no state") != NULL, "no state: refused");
	free(err);
	err = NULL;
	mb_code_redirect_clear(&r);
	snprintf(q, sizeof(q), "error=access_denied&state=%s", s.state);
	mb_code_parse_query(q, &r);
	tap_ok(mb_code_check_redirect(&acct, &r, &s, &err) == MB_AUTH_DENIED &&
	   strstr(err, "declined") != NULL, "access_denied: refused, advised");
	free(err);
	err = NULL;
	mb_code_redirect_clear(&r);
	/* A forged error must not bypass the state check. */
	mb_code_parse_query("error=access_denied&state=forged", &r);
	tap_ok(mb_code_check_redirect(&acct, &r, &s, &err) == MB_AUTH_DENIED &&
	   strstr(err, "does not match") != NULL,
	   "an error with a wrong state is judged on the state");
	free(err);
	mb_code_redirect_clear(&r);
	mb_code_session_clear(&s);
}

static void
test_advice(void)
{
	static const struct {
		const char *error;
		long aadsts;
		const char *has;
		enum mb_auth_status st;
	} cases[] = {
		{ "invalid_client", 0, "client_id and client_secret_file",
		  MB_AUTH_CLIENT },
		{ "unauthorized_client", 0, "Desktop app", MB_AUTH_CLIENT },
		{ "invalid_scope", 0, "never with --device", MB_AUTH_CLIENT },
		{ "invalid_client", 7000218, "Allow public client flows",
		  MB_AUTH_CLIENT },
		{ "invalid_request", 700025, "must not send a secret",
		  MB_AUTH_CLIENT },
		{ "access_denied", 0, "declined", MB_AUTH_DENIED },
		{ "authorization_declined", 0, "declined", MB_AUTH_DENIED },
		{ "expired_token", 0, "expired before", MB_AUTH_DENIED },
		{ "invalid_grant", 0, "not issued for this verifier",
		  MB_AUTH_DENIED },
		{ "authorization_pending", 0, "refused the authorization",
		  MB_AUTH_TRANSIENT },
	};
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const char *a = mb_advice_authorize("microsoft",
						    cases[i].error,
						    cases[i].aadsts);

		tap_ok(strstr(a, cases[i].has) != NULL &&
		   mb_grant_error_status(cases[i].error, cases[i].aadsts) ==
		   cases[i].st, "%s %ld: \"%s\"", cases[i].error,
		   cases[i].aadsts, cases[i].has);
	}
}

int
main(void)
{
	test_s256();
	test_session();
	test_url();
	test_redirect();
	test_advice();
	return tap_done();
}
