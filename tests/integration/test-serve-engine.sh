#!/bin/sh
# SPDX-License-Identifier: MIT
# `mailbearer serve` keeps its promise under load and abuse (fake token
# core, tests/fixtures/fake-token.c): short-lived tokens cost one refresh per half
# lifetime whatever the request rate; a hanging token endpoint, a reload
# and other accounts never hold up a request for a valid token; SIGTERM
# ends serve at once mid-refresh; strangers are refused at accept and
# cannot fill the slots; one uid cannot take every slot but a burst of
# one uid is served whole; a rejection
# reported with the wrong login name refreshes nothing.
. "$top_srcdir/tests/lib/tap.sh"

need python3 timeout
FAKE="$top_builddir/tests/fixtures/mb-fake-serve"
LOAD="$top_srcdir/tests/fixtures/serve-load.py"
CLIENT="$top_srcdir/tests/fixtures/ipc-client.py"
built "$FAKE"

chmod 0711 "$MB_TMP"
SOCK="$MB_TMP/pub/s"
CONF="$MB_TMP/engine.conf"
COUNT="$CONF.count"
LOG="$MB_TMP/serve.log"
cat > "$CONF" <<EOF
[short]
lifetime = 24
delay_ms = 20
[slow]
lifetime = 60
hang_from = 2
[other]
lifetime = 3600
allow = 65532 65534
[tiny]
lifetime = 8
delay_ms = 20
[u]
user = alice@example.com
delay_ms = 20
EOF
: > "$COUNT"

ask() { python3 "$CLIENT" "$@"; }
refreshes() { grep -c "^refresh $1 " "$COUNT"; }
begins() { grep -c "^begin $1\$" "$COUNT"; }
answers() { ask "$1" 'MAILBEARER1 TOKEN other' --timeout 2 | grep -q '^MAILBEARER1 OK '; }

"$FAKE" --config "$CONF" --socket "$SOCK" --foreground \
	--max-clients 8 --max-per-uid 4 2> "$LOG" &
pid=$!
at_exit "kill -9 $pid"
if wait_for 20 answers "$SOCK"; then ok 0 "serve answers"; else
	ok 1 "serve answers"; sed -n '1,20p' "$LOG" | diag_stdin; fi

ask "$SOCK" 'MAILBEARER1 TOKEN slow' > /dev/null

# --- short-lived tokens: one refresh per half lifetime --------------------
# 24-s tokens, the default 600-s margin capped to 12 s: 10 requests a
# second for 15 s may cost the start-up check plus at most 2 refreshes.
python3 "$LOAD" rate "$SOCK" 'MAILBEARER1 TOKEN short' 10 15 > "$MB_TMP/rate.out"
diag "$(cat "$MB_TMP/rate.out")"
contains "150 requests for a 24-s token all answered OK" "$MB_TMP/rate.out" \
	'sent=150 ok=150 err=0'
n=$(refreshes short)
check "... with $n refreshes (at most 3, not one per request)" [ "$n" -le 3 ]

