#!/bin/sh
# SPDX-License-Identifier: MIT
# `mailbearer authorize --device ACCOUNT` (RFC 8628) against the mock
# provider: the verification address and user code are printed; polling
# keeps the interval, honours authorization_pending and slow_down (the
# interval grows by 5 s); approval stores the tokens; denial and expiry
# store nothing; Google is refused before any request.
. "$top_srcdir/tests/lib/tap.sh"
. "$top_srcdir/tests/lib/servers.sh"
. "$top_srcdir/tests/lib/token.sh"
. "$top_srcdir/tests/lib/authorize.sh"
token_setup

ms_scope="https://outlook.office.com/IMAP.AccessAsUser.All offline_access"
acct() {	# ACCOUNT: a Microsoft-style account, public client
	mockctl account "$1" --client-id cid --style microsoft \
		--rotation rotate --scope "$ms_scope" > /dev/null
	az_conf "$1" microsoft "scope = $ms_scope"
}
# polls: of the newest device code.
polls() {
	mockctl devices | "$MB_PYTHON" -c 'import json, sys
d = json.load(sys.stdin)["devices"]
print(d[-1]["polls"] if d else 0)'
}
polls_ge() { test "$(polls)" -ge "$2"; }
# gaps: the seconds between the polls of the newest device code.
gaps() {
	mockctl devices | "$MB_PYTHON" -c 'import json, sys
d = json.load(sys.stdin)["devices"]
print(" ".join(str(g) for g in d[-1]["gaps"]), d[-1]["too_fast"])'
}

# --- pending, slow_down, approval ----------------------------------------
m=ms@example.com
acct "$m"
mockctl device --interval 1 --expires-in 120 \
	--script pending,slow_down > /dev/null
az_start ok "$m" --device
check "the verification address on its own line" wait_for 10 \
	grep -q '^https://127\.0\.0\.1:[0-9]*/devicelogin$' "$MB_TMP/ok.out"
check "the user code on its own line" \
	grep -Eq '^[0-9A-F]{8}$' "$MB_TMP/ok.out"
check "polls while pending (3 polls)" wait_for 20 polls_ge "$m" 3
mockctl device-approve "$m" > /dev/null
check "approved: exit 0" test "$(az_rc ok)" = 0
contains "says who is authorized" "$MB_TMP/ok.out" "^authorized: $m "
contains "says the scopes" "$MB_TMP/ok.out" \
	'^scopes: https://outlook.office.com/IMAP.AccessAsUser.All$'
contains "says when the access token expires" "$MB_TMP/ok.out" \
	'^access token expires: 20[0-9-]{8}T[0-9:]{8}Z$'
contains "slow_down is reported" "$MB_TMP/ok.err" "now every 6 s"
set -- $(gaps)
diag "gaps between polls: $*"
# Lower bounds only: the client must wait at least the interval (RFC
# 8628 3.5); how much longer a loaded machine makes it is no assertion.
check "first gap: at least the interval (1 s)" \
	"$MB_PYTHON" -c "import sys; sys.exit(not 0.9 <= $1)"
check "after slow_down: at least 5 s more (6 s)" \
	"$MB_PYTHON" -c "import sys; sys.exit(not 5.9 <= $2)"
shift $(($# - 1))
check "never polled faster than asked" test "$1" = 0
check "refresh token stored" test -n "$(st_get "$m" refresh_token)"
remember_secret "$(st_get "$m" refresh_token)"
mb token "$m"
ok $? "mailbearer token works afterwards"

# --- denial, expiry ---------------------------------------------------------
d=denied@example.com
acct "$d"
mockctl device --interval 1 --expires-in 120 --script "" > /dev/null
az_start deny "$d" --device
wait_for 10 grep -q '^Waiting' "$MB_TMP/deny.out"
wait_for 10 polls_ge "$d" 1
mockctl device-deny "$d" > /dev/null
check "denied: exit 77" test "$(az_rc deny)" = 77
contains "denied: says so" "$MB_TMP/deny.err" \
	"authorization_declined.*declined the authorization"
check "denied: nothing stored" no_state "$d"

e=expired@example.com
acct "$e"
mockctl device --interval 1 --script pending,expire > /dev/null
az_start expire "$e" --device
check "expired (provider): exit 77" test "$(az_rc expire)" = 77
contains "expired: says so" "$MB_TMP/expire.err" \
	"expired_token.*code expired before it was entered"
check "expired: nothing stored" no_state "$e"

mockctl device --interval 1 --expires-in 3 --script "" > /dev/null
az_start lifetime "$e" --device
check "the code's lifetime ends the wait: exit 77" \
	test "$(az_rc lifetime)" = 77
contains "... says so" "$MB_TMP/lifetime.err" \
	"not entered in time|code expired before it was entered"
check "... nothing stored" no_state "$e"
check "... within the code's lifetime" grep -q "^Waiting up to 3 s" \
	"$MB_TMP/lifetime.out"

# --- SIGINT while polling ---------------------------------------------------
mockctl device --interval 1 --expires-in 120 --script "" > /dev/null
"$MB_HELPER" --config "$MB_CONF" authorize "$e" --device \
	> "$MB_TMP/int.out" 2> "$MB_TMP/int.err" < /dev/null &
ipid=$!
at_exit "kill -9 $ipid"
wait_for 10 grep -q '^Waiting' "$MB_TMP/int.out"
kill -INT "$ipid"
wait_for 5 sh -c "! kill -0 $ipid"
wait "$ipid"
check "SIGINT: exit 130 at once" test $? = 130
check "SIGINT: nothing stored" no_state "$e"

# --- Google: refused before any request -----------------------------------
g=gmail@example.com
mockctl account "$g" --client-id cid > /dev/null
az_conf "$g" google
mockctl reset counters
mb authorize "$g" --device
check "Google --device: exit 64" test $? = 64
contains "... explains that Google does not grant Gmail scopes" \
	"$MB_TMP/err" "Google does not grant Gmail scopes.*device flow"
contains "... points to ssh -L and --paste" "$MB_TMP/err" \
	"ssh -L PORT:127.0.0.1:PORT.*--paste"
check "... no request at all (device endpoint)" \
	test "$(mockctl count endpoints.devicecode)" = 0
check "... no request at all (token endpoint)" \
	test "$(mockctl count endpoints.token)" = 0
check "... nothing stored" no_state "$g"

leak=0
while read -r s; do
	[ -n "$s" ] && grep -qF -- "$s" "$MB_TMP/all-stderr" && leak=1
done < "$MB_TMP/secrets"
ok $leak "no secret on stderr"
done_testing
