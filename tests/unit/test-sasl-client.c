/* SPDX-License-Identifier: MIT */
/* The built libmailbearer.so driven through the real libsasl2: the
 * library finds it through SASL_PATH (tests/lib/env.sh points it at
 * plugin/.libs plus the system's plugins minus other XOAUTH2 providers).
 * Callbacks and prompt (SASL_INTERACT) paths, SASL-IR and server-first,
 * success, error challenges, refusals, and what reaches the log. */
#include <config.h>

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sasl/sasl.h>

#include "tap.h"

#define TOKEN "ya29.TEST-secret_token~1+2/3456789=="
#define USER "alice@example.com"

struct cfg {
	const char *user;
	const char *pass;	/* NULL: the callback returns no secret */
	size_t pass_len;
};

static struct cfg cur;
static int prompts_seen;
static char logbuf[65536];
static size_t loglen;
static int loglines;

static int
cb_log(void *context, int level, const char *message)
{
	size_t n = strlen(message);
	int k;

	(void)context;
	loglines++;
	/* Each line is "<level> message" so tests can check the level. */
	if (loglen + n + 16 < sizeof(logbuf)) {
		k = snprintf(logbuf + loglen, 16, "<%d> ", level);
		loglen += (size_t)k;
		memcpy(logbuf + loglen, message, n);
		loglen += n;
		logbuf[loglen++] = '\n';
		logbuf[loglen] = '\0';
	}
	return SASL_OK;
}

static int
cb_authname(void *context, int id, const char **result, unsigned *len)
{
	const struct cfg *c = context;

	if (id != SASL_CB_AUTHNAME)
		return SASL_FAIL;
	*result = c->user;
	if (len != NULL)
		*len = (unsigned)strlen(c->user);
	return SASL_OK;
}

static union {
	sasl_secret_t s;
	char room[sizeof(sasl_secret_t) + 512];
} secret;

static int
cb_pass(sasl_conn_t *conn, void *context, int id, sasl_secret_t **psecret)
{
	const struct cfg *c = context;

	(void)conn;
	if (id != SASL_CB_PASS)
		return SASL_FAIL;
	if (c->pass == NULL) {
		*psecret = NULL;
		return SASL_OK;
	}
	memset(&secret, 0, sizeof(secret));
	secret.s.len = c->pass_len;
	memcpy(secret.s.data, c->pass, c->pass_len);
	*psecret = &secret.s;
	return SASL_OK;
}

static const sasl_callback_t global_cbs[] = {
	{ SASL_CB_LOG, (int (*)(void))(void (*)(void))cb_log, NULL },
	{ SASL_CB_LIST_END, NULL, NULL },
};

static sasl_callback_t conn_cbs[] = {
	{ SASL_CB_AUTHNAME, (int (*)(void))(void (*)(void))cb_authname,
	  &cur },
	{ SASL_CB_PASS, (int (*)(void))(void (*)(void))cb_pass, &cur },
	{ SASL_CB_LIST_END, NULL, NULL },
};

/* mbsync and imtest: registered ids with NULL procedures = prompts. */
static sasl_callback_t prompt_cbs[] = {
	{ SASL_CB_AUTHNAME, NULL, NULL },
	{ SASL_CB_PASS, NULL, NULL },
	{ SASL_CB_LIST_END, NULL, NULL },
};

static void
set_cfg(const char *user, const char *pass, size_t pass_len)
{
	cur.user = user;
	cur.pass = pass;
	cur.pass_len = pass_len;
}

static sasl_conn_t *
new_conn(bool prompts, const char *remote)
{
	sasl_conn_t *conn = NULL;
	int rc;

	rc = sasl_client_new("imap", "localhost", "127.0.0.1;40000", remote,
			     prompts ? prompt_cbs : conn_cbs, 0, &conn);
	if (rc != SASL_OK) {
		tap_diag("sasl_client_new: %s", sasl_errstring(rc, NULL,
							       NULL));
		return NULL;
	}
	return conn;
}

/* Fills the prompts the plugin asked for from cur. */
static void
fill_prompts(sasl_interact_t *p)
{
	int i;

	for (i = 0; i < 8 && p[i].id != SASL_CB_LIST_END; i++) {
		prompts_seen++;
		if (p[i].id == SASL_CB_AUTHNAME) {
			p[i].result = cur.user;
			p[i].len = (unsigned)strlen(cur.user);
		} else if (p[i].id == SASL_CB_PASS) {
			p[i].result = cur.pass != NULL ? cur.pass : "";
			p[i].len = cur.pass != NULL ? (unsigned)cur.pass_len
						    : 0;
		} else {
			p[i].result = "";
			p[i].len = 0;
		}
	}
}

