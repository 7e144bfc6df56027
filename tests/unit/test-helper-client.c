/* SPDX-License-Identifier: MIT */
/* plugin/helper-client.c against a scripted fake `mailbearer serve`: a
 * child process on a UNIX socket in a private directory that reads one
 * request line and answers as each case says (a token, an error, nothing,
 * garbage, an oversized line, a line in pieces, a full listen queue).
 * The plugin side runs with a fake sasl_utils_t that records the error
 * detail and the log, so that every case checks both the result and the
 * sentence the administrator gets. */
#include <config.h>

#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <sasl/sasl.h>
#include <sasl/saslplug.h>

#include "helper-client.h"
#include "options.h"
#include "tap.h"
#include "token-source.h"

#define TOKEN "ya29.helper-TOKEN_x"
#define ERR_LINE \
	"MAILBEARER1 ERR denied uid 7 may not use account \"work\"\n"

static char detail[2048];
static char logtext[8192];

static void *
fu_malloc(size_t n)
{
	return malloc(n);
}

static void
fu_free(void *p)
{
	free(p);
}

static void
fu_erase(char *p, unsigned len)
{
	memset(p, 0, len);
}

static void
fu_seterror(sasl_conn_t *conn, unsigned flags, const char *fmt, ...)
{
	va_list ap;
	const char *s;

	(void)conn;
	(void)flags;
	(void)fmt;
	va_start(ap, fmt);	/* always "%s" */
	s = va_arg(ap, const char *);
	va_end(ap);
	snprintf(detail, sizeof(detail), "%s", s);
}

static void
fu_log(sasl_conn_t *conn, int level, const char *fmt, ...)
{
	size_t n = strlen(logtext);
	va_list ap;
	const char *s;

	(void)conn;
	(void)fmt;
	va_start(ap, fmt);
	s = va_arg(ap, const char *);
	va_end(ap);
	snprintf(logtext + n, sizeof(logtext) - n, "<%d> %s\n", level, s);
}

static sasl_utils_t utils;

/* What the fake server does after reading the request line. */
#define MISMATCH_LINE "MAILBEARER1 ERR login-mismatch account work: the " \
	"server refused the token sent with the login name \"bob\"\n"

enum script {
	SC_OK,		/* one OK line */
	SC_OK_PIECES,	/* the OK line in three writes */
	SC_ERR,		/* ERR denied ... */
	SC_CLOSE,	/* closes without a word */
	SC_SILENT,	/* never answers */
	SC_GARBAGE,	/* not the protocol */
	SC_HUGE,	/* more than a line without LF */
	SC_DONE,	/* DONE (REJECTED reports) */
	/* a helper that predates the login field: bad-request for a
	 * REJECTED with a login, DONE without; two connections */
	SC_OLD_HELPER,
	SC_MISMATCH,	/* ERR login-mismatch (REJECTED reports) */
	/* refused at accept, as serve refuses a stranger: the answer is
	 * written before the request is read, which the client's send then
	 * meets as EPIPE (forced with send_fails, below) */
	SC_REFUSED,
};

/* The plugin's send() is linked to __wrap_send (-Wl,--wrap=send): while
 * send_fails is set it fails with EPIPE, as on a connection the server
 * has already closed. */
static bool send_fails;
ssize_t __real_send(int fd, const void *buf, size_t len, int flags);
ssize_t __wrap_send(int fd, const void *buf, size_t len, int flags);

ssize_t
__wrap_send(int fd, const void *buf, size_t len, int flags)
{
	if (send_fails) {
		errno = EPIPE;
		return -1;
	}
	return __real_send(fd, buf, len, flags);
}

static char sockpath[108];
static char reqfile[256];

static void
write_all(int fd, const char *s, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, s, n);

		if (w <= 0)
			return;
		s += w;
		n -= (size_t)w;
	}
}

