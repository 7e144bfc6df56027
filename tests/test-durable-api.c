/*
 * A driver for the durability tests (not a test by itself): calls the
 * token core's API the way serve does, on an account of a configuration.
 *
 *   test-durable-api CONFIG ACCOUNT report TOKEN   mb_token_report_rejected
 *   test-durable-api CONFIG ACCOUNT forced         mb_token_get_forced
 *   test-durable-api CONFIG ACCOUNT proactive      mb_token_get(current)
 *
 * Prints the access token on success; exits with the mb_token_status.
 */
#include <config.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tokenhelper/conf.h"
#include "tokenhelper/log.h"
#include "tokenhelper/store.h"
#include "tokenhelper/token.h"

static enum mb_token_status
api_proactive(const struct mb_account *acct, struct mb_access *out,
	      char **err)
{
	struct mb_state st;
	enum mb_token_status r;
	char *e = NULL;

	if (mb_store_read(acct, false, &st, &e) != MB_STORE_FOUND) {
		*err = e;
		return MB_TOKEN_ERROR;
	}
	r = mb_token_get(acct, st.access_token, out, err);
	mb_state_clear(&st);
	return r;
}

int
main(int argc, char **argv)
{
	const struct mb_account *acct;
	struct mb_config *cfg = NULL;
	struct mb_access out = { NULL, 0, 0 };
	enum mb_token_status r;
	char *err = NULL;

	if (argc < 4) {
		fprintf(stderr, "usage: %s CONFIG ACCOUNT report TOKEN|forced|"
			"proactive\n", argv[0]);
		return 64;
	}
	mb_log_init("test-durable-api", false, false);
	if (mb_config_load(argv[1], &cfg, &err) < 0) {
		fprintf(stderr, "%s\n", err);
		return 64;
	}
	acct = mb_config_account(cfg, argv[2]);
	if (acct == NULL) {
		fprintf(stderr, "no account %s\n", argv[2]);
		return 64;
	}
	if (strcmp(argv[3], "report") == 0 && argc == 5)
		r = mb_token_report_rejected(acct, argv[4], &err);
	else if (strcmp(argv[3], "forced") == 0)
		r = mb_token_get_forced(acct, &out, &err);
	else if (strcmp(argv[3], "proactive") == 0)
		r = api_proactive(acct, &out, &err);
	else
		return 64;
	if (err != NULL)
		fprintf(stderr, "%s\n", err);
	if (out.token != NULL)
		printf("%s\n", out.token);
	mb_access_clear(&out);
	free(err);
	mb_config_free(&cfg);
	return (int)r;
}
