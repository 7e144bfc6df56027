/* SPDX-License-Identifier: MIT */
#ifndef MB_XOAUTH2_MSG_H
#define MB_XOAUTH2_MSG_H

/* The pure part of the plugin: checking what goes into the client's
 * initial response (built by common/initial-response.h) and decoding the
 * server's error challenge.  No libsasl2, no allocation, no I/O: every
 * function works on caller-provided buffers, so that the whole module is
 * tested with tables (tests/unit/test-xoauth2-msg.c). */

#include <stdbool.h>
#include <stddef.h>

/* Largest error challenge we try to parse as JSON; longer ones are
 * reported as oversized, with a sanitised prefix. */
#define MB_XO_CHALLENGE_MAX 8192

enum mb_xo_mech {
	MB_XO_XOAUTH2,
	MB_XO_OAUTHBEARER,
};

/* Name of the mechanism ("XOAUTH2", "OAUTHBEARER"); static storage. */
const char *mb_xo_mech_name(enum mb_xo_mech mech);

/* Extracts the server's port from libsasl2's ipremoteport string
 * ("127.0.0.1;143", "[::1];993", "::1;993", "[::1]:993", "10.0.0.1:25").
 * Returns 0 when absent or malformed. */
unsigned mb_xo_parse_port(const char *ipport, size_t len);

/* True when host is usable as an OAUTHBEARER host= value: non-empty,
 * at most 255 bytes, only letters, digits, '.', '-', '_', ':', '[' ']'. */
bool mb_xo_host_ok(const char *host, size_t len);

/* Checks a user name: returns NULL if fine, else a static, secret-free
 * sentence fragment saying what is wrong ("contains the ^A (0x01)
 * separator"). */
const char *mb_xo_check_user(const char *user, size_t len);

/* mb_xo_check_user, in the same one pass, which also sets *ascii_r to
 * whether the name is printable ASCII only: then mb_xo_sanitize copies it
 * unchanged when the buffer has room for it and its NUL. */
const char *mb_xo_check_user_ascii(const char *user, size_t len,
				   bool *ascii_r);

/* Checks an access token (after trailing CR/LF/blank stripping, see
 * mb_ts_trim, common/token-rule.h) against the one token syntax,
 * common/token-syntax.h: returns NULL if it may be sent, else a static,
 * secret-free sentence fragment.  Refused: empty, longer than
 * MB_TOKEN_MAX, containing ^A, any other control character, a space or a
 * non-ASCII byte.  *strict_r is set to whether the token is an RFC 6750
 * b64token (callers log a warning when it is not, but still send it,
 * unless mailbearer_strict_token is on). */
const char *mb_xo_check_token(const char *token, size_t len,
			      bool *strict_r);

/* What we learnt from an error challenge.  Fixed-size, NUL-terminated
 * fields; values longer than a field are cut and end in "...". */
struct mb_xo_error {
	bool is_json;		/* a JSON object was parsed */
	bool oversized;		/* longer than MB_XO_CHALLENGE_MAX */
	size_t raw_len;		/* length of the challenge */
	char status[64];	/* "401", "invalid_token", "" if absent */
	char schemes[64];
	char scope[256];
	char openid_configuration[256];
	/* When !is_json: a sanitised, truncated copy of the challenge. */
	char raw[128];
};

/* Parses the error challenge (the decoded server message, binary-safe:
 * data[0..len) may contain anything) into *err.  Never fails: a challenge
 * that is not a JSON object leaves is_json false and a sanitised prefix in
 * raw.  Bounded: at most MB_XO_CHALLENGE_MAX bytes are read, nesting is
 * limited to 32 levels. */
void mb_xo_parse_error(const char *data, size_t len, struct mb_xo_error *err);

/* Formats the human error detail for a rejected token into buf, e.g.
 *	XOAUTH2: server rejected the access token for alice@example.com
 *	(status 401, scope https://mail.google.com/): the token is expired or
 *	revoked
 * user is sanitised.  Returns buf. */
char *mb_xo_describe_error(char *buf, size_t size, enum mb_xo_mech mech,
			   const char *user, size_t user_len,
			   const struct mb_xo_error *err);

/* mb_text_safe() (common/text-safe.h) with "..." when cut: printable
 * ASCII and valid UTF-8 are kept; control characters, invalid UTF-8, the
 * bidirectional controls and the line/paragraph separators (U+061C,
 * U+200E, U+200F, U+2028 to U+202E, U+2066 to U+2069) become "\xNN",
 * byte by byte.  Returns buf. */
char *mb_xo_sanitize(char *buf, size_t size, const char *src, size_t len);

#endif
