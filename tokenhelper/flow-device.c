/* SPDX-License-Identifier: MIT */
#include <config.h>

/* `mailbearer authorize --device ACCOUNT`: the device authorization grant
 * (RFC 8628).  The user enters a short code at the provider's page on any
 * device; we poll the token endpoint at the interval the provider asks
 * for, five seconds slower after each slow_down (3.5). */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "advice.h"
#include "cancel.h"
#include "flow-code.h"
#include "http.h"
#include "json.h"
#include "log.h"
#include "refresh.h"
#include "xalloc.h"

#define DEVICE_GRANT "urn:ietf:params:oauth:grant-type:device_code"
/* RFC 8628 3.2: the interval when the provider names none. */
#define DEVICE_DEFAULT_INTERVAL 5L
#define DEVICE_MAX_INTERVAL 60L

static long
device_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long)ts.tv_sec;
}

/* The provider's error object from the device endpoint, as a sentence. */
static enum mb_auth_status
device_start_error(const struct mb_account *acct,
		   const struct mb_http_reply *reply)
{
	struct mb_token_reply tr;
	enum mb_auth_status st;
	char *err = NULL;

	if (mb_json_parse_token_reply(reply->body, reply->len, &tr, &err) < 0 ||
	    tr.error == NULL) {
		mb_log(LOG_ERR, "%s: the device endpoint %s answered HTTP %ld "
		       "with an unusable body", acct->name,
		       acct->device_endpoint, reply->status);
		st = MB_AUTH_TRANSIENT;
	} else {
		mb_redact(tr.error_description, acct->client_secret);
		mb_log(LOG_ERR, "%s: the device endpoint answered HTTP %ld "
		       "\"%s\"%s%s%s: %s", acct->name, reply->status, tr.error,
		       tr.error_description ? " (" : "",
		       tr.error_description ? tr.error_description : "",
		       tr.error_description ? ")" : "",
		       mb_advice_authorize(acct->provider, tr.error,
					   tr.aadsts));
		st = reply->status >= 500 ? MB_AUTH_TRANSIENT :
		     mb_grant_error_status(tr.error, tr.aadsts);
	}
	free(err);
	mb_token_reply_clear(&tr);
	return st;
}

/* RFC 8628 3.1: POST client_id and scope to the device endpoint. */
static enum mb_auth_status
device_start(const struct mb_account *acct, struct mb_device_reply *d)
{
	char *scope = mb_code_scope(acct);
	const char *fields[] = {
		"client_id", acct->client_id,
		"client_secret", acct->client_secret,
		"scope", scope,
		NULL, NULL,
	};
	struct mb_http_reply reply;
	enum mb_http_result hr;
	enum mb_auth_status st = MB_AUTH_OK;
	char *err = NULL;
	int g;

	hr = mb_http_post_form(acct->device_endpoint, acct->ca_file,
			       acct->connect_timeout, acct->timeout, fields,
			       &reply, &err);
	free(scope);
	if (hr != MB_HTTP_OK) {
		mb_redact(err, acct->client_secret);
		mb_log(LOG_ERR, "%s: %s", acct->name, err);
		free(err);
		return mb_auth_signal() != 0 ? MB_AUTH_INTERRUPTED :
		       hr == MB_HTTP_TRANSIENT ? MB_AUTH_TRANSIENT :
		       MB_AUTH_LOCAL;
	}
	g = mb_json_parse_device_reply(reply.body, reply.len, d, &err);
	if (g == 1) {
		st = device_start_error(acct, &reply);
	} else if (g < 0 || reply.status < 200 || reply.status > 299) {
		mb_log(LOG_ERR, "%s: the device endpoint %s answered HTTP %ld"
		       "%s%s", acct->name, acct->device_endpoint, reply.status,
		       err ? ": " : "", err ? err : "");
		st = MB_AUTH_TRANSIENT;
	}
	free(err);
	mb_http_reply_clear(&reply);
	return st;
}

