/* SPDX-License-Identifier: MIT */
#include <config.h>

/* doctor: Postfix's SMTP client, read through postconf(1) and postmap(1)
 * (with -c DIR from --postfix-config), only when it uses SASL.  What a
 * bearer token needs (doc/usage-postfix.md): the relayhost's entry in
 * smtp_sasl_password_maps, a mechanism filter naming xoauth2 or
 * oauthbearer, TLS enforced and SASL allowed inside it (noanonymous, not
 * noplaintext), and, when smtp runs chrooted, serve's socket inside the
 * chroot at the path the plugin will look for.  And what a relay that
 * logs in with a password needs once the plugin is installed (doc/plugin.md,
 * "A password is not a token"): a filter that keeps XOAUTH2 and
 * OAUTHBEARER out, in main.cf or on its transport in master.cf. */

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
#include "postfix-query.h"
#include "serve-socket.h"
#include "token-rule.h"
#include "wipe.h"
#include "xalloc.h"


#define PF_OUT_MAX 4096
#define PF_SEPS " ,\t\n"

/* What postconf ARGS prints, into out; returns its exit status (127: it
 * cannot run). */
static int
pf_param_args(const struct mb_doctor *d, const char *const *args, char *out,
	      size_t size)
{
	struct mb_pf_out r;

	mb_pf_run(d->postfix_dir, "postconf", args, size, &r);
	snprintf(out, size, "%s", r.out);
	mb_pf_out_free(&r);
	return r.status;
}

