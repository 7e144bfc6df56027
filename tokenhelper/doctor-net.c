#include <config.h>

/* doctor: the network checks, through libcurl.
 *   - The token endpoint: a HEAD request with the account's CA and
 *     timeouts.  It proves DNS, the route and the TLS verification the
 *     refresh needs, and spends nothing: no form, no token.
 *   - --login: a real XOAUTH2 login (libcurl's IMAP/SMTP SASL with
 *     CURLOPT_XOAUTH2_BEARER), stopping after authentication
 *     (CURLOPT_CONNECT_ONLY).  Only what the server sends is kept (never
 *     what we send, which holds the token); its error challenge is
 *     decoded, and Microsoft's final replies are mapped to advice. */

#include <ctype.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <curl/curl.h>

#include "doctor.h"
#include "xalloc.h"

#define DOC_TRACE_MAX 8192

static void
doc_curl_common(CURL *c, const char *url, const char *ca, long ctimeout,
		long timeout, char *errbuf)
{
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, ctimeout);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, timeout);
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
	curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 1L);
	curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 2L);
	if (ca != NULL)
		curl_easy_setopt(c, CURLOPT_CAINFO, ca);
}

/* login: the CA came from --ca-file (doctor --login), else from the
 * account's ca_file (the token endpoint). */
static const char *
doc_curl_fix(CURLcode rc, bool login, bool have_ca)
{
	switch (rc) {
	case CURLE_PEER_FAILED_VERIFICATION:
	case CURLE_SSL_CACERT_BADFILE:
	case CURLE_SSL_CONNECT_ERROR:
	case CURLE_SSL_CERTPROBLEM:
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
	case CURLE_COULDNT_RESOLVE_HOST:
		return "check the host name and this machine's DNS";
	default:
		return "check the URL, the network path and any firewall or "
		       "proxy to that host";
	}
}

void
mb_doc_check_endpoint(struct mb_doctor *d, const struct mb_account *a)
{
	char errbuf[CURL_ERROR_SIZE] = "";
	CURLcode rc;
	long code = 0;
	CURL *c;

	c = curl_easy_init();
	if (c == NULL) {
		mb_doc_report(d, MB_DOC_FAIL, "endpoint", "free some memory",
			      "[%s] libcurl cannot start", a->name);
		return;
	}
	doc_curl_common(c, a->token_endpoint, a->ca_file, a->connect_timeout,
			a->timeout, errbuf);
	curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
	rc = curl_easy_perform(c);
	if (rc == CURLE_OK) {
		curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
		mb_doc_report(d, MB_DOC_PASS, "endpoint", NULL, "[%s] %s "
			      "reachable, certificate verified with %s (HEAD "
			      "answered %ld)", a->name, a->token_endpoint,
			      a->ca_file ? a->ca_file : "the system's CAs",
			      code);
	} else {
		mb_doc_report(d, MB_DOC_FAIL, "endpoint",
			      doc_curl_fix(rc, false, a->ca_file != NULL),
			      "[%s] %s: %s (CA: %s)", a->name,
			      a->token_endpoint,
			      errbuf[0] ? errbuf : curl_easy_strerror(rc),
			      a->ca_file ? a->ca_file : "system");
	}
	curl_easy_cleanup(c);
}

struct doc_trace {
	char buf[DOC_TRACE_MAX];
	size_t len;
	size_t since;	/* where the answers to our last command start */
};

/* Keeps the server's lines only: what we send carries the token, and is
 * only noted as having happened. */
