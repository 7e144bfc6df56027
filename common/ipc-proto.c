/* SPDX-License-Identifier: MIT */
#include <config.h>

#include "ipc-proto.h"

#include <string.h>

#include "token-syntax.h"

/* Pure code linked into the plugin: no stdio, no allocation.  The
 * grammar is in ipc-proto.h and doc/protocol.md. */

static const char *const mb_ipc_err_names[] = {
	[MB_IPC_ERR_UNKNOWN_ACCOUNT] = "unknown-account",
	[MB_IPC_ERR_DENIED] = "denied",
	[MB_IPC_ERR_NEEDS_AUTHORIZE] = "needs-authorize",
	[MB_IPC_ERR_UNAVAILABLE] = "unavailable",
	[MB_IPC_ERR_BAD_REQUEST] = "bad-request",
	[MB_IPC_ERR_INTERNAL] = "internal",
	[MB_IPC_ERR_LOGIN_MISMATCH] = "login-mismatch",
};

#define MB_IPC_N_ERR \
	(sizeof(mb_ipc_err_names) / sizeof(mb_ipc_err_names[0]))

bool
mb_ipc_valid_account(const char *s, size_t len)
{
	return mb_account_name_valid(s, len);
}

bool
mb_ipc_valid_token(const char *s, size_t len)
{
	return mb_token_valid(s, len);
}

bool
mb_ipc_valid_login(const char *s, size_t len)
{
	if (s == NULL || len == 0 || len > MB_IPC_LOGIN_MAX)
		return false;
	for (size_t i = 0; i < len; i++) {
		if (s[i] < 0x21 || s[i] > 0x7e)
			return false;
	}
	return true;
}

const char *
mb_ipc_err_name(enum mb_ipc_err code)
{
	if ((size_t)code < MB_IPC_N_ERR && code > 0)
		return mb_ipc_err_names[code];
	return "internal";
}

/* A tiny bounded string builder. */
struct mb_ipc_out {
	char *buf;
	size_t size;
	size_t len;
	bool overflow;
};

static void
out_mem(struct mb_ipc_out *o, const char *s, size_t n)
{
	if (o->overflow)
		return;
	if (n >= o->size - o->len) {
		o->overflow = true;
		return;
	}
	memcpy(o->buf + o->len, s, n);
	o->len += n;
	o->buf[o->len] = '\0';
}

static void
out_str(struct mb_ipc_out *o, const char *s)
{
	out_mem(o, s, strlen(s));
}

static void
out_num(struct mb_ipc_out *o, long long v)
{
	char digits[24];
	size_t n = sizeof(digits);

	/* v >= 0 checked by the caller */
	do {
		digits[--n] = (char)('0' + v % 10);
		v /= 10;
	} while (v > 0 && n > 0);
	out_mem(o, digits + n, sizeof(digits) - n);
}

static int
out_finish(struct mb_ipc_out *o)
{
	out_mem(o, "\n", 1);
	if (o->overflow || o->len > MB_IPC_LINE_MAX) {
		o->buf[0] = '\0';
		return -1;
	}
	return (int)o->len;
}

static bool
out_init(struct mb_ipc_out *o, char *buf, size_t size)
{
	o->buf = buf;
	o->size = size;
	o->len = 0;
	o->overflow = false;
	if (buf == NULL || size == 0)
		return false;
	buf[0] = '\0';
	return true;
}

int
mb_ipc_format_token_request(char *buf, size_t size, const char *account)
{
	struct mb_ipc_out o;

	if (!out_init(&o, buf, size))
		return -1;
	if (account == NULL || !mb_ipc_valid_account(account, strlen(account)))
		return -1;
	out_str(&o, MB_IPC_VERSION " TOKEN ");
	out_str(&o, account);
	return out_finish(&o);
}

