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
#include "store.h"
#include "token-syntax.h"
#include "wipe.h"
#include "xalloc.h"

#define MB_DESC_MAX 300
#define MB_JSON_DEPTH 16

bool
mb_json_token_sane(const char *s)
{
	return mb_token_valid_str(s);
}

/* json-c frees its strings without wiping them; wipe the ones that held
 * secrets first.  The memcpy launders the const of json-c's accessor. */
static void
json_wipe_const(const char *s)
{
	char *w;

	if (s == NULL)
		return;
	memcpy(&w, &s, sizeof(w));
	mb_wipe(w, strlen(w));
}

static void
json_wipe_member(struct json_object *obj, const char *key)
{
	struct json_object *v;

	if (json_object_object_get_ex(obj, key, &v) &&
	    json_object_is_type(v, json_type_string))
		json_wipe_const(json_object_get_string(v));
}

/* Parses one JSON object at the start of [text, text+len).  NULL with
 * *error_r when there is none; else the object, with *trailing_r true
 * when something other than white space follows it. */
static struct json_object *
json_parse_object(const char *text, size_t len, bool *trailing_r,
		  char **error_r)
{
	struct json_tokener *tok;
	struct json_object *obj = NULL;
	enum json_tokener_error jerr;
	size_t used;

	*trailing_r = false;
	if (len > INT_MAX) {
		*error_r = mb_xstrdup("too large");
		return NULL;
	}
	tok = json_tokener_new_ex(MB_JSON_DEPTH);
	if (tok == NULL) {
		*error_r = mb_xstrdup("out of memory");
		return NULL;
	}
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT);
	obj = json_tokener_parse_ex(tok, text, (int)len);
	jerr = json_tokener_get_error(tok);
	used = json_tokener_get_parse_end(tok);
	if (obj == NULL && jerr != json_tokener_continue && used > 0 &&
	    used < len) {
		/* Strict mode fails on what follows a complete value; the
		 * value before it is still of interest. */
		json_tokener_reset(tok);
		obj = json_tokener_parse_ex(tok, text, (int)used);
		if (obj != NULL &&
		    json_tokener_get_error(tok) == json_tokener_success) {
			json_tokener_free(tok);
			*trailing_r = true;
			if (json_object_is_type(obj, json_type_object))
				return obj;
			json_object_put(obj);
			*error_r = mb_xstrdup("not a JSON object");
			return NULL;
		}
		json_object_put(obj);
		obj = NULL;
	}
	if (obj == NULL || jerr != json_tokener_success) {
		*error_r = mb_xasprintf("not valid JSON (%s)",
			jerr == json_tokener_continue ? "truncated" :
			json_tokener_error_desc(jerr));
		json_object_put(obj);
		obj = NULL;
		goto out;
	}
	if (!json_object_is_type(obj, json_type_object)) {
		*error_r = mb_xstrdup("not a JSON object");
		json_object_put(obj);
		obj = NULL;
		goto out;
	}
	for (; used < len; used++) {
		if (!isspace((unsigned char)text[used]))
			*trailing_r = true;
	}
out:
	json_tokener_free(tok);
	return obj;
}

/* Exactly one JSON object filling [text, text+len) (trailing white space
 * allowed).  NULL with *error_r on failure. */
static struct json_object *
json_parse_all(const char *text, size_t len, char **error_r)
{
	struct json_object *obj;
	bool trailing;

	obj = json_parse_object(text, len, &trailing, error_r);
	if (obj != NULL && trailing) {
		*error_r = mb_xstrdup("not valid JSON (trailing data)");
		json_object_put(obj);
		obj = NULL;
	}
	return obj;
}

/* Member key as a string: 1 found (*out malloc'd), 0 absent or null,
 * -1 present with another type or an embedded NUL. */
static int
json_get_string(struct json_object *obj, const char *key, char **out)
{
	struct json_object *v;
	const char *s;

	*out = NULL;
	if (!json_object_object_get_ex(obj, key, &v) || v == NULL)
		return 0;
	if (!json_object_is_type(v, json_type_string))
		return -1;
	s = json_object_get_string(v);
	if ((size_t)json_object_get_string_len(v) != strlen(s))
		return -1;
	*out = mb_xstrdup(s);
	return 1;
}

