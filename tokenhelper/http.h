#ifndef MB_HTTP_H
#define MB_HTTP_H

/* HTTPS POST of a form, through libcurl (the only file that includes
 * <curl/curl.h>).  TLS verification is always on, only https:// is
 * allowed (also for redirects, which are not followed anyway), the
 * response body is capped (MB_HTTP_MAX_BODY). */

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
/* Wipes and frees the body, zeroes the struct.  NULL-safe. */
void mb_http_reply_clear(struct mb_http_reply *reply);
/* "a=1&b=x%20y": malloc'd (caller wipes: it holds secrets), NULL on
 * allocation failure.  Exposed for tests. */
char *mb_http_form_encode(const char *const *fields);

#endif
