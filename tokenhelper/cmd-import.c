/* SPDX-License-Identifier: MIT */
#include <config.h>

/* `mailbearer import ACCOUNT`: store a refresh token, or the tokens of
 * another tool's token file (sasl-xoauth2, mutt_oauth2.py, any JSON
 * object with a refresh_token), read from standard input (never from the
 * command line). */

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sysexits.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "cmd.h"
#include "json.h"
#include "expiry.h"
#include "isotime.h"
#include "log.h"
#include "store.h"
#include "wipe.h"
#include "xalloc.h"

/* The most standard input may hold: a token file of another tool. */
#define IMPORT_MAX 65536

/* Reads standard input: one line without echo from a terminal (a JSON
 * token file must then be on one line), everything up to IMPORT_MAX
 * otherwise.  Returns a malloc'd string the caller wipes, or NULL. */
static char *
read_secret_input(void)
{
	struct termios old, quiet;
	bool tty = isatty(STDIN_FILENO) == 1, echo_off = false;
	char *buf = mb_xmalloc(IMPORT_MAX + 2);
	size_t len = 0, n;

	if (tty) {
		fprintf(stderr, "Refresh token or token file (input "
			"hidden): ");
		fflush(stderr);
		if (tcgetattr(STDIN_FILENO, &old) == 0) {
			quiet = old;
			quiet.c_lflag &= ~(tcflag_t)ECHO;
			echo_off = tcsetattr(STDIN_FILENO, TCSAFLUSH,
					     &quiet) == 0;
		}
		if (fgets(buf, IMPORT_MAX + 1, stdin) != NULL)
			len = strlen(buf);
	} else {
		while (len <= IMPORT_MAX &&
		       (n = fread(buf + len, 1, IMPORT_MAX + 1 - len,
				  stdin)) > 0)
			len += n;
	}
	if (echo_off) {
		tcsetattr(STDIN_FILENO, TCSAFLUSH, &old);
		fputc('\n', stderr);
	}
	buf[len] = '\0';
	if (len == 0 || len > IMPORT_MAX || strlen(buf) != len) {
		mb_wipe(buf, IMPORT_MAX + 2);
		free(buf);
		return NULL;
	}
	return buf;
}

/* The first line of text, trimmed, as the refresh token: the plain
 * form of import.  NULL when it is not a token. */
static char *
import_plain(char *text)
{
	size_t len = strcspn(text, "\r\n");

	text[len] = '\0';
	while (len > 0 && (text[len - 1] == ' ' || text[len - 1] == '\t'))
		text[--len] = '\0';
	while (*text == ' ' || *text == '\t')
		text++;
	return mb_json_token_sane(text) ? mb_xstrdup(text) : NULL;
}

/* The member of the file's format that holds the access token's
 * expiry. */
static const char *
import_expiry_key(const struct mb_import *imp)
{
	if (strcmp(imp->format, "mutt_oauth2.py") == 0)
		return "access_token_expiration";
	if (strcmp(imp->format, "sasl-xoauth2") == 0)
		return "expiry";
	return "expires_at";
}

/* An expiry that is not a time, or further ahead than any access token
 * lives (the cap on a token endpoint's expires_in): EX_DATAERR after
 * saying why, else EX_OK.  Stored, such a value would make serve's
 * answer unformattable. */
static int
import_check_expiry(const struct mb_import *imp)
{
	time_t now = time(NULL);

	if (imp->expires_at < 0) {
		mb_log(LOG_ERR, "the %s file's \"%s\" is not a time (negative, "
		       "NaN, or neither seconds since 1970 nor an ISO 8601 "
		       "date); nothing was stored: correct it, or remove it "
		       "and the access token (the refresh token alone is "
		       "enough)", imp->format, import_expiry_key(imp));
		return EX_DATAERR;
	}
	if (imp->expires_at > now + MB_EXPIRES_IN_MAX) {
		mb_log(LOG_ERR, "the %s file's \"%s\" lies more than %ld days "
		       "ahead, which no access token lives; nothing was "
		       "stored: correct it, or remove it and the access token "
		       "(the refresh token alone is enough)", imp->format,
		       import_expiry_key(imp), MB_EXPIRES_IN_MAX / 86400);
		return EX_DATAERR;
	}
	return EX_OK;
}

/* Reads and recognizes the input into *imp.  0, or EX_DATAERR after
 * saying why (never quoting the input). */
