/* SPDX-License-Identifier: MIT */
#include <config.h>

#include "conf.h"
#include "conf-etcd.h"
#include "fleet.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "account-name.h"
#include "errstr.h"
#include "log.h"
#include "safe-open.h"
#include "wipe.h"
#include "xalloc.h"

#ifndef MB_SYSCONFDIR
#define MB_SYSCONFDIR "/etc"
#endif
#ifndef MB_LOCALSTATEDIR
#define MB_LOCALSTATEDIR "/var"
#endif

#define MB_SECRET_MAX_SIZE 4096

/*
 * The file format (documented in mailbearer.conf(5)):
 *
 *   file    = *( line LF )
 *   line    = ( blank / section / setting ) [ comment ]
 *   comment = ( BOL / WSP ) ( "#" / ";" ) *CHAR
 *   section = *WSP "[" *WSP account *WSP "]" *WSP
 *   setting = *WSP key *WSP "=" *WSP value *WSP
 *   account = the one account-name rule of common/account-name.h
 *
 * A "#" or ";" at the start of a line or after white space starts a
 * comment that runs to the end of the line, so a value can never hold
 * " #" or " ;" (a client secret that does lives in client_secret_file,
 * which is read as is).  Anywhere else the two characters are data:
 * "https://host/a;b" and "a#b" keep them.
 *
 * Every setting belongs to a section; unknown keys, repeated keys and
 * repeated sections are errors, so that a typo is never silently ignored.
 */

/* Provider presets (PROVIDERS.md sections 2 and 3). */
#define GOOGLE_AUTHORIZE "https://accounts.google.com/o/oauth2/v2/auth"
#define GOOGLE_TOKEN "https://oauth2.googleapis.com/token"
#define GOOGLE_DEVICE "https://oauth2.googleapis.com/device/code"
#define GOOGLE_REVOKE "https://oauth2.googleapis.com/revoke"
#define GOOGLE_SCOPE "https://mail.google.com/"
#define MS_HOST "https://login.microsoftonline.com/"
/* App-only tokens carry the application permissions granted to the
 * app (SMTP.SendAsApp, IMAP.AccessAsApp...): one ".default" scope. */
#define MS_CC_SCOPE "https://outlook.office365.com/.default"
#define MS_SCOPE "https://outlook.office.com/IMAP.AccessAsUser.All " \
	"https://outlook.office.com/POP.AccessAsUser.All " \
	"https://outlook.office.com/SMTP.Send offline_access"

enum cfg_key {
	K_PROVIDER, K_USER, K_TENANT, K_TOKEN_ENDPOINT, K_AUTHORIZE_ENDPOINT,
	K_DEVICE_ENDPOINT, K_SCOPE, K_CLIENT_ID, K_CLIENT_SECRET,
	K_CLIENT_SECRET_FILE, K_CA_FILE, K_REFRESH_MARGIN, K_STATE_DIR,
	K_ALLOW, K_TIMEOUT, K_CONNECT_TIMEOUT, K_FLOW,
	K_CLIENT_CERTIFICATE_FILE, K_CLIENT_KEY_FILE, K_REVOCATION_ENDPOINT,
	K_NOTIFY, K_NOTIFY_AFTER, K_REPLY_TIMEOUT, K_ROTATION,
	K_CHECK_IDENTITY, K_SERVICE_ACCOUNT_FILE,
	/* global only, in conf-etcd.h's order */
	K_STORE, K_ETCD_FIRST = K_STORE,
	K_ETCD_LAST = K_STORE + MB_EK_COUNT - 1, K_COUNT
};

static const char *const cfg_key_names[K_COUNT] = {
	[K_PROVIDER] = "provider",
	[K_USER] = "user",
	[K_TENANT] = "tenant",
	[K_TOKEN_ENDPOINT] = "token_endpoint",
	[K_AUTHORIZE_ENDPOINT] = "authorize_endpoint",
	[K_DEVICE_ENDPOINT] = "device_endpoint",
	[K_SCOPE] = "scope",
	[K_CLIENT_ID] = "client_id",
	[K_CLIENT_SECRET] = "client_secret",
	[K_CLIENT_SECRET_FILE] = "client_secret_file",
	[K_CA_FILE] = "ca_file",
	[K_REFRESH_MARGIN] = "refresh_margin",
	[K_STATE_DIR] = "state_dir",
	[K_ALLOW] = "allow",
	[K_TIMEOUT] = "timeout",
	[K_CONNECT_TIMEOUT] = "connect_timeout",
	[K_FLOW] = "flow",
	[K_CLIENT_CERTIFICATE_FILE] = "client_certificate_file",
	[K_CLIENT_KEY_FILE] = "client_key_file",
	[K_REVOCATION_ENDPOINT] = "revocation_endpoint",
	[K_NOTIFY] = "notify",
	[K_NOTIFY_AFTER] = "notify_after",
	[K_REPLY_TIMEOUT] = "reply_timeout",
	[K_ROTATION] = "rotation",
	[K_CHECK_IDENTITY] = "check_identity",
	[K_SERVICE_ACCOUNT_FILE] = "service_account_file",
	[K_STORE] = "store",
	[K_STORE + MB_EK_ENDPOINTS] = "etcd_endpoints",
	[K_STORE + MB_EK_CA_FILE] = "etcd_ca_file",
	[K_STORE + MB_EK_CERT_FILE] = "etcd_cert_file",
	[K_STORE + MB_EK_KEY_FILE] = "etcd_key_file",
	[K_STORE + MB_EK_USER] = "etcd_user",
	[K_STORE + MB_EK_PASSWORD_FILE] = "etcd_password_file",
	[K_STORE + MB_EK_PREFIX] = "etcd_prefix",
	[K_STORE + MB_EK_STATE_KEY_FILE] = "state_key_file",
};

/* One section while it is being read: raw values and their lines. */
struct cfg_section {
	char *name;
	unsigned line;
	char *values[K_COUNT];
	unsigned lines[K_COUNT];
};

struct cfg_parser {
	const char *path;
	char *dir;		/* directory of path, for relative paths */
	mode_t mode;		/* of the config file */
	char *error;		/* first error, malloc'd */
	/* the keys before the first [account]: defaults of every account
	 * (only notify and notify_after) */
	struct cfg_section global;
	char errbuf[128];	/* for cfg_strerror() */
};

const char *
mb_config_system_path(void)
{
	return MB_SYSCONFDIR "/mailbearer/mailbearer.conf";
}

