/* SPDX-License-Identifier: MIT */
#include <config.h>

/* `mailbearer doctor [ACCOUNT] [--socket PATH] [--postfix-config DIR]
 * [--login URL [--ca-file FILE]]`: every part of a set-up checked, one
 * line each; exit 0 only when no check failed (SKIP is not a failure),
 * else 1; 64 on a usage error. */

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sysexits.h>
#include <unistd.h>

#include "cli.h"
#include "cmd.h"
#include "doctor.h"
#include "errstr.h"
#include "errtext.h"
#include "ipc-proto.h"
#include "isotime.h"
#include "log.h"
#include "owner.h"
#include "serve-socket.h"
#include "store.h"
#include "token.h"
#include "wipe.h"
#include "xalloc.h"

/* Seconds for the whole exchange with serve (the plugin allows 30). */
#define DOC_SOCKET_TIMEOUT 30
/* Room for the default socket's path (a UNIX socket's is shorter). */
#define MB_DOC_SOCKET_MAX 256

void
mb_doc_report(struct mb_doctor *d, enum mb_doc_result r, const char *name,
	      const char *fix, const char *fmt, ...)
{
	static const char *const words[] = { "PASS", "FAIL", "SKIP",
					     "WARN" };
	va_list ap;

	printf("%s %s: ", words[r], name);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	if (fix != NULL && r == MB_DOC_FAIL)
		printf("; fix: %s", fix);
	printf("\n");
	fflush(stdout);
	if (r == MB_DOC_FAIL)
		d->n_fail++;
	else if (r == MB_DOC_PASS)
		d->n_pass++;
	else if (r == MB_DOC_WARN)
		d->n_warn++;
	else
		d->n_skip++;
}

/* A file or directory that must belong to want ((uid_t)-1: to anyone,
 * for root reading the state of the service user) and be closed to
 * others.  *owner_r: its owner. */
static bool
doc_mode_ok(struct mb_doctor *d, const char *what, const char *path,
	    bool dir, uid_t want, uid_t *owner_r)
{
	char have[64], wname[64], *fix;
	struct stat st;

	if (stat(path, &st) != 0)
		return true;	/* absence is the state check's business */
	*owner_r = st.st_uid;
	if (want != (uid_t)-1 && st.st_uid != want) {
		mb_owner_name(st.st_uid, have, sizeof(have));
		mb_owner_name(want, wname, sizeof(wname));
		if (dir) {
			char *cmd = mb_owner_command(path);

			fix = mb_xasprintf("run the doctor as %s: %s doctor",
					   have, cmd);
			free(cmd);
		} else {
			fix = mb_xasprintf("chown %s %s", wname, path);
		}
		mb_doc_report(d, MB_DOC_FAIL, "modes", fix, "%s %s belongs to "
			      "%s, not to %s, %s", what, path, have, wname,
			      dir ? "who runs this check" : "who owns its "
			      "directory (serve must run as that user)");
		free(fix);
		return false;
	}
	if ((st.st_mode & 077) != 0) {
		fix = mb_xasprintf("chmod %s %s", dir ? "700" : "600", path);
		mb_doc_report(d, MB_DOC_FAIL, "modes", fix, "%s %s is open to "
			      "group or others (mode %04o)", what, path,
			      (unsigned)(st.st_mode & 07777));
		free(fix);
		return false;
	}
	return true;
}

/* The state directory 0700 and the account's state file 0600, both ours
 * (the config and the secret files were checked by the loader). */
static void
doc_check_modes(struct mb_doctor *d, const struct mb_account *a)
{
	char *path = mb_store_path(a, ".json");
	bool ok;

	uid_t owner = geteuid();

	/* root reads the state of another user (the packaged
	 * mailbearer's): the files must then be that user's */
	ok = doc_mode_ok(d, "state directory", a->state_dir, true,
			 geteuid() == 0 ? (uid_t)-1 : geteuid(), &owner);
	ok = doc_mode_ok(d, "state file", path, false, owner, &owner) && ok;
	if (ok)
		mb_doc_report(d, MB_DOC_PASS, "modes", NULL, "[%s] state "
			      "directory %s and its state file are private",
			      a->name, a->state_dir);
	free(path);
}

