/* SPDX-License-Identifier: MIT */
#include <config.h>

/* `mailbearer status [ACCOUNT] [--json] [--socket PATH]`: each account's
 * state, no secrets; the exit status says whether an account needs
 * attention.  The --json form is a stable interface (doc/status-json.md),
 * written by json-c. */

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>

#include <json-c/json.h>

#include "cli.h"
#include "cmd.h"
#include "errtext.h"
#include "expiry.h"
#include "fleet.h"
#include "isotime.h"
#include "log.h"
#include "owner.h"
#include "refresh.h"
#include "provider-text.h"
#include "serve-socket.h"
#include "store-etcd.h"
#include "store.h"
#include "xalloc.h"

/* The longest text of a state shown (scope, reason, last error). */
#define STATUS_TEXT_MAX 4096

/* How long the probe of serve's socket may take. */
#define STATUS_PROBE_S 1

/* An account's verdict.  The names are those of the JSON "state". */
enum status_state {
	ST_OK,
	ST_FAILING,
	ST_NEEDS_AUTHORIZE,
	ST_CLIENT_PROBLEM,
	ST_NO_REFRESH_TOKEN,
	ST_MISSING,
	ST_CORRUPT,
	ST_ERROR,
};

static const char *const status_state_names[] = {
	"ok", "failing", "needs_authorize", "client_problem",
	"no_refresh_token", "missing", "corrupt", "error",
};

struct status_opts {
	bool json;
	const char *socket;
	struct json_object *accounts;	/* --json: the array to fill */
};

static struct status_opts status_opts;
/* store = etcd and the cluster has no quorum (status_cluster) */
static bool status_no_quorum;

/* What status knows of one account. */
struct status_info {
	const struct mb_account *a;
	struct mb_state st;
	enum status_state state;
	bool usable;		/* the access token may be handed out */
	char *path;		/* state file, or "etcd:KEY" (a fleet's) */
	char *holder;		/* a fleet's: who holds the lock, or NULL */
	char *err;		/* store error (ST_CORRUPT, ST_ERROR) */
	int exit;
};

static const char *
status_flow(const struct mb_account *a)
{
	return mb_flow_name(a->flow);
}

/* Whether something accepts connections on path: a connection is made
 * and closed without a request (serve counts it as nothing).  Returns
 * true, or false with why in errbuf. */
static bool
status_probe(const char *path, char *errbuf, size_t errlen)
{
	struct timespec deadline;
	int fd, e = 0;

	clock_gettime(CLOCK_MONOTONIC, &deadline);
	deadline.tv_sec += STATUS_PROBE_S;
	fd = mb_sock_connect(path, &deadline, &e);
	if (fd < 0) {
		snprintf(errbuf, errlen, "%s", e == ENAMETOOLONG ?
			 "path too long" : mb_errstr(e));
		return false;
	}
	close(fd);
	return true;
}

