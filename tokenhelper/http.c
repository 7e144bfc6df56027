/* SPDX-License-Identifier: MIT */
#include <config.h>

#include "http.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <stdio.h>
#include <strings.h>
#include <time.h>

#include <curl/curl.h>

#include "cancel.h"
#include "wipe.h"
#include "xalloc.h"

struct http_sink {
	char *buf;
	size_t len;
	size_t cap;
	bool too_big;
	long retry_after;
	/* Progress, for cancellation; times are CLOCK_MONOTONIC. */
	curl_off_t dl_seen, ul_seen;	/* bytes at the last callback */
	struct timespec moved_at;	/* when they last changed */
	bool cancel_seen;		/* mb_cancelled() seen at cancel_at */
	struct timespec cancel_at;
	/* The send phase: the request must have left within send_ms of
	 * started; once it has (sent), only the reply limit applies. */
	struct timespec started;
	long send_ms;
	bool sent;			/* the whole body was handed over */
	bool send_timed_out;		/* aborted: not sent in time */
	bool replying;			/* a header line of the reply came */
	long reply_s;			/* the whole transfer's limit */
	/* a stream (mb_http_stream): each complete line goes to on_line
	 * and leaves the buffer; a non-zero return ends the transfer */
	int (*on_line)(void *ctx, char *line, size_t len);
	void *line_ctx;
	bool line_stop;			/* on_line asked to stop */
	const atomic_bool *stop;	/* the stream's owner asks to stop */
};

#define MB_HTTP_CANCEL_GRACE_MS 500

static pthread_once_t http_once = PTHREAD_ONCE_INIT;
static CURLcode http_init_result;

static void
http_global_init(void)
{
	http_init_result = curl_global_init(CURL_GLOBAL_DEFAULT);
}

int
mb_http_global_init(void)
{
	pthread_once(&http_once, http_global_init);
	return http_init_result == CURLE_OK ? 0 : -1;
}

static long
http_ms_since(const struct timespec *then, const struct timespec *now)
{
	return (long)(now->tv_sec - then->tv_sec) * 1000 +
	       (now->tv_nsec - then->tv_nsec) / 1000000;
}

/* libcurl's progress callback (called at least once a second, more often
 * while bytes move): a non-zero return aborts the transfer
 * (CURLE_ABORTED_BY_CALLBACK).  After mb_cancel_all(), a request not yet
 * sent in full is aborted at once: nothing was spent.  One sent in full
 * may have spent the refresh token, so a reply that is moving gets
 * MB_HTTP_CANCEL_GRACE_MS to arrive (what the provider hands out is then
 * persisted); a transfer stalled that long is abandoned at once.  A reply
 * that has fully arrived is never cut. */
static int
http_xferinfo_cb(void *userp, curl_off_t dltotal, curl_off_t dlnow,
		 curl_off_t ultotal, curl_off_t ulnow)
{
	struct http_sink *s = userp;
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	if (dlnow != s->dl_seen || ulnow != s->ul_seen ||
	    s->moved_at.tv_sec == 0) {
		s->dl_seen = dlnow;
		s->ul_seen = ulnow;
		s->moved_at = now;
	}
	if (ultotal > 0 && ulnow >= ultotal)
		s->sent = true;
	if (!s->sent && !s->replying && s->send_ms > 0 &&
	    http_ms_since(&s->started, &now) >= s->send_ms) {
		/* Not sent in full: the provider cannot have acted on it. */
		s->send_timed_out = true;
		return 1;
	}
	if (s->stop != NULL && atomic_load(s->stop)) {
		s->line_stop = true;
		return 1;
	}
	if (!mb_cancelled())
		return 0;
	if (dltotal > 0 && dlnow >= dltotal)
		return 0;
	if (ultotal <= 0 || ulnow < ultotal ||
	    http_ms_since(&s->moved_at, &now) >= MB_HTTP_CANCEL_GRACE_MS)
		return 1;
	if (!s->cancel_seen) {
		s->cancel_seen = true;
		s->cancel_at = now;
	}
	return http_ms_since(&s->cancel_at, &now) >= MB_HTTP_CANCEL_GRACE_MS;
}

