/* SPDX-License-Identifier: MIT */
#include <config.h>

/* `mailbearer authorize ACCOUNT [--paste | --device] [--timeout SECONDS]
 * [--no-browser] [--redirect-uri URI]`: obtain the account's first
 * tokens with the user's consent and store them where `token` and
 * `serve` find them. */

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>

#include "cli.h"
#include "cmd.h"
#include "flow-code.h"
#include "log.h"

#define AUTH_TIMEOUT 300L
#define AUTH_DEVICE_TIMEOUT 900L
#define AUTH_MAX_TIMEOUT 3600L

enum auth_flow { AUTH_LOOPBACK, AUTH_PASTE, AUTH_DEVICE };

static enum auth_flow auth_flow;
static int auth_flows_given;
static long auth_timeout;
static bool auth_no_browser;
static const char *auth_redirect;

static int
auth_opt(int opt, const char *arg)
{
	char *end;

	switch (opt) {
	case 'P':
		auth_flow = AUTH_PASTE;
		auth_flows_given++;
		return 0;
	case 'D':
		auth_flow = AUTH_DEVICE;
		auth_flows_given++;
		return 0;
	case 'B':
		auth_no_browser = true;
		return 0;
	case 'R':
		auth_redirect = arg;
		return 0;
	case 't':
		auth_timeout = strtol(arg, &end, 10);
		if (*end != '\0' || auth_timeout < 1 ||
		    auth_timeout > AUTH_MAX_TIMEOUT) {
			mb_log(LOG_ERR, "--timeout takes 1 to %ld seconds",
			       AUTH_MAX_TIMEOUT);
			return -1;
		}
		return 0;
	default:
		return -1;
	}
}

static int
auth_exit(enum mb_auth_status st)
{
	switch (st) {
	case MB_AUTH_OK:
		return EX_OK;
	case MB_AUTH_DENIED:
		return EX_NOPERM;
	case MB_AUTH_TRANSIENT:
		return EX_TEMPFAIL;
	case MB_AUTH_INPUT:
		return EX_DATAERR;
	case MB_AUTH_INTERRUPTED:
		return 128 + (mb_auth_signal() != 0 ? mb_auth_signal() :
			      SIGTERM);
	case MB_AUTH_CLIENT:
	case MB_AUTH_LOCAL:
	default:
		return EX_CONFIG;
	}
}

/* Google grants no Gmail scope to the device flow (PROVIDERS.md 2):
 * say so before any request. */
static bool
auth_device_refused(const struct mb_account *acct)
{
	if (strcmp(acct->provider, "google") != 0)
		return false;
	mb_log(LOG_ERR, "%s: Google does not grant Gmail scopes "
	       "(https://mail.google.com/) to the device flow; it answers "
	       "invalid_scope.  Use the default flow, from a headless host "
	       "through `ssh -L PORT:127.0.0.1:PORT host` (authorize prints "
	       "the line), or `mailbearer authorize --paste %s`", acct->name,
	       acct->name);
	return true;
}

static int
auth_parse(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "paste", no_argument, NULL, 'P' },
		{ "device", no_argument, NULL, 'D' },
		{ "no-browser", no_argument, NULL, 'B' },
		{ "redirect-uri", required_argument, NULL, 'R' },
		{ "timeout", required_argument, NULL, 't' },
	};
	int r;

	auth_flow = AUTH_LOOPBACK;
	auth_flows_given = 0;
	auth_timeout = 0;
	r = mb_cli_parse(argc, argv, false, "t:", opts,
			 sizeof(opts) / sizeof(opts[0]), auth_opt);
	if (r != 0)
		return r > 0 ? EX_OK : EX_USAGE;
	if (optind != argc - 1 || auth_flows_given > 1 ||
	    (auth_redirect != NULL && auth_flow != AUTH_PASTE)) {
		mb_log(LOG_ERR, "usage: mailbearer authorize ACCOUNT [--paste "
		       "[--redirect-uri URI] | --device] [--timeout SECONDS] "
		       "[--no-browser]");
		return EX_USAGE;
	}
	if (auth_timeout == 0)
		auth_timeout = auth_flow == AUTH_DEVICE ? AUTH_DEVICE_TIMEOUT :
			       AUTH_TIMEOUT;
	return -1;
}

int
mb_cmd_authorize(int argc, char **argv)
{
	const struct mb_account *acct;
	struct mb_config *cfg;
	struct mb_auth_opts o;
	enum mb_auth_status st;
	char *err = NULL;
	int ret;

	ret = auth_parse(argc, argv);
	if (ret >= 0)
		return ret;
	cfg = mb_cli_load_config();
	if (cfg == NULL)
		return EX_CONFIG;
	acct = mb_cli_find_account(cfg, argv[optind]);
	if (acct == NULL) {
		mb_config_free(&cfg);
		return EX_NOUSER;
	}
	if (mb_flow_app_only(acct->flow)) {
		mb_log(LOG_ERR, "account %s uses flow = %s: no user step is "
		       "needed (the app's own credentials get each access "
		       "token); check it with `mailbearer token %s > "
		       "/dev/null`", acct->name, mb_flow_name(acct->flow),
		       acct->name);
		mb_config_free(&cfg);
		return EX_USAGE;
	}
	if (acct->unusable != NULL) {
		mb_log(LOG_ERR, "account %s: %s", acct->name, acct->unusable);
		mb_config_free(&cfg);
		return EX_CONFIG;
	}
	if (auth_flow == AUTH_DEVICE && auth_device_refused(acct)) {
		mb_config_free(&cfg);
		return EX_USAGE;
	}
	if (mb_code_check_account(acct, auth_flow == AUTH_DEVICE, &err) < 0) {
		mb_log(LOG_ERR, "%s", err);
		free(err);
		mb_config_free(&cfg);
		return EX_CONFIG;
	}
	if (mb_auth_signals_start() < 0) {
		mb_log(LOG_ERR, "cannot set up signal handling");
		mb_config_free(&cfg);
		return EX_OSERR;
	}
	memset(&o, 0, sizeof(o));
	o.timeout = auth_timeout;
	o.no_browser = auth_no_browser;
	o.redirect_uri = auth_redirect;
	st = mb_grant_check_writable(acct);
	if (st == MB_AUTH_OK)
		st = auth_flow == AUTH_PASTE ? mb_authorize_paste(acct, &o) :
		     auth_flow == AUTH_DEVICE ? mb_authorize_device(acct, &o) :
		     mb_authorize_loopback(acct, &o);
	if (st == MB_AUTH_INTERRUPTED)
		mb_log(LOG_ERR, "%s: interrupted; nothing was stored",
		       acct->name);
	mb_config_free(&cfg);
	return auth_exit(st);
}
