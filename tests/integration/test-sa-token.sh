#!/bin/sh
# SPDX-License-Identifier: MIT
# flow = service_account (Google Workspace app-only, domain-wide
# delegation) with `mailbearer token` against the mock provider: the RFC
# 7523 JWT-bearer grant with an RS256 assertion the mock verifies (kid,
# signature with openssl, iss, sub, aud, scope, iat/exp), no refresh
# token stored, 30 concurrent calls sharing one request; a key signed by
# another key, a user outside the delegation and a delegation not
# granted refused with plain advice; the key file judged like a key (mode, type, JSON, RSA), an unusable one
# that account's error only; the configuration's checks (file:line);
# `authorize` and `import` refused, `revoke` local only, `status` tells
# the advice; no secret leaked.
. "$top_srcdir/tests/lib/tap.sh"
. "$top_srcdir/tests/lib/servers.sh"
. "$top_srcdir/tests/lib/token.sh"
token_setup

SA=relay@mb-test.iam.gserviceaccount.com
user=mailbox@example.com
mb_sa_key sa "$SA" kid-1
mb_sa_key forged "$SA" kid-1
mb_sa_key nodeleg nodeleg@mb-test.iam.gserviceaccount.com kid-2
remember_secret "$(sed -n 2p "$MB_TMP/sa.key")"
remember_secret "$(sed -n 2p "$MB_TMP/forged.key")"
# Unusable key files.
cp "$MB_TMP/sa.json" "$MB_TMP/open.json"
chmod 644 "$MB_TMP/open.json"
printf '{"type": "service_account", "client_email": "x"' > "$MB_TMP/trunc.json"
chmod 600 "$MB_TMP/trunc.json"
sed 's/"service_account"/"authorized_user"/' "$MB_TMP/sa.json" \
	> "$MB_TMP/user.json"
chmod 600 "$MB_TMP/user.json"
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 \
	-out "$MB_TMP/ec.key" 2> /dev/null
mb_sa_key ec "$SA" kid-1 "$MB_TMP/ec.key"

sa_account() { # sa_account ACCOUNT KEYFILE [EXTRA-LINES]
	mb_conf_account "$MB_CONF" "$1" google "flow = service_account
service_account_file = $MB_TMP/$2
user = ${3:-$user}"
}
sa_account relay sa.json
sed "s|$MB_PROVIDER_URL/token|https://oauth2.googleapis.com/token|" \
	"$MB_TMP/sa.json" > "$MB_TMP/google.json"
chmod 600 "$MB_TMP/google.json"
sa_account other-uri google.json
sa_account stranger sa.json stranger@example.com
sa_account forged forged.json
sa_account nodeleg nodeleg.json
sa_account open open.json
sa_account trunc trunc.json
sa_account authuser user.json
sa_account ec ec.json
# A service account has no client_id line to need (its key names it).
sed -i '/^client_id = cid$/d' "$MB_CONF"

mockctl sa "$SA" --key-id kid-1 --pubkey "$MB_TMP/sa.pub" --user "$user" \
	> /dev/null
ok $? "mock: service account with delegation for the mailbox"
mockctl sa nodeleg@mb-test.iam.gserviceaccount.com --key-id kid-2 \
	--pubkey "$MB_TMP/nodeleg.pub" --user "$user" \
	--fail unauthorized_client > /dev/null
ok $? "mock: service account without delegation"
n() { mockctl count "users.$user.$1"; }

# --- the grant ---
mb token relay
ok $? "token: exit 0"
at1=$(cat "$MB_TMP/out")
remember_secret "$at1"
check "an access token" test -n "$at1"
check "one verified assertion" test "$(n sa_ok)" = 1
check "the grant is the JWT bearer grant" \
	test "$(mockctl count grants.urn:ietf:params:oauth:grant-type:jwt-bearer)" = 1
check "no refresh_token grant asked" \
	test "$(mockctl count grants.refresh_token)" = 0
check "state holds the access token" \
	test "$(st_get relay access_token)" = "$at1"
check "state holds no refresh token" test -z "$(st_get relay refresh_token)"
check "state holds Gmail's scope" \
	test "$(st_get relay scope)" = "https://mail.google.com/"
mb token relay
check "fresh token served from the state" test "$(cat "$MB_TMP/out")" = "$at1"
lacks "... with no warning (a service account needs no refresh token)" \
	"$MB_TMP/err" 'authorize|no refresh token'
check "... and no second request" test "$(n sa_ok)" = 1
time_left relay 100
mb token relay
ok $? "inside the margin: a new assertion, a new token"
remember_secret "$(cat "$MB_TMP/out")"
check "two verified assertions" test "$(n sa_ok)" = 2
# --- one-shot single flight: 30 callers, an expired token, the answer
# late (beyond the 2-s timeout): exactly one request, one token ---
N=30
time_left relay -30
r=$(n sa_ok)
mockctl fault token late --delay 3 --count 1 > /dev/null
token_burst expired relay
check "expired: exactly one more assertion for $N callers" \
	test "$(n sa_ok)" = $((r + 1))
remember_secret "$(st_get relay access_token)"

mb token other-uri
ok $? "a key naming Google's token_uri, token_endpoint the mock's: a token"
remember_secret "$(cat "$MB_TMP/out")"
contains "... and a warning naming both" "$MB_TMP/err" \
	"names the token endpoint https://oauth2.googleapis.com/token; token_endpoint https://127.0.0.1:[0-9]+/token is used"
