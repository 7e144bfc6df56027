/* SPDX-License-Identifier: MIT */
#include <config.h>

#include "json.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <json-c/json.h>

#include "expiry.h"
#include "json-util.h"
#include "provider-text.h"
#include "token-syntax.h"
#include "wipe.h"
#include "xalloc.h"

/* Bounds of a provider's texts once made safe (provider-text.h). */
#define MB_DESC_MAX 300
#define MB_SCOPE_MAX 2048

bool
mb_json_token_sane(const char *s)
{
	return mb_token_valid_str(s);
}

/* "AADSTS700082: The refresh token has expired..." -> 700082. */
static long
json_aadsts_from_text(const char *s)
{
	const char *p = s ? strstr(s, "AADSTS") : NULL;
	char *end;
	long n;

	if (p == NULL)
		return 0;
	errno = 0;
	n = strtol(p + 6, &end, 10);
	if (errno != 0 || end == p + 6 || n <= 0)
		return 0;
	return n;
}

void
mb_token_reply_clear(struct mb_token_reply *r)
{
	if (r == NULL)
		return;
	mb_free_secret(&r->access_token);
	mb_free_secret(&r->refresh_token);
	free(r->scope);
	free(r->error);
	free(r->error_description);
	free(r->suberror);
	memset(r, 0, sizeof(*r));
	r->expires_in = -1;
}

/* An error reply: its description and Microsoft's numbers. */
static void
json_reply_error(struct json_object *obj, struct mb_token_reply *r)
{
	struct json_object *codes, *c0;

	if (mb_json_get_string(obj, "error_description",
			       &r->error_description) < 0)
		r->error_description = NULL;
	if (r->error_description != NULL)
		r->aadsts = json_aadsts_from_text(r->error_description);
	if (json_object_object_get_ex(obj, "error_codes", &codes) &&
	    json_object_is_type(codes, json_type_array) &&
	    json_object_array_length(codes) > 0) {
		c0 = json_object_array_get_idx(codes, 0);
		if (json_object_is_type(c0, json_type_int) &&
		    json_object_get_int64(c0) > 0 &&
		    json_object_get_int64(c0) < LONG_MAX)
			r->aadsts = (long)json_object_get_int64(c0);
	}
	if (mb_json_get_string(obj, "suberror", &r->suberror) < 0)
		r->suberror = NULL;
}

/* Every text of the reply that may be shown or stored goes through the
 * one rule (provider-text.h), with the reply's own tokens masked: a
 * provider may echo them. */
static void
json_reply_texts(struct mb_token_reply *r, const char *rt)
{
	const char *secrets[] = { r->access_token, rt };

	mb_provider_text_set(&r->error, MB_DESC_MAX, secrets, 2);
	mb_provider_text_set(&r->error_description, MB_DESC_MAX, secrets, 2);
	mb_provider_text_set(&r->suberror, MB_DESC_MAX, secrets, 2);
	mb_provider_text_set(&r->scope, MB_SCOPE_MAX, secrets, 2);
}

/* A success reply: access_token, token_type, expires_in, scope. */
static int
json_reply_success(struct json_object *obj, struct mb_token_reply *r,
		   char **error_r)
{
	char *token_type = NULL;
	int ret = -1, g;

	g = mb_json_get_string(obj, "access_token", &r->access_token);
	if (g == 0) {
		*error_r = mb_xstrdup("no access_token and no error in the "
				      "response");
		goto out;
	}
	if (g < 0 || !mb_json_token_sane(r->access_token)) {
		*error_r = mb_xstrdup("access_token is not a usable token "
				      "string");
		goto out;
	}
	g = mb_json_get_string(obj, "token_type", &token_type);
	if (g < 0 || (g > 0 && strcasecmp(token_type, "bearer") != 0)) {
		*error_r = mb_xstrdup("token_type is not \"Bearer\"");
		goto out;
	}
	g = mb_json_get_long(obj, "expires_in", &r->expires_in);
	if (g < 0 || (g > 0 && (r->expires_in <= 0 ||
				r->expires_in > MB_EXPIRES_IN_MAX))) {
		*error_r = mb_xstrdup("expires_in is not a positive number "
				      "of seconds");
		goto out;
	}
	if (g == 0)
		r->expires_in = -1;
	g = mb_json_get_string(obj, "scope", &r->scope);
	if (g < 0) {
		*error_r = mb_xstrdup("scope is not a string");
		goto out;
	}
	ret = 0;
out:
	free(token_type);
	return ret;
}

/*
 * RFC 6749, 5.1: access_token REQUIRED, token_type REQUIRED ("Bearer",
 * case-insensitive, RFC 6750 6.1.1), expires_in RECOMMENDED (seconds),
 * refresh_token OPTIONAL (a new one replaces the old: rotation), scope
 * OPTIONAL.  5.2: error REQUIRED (ASCII code), error_description and
 * error_uri OPTIONAL; Microsoft adds error_codes [n,...] and suberror.
 * We tolerate a missing token_type (some providers omit it) but not a
 * different one, and numeric strings for expires_in (Azure AD v1).
 */
