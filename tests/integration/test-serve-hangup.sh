#!/bin/sh
# SPDX-License-Identifier: MIT
# Waiting clients that hang up in the same turn of serve's event loop as
# the end of the refresh they wait for (fake token core,
# tests/fixtures/fake-token.c): the refresh's end answers and closes
# their connections, and their hang-up events, later in the same batch,
# must not touch the closed connections (a use after free that the ASan
# build of tests/run reports).  The fixture's reload reads its config
# with a plain fopen(), so a FIFO in its place holds the loop busy while
# the refresh ends and the clients hang up; the real configuration loader
# never waits on a FIFO (test-conf-fifo.sh).
. "$top_srcdir/tests/lib/tap.sh"

need timeout mkfifo
FAKE="$top_builddir/tests/fixtures/mb-fake-serve"
CLIENT="$top_srcdir/tests/fixtures/ipc-client.py"
built "$FAKE"

SOCK="$MB_TMP/s"
CONF="$MB_TMP/hup.conf"
COUNT="$CONF.count"
LOG="$MB_TMP/serve.log"
GATE="$MB_TMP/gate"
printf '[w]\ndelay_ms = 1000\n[a]\n' > "$CONF"
cp "$CONF" "$CONF.txt"
: > "$COUNT"
answers() {
	"$MB_PYTHON" "$CLIENT" "$SOCK" 'MAILBEARER1 TOKEN a' |
		grep -q '^MAILBEARER1 OK '
}
"$FAKE" --config "$CONF" --socket "$SOCK" --foreground 2> "$LOG" &
pid=$!
at_exit "kill -9 $pid"
check "serve answers" wait_for 20 answers

# 20 clients ask for w, then hang up when the test writes to the FIFO
# $GATE (the read blocks until then; timeout bounds it)
mkfifo "$GATE"
timeout 120 "$MB_PYTHON" - "$SOCK" "$GATE" "$MB_TMP/sent" \
	> "$MB_TMP/clients.out" 2>&1 <<'EOP' &
import socket, sys
path, gate, sent = sys.argv[1:4]
socks = []
for _ in range(20):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(10)
    s.connect(path)
    s.sendall(b"MAILBEARER1 TOKEN w\n")
    socks.append(s)
open(sent, "w").close()
with open(gate) as g:
    g.read()
for s in socks:
    s.close()
print("closed", len(socks))
EOP
cpid=$!
check "20 clients wait for w's refresh" wait_for 20 test -f "$MB_TMP/sent"
check "... which has begun" wait_for 20 grep -q '^begin w$' "$COUNT"
rm -f "$CONF"
mkfifo "$CONF"
kill -HUP "$pid"
# the loop is in the reload now (blocked on the FIFO); the refresh ends
# in its worker, and the clients hang up
check "the refresh ends while the loop is busy" \
	wait_for 20 grep -q '^refresh w ' "$COUNT"
timeout 20 sh -c "echo go > '$GATE'"
wait "$cpid"
contains "the clients hung up" "$MB_TMP/clients.out" '^closed 20$'
# release the reload: the next turn has the refresh's end and 20 hang-ups
timeout 20 sh -c "cat '$CONF.txt' > '$CONF'"
check "serve still answers" wait_for 20 answers
check "... and is alive" kill -0 "$pid"
kill -TERM "$pid"
check "SIGTERM ends serve" wait_for 30 sh -c "! kill -0 $pid"
wait "$pid"
check "... with status 0" [ $? = 0 ]
lacks "no sanitizer report" "$LOG" \
	'AddressSanitizer|LeakSanitizer|runtime error'
done_testing
