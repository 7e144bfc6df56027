/* SPDX-License-Identifier: MIT */
#include <config.h>

#include "flow-code.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "advice.h"
#include "base64.h"
#include "cancel.h"
#include "digest.h"
#include "errtext.h"
#include "expiry.h"
#include "http.h"
#include "id-token.h"
#include "isotime.h"
#include "json.h"
#include "log.h"
#include "refresh.h"
#include "store.h"
#include "wipe.h"
#include "xalloc.h"

/* base64url without padding (RFC 4648 5); out holds 4*ceil(n/3)+1. */
static void
b64url(const unsigned char *in, size_t n, char *out)
{
	mb_base64url_encode(out, mb_base64url_len(n) + 1, in, n);
}

void
mb_code_s256(const char *in, char out[44])
{
	unsigned char d[32];

	if (mb_sha256(in, strlen(in), d) < 0) {
		out[0] = '\0';	/* the provider refuses the exchange */
		return;
	}
	b64url(d, sizeof(d), out);
}

static int
code_random(unsigned char *buf, size_t n, char **error_r)
{
	size_t got = 0;
	ssize_t r;

	while (got < n) {
		r = getrandom(buf + got, n - got, 0);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			*error_r = mb_xasprintf("getrandom: %s",
						mb_errstr(errno));
			return -1;
		}
		got += (size_t)r;
	}
	return 0;
}

int
mb_code_session_init(struct mb_code_session *s, const char *redirect_uri,
		     char **error_r)
{
	unsigned char rnd[48];

	memset(s, 0, sizeof(*s));
	/* 48 bytes: a 64-character verifier (RFC 7636 4.1: 43..128). */
	if (code_random(rnd, sizeof(rnd), error_r) < 0)
		return -1;
	b64url(rnd, sizeof(rnd), s->verifier);
	mb_code_s256(s->verifier, s->challenge);
	if (code_random(rnd, 32, error_r) < 0) {
		mb_code_session_clear(s);
		return -1;
	}
	b64url(rnd, 32, s->state);
	if (code_random(rnd, 32, error_r) < 0) {
		mb_code_session_clear(s);
		return -1;
	}
	b64url(rnd, 32, s->nonce);
	mb_wipe(rnd, sizeof(rnd));
	s->redirect_uri = mb_xstrdup(redirect_uri);
	return 0;
}

void
mb_code_session_clear(struct mb_code_session *s)
{
	free(s->redirect_uri);
	mb_wipe(s, sizeof(*s));
	s->redirect_uri = NULL;
}

int
mb_code_check_account(const struct mb_account *acct, bool device,
		      char **error_r)
{
	const char *url = device ? acct->device_endpoint :
			  acct->authorize_endpoint;

	if (url == NULL) {
		*error_r = mb_xasprintf("[%s] has no %s: set it in the "
			"account's section (the provider's %s URL)",
			acct->name, device ? "device_endpoint" :
			"authorize_endpoint", device ? "device authorization" :
			"authorization");
		return -1;
	}
	if (acct->client_id == NULL) {
		*error_r = mb_xasprintf("[%s] has no client_id", acct->name);
		return -1;
	}
	if (strcmp(acct->provider, "microsoft") == 0 &&
	    !mb_scope_has(acct->scope, "offline_access")) {
		*error_r = mb_xasprintf("[%s]: Microsoft issues a refresh "
			"token only when the scope includes offline_access; "
			"add it to scope (without it the account would need "
			"`mailbearer authorize` every hour)", acct->name);
		return -1;
	}
	return 0;
}

char *
mb_code_scope(const struct mb_account *acct)
{
	static const char *const oidc[] = { "openid", "email", "profile" };
	size_t i, n = strcmp(acct->provider, "microsoft") == 0 ? 3 : 2;
	char *scope = mb_xstrdup(acct->scope != NULL ? acct->scope : ""), *t;

	for (i = 0; acct->check_identity && i < n; i++) {
		if (mb_scope_has(scope, oidc[i]))
			continue;
		t = mb_xasprintf("%s%s%s", scope, scope[0] ? " " : "",
				 oidc[i]);
		free(scope);
		scope = t;
	}
	return scope;
}