void
mb_http_reply_clear(struct mb_http_reply *reply)
{
	if (reply == NULL)
		return;
	if (reply->body != NULL) {
		mb_wipe(reply->body, reply->len);
		free(reply->body);
	}
	memset(reply, 0, sizeof(*reply));
	reply->retry_after = -1;
}

static void
http_sink_wipe(struct http_sink *s)
{
	if (s->buf != NULL) {
		mb_wipe(s->buf, s->cap);
		free(s->buf);
	}
	s->buf = NULL;
	s->len = s->cap = 0;
}

/* A stream's complete lines to on_line, then out of the buffer (wiped:
 * a line may hold a sealed secret).  Non-zero: stop the transfer. */
static int
http_sink_lines(struct http_sink *s)
{
	char *nl;

	while ((nl = memchr(s->buf, '\n', s->len)) != NULL) {
		size_t used = (size_t)(nl - s->buf) + 1;

		*nl = '\0';
		if (used > 1 && s->on_line(s->line_ctx, s->buf, used - 1)) {
			s->line_stop = true;
			return -1;
		}
		memmove(s->buf, s->buf + used, s->len - used);
		mb_wipe(s->buf + s->len - used, used);
		s->len -= used;
		s->buf[s->len] = '\0';
	}
	return 0;
}

static size_t
http_write_cb(char *data, size_t size, size_t nmemb, void *userp)
{
	struct http_sink *s = userp;
	size_t n = size * nmemb;

	if (n > MB_HTTP_MAX_BODY - s->len) {
		/* Hostile or broken endpoint: abort the transfer. */
		s->too_big = true;
		return 0;
	}
	if (s->len + n + 1 > s->cap) {
		size_t cap = s->cap ? s->cap : 4096;
		char *nb;

		while (cap < s->len + n + 1)
			cap *= 2;
		if (cap > MB_HTTP_MAX_BODY + 1)
			cap = MB_HTTP_MAX_BODY + 1;
		/* No realloc: the old buffer may hold a token. */
		nb = mb_xmalloc(cap);
		if (s->len > 0)
			memcpy(nb, s->buf, s->len);
		if (s->buf != NULL) {
			mb_wipe(s->buf, s->cap);
			free(s->buf);
		}
		s->buf = nb;
		s->cap = cap;
	}
	memcpy(s->buf + s->len, data, n);
	s->len += n;
	s->buf[s->len] = '\0';
	if (s->on_line != NULL && http_sink_lines(s) != 0)
		return 0;
	return n;
}

/* RFC 9110, 10.2.3: Retry-After = HTTP-date / delay-seconds. */
static size_t
http_header_cb(char *data, size_t size, size_t nmemb, void *userp)
{
	struct http_sink *s = userp;
	size_t n = size * nmemb;
	static const char name[] = "retry-after:";
	char value[128];
	size_t vlen;
	char *end;
	long secs;

	s->replying = true;

	if (n > sizeof(name) - 1 &&
	    strncasecmp(data, name, sizeof(name) - 1) == 0) {
		vlen = n - (sizeof(name) - 1);
		if (vlen >= sizeof(value))
			vlen = sizeof(value) - 1;
		memcpy(value, data + sizeof(name) - 1, vlen);
		value[vlen] = '\0';
		while (vlen > 0 && isspace((unsigned char)value[vlen - 1]))
			value[--vlen] = '\0';
		end = value;
		while (isspace((unsigned char)*end))
			end++;
		if (isdigit((unsigned char)*end)) {
			errno = 0;
			secs = strtol(end, &end, 10);
			if (errno == 0 && *end == '\0' && secs >= 0)
				s->retry_after = secs;
		} else {
			time_t when = curl_getdate(end, NULL);
			time_t now = time(NULL);

			if (when != (time_t)-1)
				s->retry_after = when > now ?
						 (long)(when - now) : 0;
		}
	}
	return n;
}

char *
mb_http_form_encode(const char *const *fields)
{
	CURL *curl;
	char *out = NULL, *tmp;
	size_t i;

	curl = curl_easy_init();
	if (curl == NULL)
		return NULL;
	out = mb_xstrdup("");
	for (i = 0; fields[i] != NULL; i += 2) {
		char *k, *v;

		if (fields[i + 1] == NULL)
			continue;
		k = curl_easy_escape(curl, fields[i], 0);
		v = curl_easy_escape(curl, fields[i + 1], 0);
		if (k == NULL || v == NULL) {
			curl_free(k);
			if (v != NULL)
				mb_wipe(v, strlen(v));
			curl_free(v);
			mb_free_secret(&out);
			break;
		}
		tmp = mb_xasprintf("%s%s%s=%s", out, out[0] ? "&" : "", k, v);
		mb_free_secret(&out);
		out = tmp;
		curl_free(k);
		mb_wipe(v, strlen(v));
		curl_free(v);
	}
	curl_easy_cleanup(curl);
	return out;
}