/* A main.cf parameter, expanded (postconf -xh); "" if unset. */
static int
pf_param(const struct mb_doctor *d, const char *name, char *out,
	 size_t size)
{
	const char *args[] = { "-xh", name, NULL };

	return pf_param_args(d, args, out, size);
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

/* What an entry's "USER:PASSWORD" means to the plugin, by the one rule
 * (common/token-rule.h).  For MB_TS_HELPER, *account_r is the account it
 * asks serve for (malloc'd): "mailbearer:ACCOUNT" or, when empty, USER. */
static enum mb_ts_kind
pf_entry_kind(const char *entry, char **account_r)
{
	const char *colon = strchr(entry, ':'), *pw, *v;
	enum mb_ts_kind k;
	size_t vlen;

	*account_r = NULL;
	pw = colon != NULL ? colon + 1 : "";
	k = mb_ts_classify(pw, strlen(pw), &v, &vlen);
	if (k == MB_TS_HELPER)
		*account_r = vlen > 0 ? mb_xstrndup(v, vlen) :
			mb_xstrndup(entry, colon != NULL ?
				    (size_t)(colon - entry) : strlen(entry));
	return k;
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

enum pf_filter {
	PF_F_NONE,	/* empty: every mechanism the server offers */
	PF_F_TABLE,	/* a lookup table or file: not read here */
	PF_F_OAUTH,	/* names xoauth2 or oauthbearer */
	PF_F_OTHER,	/* names only others (plain, login...) */
};

static enum pf_filter
pf_filter_kind(const char *f)
{
	if (f[strspn(f, PF_SEPS)] == '\0')
		return PF_F_NONE;
	if (strchr(f, ':') != NULL || strchr(f, '/') != NULL)
		return PF_F_TABLE;
	if (pf_has_word(f, "xoauth2") || pf_has_word(f, "oauthbearer"))
		return PF_F_OAUTH;
	return PF_F_OTHER;
}

/* The mechanism filter smtp applies to the relayhost: the -o override on
 * default_transport's service in master.cf, else main.cf's.  *where_r:
 * "main.cf" or "SERVICE in master.cf" (static or in where[64]). */
static void
pf_relay_filter(const struct mb_doctor *d, char *f, size_t size,
		char where[64])
{
	char svc[64], pat[160];
	const char *args[] = { "-P", pat, NULL }, *eq;
	struct mb_pf_out r;

	pf_param(d, "default_transport", svc, sizeof(svc));
	svc[strcspn(svc, ":")] = '\0';
	snprintf(pat, sizeof(pat), "%s/unix/smtp_sasl_mechanism_filter",
		 svc[0] ? svc : "smtp");
	mb_pf_run(d->postfix_dir, "postconf", args, PF_OUT_MAX, &r);
	eq = strstr(r.out, " = ");
	if (r.status == 0 && eq != NULL) {
		snprintf(f, size, "%s", eq + 3);
		snprintf(where, 64, "-o on %.40s in master.cf",
			 svc[0] ? svc : "smtp");
	} else {
		pf_param(d, "smtp_sasl_mechanism_filter", f, size);
		snprintf(where, 64, "main.cf");
	}
	mb_pf_out_free(&r);
}

/* The transports of master.cf whose -o smtp_sasl_mechanism_filter keeps
 * XOAUTH2 and OAUTHBEARER out, as "smtp, relay", into out ("" if none). */
static void
pf_excluding_transports(const struct mb_doctor *d, char *out, size_t size)
{
	const char *args[] = { "-P", "*/*/smtp_sasl_mechanism_filter", NULL };
	struct mb_pf_out r;
	char *line, *save = NULL, *eq;
	size_t o = 0;

	out[0] = '\0';
	mb_pf_run(d->postfix_dir, "postconf", args, PF_OUT_MAX, &r);
	for (line = strtok_r(r.out, "\n", &save); line != NULL && r.status == 0;
	     line = strtok_r(NULL, "\n", &save)) {
		eq = strstr(line, " = ");
		if (eq == NULL || pf_filter_kind(eq + 3) != PF_F_OTHER)
			continue;
		line[strcspn(line, "/")] = '\0';
		o += (size_t)snprintf(out + o, o < size ? size - o : 0, "%s%s",
				      o ? ", " : "", line);
	}
	mb_pf_out_free(&r);
}

#define PF_LOGIN_FIX \
	"postconf -e 'smtp_sasl_mechanism_filter = plain, login' and " \
	"postfix reload (or, for this destination only, " \
	"-o smtp_sasl_mechanism_filter=plain,login on its transport in " \
	"master.cf)"

/* An entry whose password is a password, not a token: once the plugin
 * is installed libsasl2 ranks XOAUTH2/OAUTHBEARER above PLAIN/LOGIN, and
 * the plugin refuses the password (doc/plugin.md), so the filter smtp
 * uses for key must keep them out. */
static void
pf_check_login(struct mb_doctor *d, const char *key, const char *map,
	       bool relay)
{
	char f[PF_OUT_MAX], where[64], others[512];
	enum pf_filter k;

	if (relay) {
		pf_relay_filter(d, f, sizeof(f), where);
	} else {
		pf_param(d, "smtp_sasl_mechanism_filter", f, sizeof(f));
		snprintf(where, sizeof(where), "main.cf");
	}
	k = pf_filter_kind(f);
	if (k == PF_F_OTHER) {
		mb_doc_report(d, MB_DOC_PASS, "postfix-login", NULL,
			      "%s logs in with a password (%s); "
			      "smtp_sasl_mechanism_filter = %s (%s) keeps it on "
			      "PLAIN/LOGIN", key, map, f, where);
		return;
	}
	if (k == PF_F_TABLE) {
		mb_doc_report(d, MB_DOC_SKIP, "postfix-login", NULL,
			      "%s logs in with a password (%s); "
			      "smtp_sasl_mechanism_filter = %s (%s) is a table, "
			      "not checked: it must leave out xoauth2 and "
			      "oauthbearer", key, map, f, where);
		return;
	}
	pf_excluding_transports(d, others, sizeof(others));
	if (!relay && others[0] != '\0') {
		mb_doc_report(d, MB_DOC_SKIP, "postfix-login", NULL,
			      "%s logs in with a password (%s); main.cf's "
			      "smtp_sasl_mechanism_filter = %s, but master.cf's "
			      "%s keep%s XOAUTH2 and OAUTHBEARER out: not "
			      "checked whether %s is delivered through %s", key,
			      map, f, others, strchr(others, ',') ? "" : "s",
			      key, strchr(others, ',') ? "one of them" : "it");
		return;
	}
	mb_doc_report(d, MB_DOC_FAIL, "postfix-login", PF_LOGIN_FIX,
		      "%s logs in with a password, not a token (%s), and "
		      "smtp_sasl_mechanism_filter = %s (%s) %s: libsasl2 "
		      "picks XOAUTH2 or OAUTHBEARER when the server offers "
		      "them, and the plugin refuses the password", key, map, f,
		      where, k == PF_F_NONE ? "lets every mechanism through" :
		      "asks for them");
}

/* Where a postmap lookup failed: the fix, naming who can read the
 * table's file (malloc'd). */
static char *
pf_table_reader(const char *map)
{
	static const char *const ext[] = { "", ".db", ".lmdb", ".cdb" };
	const char *path = strchr(map, ':');
	struct passwd *pw;
	struct stat st;
	char *file, *fix = NULL;
	size_t i;

	path = path != NULL ? path + 1 : map;
	for (i = 0; fix == NULL && i < sizeof(ext) / sizeof(ext[0]); i++) {
		file = mb_xasprintf("%s%s", path, ext[i]);
		if (stat(file, &st) == 0 && S_ISREG(st.st_mode)) {
			pw = getpwuid(st.st_uid);
			fix = mb_xasprintf("run doctor as %s%s, who can read "
					   "it (%s: owner %s, mode %04o)",
					   pw != NULL ? pw->pw_name : "root",
					   pw != NULL && st.st_uid != 0 ?
					   " or root" : "", file,
					   pw != NULL ? pw->pw_name : "?",
					   (unsigned)(st.st_mode & 07777));
		}
		free(file);
	}
	return fix != NULL ? fix : mb_xstrdup("run doctor as root");
}

/* The entry that relays through key: the account check for serve's
 * accounts, the filter check for a password. */
static void
pf_entry(struct mb_doctor *d, const char *key, const char *map,
	 const char *value, bool relay, enum mb_ts_kind *kind_r)
{
	char *acct = NULL, user[256];
	enum mb_ts_kind k = pf_entry_kind(value, &acct);

	snprintf(user, sizeof(user), "%.*s", (int)strcspn(value, ":"), value);
	if (relay)
		mb_doc_report(d, MB_DOC_PASS, "postfix-password", NULL,
			      "%s has an entry in %s for user %s (%s)", key, map,
			      user, k == MB_TS_HELPER ? "token from serve" :
			      k == MB_TS_TOKEN ? "a token in the table" :
			      "a password, not a token");
	if (acct != NULL)
		pf_check_account(d, acct);
	free(acct);
	if (k == MB_TS_PASSWORD)
		pf_check_login(d, key, map, relay);
	if (kind_r != NULL)
		*kind_r = k;
}

/* The relayhost's entry: under the relayhost as written, then under its
 * bare host name, in each table of smtp_sasl_password_maps.  A postmap
 * that fails (an unreadable table) is reported as what it is, never as
 * "no entry".  Returns whether the entry was found and, in *kind_r, what
 * its password is. */
static bool
pf_check_password(struct mb_doctor *d, const char *relay,
		  enum mb_ts_kind *kind_r)
{
	char maps[PF_OUT_MAX], list[PF_OUT_MAX], host[256];
	char *save = NULL, *m, *fix;
	const char *keys[2], *args[4];
	struct mb_pf_out r;
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
			mb_pf_run(d->postfix_dir, "postmap", args, PF_OUT_MAX,
				  &r);
			if (r.status == 0) {
				pf_entry(d, keys[k], m, r.out, true, kind_r);
				mb_pf_out_free(&r);
				return true;
			}
			mb_pf_out_free(&r);
			if (r.err[0] == '\0')
				continue;	/* not in this table */
			fix = pf_table_reader(m);
			mb_doc_report(d, MB_DOC_FAIL, "postfix-password", fix,
				      "postmap -q %s %s failed (%s), so "
				      "whether it has an entry for relayhost "
				      "%s is not known", keys[k], m, r.err,
				      relay);
			free(fix);
			return false;
		}
	}
	mb_doc_report(d, MB_DOC_FAIL, "postfix-password", "add \"RELAYHOST "
		      "USER:\" (empty password: serve's account USER) to the "
		      "table, postmap it, postfix reload", "no entry for "
		      "relayhost %s in smtp_sasl_password_maps (%s)", relay,
		      list[0] ? list : "unset");
	return false;
}

