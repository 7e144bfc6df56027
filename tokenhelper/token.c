#include <config.h>	/* autoconf; "config.h" here is ours */

#include "token.h"

#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "refresh.h"
#include "store.h"
#include "wipe.h"
#include "xalloc.h"

/* Transient failures: attempts within one call, longest Retry-After
 * honoured (longer ones end the call; the next call tries again). */
#define MB_TOKEN_TRIES 3
#define MB_TOKEN_MAX_WAIT 10L

void
mb_access_clear(struct mb_access *a)
{
	if (a == NULL)
		return;
	mb_free_secret(&a->token);
	a->expires_at = 0;
	a->obtained_at = 0;
}

static void
token_hand_out(const struct mb_state *st, struct mb_access *out)
{
	out->token = mb_xstrdup(st->access_token);
	out->expires_at = st->expires_at;
	out->obtained_at = st->last_refresh;
}

/* The access token in st can be handed out without refreshing. */
static bool
token_fresh(const struct mb_state *st, const char *rejected, time_t now,
	    long margin)
{
	if (st->access_token == NULL || st->rejected)
		return false;
	if (rejected != NULL && strcmp(rejected, st->access_token) == 0)
		return false;
	return !mb_expiry_needs_refresh(now, st->expires_at,
					st->last_refresh, margin);
}

/* The access token in st still works (maybe inside the margin). */
static bool
token_usable(const struct mb_state *st, time_t now)
{
	return st->access_token != NULL && !st->rejected &&
	       mb_expiry_usable(now, st->expires_at);
}

static void
token_set(char **field, const char *value)
{
	char *copy = mb_xstrdup_or_null(value);

	free(*field);
	*field = copy;
}

enum mb_token_status
mb_token_get(const struct mb_account *acct, const char *rejected,
	     struct mb_access *out, char **error_r)
{
	enum mb_token_status ret = MB_TOKEN_ERROR;
	enum mb_store_read_result rr;
	enum mb_refresh_result fr;
	struct mb_refresh_out ro;
	struct mb_state st;
	char *err = NULL;
	bool refused = false;
	int lock = -1;
	time_t now = time(NULL);

	memset(out, 0, sizeof(*out));
	memset(&ro, 0, sizeof(ro));
	*error_r = NULL;
	/* Fast path, without the lock: the state file is only ever
	 * replaced atomically, so this sees a whole old or new file. */
	rr = mb_store_read(acct, false, &st, &err);
	if (rr == MB_STORE_FOUND && token_fresh(&st, rejected, now,
						acct->refresh_margin)) {
		token_hand_out(&st, out);
		ret = MB_TOKEN_OK;
		goto out;
	}
	mb_state_clear(&st);
	free(err);
	err = NULL;