int
mb_ipc_format_rejected_request(char *buf, size_t size, const char *account,
			       const char *token, const char *login)
{
	struct mb_ipc_out o;

	if (!out_init(&o, buf, size))
		return -1;
	if (account == NULL || !mb_ipc_valid_account(account, strlen(account)))
		return -1;
	if (token == NULL || !mb_ipc_valid_token(token, strlen(token)))
		return -1;
	if (login != NULL && !mb_ipc_valid_login(login, strlen(login)))
		return -1;
	out_str(&o, MB_IPC_VERSION " REJECTED ");
	out_str(&o, account);
	out_str(&o, " ");
	out_str(&o, token);
	if (login != NULL) {
		out_str(&o, " ");
		out_str(&o, login);
	}
	return out_finish(&o);
}

int
mb_ipc_format_ok_checked(char *buf, size_t size, long long expires_at,
			 const char *token)
{
	struct mb_ipc_out o;

	if (!out_init(&o, buf, size))
		return -1;
	if (expires_at < 0 || expires_at > MB_IPC_EXPIRES_MAX ||
	    token == NULL)
		return -1;
	out_str(&o, MB_IPC_VERSION " OK ");
	out_num(&o, expires_at);
	out_str(&o, " ");
	out_str(&o, token);
	return out_finish(&o);
}

int
mb_ipc_format_ok(char *buf, size_t size, long long expires_at,
		 const char *token)
{
	if (token == NULL || !mb_ipc_valid_token(token, strlen(token))) {
		if (buf != NULL && size > 0)
			buf[0] = '\0';
		return -1;
	}
	return mb_ipc_format_ok_checked(buf, size, expires_at, token);
}

int
mb_ipc_format_done(char *buf, size_t size)
{
	struct mb_ipc_out o;

	if (!out_init(&o, buf, size))
		return -1;
	out_str(&o, MB_IPC_VERSION " DONE");
	return out_finish(&o);
}

int
mb_ipc_format_err(char *buf, size_t size, enum mb_ipc_err code,
		  const char *text)
{
	struct mb_ipc_out o;
	const char *name = mb_ipc_err_name(code);

	if (!out_init(&o, buf, size))
		return -1;
	out_str(&o, MB_IPC_VERSION " ERR ");
	out_str(&o, name);
	out_str(&o, " ");
	if (text == NULL || text[0] == '\0')
		text = name;
	for (size_t i = 0; text[i] != '\0' && i < MB_IPC_TEXT_MAX; i++) {
		char c = text[i];

		if (c < 0x20 || c > 0x7e)
			c = '?';
		out_mem(&o, &c, 1);
	}
	return out_finish(&o);
}

/* Common framing: exactly one LF, at the end, no NUL, not too long.
 * Splits the line at single spaces into at most max_fields fields (the
 * last field takes the rest of the line).  Returns the number of fields
 * or -1. */
static int
split_line(char *line, size_t len, char **fields, int max_fields,
	   const char **why_r)
{
	int n = 0;
	size_t start = 0;

	if (line == NULL || len == 0 || line[len - 1] != '\n') {
		*why_r = "not one line ending with LF";
		return -1;
	}
	if (len > MB_IPC_LINE_MAX) {
		*why_r = "line too long";
		return -1;
	}
	if (memchr(line, '\0', len) != NULL ||
	    memchr(line, '\n', len - 1) != NULL) {
		*why_r = "NUL or LF inside the line";
		return -1;
	}
	line[len - 1] = '\0';
	for (size_t i = 0; i < len; i++) {
		if (n == max_fields - 1) {
			fields[n++] = line + start;
			break;
		}
		if (line[i] == ' ' || line[i] == '\0') {
			line[i] = '\0';
			fields[n++] = line + start;
			start = i + 1;
		}
	}
	if (strcmp(fields[0], MB_IPC_VERSION) != 0) {
		*why_r = "unsupported protocol version (want " MB_IPC_VERSION
			")";
		return -1;
	}
	return n;
}

