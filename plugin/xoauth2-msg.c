/* SPDX-License-Identifier: MIT */
#include <config.h>

#include "xoauth2-msg.h"

#include <stdio.h>	/* snprintf only: nothing here prints */
#include <string.h>
#include <strings.h>

#include "bounded-writer.h"
#include "text-safe.h"
#include "token-syntax.h"

const char *
mb_xo_mech_name(enum mb_xo_mech mech)
{
	return mech == MB_XO_OAUTHBEARER ? "OAUTHBEARER" : "XOAUTH2";
}

static unsigned
xo_port_digits(const char *s, size_t len)
{
	unsigned long v = 0;
	size_t i;

	if (len == 0 || len > 5)
		return 0;
	for (i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return 0;
		v = v * 10 + (unsigned long)(s[i] - '0');
	}
	return v > 0 && v <= 65535 ? (unsigned)v : 0;
}

/* libsasl2 documents ipremoteport as "a.b.c.d;p" or "[e:f:g:h::i];p"
 * (sasl.h, SASL_IPREMOTEPORT); lib/common.c also accepts the ':' form. */
unsigned
mb_xo_parse_port(const char *ipport, size_t len)
{
	size_t i, colons = 0, last_colon = 0;

	if (ipport == NULL)
		return 0;
	for (i = len; i > 0; i--) {
		if (ipport[i - 1] == ';')
			return xo_port_digits(ipport + i, len - i);
	}
	if (len > 0 && ipport[0] == '[') {
		for (i = 1; i + 1 < len; i++) {
			if (ipport[i] == ']' && ipport[i + 1] == ':')
				return xo_port_digits(ipport + i + 2,
						      len - i - 2);
		}
		return 0;
	}
	for (i = 0; i < len; i++) {
		if (ipport[i] == ':') {
			colons++;
			last_colon = i;
		}
	}
	if (colons != 1)
		return 0;
	return xo_port_digits(ipport + last_colon + 1, len - last_colon - 1);
}

bool
mb_xo_host_ok(const char *host, size_t len)
{
	size_t i;

	if (host == NULL || len == 0 || len > 255)
		return false;
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)host[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		      (c >= '0' && c <= '9') || c == '.' || c == '-' ||
		      c == '_' || c == ':' || c == '[' || c == ']'))
			return false;
	}
	return true;
}

const char *
mb_xo_check_user_ascii(const char *user, size_t len, bool *ascii_r)
{
	unsigned char high = 0;
	size_t i;

	*ascii_r = false;
	if (user == NULL || len == 0)
		return "is empty";
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)user[i];

		if (c < 0x20 || c == 0x7f) {
			/* The separator wins wherever it is. */
			if (memchr(user + i, '\001', len - i) != NULL)
				return "contains the ^A (0x01) separator of "
				       "the protocol";
			return "contains a control character";
		}
		high |= c;
	}
	*ascii_r = (high & 0x80) == 0;
	return NULL;
}

const char *
mb_xo_check_user(const char *user, size_t len)
{
	bool ascii;

	return mb_xo_check_user_ascii(user, len, &ascii);
}

const char *
mb_xo_check_token(const char *token, size_t len, bool *strict_r)
{
	enum mb_token_syntax syn = mb_token_syntax(token, len);

	*strict_r = syn == MB_TOKEN_B64TOKEN;
	return mb_token_syntax_why(syn);
}

char *
mb_xo_sanitize(char *buf, size_t size, const char *src, size_t len)
{
	mb_text_safe(buf, size, src, len, true);
	return buf;
}

/*
 * The error challenge.
 *
 * RFC 7628, section 3.2.2: "The server response is a JSON [RFC7159] object
 * containing the following members:
 *	status: the authorization error code (REQUIRED) [...]
 *	scope: an OAuth scope that is valid to access the service (OPTIONAL)
 *	openid-configuration: the URI of an OpenID Provider Configuration
 *	Document (OPTIONAL)"
 * Google's XOAUTH2 adds "schemes" and uses an HTTP status ("401", "400").
 *
 * The JSON subset understood here (RFC 8259): an object at the top level;
 * members whose values may be strings (all escapes, \uXXXX with surrogate
 * pairs decoded to UTF-8), numbers, true/false/null, nested objects and
 * arrays (skipped, at most 32 levels).  Only string and number values of
 * the four known keys are kept.  Anything else is "not JSON".
 */
#define XO_DEPTH_MAX 32
#define XO_STR_MAX 512		/* larger than every field of mb_xo_error */

struct xo_json {
	const unsigned char *p;
	size_t len;
	size_t pos;
	int depth;
};

