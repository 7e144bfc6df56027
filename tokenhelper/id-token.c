/* SPDX-License-Identifier: MIT */
#include <config.h>

#include "id-token.h"

#include <ctype.h>
#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <json-c/json.h>

#include "wipe.h"
#include "xalloc.h"

/* Larger than any id_token seen (Microsoft's run to 2-3 KiB). */
#define IDT_MAX (16 * 1024)
#define IDT_DEPTH 8
/* Clock skew allowed on exp. */
#define IDT_SKEW 300
/* Longest identity shown or compared (an email address: 320). */
#define IDT_WHO_MAX 320

/* The JSON object in text[0..len), or NULL. */
static struct json_object *
idt_parse(const char *text, size_t len)
{
	struct json_tokener *tok;
	struct json_object *obj;

	if (len > INT_MAX)
		return NULL;
	tok = json_tokener_new_ex(IDT_DEPTH);
	if (tok == NULL)
		return NULL;
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT);
	obj = json_tokener_parse_ex(tok, text, (int)len);
	if (obj != NULL &&
	    (json_tokener_get_error(tok) != json_tokener_success ||
	     !json_object_is_type(obj, json_type_object))) {
		json_object_put(obj);
		obj = NULL;
	}
	json_tokener_free(tok);
	return obj;
}

/* The string member key of obj, or NULL (absent, or not a string). */
static const char *
idt_str(struct json_object *obj, const char *key)
{
	struct json_object *v;

	if (!json_object_object_get_ex(obj, key, &v) ||
	    !json_object_is_type(v, json_type_string))
		return NULL;
	return json_object_get_string(v);
}

/* Overwrites the string member key of obj (a secret) in place. */
static void
idt_wipe_member(struct json_object *obj, const char *key)
{
	const char *s = idt_str(obj, key);
	char *w;

	if (s != NULL) {
		memcpy(&w, &s, sizeof(w));
		mb_wipe(w, strlen(w));
	}
}

char *
mb_id_token_from_reply(const char *body, size_t len)
{
	struct json_object *obj = idt_parse(body, len);
	const char *jwt;
	char *out = NULL;

	if (obj == NULL)
		return NULL;
	jwt = idt_str(obj, "id_token");
	if (jwt != NULL && jwt[0] != '\0' && strlen(jwt) <= IDT_MAX)
		out = mb_xstrdup(jwt);
	idt_wipe_member(obj, "id_token");
	idt_wipe_member(obj, "access_token");
	idt_wipe_member(obj, "refresh_token");
	json_object_put(obj);
	return out;
}

static int
idt_b64val(char c)
{
	static const char a[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
				"abcdefghijklmnopqrstuvwxyz0123456789-_";
	const char *p = c != '\0' ? strchr(a, c) : NULL;

	return p != NULL ? (int)(p - a) : -1;
}

/* base64url (no padding) of s[0..n) into a malloc'd NUL-terminated
 * buffer (*len_r bytes), or NULL on a character outside the alphabet. */
static char *
idt_b64url_decode(const char *s, size_t n, size_t *len_r)
{
	char *out = mb_xmalloc(n * 3 / 4 + 1);
	uint32_t acc = 0;
	size_t i, o = 0;
	int bits = 0, v;

	for (i = 0; i < n; i++) {
		v = idt_b64val(s[i]);
		if (v < 0) {
			free(out);
			return NULL;
		}
		acc = (acc << 6) | (uint32_t)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			out[o++] = (char)((acc >> bits) & 0xff);
		}
	}
	out[o] = '\0';
	*len_r = o;
	return out;
}

/* The claims (the JWT's second part) as a JSON object, or NULL. */
static struct json_object *
idt_claims(const char *jwt)
{
	const char *d1 = strchr(jwt, '.'), *d2;
	struct json_object *obj = NULL;
	char *payload;
	size_t len = 0;

	d2 = d1 != NULL ? strchr(d1 + 1, '.') : NULL;
	if (d2 == NULL || strlen(jwt) > IDT_MAX)
		return NULL;
	payload = idt_b64url_decode(d1 + 1, (size_t)(d2 - d1 - 1), &len);
	if (payload != NULL && strlen(payload) == len)
		obj = idt_parse(payload, len);
	free(payload);
	return obj;
}

