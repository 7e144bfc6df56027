/* SPDX-License-Identifier: MIT */
#include <config.h>

/* `mailbearer token ACCOUNT`: print a valid access token (for PassCmd,
 * passwordeval, *_oauth_refresh_command). */

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <time.h>

#include "cli.h"
#include "cmd.h"
#include "errstr.h"
#include "expiry.h"
#include "isotime.h"
#include "log.h"
#include "notify.h"
#include "store.h"
#include "token.h"
#include "xalloc.h"

static const char *token_format = "raw";
static bool token_refresh;

static int
token_opt(int opt, const char *arg)
{
	if (opt == 'r') {
		token_refresh = true;
		return 0;
	}
	if (opt != 'f')
		return -1;
	if (strcmp(arg, "raw") != 0 && strcmp(arg, "xoauth2") != 0 &&
	    strcmp(arg, "oauthbearer") != 0) {
		mb_log(LOG_ERR, "--format must be raw, xoauth2 or "
		       "oauthbearer");
		return -1;
	}
	token_format = arg;
	return 0;
}

/*
 * A token is printed, but the account needs attention: say so on stderr
 * (mbsync and cron show it), since the token works only until it expires
 * and nothing will replace it.  The token core already warns when it
 * looked at the grant under the lock (the token was due); this covers the
 * fast path, where a still-fresh token is handed out unexamined.  The
 * state is read for the reason only when the one the token came from
 * said so (access->attention).
 */
static void
token_warn_attention(const struct mb_account *acct,
		     const struct mb_access *access)
{
	struct mb_state st;
	char *err = NULL, when[32];
	time_t now = time(NULL);

	if (!access->attention || token_refresh ||
	    mb_expiry_needs_refresh(now, access->expires_at,
				    access->obtained_at, acct->refresh_margin))
		return;
	if (mb_store_read(acct, false, &st, &err) != MB_STORE_FOUND) {
		free(err);
		return;
	}
	mb_iso_time(access->expires_at, when, sizeof(when), "never");
	if (st.needs_authorize && st.client_problem)
		mb_log(LOG_WARNING, "account %s: the provider refused the "
		       "OAuth client, fix its configuration: %s; the printed "
		       "access token is valid until %s", acct->name,
		       st.reason ? st.reason : "see `mailbearer status`",
		       when);
	else if (st.needs_authorize ||
		 (st.refresh_token == NULL &&
		  !mb_flow_app_only(acct->flow)))
		mb_log(LOG_WARNING, "account %s needs `mailbearer authorize "
		       "%s`: %s; the printed access token is valid until %s "
		       "(%lld min), then `mailbearer token` fails with exit "
		       "status 77", acct->name, acct->name,
		       st.reason ? st.reason : "no refresh token",
		       when, (long long)(access->expires_at - now) / 60);
	mb_state_clear(&st);
}

/* Exit status for a failed mb_token_get*(), after saying why. */
static int
token_fail(enum mb_token_status ts, const char *err)
{
	mb_log(LOG_ERR, "%s", err ? err : "unknown error");
	switch (ts) {
	case MB_TOKEN_TRANSIENT:
		return EX_TEMPFAIL;
	case MB_TOKEN_NEEDS_AUTHORIZE:
		return EX_NOPERM;
	case MB_TOKEN_OK:
	case MB_TOKEN_ERROR:
	default:
		return EX_CONFIG;
	}
}

int
mb_cmd_token(int argc, char **argv)
{
	static const struct option extra[] = {
		{ "format", required_argument, NULL, 'f' },
		{ "refresh", no_argument, NULL, 'r' },
	};
	const struct mb_account *acct;
	enum mb_token_status ts;
	struct mb_config *cfg = NULL;
	struct mb_access access;
	char *err = NULL, *text = NULL, eb[128];
	int ret = EX_USAGE, r;

	memset(&access, 0, sizeof(access));
	r = mb_cli_parse(argc, argv, false, "f:r", extra, 2, token_opt);
	if (r != 0)
		return r > 0 ? EX_OK : EX_USAGE;
	r = mb_cli_account_operand(argc, argv, "mailbearer token ACCOUNT "
				   "[--refresh] [--format raw|xoauth2|"
				   "oauthbearer]", &cfg, &acct);
	if (r != EX_OK)
		return r;
	ts = token_refresh ? mb_token_get_forced(acct, &access, &err) :
	     mb_token_get_ex(acct, NULL, &access, &err);
	if (ts != MB_TOKEN_OK) {
		ret = token_fail(ts, err);
		mb_notify_observe(acct, ts, false, err, true);
		goto out;
	}
	token_warn_attention(acct, &access);
	text = mb_token_format(token_format, acct->user, access.token);
	if (text == NULL || printf("%s\n", text) < 0 || fflush(stdout) != 0) {
		mb_log(LOG_ERR, "cannot write the token: %s",
		       mb_strerror(errno, eb, sizeof(eb)));
		ret = EX_IOERR;
		goto out;
	}
	/* after the token is out: a notification never delays it */
	mb_notify_observe(acct, ts, false, NULL, true);
	ret = EX_OK;
out:
	mb_free_secret(&text);
	mb_access_clear(&access);
	free(err);
	mb_config_free(&cfg);
	return ret;
}