	if (mb_store_lock(acct, &lock, error_r) < 0)
		goto out;
	/* Whoever held the lock may have refreshed: look again. */
	now = time(NULL);
	rr = mb_store_read(acct, true, &st, error_r);
	switch (rr) {
	case MB_STORE_FOUND:
		break;
	case MB_STORE_MISSING:
		*error_r = mb_xasprintf("account %s has no tokens yet: run "
			"`mailbearer authorize %s` (or `mailbearer import %s` "
			"with a refresh token on standard input)", acct->name,
			acct->name, acct->name);
		ret = MB_TOKEN_NEEDS_AUTHORIZE;
		goto out;
	case MB_STORE_CORRUPT:
		ret = MB_TOKEN_NEEDS_AUTHORIZE;
		goto out;
	case MB_STORE_ERROR:
	default:
		goto out;
	}
	/* The caller's verdict on the current token holds for this call
	 * only: serve also passes the current token to force a proactive
	 * or keep-alive refresh, and writing it as "rejected" into the state
	 * would stop a still-valid token from being served (by us or by
	 * `mailbearer token`) if that refresh fails transiently. */
	if (rejected != NULL && st.access_token != NULL &&
	    strcmp(rejected, st.access_token) == 0) {
		mb_log(LOG_DEBUG, "%s: refreshing the current access token on "
		       "request", acct->name);
		refused = true;
	}
	if (!refused && token_fresh(&st, NULL, now, acct->refresh_margin)) {
		token_hand_out(&st, out);
		ret = MB_TOKEN_OK;
		goto out;
	}
	if (st.refresh_token == NULL) {
		*error_r = mb_xasprintf("account %s has no refresh token: run "
			"`mailbearer authorize %s`", acct->name, acct->name);
		ret = MB_TOKEN_NEEDS_AUTHORIZE;
		goto out;
	}
	if (st.needs_authorize && !st.client_problem) {
		/* The grant is dead; asking again would only fail again. */
		if (!refused && token_usable(&st, now)) {
			mb_log(LOG_WARNING, "%s: %s; serving the current "
			       "access token until it expires", acct->name,
			       st.reason ? st.reason : "needs authorize");
			token_hand_out(&st, out);
			ret = MB_TOKEN_OK;
		} else {
			*error_r = mb_xasprintf("account %s needs `mailbearer "
				"authorize %s`: %s", acct->name, acct->name,
				st.reason ? st.reason : "see `mailbearer "
				"status`");
			ret = MB_TOKEN_NEEDS_AUTHORIZE;
		}
		goto out;
	}

	mb_log(LOG_DEBUG, "%s: refreshing at %s", acct->name,
	       acct->token_endpoint);
	fr = mb_refresh(acct, st.refresh_token, MB_TOKEN_TRIES,
			MB_TOKEN_MAX_WAIT, &ro);
	now = time(NULL);
	if (fr == MB_REFRESH_OK) {
		struct mb_state next = st;
		bool rotated = ro.refresh_token != NULL;

		/* Build the new state aside so that a failed write leaves
		 * st (and the file) as they were. */
		memset(&st, 0, sizeof(st));
		mb_free_secret(&next.access_token);
		next.access_token = ro.access_token;
		ro.access_token = NULL;
		if (ro.refresh_token != NULL) {
			/* Rotation: the new token replaces the old one and
			 * is on disk before the access token leaves. */
			mb_free_secret(&next.refresh_token);
			next.refresh_token = ro.refresh_token;
			ro.refresh_token = NULL;
		}
		if (ro.scope != NULL)
			token_set(&next.scope, ro.scope);
		next.expires_at = mb_expiry_at(now, ro.expires_in);
		next.last_refresh = now;
		next.rejected = false;
		next.needs_authorize = false;
		next.client_problem = false;
		token_set(&next.reason, NULL);
		token_set(&next.last_error, NULL);
		st = next;
		if (mb_store_write(acct, &st, &err) < 0) {
			*error_r = mb_xasprintf("%s: refreshed, but the new "
				"state could not be saved, so the token is not "
				"used: %s", acct->name, err);
			goto out;
		}
		mb_log(LOG_INFO, "%s: access token refreshed (valid %ld s%s)",
		       acct->name, ro.expires_in,
		       rotated ? ", refresh token rotated" : "");
		token_hand_out(&st, out);
		ret = MB_TOKEN_OK;
		goto out;
	}

