#include <config.h>

/* doctor: Postfix's SMTP client, read through postconf(1) and postmap(1)
 * (with -c DIR from --postfix-config), only when it uses SASL.  What a
 * bearer token needs (doc/usage-postfix.md): the relayhost's entry in
 * smtp_sasl_password_maps, a mechanism filter naming xoauth2 or
 * oauthbearer, TLS enforced and SASL allowed inside it (noanonymous, not
 * noplaintext), and, when smtp runs chrooted, serve's socket inside the
 * chroot at the path the plugin will look for. */

#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "doctor.h"
#include "serve-socket.h"
#include "wipe.h"
#include "xalloc.h"


#define PF_OUT_MAX 4096
#define PF_SEPS " ,\t\n"

/* Runs prog (postconf, postmap) with -c DIR when given, then args; its
 * standard output (first PF_OUT_MAX-1 bytes, trailing newline dropped) in
 * out.  Returns the exit status, 127 when it cannot run. */
static int
pf_run(const struct mb_doctor *d, const char *prog, const char *const *args,
       char *out, size_t size)
{
	/* execvp's argv is char *const[]: the strings are not written */
	union {
		const char **c;
		char *const *v;
	} av;
	const char *argv[12];
	size_t n = 0, len = 0;
	ssize_t r;
	int fds[2], st, dn;
	pid_t pid;

	argv[n++] = prog;
	if (d->postfix_dir != NULL) {
		argv[n++] = "-c";
		argv[n++] = d->postfix_dir;
	}
	while (*args != NULL && n < 11)
		argv[n++] = *args++;
	argv[n] = NULL;
	out[0] = '\0';
	if (pipe2(fds, O_CLOEXEC) != 0)
		return 127;
	pid = fork();
	if (pid < 0) {
		close(fds[0]);
		close(fds[1]);
		return 127;
	}
	if (pid == 0) {
		dn = open("/dev/null", O_RDWR);
		dup2(fds[1], 1);
		if (dn >= 0) {
			dup2(dn, 0);
			dup2(dn, 2);
		}
		av.c = argv;
		execvp(prog, av.v);
		_exit(127);
	}
	close(fds[1]);
	while (len + 1 < size &&
	       (r = read(fds[0], out + len, size - 1 - len)) != 0) {
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			break;
		len += (size_t)r;
	}
	close(fds[0]);
	out[len] = '\0';
	while (len > 0 && out[len - 1] == '\n')
		out[--len] = '\0';
	while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
	return WIFEXITED(st) ? WEXITSTATUS(st) : 127;
}

/* A main.cf parameter, expanded (postconf -xh); "" if unset. */
static int
pf_param(const struct mb_doctor *d, const char *name, char *out,
	 size_t size)
{
	const char *args[] = { "-xh", name, NULL };

	return pf_run(d, "postconf", args, out, size);
}

static bool
pf_has_word(const char *list, const char *word)
{
	char *copy = mb_xstrdup(list), *save = NULL, *w;
	bool found = false;

	for (w = strtok_r(copy, PF_SEPS, &save); w != NULL && !found;
	     w = strtok_r(NULL, PF_SEPS, &save))
		found = strcasecmp(w, word) == 0;
	free(copy);
	return found;
}

/* The account the plugin asks serve for, from the table's "USER:PASSWORD"
 * (doc/plugin.md): an empty password or "mailbearer:" means USER,
 * "mailbearer:ACCOUNT" means ACCOUNT; any other password is the token
 * itself and serve is not used (NULL). */
static char *
pf_entry_account(const char *entry)
{
	const char *colon = strchr(entry, ':'), *pw;

	if (colon == NULL)
		return NULL;
	pw = colon + 1;
	if (*pw == '\0' || strcmp(pw, "mailbearer:") == 0)
		return mb_xstrndup(entry, (size_t)(colon - entry));
	if (strncmp(pw, "mailbearer:", 11) == 0)
		return mb_xstrdup(pw + 11);
	return NULL;
}

/* The entry's account exists and serve gives it to Postfix's mail_owner
 * (the uid smtp(8) runs as). */
static void
pf_check_account(struct mb_doctor *d, const char *account)
{
	const struct mb_account *a;
	char owner[256], *fix;
	struct passwd *pw;
	bool ok = false;
	size_t i;

	if (d->cfg == NULL)
		return;
	a = mb_config_account(d->cfg, account);
	if (a == NULL) {
		fix = mb_xasprintf("add [%s] to %s, or name an account of it "
				   "in the table (USER:mailbearer:ACCOUNT)",
				   account, d->cfg->path);
		mb_doc_report(d, MB_DOC_FAIL, "postfix-account", fix, "the "
			      "table sends smtp to account %s, which %s does "
			      "not have", account, d->cfg->path);
		free(fix);
		return;
	}
	pf_param(d, "mail_owner", owner, sizeof(owner));
	pw = getpwnam(owner);
	if (pw == NULL) {
		mb_doc_report(d, MB_DOC_SKIP, "postfix-account", NULL, "[%s] "
			      "mail_owner %s is not a user here", account,
			      owner);
		return;
	}
	for (i = 0; i < a->n_allow_uids; i++)
		ok = ok || a->allow_uids[i] == pw->pw_uid;
	ok = ok || pw->pw_uid == 0 || pw->pw_uid == geteuid();
	fix = mb_xasprintf("add `allow = %s` to [%s] and reload serve "
			   "(SIGHUP)", owner, account);
	mb_doc_report(d, ok ? MB_DOC_PASS : MB_DOC_FAIL, "postfix-account",
		      fix, "[%s] %s smtp's uid %u (%s)", account,
		      ok ? "allows" : "does not allow",
		      (unsigned)pw->pw_uid, owner);
	free(fix);
}

