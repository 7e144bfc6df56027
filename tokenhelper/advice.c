/* SPDX-License-Identifier: MIT */
#include <config.h>

#include "advice.h"

#include <stddef.h>
#include <string.h>

/* Microsoft identity platform codes (PROVIDERS.md section 3). */
static const struct {
	long code;
	enum mb_fail_kind kind;
	const char *advice;
} aadsts_table[] = {
	{ 700082, MB_FAIL_GRANT,
	  "the refresh token expired after 90 days without use; run "
	  "`mailbearer authorize`, and keep `mailbearer serve` running (it "
	  "refreshes idle accounts) so that this does not happen again" },
	{ 50173, MB_FAIL_GRANT,
	  "the grant was revoked, usually because the password was changed "
	  "or reset; run `mailbearer authorize`" },
	{ 70043, MB_FAIL_GRANT,
	  "the refresh token expired because of a Conditional Access "
	  "sign-in frequency policy; run `mailbearer authorize`, and ask "
	  "the tenant administrator to exempt unattended mail clients" },
	{ 70008, MB_FAIL_GRANT,
	  "the refresh token has expired or was revoked; run `mailbearer "
	  "authorize`" },
	{ 70000, MB_FAIL_GRANT,
	  "the refresh token is not valid (revoked, or issued to another "
	  "client or tenant); run `mailbearer authorize`" },
	{ 50076, MB_FAIL_GRANT,
	  "multi-factor authentication is required again; run `mailbearer "
	  "authorize`" },
	{ 50079, MB_FAIL_GRANT,
	  "the user must register for multi-factor authentication; run "
	  "`mailbearer authorize` after doing so" },
	{ 65001, MB_FAIL_GRANT,
	  "the user or administrator has not consented to the scopes; run "
	  "`mailbearer authorize` (an administrator may have to grant "
	  "consent)" },
	{ 7000218, MB_FAIL_CLIENT,
	  "the app registration is a confidential client and requires a "
	  "secret: set client_secret_file, or enable \"Allow public client "
	  "flows\" in the app registration" },
	{ 700025, MB_FAIL_CLIENT,
	  "the app registration is a public client, which must not send a "
	  "secret: remove client_secret / client_secret_file" },
	{ 7000215, MB_FAIL_CLIENT,
	  "the client secret is wrong: copy the secret's Value (not its "
	  "ID) from the app registration into client_secret_file" },
	{ 7000222, MB_FAIL_CLIENT,
	  "the client secret has expired: create a new one in the app "
	  "registration and put it in client_secret_file" },
	{ 700016, MB_FAIL_CLIENT,
	  "the application (client_id) was not found in the tenant: check "
	  "client_id and tenant" },
	{ 700027, MB_FAIL_CLIENT,
	  "the certificate that signed the client assertion is not "
	  "registered on the app registration: upload "
	  "client_certificate_file's certificate under Certificates & "
	  "secrets, or point client_certificate_file and client_key_file at "
	  "the registered pair" },
	{ 700024, MB_FAIL_CLIENT,
	  "the client assertion is outside its valid time range: check "
	  "this host's clock (NTP)" },
	{ 1002012, MB_FAIL_CLIENT,
	  "client credentials need the resource's \".default\" scope: "
	  "scope = https://outlook.office365.com/.default, or remove scope" },
	{ 90002, MB_FAIL_CLIENT,
	  "the tenant was not found: check the tenant setting (common, "
	  "organizations, consumers or the tenant id)" },
};

/* RFC 6749 section 5.2 error codes. */
static const struct {
	const char *error;
	enum mb_fail_kind kind;
	const char *advice;
} error_table[] = {
	{ "invalid_client", MB_FAIL_CLIENT,
	  "the provider does not accept this client: check client_id, the "
	  "client secret and the token endpoint (a wrong client id gives "
	  "\"The OAuth client was not found\")" },
	{ "unauthorized_client", MB_FAIL_CLIENT,
	  "this client may not use the refresh_token grant: check the app "
	  "registration's client type and allowed flows" },
	{ "unsupported_grant_type", MB_FAIL_CLIENT,
	  "the token endpoint does not support refresh tokens: check "
	  "token_endpoint" },
	{ "invalid_request", MB_FAIL_CLIENT,
	  "the provider rejected the request as malformed: check "
	  "token_endpoint, client_id and the client secret" },
	{ "invalid_scope", MB_FAIL_GRANT,
	  "the configured scope was not granted to this refresh token; run "
	  "`mailbearer authorize` to consent to it" },
	{ "server_error", MB_FAIL_TRANSIENT,
	  "the provider reported an internal error; retrying later" },
	{ "temporarily_unavailable", MB_FAIL_TRANSIENT,
	  "the provider is temporarily unavailable; retrying later" },
};

