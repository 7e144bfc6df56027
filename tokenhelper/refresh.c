/* SPDX-License-Identifier: MIT */
#include <config.h>

#include "refresh.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cancel.h"
#include "client-assertion.h"
#include "http.h"
#include "json.h"
#include "log.h"
#include "xalloc.h"

#define MB_DEFAULT_EXPIRES_IN 3600L

void
mb_refresh_out_clear(struct mb_refresh_out *out)
{
	if (out == NULL)
		return;
	mb_free_secret(&out->access_token);
	mb_free_secret(&out->refresh_token);
	free(out->scope);
	free(out->message);
	memset(out, 0, sizeof(*out));
	out->retry_after = -1;
}

static enum mb_refresh_result
refresh_kind(enum mb_fail_kind k)
{
	switch (k) {
	case MB_FAIL_GRANT:
		return MB_REFRESH_GRANT;
	case MB_FAIL_CLIENT:
		return MB_REFRESH_CLIENT;
	case MB_FAIL_TRANSIENT:
	default:
		return MB_REFRESH_TRANSIENT;
	}
}

/* Masks in text every secret in play in one request: the refresh token
 * sent, the client secret, and any token the reply carried. */
static void
refresh_mask(char *text, const struct mb_account *acct,
	     const char *refresh_token, const struct mb_token_reply *tr,
	     const struct mb_refresh_out *out)
{
	const char *secrets[] = {
		refresh_token, acct->client_secret,
		tr->access_token, tr->refresh_token,
		out->access_token, out->refresh_token,
	};

	mb_redact_secrets(text, secrets, sizeof(secrets) / sizeof(secrets[0]));
}

/* The client authenticates with an RFC 7523 assertion signed by its
 * certificate (client credentials only), not with a secret. */
static bool
refresh_uses_assertion(const struct mb_account *acct)
{
	return acct->flow == MB_FLOW_CLIENT_CREDENTIALS &&
	       acct->client_certificate_file != NULL;
}

/* An OAuth error reply: classified, its secrets masked, and told in one
 * sentence with the advice for it. */
static enum mb_refresh_result
refresh_provider_error(const struct mb_account *acct,
		       const char *refresh_token, long status,
		       struct mb_token_reply *tr, struct mb_fail_input *fi,
		       struct mb_refresh_out *out)
{
	enum mb_refresh_result ret;
	const char *advice;
	char code[32] = "";

	/* Never repeat a secret the provider echoes back; a truncated echo
	 * is at the end of each field. */
	refresh_mask(tr->error_description, acct, refresh_token, tr, out);
	refresh_mask(tr->suberror, acct, refresh_token, tr, out);
	fi->error = tr->error;
	fi->aadsts = tr->aadsts;
	ret = refresh_kind(mb_advice_classify(fi, &advice));
	refresh_mask(tr->error, acct, refresh_token, tr, out);
	if (tr->aadsts > 0 && (tr->error_description == NULL ||
	    strstr(tr->error_description, "AADSTS") == NULL))
		snprintf(code, sizeof(code), " AADSTS%ld", tr->aadsts);
	out->message = mb_xasprintf("the provider answered HTTP %ld "
		"\"%s\"%s%s%s%s: %s", status, tr->error, code,
		tr->error_description ? " (" : "",
		tr->error_description ? tr->error_description : "",
		tr->error_description ? ")" : "", advice);
	return ret;
}

/* What a reply that arrived means: new tokens, an OAuth error, or a body
 * or status that is no answer at all. */
static enum mb_refresh_result
refresh_from_reply(const struct mb_account *acct, const char *refresh_token,
		   const struct mb_http_reply *reply,
		   struct mb_token_reply *tr, struct mb_refresh_out *out)
{
	struct mb_fail_input fi;
	const char *advice;
	char *err = NULL;
	int g;

