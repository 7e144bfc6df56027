/* SPDX-License-Identifier: MIT */
#ifndef MB_CREDS_H
#define MB_CREDS_H

/* The authentication name and the password (token or mailbearer:...),
 * from the application's prompt results or callbacks, with the ownership
 * rules of libsasl2 in one place:
 *   - prompt results are looked at first (re-entry after SASL_INTERACT),
 *     then callbacks; SASL_CB_AUTHNAME is a "simple" callback,
 *     SASL_CB_PASS a "secret" one (sasl_getsecret_t);
 *   - strings returned by callbacks and prompt results belong to the
 *     application: they are read, never freed nor modified;
 *   - the prompt array handed to the application belongs to the plugin
 *     (the context keeps it, so that it is freed even when the
 *     application gives up in the middle). */

#include <sasl/sasl.h>
#include <sasl/saslplug.h>

struct mb_creds {
	const char *authid;	/* borrowed: valid during this step only */
	unsigned authid_len;
	const char *password;	/* borrowed; may be NULL (absent) */
	unsigned password_len;
};

/* Fills *creds.  Returns SASL_OK; SASL_INTERACT with *prompt_need (and
 * *owned) set to a new prompt array for the application to fill in; or a
 * SASL error after seterror.  *owned is the array this plugin handed out
 * last time (or NULL); it is freed here once consumed.  prompt_need may
 * be NULL when the application supports no interaction. */
int mb_creds_get(sasl_client_params_t *params, const char *mech_name,
		 sasl_interact_t **prompt_need, sasl_interact_t **owned,
		 struct mb_creds *creds);

/* Frees a prompt array built by mb_creds_get (not the results, which are
 * the application's) and NULLs *prompts.  NULL-safe. */
void mb_creds_free_prompts(const sasl_utils_t *utils,
			   sasl_interact_t **prompts);

#endif
