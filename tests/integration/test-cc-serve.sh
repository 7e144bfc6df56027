#!/bin/sh
# SPDX-License-Identifier: MIT
# Client credentials through `serve` to Dovecot: an app-only account
# (certificate credentials, then a client secret) whose access tokens
# serve obtains with the client credentials grant; imtest and smtptest
# load our plugin with an empty password, the plugin asks serve, Dovecot
# validates the app-only token by introspection (the mock reports the
# mailbox user the app may use).  A token the provider expired is
# rejected, and the next login gets a new one with exactly one token
# request; no refresh token exists at any point.
. "$top_srcdir/tests/lib/tap.sh"
. "$top_srcdir/tests/lib/servers.sh"
. "$top_srcdir/tests/lib/token.sh"
need_helper
e2e_setup imtest
[ -x "$MB_CYRUS_BIN/smtptest" ] || skip_all "no smtptest"

user=mailbox@example.com
token_files
openssl req -x509 -newkey rsa:2048 -nodes -subj /CN=mailbearer-relay \
	-keyout "$MB_TMP/app.key" -out "$MB_TMP/app.pem" -days 30 2> /dev/null
chmod 600 "$MB_TMP/app.key"
SECRET=relay-secret-0123456789
printf '%s\n' "$SECRET" > "$MB_TMP/secret"
chmod 600 "$MB_TMP/secret"
remember_secret "$SECRET"
# The account is named after the mailbox: the plugin, given an empty
# password, asks for the login name's account.
mb_conf_account "$MB_CONF" "$user" microsoft "flow = client_credentials
tenant = contoso.onmicrosoft.com
client_certificate_file = $MB_TMP/app.pem
client_key_file = $MB_TMP/app.key"
mb_conf_account "$MB_CONF" relay microsoft "flow = client_credentials
tenant = contoso.onmicrosoft.com
user = $user
client_secret_file = $MB_TMP/secret"
sed -i 's/^client_id = cid$/client_id = relay-app/' "$MB_CONF"
mockctl app relay-app --user "$user" --cert "$MB_TMP/app.pem" \
	--client-secret "$SECRET" > /dev/null
ok $? "mock: app registered for the mailbox"

requests() { mockctl count "users.$user.cc_ok"; }
check "serve started" start_serve
check "serve's start-up check obtained tokens with the client credentials" \
	wait_for 20 test "$(requests)" -ge 2
check "... one by certificate" \
	test "$(mockctl count "users.$user.cc_certificate")" = 1
check "... and no refresh-token grant" \
	test "$(mockctl count grants.refresh_token)" = 0

cmds='a1 SELECT INBOX
a2 LOGOUT'
imap() { sasl_client "$1" imtest "$MB_IMAP_PORT" "$2" "$user" "$3" "$cmds"; }

n0=$(requests)
imap "$MB_TMP/i1" XOAUTH2 ""
contains "IMAP XOAUTH2 with an app-only token: authenticated" \
	"$MB_TMP/i1" '^Authenticated\.'
contains "... mailbox usable" "$MB_TMP/i1" '^a1 OK \[READ-WRITE\]'
imap "$MB_TMP/i2" OAUTHBEARER "mailbearer:relay"
contains "IMAP OAUTHBEARER, mailbearer:relay (secret): authenticated" \
	"$MB_TMP/i2" '^Authenticated\.'
sasl_client "$MB_TMP/s1" smtptest "$MB_SUBMISSION_PORT" XOAUTH2 "$user" "" \
	'QUIT'
contains "SMTP XOAUTH2 with an app-only token: authenticated" \
	"$MB_TMP/s1" '235 '
check "three logins, no new request (served from memory)" \
	test "$(requests)" = "$n0"
remember_secret "$(st_get "$user" access_token)"
remember_secret "$(st_get relay access_token)"
check "the state holds no refresh token" \
	test -z "$(st_get "$user" refresh_token)"

# The provider expires the access token: Dovecot rejects it, serve asks
# for a new one at once, once.
mockctl expire "$user" --what access > /dev/null
imap "$MB_TMP/i3" XOAUTH2 ""
contains "expired token: tagged NO" "$MB_TMP/i3" \
	'A01 NO \[AUTHENTICATIONFAILED\]'
check "serve was told about the rejection" \
	wait_for 10 grep -q 'rejected the current token' "$MB_TMP/serve.log"
more_requests() { [ "$(requests)" -ge $((n0 + 1)) ]; }
check "... and made a new client credentials request" \
	wait_for 10 more_requests
n1=$(requests)
imap "$MB_TMP/i4" XOAUTH2 ""
contains "next login: authenticated with a new app-only token" \
	"$MB_TMP/i4" '^Authenticated\.'
check "... exactly one request in all" \
	test "$(requests)" = "$n1" -a "$n1" = $((n0 + 1))
remember_secret "$(st_get "$user" access_token)"
contains "serve's log says how the token was obtained" "$MB_TMP/serve.log" \
	"obtained with the client credentials"

kill -TERM "$spid"
check "serve stopped" wait_for 20 sh -c "! kill -0 $spid"

no_secrets "no secret or token in serve's, the plugin's or the provider's log" \
	"$MB_TMP/serve.log" "$MB_TMP"/i*.syslog "$MB_TMP"/s*.syslog \
	"$MB_PROVIDER_LOG"
done_testing