/* The relayhost's entry: under the relayhost as written, then under its
 * bare host name, in each table of smtp_sasl_password_maps. */
static void
pf_check_password(struct mb_doctor *d, const char *relay)
{
	char maps[PF_OUT_MAX], list[PF_OUT_MAX], out[PF_OUT_MAX], host[256];
	char *save = NULL;
	char *m, *colon, *acct;
	const char *keys[2], *args[4];
	size_t k, n;

	pf_param(d, "smtp_sasl_password_maps", maps, sizeof(maps));
	memcpy(list, maps, sizeof(list));
	n = strspn(relay, "[");
	snprintf(host, sizeof(host), "%.*s", (int)strcspn(relay + n, "]:"),
		 relay + n);
	keys[0] = relay;
	keys[1] = host;
	for (m = strtok_r(maps, PF_SEPS, &save); m != NULL;
	     m = strtok_r(NULL, PF_SEPS, &save)) {
		for (k = 0; k < 2; k++) {
			args[0] = "-q";
			args[1] = keys[k];
			args[2] = m;
			args[3] = NULL;
			if (pf_run(d, "postmap", args, out, sizeof(out)) != 0)
				continue;
			acct = pf_entry_account(out);
			colon = strchr(out, ':');
			if (colon != NULL)
				*colon = '\0';
			mb_doc_report(d, MB_DOC_PASS, "postfix-password", NULL,
				      "%s has an entry in %s for user %s (%s)",
				      keys[k], m, out, acct ? "token from "
				      "serve" : "a token in the table");
			mb_wipe(out, sizeof(out));
			if (acct != NULL)
				pf_check_account(d, acct);
			free(acct);
			return;
		}
	}
	mb_doc_report(d, MB_DOC_FAIL, "postfix-password", "add \"RELAYHOST "
		      "USER:\" (empty password: serve's account USER) to the "
		      "table, postmap it, postfix reload", "no entry for "
		      "relayhost %s in smtp_sasl_password_maps (%s)", relay,
		      list[0] ? list : "unset");
}

static void
pf_check_mechs(struct mb_doctor *d)
{
	char f[PF_OUT_MAX];

	pf_param(d, "smtp_sasl_mechanism_filter", f, sizeof(f));
	if (strchr(f, ':') != NULL || strchr(f, '/') != NULL)
		mb_doc_report(d, MB_DOC_SKIP, "postfix-mechs", NULL,
			      "smtp_sasl_mechanism_filter is a table (%s), not "
			      "checked", f);
	else if (pf_has_word(f, "xoauth2") || pf_has_word(f, "oauthbearer"))
		mb_doc_report(d, MB_DOC_PASS, "postfix-mechs", NULL,
			      "smtp_sasl_mechanism_filter = %s", f);
	else
		mb_doc_report(d, MB_DOC_FAIL, "postfix-mechs", "postconf -e "
			      "smtp_sasl_mechanism_filter=xoauth2",
			      "smtp_sasl_mechanism_filter = %s: %s", f,
			      f[0] ? "neither xoauth2 nor oauthbearer" :
			      "any mechanism the server offers (PLAIN would "
			      "send the password field)");
}

static void
pf_check_tls(struct mb_doctor *d)
{
	static const char *const enforced[] = {
		"encrypt", "dane-only", "fingerprint", "verify", "secure",
	};
	char v[PF_OUT_MAX];
	bool ok = false;
	size_t i;

	pf_param(d, "smtp_tls_security_level", v, sizeof(v));
	for (i = 0; i < sizeof(enforced) / sizeof(enforced[0]); i++)
		ok = ok || strcmp(v, enforced[i]) == 0;
	mb_doc_report(d, ok ? MB_DOC_PASS : MB_DOC_FAIL, "postfix-tls",
		      "postconf -e smtp_tls_security_level=secure (or "
		      "encrypt)", "smtp_tls_security_level = %s%s",
		      v[0] ? v : "(none)", ok ? "" : ": a token could go "
		      "out without TLS, or no login is attempted");
	pf_param(d, "smtp_sasl_tls_security_options", v, sizeof(v));
	ok = pf_has_word(v, "noanonymous") && !pf_has_word(v, "noplaintext");
	mb_doc_report(d, ok ? MB_DOC_PASS : MB_DOC_FAIL, "postfix-tls",
		      "postconf -e smtp_sasl_tls_security_options=noanonymous",
		      "smtp_sasl_tls_security_options = %s%s", v,
		      ok ? "" : pf_has_word(v, "noplaintext") ? ": noplaintext "
		      "excludes XOAUTH2 and OAUTHBEARER inside TLS" :
		      ": anonymous mechanisms allowed");
}