static char *
cfg_home(void)
{
	const char *home = getenv("HOME");
	struct passwd *pw;

	if (home != NULL && home[0] == '/')
		return mb_xstrdup(home);
	pw = getpwuid(geteuid());
	if (pw != NULL && pw->pw_dir != NULL && pw->pw_dir[0] == '/')
		return mb_xstrdup(pw->pw_dir);
	return NULL;
}

char *
mb_config_default_state_dir(bool system)
{
	const char *xdg = getenv("XDG_STATE_HOME");
	char *home, *dir;

	if (system)
		return mb_xstrdup(MB_LOCALSTATEDIR "/lib/mailbearer");
	if (xdg != NULL && xdg[0] == '/')
		return mb_xasprintf("%s/mailbearer", xdg);
	home = cfg_home();
	if (home == NULL)
		return NULL;
	dir = mb_xasprintf("%s/.local/state/mailbearer", home);
	free(home);
	return dir;
}

/* The per-user file's path ($XDG_CONFIG_HOME or ~/.config), or NULL. */
static char *
cfg_user_path(void)
{
	const char *xdg = getenv("XDG_CONFIG_HOME");
	char *user = NULL, *home;

	if (xdg != NULL && xdg[0] == '/')
		return mb_xasprintf("%s/mailbearer/config", xdg);
	home = cfg_home();
	if (home != NULL)
		user = mb_xasprintf("%s/.config/mailbearer/config", home);
	free(home);
	return user;
}

/* MAILBEARER_CONFIG, else for root always the system file (root's
 * per-user file, when there is one, is logged as not read: it
 * must not silently replace the system's), else the per-user file when
 * it exists, else the system file. */
char *
mb_config_default_path(void)
{
	const char *env = getenv("MAILBEARER_CONFIG");
	char *user;

	if (env != NULL && env[0] != '\0')
		return mb_xstrdup(env);
	user = cfg_user_path();
	if (user != NULL && access(user, F_OK) == 0) {
		if (geteuid() != 0)
			return user;
		mb_log(LOG_NOTICE, "%s is not read as root: using %s "
		       "(--config or MAILBEARER_CONFIG choose another)", user,
		       mb_config_system_path());
	}
	free(user);
	return mb_xstrdup(mb_config_system_path());
}

static void __attribute__((format(printf, 3, 4)))
cfg_error(struct cfg_parser *p, unsigned line, const char *fmt, ...)
{
	char buf[1024];
	va_list ap;

	if (p->error != NULL)
		return;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (line > 0)
		p->error = mb_xasprintf("%s:%u: %s", p->path, line, buf);
	else
		p->error = mb_xasprintf("%s: %s", p->path, buf);
}

/* The text of err; valid until the next call for p (thread-safe: the
 * buffer is the parser's). */
static const char *
cfg_strerror(struct cfg_parser *p, int err)
{
	return mb_strerror(err, p->errbuf, sizeof(p->errbuf));
}

/* Opens path for reading as a regular file (tokenhelper/safe-open.h; a
 * symbolic link is followed: packaging may link the configuration).  what
 * names the file in errors ("client_secret_file"); NULL means the
 * configuration itself.  Returns the descriptor, with *st filled in, or
 * -1 with the error set. */
static int
cfg_open_regular(struct cfg_parser *p, unsigned line, const char *what,
		 const char *path, struct stat *st)
{
	char *label = what != NULL ? mb_xasprintf("%s %s", what, path) :
		      mb_xstrdup("the configuration");
	char *err = NULL;
	int fd;

	fd = mb_open_regular(path, O_RDONLY, 0, MB_OPEN_FOLLOW, label, st,
			     &err);
	if (fd < 0)
		cfg_error(p, line, "%s", err);
	free(err);
	free(label);
	return fd;
}

static char *
cfg_resolve(const struct cfg_parser *p, const char *value)
{
	if (value[0] == '/')
		return mb_xstrdup(value);
	return mb_xasprintf("%s/%s", p->dir, value);
}

static bool
cfg_is_https(const char *url)
{
	return strncasecmp(url, "https://", 8) == 0 && url[8] != '\0' &&
	       url[8] != '/';
}

/* Parses a decimal integer in [min, max]; false if it is not one. */
static bool
cfg_parse_long(const char *s, long min, long max, long *out)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || v < min || v > max)
		return false;
	*out = v;
	return true;
}

static void
cfg_section_clear(struct cfg_section *sec)
{
	size_t i;

	free(sec->name);
	for (i = 0; i < K_COUNT; i++) {
		if (i == K_CLIENT_SECRET)
			mb_free_secret(&sec->values[i]);
		else
			free(sec->values[i]);
	}
	memset(sec, 0, sizeof(*sec));
}

static void
cfg_account_clear(struct mb_account *a)
{
	free(a->name);
	free(a->user);
	free(a->provider);
	free(a->token_endpoint);
	free(a->authorize_endpoint);
	free(a->device_endpoint);
	free(a->revocation_endpoint);
	free(a->notify);
	free(a->scope);
	free(a->client_id);
	mb_free_secret(&a->client_secret);
	free(a->client_certificate_file);
	free(a->client_key_file);
	free(a->service_account_file);
	free(a->ca_file);
	free(a->state_dir);
	free(a->allow_uids);
	free(a->tenant);
	free(a->unusable);
	memset(a, 0, sizeof(*a));
}

/* Reads the one-line secret of client_secret_file; refuses a file that
 * others may read.  Returns a malloc'd secret or NULL (error set). */
