/* SPDX-License-Identifier: MIT */
#include <config.h>

/* tokenhelper/id-token.c: what `mailbearer authorize` accepts of an
 * OpenID Connect id_token (issuer per provider and tenant, audience as a
 * string or an array, expiry with its skew, nonce, Google's
 * email_verified, the claims that name the user per provider), and that
 * a broken token or reply is refused rather than read. */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base64.h"
#include "id-token.h"
#include "tap.h"

#define NOW 1800000000L
#define MS_TID "11111111-2222-4333-8444-555555555555"
#define MS_TOKEN "https://login.example/" MS_TID "/oauth2/v2.0/token"
#define MS_ISS "https://login.example/" MS_TID "/v2.0"
#define OTHER_TID "99999999-2222-4333-8444-555555555555"

/* "e30.<claims>.sig" (header {}), malloc'd. */
static char *
jwt(const char *claims)
{
	size_t n = mb_base64url_len(strlen(claims)) + 1;
	char *p = malloc(n), *out;

	mb_base64url_encode(p, n, claims, strlen(claims));
	out = malloc(n + 16);
	snprintf(out, n + 16, "e30.%s.sig", p);
	free(p);
	return out;
}

static const struct {
	const char *name;
	const char *provider;
	const char *tenant;
	const char *nonce;
	const char *claims;
	enum mb_id_result want;
	const char *who_or_why;	/* who (OK, MISMATCH) or part of why */
} cases[] = {
	{ "google: email, verified", "google", NULL, "n1",
	  "{\"iss\":\"https://accounts.google.com\",\"aud\":\"cid\","
	  "\"exp\":1800000100,\"nonce\":\"n1\",\"email\":\"Alice@Example.com\","
	  "\"email_verified\":true}", MB_ID_OK, "Alice@Example.com" },
	{ "google: the issuer without https://", "google", NULL, NULL,
	  "{\"iss\":\"accounts.google.com\",\"aud\":\"cid\",\"exp\":1800000100,"
	  "\"email\":\"alice@example.com\",\"email_verified\":\"true\"}",
	  MB_ID_OK, "alice@example.com" },
	{ "google: someone else", "google", NULL, NULL,
	  "{\"iss\":\"https://accounts.google.com\",\"aud\":\"cid\","
	  "\"exp\":1800000100,\"email\":\"bob@example.com\","
	  "\"email_verified\":true}", MB_ID_MISMATCH, "bob@example.com" },
	{ "google: email not verified", "google", NULL, NULL,
	  "{\"iss\":\"https://accounts.google.com\",\"aud\":\"cid\","
	  "\"exp\":1800000100,\"email\":\"alice@example.com\"}",
	  MB_ID_INVALID, "is not verified" },
	{ "google: preferred_username does not count", "google", NULL, NULL,
	  "{\"iss\":\"https://accounts.google.com\",\"aud\":\"cid\","
	  "\"exp\":1800000100,\"email_verified\":true,"
	  "\"preferred_username\":\"alice@example.com\"}",
	  MB_ID_INVALID, "names nobody (no email)" },
	{ "google: another issuer", "google", NULL, NULL,
	  "{\"iss\":\"https://accounts.google.com.evil\",\"aud\":\"cid\","
	  "\"exp\":1800000100,\"email\":\"alice@example.com\","
	  "\"email_verified\":true}", MB_ID_INVALID, "issuer is" },
	{ "aud: an array holding the client, azp ours", "google", NULL, NULL,
	  "{\"iss\":\"https://accounts.google.com\",\"aud\":[\"x\",\"cid\"],"
	  "\"azp\":\"cid\",\"exp\":1800000100,"
	  "\"email\":\"alice@example.com\",\"email_verified\":true}",
	  MB_ID_OK, "alice@example.com" },
	{ "aud: several audiences, no azp", "google", NULL, NULL,
	  "{\"iss\":\"https://accounts.google.com\",\"aud\":[\"x\",\"cid\"],"
	  "\"exp\":1800000100,\"email\":\"alice@example.com\","
	  "\"email_verified\":true}", MB_ID_INVALID, "another client" },
	{ "azp: another client", "google", NULL, NULL,
	  "{\"iss\":\"https://accounts.google.com\",\"aud\":\"cid\","
	  "\"azp\":\"x\",\"exp\":1800000100,"
	  "\"email\":\"alice@example.com\",\"email_verified\":true}",
	  MB_ID_INVALID, "another client" },
	{ "aud: a one-element array", "google", NULL, NULL,
	  "{\"iss\":\"https://accounts.google.com\",\"aud\":[\"cid\"],"
	  "\"exp\":1800000100,\"email\":\"alice@example.com\","
	  "\"email_verified\":true}", MB_ID_OK, "alice@example.com" },
	{ "aud: an array without it", "google", NULL, NULL,
	  "{\"iss\":\"https://accounts.google.com\",\"aud\":[\"x\"],"
	  "\"exp\":1800000100,\"email\":\"alice@example.com\","
	  "\"email_verified\":true}", MB_ID_INVALID, "another client" },
	{ "exp: within the 300 s skew", "google", NULL, NULL,
	  "{\"iss\":\"https://accounts.google.com\",\"aud\":\"cid\","
	  "\"exp\":1799999800,\"email\":\"alice@example.com\","
	  "\"email_verified\":true}", MB_ID_OK, "alice@example.com" },
	{ "exp: past the skew", "google", NULL, NULL,
	  "{\"iss\":\"https://accounts.google.com\",\"aud\":\"cid\","
	  "\"exp\":1799999700,\"email\":\"alice@example.com\","
	  "\"email_verified\":true}", MB_ID_INVALID, "has expired" },
	{ "exp: the largest integer (no overflow adding the skew)", "google",
	  NULL, NULL,
	  "{\"iss\":\"https://accounts.google.com\",\"aud\":\"cid\","
	  "\"exp\":9223372036854775807,\"email\":\"alice@example.com\","
	  "\"email_verified\":true}", MB_ID_OK, "alice@example.com" },
	{ "exp: a string", "google", NULL, NULL,
	  "{\"iss\":\"https://accounts.google.com\",\"aud\":\"cid\","
	  "\"exp\":\"1800000100\",\"email\":\"alice@example.com\","
	  "\"email_verified\":true}", MB_ID_INVALID, "no expiry" },
	{ "nonce: another", "google", NULL, "n1",
	  "{\"iss\":\"https://accounts.google.com\",\"aud\":\"cid\","
	  "\"exp\":1800000100,\"nonce\":\"n2\",\"email\":\"alice@example.com\","
	  "\"email_verified\":true}", MB_ID_INVALID, "nonce" },
	{ "microsoft: preferred_username, common tenant", "microsoft",
	  "common", NULL,
	  "{\"iss\":\"" MS_ISS "\",\"tid\":\"" MS_TID "\",\"aud\":\"cid\","
	  "\"exp\":1800000100,\"preferred_username\":\"alice@example.com\"}",
	  MB_ID_OK, "alice@example.com" },
	{ "microsoft: the upn matches", "microsoft", NULL, NULL,
	  "{\"iss\":\"" MS_ISS "\",\"tid\":\"" MS_TID "\",\"aud\":\"cid\","
	  "\"exp\":1800000100,\"preferred_username\":\"a.l@example.com\","
	  "\"upn\":\"alice@example.com\"}", MB_ID_OK, "alice@example.com" },
	{ "microsoft: the configured tenant", "microsoft", MS_TID, NULL,
	  "{\"iss\":\"" MS_ISS "\",\"tid\":\"" MS_TID "\",\"aud\":\"cid\","
	  "\"exp\":1800000100,\"email\":\"alice@example.com\"}",
	  MB_ID_OK, "alice@example.com" },
	{ "microsoft: another tenant than configured", "microsoft",
	  "99999999-2222-4333-8444-555555555555", NULL,
	  "{\"iss\":\"" MS_ISS "\",\"tid\":\"" MS_TID "\",\"aud\":\"cid\","
	  "\"exp\":1800000100,\"email\":\"alice@example.com\"}",
	  MB_ID_INVALID, "of tenant" },
	{ "microsoft: a tenant named by its domain: email alone is no one's",
	  "microsoft", "contoso.onmicrosoft.com", NULL,
	  "{\"iss\":\"" MS_ISS "\",\"tid\":\"" MS_TID "\",\"aud\":\"cid\","
	  "\"exp\":1800000100,\"email\":\"alice@example.com\"}",
	  MB_ID_INVALID, "names nobody" },
	{ "microsoft: a tenant named by its domain, its UPN", "microsoft",
	  "contoso.onmicrosoft.com", NULL,
	  "{\"iss\":\"" MS_ISS "\",\"tid\":\"" MS_TID "\",\"aud\":\"cid\","
	  "\"exp\":1800000100,\"preferred_username\":\"alice@example.com\"}",
	  MB_ID_OK, "alice@example.com" },
	/* nOAuth: bob runs a tenant of his own and types alice's address
	 * as his email there */
	{ "microsoft: common tenant, another tenant's user whose email is "
	  "the user", "microsoft", "common", NULL,
	  "{\"iss\":\"https://login.example/" OTHER_TID "/v2.0\","
	  "\"tid\":\"" OTHER_TID "\",\"aud\":\"cid\",\"exp\":1800000100,"
	  "\"preferred_username\":\"bob@evil.example\","
	  "\"email\":\"alice@example.com\"}",
	  MB_ID_MISMATCH, "bob@evil.example" },
	{ "microsoft: common tenant, email whose domain owner is verified "
	  "(xms_edov)", "microsoft", "common", NULL,
	  "{\"iss\":\"" MS_ISS "\",\"tid\":\"" MS_TID "\",\"aud\":\"cid\","
	  "\"exp\":1800000100,\"preferred_username\":\"a.l@example.com\","
	  "\"email\":\"alice@example.com\",\"xms_edov\":true}",
	  MB_ID_OK, "alice@example.com" },
	{ "microsoft: an issuer of another tenant", "microsoft", NULL, NULL,
	  "{\"iss\":\"https://login.example/other/v2.0\",\"tid\":\"" MS_TID
	  "\",\"aud\":\"cid\",\"exp\":1800000100,"
	  "\"email\":\"alice@example.com\"}", MB_ID_INVALID, "issuer is" },
	{ "microsoft: no tid", "microsoft", NULL, NULL,
	  "{\"iss\":\"" MS_ISS "\",\"aud\":\"cid\",\"exp\":1800000100,"
	  "\"email\":\"alice@example.com\"}", MB_ID_INVALID, "no tenant" },
	{ "generic: any issuer, preferred_username", "generic", NULL, NULL,
	  "{\"iss\":\"https://id.example\",\"aud\":\"cid\",\"exp\":1800000100,"
	  "\"preferred_username\":\"ALICE@example.com\"}",
	  MB_ID_OK, "ALICE@example.com" },
	{ "generic: email_verified false", "generic", NULL, NULL,
	  "{\"aud\":\"cid\",\"exp\":1800000100,\"email\":\"alice@example.com\","
	  "\"email_verified\":false}", MB_ID_INVALID, "not verified" },
};