char *
mb_code_auth_url(const struct mb_account *acct,
		 const struct mb_code_session *s)
{
	bool google = strcmp(acct->provider, "google") == 0;
	bool ms = strcmp(acct->provider, "microsoft") == 0;
	char *scope = mb_code_scope(acct);
	const char *fields[] = {
		"response_type", "code",
		"client_id", acct->client_id,
		"redirect_uri", s->redirect_uri,
		"scope", scope,
		"state", s->state,
		"nonce", acct->check_identity ? s->nonce : NULL,
		"code_challenge", s->challenge,
		"code_challenge_method", "S256",
		"login_hint", acct->user,
		/* Google returns a refresh token only for offline access,
		 * and again on a later authorization only with consent.
		 * Other providers ignore a parameter they do not know (RFC
		 * 6749 3.1); Microsoft's is offline_access in scope. */
		"access_type", ms ? NULL : "offline",
		"prompt", google ? "consent" : NULL,
		NULL, NULL,
	};
	char *q, *url;

	q = acct->authorize_endpoint != NULL ? mb_http_form_encode(fields) :
	    NULL;
	free(scope);
	if (q == NULL)
		return NULL;
	url = mb_xasprintf("%s%c%s", acct->authorize_endpoint,
			   strchr(acct->authorize_endpoint, '?') ? '&' : '?',
			   q);
	free(q);
	return url;
}

static int
hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = tolower(c);
	return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* Percent-decodes [s, s+n) ('+' is a space); NULL on a bad escape or a
 * NUL byte. */
static char *
url_decode(const char *s, size_t n)
{
	char *out = mb_xmalloc(n + 1);
	size_t i, o = 0;
	int hi, lo;

	for (i = 0; i < n; i++) {
		if (s[i] == '+') {
			out[o++] = ' ';
		} else if (s[i] == '%') {
			if (i + 2 >= n)
				goto bad;
			hi = hexval((unsigned char)s[i + 1]);
			lo = hexval((unsigned char)s[i + 2]);
			if (hi < 0 || lo < 0 || (hi == 0 && lo == 0))
				goto bad;
			out[o++] = (char)(hi << 4 | lo);
			i += 2;
		} else {
			out[o++] = s[i];
		}
	}
	out[o] = '\0';
	return out;
bad:
	mb_wipe(out, n + 1);
	free(out);
	return NULL;
}

int
mb_code_parse_query(const char *query, struct mb_code_redirect *r)
{
	const char *p = query, *end, *eq;
	char **dst, *v;

	memset(r, 0, sizeof(*r));
	end = query + strcspn(query, "#");
	while (p < end) {
		const char *amp = memchr(p, '&', (size_t)(end - p));
		const char *stop = amp != NULL ? amp : end;
		size_t klen;

		eq = memchr(p, '=', (size_t)(stop - p));
		klen = (size_t)((eq != NULL ? eq : stop) - p);
		dst = klen == 4 && memcmp(p, "code", 4) == 0 ? &r->code :
		      klen == 5 && memcmp(p, "state", 5) == 0 ? &r->state :
		      klen == 5 && memcmp(p, "error", 5) == 0 ? &r->error :
		      klen == 17 && memcmp(p, "error_description", 17) == 0 ?
		      &r->error_description : NULL;
		if (dst != NULL) {
			if (*dst != NULL)
				goto bad;
			v = eq != NULL ? url_decode(eq + 1,
					(size_t)(stop - eq - 1)) :
				mb_xstrdup("");
			if (v == NULL)
				goto bad;
			*dst = v;
		}
		p = stop + 1;
	}
	return 0;
bad:
	mb_code_redirect_clear(r);
	return -1;
}

