/* SPDX-License-Identifier: MIT */
#ifndef MB_CLI_H
#define MB_CLI_H

/* What the commands of the `mailbearer` program share: option parsing,
 * loading the configuration, finding an account, printing a time.
 * Exit codes (documented in mailbearer(1)) come from <sysexits.h> so that
 * callers such as Postfix or mbsync can tell "try again" from "broken":
 *   0 success, 64 usage, 65 bad input (import), 67 unknown account,
 *   74 output error, 75 temporary failure (the provider is unreachable
 *   and no valid token is left), 77 the account needs
 *   `mailbearer authorize`, 78 configuration or local state problem. */

#include <getopt.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <time.h>

#include "conf.h"

/* --config and --verbose, wherever they were given. */
extern const char *mb_cli_config;
extern bool mb_cli_verbose;

/* The program's usage text (main.c, which knows the commands). */
void mb_cli_usage(FILE *f);
/* Common options of the program and its commands: -c/--config,
 * -v/--verbose, -h.  Leaves optind at the first operand; returns -1 on a
 * usage error, 1 after --help, 0 otherwise.  in_order: stop at the first
 * operand (the command name).  extra: more options ("f:" ...) handled by
 * cb, which returns 0 when it took the option. */
int mb_cli_parse(int argc, char **argv, bool in_order,
		 const char *extra_short, const struct option *extra_long,
		 size_t n_extra, int (*cb)(int opt, const char *arg));
/* Loads the configuration chosen by --config / $MAILBEARER_CONFIG / the
 * default locations; logs the error.  NULL on failure. */
struct mb_config *mb_cli_load_config(void);
/* The account, or NULL after logging that there is none. */
const struct mb_account *mb_cli_find_account(const struct mb_config *cfg,
					     const char *name);
/* After mb_cli_parse(): exactly one ACCOUNT operand, the configuration
 * loaded and the account found.  Returns EX_OK with *cfg_r (the caller
 * frees it) and *acct_r set, or the exit status after saying why: usage
 * (logged as "usage: USAGE"), configuration, or unknown account. */
int mb_cli_account_operand(int argc, char **argv, const char *usage,
			   struct mb_config **cfg_r,
			   const struct mb_account **acct_r);

#endif