/* Reads the state and decides the verdict and the exit status. */
static void
status_judge(struct status_info *in, time_t now)
{
	struct mb_state *st = &in->st;
	const char *secrets[3];
	bool cc;

	in->path = mb_store_name(in->a);
	if (in->a->fleet != NULL)
		in->holder = mb_fleet_lock_holder(in->a);
	if (in->a->unusable != NULL) {
		/* a file of this account's: no refresh can be made */
		in->err = mb_xstrdup(in->a->unusable);
		in->state = ST_ERROR;
		in->exit = EX_CONFIG;
		return;
	}
	switch (mb_store_read(in->a, false, st, &in->err)) {
	case MB_STORE_FOUND:
		break;
	case MB_STORE_MISSING:
		/* Client credentials need no tokens to start with. */
		cc = mb_flow_app_only(in->a->flow);
		in->state = cc ? ST_OK : ST_MISSING;
		in->exit = cc ? EX_OK : EX_NOPERM;
		return;
	case MB_STORE_CORRUPT:
		in->state = ST_CORRUPT;
		in->exit = EX_NOPERM;
		return;
	case MB_STORE_ERROR:
	default:
		in->state = ST_ERROR;
		/* no node answering: the cluster's trouble, not the
		 * configuration's; it passes */
		in->exit = in->a->fleet != NULL && status_no_quorum ?
			   EX_TEMPFAIL : EX_CONFIG;
		return;
	}
	/* Made safe once more: a state file written by an older version
	 * may hold a provider's raw text, or its echo of a secret. */
	secrets[0] = st->refresh_token;
	secrets[1] = st->access_token;
	secrets[2] = in->a->client_secret;
	mb_provider_text_set(&st->scope, STATUS_TEXT_MAX, secrets, 3);
	mb_provider_text_set(&st->last_error, STATUS_TEXT_MAX, secrets, 3);
	mb_provider_text_set(&st->reason, STATUS_TEXT_MAX, secrets, 3);
	in->usable = st->access_token != NULL && !st->rejected &&
		     mb_expiry_usable(now, st->expires_at);
	in->exit = EX_NOPERM;
	if (st->needs_authorize && st->client_problem)
		in->state = ST_CLIENT_PROBLEM;
	else if (st->needs_authorize)
		in->state = ST_NEEDS_AUTHORIZE;
	else if (st->refresh_token == NULL &&
		 !mb_flow_app_only(in->a->flow))
		in->state = ST_NO_REFRESH_TOKEN;
	else if (!in->usable && st->last_error != NULL) {
		in->state = ST_FAILING;
		in->exit = EX_TEMPFAIL;
	} else {
		in->state = ST_OK;
		in->exit = EX_OK;
	}
}

static void
status_info_clear(struct status_info *in)
{
	mb_state_clear(&in->st);
	free(in->path);
	free(in->holder);
	free(in->err);
}

/* Why the account needs attention, or NULL; never a secret. */
static const char *
status_reason(const struct status_info *in)
{
	switch (in->state) {
	case ST_OK:
		return NULL;
	case ST_FAILING:
		return in->st.last_error;
	case ST_NEEDS_AUTHORIZE:
		return in->st.reason != NULL ? in->st.reason :
			"the provider refused the refresh token; run "
			"`mailbearer authorize`";
	case ST_CLIENT_PROBLEM:
		return in->st.reason != NULL ? in->st.reason :
			"the provider refused the OAuth client";
	case ST_NO_REFRESH_TOKEN:
		return "no refresh token";
	case ST_MISSING:
		return "no tokens";
	case ST_CORRUPT:
	case ST_ERROR:
	default:
		return in->err;
	}
}

/* The account's line: everything at a glance. */
static void
status_summary(const struct status_info *in, time_t now)
{
	const struct mb_state *st = &in->st;
	char when[32];

	printf("%s: %s, %s: ", in->a->name, in->a->provider,
	       status_flow(in->a));
	if (in->state == ST_OK)
		printf("ok");
	else
		printf("NEEDS ATTENTION (%s)", status_state_names[in->state]);
	if (st->access_token == NULL)
		printf("; no access token");
	else {
		mb_iso_time(st->expires_at, when, sizeof(when), "never");
		if (in->usable)
			printf("; access token until %s (%lld min)", when,
			       (long long)(st->expires_at - now) / 60);
		else
			printf("; access token %s %s", st->rejected ?
			       "refused, expires" : "expired", when);
	}
	if (st->refresh_token != NULL && st->refresh_since > 0)
		printf("; refresh token %lld days old",
		       (long long)(now - st->refresh_since) / 86400);
	if (st->refresh_token != NULL && st->last_refresh > 0) {
		mb_iso_time(st->last_refresh, when, sizeof(when), "never");
		printf("; last used %s (%lld days ago)", when,
		       (long long)(now - st->last_refresh) / 86400);
	}
	if (in->state == ST_FAILING || (in->state == ST_OK &&
	    st->last_error != NULL))
		printf("; last refresh failed");
	else if (in->state == ST_OK)
		printf("; %s", st->last_refresh > 0 ?
		       "last refresh succeeded" : "no refresh yet");
	printf("\n");
}