void
mb_code_redirect_clear(struct mb_code_redirect *r)
{
	mb_free_secret(&r->code);
	free(r->state);
	free(r->error);
	free(r->error_description);
	memset(r, 0, sizeof(*r));
}

/* A provider's text (or a redirect's) made safe to show by the one
 * rule, at most 300 bytes; "" for none. */
static char *
code_printable(const char *s)
{
	return mb_provider_text(s != NULL ? s : "", 300, NULL, 0);
}

/* Equal strings, in a time that does not depend on where they differ. */
static bool
code_same(const char *a, const char *b)
{
	size_t i, n = strlen(a);
	unsigned char d = 0;

	if (strlen(b) != n)
		return false;
	for (i = 0; i < n; i++)
		d |= (unsigned char)(a[i] ^ b[i]);
	return d == 0;
}

bool
mb_code_state_matches(const struct mb_code_redirect *r,
		      const struct mb_code_session *s)
{
	return r->state != NULL && code_same(r->state, s->state);
}

/* "AADSTS50020: ..." in a redirect's error_description: 50020; else 0. */
static long
code_aadsts(const char *desc)
{
	const char *p = desc != NULL ? strstr(desc, "AADSTS") : NULL;

	return p != NULL ? strtol(p + 6, NULL, 10) : 0;
}

enum mb_auth_status
mb_code_check_redirect(const struct mb_account *acct,
		       const struct mb_code_redirect *r,
		       const struct mb_code_session *s, char **error_r)
{
	if (r->state == NULL) {
		*error_r = mb_xstrdup("the redirect carries no state, so it "
			"cannot be told from a forged one; nothing was "
			"stored: run `mailbearer authorize` again and use "
			"the address it prints");
		return MB_AUTH_DENIED;
	}
	if (!code_same(r->state, s->state)) {
		*error_r = mb_xstrdup("the redirect's state does not match "
			"this authorization (an old browser tab, or a forged "
			"redirect); nothing was stored: run `mailbearer "
			"authorize` again and use the address it prints");
		return MB_AUTH_DENIED;
	}
	if (r->error != NULL) {
		char *e = code_printable(r->error);
		char *d = code_printable(r->error_description);
		long aadsts = code_aadsts(d);

		*error_r = mb_xasprintf("the provider answered \"%s\"%s%s%s: "
			"%s; nothing was stored", e, d[0] ? " (" : "", d,
			d[0] ? ")" : "",
			mb_advice_authorize(acct->provider, r->error, aadsts));
		free(e);
		free(d);
		return mb_grant_error_status(r->error, aadsts);
	}
	if (r->code == NULL || r->code[0] == '\0' ||
	    !mb_json_token_sane(r->code)) {
		*error_r = mb_xstrdup("the redirect carries no usable "
			"authorization code; nothing was stored");
		return MB_AUTH_INPUT;
	}
	return MB_AUTH_OK;
}

/* ------------------------------------------------------------------ */

void
mb_grant_out_clear(struct mb_grant_out *out)
{
	mb_free_secret(&out->access_token);
	mb_free_secret(&out->refresh_token);
	free(out->scope);
	mb_free_secret(&out->id_token);
	free(out->error);
	free(out->message);
	memset(out, 0, sizeof(*out));
	out->expires_in = -1;
}

enum mb_auth_status
mb_grant_error_status(const char *error, long aadsts)
{
	static const char *const denied[] = {
		"access_denied", "authorization_declined", "expired_token",
		"invalid_grant", "bad_verification_code", "consent_required",
		"interaction_required", "login_required",
	};
	static const char *const transient[] = {
		"authorization_pending", "slow_down", "server_error",
		"temporarily_unavailable",
	};
	size_t i;

	if (aadsts == 7000218 || aadsts == 700025 || aadsts == 7000215 ||
	    aadsts == 700016 || aadsts == 90002)
		return MB_AUTH_CLIENT;
	for (i = 0; i < sizeof(denied) / sizeof(denied[0]); i++) {
		if (strcmp(error, denied[i]) == 0)
			return MB_AUTH_DENIED;
	}
	for (i = 0; i < sizeof(transient) / sizeof(transient[0]); i++) {
		if (strcmp(error, transient[i]) == 0)
			return MB_AUTH_TRANSIENT;
	}
	return MB_AUTH_CLIENT;
}