static bool
http_is_transient(CURLcode rc)
{
	switch (rc) {
	case CURLE_COULDNT_RESOLVE_PROXY:
	case CURLE_COULDNT_RESOLVE_HOST:
	case CURLE_COULDNT_CONNECT:
	case CURLE_OPERATION_TIMEDOUT:
	case CURLE_SEND_ERROR:
	case CURLE_RECV_ERROR:
	case CURLE_GOT_NOTHING:
	case CURLE_PARTIAL_FILE:
	case CURLE_SSL_CONNECT_ERROR:
	case CURLE_WRITE_ERROR:
	case CURLE_HTTP2:
	case CURLE_HTTP2_STREAM:
		return true;
	default:
		return false;
	}
}

/* Refuses what must not be sent at all: a non-https URL, a libcurl that
 * cannot start, a request cancelled before it began. */
static enum mb_http_result
http_post_precheck(const char *url, char **error_r)
{
	if (strncasecmp(url, "https://", 8) != 0) {
		*error_r = mb_xasprintf("refusing to send credentials to %s: "
					"only https:// URLs are allowed", url);
		return MB_HTTP_LOCAL;
	}
	if (mb_http_global_init() < 0) {
		*error_r = mb_xstrdup("libcurl initialisation failed");
		return MB_HTTP_LOCAL;
	}
	if (mb_cancelled()) {
		*error_r = mb_xstrdup(MB_HTTP_CANCELLED_TEXT);
		return MB_HTTP_TRANSIENT;
	}
	return MB_HTTP_OK;
}

/* https only, no redirects, verified TLS, bounded in time and size. */
static void
http_setopt_transport(CURL *curl, const char *url, char *errbuf,
		      const char *ca_file, const struct mb_http_limits *lim)
{
	long total = lim->reply_timeout > lim->send_timeout ?
		     lim->reply_timeout : lim->send_timeout;

	curl_easy_setopt(curl, CURLOPT_URL, url);
	curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, errbuf);
	curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
#if LIBCURL_VERSION_NUM >= 0x075500
	curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "https");
	curl_easy_setopt(curl, CURLOPT_REDIR_PROTOCOLS_STR, "https");
#else
	curl_easy_setopt(curl, CURLOPT_PROTOCOLS, (long)CURLPROTO_HTTPS);
	curl_easy_setopt(curl, CURLOPT_REDIR_PROTOCOLS, (long)CURLPROTO_HTTPS);
#endif
	curl_easy_setopt(curl, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(curl, CURLOPT_SSL_VERIFYPEER, 1L);
	curl_easy_setopt(curl, CURLOPT_SSL_VERIFYHOST, 2L);
	if (ca_file != NULL)
		curl_easy_setopt(curl, CURLOPT_CAINFO, ca_file);
	curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT, lim->connect_timeout);
	/* The send phase is bounded by the progress callback. */
	curl_easy_setopt(curl, CURLOPT_TIMEOUT, total);
	curl_easy_setopt(curl, CURLOPT_MAXFILESIZE, (long)MB_HTTP_MAX_BODY);
	curl_easy_setopt(curl, CURLOPT_USERAGENT, PACKAGE_NAME "/"
			 PACKAGE_VERSION);
}

/* The form body, and the callbacks that collect the reply into sink. */
static void
http_setopt_request(CURL *curl, struct curl_slist *headers, const char *form,
		    struct http_sink *sink)
{
	curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
	curl_easy_setopt(curl, CURLOPT_POSTFIELDS, form);
	curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE, (long)strlen(form));
	curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, http_write_cb);
	curl_easy_setopt(curl, CURLOPT_WRITEDATA, sink);
	curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, http_header_cb);
	curl_easy_setopt(curl, CURLOPT_HEADERDATA, sink);
	curl_easy_setopt(curl, CURLOPT_XFERINFOFUNCTION, http_xferinfo_cb);
	curl_easy_setopt(curl, CURLOPT_XFERINFODATA, sink);
	curl_easy_setopt(curl, CURLOPT_NOPROGRESS, 0L);
}

