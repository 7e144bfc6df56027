#!/bin/sh
# SPDX-License-Identifier: MIT
# SIGTERM while 256 clients wait for a refresh and more connect (fake
# token core, tests/fixtures/fake-token.c), 10 times: every client gets
# an answer ("shutting down") or a closed connection, serve exits 0 and
# removes its socket, and in the ASan build of tests/run nothing reports
# a use after free or a leak.  (The thread-per-connection engine could
# free its lock and eventfd under a connection thread that was ending.)
. "$top_srcdir/tests/lib/tap.sh"

need timeout
FAKE="$top_builddir/tests/fixtures/mb-fake-serve"
CLIENT="$top_srcdir/tests/fixtures/ipc-client.py"
built "$FAKE"

SOCK="$MB_TMP/s"
CONF="$MB_TMP/stop.conf"
COUNT="$CONF.count"
# the first refresh of "w" takes 60 s (cut short by SIGTERM)
printf '[w]\nhang_from = 1\n[a]\n' > "$CONF"
answers() {
	"$MB_PYTHON" "$CLIENT" "$SOCK" 'MAILBEARER1 TOKEN a' |
		grep -q '^MAILBEARER1 OK '
}

for trial in 1 2 3 4 5 6 7 8 9 10; do
	: > "$COUNT"
	"$FAKE" --config "$CONF" --socket "$SOCK" --foreground \
		2> "$MB_TMP/serve.log" &
	pid=$!
	at_exit "kill -9 $pid"
	wait_for 20 answers || diag "trial $trial: serve does not answer"
	"$MB_PYTHON" "$CLIENT" "$SOCK" 'MAILBEARER1 TOKEN w' --parallel 256 \
		> "$MB_TMP/burst.out" 2>&1 &
	cpid=$!
	# the refresh of w has begun: clients are waiting on it
	wait_for 20 grep -q '^begin w$' "$COUNT" ||
		diag "trial $trial: no refresh began"
	kill -TERM "$pid"
	wait_for 30 sh -c "! kill -0 $pid" ||
		diag "trial $trial: serve still runs"
	wait "$pid"
	st=$?
	wait "$cpid"
	n=$(grep -c '^MAILBEARER1 ERR unavailable mailbearer serve is shutting down$\|^EOF$\|^EXC ' "$MB_TMP/burst.out")
	w=$(grep -c '^MAILBEARER1 ERR unavailable mailbearer serve is shutting down$' "$MB_TMP/burst.out")
	other=$(grep -v '^MAILBEARER1 ERR unavailable mailbearer serve is shutting down$\|^EOF$\|^EXC ' "$MB_TMP/burst.out" | head -n 1)
	check "trial $trial: serve exits 0 ($st), $w waiting clients told it stops" \
		[ "$st" = 0 ] && [ "$n" = 256 ] && [ "$w" -ge 1 ]
	[ -z "$other" ] || diag "unexpected answer: $other"
	lacks "trial $trial: no sanitizer report" "$MB_TMP/serve.log" \
		'AddressSanitizer|LeakSanitizer|runtime error'
	check "trial $trial: the socket is removed" [ ! -e "$SOCK" ]
done
done_testing
