/* SPDX-License-Identifier: MIT */
#ifndef MB_IPC_PROTO_H
#define MB_IPC_PROTO_H

/* The plugin <-> `mailbearer serve` wire protocol (doc/protocol.md): one
 * request line and one response line per UNIX stream connection.
 *
 *   request  = "MAILBEARER1 TOKEN " account LF
 *            / "MAILBEARER1 REJECTED " account SP token [SP login] LF
 *   response = "MAILBEARER1 OK " expires-at SP token LF
 *            / "MAILBEARER1 DONE" LF
 *            / "MAILBEARER1 ERR " code SP text LF
 *
 * Pure code shared by the plugin and the helper: no allocation, no stdio,
 * no abort; every function works on caller-provided buffers. */

#include <stdbool.h>
#include <stddef.h>

#include "account-name.h"

#define MB_IPC_VERSION		"MAILBEARER1"
/* Longest line in either direction, the final LF included. */
#define MB_IPC_LINE_MAX		32768
/* The one account-name rule (account-name.h) bounds it. */
#define MB_IPC_ACCOUNT_MAX	MB_ACCOUNT_NAME_MAX
#define MB_IPC_LOGIN_MAX	255
#define MB_IPC_TEXT_MAX		1024
/* Largest expires-at accepted (year 33658): 12 digits at most. */
#define MB_IPC_EXPIRES_MAX	999999999999LL

enum mb_ipc_req_type {
	MB_IPC_REQ_TOKEN = 1,
	MB_IPC_REQ_REJECTED,
};

enum mb_ipc_resp_type {
	MB_IPC_RESP_OK = 1,
	MB_IPC_RESP_DONE,
	MB_IPC_RESP_ERR,
};

enum mb_ipc_err {
	MB_IPC_ERR_UNKNOWN_ACCOUNT = 1,	/* "unknown-account" */
	MB_IPC_ERR_DENIED,		/* "denied" */
	MB_IPC_ERR_NEEDS_AUTHORIZE,	/* "needs-authorize" */
	MB_IPC_ERR_UNAVAILABLE,		/* "unavailable" */
	MB_IPC_ERR_BAD_REQUEST,		/* "bad-request" */
	MB_IPC_ERR_INTERNAL,		/* "internal" */
	/* REJECTED sent with a login name that is not the account's user:
	 * the likely cause of the refusal; nothing was refreshed. */
	MB_IPC_ERR_LOGIN_MISMATCH,	/* "login-mismatch" */
	/* A well-formed code this version does not know (a newer helper);
	 * treated like "internal". */
	MB_IPC_ERR_OTHER,
};

/* Fields point into the parsed line (which the parser NUL-terminates in
 * place); they live as long as the caller's buffer. */
struct mb_ipc_request {
	enum mb_ipc_req_type type;
	const char *account;
	const char *token;	/* REJECTED only, else NULL */
	/* REJECTED only: the authentication name the client sent with the
	 * token (user= / a=).  NULL if absent (older plugins). */
	const char *login;
};

struct mb_ipc_response {
	enum mb_ipc_resp_type type;
	long long expires_at;	/* OK: unix seconds, 0 = unknown */
	const char *token;	/* OK */
	enum mb_ipc_err code;	/* ERR */
	const char *code_name;	/* ERR: as received */
	const char *text;	/* ERR: printable ASCII, <= MB_IPC_TEXT_MAX */
};

/* account, as defined once in account-name.h. */
bool mb_ipc_valid_account(const char *s, size_t len);
/* token, as defined once in token-syntax.h (1*16384 VCHAR). */
bool mb_ipc_valid_token(const char *s, size_t len);
/* login = 1*255( %x21-7E ): printable ASCII without space. */
bool mb_ipc_valid_login(const char *s, size_t len);
/* The wire name of a code ("unknown-account"...); never NULL. */
const char *mb_ipc_err_name(enum mb_ipc_err code);

/* The format functions write one NUL-terminated line (LF included) into
 * buf[0..size) and return its length without the NUL, or -1 when an
 * argument is invalid or the line does not fit (buf then holds ""). */
int mb_ipc_format_token_request(char *buf, size_t size, const char *account);
/* login may be NULL (the field is then omitted); a non-NULL login that
 * is not valid makes the call fail like any other invalid argument. */
int mb_ipc_format_rejected_request(char *buf, size_t size,
				   const char *account, const char *token,
				   const char *login);
int mb_ipc_format_ok(char *buf, size_t size, long long expires_at,
		     const char *token);
/* mb_ipc_format_ok() for a token the caller has already checked with
 * mb_ipc_valid_token() (serve's cache checks each token once, when it
 * arrives, instead of on every answer). */
int mb_ipc_format_ok_checked(char *buf, size_t size, long long expires_at,
			     const char *token);
int mb_ipc_format_done(char *buf, size_t size);
/* text is made safe for the wire: bytes outside printable ASCII become
 * '?', it is cut at MB_IPC_TEXT_MAX, and an empty or NULL text becomes the
 * code's name.  Callers must never pass a secret. */
int mb_ipc_format_err(char *buf, size_t size, enum mb_ipc_err code,
		      const char *text);

/* Both parsers take exactly one line: line[0..len) ends with the only LF.
 * They NUL-terminate fields in place.  Return 0, or -1 with *why_r set to
 * a static, secret-free reason ("line too long", ...). */
int mb_ipc_parse_request(char *line, size_t len, struct mb_ipc_request *req,
			 const char **why_r);
int mb_ipc_parse_response(char *line, size_t len,
			  struct mb_ipc_response *resp, const char **why_r);

#endif