/* A failed transfer: its text and whether trying again may help. */
static enum mb_http_result
http_failure(CURLcode rc, const struct http_sink *sink, const char *url,
	     const char *errbuf, char **error_r)
{
	const char *why = errbuf[0] ? errbuf : curl_easy_strerror(rc);

	if (rc == CURLE_ABORTED_BY_CALLBACK && sink->send_timed_out) {
		*error_r = mb_xasprintf("%s: the request could not be sent "
					"within %ld s (nothing was sent)", url,
					sink->send_ms / 1000);
		return MB_HTTP_TRANSIENT;
	}
	if (rc == CURLE_ABORTED_BY_CALLBACK) {
		*error_r = mb_xstrdup(MB_HTTP_CANCELLED_TEXT);
		return MB_HTTP_TRANSIENT;
	}
	if (rc == CURLE_OPERATION_TIMEDOUT && sink->sent) {
		*error_r = mb_xasprintf("%s: the request was sent but no "
					"reply came within %ld s", url,
					sink->reply_s);
		return MB_HTTP_TRANSIENT;
	}
	if (sink->too_big || rc == CURLE_FILESIZE_EXCEEDED) {
		*error_r = mb_xasprintf("the response of %s is larger "
					"than %d bytes", url,
					MB_HTTP_MAX_BODY);
		return MB_HTTP_TRANSIENT;
	}
	if (rc == CURLE_PEER_FAILED_VERIFICATION ||
	    rc == CURLE_SSL_CACERT_BADFILE ||
	    rc == CURLE_SSL_CERTPROBLEM) {
		*error_r = mb_xasprintf("TLS verification of %s "
			"failed: %s (set ca_file if the provider uses "
			"a private CA)", url, why);
		return MB_HTTP_LOCAL;
	}
	*error_r = mb_xasprintf("%s: %s", url, why);
	return http_is_transient(rc) ? MB_HTTP_TRANSIENT : MB_HTTP_LOCAL;
}

enum mb_http_result
mb_http_post_form(const char *url, const char *ca_file, long connect_timeout,
		  long timeout, const char *const *fields,
		  struct mb_http_reply *reply, char **error_r)
{
	struct mb_http_limits lim = { connect_timeout, timeout, timeout };

	return mb_http_post_form_ex(url, ca_file, &lim, fields, reply, NULL,
				    error_r);
}

/* Whether a failed transfer had handed its whole request over: seen by
 * the progress callback, or by libcurl's upload counter (a transfer can
 * fail before the callback runs again). */
static bool
http_was_sent(CURL *curl, const struct http_sink *sink, size_t form_len)
{
	curl_off_t up = 0;

	if (sink->sent || sink->replying)
		return true;
	if (curl_easy_getinfo(curl, CURLINFO_SIZE_UPLOAD_T, &up) != CURLE_OK)
		return false;
	return form_len > 0 && up >= (curl_off_t)form_len;
}

/* One POST of body (content_type) to url, with the client certificate
 * of tls if any and the extra header line if any; a stream when
 * sink->on_line is set.  See mb_http_post_form_ex(). */
static enum mb_http_result
http_post(const char *url, const struct mb_http_tls *tls,
	  const struct mb_http_limits *lim, const char *content_type,
	  const char *body, const char *header, struct http_sink *sink,
	  struct mb_http_reply *reply, bool *unanswered_r, char **error_r)
{
	enum mb_http_result ret;
	char errbuf[CURL_ERROR_SIZE];
	struct curl_slist *headers = NULL;
	const char *lines[4];
	CURL *curl = NULL;
	CURLcode rc;
	size_t i;

