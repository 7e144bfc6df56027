/* SPDX-License-Identifier: MIT */
#include <config.h>

#include "initial-response.h"

#include <string.h>

#include "bounded-writer.h"

/* Google, "OAuth 2.0 Mechanism" (developers.google.com/gmail/imap/xoauth2-
 * protocol):
 *	base64("user=" {User} "^Aauth=Bearer " {Access Token} "^A^A") */
#define IR_XO_USER "user="
#define IR_XO_AUTH "\001auth=Bearer "
#define IR_AUTH "auth=Bearer "
#define IR_END "\001\001"
#define IR_LIT(p, s) (memcpy((p), (s), sizeof(s) - 1), (p) + sizeof(s) - 1)

size_t
mb_ir_xoauth2_len(size_t user_len, size_t token_len)
{
	return sizeof(IR_XO_USER) - 1 + user_len + sizeof(IR_XO_AUTH) - 1 +
	       token_len + sizeof(IR_END) - 1;
}

size_t
mb_ir_xoauth2(char *buf, size_t size, const char *user, size_t user_len,
	      const char *token, size_t token_len)
{
	struct mb_bw w = { buf, size, 0 };
	size_t n = mb_ir_xoauth2_len(user_len, token_len);

	if (size > n) {
		char *p = IR_LIT(buf, IR_XO_USER);

		if (user_len > 0)
			memcpy(p, user, user_len);
		p = IR_LIT(p + user_len, IR_XO_AUTH);
		memcpy(p, token, token_len);
		p = IR_LIT(p + token_len, IR_END);
		*p = '\0';
		return n;
	}
	mb_bw_puts(&w, "user=");
	mb_bw_put(&w, user, user_len);
	mb_bw_puts(&w, "\001auth=Bearer ");
	mb_bw_put(&w, token, token_len);
	mb_bw_puts(&w, "\001\001");
	return mb_bw_finish(&w);
}

/* The number of decimal digits of v (1..65535). */
static size_t
ir_port_len(unsigned v)
{
	return v >= 10000 ? 5 : v >= 1000 ? 4 : v >= 100 ? 3 : v >= 10 ? 2 : 1;
}

/* Decimal digits of v (1..65535) into num (6 bytes); returns the count. */
static size_t
ir_port(char num[6], unsigned v)
{
	size_t n = ir_port_len(v), i;

	for (i = n; i > 0; i--) {
		num[i - 1] = (char)('0' + v % 10);
		v /= 10;
	}
	num[n] = '\0';
	return n;
}

/* The length of user as a saslname: ',' and '=' take three bytes. */
static size_t
ir_saslname_len(const char *user, size_t user_len)
{
	const char *p, *end = user + user_len;
	size_t n = user_len;

	if (user_len == 0)
		return 0;
	for (p = user; (p = memchr(p, ',', (size_t)(end - p))) != NULL; p++)
		n += 2;
	for (p = user; (p = memchr(p, '=', (size_t)(end - p))) != NULL; p++)
		n += 2;
	return n;
}

static size_t
ir_oauthbearer_len(size_t sasl_len, const char *host, unsigned port,
		   size_t token_len)
{
	size_t n = sizeof("n,a=") - 1 + sasl_len + sizeof(",\001") - 1;

	if (host != NULL && host[0] != '\0')
		n += sizeof("host=") - 1 + strlen(host) + 1;
	if (port > 0 && port <= 65535)
		n += sizeof("port=") - 1 + ir_port_len(port) + 1;
	return n + sizeof(IR_AUTH) - 1 + token_len + sizeof(IR_END) - 1;
}

size_t
mb_ir_oauthbearer_len(const char *user, size_t user_len, const char *host,
		      unsigned port, size_t token_len)
{
	return ir_oauthbearer_len(ir_saslname_len(user, user_len), host, port,
				  token_len);
}

/* mb_ir_oauthbearer when buf holds the n bytes of the message and its
 * NUL; sasl_len is the length of user as a saslname. */
static size_t
ir_oauthbearer_fast(char *buf, size_t n, const char *user, size_t user_len,
		    size_t sasl_len, const char *host, unsigned port,
		    const char *token, size_t token_len)
{
	char *p = IR_LIT(buf, "n,a=");
	size_t i, from = 0;

	for (i = 0; sasl_len > user_len && i < user_len; i++) {
		if (user[i] != ',' && user[i] != '=')
			continue;
		memcpy(p, user + from, i - from);
		p += i - from;
		p = user[i] == ',' ? IR_LIT(p, "=2C") : IR_LIT(p, "=3D");
		from = i + 1;
	}
	if (user_len > from)
		memcpy(p, user + from, user_len - from);
	p = IR_LIT(p + user_len - from, ",\001");
	if (host != NULL && host[0] != '\0') {
		size_t hlen = strlen(host);

		p = IR_LIT(p, "host=");
		memcpy(p, host, hlen);
		p = IR_LIT(p + hlen, "\001");
	}
	if (port > 0 && port <= 65535) {
		p = IR_LIT(p, "port=");
		p += ir_port(p, port);
		p = IR_LIT(p, "\001");
	}
	p = IR_LIT(p, IR_AUTH);
	memcpy(p, token, token_len);
	p = IR_LIT(p + token_len, IR_END);
	*p = '\0';
	return n;
}

/* RFC 7628, section 3.1:
 *	kvsep          = %x01
 *	key            = 1*(ALPHA)
 *	value          = *(VCHAR / SP / HTAB / CR / LF )
 *	kvpair         = key "=" value kvsep
 *	client-resp    = (gs2-header kvsep *kvpair kvsep) / kvsep
 * with the gs2-header of RFC 5801 ("n," [ "a=" saslname ] ","), where
 *	saslname       = 1*(UTF8-char-safe / "=2C" / "=3D")
 * and the keys "host", "port" (RECOMMENDED) and "auth" ("Bearer " token). */
size_t
mb_ir_oauthbearer(char *buf, size_t size, const char *user, size_t user_len,
		  const char *host, unsigned port, const char *token,
		  size_t token_len)
{
	struct mb_bw w = { buf, size, 0 };
	char num[6];
	size_t i, n, sasl_len = ir_saslname_len(user, user_len);

	n = ir_oauthbearer_len(sasl_len, host, port, token_len);
	if (size > n)
		return ir_oauthbearer_fast(buf, n, user, user_len, sasl_len,
					   host, port, token, token_len);
	mb_bw_puts(&w, "n,a=");
	for (i = 0; i < user_len; i++) {
		if (user[i] == ',')
			mb_bw_puts(&w, "=2C");
		else if (user[i] == '=')
			mb_bw_puts(&w, "=3D");
		else
			mb_bw_put(&w, user + i, 1);
	}
	mb_bw_puts(&w, ",\001");
	if (host != NULL && host[0] != '\0') {
		mb_bw_puts(&w, "host=");
		mb_bw_puts(&w, host);
		mb_bw_puts(&w, "\001");
	}
	if (port > 0 && port <= 65535) {
		mb_bw_puts(&w, "port=");
		mb_bw_put(&w, num, ir_port(num, port));
		mb_bw_puts(&w, "\001");
	}
	mb_bw_puts(&w, "auth=Bearer ");
	mb_bw_put(&w, token, token_len);
	mb_bw_puts(&w, "\001\001");
	return mb_bw_finish(&w);
}