static void
xo_ws(struct xo_json *j)
{
	while (j->pos < j->len && (j->p[j->pos] == ' ' ||
				   j->p[j->pos] == '\t' ||
				   j->p[j->pos] == '\n' ||
				   j->p[j->pos] == '\r'))
		j->pos++;
}

static int
xo_hex4(struct xo_json *j, unsigned long *v)
{
	size_t i;

	if (j->len - j->pos < 4)
		return -1;
	*v = 0;
	for (i = 0; i < 4; i++) {
		unsigned char c = j->p[j->pos + i];

		*v <<= 4;
		if (c >= '0' && c <= '9')
			*v |= (unsigned long)(c - '0');
		else if (c >= 'a' && c <= 'f')
			*v |= (unsigned long)(c - 'a' + 10);
		else if (c >= 'A' && c <= 'F')
			*v |= (unsigned long)(c - 'A' + 10);
		else
			return -1;
	}
	j->pos += 4;
	return 0;
}

static void
xo_out_byte(char *out, size_t *olen, unsigned char c)
{
	if (out != NULL && *olen < XO_STR_MAX)
		out[*olen] = (char)c;
	(*olen)++;
}

static void
xo_out_cp(char *out, size_t *olen, unsigned long cp)
{
	if (cp < 0x80) {
		xo_out_byte(out, olen, (unsigned char)cp);
	} else if (cp < 0x800) {
		xo_out_byte(out, olen, (unsigned char)(0xc0 | (cp >> 6)));
		xo_out_byte(out, olen, (unsigned char)(0x80 | (cp & 0x3f)));
	} else if (cp < 0x10000) {
		xo_out_byte(out, olen, (unsigned char)(0xe0 | (cp >> 12)));
		xo_out_byte(out, olen,
			    (unsigned char)(0x80 | ((cp >> 6) & 0x3f)));
		xo_out_byte(out, olen, (unsigned char)(0x80 | (cp & 0x3f)));
	} else {
		xo_out_byte(out, olen, (unsigned char)(0xf0 | (cp >> 18)));
		xo_out_byte(out, olen,
			    (unsigned char)(0x80 | ((cp >> 12) & 0x3f)));
		xo_out_byte(out, olen,
			    (unsigned char)(0x80 | ((cp >> 6) & 0x3f)));
		xo_out_byte(out, olen, (unsigned char)(0x80 | (cp & 0x3f)));
	}
}

/* A string at pos (on the opening quote).  Decodes into out (NULL: skip;
 * else XO_STR_MAX bytes, *olen gets the full decoded length).  Returns 0,
 * or -1 on a syntax error. */
static int
xo_string(struct xo_json *j, char *out, size_t *olen)
{
	*olen = 0;
	j->pos++;
	while (j->pos < j->len) {
		unsigned char c = j->p[j->pos++];
		unsigned long cp, lo;

		if (c == '"')
			return 0;
		if (c < 0x20)
			return -1;
		if (c != '\\') {
			xo_out_byte(out, olen, c);
			continue;
		}
		if (j->pos >= j->len)
			return -1;
		c = j->p[j->pos++];
		switch (c) {
		case '"': case '\\': case '/':
			xo_out_byte(out, olen, c);
			break;
		case 'b': xo_out_byte(out, olen, '\b'); break;
		case 'f': xo_out_byte(out, olen, '\f'); break;
		case 'n': xo_out_byte(out, olen, '\n'); break;
		case 'r': xo_out_byte(out, olen, '\r'); break;
		case 't': xo_out_byte(out, olen, '\t'); break;
		case 'u':
			if (xo_hex4(j, &cp) < 0)
				return -1;
			if (cp >= 0xd800 && cp <= 0xdbff &&
			    j->len - j->pos >= 6 && j->p[j->pos] == '\\' &&
			    j->p[j->pos + 1] == 'u') {
				size_t save = j->pos;

				j->pos += 2;
				if (xo_hex4(j, &lo) < 0)
					return -1;
				if (lo >= 0xdc00 && lo <= 0xdfff) {
					cp = 0x10000 + ((cp - 0xd800) << 10) +
					     (lo - 0xdc00);
				} else {
					j->pos = save;
					cp = 0xfffd;
				}
			} else if (cp >= 0xd800 && cp <= 0xdfff) {
				cp = 0xfffd;	/* lone surrogate */
			}
			xo_out_cp(out, olen, cp);
			break;
		default:
			return -1;
		}
	}
	return -1;
}

static int xo_value(struct xo_json *j, char *out, size_t *olen);

