/* SPDX-License-Identifier: MIT */
#ifndef MB_JSON_UTIL_H
#define MB_JSON_UTIL_H

/* What every JSON reader of the helper shares (json.c: the token
 * endpoint's replies; state.c: the state file): a strict parse of one
 * object, typed members, and wiping the secrets json-c holds.  The
 * callers include <json-c/json.h> themselves. */

#include <stdbool.h>
#include <stddef.h>

struct json_object;

/* json-c frees its strings without wiping them: wipe a string of its
 * that held a secret, or a string member of obj, first. */
void mb_json_wipe_const(const char *s);
void mb_json_wipe_member(struct json_object *obj, const char *key);

/* One JSON object at the start of [text, text+len), nested at most 16
 * deep.  NULL with *error_r (malloc'd) when there is none; else the
 * object, with *trailing_r true when something other than white space
 * follows it. */
struct json_object *mb_json_parse_object(const char *text, size_t len,
					 bool *trailing_r, char **error_r);
/* Exactly one JSON object filling [text, text+len) (trailing white
 * space allowed).  NULL with *error_r on failure. */
struct json_object *mb_json_parse_all(const char *text, size_t len,
				      char **error_r);

/* Member key as a string: 1 found (*out malloc'd), 0 absent or null,
 * -1 present with another type or an embedded NUL. */
int mb_json_get_string(struct json_object *obj, const char *key, char **out);
/* Member key as an integer (JSON number, or a string of digits as old
 * Azure AD endpoints send): 1 found, 0 absent/null, -1 wrong type. */
int mb_json_get_long(struct json_object *obj, const char *key, long *out);
/* Member key as a boolean (false when absent): 1, 0 or -1 likewise. */
int mb_json_get_bool(struct json_object *obj, const char *key, bool *out);

#endif
