/* SPDX-License-Identifier: MIT */
#include <config.h>

#include "password-advice.h"

#include <errno.h>
#include <stddef.h>
#include <string.h>

/* Clients that link Cyrus libsasl2 and let it choose among the server's
 * mechanisms.  (msmtp and Debian's mutt use GNU SASL and never load the
 * plugin; mutt and neomutt builds linked against libsasl2 do.) */
static const struct {
	const char *program;
	const char *advice;
} pa_table[] = {
	{ "smtp", "set smtp_sasl_mechanism_filter = plain, login in "
		  "Postfix's main.cf, or for this destination only "
		  "-o smtp_sasl_mechanism_filter=plain,login on its "
		  "transport in master.cf, then postfix reload" },
	{ "lmtp", "set lmtp_sasl_mechanism_filter = plain, login in "
		  "Postfix's main.cf, or for this destination only "
		  "-o lmtp_sasl_mechanism_filter=plain,login on its "
		  "transport in master.cf, then postfix reload" },
	{ "mbsync", "add AuthMechs PLAIN LOGIN to this account's "
		    "IMAPAccount in the mbsync configuration" },
	{ "mutt", "set imap_authenticators=\"plain:login\" and "
		  "smtp_authenticators=\"plain:login\" in the muttrc" },
	{ "neomutt", "set imap_authenticators=\"plain:login\" and "
		     "smtp_authenticators=\"plain:login\" in the neomuttrc" },
	{ "imtest", "run it with -m PLAIN" },
	{ "smtptest", "run it with -m PLAIN" },
	{ "pop3test", "run it with -m PLAIN" },
};

const char *
mb_password_advice(const char *program)
{
	size_t i;

	for (i = 0; program != NULL &&
	     i < sizeof(pa_table) / sizeof(pa_table[0]); i++)
		if (strcmp(program, pa_table[i].program) == 0)
			return pa_table[i].advice;
	return "choose PLAIN or LOGIN in the mail client's setting of "
	       "authentication mechanisms";
}

const char *
mb_program_name(void)
{
#if HAVE_DECL_PROGRAM_INVOCATION_SHORT_NAME
	return program_invocation_short_name != NULL ?
	       program_invocation_short_name : "";
#else
	return "";
#endif
}
