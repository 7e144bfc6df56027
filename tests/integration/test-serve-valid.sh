#!/bin/sh
# SPDX-License-Identifier: MIT
# The real `mailbearer serve` serves a token that is valid by the clock in
# every case (doc/protocol.md): at start-up while the token endpoint
# hangs (the state on disk is in memory before the first request; the
# due refresh runs in the background), and while one uid keeps reporting
# the token as rejected (one forced refresh a minute at most; the token
# is served meanwhile and after, to every uid).  One uid's reports and
# bad requests are limited, and so are the log lines they cause.
. "$top_srcdir/tests/lib/tap.sh"
. "$top_srcdir/tests/lib/servers.sh"
. "$top_srcdir/tests/lib/token.sh"
need setpriv
[ "$(id -u)" = 0 ] || skip_all "needs root (a second uid through setpriv)"
token_setup
CLIENT="$top_srcdir/tests/fixtures/ipc-client.py"
LOAD="$top_srcdir/tests/fixtures/serve-load.py"
ask() { "$MB_PYTHON" "$CLIENT" "$SOCK" "$@"; }
# as_nobody ARGS: ipc-client.py as uid 65534
as_nobody() {
	setpriv --reuid=65534 --regid=65534 --clear-groups \
		"$MB_PYTHON" "$CLIENT" "$SOCK" "$@"
}
fired() { mockctl count faults_fired; }
# the socket must be reachable by uid 65534
chmod 0711 "$MB_TMP"

# --- a cold start with a hung token endpoint --------------------------------
u=cold@example.com
# the default timeout (30 s): a request that waited for the refresh would
# outlast serve's 20-s bound and get an error
MB_ACCT_TIMEOUT=30 mb_account "$u"
mb token "$u"
ok $? "first token"
at=$(cat "$MB_TMP/out")
remember_secret "$at"
# 300 s left: inside the 600-s margin (due for a refresh) but valid
time_left "$u" 300
mockctl fault token slow --delay 60 --count 100 > /dev/null
f0=$(fired)
check "serve started" start_serve
r=$(ask "MAILBEARER1 TOKEN $u")
check "the first request after a cold start gets the token on disk" \
	[ "${r##* }" = "$at" ]
check "... and the due refresh runs in the background (hanging)" \
	wait_for 20 sh -c "[ \$(timeout 30 '$MB_PYTHON' '$MB_MOCKCTL_PY' --url '$MB_PROVIDER_URL' --ca '$MB_CA' count faults_fired) -gt $f0 ]"
"$MB_PYTHON" "$LOAD" rate "$SOCK" "MAILBEARER1 TOKEN $u" 10 2 \
	> "$MB_TMP/cold.out"
contains "... while 20 more requests are served from memory" \
	"$MB_TMP/cold.out" 'sent=20 ok=20 err=0'
contains "serve's log says what it read" "$MB_TMP/serve.log" \
	'1 of 1 account.s. have a valid token on disk'
stop_pid "$spid"
mockctl reset faults > /dev/null

# --- one uid reports the token as rejected, again and again -----------------
v=rej@example.com
MB_ACCT_EXTRA='allow = 65534' mb_account "$v"
mb token "$v"
ok $? "first token of $v"
t1=$(cat "$MB_TMP/out")
remember_secret "$t1"
check "serve started again" start_serve
r=$(as_nobody "MAILBEARER1 TOKEN $v")
check "uid 65534 is served $v" [ "${r##* }" = "$t1" ]
n0=$(mockctl count "users.$v.refresh")
t0=$(date +%s)
r=$(ask "MAILBEARER1 REJECTED $v $t1 $v")
check "root reports it rejected: DONE" [ "$r" = "MAILBEARER1 DONE" ]
check "... one forced refresh" wait_for 20 grep -q \
	"account $v: refresh after a rejection, valid until" "$MB_TMP/serve.log"
r=$(as_nobody "MAILBEARER1 TOKEN $v")
t2=${r##* }
remember_secret "$t2"
check "uid 65534 gets the new token" [ -n "$t2" ] && [ "$t2" != "$t1" ]
# the next report comes within the minute: no forced refresh may start,
# and the token must not be withheld
r=$(ask "MAILBEARER1 REJECTED $v $t2 $v")
check "a second report within the minute: DONE" [ "$r" = "MAILBEARER1 DONE" ]
contains "... logged, saying the token is still served" "$MB_TMP/serve.log" \
	"account $v: a server rejected the current token .reported by uid 0.; .*serving it until a new one replaces it"
for i in 1 2 3 4 5 6 7 8 9 10 11 12; do
	ask "MAILBEARER1 REJECTED $v $t2 $v" > /dev/null
done
contains "root's reports over 10 a minute are not acted on, said once" \
	"$MB_TMP/serve.log" \
	'uid 0: more than 10 REJECTED reports a minute; the rest of this'
setpriv --reuid=65534 --regid=65534 --clear-groups "$MB_PYTHON" "$LOAD" \
	rate "$SOCK" "MAILBEARER1 TOKEN $v" 10 3 > "$MB_TMP/other.out"
contains "another uid's 30 requests meanwhile are all served" \
	"$MB_TMP/other.out" 'sent=30 ok=30 err=0'
r=$(as_nobody "MAILBEARER1 TOKEN $v")
check "... with the reported, still valid token" [ "${r##* }" = "$t2" ]
# one forced refresh a minute at most (on a slow machine the scheduler
# may start the deferred one when the minute is over)
n=$(( $(mockctl count "users.$v.refresh") - n0 ))
allowed=$(( 1 + ($(date +%s) - t0) / 60 ))
check "14 reports: $n forced refreshes (1 a minute at most: $allowed)" \
	[ "$n" -ge 1 ] && [ "$n" -le "$allowed" ]

# --- one uid's bad requests do not flood the log ----------------------------
"$MB_PYTHON" "$LOAD" rate "$SOCK" 'MAILBEARER1 TOKEN nosuch' 100 2 \
	> /dev/null
n=$(grep -c 'asked for unknown account' "$MB_TMP/serve.log")
# 20 a minute: two windows at most while the 2-s run lasts
check "200 requests for an unknown account: $n log lines, not 200" \
	[ "$n" -le 40 ]
contains "... and the rest is said once" "$MB_TMP/serve.log" \
	'uid 0: more than 20 log lines a minute about its requests'
check "serve still answers" sh -c \
	"'$MB_PYTHON' '$CLIENT' '$SOCK' 'MAILBEARER1 TOKEN $v' | grep -q '^MAILBEARER1 OK '"
stop_pid "$spid"
no_secrets "no secret in serve's log or stderr" "$MB_TMP/serve.log" \
	"$MB_TMP/all-stderr"
done_testing
