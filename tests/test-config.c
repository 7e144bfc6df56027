#include <config.h>	/* autoconf */

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tap.h"
#include "tokenhelper/config.h"

static char dir[] = "/tmp/mb-test-config.XXXXXX";

static void
write_file(const char *name, const char *text, mode_t mode)
{
	char path[512];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	unlink(path);
	f = fopen(path, "w");
	if (f == NULL || fputs(text, f) < 0 || fclose(f) != 0) {
		tap_diag("cannot write %s", path);
		exit(1);
	}
	chmod(path, mode);
}

/* Loads text (written as conf with mode); returns the error or NULL and
 * the config in *cfg_r. */
static char *
load(const char *text, mode_t mode, struct mb_config **cfg_r)
{
	char path[512], *err = NULL;
	struct mb_config *cfg = NULL;

	write_file("conf", text, mode);
	snprintf(path, sizeof(path), "%s/conf", dir);
	if (mb_config_load(path, &cfg, &err) == 0) {
		if (cfg_r != NULL)
			*cfg_r = cfg;
		else
			mb_config_free(&cfg);
		return NULL;
	}
	if (cfg != NULL)
		tap_diag("config set on failure");
	return err;
}

/* The text must fail with an error containing want (after "conf:"). */
static void
fails(const char *text, mode_t mode, const char *want, const char *name)
{
	char *err = load(text, mode, NULL);
	char full[600];

	snprintf(full, sizeof(full), "%s/conf%s", dir, want);
	if (!tap_ok(err != NULL && strstr(err, full) != NULL, "%s", name))
		tap_diag("want \"%s\", got \"%s\"", full, err ? err : "OK");
	free(err);
}

static const char *
get_ok(const char *text, mode_t mode, struct mb_config **cfg,
       const char *name)
{
	char *err = load(text, mode, cfg);

	if (!tap_ok(err == NULL, "%s loads", name))
		tap_diag("%s", err);
	free(err);
	return *cfg ? (*cfg)->path : NULL;
}