/* Long advice is printed once: the accounts that share it say so. */
#define STATUS_SAID_MAX 64
#define STATUS_SAID_LONG 80
static struct {
	char *text;
	const char *account;
} status_said[STATUS_SAID_MAX];
static size_t status_n_said;

/* text, or "the same as for [ACCOUNT] above" when a long text was already
 * printed for another account (buf holds that). */
static const char *
status_once(const char *text, const char *account, char *buf, size_t len)
{
	size_t i;

	if (text == NULL || strlen(text) < STATUS_SAID_LONG)
		return text;
	for (i = 0; i < status_n_said; i++) {
		if (strcmp(status_said[i].text, text) == 0) {
			snprintf(buf, len, "the same as for [%s] above",
				 status_said[i].account);
			return buf;
		}
	}
	if (status_n_said < STATUS_SAID_MAX) {
		status_said[status_n_said].text = mb_xstrdup(text);
		status_said[status_n_said++].account = account;
	}
	return text;
}

static void
status_said_clear(void)
{
	while (status_n_said > 0)
		free(status_said[--status_n_said].text);
}

/* The token lines of the details: what is held, the server's refusal,
 * the refreshes, the last error (not repeated when the reason shown
 * below already holds it: long advice is shown once). */
static void
status_tokens(const struct status_info *in, time_t now)
{
	const struct mb_state *st = &in->st;
	const char *reason = status_reason(in);
	char when[32], buf[300];

	printf("  refresh token: %s", st->refresh_token ? "present" :
	       mb_flow_app_only(in->a->flow) ?
	       "none (app-only)" : "missing");
	if (st->refresh_token != NULL && st->refresh_since > 0) {
		mb_iso_time(st->refresh_since, when, sizeof(when), "never");
		printf(", obtained %s", when);
	}
	printf("\n");
	mb_iso_time(st->expires_at, when, sizeof(when), "never");
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
	mb_iso_time(st->last_refresh, when, sizeof(when), "never");
	printf("  last refresh: %s", when);
	if (st->refreshed_by != NULL)
		printf(" by %s", st->refreshed_by);
	printf("\n");
	if (st->last_forced > 0) {
		mb_iso_time(st->last_forced, when, sizeof(when), "never");
		printf("  last forced refresh: %s\n", when);
	}
	if (st->unanswered_at > 0) {
		mb_iso_time(st->unanswered_at, when, sizeof(when), "never");
		printf("  unanswered refresh: a request sent at %s got no "
		       "reply; the refresh token is not sent again "
		       "automatically\n", when);
	}
	if (st->last_error != NULL && (reason == NULL ||
				       in->state == ST_FAILING ||
				       strstr(reason, st->last_error) == NULL))
		printf("  last error: %s\n", status_once(st->last_error,
			in->a->name, buf, sizeof(buf)));
}

/* What the account's state means and what to do, naming the user to run
 * mailbearer as (owner.h); NULL when it is ok.  The text's status line
 * and the JSON's "reason" say the same (whole: the provider's text in
 * full, not "the same as for [x] above"). */
