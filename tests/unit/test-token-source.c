/* SPDX-License-Identifier: MIT */
/* The token-source rule (plugin/token-source.c, doc/plugin.md): which
 * passwords are tokens and which ask the helper; a password that is the
 * token is used in place; and mb_sasl_log3 (plugin/sasl-log.c), the
 * formatter-free log line of every login. */
#include <config.h>

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sasl/sasl.h>
#include <sasl/saslplug.h>

#include "sasl-log.h"
#include "tap.h"
#include "password-advice.h"
#include "token-rule.h"
#include "token-source.h"
#include "token-syntax.h"

struct ts_case {
	const char *password;	/* NULL: absent */
	size_t len;
	enum mb_ts_kind kind;
	const char *value;	/* the token or the account; NULL: none */
};

#define S(x) x, sizeof(x) - 1
#define GOOGLE "ya29.a0AfB_byC3kqLmN0pQrStUvWxYz0123456789-_AbCdEfGh"
#define JWT "eyJ0eXAiOiJKV1QiLCJhbGciOiJSUzI1NiJ9.eyJhdWQiOiJodHRwczovL" \
	"291dGxvb2sub2ZmaWNlLmNvbSJ9.c2lnbmF0dXJlLXNpZ25hdHVyZQ"
#define MSA "EwBwA8l6BAAUkj1oO+s0rWFzhLkZ/0t1eXhWbsbMAAQzA8oWWp2" \
	"nV0QgqfDYmQ8XUXXp8nDdCK4b7YwA=="

static const struct ts_case ts_cases[] = {
	/* Access tokens of real shapes: the password is the token. */
	{ S(GOOGLE), MB_TS_TOKEN, GOOGLE },
	{ S(JWT), MB_TS_TOKEN, JWT },
	{ S(MSA), MB_TS_TOKEN, MSA },
	{ S(GOOGLE "\r\n \t"), MB_TS_TOKEN, GOOGLE },
	/* The shortest token by shape: 32 b64token characters. */
	{ S("mbat-0123456789abcdefghijklmnopq"), MB_TS_TOKEN,
	  "mbat-0123456789abcdefghijklmnopq" },
	/* App passwords and other passwords: not tokens. */
	{ S("abcdefghijklmnop"), MB_TS_PASSWORD, NULL },	/* Google */
	{ S("abcd efgh ijkl mnop"), MB_TS_PASSWORD, NULL },	/* spaces */
	{ S("abcd-efgh-ijkl-mnop"), MB_TS_PASSWORD, NULL },	/* Apple */
	{ S("mbat-0123456789abcdefghijklmnop"), MB_TS_PASSWORD, NULL }, /* 31 */
	{ S("correct horse battery staple and more words"), MB_TS_PASSWORD,
	  NULL },
	{ S("Tr0ub4dor&3Tr0ub4dor&3Tr0ub4dor&3Tr0ub4dor&3"), MB_TS_PASSWORD,
	  NULL },
	{ S("ya29.short"), MB_TS_PASSWORD, NULL },
	/* Said explicitly: the token, whatever its shape. */
	{ S("bearer:ya29.short"), MB_TS_TOKEN, "ya29.short" },
	{ S("bearer:opaque!token\n"), MB_TS_TOKEN, "opaque!token" },
	{ S("bearer:"), MB_TS_TOKEN, NULL },
	{ S("Bearer:ya29.short"), MB_TS_PASSWORD, NULL },
	/* The helper. */
	{ NULL, 0, MB_TS_HELPER, NULL },
	{ S(""), MB_TS_HELPER, NULL },
	{ S("\r\n"), MB_TS_HELPER, NULL },
	{ S("mailbearer:"), MB_TS_HELPER, NULL },
	{ S("mailbearer:work"), MB_TS_HELPER, "work" },
	{ S("mailbearer:work\n"), MB_TS_HELPER, "work" },
	{ S("mailbearer:alice@example.com"), MB_TS_HELPER,
	  "alice@example.com" },
	/* Only the exact, case-sensitive prefix asks the helper. */
	{ S("Mailbearer:work"), MB_TS_PASSWORD, NULL },
	{ S("mailbearer"), MB_TS_PASSWORD, NULL },
	{ S(" mailbearer:work"), MB_TS_PASSWORD, NULL },
	{ S("xmailbearer:"), MB_TS_PASSWORD, NULL },
};

static unsigned long n_malloc, n_free, n_erase;
static char logtext[2048];
static int loglevel;

static void *
fu_malloc(size_t n)
{
	n_malloc++;
	return malloc(n);
}

static void
fu_free(void *p)
{
	n_free++;
	free(p);
}

static void
fu_erase(char *p, unsigned len)
{
	n_erase++;
	memset(p, 0, len);
}

