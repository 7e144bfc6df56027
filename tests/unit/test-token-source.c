/* The token-source rule (plugin/token-source.c, doc/plugin.md): which
 * passwords are tokens and which ask the helper. */
#include <config.h>

#include <stdio.h>
#include <string.h>

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
	return tap_done();
}
