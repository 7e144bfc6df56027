#!/bin/sh
# SPDX-License-Identifier: MIT
# The real `mailbearer serve` (token core, libcurl) against the mock
# provider: short-lived tokens cost one token-endpoint request per half
# lifetime under load, a hanging token endpoint holds up no request for a
# valid token, and SIGTERM ends serve at once in the middle of that
# refresh, leaving the state whole and no temporary file.
. "$top_srcdir/tests/lib/tap.sh"
. "$top_srcdir/tests/lib/servers.sh"
. "$top_srcdir/tests/lib/token.sh"
token_setup
LOAD="$top_srcdir/tests/fixtures/serve-load.py"

# refreshes USER: token-endpoint refreshes the provider counted for USER
refreshes() { mockctl count "users.$1.refresh"; }

# --- 24-s tokens under 10 requests a second --------------------------------
mb_conf_account "$MB_CONF" short@example.com
rt=$(mockctl account short@example.com --client-id cid --access-ttl 24)
remember_secret "$rt"
printf '%s\n' "$rt" | mb import short@example.com
ok $? "import"
start_serve
check "serve started" test -S "$SOCK"
python3 "$LOAD" rate "$SOCK" 'MAILBEARER1 TOKEN short@example.com' 10 15 \
	> "$MB_TMP/rate.out"
diag "$(cat "$MB_TMP/rate.out")"
contains "150 requests for a 24-s token all answered" "$MB_TMP/rate.out" \
	'sent=150 ok=150 err=0'
n=$(refreshes short@example.com)
check "... with $n token-endpoint requests (at most 3: one per 12 s)" \
	[ "$n" -ge 1 ] && [ "$n" -le 3 ]
stop_pid "$spid"

# --- an account authorized while serve runs is served at once --------------
mb_conf_account "$MB_CONF" new@example.com
start_serve
r=$(python3 "$top_srcdir/tests/fixtures/ipc-client.py" "$SOCK" \
	'MAILBEARER1 TOKEN new@example.com')
case $r in "MAILBEARER1 ERR needs-authorize "*) ok 0 "no tokens yet: needs-authorize";;
	*) ok 1 "no tokens yet: needs-authorize"; diag "got: $r";; esac
rt=$(mockctl account new@example.com --client-id cid)
remember_secret "$rt"
printf '%s\n' "$rt" | mb import new@example.com
r=$(python3 "$top_srcdir/tests/fixtures/ipc-client.py" "$SOCK" \
	'MAILBEARER1 TOKEN new@example.com')
case $r in "MAILBEARER1 OK "*) ok 0 "right after the import: served (no 10-s wait)";;
	*) ok 1 "right after the import: served"; diag "got: $r";; esac
stop_pid "$spid"

# --- a token endpoint that hangs --------------------------------------------
MB_ACCT_TIMEOUT=20 mb_conf_account "$MB_CONF" hang@example.com
rt=$(mockctl account hang@example.com --client-id cid --rotation strict)
remember_secret "$rt"
printf '%s\n' "$rt" | mb import hang@example.com
mb token hang@example.com
ok $? "hang: first token"
at=$(cat "$MB_TMP/out")
remember_secret "$at"
rt=$(st_get hang@example.com refresh_token)	# rotated by that refresh
remember_secret "$rt"
# every further request to the token endpoint hangs for 60 s; a 1-s
# keep-alive makes serve start a refresh at once
mockctl fault token slow --delay 60 --count 100 > /dev/null
start_serve --keepalive 1
check "the keep-alive refresh started and hangs" \
	wait_for 20 sh -c "[ \$(python3 '$top_srcdir/tests/fixtures/mock-provider/mockctl.py' count faults_fired) -ge 1 ]"
python3 "$LOAD" rate "$SOCK" 'MAILBEARER1 TOKEN hang@example.com' 10 3 \
	> "$MB_TMP/hang.out"
diag "$(cat "$MB_TMP/hang.out")"
contains "30 requests answered while the refresh hangs" \
	"$MB_TMP/hang.out" 'sent=30 ok=30 err=0'
r=$(python3 "$top_srcdir/tests/fixtures/ipc-client.py" "$SOCK" \
	'MAILBEARER1 TOKEN hang@example.com')
check "... with the still-valid token" [ "${r##* }" = "$at" ]
kill -TERM "$spid"
# the refresh hangs for 60 s: serve must cancel it, not wait
check "SIGTERM mid-refresh ends serve (cancelled, not waited for)" \
	wait_for 30 sh -c "! kill -0 $spid"
wait "$spid" 2>/dev/null
check "... the state still holds the current refresh token" \
	[ "$(st_get hang@example.com refresh_token)" = "$rt" ]
check "... and no temporary file is left" \
	[ -z "$(ls "$MB_TMP/state" | grep -v '\.json$' | grep -v '\.lock$')" ]
mockctl reset faults > /dev/null
mb token hang@example.com
ok $? "the grant still works afterwards"
for f in "$MB_TMP/serve.log" "$MB_TMP/all-stderr"; do
	while read -r s; do
		lacks "no secret in $(basename "$f")" "$f" "$s"
	done < "$MB_TMP/secrets"
done
done_testing
