/* SPDX-License-Identifier: MIT */
#include <config.h>

#include "json-util.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "wipe.h"
#include "xalloc.h"

#define MB_JSON_DEPTH 16

/* json-c frees its strings without wiping them; wipe the ones that held
 * secrets first.  The memcpy launders the const of json-c's accessor. */
void
mb_json_wipe_const(const char *s)
{
	char *w;

	if (s == NULL)
		return;
	memcpy(&w, &s, sizeof(w));
	mb_wipe(w, strlen(w));
}

void
mb_json_wipe_member(struct json_object *obj, const char *key)
{
	struct json_object *v;

	if (json_object_object_get_ex(obj, key, &v) &&
	    json_object_is_type(v, json_type_string))
		mb_json_wipe_const(json_object_get_string(v));
}

/* Parses one JSON object at the start of [text, text+len).  NULL with
 * *error_r when there is none; else the object, with *trailing_r true
 * when something other than white space follows it. */
struct json_object *
mb_json_parse_object(const char *text, size_t len, bool *trailing_r,
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
struct json_object *
mb_json_parse_all(const char *text, size_t len, char **error_r)
{
	struct json_object *obj;
	bool trailing;

	obj = mb_json_parse_object(text, len, &trailing, error_r);
	if (obj != NULL && trailing) {
		*error_r = mb_xstrdup("not valid JSON (trailing data)");
		json_object_put(obj);
		obj = NULL;
	}
	return obj;
}

/* Member key as a string: 1 found (*out malloc'd), 0 absent or null,
 * -1 present with another type or an embedded NUL. */
int
mb_json_get_string(struct json_object *obj, const char *key, char **out)
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
int
mb_json_get_long(struct json_object *obj, const char *key, long *out)
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

int
mb_json_get_bool(struct json_object *obj, const char *key, bool *out)
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
