/* SPDX-License-Identifier: MIT */
#include <config.h>

/* `mailbearer authorize ACCOUNT` (default flow): the provider redirects
 * the browser to a listener on 127.0.0.1 and ::1, one random port (RFC
 * 8252 7.3; "localhost" may resolve to either, and a port left free on
 * one of them could be taken by another local process), which takes
 * exactly one authorization response carrying this run's state, answers
 * the browser with a short plain page and goes away.  Any other request
 * (a favicon, a stale tab, a forged redirect) is answered and ignored,
 * however many come: a local process that sends them cannot end the run
 * (only this run's redirect, a signal or the timeout do). */

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "errtext.h"
#include "flow-code.h"
#include "log.h"
#include "wipe.h"
#include "xalloc.h"

/* A browser gets this long to send its request line once connected. */
#define LOOP_REQUEST_SECS 10
#define LOOP_REQUEST_MAX 8192
/* Connections read at once. */
#define LOOP_CONNS 8
/* Ignored redirects logged one by one; after that, one line says that
 * the rest go unlogged (a flood must not flood the terminal). */
#define LOOP_IGNORED_LOGGED 5
/* Tries to find a port free on both 127.0.0.1 and ::1. */
#define LOOP_PORT_TRIES 16

static long
loop_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long)ts.tv_sec;
}

/* A listening socket on 127.0.0.1 (port 0: chosen by the kernel) or
 * ::1 (IPv6 only), on *port_r.  The fd, or -1 with errno. */
static int
loop_listen_one(int family, int *port_r)
{
	struct sockaddr_in sin;
	struct sockaddr_in6 sin6;
	struct sockaddr *sa;
	socklen_t len;
	int fd, one = 1;

	fd = socket(family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -1;
	if (family == AF_INET) {
		memset(&sin, 0, sizeof(sin));
		sin.sin_family = AF_INET;
		sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		sin.sin_port = htons((uint16_t)*port_r);
		sa = (struct sockaddr *)&sin;
		len = sizeof(sin);
	} else {
		memset(&sin6, 0, sizeof(sin6));
		sin6.sin6_family = AF_INET6;
		sin6.sin6_addr = in6addr_loopback;
		sin6.sin6_port = htons((uint16_t)*port_r);
		sa = (struct sockaddr *)&sin6;
		len = sizeof(sin6);
		(void)setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one,
				 sizeof(one));
	}
	if (bind(fd, sa, len) < 0 || listen(fd, 8) < 0 ||
	    getsockname(fd, sa, &len) < 0) {
		int e = errno;

		close(fd);
		errno = e;
		return -1;
	}
	*port_r = ntohs(family == AF_INET ? sin.sin_port : sin6.sin6_port);
	return fd;
}

/* Listens on 127.0.0.1 and ::1 on one port (lfd[0], lfd[1]); lfd[1] is
 * -1 on a host without IPv6 loopback, where nobody else can take ::1
 * either.  A port some other process holds on ::1 is given up for a new
 * one.  0, or -1 with errno. */
static int
loop_listen(int lfd[2], int *port_r)
{
	int i, port, e;

	for (i = 0; i < LOOP_PORT_TRIES; i++) {
		port = 0;
		lfd[0] = loop_listen_one(AF_INET, &port);
		if (lfd[0] < 0)
			return -1;
		lfd[1] = loop_listen_one(AF_INET6, &port);
		if (lfd[1] >= 0 || errno == EAFNOSUPPORT ||
		    errno == EADDRNOTAVAIL) {
			*port_r = port;
			return 0;
		}
		e = errno;
		close(lfd[0]);
		if (e != EADDRINUSE) {
			errno = e;
			return -1;
		}
	}
	errno = EADDRINUSE;
	return -1;
}

/* The browser command, if one can be shown here: $BROWSER (its first
 * ':'-separated entry), or xdg-open when there is a display. */