/* Answers like a helper that knows only "REJECTED account token". */
static void
answer_old_helper(int fd, const char *req, size_t len)
{
	const char *bad = "MAILBEARER1 ERR bad-request REJECTED needs "
		"<account> <token>\n";
	size_t spaces = 0;

	for (size_t i = 0; i < len; i++)
		spaces += req[i] == ' ';
	if (spaces == 3)
		write_all(fd, "MAILBEARER1 DONE\n", 17);
	else
		write_all(fd, bad, strlen(bad));
}

/* Reads one request line from fd into req (NUL-terminated) and appends
 * it to reqfile.  Returns its length. */
static size_t
read_and_save(int fd, char *req, size_t size)
{
	size_t len = 0;
	FILE *f;

	while (len < size - 1) {
		ssize_t n = read(fd, req + len, size - 1 - len);

		if (n <= 0)
			break;
		len += (size_t)n;
		if (memchr(req, '\n', len) != NULL)
			break;
	}
	req[len] = '\0';
	f = fopen(reqfile, "a");
	if (f != NULL) {
		fwrite(req, 1, len, f);
		fclose(f);
	}
	return len;
}

/* The child for SC_OLD_HELPER: up to two connections. */
static void
serve_old_helper(int lfd)
{
	char req[40000];

	for (int i = 0; i < 2; i++) {
		int fd = accept(lfd, NULL, NULL);
		size_t len;

		if (fd < 0)
			_exit(1);
		len = read_and_save(fd, req, sizeof(req));
		answer_old_helper(fd, req, len);
		close(fd);
		if (strstr(req, TOKEN " ") == NULL)
			break;
	}
	_exit(0);
}

/* The child: accept one client, save its request line, answer. */
static void
serve_one(int lfd, enum script sc)
{
	char req[40000];
	int fd;

	if (sc == SC_OLD_HELPER)
		serve_old_helper(lfd);
	fd = accept(lfd, NULL, NULL);
	if (fd < 0)
		_exit(1);
	if (sc == SC_REFUSED) {
		write_all(fd, ERR_LINE, strlen(ERR_LINE));
		close(fd);
		_exit(0);
	}
	read_and_save(fd, req, sizeof(req));
	switch (sc) {
	case SC_OLD_HELPER:
		break;
	case SC_OK:
		write_all(fd, "MAILBEARER1 OK 1700000000 " TOKEN "\n",
			  strlen("MAILBEARER1 OK 1700000000 " TOKEN "\n"));
		break;
	case SC_OK_PIECES:
		write_all(fd, "MAILBEARER1 OK 0 ya29", 21);
		usleep(100000);
		write_all(fd, ".helper-TO", 10);
		usleep(100000);
		write_all(fd, "KEN_x\n", 6);
		break;
	case SC_ERR:
		write_all(fd, ERR_LINE, strlen(ERR_LINE));
		break;
	case SC_CLOSE:
		break;
	case SC_SILENT:
		pause();
		break;
	case SC_GARBAGE:
		write_all(fd, "HTTP/1.0 400 Bad Request\n", 25);
		break;
	case SC_HUGE: {
		static char big[40000];

		memset(big, 'A', sizeof(big));
		write_all(fd, big, sizeof(big));
		pause();
		break;
	}
	case SC_DONE:
		write_all(fd, "MAILBEARER1 DONE\n", 17);
		break;
	case SC_MISMATCH:
		write_all(fd, MISMATCH_LINE, strlen(MISMATCH_LINE));
		break;
	case SC_REFUSED:
		break;
	}
	close(fd);
	_exit(0);
}

