#include <config.h>

#include "token-source.h"

#include <string.h>

#include "account-name.h"
#include "helper-client.h"
#include "ipc-proto.h"
#include "sasl-log.h"
#include "xoauth2-msg.h"

enum mb_ts_kind
mb_token_source_classify(const char *password, size_t len,
			 const char **account_r, size_t *account_len_r)
{
	size_t plen = strlen(MB_TS_PREFIX);

	*account_r = NULL;
	*account_len_r = 0;
	if (password == NULL || len == 0)
		return MB_TS_HELPER;
	if (len >= plen && memcmp(password, MB_TS_PREFIX, plen) == 0) {
		*account_r = password + plen;
		*account_len_r = len - plen;
		return MB_TS_HELPER;
	}
	return MB_TS_PASSWORD;
}

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

int
mb_token_source_resolve(const sasl_utils_t *utils,
			const struct mb_options *opts, const char *mech_name,
			const char *authid, size_t authid_len,
			const char *password, size_t password_len,
			struct mb_token *tok)
{
	const char *account;
	size_t account_len;

	tok->data = NULL;
	tok->len = 0;
	tok->owned = NULL;
	tok->account[0] = '\0';
	if (mb_token_source_classify(password, password_len, &account,
				     &account_len) == MB_TS_PASSWORD) {
		/* Used in place: the caller copies it once, into the
		 * message it sends, and erases that. */
		tok->data = password;
		tok->len = mb_xo_token_trim(password, password_len);
		return SASL_OK;
	}
	/* "mailbearer:work\n" from a password file or a PassCmd means
	 * "work", as a token keeps no trailing newline either. */
	account_len = mb_xo_token_trim(account, account_len);
	if (account_len == 0) {
		account = authid;
		account_len = authid_len;
	}
	return ts_from_helper(utils, opts, mech_name, account, account_len,
			      tok);
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