static char *
status_advice(const struct status_info *in, bool whole)
{
	const char *name = in->a->name;
	char buf[300];
	char *cmd, *reason, *out;
	const char *why;

	if (in->state == ST_OK)
		return NULL;
	cmd = mb_owner_command(in->a->state_dir);
	why = whole ? status_reason(in) :
		status_once(status_reason(in), name, buf, sizeof(buf));
	reason = mb_owner_advice(in->a->state_dir, why != NULL ? why : "");
	switch (in->state) {
	case ST_CLIENT_PROBLEM:
		out = mb_xasprintf("the provider refused the OAuth client, fix "
				   "its configuration: %s",
				   reason);
		break;
	case ST_NEEDS_AUTHORIZE:
		out = mb_xasprintf("%s%s", reason,
				   in->usable ? " (the current access token "
				   "is served until it expires)" : "");
		break;
	case ST_NO_REFRESH_TOKEN:
		out = mb_xasprintf("no refresh token; run `%s authorize %s`",
				   cmd, name);
		break;
	case ST_FAILING:
		out = mb_xasprintf("no usable access token and the last "
				   "refresh failed (see the last error); `%s "
				   "token %s` tries again", cmd, name);
		break;
	case ST_MISSING:
		out = mb_xasprintf("no tokens; run `%s authorize %s` or `%s "
				   "import %s`", cmd, name, cmd, name);
		break;
	case ST_CORRUPT:
	case ST_ERROR:
	default:
		out = mb_xstrdup(reason);
		break;
	}
	free(reason);
	free(cmd);
	return out;
}

/* The status line of the details, with what to do. */
static void
status_verdict(const struct status_info *in)
{
	char *advice = status_advice(in, false);
	const char *label = in->state == ST_CLIENT_PROBLEM ||
		in->state == ST_NEEDS_AUTHORIZE ? "NEEDS ATTENTION: " :
		in->state == ST_FAILING ? "FAILING: " : "";

	if (advice != NULL)
		printf("  status: %s%s\n", label, advice);
	else
		printf("  status: ok%s\n", in->st.last_error != NULL ?
		       " (the last refresh failed, the current token is "
		       "served)" : "");
	free(advice);
}

static void
status_human(const struct status_info *in, time_t now)
{
	const struct mb_account *a = in->a;

	status_summary(in, now);
	printf("[%s]\n  provider: %s\n  flow: %s\n  user: %s\n"
	       "  token endpoint: %s\n  %s: %s\n", a->name,
	       a->provider, status_flow(a), a->user, a->token_endpoint,
	       a->fleet != NULL ? "state" : "state file", in->path);
	if (a->fleet != NULL)
		printf("  lock: %s%s\n", in->holder != NULL ? "held by " :
		       "free", in->holder != NULL ? in->holder : "");
	if (in->state != ST_MISSING && in->state != ST_CORRUPT &&
	    in->state != ST_ERROR)
		status_tokens(in, now);
	status_verdict(in);
}

/* s as a JSON string, or null. */
static struct json_object *
json_str(const char *s)
{
	return s != NULL ? json_object_new_string(s) : NULL;
}

/* t as an ISO 8601 JSON string, or null for 0. */
static struct json_object *
json_time(time_t t)
{
	char buf[32];

	if (t <= 0)
		return NULL;
	mb_iso_time(t, buf, sizeof(buf), "never");
	return json_object_new_string(buf);
}

static void
json_put(struct json_object *obj, const char *key, struct json_object *v)
{
	json_object_object_add(obj, key, v);
}