static const char *
loop_browser(char *buf, size_t len)
{
	const char *b = getenv("BROWSER"), *d = getenv("DISPLAY");
	const char *w = getenv("WAYLAND_DISPLAY");

	if (b != NULL && b[0] != '\0') {
		snprintf(buf, len, "%.*s", (int)strcspn(b, ":"), b);
		return buf[0] != '\0' ? buf : NULL;
	}
	if ((d != NULL && d[0] != '\0') || (w != NULL && w[0] != '\0'))
		return access("/usr/bin/xdg-open", X_OK) == 0 ?
		       "/usr/bin/xdg-open" : NULL;
	return NULL;
}

/* Starts cmd URL detached (double fork: no zombie, no waiting), with
 * signals unblocked and standard streams on /dev/null.  true if the
 * intermediate child could be started. */
static bool
loop_spawn(const char *cmd, const char *url)
{
	sigset_t none;
	pid_t pid;
	int st, fd;

	pid = fork();
	if (pid < 0)
		return false;
	if (pid == 0) {
		if (fork() != 0)
			_exit(0);
		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		setsid();
		fd = open("/dev/null", O_RDWR);
		if (fd >= 0) {
			dup2(fd, 0);
			dup2(fd, 1);
			dup2(fd, 2);
		}
		execlp(cmd, cmd, url, (char *)NULL);
		_exit(127);
	}
	while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
	return true;
}

static void
loop_instructions(const char *url, int port, const struct mb_auth_opts *o)
{
	char buf[256], host[256];
	const char *browser = o->no_browser ? NULL :
			      loop_browser(buf, sizeof(buf));

	printf("Open this address in a browser and sign in:\n%s\n", url);
	if (browser != NULL && loop_spawn(browser, url)) {
		printf("(started %s; if no window appeared, open the address "
		       "yourself)\n", browser);
	} else {
		if (gethostname(host, sizeof(host)) != 0)
			snprintf(host, sizeof(host), "this-host");
		host[sizeof(host) - 1] = '\0';
		printf("The browser must reach 127.0.0.1:%d on this machine. "
		       "From a workstation, first run:\n"
		       "  ssh -L %d:127.0.0.1:%d %s\n"
		       "then open the address there.\n", port, port, port,
		       host);
	}
	printf("Waiting up to %ld s for the provider's redirect...\n",
	       o->timeout);
	fflush(stdout);
}

/* Waits for fd to be readable (or, with out, writable) until the
 * monotonic deadline; watches for signals.  1 ready, 0 timed out, -1
 * interrupted. */
static int
loop_wait_fd(int fd, bool out, long deadline)
{
	struct pollfd p[2];
	long left;
	int r;

	for (;;) {
		if (mb_auth_signal() != 0)
			return -1;
		left = deadline - loop_now();
		if (left <= 0)
			return 0;
		p[0].fd = fd;
		p[0].events = out ? POLLOUT : POLLIN;
		p[1].fd = mb_auth_signal_fd();
		p[1].events = POLLIN;
		r = poll(p, p[1].fd >= 0 ? 2 : 1,
			 (int)(left > 1000 ? 1000000 : left * 1000));
		if (r < 0 && errno != EINTR)
			return -1;
		if (r > 0 && p[0].revents != 0)
			return 1;
	}
}

/* A short plain page as an HTTP response, malloc'd. */
static char *
loop_page(int status, const char *text)
{
	return mb_xasprintf("HTTP/1.1 %d %s\r\n"
		"Content-Type: text/plain; charset=utf-8\r\n"
		"Content-Length: %zu\r\nCache-Control: no-store\r\n"
		"Connection: close\r\n\r\n%s", status,
		status == 200 ? "OK" : status == 404 ? "Not Found" :
		"Bad Request", strlen(text), text);
}