/* Member key as an integer (JSON number, or a string of digits as old
 * Azure AD endpoints send): 1 found, 0 absent/null, -1 wrong type. */
static int
json_get_long(struct json_object *obj, const char *key, long *out)
{
	struct json_object *v;
	const char *s;
	char *end;
	long n;

	if (!json_object_object_get_ex(obj, key, &v) || v == NULL)
		return 0;
	if (json_object_is_type(v, json_type_int)) {
		int64_t i = json_object_get_int64(v);

		if (i < LONG_MIN || i > LONG_MAX)
			return -1;
		*out = (long)i;
		return 1;
	}
	if (!json_object_is_type(v, json_type_string))
		return -1;
	s = json_object_get_string(v);
	errno = 0;
	n = strtol(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0')
		return -1;
	*out = n;
	return 1;
}

static int
json_get_bool(struct json_object *obj, const char *key, bool *out)
{
	struct json_object *v;

	*out = false;
	if (!json_object_object_get_ex(obj, key, &v) || v == NULL)
		return 0;
	if (!json_object_is_type(v, json_type_boolean))
		return -1;
	*out = json_object_get_boolean(v);
	return 1;
}

/* A provider's free text, made safe for logs: printable ASCII, first
 * line, bounded. */
static char *
json_sanitize_text(const char *s)
{
	size_t n = 0, i;
	char *out;

	out = mb_xmalloc(MB_DESC_MAX + 1);
	for (i = 0; s[i] != '\0' && s[i] != '\r' && s[i] != '\n' &&
	     n < MB_DESC_MAX; i++)
		out[n++] = (s[i] >= 0x20 && s[i] < 0x7f) ? s[i] : '?';
	out[n] = '\0';
	return out;
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

/* An error reply: its code, description and Microsoft's numbers, made
 * printable. */
static void
json_reply_error(struct json_object *obj, struct mb_token_reply *r)
{
	struct json_object *codes, *c0;
	char *clean, *desc = NULL, *sub = NULL;

	clean = json_sanitize_text(r->error);
	free(r->error);
	r->error = clean;
	if (json_get_string(obj, "error_description", &desc) > 0)
		r->error_description = json_sanitize_text(desc);
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
	if (json_get_string(obj, "suberror", &sub) > 0)
		r->suberror = json_sanitize_text(sub);
	free(sub);
	free(desc);
}

/* A success reply: access_token, token_type, expires_in, scope. */
static int
json_reply_success(struct json_object *obj, struct mb_token_reply *r,
		   char **error_r)
{
	char *token_type = NULL;
	int ret = -1, g;

	g = json_get_string(obj, "access_token", &r->access_token);
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
	g = json_get_string(obj, "token_type", &token_type);
	if (g < 0 || (g > 0 && strcasecmp(token_type, "bearer") != 0)) {
		*error_r = mb_xstrdup("token_type is not \"Bearer\"");
		goto out;
	}
	g = json_get_long(obj, "expires_in", &r->expires_in);
	if (g < 0 || (g > 0 && (r->expires_in <= 0 ||
				r->expires_in > MB_EXPIRES_IN_MAX))) {
		*error_r = mb_xstrdup("expires_in is not a positive number "
				      "of seconds");
		goto out;
	}
	if (g == 0)
		r->expires_in = -1;
	g = json_get_string(obj, "scope", &r->scope);
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
	obj = json_parse_object(body, len, &trailing, error_r);
	if (obj == NULL)
		return -1;
	/* First, whatever else is wrong: with strict rotation the token
	 * that was sent is dead now, and this one is the grant. */
	g = json_get_string(obj, "refresh_token", &rt);
	if (g < 0 || (g > 0 && !mb_json_token_sane(rt))) {
		*error_r = mb_xstrdup("refresh_token is not a usable token "
				      "string");
		goto out;
	}
	if (trailing) {
		*error_r = mb_xstrdup("not valid JSON (trailing data)");
		goto out;
	}
	g = json_get_string(obj, "error", &r->error);
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
	if (rt != NULL && mb_json_token_sane(rt)) {
		r->refresh_token = rt;
		rt = NULL;
	}
	mb_free_secret(&rt);
	json_wipe_member(obj, "access_token");
	json_wipe_member(obj, "refresh_token");
	json_wipe_member(obj, "id_token");
	json_object_put(obj);
	return ret;
}

static void
json_add_string(struct json_object *obj, const char *key, const char *s)
{
	if (s != NULL)
		json_object_object_add(obj, key, json_object_new_string(s));
}

char *
mb_json_state_encode(const struct mb_state *st)
{
	struct json_object *obj = json_object_new_object();
	const char *text;
	char *out;

	if (obj == NULL)
		return NULL;
	json_object_object_add(obj, "version", json_object_new_int(1));
	json_add_string(obj, "refresh_token", st->refresh_token);
	json_add_string(obj, "access_token", st->access_token);
	json_object_object_add(obj, "expires_at",
			       json_object_new_int64(st->expires_at));
	json_add_string(obj, "scope", st->scope);
	json_object_object_add(obj, "rejected",
			       json_object_new_boolean(st->rejected));
	json_object_object_add(obj, "needs_authorize",
			       json_object_new_boolean(st->needs_authorize));
	json_object_object_add(obj, "client_problem",
			       json_object_new_boolean(st->client_problem));
	json_add_string(obj, "reason", st->reason);
	json_object_object_add(obj, "last_refresh",
			       json_object_new_int64(st->last_refresh));
	json_add_string(obj, "last_error", st->last_error);
	json_object_object_add(obj, "updated",
			       json_object_new_int64(st->updated));
	json_object_object_add(obj, "last_forced",
			       json_object_new_int64(st->last_forced));
	json_object_object_add(obj, "last_asked",
			       json_object_new_int64(st->last_asked));
	json_object_object_add(obj, "generation",
			       json_object_new_int64(st->generation));
	json_object_object_add(obj, "refresh_since",
			       json_object_new_int64(st->refresh_since));
	json_object_object_add(obj, "unanswered_at",
			       json_object_new_int64(st->unanswered_at));
	text = json_object_to_json_string_ext(obj, JSON_C_TO_STRING_PRETTY |
					      JSON_C_TO_STRING_NOSLASHESCAPE);
	out = text != NULL ? mb_xasprintf("%s\n", text) : NULL;
	json_wipe_const(text);
	json_wipe_member(obj, "refresh_token");
	json_wipe_member(obj, "access_token");
	json_object_put(obj);
	return out;
}

static int
json_get_time(struct json_object *obj, const char *key, time_t *out)
{
	long v = 0;
	int g = json_get_long(obj, key, &v);

	*out = 0;
	if (g < 0 || v < 0)
		return -1;
	*out = (time_t)v;
	return g;
}

int
mb_json_state_decode(const char *text, size_t len, struct mb_state *st,
		     char **error_r)
{
	struct json_object *obj;
	const char *bad = NULL;
	long version = 0, generation = 0;
	int ret = -1;

	memset(st, 0, sizeof(*st));
	*error_r = NULL;
	obj = json_parse_all(text, len, error_r);
	if (obj == NULL)
		return -1;
	if (json_get_long(obj, "version", &version) < 0 || version != 1)
		bad = "version";
	else if (json_get_string(obj, "refresh_token",
				 &st->refresh_token) < 0 ||
		 (st->refresh_token != NULL &&
		  !mb_json_token_sane(st->refresh_token)))
		bad = "refresh_token";
	else if (json_get_string(obj, "access_token", &st->access_token) < 0 ||
		 (st->access_token != NULL &&
		  !mb_json_token_sane(st->access_token)))
		bad = "access_token";
	else if (json_get_time(obj, "expires_at", &st->expires_at) < 0)
		bad = "expires_at";
	else if (json_get_string(obj, "scope", &st->scope) < 0)
		bad = "scope";
	else if (json_get_bool(obj, "rejected", &st->rejected) < 0)
		bad = "rejected";
	else if (json_get_bool(obj, "needs_authorize",
			       &st->needs_authorize) < 0)
		bad = "needs_authorize";
	else if (json_get_bool(obj, "client_problem",
			       &st->client_problem) < 0)
		bad = "client_problem";
	else if (json_get_string(obj, "reason", &st->reason) < 0)
		bad = "reason";
	else if (json_get_time(obj, "last_refresh", &st->last_refresh) < 0)
		bad = "last_refresh";
	else if (json_get_string(obj, "last_error", &st->last_error) < 0)
		bad = "last_error";
	else if (json_get_time(obj, "updated", &st->updated) < 0)
		bad = "updated";
	else if (json_get_time(obj, "last_forced", &st->last_forced) < 0)
		bad = "last_forced";
	else if (json_get_time(obj, "last_asked", &st->last_asked) < 0)
		bad = "last_asked";
	else if (json_get_time(obj, "refresh_since", &st->refresh_since) < 0)
		bad = "refresh_since";
	else if (json_get_time(obj, "unanswered_at", &st->unanswered_at) < 0)
		bad = "unanswered_at";
	else if (json_get_long(obj, "generation", &generation) < 0 ||
		 generation < 0)
		bad = "generation";
	st->generation = generation;
	if (bad != NULL) {
		*error_r = mb_xasprintf("field \"%s\" is missing or has the "
					"wrong type", bad);
		mb_state_clear(st);
		goto out;
	}
	ret = 0;
out:
	json_wipe_member(obj, "refresh_token");
	json_wipe_member(obj, "access_token");
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
	if (json_get_string(obj, "verification_uri",
			    &r->verification_uri) == 0)
		json_get_string(obj, "verification_url", &r->verification_uri);
	json_get_string(obj, "verification_uri_complete",
			&r->verification_uri_complete);
	if (json_get_string(obj, "device_code", &r->device_code) <= 0 ||
	    !mb_json_token_sane(r->device_code) ||
	    json_get_string(obj, "user_code", &r->user_code) <= 0 ||
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
	if (json_get_long(obj, "expires_in", &r->expires_in) <= 0 ||
	    r->expires_in <= 0) {
		*error_r = mb_xstrdup("the device authorization response "
				      "has no positive expires_in");
		return -1;
	}
	if (json_get_long(obj, "interval", &r->interval) < 0)
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
	obj = json_parse_all(body, len, error_r);
	if (obj == NULL)
		return -1;
	if (json_object_object_get_ex(obj, "error", &e) && e != NULL)
		ret = 1;
	else
		ret = json_device_fields(obj, r, error_r);
	if (ret != 0)
		mb_device_reply_clear(r);
	json_wipe_member(obj, "device_code");
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
	if (json_get_long(obj, key, &n) > 0)
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
	const char *bad = NULL;

	if (json_get_string(obj, "refresh_token", &imp->refresh_token) <= 0 ||
	    !mb_json_token_sane(imp->refresh_token))
		bad = "refresh_token";
	else if (json_get_string(obj, "access_token", &imp->access_token) < 0)
		bad = "access_token";
	else if (json_get_string(obj, "scope", &imp->scope) < 0)
		bad = "scope";
	else if (json_get_string(obj, "client_id", &imp->client_id) < 0)
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
	return 0;
}

int
mb_json_parse_import(const char *text, size_t len, struct mb_import *imp,
		     char **error_r)
{
	struct json_object *obj, *v;

	memset(imp, 0, sizeof(*imp));
	*error_r = NULL;
	obj = json_parse_all(text, len, error_r);
	if (obj == NULL)
		return -1;
	if (json_import_fields(obj, imp, error_r) < 0)
		goto fail;
	if (json_object_object_get_ex(obj, "registration", &v) ||
	    json_object_object_get_ex(obj, "access_token_expiration", &v)) {
		imp->format = "mutt_oauth2.py";
		imp->expires_at = json_import_time(obj,
						   "access_token_expiration");
		if (json_get_string(obj, "email", &imp->user) < 0)
			imp->user = NULL;
	} else if (json_object_object_get_ex(obj, "expiry", &v)) {
		imp->format = "sasl-xoauth2";
		imp->expires_at = json_import_time(obj, "expiry");
		if (json_get_string(obj, "user", &imp->user) < 0)
			imp->user = NULL;
	} else {
		imp->format = "JSON";
		imp->expires_at = json_import_time(obj, "expires_at");
	}
	if (imp->expires_at == 0)
		mb_free_secret(&imp->access_token);
	json_wipe_member(obj, "refresh_token");
	json_wipe_member(obj, "access_token");
	json_wipe_member(obj, "client_secret");
	json_object_put(obj);
	return 0;
fail:
	mb_import_clear(imp);
	json_wipe_member(obj, "refresh_token");
	json_wipe_member(obj, "access_token");
	json_wipe_member(obj, "client_secret");
	json_object_put(obj);
	return -1;
}
