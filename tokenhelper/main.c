#include <config.h>

#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <sys/resource.h>
#ifdef __linux__
#include <sys/prctl.h>
#endif
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "conf.h"
#include "errstr.h"
#include "expiry.h"
#include "http.h"
#include "json.h"
#include "log.h"
#include "refresh.h"
#include "serve.h"
#include "store.h"
#include "token.h"
#include "wipe.h"
#include "xalloc.h"

/*
 * Exit codes (documented in mailbearer(1)), from <sysexits.h> so that
 * callers such as Postfix or mbsync can tell "try again" from "broken":
 *   0 success, 64 usage, 65 bad input (import), 67 unknown account,
 *   74 output error, 75 temporary failure (the provider is unreachable
 *   and no valid token is left), 77 the account needs
 *   `mailbearer authorize`, 78 configuration or local state problem.
 */

struct mb_command {
	const char *name;
	int (*run)(int argc, char **argv);
	const char *summary;
};

static int cmd_token(int argc, char **argv);
static int cmd_import(int argc, char **argv);
static int cmd_status(int argc, char **argv);
static int cmd_help(int argc, char **argv);
static int cmd_version(int argc, char **argv);

/* One line per command; argv[0] of run() is the command name. */
static const struct mb_command commands[] = {
	{ "token", cmd_token, "print a valid access token for ACCOUNT" },
	{ "import", cmd_import,
	  "store a refresh token read from standard input" },
	{ "status", cmd_status, "show the accounts' state (no secrets)" },
	{ "serve", mb_cmd_serve, "serve tokens to the SASL plugin on UNIX "
	  "sockets" },
	{ "help", cmd_help, "show this help" },
	{ "version", cmd_version, "show the version" },
};

static const char *opt_config;
static bool opt_verbose;

static void
usage(FILE *f)
{
	size_t i;

	fprintf(f,
		"Usage: mailbearer [--config FILE] [-v] COMMAND [ARGS]\n"
		"\n"
		"Commands:\n");
	for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		fprintf(f, "  %-10s %s\n", commands[i].name,
			commands[i].summary);
	fprintf(f,
		"\n"
		"  mailbearer token ACCOUNT [--refresh] "
		"[--format raw|xoauth2|oauthbearer]\n"
		"  mailbearer import ACCOUNT < refresh-token\n"
		"  mailbearer status [ACCOUNT]\n"
		"\n"
		"Exit codes: 0 ok, 64 usage, 65 bad input, 67 unknown "
		"account,\n"
		"75 temporary failure, 77 needs `mailbearer authorize`, 78 "
		"configuration.\n"
		"See mailbearer(1) and mailbearer.conf(5).\n");
}

/* Common options of the program and its commands: -c/--config,
 * -v/--verbose, -h.  Leaves optind at the first operand; returns -1 on a
 * usage error, 1 after --help, 0 otherwise.  in_order: stop at the first
 * operand (the command name).  extra: more options ("f:" ...) handled by
 * cb. */
static int
parse_common(int argc, char **argv, bool in_order, const char *extra_short,
	     const struct option *extra_long, size_t n_extra,
	     int (*cb)(int opt, const char *arg))
{
	struct option longopts[16];
	char shortopts[32];
	size_t n = 0, i;
	int c;

	static const struct option common[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
	};
	for (i = 0; i < 3; i++)
		longopts[n++] = common[i];
	for (i = 0; i < n_extra && n < 15; i++)
		longopts[n++] = extra_long[i];
	memset(&longopts[n], 0, sizeof(longopts[n]));
	snprintf(shortopts, sizeof(shortopts), "%sc:vh%s", in_order ? "+" : "",
		 extra_short ? extra_short : "");
	optind = 0;	/* glibc: full re-initialisation */
	opterr = 1;
	while ((c = getopt_long(argc, argv, shortopts, longopts, NULL)) != -1) {
		switch (c) {
		case 'c':
			opt_config = optarg;
			break;
		case 'v':
			opt_verbose = true;
			mb_log_init(NULL, false, true);
			break;
		case 'h':
			usage(stdout);
			return 1;
		default:
			if (c != '?' && cb != NULL && cb(c, optarg) == 0)
				break;
			return -1;
		}
	}
	return 0;
}

/* Loads the configuration chosen by --config / $MAILBEARER_CONFIG / the
 * default locations; prints the error.  Returns NULL on failure. */
static struct mb_config *
load_config(void)
{
	struct mb_config *cfg = NULL;
	char *path, *err = NULL;

	path = opt_config ? mb_xstrdup(opt_config) : mb_config_default_path();
	if (mb_config_load(path, &cfg, &err) < 0) {
		mb_log(LOG_ERR, "%s", err);
		free(err);
	}
	free(path);
	return cfg;
}

static const struct mb_account *
find_account(const struct mb_config *cfg, const char *name)
{
	const struct mb_account *a = mb_config_account(cfg, name);

	if (a == NULL)
		mb_log(LOG_ERR, "no account [%s] in %s", name, cfg->path);
	return a;
}

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

