#!/bin/sh
# SPDX-License-Identifier: MIT
# `mailbearer revoke` against the mock provider: Google's endpoint (token
# alone), a generic RFC 7009 endpoint (client authentication, hint), an
# already-dead token, a failing endpoint (nothing removed), Microsoft and
# a generic provider without an endpoint (said plainly, local state
# removed), --local, the state's leftovers removed, no secret shown.
. "$top_srcdir/tests/lib/tap.sh"
. "$top_srcdir/tests/lib/servers.sh"
. "$top_srcdir/tests/lib/token.sh"
token_setup
P=$MB_PROVIDER_URL
mb_conf_account "$MB_CONF" g@example.com google "revocation_endpoint = $P/revoke"
mb_conf_account "$MB_CONF" dead@example.com google "revocation_endpoint = $P/revoke"
mb_conf_account "$MB_CONF" desc@example.com google "revocation_endpoint = $P/revoke"
mb_conf_account "$MB_CONF" gen@example.com generic "revocation_endpoint = $P/oauth2/revoke
client_secret = gen-secret-123"
mb_conf_account "$MB_CONF" fail@example.com generic "revocation_endpoint = $P/oauth2/revoke"
mb_conf_account "$MB_CONF" ms@example.com microsoft
mb_conf_account "$MB_CONF" none@example.com generic
mb_conf_account "$MB_CONF" loc@example.com generic "revocation_endpoint = $P/oauth2/revoke"
remember_secret gen-secret-123
rt_state() {
	mockctl accounts | "$MB_PYTHON" -c 'import json, sys
d = json.load(sys.stdin)
print(" ".join(t["state"] for t in d[sys.argv[1]]["refresh_tokens"]))' "$1"
}
setup() {
	rt=$(mockctl account "$1" --client-id cid ${2:-})
	remember_secret "$rt"
	printf '%s\n' "$rt" | mb import "$1"
	mb token "$1"
	remember_secret "$(cat "$MB_TMP/out")"
}
gone() { test ! -e "$MB_TMP/state/$1.json"; }

# --- Google: the refresh token alone, revoked, state removed ---
setup g@example.com
: > "$MB_TMP/state/g@example.com.json.tmp-AbCdEf"
: > "$MB_TMP/state/g@example.com.json.corrupt-20260101T000000Z"
: > "$MB_TMP/state/other@example.com.json"
mb revoke g@example.com
check "google: exit 0" test "$mb_rc" = 0
contains "google: says revoked" "$MB_TMP/out" "revoked at $P/revoke"
check "google: one revocation at the provider" \
	test "$(mockctl count users.g@example.com.revoke)" = 1
check "google: the refresh token is dead at the provider" \
	test "$(rt_state g@example.com)" = dead
check "google: state file removed" gone g@example.com
check "google: leftovers removed" \
	test -z "$(ls "$MB_TMP/state" | grep '^g@example\.com\.json')"
check "another account's file kept" \
	test -e "$MB_TMP/state/other@example.com.json"
contains "google: says how many files" "$MB_TMP/out" 'removed \(3 files\)'
mb token g@example.com
check "after revoke: token exits 77 (no tokens)" test "$mb_rc" = 77
mb revoke g@example.com
check "revoke again: exit 0, nothing to do" test "$mb_rc" = 0
contains "revoke again: no tokens" "$MB_TMP/out" 'no tokens are stored'

# --- a token already dead at Google: invalid_token is success ---
setup dead@example.com
mockctl revoke dead@example.com > /dev/null
mb revoke dead@example.com
check "already revoked: exit 0" test "$mb_rc" = 0
contains "already revoked: said so" "$MB_TMP/out" 'already invalid'
check "already revoked: state removed" gone dead@example.com

# --- a 400 whose error is another, its description naming invalid_token:
# a refusal (the token may still be live), not "already invalid" ---
setup desc@example.com
mockctl revoke-fault --status 400 --error invalid_request \
	--description "token is not an invalid_token, just malformed" \
	> /dev/null
mb revoke desc@example.com
check "400 invalid_request mentioning invalid_token: refused (exit 78)" \
	test "$mb_rc" = 78
contains "... says what the provider answered" "$MB_TMP/err" \
	'HTTP 400, invalid_request.*nothing was removed'
check "... local state kept" test -e "$MB_TMP/state/desc@example.com.json"
check "... refresh token still valid" \
	test "$(rt_state desc@example.com)" = valid