mb status relay
contains "status: no refresh token, app-only" "$MB_TMP/out" \
	"none \(app-only\)"

# --- refusals, with advice ---
mb token forged
check "key not registered (forged signature): exit 77" test "$mb_rc" = 77
contains "... the mock refused the signature" "$MB_TMP/err" \
	"Invalid JWT Signature"
contains "... says the service account's assertion was refused" \
	"$MB_TMP/err" "refused the service account's assertion"
diag_stdin < "$MB_TMP/err"
mb token stranger
check "user outside the delegation: exit 77" test "$mb_rc" = 77
contains "... invalid_grant named" "$MB_TMP/err" "invalid_grant"
contains "... advice: user must be a mailbox of the domain" "$MB_TMP/err" \
	"user \(the JWT's sub\) must be an existing mailbox"
contains "... advice: or the host clock" "$MB_TMP/err" \
	"this host's clock is wrong"
lacks "... no talk of refresh tokens" "$MB_TMP/err" \
	"refresh token|mailbearer authorize"
diag_stdin < "$MB_TMP/err"
mb token nodeleg
check "delegation not granted: exit 77" test "$mb_rc" = 77
contains "... unauthorized_client named" "$MB_TMP/err" "unauthorized_client"
contains "... advice: where in the Admin console" "$MB_TMP/err" \
	"Security > Access and data control > API controls > Manage Domain Wide Delegation"
contains "... advice: the client ID and the scope" "$MB_TMP/err" \
	"client ID .* with the scope https://mail.google.com/"
diag_stdin < "$MB_TMP/err"
mb status nodeleg
contains "... and status says it too" "$MB_TMP/out" \
	"Manage Domain Wide Delegation"

# --- key files: refused before any request, that account only ---
r=$(mockctl count endpoints.token)
mb token open
check "key file 0644: refused (exit 78)" test "$mb_rc" = 78
contains "... with the chmod fix" "$MB_TMP/err" \
	"open.json is accessible by group or others \(mode 0644\); run: chmod 600"
mb token trunc
check "truncated JSON: refused" test "$mb_rc" = 78
contains "... says it is not valid JSON" "$MB_TMP/err" \
	"trunc.json is not valid JSON"
mb token authuser
check "a user's credentials file: refused" test "$mb_rc" = 78
contains "... names the type" "$MB_TMP/err" \
	"key of type \"authorized_user\", not \"service_account\""
mb token ec
check "an EC key: refused" test "$mb_rc" = 78
contains "... says RS256 needs RSA" "$MB_TMP/err" "not an RSA key"
check "no request for any of them" \
	test "$(mockctl count endpoints.token)" = "$r"
mb token relay
ok $? "the other accounts are still served"

# --- one-shot commands that make no sense ---
mb authorize relay
check "authorize refused (exit 64)" test "$mb_rc" = 64
contains "... says no user step is needed" "$MB_TMP/err" \
	"uses flow = service_account: no user step"
echo x | mb import relay
check "import refused" test "$mb_rc" != 0
contains "... says no refresh token is needed" "$MB_TMP/err" \
	"uses flow = service_account: it needs no refresh token"

# --- revoke: nothing to revoke at Google; the local state goes ---
r=$(mockctl count endpoints.token)
mb revoke relay
ok $? "revoke: exit 0"
contains "... says where access is cut instead" "$MB_TMP/err" \
	"delete the service account's key .* or remove its domain-wide delegation"
check "... the state is gone" test ! -e "$MB_TMP/state/relay.json"
check "... and Google was not asked" \
	test "$(mockctl count endpoints.token)" = "$r"
mb token relay
ok $? "the next token request gets a new token"
remember_secret "$(cat "$MB_TMP/out")"

# --- the configuration's checks, with file and line ---
conf_err() { # conf_err NAME EXTRA-LINES PATTERN [PROVIDER]
	c=$MB_TMP/bad-$1.conf
	printf '[a]\nprovider = %s\nflow = service_account\n%s\n' \
		"${4:-google}" "$2" > "$c"
	chmod 600 "$c"
	"$MB_HELPER" --config "$c" token a > /dev/null 2> "$MB_TMP/cerr"
	check "config $1: exit 78" test $? = 78
	contains "config $1: says so with file:line" "$MB_TMP/cerr" "$3"
}
conf_err nofile "" "bad-nofile.conf:3: flow = service_account needs service_account_file"
conf_err secret "service_account_file = $MB_TMP/sa.json
client_secret = x" "bad-secret.conf:5: flow = service_account signs"
c=$MB_TMP/bad-flow.conf
printf '[a]\nclient_id = c\nprovider = google\nservice_account_file = %s\n' \
	"$MB_TMP/sa.json" > "$c"
"$MB_HELPER" --config "$c" token a > /dev/null 2> "$MB_TMP/cerr"
contains "service_account_file without the flow: refused" "$MB_TMP/cerr" \
	"bad-flow.conf:4: service_account_file is only used with flow = service_account"
conf_err microsoft "service_account_file = $MB_TMP/sa.json" \
	"bad-microsoft.conf:3: Microsoft has no service accounts" microsoft

no_secrets "no key or token in stderr or the provider's log" \
	"$MB_TMP/all-stderr" "$MB_PROVIDER_LOG"
check "no private key in the state" \
	sh -c "! grep -q -e \"$(sed -n 2p "$MB_TMP/sa.key")\" \"$MB_TMP\"/state/*.json"
done_testing
