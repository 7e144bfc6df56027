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

app_only_logins "an app-only token" relay "client credentials"
done_testing