static void
doc_check_state(struct mb_doctor *d, const struct mb_account *a)
{
	struct mb_state st;
	char *err = NULL, *fix, *name, *cmd = mb_owner_command(a->state_dir);

	switch (mb_store_read(a, false, &st, &err)) {
	case MB_STORE_FOUND:
		break;
	case MB_STORE_MISSING:
		if (mb_flow_app_only(a->flow)) {
			mb_doc_report(d, MB_DOC_PASS, "state", NULL, "[%s] no "
				      "state yet (an app-only account needs "
				      "none)", a->name);
			goto out;
		}
		fix = mb_xasprintf("run `%s authorize %s` (or `%s import "
				   "%s`)", cmd, a->name, cmd, a->name);
		name = mb_store_name(a);
		mb_doc_report(d, MB_DOC_FAIL, "state", fix, "[%s] no state "
			      "%s %s: the account was never authorized",
			      a->name, a->fleet != NULL ? "at" : "file in",
			      a->fleet != NULL ? name : a->state_dir);
		free(name);
		free(fix);
		goto out;
	default:
		mb_doc_report(d, MB_DOC_FAIL, "state", "see the message; "
			      "`mailbearer status` shows the details",
			      "[%s] %s", a->name, err ? err : "unreadable");
		goto out;
	}
	if (st.needs_authorize) {
		fix = st.client_problem ? mb_xstrdup("correct the OAuth client "
			"in the configuration") :
			mb_xasprintf("run `%s authorize %s`", cmd, a->name);
		err = mb_owner_advice(a->state_dir, st.reason ? st.reason :
				      "a refresh failed");
		mb_doc_report(d, MB_DOC_FAIL, "state", fix, "[%s] needs "
			      "attention: %s", a->name, err);
		free(fix);
	} else if (st.refresh_token == NULL &&
		   !mb_flow_app_only(a->flow)) {
		fix = mb_xasprintf("run `%s authorize %s`", cmd, a->name);
		mb_doc_report(d, MB_DOC_FAIL, "state", fix, "[%s] the state "
			      "holds no refresh token", a->name);
		free(fix);
	} else {
		mb_doc_report(d, MB_DOC_PASS, "state", NULL, "[%s] present, "
			      "readable, no authorization needed", a->name);
	}
out:
	mb_state_clear(&st);
	free(err);
	free(cmd);
}

/* One request to serve; the answer line in buf (LF stripped, the parsed
 * response in *resp).  -1 with *why_r set when nothing was answered, and
 * *errno_r the connect(2) error (0 for any other failure). */
static int
doc_socket_ask(const char *path, const char *account, char *buf,
	       size_t size, struct mb_ipc_response *resp, const char **why_r,
	       int *errno_r)
{
	struct timeval tv = { DOC_SOCKET_TIMEOUT, 0 };
	struct timespec deadline;
	size_t len = 0;
	ssize_t n;
	int fd, e = 0;

	*errno_r = 0;
	clock_gettime(CLOCK_MONOTONIC, &deadline);
	deadline.tv_sec += DOC_SOCKET_TIMEOUT;
	fd = mb_sock_connect(path, &deadline, &e);
	if (fd < 0) {
		*why_r = e == ENAMETOOLONG ? "the path is too long for a UNIX "
			 "socket" : mb_errstr(e);
		if (e != ENAMETOOLONG)
			*errno_r = e;
		return -1;
	}
	/* blocking from here, each read and write bounded */
	(void)fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
	(void)setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	(void)setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	n = mb_ipc_format_token_request(buf, size, account);
	/* A refused uid is answered before its request is read: read the
	 * answer even when the write fails. */
	if (n > 0)
		(void)send(fd, buf, (size_t)n, MSG_NOSIGNAL);
	while (len + 1 < size && (len == 0 || buf[len - 1] != '\n')) {
		n = read(fd, buf + len, size - 1 - len);
		if (n <= 0)
			break;
		len += (size_t)n;
	}
	close(fd);
	if (len == 0 || buf[len - 1] != '\n') {
		mb_wipe(buf, size);
		*why_r = "serve closed the connection without an answer";
		return -1;
	}
	if (mb_ipc_parse_response(buf, len, resp, why_r) != 0) {
		mb_wipe(buf, size);
		return -1;
	}
	return 0;
}