static int
import_read(const struct mb_account *acct, struct mb_import *imp)
{
	char *text = read_secret_input(), *err = NULL;
	const char *p = text;
	int ret = EX_OK;

	memset(imp, 0, sizeof(*imp));
	while (p != NULL && (*p == ' ' || *p == '\t' || *p == '\n' ||
			     *p == '\r'))
		p++;
	if (p != NULL && *p == '{') {
		if (mb_json_parse_import(p, strlen(p), imp, &err) < 0) {
			mb_log(LOG_ERR, "standard input is JSON but not a "
			       "token file: %s", err);
			ret = EX_DATAERR;
		}
	} else if (text != NULL) {
		imp->format = "refresh token";
		imp->refresh_token = import_plain(text);
	}
	if (ret == EX_OK && imp->refresh_token != NULL)
		ret = import_check_expiry(imp);
	if (ret == EX_OK && imp->refresh_token == NULL) {
		mb_log(LOG_ERR, "standard input holds neither a refresh token "
		       "(one line of visible ASCII characters) nor a JSON "
		       "token file with a refresh_token");
		ret = EX_DATAERR;
	}
	if (ret == EX_OK && imp->client_id != NULL &&
	    strcmp(imp->client_id, acct->client_id) != 0) {
		mb_log(LOG_ERR, "the %s file was issued to client_id %s, but "
		       "account %s uses client_id %s: the provider would "
		       "refuse the refresh token; set client_id (and its "
		       "secret) in the account to the file's", imp->format,
		       imp->client_id, acct->name, acct->client_id);
		ret = EX_DATAERR;
	}
	if (ret == EX_OK && imp->user != NULL && imp->user[0] != '\0' &&
	    strcasecmp(imp->user, acct->user) != 0)
		mb_log(LOG_WARNING, "the %s file names %s, but account %s "
		       "logs in as %s", imp->format, imp->user, acct->name,
		       acct->user);
	if (text != NULL) {
		mb_wipe(text, strlen(text));
		free(text);
	}
	free(err);
	if (ret != EX_OK)
		mb_import_clear(imp);
	return ret;
}

/* Moves what was read into a fresh state: an access token only while it
 * is still usable. */
static void
import_to_state(struct mb_import *imp, struct mb_state *st)
{
	st->refresh_token = imp->refresh_token;
	imp->refresh_token = NULL;
	st->refresh_since = time(NULL);
	if (imp->access_token != NULL &&
	    mb_expiry_usable(time(NULL), imp->expires_at)) {
		st->access_token = imp->access_token;
		imp->access_token = NULL;
		st->expires_at = imp->expires_at;
		st->scope = imp->scope;
		imp->scope = NULL;
	}
}

/* Under the account's lock: the state replaced by what was read. */
static int
import_store(const struct mb_account *acct, struct mb_import *imp)
{
	struct mb_state st;
	struct mb_store_lock lock = MB_STORE_LOCK_INIT;
	char *err = NULL, when[32];
	int ret = EX_CONFIG;

	memset(&st, 0, sizeof(st));
	if (mb_store_lock(acct, NULL, &lock, &err) < 0) {
		mb_log(LOG_ERR, "%s", err);
		goto out;
	}
	switch (mb_store_read_locked(&lock, &st, &err)) {
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
		goto out;
	}
	mb_state_clear(&st);
	import_to_state(imp, &st);
	if (mb_store_write(&lock, &st, &err) < 0) {
		mb_log(LOG_ERR, "%s", err);
		goto out;
	}
	if (st.access_token != NULL) {
		mb_iso_time(st.expires_at, when, sizeof(when), "never");
		printf("account %s: refresh token and access token (valid "
		       "until %s) stored from a %s file\n", acct->name, when,
		       imp->format);
	} else {
		printf("account %s: refresh token stored (from: %s); "
		       "`mailbearer token %s` fetches an access token\n",
		       acct->name, imp->format, acct->name);
	}
	ret = EX_OK;
out:
	mb_store_unlock(&lock);
	mb_state_clear(&st);
	free(err);
	return ret;
}

int
mb_cmd_import(int argc, char **argv)
{
	const struct mb_account *acct;
	struct mb_config *cfg = NULL;
	struct mb_import imp;
	int ret = EX_USAGE, r;

	memset(&imp, 0, sizeof(imp));
	r = mb_cli_parse(argc, argv, false, NULL, NULL, 0, NULL);
	if (r != 0)
		return r > 0 ? EX_OK : EX_USAGE;
	r = mb_cli_account_operand(argc, argv, "mailbearer import ACCOUNT "
				   "< FILE (a refresh token or another tool's "
				   "token file, read from standard input, never "
				   "from the command line)", &cfg, &acct);
	if (r != EX_OK)
		return r;
	if (mb_flow_app_only(acct->flow)) {
		mb_log(LOG_ERR, "account %s uses flow = %s: it needs no "
		       "refresh token and no user step; `mailbearer token %s` "
		       "requests an access token with the client's own "
		       "credentials", acct->name, mb_flow_name(acct->flow),
		       acct->name);
		goto out;
	}
	ret = import_read(acct, &imp);
	if (ret != EX_OK)
		goto out;
	ret = import_store(acct, &imp);
out:
	mb_import_clear(&imp);
	mb_config_free(&cfg);
	return ret;
}