/* Starts mech.  sasl_ir: ask for the initial response in
 * sasl_client_start; else the server speaks first (empty challenge) and
 * the response comes from the first sasl_client_step.  Answers prompts,
 * at most 4 rounds.  Returns the last result, the output in *out and
 * *outlen. */
static int
start(sasl_conn_t *conn, const char *mech, bool sasl_ir, const char **out,
      unsigned *outlen)
{
	sasl_interact_t *prompts = NULL;
	const char *chosen = NULL;
	int rc = SASL_FAIL, round;

	*out = NULL;
	*outlen = 0;
	for (round = 0; round < 4; round++) {
		rc = sasl_client_start(conn, mech, &prompts,
				       sasl_ir ? out : NULL,
				       sasl_ir ? outlen : NULL, &chosen);
		if (rc != SASL_INTERACT)
			break;
		fill_prompts(prompts);
	}
	if (rc != SASL_CONTINUE && rc != SASL_OK)
		return rc;
	if (chosen == NULL || strcmp(chosen, mech) != 0) {
		tap_diag("chosen mechanism %s", chosen ? chosen : "(none)");
		return SASL_NOMECH;
	}
	if (sasl_ir)
		return rc;
	for (round = 0; round < 4; round++) {
		rc = sasl_client_step(conn, "", 0, &prompts, out, outlen);
		if (rc != SASL_INTERACT)
			break;
		fill_prompts(prompts);
	}
	return rc;
}

static const char *
detail(sasl_conn_t *conn)
{
	const char *d = sasl_errdetail(conn);

	return d != NULL ? d : "";
}

static const char xo_msg[] = "user=" USER "\001auth=Bearer " TOKEN "\001\001";
static const char ob_msg[] = "n,a=" USER ",\001host=localhost\001port=143\001"
			     "auth=Bearer " TOKEN "\001\001";

/* A full successful login: initial response, then the server's empty
 * final message. */
static void
login_ok(const char *what, const char *mech, bool prompts, bool sasl_ir,
	 const char *want, size_t want_len)
{
	sasl_conn_t *conn = new_conn(prompts, "127.0.0.1;143");
	const char *out = NULL;
	const void *user = NULL;
	unsigned outlen = 0;
	char name[200];
	int rc;

	if (conn == NULL) {
		tap_ok(0, "%s: connection", what);
		return;
	}
	prompts_seen = 0;
	rc = start(conn, mech, sasl_ir, &out, &outlen);
	snprintf(name, sizeof(name), "%s: initial response -> SASL_CONTINUE",
		 what);
	if (!tap_is_int(rc, SASL_CONTINUE, name))
		tap_diag("detail: %s", detail(conn));
	snprintf(name, sizeof(name), "%s: initial response bytes", what);
	tap_is_mem(out, out != NULL ? outlen : 0, want, want_len, name);
	if (prompts)
		tap_is_int(prompts_seen, 2, "prompts for name and token");
	rc = sasl_client_step(conn, "", 0, NULL, &out, &outlen);
	snprintf(name, sizeof(name), "%s: empty server message -> SASL_OK",
		 what);
	tap_is_int(rc, SASL_OK, name);
	tap_ok(out == NULL || outlen == 0, "%s: nothing more to send", what);
	rc = sasl_getprop(conn, SASL_USERNAME, &user);
	tap_ok(rc == SASL_OK && user != NULL &&
	       strcmp(user, USER) == 0, "%s: SASL_USERNAME is the user",
	       what);
	sasl_dispose(&conn);
}