/* connect(2) to path was refused with EACCES: the file's (or a
 * directory's) owner, group and mode, and who may connect. */
static void
doc_socket_denied(struct mb_doctor *d, const struct mb_account *a,
		  const char *path, const char *why)
{
	char *dir = mb_xstrdup(path), *slash, *fix, *what = NULL;
	unsigned uid = (unsigned)getuid();
	struct group *gr;
	struct stat st;

	/* the first directory on the way that this uid cannot search */
	for (slash = dir[0] != '\0' ? strchr(dir + 1, '/') : NULL;
	     slash != NULL && what == NULL;
	     slash = strchr(slash + 1, '/')) {
		*slash = '\0';
		if (access(dir, X_OK) != 0 && stat(dir, &st) == 0)
			what = mb_xasprintf("directory %s", dir);
		*slash = '/';
	}
	if (what == NULL && stat(path, &st) == 0)
		what = mb_xasprintf("socket %s", path);
	free(dir);
	if (what == NULL) {
		mb_doc_report(d, MB_DOC_FAIL, "socket", "run the check as the "
			      "user that connects to it", "[%s] uid %u may not "
			      "connect to %s: %s", a->name, uid, path, why);
		return;
	}
	gr = getgrgid(st.st_gid);
	if ((st.st_mode & (S_ISDIR(st.st_mode) ? 010 : 020)) == 0)
		fix = mb_xasprintf("open it to its group: %s", S_ISDIR(
				   st.st_mode) ? "chmod g+x on the directory" :
				   "serve --socket PATH,mode=0660,group=GROUP");
	else if (gr != NULL && getpwnam(gr->gr_name) != NULL) {
		char *run = mb_owner_run_as(gr->gr_name);

		fix = mb_xasprintf("check as the group's user, who connects: "
				   "%s doctor --socket %s (or add uid %u to "
				   "group %s)", run, path, uid, gr->gr_name);
		free(run);
	} else
		fix = mb_xasprintf("check as a member of group %s, the one "
				   "that connects (or add uid %u to it)",
				   gr ? gr->gr_name : "(unnamed)", uid);
	mb_doc_report(d, MB_DOC_FAIL, "socket", fix, "[%s] uid %u may not "
		      "connect to %s: %s (the %s is uid %u, group %s, mode "
		      "%04o); serve was not asked", a->name, uid, path, why,
		      what, (unsigned)st.st_uid, gr ? gr->gr_name : "?",
		      (unsigned)(st.st_mode & 07777));
	free(fix);
	free(what);
}

/* serve answers on the socket and gives this uid the account's token. */
static void
doc_check_socket(struct mb_doctor *d, const struct mb_account *a)
{
	static char buf[MB_IPC_LINE_MAX + 1];
	struct mb_ipc_response resp;
	const char *why = NULL, *p = d->socket_path;
	char *fix, who[64];
	unsigned uid = (unsigned)getuid();
	struct stat st;
	bool pass = false;
	int e = 0;

	if (doc_socket_ask(p, a->name, buf, sizeof(buf), &resp, &why,
			   &e) < 0) {
		if (e == EACCES || e == EPERM)
			doc_socket_denied(d, a, p, why);
		else
			mb_doc_report(d, MB_DOC_FAIL, "socket", "start "
				      "`mailbearer serve` on this socket "
				      "(systemctl start mailbearer.socket), "
				      "or give --socket PATH", "[%s] no answer "
				      "on %s: %s", a->name, p, why);
		return;
	}
	if (resp.type == MB_IPC_RESP_OK) {
		mb_wipe(buf, sizeof(buf));
		mb_doc_report(d, MB_DOC_PASS, "socket", NULL, "[%s] serve "
			      "answers on %s and gives uid %u a token",
			      a->name, p, uid);
		return;
	}
	switch (resp.code) {
	case MB_IPC_ERR_DENIED:
		/* serve always serves its own uid: denying the state's
		 * owner means it runs as another user */
		if (stat(a->state_dir, &st) == 0 && st.st_uid == uid &&
		    uid != 0)
			fix = mb_xasprintf("serve runs as another user than "
				"%s, who owns the state %s: run it as %s "
				"(mailbearer.service, or serve --user %s as "
				"root)", mb_owner_name(uid, who, sizeof(who)),
				a->state_dir, who, who);
		else
			fix = mb_xasprintf("add uid %u to `allow =` in [%s] "
				"and reload serve (SIGHUP)", uid, a->name);
		break;
	case MB_IPC_ERR_UNKNOWN_ACCOUNT:
		fix = mb_xasprintf("serve reads another configuration: "
				   "start it with the one that has [%s]",
				   a->name);
		break;
	case MB_IPC_ERR_NEEDS_AUTHORIZE:
	case MB_IPC_ERR_UNAVAILABLE:
		/* the socket works; the state and token checks say why */
		fix = NULL;
		pass = true;
		break;
	case MB_IPC_ERR_BAD_REQUEST:
		fix = mb_xasprintf("serve does not understand this doctor's "
				   "request: restart serve so that it runs the "
				   "installed version");
		break;
	default:
		fix = mb_xasprintf("serve failed to answer: its log says why "
				   "(journalctl -u mailbearer, or serve's "
				   "standard error)");
		break;
	}
	mb_doc_report(d, pass ? MB_DOC_PASS : MB_DOC_FAIL, "socket", fix,
		      "[%s] serve on %s answers uid %u: %s %s", a->name, p,
		      uid, resp.code_name, resp.text);
	free(fix);
}

