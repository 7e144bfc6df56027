/* SPDX-License-Identifier: MIT */
#include <config.h>

#include "cli.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "xalloc.h"

#include <sysexits.h>

const char *mb_cli_config;
bool mb_cli_verbose;

/* Common options of the program and its commands: -c/--config,
 * -v/--verbose, -h.  Leaves optind at the first operand; returns -1 on a
 * usage error, 1 after --help, 0 otherwise.  in_order: stop at the first
 * operand (the command name).  extra: more options ("f:" ...) handled by
 * cb. */
int
mb_cli_parse(int argc, char **argv, bool in_order, const char *extra_short,
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
			mb_cli_config = optarg;
			break;
		case 'v':
			mb_cli_verbose = true;
			mb_log_init(NULL, false, true);
			break;
		case 'h':
			mb_cli_usage(stdout);
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
struct mb_config *
mb_cli_load_config(void)
{
	struct mb_config *cfg = NULL;
	char *path, *err = NULL;

	path = mb_cli_config ? mb_xstrdup(mb_cli_config) :
			       mb_config_default_path();
	if (mb_config_load(path, &cfg, &err) < 0) {
		mb_log(LOG_ERR, "%s", err);
		free(err);
	}
	free(path);
	return cfg;
}

const struct mb_account *
mb_cli_find_account(const struct mb_config *cfg, const char *name)
{
	const struct mb_account *a = mb_config_account(cfg, name);

	if (a == NULL)
		mb_log(LOG_ERR, "no account [%s] in %s", name, cfg->path);
	return a;
}


int
mb_cli_account_operand(int argc, char **argv, const char *usage,
		       struct mb_config **cfg_r,
		       const struct mb_account **acct_r)
{
	*cfg_r = NULL;
	*acct_r = NULL;
	if (optind != argc - 1) {
		mb_log(LOG_ERR, "usage: %s", usage);
		return EX_USAGE;
	}
	*cfg_r = mb_cli_load_config();
	if (*cfg_r == NULL)
		return EX_CONFIG;
	*acct_r = mb_cli_find_account(*cfg_r, argv[optind]);
	if (*acct_r == NULL) {
		mb_config_free(cfg_r);
		return EX_NOUSER;
	}
	return EX_OK;
}