static void
test_logins(void)
{
	set_cfg(USER, TOKEN, strlen(TOKEN));
	login_ok("XOAUTH2 callbacks SASL-IR", "XOAUTH2", false, true,
		 xo_msg, sizeof(xo_msg) - 1);
	login_ok("XOAUTH2 callbacks server-first", "XOAUTH2", false, false,
		 xo_msg, sizeof(xo_msg) - 1);
	login_ok("XOAUTH2 prompts SASL-IR", "XOAUTH2", true, true,
		 xo_msg, sizeof(xo_msg) - 1);
	login_ok("XOAUTH2 prompts server-first", "XOAUTH2", true, false,
		 xo_msg, sizeof(xo_msg) - 1);
	login_ok("OAUTHBEARER callbacks SASL-IR", "OAUTHBEARER", false, true,
		 ob_msg, sizeof(ob_msg) - 1);
	login_ok("OAUTHBEARER prompts server-first", "OAUTHBEARER", true,
		 false, ob_msg, sizeof(ob_msg) - 1);
	/* A PassCmd's trailing newline is not part of the token. */
	set_cfg(USER, TOKEN "\r\n", strlen(TOKEN) + 2);
	login_ok("XOAUTH2 token with trailing newline", "XOAUTH2", false,
		 true, xo_msg, sizeof(xo_msg) - 1);
}

/* An error challenge, the acknowledgement, and a further step. */
static void
rejected(const char *mech, bool prompts, const char *challenge,
	 size_t challenge_len, const char *want_reply, size_t want_len,
	 const char *want_detail)
{
	sasl_conn_t *conn = new_conn(prompts, "127.0.0.1;143");
	const char *out = NULL;
	unsigned outlen = 0;
	char name[200];
	int rc;

	if (conn == NULL) {
		tap_ok(0, "%s: connection", mech);
		return;
	}
	set_cfg(USER, TOKEN, strlen(TOKEN));
	rc = start(conn, mech, true, &out, &outlen);
	snprintf(name, sizeof(name), "%s%s: initial response", mech,
		 prompts ? " (prompts)" : "");
	tap_is_int(rc, SASL_CONTINUE, name);
	rc = sasl_client_step(conn, challenge, (unsigned)challenge_len, NULL,
			      &out, &outlen);
	snprintf(name, sizeof(name), "%s: error challenge -> SASL_CONTINUE",
		 mech);
	tap_is_int(rc, SASL_CONTINUE, name);
	snprintf(name, sizeof(name), "%s: acknowledgement bytes", mech);
	tap_is_mem(out, out != NULL ? outlen : 0, want_reply, want_len, name);
	snprintf(name, sizeof(name), "%s: error detail explains", mech);
	tap_has_str(detail(conn), want_detail, name);
	snprintf(name, sizeof(name), "%s: error detail has no token", mech);
	tap_lacks_str(detail(conn), "TEST-secret", name);
	rc = sasl_client_step(conn, "more", 4, NULL, &out, &outlen);
	snprintf(name, sizeof(name), "%s: step after the failure -> "
		 "SASL_BADPROT", mech);
	tap_is_int(rc, SASL_BADPROT, name);
	snprintf(name, sizeof(name), "%s: protocol error explained", mech);
	tap_has_str(detail(conn), "protocol error", name);
	sasl_dispose(&conn);
}

static void
test_rejections(void)
{
	static const char gmail[] =
		"{\"status\":\"401\",\"schemes\":\"bearer\","
		"\"scope\":\"https://mail.google.com/\"}";
	static const char dovecot_ob[] = "{\"status\":\"invalid_token\"}";
	static const char binary[] = "\x00\xff\x01garbage\x1b[31m";

	rejected("XOAUTH2", false, gmail, sizeof(gmail) - 1, "", 0,
		 "XOAUTH2: server rejected the access token for "
		 "alice@example.com (status 401, scope "
		 "https://mail.google.com/): the token is expired or "
		 "revoked");
	rejected("OAUTHBEARER", true, dovecot_ob, sizeof(dovecot_ob) - 1,
		 "\001", 1, "OAUTHBEARER: server rejected the access token "
		 "for alice@example.com (status invalid_token)");
	rejected("XOAUTH2", true, binary, sizeof(binary) - 1, "", 0,
		 "not JSON: 15 bytes, \"\\x00\\xFF\\x01garbage\\x1B[31m\"");
}

/* A step that must be refused before anything is sent. */
static void
refused(const char *what, const char *mech, bool prompts, const char *user,
	const char *pass, size_t pass_len, int want_rc, const char *want)
{
	sasl_conn_t *conn = new_conn(prompts, "127.0.0.1;143");
	const char *out = NULL;
	unsigned outlen = 0;
	char name[200];
	int rc;

	if (conn == NULL) {
		tap_ok(0, "%s: connection", what);
		return;
	}
	set_cfg(user, pass, pass_len);
	rc = start(conn, mech, true, &out, &outlen);
	snprintf(name, sizeof(name), "%s: refused", what);
	tap_is_int(rc, want_rc, name);
	tap_ok(out == NULL || outlen == 0, "%s: nothing sent", what);
	snprintf(name, sizeof(name), "%s: error detail", what);
	tap_has_str(detail(conn), want, name);
	if (pass != NULL && pass_len > 8) {
		snprintf(name, sizeof(name), "%s: detail has no token", what);
		tap_lacks_str(detail(conn), "TEST-secret", name);
	}
	sasl_dispose(&conn);
}

