#!/bin/sh
# SPDX-License-Identifier: MIT
# End to end through the token helper: imtest and smtptest load our plugin
# with an EMPTY password (and with "mailbearer:ACCOUNT"), the plugin asks
# `mailbearer serve` over its socket, serve refreshes at the mock provider,
# Dovecot validates the token with the provider.
#   - a forced access-token expiry at the provider: Dovecot's challenge,
#     the plugin reports REJECTED, the next login gets a refreshed token
#     with exactly ONE refresh request at the provider;
#   - helper down: a clear error, no hang.
. "$top_srcdir/tests/lib/tap.sh"
. "$top_srcdir/tests/lib/servers.sh"
. "$top_srcdir/tests/lib/token.sh"
need_helper
e2e_setup imtest
[ -x "$MB_CYRUS_BIN/smtptest" ] || skip_all "no smtptest"

user=alice@example.com
token_files
mb_account "$user"

refreshes() { mockctl count "users.$user.refresh"; }
check "serve started" start_serve
# serve's start-up check gets a first access token
check "start-up refresh" wait_for 20 test "$(refreshes)" -ge 1

cmds='a1 SELECT INBOX
a2 LOGOUT'
imap() { sasl_client "$1" imtest "$MB_IMAP_PORT" "$2" "$user" "$3" "$cmds"; }

n0=$(refreshes)
imap "$MB_TMP/i1" XOAUTH2 ""
contains "IMAP XOAUTH2, empty password: authenticated via the helper" \
	"$MB_TMP/i1" '^Authenticated\.'
contains "... mailbox usable" "$MB_TMP/i1" '^a1 OK \[READ-WRITE\]'
imap "$MB_TMP/i2" OAUTHBEARER "mailbearer:$user"
contains "IMAP OAUTHBEARER, mailbearer:ACCOUNT: authenticated" \
	"$MB_TMP/i2" '^Authenticated\.'
sasl_client "$MB_TMP/s1" smtptest "$MB_SUBMISSION_PORT" XOAUTH2 "$user" "" \
	'QUIT'
contains "SMTP XOAUTH2, empty password: authenticated via the helper" \
	"$MB_TMP/s1" '235 '
check "three logins, no refresh (served from memory)" test "$(refreshes)" = "$n0"
remember_secret "$(st_get "$user" access_token)"

# The provider expires the access token: Dovecot rejects it.
mockctl expire "$user" --what access > /dev/null
imap "$MB_TMP/i3" XOAUTH2 ""
contains "expired token: Dovecot's error challenge" "$MB_TMP/i3" 'S: \+ eyJ'
contains "... tagged NO" "$MB_TMP/i3" 'A01 NO \[AUTHENTICATIONFAILED\]'
check "serve was told about the rejection" \
	wait_for 10 grep -q 'rejected the current token' "$MB_TMP/serve.log"
check "... which starts exactly one refresh at once" \
	wait_for 10 sh -c "[ \$(\"\$MB_PYTHON\" '$top_srcdir/tests/fixtures/mock-provider/mockctl.py' count users.$user.refresh) = $((n0 + 1)) ]"
imap "$MB_TMP/i4" XOAUTH2 ""
contains "next login: authenticated with a refreshed token" \
	"$MB_TMP/i4" '^Authenticated\.'
check "... after exactly one refresh" test "$(refreshes)" = $((n0 + 1))
sasl_client "$MB_TMP/s2" smtptest "$MB_SUBMISSION_PORT" OAUTHBEARER "$user" \
	"" 'QUIT'
contains "SMTP OAUTHBEARER with the new token" "$MB_TMP/s2" '235 '
check "... still one refresh" test "$(refreshes)" = $((n0 + 1))
remember_secret "$(st_get "$user" access_token)"

# Helper down: a clear error, quickly (the 30 s bound of sasl_client
# would turn a hang into a failure of the login check below).
kill -TERM "$spid"
check "serve stopped" wait_for 20 sh -c "! kill -0 $spid"
imap "$MB_TMP/i5" XOAUTH2 ""
lacks "helper down: not authenticated" "$MB_TMP/i5" '^Authenticated\.'
contains "helper down: the error says serve is not running and where" \
	"$MB_TMP/i5.syslog" "mailbearer serve is not running at $SOCK"

# No secret (refresh token, either access token) in any log.
check "two access tokens and the refresh token remembered" \
	test "$(sort -u "$MB_TMP/secrets" | grep -c .)" = 3
no_secrets "no secret in serve's log nor in the plugin's" \
	"$MB_TMP/serve.log" "$MB_TMP"/i*.syslog "$MB_TMP"/s*.syslog
done_testing
