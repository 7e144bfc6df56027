#include <config.h>

#include "initial-response.h"

#include <string.h>

/* A bounded writer with snprintf semantics: len counts every byte asked
 * for, buf receives what fits (always NUL-terminated when size > 0). */
struct ir_writer {
	char *buf;
	size_t size;
	size_t len;
};

static void
ir_put(struct ir_writer *w, const char *s, size_t n)
{
	if (w->size > 0 && w->len < w->size - 1) {
		size_t room = w->size - 1 - w->len;

		memcpy(w->buf + w->len, s, n < room ? n : room);
	}
	w->len += n;
}

static void
ir_puts(struct ir_writer *w, const char *s)
{
	ir_put(w, s, strlen(s));
}

static size_t
ir_finish(struct ir_writer *w)
{
	if (w->size > 0)
		w->buf[w->len < w->size - 1 ? w->len : w->size - 1] = '\0';
	return w->len;
}

/* Google, "OAuth 2.0 Mechanism" (developers.google.com/gmail/imap/xoauth2-
 * protocol):
 *	base64("user=" {User} "^Aauth=Bearer " {Access Token} "^A^A") */
size_t
mb_ir_xoauth2(char *buf, size_t size, const char *user, size_t user_len,
	      const char *token, size_t token_len)
{
	struct ir_writer w = { buf, size, 0 };

	ir_puts(&w, "user=");
	ir_put(&w, user, user_len);
	ir_puts(&w, "\001auth=Bearer ");
	ir_put(&w, token, token_len);
	ir_puts(&w, "\001\001");
	return ir_finish(&w);
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
	struct ir_writer w = { buf, size, 0 };
	char num[6];
	size_t i;

	ir_puts(&w, "n,a=");
	for (i = 0; i < user_len; i++) {
		if (user[i] == ',')
			ir_puts(&w, "=2C");
		else if (user[i] == '=')
			ir_puts(&w, "=3D");
		else
			ir_put(&w, user + i, 1);
	}
	ir_puts(&w, ",\001");
	if (host != NULL && host[0] != '\0') {
		ir_puts(&w, "host=");
		ir_puts(&w, host);
		ir_puts(&w, "\001");
	}
	if (port > 0 && port <= 65535) {
		ir_puts(&w, "port=");
		ir_put(&w, num, ir_port(num, port));
		ir_puts(&w, "\001");
	}
	ir_puts(&w, "auth=Bearer ");
	ir_put(&w, token, token_len);
	ir_puts(&w, "\001\001");
	return ir_finish(&w);
}