/* aud is client_id, or an array that holds it; and, as OpenID Connect
 * Core 3.1.3.7 asks, an azp when there are several audiences, and any azp
 * equal to client_id (the token was issued to us, not to another of its
 * audiences). */
static bool
idt_aud_ok(struct json_object *c, const char *client_id)
{
	struct json_object *aud, *azp, *e;
	bool has_azp, found = false;
	size_t i, n;

	if (!json_object_object_get_ex(c, "aud", &aud) || client_id == NULL)
		return false;
	has_azp = json_object_object_get_ex(c, "azp", &azp);
	if (has_azp && (!json_object_is_type(azp, json_type_string) ||
			strcmp(json_object_get_string(azp), client_id) != 0))
		return false;
	if (json_object_is_type(aud, json_type_string))
		return strcmp(json_object_get_string(aud), client_id) == 0;
	if (!json_object_is_type(aud, json_type_array))
		return false;
	n = json_object_array_length(aud);
	for (i = 0; i < n; i++) {
		e = json_object_array_get_idx(aud, i);
		if (json_object_is_type(e, json_type_string) &&
		    strcmp(json_object_get_string(e), client_id) == 0)
			found = true;
	}
	return found && (n == 1 || has_azp);
}

/* "https://HOST[:PORT]" of url, malloc'd, or NULL. */
static char *
idt_origin(const char *url)
{
	size_t n;

	if (url == NULL || strncmp(url, "https://", 8) != 0)
		return NULL;
	n = 8 + strcspn(url + 8, "/?#");
	return mb_xstrndup(url, n);
}

/* A tenant the tid can be compared with: a GUID.  common,
 * organizations, consumers and domain names (contoso.onmicrosoft.com)
 * stand for tenants whose id is not known here. */
static bool
idt_any_tenant(const char *t)
{
	size_t i;

	if (t == NULL || strlen(t) != 36)
		return true;
	for (i = 0; i < 36; i++) {
		if (i == 8 || i == 13 || i == 18 || i == 23 ?
		    t[i] != '-' : !isxdigit((unsigned char)t[i]))
			return true;
	}
	return false;
}

/* The issuer where it is known: Google's, or Microsoft's for the token's
 * tenant.  NULL when fine, else why not. */
static char *
idt_issuer(struct json_object *c, const struct mb_id_expect *x)
{
	const char *iss = idt_str(c, "iss"), *tid;
	char *origin, *want, *why = NULL;

	if (strcmp(x->provider, "google") == 0) {
		if (iss != NULL && (strcmp(iss, "https://accounts.google.com")
				    == 0 ||
				    strcmp(iss, "accounts.google.com") == 0))
			return NULL;
		want = mb_xstrdup("https://accounts.google.com");
	} else if (strcmp(x->provider, "microsoft") == 0) {
		tid = idt_str(c, "tid");
		origin = idt_origin(x->token_endpoint);
		if (tid == NULL || tid[0] == '\0' || strchr(tid, '/') ||
		    origin == NULL) {
			free(origin);
			return mb_xstrdup("the id_token names no tenant (tid)");
		}
		if (!idt_any_tenant(x->tenant) &&
		    strcasecmp(tid, x->tenant) != 0) {
			free(origin);
			return mb_xasprintf("the id_token is of tenant %.64s, "
					    "not of the account's tenant %s",
					    tid, x->tenant);
		}
		want = mb_xasprintf("%s/%s/v2.0", origin, tid);
		free(origin);
		if (iss != NULL && strcmp(iss, want) == 0) {
			free(want);
			return NULL;
		}
	} else {
		return NULL;	/* a generic provider's issuer is not known */
	}
	why = mb_xasprintf("the id_token's issuer is \"%.200s\", not %s",
			   iss != NULL ? iss : "", want);
	free(want);
	return why;
}