	memset(&fi, 0, sizeof(fi));
	fi.http_status = reply->status;
	fi.provider = acct->provider;
	fi.certificate = refresh_uses_assertion(acct);
	fi.service_account = acct->flow == MB_FLOW_SERVICE_ACCOUNT;
	g = mb_json_parse_token_reply(reply->body, reply->len, tr, &err);
	if (reply->status >= 200 && reply->status <= 299) {
		/* A 2xx reply's new refresh token is the grant now, whatever
		 * else is wrong with the reply: the caller saves it and does
		 * not retry with the spent one. */
		out->refresh_token = tr->refresh_token;
		tr->refresh_token = NULL;
	}
	if (g < 0) {
		mb_advice_classify(&fi, &advice);
		out->message = mb_xasprintf("the token endpoint %s answered "
			"HTTP %ld with an unusable body (%s); %s",
			acct->token_endpoint, reply->status, err, advice);
		free(err);
		return MB_REFRESH_TRANSIENT;
	}
	if (tr->error != NULL)
		return refresh_provider_error(acct, refresh_token,
					      reply->status, tr, &fi, out);
	if (reply->status < 200 || reply->status > 299) {
		mb_advice_classify(&fi, &advice);
		out->message = mb_xasprintf("the token endpoint %s answered "
			"HTTP %ld; %s", acct->token_endpoint, reply->status,
			advice);
		return MB_REFRESH_TRANSIENT;
	}
	out->access_token = tr->access_token;
	tr->access_token = NULL;
	out->scope = tr->scope;
	tr->scope = NULL;
	out->expires_in = tr->expires_in > 0 ? tr->expires_in :
			  MB_DEFAULT_EXPIRES_IN;
	return MB_REFRESH_OK;
}

/*
 * RFC 6749, 6: POST to the token endpoint, form-encoded:
 *   grant_type=refresh_token, refresh_token, [scope]
 * with client authentication (2.3.1: client_id and client_secret in the
 * body).  Microsoft documents scope as expected on refresh; for the
 * others it is omitted, which means "the scope originally granted".
 * flow = client_credentials (4.4): grant_type=client_credentials and the
 * scope, no refresh token; the client authenticates with its secret or
 * with an RFC 7523 client assertion (client_assertion_type,
 * client_assertion), made anew for each request.
 * flow = service_account (RFC 7523 2.1): grant_type=jwt-bearer and the
 * assertion signed with the service account's key, made anew for each
 * request; no client authentication, the scope is in the assertion.
 */
enum mb_refresh_result
mb_refresh_once(const struct mb_account *acct, const char *refresh_token,
		struct mb_refresh_out *out)
{
	bool cc = acct->flow == MB_FLOW_CLIENT_CREDENTIALS;
	bool sa = acct->flow == MB_FLOW_SERVICE_ACCOUNT;
	enum mb_refresh_result ret;
	const char *fields[] = {
		"grant_type", sa ? MB_SA_GRANT_TYPE : cc ?
			      "client_credentials" : "refresh_token",
		"refresh_token", mb_flow_app_only(acct->flow) ? NULL :
				 refresh_token,
		"client_id", sa ? NULL : acct->client_id,
		"client_secret", acct->client_secret,
		"client_assertion_type", NULL,
		"client_assertion", NULL,
		"scope", cc || strcmp(acct->provider, "microsoft") == 0 ?
			 acct->scope : NULL,
		"assertion", NULL,
		NULL, NULL,
	};
	/* timeout bounds the sending; a request sent is listened to up to
	 * reply_timeout: the provider may be carrying it out. */
	const struct mb_http_limits lim = {
		acct->connect_timeout, acct->timeout, acct->reply_timeout,
	};
	struct mb_http_reply reply;
	struct mb_token_reply tr;
	enum mb_http_result hr;
	char *err = NULL, *assertion = NULL;

