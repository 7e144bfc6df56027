#include <config.h>

/* `mailbearer import ACCOUNT`: store a refresh token read from standard
 * input (never from the command line). */

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <termios.h>
#include <unistd.h>

#include "cli.h"
#include "cmd.h"
#include "json.h"
#include "log.h"
#include "store.h"
#include "wipe.h"
#include "xalloc.h"

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

int
mb_cmd_import(int argc, char **argv)
{
	const struct mb_account *acct;
	struct mb_config *cfg = NULL;
	struct mb_state st;
	char *err = NULL, *rt = NULL;
	int ret = EX_USAGE, lock = -1, r;

	memset(&st, 0, sizeof(st));
	r = mb_cli_parse(argc, argv, false, NULL, NULL, 0, NULL);
	if (r != 0)
		return r > 0 ? EX_OK : EX_USAGE;
	if (optind != argc - 1) {
		mb_log(LOG_ERR, "usage: mailbearer import ACCOUNT < FILE "
		       "(the refresh token is read from standard input, "
		       "never from the command line)");
		return EX_USAGE;
	}
	cfg = mb_cli_load_config();
	if (cfg == NULL)
		return EX_CONFIG;
	acct = mb_cli_find_account(cfg, argv[optind]);
	if (acct == NULL) {
		ret = EX_NOUSER;
		goto out;
	}
	if (acct->flow == MB_FLOW_CLIENT_CREDENTIALS) {
		mb_log(LOG_ERR, "account %s uses flow = client_credentials: "
		       "it needs no refresh token and no user step; "
		       "`mailbearer token %s` requests an access token with "
		       "the client's own credentials", acct->name, acct->name);
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