# --- strangers and greedy uids ----------------------------------------------
PY=$(command -v /usr/bin/python3 || command -v python3)
if [ "$(id -u)" = 0 ] && command -v setpriv >/dev/null 2>&1; then
	as_uid() { u=$1; shift; setpriv --reuid="$u" --regid="$u" \
		--clear-groups "$PY" "$@"; }
	# uid 65533 may use no account: 300 idle connections get refused
	as_uid 65533 "$LOAD" hold "$SOCK" 300 4 > "$MB_TMP/stranger.out" &
	hpid=$!
	check "the stranger's first connection is refused" wait_for 20 \
		grep -q 'refused a connection of uid 65533' "$LOG"
	python3 "$LOAD" rate "$SOCK" 'MAILBEARER1 TOKEN other' 10 2 > "$MB_TMP/during.out"
	wait "$hpid"
	diag "$(cat "$MB_TMP/stranger.out" "$MB_TMP/during.out")"
	contains "an allowed client is served while a stranger opens 300 connections" \
		"$MB_TMP/during.out" 'sent=20 ok=20 err=0'
	contains "... the stranger's connections were all refused at once" \
		"$MB_TMP/stranger.out" 'answered=300 eof=0'
	contains "... with a reply that names no account" "$MB_TMP/stranger.out" \
		'first: MAILBEARER1 ERR denied uid 65533 may not use this mailbearer serve$'
	n=$(grep -c 'refused a connection of uid 65533' "$LOG")
	check "... and at most 20 log lines about them, not 300 ($n)" \
		[ "$n" -le 20 ]
	a=$(as_uid 65533 "$CLIENT" "$SOCK" 'MAILBEARER1 TOKEN other')
	b=$(as_uid 65533 "$CLIENT" "$SOCK" 'MAILBEARER1 TOKEN nosuch')
	check "a stranger cannot tell an account from no account" [ "$a" = "$b" ]
	diag "stranger got: $a" "and: $b"
	# uid 65534 may use "other": it holds 4 idle connections (its cap),
	# every further one is refused at once, and root is still served
	as_uid 65534 "$LOAD" hold "$SOCK" 1040 4 > "$MB_TMP/greedy.out" &
	hpid=$!
	check "uid 65534 over its cap is refused" wait_for 20 \
		grep -q 'refused a connection of uid 65534' "$LOG"
	r=$(ask "$SOCK" 'MAILBEARER1 TOKEN other' --timeout 2)
	case $r in "MAILBEARER1 OK "*) ok 0 "root is served while uid 65534 holds its 4 connections";;
		*) ok 1 "root served"; diag "got: $r";; esac
	wait "$hpid"
	diag "$(cat "$MB_TMP/greedy.out")"
	contains "... 1036 of its 1040 connections refused at once, 4 held to the request timeout" \
		"$MB_TMP/greedy.out" 'connected=1040 answered=1036 eof=4'
	contains "... saying why" "$MB_TMP/greedy.out" \
		'uid 65534 already has 4 connections open .the limit, --max-per-uid.'
	# a uid's counters stay its own when a lower uid comes along: 65534
	# holds its 4 connections, 65532 connects for the first time (its
	# counters go before 65534's), and once 65534's connections ended,
	# 65534 is served again (it was locked out for good when the
	# counters moved under open connections)
	as_uid 65534 "$LOAD" hold "$SOCK" 4 4 > "$MB_TMP/four.out" &
	hpid=$!
	check "uid 65534 holds 4 connections (a 5th is refused)" wait_for 20 \
		sh -c "setpriv --reuid=65534 --regid=65534 --clear-groups '$PY' '$CLIENT' '$SOCK' 'MAILBEARER1 TOKEN other' | grep -q 'already has 4 connections open'"
	r=$(as_uid 65532 "$CLIENT" "$SOCK" 'MAILBEARER1 TOKEN other')
	case $r in "MAILBEARER1 OK "*) ok 0 "uid 65532's first connection is served";;
		*) ok 1 "uid 65532 served"; diag "got: $r";; esac
	wait "$hpid"
	contains "... 65534's 4 connections ended" "$MB_TMP/four.out" 'eof=4'
	r=$(as_uid 65534 "$CLIENT" "$SOCK" 'MAILBEARER1 TOKEN other')
	case $r in "MAILBEARER1 OK "*) ok 0 "then uid 65534 is served again";;
		*) ok 1 "uid 65534 served again"; diag "got: $r";; esac
	# a burst of one uid under serve's default limits is served whole
	printf '[other]\nallow = 65534\n' > "$MB_TMP/burst.conf"
	"$FAKE" --config "$MB_TMP/burst.conf" --socket "$MB_TMP/pub/burst" \
		--foreground 2> "$MB_TMP/burst.log" &
	bpid=$!
	at_exit "kill -9 $bpid"
	check "a second serve with the default limits answers" wait_for 20 \
		sh -c "python3 '$CLIENT' '$MB_TMP/pub/burst' 'MAILBEARER1 TOKEN other' | grep -q '^MAILBEARER1 OK '"
	as_uid 65534 "$top_srcdir/tests/fixtures/ipc-client.py" \
		"$MB_TMP/pub/burst" 'MAILBEARER1 TOKEN other' --parallel 256 \
		> "$MB_TMP/burst.out"
	n=$(grep -c '^MAILBEARER1 OK ' "$MB_TMP/burst.out")
	check "256 simultaneous requests of one uid all served ($n)" [ "$n" = 256 ]
	kill "$bpid"
else
	for i in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17; do skip "needs root and setpriv"; done
fi

