/* SPDX-License-Identifier: MIT */
#ifndef MB_JSON_H
#define MB_JSON_H

/* The JSON that others write: token-endpoint responses, the device
 * authorization response, other tools' token files.  (The state file is
 * state.h's, an id_token id-token.h's, `status --json` cmd-status.c's;
 * all use json-c.) */

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

/* RFC 6749 section 5.1 (success) or 5.2 (error), plus Microsoft's
 * error_codes/suberror.  Strings are malloc'd; clear with
 * mb_token_reply_clear(). */
struct mb_token_reply {
	/* success */
	char *access_token;	/* secret */
	char *refresh_token;	/* secret; NULL: not rotated */
	char *scope;		/* safe to show, at most 2048 bytes */
	long expires_in;	/* -1 if absent */
	/* error */
	/* NULL on success.  These texts are safe to show (provider-text.h:
	 * escaped, the reply's own tokens masked), at most 300 bytes. */
	char *error;
	char *error_description;
	char *suberror;
	long aadsts;		/* first of error_codes or AADSTSnnn; 0 */
};

/* Parses a token endpoint body.  Returns 0 when it is a JSON object that
 * is either a well-formed success (access_token present and sane,
 * token_type Bearer if given, expires_in a positive number) or an error
 * object; -1 with *error_r (malloc'd, secret-free) otherwise.  Whatever
 * it returns, r->refresh_token is set when the body starts with a JSON
 * object holding a usable refresh_token (even with trailing bytes or an
 * unusable field): under strict rotation the token that was sent is
 * spent, so the caller keeps this one before judging the rest.  Clear r
 * with mb_token_reply_clear() in every case. */
int mb_json_parse_token_reply(const char *body, size_t len,
			      struct mb_token_reply *r, char **error_r);
void mb_token_reply_clear(struct mb_token_reply *r);

/* true if s is a plausible token: 1..16384 bytes of visible ASCII
 * (RFC 6750 b64token for access tokens is a subset); it keeps control
 * characters (\1 separates XOAUTH2 fields) out of SASL messages. */
bool mb_json_token_sane(const char *s);

/* RFC 8628 3.2, the device authorization response (Google's
 * verification_url is taken for verification_uri).  Strings malloc'd;
 * clear with mb_device_reply_clear(). */
struct mb_device_reply {
	char *device_code;	/* secret */
	char *user_code;
	char *verification_uri;	/* https:// */
	char *verification_uri_complete; /* NULL if none */
	long expires_in;	/* seconds, > 0 */
	long interval;		/* seconds, -1 if absent */
};

/* 0: a usable success (device_code, user_code, an https verification URI,
 * a positive expires_in); 1: an error object (read it with
 * mb_json_parse_token_reply()); -1 with *error_r (malloc'd) otherwise. */
int mb_json_parse_device_reply(const char *body, size_t len,
			       struct mb_device_reply *r, char **error_r);
void mb_device_reply_clear(struct mb_device_reply *r);

/* What `mailbearer import` read from another tool's token file, told
 * apart by its shape: mutt_oauth2.py's decrypted JSON ("registration",
 * "access_token_expiration" in local time), sasl-xoauth2's token file
 * ("expiry", seconds since the epoch as a string), or any JSON object
 * with a "refresh_token" ("expires_at": seconds or ISO 8601).  Strings
 * malloc'd; clear with mb_import_clear(). */
struct mb_import {
	const char *format;	/* static: the format's name */
	char *refresh_token;	/* secret */
	char *access_token;	/* secret; NULL unless its expiry is known */
	time_t expires_at;	/* of access_token; 0 unknown, -1 not a time */
	char *scope;		/* NULL if not given */
	char *client_id;	/* the client it was issued to; NULL unknown */
	char *user;		/* the mailbox it names; NULL unknown */
};

/* 0, or -1 with *error_r (malloc'd, secret-free) when the text is not a
 * JSON object with a usable refresh_token. */
int mb_json_parse_import(const char *text, size_t len, struct mb_import *imp,
			 char **error_r);
void mb_import_clear(struct mb_import *imp);

#endif