/* The entries of map as postmap -s lists them ("KEY VALUE" lines, in
 * dump, which is cut into pieces): each one other than the relayhost's
 * (relay, host) whose password is a password gets the filter check. */
static void
pf_check_dump(struct mb_doctor *d, const char *map, char *dump,
	      const char *relay, const char *host)
{
	char *line, *save = NULL, *v, *acct;

	for (line = strtok_r(dump, "\n", &save); line != NULL;
	     line = strtok_r(NULL, "\n", &save)) {
		v = line + strcspn(line, " \t");
		if (*v == '\0')
			continue;
		*v++ = '\0';
		v += strspn(v, " \t");
		if (strcmp(line, relay) == 0 || strcmp(line, host) == 0)
			continue;
		if (pf_entry_kind(v, &acct) == MB_TS_PASSWORD)
			pf_check_login(d, line, map, false);
		free(acct);
	}
}

/* The other entries of each table that postmap can list (postmap -s):
 * each one with a password, not a token, gets the filter check. */
static void
pf_check_other_entries(struct mb_doctor *d, const char *relay)
{
	char maps[PF_OUT_MAX], host[256], *save = NULL, *m;
	const char *args[] = { "-s", NULL, NULL };
	struct mb_pf_out r;
	size_t n;

	pf_param(d, "smtp_sasl_password_maps", maps, sizeof(maps));
	n = strspn(relay, "[");
	snprintf(host, sizeof(host), "%.*s", (int)strcspn(relay + n, "]:"),
		 relay + n);
	for (m = strtok_r(maps, PF_SEPS, &save); m != NULL;
	     m = strtok_r(NULL, PF_SEPS, &save)) {
		args[1] = m;
		if (mb_pf_run(d->postfix_dir, "postmap", args, 65536,
			      &r) == 0)
			pf_check_dump(d, m, r.out, relay, host);
		mb_pf_out_free(&r);
	}
}