/* Starts the fake server; returns its pid (or -1). */
static pid_t
start_server(enum script sc)
{
	struct sockaddr_un sa;
	int lfd;
	pid_t pid;

	unlink(sockpath);
	unlink(reqfile);
	lfd = socket(AF_UNIX, SOCK_STREAM, 0);
	if (lfd < 0)
		return -1;
	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", sockpath);
	if (bind(lfd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    listen(lfd, 4) < 0) {
		close(lfd);
		return -1;
	}
	pid = fork();
	if (pid == 0)
		serve_one(lfd, sc);
	close(lfd);
	return pid;
}

static void
stop_server(pid_t pid)
{
	if (pid <= 0)
		return;
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
}

static void
read_request(char *buf, size_t size)
{
	FILE *f = fopen(reqfile, "r");
	size_t n = 0;

	if (f != NULL) {
		n = fread(buf, 1, size - 1, f);
		fclose(f);
	}
	buf[n] = '\0';
}

static void
set_opts(struct mb_options *o, int timeout)
{
	memset(o, 0, sizeof(*o));
	snprintf(o->socket_path, sizeof(o->socket_path), "%s", sockpath);
	o->helper_timeout = timeout;
}

static int
get(enum script sc, int timeout, char **tok, size_t *len)
{
	struct mb_options o;
	pid_t pid;
	int rc;

	detail[0] = '\0';
	set_opts(&o, timeout);
	pid = start_server(sc);
	if (pid < 0)
		tap_diag("cannot start the fake helper: %s", strerror(errno));
	rc = mb_helper_get_token(&utils, &o, "XOAUTH2", "work", tok, len);
	/* the child has saved the request before answering */
	stop_server(pid);
	return rc;
}

static void
test_get(void)
{
	char req[256];
	char *tok = NULL;
	size_t len = 0;
	int rc;

	rc = get(SC_OK, 10, &tok, &len);
	tap_is_int(rc, SASL_OK, "OK answer: SASL_OK");
	read_request(req, sizeof(req));
	tap_is_str(req, "MAILBEARER1 TOKEN work\n", "the request line");
	tap_is_mem(tok, tok != NULL ? len : 0, TOKEN, strlen(TOKEN),
		   "the token");
	free(tok);
	tok = NULL;

	rc = get(SC_OK_PIECES, 10, &tok, &len);
	tap_is_int(rc, SASL_OK, "answer in pieces: SASL_OK");
	tap_is_mem(tok, tok != NULL ? len : 0, TOKEN, strlen(TOKEN),
		   "answer in pieces: the token");
	free(tok);
	tok = NULL;

	rc = get(SC_ERR, 10, &tok, &len);
	tap_is_int(rc, SASL_FAIL, "ERR answer: SASL_FAIL");
	tap_ok(tok == NULL && len == 0, "ERR answer: no token");
	tap_has_str(detail, "has no token for work: denied: uid 7 may not use "
		    "account \"work\"", "ERR answer: the helper's reason");

	send_fails = true;
	rc = get(SC_REFUSED, 10, &tok, &len);
	send_fails = false;
	tap_is_int(rc, SASL_FAIL, "refused at accept: SASL_FAIL");
	tap_has_str(detail, "has no token for work: denied: uid 7 may not use "
		    "account \"work\"", "refused at accept: the helper's reason, "
		    "not the failed send");

	rc = get(SC_CLOSE, 10, &tok, &len);
	tap_is_int(rc, SASL_FAIL, "closed: SASL_FAIL");
	tap_has_str(detail, "closed the connection without an answer",
		    "closed: explained");

	rc = get(SC_GARBAGE, 10, &tok, &len);
	tap_is_int(rc, SASL_FAIL, "garbage: SASL_FAIL");
	tap_has_str(detail, "sent an invalid answer", "garbage: explained");

	rc = get(SC_HUGE, 10, &tok, &len);
	tap_is_int(rc, SASL_FAIL, "oversized answer: SASL_FAIL");
	tap_has_str(detail, "is longer than 32768 bytes",
		    "oversized: explained");

	rc = get(SC_SILENT, 1, &tok, &len);
	tap_is_int(rc, SASL_FAIL, "silent helper: SASL_FAIL");
	tap_has_str(detail, "did not answer within 1 s (mailbearer_timeout)",
		    "silent helper: the timeout is named");

	unlink(sockpath);
	{
		struct mb_options o;

		set_opts(&o, 10);
		rc = mb_helper_get_token(&utils, &o, "XOAUTH2", "work", &tok,
					 &len);
	}
	tap_is_int(rc, SASL_FAIL, "no helper: SASL_FAIL");
	tap_has_str(detail, "mailbearer serve is not running at",
		    "no helper: named");

	tap_ok(strstr(logtext, TOKEN) == NULL, "no token in the log");
}

/* A helper that accepts no more connections (listen queue full, e.g.
 * hung): the wait is bounded and the detail says what is going on. */
static void
test_queue_full(void)
{
	struct sockaddr_un sa;
	struct mb_options o;
	char *tok = NULL;
	size_t len = 0;
	int lfd, cfd, rc;

	unlink(sockpath);
	lfd = socket(AF_UNIX, SOCK_STREAM, 0);
	cfd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0);
	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", sockpath);
	if (lfd < 0 || cfd < 0 ||
	    bind(lfd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    listen(lfd, 0) < 0 ||
	    connect(cfd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		tap_skip(3, "cannot fill a listen queue");
		goto out;
	}
	detail[0] = '\0';
	set_opts(&o, 1);
	rc = mb_helper_get_token(&utils, &o, "XOAUTH2", "work", &tok, &len);
	tap_is_int(rc, SASL_FAIL, "full listen queue: SASL_FAIL");
	tap_ok(tok == NULL, "full listen queue: no token");
	tap_has_str(detail, "accepted no connection within 1 s",
		    "full listen queue: explained");
out:
	if (cfd >= 0)
		close(cfd);
	if (lfd >= 0)
		close(lfd);
	unlink(sockpath);
}

/* The token source's helper branch: "mailbearer:ACCOUNT" with the
 * trailing newline of a password file or PassCmd asks for ACCOUNT, and
 * "mailbearer:" plus a newline for the user name. */
static void
resolve(const char *pass, const char *want_req, const char *name)
{
	struct mb_options o;
	struct mb_token tok;
	char req[256];
	char what[128];
	pid_t pid;
	int rc;

	memset(&tok, 0, sizeof(tok));
	detail[0] = '\0';
	set_opts(&o, 10);
	pid = start_server(SC_OK);
	rc = mb_token_source_resolve(&utils, &o, "XOAUTH2", "alice", 5, pass,
				     strlen(pass), &tok);
	stop_server(pid);
	snprintf(what, sizeof(what), "%s: SASL_OK", name);
	if (!tap_is_int(rc, SASL_OK, what))
		tap_diag("detail: %s", detail);
	read_request(req, sizeof(req));
	snprintf(what, sizeof(what), "%s: request line", name);
	tap_is_str(req, want_req, what);
	snprintf(what, sizeof(what), "%s: the helper's token", name);
	tap_is_mem(tok.data, tok.data != NULL ? tok.len : 0, TOKEN,
		   strlen(TOKEN), what);
	mb_token_clear(&utils, &tok);
}

static void
test_resolve(void)
{
	resolve("mailbearer:work", "MAILBEARER1 TOKEN work\n",
		"mailbearer:work");
	resolve("mailbearer:work\r\n", "MAILBEARER1 TOKEN work\n",
		"mailbearer:work + CRLF");
	resolve("mailbearer:\n", "MAILBEARER1 TOKEN alice\n",
		"mailbearer: + LF");
}

static void
test_report(void)
{
	struct mb_options o;
	char req[256];
	pid_t pid;

	detail[0] = '\0';
	set_opts(&o, 10);
	pid = start_server(SC_DONE);
	mb_helper_report_rejected(&utils, &o, "XOAUTH2", "work", TOKEN,
				  NULL);
	stop_server(pid);
	read_request(req, sizeof(req));
	tap_is_str(req, "MAILBEARER1 REJECTED work " TOKEN "\n",
		   "REJECTED report line without login");
	tap_is_str(detail, "", "a report never sets the error detail");

	pid = start_server(SC_DONE);
	mb_helper_report_rejected(&utils, &o, "XOAUTH2", "work", TOKEN,
				  "Alice@Example.ORG");
	stop_server(pid);
	read_request(req, sizeof(req));
	tap_is_str(req, "MAILBEARER1 REJECTED work " TOKEN
		   " Alice@Example.ORG\n", "REJECTED report names the login");

	/* An older helper refuses the login field: the report is repeated
	 * without it, so the rejection still reaches the helper. */
	logtext[0] = '\0';
	pid = start_server(SC_OLD_HELPER);
	mb_helper_report_rejected(&utils, &o, "XOAUTH2", "work", TOKEN,
				  "alice");
	stop_server(pid);
	read_request(req, sizeof(req));
	tap_is_str(req, "MAILBEARER1 REJECTED work " TOKEN " alice\n"
		   "MAILBEARER1 REJECTED work " TOKEN "\n",
		   "older helper: the report is repeated without the login");
	tap_ok(strstr(logtext, "did not acknowledge") == NULL,
	       "older helper: no warning logged");

	/* serve names a login name that is not the account's user: the
	 * likely cause goes to the error log, where administrators look. */
	logtext[0] = '\0';
	pid = start_server(SC_MISMATCH);
	mb_helper_report_rejected(&utils, &o, "XOAUTH2", "work", TOKEN,
				  "bob");
	stop_server(pid);
	read_request(req, sizeof(req));
	tap_ok(strstr(logtext, "<1> XOAUTH2: mailbearer serve: account work: "
		      "the server refused the token sent with the login name "
		      "\"bob\"") != NULL,
	       "login-mismatch: serve's reason logged at SASL_LOG_ERR");
}

/* The token source reports the authentication name it sent with the
 * token, unaltered, or none when the wire cannot carry it. */
static void
report_via_source(const char *authid, const char *want_req,
		  const char *name)
{
	struct mb_options o;
	struct mb_token tok;
	char req[256];
	char data[] = TOKEN;
	pid_t pid;

	set_opts(&o, 10);
	memset(&tok, 0, sizeof(tok));
	snprintf(tok.account, sizeof(tok.account), "%s", "work");
	tok.mech_name = "XOAUTH2";
	tok.data = data;
	tok.len = strlen(data);
	pid = start_server(SC_DONE);
	mb_token_source_rejected(&utils, &o, authid, strlen(authid), &tok);
	stop_server(pid);
	read_request(req, sizeof(req));
	tap_is_str(req, want_req, name);
}

static void
test_report_login(void)
{
	report_via_source("bob@example.com", "MAILBEARER1 REJECTED work "
			  TOKEN " bob@example.com\n",
			  "token source: REJECTED carries the login");
	report_via_source("bob smith", "MAILBEARER1 REJECTED work " TOKEN
			  "\n", "token source: a login with a space is left "
			  "out");
	report_via_source("b\xc3\xb6" "b@example.com", "MAILBEARER1 REJECTED "
			  "work " TOKEN "\n", "token source: a non-ASCII login "
			  "is left out");
}

int
main(void)
{
	char dir[] = "/tmp/mb-hc.XXXXXX";
	char *d;

	signal(SIGPIPE, SIG_IGN);
	d = mkdtemp(dir);
	if (d == NULL)
		tap_skip_all("mkdtemp failed");
	snprintf(sockpath, sizeof(sockpath), "%s/hc.sock", d);
	snprintf(reqfile, sizeof(reqfile), "%s/hc.req", d);
	memset(&utils, 0, sizeof(utils));
	utils.malloc = fu_malloc;
	utils.free = fu_free;
	utils.erasebuffer = fu_erase;
	utils.seterror = fu_seterror;
	utils.log = fu_log;

	test_get();
	test_queue_full();
	test_resolve();
	test_report();
	test_report_login();

	unlink(sockpath);
	unlink(reqfile);
	rmdir(d);
	return tap_done();
}