/* One element of "accounts" (doc/status-json.md). */
static struct json_object *
status_json_account(const struct status_info *in, time_t now)
{
	const struct mb_state *st = &in->st;
	bool have = st->access_token != NULL;
	struct json_object *o = json_object_new_object();
	char *reason;

	json_put(o, "name", json_str(in->a->name));
	json_put(o, "provider", json_str(in->a->provider));
	json_put(o, "flow", json_str(status_flow(in->a)));
	json_put(o, "user", json_str(in->a->user));
	json_put(o, "token_endpoint", json_str(in->a->token_endpoint));
	json_put(o, "state_file", json_str(in->path));
	json_put(o, "state", json_str(status_state_names[in->state]));
	json_put(o, "attention", json_object_new_boolean(in->state != ST_OK));
	reason = status_advice(in, true);
	json_put(o, "reason", json_str(reason));
	free(reason);
	json_put(o, "refresh_token",
		 json_object_new_boolean(st->refresh_token != NULL));
	json_put(o, "refresh_token_since", json_time(st->refresh_token !=
		 NULL ? st->refresh_since : 0));
	json_put(o, "access_token", json_object_new_boolean(have));
	json_put(o, "access_token_expires_at",
		 json_time(have ? st->expires_at : 0));
	json_put(o, "access_token_expires_in", have && st->expires_at > 0 ?
		 json_object_new_int64((int64_t)(st->expires_at - now)) :
		 NULL);
	json_put(o, "access_token_usable", json_object_new_boolean(in->usable));
	json_put(o, "access_token_rejected",
		 json_object_new_boolean(have && st->rejected));
	json_put(o, "scope", json_str(st->scope));
	json_put(o, "last_refresh", json_time(st->last_refresh));
	json_put(o, "last_error", json_str(st->last_error));
	json_put(o, "last_forced_refresh", json_time(st->last_forced));
	json_put(o, "refresh_unanswered_at", json_time(st->unanswered_at));
	json_put(o, "updated", json_time(st->updated));
	json_put(o, "refreshed_by", json_str(st->refreshed_by));
	json_put(o, "lock_holder", json_str(in->holder));
	return o;
}

/* The document up to its "accounts", which the accounts are added to. */
static struct json_object *
status_json_head(const char *cfg_path, const char *sock, bool answering,
		 const char *why, time_t now)
{
	struct json_object *doc = json_object_new_object();
	struct json_object *serve = json_object_new_object();

	json_put(doc, "version", json_object_new_int(1));
	json_put(doc, "generated", json_time(now));
	json_put(doc, "config", json_str(cfg_path));
	json_put(serve, "socket", json_str(sock));
	json_put(serve, "answering", json_object_new_boolean(answering));
	json_put(serve, "error", json_str(answering ? NULL : why));
	json_put(doc, "serve", serve);
	status_opts.accounts = json_object_new_array();
	json_put(doc, "accounts", status_opts.accounts);
	return doc;
}

