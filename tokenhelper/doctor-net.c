/* SPDX-License-Identifier: MIT */
#include <config.h>

/* doctor: the network checks, through libcurl (tokenhelper/http.c).
 *   - The token endpoint: a HEAD request with the account's CA and
 *     timeouts.  It proves DNS, the route and the TLS verification the
 *     refresh needs, and spends nothing: no form, no token.
 *   - --login: a real XOAUTH2 login (libcurl's IMAP/SMTP SASL with
 *     CURLOPT_XOAUTH2_BEARER), stopping after authentication
 *     (CURLOPT_CONNECT_ONLY).  Only what the server sends is kept (never
 *     what we send, which holds the token); its error challenge is
 *     decoded, and Microsoft's final replies are mapped to advice.
 *     STARTTLS is required unless the URL's host is exactly loopback
 *     (mb_http_mail_url), and every form of the token a server could echo
 *     is masked in what is printed. */

#include <ctype.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base64.h"
#include "doctor.h"
#include "http.h"
#include "initial-response.h"
#include "refresh.h"
#include "wipe.h"
#include "xalloc.h"

/* login: the CA came from --ca-file (doctor --login), else from the
 * account's ca_file (the token endpoint). */
static const char *
doc_net_fix(enum mb_http_fail f, bool login, bool have_ca)
{
	switch (f) {
	case MB_HTTP_FAIL_TLS:
		if (login)
			return have_ca ? "give --ca-file the CA that signed "
			       "the server's certificate (or leave --ca-file "
			       "out to use the system's CAs)" : "give "
			       "--ca-file the CA that signed the server's "
			       "certificate, or install it among the "
			       "system's CAs";
		return have_ca ? "set ca_file to the CA that signed the "
		       "endpoint's certificate (or remove it to use the "
		       "system's CAs)" : "install the CA that signed the "
		       "endpoint's certificate, or set ca_file";
	case MB_HTTP_FAIL_RESOLVE:
		return "check the host name and this machine's DNS";
	default:
		return "check the URL, the network path and any firewall or "
		       "proxy to that host";
	}
}

void
mb_doc_check_endpoint(struct mb_doctor *d, const struct mb_account *a)
{
	char errbuf[256];
	enum mb_http_fail f;
	long code = 0;

	f = mb_http_head(a->token_endpoint, a->ca_file, a->connect_timeout,
			 a->timeout, &code, errbuf, sizeof(errbuf));
	if (f == MB_HTTP_FAIL_NONE) {
		mb_doc_report(d, MB_DOC_PASS, "endpoint", NULL, "[%s] %s "
			      "reachable, certificate verified with %s (HEAD "
			      "answered %ld)", a->name, a->token_endpoint,
			      a->ca_file ? a->ca_file : "the system's CAs",
			      code);
	} else {
		mb_doc_report(d, MB_DOC_FAIL, "endpoint",
			      doc_net_fix(f, false, a->ca_file != NULL),
			      "[%s] %s: %s (CA: %s)", a->name,
			      a->token_endpoint, errbuf,
			      a->ca_file ? a->ca_file : "system");
	}
}