/* aud, exp, nonce and the issuer.  NULL when fine, else why not. */
static char *
idt_valid(struct json_object *c, const struct mb_id_expect *x)
{
	struct json_object *exp;
	const char *nonce = idt_str(c, "nonce");

	if (!idt_aud_ok(c, x->client_id))
		return mb_xasprintf("the id_token was issued to another client "
				    "(its aud is not client_id %s)",
				    x->client_id);
	if (!json_object_object_get_ex(c, "exp", &exp) ||
	    !json_object_is_type(exp, json_type_int))
		return mb_xstrdup("the id_token has no expiry (exp)");
	/* not exp + skew: json-c gives INT64_MAX for a larger number */
	if (json_object_get_int64(exp) <= (int64_t)x->now - IDT_SKEW)
		return mb_xstrdup("the id_token has expired (exp)");
	if (x->nonce != NULL && (nonce == NULL || strcmp(nonce, x->nonce)))
		return mb_xstrdup("the id_token's nonce is not this "
				  "authorization's (the code was obtained by "
				  "another authorization request)");
	return idt_issuer(c, x);
}

/* email_verified is true (Google sends a boolean; some send "true"). */
static bool
idt_verified(struct json_object *c, bool absent_ok)
{
	struct json_object *v;

	if (!json_object_object_get_ex(c, "email_verified", &v))
		return absent_ok;
	if (json_object_is_type(v, json_type_boolean))
		return json_object_get_boolean(v);
	return json_object_is_type(v, json_type_string) &&
	       strcmp(json_object_get_string(v), "true") == 0;
}

/* Microsoft's email claim is any address an administrator of the
 * token's tenant typed, verified by nobody ("nOAuth"): someone who runs
 * a tenant of their own could name the account's user there.  It counts
 * only when that tenant is the account's (tenant given as its id, and
 * compared with tid), or when Microsoft says the domain's owner verified
 * it (the optional claim xms_edov).  preferred_username and upn are in a
 * domain the tenant verified. */
static bool
idt_ms_email_ok(struct json_object *c, const struct mb_id_expect *x)
{
	struct json_object *v;

	if (!idt_any_tenant(x->tenant))
		return true;
	return json_object_object_get_ex(c, "xms_edov", &v) &&
	       ((json_object_is_type(v, json_type_boolean) &&
		 json_object_get_boolean(v)) ||
		(json_object_is_type(v, json_type_string) &&
		 strcmp(json_object_get_string(v), "true") == 0) ||
		(json_object_is_type(v, json_type_int) &&
		 json_object_get_int64(v) == 1));
}

enum mb_id_result
mb_id_token_check(const char *jwt, const struct mb_id_expect *x,
		  char **who_r, char **error_r)
{
	static const char *const ms[] = {
		"preferred_username", "email", "upn", NULL,
	};
	static const char *const generic[] = {
		"email", "preferred_username", NULL,
	};
	static const char *const google[] = { "email", NULL };
	bool is_google = strcmp(x->provider, "google") == 0;
	const char *const *names = is_google ? google :
		strcmp(x->provider, "microsoft") == 0 ? ms : generic;
	enum mb_id_result r = MB_ID_MISMATCH;
	struct json_object *c = idt_claims(jwt);
	const char *v, *first = NULL;
	size_t i;

	*who_r = NULL;
	*error_r = NULL;
	if (c == NULL) {
		*error_r = mb_xstrdup("the id_token is not a JWT with a JSON "
				      "payload");
		return MB_ID_INVALID;
	}
	*error_r = idt_valid(c, x);
	if (*error_r == NULL && !idt_verified(c, !is_google)) {
		v = idt_str(c, "email");
		*error_r = mb_xasprintf("the id_token's email %.320s is not "
					"verified by the provider",
					v != NULL ? v : "");
	}
	for (i = 0; *error_r == NULL && names[i] != NULL; i++) {
		if (names == ms && strcmp(names[i], "email") == 0 &&
		    !idt_ms_email_ok(c, x))
			continue;
		v = idt_str(c, names[i]);
		if (v == NULL || v[0] == '\0' || strlen(v) > IDT_WHO_MAX)
			continue;
		if (first == NULL)
			first = v;
		if (x->user != NULL && strcasecmp(v, x->user) == 0) {
			first = v;
			r = MB_ID_OK;
			break;
		}
	}
	if (*error_r == NULL && first == NULL)
		*error_r = mb_xasprintf("the id_token names nobody (no %s)",
					is_google ? "email" :
					"email or preferred_username");
	if (*error_r != NULL)
		r = MB_ID_INVALID;
	else
		*who_r = mb_xstrdup(first);
	json_object_put(c);
	return r;
}