static void
test_refusals(void)
{
	refused("XOAUTH2 ^A in the token", "XOAUTH2", false, USER,
		"bearer:ya29.TEST-secret\001x", 25, SASL_BADPARAM,
		"the access token for alice@example.com contains the ^A");
	refused("OAUTHBEARER ^A in the user", "OAUTHBEARER", true,
		"alice\001@example.com", TOKEN, strlen(TOKEN), SASL_BADPARAM,
		"contains the ^A (0x01) separator");
	refused("XOAUTH2 password with a space", "XOAUTH2", false, USER,
		"TEST-secret pass", 16, SASL_NOMECH,
		"the password for alice@example.com is not an OAuth2 access "
		"token");
	/* helper source, helper down (MAILBEARER_SOCKET set in main) */
	refused("XOAUTH2 empty password", "XOAUTH2", false, USER, "", 0,
		SASL_FAIL, "mailbearer serve is not running at "
		"/nonexistent/mailbearer/socket");
	refused("XOAUTH2 no secret", "XOAUTH2", false, USER, NULL, 0,
		SASL_FAIL, "mailbearer serve is not running at "
		"/nonexistent/mailbearer/socket");
	refused("OAUTHBEARER mailbearer:work", "OAUTHBEARER", true, USER,
		"mailbearer:work", 15, SASL_FAIL,
		"mailbearer serve is not running at "
		"/nonexistent/mailbearer/socket");
}

/* A password (a Gmail app password, 16 letters, a valid b64token) to a
 * server that offers PLAIN LOGIN XOAUTH2 OAUTHBEARER, no mechanism filter:
 * libsasl2 ranks XOAUTH2 first and cannot be made to fall back, so the
 * plugin fails inside sasl_client_start (callbacks: Postfix) or in the
 * step that answers its prompts (mbsync), before anything is sent, with
 * one line naming the cause and the setting. */
#define APP_PASSWORD "abcdefghijklmnop"
#define ALL_FOUR "PLAIN LOGIN XOAUTH2 OAUTHBEARER"
#define PW_LINE "XOAUTH2: the password for alice@example.com is not an " \
	"OAuth2 access token (not an RFC 6750 b64token of at least 32 " \
	"characters), so XOAUTH2 was not used and nothing was sent; to log " \
	"in with the password, choose PLAIN or LOGIN"

static void
password_start(bool prompts)
{
	const char *what = prompts ? "password, prompts" :
		"password, callbacks";
	sasl_conn_t *conn = new_conn(prompts, "127.0.0.1;587");
	sasl_interact_t *pr = NULL;
	const char *out = NULL, *chosen = NULL;
	unsigned outlen = 0;
	int rc;

	if (conn == NULL) {
		tap_ok(0, "%s: connection", what);
		return;
	}
	set_cfg(USER, APP_PASSWORD, strlen(APP_PASSWORD));
	rc = sasl_client_start(conn, ALL_FOUR, &pr, &out, &outlen, &chosen);
	if (prompts) {
		tap_is_int(rc, SASL_INTERACT, "password, prompts: "
			   "sasl_client_start asks for name and password");
		if (rc == SASL_INTERACT) {
			fill_prompts(pr);
			rc = sasl_client_step(conn, NULL, 0, &pr, &out,
					      &outlen);
		}
	}
	tap_ok(chosen != NULL && strcmp(chosen, "XOAUTH2") == 0,
	       "%s: libsasl2 ranked XOAUTH2 first (%s)", what,
	       chosen ? chosen : "none");
	tap_is_int(rc, SASL_NOMECH, prompts ? "password, prompts: the step "
		   "fails with SASL_NOMECH" : "password, callbacks: "
		   "sasl_client_start fails with SASL_NOMECH");
	tap_ok(out == NULL || outlen == 0, "%s: nothing to send", what);
	tap_has_str(detail(conn), PW_LINE, prompts ? "password, prompts: "
		    "the detail names cause and setting" : "password, "
		    "callbacks: the detail names cause and setting");
	tap_lacks_str(detail(conn), APP_PASSWORD, prompts ? "password, "
		      "prompts: not the password" : "password, callbacks: "
		      "not the password");
	sasl_dispose(&conn);
}