	/* Failure: record it; the refresh token stays. */
	token_set(&st.last_error, ro.message);
	if (fr == MB_REFRESH_GRANT || fr == MB_REFRESH_CLIENT) {
		st.needs_authorize = true;
		st.client_problem = fr == MB_REFRESH_CLIENT;
		token_set(&st.reason, ro.message);
	}
	if (mb_store_write(acct, &st, &err) < 0) {
		mb_log(LOG_WARNING, "%s: cannot record the failure: %s",
		       acct->name, err);
		free(err);
		err = NULL;
	}
	if (!refused && token_usable(&st, now)) {
		mb_log(LOG_WARNING, "%s: refresh failed: %s; the current "
		       "access token is still valid and is served",
		       acct->name, ro.message ? ro.message : "unknown");
		token_hand_out(&st, out);
		ret = MB_TOKEN_OK;
		goto out;
	}
	switch (fr) {
	case MB_REFRESH_GRANT:
		/* The refresh token itself is dead: only a new grant helps. */
		*error_r = mb_xasprintf("account %s needs a new refresh token "
			"(`mailbearer authorize %s`, or `mailbearer import "
			"%s`): %s", acct->name, acct->name, acct->name,
			ro.message);
		ret = MB_TOKEN_NEEDS_AUTHORIZE;
		break;
	case MB_REFRESH_CLIENT:
		/* The client registration or its configuration is refused;
		 * the refresh token may still be good once that is fixed. */
		*error_r = mb_xasprintf("account %s: the provider refused the "
			"OAuth client, fix its configuration (the refresh "
			"token is kept): %s", acct->name, ro.message);
		ret = MB_TOKEN_NEEDS_AUTHORIZE;
		break;
	case MB_REFRESH_LOCAL:
		*error_r = mb_xasprintf("account %s: cannot refresh: %s",
					acct->name, ro.message);
		ret = MB_TOKEN_ERROR;
		break;
	case MB_REFRESH_TRANSIENT:
	case MB_REFRESH_OK:
	default:
		*error_r = mb_xasprintf("account %s: refresh failed "
			"temporarily, the refresh token is kept: %s",
			acct->name, ro.message ? ro.message : "unknown");
		ret = MB_TOKEN_TRANSIENT;
		break;
	}
out:
	mb_store_unlock(&lock);
	mb_refresh_out_clear(&ro);
	mb_state_clear(&st);
	free(err);
	return ret;
}

static const char b64_alphabet[] =
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/* RFC 4648 section 4 base64 with padding; malloc'd. */
static char *
token_base64(const unsigned char *in, size_t len)
{
	char *out = mb_xmalloc((len + 2) / 3 * 4 + 1), *o = out;
	size_t i;

	for (i = 0; i + 2 < len; i += 3) {
		*o++ = b64_alphabet[in[i] >> 2];
		*o++ = b64_alphabet[((in[i] & 3) << 4) | (in[i + 1] >> 4)];
		*o++ = b64_alphabet[((in[i + 1] & 15) << 2) | (in[i + 2] >> 6)];
		*o++ = b64_alphabet[in[i + 2] & 63];
	}
	if (i < len) {
		*o++ = b64_alphabet[in[i] >> 2];
		if (i + 1 < len) {
			*o++ = b64_alphabet[((in[i] & 3) << 4) |
					    (in[i + 1] >> 4)];
			*o++ = b64_alphabet[(in[i + 1] & 15) << 2];
		} else {
			*o++ = b64_alphabet[(in[i] & 3) << 4];
			*o++ = '=';
		}
		*o++ = '=';
	}
	*o = '\0';
	return out;
}

char *
mb_token_format(const char *format, const char *user, const char *token)
{
	char *msg, *out;

	if (strcmp(format, "raw") == 0)
		return mb_xstrdup(token);
	if (strcmp(format, "xoauth2") == 0)
		msg = mb_xasprintf("user=%s\001auth=Bearer %s\001\001", user,
				   token);
	else if (strcmp(format, "oauthbearer") == 0) {
		/* RFC 7628 3.1 / RFC 5801: gs2-header "n,a=" saslname ","
		 * where saslname escapes "," as "=2C" and "=" as "=3D". */
		char *name = mb_xmalloc(strlen(user) * 3 + 1), *n = name;
		const char *u;

		for (u = user; *u != '\0'; u++) {
			if (*u == ',' || *u == '=') {
				memcpy(n, *u == ',' ? "=2C" : "=3D", 3);
				n += 3;
			} else {
				*n++ = *u;
			}
		}
		*n = '\0';
		msg = mb_xasprintf("n,a=%s,\001auth=Bearer %s\001\001", name,
				   token);
		free(name);
	} else
		return NULL;
	out = token_base64((const unsigned char *)msg, strlen(msg));
	mb_free_secret(&msg);
	return out;
}