static const char google_invalid_grant[] =
	"Google refused the refresh token (expired or revoked): if the "
	"OAuth consent screen is in \"Testing\" mode, refresh tokens expire "
	"after 7 days (set it to \"In production\"); otherwise access was "
	"revoked, the password was changed, or the token was unused for 6 "
	"months; run `mailbearer authorize`";
static const char microsoft_invalid_grant[] =
	"Microsoft refused the refresh token (expired, revoked, or issued "
	"for another client or tenant); run `mailbearer authorize`";
static const char generic_invalid_grant[] =
	"the provider refused the refresh token (expired or revoked); run "
	"`mailbearer authorize`";

/* The client's credentials refused, for a client that signs an
 * assertion with its certificate: no secret was sent, so advice about a
 * secret would send the administrator the wrong way. */
static const char certificate_refused[] =
	"the provider refused the client's credentials: this account signs "
	"a client assertion with client_certificate_file (no secret is "
	"sent); upload that certificate under Certificates & secrets of the "
	"app registration (client_id), or point client_certificate_file and "
	"client_key_file at the registered pair, and check client_id and "
	"tenant";

/* Google's JWT-bearer grant for a service account (flow =
 * service_account): what its two usual refusals mean. */
static const char sa_unauthorized[] =
	"domain-wide delegation is not granted to this service account: in "
	"the Google Admin console (admin.google.com), Security > Access and "
	"data control > API controls > Manage Domain Wide Delegation, add "
	"the service account's client ID (the numeric client_id in "
	"service_account_file) with the scope https://mail.google.com/ (or "
	"the account's scope); a new grant may take some minutes to apply";
static const char sa_invalid_grant[] =
	"Google refused the service account's assertion: user (the JWT's "
	"sub) must be an existing mailbox of the Workspace domain that "
	"granted the delegation, or this host's clock is wrong (the "
	"assertion's iat/exp must match Google's time: check NTP with "
	"timedatectl); also check that the key in service_account_file has "
	"not been deleted";
static const char sa_invalid_client[] =
	"the provider does not accept the service account's key: the key "
	"in service_account_file may have been deleted or disabled (Google "
	"Cloud console: IAM & Admin > Service accounts > the account > "
	"Keys); create a new JSON key";

/* flow = service_account: a refusal's advice, NULL for the others. */
static const char *
advice_service_account(const struct mb_fail_input *in)
{
	if (!in->service_account || in->error == NULL)
		return NULL;
	if (strcmp(in->error, "unauthorized_client") == 0 ||
	    strcmp(in->error, "access_denied") == 0)
		return sa_unauthorized;
	if (strcmp(in->error, "invalid_grant") == 0)
		return sa_invalid_grant;
	if (strcmp(in->error, "invalid_client") == 0)
		return sa_invalid_client;
	return NULL;
}

static enum mb_fail_kind
advice_by_content(const struct mb_fail_input *in, const char **advice_r)
{
	const char *prov = in->provider != NULL ? in->provider : "generic";
	size_t i;

	if (in->certificate && (in->aadsts == 7000215 ||
	    in->aadsts == 7000222 || (in->aadsts <= 0 && in->error != NULL &&
	    strcmp(in->error, "invalid_client") == 0))) {
		*advice_r = certificate_refused;
		return MB_FAIL_CLIENT;
	}

	/* Nothing to refresh and nothing lost: the fix is in the Admin
	 * console, the key, the user or the clock, and the next request
	 * tries again. */
	*advice_r = advice_service_account(in);
	if (*advice_r != NULL)
		return MB_FAIL_CLIENT;

	/* A specific AADSTS code beats the generic error name. */
	if (in->aadsts > 0) {
		for (i = 0; i < sizeof(aadsts_table) / sizeof(aadsts_table[0]);
		     i++) {
			if (aadsts_table[i].code == in->aadsts) {
				*advice_r = aadsts_table[i].advice;
				return aadsts_table[i].kind;
			}
		}
	}
	if (in->error != NULL) {
		if (strcmp(in->error, "invalid_grant") == 0) {
			*advice_r = strcmp(prov, "google") == 0 ?
				google_invalid_grant :
				strcmp(prov, "microsoft") == 0 ?
				microsoft_invalid_grant :
				generic_invalid_grant;
			return MB_FAIL_GRANT;
		}
		for (i = 0; i < sizeof(error_table) / sizeof(error_table[0]);
		     i++) {
			if (strcmp(error_table[i].error, in->error) == 0) {
				*advice_r = error_table[i].advice;
				return error_table[i].kind;
			}
		}
		/* Unknown codes never cost the refresh token. */
		*advice_r = "the provider returned an unrecognised error; "
			    "retrying later";
		return MB_FAIL_TRANSIENT;
	}
	if (in->http_status == 0)
		*advice_r = "the token endpoint could not be reached; "
			    "retrying later";
	else if (in->http_status == 429)
		*advice_r = "the provider is rate-limiting requests; "
			    "retrying later";
	else if (in->http_status >= 500)
		*advice_r = "the provider had a server error; retrying later";
	else
		*advice_r = "the token endpoint gave an unusable response; "
			    "retrying later";
	return MB_FAIL_TRANSIENT;
}

