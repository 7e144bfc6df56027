/* SPDX-License-Identifier: MIT */
#include <config.h>

/* `mailbearer revoke ACCOUNT [--local]`: revoke the grant at the provider
 * (RFC 7009) where it has an endpoint, then remove the account's local
 * state, under the account's lock. */

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "cmd.h"
#include "errtext.h"
#include "http.h"
#include "json.h"
#include "log.h"
#include "refresh.h"
#include "store.h"
#include "xalloc.h"

static bool revoke_local_only;

/* Why nothing is revoked at the provider, or NULL when it can be. */
static const char *
revoke_impossible(const struct mb_account *a, const struct mb_state *st)
{
	if (a->flow == MB_FLOW_SERVICE_ACCOUNT)
		return "a service account holds no grant to revoke here; its "
		       "access tokens expire on their own (within the hour); "
		       "to cut access now, delete the service account's key "
		       "(Google Cloud console: IAM & Admin > Service accounts "
		       "> the account > Keys) or remove its domain-wide "
		       "delegation (Admin console: Security > Access and data "
		       "control > API controls)";
	if (mb_flow_app_only(a->flow))
		return "a client-credentials account holds no grant to "
		       "revoke; its access tokens expire on their own (within "
		       "the hour); to cut access now, delete the "
		       "application's secret or certificate (Entra ID: App "
		       "registrations > the app > Certificates & secrets) or "
		       "its Exchange Online service principal";
	if (strcmp(a->provider, "microsoft") == 0)
		return "Microsoft has no endpoint to revoke a refresh token: "
		       "it was NOT revoked at Microsoft; to end it, revoke "
		       "the user's sessions in Entra ID (Users > the user > "
		       "Revoke sessions, or Revoke-MgUserSignInSession "
		       "-UserId USER), which ends every refresh token of "
		       "that user, or remove the application's consent "
		       "(Enterprise applications > the app > Permissions)";
	if (a->revocation_endpoint == NULL)
		return "the account sets no revocation_endpoint: the refresh "
		       "token was NOT revoked at the provider; revoke the "
		       "application's access in the provider's account "
		       "settings";
	if (st->refresh_token == NULL)
		return "no refresh token is stored: nothing to revoke at the "
		       "provider";
	return NULL;
}

/* The provider's answer to a failed revocation, secret-free. */
static char *
revoke_reply_text(const struct mb_http_reply *r, const char *const *secrets)
{
	struct mb_token_reply tr;
	char *err = NULL, *text;

	if (mb_json_parse_token_reply(r->body, r->len, &tr, &err) == 0 &&
	    tr.error != NULL)
		text = mb_xasprintf("HTTP %ld, %s%s%s", r->status, tr.error,
				    tr.error_description ? ": " : "",
				    tr.error_description ?
				    tr.error_description : "");
	else
		text = mb_xasprintf("HTTP %ld", r->status);
	mb_token_reply_clear(&tr);
	free(err);
	mb_redact_secrets(text, secrets, 2);
	return text;
}

/* The reply is an RFC 6749 5.2 error object whose "error" is exactly
 * code (not merely a description that mentions it). */
static bool
revoke_error_is(const struct mb_http_reply *r, const char *code)
{
	struct mb_token_reply tr;
	char *err = NULL;
	bool is;

	is = mb_json_parse_token_reply(r->body, r->len, &tr, &err) == 0 &&
	     tr.error != NULL && strcmp(tr.error, code) == 0;
	mb_token_reply_clear(&tr);
	free(err);
	return is;
}

/* Posts the refresh token to the revocation endpoint.  EX_OK when the
 * provider revoked it or says it was no longer valid; otherwise the
 * exit status, after saying why. */