static void
format_time(time_t t, char *buf, size_t len)
{
	struct tm tm;

	if (t <= 0 || gmtime_r(&t, &tm) == NULL ||
	    strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		snprintf(buf, len, "never");
}

/*
 * A token is printed, but the account needs attention: say so on stderr
 * (mbsync and cron show it), since the token works only until it expires
 * and nothing will replace it.  The token core already warns when it
 * looked at the grant under the lock (the token was due); this covers the
 * fast path, where a still-fresh token is handed out unexamined.
 */
static void
token_warn_attention(const struct mb_account *acct,
		     const struct mb_access *access)
{
	struct mb_state st;
	char *err = NULL, when[32];
	time_t now = time(NULL);

	if (token_refresh || mb_expiry_needs_refresh(now, access->expires_at,
	    access->obtained_at, acct->refresh_margin))
		return;
	if (mb_store_read(acct, false, &st, &err) != MB_STORE_FOUND) {
		free(err);
		return;
	}
	format_time(access->expires_at, when, sizeof(when));
	if (st.needs_authorize && st.client_problem)
		mb_log(LOG_WARNING, "account %s: the provider refused the "
		       "OAuth client, fix its configuration: %s; the printed "
		       "access token is valid until %s", acct->name,
		       st.reason ? st.reason : "see `mailbearer status`",
		       when);
	else if (st.needs_authorize || st.refresh_token == NULL)
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

static int
cmd_token(int argc, char **argv)
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
	r = parse_common(argc, argv, false, "f:r", extra, 2, token_opt);
	if (r != 0)
		return r > 0 ? EX_OK : EX_USAGE;
	if (optind != argc - 1) {
		mb_log(LOG_ERR, "usage: mailbearer token ACCOUNT [--refresh] "
		       "[--format raw|xoauth2|oauthbearer]");
		return EX_USAGE;
	}
	cfg = load_config();
	if (cfg == NULL)
		return EX_CONFIG;
	acct = find_account(cfg, argv[optind]);
	if (acct == NULL) {
		ret = EX_NOUSER;
		goto out;
	}
	ts = token_refresh ? mb_token_get_forced(acct, &access, &err) :
	     mb_token_get_ex(acct, NULL, &access, &err);
	if (ts != MB_TOKEN_OK) {
		ret = token_fail(ts, err);
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
	ret = EX_OK;
out:
	mb_free_secret(&text);
	mb_access_clear(&access);
	free(err);
	mb_config_free(&cfg);
	return ret;
}

/* Reads one line (the refresh token) from standard input without echo
 * when it is a terminal.  Returns a malloc'd string or NULL. */
static char *
read_secret_line(void)
{
	char buf[16384 + 2];
	struct termios old, quiet;
	bool tty = isatty(STDIN_FILENO) == 1, echo_off = false;
	size_t len;
	char *ret = NULL;

	if (tty) {
		fprintf(stderr, "Refresh token (input hidden): ");
		fflush(stderr);
		if (tcgetattr(STDIN_FILENO, &old) == 0) {
			quiet = old;
			quiet.c_lflag &= ~(tcflag_t)ECHO;
			echo_off = tcsetattr(STDIN_FILENO, TCSAFLUSH,
					     &quiet) == 0;
		}
	}
	if (fgets(buf, sizeof(buf), stdin) != NULL) {
		len = strlen(buf);
		while (len > 0 && (buf[len - 1] == '\n' ||
				   buf[len - 1] == '\r' ||
				   buf[len - 1] == ' ' ||
				   buf[len - 1] == '\t'))
			buf[--len] = '\0';
		ret = mb_xstrdup(buf);
	}
	if (echo_off) {
		tcsetattr(STDIN_FILENO, TCSAFLUSH, &old);
		fputc('\n', stderr);
	}
	mb_wipe(buf, sizeof(buf));
	return ret;
}

static int
cmd_import(int argc, char **argv)
{
	const struct mb_account *acct;
	struct mb_config *cfg = NULL;
	struct mb_state st;
	char *err = NULL, *rt = NULL;
	int ret = EX_USAGE, lock = -1, r;

	memset(&st, 0, sizeof(st));
	r = parse_common(argc, argv, false, NULL, NULL, 0, NULL);
	if (r != 0)
		return r > 0 ? EX_OK : EX_USAGE;
	if (optind != argc - 1) {
		mb_log(LOG_ERR, "usage: mailbearer import ACCOUNT < FILE "
		       "(the refresh token is read from standard input, "
		       "never from the command line)");
		return EX_USAGE;
	}
	cfg = load_config();
	if (cfg == NULL)
		return EX_CONFIG;
	acct = find_account(cfg, argv[optind]);
	if (acct == NULL) {
		ret = EX_NOUSER;
		goto out;
	}
	rt = read_secret_line();
	if (rt == NULL || !mb_json_token_sane(rt)) {
		mb_log(LOG_ERR, "standard input does not hold a refresh token "
		       "(one line of visible ASCII characters)");
		ret = EX_DATAERR;
		goto out;
	}
	if (mb_store_lock(acct, &lock, &err) < 0) {
		mb_log(LOG_ERR, "%s", err);
		ret = EX_CONFIG;
		goto out;
	}
	switch (mb_store_read(acct, true, &st, &err)) {
	case MB_STORE_FOUND:
	case MB_STORE_MISSING:
		break;
	case MB_STORE_CORRUPT:
		/* Moved aside already; start afresh. */
		mb_log(LOG_WARNING, "%s", err);
		free(err);
		err = NULL;
		break;
	case MB_STORE_ERROR:
	default:
		mb_log(LOG_ERR, "%s", err);
		ret = EX_CONFIG;
		goto out;
	}
	mb_state_clear(&st);
	st.refresh_token = rt;
	rt = NULL;
	if (mb_store_write(acct, &st, &err) < 0) {
		mb_log(LOG_ERR, "%s", err);
		ret = EX_CONFIG;
		goto out;
	}
	printf("account %s: refresh token stored; `mailbearer token %s` "
	       "fetches an access token\n", acct->name, acct->name);
	ret = EX_OK;
out:
	mb_store_unlock(&lock);
	mb_free_secret(&rt);
	mb_state_clear(&st);
	free(err);
	mb_config_free(&cfg);
	return ret;
}

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
	format_time(st->expires_at, when, sizeof(when));
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
	format_time(st->last_refresh, when, sizeof(when));
	printf("  last refresh: %s\n", when);
	if (st->last_forced > 0) {
		format_time(st->last_forced, when, sizeof(when));
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

static int
cmd_status(int argc, char **argv)
{
	const struct mb_account *acct;
	struct mb_config *cfg;
	int ret = EX_OK, r;
	size_t i;

	r = parse_common(argc, argv, false, NULL, NULL, 0, NULL);
	if (r != 0)
		return r > 0 ? EX_OK : EX_USAGE;
	if (argc - optind > 1) {
		mb_log(LOG_ERR, "usage: mailbearer status [ACCOUNT]");
		return EX_USAGE;
	}
	cfg = load_config();
	if (cfg == NULL)
		return EX_CONFIG;
	printf("configuration: %s\n", cfg->path);
	if (optind < argc) {
		acct = find_account(cfg, argv[optind]);
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

static int
cmd_help(int argc, char **argv)
{
	usage(stdout);
	return EX_OK;
}

static int
cmd_version(int argc, char **argv)
{
	printf("%s %s\n", PACKAGE_NAME, PACKAGE_VERSION);
	return EX_OK;
}

/*
 * Every command may hold a refresh token, an access token or a client
 * secret in memory.  No core file (RLIMIT_CORE 0, hard limit too, so a
 * child cannot raise it), and not dumpable: no core even where a pipe in
 * core_pattern ignores RLIMIT_CORE, and no ptrace(2) or /proc/PID/mem
 * reading by other processes of the same user.  Failures are ignored: the
 * prctl exists on every Linux since 2.3.20.
 */
static void
mb_harden_process(void)
{
	struct rlimit no_core = { 0, 0 };

	(void)setrlimit(RLIMIT_CORE, &no_core);
#ifdef __linux__
	(void)prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
#endif
}

static bool want_version;

static int
main_opt(int opt, const char *arg)
{
	if (opt != 'V')
		return -1;
	want_version = true;
	return 0;
}

int
main(int argc, char **argv)
{
	static const struct option extra[] = {
		{ "version", no_argument, NULL, 'V' },
	};
	size_t i;
	int r;

	/* Before anything else, and before any thread exists. */
	mb_harden_process();
	mb_log_init("mailbearer", false, false);
	if (mb_http_global_init() < 0) {
		mb_log(LOG_ERR, "libcurl cannot be initialised");
		return EX_OSERR;
	}
	/* Options before the command; parsing stops at the command name. */
	r = parse_common(argc, argv, true, "V", extra, 1, main_opt);
	if (r > 0)
		return EX_OK;
	if (r < 0) {
		usage(stderr);
		return EX_USAGE;
	}
	if (want_version)
		return cmd_version(0, NULL);
	if (optind >= argc) {
		usage(stderr);
		return EX_USAGE;
	}
	/* So that every command (and the config loader) sees --config. */
	if (opt_config != NULL && setenv("MAILBEARER_CONFIG", opt_config, 1))
		return EX_OSERR;
	for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
		if (strcmp(argv[optind], commands[i].name) == 0)
			return commands[i].run(argc - optind, argv + optind);
	}
	mb_log(LOG_ERR, "unknown command \"%s\"; see mailbearer --help",
	       argv[optind]);
	return EX_USAGE;
}
