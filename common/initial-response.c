#include <config.h>

#include "initial-response.h"

#include <string.h>

#include "bounded-writer.h"

/* Google, "OAuth 2.0 Mechanism" (developers.google.com/gmail/imap/xoauth2-
 * protocol):
 *	base64("user=" {User} "^Aauth=Bearer " {Access Token} "^A^A") */
size_t
mb_ir_xoauth2(char *buf, size_t size, const char *user, size_t user_len,
	      const char *token, size_t token_len)
{
	struct mb_bw w = { buf, size, 0 };

	mb_bw_puts(&w, "user=");
	mb_bw_put(&w, user, user_len);
	mb_bw_puts(&w, "\001auth=Bearer ");
	mb_bw_put(&w, token, token_len);
	mb_bw_puts(&w, "\001\001");
	return mb_bw_finish(&w);
}

/* Decimal digits of v (1..65535) into num (6 bytes); returns the count. */
static size_t
ir_port(char num[6], unsigned v)
{
	char rev[5];
	size_t n = 0, i;

	do {
		rev[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v > 0 && n < sizeof(rev));
	for (i = 0; i < n; i++)
		num[i] = rev[n - 1 - i];
	num[n] = '\0';
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
	size_t i;

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