/* An object or an array at pos; skipped. */
static int
xo_container(struct xo_json *j)
{
	unsigned char close = j->p[j->pos] == '{' ? '}' : ']';
	size_t dummy;

	if (++j->depth > XO_DEPTH_MAX)
		return -1;
	j->pos++;
	xo_ws(j);
	if (j->pos < j->len && j->p[j->pos] == close) {
		j->pos++;
		j->depth--;
		return 0;
	}
	for (;;) {
		if (close == '}') {
			xo_ws(j);
			if (j->pos >= j->len || j->p[j->pos] != '"' ||
			    xo_string(j, NULL, &dummy) < 0)
				return -1;
			xo_ws(j);
			if (j->pos >= j->len || j->p[j->pos] != ':')
				return -1;
			j->pos++;
		}
		if (xo_value(j, NULL, &dummy) < 0)
			return -1;
		xo_ws(j);
		if (j->pos >= j->len)
			return -1;
		if (j->p[j->pos] == close) {
			j->pos++;
			j->depth--;
			return 0;
		}
		if (j->p[j->pos] != ',')
			return -1;
		j->pos++;
	}
}

static int
xo_literal(struct xo_json *j, const char *word)
{
	size_t n = strlen(word);

	if (j->len - j->pos < n || memcmp(j->p + j->pos, word, n) != 0)
		return -1;
	j->pos += n;
	return 0;
}

/* number = [ minus ] int [ frac ] [ exp ] (checked loosely: the digits
 * and signs of a number, at least one digit). */
static int
xo_number(struct xo_json *j, char *out, size_t *olen)
{
	size_t start = j->pos, digits = 0;

	while (j->pos < j->len) {
		unsigned char c = j->p[j->pos];

		if (c >= '0' && c <= '9')
			digits++;
		else if (c != '-' && c != '+' && c != '.' && c != 'e' &&
			 c != 'E')
			break;
		j->pos++;
	}
	if (digits == 0)
		return -1;
	for (; start < j->pos; start++)
		xo_out_byte(out, olen, j->p[start]);
	return 0;
}

/* A value at pos (after blanks).  Strings and numbers are copied to out
 * when out != NULL; *olen is 0 for the other kinds. */
static int
xo_value(struct xo_json *j, char *out, size_t *olen)
{
	*olen = 0;
	xo_ws(j);
	if (j->pos >= j->len)
		return -1;
	switch (j->p[j->pos]) {
	case '"':
		return xo_string(j, out, olen);
	case '{':
	case '[':
		return xo_container(j);
	case 't':
		return xo_literal(j, "true");
	case 'f':
		return xo_literal(j, "false");
	case 'n':
		return xo_literal(j, "null");
	default:
		return xo_number(j, out, olen);
	}
}

static void
xo_store(char *field, size_t size, const char *val, size_t len)
{
	mb_xo_sanitize(field, size, val, len < XO_STR_MAX ? len : XO_STR_MAX);
	/* A value cut while decoding must still show that it was cut. */
	if (len > XO_STR_MAX && size > 4 && strlen(field) + 3 < size &&
	    (strlen(field) < 3 ||
	     strcmp(field + strlen(field) - 3, "...") != 0))
		memcpy(field + strlen(field), "...", 4);
}

static int
xo_top_object(struct xo_json *j, struct mb_xo_error *err)
{
	char key[XO_STR_MAX], val[XO_STR_MAX];
	size_t klen, vlen;

	xo_ws(j);
	if (j->pos >= j->len || j->p[j->pos] != '{')
		return -1;
	j->pos++;
	j->depth = 1;
	xo_ws(j);
	if (j->pos < j->len && j->p[j->pos] == '}') {
		j->pos++;
		return 0;
	}
	for (;;) {
		char *field = NULL;
		size_t fsize = 0;

		xo_ws(j);
		if (j->pos >= j->len || j->p[j->pos] != '"' ||
		    xo_string(j, key, &klen) < 0)
			return -1;
		xo_ws(j);
		if (j->pos >= j->len || j->p[j->pos] != ':')
			return -1;
		j->pos++;
		if (klen == 6 && memcmp(key, "status", 6) == 0) {
			field = err->status;
			fsize = sizeof(err->status);
		} else if (klen == 7 && memcmp(key, "schemes", 7) == 0) {
			field = err->schemes;
			fsize = sizeof(err->schemes);
		} else if (klen == 5 && memcmp(key, "scope", 5) == 0) {
			field = err->scope;
			fsize = sizeof(err->scope);
		} else if (klen == 20 &&
			   memcmp(key, "openid-configuration", 20) == 0) {
			field = err->openid_configuration;
			fsize = sizeof(err->openid_configuration);
		}
		if (xo_value(j, val, &vlen) < 0)
			return -1;
		if (field != NULL)
			xo_store(field, fsize, val, vlen);
		xo_ws(j);
		if (j->pos >= j->len)
			return -1;
		if (j->p[j->pos] == '}') {
			j->pos++;
			return 0;
		}
		if (j->p[j->pos] != ',')
			return -1;
		j->pos++;
	}
}