static void
grant_mask(char *text, const char *const *secrets, const char *a,
	   const char *b)
{
	size_t i;

	if (text == NULL)
		return;
	for (i = 0; secrets != NULL && secrets[i] != NULL; i++)
		mb_redact(text, secrets[i]);
	mb_redact(text, a);
	mb_redact(text, b);
}

/* The provider's error reply as a sentence with advice. */
static enum mb_auth_status
grant_refused(const struct mb_account *acct, long status,
	      struct mb_token_reply *tr, const char *const *secrets,
	      struct mb_grant_out *out)
{
	char code[32] = "";
	char *e, *d;

	grant_mask(tr->error_description, secrets, tr->access_token,
		   tr->refresh_token);
	e = code_printable(tr->error);
	d = code_printable(tr->error_description);
	if (tr->aadsts > 0 && strstr(d, "AADSTS") == NULL)
		snprintf(code, sizeof(code), " AADSTS%ld", tr->aadsts);
	out->error = mb_xstrdup(tr->error);
	out->message = mb_xasprintf("the provider answered HTTP %ld \"%s\"%s%s"
		"%s%s: %s", status, e, code, d[0] ? " (" : "", d,
		d[0] ? ")" : "", mb_advice_authorize(acct->provider,
						     tr->error, tr->aadsts));
	grant_mask(out->message, secrets, NULL, NULL);
	free(e);
	free(d);
	if (status >= 500 || status == 429)
		return MB_AUTH_TRANSIENT;
	return mb_grant_error_status(tr->error, tr->aadsts);
}

enum mb_auth_status
mb_grant_request(const struct mb_account *acct, const char *url,
		 const char *const *fields, const char *const *secrets,
		 struct mb_grant_out *out)
{
	enum mb_auth_status ret = MB_AUTH_TRANSIENT;
	struct mb_http_reply reply;
	struct mb_token_reply tr;
	enum mb_http_result hr;
	char *err = NULL;
	int g;

	memset(out, 0, sizeof(*out));
	out->expires_in = -1;
	memset(&tr, 0, sizeof(tr));
	hr = mb_http_post_form(url, acct->ca_file, acct->connect_timeout,
			       acct->timeout, fields, &reply, &err);
	if (hr != MB_HTTP_OK) {
		grant_mask(err, secrets, NULL, NULL);
		out->message = err;
		return mb_auth_signal() != 0 ? MB_AUTH_INTERRUPTED :
		       hr == MB_HTTP_TRANSIENT ? MB_AUTH_TRANSIENT :
		       MB_AUTH_LOCAL;
	}
	g = mb_json_parse_token_reply(reply.body, reply.len, &tr, &err);
	if (reply.status >= 200 && reply.status <= 299)
		out->id_token = mb_id_token_from_reply(reply.body, reply.len);
	if (reply.status >= 200 && reply.status <= 299 &&
	    tr.refresh_token != NULL) {
		/* Kept whatever else the reply holds: the code is spent. */
		out->refresh_token = tr.refresh_token;
		tr.refresh_token = NULL;
	}
	if (g == 0 && tr.error != NULL) {
		ret = grant_refused(acct, reply.status, &tr, secrets, out);
	} else if (g < 0 || reply.status < 200 || reply.status > 299) {
		grant_mask(err, secrets, NULL, NULL);
		out->message = mb_xasprintf("%s answered HTTP %ld%s%s", url,
			reply.status, g < 0 ? " with an unusable body: " : "",
			g < 0 ? err : "");
		ret = MB_AUTH_TRANSIENT;
	} else {
		out->access_token = tr.access_token;
		tr.access_token = NULL;
		out->scope = tr.scope;
		tr.scope = NULL;
		out->expires_in = tr.expires_in;
		ret = MB_AUTH_OK;
	}
	free(err);
	mb_token_reply_clear(&tr);
	mb_http_reply_clear(&reply);
	return ret;
}