static int
revoke_at_provider(const struct mb_account *a, const struct mb_state *st)
{
	bool google = strcmp(a->provider, "google") == 0;
	const char *secrets[] = { st->refresh_token, a->client_secret };
	/* Google's endpoint takes the token alone; RFC 7009 wants the
	 * client to authenticate as at the token endpoint. */
	const char *fields[] = {
		"token", st->refresh_token,
		"token_type_hint", google ? NULL : "refresh_token",
		"client_id", google ? NULL : a->client_id,
		"client_secret", google ? NULL : a->client_secret,
		NULL,
	};
	struct mb_http_reply r;
	enum mb_http_result res;
	char *err = NULL, *text;
	int ret;

	memset(&r, 0, sizeof(r));
	res = mb_http_post_form(a->revocation_endpoint, a->ca_file,
				a->connect_timeout, a->timeout, fields, &r,
				&err);
	if (res != MB_HTTP_OK) {
		mb_log(LOG_ERR, "account %s: the revocation endpoint %s could "
		       "not be reached: %s; nothing was removed (try again, "
		       "or --local to remove the local state only)", a->name,
		       a->revocation_endpoint, err);
		free(err);
		return res == MB_HTTP_TRANSIENT ? EX_TEMPFAIL : EX_CONFIG;
	}
	text = revoke_reply_text(&r, secrets);
	if (r.status == 200) {
		printf("account %s: refresh token revoked at %s\n", a->name,
		       a->revocation_endpoint);
		ret = EX_OK;
	} else if (r.status == 400 &&
		   revoke_error_is(&r, "invalid_token")) {
		printf("account %s: the provider says the refresh token was "
		       "already invalid (%s)\n", a->name, text);
		ret = EX_OK;
	} else {
		mb_log(LOG_ERR, "account %s: the revocation endpoint %s "
		       "answered %s; nothing was removed (--local removes the "
		       "local state only)", a->name, a->revocation_endpoint,
		       text);
		ret = r.status >= 500 || r.status == 429 ? EX_TEMPFAIL :
		      EX_CONFIG;
	}
	free(text);
	mb_http_reply_clear(&r);
	return ret;
}

/* Under the account's lock: the newest state (a leftover of a crash may
 * hold a rotated refresh token: that is the one to revoke), the
 * revocation, the removal. */
static int
revoke_locked(struct mb_store_lock *lk)
{
	const struct mb_account *a = lk->acct;
	struct mb_state st;
	const char *why;
	char *err = NULL;
	bool found = false;
	int ret = EX_OK, n;

	if (mb_store_recover(lk, &err) < 0) {
		mb_log(LOG_WARNING, "%s", err);
		free(err);
		err = NULL;
	}
	switch (mb_store_read_locked(lk, &st, &err)) {
	case MB_STORE_FOUND:
		found = true;
		break;
	case MB_STORE_MISSING:
		printf("account %s: no tokens are stored\n", a->name);
		break;
	case MB_STORE_CORRUPT:
		mb_log(LOG_WARNING, "%s", err);
		break;
	case MB_STORE_ERROR:
	default:
		mb_log(LOG_ERR, "%s", err);
		free(err);
		return EX_CONFIG;
	}
	free(err);
	why = revoke_impossible(a, &st);
	if (revoke_local_only)
		printf("account %s: --local: the provider is not asked to "
		       "revoke anything\n", a->name);
	else if (why != NULL && found)
		mb_log(LOG_WARNING, "account %s: %s", a->name, why);
	else if (why == NULL)
		ret = revoke_at_provider(a, &st);
	mb_state_clear(&st);
	if (ret != EX_OK)
		return ret;
	n = mb_store_remove(lk, &err);
	if (n < 0) {
		mb_log(LOG_ERR, "%s", err);
		free(err);
		return EX_CONFIG;
	}
	if (mb_flow_app_only(a->flow))
		printf("account %s: %s removed (%d %s%s); the next "
		       "token request (`mailbearer token %s`, or serve's) "
		       "gets a new access token with the app's credentials\n",
		       a->name, a->fleet ? "state in etcd" : "local state", n,
		       a->fleet ? "key" : "file", n == 1 ? "" : "s", a->name);
	else
		printf("account %s: %s removed (%d %s%s); "
		       "`mailbearer authorize %s` starts it again\n", a->name,
		       a->fleet ? "state in etcd" : "local state", n,
		       a->fleet ? "key" : "file", n == 1 ? "" : "s", a->name);
	return EX_OK;
}

static int
revoke_opt(int opt, const char *arg)
{
	if (opt != 'L')
		return -1;
	revoke_local_only = true;
	return 0;
}

int
mb_cmd_revoke(int argc, char **argv)
{
	static const struct option extra[] = {
		{ "local", no_argument, NULL, 'L' },
	};
	const struct mb_account *acct;
	struct mb_config *cfg;
	char *err = NULL;
	struct mb_store_lock lock = MB_STORE_LOCK_INIT;
	int ret, r;

	revoke_local_only = false;
	r = mb_cli_parse(argc, argv, false, "", extra, 1, revoke_opt);
	if (r != 0)
		return r > 0 ? EX_OK : EX_USAGE;
	r = mb_cli_account_operand(argc, argv, "mailbearer revoke ACCOUNT "
				   "[--local]", &cfg, &acct);
	if (r != EX_OK)
		return r;
	if (mb_store_lock(acct, NULL, &lock, &err) < 0) {
		mb_log(LOG_ERR, "%s", err);
		free(err);
		mb_config_free(&cfg);
		return EX_CONFIG;
	}
	ret = revoke_locked(&lock);
	mb_store_unlock(&lock);
	mb_config_free(&cfg);
	if (fflush(stdout) != 0)
		return EX_IOERR;
	return ret;
}