static void
test_password(void)
{
	static const char *const tokens[] = {
		TOKEN, "bearer:abc", "mailbearer:",
	};
	size_t before = loglen, i;
	sasl_conn_t *conn;
	const char *out, *chosen, *p;
	unsigned outlen;
	int rc, n = 0;

	password_start(false);
	password_start(true);
	for (p = logbuf + before; (p = strstr(p, PW_LINE)) != NULL; p++)
		n += p >= logbuf + 4 && strncmp(p - 4, "<1> ", 4) == 0;
	tap_is_int(n, 2, "the line was logged once per login, at "
		   "SASL_LOG_ERR");
	/* What the plugin does not touch: a token (by shape or said) and
	 * the helper still get XOAUTH2 from the same list, and a password
	 * with PLAIN LOGIN only gets PLAIN. */
	setenv("MAILBEARER_SOCKET", "/nonexistent/mailbearer/socket", 1);
	for (i = 0; i < sizeof(tokens) / sizeof(tokens[0]); i++) {
		conn = new_conn(false, "127.0.0.1;587");
		if (conn == NULL)
			continue;
		set_cfg(USER, tokens[i], strlen(tokens[i]));
		out = chosen = NULL;
		rc = sasl_client_start(conn, ALL_FOUR, NULL, &out, &outlen,
				       &chosen);
		tap_ok(chosen != NULL && strcmp(chosen, "XOAUTH2") == 0 &&
		       (i == 2 ? rc == SASL_FAIL : rc == SASL_CONTINUE),
		       "%s: XOAUTH2 (%d)", i == 0 ? "a token-shaped "
		       "password" : i == 1 ? "bearer:TOKEN" : "mailbearer: "
		       "(helper down)", rc);
		sasl_dispose(&conn);
	}
	unsetenv("MAILBEARER_SOCKET");
	conn = new_conn(false, "127.0.0.1;587");
	if (conn != NULL) {
		set_cfg(USER, APP_PASSWORD, strlen(APP_PASSWORD));
		chosen = NULL;
		rc = sasl_client_start(conn, "PLAIN LOGIN", NULL, &out,
				       &outlen, &chosen);
		tap_ok(rc == SASL_OK && chosen != NULL &&
		       strcmp(chosen, "PLAIN") == 0,
		       "a password with PLAIN LOGIN only: PLAIN (%d)", rc);
		sasl_dispose(&conn);
	}
}

/* Starts mech on a new connection with the given security flags and
 * external (TLS) SSF.  Returns sasl_client_start's result. */
static int
start_with(const char *mech, unsigned flags, sasl_ssf_t ext_ssf)
{
	sasl_conn_t *conn = new_conn(false, "127.0.0.1;587");
	sasl_security_properties_t props;
	const char *out = NULL, *chosen = NULL;
	unsigned outlen = 0;
	int rc;

	if (conn == NULL)
		return SASL_FAIL;
	memset(&props, 0, sizeof(props));
	props.maxbufsize = 4096;
	props.security_flags = flags;
	if (sasl_setprop(conn, SASL_SEC_PROPS, &props) != SASL_OK ||
	    (ext_ssf > 0 &&
	     sasl_setprop(conn, SASL_SSF_EXTERNAL, &ext_ssf) != SASL_OK)) {
		sasl_dispose(&conn);
		return SASL_FAIL;
	}
	set_cfg(USER, TOKEN, strlen(TOKEN));
	rc = sasl_client_start(conn, mech, NULL, &out, &outlen, &chosen);
	sasl_dispose(&conn);
	return rc;
}

/* The flags claim only what is true of a bearer token (doc/plugin.md,
 * "Security flags").  Postfix's default smtp_sasl_security_options,
 * "noplaintext, noanonymous", must keep the token off a session without
 * TLS and allow it inside TLS (libsasl2 drops noplaintext when the
 * external SSF is above 1). */
static void
secprop_is(const char *mech, unsigned flags, sasl_ssf_t ext_ssf, int want,
	   const char *what)
{
	char name[160];

	snprintf(name, sizeof(name), "%s %s", mech, what);
	tap_is_int(start_with(mech, flags, ext_ssf), want, name);
}