	memset(reply, 0, sizeof(*reply));
	reply->retry_after = -1;
	sink->retry_after = -1;
	sink->send_ms = lim->send_timeout * 1000;
	sink->reply_s = lim->reply_timeout > lim->send_timeout ?
			lim->reply_timeout : lim->send_timeout;
	clock_gettime(CLOCK_MONOTONIC, &sink->started);
	*error_r = NULL;
	if (unanswered_r != NULL)
		*unanswered_r = false;
	errbuf[0] = '\0';
	ret = http_post_precheck(url, error_r);
	if (ret != MB_HTTP_OK)
		return ret;
	ret = MB_HTTP_LOCAL;
	curl = curl_easy_init();
	/* No "Expect: 100-continue" wait: the body leaves with the
	 * headers, so "sent" means the whole request. */
	lines[0] = "Accept: application/json";
	lines[1] = "Expect:";
	lines[2] = content_type;
	lines[3] = header;
	for (i = 0; curl != NULL && i < 4; i++) {
		struct curl_slist *more;

		if (lines[i] == NULL)
			continue;
		more = curl_slist_append(headers, lines[i]);
		if (more == NULL) {
			curl_slist_free_all(headers);
			headers = NULL;
			break;
		}
		headers = more;
	}
	if (headers == NULL) {
		*error_r = mb_xstrdup("libcurl: out of memory");
		goto out;
	}
	http_setopt_transport(curl, url, errbuf,
			      tls != NULL ? tls->ca_file : NULL, lim);
	if (tls != NULL && tls->cert_file != NULL) {
		curl_easy_setopt(curl, CURLOPT_SSLCERT, tls->cert_file);
		curl_easy_setopt(curl, CURLOPT_SSLKEY, tls->key_file);
	}
	if (sink->on_line != NULL)
		curl_easy_setopt(curl, CURLOPT_MAXFILESIZE, 0L);
	http_setopt_request(curl, headers, body, sink);
	rc = curl_easy_perform(curl);
	if (rc != CURLE_OK && !sink->line_stop) {
		if (!sink->send_timed_out &&
		    http_was_sent(curl, sink, strlen(body)))
			sink->sent = true;
		ret = http_failure(rc, sink, url, errbuf, error_r);
		if (unanswered_r != NULL)
			*unanswered_r = sink->sent && !sink->send_timed_out;
		goto out;
	}
	curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &reply->status);
	reply->body = sink->buf != NULL ? sink->buf : mb_xstrdup("");
	reply->len = sink->len;
	reply->retry_after = sink->retry_after;
	sink->buf = NULL;
	sink->cap = 0;
	ret = MB_HTTP_OK;
out:
	http_sink_wipe(sink);
	curl_slist_free_all(headers);
	if (curl != NULL)
		curl_easy_cleanup(curl);
	return ret;
}

enum mb_http_result
mb_http_post_form_ex(const char *url, const char *ca_file,
		     const struct mb_http_limits *lim,
		     const char *const *fields, struct mb_http_reply *reply,
		     bool *unanswered_r, char **error_r)
{
	struct mb_http_tls tls = { ca_file, NULL, NULL };
	enum mb_http_result ret;
	struct http_sink sink;
	char *form;

	memset(&sink, 0, sizeof(sink));
	form = mb_http_form_encode(fields);
	if (form == NULL) {
		memset(reply, 0, sizeof(*reply));
		reply->retry_after = -1;
		if (unanswered_r != NULL)
			*unanswered_r = false;
		*error_r = mb_xstrdup("libcurl: out of memory");
		return MB_HTTP_LOCAL;
	}
	ret = http_post(url, &tls, lim, NULL, form, NULL, &sink, reply,
			unanswered_r, error_r);
	mb_free_secret(&form);
	return ret;
}

enum mb_http_result
mb_http_post_json(const char *url, const struct mb_http_tls *tls,
		  const struct mb_http_limits *lim, const char *json,
		  const char *header, struct mb_http_reply *reply,
		  bool *unanswered_r, char **error_r)
{
	struct http_sink sink;

	memset(&sink, 0, sizeof(sink));
	return http_post(url, tls, lim, "Content-Type: application/json",
			 json, header, &sink, reply, unanswered_r, error_r);
}

enum mb_http_result
mb_http_stream(const char *url, const struct mb_http_tls *tls,
	       const struct mb_http_limits *lim, const char *json,
	       const char *header,
	       int (*on_line)(void *ctx, char *line, size_t len), void *ctx,
	       const atomic_bool *stop, long *status_r, char **error_r)
{
	struct mb_http_reply reply;
	enum mb_http_result ret;
	struct http_sink sink;

	memset(&sink, 0, sizeof(sink));
	sink.on_line = on_line;
	sink.line_ctx = ctx;
	sink.stop = stop;
	ret = http_post(url, tls, lim, "Content-Type: application/json",
			json, header, &sink, &reply, NULL, error_r);
	*status_r = reply.status;
	mb_http_reply_clear(&reply);
	return ret;
}

