/* SPDX-License-Identifier: MIT */
#ifndef MB_HTTP_H
#define MB_HTTP_H

/* Everything that goes through libcurl (http.c is the only file that
 * includes <curl/curl.h>, tests/lint/test-style.sh checks it): the HTTPS
 * POST of a form to a token endpoint, and doctor's probes (a HEAD to the
 * endpoint, a mail login, the parsing of its URL).  TLS verification is
 * always on, only https:// is allowed for the endpoint (also for
 * redirects, which are not followed anyway), the response body is capped
 * (MB_HTTP_MAX_BODY). */

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>

#define MB_HTTP_MAX_BODY (1024 * 1024)

/* The message of a transfer aborted (or not started) because
 * mb_cancel_all() was called: MB_HTTP_TRANSIENT, nothing is lost. */
#define MB_HTTP_CANCELLED_TEXT "cancelled (mailbearer is shutting down)"

enum mb_http_result {
	MB_HTTP_OK = 0,		/* a response arrived (any status) */
	MB_HTTP_TRANSIENT,	/* connect/timeout/reset/oversized body */
	MB_HTTP_LOCAL,		/* refused URL, TLS verification, setup */
};

struct mb_http_reply {
	long status;		/* HTTP status */
	char *body;		/* NUL-terminated, malloc'd; may hold secrets */
	size_t len;
	long retry_after;	/* seconds from Retry-After, -1 if none */
};

/* curl_global_init(), which is not thread-safe: main() calls this before
 * any thread starts.  0, or -1 when libcurl cannot be initialised.  Safe
 * to call again (mb_http_post_form() does, for the unit tests). */
int mb_http_global_init(void);
/* POSTs application/x-www-form-urlencoded fields (name, value pairs,
 * terminated by a NULL name; a NULL value skips the pair).  Values are
 * percent-encoded here.  ca_file NULL: system CAs.  Aborted early, as
 * MB_HTTP_TRANSIENT with MB_HTTP_CANCELLED_TEXT, once mb_cancelled() is
 * true, unless the whole reply has arrived.  On MB_HTTP_OK the
 * reply is filled (release with mb_http_reply_clear()); otherwise
 * *error_r is a malloc'd secret-free message (caller frees). */
enum mb_http_result mb_http_post_form(const char *url, const char *ca_file,
				      long connect_timeout, long timeout,
				      const char *const *fields,
				      struct mb_http_reply *reply,
				      char **error_r);
/* How long each phase of a request may take, in seconds. */
struct mb_http_limits {
	long connect_timeout;	/* name lookup, TCP and TLS handshakes */
	/* until the whole request has been handed to the network (the
	 * connection included): a request not sent by then is abandoned,
	 * nothing was spent */
	long send_timeout;
	/* the whole transfer, the reply included (at least send_timeout):
	 * a request already sent is listened to this long, because the
	 * provider may be carrying it out */
	long reply_timeout;
};

/* mb_http_post_form() with separate limits for sending and for the
 * reply.  *unanswered_r (may be NULL) is set when no reply arrived
 * although the whole request had been sent (a timeout, a reset, a
 * cancellation after the send): the provider may have carried it
 * out.  It is false on MB_HTTP_OK and when the request was provably not
 * sent in full (refused connection, TLS failure, send timeout). */
enum mb_http_result mb_http_post_form_ex(const char *url, const char *ca_file,
					 const struct mb_http_limits *lim,
					 const char *const *fields,
					 struct mb_http_reply *reply,
					 bool *unanswered_r, char **error_r);
/* TLS for a JSON service (etcd): the CA (NULL: system CAs) and an
 * optional client certificate and key (both or neither). */
struct mb_http_tls {
	const char *ca_file;
	const char *cert_file;
	const char *key_file;
};
/* A POST of a JSON document, as mb_http_post_form_ex() posts a form,
 * with the client certificate of tls if any and header (one
 * "Name: value" line, may hold a secret; NULL none). */
enum mb_http_result mb_http_post_json(const char *url,
				      const struct mb_http_tls *tls,
				      const struct mb_http_limits *lim,
				      const char *json, const char *header,
				      struct mb_http_reply *reply,
				      bool *unanswered_r, char **error_r);