static int
doc_b64val(int ch)
{
	static const char set[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
				  "abcdefghijklmnopqrstuvwxyz0123456789+/";
	const char *p = ch ? strchr(set, ch) : NULL;

	return p ? (int)(p - set) : -1;
}

/* Base64 text up to the end of the line into out, made printable. */
static void
doc_b64_decode(const char *in, char *out, size_t size)
{
	unsigned acc = 0, bits = 0;
	size_t n = 0;
	int v;

	for (; *in != '\0' && *in != '\r' && *in != '\n'; in++) {
		v = doc_b64val((unsigned char)*in);
		if (v < 0)
			continue;
		acc = (acc << 6) | (unsigned)v;
		bits += 6;
		if (bits >= 8 && n + 1 < size) {
			bits -= 8;
			out[n] = (char)((acc >> bits) & 0xff);
			if (!isprint((unsigned char)out[n]))
				out[n] = '?';
			n++;
		}
	}
	out[n] = '\0';
}

/* The server's challenge, decoded ("" if none), and its last line other
 * than a challenge since our last command ("" if none). */
static void
doc_trace_parse(const struct mb_http_trace *t, char *chal, size_t csize,
		char *last, size_t lsize)
{
	const char *line = t->buf, *end, *p;
	size_t n;

	chal[0] = last[0] = '\0';
	while (*line != '\0') {
		end = strchr(line, '\n');
		n = end ? (size_t)(end - line) : strlen(line);
		while (n > 0 && (line[n - 1] == '\r' || line[n - 1] == '\n'))
			n--;
		p = NULL;
		if (strncmp(line, "+ ", 2) == 0)
			p = line + 2;
		else if (strncmp(line, "334 ", 4) == 0)
			p = line + 4;
		if (p != NULL && (size_t)(p - line) < n)
			doc_b64_decode(p, chal, csize);
		else if (n > 0 && (size_t)(line - t->buf) >= t->since) {
			if (n >= lsize)
				n = lsize - 1;
			memcpy(last, line, n);
			last[n] = '\0';
		}
		if (end == NULL)
			break;
		line = end + 1;
	}
	for (p = last; *p != '\0'; p++)
		if (!isprint((unsigned char)*p))
			last[p - last] = '?';
}

/* Advice for a refused login, from the server's words. */
static const char *
doc_login_advice(const char *chal, const char *last)
{
	if (strstr(last, "5.7.139") != NULL)
		return "SMTP AUTH is disabled for this mailbox or tenant: "
		       "enable Authenticated SMTP (Set-CASMailbox "
		       "-SmtpClientAuthenticationDisabled $false)";
	if (strstr(last, "5.7.3") != NULL ||
	    strstr(last, "AUTHENTICATE failed") != NULL)
		return "Microsoft refused the token: check that its scope is "
		       "for this protocol at outlook.office.com (not Graph), "
		       "that user is the mailbox, and for client credentials "
		       "the mailbox permission";
	if (strstr(last, "5.5.127") != NULL)
		return "the token expires too soon: raise refresh_margin";
	if (strstr(last, "5.7.8") != NULL || chal[0] != '\0')
		return "the server refused the token: expired or revoked, "
		       "issued for another user than `user`, or without the "
		       "scope the server names; `mailbearer token --refresh` "
		       "gets a new one";
	return "check the user name, the URL and the server's log";
}

bool
mb_doc_login_url_ok(const char *url)
{
	struct mb_mail_url u;

	return mb_http_mail_url(url, &u) == 0;
}

/* Masks in text every form in which the server could echo what was sent:
 * the token, its base64, and the base64 of the XOAUTH2 and OAUTHBEARER
 * messages that carry it (mb_redact() finds each raw, form-encoded or
 * JSON-escaped, and a truncated tail). */
static void
doc_login_redact(char *text, const char *url, const char *user,
		 const char *token)
{
	size_t ul = strlen(user), tl = strlen(token), n, i;
	struct mb_mail_url u;
	char *msg[4] = { NULL, NULL, NULL, NULL }, *b64;

	(void)mb_http_mail_url(url, &u);
	n = mb_ir_xoauth2_len(ul, tl);
	msg[0] = mb_xmalloc(n + 1);
	mb_ir_xoauth2(msg[0], n + 1, user, ul, token, tl);
	n = mb_ir_oauthbearer_len(user, ul, NULL, 0, tl);
	msg[1] = mb_xmalloc(n + 1);
	mb_ir_oauthbearer(msg[1], n + 1, user, ul, NULL, 0, token, tl);
	n = mb_ir_oauthbearer_len(user, ul, u.host, u.port, tl);
	msg[2] = mb_xmalloc(n + 1);
	mb_ir_oauthbearer(msg[2], n + 1, user, ul, u.host, u.port, token, tl);
	msg[3] = mb_xstrdup(token);
	mb_redact(text, token);
	for (i = 0; i < 4; i++) {
		n = mb_base64_len(strlen(msg[i]));
		b64 = mb_xmalloc(n + 1);
		mb_base64_encode(b64, n + 1, msg[i], strlen(msg[i]));
		mb_redact(text, b64);
		mb_free_secret(&b64);
		mb_free_secret(&msg[i]);
	}
}

void
mb_doc_check_login(struct mb_doctor *d, const struct mb_account *a,
		   const char *token)
{
	static struct mb_http_trace trace;
	char errbuf[256], chal[1024], last[512];
	enum mb_http_fail f;

	f = mb_http_mail_login(d->login_url, d->login_ca, a->user, token,
			       &trace, errbuf, sizeof(errbuf));
	doc_trace_parse(&trace, chal, sizeof(chal), last, sizeof(last));
	mb_wipe(&trace, sizeof(trace));
	/* a server may echo what it received, in any form */
	doc_login_redact(chal, d->login_url, a->user, token);
	doc_login_redact(last, d->login_url, a->user, token);
	doc_login_redact(errbuf, d->login_url, a->user, token);
	if (f == MB_HTTP_FAIL_NONE) {
		mb_doc_report(d, MB_DOC_PASS, "login", NULL, "[%s] XOAUTH2 "
			      "login as %s at %s accepted: %s", a->name,
			      a->user, d->login_url, last);
	} else if (f == MB_HTTP_FAIL_DENIED) {
		mb_doc_report(d, MB_DOC_FAIL, "login",
			      doc_login_advice(chal, last), "[%s] %s refused "
			      "XOAUTH2 for %s: %s%s%s%s%s", a->name,
			      d->login_url, a->user,
			      chal[0] ? "error challenge " : "", chal,
			      chal[0] && last[0] ? ", then " : "",
			      last[0] ? "final reply " : "", last);
	} else if (f == MB_HTTP_FAIL_NOTLS) {
		mb_doc_report(d, MB_DOC_FAIL, "login", "use imaps:// or "
			      "smtps://, or a server that offers STARTTLS (a "
			      "token goes without TLS only to this machine: "
			      "127.0.0.0/8, ::1, localhost)", "[%s] %s offers "
			      "no STARTTLS: the token was not sent (%s)",
			      a->name, d->login_url, errbuf);
	} else {
		mb_doc_report(d, MB_DOC_FAIL, "login", doc_net_fix(f, true,
			      d->login_ca != NULL), "[%s] %s: %s "
			      "(last server line: %s)", a->name, d->login_url,
			      errbuf, last[0] ? last : "none");
	}
}