static void
device_instructions(const struct mb_device_reply *d, long wait)
{
	printf("On any device, open this address:\n%s\nand enter the code:\n"
	       "%s\n", d->verification_uri, d->user_code);
	if (d->verification_uri_complete != NULL)
		printf("(or open %s, which carries the code)\n",
		       d->verification_uri_complete);
	printf("Waiting up to %ld s for the sign-in...\n", wait);
	fflush(stdout);
}

/* One poll's verdict: 1 keep polling, 0 done (*st_r says how). */
static int
device_verdict(const struct mb_account *acct, enum mb_auth_status st,
	       struct mb_grant_out *g, long *interval,
	       enum mb_auth_status *st_r)
{
	if (st == MB_AUTH_OK || g->message == NULL) {
		/* stored, or a local failure already logged */
		*st_r = st;
		return 0;
	}
	if (g->error != NULL &&
	    strcmp(g->error, "authorization_pending") == 0)
		return 1;
	if (g->error != NULL && strcmp(g->error, "slow_down") == 0) {
		if (*interval + 5 <= DEVICE_MAX_INTERVAL)
			*interval += 5;
		mb_log(LOG_INFO, "%s: the provider asks to poll more slowly; "
		       "now every %ld s", acct->name, *interval);
		return 1;
	}
	if (st == MB_AUTH_INTERRUPTED) {
		*st_r = st;
		return 0;
	}
	if (st == MB_AUTH_TRANSIENT && g->error == NULL) {
		mb_log(LOG_WARNING, "%s: polling failed (%s); trying again",
		       acct->name, g->message);
		return 1;
	}
	mb_log(LOG_ERR, "%s: %s; nothing was stored", acct->name, g->message);
	*st_r = st;
	return 0;
}

/* Polls until a verdict, the deadline or a signal. */
static enum mb_auth_status
device_poll(const struct mb_account *acct, const struct mb_device_reply *d,
	    long deadline)
{
	const char *fields[] = {
		"grant_type", DEVICE_GRANT,
		"device_code", d->device_code,
		"client_id", acct->client_id,
		"client_secret", acct->client_secret,
		NULL, NULL,
	};
	const char *secrets[] = { d->device_code, acct->client_secret, NULL };
	long interval = d->interval > 0 ? d->interval :
			DEVICE_DEFAULT_INTERVAL;
	enum mb_auth_status st = MB_AUTH_TRANSIENT, r;
	struct mb_grant_out g;

	if (interval > DEVICE_MAX_INTERVAL)
		interval = DEVICE_MAX_INTERVAL;
	for (;;) {
		if (device_now() + interval > deadline) {
			mb_log(LOG_ERR, "%s: the code was not entered in time; "
			       "nothing was stored: run `mailbearer authorize "
			       "--device` again", acct->name);
			return MB_AUTH_DENIED;
		}
		if (mb_cancel_sleep(interval) < 0)
			return MB_AUTH_INTERRUPTED;
		r = mb_grant_redeem(acct, fields, secrets, NULL, &g);
		if (device_verdict(acct, r, &g, &interval, &st) == 0) {
			mb_grant_out_clear(&g);
			return st;
		}
		mb_grant_out_clear(&g);
	}
}

enum mb_auth_status
mb_authorize_device(const struct mb_account *acct,
		    const struct mb_auth_opts *o)
{
	struct mb_device_reply d;
	enum mb_auth_status st;
	long wait;

	memset(&d, 0, sizeof(d));
	st = device_start(acct, &d);
	if (st != MB_AUTH_OK) {
		mb_device_reply_clear(&d);
		return st;
	}
	wait = d.expires_in < o->timeout ? d.expires_in : o->timeout;
	device_instructions(&d, wait);
	st = device_poll(acct, &d, device_now() + wait);
	mb_device_reply_clear(&d);
	return st;
}