static void
fu_log(sasl_conn_t *conn, int level, const char *fmt, ...)
{
	va_list ap;

	(void)conn;
	loglevel = level;
	tap_is_str(fmt, "%s", "the log line is handed over as \"%s\"");
	va_start(ap, fmt);
	snprintf(logtext, sizeof(logtext), "%s", va_arg(ap, const char *));
	va_end(ap);
}

/* A password that is the token: used in place (no allocation), trailing
 * blanks dropped, and mb_token_clear leaves the application's password
 * alone. */
static void
test_resolve_in_place(void)
{
	static const char pass[] = "ya29.tok-en_x0123456789abcdefghijkl\r\n \t";
	char copy[sizeof(pass)];
	sasl_utils_t utils;
	struct mb_options o;
	struct mb_token tok;
	int rc;

	memset(&utils, 0, sizeof(utils));
	utils.malloc = fu_malloc;
	utils.free = fu_free;
	utils.erasebuffer = fu_erase;
	memset(&o, 0, sizeof(o));
	memcpy(copy, pass, sizeof(pass));
	memset(&tok, 0x5a, sizeof(tok));
	rc = mb_token_source_resolve(&utils, &o, "XOAUTH2", "alice", 5, copy,
				     sizeof(pass) - 1, &tok);
	tap_is_int(rc, SASL_OK, "password as token: SASL_OK");
	tap_ok(tok.data == copy, "  used in place");
	tap_is_int((long long)tok.len, 35, "  trailing CR, LF and blanks "
		   "dropped");
	tap_ok(tok.owned == NULL && tok.account[0] == '\0',
	       "  nothing of the plugin's to free, no account");
	tap_is_int((long long)n_malloc, 0, "  no allocation");
	mb_token_clear(&utils, &tok);
	tap_ok(tok.data == NULL && tok.len == 0, "  cleared");
	tap_is_int((long long)(n_free + n_erase), 0,
		   "  the password is neither erased nor freed");
	tap_is_mem(copy, sizeof(pass), pass, sizeof(pass),
		   "  the password is unchanged");
}

static char errtext[2048];

static void
fu_seterror(sasl_conn_t *conn, unsigned flags, const char *fmt, ...)
{
	va_list ap;

	(void)conn;
	(void)flags;
	va_start(ap, fmt);
	snprintf(errtext, sizeof(errtext), "%s", va_arg(ap, const char *));
	va_end(ap);
}

/* Longer than any token: taken as a token, for the token check to refuse
 * ("is longer than ..."), not called a password. */
static void
test_long(void)
{
	static char big[MB_TOKEN_MAX + 2];
	const char *v;
	size_t vlen;

	memset(big, 'a', sizeof(big) - 1);
	big[100] = '!';
	tap_is_int(mb_ts_classify(big, sizeof(big) - 1, &v, &vlen),
		   MB_TS_TOKEN, "longer than MB_TOKEN_MAX: a token");
	tap_is_int(mb_ts_classify(big, MB_TOKEN_MAX, &v, &vlen),
		   MB_TS_PASSWORD, "MB_TOKEN_MAX, not a b64token: a password");
}

/* What the rule's scan tells the plugin (no second scan of a token). */
static void
test_scanned(void)
{
	static const char tok[] = "ya29.a0AfB_byC-0123456789abcdefghijklmnopq";
	static const char vch[] = "bearer:tok!en";
	static char big[MB_TOKEN_MAX + 2];
	const char *v;
	size_t vlen;
	bool b64;

	tap_is_int(mb_ts_classify_ex(tok, sizeof(tok) - 1, &v, &vlen, &b64),
		   MB_TS_TOKEN, "a token-shaped password: a token");
	tap_ok(b64, "... scanned: a b64token");
	tap_is_int(mb_ts_classify_ex(vch, sizeof(vch) - 1, &v, &vlen, &b64),
		   MB_TS_TOKEN, "bearer:VCHAR: a token");
	tap_ok(!b64, "... not scanned by the rule: the syntax check runs");
	memset(big, 'a', sizeof(big) - 1);
	tap_is_int(mb_ts_classify_ex(big, sizeof(big) - 1, &v, &vlen, &b64),
		   MB_TS_TOKEN, "longer than MB_TOKEN_MAX: a token");
	tap_ok(!b64, "... not called a b64token (the check refuses it)");
}

/* The setting named for each client, by program name. */
static void
test_advice(void)
{
	tap_has_str(mb_password_advice("smtp"),
		    "smtp_sasl_mechanism_filter = plain, login",
		    "Postfix smtp: smtp_sasl_mechanism_filter in main.cf");
	tap_has_str(mb_password_advice("smtp"),
		    "-o smtp_sasl_mechanism_filter=plain,login on its "
		    "transport in master.cf",
		    "Postfix smtp: per destination, on its transport");
	tap_has_str(mb_password_advice("lmtp"),
		    "lmtp_sasl_mechanism_filter", "Postfix lmtp: its own");
	tap_has_str(mb_password_advice("mbsync"), "AuthMechs PLAIN LOGIN",
		    "mbsync: AuthMechs");
	tap_has_str(mb_password_advice("mutt"), "imap_authenticators",
		    "mutt: imap_authenticators");
	tap_has_str(mb_password_advice("neomutt"), "smtp_authenticators",
		    "neomutt: smtp_authenticators");
	tap_has_str(mb_password_advice("imtest"), "-m PLAIN", "imtest: -m");
	tap_has_str(mb_password_advice("mbsyncx"), "PLAIN or LOGIN in the "
		    "mail client's setting", "an unknown program: generic");
	tap_has_str(mb_password_advice(NULL), "PLAIN or LOGIN",
		    "no program name: generic");
	tap_has_str(mb_program_name(), "test-token-source",
		    "the program's short name");
}