/* The account's state directory belongs to another user than root
 * running this: read only. */
static bool
doc_foreign_state(const struct mb_account *a)
{
	struct stat st;

	return geteuid() == 0 && stat(a->state_dir, &st) == 0 &&
	       st.st_uid != 0;
}

/* A token obtained as `mailbearer token` would; *token_r keeps it for
 * --login (caller wipes). */
static void
doc_check_token(struct mb_doctor *d, const struct mb_account *a,
		char **token_r)
{
	struct mb_access acc;
	enum mb_token_status ts;
	char *err = NULL, when[32];

	memset(&acc, 0, sizeof(acc));
	if (doc_foreign_state(a)) {
		/* root reads the service user's state, refreshes nothing */
		char *cmd = mb_owner_command(a->state_dir);

		ts = mb_token_peek(a, &acc) ? MB_TOKEN_OK : MB_TOKEN_TRANSIENT;
		if (ts != MB_TOKEN_OK) {
			mb_doc_report(d, MB_DOC_SKIP, "token", NULL, "[%s] no "
				      "valid access token on disk, and root "
				      "refreshes none in a state directory "
				      "of another user: `%s doctor` checks "
				      "it", a->name, cmd);
			free(cmd);
			return;
		}
		free(cmd);
	} else {
		ts = mb_token_get_ex(a, NULL, &acc, &err);
	}
	if (ts != MB_TOKEN_OK) {
		mb_doc_report(d, MB_DOC_FAIL, "token", ts == MB_TOKEN_TRANSIENT
			      ? "try again once the provider answers" :
			      "as the message says", "[%s] %s", a->name,
			      err ? err : "no token");
		free(err);
		return;
	}
	mb_iso_time(acc.expires_at, when, sizeof(when), "never");
	mb_doc_report(d, MB_DOC_PASS, "token", NULL, "[%s] an access token "
		      "valid until %s", a->name, when);
	*token_r = acc.token;
	acc.token = NULL;
	mb_access_clear(&acc);
}

static void
doc_account(struct mb_doctor *d, const struct mb_account *a)
{
	char *token = NULL;

	if (a->unusable != NULL)
		mb_doc_report(d, MB_DOC_FAIL, "config", "as the message says "
			      "(the other accounts are not concerned)",
			      "[%s] %s", a->name, a->unusable);
	if (a->fleet == NULL)	/* a fleet's state is in etcd */
		doc_check_modes(d, a);
	doc_check_state(d, a);
	doc_check_socket(d, a);
	mb_doc_check_endpoint(d, a);
	doc_check_token(d, a, &token);
	if (d->login_url != NULL) {
		if (token != NULL)
			mb_doc_check_login(d, a, token);
		else
			mb_doc_report(d, MB_DOC_FAIL, "login", "see the token "
				      "check", "[%s] no token to log in with",
				      a->name);
	}
	mb_free_secret(&token);
}

static struct mb_doctor doc_opts;

