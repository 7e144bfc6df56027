#!/bin/sh
# SPDX-License-Identifier: MIT
# A Google service account through `serve` to Dovecot: serve obtains the
# mailbox's tokens with the JWT-bearer grant (domain-wide delegation, the
# mailbox as sub); 50 clients asking at once while the first request is
# answered late share it (exactly one token request); imtest and
# smtptest load our plugin with an empty password (or mailbearer:ACCOUNT),
# the plugin asks serve, Dovecot validates the token by introspection.  A
# token the provider expired is rejected, and the next login gets a new
# one with exactly one more request; no refresh token at any point.
. "$top_srcdir/tests/lib/tap.sh"
. "$top_srcdir/tests/lib/servers.sh"
. "$top_srcdir/tests/lib/token.sh"
need_helper
e2e_setup imtest
[ -x "$MB_CYRUS_BIN/smtptest" ] || skip_all "no smtptest"

user=mailbox@example.com
SA=relay@mb-test.iam.gserviceaccount.com
CLIENT=$top_srcdir/tests/fixtures/ipc-client.py
token_files
mb_sa_key sa "$SA" kid-1
remember_secret "$(sed -n 2p "$MB_TMP/sa.key")"
# The first account is named after the mailbox: the plugin, given an
# empty password, asks for the login name's account.
mb_conf_account "$MB_CONF" "$user" google "flow = service_account
service_account_file = $MB_TMP/sa.json"
mb_conf_account "$MB_CONF" relay google "flow = service_account
service_account_file = $MB_TMP/sa.json
user = $user"
sed -i '/^client_id = cid$/d' "$MB_CONF"
mockctl sa "$SA" --key-id kid-1 --pubkey "$MB_TMP/sa.pub" --user "$user" \
	> /dev/null
ok $? "mock: service account with delegation for the mailbox"
requests() { mockctl count "users.$user.sa_ok"; }

# The first answers come 2 s late: the start-up requests are in flight
# while the clients ask.
mockctl fault token late --delay 2 --count 2 > /dev/null
check "serve started" start_serve
"$MB_PYTHON" "$CLIENT" "$SOCK" "MAILBEARER1 TOKEN $user" --parallel 50 \
	--timeout 20 > "$MB_TMP/burst.out"
check "50 clients at once: 50 answers" \
	test "$(grep -c '^MAILBEARER1 OK ' "$MB_TMP/burst.out")" = 50
check "... all the same token" \
	test "$(awk '{print $3}' "$MB_TMP/burst.out" | sort -u | wc -l)" = 1
check "serve's requests: one per account (the start-up's), none more" \
	wait_for 20 test "$(requests)" = 2
check "... all JWT-bearer grants, no refresh-token grant" \
	test "$(mockctl count grants.refresh_token)" = 0 -a \
	"$(mockctl count grants.urn:ietf:params:oauth:grant-type:jwt-bearer)" = 2
remember_secret "$(awk 'NR == 1 {print $3}' "$MB_TMP/burst.out")"

app_only_logins "a service account's token" relay "service account"
done_testing
