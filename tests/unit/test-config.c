/* SPDX-License-Identifier: MIT */
#include <config.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "tap.h"
#include "tokenhelper/conf.h"

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

/* The first account's own error (a file of its own that cannot be
 * used: the configuration loads), malloc'd, or NULL. */
static char *
unusable(const struct mb_config *cfg)
{
	for (size_t i = 0; i < cfg->n_accounts; i++)
		if (cfg->accounts[i].unusable != NULL)
			return strdup(cfg->accounts[i].unusable);
	return NULL;
}

/* Loads text (written as conf with mode); returns the error (or that of
 * an account, unusable()) or NULL and the config in *cfg_r. */
static char *
load(const char *text, mode_t mode, struct mb_config **cfg_r)
{
	char path[512], *err = NULL;
	struct mb_config *cfg = NULL;

	write_file("conf", text, mode);
	snprintf(path, sizeof(path), "%s/conf", dir);
	if (mb_config_load(path, &cfg, &err) == 0 &&
	    (err = unusable(cfg)) != NULL) {
		mb_config_free(&cfg);
		return err;
	}
	if (cfg != NULL) {
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

/* "#" and ";" start a comment at the start of a line or after white
 * space, and are data anywhere else. */
static void
test_comments(void)
{
	struct mb_config *cfg = NULL;
	const struct mb_account *a;

	get_ok("  # indented comment\n\t; indented too\n"
	       "[relay@example.com]   # the account\n"
	       "provider = microsoft          # or google, or generic\n"
	       "tenant = organizations\t# tab before the comment\n"
	       "client_id = 0000 ; semicolon comment\n"
	       "allow = root               # who may ask serve\n"
	       "[g] ;x\nprovider = generic\n"
	       "token_endpoint = https://127.0.0.1:1/t;v=1#frag\n"
	       "scope = a#b c;d\nclient_id = id#1\n", 0644, &cfg,
	       "inline comments");
	a = mb_config_account(cfg, "relay@example.com");
	tap_is_str(a ? a->provider : NULL, "microsoft",
		   "comment after a value is cut");
	tap_is_str(a ? a->tenant : NULL, "organizations",
		   "comment after a tab is cut");
	tap_is_str(a ? a->client_id : NULL, "0000", "\";\" comment is cut");
	tap_ok(a && a->n_allow_uids == 1 && a->allow_uids[0] == 0,
	       "allow: the comment is not a user name");
	a = mb_config_account(cfg, "g");
	tap_is_str(a ? a->token_endpoint : NULL,
		   "https://127.0.0.1:1/t;v=1#frag",
		   "\"#\" and \";\" inside a value are kept");
	tap_is_str(a ? a->scope : NULL, "a#b c;d",
		   "\"#\" and \";\" inside words are kept");
	tap_is_str(a ? a->client_id : NULL, "id#1", "client_id with \"#\"");
	mb_config_free(&cfg);
	fails("[a]\nprovider = google\nclient_id = # none\n", 0644,
	      ":3: \"client_id\" has an empty value",
	      "a value that is only a comment is empty");
	fails("[a] x\n", 0644, ":1: malformed section header",
	      "text after a section header");
}

/* Loads the config at path, or text written as conf if path is NULL; the
 * error must contain want and then want2. */
static void
special_fails(const char *path, const char *text, const char *want,
	      const char *want2, const char *test)
{
	char conf[512], *err = NULL, *at;
	struct mb_config *cfg = NULL;
	int r;

	if (path == NULL) {
		write_file("conf", text, 0644);
		snprintf(conf, sizeof(conf), "%s/conf", dir);
		path = conf;
	}
	r = mb_config_load(path, &cfg, &err);
	if (r == 0 && err == NULL && (err = unusable(cfg)) != NULL) {
		/* an account's file: that account's error */
		mb_config_free(&cfg);
		r = -1;
	}
	at = err != NULL ? strstr(err, want) : NULL;
	if (!tap_ok(r == -1 && cfg == NULL && at != NULL &&
		    strstr(at, want2) != NULL, "%s", test))
		tap_diag("want \"%s...%s\", got \"%s\"", want, want2,
			 err ? err : "OK");
	free(err);
	mb_config_free(&cfg);
}

/* A FIFO, a device or a socket is refused at once, never opened for a
 * blocking read.  alarm() turns a hang into a failure. */
static void
test_special_files(void)
{
	static const char *const head = "[a]\nprovider = google\n"
		"client_id = c\n";
	struct sockaddr_un sun;
	char path[512], text[256];
	int fd;

	snprintf(path, sizeof(path), "%s/fifo", dir);
	if (mkfifo(path, 0600) != 0) {
		tap_skip(6, "mkfifo failed");
		return;
	}
	alarm(20);
	special_fails(path, NULL, path, ": the configuration is a FIFO "
		      "(named pipe), not a regular file", "config: a FIFO");
	snprintf(text, sizeof(text), "%sclient_secret_file = fifo\n", head);
	special_fails(NULL, text, "/conf:4: client_secret_file ", "/fifo is "
		      "a FIFO (named pipe), not a regular file",
		      "client_secret_file: a FIFO");
	snprintf(text, sizeof(text), "%sca_file = fifo\n", head);
	special_fails(NULL, text, "/conf:4: ca_file ", "/fifo is a FIFO "
		      "(named pipe), not a regular file", "ca_file: a FIFO");
	special_fails("/dev/null", NULL, "/dev/null: the configuration is a "
		      "character device", ", not a regular file",
		      "config: a device");
	snprintf(text, sizeof(text), "%sclient_secret_file = /dev/zero\n",
		 head);
	special_fails(NULL, text, "/conf:4: client_secret_file /dev/zero ",
		      "is a character device, not a regular file",
		      "client_secret_file: a device");
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s/sock", dir);
	snprintf(text, sizeof(text), "%sclient_secret_file = sock\n", head);
	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	if (fd >= 0 && bind(fd, (struct sockaddr *)&sun, sizeof(sun)) == 0)
		special_fails(NULL, text, "/conf:4: client_secret_file ",
			      "/sock is a socket, not a regular file",
			      "client_secret_file: a socket");
	else
		tap_skip(1, "cannot bind a unix socket");
	if (fd >= 0)
		close(fd);
	alarm(0);
}

/* The size bound (MB_CONFIG_MAX_SIZE): 10,000 generic accounts, far
 * above the old 1 MiB, are read; a file one byte over the bound is
 * refused before it is read (a sparse file: nothing is written). */
static void
test_size_limit(void)
{
	char path[512], *err = NULL;
	struct mb_config *cfg = NULL;
	const struct mb_account *a;
	long size = 0;
	FILE *f;
	int i, fd;

	snprintf(path, sizeof(path), "%s/big", dir);
	f = fopen(path, "w");
	if (f == NULL) {
		tap_diag("cannot write %s", path);
		exit(1);
	}
	for (i = 0; i < 10000; i++)
		fprintf(f, "# account %d of the size test\n[a%d@example.com]\n"
			"provider = generic\ntoken_endpoint = "
			"https://127.0.0.1:1/token\nclient_id = cid\n"
			"scope = https://mail.example.com/\n\n", i, i);
	size = ftell(f);
	if (fclose(f) != 0) {
		tap_diag("cannot write %s", path);
		exit(1);
	}
	chmod(path, 0600);
	tap_ok(size > 1024 * 1024 && size < MB_CONFIG_MAX_SIZE,
	       "10,000 accounts: between 1 MiB and the bound");
	tap_ok(mb_config_load(path, &cfg, &err) == 0 && cfg != NULL &&
	       cfg->n_accounts == 10000, "10,000 generic accounts are read");
	free(err);
	err = NULL;
	a = cfg != NULL ? mb_config_account(cfg, "a9999@example.com") : NULL;
	tap_ok(a != NULL, "the last of 10,000 accounts is found");
	mb_config_free(&cfg);

	fd = open(path, O_WRONLY | O_TRUNC);
	if (fd < 0 || ftruncate(fd, (off_t)MB_CONFIG_MAX_SIZE + 1) != 0 ||
	    close(fd) != 0) {
		tap_diag("cannot grow %s", path);
		exit(1);
	}
	tap_ok(mb_config_load(path, &cfg, &err) == -1 && cfg == NULL &&
	       err != NULL && strstr(err, "too large") != NULL,
	       "one byte over MB_CONFIG_MAX_SIZE: too large");
	free(err);
	unlink(path);
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
	tap_is_int(a ? a->reply_timeout : 0, 300, "default reply_timeout");
	tap_ok(a && !a->rotation_strict, "google: rotation none");
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
	tap_ok(a && a->rotation_strict, "microsoft: rotation strict");
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
	tap_ok(a && !a->rotation_strict, "generic: rotation none by default");
	mb_config_free(&cfg);
	get_ok("[g]\nprovider = generic\ntoken_endpoint = https://127.0.0.1:"
	       "1/token\nclient_id = c\nrotation = strict\ntimeout = 400\n"
	       "[m]\nprovider = microsoft\nclient_id = c\nrotation = none\n"
	       "reply_timeout = 5\ntimeout = 5\n", 0644, &cfg, "rotation");
	a = mb_config_account(cfg, "g");
	tap_ok(a && a->rotation_strict, "generic: rotation = strict");
	tap_is_int(a ? a->reply_timeout : 0, 400,
		   "reply_timeout defaults to timeout when that is longer");
	a = mb_config_account(cfg, "m");
	tap_ok(a && !a->rotation_strict, "microsoft: rotation = none");
	tap_is_int(a ? a->reply_timeout : 0, 5, "reply_timeout = timeout");
	mb_config_free(&cfg);
	/* check_identity: on for Google and Microsoft, for a generic
	 * provider with openid in scope; yes/no override. */
	get_ok("[g]\nprovider = google\nclient_id = c\n"
	       "[m]\nprovider = microsoft\nclient_id = c\n"
	       "check_identity = no\n"
	       "[o]\nprovider = generic\ntoken_endpoint = https://h/t\n"
	       "client_id = c\nscope = mail openid\n"
	       "[n]\nprovider = generic\ntoken_endpoint = https://h/t\n"
	       "client_id = c\nscope = mail openidx\n"
	       "[y]\nprovider = generic\ntoken_endpoint = https://h/t\n"
	       "client_id = c\ncheck_identity = yes\n", 0644, &cfg,
	       "check_identity");
	a = mb_config_account(cfg, "g");
	tap_ok(a && a->check_identity, "google: check_identity by default");
	a = mb_config_account(cfg, "m");
	tap_ok(a && !a->check_identity, "microsoft: check_identity = no");
	a = mb_config_account(cfg, "o");
	tap_ok(a && a->check_identity, "generic with openid: checked");
	a = mb_config_account(cfg, "n");
	tap_ok(a && !a->check_identity, "generic without openid: not");
	a = mb_config_account(cfg, "y");
	tap_ok(a && a->check_identity, "generic: check_identity = yes");
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
	fails("[a]\nprovider = google\nclient_id = c\ntimeout = 20\n"
	      "reply_timeout = 10\n", 0644, ":5: reply_timeout must be a "
	      "number of seconds from timeout (20) to 3600",
	      "reply_timeout below timeout");
	fails("[a]\nprovider = google\nclient_id = c\nreply_timeout = 3601\n",
	      0644, ":4: reply_timeout must be", "reply_timeout too long");
	fails("[a]\nprovider = generic\ntoken_endpoint = https://h/t\n"
	      "client_id = c\nrotation = always\n", 0644,
	      ":5: rotation must be strict or none", "bad rotation");
	fails("[a]\nprovider = google\nclient_id = c\n"
	      "check_identity = maybe\n", 0644,
	      ":4: check_identity must be yes or no", "bad check_identity");
	fails("[a]\nprovider = google\ntenant = common\nclient_id = c\n",
	      0644, ":3: tenant is only meaningful", "tenant for google");
	fails("[a]\nprovider = microsoft\ntenant = a/b\nclient_id = c\n",
	      0644, ":3: tenant \"a/b\" is not", "bad tenant");
	fails("[a b]\n", 0644, ":1: invalid account name", "bad name");
	/* One account-name rule with the socket (common/account-name.h):
	 * a section the plugin could never ask for is refused here, with
	 * the file, the line and the rule. */
	fails("# work\n[-work]\n", 0644, ":2: invalid account name "
	      "\"-work\" (letters, digits and . _ - @ + %, not starting "
	      "with . or -, at most 128)", "[-work] refused at its line");
	fails("[.a]\n", 0644, ":1: invalid account name", "[.a] refused");
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
	/* One account's file breaks that account only: the configuration
	 * loads, the others are usable. */
	cfg = NULL;
	s = load("[a]\nprovider = google\nclient_id = c\n"
		 "[b]\nprovider = google\nclient_id = c\nclient_secret_file = "
		 "missing\nca_file = missing-too\n[c]\nprovider = google\n"
		 "client_id = c\n[d]\nprovider = microsoft\nflow = "
		 "client_credentials\ntenant = t.example\nclient_id = c\n"
		 "client_certificate_file = nocert\nclient_key_file = nokey\n",
		 0644, &cfg);
	tap_ok(s != NULL && cfg == NULL, "an account's unusable file: said");
	free(s);
	write_file("conf2", "[a]\nprovider = google\nclient_id = c\n"
		   "[b]\nprovider = google\nclient_id = c\nclient_secret_file "
		   "= missing\nca_file = missing-too\n[c]\nprovider = google\n"
		   "client_id = c\n[d]\nprovider = microsoft\nflow = "
		   "client_credentials\ntenant = t.example\nclient_id = c\n"
		   "client_certificate_file = nocert\nclient_key_file = nokey\n",
		   0644);
	snprintf(buf, sizeof(buf), "%s/conf2", dir);
	s = NULL;
	tap_ok(mb_config_load(buf, &cfg, &s) == 0 && s == NULL,
	       "... but the configuration loads");
	free(s);
	if (cfg != NULL) {
		const struct mb_account *b = mb_config_account(cfg, "b");
		const struct mb_account *d = mb_config_account(cfg, "d");

		tap_ok(mb_config_account(cfg, "a")->unusable == NULL &&
		       mb_config_account(cfg, "c")->unusable == NULL,
		       "... the other accounts are usable");
		tap_has_str(b->unusable ? b->unusable : "", "conf2:7: cannot "
			    "open client_secret_file", "... [b] says its "
			    "first file, with the line");
		tap_has_str(d->unusable ? d->unusable : "", "conf2:17: "
			    "cannot open client_certificate_file", "... [d] "
			    "its certificate");
	} else {
		tap_skip(3, "the configuration did not load");
	}
	mb_config_free(&cfg);

	/* flow = service_account: no client_id needed, Gmail's scope, the
	 * key file checked like a key, an unusable one that account's. */
	write_file("sa.json", "{}", 0600);
	get_ok("[a]\nprovider = google\nflow = service_account\n"
	       "service_account_file = sa.json\nuser = m@example.org\n", 0644,
	       &cfg, "service account");
	a = mb_config_account(cfg, "a");
	tap_ok(a != NULL && a->flow == MB_FLOW_SERVICE_ACCOUNT &&
	       mb_flow_app_only(a->flow) && a->unusable == NULL,
	       "... flow = service_account, app-only, usable");
	tap_is_str(a ? mb_flow_name(a->flow) : NULL, "service_account",
		   "... its name");
	tap_is_str(a ? a->scope : NULL, "https://mail.google.com/",
		   "... Gmail's scope by default");
	snprintf(buf, sizeof(buf), "%s/sa.json", dir);
	tap_is_str(a ? a->service_account_file : NULL, buf,
		   "... the key file's path, resolved");
	mb_config_free(&cfg);
	snprintf(buf, sizeof(buf), "%s/sa.json", dir);
	chmod(buf, 0644);
	write_file("conf3", "[a]\nprovider = google\nflow = "
		   "service_account\nservice_account_file = sa.json\n[b]\n"
		   "provider = google\nclient_id = c\n", 0644);
	snprintf(buf, sizeof(buf), "%s/conf3", dir);
	s = NULL;
	cfg = NULL;
	tap_ok(mb_config_load(buf, &cfg, &s) == 0 && s == NULL,
	       "key file 0644: the configuration loads");
	free(s);
	a = cfg != NULL ? mb_config_account(cfg, "a") : NULL;
	tap_has_str(a && a->unusable ? a->unusable : "", "conf3:4: "
		    "service_account_file", "... [a] unusable, with the line");
	tap_has_str(a && a->unusable ? a->unusable : "", "(mode 0644); run: "
		    "chmod 600", "... and the chmod");
	tap_ok(cfg != NULL && mb_config_account(cfg, "b")->unusable == NULL,
	       "... [b] usable");
	mb_config_free(&cfg);
	fails("[a]\nprovider = google\nflow = service_account\n", 0644,
	      ":3: flow = service_account needs service_account_file",
	      "service account without its key file");
	fails("[a]\nprovider = google\nclient_id = c\nservice_account_file "
	      "= sa.json\n", 0644, ":4: service_account_file is only used "
	      "with flow = service_account", "key file without the flow");

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
	/* root reads the system file, its per-user one only named */
	tap_is_str(s, geteuid() == 0 ? mb_config_system_path() : buf,
		   "per-user file when present (the system file for root)");
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

	test_comments();
	test_special_files();
	test_size_limit();

	snprintf(buf, sizeof(buf), "rm -rf '%s'", dir);
	if (system(buf) != 0)
		tap_diag("cleanup failed");
	return tap_done();
}
