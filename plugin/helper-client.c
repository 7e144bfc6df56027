/* SPDX-License-Identifier: MIT */
#include <config.h>

#include "helper-client.h"

#include <errno.h>
#include <stdarg.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>	/* snprintf only */
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "errstr.h"
#include "ipc-proto.h"
#include "sasl-log.h"
#include "serve-socket.h"
#include "xoauth2-msg.h"

/* A REJECTED report never holds a login up for longer than this. */
#define MB_REPORT_TIMEOUT_MS 5000

/* Where this process stood when the plugin was loaded: Postfix's smtp(8)
 * loads it (sasl_client_init in pre_init) in its queue directory, before
 * chroot(2) makes that directory "/".  A missing socket is then explained
 * as seen from outside the chroot. */
static struct {
	bool known;
	dev_t root_dev, cwd_dev;
	ino_t root_ino, cwd_ino;
	char cwd[256];
} load_where;

static void __attribute__((constructor))
note_load_where(void)
{
	struct stat r, c;

	if (stat("/", &r) < 0 || stat(".", &c) < 0 ||
	    getcwd(load_where.cwd, sizeof(load_where.cwd)) == NULL)
		return;
	load_where.root_dev = r.st_dev;
	load_where.root_ino = r.st_ino;
	load_where.cwd_dev = c.st_dev;
	load_where.cwd_ino = c.st_ino;
	load_where.known = true;
}

/* Writes to buf, when this process runs chrooted, where the socket path
 * must be created as seen from outside; "" when not chrooted (or unknown). */
static void
chroot_hint(char *buf, size_t size, const char *path)
{
	char root[256];
	struct stat r;
	ssize_t n;

	buf[0] = '\0';
	n = readlink("/proc/self/root", root, sizeof(root) - 1);
	if (n > 0) {
		root[n] = '\0';
		if (strcmp(root, "/") == 0)
			return;
	} else if (load_where.known && stat("/", &r) == 0 &&
		   r.st_dev == load_where.cwd_dev &&
		   r.st_ino == load_where.cwd_ino &&
		   (r.st_dev != load_where.root_dev ||
		    r.st_ino != load_where.root_ino)) {
		snprintf(root, sizeof(root), "%s", load_where.cwd);
	} else if (load_where.known && stat("/", &r) == 0 &&
		   (r.st_dev != load_where.root_dev ||
		    r.st_ino != load_where.root_ino)) {
		snprintf(buf, size, "; this process runs chrooted, so %s is "
			 "looked up inside the chroot: create the socket at "
			 "CHROOT%s (for Postfix's smtp(8): its "
			 "queue_directory, e.g. /var/spool/postfix%s)",
			 path, path, path);
		return;
	} else {
		return;
	}
	snprintf(buf, size, "; this process runs chrooted in %s, so %s is "
		 "looked up relative to it: create the socket at %s%s "
		 "(serve --socket %s%s,mode=0660,group=GROUP)", root, path,
		 root, path, root, path);
}

static long
ms_left(const struct timespec *deadline)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (deadline->tv_sec - now.tv_sec) * 1000 +
		(deadline->tv_nsec - now.tv_nsec) / 1000000;
}

/* Waits for events on fd until the deadline.  1 ready, 0 timeout. */
static int
wait_fd(int fd, short events, const struct timespec *deadline)
{
	for (;;) {
		struct pollfd p = { fd, events, 0 };
		long left = ms_left(deadline);
		int rc;

		if (left <= 0)
			return 0;
		rc = poll(&p, 1, (int)left);
		if (rc < 0 && errno == EINTR)
			continue;
		return rc > 0 ? 1 : 0;
	}
}

struct helper_call {
	const sasl_utils_t *utils;
	const char *mech;
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	enum mb_sock_from from;	/* which rule chose path */
	char *buf;		/* utils->malloc'd, MB_IPC_LINE_MAX + 1 */
	int fd;
	/* a REJECTED report: errors are logged, never set as the error
	 * detail (which explains the server's rejection) */
	bool quiet;
	/* why the system socket, when it was a fallback: appended to
	 * every failure ("" otherwise) */
	char why[256];
};