	memset(out, 0, sizeof(*out));
	out->retry_after = -1;
	memset(&tr, 0, sizeof(tr));
	if (refresh_uses_assertion(acct)) {
		assertion = mb_client_assertion(acct, time(NULL), &err);
		if (assertion == NULL) {
			out->message = err;
			return MB_REFRESH_LOCAL;
		}
		fields[9] = MB_CLIENT_ASSERTION_TYPE;
		fields[11] = assertion;
		/* Masked wherever the refresh token would be. */
		refresh_token = assertion;
	} else if (sa) {
		assertion = mb_sa_assertion(acct, time(NULL), &err);
		if (assertion == NULL) {
			out->message = err;
			return MB_REFRESH_LOCAL;
		}
		fields[15] = assertion;
		refresh_token = assertion;
	}
	hr = mb_http_post_form_ex(acct->token_endpoint, acct->ca_file, &lim,
				  fields, &reply, &out->unanswered, &err);
	if (hr != MB_HTTP_OK) {
		out->message = err;
		ret = hr == MB_HTTP_TRANSIENT ? MB_REFRESH_TRANSIENT :
		      MB_REFRESH_LOCAL;
	} else {
		out->retry_after = reply.retry_after;
		ret = refresh_from_reply(acct, refresh_token, &reply, &tr,
					 out);
		mb_http_reply_clear(&reply);
	}
	/* The whole sentence too: it goes to the log, the state file and
	 * the plugin; and the scope, stored and shown by status (the
	 * provider may echo the refresh token that was sent). */
	refresh_mask(out->message, acct, refresh_token, &tr, out);
	refresh_mask(out->scope, acct, refresh_token, &tr, out);
	mb_token_reply_clear(&tr);
	mb_free_secret(&assertion);
	return ret;
}

enum mb_refresh_result
mb_refresh(const struct mb_account *acct, const char *refresh_token,
	   int max_tries, long max_wait, struct mb_refresh_out *out)
{
	enum mb_refresh_result r = MB_REFRESH_TRANSIENT;
	bool strict = acct->rotation_strict &&
		      !mb_flow_app_only(acct->flow);
	bool lost = false;	/* an earlier request went unanswered */
	unsigned backoff = 1;
	int i;

	memset(out, 0, sizeof(*out));
	out->retry_after = -1;
	for (i = 1; i <= (max_tries < 1 ? 1 : max_tries); i++) {
		unsigned wait;

		mb_refresh_out_clear(out);
		r = mb_refresh_once(acct, refresh_token, out);
		if (r != MB_REFRESH_TRANSIENT || i >= max_tries ||
		    out->refresh_token != NULL)
			break;
		if (out->unanswered && strict) {
			/* The provider may have spent the token: sending it
			 * again could lose the grant. */
			mb_log(LOG_WARNING, "%s: %s; the provider rotates "
			       "refresh tokens strictly, so the request is "
			       "not repeated", acct->name, out->message);
			break;
		}
		lost = lost || out->unanswered;
		if (out->retry_after > max_wait) {
			mb_log(LOG_INFO, "%s: %s; the provider asks to wait "
			       "%ld s, giving up for now", acct->name,
			       out->message, out->retry_after);
			break;
		}
		wait = out->retry_after >= 0 ? (unsigned)out->retry_after :
		       backoff;
		if (mb_cancelled())
			break;
		mb_log(LOG_INFO, "%s: attempt %d failed: %s; retrying in %u "
		       "s", acct->name, i, out->message, wait);
		if (wait > 0 && mb_cancel_sleep((long)wait) < 0)
			break;
		backoff *= 2;
	}
	if (r == MB_REFRESH_GRANT && lost) {
		/* The refresh token was good a moment ago: a provider that
		 * rotates strictly, not configured as such, may have spent
		 * it on the request whose answer never arrived.  Nothing
		 * can recover that grant, but the administrator should know
		 * it was not a revocation, and how to prevent it. */
		char *m = mb_xasprintf("%s (an earlier request with this "
			"refresh token got no answer: if the provider rotates "
			"refresh tokens strictly, it used the token then; set "
			"`rotation = strict` for such a provider so that an "
			"unanswered refresh token is never sent again)",
			out->message != NULL ? out->message : "refused");

		free(out->message);
		out->message = m;
	}
	if (r == MB_REFRESH_TRANSIENT && mb_cancelled() &&
	    out->refresh_token == NULL) {
		/* The last failure is not the story: we are stopping. */
		free(out->message);
		out->message = mb_xstrdup(MB_HTTP_CANCELLED_TEXT);
	}
	return r;
}