# --- generic RFC 7009: client authentication and the hint ---
mockctl account gen@example.com --client-id cid \
	--client-secret gen-secret-123 > "$MB_TMP/rt"
rt=$(cat "$MB_TMP/rt")
remember_secret "$rt"
printf '%s\n' "$rt" | mb import gen@example.com
mb revoke gen@example.com
check "generic: exit 0" test "$mb_rc" = 0
check "generic: revoked with token_type_hint=refresh_token" \
	test "$(mockctl count users.gen@example.com.revoke_hint_refresh_token)" = 1
check "generic: dead at the provider" test "$(rt_state gen@example.com)" = dead
check "generic: state removed" gone gen@example.com

# --- a failing endpoint: nothing removed, temporary failure ---
setup fail@example.com
# (an empty body is {}: the next revocation answers 503)
mockctl raw POST /control/revoke-fault > /dev/null
mb revoke fail@example.com
check "endpoint 503: exit 75" test "$mb_rc" = 75
contains "endpoint 503: says nothing was removed" "$MB_TMP/err" \
	'HTTP 503.*nothing was removed'
check "endpoint 503: state kept" test -e "$MB_TMP/state/fail@example.com.json"
check "endpoint 503: refresh token still valid" \
	test "$(rt_state fail@example.com)" = valid

# --- Microsoft: no endpoint, said plainly; local state removed ---
setup ms@example.com "--style microsoft --rotation rotate"
mb revoke ms@example.com
check "microsoft: exit 0" test "$mb_rc" = 0
contains "microsoft: says it was NOT revoked" "$MB_TMP/err" \
	'Microsoft has no endpoint to revoke a refresh token.*NOT revoked'
contains "microsoft: says what to do" "$MB_TMP/err" 'Revoke sessions'
check "microsoft: no request" \
	test "$(mockctl count users.ms@example.com.revoke)" = 0
check "microsoft: state removed" gone ms@example.com

# --- generic without revocation_endpoint ---
setup none@example.com
mb revoke none@example.com
check "no endpoint: exit 0" test "$mb_rc" = 0
contains "no endpoint: said plainly" "$MB_TMP/err" \
	'no revocation_endpoint.*NOT revoked'
check "no endpoint: state removed" gone none@example.com

# --- --local: no request at all ---
setup loc@example.com
mb revoke --local loc@example.com
check "--local: exit 0" test "$mb_rc" = 0
check "--local: no request" \
	test "$(mockctl count users.loc@example.com.revoke)" = 0
check "--local: still valid at the provider" \
	test "$(rt_state loc@example.com)" = valid
check "--local: state removed" gone loc@example.com

# --- client credentials: no grant; the next token request starts again ---
conf=$MB_CONF
MB_CONF=$MB_TMP/cc.conf
: > "$MB_CONF"
mb_conf_account "$MB_CONF" app@example.com microsoft "flow = client_credentials
tenant = contoso.onmicrosoft.com
client_secret_file = $MB_TMP/app-secret"
sed -i 's/^client_id = cid$/client_id = app-revoke/' "$MB_CONF"
printf 'app-secret-value-123\n' > "$MB_TMP/app-secret"
chmod 600 "$MB_TMP/app-secret"
remember_secret app-secret-value-123
mockctl app app-revoke --user mailbox@example.com \
	--client-secret app-secret-value-123 > /dev/null
mb token app@example.com
ok $? "client credentials: a token"
remember_secret "$(cat "$MB_TMP/out")"
mb revoke app@example.com
check "client credentials: exit 0" test "$mb_rc" = 0
check "... state removed" gone app@example.com
contains "... says the next token request starts it again" "$MB_TMP/out" \
	"local state removed .*; the next token request \(\`mailbearer token app@example.com\`"
lacks "... not authorize (it exits 64 there)" "$MB_TMP/out" authorize
cat "$MB_TMP/out" >> "$MB_TMP/all-stderr"
MB_CONF=$conf

mb revoke nosuch@example.com
check "unknown account: exit 67" test "$mb_rc" = 67
mb revoke
check "no account: exit 64" test "$mb_rc" = 64

cat "$MB_TMP/out" >> "$MB_TMP/all-stderr"
no_secrets "no secret in any output" "$MB_TMP/all-stderr"
done_testing