/* ------------------------------------------------------------------ */

/* The new state from a successful grant; the previous refresh token is
 * kept when the reply brought none. */
static void
grant_fill_state(struct mb_state *st, struct mb_grant_out *g, time_t now)
{
	char *old_rt = st->refresh_token;
	long long gen = st->generation;

	st->refresh_token = NULL;
	mb_state_clear(st);
	st->generation = gen;
	st->refresh_token = g->refresh_token != NULL ? g->refresh_token :
			    old_rt;
	if (g->refresh_token != NULL) {
		mb_free_secret(&old_rt);
		st->refresh_since = now;
	}
	g->refresh_token = NULL;
	st->access_token = g->access_token;
	g->access_token = NULL;
	st->scope = mb_xstrdup_or_null(g->scope);
	if (st->access_token != NULL) {
		st->expires_at = mb_expiry_at(now, g->expires_in > 0 ?
					      g->expires_in : 3600);
		st->last_refresh = now;
	}
}

/* Under the lock: recover leftovers, read what is there (for its
 * generation and refresh token), reserve the next state file. */
static enum mb_auth_status
grant_prepare(struct mb_store_lock *lk, struct mb_state *st,
	      struct mb_store_tmp *t)
{
	const struct mb_account *acct = lk->acct;
	char *err = NULL;

	if (mb_store_recover(lk, &err) < 0) {
		mb_log(LOG_WARNING, "%s: %s", acct->name, err);
		free(err);
		err = NULL;
	}
	switch (mb_store_read_locked(lk, st, &err)) {
	case MB_STORE_CORRUPT:
		mb_log(LOG_WARNING, "%s", err);
		/* fall through */
	case MB_STORE_FOUND:
	case MB_STORE_MISSING:
		break;
	case MB_STORE_ERROR:
	default:
		mb_log(LOG_ERR, "%s: %s; nothing was requested", acct->name,
		       err);
		free(err);
		return MB_AUTH_LOCAL;
	}
	free(err);
	err = NULL;
	if (mb_store_reserve(lk, st, t, &err) < 0) {
		mb_log(LOG_ERR, "%s: the state cannot be written (%s); the "
		       "authorization was not completed, so nothing is "
		       "lost: fix the state directory and run `mailbearer "
		       "authorize` again", acct->name, err);
		free(err);
		return MB_AUTH_LOCAL;
	}
	return MB_AUTH_OK;
}

static const char *
grant_user(const struct mb_account *acct)
{
	return acct->user != NULL ? acct->user : acct->name;
}

static void
grant_print(const struct mb_account *acct, const struct mb_state *st,
	    const char *who, bool new_rt)
{
	char when[MB_ISO_TIME_SIZE];

	mb_iso_time(st->expires_at, when, sizeof(when), "unknown");
	if (who != NULL)
		printf("authorized: %s (account %s; confirmed by the "
		       "provider's id_token)\n", who, acct->name);
	else
		printf("authorized: %s (account %s; who signed in is not "
		       "checked: check_identity = no)\n", grant_user(acct),
		       acct->name);
	printf("scopes: %s\n", st->scope != NULL ? st->scope :
	       "(not stated by the provider; as requested)");
	printf("access token expires: %s\n", st->access_token != NULL ?
	       when : "none issued yet (`mailbearer token` obtains one)");
	if (st->refresh_token == NULL)
		printf("refresh token: none; the account will need "
		       "`mailbearer authorize` again when this access token "
		       "expires\n");
	else if (!new_rt)
		printf("refresh token: none in this reply; the previous one "
		       "is kept\n");
	else
		printf("refresh token: stored\n");
	fflush(stdout);
}

