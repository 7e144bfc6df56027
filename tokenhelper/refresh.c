#include <config.h>	/* autoconf; "config.h" here is ours */

#include "refresh.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

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

#define MB_REDACT_MIN_TAIL 8

void
mb_redact(char *text, const char *secret)
{
	size_t n, len, k;
	char *p;

	/* Shorter secrets are not real ones; masking them would garble
	 * the message. */
	if (text == NULL || secret == NULL ||
	    strlen(secret) < MB_REDACT_MIN_TAIL)
		return;
	n = strlen(secret);
	p = strstr(text, secret);
	while (p != NULL) {
		memset(p, '*', n);
		p = strstr(p + n, secret);
	}
	len = strlen(text);
	for (k = len < n ? len : n - 1; k >= MB_REDACT_MIN_TAIL; k--) {
		if (memcmp(text + len - k, secret, k) == 0) {
			memset(text + len - k, '*', k);
			break;
		}
	}
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

/*
 * RFC 6749, 6: POST to the token endpoint, form-encoded:
 *   grant_type=refresh_token, refresh_token, [scope]
 * with client authentication (2.3.1: client_id and client_secret in the
 * body).  Microsoft documents scope as expected on refresh; for the
 * others it is omitted, which means "the scope originally granted".
 */
enum mb_refresh_result
mb_refresh_once(const struct mb_account *acct, const char *refresh_token,
		struct mb_refresh_out *out)
{
	enum mb_refresh_result ret = MB_REFRESH_TRANSIENT;
	const char *fields[] = {
		"grant_type", "refresh_token",
		"refresh_token", refresh_token,
		"client_id", acct->client_id,
		"client_secret", acct->client_secret,
		"scope", strcmp(acct->provider, "microsoft") == 0 ?
			 acct->scope : NULL,
		NULL, NULL,
	};
	struct mb_http_reply reply;
	struct mb_token_reply tr;
	struct mb_fail_input fi;
	enum mb_http_result hr;
	const char *advice;
	char *err = NULL;

	memset(out, 0, sizeof(*out));
	out->retry_after = -1;
	memset(&tr, 0, sizeof(tr));
	hr = mb_http_post_form(acct->token_endpoint, acct->ca_file,
			       acct->connect_timeout, acct->timeout, fields,
			       &reply, &err);
	if (hr != MB_HTTP_OK) {
		out->message = err;
		err = NULL;
		ret = hr == MB_HTTP_TRANSIENT ? MB_REFRESH_TRANSIENT :
		      MB_REFRESH_LOCAL;
		goto out;
	}
	out->retry_after = reply.retry_after;
	memset(&fi, 0, sizeof(fi));
	fi.http_status = reply.status;
	fi.provider = acct->provider;
	if (mb_json_parse_token_reply(reply.body, reply.len, &tr, &err) < 0) {
		mb_advice_classify(&fi, &advice);
		out->message = mb_xasprintf("the token endpoint %s answered "
			"HTTP %ld with an unusable body (%s); %s",
			acct->token_endpoint, reply.status, err, advice);
		ret = MB_REFRESH_TRANSIENT;
		goto out;
	}
	if (tr.error != NULL) {
		char code[32] = "";

		/* Never repeat a secret the provider echoes back. */
		mb_redact(tr.error_description, refresh_token);
		mb_redact(tr.error_description, acct->client_secret);
		mb_redact(tr.suberror, refresh_token);
		mb_redact(tr.suberror, acct->client_secret);
		fi.error = tr.error;
		fi.aadsts = tr.aadsts;
		ret = refresh_kind(mb_advice_classify(&fi, &advice));
		mb_redact(tr.error, refresh_token);
		mb_redact(tr.error, acct->client_secret);
		if (tr.aadsts > 0 && (tr.error_description == NULL ||
		    strstr(tr.error_description, "AADSTS") == NULL))
			snprintf(code, sizeof(code), " AADSTS%ld", tr.aadsts);
		out->message = mb_xasprintf("the provider answered HTTP %ld "
			"\"%s\"%s%s%s%s: %s", reply.status, tr.error, code,
			tr.error_description ? " (" : "",
			tr.error_description ? tr.error_description : "",
			tr.error_description ? ")" : "", advice);
		goto out;
	}
	if (reply.status < 200 || reply.status > 299) {
		mb_advice_classify(&fi, &advice);
		out->message = mb_xasprintf("the token endpoint %s answered "
			"HTTP %ld; %s", acct->token_endpoint, reply.status,
			advice);
		ret = MB_REFRESH_TRANSIENT;
		goto out;
	}
	out->access_token = tr.access_token;
	tr.access_token = NULL;
	out->refresh_token = tr.refresh_token;
	tr.refresh_token = NULL;
	out->scope = tr.scope;
	tr.scope = NULL;
	out->expires_in = tr.expires_in > 0 ? tr.expires_in :
			  MB_DEFAULT_EXPIRES_IN;
	ret = MB_REFRESH_OK;
out:
	free(err);
	mb_token_reply_clear(&tr);
	if (hr == MB_HTTP_OK)
		mb_http_reply_clear(&reply);
	return ret;
}

enum mb_refresh_result
mb_refresh(const struct mb_account *acct, const char *refresh_token,
	   int max_tries, long max_wait, struct mb_refresh_out *out)
{
	enum mb_refresh_result r = MB_REFRESH_TRANSIENT;
	unsigned backoff = 1;
	int i;

	memset(out, 0, sizeof(*out));
	out->retry_after = -1;
	for (i = 1; i <= (max_tries < 1 ? 1 : max_tries); i++) {
		unsigned wait;

		mb_refresh_out_clear(out);
		r = mb_refresh_once(acct, refresh_token, out);
		if (r != MB_REFRESH_TRANSIENT || i >= max_tries)
			break;
		if (out->retry_after > max_wait) {
			mb_log(LOG_INFO, "%s: %s; the provider asks to wait "
			       "%ld s, giving up for now", acct->name,
			       out->message, out->retry_after);
			break;
		}
		wait = out->retry_after >= 0 ? (unsigned)out->retry_after :
		       backoff;
		mb_log(LOG_INFO, "%s: attempt %d failed: %s; retrying in %u "
		       "s", acct->name, i, out->message, wait);
		if (wait > 0)
			sleep(wait);
		backoff *= 2;
	}
	return r;
}
