/* SPDX-License-Identifier: MIT */
#ifndef MB_INITIAL_RESPONSE_H
#define MB_INITIAL_RESPONSE_H

/* The client's initial response of XOAUTH2 and OAUTHBEARER, built once
 * for the plugin (which sends it through libsasl2, whose protocol layer
 * does the base64) and for `mailbearer token --format` (which prints it
 * base64-encoded, common/base64.h).  Pure code: no allocation (the plugin
 * allocates through utils->malloc), no I/O.
 *
 * Both builders have snprintf semantics: they write at most size bytes
 * into buf, NUL-terminated when size > 0, and return the full length of
 * the message without the NUL; call once with size 0 to learn the size.
 * The caller owns buf and must wipe it: it holds the token.  They do not
 * check their arguments: callers check the user name and the token
 * (common/token-syntax.h) first.
 *
 * When buf holds the whole message (size greater than the length, which
 * the _len functions give without building anything), it is written in
 * one pass: each piece copied once, the token with one memcpy. */

#include <stddef.h>

/* Google's XOAUTH2:
 *	"user=" user ^A "auth=Bearer " token ^A ^A */
size_t mb_ir_xoauth2(char *buf, size_t size, const char *user,
		     size_t user_len, const char *token, size_t token_len);

/* The length mb_ir_xoauth2 returns, from the lengths alone. */
size_t mb_ir_xoauth2_len(size_t user_len, size_t token_len);

/* RFC 7628 OAUTHBEARER:
 *	"n,a=" saslname(user) "," ^A ["host=" host ^A] ["port=" port ^A]
 *	"auth=Bearer " token ^A ^A
 * host may be NULL or "" (left out), port 0 or above 65535 (left out).
 * ',' and '=' in the user are escaped as "=2C" and "=3D" (RFC 5801
 * saslname). */
size_t mb_ir_oauthbearer(char *buf, size_t size, const char *user,
			 size_t user_len, const char *host, unsigned port,
			 const char *token, size_t token_len);

/* The length mb_ir_oauthbearer returns, without building the message
 * (reads the user for its escapes and the host for its length). */
size_t mb_ir_oauthbearer_len(const char *user, size_t user_len,
			     const char *host, unsigned port,
			     size_t token_len);

#endif