int
mb_ipc_parse_request(char *line, size_t len, struct mb_ipc_request *req,
		     const char **why_r)
{
	char *f[5];
	int n;

	req->type = 0;
	req->account = NULL;
	req->token = NULL;
	req->login = NULL;
	n = split_line(line, len, f, 5, why_r);
	if (n < 0)
		return -1;
	if (n < 3) {
		*why_r = "missing fields";
		return -1;
	}
	if (!mb_ipc_valid_account(f[2], strlen(f[2]))) {
		*why_r = "invalid account name";
		return -1;
	}
	if (strcmp(f[1], "TOKEN") == 0) {
		if (n != 3) {
			*why_r = "extra fields after TOKEN <account>";
			return -1;
		}
		req->type = MB_IPC_REQ_TOKEN;
	} else if (strcmp(f[1], "REJECTED") == 0) {
		if (n < 4 || !mb_ipc_valid_token(f[3], strlen(f[3]))) {
			*why_r = "REJECTED needs <account> <token> [<login>]";
			return -1;
		}
		if (n == 5 && !mb_ipc_valid_login(f[4], strlen(f[4]))) {
			*why_r = "invalid login name";
			return -1;
		}
		req->type = MB_IPC_REQ_REJECTED;
		req->token = f[3];
		req->login = n == 5 ? f[4] : NULL;
	} else {
		*why_r = "unknown request";
		return -1;
	}
	req->account = f[2];
	return 0;
}

static int
parse_expires(const char *s, long long *out)
{
	long long v = 0;
	size_t i;

	for (i = 0; s[i] != '\0'; i++) {
		if (s[i] < '0' || s[i] > '9' || i >= 12)
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	if (i == 0 || v > MB_IPC_EXPIRES_MAX)
		return -1;
	*out = v;
	return 0;
}

static bool
valid_code_name(const char *s)
{
	size_t i;

	for (i = 0; s[i] != '\0'; i++) {
		if (!((s[i] >= 'a' && s[i] <= 'z') || s[i] == '-') || i >= 32)
			return false;
	}
	return i > 0;
}

int
mb_ipc_parse_response(char *line, size_t len, struct mb_ipc_response *resp,
		      const char **why_r)
{
	char *f[4];
	int n;

	memset(resp, 0, sizeof(*resp));
	n = split_line(line, len, f, 4, why_r);
	if (n < 0)
		return -1;
	if (n < 2) {
		*why_r = "missing fields";
		return -1;
	}
	if (strcmp(f[1], "DONE") == 0 && n == 2) {
		resp->type = MB_IPC_RESP_DONE;
		return 0;
	}
	if (strcmp(f[1], "OK") == 0 && n == 4) {
		if (parse_expires(f[2], &resp->expires_at) < 0) {
			*why_r = "invalid expiry time";
			return -1;
		}
		if (!mb_ipc_valid_token(f[3], strlen(f[3]))) {
			*why_r = "invalid token";
			return -1;
		}
		resp->type = MB_IPC_RESP_OK;
		resp->token = f[3];
		return 0;
	}
	if (strcmp(f[1], "ERR") == 0 && n == 4) {
		size_t tlen = strlen(f[3]);

		if (!valid_code_name(f[2])) {
			*why_r = "invalid error code";
			return -1;
		}
		if (tlen == 0 || tlen > MB_IPC_TEXT_MAX) {
			*why_r = "invalid error text";
			return -1;
		}
		for (size_t i = 0; i < tlen; i++) {
			if (f[3][i] < 0x20 || f[3][i] > 0x7e) {
				*why_r = "unprintable error text";
				return -1;
			}
		}
		resp->type = MB_IPC_RESP_ERR;
		resp->code = MB_IPC_ERR_OTHER;
		for (size_t c = 1; c < MB_IPC_N_ERR; c++) {
			if (strcmp(f[2], mb_ipc_err_names[c]) == 0)
				resp->code = (enum mb_ipc_err)c;
		}
		resp->code_name = f[2];
		resp->text = f[3];
		return 0;
	}
	*why_r = "unknown response";
	return -1;
}