enum mb_fail_kind
mb_advice_classify(const struct mb_fail_input *in, const char **advice_r)
{
	enum mb_fail_kind kind = advice_by_content(in, advice_r);

	/* A server that failed (5xx) or sheds load (429) is no judge of
	 * the grant: an "invalid_grant" in such a reply may come from a
	 * broken replica or a proxy, and believing it would stop the
	 * account until someone runs `mailbearer authorize`. */
	if (kind != MB_FAIL_TRANSIENT &&
	    (in->http_status >= 500 || in->http_status == 429)) {
		*advice_r = "the provider reported this error together with "
			    "a server failure (HTTP 5xx or 429), which does "
			    "not prove the grant dead; the refresh token is "
			    "kept and the refresh retried later";
		kind = MB_FAIL_TRANSIENT;
	}
	return kind;
}

const char *
mb_fail_kind_name(enum mb_fail_kind kind)
{
	switch (kind) {
	case MB_FAIL_GRANT:
		return "grant";
	case MB_FAIL_CLIENT:
		return "client";
	case MB_FAIL_TRANSIENT:
	default:
		return "transient";
	}
}

/* `mailbearer authorize`: errors of the authorization request, the code
 * exchange and the device flow (PROVIDERS.md sections 2 and 3). */
static const struct {
	const char *error;
	long aadsts;
	const char *advice;
} authorize_table[] = {
	{ NULL, 7000218,
	  "the app registration is a confidential client and wants a "
	  "secret: turn on \"Allow public client flows\" (Authentication "
	  "page of the app registration) or set client_secret_file" },
	{ NULL, 700025,
	  "the app registration is a public client, which must not send a "
	  "secret: remove client_secret / client_secret_file" },
	{ NULL, 7000215,
	  "the client secret is wrong: copy the secret's Value (not its "
	  "ID) into client_secret_file" },
	{ NULL, 700016,
	  "the application (client_id) was not found in this tenant: check "
	  "client_id and tenant" },
	{ "invalid_client", 0,
	  "the provider does not know this client or its secret: check "
	  "client_id and client_secret_file (Google: an OAuth client of type "
	  "\"Desktop app\"; Microsoft: the Application (client) ID)" },
	{ "unauthorized_client", 0,
	  "this client may not use this flow: Google needs a \"Desktop "
	  "app\" client; Microsoft needs the \"Mobile and desktop "
	  "applications\" platform with http://localhost, and \"Allow public "
	  "client flows\" for --device" },
	{ "invalid_scope", 0,
	  "the provider refused the configured scope: check scope (Google: "
	  "https://mail.google.com/, never with --device; Microsoft: "
	  "outlook.office.com scopes and offline_access, no Graph scopes)" },
	{ "access_denied", 0,
	  "the user (or an administrator's policy) declined the "
	  "authorization; run `mailbearer authorize` again and accept, or "
	  "ask the administrator to allow the app" },
	{ "authorization_declined", 0,
	  "the user declined the authorization; run `mailbearer authorize` "
	  "again and accept" },
	{ "expired_token", 0,
	  "the code expired before it was entered; run `mailbearer "
	  "authorize --device` again and enter the new code sooner" },
	{ "invalid_grant", 0,
	  "the authorization code was refused (expired, already used, or "
	  "not issued for this verifier and redirect); run `mailbearer "
	  "authorize` again" },
	{ "redirect_uri_mismatch", 0,
	  "the provider does not accept the loopback redirect: Google needs "
	  "a \"Desktop app\" client; Microsoft needs http://localhost under "
	  "\"Mobile and desktop applications\"" },
};

const char *
mb_advice_authorize(const char *provider, const char *error, long aadsts)
{
	size_t i, n = sizeof(authorize_table) / sizeof(authorize_table[0]);

	(void)provider;
	for (i = 0; aadsts > 0 && i < n; i++) {
		if (authorize_table[i].aadsts == aadsts)
			return authorize_table[i].advice;
	}
	for (i = 0; error != NULL && i < n; i++) {
		if (authorize_table[i].error != NULL &&
		    strcmp(authorize_table[i].error, error) == 0)
			return authorize_table[i].advice;
	}
	return "the provider refused the authorization; check the account's "
	       "client_id, scope and endpoints";
}