static void
test_cases(void)
{
	struct mb_id_expect x = {
		.client_id = "cid", .token_endpoint = MS_TOKEN,
		.user = "alice@example.com", .now = NOW,
	};
	enum mb_id_result r;
	char *t, *who, *why;
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		x.provider = cases[i].provider;
		x.tenant = cases[i].tenant;
		x.nonce = cases[i].nonce;
		t = jwt(cases[i].claims);
		r = mb_id_token_check(t, &x, &who, &why);
		tap_ok(r == cases[i].want, "%s: result %d", cases[i].name,
		       (int)r);
		if (r == MB_ID_INVALID)
			tap_ok(why != NULL && who == NULL &&
			       strstr(why, cases[i].who_or_why) != NULL,
			       "%s: says \"%s\" (%s)", cases[i].name,
			       cases[i].who_or_why, why ? why : "NULL");
		else
			tap_ok(who != NULL && why == NULL &&
			       strcmp(who, cases[i].who_or_why) == 0,
			       "%s: names %s", cases[i].name,
			       cases[i].who_or_why);
		free(who);
		free(why);
		free(t);
	}
}

static void
test_broken(void)
{
	static const char *const bad[] = {
		"", "e30", "e30.", "e30.!!!.sig", "e30.e30", "e30.W10.sig",
		"e30.bm90IGpzb24.sig",
	};
	struct mb_id_expect x = {
		.provider = "generic", .client_id = "cid", .user = "a",
		.now = NOW,
	};
	char *who, *why;
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		tap_ok(mb_id_token_check(bad[i], &x, &who, &why) ==
		       MB_ID_INVALID && who == NULL && why != NULL,
		       "not a JWT with a JSON object: \"%s\"", bad[i]);
		free(why);
	}
}

static void
test_reply(void)
{
	static const char ok[] = "{\"access_token\":\"at\",\"id_token\":"
				 "\"e30.e30.sig\",\"refresh_token\":\"rt\"}";
	static const char none[] = "{\"access_token\":\"at\"}";
	static const char num[] = "{\"id_token\":5}";
	static const char junk[] = "{\"id_token\":\"x\"";
	char *t;

	t = mb_id_token_from_reply(ok, strlen(ok));
	tap_ok(t != NULL && strcmp(t, "e30.e30.sig") == 0,
	       "the reply's id_token");
	free(t);
	tap_ok(mb_id_token_from_reply(none, strlen(none)) == NULL,
	       "a reply without an id_token");
	tap_ok(mb_id_token_from_reply(num, strlen(num)) == NULL,
	       "an id_token that is not a string");
	tap_ok(mb_id_token_from_reply(junk, strlen(junk)) == NULL,
	       "a reply that is not JSON");
}

int
main(void)
{
	test_cases();
	test_broken();
	test_reply();
	return tap_done();
}