# --- a hanging token endpoint holds up no valid token ---------------------
# slow: the start-up refresh works, every later one hangs for 60 s.  Its
# 60-s token, used since the start, is due for a proactive refresh after
# 30 s; requests must still be answered from memory until it expires.
check "the keep-alive refresh of slow has begun (and hangs)" \
	wait_for 40 sh -c "[ \$(grep -c '^begin slow\$' '$COUNT') -ge 2 ]"
python3 "$LOAD" rate "$SOCK" 'MAILBEARER1 TOKEN slow' 10 2 > "$MB_TMP/slow.out"
diag "$(cat "$MB_TMP/slow.out")"
contains "20 requests answered from memory while its refresh hangs" \
	"$MB_TMP/slow.out" 'sent=20 ok=20 err=0'
r=$(ask "$SOCK" 'MAILBEARER1 TOKEN slow' --timeout 2)
case $r in "MAILBEARER1 OK "*" tok-slow-1") ok 0 "... with the still-valid token";;
	*) ok 1 "... with the still-valid token"; diag "got: $r";; esac
check "another account is answered meanwhile" answers "$SOCK"

# --- a reload while the refresh hangs ---------------------------------------
printf '[added]\ndelay_ms = 20\n' >> "$CONF"
kill -HUP "$pid"
check "SIGHUP mid-refresh: reloaded at once" wait_for 5 grep -q "reloaded $CONF" "$LOG"
r=$(ask "$SOCK" 'MAILBEARER1 TOKEN added' --timeout 3)
case $r in "MAILBEARER1 OK "*" tok-added-1") ok 0 "... the new account is served";;
	*) ok 1 "... the new account is served"; diag "got: $r";; esac
r=$(ask "$SOCK" 'MAILBEARER1 TOKEN slow' --timeout 2)
case $r in "MAILBEARER1 OK "*" tok-slow-1") ok 0 "... and slow still from memory";;
	*) ok 1 "... and slow still from memory"; diag "got: $r";; esac
check "... while one refresh of slow runs (single-flight across the reload)" \
	[ "$(begins slow)" = 2 ]

# --- tokens that live less than serve's 10-s floor ---------------------------
python3 "$LOAD" rate "$SOCK" 'MAILBEARER1 TOKEN tiny' 10 2 > "$MB_TMP/tiny.out"
contains "8-s tokens are not handed out, and the answer says why" \
	"$MB_TMP/tiny.out" 'bad: MAILBEARER1 ERR unavailable account tiny: the token endpoint.s access token expires 8 s after it was issued'
n=$(refreshes tiny)
check "... without a refresh per request ($n for 20 requests)" [ "$n" -le 2 ]

# --- a rejection with the wrong login name ----------------------------------
r=$(ask "$SOCK" 'MAILBEARER1 TOKEN u')
tok=${r##* }
before=$(refreshes u)
r=$(ask "$SOCK" "MAILBEARER1 REJECTED u $tok bob@example.com")
case $r in *"ERR login-mismatch "*'"bob@example.com"'*'"alice@example.com"'*)
	ok 0 "REJECTED with another login name -> login-mismatch naming both";;
	*) ok 1 "login-mismatch"; diag "got: $r";; esac
contains "... and serve's log says it" "$LOG" 'login name "bob@example.com"'
# the decision is made before the answer is sent: a refresh would have
# been logged by now
lacks "... and nothing is refreshed" "$LOG" 'account u: a server rejected'
r=$(ask "$SOCK" "MAILBEARER1 REJECTED u $tok ALICE@example.com")
check "the account's own login (any case) -> DONE" [ "$r" = "MAILBEARER1 DONE" ]
check "... and one refresh" wait_for 10 sh -c "[ \$(grep -c '^refresh u ' '$COUNT') = $((before + 1)) ]"

# --- SIGTERM mid-refresh ------------------------------------------------------
check "slow's refresh is still hanging" [ "$(refreshes slow)" = 1 ]
kill -TERM "$pid"
# slow's refresh hangs for 60 s: serve must not wait for it
check "SIGTERM ends serve mid-refresh (cancelled, not waited for)" \
	wait_for 30 sh -c "! kill -0 $pid"
wait "$pid"
check "... with status 0" [ $? = 0 ]
check "... removing its socket" [ ! -e "$SOCK" ]
lacks "no token in the log" "$LOG" 'tok-'

done_testing
