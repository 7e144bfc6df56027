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

#include "cli.h"
#include "cmd.h"
#include "errstr.h"
#include "expiry.h"
#include "http.h"
#include "json.h"
#include "log.h"
#include "refresh.h"
#include "store.h"
#include "token.h"
#include "wipe.h"
#include "xalloc.h"

/* The `mailbearer` program: hardening, then dispatch to one command
 * (cmd-*.c).  Exit codes: cli.h. */

struct mb_command {
	const char *name;
	int (*run)(int argc, char **argv);
	const char *summary;
};

static int cmd_help(int argc, char **argv);
static int cmd_version(int argc, char **argv);

/* One line per command; argv[0] of run() is the command name. */
static const struct mb_command commands[] = {
	{ "authorize", mb_cmd_authorize, "obtain ACCOUNT's first tokens (the "
	  "user signs in)" },
	{ "token", mb_cmd_token, "print a valid access token for ACCOUNT" },
	{ "import", mb_cmd_import,
	  "store a refresh token or token file read from standard input" },
	{ "status", mb_cmd_status, "show the accounts' state (no secrets)" },
	{ "revoke", mb_cmd_revoke, "revoke ACCOUNT's grant at the provider, "
	  "remove its tokens" },
	{ "doctor", mb_cmd_doctor, "check the whole set-up, PASS/FAIL/SKIP" },
	{ "serve", mb_cmd_serve, "serve tokens to the SASL plugin on UNIX "
	  "sockets" },
	{ "help", cmd_help, "show this help" },
	{ "version", cmd_version, "show the version" },
};

void
mb_cli_usage(FILE *f)
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
		"  mailbearer authorize ACCOUNT [--paste | --device] "
		"[--timeout SECONDS]\n"
		"  mailbearer token ACCOUNT [--refresh] "
		"[--format raw|xoauth2|oauthbearer]\n"
		"  mailbearer import ACCOUNT < refresh-token-or-token-file\n"
		"  mailbearer status [ACCOUNT] [--json] [--socket PATH]\n"
		"  mailbearer revoke ACCOUNT [--local]\n"
		"  mailbearer doctor [ACCOUNT] [--socket PATH] "
		"[--login URL]\n"
		"\n"
		"Exit codes: 0 ok, 64 usage, 65 bad input, 67 unknown "
		"account,\n"
		"75 temporary failure, 77 needs `mailbearer authorize`, 78 "
		"configuration.\n"
		"See mailbearer(1) and mailbearer.conf(5).\n");
}

static int
cmd_help(int argc, char **argv)
{
	mb_cli_usage(stdout);
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
	r = mb_cli_parse(argc, argv, true, "V", extra, 1, main_opt);
	if (r > 0)
		return EX_OK;
	if (r < 0) {
		mb_cli_usage(stderr);
		return EX_USAGE;
	}
	if (want_version)
		return cmd_version(0, NULL);
	if (optind >= argc) {
		mb_cli_usage(stderr);
		return EX_USAGE;
	}
	/* So that every command (and the config loader) sees --config. */
	if (mb_cli_config != NULL &&
	    setenv("MAILBEARER_CONFIG", mb_cli_config, 1))
		return EX_OSERR;
	for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
		if (strcmp(argv[optind], commands[i].name) == 0)
			return commands[i].run(argc - optind, argv + optind);
	}
	mb_log(LOG_ERR, "unknown command \"%s\"; see mailbearer --help",
	       argv[optind]);
	return EX_USAGE;
}