/* A short plain page; best effort, bounded. */
static void
loop_answer(int conn, int status, const char *text)
{
	char *msg = loop_page(status, text);
	size_t off = 0, len = strlen(msg);
	long deadline = loop_now() + 5;
	ssize_t n;

	while (off < len && loop_wait_fd(conn, true, deadline) == 1) {
		n = send(conn, msg + off, len - off, MSG_NOSIGNAL);
		if (n < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (n <= 0)
			break;
		off += (size_t)n;
	}
	free(msg);
}

/* A connection whose request line has not arrived yet.  A browser may
 * open speculative connections it never uses: several are read at once,
 * so that an idle one does not hold up the redirect, and each has its
 * own deadline. */
struct loop_conn {
	int fd;			/* -1: free slot */
	long deadline;
	size_t got;
	char buf[LOOP_REQUEST_MAX + 1];
};

/* The listener: its two sockets, the connections being read, and how
 * many redirects it ignored. */
struct loop {
	int lfd[2];
	struct loop_conn cs[LOOP_CONNS];
	const struct mb_code_session *s;
	const char *account;
	unsigned ignored_redirects;	/* for the log's bound */
};

static void
loop_conn_close(struct loop_conn *c)
{
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
	c->got = 0;
	mb_wipe(c->buf, sizeof(c->buf));
}

/* The request target of a complete request line in c->buf
 * ("GET /?code=... HTTP/1.1"), malloc'd; NULL when it is not a GET. */
static char *
loop_target(struct loop_conn *c)
{
	char *eol = strstr(c->buf, "\r\n"), *sp;

	*eol = '\0';
	if (strncmp(c->buf, "GET /", 5) != 0)
		return NULL;
	sp = strchr(c->buf + 4, ' ');
	if (sp == NULL)
		return NULL;
	*sp = '\0';
	return mb_xstrdup(c->buf + 4);
}

/* An ignored request's page: one non-blocking send (it fits any socket
 * buffer), so that a client that does not read holds nothing up. */
static void
loop_answer_now(int conn, int status, const char *text)
{
	char *msg = loop_page(status, text);

	(void)!send(conn, msg, strlen(msg), MSG_NOSIGNAL | MSG_DONTWAIT);
	free(msg);
}

/* c's request line is complete: 1 it carried an authorization response
 * with this run's state (parsed into *r; c stays open), 0 anything else
 * (answered, closed, counted). */
static int
loop_take(struct loop *l, struct loop_conn *c, struct mb_code_redirect *r)
{
	char *target = loop_target(c);
	size_t plen = target != NULL ? strcspn(target, "?#") : 0;

	if (target == NULL || plen != 1) {
		loop_answer_now(c->fd, 404, "mailbearer: not here.\n");
	} else if (target[plen] != '?' ||
		   mb_code_parse_query(target + 2, r) < 0 ||
		   (r->code == NULL && r->state == NULL && r->error == NULL)) {
		mb_code_redirect_clear(r);
		loop_answer_now(c->fd, 400, "mailbearer: this is not an "
				"authorization response.\n");
	} else if (!mb_code_state_matches(r, l->s)) {
		/* An old tab, or someone else's code: the one this run
		 * waits for may still come. */
		if (l->ignored_redirects < LOOP_IGNORED_LOGGED)
			mb_log(LOG_WARNING, "%s: ignored a redirect %s (an old "
			       "browser tab, or a forged redirect); still "
			       "waiting for this authorization's", l->account,
			       r->state == NULL ? "without a state" :
			       "whose state is not this authorization's");
		else if (l->ignored_redirects == LOOP_IGNORED_LOGGED)
			mb_log(LOG_WARNING, "%s: more redirects that are not "
			       "this authorization's (another local process "
			       "sends them?); ignoring them without a word, "
			       "still waiting", l->account);
		l->ignored_redirects++;
		mb_code_redirect_clear(r);
		loop_answer_now(c->fd, 400, "mailbearer: this redirect does "
				"not belong to the authorization in progress "
				"and was ignored.\n");
	} else {
		mb_free_secret(&target);
		return 1;
	}
	mb_free_secret(&target);
	loop_conn_close(c);
	return 0;
}

/* Reads what c has; 1 when its request line is complete, 0 not yet, -1
 * closed (end of stream, error, or too long). */
static int
loop_conn_read(struct loop_conn *c)
{
	ssize_t n;

	n = read(c->fd, c->buf + c->got, LOOP_REQUEST_MAX - c->got);
	if (n < 0 && (errno == EINTR || errno == EAGAIN))
		return 0;
	if (n > 0) {
		c->got += (size_t)n;
		c->buf[c->got] = '\0';
		if (strstr(c->buf, "\r\n") != NULL)
			return 1;
		if (c->got < LOOP_REQUEST_MAX)
			return 0;
	}
	loop_conn_close(c);
	return -1;
}

/* A free slot for a new connection (the oldest is dropped if none). */
static struct loop_conn *
loop_slot(struct loop_conn *cs, size_t n)
{
	size_t i, old = 0;

	for (i = 0; i < n; i++) {
		if (cs[i].fd < 0)
			return &cs[i];
		if (cs[i].deadline < cs[old].deadline)
			old = i;
	}
	loop_conn_close(&cs[old]);
	return &cs[old];
}

static void
loop_accept_one(struct loop *l, int lfd)
{
	struct loop_conn *c;
	int fd;

	fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
	if (fd >= 0) {
		c = loop_slot(l->cs, LOOP_CONNS);
		c->fd = fd;
		c->deadline = loop_now() + LOOP_REQUEST_SECS;
	} else if (errno == EMFILE || errno == ENFILE ||
		   errno == ENOBUFS || errno == ENOMEM) {
		/* The connection stays queued: no busy loop. */
		(void)poll(NULL, 0, 100);
	}
}

/* One poll over the listeners, the signal pipe and the connections;
 * accepts, reads, expires.  The index of a connection that carried this
 * run's authorization response, else -1. */
static int
loop_step(struct loop *l, long deadline, struct mb_code_redirect *r)
{
	struct pollfd p[LOOP_CONNS + 3];
	long now = loop_now(), wake = deadline;
	struct loop_conn *cs = l->cs;
	size_t i;

	p[0].fd = l->lfd[0];
	p[1].fd = l->lfd[1];
	p[2].fd = mb_auth_signal_fd();
	for (i = 0; i < LOOP_CONNS; i++) {
		p[i + 3].fd = cs[i].fd;
		if (cs[i].fd >= 0 && cs[i].deadline < wake)
			wake = cs[i].deadline;
	}
	for (i = 0; i < LOOP_CONNS + 3; i++) {
		p[i].events = POLLIN;
		p[i].revents = 0;
	}
	(void)poll(p, LOOP_CONNS + 3,
		   wake > now ? (int)(wake - now) * 1000 : 0);
	for (i = 0; i < LOOP_CONNS; i++) {
		if (cs[i].fd < 0)
			continue;
		if (p[i + 3].revents != 0 && loop_conn_read(&cs[i]) == 1 &&
		    loop_take(l, &cs[i], r) == 1)
			return (int)i;
		if (cs[i].fd >= 0 && loop_now() >= cs[i].deadline)
			loop_conn_close(&cs[i]);
	}
	for (i = 0; i < 2; i++) {
		if (l->lfd[i] >= 0 && p[i].revents != 0)
			loop_accept_one(l, l->lfd[i]);
	}
	return -1;
}

/* Accepts until one connection carries this run's authorization
 * response.  Returns its fd (r filled), or -1 with *st_r; every other
 * connection is closed either way. */
static int
loop_accept(struct loop *l, long deadline, struct mb_code_redirect *r,
	    enum mb_auth_status *st_r)
{
	int k = -1, fd = -1;
	size_t i;

	for (i = 0; i < LOOP_CONNS; i++)
		l->cs[i].fd = -1;
	while (k < 0) {
		if (mb_auth_signal() != 0 || loop_now() >= deadline) {
			*st_r = mb_auth_signal() != 0 ? MB_AUTH_INTERRUPTED :
				MB_AUTH_TRANSIENT;
			break;
		}
		k = loop_step(l, deadline, r);
	}
	if (k >= 0) {
		fd = l->cs[k].fd;
		l->cs[k].fd = -1;
	}
	for (i = 0; i < LOOP_CONNS; i++)
		loop_conn_close(&l->cs[i]);
	return fd;
}

static enum mb_auth_status
loop_finish(const struct mb_account *acct, struct mb_code_session *s,
	    int conn, struct mb_code_redirect *r)
{
	enum mb_auth_status st;
	char *err = NULL, *page;

	st = mb_code_check_redirect(acct, r, s, &err);
	if (st != MB_AUTH_OK) {
		page = mb_xasprintf("mailbearer: authorization of %s "
				    "refused: %s\n", acct->name, err);
		loop_answer(conn, 400, page);
		mb_log(LOG_ERR, "%s: %s", acct->name, err);
		free(page);
		free(err);
		return st;
	}
	st = mb_code_redeem(acct, s, r->code);
	page = mb_xasprintf(st == MB_AUTH_OK ?
			    "mailbearer: %s is authorized. You can close "
			    "this window.\n" :
			    "mailbearer: the authorization of %s did not "
			    "complete; see the terminal.\n", acct->name);
	loop_answer(conn, st == MB_AUTH_OK ? 200 : 400, page);
	free(page);
	return st;
}

static void
loop_close(struct loop *l)
{
	size_t i;

	for (i = 0; i < 2; i++) {
		if (l->lfd[i] >= 0)
			close(l->lfd[i]);
		l->lfd[i] = -1;
	}
}

enum mb_auth_status
mb_authorize_loopback(const struct mb_account *acct,
		      const struct mb_auth_opts *o)
{
	static struct loop l;
	struct mb_code_redirect r;
	struct mb_code_session s;
	enum mb_auth_status st = MB_AUTH_LOCAL;
	char *err = NULL, *redirect, *url;
	int port = 0, conn;
	long deadline;

	memset(&r, 0, sizeof(r));
	memset(&l, 0, sizeof(l));
	if (loop_listen(l.lfd, &port) < 0) {
		mb_log(LOG_ERR, "cannot listen on 127.0.0.1 and ::1: %s",
		       mb_errstr(errno));
		return MB_AUTH_LOCAL;
	}
	/* Microsoft registers http://localhost (any port); Google and RFC
	 * 8252 prefer the literal address.  Either way 127.0.0.1 and ::1
	 * listen, whatever localhost resolves to. */
	redirect = mb_xasprintf("http://%s:%d/",
				strcmp(acct->provider, "microsoft") == 0 ?
				"localhost" : "127.0.0.1", port);
	if (mb_code_session_init(&s, redirect, &err) < 0) {
		mb_log(LOG_ERR, "%s", err);
		free(err);
		free(redirect);
		loop_close(&l);
		return MB_AUTH_LOCAL;
	}
	free(redirect);
	l.s = &s;
	l.account = acct->name;
	url = mb_code_auth_url(acct, &s);
	if (url == NULL)
		goto out;
	loop_instructions(url, port, o);
	deadline = loop_now() + o->timeout;
	conn = loop_accept(&l, deadline, &r, &st);
	/* One response is all we take: no listener from here on. */
	loop_close(&l);
	if (conn < 0) {
		if (st == MB_AUTH_TRANSIENT)
			mb_log(LOG_ERR, "%s: no redirect arrived within %ld s; "
			       "nothing was stored (--timeout sets the wait)",
			       acct->name, o->timeout);
		goto out;
	}
	st = loop_finish(acct, &s, conn, &r);
	close(conn);
out:
	loop_close(&l);
	free(url);
	mb_code_redirect_clear(&r);
	mb_code_session_clear(&s);
	return st;
}
