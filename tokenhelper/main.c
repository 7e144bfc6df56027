/* SPDX-License-Identifier: MIT */
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
	const char *synopsis;	/* after "mailbearer NAME"; NULL: none */
	const char *options;	/* the command's own options, one a line */
};

static int cmd_help(int argc, char **argv);
static int cmd_version(int argc, char **argv);

/* One entry per command; argv[0] of run() is the command name.  serve
 * prints its own usage (cmd-serve.c). */
static const struct mb_command commands[] = {
	{ "authorize", mb_cmd_authorize, "obtain ACCOUNT's first tokens (the "
	  "user signs in)", "ACCOUNT [--paste [--redirect-uri URI] | "
	  "--device] [--timeout SECONDS] [--no-browser]",
	  "  --paste             paste the address the browser ends on "
	  "(no listener)\n"
	  "  --redirect-uri URI  with --paste: the redirect registered for "
	  "the client\n"
	  "  --device            a code to enter on another device "
	  "(Microsoft)\n"
	  "  -t, --timeout SECONDS  how long to wait for the sign-in\n"
	  "  --no-browser        print the address, do not open a browser\n" },
	{ "token", mb_cmd_token, "print a valid access token for ACCOUNT",
	  "ACCOUNT [--refresh] [--format raw|xoauth2|oauthbearer]",
	  "  -r, --refresh       refresh even if the token looks valid (a "
	  "server refused it);\n"
	  "                      never prints the current token instead\n"
	  "  -f, --format FORMAT raw (default), or the base64 SASL initial "
	  "response\n" },
	{ "import", mb_cmd_import,
	  "store a refresh token or token file read from standard input",
	  "ACCOUNT < refresh-token-or-token-file",
	  "  standard input: a refresh token, a sasl-xoauth2 or "
	  "mutt_oauth2.py file,\n"
	  "  or a JSON object with refresh_token (never on the command "
	  "line)\n" },
	{ "status", mb_cmd_status, "show the accounts' state (no secrets)",
	  "[ACCOUNT] [--json] [--socket PATH]",
	  "  --json              the same as JSON, for monitoring\n"
	  "  --socket PATH       the serve socket to probe\n" },
	{ "revoke", mb_cmd_revoke, "revoke ACCOUNT's grant at the provider, "
	  "remove its tokens", "ACCOUNT [--local]",
	  "  --local             do not ask the provider, remove the local "
	  "state only\n" },
	{ "doctor", mb_cmd_doctor, "check the whole set-up, PASS/FAIL/SKIP",
	  "[ACCOUNT] [--socket PATH] [--postfix-config DIR] [--login URL "
	  "[--ca-file FILE]]",
	  "  --socket PATH       the serve socket to ask\n"
	  "  --postfix-config DIR  check Postfix's main.cf and master.cf "
	  "there\n"
	  "  --login URL         log in to imap[s]:// or smtp[s]://HOST[:PORT] "
	  "with the token\n"
	  "  --ca-file FILE      the CA that signed --login's server\n" },
	{ "store", mb_cmd_store, "move the accounts' state between the "
	  "state files and etcd, or re-seal it under a new key",
	  "migrate --to etcd|files [--force] [--keep-source] [ACCOUNT...] | "
	  "rekey --new-key FILE",
	  "  --to etcd|files     migrate: the store to move the states to\n"
	  "  --force             migrate: replace a state the destination "
	  "holds\n"
	  "  --keep-source       migrate: do not remove the source once the "
	  "copy is verified\n"
	  "  --new-key FILE      rekey: the new state_key_file (32 bytes, "
	  "0600)\n" },
	{ "serve", mb_cmd_serve, "serve tokens to the SASL plugin on UNIX "
	  "sockets", NULL, NULL },
	{ "help", cmd_help, "show this help, or a command's", "[COMMAND]",
	  NULL },
	{ "version", cmd_version, "show the version", "", NULL },
};

/* The command being run (its --help prints its usage), NULL before. */
static const struct mb_command *current;

static void
usage_command(FILE *f, const struct mb_command *c)
{
	fprintf(f, "usage: mailbearer %s%s%s\n%c%s.\n", c->name,
		c->synopsis[0] ? " " : "", c->synopsis,
		c->summary[0] - 'a' + 'A', c->summary + 1);
	if (c->options != NULL)
		fprintf(f, "\nOptions:\n%s", c->options);
	fprintf(f, "  -c, --config FILE   the configuration file\n"
		"  -v, --verbose       say more on standard error\n"
		"  -h, --help          show this help\n"
		"\nSee mailbearer(1).\n");
}

void
mb_cli_usage(FILE *f)
{
	size_t i;

	if (current != NULL && current->synopsis != NULL) {
		usage_command(f, current);
		return;
	}
	fprintf(f,
		"Usage: mailbearer [--config FILE] [-v] COMMAND [ARGS]\n"
		"\n"
		"Commands:\n");
	for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		fprintf(f, "  %-10s %s\n", commands[i].name,
			commands[i].summary);
	fprintf(f, "\n");
	for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
		if (commands[i].options != NULL)
			fprintf(f, "  mailbearer %s %s\n", commands[i].name,
				commands[i].synopsis);
		else if (commands[i].synopsis == NULL)
			fprintf(f, "  mailbearer %s [OPTIONS]\n",
				commands[i].name);
	}
	fprintf(f,
		"\n"
		"`mailbearer COMMAND --help` shows a command's options.\n"
		"Exit codes: 0 ok, 64 usage, 65 bad input, 67 unknown "
		"account,\n"
		"75 temporary failure, 77 needs `mailbearer authorize`, 78 "
		"configuration.\n"
		"See mailbearer(1) and mailbearer.conf(5).\n");
}

static const struct mb_command *
command_find(const char *name)
{
	size_t i;

	for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
		if (strcmp(name, commands[i].name) == 0)
			return &commands[i];
	}
	return NULL;
}

/* `mailbearer help [COMMAND]`; serve's own --help for serve. */
static int
cmd_help(int argc, char **argv)
{
	static char help_opt[] = "--help";
	char *serve_argv[] = { NULL, help_opt, NULL };
	const struct mb_command *c;
	int r;

	r = mb_cli_parse(argc, argv, false, NULL, NULL, 0, NULL);
	if (r != 0)
		return r > 0 ? EX_OK : EX_USAGE;
	if (optind == argc) {
		current = NULL;
		mb_cli_usage(stdout);
		return EX_OK;
	}
	c = command_find(argv[optind]);
	serve_argv[0] = argv[optind];
	if (c == NULL || optind + 1 < argc) {
		mb_log(LOG_ERR, "usage: mailbearer help [COMMAND]; the "
		       "commands are listed by mailbearer --help");
		return EX_USAGE;
	}
	if (c->synopsis == NULL)
		return c->run(2, serve_argv);
	usage_command(stdout, c);
	return EX_OK;
}

static int
cmd_version(int argc, char **argv)
{
	int r = argv == NULL ? 0 :
		mb_cli_parse(argc, argv, false, NULL, NULL, 0, NULL);

	if (r != 0)
		return r > 0 ? EX_OK : EX_USAGE;
	if (argv != NULL && optind != argc) {
		mb_log(LOG_ERR, "usage: mailbearer version");
		return EX_USAGE;
	}
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
	current = command_find(argv[optind]);
	if (current != NULL)
		return current->run(argc - optind, argv + optind);
	mb_log(LOG_ERR, "unknown command \"%s\"; see mailbearer --help",
	       argv[optind]);
	return EX_USAGE;
}