/* With check_identity: the reply's id_token names the account's user
 * (who, malloc'd, into *who_r).  MB_AUTH_OK, or the refusal, logged:
 * tokens of another mailbox would be refused at every login as the
 * account's user, and a login CSRF would store someone else's grant. */
static enum mb_auth_status
grant_identity(const struct mb_account *acct, const struct mb_grant_out *g,
	       const char *nonce, char **who_r)
{
	const char *user = grant_user(acct);
	struct mb_id_expect x = {
		.provider = acct->provider, .client_id = acct->client_id,
		.token_endpoint = acct->token_endpoint,
		.tenant = acct->tenant, .nonce = nonce, .user = user,
		.now = time(NULL),
	};
	enum mb_id_result r;
	char *err = NULL, *who = NULL;

	*who_r = NULL;
	if (!acct->check_identity)
		return MB_AUTH_OK;
	if (g->id_token == NULL) {
		mb_log(LOG_ERR, "%s: the provider's reply carries no id_token "
		       "although openid was asked for, so who signed in cannot "
		       "be checked; nothing was stored: if the provider does "
		       "not do OpenID Connect, set check_identity = no in [%s]",
		       acct->name, acct->name);
		return MB_AUTH_CLIENT;
	}
	r = mb_id_token_check(g->id_token, &x, &who, &err);
	if (r == MB_ID_INVALID) {
		who = code_printable(err);
		mb_log(LOG_ERR, "%s: %s; nothing was stored: run `mailbearer "
		       "authorize %s` again", acct->name, who, acct->name);
		free(who);
		free(err);
		return MB_AUTH_DENIED;
	}
	err = who;
	who = code_printable(err);
	free(err);
	if (r == MB_ID_MISMATCH) {
		mb_log(LOG_ERR, "%s: the provider says %s signed in, but the "
		       "account's user is %s (whose logins those tokens would "
		       "fail, and someone else may have delivered them); "
		       "nothing was stored: run `mailbearer authorize %s` "
		       "again and sign in as %s (if you signed in as %s "
		       "yourself and that is the mailbox, set user = %s)",
		       acct->name, who, user, acct->name, user, who, who);
		free(who);
		return MB_AUTH_DENIED;
	}
	*who_r = who;
	return MB_AUTH_OK;
}

/* Commits the reserved state; prints the summary. */
static enum mb_auth_status
grant_commit(struct mb_store_lock *lk, struct mb_store_tmp *t,
	     struct mb_state *st, struct mb_grant_out *g, const char *nonce)
{
	const struct mb_account *acct = lk->acct;
	bool new_rt = g->refresh_token != NULL;
	enum mb_auth_status r;
	char *err = NULL, *who = NULL;

	r = grant_identity(acct, g, nonce, &who);
	if (r != MB_AUTH_OK)
		return r;
	grant_fill_state(st, g, time(NULL));
	if (mb_store_commit(lk, t, st, &err) < 0) {
		mb_log(LOG_ERR, "%s: the tokens could not be stored: %s",
		       acct->name, err);
		free(err);
		free(who);
		return MB_AUTH_LOCAL;
	}
	grant_print(acct, st, who, new_rt);
	free(who);
	if (st->refresh_token == NULL) {
		mb_log(LOG_ERR, "%s: the provider issued no refresh token: %s",
		       acct->name, strcmp(acct->provider, "google") == 0 ?
		       "revoke the app's access in the Google account and "
		       "authorize again" : "check that scope asks for offline "
		       "access (offline_access at Microsoft)");
		return MB_AUTH_CLIENT;
	}
	return MB_AUTH_OK;
}

enum mb_auth_status
mb_grant_check_writable(const struct mb_account *acct)
{
	struct mb_store_tmp t = MB_STORE_TMP_INIT;
	struct mb_state st;
	enum mb_auth_status r;
	struct mb_store_lock lock = MB_STORE_LOCK_INIT;
	char *err = NULL;

	memset(&st, 0, sizeof(st));
	if (mb_store_lock(acct, NULL, &lock, &err) < 0) {
		mb_log(LOG_ERR, "%s", err);
		free(err);
		return MB_AUTH_LOCAL;
	}
	r = grant_prepare(&lock, &st, &t);
	mb_store_release(&t);
	mb_store_unlock(&lock);
	mb_state_clear(&st);
	return r;
}

