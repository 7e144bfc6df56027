/* SPDX-License-Identifier: MIT */
#include <config.h>

/* `mailbearer authorize --paste ACCOUNT`: no listener.  The user opens
 * the address, signs in and pastes the address the browser ended on
 * (or only the code) on standard input.  The state and PKCE checks are
 * those of the loopback flow; a bare code has no state to check, and
 * PKCE still binds it to this session's verifier. */

#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "flow-code.h"
#include "json.h"
#include "log.h"
#include "wipe.h"
#include "xalloc.h"

#define PASTE_MAX 8192

/* The default redirect: Microsoft's native-client page on the
 * authorize endpoint's host; otherwise a loopback address on a port
 * nothing listens on (the browser fails to load it, and the address bar
 * holds the code). */
static char *
paste_redirect(const struct mb_account *acct)
{
	struct sockaddr_in sin;
	socklen_t len = sizeof(sin);
	const char *h, *slash;
	int fd, port = 0;

	if (strcmp(acct->provider, "microsoft") == 0 &&
	    (h = strstr(acct->authorize_endpoint, "://")) != NULL) {
		slash = strchr(h + 3, '/');
		return mb_xasprintf("%.*s/common/oauth2/nativeclient",
			(int)(slash != NULL ? slash - acct->authorize_endpoint :
			      (long)strlen(acct->authorize_endpoint)),
			acct->authorize_endpoint);
	}
	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd >= 0 && bind(fd, (struct sockaddr *)&sin, sizeof(sin)) == 0 &&
	    getsockname(fd, (struct sockaddr *)&sin, &len) == 0)
		port = ntohs(sin.sin_port);
	if (fd >= 0)
		close(fd);
	return mb_xasprintf("http://127.0.0.1:%d/", port > 0 ? port : 8080);
}

/* One line from standard input within timeout seconds, malloc'd and
 * trimmed; NULL on timeout (*st_r TRANSIENT), signal, or end of input
 * (*st_r INPUT). */
static char *
paste_read(long timeout, enum mb_auth_status *st_r)
{
	char buf[PASTE_MAX + 1], *nl, *ret = NULL, *p;
	struct timespec ts;
	struct pollfd pf[2];
	size_t got = 0, n;
	long deadline, left;
	ssize_t r;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	deadline = (long)ts.tv_sec + timeout;
	*st_r = MB_AUTH_INPUT;
	while (got < PASTE_MAX) {
		clock_gettime(CLOCK_MONOTONIC, &ts);
		left = deadline - (long)ts.tv_sec;
		if (mb_auth_signal() != 0) {
			*st_r = MB_AUTH_INTERRUPTED;
			goto out;
		}
		if (left <= 0) {
			*st_r = MB_AUTH_TRANSIENT;
			goto out;
		}
		pf[0].fd = STDIN_FILENO;
		pf[0].events = POLLIN;
		pf[1].fd = mb_auth_signal_fd();
		pf[1].events = POLLIN;
		if (poll(pf, 2, (int)(left > 1000 ? 1000000 : left * 1000)) <= 0
		    || pf[0].revents == 0)
			continue;
		r = read(STDIN_FILENO, buf + got, PASTE_MAX - got);
		if (r < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (r <= 0)
			break;
		got += (size_t)r;
		buf[got] = '\0';
		if (memchr(buf, '\n', got) != NULL)
			break;
	}
	buf[got] = '\0';
	nl = strchr(buf, '\n');
	if (nl != NULL)
		*nl = '\0';
	for (p = buf; *p == ' ' || *p == '\t'; p++)
		;
	n = strlen(p);
	while (n > 0 && (p[n - 1] == ' ' || p[n - 1] == '\t' ||
			 p[n - 1] == '\r'))
		p[--n] = '\0';
	if (n > 0)
		ret = mb_xstrdup(p);
out:
	mb_wipe(buf, sizeof(buf));
	return ret;
}

/* What was pasted: an address (its query), a query, or a bare code.
 * Returns the code to redeem (in r->code), MB_AUTH_OK when it may be. */
static enum mb_auth_status
paste_judge(const struct mb_account *acct, const struct mb_code_session *s,
	    const char *in, struct mb_code_redirect *r)
{
	const char *q = strchr(in, '?');
	enum mb_auth_status st;
	char *err = NULL;

	if (q == NULL && strstr(in, "code=") == NULL &&
	    strstr(in, "error=") == NULL && strchr(in, '/') == NULL) {
		memset(r, 0, sizeof(*r));
		r->code = mb_xstrdup(in);
		if (!mb_json_token_sane(r->code) || strchr(in, ' ')) {
			mb_log(LOG_ERR, "%s: what was pasted is neither an "
			       "address nor a code; nothing was stored",
			       acct->name);
			return MB_AUTH_INPUT;
		}
		mb_log(LOG_NOTICE, "%s: a bare code has no state to check; "
		       "PKCE binds it to this session", acct->name);
		return MB_AUTH_OK;
	}
	if (mb_code_parse_query(q != NULL ? q + 1 : in, r) < 0) {
		mb_log(LOG_ERR, "%s: the pasted address cannot be parsed (a "
		       "parameter twice, or a bad %%-escape); nothing was "
		       "stored", acct->name);
		return MB_AUTH_INPUT;
	}
	st = mb_code_check_redirect(acct, r, s, &err);
	if (st != MB_AUTH_OK) {
		mb_log(LOG_ERR, "%s: %s", acct->name, err);
		free(err);
	}
	return st;
}

enum mb_auth_status
mb_authorize_paste(const struct mb_account *acct,
		   const struct mb_auth_opts *o)
{
	struct mb_code_redirect r;
	struct mb_code_session s;
	enum mb_auth_status st = MB_AUTH_LOCAL;
	char *err = NULL, *redirect, *url, *in = NULL;

	memset(&r, 0, sizeof(r));
	redirect = o->redirect_uri != NULL ? mb_xstrdup(o->redirect_uri) :
		   paste_redirect(acct);
	if (mb_code_session_init(&s, redirect, &err) < 0) {
		mb_log(LOG_ERR, "%s", err);
		free(err);
		free(redirect);
		return MB_AUTH_LOCAL;
	}
	free(redirect);
	url = mb_code_auth_url(acct, &s);
	if (url == NULL)
		goto out;
	printf("Open this address in a browser and sign in:\n%s\n"
	       "The browser then ends on %s... (the page may fail to load:\n"
	       "that is expected).  Paste that whole address here (or only "
	       "the code), then Enter;\nwaiting up to %ld s:\n", url,
	       s.redirect_uri, o->timeout);
	fflush(stdout);
	in = paste_read(o->timeout, &st);
	if (in == NULL) {
		if (st != MB_AUTH_INTERRUPTED)
			mb_log(LOG_ERR, "%s: %s; nothing was stored",
			       acct->name, st == MB_AUTH_TRANSIENT ?
			       "nothing was pasted in time (--timeout sets "
			       "the wait)" : "nothing was pasted");
		goto out;
	}
	st = paste_judge(acct, &s, in, &r);
	if (st == MB_AUTH_OK)
		st = mb_code_redeem(acct, &s, r.code);
out:
	mb_free_secret(&in);
	free(url);
	mb_code_redirect_clear(&r);
	mb_code_session_clear(&s);
	return st;
}
