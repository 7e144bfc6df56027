/* SPDX-License-Identifier: MIT */
#include <config.h>

#include "token-source.h"

#include <string.h>

#include "account-name.h"
#include "helper-client.h"
#include "ipc-proto.h"
#include "password-advice.h"
#include "sasl-log.h"
#include "token-rule.h"
#include "xoauth2-msg.h"

/* The helper token source: `mailbearer serve` over its UNIX socket. */
static int
ts_from_helper(const sasl_utils_t *utils, const struct mb_options *opts,
	       const char *mech_name, const char *account,
	       size_t account_len, struct mb_token *tok)
{
	char who[160];
	int result;

	/* The one rule (common/account-name.h) also bounds the copy. */
	if (!mb_account_name_valid(account, account_len) ||
	    account_len >= sizeof(tok->account)) {
		mb_xo_sanitize(who, sizeof(who), account, account_len);
		mb_sasl_seterror(utils,
				 "%s: \"%s\" cannot be a mailbearer account "
				 "name (%s); use the password "
				 "mailbearer:<account>",
				 mech_name, who, MB_ACCOUNT_NAME_RULE);
		return SASL_BADPARAM;
	}
	memcpy(tok->account, account, account_len);
	tok->account[account_len] = '\0';
	tok->mech_name = mech_name;
	result = mb_helper_get_token(utils, opts, mech_name, tok->account,
				     &tok->owned, &tok->len);
	tok->data = tok->owned;
	return result;
}

/* A password, not a token: refused before anything is sent.  libsasl2
 * chose this mechanism by rank and cannot be made to take PLAIN instead
 * (doc/plugin.md, "A password is not a token"); the detail names the
 * client's own setting that does.  Never the password itself. */
static int
ts_password(const sasl_utils_t *utils, const char *mech_name,
	    const char *authid, size_t authid_len)
{
	char who[160];

	mb_xo_sanitize(who, sizeof(who), authid, authid_len);
	mb_sasl_seterror(utils,
			 "%s: the password for %s is not an OAuth2 access "
			 "token (not %s), so %s was not used and nothing "
			 "was sent; to log in with the password, %s "
			 "(a shorter token is given as bearer:TOKEN)",
			 mech_name, who, MB_TS_SHAPE_RULE, mech_name,
			 mb_password_advice(mb_program_name()));
	return SASL_NOMECH;
}

int
mb_token_source_resolve(const sasl_utils_t *utils,
			const struct mb_options *opts, const char *mech_name,
			const char *authid, size_t authid_len,
			const char *password, size_t password_len,
			struct mb_token *tok)
{
	const char *value;
	size_t value_len;

	tok->data = NULL;
	tok->len = 0;
	tok->owned = NULL;
	tok->account[0] = '\0';
	tok->b64token = false;
	switch (mb_ts_classify_ex(password, password_len, &value, &value_len,
				  &tok->b64token)) {
	case MB_TS_TOKEN:
		/* Used in place: the caller copies it once, into the
		 * message it sends, and erases that. */
		tok->data = value;
		tok->len = value_len;
		return SASL_OK;
	case MB_TS_PASSWORD:
		return ts_password(utils, mech_name, authid, authid_len);
	case MB_TS_HELPER:
	default:
		break;
	}
	if (value_len == 0) {
		value = authid;
		value_len = authid_len;
	}
	return ts_from_helper(utils, opts, mech_name, value, value_len, tok);
}

void
mb_token_source_rejected(const sasl_utils_t *utils,
			 const struct mb_options *opts, const char *authid,
			 size_t authid_len, const struct mb_token *tok)
{
	char login[MB_IPC_LOGIN_MAX + 1];
	const char *login_p = NULL;

	/* The password source has nothing to refresh; the helper source
	 * tells `mailbearer serve` which token was rejected so that its
	 * next answer is a refreshed one, and which login name went with
	 * it.  A name the wire cannot carry (a space, non-ASCII) is left
	 * out rather than altered. */
	if (tok == NULL || tok->data == NULL || tok->account[0] == '\0')
		return;
	if (authid != NULL && mb_ipc_valid_login(authid, authid_len)) {
		memcpy(login, authid, authid_len);
		login[authid_len] = '\0';
		login_p = login;
	}
	mb_helper_report_rejected(utils, opts, tok->mech_name != NULL ?
				  tok->mech_name : "mailbearer", tok->account,
				  tok->data, login_p);
}

void
mb_token_clear(const sasl_utils_t *utils, struct mb_token *tok)
{
	if (tok == NULL)
		return;
	if (tok->owned != NULL) {
		utils->erasebuffer(tok->owned, (unsigned)tok->len);
		utils->free(tok->owned);
	}
	tok->owned = NULL;
	tok->data = NULL;
	tok->len = 0;
	tok->account[0] = '\0';
}
