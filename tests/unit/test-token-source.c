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
#include "token-source.h"

struct ts_case {
	const char *password;	/* NULL: absent */
	size_t len;
	enum mb_ts_kind kind;
	const char *account;	/* for MB_TS_HELPER */
};

#define S(x) x, sizeof(x) - 1

static const struct ts_case ts_cases[] = {
	{ S("ya29.a0AfH6SM"), MB_TS_PASSWORD, NULL },
	{ S("eyJ0eXAiOiJKV1Qi.eyJhdWQiOiJ.sig"), MB_TS_PASSWORD, NULL },
	{ NULL, 0, MB_TS_HELPER, "" },
	{ S(""), MB_TS_HELPER, "" },
	{ S("mailbearer:"), MB_TS_HELPER, "" },
	{ S("mailbearer:work"), MB_TS_HELPER, "work" },
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
	static const char pass[] = "ya29.tok-en_x\r\n \t";
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
	tap_is_int((long long)tok.len, 13, "  trailing CR, LF and blanks "
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
		const char *acct = NULL;
		size_t acct_len = 99;
		enum mb_ts_kind k;
		char name[128];

		k = mb_token_source_classify(c->password, c->len, &acct,
					     &acct_len);
		snprintf(name, sizeof(name), "classify \"%s\"",
			 c->password ? c->password : "(null)");
		tap_is_int(k, c->kind, name);
		if (c->kind == MB_TS_HELPER) {
			snprintf(name, sizeof(name), "account of \"%s\"",
				 c->password ? c->password : "(null)");
			tap_is_mem(acct_len ? acct : "", acct_len, c->account,
				   strlen(c->account), name);
		} else {
			tap_ok(acct == NULL && acct_len == 0,
			       "no account for a token");
		}
	}
	test_resolve_in_place();
	test_log3();
	return tap_done();
}
