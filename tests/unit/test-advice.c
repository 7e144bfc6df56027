/* SPDX-License-Identifier: MIT */
#include <config.h>

#include <string.h>

#include "advice.h"
#include "tap.h"

/* Classification table: what the provider said -> kind and advice. */
static const struct {
	long status;
	const char *error;
	long aadsts;
	const char *provider;
	enum mb_fail_kind kind;
	const char *advice_has;
} cases[] = {
	{ 0, NULL, 0, "google", MB_FAIL_TRANSIENT, "could not be reached" },
	{ 500, NULL, 0, "google", MB_FAIL_TRANSIENT, "server error" },
	{ 503, NULL, 0, "microsoft", MB_FAIL_TRANSIENT, "server error" },
	{ 429, NULL, 0, "google", MB_FAIL_TRANSIENT, "rate-limiting" },
	{ 200, NULL, 0, "generic", MB_FAIL_TRANSIENT, "unusable" },
	{ 400, "invalid_grant", 0, "google", MB_FAIL_GRANT, "7 days" },
	{ 400, "invalid_grant", 0, "google", MB_FAIL_GRANT, "Testing" },
	{ 400, "invalid_grant", 0, "microsoft", MB_FAIL_GRANT,
	  "mailbearer authorize" },
	{ 400, "invalid_grant", 0, "generic", MB_FAIL_GRANT,
	  "expired or revoked" },
	{ 400, "invalid_grant", 700082, "microsoft", MB_FAIL_GRANT,
	  "90 days" },
	{ 400, "invalid_grant", 50173, "microsoft", MB_FAIL_GRANT,
	  "password" },
	{ 400, "invalid_grant", 70043, "microsoft", MB_FAIL_GRANT,
	  "sign-in frequency" },
	{ 400, "invalid_grant", 70000, "microsoft", MB_FAIL_GRANT,
	  "not valid" },
	{ 401, "invalid_client", 7000218, "microsoft", MB_FAIL_CLIENT,
	  "Allow public client flows" },
	{ 400, "invalid_request", 700025, "microsoft", MB_FAIL_CLIENT,
	  "public client" },
	{ 401, "invalid_client", 7000215, "microsoft", MB_FAIL_CLIENT,
	  "secret is wrong" },
	{ 400, "unauthorized_client", 700016, "microsoft", MB_FAIL_CLIENT,
	  "client_id" },
	{ 401, "invalid_client", 0, "google", MB_FAIL_CLIENT,
	  "OAuth client was not found" },
	{ 400, "unauthorized_client", 0, "generic", MB_FAIL_CLIENT,
	  "refresh_token grant" },
	{ 400, "invalid_scope", 0, "generic", MB_FAIL_GRANT, "scope" },
	{ 503, "temporarily_unavailable", 0, "generic", MB_FAIL_TRANSIENT,
	  "temporarily" },
	{ 500, "server_error", 0, "generic", MB_FAIL_TRANSIENT, "internal" },
	/* Unknown codes must never cost the refresh token. */
	{ 400, "something_new", 0, "generic", MB_FAIL_TRANSIENT,
	  "unrecognised" },
	{ 400, "invalid_grant", 999999, "microsoft", MB_FAIL_GRANT,
	  "Microsoft refused" },
	{ 400, "invalid_grant", 0, NULL, MB_FAIL_GRANT, "expired or revoked" },
	/* A failing server is no judge of the grant or the client. */
	{ 500, "invalid_grant", 0, "google", MB_FAIL_TRANSIENT,
	  "refresh token is kept" },
	{ 503, "invalid_grant", 700082, "microsoft", MB_FAIL_TRANSIENT,
	  "server failure" },
	{ 502, "invalid_client", 0, "generic", MB_FAIL_TRANSIENT,
	  "retried later" },
	{ 429, "invalid_grant", 0, "generic", MB_FAIL_TRANSIENT,
	  "retried later" },
	{ 599, "invalid_scope", 0, "generic", MB_FAIL_TRANSIENT,
	  "retried later" },
};

/* A client that signs an assertion with its certificate: advice about
 * its credentials names the certificate, never a secret. */