/* A password: SASL_NOMECH, one line that names the cause and the
 * setting, never the password; nothing allocated. */
static void
test_resolve_password(void)
{
	static const char pass[] = "abcdefghijklmnop";
	sasl_utils_t utils;
	struct mb_options o;
	struct mb_token tok;
	unsigned long m0 = n_malloc;
	int rc;

	memset(&utils, 0, sizeof(utils));
	utils.malloc = fu_malloc;
	utils.free = fu_free;
	utils.erasebuffer = fu_erase;
	utils.seterror = fu_seterror;
	utils.log = fu_log;
	memset(&o, 0, sizeof(o));
	errtext[0] = '\0';
	rc = mb_token_source_resolve(&utils, &o, "XOAUTH2", "alice", 5, pass,
				     sizeof(pass) - 1, &tok);
	tap_is_int(rc, SASL_NOMECH, "an app password: SASL_NOMECH");
	tap_ok(tok.data == NULL && tok.owned == NULL, "  no token");
	tap_is_int((long long)(n_malloc - m0), 0, "  nothing allocated");
	tap_has_str(errtext, "XOAUTH2: the password for alice is not an "
		    "OAuth2 access token (not an RFC 6750 b64token of at "
		    "least 32 characters), so XOAUTH2 was not used and "
		    "nothing was sent; to log in with the password, choose "
		    "PLAIN or LOGIN", "  the detail: cause and setting");
	tap_has_str(errtext, "bearer:TOKEN", "  and the explicit token form");
	tap_ok(strchr(errtext, '\n') == NULL, "  one line");
	tap_lacks_str(errtext, pass, "  not the password");
	tap_is_str(logtext, errtext, "  logged once, the same line");
	tap_is_int(loglevel, SASL_LOG_ERR, "  at SASL_LOG_ERR");
}

static void
test_log3(void)
{
	sasl_utils_t utils;
	char big[1500];

	memset(&utils, 0, sizeof(utils));
	mb_sasl_log3(&utils, SASL_LOG_DEBUG, "a", "b", "c");
	utils.log = fu_log;
	mb_sasl_log3(&utils, SASL_LOG_DEBUG, "XOAUTH2",
		     ": sent the initial response for ", "alice");
	tap_is_str(logtext, "XOAUTH2: sent the initial response for alice",
		   "log3: the three parts");
	tap_is_int(loglevel, SASL_LOG_DEBUG, "log3: the level");
	mb_sasl_log3(&utils, SASL_LOG_WARN, "", "", "");
	tap_is_str(logtext, "", "log3: empty parts");
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	mb_sasl_log3(&utils, SASL_LOG_DEBUG, "ab", big, "cd");
	tap_is_int((long long)strlen(logtext), MB_SASL_LOG_MAX - 1,
		   "log3: cut at MB_SASL_LOG_MAX - 1 bytes");
	tap_ok(memcmp(logtext, "abxxx", 5) == 0 &&
	       logtext[MB_SASL_LOG_MAX - 2] == 'x',
	       "log3: the cut keeps the first bytes");
}

int
main(void)
{
	size_t i;

	for (i = 0; i < sizeof(ts_cases) / sizeof(ts_cases[0]); i++) {
		const struct ts_case *c = &ts_cases[i];
		const char *value = NULL, *want;
		size_t value_len = 99;
		enum mb_ts_kind k;
		char name[160];

		k = mb_ts_classify(c->password, c->len, &value, &value_len);
		snprintf(name, sizeof(name), "classify \"%.60s\"",
			 c->password ? c->password : "(null)");
		for (char *p = name; *p != '\0'; p++)
			if ((unsigned char)*p < 0x20)
				*p = '?';
		tap_is_int(k, c->kind, name);
		want = c->value != NULL ? c->value : "";
		snprintf(name, sizeof(name), "  its %s",
			 k == MB_TS_HELPER ? "account" : "token");
		if (k != MB_TS_PASSWORD)
			tap_is_mem(value_len ? value : "", value_len, want,
				   strlen(want), name);
		else
			tap_ok(value == NULL && value_len == 0,
			       "  no value for a password");
	}
	test_long();
	test_scanned();
	test_advice();
	test_resolve_password();
	test_resolve_in_place();
	test_log3();
	return tap_done();
}