int
mb_json_parse_token_reply(const char *body, size_t len,
			  struct mb_token_reply *r, char **error_r)
{
	struct json_object *obj;
	char *rt = NULL;
	bool trailing;
	int ret = -1, g;

	memset(r, 0, sizeof(*r));
	r->expires_in = -1;
	*error_r = NULL;
	obj = mb_json_parse_object(body, len, &trailing, error_r);
	if (obj == NULL)
		return -1;
	/* First, whatever else is wrong: with strict rotation the token
	 * that was sent is dead now, and this one is the grant. */
	g = mb_json_get_string(obj, "refresh_token", &rt);
	if (g < 0 || (g > 0 && !mb_json_token_sane(rt))) {
		*error_r = mb_xstrdup("refresh_token is not a usable token "
				      "string");
		goto out;
	}
	if (trailing) {
		*error_r = mb_xstrdup("not valid JSON (trailing data)");
		goto out;
	}
	g = mb_json_get_string(obj, "error", &r->error);
	if (g < 0) {
		*error_r = mb_xstrdup("\"error\" is not a string");
		goto out;
	}
	if (g > 0) {
		json_reply_error(obj, r);
		ret = 0;
	} else {
		ret = json_reply_success(obj, r, error_r);
	}
out:
	if (ret < 0)
		mb_token_reply_clear(r);
	else
		json_reply_texts(r, rt);
	if (rt != NULL && mb_json_token_sane(rt)) {
		r->refresh_token = rt;
		rt = NULL;
	}
	mb_free_secret(&rt);
	mb_json_wipe_member(obj, "access_token");
	mb_json_wipe_member(obj, "refresh_token");
	mb_json_wipe_member(obj, "id_token");
	json_object_put(obj);
	return ret;
}

void
mb_device_reply_clear(struct mb_device_reply *r)
{
	if (r == NULL)
		return;
	mb_free_secret(&r->device_code);
	free(r->user_code);
	free(r->verification_uri);
	free(r->verification_uri_complete);
	memset(r, 0, sizeof(*r));
	r->expires_in = -1;
	r->interval = -1;
}

/* A short, printable, space-free string (user codes and URIs are shown
 * to the user as they are). */
static bool
json_device_text_ok(const char *s, size_t max)
{
	size_t i;

	for (i = 0; s[i] != '\0'; i++) {
		if (s[i] <= 0x20 || s[i] >= 0x7f || i >= max)
			return false;
	}
	return i > 0;
}

static int
json_device_fields(struct json_object *obj, struct mb_device_reply *r,
		   char **error_r)
{
	/* Google has long said verification_url (PROVIDERS.md 2). */
	if (mb_json_get_string(obj, "verification_uri",
			       &r->verification_uri) == 0)
		mb_json_get_string(obj, "verification_url",
				   &r->verification_uri);
	mb_json_get_string(obj, "verification_uri_complete",
			   &r->verification_uri_complete);
	if (mb_json_get_string(obj, "device_code", &r->device_code) <= 0 ||
	    !mb_json_token_sane(r->device_code) ||
	    mb_json_get_string(obj, "user_code", &r->user_code) <= 0 ||
	    !json_device_text_ok(r->user_code, 64) ||
	    r->verification_uri == NULL ||
	    !json_device_text_ok(r->verification_uri, 512) ||
	    strncmp(r->verification_uri, "https://", 8) != 0 ||
	    (r->verification_uri_complete != NULL &&
	     (!json_device_text_ok(r->verification_uri_complete, 1024) ||
	      strncmp(r->verification_uri_complete, "https://", 8) != 0))) {
		*error_r = mb_xstrdup("the device authorization response "
			"lacks a usable device_code, user_code or https "
			"verification_uri");
		return -1;
	}
	if (mb_json_get_long(obj, "expires_in", &r->expires_in) <= 0 ||
	    r->expires_in <= 0) {
		*error_r = mb_xstrdup("the device authorization response "
				      "has no positive expires_in");
		return -1;
	}
	if (mb_json_get_long(obj, "interval", &r->interval) < 0)
		r->interval = -1;
	return 0;
}

int
mb_json_parse_device_reply(const char *body, size_t len,
			   struct mb_device_reply *r, char **error_r)
{
	struct json_object *obj, *e;
	int ret;

	memset(r, 0, sizeof(*r));
	r->expires_in = -1;
	r->interval = -1;
	*error_r = NULL;
	obj = mb_json_parse_all(body, len, error_r);
	if (obj == NULL)
		return -1;
	if (json_object_object_get_ex(obj, "error", &e) && e != NULL)
		ret = 1;
	else
		ret = json_device_fields(obj, r, error_r);
	if (ret != 0)
		mb_device_reply_clear(r);
	mb_json_wipe_member(obj, "device_code");
	json_object_put(obj);
	return ret;
}

void
mb_import_clear(struct mb_import *imp)
{
	mb_free_secret(&imp->refresh_token);
	mb_free_secret(&imp->access_token);
	free(imp->scope);
	free(imp->client_id);
	free(imp->user);
	memset(imp, 0, sizeof(*imp));
}