/* doctor's probes.  The connection options they share with nothing
 * else: verified TLS, the CA, timeouts, the error buffer. */
static void
http_probe_common(CURL *c, const char *ca_file, long connect_timeout,
		  long timeout, char *errbuf)
{
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, connect_timeout);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, timeout);
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
	curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 1L);
	curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 2L);
	if (ca_file != NULL)
		curl_easy_setopt(c, CURLOPT_CAINFO, ca_file);
}

static enum mb_http_fail
http_probe_fail(CURLcode rc, const char *errbuf, char *out, size_t size)
{
	snprintf(out, size, "%s", errbuf[0] ? errbuf : curl_easy_strerror(rc));
	switch (rc) {
	case CURLE_OK:
		return MB_HTTP_FAIL_NONE;
	case CURLE_PEER_FAILED_VERIFICATION:
	case CURLE_SSL_CACERT_BADFILE:
	case CURLE_SSL_CONNECT_ERROR:
	case CURLE_SSL_CERTPROBLEM:
		return MB_HTTP_FAIL_TLS;
	case CURLE_COULDNT_RESOLVE_HOST:
		return MB_HTTP_FAIL_RESOLVE;
	case CURLE_LOGIN_DENIED:
		return MB_HTTP_FAIL_DENIED;
	case CURLE_USE_SSL_FAILED:
		return MB_HTTP_FAIL_NOTLS;
	default:
		return MB_HTTP_FAIL_OTHER;
	}
}

enum mb_http_fail
mb_http_head(const char *url, const char *ca_file, long connect_timeout,
	     long timeout, long *status_r, char *errbuf, size_t errsize)
{
	char eb[CURL_ERROR_SIZE] = "";
	enum mb_http_fail f;
	CURLcode rc;
	CURL *c;

	*status_r = 0;
	if (mb_http_global_init() < 0 || (c = curl_easy_init()) == NULL) {
		snprintf(errbuf, errsize, "libcurl cannot start");
		return MB_HTTP_FAIL_OTHER;
	}
	http_probe_common(c, ca_file, connect_timeout, timeout, eb);
	curl_easy_setopt(c, CURLOPT_URL, url);
#if LIBCURL_VERSION_NUM >= 0x075500
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "https");
#else
	curl_easy_setopt(c, CURLOPT_PROTOCOLS, (long)CURLPROTO_HTTPS);
#endif
	curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
	rc = curl_easy_perform(c);
	f = http_probe_fail(rc, eb, errbuf, errsize);
	if (rc == CURLE_OK)
		curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, status_r);
	curl_easy_cleanup(c);
	return f;
}

bool
mb_http_host_is_loopback(const char *host)
{
	unsigned char a[16];

	if (strcasecmp(host, "localhost") == 0)
		return true;
	if (inet_pton(AF_INET, host, a) == 1)
		return a[0] == 127;
	if (inet_pton(AF_INET6, host, a) != 1)
		return false;
	if (IN6_IS_ADDR_LOOPBACK((struct in6_addr *)a))
		return true;
	return IN6_IS_ADDR_V4MAPPED((struct in6_addr *)a) && a[12] == 127;
}

/* The parsed URL (caller frees with curl_url_cleanup), *u filled.  NULL
 * when url is not a mail URL of ours. */