/* The rest, then the whole document on standard output. */
static void
status_json_tail(struct json_object *doc, int exit_status)
{
	const char *text;

	json_put(doc, "attention", json_object_new_boolean(exit_status !=
		 EX_OK));
	json_put(doc, "exit_status", json_object_new_int(exit_status));
	text = json_object_to_json_string_ext(doc, JSON_C_TO_STRING_PRETTY |
		JSON_C_TO_STRING_SPACED | JSON_C_TO_STRING_NOSLASHESCAPE);
	if (text != NULL)
		printf("%s\n", text);
	status_opts.accounts = NULL;
	json_object_put(doc);
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

/* store = etcd: the cluster's line, or the "cluster" member (null for
 * the state files).  EX_TEMPFAIL when it has no quorum. */
static int
status_cluster(const struct mb_config *cfg, struct json_object *doc)
{
	static const char no_quorum[] = "etcd has no quorum: refreshes of "
		"rotating accounts wait for the cluster and resume by "
		"themselves when it is back (Google and app-only accounts "
		"refresh alone); valid tokens are still served";
	struct json_object *o;
	struct mb_etcd_health h;
	char *key;
	int r;

	if (cfg->fleet == NULL) {
		if (doc != NULL)
			json_put(doc, "cluster", NULL);
		return EX_OK;
	}
	key = mb_fleet_accounts_prefix(cfg->fleet);
	mb_etcd_health(cfg->fleet->etcd, key, &h);
	free(key);
	if (doc != NULL) {
		o = json_object_new_object();
		json_put(o, "store", json_str("etcd"));
		json_put(o, "endpoints", json_object_new_int64(
			 (int64_t)h.n_endpoints));
		json_put(o, "answering", json_object_new_int64(
			 (int64_t)h.n_answering));
		json_put(o, "quorum", json_object_new_boolean(h.quorum));
		json_put(o, "detail", json_str(h.detail));
		json_put(o, "reason", json_str(h.quorum ? NULL : no_quorum));
		json_put(doc, "cluster", o);
	} else {
		printf("cluster: etcd, %zu/%zu endpoints answering, quorum "
		       "%s (%s)\n", h.n_answering, h.n_endpoints, h.quorum ?
		       "yes" : "NO", h.detail);
		if (!h.quorum)
			printf("cluster: NEEDS ATTENTION: %s\n", no_quorum);
	}
	r = h.quorum ? EX_OK : EX_TEMPFAIL;
	status_no_quorum = !h.quorum;
	mb_etcd_health_clear(&h);
	return r;
}

/* Judges and prints one account; returns its exit status. */
static int
status_account(const struct mb_account *a, time_t now)
{
	struct status_info in;
	int ret;

	memset(&in, 0, sizeof(in));
	in.a = a;
	status_judge(&in, now);
	if (status_opts.json)
		json_object_array_add(status_opts.accounts,
				      status_json_account(&in, now));
	else
		status_human(&in, now);
	ret = in.exit;
	status_info_clear(&in);
	return ret;
}

static int
status_opt(int opt, const char *arg)
{
	switch (opt) {
	case 'j':
		status_opts.json = true;
		return 0;
	case 'S':
		status_opts.socket = arg;
		return 0;
	default:
		return -1;
	}
}

/* Every account, or the one named; the worst exit status. */
static int
status_run(const struct mb_config *cfg, const char *only, time_t now)
{
	const struct mb_account *acct;
	int ret = EX_OK, r;
	size_t i;

	if (only != NULL) {
		acct = mb_config_account(cfg, only);
		return acct == NULL ? EX_NOUSER : status_account(acct, now);
	}
	for (i = 0; i < cfg->n_accounts; i++) {
		r = status_account(&cfg->accounts[i], now);
		if (status_rank(r) > status_rank(ret))
			ret = r;
	}
	status_said_clear();
	return ret;
}

int
mb_cmd_status(int argc, char **argv)
{
	static const struct option extra[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "socket", required_argument, NULL, 'S' },
	};
	const char *only = NULL;
	struct json_object *doc = NULL;
	struct mb_config *cfg;
	char sock[256], why[128] = "";
	time_t now = time(NULL);
	bool answering;
	int ret, r, cluster;

	memset(&status_opts, 0, sizeof(status_opts));
	status_no_quorum = false;
	r = mb_cli_parse(argc, argv, false, "", extra, 2, status_opt);
	if (r != 0)
		return r > 0 ? EX_OK : EX_USAGE;
	if (argc - optind > 1) {
		mb_log(LOG_ERR, "usage: mailbearer status [ACCOUNT] [--json] "
		       "[--socket PATH]");
		return EX_USAGE;
	}
	cfg = mb_cli_load_config();
	if (cfg == NULL)
		return EX_CONFIG;
	if (optind < argc) {
		only = argv[optind];
		if (mb_cli_find_account(cfg, only) == NULL) {
			mb_config_free(&cfg);
			return EX_NOUSER;
		}
	}
	mb_sock_client_path(status_opts.socket, sock, sizeof(sock), NULL);
	answering = status_probe(sock, why, sizeof(why));
	if (status_opts.json) {
		doc = status_json_head(cfg->path, sock, answering, why, now);
	} else {
		printf("configuration: %s\n", cfg->path);
		printf("serve: %s on %s%s%s\n", answering ? "answering" :
		       "not answering", sock, answering ? "" : ": ", why);
	}
	cluster = status_cluster(cfg, doc);
	ret = status_run(cfg, only, now);
	if (status_rank(cluster) > status_rank(ret))
		ret = cluster;
	if (status_opts.json)
		status_json_tail(doc, ret);
	mb_config_free(&cfg);
	if (fflush(stdout) != 0)
		return EX_IOERR;
	return ret;
}