/* "YYYY-MM-DDTHH:MM:SS" with optional fraction and "Z": UTC with the Z,
 * else local time (mutt_oauth2.py writes datetime.now().isoformat()).
 * 0 when the text is not such a time. */
static time_t
json_import_iso_time(const char *s)
{
	struct tm tm;
	const char *p;
	time_t t;

	memset(&tm, 0, sizeof(tm));
	p = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm);
	if (p == NULL)
		return 0;
	if (*p == '.')
		for (p++; isdigit((unsigned char)*p); p++)
			;
	if (strcmp(p, "Z") == 0 || strcmp(p, "+00:00") == 0)
		return timegm(&tm);
	if (*p != '\0')
		return 0;
	tm.tm_isdst = -1;
	t = mktime(&tm);
	return t < 0 ? 0 : t;
}

/* A time given as seconds since the epoch (number or digits) or as an
 * ISO 8601 string; 0 when absent, empty or 0, -1 when present but not a
 * time (negative, NaN, neither a number nor a date).  An integer beyond
 * what json-c holds comes back as LONG_MAX: the caller judges how far
 * ahead is absurd. */
static time_t
json_import_time(struct json_object *obj, const char *key)
{
	struct json_object *v;
	const char *s;
	double d;
	long n = 0;
	time_t t;

	if (!json_object_object_get_ex(obj, key, &v) || v == NULL)
		return 0;
	if (json_object_is_type(v, json_type_double)) {
		d = json_object_get_double(v);
		if (d != d || d < 0)
			return -1;
		return d >= 9e18 ? (time_t)LONG_MAX : (time_t)d;
	}
	if (mb_json_get_long(obj, key, &n) > 0)
		return n >= 0 ? (time_t)n : -1;
	if (!json_object_is_type(v, json_type_string))
		return -1;
	s = json_object_get_string(v);
	if (s[0] == '\0')
		return 0;
	t = json_import_iso_time(s);
	return t > 0 ? t : -1;
}

/* The members every format shares; -1 with *error_r on a bad one. */
static int
json_import_fields(struct json_object *obj, struct mb_import *imp,
		   char **error_r)
{
	const char *bad = NULL, *secrets[2];

	if (mb_json_get_string(obj, "refresh_token",
			       &imp->refresh_token) <= 0 ||
	    !mb_json_token_sane(imp->refresh_token))
		bad = "refresh_token";
	else if (mb_json_get_string(obj, "access_token",
				    &imp->access_token) < 0)
		bad = "access_token";
	else if (mb_json_get_string(obj, "scope", &imp->scope) < 0)
		bad = "scope";
	else if (mb_json_get_string(obj, "client_id", &imp->client_id) < 0)
		bad = "client_id";
	if (bad != NULL) {
		*error_r = mb_xasprintf("the JSON object's \"%s\" is missing "
					"or not a usable string", bad);
		return -1;
	}
	if (imp->access_token != NULL &&
	    (imp->access_token[0] == '\0' ||
	     !mb_json_token_sane(imp->access_token)))
		mb_free_secret(&imp->access_token);
	if (imp->client_id != NULL && imp->client_id[0] == '\0') {
		free(imp->client_id);
		imp->client_id = NULL;
	}
	secrets[0] = imp->refresh_token;
	secrets[1] = imp->access_token;
	mb_provider_text_set(&imp->scope, MB_SCOPE_MAX, secrets, 2);
	return 0;
}

int
mb_json_parse_import(const char *text, size_t len, struct mb_import *imp,
		     char **error_r)
{
	struct json_object *obj, *v;

	memset(imp, 0, sizeof(*imp));
	*error_r = NULL;
	obj = mb_json_parse_all(text, len, error_r);
	if (obj == NULL)
		return -1;
	if (json_import_fields(obj, imp, error_r) < 0)
		goto fail;
	if (json_object_object_get_ex(obj, "registration", &v) ||
	    json_object_object_get_ex(obj, "access_token_expiration", &v)) {
		imp->format = "mutt_oauth2.py";
		imp->expires_at = json_import_time(obj,
						   "access_token_expiration");
		if (mb_json_get_string(obj, "email", &imp->user) < 0)
			imp->user = NULL;
	} else if (json_object_object_get_ex(obj, "expiry", &v)) {
		imp->format = "sasl-xoauth2";
		imp->expires_at = json_import_time(obj, "expiry");
		if (mb_json_get_string(obj, "user", &imp->user) < 0)
			imp->user = NULL;
	} else {
		imp->format = "JSON";
		imp->expires_at = json_import_time(obj, "expires_at");
	}
	if (imp->expires_at == 0)
		mb_free_secret(&imp->access_token);
	mb_json_wipe_member(obj, "refresh_token");
	mb_json_wipe_member(obj, "access_token");
	mb_json_wipe_member(obj, "client_secret");
	json_object_put(obj);
	return 0;
fail:
	mb_import_clear(imp);
	mb_json_wipe_member(obj, "refresh_token");
	mb_json_wipe_member(obj, "access_token");
	mb_json_wipe_member(obj, "client_secret");
	json_object_put(obj);
	return -1;
}