static const struct {
	long status;
	const char *error;
	long aadsts;
} cert_cases[] = {
	{ 401, "invalid_client", 7000215 },
	{ 401, "invalid_client", 7000222 },
	{ 401, "invalid_client", 0 },
};

static void
test_certificate(void)
{
	size_t i;

	for (i = 0; i < sizeof(cert_cases) / sizeof(cert_cases[0]); i++) {
		struct mb_fail_input in = {
			.http_status = cert_cases[i].status,
			.error = cert_cases[i].error,
			.aadsts = cert_cases[i].aadsts,
			.provider = "microsoft",
			.certificate = true,
		};
		const char *advice = NULL;

		tap_ok(mb_advice_classify(&in, &advice) == MB_FAIL_CLIENT,
		       "certificate, AADSTS%ld: client", cert_cases[i].aadsts);
		if (!tap_ok(advice != NULL &&
			    strstr(advice, "client_certificate_file") != NULL &&
			    strstr(advice, "client secret") == NULL &&
			    strstr(advice, "client_secret_file") == NULL,
			    "certificate, AADSTS%ld: certificate advice, no "
			    "secret advice", cert_cases[i].aadsts))
			tap_diag("advice: %s", advice ? advice : "(null)");
	}
}

/* A service account (Google's JWT-bearer grant): its refusals point at
 * the Admin console, the user or the clock; never at a refresh token. */
static const struct {
	const char *error;
	const char *has;
} sa_cases[] = {
	{ "unauthorized_client", "Manage Domain Wide Delegation" },
	{ "unauthorized_client", "https://mail.google.com/" },
	{ "invalid_grant", "must be an existing mailbox" },
	{ "invalid_grant", "this host's clock" },
	{ "invalid_client", "service_account_file" },
};

static void
test_service_account(void)
{
	size_t i;

	for (i = 0; i < sizeof(sa_cases) / sizeof(sa_cases[0]); i++) {
		struct mb_fail_input in = {
			.http_status = 400,
			.error = sa_cases[i].error,
			.provider = "google",
			.service_account = true,
		};
		const char *advice = NULL;

		tap_ok(mb_advice_classify(&in, &advice) == MB_FAIL_CLIENT,
		       "service account, %s: client (nothing to "
		       "authorize)", sa_cases[i].error);
		if (!tap_ok(advice != NULL &&
			    strstr(advice, sa_cases[i].has) != NULL &&
			    strstr(advice, "refresh token") == NULL,
			    "service account, %s: says \"%s\"",
			    sa_cases[i].error, sa_cases[i].has))
			tap_diag("advice: %s", advice ? advice : "(null)");
	}
}

int
main(void)
{
	size_t i;

	tap_plan((int)(sizeof(cases) / sizeof(cases[0])) * 2 + 3 +
		 (int)(sizeof(cert_cases) / sizeof(cert_cases[0])) * 2 +
		 (int)(sizeof(sa_cases) / sizeof(sa_cases[0])) * 2);
	test_certificate();
	test_service_account();
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct mb_fail_input in = {
			.http_status = cases[i].status,
			.error = cases[i].error,
			.aadsts = cases[i].aadsts,
			.provider = cases[i].provider,
		};
		const char *advice = NULL;
		enum mb_fail_kind k = mb_advice_classify(&in, &advice);

		tap_ok(k == cases[i].kind, "case %zu (%ld %s AADSTS%ld %s) is "
		       "%s", i, cases[i].status,
		       cases[i].error ? cases[i].error : "-", cases[i].aadsts,
		       cases[i].provider ? cases[i].provider : "-",
		       mb_fail_kind_name(cases[i].kind));
		if (!tap_ok(advice != NULL &&
			    strstr(advice, cases[i].advice_has) != NULL,
			    "case %zu advice mentions \"%s\"", i,
			    cases[i].advice_has))
			tap_diag("advice: %s", advice ? advice : "(null)");
	}
	tap_is_str(mb_fail_kind_name(MB_FAIL_GRANT), "grant", "kind name");
	tap_is_str(mb_fail_kind_name(MB_FAIL_CLIENT), "client", "kind name");
	tap_is_str(mb_fail_kind_name(MB_FAIL_TRANSIENT), "transient",
		   "kind name");
	return tap_done();
}