static char *
cfg_read_secret_file(struct cfg_parser *p, unsigned line, const char *path)
{
	char buf[MB_SECRET_MAX_SIZE + 1];
	char *secret = NULL;
	struct stat st;
	ssize_t n;
	size_t len = 0;
	int fd;

	fd = cfg_open_regular(p, line, "client_secret_file", path, &st);
	if (fd < 0)
		return NULL;
	if ((st.st_mode & 077) != 0) {
		cfg_error(p, line, "client_secret_file %s is accessible by "
			  "group or others (mode %04o); run: chmod 600 %s",
			  path, (unsigned)(st.st_mode & 07777), path);
		goto out;
	}
	while (len < sizeof(buf) - 1) {
		n = read(fd, buf + len, sizeof(buf) - 1 - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			cfg_error(p, line, "cannot read client_secret_file "
				  "%s: %s", path, cfg_strerror(p, errno));
			goto out;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	buf[len] = '\0';
	if (len == sizeof(buf) - 1) {
		cfg_error(p, line, "client_secret_file %s is too large (the "
			  "secret is one line)", path);
		goto out;
	}
	/* The first line, without trailing white space. */
	len = strcspn(buf, "\r\n");
	while (len > 0 && isspace((unsigned char)buf[len - 1]))
		len--;
	if (len == 0) {
		cfg_error(p, line, "client_secret_file %s is empty", path);
		goto out;
	}
	secret = mb_xstrndup(buf, len);
out:
	mb_wipe(buf, sizeof(buf));
	close(fd);
	return secret;
}

/* A file of one account (client_secret_file, ca_file, the certificate
 * or its key) that cannot be used, e.g. left root's 0600 by an
 * administrator while serve runs as mailbearer: that account's error,
 * kept in a->unusable, not the configuration's, so that the other
 * accounts are served.  true when the parser's error was moved there. */
static bool
cfg_account_file_error(struct cfg_parser *p, struct mb_account *a)
{
	if (p->error == NULL)
		return false;
	if (a->unusable == NULL)
		a->unusable = p->error;	/* the first one is said */
	else
		free(p->error);
	p->error = NULL;
	return true;
}

/* libcurl opens ca_file at each refresh, where a FIFO would hang it:
 * only a readable regular file is accepted. */
static bool
cfg_check_ca_file(struct cfg_parser *p, unsigned line, const char *path)
{
	struct stat st;

	if (stat(path, &st) != 0 || access(path, R_OK) != 0) {
		cfg_error(p, line, "ca_file %s: %s", path,
			  cfg_strerror(p, errno));
		return false;
	}
	if (!S_ISREG(st.st_mode)) {
		cfg_error(p, line, "ca_file %s is %s, not a regular file",
			  path, mb_file_kind(st.st_mode));
		return false;
	}
	return true;
}

static bool
cfg_valid_tenant(const char *t)
{
	size_t n = strlen(t);

	if (n == 0 || n > 253)
		return false;
	for (; *t != '\0'; t++) {
		if (!isalnum((unsigned char)*t) && *t != '-' && *t != '.')
			return false;
	}
	return true;
}

/* uids from "postfix, alice 1001"; names resolved now (getpwnam). */
static bool
cfg_parse_allow(struct cfg_parser *p, unsigned line, const char *value,
		struct mb_account *a)
{
	char *copy = mb_xstrdup(value), *tok, *save = NULL;
	bool ok = false;
	struct passwd *pw;
	long uid;

	for (tok = strtok_r(copy, ", \t", &save); tok != NULL;
	     tok = strtok_r(NULL, ", \t", &save)) {
		uid_t u;

		if (isdigit((unsigned char)tok[0])) {
			if (!cfg_parse_long(tok, 0, INT_MAX, &uid)) {
				cfg_error(p, line, "allow: %s is not a uid",
					  tok);
				goto out;
			}
			u = (uid_t)uid;
		} else {
			pw = getpwnam(tok);
			if (pw == NULL) {
				cfg_error(p, line, "allow: no such user: %s",
					  tok);
				goto out;
			}
			u = pw->pw_uid;
		}
		a->allow_uids = mb_xrealloc(a->allow_uids,
			(a->n_allow_uids + 1) * sizeof(*a->allow_uids));
		a->allow_uids[a->n_allow_uids++] = u;
	}
	ok = true;
out:
	free(copy);
	return ok;
}

/* The provider's presets: endpoints and scope of google and microsoft
 * (with the tenant); generic needs token_endpoint. */
static bool
cfg_section_provider(struct cfg_parser *p, struct cfg_section *sec,
		     struct mb_account *a)
{
	char **v = sec->values;
	unsigned *ln = sec->lines;
	const char *prov = v[K_PROVIDER];

	if (prov == NULL) {
		cfg_error(p, sec->line, "[%s]: no provider; set provider = "
			  "google, microsoft or generic", sec->name);
		return false;
	}
	if (strcmp(prov, "google") != 0 && strcmp(prov, "microsoft") != 0 &&
	    strcmp(prov, "generic") != 0) {
		cfg_error(p, ln[K_PROVIDER], "unknown provider \"%s\" "
			  "(google, microsoft or generic)", prov);
		return false;
	}
	a->provider = mb_xstrdup(prov);
	if (v[K_TENANT] != NULL && strcmp(prov, "microsoft") != 0) {
		cfg_error(p, ln[K_TENANT], "tenant is only meaningful with "
			  "provider = microsoft");
		return false;
	}
	if (strcmp(prov, "google") == 0) {
		a->token_endpoint = mb_xstrdup(GOOGLE_TOKEN);
		a->authorize_endpoint = mb_xstrdup(GOOGLE_AUTHORIZE);
		a->device_endpoint = mb_xstrdup(GOOGLE_DEVICE);
		a->revocation_endpoint = mb_xstrdup(GOOGLE_REVOKE);
		a->scope = mb_xstrdup(GOOGLE_SCOPE);
	} else if (strcmp(prov, "microsoft") == 0) {
		const char *t = v[K_TENANT] ? v[K_TENANT] : "common";

		if (!cfg_valid_tenant(t)) {
			cfg_error(p, ln[K_TENANT], "tenant \"%s\" is not "
				  "common, organizations, consumers, a "
				  "tenant id or a domain", t);
			return false;
		}
		a->tenant = mb_xstrdup(t);
		a->token_endpoint = mb_xasprintf(
			MS_HOST "%s/oauth2/v2.0/token", t);
		a->authorize_endpoint = mb_xasprintf(
			MS_HOST "%s/oauth2/v2.0/authorize", t);
		a->device_endpoint = mb_xasprintf(
			MS_HOST "%s/oauth2/v2.0/devicecode", t);
		a->scope = mb_xstrdup(MS_SCOPE);
	} else if (v[K_TOKEN_ENDPOINT] == NULL) {
		cfg_error(p, sec->line, "[%s]: provider = generic needs "
			  "token_endpoint", sec->name);
		return false;
	}
	return true;
}

/* Endpoint overrides (https only) and the scope. */
static bool
cfg_section_endpoints(struct cfg_parser *p, struct cfg_section *sec,
		      struct mb_account *a)
{
	static const enum cfg_key urls[] = {
		K_TOKEN_ENDPOINT, K_AUTHORIZE_ENDPOINT, K_DEVICE_ENDPOINT,
		K_REVOCATION_ENDPOINT,
	};
	char **v = sec->values;
	unsigned *ln = sec->lines;

	for (size_t i = 0; i < sizeof(urls) / sizeof(urls[0]); i++) {
		char **dst = urls[i] == K_TOKEN_ENDPOINT ? &a->token_endpoint :
			     urls[i] == K_AUTHORIZE_ENDPOINT ?
			     &a->authorize_endpoint :
			     urls[i] == K_REVOCATION_ENDPOINT ?
			     &a->revocation_endpoint : &a->device_endpoint;
		const char *url = v[urls[i]];

		if (url == NULL)
			continue;
		if (!cfg_is_https(url)) {
			cfg_error(p, ln[urls[i]], "%s must be an https:// URL "
				  "(tokens and secrets never travel over "
				  "plain http): %s",
				  cfg_key_names[urls[i]], url);
			return false;
		}
		free(*dst);
		*dst = mb_xstrdup(url);
	}
	if (v[K_SCOPE] != NULL) {
		free(a->scope);
		a->scope = mb_xstrdup(v[K_SCOPE]);
	}
	return true;
}

/* A file that must exist, be regular and be readable now; with secret,
 * it must also be closed to group and others (a private key). */
static bool
cfg_check_file(struct cfg_parser *p, unsigned line, enum cfg_key k,
	       const char *path, bool secret)
{
	const char *what = cfg_key_names[k];
	struct stat st;
	int fd;

	fd = cfg_open_regular(p, line, what, path, &st);
	if (fd < 0)
		return false;
	close(fd);
	if (secret && (st.st_mode & 077) != 0) {
		cfg_error(p, line, "%s %s is accessible by group or others "
			  "(mode %04o); run: chmod 600 %s", what, path,
			  (unsigned)(st.st_mode & 07777), path);
		return false;
	}
	return true;
}

/* flow = client_credentials: how the client proves itself, and what it
 * may ask for. */
static bool
cfg_section_cc(struct cfg_parser *p, struct cfg_section *sec,
	       struct mb_account *a, bool cert, bool key, bool secret)
{
	char **v = sec->values;
	unsigned *ln = sec->lines;

	if (strcmp(a->provider, "google") == 0) {
		cfg_error(p, ln[K_FLOW], "Google has no client credentials "
			  "grant for Gmail (it uses service accounts with "
			  "domain-wide delegation); use flow = refresh_token");
		return false;
	}
	if (a->tenant != NULL && (strcmp(a->tenant, "common") == 0 ||
	    strcmp(a->tenant, "organizations") == 0 ||
	    strcmp(a->tenant, "consumers") == 0)) {
		cfg_error(p, v[K_TENANT] ? ln[K_TENANT] : ln[K_FLOW],
			  "flow = client_credentials needs the tenant's id "
			  "or domain (tenant = contoso.onmicrosoft.com), not "
			  "\"%s\"", a->tenant);
		return false;
	}
	if (cert != key) {
		cfg_error(p, ln[cert ? K_CLIENT_CERTIFICATE_FILE :
			  K_CLIENT_KEY_FILE], "client_certificate_file and "
			  "client_key_file go together; set both");
		return false;
	}
	if (cert && secret) {
		cfg_error(p, ln[K_CLIENT_CERTIFICATE_FILE], "a client secret "
			  "and a client certificate are both set; keep one");
		return false;
	}
	if (!cert && !secret) {
		cfg_error(p, ln[K_FLOW], "flow = client_credentials needs "
			  "client_secret_file, or client_certificate_file "
			  "and client_key_file");
		return false;
	}
	if (cert) {
		a->client_certificate_file = cfg_resolve(p,
			v[K_CLIENT_CERTIFICATE_FILE]);
		a->client_key_file = cfg_resolve(p, v[K_CLIENT_KEY_FILE]);
		if (!(cfg_check_file(p, ln[K_CLIENT_CERTIFICATE_FILE],
				     K_CLIENT_CERTIFICATE_FILE,
				     a->client_certificate_file, false) &&
		      cfg_check_file(p, ln[K_CLIENT_KEY_FILE],
				     K_CLIENT_KEY_FILE, a->client_key_file,
				     true)) &&
		    !cfg_account_file_error(p, a))
			return false;
	}
	if (strcmp(a->provider, "microsoft") == 0 && v[K_SCOPE] == NULL) {
		free(a->scope);
		a->scope = mb_xstrdup(MS_CC_SCOPE);
	}
	return true;
}

/* flow = service_account: Google's JSON key, checked now like a key
 * file (regular, 0600); its content is judged at each use
 * (client-assertion.c).  Google only, or generic for a test provider. */
static bool
cfg_section_sa(struct cfg_parser *p, struct cfg_section *sec,
	       struct mb_account *a, bool secret)
{
	char **v = sec->values;
	unsigned *ln = sec->lines;

	if (strcmp(a->provider, "microsoft") == 0) {
		cfg_error(p, ln[K_FLOW], "Microsoft has no service accounts; "
			  "app-only access there is flow = "
			  "client_credentials");
		return false;
	}
	if (secret) {
		cfg_error(p, ln[v[K_CLIENT_SECRET] ? K_CLIENT_SECRET :
			  K_CLIENT_SECRET_FILE], "flow = service_account "
			  "signs with service_account_file's key; remove "
			  "the client secret");
		return false;
	}
	if (v[K_SERVICE_ACCOUNT_FILE] == NULL) {
		cfg_error(p, ln[K_FLOW], "flow = service_account needs "
			  "service_account_file (the JSON key of the service "
			  "account)");
		return false;
	}
	a->service_account_file = cfg_resolve(p, v[K_SERVICE_ACCOUNT_FILE]);
	if (!cfg_check_file(p, ln[K_SERVICE_ACCOUNT_FILE],
			    K_SERVICE_ACCOUNT_FILE, a->service_account_file,
			    true) &&
	    !cfg_account_file_error(p, a))
		return false;
	if (v[K_SCOPE] == NULL) {
		free(a->scope);
		a->scope = mb_xstrdup(GOOGLE_SCOPE);
	}
	return true;
}

const char *
mb_flow_name(enum mb_flow flow)
{
	return flow == MB_FLOW_CLIENT_CREDENTIALS ? "client_credentials" :
	       flow == MB_FLOW_SERVICE_ACCOUNT ? "service_account" :
	       "refresh_token";
}

/* flow, and for client_credentials its needs: a tenant of its own
 * (Microsoft has no app-only tokens for "common"), a secret or a
 * certificate, the ".default" scope. */
static bool
cfg_section_flow(struct cfg_parser *p, struct cfg_section *sec,
		 struct mb_account *a)
{
	char **v = sec->values;
	unsigned *ln = sec->lines;
	bool cert = v[K_CLIENT_CERTIFICATE_FILE] != NULL;
	bool key = v[K_CLIENT_KEY_FILE] != NULL;
	bool secret = v[K_CLIENT_SECRET] != NULL ||
		      v[K_CLIENT_SECRET_FILE] != NULL;

	if (v[K_FLOW] == NULL || strcmp(v[K_FLOW], "refresh_token") == 0) {
		a->flow = MB_FLOW_REFRESH_TOKEN;
	} else if (strcmp(v[K_FLOW], "client_credentials") == 0) {
		a->flow = MB_FLOW_CLIENT_CREDENTIALS;
	} else if (strcmp(v[K_FLOW], "service_account") == 0) {
		a->flow = MB_FLOW_SERVICE_ACCOUNT;
	} else {
		cfg_error(p, ln[K_FLOW], "unknown flow \"%s\" (refresh_token, "
			  "client_credentials or service_account; `mailbearer "
			  "authorize` obtains the refresh token)", v[K_FLOW]);
		return false;
	}
	if (v[K_SERVICE_ACCOUNT_FILE] != NULL &&
	    a->flow != MB_FLOW_SERVICE_ACCOUNT) {
		cfg_error(p, ln[K_SERVICE_ACCOUNT_FILE], "service_account_file "
			  "is only used with flow = service_account");
		return false;
	}
	if ((cert || key) && a->flow != MB_FLOW_CLIENT_CREDENTIALS) {
		cfg_error(p, ln[cert ? K_CLIENT_CERTIFICATE_FILE :
			  K_CLIENT_KEY_FILE], "%s is only used with flow = "
			  "client_credentials", cfg_key_names[cert ?
			  K_CLIENT_CERTIFICATE_FILE : K_CLIENT_KEY_FILE]);
		return false;
	}
	if (a->flow == MB_FLOW_SERVICE_ACCOUNT)
		return cfg_section_sa(p, sec, a, secret);
	if (a->flow != MB_FLOW_CLIENT_CREDENTIALS)
		return true;
	return cfg_section_cc(p, sec, a, cert, key, secret);
}

/* The OAuth client: client_id, the user, the secret, the CA. */
static bool
cfg_section_client(struct cfg_parser *p, struct cfg_section *sec,
		   struct mb_account *a)
{
	char **v = sec->values;
	unsigned *ln = sec->lines;

	/* a service account's key names its client (client_email) */
	if (v[K_CLIENT_ID] == NULL && (v[K_FLOW] == NULL ||
	    strcmp(v[K_FLOW], "service_account") != 0)) {
		cfg_error(p, sec->line, "[%s]: client_id is missing",
			  sec->name);
		return false;
	}
	a->client_id = mb_xstrdup(v[K_CLIENT_ID] ? v[K_CLIENT_ID] : "");
	a->user = mb_xstrdup(v[K_USER] ? v[K_USER] : sec->name);
	if (v[K_CLIENT_SECRET] != NULL && v[K_CLIENT_SECRET_FILE] != NULL) {
		cfg_error(p, ln[K_CLIENT_SECRET_FILE], "client_secret and "
			  "client_secret_file are both set; keep one");
		return false;
	}
	if (v[K_CLIENT_SECRET] != NULL) {
		if ((p->mode & 077) != 0) {
			cfg_error(p, ln[K_CLIENT_SECRET], "client_secret in a "
				  "file accessible by group or others (mode "
				  "%04o); run: chmod 600 %s, or move the "
				  "secret to a client_secret_file",
				  (unsigned)(p->mode & 07777), p->path);
			return false;
		}
		a->client_secret = mb_xstrdup(v[K_CLIENT_SECRET]);
	} else if (v[K_CLIENT_SECRET_FILE] != NULL) {
		char *path = cfg_resolve(p, v[K_CLIENT_SECRET_FILE]);

		a->client_secret = cfg_read_secret_file(p,
			ln[K_CLIENT_SECRET_FILE], path);
		free(path);
		if (a->client_secret == NULL && !cfg_account_file_error(p, a))
			return false;
	}
	if (v[K_CA_FILE] != NULL) {
		a->ca_file = cfg_resolve(p, v[K_CA_FILE]);
		if (!cfg_check_ca_file(p, ln[K_CA_FILE], a->ca_file) &&
		    !cfg_account_file_error(p, a))
			return false;
	}
	return cfg_section_flow(p, sec, a);
}

/* refresh_margin and the timeouts, with their defaults. */
static bool
cfg_section_numbers(struct cfg_parser *p, struct cfg_section *sec,
		    struct mb_account *a)
{
	char **v = sec->values;
	unsigned *ln = sec->lines;

	a->refresh_margin = 600;
	if (v[K_REFRESH_MARGIN] != NULL &&
	    !cfg_parse_long(v[K_REFRESH_MARGIN], 0, 86400,
			    &a->refresh_margin)) {
		cfg_error(p, ln[K_REFRESH_MARGIN], "refresh_margin must be a "
			  "number of seconds from 0 to 86400");
		return false;
	}
	a->timeout = 30;
	if (v[K_TIMEOUT] != NULL &&
	    !cfg_parse_long(v[K_TIMEOUT], 1, 600, &a->timeout)) {
		cfg_error(p, ln[K_TIMEOUT], "timeout must be a number of "
			  "seconds from 1 to 600");
		return false;
	}
	a->connect_timeout = a->timeout < 10 ? a->timeout : 10;
	if (v[K_CONNECT_TIMEOUT] != NULL &&
	    !cfg_parse_long(v[K_CONNECT_TIMEOUT], 1, 600,
			    &a->connect_timeout)) {
		cfg_error(p, ln[K_CONNECT_TIMEOUT], "connect_timeout must be "
			  "a number of seconds from 1 to 600");
		return false;
	}
	/* How long a request already sent is listened to: abandoning it
	 * early may spend a strictly rotated refresh token for nothing. */
	a->reply_timeout = a->timeout > MB_REPLY_TIMEOUT_DEFAULT ?
			   a->timeout : MB_REPLY_TIMEOUT_DEFAULT;
	if (v[K_REPLY_TIMEOUT] != NULL &&
	    (!cfg_parse_long(v[K_REPLY_TIMEOUT], 1, 3600,
			     &a->reply_timeout) ||
	     a->reply_timeout < a->timeout)) {
		cfg_error(p, ln[K_REPLY_TIMEOUT], "reply_timeout must be a "
			  "number of seconds from timeout (%ld) to 3600",
			  a->timeout);
		return false;
	}
	return true;
}

/* rotation = strict | none: whether the provider invalidates a refresh
 * token once it has answered a request with it (Microsoft's preset:
 * strict). */
static bool
cfg_section_rotation(struct cfg_parser *p, struct cfg_section *sec,
		     struct mb_account *a)
{
	const char *r = sec->values[K_ROTATION];

	a->rotation_strict = strcmp(a->provider, "microsoft") == 0;
	if (r == NULL)
		return true;
	if (strcmp(r, "strict") == 0) {
		a->rotation_strict = true;
	} else if (strcmp(r, "none") == 0) {
		a->rotation_strict = false;
	} else {
		cfg_error(p, sec->lines[K_ROTATION], "rotation must be strict "
			  "or none");
		return false;
	}
	return true;
}

bool
mb_scope_has(const char *scope, const char *word)
{
	size_t n = strlen(word);
	const char *p = scope;

	while (p != NULL && (p = strstr(p, word)) != NULL) {
		if ((p == scope || p[-1] == ' ') &&
		    (p[n] == '\0' || p[n] == ' '))
			return true;
		p += n;
	}
	return false;
}

/* check_identity = yes | no: whether authorize asks for an OpenID
 * Connect id_token and checks it names user.  Default: yes for Google
 * and Microsoft, and for a generic provider whose scope has openid. */
static bool
cfg_section_identity(struct cfg_parser *p, struct cfg_section *sec,
		     struct mb_account *a)
{
	const char *v = sec->values[K_CHECK_IDENTITY];

	a->check_identity = strcmp(a->provider, "generic") != 0 ||
			    mb_scope_has(a->scope, "openid");
	if (v == NULL)
		return true;
	if (strcmp(v, "yes") == 0) {
		a->check_identity = true;
	} else if (strcmp(v, "no") == 0) {
		a->check_identity = false;
	} else {
		cfg_error(p, sec->lines[K_CHECK_IDENTITY], "check_identity "
			  "must be yes or no");
		return false;
	}
	return true;
}

/* Where the state lives, and who may ask serve for the token. */
static bool
cfg_section_local(struct cfg_parser *p, struct cfg_section *sec,
		  struct mb_account *a)
{
	char **v = sec->values;
	unsigned *ln = sec->lines;

	if (v[K_STATE_DIR] != NULL) {
		a->state_dir = cfg_resolve(p, v[K_STATE_DIR]);
	} else {
		a->state_dir = mb_config_default_state_dir(
			strcmp(p->path, mb_config_system_path()) == 0);
		if (a->state_dir == NULL) {
			cfg_error(p, sec->line, "[%s]: no home directory for "
				  "the state; set state_dir", sec->name);
			return false;
		}
	}
	if (v[K_ALLOW] != NULL &&
	    !cfg_parse_allow(p, ln[K_ALLOW], v[K_ALLOW], a))
		return false;
	return true;
}

/* notify and notify_after, the account's or else the global ones; an
 * empty notify turns a global one off for the account. */
static bool
cfg_section_notify(struct cfg_parser *p, struct cfg_section *sec,
		   struct mb_account *a)
{
	struct cfg_section *g = &p->global;
	enum cfg_key k = K_NOTIFY_AFTER;
	const char *cmd = sec->values[K_NOTIFY] != NULL ?
		sec->values[K_NOTIFY] : g->values[K_NOTIFY];
	const char *after = sec->values[k] != NULL ? sec->values[k] :
		g->values[k];

	if (cmd != NULL && cmd[0] != '\0')
		a->notify = mb_xstrdup(cmd);
	a->notify_after = 3600;
	if (after != NULL &&
	    !cfg_parse_long(after, 0, 30L * 86400, &a->notify_after)) {
		cfg_error(p, sec->values[k] != NULL ? sec->lines[k] :
			  g->lines[k], "notify_after must be a number of "
			  "seconds from 0 to 2592000 (30 days)");
		return false;
	}
	return true;
}

/* Builds the account of a finished [section], in phases.  Returns true,
 * or false with p->error set. */
static bool
cfg_finish_section(struct cfg_parser *p, struct cfg_section *sec,
		   struct mb_account *a)
{
	memset(a, 0, sizeof(*a));
	a->name = mb_xstrdup(sec->name);
	a->line = sec->line;
	return cfg_section_provider(p, sec, a) &&
	       cfg_section_endpoints(p, sec, a) &&
	       cfg_section_client(p, sec, a) &&
	       cfg_section_numbers(p, sec, a) &&
	       cfg_section_rotation(p, sec, a) &&
	       cfg_section_identity(p, sec, a) &&
	       cfg_section_local(p, sec, a) &&
	       cfg_section_notify(p, sec, a);
}

/* Cuts the line at the first "#" or ";" that starts it or follows white
 * space. */
static void
cfg_strip_comment(char *line)
{
	char *s;

	for (s = line; *s != '\0'; s++) {
		if ((*s == '#' || *s == ';') &&
		    (s == line || isspace((unsigned char)s[-1]))) {
			*s = '\0';
			return;
		}
	}
}

static char *
cfg_trim(char *s)
{
	char *e;

	while (isspace((unsigned char)*s))
		s++;
	e = s + strlen(s);
	while (e > s && isspace((unsigned char)e[-1]))
		e--;
	*e = '\0';
	return s;
}

/* FNV-1a: the hash of the name index and of the shared strings. */
static size_t
cfg_hash(const char *s)
{
	size_t h = 2166136261u;

	for (; *s != '\0'; s++)
		h = (h ^ (unsigned char)*s) * 16777619u;
	return h;
}

/* The slot of name in cfg->index: its account's, or an empty one. */
static size_t
cfg_index_slot(const struct mb_config *cfg, const char *name)
{
	size_t i = cfg_hash(name) & cfg->index_mask;

	while (cfg->index[i] != 0 &&
	       strcmp(cfg->accounts[cfg->index[i] - 1].name, name) != 0)
		i = (i + 1) & cfg->index_mask;
	return i;
}

/* Adds account n (already in cfg->accounts) to the index, which is kept
 * at most half full. */
static void
cfg_index_add(struct mb_config *cfg, size_t n)
{
	if (cfg->index == NULL || 2 * (n + 1) > cfg->index_mask + 1) {
		size_t size = cfg->index == NULL ? 16 :
			      2 * (cfg->index_mask + 1);

		free(cfg->index);
		cfg->index = mb_xcalloc(size, sizeof(*cfg->index));
		cfg->index_mask = size - 1;
		for (size_t i = 0; i < n; i++)
			cfg->index[cfg_index_slot(cfg, cfg->accounts[i].name)] =
				i + 1;
	}
	cfg->index[cfg_index_slot(cfg, cfg->accounts[n].name)] = n + 1;
}

/* *field (malloc'd, may be NULL) replaced by the shared copy of its
 * value. */
static void
cfg_share(struct mb_config *cfg, char **field)
{
	size_t i;

	if (*field == NULL)
		return;
	if (cfg->shared == NULL || 2 * (cfg->n_shared + 1) >
				   cfg->shared_mask + 1) {
		size_t size = cfg->shared == NULL ? 16 :
			      2 * (cfg->shared_mask + 1);
		char **old = cfg->shared;
		size_t old_size = old == NULL ? 0 : cfg->shared_mask + 1;

		cfg->shared = mb_xcalloc(size, sizeof(*cfg->shared));
		cfg->shared_mask = size - 1;
		for (size_t k = 0; k < old_size; k++) {
			if (old[k] == NULL)
				continue;
			i = cfg_hash(old[k]) & cfg->shared_mask;
			while (cfg->shared[i] != NULL)
				i = (i + 1) & cfg->shared_mask;
			cfg->shared[i] = old[k];
		}
		free(old);
	}
	i = cfg_hash(*field) & cfg->shared_mask;
	while (cfg->shared[i] != NULL && strcmp(cfg->shared[i], *field) != 0)
		i = (i + 1) & cfg->shared_mask;
	if (cfg->shared[i] == NULL) {
		cfg->shared[i] = *field;
		cfg->n_shared++;
	} else {
		free(*field);
		*field = cfg->shared[i];
	}
}

/* The fields of an account that cfg_share may point into cfg->shared
 * (never the name, the secret or allow_uids; nor state_dir, which
 * the unit tests of the cache replace in a loaded configuration). */
#define CFG_SHARED_FIELDS(a) \
	&(a)->provider, &(a)->token_endpoint, &(a)->authorize_endpoint, \
	&(a)->device_endpoint, &(a)->revocation_endpoint, &(a)->notify, \
	&(a)->scope, &(a)->client_id, &(a)->client_certificate_file, \
	&(a)->client_key_file, &(a)->service_account_file, &(a)->ca_file, \
	&(a)->tenant

/* A committed account's strings shared with the others (see struct
 * mb_config). */
static void
cfg_account_share(struct mb_config *cfg, struct mb_account *a)
{
	char **fields[] = { CFG_SHARED_FIELDS(a) };

	for (size_t k = 0; k < sizeof(fields) / sizeof(fields[0]); k++)
		cfg_share(cfg, fields[k]);
	if (a->user != NULL && strcmp(a->user, a->name) == 0) {
		free(a->user);
		a->user = a->name;
	} else {
		cfg_share(cfg, &a->user);
	}
}

/* Clears a committed account without freeing what it shares. */
static void
cfg_account_unshare(struct mb_account *a)
{
	char **fields[] = { CFG_SHARED_FIELDS(a), &a->user };

	for (size_t k = 0; k < sizeof(fields) / sizeof(fields[0]); k++)
		*fields[k] = NULL;
	cfg_account_clear(a);
}

/* Appends the finished section sec to cfg as an account. */
static bool
cfg_commit_section(struct cfg_parser *p, struct cfg_section *sec,
		   struct mb_config *cfg)
{
	size_t n = cfg->n_accounts;

	/* room doubles at each power of two: 10,000 accounts cost 14
	 * reallocations, not 10,000 copies of a growing array */
	if ((n & (n - 1)) == 0)
		cfg->accounts = mb_xrealloc(cfg->accounts,
			(n == 0 ? 1 : 2 * n) * sizeof(*cfg->accounts));
	if (!cfg_finish_section(p, sec, &cfg->accounts[cfg->n_accounts])) {
		cfg_account_clear(&cfg->accounts[cfg->n_accounts]);
		return false;
	}
	cfg_account_share(cfg, &cfg->accounts[cfg->n_accounts]);
	cfg_index_add(cfg, cfg->n_accounts);
	cfg->n_accounts++;
	cfg_section_clear(sec);
	return true;
}

/* A "[account]" line (s, trimmed): commits the section before it and
 * starts a new one. */
static bool
cfg_header_line(struct cfg_parser *p, char *s, unsigned lineno,
		struct cfg_section *sec, bool *in_section,
		struct mb_config *cfg)
{
	char *end = strchr(s, ']');

	if (end == NULL || end[1] != '\0') {
		cfg_error(p, lineno, "malformed section header (expected "
			  "[account])");
		return false;
	}
	*end = '\0';
	s = cfg_trim(s + 1);
	if (!mb_account_name_valid(s, strlen(s))) {
		cfg_error(p, lineno, "invalid account name \"%s\" (%s)", s,
			  MB_ACCOUNT_NAME_RULE);
		return false;
	}
	if (cfg->n_accounts > 0) {
		size_t i = cfg->index[cfg_index_slot(cfg, s)];

		if (i != 0) {
			cfg_error(p, lineno, "account [%s] defined twice "
				  "(first at line %u)", s,
				  cfg->accounts[i - 1].line);
			return false;
		}
	}
	if (*in_section && strcmp(sec->name, s) == 0) {
		cfg_error(p, lineno, "account [%s] defined twice (first at "
			  "line %u)", s, sec->line);
		return false;
	}
	if (*in_section && !cfg_commit_section(p, sec, cfg))
		return false;
	sec->name = mb_xstrdup(s);
	sec->line = lineno;
	*in_section = true;
	return true;
}

/* A "key = value" line (s, trimmed) of the current section. */
static bool
cfg_key_line(struct cfg_parser *p, char *s, unsigned lineno,
	     struct cfg_section *sec, bool in_section)
{
	char *eq = strchr(s, '='), *key, *value;
	int k;

	if (eq == NULL) {
		cfg_error(p, lineno, "expected \"key = value\" or [account]");
		return false;
	}
	*eq = '\0';
	key = cfg_trim(s);
	value = cfg_trim(eq + 1);
	for (k = 0; k < K_COUNT; k++) {
		if (strcmp(key, cfg_key_names[k]) == 0)
			break;
	}
	if (k == K_COUNT) {
		cfg_error(p, lineno, "unknown key \"%s\"", key);
		return false;
	}
	if (in_section && k >= K_ETCD_FIRST && k <= K_ETCD_LAST) {
		cfg_error(p, lineno, "\"%s\" inside [%s]: it belongs before "
			  "the first [account] (it applies to every account)",
			  key, sec->name);
		return false;
	}
	if (!in_section && k != K_NOTIFY && k != K_NOTIFY_AFTER &&
	    (k < K_ETCD_FIRST || k > K_ETCD_LAST)) {
		cfg_error(p, lineno, "\"%s\" outside an [account] section "
			  "(only notify, notify_after, store, etcd_* and "
			  "state_key_file may come before the first one)",
			  key);
		return false;
	}
	if (!in_section)
		sec = &p->global;
	if (sec->values[k] != NULL) {
		cfg_error(p, lineno, "\"%s\" set twice in %s%s%s (first at "
			  "line %u)", key, in_section ? "[" : "the global part",
			  in_section ? sec->name : "", in_section ? "]" : "",
			  sec->lines[k]);
		return false;
	}
	if (*value == '\0' && !(k == K_NOTIFY && in_section)) {
		cfg_error(p, lineno, "\"%s\" has an empty value", key);
		return false;
	}
	sec->values[k] = mb_xstrdup(value);
	sec->lines[k] = lineno;
	return true;
}

static bool
cfg_parse_text(struct cfg_parser *p, char *text, struct mb_config *cfg)
{
	struct cfg_section sec;
	bool in_section = false, ok = true;
	unsigned lineno = 0;
	char *line, *next;

	memset(&sec, 0, sizeof(sec));
	for (line = text; line != NULL && ok; line = next) {
		char *s;

		next = strchr(line, '\n');
		if (next != NULL)
			*next++ = '\0';
		lineno++;
		cfg_strip_comment(line);
		s = cfg_trim(line);
		if (*s == '\0')
			continue;
		if (*s == '[')
			ok = cfg_header_line(p, s, lineno, &sec, &in_section,
					     cfg);
		else
			ok = cfg_key_line(p, s, lineno, &sec, in_section);
	}
	if (ok && in_section)
		ok = cfg_commit_section(p, &sec, cfg);
	cfg_section_clear(&sec);
	return ok;
}

/* store and the etcd_* keys: the fleet every account shares. */
static bool
cfg_global_store(struct cfg_parser *p, struct mb_config *cfg)
{
	struct mb_etcd_raw raw;
	unsigned line;
	char *err = NULL;
	size_t i;
	int k;

	memset(&raw, 0, sizeof(raw));
	raw.dir = p->dir;
	for (k = 0; k < MB_EK_COUNT; k++) {
		raw.value[k] = p->global.values[K_ETCD_FIRST + k];
		raw.line[k] = p->global.lines[K_ETCD_FIRST + k];
	}
	if (mb_etcd_conf_build(&raw, &cfg->etcd, &cfg->store_etcd, &line,
			       &err) < 0) {
		cfg_error(p, line, "%s", err);
		free(err);
		return false;
	}
	if (!cfg->store_etcd)
		return true;
	cfg->fleet = mb_fleet_new(cfg->etcd, &err);
	if (cfg->fleet == NULL) {
		cfg_error(p, raw.line[MB_EK_STATE_KEY_FILE], "%s", err);
		free(err);
		return false;
	}
	for (i = 0; i < cfg->n_accounts; i++)
		cfg->accounts[i].fleet = cfg->fleet;
	return true;
}

int
mb_config_load(const char *path, struct mb_config **cfg_r, char **error_r)
{
	struct cfg_parser p;
	struct mb_config *cfg = NULL;
	char *text = NULL, *slash;
	struct stat st;
	size_t len = 0;
	ssize_t n;
	int fd = -1, ret = -1;

	*cfg_r = NULL;
	*error_r = NULL;
	memset(&p, 0, sizeof(p));
	p.path = path;
	slash = strrchr(path, '/');
	p.dir = slash == NULL ? mb_xstrdup(".") :
		slash == path ? mb_xstrdup("/") :
		mb_xstrndup(path, (size_t)(slash - path));
	fd = cfg_open_regular(&p, 0, NULL, path, &st);
	if (fd < 0)
		goto out;
	if (st.st_size > MB_CONFIG_MAX_SIZE) {
		cfg_error(&p, 0, "too large (more than %d bytes)",
			  MB_CONFIG_MAX_SIZE);
		goto out;
	}
	p.mode = st.st_mode;
	text = mb_xmalloc((size_t)st.st_size + 1);
	while (len < (size_t)st.st_size) {
		n = read(fd, text + len, (size_t)st.st_size - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			cfg_error(&p, 0, "read error: %s",
				  cfg_strerror(&p, errno));
			goto out;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	text[len] = '\0';
	if (strlen(text) != len) {
		cfg_error(&p, 0, "contains a NUL byte");
		goto out;
	}
	cfg = mb_xcalloc(1, sizeof(*cfg));
	cfg->path = mb_xstrdup(path);
	if (!cfg_parse_text(&p, text, cfg) || !cfg_global_store(&p, cfg))
		goto out;
	*cfg_r = cfg;
	cfg = NULL;
	ret = 0;
out:
	if (ret < 0) {
		*error_r = p.error != NULL ? p.error :
			   mb_xasprintf("%s: cannot be read", path);
		p.error = NULL;
	}
	mb_config_free(&cfg);
	if (text != NULL) {
		/* It may hold a client_secret. */
		mb_wipe(text, len);
		free(text);
	}
	if (fd >= 0)
		close(fd);
	free(p.dir);
	free(p.error);
	cfg_section_clear(&p.global);
	return ret;
}

const struct mb_account *
mb_config_account(const struct mb_config *cfg, const char *name)
{
	size_t i;

	if (cfg == NULL || name == NULL || cfg->n_accounts == 0)
		return NULL;
	i = cfg->index[cfg_index_slot(cfg, name)];
	return i == 0 ? NULL : &cfg->accounts[i - 1];
}

void
mb_config_free(struct mb_config **cfg)
{
	size_t i;

	if (cfg == NULL || *cfg == NULL)
		return;
	for (i = 0; i < (*cfg)->n_accounts; i++)
		cfg_account_unshare(&(*cfg)->accounts[i]);
	if ((*cfg)->shared != NULL) {
		for (i = 0; i <= (*cfg)->shared_mask; i++)
			free((*cfg)->shared[i]);
	}
	free((*cfg)->shared);
	free((*cfg)->index);
	free((*cfg)->accounts);
	free((*cfg)->path);
	mb_fleet_free(&(*cfg)->fleet);
	mb_etcd_conf_free(&(*cfg)->etcd);
	free(*cfg);
	*cfg = NULL;
}
