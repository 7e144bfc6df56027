#include <config.h>

/* `mailbearer status [ACCOUNT]`: each account's state, no secrets; the
 * exit status says whether an account needs attention. */

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <sysexits.h>
#include <time.h>

#include "cli.h"
#include "cmd.h"
#include "expiry.h"
#include "log.h"
#include "refresh.h"
#include "store.h"
#include "xalloc.h"

/* The token lines of status: what is held, the server's refusal, the
 * refreshes, the last error (masked once more: a state file written by
 * an older version may hold a provider's echo of a secret). */
static void
status_tokens(const struct mb_account *a, struct mb_state *st, time_t now)
{
	const char *secrets[] = {
		st->refresh_token, st->access_token, a->client_secret,
	};
	char when[32];

	printf("  refresh token: %s\n", st->refresh_token ? "present" :
	       "missing");
	mb_cli_format_time(st->expires_at, when, sizeof(when));
	if (st->access_token == NULL)
		printf("  access token: none\n");
	else if (!mb_expiry_usable(now, st->expires_at))
		printf("  access token: expired at %s\n", when);
	else
		printf("  access token: valid until %s (%lld min left)%s\n",
		       when, (long long)(st->expires_at - now) / 60,
		       st->rejected ? ", but refused by a server" : "");
	printf("  rejected: %s\n", st->access_token == NULL ? "-" :
	       st->rejected ? "yes (a server refused this access token; "
	       "the next use refreshes it instead of handing it out)" :
	       "no");
	if (st->scope != NULL)
		printf("  scope: %s\n", st->scope);
	mb_cli_format_time(st->last_refresh, when, sizeof(when));
	printf("  last refresh: %s\n", when);
	if (st->last_forced > 0) {
		mb_cli_format_time(st->last_forced, when, sizeof(when));
		printf("  last forced refresh: %s\n", when);
	}
	mb_redact_secrets(st->last_error, secrets, 3);
	mb_redact_secrets(st->reason, secrets, 3);
	if (st->last_error != NULL)
		printf("  last error: %s\n", st->last_error);
}

/* The status line and its exit status: "ok" only when a usable token is
 * held or the next use can get one without a known failure standing. */
static int
status_verdict(const struct mb_account *a, const struct mb_state *st,
	       time_t now)
{
	bool usable = st->access_token != NULL && !st->rejected &&
		      mb_expiry_usable(now, st->expires_at);

	if (st->needs_authorize && st->client_problem) {
		printf("  status: NEEDS ATTENTION: the provider refused the "
		       "OAuth client, fix its configuration: %s\n",
		       st->reason ? st->reason : "see the last error");
		return EX_NOPERM;
	}
	if (st->needs_authorize) {
		printf("  status: NEEDS ATTENTION: %s%s\n",
		       st->reason ? st->reason : "run `mailbearer authorize`",
		       usable ? " (the current access token is served until "
		       "it expires)" : "");
		return EX_NOPERM;
	}
	if (st->refresh_token == NULL) {
		printf("  status: no refresh token; run `mailbearer "
		       "authorize %s`\n", a->name);
		return EX_NOPERM;
	}
	if (!usable && st->last_error != NULL) {
		printf("  status: FAILING: no usable access token and the "
		       "last refresh failed (see the last error); `mailbearer "
		       "token %s` tries again\n", a->name);
		return EX_TEMPFAIL;
	}
	printf("  status: ok%s\n", st->last_error != NULL ?
	       " (the last refresh failed, the current token is served)" :
	       "");
	return EX_OK;
}

/* Prints one account; returns its exit status contribution. */
static int
status_account(const struct mb_account *a)
{
	struct mb_state st;
	char *err = NULL, *path = mb_store_path(a, ".json");
	time_t now = time(NULL);
	int ret = EX_OK;

	printf("[%s]\n  provider: %s\n  user: %s\n  token endpoint: %s\n"
	       "  state file: %s\n", a->name, a->provider, a->user,
	       a->token_endpoint, path);
	switch (mb_store_read(a, false, &st, &err)) {
	case MB_STORE_FOUND:
		break;
	case MB_STORE_MISSING:
		printf("  status: no tokens; run `mailbearer authorize %s` "
		       "or `mailbearer import %s`\n", a->name, a->name);
		ret = EX_NOPERM;
		goto out;
	case MB_STORE_CORRUPT:
		printf("  status: %s\n", err);
		ret = EX_NOPERM;
		goto out;
	case MB_STORE_ERROR:
	default:
		printf("  status: %s\n", err);
		ret = EX_CONFIG;
		goto out;
	}
	status_tokens(a, &st, now);
	ret = status_verdict(a, &st, now);
out:
	mb_state_clear(&st);
	free(err);
	free(path);
	return ret;
}

/* Of several accounts' exit statuses, the one that says most. */
static int
status_rank(int status)
{
	switch (status) {
	case EX_OK:
		return 0;
	case EX_TEMPFAIL:
		return 1;
	case EX_NOPERM:
		return 2;
	default:
		return 3;
	}
}

int
mb_cmd_status(int argc, char **argv)
{
	const struct mb_account *acct;
	struct mb_config *cfg;
	int ret = EX_OK, r;
	size_t i;

	r = mb_cli_parse(argc, argv, false, NULL, NULL, 0, NULL);
	if (r != 0)
		return r > 0 ? EX_OK : EX_USAGE;
	if (argc - optind > 1) {
		mb_log(LOG_ERR, "usage: mailbearer status [ACCOUNT]");
		return EX_USAGE;
	}
	cfg = mb_cli_load_config();
	if (cfg == NULL)
		return EX_CONFIG;
	printf("configuration: %s\n", cfg->path);
	if (optind < argc) {
		acct = mb_cli_find_account(cfg, argv[optind]);
		ret = acct == NULL ? EX_NOUSER : status_account(acct);
	} else {
		for (i = 0; i < cfg->n_accounts; i++) {
			r = status_account(&cfg->accounts[i]);
			if (status_rank(r) > status_rank(ret))
				ret = r;
		}
	}
	mb_config_free(&cfg);
	if (fflush(stdout) != 0)
		return EX_IOERR;
	return ret;
}