/* The socket the plugin looks for inside smtp's world: MAILBEARER_SOCKET
 * from import_environment, else the compiled-in path. */
static void
pf_socket_path(const struct mb_doctor *d, char *out, size_t size)
{
	char env[PF_OUT_MAX], *save = NULL, *w;

	snprintf(out, size, "%s", mb_sock_system_path());
	pf_param(d, "import_environment", env, sizeof(env));
	for (w = strtok_r(env, PF_SEPS, &save); w != NULL;
	     w = strtok_r(NULL, PF_SEPS, &save))
		if (strncmp(w, "MAILBEARER_SOCKET=", 18) == 0)
			snprintf(out, size, "%s", w + 18);
}

static void
pf_check_chroot(struct mb_doctor *d)
{
	const char *args[] = { "-M", "smtp/unix", NULL };
	char line[PF_OUT_MAX], q[PF_OUT_MAX], sock[1024], *path;
	char f[8][64];
	bool chroot;
	struct stat st;

	pf_run(d, "postconf", args, line, sizeof(line));
	if (sscanf(line, "%63s %63s %63s %63s %63s", f[0], f[1], f[2], f[3],
		   f[4]) != 5) {
		mb_doc_report(d, MB_DOC_FAIL, "postfix-chroot", "add the smtp "
			      "service to master.cf", "no smtp/unix service in "
			      "master.cf");
		return;
	}
	chroot = strcmp(f[4], "y") == 0;
	pf_socket_path(d, sock, sizeof(sock));
	pf_param(d, "queue_directory", q, sizeof(q));
	path = chroot ? mb_xasprintf("%s%s", q, sock) : mb_xstrdup(sock);
	if (stat(path, &st) == 0 && S_ISSOCK(st.st_mode)) {
		mb_doc_report(d, MB_DOC_PASS, "postfix-chroot", NULL, "smtp %s;"
			      " serve's socket is at %s", chroot ? "is chrooted"
			      " in its queue directory" : "is not chrooted",
			      path);
	} else {
		char *fix = mb_xasprintf("give serve a socket there: "
					 "mailbearer serve --socket %s,mode="
					 "0660,group=postfix", path);
		mb_doc_report(d, MB_DOC_FAIL, "postfix-chroot", fix,
			      "smtp %s%s, so the plugin looks for %s: no "
			      "socket there",
			      chroot ? "is chrooted in " : "is not chrooted",
			      chroot ? q : "", sock);
		free(fix);
	}
	free(path);
}

/* Whether the configuration directory holds a main.cf. */
static bool
pf_configured(const struct mb_doctor *d)
{
	const char *args[] = { "-dh", "config_directory", NULL };
	char dir[PF_OUT_MAX], *p;
	struct stat st;
	bool ok;

	if (d->postfix_dir != NULL)
		snprintf(dir, sizeof(dir), "%s", d->postfix_dir);
	else if (pf_run(d, "postconf", args, dir, sizeof(dir)) != 0)
		return false;
	p = mb_xasprintf("%s/main.cf", dir);
	ok = stat(p, &st) == 0;
	free(p);
	return ok;
}

void
mb_doc_check_postfix(struct mb_doctor *d)
{
	char v[PF_OUT_MAX];
	int r;

	r = pf_param(d, "smtp_sasl_auth_enable", v, sizeof(v));
	if (r == 127) {
		mb_doc_report(d, MB_DOC_SKIP, "postfix", NULL, "no postconf: "
			      "Postfix is not installed");
		return;
	}
	if (r != 0 && !pf_configured(d)) {
		mb_doc_report(d, MB_DOC_SKIP, "postfix", NULL, "Postfix is "
			      "installed but not configured (no main.cf)");
		return;
	}
	if (r != 0) {
		mb_doc_report(d, MB_DOC_FAIL, "postfix", "check the Postfix "
			      "configuration directory", "postconf failed "
			      "(status %d)", r);
		return;
	}
	if (strcmp(v, "yes") != 0) {
		mb_doc_report(d, MB_DOC_SKIP, "postfix", NULL,
			      "smtp_sasl_auth_enable = %s: Postfix does not "
			      "log in with SASL", v);
		return;
	}
	pf_param(d, "relayhost", v, sizeof(v));
	if (v[0] == '\0')
		mb_doc_report(d, MB_DOC_SKIP, "postfix-password", NULL,
			      "no relayhost, entries not checked");
	else
		pf_check_password(d, v);
	pf_check_mechs(d);
	pf_check_tls(d);
	pf_check_chroot(d);
}