static void call_fail(const struct helper_call *c, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void
call_fail(const struct helper_call *c, const char *fmt, ...)
{
	char msg[MB_SASL_LOG_MAX];
	va_list ap;

	size_t len;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	len = strlen(msg);
	if (c->why[0] != '\0' && len < sizeof(msg))
		snprintf(msg + len, sizeof(msg) - len, " (%s)", c->why);
	if (c->quiet)
		mb_sasl_log(c->utils, SASL_LOG_WARN, "%s (reporting a rejected "
			    "token)", msg);
	else
		mb_sasl_seterror(c->utils, "%s", msg);
}

static const char *
errtext(int err, char *buf, size_t size)
{
	return mb_strerror(err, buf, size);
}

/* Connects with a deadline (timeout: its length in ms, for the
 * message).  Returns 0, or -1 after seterror. */
static int
call_connect(struct helper_call *c, const struct timespec *deadline,
	     int timeout)
{
	char eb[128];
	int err = 0;

	c->fd = mb_sock_connect(c->path, deadline, &err);
	if (c->fd >= 0)
		return 0;
	if (err == EAGAIN)
		call_fail(c, "%s: mailbearer serve at %s accepted no "
			    "connection within %d s (mailbearer_timeout): its "
			    "listen queue is full, so it is overloaded or "
			    "hung; see its log, or restart it", c->mech,
			    c->path, timeout / 1000);
	else if (err == ENOENT || err == ECONNREFUSED) {
		char hint[1536] = "";

		if (err == ENOENT)
			chroot_hint(hint, sizeof(hint), c->path);
		call_fail(c, "%s: mailbearer serve is not running at "
			    "%s (connect: %s)%s; start it with \"mailbearer "
			    "serve\" (or systemctl start mailbearer.socket), "
			    "or set mailbearer_socket / MAILBEARER_SOCKET",
			    c->mech, c->path, errtext(err, eb, sizeof(eb)),
			    hint);
	} else if (err == EACCES || err == EPERM)
		call_fail(c, "%s: cannot connect to mailbearer serve "
			    "at %s (%s); give this user access to the socket "
			    "(serve --socket PATH,mode=0660,group=GROUP)",
			    c->mech, c->path, errtext(err, eb, sizeof(eb)));
	else
		call_fail(c, "%s: cannot connect to mailbearer serve "
			    "at %s (%s)", c->mech, c->path,
			    errtext(err, eb, sizeof(eb)));
	return -1;
}

/* Sends the request in c->buf (len bytes), reads one response line into
 * c->buf.  Returns its length, or -1 after seterror. */
static long
call_exchange(struct helper_call *c, size_t len,
	      const struct timespec *deadline, int timeout)
{
	size_t off = 0;
	char eb[128];

	while (off < len) {
		ssize_t n;

		if (!wait_fd(c->fd, POLLOUT, deadline))
			goto timeout;
		n = send(c->fd, c->buf + off, len - off, MSG_NOSIGNAL);
		if (n < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		/* serve refuses some clients at accept, before reading: its
		 * answer is waiting to be read, and says more than EPIPE */
		if (n < 0 && (errno == EPIPE || errno == ECONNRESET))
			break;
		if (n <= 0)
			goto ioerr;
		off += (size_t)n;
	}
	len = 0;
	while (len < MB_IPC_LINE_MAX) {
		ssize_t n;

		if (!wait_fd(c->fd, POLLIN, deadline))
			goto timeout;
		n = recv(c->fd, c->buf + len, MB_IPC_LINE_MAX - len, 0);
		if (n < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (n < 0)
			goto ioerr;
		if (n == 0) {
			call_fail(c, "%s: mailbearer serve at %s "
				    "closed the connection without an answer",
				    c->mech, c->path);
			return -1;
		}
		if (memchr(c->buf + len, '\n', (size_t)n) != NULL) {
			len += (size_t)n;
			return (long)len;
		}
		len += (size_t)n;
	}
	call_fail(c, "%s: the answer of mailbearer serve at %s is "
		    "longer than %d bytes", c->mech, c->path, MB_IPC_LINE_MAX);
	return -1;
timeout:
	call_fail(c, "%s: mailbearer serve at %s did not answer "
		    "within %d s (mailbearer_timeout)", c->mech, c->path,
		    timeout / 1000);
	return -1;
ioerr:
	call_fail(c, "%s: talking to mailbearer serve at %s: %s",
		    c->mech, c->path, errtext(errno, eb, sizeof(eb)));
	return -1;
}

static void
call_end(struct helper_call *c)
{
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
	if (c->buf != NULL) {
		c->utils->erasebuffer(c->buf, MB_IPC_LINE_MAX + 1);
		c->utils->free(c->buf);
	}
	c->buf = NULL;
}

/* c->why: when the system socket was chosen only because no per-user one
 * was found, says why where that helps (mb_sock_fallback_why: not in a
 * daemon such as Postfix's smtp(8), which has no XDG_RUNTIME_DIR and means
 * the system socket), and logs it at SASL_LOG_NOTE: a user's client that
 * silently reached the system's serve would fail with reasons that name
 * no cause. */
static void
call_why(struct helper_call *c)
{
	c->why[0] = '\0';
	if (c->from != MB_SOCK_SYSTEM)
		return;
	mb_sock_fallback_why(c->why, sizeof(c->why));
	if (c->why[0] != '\0')
		mb_sasl_log(c->utils, SASL_LOG_NOTE, "%s: using %s (%s)",
			    c->mech, c->path, c->why);
}

/* Sets up c; returns SASL_OK or an error after seterror. */
static int
call_begin(struct helper_call *c, const sasl_utils_t *utils,
	   const struct mb_options *opts, const char *mech_name,
	   const char *account, bool quiet)
{
	char who[160];

	c->utils = utils;
	c->mech = mech_name;
	c->fd = -1;
	c->buf = NULL;
	c->quiet = quiet;
	c->why[0] = '\0';
	if (account == NULL ||
	    !mb_ipc_valid_account(account, strlen(account))) {
		mb_xo_sanitize(who, sizeof(who), account,
			       account != NULL ? strlen(account) : 0);
		call_fail(c, "%s: \"%s\" cannot be a mailbearer account "
			    "name (%s); use the password "
			    "mailbearer:<account>", mech_name, who,
			    MB_ACCOUNT_NAME_RULE);
		return SASL_BADPARAM;
	}
	if (mb_sock_client_path(opts->socket_path, c->path, sizeof(c->path),
				&c->from) < 0) {
		call_fail(c, "%s: the mailbearer socket path is too "
			    "long (at most %u bytes)", mech_name,
			    (unsigned)sizeof(c->path) - 1);
		return SASL_BADPARAM;
	}
	call_why(c);
	c->buf = utils->malloc(MB_IPC_LINE_MAX + 1);
	if (c->buf == NULL) {
		call_fail(c, "%s: out of memory", mech_name);
		return SASL_NOMEM;
	}
	return SASL_OK;
}

int
mb_helper_get_token(const sasl_utils_t *utils, const struct mb_options *opts,
		    const char *mech_name, const char *account,
		    char **token_r, size_t *len_r)
{
	struct helper_call c;
	struct mb_ipc_response r;
	struct timespec deadline;
	const char *why = NULL;
	int timeout = opts->helper_timeout * 1000;
	int result;
	long n;

	*token_r = NULL;
	*len_r = 0;
	result = call_begin(&c, utils, opts, mech_name, account, false);
	if (result != SASL_OK)
		goto out;
	result = SASL_FAIL;
	clock_gettime(CLOCK_MONOTONIC, &deadline);
	deadline.tv_sec += timeout / 1000;
	n = mb_ipc_format_token_request(c.buf, MB_IPC_LINE_MAX + 1, account);
	if (n < 0 || call_connect(&c, &deadline, timeout) < 0)
		goto out;
	n = call_exchange(&c, (size_t)n, &deadline, timeout);
	if (n < 0)
		goto out;
	if (mb_ipc_parse_response(c.buf, (size_t)n, &r, &why) < 0) {
		call_fail(&c, "%s: mailbearer serve at %s sent an "
			    "invalid answer (%s)", mech_name, c.path, why);
		goto out;
	}
	if (r.type == MB_IPC_RESP_ERR) {
		call_fail(&c, "%s: mailbearer serve at %s has no token "
			    "for %s: %s: %s", mech_name, c.path, account,
			    r.code_name, r.text);
		goto out;
	}
	if (r.type != MB_IPC_RESP_OK) {
		call_fail(&c, "%s: mailbearer serve at %s sent an "
			    "unexpected answer", mech_name, c.path);
		goto out;
	}
	*len_r = strlen(r.token);
	*token_r = utils->malloc(*len_r + 1);
	if (*token_r == NULL) {
		*len_r = 0;
		call_fail(&c, "%s: out of memory", mech_name);
		result = SASL_NOMEM;
		goto out;
	}
	memcpy(*token_r, r.token, *len_r + 1);
	mb_sasl_log(utils, SASL_LOG_DEBUG, "%s: token for %s from %s",
		    mech_name, account, c.path);
	result = SASL_OK;
out:
	call_end(&c);
	return result;
}

/* One REJECTED exchange.  Returns 0 on DONE, 1 when the helper answered
 * bad-request (an older helper that knows no login field), -1 otherwise
 * (already logged). */
static int
report_once(const sasl_utils_t *utils, const struct mb_options *opts,
	    const char *mech_name, const char *account, const char *token,
	    const char *login, const struct timespec *deadline, int timeout)
{
	struct helper_call c;
	struct mb_ipc_response r;
	const char *why = NULL;
	int result = -1;
	long n;

	if (call_begin(&c, utils, opts, mech_name, account, true) != SASL_OK)
		goto out;
	n = mb_ipc_format_rejected_request(c.buf, MB_IPC_LINE_MAX + 1,
					   account, token, login);
	if (n < 0 || call_connect(&c, deadline, timeout) < 0)
		goto out;
	n = call_exchange(&c, (size_t)n, deadline, timeout);
	if (n < 0)
		goto out;
	if (mb_ipc_parse_response(c.buf, (size_t)n, &r, &why) == 0 &&
	    r.type == MB_IPC_RESP_ERR && r.code == MB_IPC_ERR_BAD_REQUEST &&
	    login != NULL) {
		result = 1;
		goto out;
	}
	if (why == NULL && r.type == MB_IPC_RESP_ERR &&
	    r.code == MB_IPC_ERR_LOGIN_MISMATCH) {
		/* the likely cause of the refusal: worth the error log */
		mb_sasl_log(utils, SASL_LOG_ERR, "%s: mailbearer serve: %s",
			    mech_name, r.text);
		goto out;
	}
	if (why != NULL || r.type != MB_IPC_RESP_DONE) {
		mb_sasl_log(utils, SASL_LOG_WARN,
			    "%s: mailbearer serve at %s did "
			    "not acknowledge the rejected token of %s",
			    mech_name, c.path, account);
		goto out;
	}
	mb_sasl_log(utils, SASL_LOG_DEBUG,
		    "%s: told %s that the token of %s was "
		    "rejected",
		    mech_name, c.path, account);
	result = 0;
out:
	call_end(&c);
	return result;
}

void
mb_helper_report_rejected(const sasl_utils_t *utils,
			  const struct mb_options *opts, const char *mech_name,
			  const char *account, const char *token,
			  const char *login)
{
	struct timespec deadline;
	int timeout = opts->helper_timeout * 1000;

	if (timeout > MB_REPORT_TIMEOUT_MS)
		timeout = MB_REPORT_TIMEOUT_MS;
	if (token == NULL)
		return;
	clock_gettime(CLOCK_MONOTONIC, &deadline);
	deadline.tv_sec += timeout / 1000;
	/* A helper older than the login field answers bad-request: the
	 * report is sent again without it, within the same deadline. */
	if (report_once(utils, opts, mech_name, account, token, login,
			&deadline, timeout) == 1)
		report_once(utils, opts, mech_name, account, token, NULL,
			    &deadline, timeout);
}