int
main(void)
{
	struct mb_config *cfg = NULL;
	const struct mb_account *a;
	char buf[600], *s;

	if (mkdtemp(dir) == NULL)
		tap_skip_all("no temporary directory");
	snprintf(buf, sizeof(buf), "%s/xdgstate", dir);
	setenv("XDG_STATE_HOME", buf, 1);

	/* Google preset and defaults. */
	get_ok("# comment\n; other comment\n\n[alice@example.com]\n"
	       "provider = google\nclient_id = cid\nclient_secret = cs\n",
	       0600, &cfg, "google preset");
	a = mb_config_account(cfg, "alice@example.com");
	tap_ok(a != NULL, "account found");
	tap_ok(mb_config_account(cfg, "bob") == NULL, "unknown account");
	tap_is_str(a ? a->token_endpoint : NULL,
		   "https://oauth2.googleapis.com/token", "google token url");
	tap_is_str(a ? a->scope : NULL, "https://mail.google.com/",
		   "google scope");
	tap_is_str(a ? a->user : NULL, "alice@example.com", "user = name");
	tap_is_str(a ? a->client_secret : NULL, "cs", "inline secret (0600)");
	tap_is_int(a ? a->refresh_margin : 0, 600, "default margin");
	tap_is_int(a ? a->timeout : 0, 30, "default timeout");
	snprintf(buf, sizeof(buf), "%s/xdgstate/mailbearer", dir);
	tap_is_str(a ? a->state_dir : NULL, buf, "XDG state dir");
	tap_is_int(a ? (long long)a->line : 0, 4, "section line");
	mb_config_free(&cfg);
	tap_ok(cfg == NULL, "free NULLs the pointer");
	mb_config_free(&cfg);

	/* Microsoft: tenant, national cloud by override, margin, user. */
	get_ok("[work]\nprovider = microsoft\ntenant = contoso.onmicrosoft.com"
	       "\nclient_id = x\nuser = me@contoso.com\nrefresh_margin = 900"
	       "\n[gov]\nprovider = microsoft\nclient_id = y\n"
	       "token_endpoint = https://login.microsoftonline.us/t/oauth2/"
	       "v2.0/token\nscope = https://outlook.office365.us/SMTP.Send "
	       "offline_access\nstate_dir = st\ntimeout = 5\n", 0644, &cfg,
	       "microsoft presets");
	a = mb_config_account(cfg, "work");
	tap_is_str(a ? a->token_endpoint : NULL, "https://login."
		   "microsoftonline.com/contoso.onmicrosoft.com/oauth2/v2.0/"
		   "token", "tenant in the token url");
	tap_is_str(a ? a->authorize_endpoint : NULL, "https://login."
		   "microsoftonline.com/contoso.onmicrosoft.com/oauth2/v2.0/"
		   "authorize", "tenant in the authorize url");
	tap_ok(a && strstr(a->scope, "offline_access") &&
	       strstr(a->scope, "IMAP.AccessAsUser.All") &&
	       strstr(a->scope, "SMTP.Send"), "microsoft scopes");
	tap_is_str(a ? a->user : NULL, "me@contoso.com", "user override");
	tap_is_int(a ? a->refresh_margin : 0, 900, "margin set");
	tap_ok(a && a->client_secret == NULL, "no secret: public client");
	a = mb_config_account(cfg, "gov");
	tap_is_str(a ? a->tenant : NULL, "common", "default tenant");
	tap_is_str(a ? a->token_endpoint : NULL, "https://login."
		   "microsoftonline.us/t/oauth2/v2.0/token",
		   "national cloud endpoint override");
	tap_ok(a && strstr(a->scope, "office365.us") != NULL,
	       "scope override");
	snprintf(buf, sizeof(buf), "%s/st", dir);
	tap_is_str(a ? a->state_dir : NULL, buf, "relative state_dir");
	tap_is_int(a ? a->timeout : 0, 5, "timeout");
	tap_is_int(a ? a->connect_timeout : 0, 5, "connect timeout capped");
	mb_config_free(&cfg);

	/* Generic. */
	get_ok("[g]\nprovider = generic\ntoken_endpoint = https://127.0.0.1:"
	       "1/token\nclient_id = c\nallow = root, 4242\n", 0644, &cfg,
	       "generic");
	a = mb_config_account(cfg, "g");
	tap_ok(a && a->n_allow_uids == 2 && a->allow_uids[0] == 0 &&
	       a->allow_uids[1] == 4242, "allow resolves names and uids");
	tap_ok(a && a->scope == NULL, "generic: no default scope");
	mb_config_free(&cfg);

	/* Every error names file:line. */
	fails("[g]\nprovider = generic\nclient_id = c\n", 0644,
	      ":1: [g]: provider = generic needs token_endpoint",
	      "generic without token_endpoint");
	fails("[a]\nprovider = google\nclinet_id = c\n", 0644,
	      ":3: unknown key \"clinet_id\"", "typo is an error");
	fails("provider = google\n[a]\n", 0644,
	      ":1: \"provider\" outside an [account] section",
	      "key before any section");
	fails("[a]\nprovider = google\nclient_id = c\nclient_id = d\n", 0644,
	      ":4: \"client_id\" set twice in [a] (first at line 3)",
	      "repeated key");
	fails("[a]\nprovider = google\nclient_id = c\n[a]\n", 0644,
	      ":4: account [a] defined twice (first at line 1)",
	      "repeated section");
	fails("[a]\nprovider=google\nclient_id=c\n[b]\nprovider = google\n"
	      "client_id = c\n[a]\n", 0644,
	      ":7: account [a] defined twice", "repeated earlier section");
	fails("[a]\nprovider = yahoo\n", 0644,
	      ":2: unknown provider \"yahoo\"", "unknown provider");
	fails("[a]\nclient_id = c\n", 0644, ":1: [a]: no provider",
	      "missing provider");
	fails("\n[a]\nprovider = google\n", 0644,
	      ":2: [a]: client_id is missing", "missing client_id");
	fails("[a]\nprovider = generic\nclient_id = c\ntoken_endpoint = "
	      "http://127.0.0.1/token\n", 0644,
	      ":4: token_endpoint must be an https:// URL",
	      "http:// endpoint refused");
	fails("[a]\nprovider = google\nclient_id = c\nrefresh_margin = 10m\n",
	      0644, ":4: refresh_margin must be", "bad margin");
	fails("[a]\nprovider = google\nclient_id = c\ntimeout = 0\n",
	      0644, ":4: timeout must be", "bad timeout");
	fails("[a]\nprovider = google\ntenant = common\nclient_id = c\n",
	      0644, ":3: tenant is only meaningful", "tenant for google");
	fails("[a]\nprovider = microsoft\ntenant = a/b\nclient_id = c\n",
	      0644, ":3: tenant \"a/b\" is not", "bad tenant");
	fails("[a b]\n", 0644, ":1: invalid account name", "bad name");
	fails("[a\n", 0644, ":1: malformed section header", "bad header");
	fails("[a]\nprovider google\n", 0644, ":2: expected \"key = value\"",
	      "no equals sign");
	fails("[a]\nprovider =\n", 0644, ":2: \"provider\" has an empty value",
	      "empty value");
	fails("[a]\nprovider = google\nclient_id = c\nallow = nosuchuser-mb"
	      "\n", 0644, ":4: allow: no such user: nosuchuser-mb",
	      "unknown user in allow");
	fails("[a]\nprovider = google\nclient_id = c\nca_file = nope.pem\n",
	      0644, ":4: ca_file", "missing ca_file");

	/* Secrets: never from group/world-readable files. */
	snprintf(buf, sizeof(buf), ":3: client_secret in a file accessible "
		 "by group or others (mode 0644); run: chmod 600 %s/conf",
		 dir);
	fails("[a]\nprovider = google\nclient_secret = s\nclient_id = c\n",
	      0644, buf, "inline secret in a readable config");
	write_file("secret", "s3cr3t\n", 0640);
	snprintf(buf, sizeof(buf), ":4: client_secret_file %s/secret is "
		 "accessible by group or others (mode 0640); run: chmod 600 "
		 "%s/secret", dir, dir);
	fails("[a]\nprovider = google\nclient_id = c\nclient_secret_file = "
	      "secret\n", 0644, buf, "secret file 0640 refused with chmod");
	snprintf(buf, sizeof(buf), "%s/secret", dir);
	chmod(buf, 0400);
	get_ok("[a]\nprovider = google\nclient_id = c\nclient_secret_file = "
	       "secret\n", 0644, &cfg, "secret file 0400");
	a = mb_config_account(cfg, "a");
	tap_is_str(a ? a->client_secret : NULL, "s3cr3t",
		   "secret read, newline dropped");
	mb_config_free(&cfg);
	fails("[a]\nprovider = google\nclient_id = c\nclient_secret = x\n"
	      "client_secret_file = secret\n", 0600, ":5: client_secret and "
	      "client_secret_file are both set", "both secrets");
	fails("[a]\nprovider = google\nclient_id = c\nclient_secret_file = "
	      "missing\n", 0644, ":4: cannot open client_secret_file",
	      "missing secret file");

	/* Missing file. */
	snprintf(buf, sizeof(buf), "%s/none", dir);
	s = NULL;
	tap_ok(mb_config_load(buf, &cfg, &s) < 0 && cfg == NULL && s &&
	       strstr(s, buf) != NULL, "missing file: error names it");
	free(s);

	/* Default path. */
	setenv("MAILBEARER_CONFIG", "/some/where.conf", 1);
	s = mb_config_default_path();
	tap_is_str(s, "/some/where.conf", "MAILBEARER_CONFIG wins");
	free(s);
	unsetenv("MAILBEARER_CONFIG");
	snprintf(buf, sizeof(buf), "%s/xdg", dir);
	setenv("XDG_CONFIG_HOME", buf, 1);
	s = mb_config_default_path();
	tap_is_str(s, mb_config_system_path(), "no user file: system file");
	free(s);
	snprintf(buf, sizeof(buf), "%s/xdg/mailbearer", dir);
	snprintf(buf, sizeof(buf), "%s/xdg", dir);
	mkdir(buf, 0700);
	snprintf(buf, sizeof(buf), "%s/xdg/mailbearer", dir);
	mkdir(buf, 0700);
	write_file("xdg/mailbearer/config", "", 0600);
	s = mb_config_default_path();
	snprintf(buf, sizeof(buf), "%s/xdg/mailbearer/config", dir);
	tap_is_str(s, buf, "per-user file when present");
	free(s);
	tap_ok(strstr(mb_config_system_path(), "/mailbearer/mailbearer.conf")
	       != NULL, "system path");
	s = mb_config_default_state_dir(true);
	tap_ok(s && strstr(s, "/lib/mailbearer") != NULL, "system state dir");
	free(s);

	/* A file that cannot be read: the error names it and the cause. */
	snprintf(buf, sizeof(buf), "%s/no-such-file", dir);
	s = NULL;
	tap_ok(mb_config_load(buf, &cfg, &s) == -1 && s != NULL &&
	       strstr(s, buf) != NULL && strstr(s, "No such file") != NULL,
	       "missing file: error names the path and the cause");
	free(s);
	s = NULL;
	tap_ok(mb_config_load(dir, &cfg, &s) == -1 && s != NULL &&
	       strstr(s, dir) != NULL && strstr(s, "not a regular file"),
	       "a directory: error names it");
	free(s);
	if (geteuid() != 0) {
		write_file("unreadable", "[a]\n", 0000);
		snprintf(buf, sizeof(buf), "%s/unreadable", dir);
		s = NULL;
		tap_ok(mb_config_load(buf, &cfg, &s) == -1 && s != NULL &&
		       strstr(s, buf) != NULL &&
		       strstr(s, "Permission denied") != NULL,
		       "unreadable file: error names the path and the cause");
		free(s);
	} else {
		tap_skip(1, "root reads a mode 000 file (see test-token.sh)");
	}

	snprintf(buf, sizeof(buf), "rm -rf '%s'", dir);
	if (system(buf) != 0)
		tap_diag("cleanup failed");
	return tap_done();
}
