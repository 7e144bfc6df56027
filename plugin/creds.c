/* SPDX-License-Identifier: MIT */
#include <config.h>

#include "creds.h"

#include <stdbool.h>
#include <string.h>

#include "sasl-log.h"

/* The prompt array always holds the ids of what was missing, in this
 * order, terminated by SASL_CB_LIST_END. */
static const char creds_prompt_user[] = "Authentication name";
static const char creds_prompt_pass[] =
	"OAuth2 access token (empty or mailbearer:<account>: ask the "
	"token helper)";

void
mb_creds_free_prompts(const sasl_utils_t *utils, sasl_interact_t **prompts)
{
	if (prompts == NULL || *prompts == NULL)
		return;
	utils->free(*prompts);
	*prompts = NULL;
}

static const sasl_interact_t *
creds_find(const sasl_interact_t *list, unsigned long id)
{
	int i;

	/* Bounded: our arrays have at most three entries. */
	for (i = 0; i < 8 && list[i].id != SASL_CB_LIST_END; i++) {
		if (list[i].id == id)
			return &list[i];
	}
	return NULL;
}

static void
creds_from_prompt(const sasl_interact_t *p, const char **s, unsigned *len)
{
	*s = p->result != NULL ? p->result : "";
	*len = p->result != NULL ? p->len : 0;
	if (*len == 0 && p->result != NULL)
		*len = (unsigned)strlen(p->result);
}

/* SASL_OK, SASL_INTERACT (prompt wanted) or an error (seterror done). */
static int
creds_authname(const sasl_utils_t *utils, const char *mech_name,
	       struct mb_creds *creds)
{
	sasl_callback_ft proc = NULL;
	sasl_getsimple_t *simple;
	void *cbctx = NULL;
	const char *s = NULL;
	unsigned len = 0;
	int result;

	result = utils->getcallback(utils->conn, SASL_CB_AUTHNAME, &proc,
				    &cbctx);
	if (result == SASL_INTERACT)
		return SASL_INTERACT;
	if (result != SASL_OK || proc == NULL) {
		mb_sasl_seterror(
			utils,
			"%s: no user name: the application offers "
			"neither an authentication name callback nor a "
			"prompt",
			mech_name);
		return SASL_BADPARAM;
	}
	/* libsasl2 stores every callback as int (*)(void). */
	simple = (sasl_getsimple_t *)(void (*)(void))proc;
	result = simple(cbctx, SASL_CB_AUTHNAME, &s, &len);
	if (result != SASL_OK) {
		mb_sasl_seterror(utils, "%s: the application's authentication "
				 "name callback failed", mech_name);
		return result;
	}
	if (s == NULL) {
		s = "";
		len = 0;
	} else if (len == 0) {
		len = (unsigned)strlen(s);
	}
	creds->authid = s;
	creds->authid_len = len;
	return SASL_OK;
}

static int
creds_password(const sasl_utils_t *utils, const char *mech_name,
	       struct mb_creds *creds)
{
	sasl_callback_ft proc = NULL;
	sasl_getsecret_t *getsecret;
	sasl_secret_t *secret = NULL;
	void *cbctx = NULL;
	int result;

	result = utils->getcallback(utils->conn, SASL_CB_PASS, &proc, &cbctx);
	if (result == SASL_INTERACT)
		return SASL_INTERACT;
	if (result != SASL_OK || proc == NULL) {
		mb_sasl_seterror(
			utils,
			"%s: no access token: the application "
			"offers neither a password callback nor a prompt",
			mech_name);
		return SASL_BADPARAM;
	}
	/* SASL_CB_PASS is a secret callback, not a simple one. */
	getsecret = (sasl_getsecret_t *)(void (*)(void))proc;
	result = getsecret(utils->conn, cbctx, SASL_CB_PASS, &secret);
	if (result != SASL_OK) {
		mb_sasl_seterror(utils,
				 "%s: the application's password callback "
				 "failed",
				 mech_name);
		return result;
	}
	/* The secret stays the application's: never freed here. */
	creds->password = secret != NULL ? (const char *)secret->data : NULL;
	creds->password_len = secret != NULL ? (unsigned)secret->len : 0;
	return SASL_OK;
}

static int
creds_make_prompts(const sasl_utils_t *utils, bool user, bool pass,
		   sasl_interact_t **out)
{
	sasl_interact_t *list;
	size_t n = 0;

	list = utils->malloc(3 * sizeof(*list));
	if (list == NULL)
		return SASL_NOMEM;
	memset(list, 0, 3 * sizeof(*list));
	if (user) {
		list[n].id = SASL_CB_AUTHNAME;
		list[n].prompt = creds_prompt_user;
		n++;
	}
	if (pass) {
		list[n].id = SASL_CB_PASS;
		list[n].prompt = creds_prompt_pass;
		n++;
	}
	list[n].id = SASL_CB_LIST_END;
	*out = list;
	return SASL_OK;
}

int
mb_creds_get(sasl_client_params_t *params, const char *mech_name,
	     sasl_interact_t **prompt_need, sasl_interact_t **owned,
	     struct mb_creds *creds)
{
	const sasl_utils_t *utils = params->utils;
	const sasl_interact_t *p;
	bool have_user = false, have_pass = false;
	bool need_user = false, need_pass = false;
	int result;

	memset(creds, 0, sizeof(*creds));
	if (prompt_need != NULL && *prompt_need != NULL) {
		p = creds_find(*prompt_need, SASL_CB_AUTHNAME);
		if (p != NULL) {
			creds_from_prompt(p, &creds->authid,
					  &creds->authid_len);
			have_user = true;
		}
		p = creds_find(*prompt_need, SASL_CB_PASS);
		if (p != NULL) {
			creds_from_prompt(p, &creds->password,
					  &creds->password_len);
			have_pass = true;
		}
	}
	if (!have_user) {
		result = creds_authname(utils, mech_name, creds);
		if (result == SASL_INTERACT)
			need_user = true;
		else if (result != SASL_OK)
			goto out;
	}
	if (!have_pass) {
		result = creds_password(utils, mech_name, creds);
		if (result == SASL_INTERACT)
			need_pass = true;
		else if (result != SASL_OK)
			goto out;
	}
	/* The old array is consumed (its results stay the application's). */
	if (prompt_need != NULL && *prompt_need == *owned)
		*prompt_need = NULL;
	mb_creds_free_prompts(utils, owned);
	if (need_user || need_pass) {
		if (prompt_need == NULL) {
			mb_sasl_seterror(utils,
					 "%s: the application registered "
					 "a callback without a procedure but "
					 "supports no prompts",
					 mech_name);
			result = SASL_BADPARAM;
			goto out;
		}
		result = creds_make_prompts(utils, need_user, need_pass,
					    owned);
		if (result != SASL_OK) {
			mb_sasl_seterror(utils, "%s: out of memory", mech_name);
			goto out;
		}
		*prompt_need = *owned;
		result = SASL_INTERACT;
		goto out;
	}
	result = SASL_OK;
out:
	return result;
}
