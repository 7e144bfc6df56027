/* SPDX-License-Identifier: MIT */
#include <config.h>

#include <stdbool.h>
#include <stddef.h>

#include "http.h"
#include "tap.h"

/* tokenhelper/http.c's URL rule for doctor --login: the host of the
 * parsed URL, compared exactly, decides "loopback" (the token may go
 * without STARTTLS only there); a text prefix decides nothing. */
static void
test_mail_url(void)
{
	static const struct {
		const char *url;
		int rc;
		bool tls, loopback;
		const char *host;
	} v[] = {
		{ "imap://127.0.0.1:143", 0, false, true, "127.0.0.1" },
		{ "smtp://127.9.8.7", 0, false, true, "127.9.8.7" },
		{ "smtp://[::1]:587", 0, false, true, "::1" },
		{ "imap://[::ffff:127.0.0.1]", 0, false, true,
		  "::ffff:127.0.0.1" },
		{ "imap://localhost:143", 0, false, true, "localhost" },
		{ "IMAP://LocalHost", 0, false, true, "LocalHost" },
		{ "imaps://imap.example.com", 0, true, false,
		  "imap.example.com" },
		{ "smtps://127.0.0.1:465", 0, true, true, "127.0.0.1" },
		/* what a prefix took for loopback */
		{ "smtp://localhost.evil.test:25", 0, false, false,
		  "localhost.evil.test" },
		{ "smtp://127.evil.test", 0, false, false, "127.evil.test" },
		{ "imap://127.0.0.1@evil.test", 0, false, false,
		  "evil.test" },
		{ "imap://127.0.0.1:x@evil.test:143", 0, false, false,
		  "evil.test" },
		{ "imap://[::1].evil.test", -1, false, false, "" },
		{ "smtp://128.0.0.1", 0, false, false, "128.0.0.1" },
		{ "smtp://[::2]", 0, false, false, "::2" },
		{ "smtp://localhost6", 0, false, false, "localhost6" },
		/* not a mail URL of ours */
		{ "pop3://127.0.0.1", -1, false, false, "" },
		{ "https://127.0.0.1", -1, false, false, "" },
		{ "127.0.0.1:143", -1, false, false, "" },
		{ "imap://", -1, false, false, "" },
	};
	struct mb_mail_url u;
	size_t i;

	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		int rc = mb_http_mail_url(v[i].url, &u);

		tap_is_int(rc, v[i].rc, v[i].url);
		tap_ok(u.tls == v[i].tls, "%s: tls %d", v[i].url, v[i].tls);
		tap_ok(u.loopback == v[i].loopback, "%s: loopback %d",
		       v[i].url, v[i].loopback);
		tap_is_str(u.host, v[i].host, "... its host");
	}
}

int
main(void)
{
	test_mail_url();
	return tap_done();
}