enum mb_auth_status
mb_grant_redeem(const struct mb_account *acct, const char *const *fields,
		const char *const *secrets, const char *nonce,
		struct mb_grant_out *g)
{
	struct mb_store_tmp t = MB_STORE_TMP_INIT;
	struct mb_state st;
	enum mb_auth_status r;
	struct mb_store_lock lock = MB_STORE_LOCK_INIT;
	char *err = NULL;

	memset(&st, 0, sizeof(st));
	memset(g, 0, sizeof(*g));
	g->expires_in = -1;
	if (mb_store_lock(acct, NULL, &lock, &err) < 0) {
		mb_log(LOG_ERR, "%s", err);
		free(err);
		return MB_AUTH_LOCAL;
	}
	r = grant_prepare(&lock, &st, &t);
	if (r == MB_AUTH_OK) {
		r = mb_grant_request(acct, acct->token_endpoint, fields,
				     secrets, g);
		if (r == MB_AUTH_OK || g->refresh_token != NULL) {
			if (r != MB_AUTH_OK)
				mb_log(LOG_WARNING, "%s: %s; the refresh "
				       "token in the reply is stored",
				       acct->name, g->message);
			r = grant_commit(&lock, &t, &st, g, nonce);
		}
	}
	mb_store_release(&t);
	mb_store_unlock(&lock);
	mb_state_clear(&st);
	return r;
}

enum mb_auth_status
mb_code_redeem(const struct mb_account *acct,
	       const struct mb_code_session *s, const char *code)
{
	const char *fields[] = {
		"grant_type", "authorization_code",
		"code", code,
		"redirect_uri", s->redirect_uri,
		"client_id", acct->client_id,
		"client_secret", acct->client_secret,
		"code_verifier", s->verifier,
		NULL, NULL,
	};
	const char *secrets[] = {
		code, s->verifier, acct->client_secret, NULL,
	};
	struct mb_grant_out g;
	enum mb_auth_status r;

	r = mb_grant_redeem(acct, fields, secrets, s->nonce, &g);
	if (r != MB_AUTH_OK && g.message != NULL)
		mb_log(LOG_ERR, "%s: the code was not accepted: %s; nothing "
		       "was stored", acct->name, g.message);
	mb_grant_out_clear(&g);
	return r;
}

/* ------------------------------------------------------------------ */

static sigset_t auth_sigs;
static int auth_pipe[2] = { -1, -1 };
static atomic_int auth_sig;

static void *
auth_sig_thread(void *arg)
{
	int sig = 0;

	(void)arg;
	while (sigwait(&auth_sigs, &sig) != 0)
		;
	atomic_store(&auth_sig, sig);
	mb_cancel_all();
	if (write(auth_pipe[1], "x", 1) < 0) {
		/* the flag and the cancellation still stop the waits */
	}
	return NULL;
}

int
mb_auth_signals_start(void)
{
	pthread_t th;

	sigemptyset(&auth_sigs);
	sigaddset(&auth_sigs, SIGINT);
	sigaddset(&auth_sigs, SIGTERM);
	sigaddset(&auth_sigs, SIGHUP);
	if (pthread_sigmask(SIG_BLOCK, &auth_sigs, NULL) != 0 ||
	    pipe2(auth_pipe, O_CLOEXEC | O_NONBLOCK) < 0)
		return -1;
	if (pthread_create(&th, NULL, auth_sig_thread, NULL) != 0)
		return -1;
	pthread_detach(th);
	return 0;
}

int
mb_auth_signal_fd(void)
{
	return auth_pipe[0];
}

int
mb_auth_signal(void)
{
	return atomic_load(&auth_sig);
}