static int
doc_opt(int opt, const char *arg)
{
	switch (opt) {
	case 's':
		doc_opts.socket_path = arg;
		return 0;
	case 'P':
		doc_opts.postfix_dir = arg;
		return 0;
	case 'l':
		doc_opts.login_url = arg;
		return 0;
	case 'C':
		doc_opts.login_ca = arg;
		return 0;
	default:
		return -1;
	}
}

/* The config check; NULL when it does not load. */
static struct mb_config *
doc_check_config(struct mb_doctor *d)
{
	struct mb_config *cfg = NULL;
	char *path = mb_cli_config ? mb_xstrdup(mb_cli_config) :
		     mb_config_default_path();
	char *err = NULL;

	if (mb_config_load(path, &cfg, &err) != 0) {
		mb_doc_report(d, MB_DOC_FAIL, "config", "write or correct "
			      "it (mailbearer.conf(5)), or give --config FILE",
			      "%s", err);
		cfg = NULL;
	} else {
		mb_doc_report(d, MB_DOC_PASS, "config", NULL, "%s parses, %zu "
			      "account(s); secret files are private", path,
			      cfg->n_accounts);
	}
	free(err);
	free(path);
	return cfg;
}

int
mb_cmd_doctor(int argc, char **argv)
{
	static const struct option extra[] = {
		{ "socket", required_argument, NULL, 's' },
		{ "postfix-config", required_argument, NULL, 'P' },
		{ "login", required_argument, NULL, 'l' },
		{ "ca-file", required_argument, NULL, 'C' },
	};
	struct mb_doctor *d = &doc_opts;
	const struct mb_account *a = NULL;
	struct mb_config *cfg;
	char *sock = NULL;
	size_t i;
	int r;

	r = mb_cli_parse(argc, argv, false, "", extra, 4, doc_opt);
	if (r != 0)
		return r > 0 ? EX_OK : EX_USAGE;
	if (argc - optind > 1) {
		mb_log(LOG_ERR, "usage: mailbearer doctor [ACCOUNT] [--socket "
		       "PATH] [--postfix-config DIR] [--login URL "
		       "[--ca-file FILE]]");
		return EX_USAGE;
	}
	if (d->login_url != NULL && !mb_doc_login_url_ok(d->login_url)) {
		mb_log(LOG_ERR, "--login takes imap://, imaps://, smtp:// or "
		       "smtps://HOST[:PORT]");
		return EX_USAGE;
	}
	if (d->socket_path == NULL) {
		sock = mb_xmalloc(MB_DOC_SOCKET_MAX);
		mb_sock_client_path(NULL, sock, MB_DOC_SOCKET_MAX, NULL);
		d->socket_path = sock;
	}
	mb_doc_check_sasl(d);
	cfg = doc_check_config(d);
	if (cfg != NULL)
		mb_doc_check_fleet(d, cfg);
	if (cfg != NULL && optind < argc) {
		a = mb_config_account(cfg, argv[optind]);
		if (a == NULL)
			mb_doc_report(d, MB_DOC_FAIL, "account", "name an "
				      "account of the configuration", "no "
				      "account [%s] in %s", argv[optind],
				      cfg->path);
	} else if (cfg != NULL && cfg->n_accounts == 1) {
		a = &cfg->accounts[0];
	}
	if (d->login_url != NULL && cfg != NULL && a == NULL)
		mb_doc_report(d, MB_DOC_FAIL, "login", "name the ACCOUNT to "
			      "log in as", "--login needs one account");
	if (a != NULL) {
		doc_account(d, a);
	} else if (cfg != NULL && optind == argc) {
		d->login_url = NULL;
		for (i = 0; i < cfg->n_accounts; i++)
			doc_account(d, &cfg->accounts[i]);
	}
	d->cfg = cfg;
	mb_doc_check_postfix(d);
	printf("%u passed, %u failed, %u skipped", d->n_pass, d->n_fail,
	       d->n_skip);
	if (d->n_warn > 0)
		printf(", %u warning(s)", d->n_warn);
	printf("\n");
	mb_config_free(&cfg);
	free(sock);
	if (fflush(stdout) != 0)
		return EX_IOERR;
	return d->n_fail == 0 ? EX_OK : 1;
}