/* The same POST whose reply is a stream of lines (etcd's watch): each
 * complete line (NUL-terminated, without its newline, at most
 * MB_HTTP_MAX_BODY bytes) goes to on_line as it arrives; a non-zero
 * return ends the transfer at once, as MB_HTTP_OK.  Ends otherwise when
 * the server closes (MB_HTTP_OK), at lim->reply_timeout (TRANSIENT) or
 * after mb_cancel_all(), or within a second of *stop becoming true (as
 * MB_HTTP_OK; stop may be NULL).  *status_r: the HTTP status (0 if
 * none). */
enum mb_http_result mb_http_stream(const char *url,
				   const struct mb_http_tls *tls,
				   const struct mb_http_limits *lim,
				   const char *json, const char *header,
				   int (*on_line)(void *ctx, char *line,
						  size_t len),
				   void *ctx, const atomic_bool *stop,
				   long *status_r, char **error_r);
/* Wipes and frees the body, zeroes the struct.  NULL-safe. */
void mb_http_reply_clear(struct mb_http_reply *reply);
/* "a=1&b=x%20y": malloc'd (caller wipes: it holds secrets), NULL on
 * allocation failure.  Exposed for tests. */
char *mb_http_form_encode(const char *const *fields);

/* Why a probe failed, for the advice to give. */
enum mb_http_fail {
	MB_HTTP_FAIL_NONE = 0,
	MB_HTTP_FAIL_TLS,	/* certificate verification, TLS handshake */
	MB_HTTP_FAIL_RESOLVE,	/* the host name did not resolve */
	MB_HTTP_FAIL_DENIED,	/* a login: the server refused it */
	MB_HTTP_FAIL_NOTLS,	/* a login: STARTTLS required, not offered */
	MB_HTTP_FAIL_OTHER,
};

/* A HEAD request to an https:// URL (doctor's endpoint check: DNS, route,
 * TLS verification, nothing spent).  MB_HTTP_FAIL_NONE with the HTTP
 * status in *status_r, or the reason with its text in errbuf. */
enum mb_http_fail mb_http_head(const char *url, const char *ca_file,
			       long connect_timeout, long timeout,
			       long *status_r, char *errbuf, size_t errsize);

/* A mail server URL (doctor --login), parsed by libcurl's URL API. */
struct mb_mail_url {
	bool tls;		/* imaps://, smtps://: TLS from the start */
	bool loopback;		/* the host is this machine (see below) */
	char host[256];		/* as parsed, IPv6 without brackets */
	unsigned port;		/* 0: the scheme's default */
};

/* Parses url: 0, or -1 when it is not imap://, imaps://, smtp:// or
 * smtps://HOST[:PORT][/...] (then *u is zeroed).  The host is loopback
 * only when it is exactly an address of 127.0.0.0/8, ::1 (or
 * ::ffff:127.x.y.z) or the name "localhost" (any case): a prefix decides
 * nothing (localhost.example, 127.example, 127.0.0.1@example are not). */
int mb_http_mail_url(const char *url, struct mb_mail_url *u);
/* Whether host (an IP address without brackets, or a name) is loopback,
 * by the rule above.  Pure; exposed for the unit tests. */
bool mb_http_host_is_loopback(const char *host);

/* What a mail login saw of the server: its lines only (what we send
 * holds the token and is never kept), NUL-terminated, and where the
 * answers to our last command start. */
#define MB_HTTP_TRACE_MAX 8192
struct mb_http_trace {
	char buf[MB_HTTP_TRACE_MAX];
	size_t len;
	size_t since;
};

/* An XOAUTH2 login as user with token to an IMAP or SMTP url (parsed as
 * mb_http_mail_url does; the connection goes to the host checked there),
 * stopping after authentication.  STARTTLS is required on imap:// and
 * smtp:// unless the host is loopback.  The server's lines in *trace;
 * MB_HTTP_FAIL_NONE when the login was accepted, MB_HTTP_FAIL_DENIED when
 * the server refused it, else another reason with its text in errbuf. */
enum mb_http_fail mb_http_mail_login(const char *url, const char *ca_file,
				     const char *user, const char *token,
				     struct mb_http_trace *trace,
				     char *errbuf, size_t errsize);

#endif