static CURLU *
http_mail_url(const char *url, struct mb_mail_url *u)
{
	static const char *const schemes[] = {
		"imap", "imaps", "smtp", "smtps", NULL
	};
	char *scheme = NULL, *host = NULL, *port = NULL;
	CURLU *h = curl_url();
	const char *hp;
	size_t i, n;

	memset(u, 0, sizeof(*u));
	if (h == NULL || curl_url_set(h, CURLUPART_URL, url, 0) != CURLUE_OK ||
	    curl_url_get(h, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
	    curl_url_get(h, CURLUPART_HOST, &host, 0) != CURLUE_OK)
		goto bad;
	for (i = 0; schemes[i] != NULL; i++)
		if (strcasecmp(scheme, schemes[i]) == 0)
			break;
	if (schemes[i] == NULL)
		goto bad;
	u->tls = scheme[strlen(scheme) - 1] == 's' ||
		 scheme[strlen(scheme) - 1] == 'S';
	hp = host;
	n = strlen(host);
	if (n >= 2 && host[0] == '[' && host[n - 1] == ']') {
		hp++;
		n -= 2;
	}
	if (n == 0 || n >= sizeof(u->host))
		goto bad;
	memcpy(u->host, hp, n);
	u->host[n] = '\0';
	u->loopback = mb_http_host_is_loopback(u->host);
	if (curl_url_get(h, CURLUPART_PORT, &port, 0) == CURLUE_OK)
		u->port = (unsigned)strtoul(port, NULL, 10);
	curl_free(scheme);
	curl_free(host);
	curl_free(port);
	return h;
bad:
	curl_free(scheme);
	curl_free(host);
	curl_url_cleanup(h);
	memset(u, 0, sizeof(*u));
	return NULL;
}

int
mb_http_mail_url(const char *url, struct mb_mail_url *u)
{
	CURLU *h = http_mail_url(url, u);

	curl_url_cleanup(h);
	return h != NULL ? 0 : -1;
}

/* Keeps the server's lines only: what we send carries the token, and is
 * only noted as having happened. */
static int
http_trace_cb(CURL *c, curl_infotype type, char *data, size_t size,
	      void *rock)
{
	struct mb_http_trace *t = rock;
	size_t room = sizeof(t->buf) - 1 - t->len;

	(void)c;
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

enum mb_http_fail
mb_http_mail_login(const char *url, const char *ca_file, const char *user,
		   const char *token, struct mb_http_trace *trace,
		   char *errbuf, size_t errsize)
{
	char eb[CURL_ERROR_SIZE] = "";
	struct mb_mail_url u;
	enum mb_http_fail f;
	CURLU *h = NULL;
	CURLcode rc;
	CURL *c = NULL;

	memset(trace, 0, sizeof(*trace));
	if (mb_http_global_init() < 0 || (c = curl_easy_init()) == NULL ||
	    (h = http_mail_url(url, &u)) == NULL) {
		snprintf(errbuf, errsize, "%s", c == NULL ? "libcurl cannot "
			 "start" : "not an imap, imaps, smtp or smtps URL");
		f = MB_HTTP_FAIL_OTHER;
		goto out;
	}
	http_probe_common(c, ca_file, 10L, 30L, eb);
	/* the very URL whose host was judged above, not a second parse */
	curl_easy_setopt(c, CURLOPT_CURLU, h);
#if LIBCURL_VERSION_NUM >= 0x075500
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "imap,imaps,smtp,smtps");
#else
	curl_easy_setopt(c, CURLOPT_PROTOCOLS, (long)(CURLPROTO_IMAP |
			 CURLPROTO_IMAPS | CURLPROTO_SMTP | CURLPROTO_SMTPS));
#endif
	curl_easy_setopt(c, CURLOPT_USERNAME, user);
	curl_easy_setopt(c, CURLOPT_XOAUTH2_BEARER, token);
	curl_easy_setopt(c, CURLOPT_LOGIN_OPTIONS, "AUTH=XOAUTH2");
	curl_easy_setopt(c, CURLOPT_CONNECT_ONLY, 1L);
	/* this machine, not a proxy's (ALL_PROXY, imap_proxy: libcurl
	 * tunnels IMAP and SMTP with CONNECT), where a token without TLS
	 * would cross the network */
	if (u.loopback)
		curl_easy_setopt(c, CURLOPT_NOPROXY, "*");
	if (!u.tls)
		curl_easy_setopt(c, CURLOPT_USE_SSL, u.loopback ?
				 (long)CURLUSESSL_TRY : (long)CURLUSESSL_ALL);
	curl_easy_setopt(c, CURLOPT_VERBOSE, 1L);
	curl_easy_setopt(c, CURLOPT_DEBUGFUNCTION, http_trace_cb);
	curl_easy_setopt(c, CURLOPT_DEBUGDATA, trace);
	rc = curl_easy_perform(c);
	f = http_probe_fail(rc, eb, errbuf, errsize);
out:
	if (c != NULL)
		curl_easy_cleanup(c);
	curl_url_cleanup(h);
	return f;
}