void
mb_xo_parse_error(const char *data, size_t len, struct mb_xo_error *err)
{
	struct xo_json j = { (const unsigned char *)data, len, 0, 0 };
	bool ok = false;

	memset(err, 0, sizeof(*err));
	err->raw_len = len;
	if (data == NULL)
		len = j.len = 0;
	if (len > MB_XO_CHALLENGE_MAX) {
		err->oversized = true;
	} else if (xo_top_object(&j, err) == 0) {
		/* Tolerate trailing blanks and NULs, nothing else. */
		while (j.pos < j.len && (j.p[j.pos] == '\0' ||
					 j.p[j.pos] == ' ' ||
					 j.p[j.pos] == '\t' ||
					 j.p[j.pos] == '\r' ||
					 j.p[j.pos] == '\n'))
			j.pos++;
		ok = j.pos == j.len;
	}
	if (ok) {
		err->is_json = true;
		return;
	}
	memset(err, 0, sizeof(*err));
	err->raw_len = len;
	err->oversized = len > MB_XO_CHALLENGE_MAX;
	/* 96 input bytes are plenty to recognise a message. */
	mb_xo_sanitize(err->raw, sizeof(err->raw), data, len < 96 ? len : 96);
	if (len > 96 && strlen(err->raw) + 3 < sizeof(err->raw) &&
	    strcmp(err->raw + strlen(err->raw) - 3, "...") != 0)
		memcpy(err->raw + strlen(err->raw), "...", 4);
}

/* Why the server said no, from its status (RFC 6750 section 3.1 error
 * codes for OAUTHBEARER, HTTP statuses for Google's XOAUTH2). */
static const char *
xo_explain(const char *status)
{
	if (status[0] == '\0')
		return "the server gave no reason";
	if (strcmp(status, "401") == 0)
		return "the token is expired or revoked";
	if (strcasecmp(status, "invalid_token") == 0)
		return "the token is expired, revoked or invalid";
	if (strcmp(status, "400") == 0)
		return "the token is invalid, expired or revoked";
	if (strcmp(status, "403") == 0 ||
	    strcasecmp(status, "insufficient_scope") == 0)
		return "the token does not carry the scope the server requires";
	if (strcasecmp(status, "invalid_request") == 0)
		return "the server considered the request malformed";
	if (status[0] == '5' && strlen(status) == 3)
		return "the server could not check the token (a temporary "
		       "failure on its side)";
	return "the server gave an unrecognised status";
}

char *
mb_xo_describe_error(char *buf, size_t size, enum mb_xo_mech mech,
		     const char *user, size_t user_len,
		     const struct mb_xo_error *err)
{
	char who[160];
	struct mb_bw w = { buf, size, 0 };
	char num[32];

	mb_xo_sanitize(who, sizeof(who), user != NULL ? user : "",
		       user != NULL ? user_len : 0);
	mb_bw_puts(&w, mb_xo_mech_name(mech));
	mb_bw_puts(&w, ": server rejected the access token for ");
	mb_bw_puts(&w, who[0] != '\0' ? who : "(no user)");
	if (!err->is_json) {
		snprintf(num, sizeof(num), "%lu", (unsigned long)err->raw_len);
		if (err->oversized)
			mb_bw_puts(&w, " (its error challenge is too large to "
				    "decode: ");
		else
			mb_bw_puts(&w, " (its error challenge is not JSON: ");
		mb_bw_puts(&w, num);
		mb_bw_puts(&w, " bytes, \"");
		mb_bw_puts(&w, err->raw);
		mb_bw_puts(&w, "\")");
		mb_bw_finish(&w);
		return buf;
	}
	mb_bw_puts(&w, " (status ");
	mb_bw_puts(&w, err->status[0] != '\0' ? err->status : "missing");
	if (err->scope[0] != '\0') {
		mb_bw_puts(&w, ", scope ");
		mb_bw_puts(&w, err->scope);
	}
	if (err->openid_configuration[0] != '\0') {
		mb_bw_puts(&w, ", openid-configuration ");
		mb_bw_puts(&w, err->openid_configuration);
	}
	mb_bw_puts(&w, "): ");
	mb_bw_puts(&w, xo_explain(err->status));
	mb_bw_finish(&w);
	return buf;
}