/* For a relayhost whose entry is a token or serve's account: the filter
 * smtp uses for it must name xoauth2 or oauthbearer. */
static void
pf_check_mechs(struct mb_doctor *d)
{
	char f[PF_OUT_MAX], where[64];

	pf_relay_filter(d, f, sizeof(f), where);
	switch (pf_filter_kind(f)) {
	case PF_F_TABLE:
		mb_doc_report(d, MB_DOC_SKIP, "postfix-mechs", NULL,
			      "smtp_sasl_mechanism_filter is a table (%s), not "
			      "checked", f);
		break;
	case PF_F_OAUTH:
		mb_doc_report(d, MB_DOC_PASS, "postfix-mechs", NULL,
			      "smtp_sasl_mechanism_filter = %s%s%s", f,
			      strcmp(where, "main.cf") ? " " : "",
			      strcmp(where, "main.cf") ? where : "");
		break;
	default:
		mb_doc_report(d, MB_DOC_FAIL, "postfix-mechs", "postconf -e "
			      "smtp_sasl_mechanism_filter=xoauth2",
			      "smtp_sasl_mechanism_filter = %s: %s", f,
			      f[0] ? "neither xoauth2 nor oauthbearer" :
			      "any mechanism the server offers (PLAIN would "
			      "send the password field)");
		break;
	}
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
	struct mb_pf_out r;
	bool chroot;
	struct stat st;

	mb_pf_run(d->postfix_dir, "postconf", args, sizeof(line), &r);
	snprintf(line, sizeof(line), "%s", r.out);
	mb_pf_out_free(&r);
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
	else if (pf_param_args(d, args, dir, sizeof(dir)) != 0)
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
	enum mb_ts_kind kind = MB_TS_HELPER;
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
	if (v[0] == '\0') {
		mb_doc_report(d, MB_DOC_SKIP, "postfix-password", NULL,
			      "no relayhost, its entry not checked");
		pf_check_mechs(d);
	} else if (!pf_check_password(d, v, &kind) ||
		   kind != MB_TS_PASSWORD) {
		pf_check_mechs(d);
	}
	pf_check_other_entries(d, v);
	pf_check_tls(d);
	pf_check_chroot(d);
}