static int
doc_debug(CURL *c, curl_infotype type, char *data, size_t size, void *rock)
{
	struct doc_trace *t = rock;
	size_t room = sizeof(t->buf) - 1 - t->len;

	if (type == CURLINFO_HEADER_OUT)
		t->since = t->len;
	if (type != CURLINFO_HEADER_IN)
		return 0;
	if (size > room)
		size = room;
	memcpy(t->buf + t->len, data, size);
	t->len += size;
	t->buf[t->len] = '\0';
	return 0;
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
doc_trace_parse(const struct doc_trace *t, char *chal, size_t csize,
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

/* imap, imaps, smtp, smtps: true and *tls_r when the scheme has TLS
 * from the start. */
static bool
doc_login_scheme(const char *url, bool *tls_r)
{
	*tls_r = strncasecmp(url, "imaps://", 8) == 0 ||
		 strncasecmp(url, "smtps://", 8) == 0;
	return *tls_r || strncasecmp(url, "imap://", 7) == 0 ||
	       strncasecmp(url, "smtp://", 7) == 0;
}

bool
mb_doc_login_url_ok(const char *url)
{
	bool tls;

	return doc_login_scheme(url, &tls);
}

/* STARTTLS is required, except towards this machine itself. */
static bool
doc_loopback(const char *url)
{
	const char *h = strstr(url, "://") + 3;

	return strncmp(h, "127.", 4) == 0 || strncmp(h, "[::1]", 5) == 0 ||
	       strncasecmp(h, "localhost", 9) == 0;
}

void
mb_doc_check_login(struct mb_doctor *d, const struct mb_account *a,
		   const char *token)
{
	static struct doc_trace trace;
	char errbuf[CURL_ERROR_SIZE] = "", chal[1024], last[512];
	CURLcode rc;
	bool tls;
	CURL *c;

	if (!doc_login_scheme(d->login_url, &tls) ||
	    (c = curl_easy_init()) == NULL) {
		mb_doc_report(d, MB_DOC_FAIL, "login", "use imap://, imaps://, "
			      "smtp:// or smtps://", "cannot log in to %s",
			      d->login_url);
		return;
	}
	memset(&trace, 0, sizeof(trace));
	doc_curl_common(c, d->login_url, d->login_ca, 10L, 30L, errbuf);
	curl_easy_setopt(c, CURLOPT_USERNAME, a->user);
	curl_easy_setopt(c, CURLOPT_XOAUTH2_BEARER, token);
	curl_easy_setopt(c, CURLOPT_LOGIN_OPTIONS, "AUTH=XOAUTH2");
	curl_easy_setopt(c, CURLOPT_CONNECT_ONLY, 1L);
	if (!tls)
		curl_easy_setopt(c, CURLOPT_USE_SSL, doc_loopback(d->login_url)
				 ? (long)CURLUSESSL_TRY : (long)CURLUSESSL_ALL);
	curl_easy_setopt(c, CURLOPT_VERBOSE, 1L);
	curl_easy_setopt(c, CURLOPT_DEBUGFUNCTION, doc_debug);
	curl_easy_setopt(c, CURLOPT_DEBUGDATA, &trace);
	rc = curl_easy_perform(c);
	doc_trace_parse(&trace, chal, sizeof(chal), last, sizeof(last));
	if (rc == CURLE_OK) {
		mb_doc_report(d, MB_DOC_PASS, "login", NULL, "[%s] XOAUTH2 "
			      "login as %s at %s accepted: %s", a->name,
			      a->user, d->login_url, last);
	} else if (rc == CURLE_LOGIN_DENIED) {
		mb_doc_report(d, MB_DOC_FAIL, "login",
			      doc_login_advice(chal, last), "[%s] %s refused "
			      "XOAUTH2 for %s: %s%s%s%s%s", a->name,
			      d->login_url, a->user,
			      chal[0] ? "error challenge " : "", chal,
			      chal[0] && last[0] ? ", then " : "",
			      last[0] ? "final reply " : "", last);
	} else {
		mb_doc_report(d, MB_DOC_FAIL, "login", doc_curl_fix(rc, true,
			      d->login_ca != NULL), "[%s] %s: %s (last "
			      "server line: %s)", a->name, d->login_url,
			      errbuf[0] ? errbuf : curl_easy_strerror(rc),
			      last[0] ? last : "none");
	}
	curl_easy_cleanup(c);
}