static void
test_secprops(void)
{
	const unsigned npna = SASL_SEC_NOPLAINTEXT | SASL_SEC_NOANONYMOUS;
	static const char *const mechs[] = { "XOAUTH2", "OAUTHBEARER" };

	for (size_t i = 0; i < 2; i++) {
		const char *m = mechs[i];

		secprop_is(m, npna, 0, SASL_NOMECH,
			   "refused under noplaintext without TLS");
		secprop_is(m, npna, 256, SASL_CONTINUE,
			   "allowed under noplaintext inside TLS");
		secprop_is(m, SASL_SEC_NOANONYMOUS, 0, SASL_CONTINUE,
			   "allowed under noanonymous");
		secprop_is(m, SASL_SEC_NODICTIONARY, 0, SASL_CONTINUE,
			   "claims nodictionary");
		secprop_is(m, SASL_SEC_NOACTIVE, 256, SASL_NOMECH,
			   "does not claim noactive");
		secprop_is(m, SASL_SEC_MUTUAL_AUTH, 256, SASL_NOMECH,
			   "does not claim mutual_auth");
		secprop_is(m, SASL_SEC_FORWARD_SECRECY, 256, SASL_NOMECH,
			   "does not claim forward_secrecy");
	}
}

static void
test_log(void)
{
	tap_ok(loglines > 0, "the log callback received %d lines", loglines);
	tap_ok(strstr(logbuf, "server rejected the access token") != NULL,
	       "the rejection reason was logged");
	/* At SASL_LOG_ERR: libsasl2's default syslog output and Postfix drop
	 * SASL_LOG_FAIL, and the administrator must see why a login failed. */
	tap_ok(strstr(logbuf, "<1> XOAUTH2: server rejected the access token")
	       != NULL, "the rejection reason was logged at SASL_LOG_ERR");
	tap_ok(strstr(logbuf, "TEST-secret") == NULL &&
	       strstr(logbuf, "ya29") == NULL &&
	       strstr(logbuf, APP_PASSWORD) == NULL,
	       "no token and no password in any log line");
	if (strstr(logbuf, "TEST-secret") != NULL)
		tap_diag("log:\n%s", logbuf);
}

/* --which-xoauth2 (tests/integration/test-load.sh): which plugin does
 * libsasl2 pick for XOAUTH2?  Ours asks for the token with a prompt
 * naming mailbearer.  Prints "chosen: mailbearer", "chosen: other" or
 * "chosen: none". */
static int
which_xoauth2(void)
{
	sasl_interact_t *prompts = NULL;
	const char *out = NULL, *chosen = NULL, *who = "none";
	sasl_conn_t *conn;
	unsigned outlen = 0;
	int rc, i;

	if (sasl_client_init(global_cbs) != SASL_OK)
		return 1;
	conn = new_conn(true, "127.0.0.1;143");
	if (conn == NULL)
		return 1;
	rc = sasl_client_start(conn, "XOAUTH2", &prompts, &out, &outlen,
			       &chosen);
	if (rc == SASL_INTERACT && prompts != NULL) {
		who = "other";
		for (i = 0; i < 8 && prompts[i].id != SASL_CB_LIST_END; i++) {
			if (prompts[i].id == SASL_CB_PASS &&
			    prompts[i].prompt != NULL &&
			    strstr(prompts[i].prompt, "mailbearer:") != NULL)
				who = "mailbearer";
		}
	} else if (rc == SASL_OK || rc == SASL_CONTINUE) {
		who = "other";
	}
	printf("chosen: %s\n", who);
	sasl_dispose(&conn);
	sasl_client_done();
	return 0;
}

int
main(int argc, char **argv)
{
	int rc;

	if (argc > 1 && strcmp(argv[1], "--which-xoauth2") == 0)
		return which_xoauth2();
	if (getenv("SASL_PATH") == NULL)
		tap_skip_all("SASL_PATH not set (run through make check)");
	rc = sasl_client_init(global_cbs);
	if (!tap_is_int(rc, SASL_OK, "sasl_client_init"))
		return tap_done();
	test_logins();
	test_rejections();
	test_password();
	setenv("MAILBEARER_SOCKET", "/nonexistent/mailbearer/socket", 1);
	test_refusals();
	test_secprops();
	test_log();
	sasl_client_done();
	return tap_done();
}
