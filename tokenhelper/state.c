/* SPDX-License-Identifier: MIT */
#include <config.h>

#include "state.h"

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "json-util.h"
#include "token-syntax.h"
#include "wipe.h"
#include "xalloc.h"

void
mb_state_clear(struct mb_state *st)
{
	if (st == NULL)
		return;
	mb_free_secret(&st->refresh_token);
	mb_free_secret(&st->access_token);
	free(st->scope);
	free(st->reason);
	free(st->last_error);
	free(st->refreshed_by);
	memset(st, 0, sizeof(*st));
}

void
mb_state_copy(struct mb_state *dst, const struct mb_state *src)
{
	*dst = *src;
	dst->refresh_token = mb_xstrdup_or_null(src->refresh_token);
	dst->access_token = mb_xstrdup_or_null(src->access_token);
	dst->scope = mb_xstrdup_or_null(src->scope);
	dst->reason = mb_xstrdup_or_null(src->reason);
	dst->last_error = mb_xstrdup_or_null(src->last_error);
	dst->refreshed_by = mb_xstrdup_or_null(src->refreshed_by);
}

/* The schema: the members after "version", in the order they are
 * written.  Missing members are zero; a member of another type (or a
 * token that is not one, a negative time) makes the state corrupt. */
enum state_kind {
	SK_TOKEN,	/* char *, a secret: a token (token-syntax.h) */
	SK_TEXT,	/* char * */
	SK_TIME,	/* time_t, >= 0 */
	SK_BOOL,	/* bool */
	SK_COUNT,	/* long long, >= 0 */
};

struct state_field {
	const char *key;
	enum state_kind kind;
	size_t off;
};

#define SF(key, kind, member) { key, kind, offsetof(struct mb_state, member) }
static const struct state_field state_fields[] = {
	SF("refresh_token", SK_TOKEN, refresh_token),
	SF("access_token", SK_TOKEN, access_token),
	SF("expires_at", SK_TIME, expires_at),
	SF("scope", SK_TEXT, scope),
	SF("rejected", SK_BOOL, rejected),
	SF("needs_authorize", SK_BOOL, needs_authorize),
	SF("client_problem", SK_BOOL, client_problem),
	SF("reason", SK_TEXT, reason),
	SF("last_refresh", SK_TIME, last_refresh),
	SF("last_error", SK_TEXT, last_error),
	SF("refreshed_by", SK_TEXT, refreshed_by),
	SF("updated", SK_TIME, updated),
	SF("last_forced", SK_TIME, last_forced),
	SF("last_asked", SK_TIME, last_asked),
	SF("generation", SK_COUNT, generation),
	SF("refresh_since", SK_TIME, refresh_since),
	SF("unanswered_at", SK_TIME, unanswered_at),
};
#undef SF
#define STATE_N_FIELDS (sizeof(state_fields) / sizeof(state_fields[0]))

/* The member of st that f describes. */
static void *
state_member(const struct mb_state *st, const struct state_field *f)
{
	const char *base = (const char *)st + f->off;
	void *p;

	memcpy(&p, &base, sizeof(p));	/* launders the const */
	return p;
}

/* f's member of st as a new json-c value; NULL for an absent string. */
static struct json_object *
state_value(const struct mb_state *st, const struct state_field *f)
{
	void *m = state_member(st, f);
	const char *s;

	switch (f->kind) {
	case SK_TOKEN:
	case SK_TEXT:
		s = *(char **)m;
		return s != NULL ? json_object_new_string(s) : NULL;
	case SK_TIME:
		return json_object_new_int64((int64_t)*(time_t *)m);
	case SK_BOOL:
		return json_object_new_boolean(*(bool *)m);
	case SK_COUNT:
	default:
		return json_object_new_int64(*(long long *)m);
	}
}

char *
mb_state_encode(const struct mb_state *st)
{
	struct json_object *obj = json_object_new_object(), *v;
	const char *text;
	char *out;
	size_t i;

	if (obj == NULL)
		return NULL;
	json_object_object_add(obj, "version",
			       json_object_new_int(MB_STATE_VERSION));
	for (i = 0; i < STATE_N_FIELDS; i++) {
		v = state_value(st, &state_fields[i]);
		if (v != NULL)
			json_object_object_add(obj, state_fields[i].key, v);
	}
	text = json_object_to_json_string_ext(obj, JSON_C_TO_STRING_PRETTY |
					      JSON_C_TO_STRING_NOSLASHESCAPE);
	out = text != NULL ? mb_xasprintf("%s\n", text) : NULL;
	mb_json_wipe_const(text);
	mb_json_wipe_member(obj, "refresh_token");
	mb_json_wipe_member(obj, "access_token");
	json_object_put(obj);
	return out;
}

/* Reads f's member of obj into st; false when it is unusable. */
static bool
state_read(struct json_object *obj, const struct state_field *f,
	   struct mb_state *st)
{
	void *m = state_member(st, f);
	char **s = m;
	long v = 0;

	switch (f->kind) {
	case SK_TOKEN:
		return mb_json_get_string(obj, f->key, s) >= 0 &&
		       (*s == NULL || mb_token_valid_str(*s));
	case SK_TEXT:
		return mb_json_get_string(obj, f->key, s) >= 0;
	case SK_BOOL:
		return mb_json_get_bool(obj, f->key, m) >= 0;
	case SK_TIME:
		if (mb_json_get_long(obj, f->key, &v) < 0 || v < 0)
			return false;
		*(time_t *)m = (time_t)v;
		return true;
	case SK_COUNT:
	default:
		if (mb_json_get_long(obj, f->key, &v) < 0 || v < 0)
			return false;
		*(long long *)m = v;
		return true;
	}
}

int
mb_state_decode(const char *text, size_t len, struct mb_state *st,
		char **error_r)
{
	struct json_object *obj;
	const char *bad = NULL;
	long version = 0;
	size_t i;

	memset(st, 0, sizeof(*st));
	*error_r = NULL;
	obj = mb_json_parse_all(text, len, error_r);
	if (obj == NULL)
		return -1;
	if (mb_json_get_long(obj, "version", &version) < 0 ||
	    version != MB_STATE_VERSION)
		bad = "version";
	for (i = 0; bad == NULL && i < STATE_N_FIELDS; i++) {
		if (!state_read(obj, &state_fields[i], st))
			bad = state_fields[i].key;
	}
	mb_json_wipe_member(obj, "refresh_token");
	mb_json_wipe_member(obj, "access_token");
	json_object_put(obj);
	if (bad == NULL)
		return 0;
	*error_r = mb_xasprintf("field \"%s\" is missing or has the wrong "
				"type", bad);
	mb_state_clear(st);
	return -1;
}
