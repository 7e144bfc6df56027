#!/bin/sh
# SPDX-License-Identifier: MIT
# Single flight for client credentials: 100 concurrent `mailbearer token`
# calls on an app-only account without a valid token (first use, then
# expired) make exactly one token request each time, and all get the
# same token, even when the provider answers the winner only after the
# account's 2-s timeout (the request is listened to, never repeated);
# serve makes no keep-alive requests for such an account.
. "$top_srcdir/tests/lib/tap.sh"
. "$top_srcdir/tests/lib/servers.sh"
. "$top_srcdir/tests/lib/token.sh"
token_setup
N=100
openssl req -x509 -newkey rsa:2048 -nodes -subj /CN=mailbearer-flight \
	-keyout "$MB_TMP/app.key" -out "$MB_TMP/app.pem" -days 30 2> /dev/null
chmod 600 "$MB_TMP/app.key"
mb_conf_account "$MB_CONF" relay@example.com microsoft \
	"flow = client_credentials
tenant = contoso.onmicrosoft.com
client_certificate_file = $MB_TMP/app.pem
client_key_file = $MB_TMP/app.key"
mockctl app cid --user mailbox@example.com --cert "$MB_TMP/app.pem" > /dev/null
ok $? "mock: app registered"

# The provider answers the winner's request after 3 s, beyond the 2-s
# timeout: nothing here depends on the machine's speed, and the others
# really pile up behind the lock.
mockctl fault token late --delay 3 --count 1 > /dev/null
token_burst first-use relay@example.com
check "first use: exactly one token request for $N callers" \
	test "$(mockctl count endpoints.token)" = 1
check "first use: one verified assertion" \
	test "$(mockctl count users.mailbox@example.com.cc_certificate)" = 1
old=$(st_get relay@example.com access_token)
time_left relay@example.com -30
mockctl fault token late --delay 3 --count 1 > /dev/null
token_burst expired relay@example.com
check "expired: exactly one more token request" \
	test "$(mockctl count endpoints.token)" = 2
check "expired: a new token" \
	test "$(st_get relay@example.com access_token)" != "$old"
check "no refresh token anywhere" \
	test -z "$(st_get relay@example.com refresh_token)"

# serve's keep-alive refreshes keep refresh tokens alive; an app-only
# account has none: even with a 1 s keep-alive, no request while the
# token is fresh.  A refresh-token account beside it shows the scheduler
# at work: two of its keep-alive refreshes (over a second apart) mean
# serve looked at the app-only account after its keep-alive was due.
mb_conf_account "$MB_CONF" ka@example.com
rt=$(mockctl account ka@example.com --client-id cid)
remember_secret "$rt"
printf '%s\n' "$rt" | mb import ka@example.com
n=$(mockctl count users.mailbox@example.com.cc_certificate)
check "serve started" start_serve --keepalive 1
check "the other account's keep-alive refreshes ran twice" wait_for 60 \
	sh -c "[ \$(grep -c 'account ka@example.com: keep-alive refresh, valid until' '$MB_TMP/serve.log') -ge 2 ]"
stop_pid "$spid"
check "--keepalive 1: no keep-alive request for an app-only account" \
	test "$(mockctl count users.mailbox@example.com.cc_certificate)" = "$n"
lacks "... and none logged" "$MB_TMP/serve.log" \
	"account relay@example.com: keep-alive"
done_testing
